// CMAN on CoNLL04 (its paper's data set) with BERT-base cased, beside sinet_conll04.jsonnet.
(import 'sinet_conll04.jsonnet') + (import 'cman.libsonnet')
