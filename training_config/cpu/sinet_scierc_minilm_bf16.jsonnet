// sinet_scierc_minilm with the encoder trained under bfloat16 autocast (mixed precision; the
// weights, the optimizer and the classifiers stay float32): about 1.25x the training throughput
// on CPUs with bfloat16 instructions. Everything else is the same.
local minilm = import 'sinet_scierc_minilm.jsonnet';

minilm {
  model+: { training_precision: 'bfloat16' },
}
