"""The `joint_ie` reader: training candidates (gold plus sampled negatives), evaluation candidates
(all spans), reproducible sampling, complete gold in the metadata, wordpiece alignment, over-long
sentences, the same gold from SpERT- and DyGIE-style files (fixtures and, when present, the
real SciERC test set), and the three treatments of the reverse of a symmetric relation."""
import json
import logging

import pytest
from allennlp.data import Batch, Vocabulary

from conftest import FIXTURE_DATA, TINY_BERT, require_real_data
from allennlp.common.checks import ConfigurationError
from allennlp.common import Params

from sinet_allen.dataset_readers.formats import load_types, read_sentences
from sinet_allen.schema import FormatError
from sinet_allen.dataset_readers.joint_ie import JointIEReader
from sinet_allen.schema import NO_ENTITY

SPERT = FIXTURE_DATA / "spert"
DYGIE = FIXTURE_DATA / "dygie"
ACE_LIKE = FIXTURE_DATA / "ace_like"  # ACE05-style DyGIE lines without a types file; PER-SOC is symmetric
TYPES = SPERT / "types.json"
SYMMETRIC = load_types(TYPES).symmetric
SPLITS = ("train", "dev", "test")


def reader(**kwargs) -> JointIEReader:
    kwargs.setdefault("types_file", str(TYPES))
    kwargs.setdefault("symmetric_relations", sorted(SYMMETRIC) if kwargs["types_file"] else [])
    return JointIEReader(transformer_model=str(TINY_BERT), **kwargs)


def sentences(path, types=TYPES):
    return list(read_sentences(path, types=load_types(types) if types else None))


def spans_of(instance):
    return [tuple(span) for span in instance["entity_spans"].tensor.tolist()]


def entity_labels(instance):
    labels = [field.label for field in instance["entity_labels"].field_list]
    return labels[: len(spans_of(instance))]  # an empty list field holds one padding label


def relation_pairs(instance):
    pairs = [tuple(pair) for pair in instance["relation_pairs"].tensor.tolist()]
    labels = [set(field.labels) for field in instance["relation_labels"].field_list][: len(pairs)]
    return pairs, labels


def all_spans(num_words, max_width):
    return {(i, j) for i in range(num_words) for j in range(i + 1, min(num_words, i + max_width) + 1)}


def expected_span_count(n, k):
    """Spans of width <= k over n words: n*k - k(k-1)/2 when n >= k, else n(n+1)/2."""
    return n * k - k * (k - 1) // 2 if n >= k else n * (n + 1) // 2


def gold_relation_labels(sentence):
    """Gold (head span, tail span) -> types, symmetric types in both orders."""
    expected = {}
    for relation in sentence.relations:
        head, tail = sentence.entities[relation.head], sentence.entities[relation.tail]
        pair = ((head.start, head.end), (tail.start, tail.end))
        expected.setdefault(pair, set()).add(relation.type)
        if relation.type in SYMMETRIC:
            expected.setdefault(pair[::-1], set()).add(relation.type)
    return expected


def candidates(instances):
    """What the sampling chose, per instance: entity spans and relation pairs, in order."""
    return [(spans_of(i), relation_pairs(i)[0]) for i in instances]


# --- training instances ----------------------------------------------------------------------

