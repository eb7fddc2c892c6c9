// cpu/sinet_scierc_minilm.jsonnet with cross-sentence context (docs/model.md, "Cross-sentence
// context"): each sentence is read with up to 64 wordpieces of its abstract around it. The
// documents come from the DyGIE-style copy of SciERC (the SpERT-style one has no document ids);
// its labels are matched to the SpERT types file case-insensitively.
local sentence_level = import 'sinet_scierc_minilm.jsonnet';

sentence_level {
  data_name:: 'scierc_dygie',
  train_file:: 'train.jsonl',
  dev_file:: 'dev.jsonl',
  test_file:: 'test.jsonl',
  types_file:: '../scierc/types.json',
  context_window:: 64,
}
