// Table 4 "Base+TAP+CTAM_RE" on SciERC (see ablations.libsonnet).
(import 'ablations.libsonnet').base_tap_ctam_re(import '../sinet_scierc.jsonnet')
