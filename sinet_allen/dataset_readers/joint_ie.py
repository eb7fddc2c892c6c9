"""The dataset reader for joint entity and relation extraction (SpERT- and DyGIE-style input)."""
import itertools
import logging
import os
import random
from dataclasses import dataclass
from typing import Callable, Collection, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

import torch
from allennlp.common.checks import ConfigurationError
from allennlp.data import DatasetReader, Instance, Token
from allennlp.data.fields import Field, LabelField, ListField, MetadataField, MultiLabelField
from allennlp.data.fields import TensorField, TextField
from allennlp.data.token_indexers import PretrainedTransformerIndexer
from allennlp.data.tokenizers import PretrainedTransformerTokenizer

from sinet_allen.dataset_readers.bio import bio_tags, flat_entities
from sinet_allen.dataset_readers.formats import load_types, read_sentences
from sinet_allen.modules.portable_transformer import encoder_source
from sinet_allen.schema import (NO_ENTITY, FormatError, Mention, Relation, Sentence, TypeInventory, canonical_relation,
                                group_documents)

logger = logging.getLogger(__name__)

Span = Tuple[int, int]  # word offsets, end exclusive
Pair = Tuple[int, int]  # a relation's head and tail: candidate indices, or word indices with bio_tags
# What a training instance makes of the reverse of a symmetric gold relation (see JointIEReader).
SYMMETRIC_REVERSE = ("positive", "left_out", "negative")


@dataclass
class EncodedSentence:
    """A sentence with its wordpieces; cached so that re-sampling each epoch costs no tokenising."""

    sentence: Sentence
    wordpieces: List[Token]  # with a context window: the window's, the sentence among them
    word_offsets: List[Span]  # per word: its wordpieces [start, end)
    target: Optional[Span] = None  # with a context window: the sentence's wordpieces [start, end)
    alone: Optional["EncodedSentence"] = None  # with context dropout: the sentence without its context


