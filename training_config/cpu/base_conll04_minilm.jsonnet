// Table 4's "Base" (no TAP, no CTAM) under exactly the settings of cpu/sinet_conll04_minilm.jsonnet.
(import '../ablations/ablations.libsonnet').base(import 'sinet_conll04_minilm.jsonnet')
