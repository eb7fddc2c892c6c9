// Table 4 "Base+TAP" on SciERC (see ablations.libsonnet).
(import 'ablations.libsonnet').base_tap(import '../sinet_scierc.jsonnet')