@pytest.mark.parametrize("max_span_size, neg_entities, neg_relations", [(8, 5, 3), (3, 100, 100), (2, 0, 0)])
def test_training_instances(max_span_size, neg_entities, neg_relations):
    # "positive" (not the default) so that both orders of a symmetric relation are positives here.
    training = reader(training_instances=True, max_span_size=max_span_size, symmetric_reverse="positive",
                      neg_entity_count=neg_entities, neg_relation_count=neg_relations)
    gold_sentences = sentences(SPERT / "train.json")
    instances = list(training.read(str(SPERT / "train.json")))
    assert len(instances) == len(gold_sentences) == 10
    symmetric_seen = 0
    for sentence, instance in zip(gold_sentences, instances):
        n = len(sentence.tokens)
        gold = {}
        for entity in sentence.entities:
            gold.setdefault((entity.start, entity.end), entity.type)  # first type per span
        spans, labels = spans_of(instance), entity_labels(instance)
        assert len(spans) == len(set(spans)) == len(labels)
        # Every gold entity is a candidate, wider than max_span_size or not, first, with its type.
        assert spans[: len(gold)] == list(gold)
        assert labels[: len(gold)] == list(gold.values())
        negatives = spans[len(gold):]
        assert all(label == NO_ENTITY for label in labels[len(gold):])
        assert not set(negatives) & set(gold)
        assert set(negatives) <= all_spans(n, max_span_size)  # within the sentence, width <= k
        assert len(negatives) == min(neg_entities, len(all_spans(n, max_span_size) - set(gold)))

        pairs, pair_labels = relation_pairs(instance)
        assert len(pairs) == len(set(pairs)) == len(pair_labels)
        assert all(head != tail and 0 <= head < len(gold) and 0 <= tail < len(gold) for head, tail in pairs)
        as_spans = {(spans[head], spans[tail]): labels for (head, tail), labels in zip(pairs, pair_labels)}
        expected = gold_relation_labels(sentence)
        # The positive pairs are exactly the gold relations, symmetric ones in both orders.
        assert {pair: labels for pair, labels in as_spans.items() if labels} == expected
        symmetric_seen += sum(1 for labels in expected.values() if labels & SYMMETRIC)
        unrelated = len(gold) * (len(gold) - 1) - len(expected)
        assert sum(1 for labels in pair_labels if not labels) == min(neg_relations, unrelated)
    assert symmetric_seen >= 4  # the fixture's Conjunction and Compare, each in both orders


def test_training_instances_index_into_a_vocabulary_and_batch():
    instances = list(reader(training_instances=True).read(str(SPERT / "train.json")))
    vocabulary = Vocabulary.from_instances(instances)
    assert set(vocabulary.get_token_to_index_vocabulary("entity_labels")) == {
        NO_ENTITY, "Task", "Method", "Metric", "Material", "OtherScientificTerm", "Generic"}
    batch = Batch(instances)
    batch.index_instances(vocabulary)
    tensors = batch.as_tensor_dict()
    assert tensors["entity_spans"].shape[:2] == tensors["entity_labels"].shape
    assert tensors["relation_pairs"].shape[:2] == tensors["relation_labels"].shape[:2]


# --- evaluation instances --------------------------------------------------------------------

@pytest.mark.parametrize("max_span_size", [1, 3, 8])
def test_evaluation_instances_hold_exactly_all_short_spans(max_span_size):
    evaluation = reader(max_span_size=max_span_size)
    for split in SPLITS:
        for sentence, instance in zip(sentences(SPERT / f"{split}.json"),
                                      evaluation.read(str(SPERT / f"{split}.json"))):
            n, spans = len(sentence.tokens), spans_of(instance)
            assert len(spans) == len(set(spans)) == expected_span_count(n, max_span_size)
            assert set(spans) == all_spans(n, max_span_size)
            assert not {"entity_labels", "relation_pairs", "relation_labels"} & set(instance.fields)


def test_evaluation_instances_do_not_change_between_passes():
    evaluation = reader()
    first = [spans_of(instance) for instance in evaluation.read(str(SPERT / "dev.json"))]
    assert [spans_of(instance) for instance in evaluation.read(str(SPERT / "dev.json"))] == first


