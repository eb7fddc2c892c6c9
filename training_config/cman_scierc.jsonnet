// CMAN on SciERC with SciBERT, beside sinet_scierc.jsonnet (SciERC's few nested entities are left
// out of CMAN's training targets; docs/cman.md).
(import 'sinet_scierc.jsonnet') + (import 'cman.libsonnet')
