// sinet_ace05.jsonnet with cross-sentence context (docs/model.md, "Cross-sentence context"): each
// sentence read with up to 64 wordpieces of the text around it in its ACE document.
local sinet = import 'sinet_ace05.jsonnet';

sinet {
  context_window:: 64,
}
