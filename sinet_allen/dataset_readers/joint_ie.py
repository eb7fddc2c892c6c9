"""The dataset reader for joint entity and relation extraction (SpERT- and DyGIE-style input)."""
import itertools
import logging
import os
import random
from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

import torch
from allennlp.data import DatasetReader, Instance, Token
from allennlp.data.fields import Field, LabelField, ListField, MetadataField, MultiLabelField
from allennlp.data.fields import TensorField, TextField
from allennlp.data.token_indexers import PretrainedTransformerIndexer
from allennlp.data.tokenizers import PretrainedTransformerTokenizer

from sinet_allen.dataset_readers.formats import NO_ENTITY, FormatError, Relation, Sentence, TypeInventory
from sinet_allen.dataset_readers.formats import load_types, read_sentences

logger = logging.getLogger(__name__)

Span = Tuple[int, int]  # word offsets, end exclusive


@dataclass
class EncodedSentence:
    """A sentence with its wordpieces; cached so that re-sampling each epoch costs no tokenising."""

    sentence: Sentence
    wordpieces: List[Token]
    word_offsets: List[Span]  # per word: its wordpieces [start, end)


@DatasetReader.register("joint_ie")
class JointIEReader(DatasetReader):
    """Reads SpERT-style JSON or DyGIE-style JSON lines into instances for the SINET model.

    With `negative_sampling` (the training reader) an instance holds the gold entities plus up to
    `neg_entity_count` random non-entity spans, and the gold related pairs plus up to
    `neg_relation_count` unrelated pairs of gold entities, drawn afresh on every pass over the file
    from a generator seeded with `seed` (and the worker's rank). A gold relation of a symmetric type
    is a positive in both orders; with `reverse_symmetric_positives: false` its reverse is left out
    of the samples instead (neither positive nor negative), as SpERT-based code does. Without
    `negative_sampling` (evaluation and prediction) the candidates are all spans of at most
    `max_span_size` words. The complete gold is kept in the metadata in both cases, so metrics also
    count what the model cannot propose.

    Sentences longer than `max_wordpieces` are an error that names them: split them beforehand.
    """

    def __init__(
        self,
        transformer_model: str,
        format: str = "auto",
        types_file: Optional[str] = None,
        max_span_size: int = 8,
        negative_sampling: bool = False,
        neg_entity_count: int = 100,
        neg_relation_count: int = 100,
        reverse_symmetric_positives: bool = True,
        seed: int = 13,
        strict: bool = True,
        max_wordpieces: int = 512,
        **kwargs,
    ) -> None:
        super().__init__(manual_distributed_sharding=True, manual_multiprocess_sharding=True, **kwargs)
        self.format = format
        self.types_file = types_file
        self.max_span_size = max_span_size
        self.negative_sampling = negative_sampling
        self.neg_entity_count = neg_entity_count
        self.neg_relation_count = neg_relation_count
        self.reverse_symmetric_positives = reverse_symmetric_positives
        self.seed = seed
        self.strict = strict
        self.max_wordpieces = max_wordpieces
        self.tokenizer = PretrainedTransformerTokenizer(transformer_model)
        self.token_indexers = {"tokens": PretrainedTransformerIndexer(transformer_model)}
        self._encoded: Dict[str, List[EncodedSentence]] = {}
        self._passes = 0
        self._types: Optional[TypeInventory] = None

    @property
    def types(self) -> Optional[TypeInventory]:
        """The types file's inventory, loaded on first use: prediction needs no types file."""
        if self._types is None and self.types_file:
            if not os.path.isfile(self.types_file):
                # An archived config's path: relative in a hand-written config, or from another machine.
                raise FormatError(
                    f"types_file {self.types_file!r} not found (looked up from {os.getcwd()}); run from the "
                    "directory the path is relative to, or give the file with -o "
                    "'{\"validation_dataset_reader.types_file\": \"PATH\"}'")
            self._types = load_types(self.types_file)
        return self._types

    @property
    def symmetric_relations(self) -> FrozenSet[str]:
        return self.types.symmetric if self.types else frozenset()

    # --- reading -------------------------------------------------------------------------------

    def _read(self, file_path: str) -> Iterable[Instance]:
        rng = random.Random(f"{self.seed}/{self._worker_rank()}/{self._passes}")
        self._passes += 1
        for encoded in self.shard_iterable(self._encode_file(str(file_path))):
            yield self._instance(encoded, rng if self.negative_sampling else None)

    def _worker_rank(self) -> int:
        # Each distributed or data-loader worker draws its own negatives.
        distributed, worker = self.get_distributed_info(), self.get_worker_info()
        rank = distributed.global_rank if distributed else 0
        return rank * 1000 + (worker.id if worker else 0)

    def _encode_file(self, file_path: str) -> List[EncodedSentence]:
        if file_path not in self._encoded:
            sentences = read_sentences(file_path, self.format, types=self.types, strict=self.strict)
            encoded = [self._encode_or_skip(sentence) for sentence in sentences]
            kept = [item for item in encoded if item is not None]
            if len(kept) < len(encoded):
                logger.warning("%s: skipped %d sentences longer than %d wordpieces",
                               file_path, len(encoded) - len(kept), self.max_wordpieces)
            if not kept:  # the scores of nothing would look like a model's zeros
                raise FormatError(f"{file_path}: the file yields no sentence to read")
            self._encoded[file_path] = kept
        return self._encoded[file_path]

    def _encode_or_skip(self, sentence: Sentence) -> Optional[EncodedSentence]:
        try:
            return self.encode(sentence)
        except FormatError as error:
            if self.strict:
                raise FormatError(f"{error}, or set the reader's strict: false to skip it") from None
            logger.warning("skipping: %s", error)
            return None

    def encode(self, sentence: Sentence) -> EncodedSentence:
        """Wordpieces of the sentence and, per word, the range of its wordpieces."""
        unknown = self.tokenizer.tokenizer.unk_token
        # A word the tokenizer maps to nothing (e.g. a zero-width space) still needs a wordpiece.
        words = [word if word.strip() else unknown for word in sentence.tokens]
        wordpieces, offsets = self.tokenizer.intra_word_tokenize(words)
        if any(offset is None for offset in offsets):
            words = [unknown if offset is None else word for word, offset in zip(words, offsets)]
            wordpieces, offsets = self.tokenizer.intra_word_tokenize(words)
        if len(wordpieces) > self.max_wordpieces:
            raise FormatError(
                f"{sentence.source}: the sentence has {len(wordpieces)} wordpieces, more than the "
                f"encoder's limit of {self.max_wordpieces}; split it into shorter sentences"
            )
        return EncodedSentence(sentence, wordpieces, [(start, end + 1) for start, end in offsets])

    # --- instances -----------------------------------------------------------------------------

    def text_to_instance(self, tokens: List[str]) -> Instance:  # type: ignore[override]
        """An evaluation instance (all spans) for a tokenised sentence without gold."""
        sentence = Sentence(tokens=list(tokens), entities=[], relations=[], source="input")
        return self._instance(self.encode(sentence), rng=None)

    def _instance(self, encoded: EncodedSentence, rng: Optional[random.Random]) -> Instance:
        sentence = encoded.sentence
        gold_spans = _first_type_per_span(sentence)
        if rng is None:
            spans = self._all_spans(len(sentence.tokens))
        else:
            spans = list(gold_spans) + self._negative_spans(len(sentence.tokens), gold_spans, rng)
        fields: Dict[str, Field] = {
            "tokens": TextField(encoded.wordpieces, self.token_indexers),
            "entity_spans": _span_tensor(spans),
            "entity_wordpiece_spans": _span_tensor(
                [(encoded.word_offsets[start][0], encoded.word_offsets[end - 1][1]) for start, end in spans]
            ),
            # Only gold relations need the types file: prediction works without it.
            "metadata": MetadataField(
                _metadata(sentence, self.symmetric_relations if sentence.relations else frozenset())
            ),
        }
        if rng is not None:
            labels = [gold_spans.get(span, NO_ENTITY) for span in spans]
            fields["entity_labels"] = _list_field([LabelField(label, "entity_labels") for label in labels],
                                                  LabelField(NO_ENTITY, "entity_labels"))
            fields.update(self._relation_fields(sentence, list(gold_spans), rng))
        return Instance(fields)

    def _all_spans(self, num_words: int) -> List[Span]:
        return [
            (start, end)
            for start in range(num_words)
            for end in range(start + 1, min(num_words, start + self.max_span_size) + 1)
        ]

    def _negative_spans(self, num_words: int, gold: Dict[Span, str], rng: random.Random) -> List[Span]:
        candidates = [span for span in self._all_spans(num_words) if span not in gold]
        return rng.sample(candidates, min(self.neg_entity_count, len(candidates)))

    def _relation_fields(self, sentence: Sentence, entity_spans: List[Span], rng: random.Random):
        """Positive pairs (see `reverse_symmetric_positives`) and sampled unrelated pairs, as indices
        into the entity candidates (the gold entities come first among them)."""
        index = {span: position for position, span in enumerate(entity_spans)}
        labels: Dict[Tuple[int, int], set] = {}
        left_out = set()  # reverses of symmetric relations when they are no positives
        for head, tail, label in _relation_spans(sentence):
            pair = (index[head], index[tail])
            labels.setdefault(pair, set()).add(label)
            if label in self.symmetric_relations:
                if self.reverse_symmetric_positives:
                    labels.setdefault(pair[::-1], set()).add(label)
                else:
                    left_out.add(pair[::-1])
        unrelated = [pair for pair in itertools.permutations(range(len(entity_spans)), 2)
                     if pair not in labels and pair not in left_out]
        pairs = list(labels) + rng.sample(unrelated, min(self.neg_relation_count, len(unrelated)))
        empty = MultiLabelField([], label_namespace="relation_labels")
        return {
            "relation_pairs": TensorField(torch.tensor(pairs, dtype=torch.long).view(-1, 2), padding_value=-1),
            "relation_labels": _list_field(
                [MultiLabelField(sorted(labels.get(pair, ())), label_namespace="relation_labels") for pair in pairs],
                empty,
            ),
        }


