// sinet_scierc_minilm with the encoder trained under bfloat16 autocast (mixed precision; the
// weights, the optimizer and the classifiers stay float32): about 1.17x the training throughput
// on CPUs with bfloat16 instructions (README, "Benchmarks"). Everything else is the same.
local minilm = import 'sinet_scierc_minilm.jsonnet';

minilm {
  model+: { training_precision: 'bfloat16' },
}