@DatasetReader.register("joint_ie")
class JointIEReader(DatasetReader):
    """Reads SpERT-style JSON or DyGIE-style JSON lines into instances for the SINET model (span
    candidates) or, with `bio_tags`, for the CMAN model (word tags).

    With `training_instances` (the training reader) an instance holds the gold entities plus up to
    `neg_entity_count` random non-entity spans, and the gold related pairs plus up to
    `neg_relation_count` unrelated pairs of gold entities, drawn afresh on every pass over the file
    from a generator seeded with `seed`, the worker's rank and the number of the pass (`pass_number`,
    which the `resampling` loader sets, so that data-loader workers draw fresh negatives too). Without `training_instances`
    (evaluation and prediction) the candidates are all spans of at most `max_span_size` words. The
    complete gold is kept in the metadata in both cases, so metrics also count what the model cannot
    propose; a relation of a symmetric type is stored in the order `canonical_relation` gives.

    With a `context_window`, the encoder reads each sentence with up to that many wordpieces of the
    sentences around it in its document (docs/model.md, "Cross-sentence context"): half before and
    half after, the other side filling in at a document's start or end. The candidates, the
    negatives and the gold stay the sentence's; the wordpiece spans index the windowed input, and
    the metadata's `target_wordpieces` says where the sentence lies in it. A document is a DyGIE
    line, or consecutive SpERT records that share a `doc_key` (else `orig_id`), in reading order.

    Without `max_length`, a sentence longer than `max_wordpieces` is an error that names it (split
    it beforehand) and the context is cut to fit the limit; with it, inputs of any length are
    encoded in segments of `max_length` wordpieces (AllenNLP's folding, which the embedder's
    `max_length` must match).

    With `bio_tags` an instance holds, instead of span candidates, the position of each word's first
    wordpiece (`word_starts`) and, in training, each word's BIO tag (`bio_tags`, namespace
    "bio_tags") and the gold relations between entities' last words (`relation_pairs`, word
    indices, and `relation_labels`) for multi-head selection; nothing is sampled. Gold entities that
    BIO cannot hold (overlapping or nested, see `sinet_allen/dataset_readers/bio.py`) and their
    relations are left out of those targets, with a warning counting them, and stay in the gold.

    # Parameters

    transformer_model : `str`
        The encoder's Hugging Face name or local path; its tokenizer splits the words into wordpieces.
        Where that folder is gone, a model archive's copy of the tokenizer is read instead
        (sinet_allen/modules/portable_transformer.py).
    format : `str`, optional (default = `"auto"`)
        `"spert"` (a JSON list of sentences), `"dygie"` (JSON lines of documents), or `"auto"` to tell
        them apart by the file's first character.
    types_file : `str`, optional (default = `None`)
        A SpERT-style types file. Labels in the data are matched to its names case-insensitively and
        an undeclared label is an error. Its `"symmetric"` flags must agree with `symmetric_relations`.
        Without it (ACE, prediction) the labels are taken as they are written.
    symmetric_relations : `List[str]`, optional (default = `()`)
        The relation types whose head and tail can be swapped without changing the meaning. The
        data-set config declares them once and passes the same list to the model.
    symmetric_reverse : `str`, optional (default = `"negative"`)
        What a training instance makes of the reverse of a gold relation of a symmetric type:
        `"positive"`, a positive in both orders; `"left_out"`, neither a positive nor a negative
        (SpERT before April 2021); `"negative"`, an ordinary unrelated pair that may be sampled as a
        negative (the SINET authors' code, which stores the relation in its canonical order only;
        the default, as in the configs, so a reader built by hand trains what they train).
        With `bio_tags`, `"positive"` or `"negative"` (every word pair is scored, none left out).
    max_span_size : `int`, optional (default = `8`)
        The widest candidate span in words (gold entities are training candidates whatever their width).
    training_instances : `bool`, optional (default = `False`)
        Build training instances (with labels: for span candidates the gold plus sampled negatives,
        for `bio_tags` the tags and the gold pairs) instead of evaluation instances (all spans, no
        labels). Archives written before 2026-12-07 call it `negative_sampling`, which is read as
        this.
    neg_entity_count : `int`, optional (default = `100`)
        At most this many non-entity spans per training instance.
    neg_relation_count : `int`, optional (default = `100`)
        At most this many unrelated pairs of gold entities per training instance.
    seed : `int`, optional (default = `13`)
        Seeds the negative sampling.
    strict : `bool`, optional (default = `True`)
        Stop at the first invalid record or over-long sentence; with `False` a training reader
        skips it with a warning. An evaluation reader (without `training_instances`) always
        stops: a skipped sentence's gold would leave the metric.
    max_wordpieces : `int`, optional (default = `512`)
        The encoder's input limit, [CLS] and [SEP] included; no limit with `max_length`.
    context_window : `int`, optional (default = `0`)
        Wordpieces of the surrounding text of the same document read with each sentence; `0`
        reads the sentence alone. Needs data with documents: an error names a file without any.
    max_length : `int`, optional (default = `None`)
        The wordpiece indexer's `max_length`: inputs longer than this are folded into segments
        that the `pretrained_transformer` embedder, given the same `max_length`, encodes one by
        one and joins. `None` leaves inputs whole (and limited to `max_wordpieces`).
    bio_tags : `bool`, optional (default = `False`)
        The BIO view described above (for the `cman` model) instead of span candidates; then
        `max_span_size` and the negative counts play no part.
    boundary_neighbours : `int`, optional (default = `0`)
        Training instances always hold, beside the gold and the sampled negatives, every other span
        whose start and end together lie within this many words of a gold entity's
        (|start - start'| + |end - end'|), as negatives. Boundary smoothing (the `sinet` model's
        `boundary_smoothing`) moves part of a gold span's probability to these neighbours, so it
        needs them among the candidates (Zhu & Li, ACL 2022). `0` changes nothing.
    context_dropout : `float`, optional (default = `0.0`)
        With a `context_window`, the share of training instances read without their context (the
        sentence alone), drawn per instance and pass from the sampling generator, so the same for
        the same `seed` (FLERT's context dropout, Schweter & Akbik 2020). The model then learns to
        read a sentence both ways; evaluation and prediction read the window as configured.
    serialization_dir : `str`, optional (default = `None`)
        Given by AllenNLP: the training folder, or the unpacked archive being loaded (where the
        encoder's copy is looked for).
    """

    def __init__(
        self,
        transformer_model: str,
        format: str = "auto",
        types_file: Optional[str] = None,
        symmetric_relations: Sequence[str] = (),
        symmetric_reverse: str = "negative",
        max_span_size: int = 8,
        training_instances: bool = False,
        neg_entity_count: int = 100,
        neg_relation_count: int = 100,
        seed: int = 13,
        strict: bool = True,
        max_wordpieces: int = 512,
        context_window: int = 0,
        max_length: Optional[int] = None,
        bio_tags: bool = False,
        boundary_neighbours: int = 0,
        context_dropout: float = 0.0,
        negative_sampling: Optional[bool] = None,  # the name of `training_instances` in older archives
        serialization_dir: Optional[str] = None,
        **kwargs,
    ) -> None:
        super().__init__(manual_distributed_sharding=True, manual_multiprocess_sharding=True,
                         serialization_dir=serialization_dir, **kwargs)
        transformer_model, _ = encoder_source(transformer_model, serialization_dir)
        if negative_sampling is not None:
            training_instances = negative_sampling
        if symmetric_reverse not in SYMMETRIC_REVERSE:
            raise ConfigurationError(f"symmetric_reverse must be one of {', '.join(SYMMETRIC_REVERSE)}, "
                                     f"got {symmetric_reverse!r}")
        if bio_tags and symmetric_reverse == "left_out":
            raise ConfigurationError("symmetric_reverse 'left_out' needs sampled pairs: with bio_tags every "
                                     "word pair is scored; choose 'positive' or 'negative'")
        self.format = format
        self.types_file = types_file
        self.symmetric_relations = frozenset(symmetric_relations)
        self.symmetric_reverse = symmetric_reverse
        self.max_span_size = max_span_size
        self.training_instances = training_instances
        self.neg_entity_count = neg_entity_count
        self.neg_relation_count = neg_relation_count
        self.seed = seed
        self.strict = strict
        if context_window < 0:
            raise ConfigurationError(f"context_window must be 0 or more wordpieces, got {context_window}")
        self.max_wordpieces = max_wordpieces
        self.context_window = context_window
        self.max_length = max_length
        self.bio_tags = bio_tags
        if boundary_neighbours < 0:
            raise ConfigurationError(f"boundary_neighbours must be 0 or more words, got {boundary_neighbours}")
        if not 0.0 <= context_dropout <= 1.0:
            raise ConfigurationError(f"context_dropout must be a share between 0 and 1, got {context_dropout}")
        if context_dropout and not context_window:
            raise ConfigurationError("context_dropout drops the context of a context_window: set context_window "
                                     "to a number of wordpieces, or context_dropout to 0")
        self.boundary_neighbours = boundary_neighbours
        self.context_dropout = context_dropout
        self.tokenizer = PretrainedTransformerTokenizer(transformer_model)
        self.token_indexers = {"tokens": PretrainedTransformerIndexer(transformer_model, max_length=max_length)}
        self.num_special_tokens = self.tokenizer.num_special_tokens_for_sequence()
        self._encoded: Dict[str, List[EncodedSentence]] = {}
        # Seeds the negatives of the next pass over a file with `seed`; each pass advances it. The
        # `resampling` loader sets it from its own count of passes before it starts data-loader
        # workers, whose copies of the reader would otherwise all start from the same number.
        self.pass_number = 0
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
            types = load_types(self.types_file)
            self._check_symmetric_flags(types)
            self._types = types
        return self._types

    def _check_symmetric_flags(self, types: TypeInventory) -> None:
        """The types file's flags only confirm `symmetric_relations`, the one source of the fact."""
        unnamed = sorted(types.symmetric - self.symmetric_relations)
        if unnamed:
            raise FormatError(f"{self.types_file}: relation type {unnamed[0]!r} is marked symmetric, but the "
                              "reader's symmetric_relations do not name it; add it to the data-set "
                              "config's symmetric_relations or unmark it in the types file")
        unmarked = sorted(self.symmetric_relations - types.symmetric)
        if unmarked:
            declared = "does not mark it symmetric" if unmarked[0] in types.relation_types else "declares no such type"
            raise FormatError(f"{self.types_file}: the reader's symmetric_relations name {unmarked[0]!r}, but the "
                              f"types file {declared} (its relation types: {', '.join(types.relation_types)})")

    # --- reading -------------------------------------------------------------------------------

    def _read(self, file_path: str) -> Iterable[Instance]:
        rng = random.Random(f"{self.seed}/{self._worker_rank()}/{self.pass_number}")
        self.pass_number += 1
        for encoded in self.shard_iterable(self._encode_file(str(file_path))):
            if not self.training_instances:
                # No indexers yet: a data-loader worker would carry copies of them (apply_token_indexers).
                yield self._instance(encoded, None, token_indexers=None)
                continue
            # Drawn only when asked for, so that without context dropout the negatives stay the same.
            if self.context_dropout and rng.random() < self.context_dropout:
                encoded = encoded.alone
            yield self._instance(encoded, rng, token_indexers=None)

    def apply_token_indexers(self, instance: Instance) -> None:
        instance["tokens"].token_indexers = self.token_indexers  # type: ignore[attr-defined]

    def _worker_rank(self) -> int:
        # Each distributed or data-loader worker draws its own negatives.
        distributed, worker = self.get_distributed_info(), self.get_worker_info()
        rank = distributed.global_rank if distributed else 0
        return rank * 1000 + (worker.id if worker else 0)

    @property
    def skips_nothing(self) -> bool:
        """Whether a record that cannot be read stops the reading: always for evaluation (its
        gold would leave the metric), in training unless `strict` is false."""
        return self.strict or not self.training_instances

    def _encode_file(self, file_path: str) -> List[EncodedSentence]:
        if file_path not in self._encoded:
            sentences = read_sentences(file_path, self.format, types=self.types, strict=self.skips_nothing)
            documents = [document for _, document in group_documents(sentences)]
            if self.context_window and all(len(document) == 1 for document in documents):
                raise FormatError(
                    f"{file_path}: the reader's context_window is {self.context_window}, but no document of the "
                    "file holds more than one sentence: give DyGIE-style lines (a document per line) or SpERT "
                    "records whose consecutive sentences share a 'doc_key' (or 'orig_id'), or set context_window: 0")
            encoded = [self._encode_or_skip(document, k) for document in documents for k in range(len(document))]
            kept = [item for item in encoded if item is not None]
            if len(kept) < len(encoded):
                logger.warning("%s: skipped %d sentences longer than %d wordpieces",
                               file_path, len(encoded) - len(kept), self.max_wordpieces)
            if not kept:  # the scores of nothing would look like a model's zeros
                raise FormatError(f"{file_path}: the file yields no sentence to read")
            if self.bio_tags:
                _warn_unrepresentable(file_path, [item.sentence for item in kept], self.training_instances)
            self._encoded[file_path] = kept
        return self._encoded[file_path]

    def _encode_or_skip(self, document: List[Sentence], k: int) -> Optional[EncodedSentence]:
        try:
            encoded = self.encode(document[k], before=[s.tokens for s in document[:k]],
                                  after=[s.tokens for s in document[k + 1:]])
            if self.context_dropout and self.training_instances:
                encoded.alone = self.encode(document[k])
            return encoded
        except FormatError as error:
            if not self.training_instances:
                raise FormatError(f"{error}; an evaluation reader reads every sentence, so that no gold "
                                  "leaves the metric unseen") from None
            if self.strict:
                raise FormatError(f"{error}, or set the reader's strict: false to skip it") from None
            logger.warning("skipping: %s", error)
            return None

    def encode(self, sentence: Sentence, before: Sequence[Sequence[str]] = (),
               after: Sequence[Sequence[str]] = ()) -> EncodedSentence:
        """Wordpieces of the sentence, within its context window when the reader has one (taken from
        the words of the sentences `before` and `after` it), and per word the range of its wordpieces."""
        pieces, offsets = self._word_pieces(sentence.tokens)
        if self.max_length is None and len(pieces) + self.num_special_tokens > self.max_wordpieces:
            raise FormatError(
                f"{sentence.source}: the sentence has {len(pieces) + self.num_special_tokens} wordpieces, more "
                f"than the encoder's limit of {self.max_wordpieces}; split it into shorter sentences, or set "
                "max_length in the reader and the embedder to encode long inputs in segments"
            )
        budget = self.context_window
        if self.max_length is None:
            budget = min(budget, self.max_wordpieces - self.num_special_tokens - len(pieces))
        left = self._context(before, budget, nearest_last=True)
        right = self._context(after, budget, nearest_last=False)
        num_left, num_right = split_context(budget, len(left), len(right))
        left, right = left[len(left) - num_left:], right[:num_right]
        start = len(self.tokenizer.single_sequence_start_tokens) + num_left
        return EncodedSentence(
            sentence,
            self.tokenizer.add_special_tokens(left + pieces + right),
            [(first + start, end + start) for first, end in offsets],
            target=(start, start + len(pieces)) if self.context_window else None,
        )

    def _word_pieces(self, words: Sequence[str]) -> Tuple[List[Token], List[Span]]:
        """The words' wordpieces without [CLS] and [SEP], and per word the range of its wordpieces."""
        unknown = self.tokenizer.tokenizer.unk_token
        # A word the tokenizer maps to nothing (e.g. a zero-width space) still needs a wordpiece.
        words = [word if word.strip() else unknown for word in words]
        wordpieces, offsets = self.tokenizer.intra_word_tokenize(words)
        if any(offset is None for offset in offsets):
            words = [unknown if offset is None else word for word, offset in zip(words, offsets)]
            wordpieces, offsets = self.tokenizer.intra_word_tokenize(words)
        start = len(self.tokenizer.single_sequence_start_tokens)
        end = len(wordpieces) - len(self.tokenizer.single_sequence_end_tokens)
        return wordpieces[start:end], [(first - start, last + 1 - start) for first, last in offsets]

    def _context(self, sentences: Sequence[Sequence[str]], budget: int, nearest_last: bool) -> List[Token]:
        """Up to `budget` wordpieces of `sentences` next to the target: the last ones of the
        sentences before it (`nearest_last`), or the first ones of those after it. Only the
        sentences needed are tokenised, so a long document costs no more than its window."""
        pieces: List[Token] = []
        for words in reversed(sentences) if nearest_last else sentences:
            if len(pieces) >= budget:
                break
            new = self._word_pieces(words)[0]
            pieces = new + pieces if nearest_last else pieces + new
        return pieces[max(0, len(pieces) - budget):] if nearest_last else pieces[:budget]

    # --- instances -----------------------------------------------------------------------------

    def text_to_instance(self, tokens: List[str], before: Sequence[Sequence[str]] = (),  # type: ignore[override]
                         after: Sequence[Sequence[str]] = ()) -> Instance:
        """An evaluation instance (all spans) for a tokenised sentence without gold; with a context
        window, the sentences `before` and `after` it in its document (token lists) are its context."""
        sentence = Sentence(tokens=list(tokens), entities=[], relations=[], source="input")
        return self._instance(self.encode(sentence, before, after), rng=None, token_indexers=self.token_indexers)

    def _instance(self, encoded: EncodedSentence, rng: Optional[random.Random],
                  token_indexers: Optional[Dict[str, PretrainedTransformerIndexer]]) -> Instance:
        metadata = _metadata(encoded.sentence, self.symmetric_relations)
        if encoded.target is not None:  # where the model finds the sentence in the window
            metadata["target_wordpieces"] = encoded.target
        fields: Dict[str, Field] = {
            "tokens": TextField(encoded.wordpieces, token_indexers),
            "metadata": MetadataField(metadata),
        }
        if self.bio_tags:
            fields.update(self._word_fields(encoded, training=rng is not None))
        else:
            fields.update(self._span_fields(encoded, rng))
        return Instance(fields)

    def _span_fields(self, encoded: EncodedSentence, rng: Optional[random.Random]) -> Dict[str, Field]:
        sentence = encoded.sentence
        gold_spans = _first_type_per_span(sentence)
        if rng is None:
            spans = self._all_spans(len(sentence.tokens))
        else:
            neighbours = self._boundary_neighbours(len(sentence.tokens), gold_spans)
            spans = list(gold_spans) + neighbours + self._negative_spans(
                len(sentence.tokens), set(gold_spans).union(neighbours), rng)
        fields: Dict[str, Field] = {
            "entity_spans": _span_tensor(spans),
            "entity_wordpiece_spans": _span_tensor(
                [(encoded.word_offsets[start][0], encoded.word_offsets[end - 1][1]) for start, end in spans]
            ),
        }
        if rng is not None:
            labels = [gold_spans.get(span, NO_ENTITY) for span in spans]
            fields["entity_labels"] = _list_field([LabelField(label, "entity_labels") for label in labels],
                                                  LabelField(NO_ENTITY, "entity_labels"))
            fields.update(self._relation_fields(sentence, list(gold_spans), rng))
        return fields

    def _word_fields(self, encoded: EncodedSentence, training: bool) -> Dict[str, Field]:
        """The BIO view: word starts and, in training, tags and multi-head selection targets."""
        sentence = encoded.sentence
        starts = torch.tensor([start for start, _ in encoded.word_offsets], dtype=torch.long)
        fields: Dict[str, Field] = {"word_starts": TensorField(starts, padding_value=-1)}
        if training:
            kept = flat_entities(sentence.entities)
            tags = bio_tags(kept, len(sentence.tokens))
            fields["bio_tags"] = _list_field([LabelField(tag, "bio_tags") for tag in tags],
                                             LabelField(NO_ENTITY, "bio_tags"))
            kept_mentions = {(entity.start, entity.end, entity.type) for entity in kept}
            labels, _ = self._positive_pairs(
                sentence, lambda head, tail: (head[1] - 1, tail[1] - 1)  # the entities' last words
                if head in kept_mentions and tail in kept_mentions else None)
            fields.update(_pair_fields(list(labels), labels))
        return fields

    def _all_spans(self, num_words: int) -> List[Span]:
        return [
            (start, end)
            for start in range(num_words)
            for end in range(start + 1, min(num_words, start + self.max_span_size) + 1)
        ]

    def _negative_spans(self, num_words: int, taken: Collection[Span], rng: random.Random) -> List[Span]:
        candidates = [span for span in self._all_spans(num_words) if span not in taken]
        return rng.sample(candidates, min(self.neg_entity_count, len(candidates)))

    def _boundary_neighbours(self, num_words: int, gold: Dict[Span, str]) -> List[Span]:
        """The non-gold spans within `boundary_neighbours` words of a gold span, in span order."""
        distance = self.boundary_neighbours
        if not distance:
            return []
        near = {(start + d_start, end + d_end)
                for start, end in gold
                for d_start in range(-distance, distance + 1)
                for d_end in range(-(distance - abs(d_start)), distance - abs(d_start) + 1)}
        return sorted(span for span in near if span not in gold and 0 <= span[0] < span[1] <= num_words
                      and span[1] - span[0] <= self.max_span_size)

    def _relation_fields(self, sentence: Sentence, entity_spans: List[Span], rng: random.Random):
        """Positive pairs and sampled unrelated pairs, as indices into the entity candidates (the
        gold entities come first among them)."""
        index = {span: position for position, span in enumerate(entity_spans)}
        labels, left_out = self._positive_pairs(sentence, lambda head, tail: (index[head[:2]], index[tail[:2]]))
        unrelated = [pair for pair in itertools.permutations(range(len(entity_spans)), 2)
                     if pair not in labels and pair not in left_out]
        pairs = list(labels) + rng.sample(unrelated, min(self.neg_relation_count, len(unrelated)))
        return _pair_fields(pairs, labels)

    def _positive_pairs(self, sentence: Sentence, pair_of: Callable[[Mention, Mention], Optional[Pair]]):
        """The gold relations' types by pair, `pair_of(head, tail)` of their mentions in canonical
        order (None leaves a relation out), with the reverses of symmetric ones as
        `symmetric_reverse` says; and the reverses left out of the negatives."""
        labels: Dict[Pair, set] = {}
        left_out = set()  # reverses of symmetric relations that are neither positives nor negatives
        for relation in sentence.relations:
            head, tail = canonical_relation(*_mentions(sentence, relation), relation.type, self.symmetric_relations)
            pair = pair_of(head, tail)
            if pair is None:
                continue
            labels.setdefault(pair, set()).add(relation.type)
            if relation.type in self.symmetric_relations:
                if self.symmetric_reverse == "positive":
                    labels.setdefault(pair[::-1], set()).add(relation.type)
                elif self.symmetric_reverse == "left_out":
                    left_out.add(pair[::-1])
                # "negative": the reverse stays an unrelated pair, which may be sampled as a negative.
        return labels, left_out


