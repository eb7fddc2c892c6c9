// Table 4 "Base+TAP+CTAM_NER" on SciERC (see ablations.libsonnet).
(import 'ablations.libsonnet').base_tap_ctam_ner(import '../sinet_scierc.jsonnet')
