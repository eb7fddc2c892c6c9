// Table 4 "Base+TAP+CTAM_RE" on ACE05 (see ablations.libsonnet).
(import 'ablations.libsonnet').base_tap_ctam_re(import '../sinet_ace05.jsonnet')
