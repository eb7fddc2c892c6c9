// Table 4 "Base+TAP+CTAM_NER" on ACE05 (see ablations.libsonnet).
(import 'ablations.libsonnet').base_tap_ctam_ner(import '../sinet_ace05.jsonnet')
