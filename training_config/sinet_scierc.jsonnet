// SINET on SciERC with SciBERT (cased) and the paper's hyper-parameters (batch 4, lr 1e-5, §4.2).
// Where the paper is silent, the authors' SciERC config (configs/example_train.conf): no warm-up
// (the rate decays linearly from the start) and gradients clipped at norm 0.25 (docs/fidelity.md).
local template = import 'sinet.libsonnet';

template {
  data_name:: 'scierc',
  paper_encoder:: 'allenai/scibert_scivocab_cased',
  symmetric_relations:: ['Compare', 'Conjunction'],
  batch_size:: 4,
  learning_rate:: 1e-5,
  warmup_fraction:: 0.0,
  grad_norm:: 0.25,
}
