// CMAN on CoNLL04 under exactly the CPU settings of cpu/sinet_conll04_minilm.jsonnet.
(import 'sinet_conll04_minilm.jsonnet') + (import '../cman.libsonnet')
