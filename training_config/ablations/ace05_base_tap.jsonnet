// Table 4 "Base+TAP" on ACE05 (see ablations.libsonnet).
(import 'ablations.libsonnet').base_tap(import '../sinet_ace05.jsonnet')