def test_metadata_keeps_the_complete_gold():
    wide = 0
    for mode in (dict(), dict(training_instances=True)):
        instances = list(reader(max_span_size=3, **mode).read(str(SPERT / "train.json")))
        for sentence, instance in zip(sentences(SPERT / "train.json"), instances):
            metadata = instance["metadata"].metadata
            mention = {index: (e.start, e.end, e.type) for index, e in enumerate(sentence.entities)}
            assert metadata["tokens"] == sentence.tokens
            assert metadata["gold_entities"] == sorted(set(mention.values()))
            expected_relations = set()
            for relation in sentence.relations:
                head, tail = mention[relation.head], mention[relation.tail]
                if relation.type in SYMMETRIC and tail < head:
                    head, tail = tail, head
                expected_relations.add((head, tail, relation.type))
            assert metadata["gold_relations"] == sorted(expected_relations)
            # Entities wider than max_span_size are in the gold, though no evaluation candidate.
            for start, end, _ in metadata["gold_entities"]:
                if end - start > 3:
                    wide += 1
                    assert ((start, end) in spans_of(instance)) == bool(mode)
    assert wide >= 2


# --- reproducible sampling -------------------------------------------------------------------

def test_negatives_are_reproducible_and_fresh_per_pass():
    path = str(SPERT / "train.json")

    def sampler(seed):
        return reader(training_instances=True, seed=seed, neg_entity_count=5, neg_relation_count=2)

    first = sampler(seed=1)
    first_pass = candidates(first.read(path))
    assert candidates(sampler(seed=1).read(path)) == first_pass  # same seed, same candidates
    assert candidates(first.read(path)) != first_pass  # a second pass draws new negatives
    assert candidates(sampler(seed=2).read(path)) != first_pass  # another seed, other negatives
    # Only the negatives change: the gold part of every instance stays.
    gold_counts = [len({(e.start, e.end) for e in s.entities}) for s in sentences(path)]
    for (spans, _), (other, _), count in zip(first_pass, candidates(sampler(seed=2).read(path)), gold_counts):
        assert spans[:count] == other[:count]


# --- wordpieces ------------------------------------------------------------------------------

def word_offsets(instance):
    """Each word's [start, end) wordpieces, from the width-1 candidates."""
    by_span = dict(zip(spans_of(instance), map(tuple, instance["entity_wordpiece_spans"].tensor.tolist())))
    return [by_span[(i, i + 1)] for i in range(len(instance["metadata"].metadata["tokens"]))], by_span


def test_each_words_wordpieces_decode_back_to_the_word():
    evaluation = reader(max_span_size=4)
    tokens = ["The", "transition-based", "parser", "(", "F1-score", ")", "outperforms",
              "unseenwords", "like", "Xylophones", "."]
    instances = [evaluation.text_to_instance(tokens)]
    instances += [i for split in SPLITS for i in evaluation.read(str(SPERT / f"{split}.json"))]
    for instance in instances:
        words = instance["metadata"].metadata["tokens"]
        pieces = [token.text for token in instance["tokens"].tokens]
        assert pieces[0] == "[CLS]" and pieces[-1] == "[SEP]"
        offsets, by_span = word_offsets(instance)
        for word, (start, end) in zip(words, offsets):
            assert end > start
            decoded = "".join(piece[2:] if piece.startswith("##") else piece for piece in pieces[start:end])
            assert decoded == word
        # Consecutive, covering everything between [CLS] and [SEP].
        assert [start for start, _ in offsets] == ([1] + [end for _, end in offsets])[: len(offsets)]
        assert (offsets[-1][1] if offsets else 1) == len(pieces) - 1
        # A span's wordpieces run from its first word's first piece to its last word's last one.
        for (first, last), wordpieces in by_span.items():
            assert wordpieces == (offsets[first][0], offsets[last - 1][1])


def test_words_without_wordpieces_still_get_one():
    evaluation = reader()
    instance = evaluation.text_to_instance(["Zürich", "\u200b", " ", "model"])
    offsets, _ = word_offsets(instance)
    pieces = [token.text for token in instance["tokens"].tokens]
    assert all(end - start >= 1 for start, end in offsets)
    assert pieces[offsets[3][0]: offsets[3][1]] == ["model"]
    assert pieces[offsets[1][0]: offsets[1][1]] == ["[UNK]"]


