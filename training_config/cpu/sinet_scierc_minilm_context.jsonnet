// cpu/sinet_scierc_minilm.jsonnet with cross-sentence context (docs/model.md, "Cross-sentence
// context") as issue 41's rule adopted it on SciERC dev (docs/benchmarks.md, "Accuracy levers"):
// in training each sentence is read with up to 64 wordpieces of its abstract around it, left out
// for 70 % of the sentences (context dropout), and the model is evaluated and predicts on sentences
// alone. `-o '{"dataset_reader.context_dropout": 0, "validation_dataset_reader.context_window": 64}'`
// reads with the window throughout, as this config did before 2026-12-08. The documents come from
// the DyGIE-style copy of SciERC (the SpERT-style one has no document ids); its labels are matched
// to the SpERT types file case-insensitively.
local sentence_level = import 'sinet_scierc_minilm.jsonnet';

sentence_level {
  data_name:: 'scierc_dygie',
  train_file:: 'train.jsonl',
  dev_file:: 'dev.jsonl',
  test_file:: 'test.jsonl',
  types_file:: '../scierc/types.json',
  context_window:: 64,
  context_dropout:: 0.7,
}
