// The SINET configuration every data set and ablation extends (`template + { ... }`).
// Settings come from environment variables (defaults in sinet_allen/settings.py):
//   SINET_DATA_DIR  data root with scierc/, conll04/, ade/, ace04/, ace05/
//   SINET_ENCODER   Hugging Face name or local path; empty = the paper's encoder for the data set
//   SINET_SEED      seeds python, numpy, torch and the negative sampling
//   SINET_FOLD      fold of cross-validated data sets (ACE04, ADE)
//   SINET_CUDA_DEVICES, SINET_NUM_NODES, SINET_MASTER_ADDRESS, SINET_MASTER_PORT: distributed training
// Epochs, batch size and anything else through dotted keys (a nested object would replace the
// whole section): allennlp train ... -o '{"trainer.num_epochs": 5, "data_loader.batch_sampler.batch_size": 8}'
local env = std.extVar;
local devices = env('SINET_CUDA_DEVICES');

{
  // ---- set by each data-set config ----
  data_name:: error 'set data_name: the folder under SINET_DATA_DIR',
  paper_encoder:: error 'set paper_encoder: the encoder the paper used for this data set',
  // Declared here once, passed to both readers and the model; a types file's flags must agree.
  symmetric_relations:: error 'set symmetric_relations: the relation types whose head and tail may be swapped',
  // The reverse of a symmetric gold relation in training: an ordinary candidate negative, as in the
  // authors' code; level with "positive" on SciERC (docs/fidelity.md, "Which variant is the default").
  symmetric_reverse:: 'negative',
  train_file:: 'train.json',
  dev_file:: 'dev.json',
  test_file:: 'test.json',
  types_file:: 'types.json',
  batch_size:: 20,
  learning_rate:: 2e-5,
  num_epochs:: 100,
  // SpERT's defaults; the SciERC config sets the authors' own (docs/fidelity.md).
  warmup_fraction:: 0.1,
  grad_norm:: 1.0,
  // Cross-sentence context (docs/model.md): wordpieces of the surrounding text of the same document
  // read with each sentence (0: the sentence alone), and whether the agents and CTAM read them too.
  context_window:: 0,
  attend_to_context:: false,
  // Context as training-time augmentation (FLERT's context dropout, docs/model.md): above 0, the
  // training reader leaves the context_window out for this share of its sentences and evaluation
  // reads sentences alone; 0 reads with the same context in training and evaluation.
  context_dropout:: 0,
  // Inputs longer than this many wordpieces are encoded in segments of it (AllenNLP's folding, in
  // the indexer and the embedder alike); null keeps inputs whole, limited to the encoder's 512.
  // Folding pads every input to a multiple of max_length: set it only where inputs are that long.
  max_length:: null,
  // Stochastic weight averaging (docs/model.md, "Accuracy levers beyond the paper"): validate and
  // save the mean of the weights of the last this many epochs; 0 trains without averaging. It
  // counts them back from num_epochs:: here: `-o '{"trainer.num_epochs": n}'` leaves that count.
  weight_averaging_epochs:: 0,

  // ---- derived ----
  encoder:: if env('SINET_ENCODER') == '' then self.paper_encoder else env('SINET_ENCODER'),
  data_dir:: env('SINET_DATA_DIR') + '/' + self.data_name,
  seed:: std.parseInt(env('SINET_SEED')),
  reader:: {
    type: 'joint_ie',
    transformer_model: $.encoder,
    types_file: $.data_dir + '/' + $.types_file,
    symmetric_relations: $.symmetric_relations,
    symmetric_reverse: $.symmetric_reverse,
    max_span_size: 8,
    context_window: $.context_window,
    max_length: $.max_length,
  },
  // The SINET interaction: CTAM feeding the attended agents to both classifiers.
  ctam:: {
    type: 'cross_task_attention',
    num_heads: 4,
    num_layers: 1,
    attention_dropout: 0.2,
    layer_norm: true,
    targets: 'both',
  },

  random_seed: $.seed,
  numpy_seed: $.seed,
  pytorch_seed: $.seed,
  dataset_reader: $.reader {
    training_instances: true,
    neg_entity_count: 100,
    neg_relation_count: 100,
    seed: $.seed,
    [if $.context_dropout > 0 then 'context_dropout']: $.context_dropout,
  },
  validation_dataset_reader: $.reader {
    [if $.context_dropout > 0 then 'context_window']: 0,
  },
  train_data_path: $.data_dir + '/' + $.train_file,
  validation_data_path: $.data_dir + '/' + $.dev_file,
  test_data_path: $.data_dir + '/' + $.test_file,
  model: {
    type: 'sinet',
    embedder: { token_embedders: { tokens: {
      // AllenNLP's pretrained_transformer, read from the archive's copy of the encoder's
      // configuration when the encoder's folder is gone (sinet_allen/modules/portable_transformer.py).
      type: 'portable_transformer',
      model_name: $.encoder,
      max_length: $.max_length,
      // The pooler (a dense layer over [CLS] for next-sentence prediction) is never read: not
      // built, it leaves no parameter without gradient (distributed training needs none).
      transformer_kwargs: { add_pooling_layer: false },
    } } },
    task_projection: { type: 'linear' },
    interactive_agent: { type: 'cls_pooler' },
    interaction: $.ctam,
    span_extractor: { type: 'range_max' },
    context_extractor: { type: 'range_max' },
    attend_to_context: $.attend_to_context,
    width_embedding_dim: 100,
    dropout: 0.1,
    relation_threshold: 0.5,
    symmetric_relations: $.symmetric_relations,
    max_relation_entities: 100,
  },
  // Re-reads the training file every epoch, so each epoch sees fresh negative samples.
  data_loader: {
    type: 'resampling',
    seed: $.seed,  // per-epoch random states, so that `--recover` resumes exactly
    batch_sampler: { type: 'bucket', batch_size: $.batch_size, sorting_keys: ['tokens'] },
  },
  validation_data_loader: {
    batch_sampler: { type: 'bucket', batch_size: 32, sorting_keys: ['tokens'], shuffle: false },
  },
  // `allennlp evaluate --predictions-output-file`: a line per sentence with its prediction and gold.
  evaluation: { batch_serializer: { type: 'sinet' } },
  trainer: {
    num_epochs: $.num_epochs,
    validation_metric: '+rel_strict_f1',
    grad_norm: $.grad_norm,
    optimizer: {
      type: 'fused_adamw',
      lr: $.learning_rate,
      weight_decay: 0.01,
      // BERT's AdamW update, as in the authors' (SpERT-based) code, which calls transformers'
      // AdamW with correct_bias=False and its default eps of 1e-6.
      bias_correction: false,
      eps: 1e-6,
      parameter_groups: [[['bias', 'LayerNorm\\.weight', 'norm\\.weight'], { weight_decay: 0.0 }]],
    },
    learning_rate_scheduler: { type: 'linear_warmup_fraction', warmup_fraction: $.warmup_fraction },
    [if $.weight_averaging_epochs > 0 then 'moving_average']: {
      type: 'uniform', last_epochs: $.weight_averaging_epochs, num_epochs: $.num_epochs,
    },
    checkpointer: { keep_most_recent_by_count: 1 },
    // On CPU: reuse freed memory instead of mapping the large gradients afresh every step.
    // archive_extras: the encoder's configuration and tokenizer files, and the model card.
    callbacks: [{ type: 'reuse_freed_memory' }, { type: 'archive_extras' }],
  },
  // The archive carries them (sinet_allen/training/archive_extras.py): it predicts anywhere.
  include_in_archive: ['encoder', 'model_card.md'],
} + (
  local device_ids = if devices == '' then [] else [std.parseInt(d) for d in std.split(devices, ',')];
  local num_nodes = std.parseInt(env('SINET_NUM_NODES'));
  if device_ids == [] then {}
  // One device on one machine is no distributed training: AllenNLP refuses a distributed block for it.
  else if std.length(device_ids) == 1 && num_nodes == 1 then { trainer+: { cuda_device: device_ids[0] } }
  else {
    distributed: {
      cuda_devices: device_ids,
      num_nodes: num_nodes,
      // AllenNLP 2.10 reads primary_*; it silently ignores unknown keys such as master_*.
      primary_address: env('SINET_MASTER_ADDRESS'),
      primary_port: std.parseInt(env('SINET_MASTER_PORT')),
    },
  }
)
