// CMAN on ADE under exactly the settings of cpu/sinet_ade_minilm.jsonnet.
(import 'sinet_ade_minilm.jsonnet') + (import '../cman.libsonnet')
