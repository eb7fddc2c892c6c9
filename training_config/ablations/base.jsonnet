// Table 4 "Base" on SciERC (see ablations.libsonnet).
(import 'ablations.libsonnet').base(import '../sinet_scierc.jsonnet')