def _pair_fields(pairs: List[Pair], labels: Dict[Pair, set]) -> Dict[str, Field]:
    empty = MultiLabelField([], label_namespace="relation_labels")
    return {
        "relation_pairs": TensorField(torch.tensor(pairs, dtype=torch.long).view(-1, 2), padding_value=-1),
        "relation_labels": _list_field(
            [MultiLabelField(sorted(labels.get(pair, ())), label_namespace="relation_labels") for pair in pairs],
            empty,
        ),
    }


def _warn_unrepresentable(file_path: str, sentences: List[Sentence], training: bool) -> None:
    """Counts the gold entities and relations that BIO tags cannot hold, once per file."""
    entities = relations = dropped_entities = dropped_relations = 0
    for sentence in sentences:
        kept = set(flat_entities(sentence.entities))
        entities += len(set(sentence.entities))
        dropped_entities += len(set(sentence.entities) - kept)
        relations += len(sentence.relations)
        dropped_relations += sum(1 for relation in sentence.relations
                                 if not {sentence.entities[relation.head], sentence.entities[relation.tail]} <= kept)
    if dropped_entities:
        consequence = "left out of the training targets" if training else "a tagger cannot predict them"
        logger.warning("%s: %d of %d gold entities overlap or nest in another and cannot be BIO tags, and %d of %d "
                       "relations involve them: %s; they stay gold for the metric",
                       file_path, dropped_entities, entities, dropped_relations, relations, consequence)


