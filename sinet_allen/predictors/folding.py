"""Sentences longer than the encoder's limit, predicted with AllenNLP's own `max_length` folding
(the wordpiece indexer cuts the input into segments, the `pretrained_transformer` embedder encodes
them one by one and joins them), applied only to the sentences that need it.

AllenNLP folds a whole batch as soon as one input in it is longer than `max_length`, padding every
input to a multiple of `max_length`; and an archive trained without `max_length` has neither an
indexer nor an embedder that folds. So the predictor keeps the archive's reader and embedder for
the sentences that fit and builds, per segment length, a `Folding`: a copy of the reader whose
indexer folds, and an embedder that folds, sharing the archive's encoder module (no weights are
copied). The over-long sentences are predicted in forward passes of their own with it.
"""
import copy
from dataclasses import dataclass

from allennlp.data.token_indexers import PretrainedTransformerIndexer
from allennlp.modules.text_field_embedders import BasicTextFieldEmbedder, TextFieldEmbedder
from allennlp.modules.token_embedders import PretrainedTransformerEmbedder

from sinet_allen.dataset_readers.joint_ie import JointIEReader

TOKENS = "tokens"  # the reader's indexer name, and so the embedder's


@dataclass
class Folding:
    """A reader whose instances are indexed in segments of `length` wordpieces, and an embedder that
    encodes them, sharing the archive's encoder."""

    length: int
    reader: JointIEReader
    embedder: TextFieldEmbedder


def folding(reader: JointIEReader, embedder: TextFieldEmbedder, length: int) -> Folding:
    """The `Folding` of segments of `length` wordpieces for a model's `reader` and `embedder`."""
    return Folding(length, folding_reader(reader, length), folding_embedder(embedder, length))


def folding_reader(reader: JointIEReader, length: int) -> JointIEReader:
    """A copy of `reader` configured as with `max_length: length` (the reader's own option): no
    wordpiece limit, its indexer folding at `length`."""
    folded = copy.copy(reader)
    folded.max_length = length
    folded.token_indexers = {TOKENS: PretrainedTransformerIndexer(reader.tokenizer.tokenizer.name_or_path,
                                                                  max_length=length)}
    return folded


def folding_embedder(embedder: TextFieldEmbedder, length: int) -> TextFieldEmbedder:
    """An embedder configured as `embedder` with `max_length: length`, running the same encoder module."""
    transformers = [module for module in embedder.modules() if isinstance(module, PretrainedTransformerEmbedder)]
    if len(transformers) != 1:
        raise ValueError("long sentences need a model with one pretrained_transformer token embedder; "
                         f"this one has {len(transformers)}")
    encoder = transformers[0].transformer_model
    folded = PretrainedTransformerEmbedder(encoder.name_or_path, max_length=length, load_weights=False)
    folded.transformer_model = encoder  # the archive's weights, shared
    return BasicTextFieldEmbedder({TOKENS: folded})
