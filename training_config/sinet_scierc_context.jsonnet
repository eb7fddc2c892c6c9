// sinet_scierc.jsonnet with cross-sentence context (docs/model.md, "Cross-sentence context"): each
// sentence read with up to 64 wordpieces of its abstract, from the DyGIE-style copy of SciERC.
local sinet = import 'sinet_scierc.jsonnet';

sinet {
  data_name:: 'scierc_dygie',
  train_file:: 'train.jsonl',
  dev_file:: 'dev.jsonl',
  test_file:: 'test.jsonl',
  types_file:: '../scierc/types.json',
  context_window:: 64,
}