def _first_type_per_span(sentence: Sentence) -> Dict[Span, str]:
    """Gold entities by span; a span annotated twice keeps its first type (one label per candidate)."""
    spans: Dict[Span, str] = {}
    for entity in sentence.entities:
        spans.setdefault((entity.start, entity.end), entity.type)
    return spans


def _relation_spans(sentence: Sentence) -> Iterable[Tuple[Span, Span, str]]:
    for relation in sentence.relations:
        head, tail = sentence.entities[relation.head], sentence.entities[relation.tail]
        yield (head.start, head.end), (tail.start, tail.end), relation.type


def _metadata(sentence: Sentence, symmetric: FrozenSet[str]) -> Dict:
    def mention(index: int) -> Tuple[int, int, str]:
        entity = sentence.entities[index]
        return entity.start, entity.end, entity.type

    def triple(relation: Relation):
        head, tail = mention(relation.head), mention(relation.tail)
        if relation.type in symmetric and tail < head:  # stored head-before-tail
            head, tail = tail, head
        return head, tail, relation.type

    return {
        "tokens": sentence.tokens,
        "doc_key": sentence.doc_key,
        "sentence_index": sentence.sentence_index,
        "source": sentence.source,
        "gold_entities": sorted({mention(index) for index in range(len(sentence.entities))}),
        "gold_relations": sorted({triple(relation) for relation in sentence.relations}),
    }


def _span_tensor(spans: Sequence[Span]) -> TensorField:
    return TensorField(torch.tensor(spans, dtype=torch.long).view(-1, 2), padding_value=-1)


def _list_field(fields: List[Field], example: Field) -> ListField:
    # AllenNLP cannot build a ListField from nothing; an empty one is the example's empty field.
    return ListField(fields) if fields else ListField([example]).empty_field()
