// SINET on SciERC with the 6-layer MiniLM encoder, sized for a 2-core CPU (minilm.libsonnet): the
// settings under which the authors' code was run for comparison, among them SpERT's 10 % warm-up
// and clip 1.0 rather than the SciERC config's schedule, so that comparison stays like for like.
(import '../sinet_scierc.jsonnet') + (import 'minilm.libsonnet')
