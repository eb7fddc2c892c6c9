// SINET on ADE (fold from SINET_FOLD, 0-9) under the CPU settings (minilm.libsonnet) but 5 epochs:
// a fold's 3,845 training sentences give 4,805 steps at batch 4, more than CoNLL04's 15 epochs
// (3,465 steps), in a third of the time 15 epochs would take on a 2-core CPU. No weight averaging:
// the last 5 epochs would be the whole run, its first updates included.
(import '../sinet_ade.jsonnet') + (import 'minilm.libsonnet') + { num_epochs:: 5, weight_averaging_epochs:: 0 }