def split_context(budget: int, left_available: int, right_available: int) -> Tuple[int, int]:
    """How many context wordpieces to take before and after a sentence: half the `budget` on each
    side (the odd one after it), and what one side lacks taken from the other (PURE's and
    PL-Marker's split)."""
    left = min(left_available, budget // 2)
    right = min(right_available, budget - left)
    return min(left_available, budget - right), right


def _first_type_per_span(sentence: Sentence) -> Dict[Span, str]:
    """Gold entities by span; a span annotated twice keeps its first type (one label per candidate)."""
    spans: Dict[Span, str] = {}
    for entity in sentence.entities:
        spans.setdefault((entity.start, entity.end), entity.type)
    return spans


def _mentions(sentence: Sentence, relation: Relation) -> Tuple[Mention, Mention]:
    """The relation's head and tail as (start, end, type)."""
    head, tail = sentence.entities[relation.head], sentence.entities[relation.tail]
    return (head.start, head.end, head.type), (tail.start, tail.end, tail.type)


def _metadata(sentence: Sentence, symmetric: FrozenSet[str]) -> Dict:
    def triple(relation: Relation) -> Tuple[Mention, Mention, str]:
        return (*canonical_relation(*_mentions(sentence, relation), relation.type, symmetric), relation.type)

    return {
        "tokens": sentence.tokens,
        "doc_key": sentence.doc_key,
        "sentence_index": sentence.sentence_index,
        "source": sentence.source,
        "gold_entities": sorted({(e.start, e.end, e.type) for e in sentence.entities}),
        "gold_relations": sorted({triple(relation) for relation in sentence.relations}),
    }


def _span_tensor(spans: Sequence[Span]) -> TensorField:
    return TensorField(torch.tensor(spans, dtype=torch.long).view(-1, 2), padding_value=-1)


def _list_field(fields: List[Field], example: Field) -> ListField:
    # AllenNLP cannot build a ListField from nothing; an empty one is the example's empty field.
    return ListField(fields) if fields else ListField([example]).empty_field()