# --- over-long and empty sentences -----------------------------------------------------------

@pytest.fixture
def long_file(tmp_path):
    records = [
        {"tokens": ["The", "model"], "entities": [{"type": "Method", "start": 1, "end": 2}], "relations": []},
        {"tokens": ["word"] * 600, "entities": [], "relations": []},
        {"tokens": ["text", "."], "entities": [], "relations": []},
    ]
    path = tmp_path / "long.json"
    path.write_text(json.dumps(records))
    return path


def test_an_over_long_sentence_is_an_error_that_names_it(long_file):
    with pytest.raises(FormatError) as error:
        list(reader(training_instances=True).read(str(long_file)))
    message = str(error.value)
    assert "long.json, record 1" in message
    assert "602 wordpieces" in message and "512" in message
    assert "split" in message and "strict" in message


def test_strict_false_skips_an_over_long_sentence_in_training_with_a_warning(long_file, caplog):
    with caplog.at_level(logging.WARNING, logger="sinet_allen"):
        instances = list(reader(strict=False, training_instances=True).read(str(long_file)))
    assert [i["metadata"].metadata["tokens"] for i in instances] == [["The", "model"], ["text", "."]]
    assert "long.json, record 1" in caplog.text and "skipped 1" in caplog.text


@pytest.mark.parametrize("records", [[], [{"tokens": ["word"] * 600}]])
def test_a_file_without_a_sentence_to_read_is_an_error(tmp_path, records):
    path = tmp_path / "nothing.json"
    path.write_text(json.dumps(records))
    with pytest.raises(FormatError, match="nothing.json: the file yields no sentence to read"):
        list(reader(strict=False, training_instances=True).read(str(path)))


@pytest.mark.parametrize("record, problem", [
    ({"tokens": ["word"] * 600, "entities": [{"type": "Task", "start": 0, "end": 1}]}, "602 wordpieces"),
    ({"tokens": ["a"], "entities": [{"type": "Nonsense", "start": 0, "end": 1}]}, "unknown entity type 'Nonsense'"),
])
def test_an_evaluation_reader_never_skips_a_sentence_and_its_gold(tmp_path, record, problem):
    path = tmp_path / "test.json"
    path.write_text(json.dumps([{"tokens": ["The", "model"], "entities": [], "relations": []},
                                {"relations": [], **record}]))
    with pytest.raises(FormatError, match=f"test.json, record 1.*{problem}"):
        list(reader(strict=False).read(str(path)))


