"""The BIO view: encoding and decoding round-trip the representable gold, the documented rule for
what BIO cannot hold, and the `joint_ie` reader's `bio_tags` instances (tags, multi-head selection
targets at the entities' last words, complete gold, the counted warning)."""
import logging

import pytest
from allennlp.common.checks import ConfigurationError

from conftest import FIXTURE_DATA, TINY_BERT
from sinet_allen.dataset_readers.bio import bio_spans, bio_tags, flat_entities
from sinet_allen.dataset_readers.formats import load_types, read_sentences
from sinet_allen.schema import Entity
from sinet_allen.dataset_readers.joint_ie import JointIEReader

SPERT = FIXTURE_DATA / "spert"
TYPES = SPERT / "types.json"


def reader(**kwargs) -> JointIEReader:
    return JointIEReader(transformer_model=str(TINY_BERT), types_file=str(TYPES), bio_tags=True,
                         symmetric_relations=["Compare", "Conjunction"], **kwargs)


def triples(entities):
    return [(entity.start, entity.end, entity.type) for entity in entities]


@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_tags_round_trip_the_representable_gold(split):
    sentences = list(read_sentences(SPERT / f"{split}.json", types=load_types(TYPES)))
    for sentence in sentences:
        kept = flat_entities(sentence.entities)
        tags = bio_tags(kept, len(sentence.tokens))
        assert len(tags) == len(sentence.tokens)
        assert bio_spans(tags) == triples(kept)
    # The fixture has nested entities, and every entity of a sentence without any is kept.
    assert any(len(flat_entities(s.entities)) < len(s.entities) for s in sentences)


def test_adjacent_entities_of_one_type_stay_apart():
    entities = [Entity(0, 2, "Task"), Entity(2, 3, "Task"), Entity(4, 5, "Method")]
    tags = bio_tags(entities, 6)
    assert tags == ["B-Task", "I-Task", "B-Task", "O", "B-Method", "O"]
    assert bio_spans(tags) == triples(entities)


def test_the_rule_keeps_the_earlier_then_the_longer_entity():
    outer, inner = Entity(7, 13, "Task"), Entity(7, 10, "Task")
    assert flat_entities([inner, outer]) == [outer]  # nested: the outer one
    crossing = [Entity(3, 6, "Method"), Entity(5, 8, "Task")]
    assert flat_entities(crossing[::-1]) == crossing[:1]  # crossing: the one that starts first
    assert flat_entities([Entity(1, 2, "Task"), Entity(1, 2, "Method")]) == [Entity(1, 2, "Task")]  # the first type


def test_overlapping_entities_are_refused():
    with pytest.raises(ValueError, match="overlaps another entity"):
        bio_tags([Entity(0, 3, "Task"), Entity(2, 4, "Task")], 5)


def test_an_inside_tag_that_continues_nothing_starts_an_entity():
    assert bio_spans(["O", "I-Task", "I-Task", "B-Task", "I-Method"]) == [
        (1, 3, "Task"), (3, 4, "Task"), (4, 5, "Method")]


def test_training_instances_hold_tags_and_last_word_pairs_and_the_complete_gold(caplog):
    with caplog.at_level(logging.WARNING):
        instances = list(reader(training_instances=True).read(str(SPERT / "train.json")))
    assert "train.json: 5 of 27 gold entities overlap or nest in another" in caplog.text
    assert "left out of the training targets" in caplog.text
    first = instances[0]  # Method 3-6, Task 7-13 with Task 7-10 nested in it, Material 11-13
    assert [field.label for field in first["bio_tags"].field_list] == [
        "O", "O", "O", "B-Method", "I-Method", "I-Method", "O", "B-Task", "I-Task", "I-Task", "I-Task", "I-Task",
        "I-Task", "O"]
    assert (7, 10, "Task") in first["metadata"]["gold_entities"]  # still gold for the metric
    # Used-for from the Method to the Task: from word 5 to word 12, the entities' last words.
    assert first["relation_pairs"].tensor.tolist() == [[5, 12]]
    assert [field.labels for field in first["relation_labels"].field_list] == [["Used-for"]]
    # Each word starts at its first wordpiece, the first word right after [CLS].
    starts = first["word_starts"].tensor.tolist()
    assert starts[0] == 1 and starts == sorted(starts) and len(starts) == 14
    assert "entity_spans" not in first.fields


@pytest.mark.parametrize("treatment, pairs", [("positive", [[1, 5], [5, 1]]), ("negative", [[1, 5]])])
def test_symmetric_reverse_in_multi_head_selection(treatment, pairs):
    instance = list(reader(training_instances=True, symmetric_reverse=treatment).read(str(SPERT / "train.json")))[5]
    compare = [pair for pair, field in zip(instance["relation_pairs"].tensor.tolist(),
                                           instance["relation_labels"].field_list) if "Compare" in field.labels]
    assert compare == pairs  # Method 1-2 Compare Method 4-6, head first


def test_left_out_reverses_are_refused():
    with pytest.raises(ConfigurationError, match="every word pair is scored"):
        reader(symmetric_reverse="left_out")


def test_evaluation_instances_hold_no_targets(caplog):
    with caplog.at_level(logging.WARNING):
        instance = next(iter(reader().read(str(SPERT / "test.json"))))
    assert set(instance.fields) == {"tokens", "word_starts", "metadata"}
    assert "a tagger cannot predict them" in caplog.text
