// The paper's Table 4 variants of a data set's SINET config, one function each: every ablation
// file is a single call, so the SciERC and ACE05 grids cannot drift apart.
{
  // "Base": both classifiers read the encoder's [CLS]; spans pooled from the encoder (no TAP, no CTAM).
  base(sinet):: sinet { model+: { task_projection: { type: 'identity' }, interaction: null } },
  // "Base+TAP": task-aware projections, each classifier reads its own projected [CLS]; no CTAM.
  base_tap(sinet):: sinet { model+: { interaction: null } },
  // "Base+TAP+CTAM_NER": only the entity classifier receives the cross-task attended agent.
  base_tap_ctam_ner(sinet):: sinet { ctam+:: { targets: 'ner' } },
  // "Base+TAP+CTAM_RE": only the relation classifier receives the cross-task attended agent.
  base_tap_ctam_re(sinet):: sinet { ctam+:: { targets: 're' } },
}
