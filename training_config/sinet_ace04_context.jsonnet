// sinet_ace04.jsonnet (5 folds, SINET_FOLD) with cross-sentence context (docs/model.md,
// "Cross-sentence context"): each sentence read with up to 64 wordpieces of its document.
local sinet = import 'sinet_ace04.jsonnet';

sinet {
  context_window:: 64,
}
