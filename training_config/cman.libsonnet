// CMAN (Zhao et al., IJCAI 2020) over a data set's SINET config: `sinet_<data>.jsonnet + cman`
// keeps its data, encoder, schedule, metric and commands, reads the data in the joint_ie reader's
// BIO view and trains the `cman` model instead (docs/cman.md). The sizes are our choices, not the
// paper's (it gives none); `cman+:: { ... }` changes them.
{
  reader+:: { bio_tags: true },
  cman:: {
    num_layers: 2,
    num_heads: 4,
    dropout: 0.1,
    relation_hidden_dim: 128,
  },
  sinet_model:: super.model,
  model: {
    type: 'cman',
    embedder: $.sinet_model.embedder,
    relation_threshold: 0.5,
    symmetric_relations: $.symmetric_relations,
  } + $.cman,
}
