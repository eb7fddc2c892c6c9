// SINET on CoNLL04 with the 6-layer MiniLM encoder under the CPU settings (minilm.libsonnet), for
// the side-by-side with cpu/cman_conll04_minilm.jsonnet and cpu/base_conll04_minilm.jsonnet.
(import '../sinet_conll04.jsonnet') + (import 'minilm.libsonnet')
