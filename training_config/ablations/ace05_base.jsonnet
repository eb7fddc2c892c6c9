// Table 4 "Base" on ACE05 (see ablations.libsonnet).
(import 'ablations.libsonnet').base(import '../sinet_ace05.jsonnet')