def test_a_missing_types_file_says_where_it_was_looked_for(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # as `allennlp evaluate` of an archive whose config has a relative path
    with pytest.raises(FormatError, match=f"types_file 'data/types.json' not found \\(looked up from {tmp_path}\\);"
                                          ".*validation_dataset_reader.types_file"):
        list(reader(types_file="data/types.json").read(str(FIXTURE_DATA / "spert/test.json")))


def test_the_limit_is_configurable(long_file):
    assert len(list(reader(max_wordpieces=1000).read(str(long_file)))) == 3


def test_empty_sentence():
    for mode in (dict(), dict(training_instances=True)):
        instances = list(reader(**mode).read(str(SPERT / "train.json")))
        (empty,) = [i for i in instances if not i["metadata"].metadata["tokens"]]
        assert [t.text for t in empty["tokens"].tokens] == ["[CLS]", "[SEP]"]
        assert spans_of(empty) == []
        assert empty["metadata"].metadata["gold_entities"] == []
        if mode:
            assert relation_pairs(empty)[0] == [] and entity_labels(empty) == []
        vocabulary = Vocabulary.from_instances(instances)
        batch = Batch([empty] + instances[:2])
        batch.index_instances(vocabulary)
        assert batch.as_tensor_dict()["entity_spans"][0].eq(-1).all()
    assert spans_of(reader().text_to_instance([])) == []


# --- the two formats -------------------------------------------------------------------------

def gold_per_sentence(instances):
    return [{key: instance["metadata"].metadata[key] for key in ("tokens", "gold_entities", "gold_relations")}
            for instance in instances]


@pytest.mark.parametrize("split", SPLITS)
def test_spert_and_dygie_fixtures_give_the_same_gold(split):
    evaluation = reader()
    spert = gold_per_sentence(evaluation.read(str(SPERT / f"{split}.json")))
    dygie = gold_per_sentence(evaluation.read(str(DYGIE / f"{split}.jsonl")))
    assert len(spert) == len(dygie) > 0
    assert spert == dygie
    assert any(sentence["gold_relations"] for sentence in spert)


def test_real_scierc_test_set_in_both_formats():
    root = require_real_data("scierc/types.json", "scierc/test.json", "scierc_dygie/test.jsonl")
    # The tiny fixture BERT splits unknown words into characters, so lift the wordpiece limit:
    # only the reading and the gold are checked here, no encoder runs.
    evaluation = reader(types_file=str(root / "scierc/types.json"), max_wordpieces=100_000)
    spert = gold_per_sentence(evaluation.read(str(root / "scierc/test.json")))
    dygie = gold_per_sentence(evaluation.read(str(root / "scierc_dygie/test.jsonl")))
    for gold in (spert, dygie):
        assert len(gold) == 551
        assert sum(len(sentence["gold_entities"]) for sentence in gold) == 1685
        assert sum(len(sentence["gold_relations"]) for sentence in gold) == 974
    for index, (first, second) in enumerate(zip(spert, dygie)):
        # The DyGIE release writes brackets as PTB escapes (-LRB-, -RSB-, ...): same words, other
        # strings, so the tokens are compared by count and the gold (word offsets) exactly.
        assert len(first.pop("tokens")) == len(second.pop("tokens")), f"sentence {index}"
        assert first == second, f"sentence {index} differs"


# --- the reverse of a symmetric relation ----------------------------------------------------

def pairs_by_span(instance):
    """The relation candidates as (head span, tail span) -> labels (empty for a negative)."""
    spans = spans_of(instance)
    pairs, pair_labels = relation_pairs(instance)
    return {(spans[head], spans[tail]): labels for (head, tail), labels in zip(pairs, pair_labels)}


def canonical_gold(sentence, symmetric):
    """Gold (head span, tail span) -> types, a symmetric relation head before tail only, written out
    here rather than through `canonical_relation`, so that the reader is checked against it."""
    gold = {}
    for relation in sentence.relations:
        head, tail = sentence.entities[relation.head], sentence.entities[relation.tail]
        head, tail = (head.start, head.end, head.type), (tail.start, tail.end, tail.type)
        if relation.type in symmetric and tail < head:
            head, tail = tail, head
        gold.setdefault((head[:2], tail[:2]), set()).add(relation.type)
    return gold


SAMPLES = {  # (data file, types file, symmetric types) of the two fixtures with symmetric relations
    "scierc-like": (SPERT / "train.json", TYPES, sorted(SYMMETRIC)),
    "ace-like": (ACE_LIKE / "train.jsonl", None, ["PER-SOC"]),
}


@pytest.mark.parametrize("data", sorted(SAMPLES))
@pytest.mark.parametrize("treatment", ["positive", "left_out", "negative"])
def test_the_reverse_of_a_symmetric_relation_is_treated_as_configured(data, treatment):
    path, types, symmetric = SAMPLES[data]
    # Room for every unrelated pair, so that "may be sampled" becomes "is sampled".
    training = reader(training_instances=True, neg_relation_count=10_000, types_file=types and str(types),
                      symmetric_relations=symmetric, symmetric_reverse=treatment)
    reverses_seen = 0
    for sentence, instance in zip(sentences(path, types), training.read(str(path))):
        candidates = pairs_by_span(instance)
        positives = {pair: labels for pair, labels in candidates.items() if labels}
        negatives = {pair for pair, labels in candidates.items() if not labels}
        gold = canonical_gold(sentence, symmetric)
        # The reverses that are no gold pair themselves.
        reverses = {pair[::-1] for pair, labels in gold.items() if labels & set(symmetric)} - set(gold)
        if treatment == "positive":  # the canonical pair and its reverse carry the symmetric types
            expected = {pair: set(labels) for pair, labels in gold.items()}
            for pair, labels in gold.items():
                if labels & set(symmetric):
                    expected.setdefault(pair[::-1], set()).update(labels & set(symmetric))
            assert positives == expected
        else:
            assert positives == gold
        if treatment == "negative":
            assert reverses <= negatives
        else:
            assert not reverses & negatives
        # Every other ordered pair of distinct gold spans is a negative.
        spans = {(e.start, e.end) for e in sentence.entities}
        assert {(a, b) for a in spans for b in spans if a != b} - set(positives) - reverses <= negatives
        reverses_seen += len(reverses)
    assert reverses_seen >= 2


def test_the_ace_like_gold_is_stored_in_canonical_order():
    """Without a types file the reader still knows PER-SOC from its symmetric_relations: the
    fixture writes one PER-SOC relation tail first, and the metadata stores it head first."""
    evaluation = reader(types_file=None, symmetric_relations=["PER-SOC"])
    relations = [relation for instance in evaluation.read(str(ACE_LIKE / "train.jsonl"))
                 for relation in instance["metadata"].metadata["gold_relations"]]
    assert ((0, 2, "PER"), (4, 5, "PER"), "PER-SOC") in relations  # written as (wife, John Smith)
    directed = reader(types_file=None).read(str(ACE_LIKE / "train.jsonl"))
    assert ((4, 5, "PER"), (0, 2, "PER"), "PER-SOC") in [
        relation for instance in directed for relation in instance["metadata"].metadata["gold_relations"]]


@pytest.mark.parametrize("symmetric, problem", [
    (["Compare"], "relation type 'Conjunction' is marked symmetric, but the reader's symmetric_relations "
                  "do not name it"),
    (["Compare", "Conjunction", "Used-for"], "symmetric_relations name 'Used-for', but the types file does "
                                             "not mark it symmetric"),
    (["Compare", "Conjunction", "Synonym"], "symmetric_relations name 'Synonym', but the types file declares "
                                            "no such type"),
])
def test_the_types_files_symmetric_flags_must_agree_with_the_config(symmetric, problem):
    with pytest.raises(FormatError, match=f"{TYPES}: .*{problem}"):
        list(reader(symmetric_relations=symmetric).read(str(SPERT / "dev.json")))


def test_an_unknown_symmetric_reverse_is_a_configuration_error():
    with pytest.raises(ConfigurationError, match="symmetric_reverse must be one of positive, left_out, "
                                                 "negative, got 'drop'"):
        reader(symmetric_reverse="drop")


def test_the_readers_default_symmetric_reverse_is_the_configs():
    """A reader built by hand trains what the configs train: the reverse of a symmetric gold
    relation is an ordinary negative, not a second positive."""
    configured = JointIEReader.from_params(Params({
        "transformer_model": str(TINY_BERT), "types_file": str(TYPES), "symmetric_relations": sorted(SYMMETRIC)}))
    assert configured.symmetric_reverse == "negative"
    instances = list(reader(training_instances=True).read(str(SPERT / "train.json")))
    positives = [(spans_of(instance)[head], spans_of(instance)[tail], labels)
                 for instance in instances for (head, tail), labels in zip(*relation_pairs(instance)) if labels]
    symmetric = [(head, tail) for head, tail, labels in positives if labels & SYMMETRIC]
    assert symmetric and not {(tail, head) for head, tail in symmetric} & set(symmetric)
