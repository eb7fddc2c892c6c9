"""The reader's accuracy levers: boundary neighbours among the training candidates and context
dropout. Both off, the sampled stream is the snapshot's (tests/dataset_readers/test_context_window.py)."""
import pytest
from allennlp.common.checks import ConfigurationError

from conftest import FIXTURE_DATA, TINY_BERT
from sinet_allen.dataset_readers.formats import read_sentences
from sinet_allen.dataset_readers.joint_ie import JointIEReader

TYPES = FIXTURE_DATA / "spert" / "types.json"
SPERT = FIXTURE_DATA / "spert" / "train.json"
DYGIE = FIXTURE_DATA / "dygie" / "train.jsonl"


def reader(training_instances=True, **kwargs) -> JointIEReader:
    return JointIEReader(str(TINY_BERT), types_file=str(TYPES), symmetric_relations=["Compare", "Conjunction"],
                         training_instances=training_instances, **kwargs)


def spans_and_labels(instance):
    spans = [tuple(span) for span in instance["entity_spans"].tensor.tolist()]
    labels = [label.label for label in instance["entity_labels"].field_list]
    return spans, labels


@pytest.mark.parametrize("distance", [1, 2])
def test_every_span_near_a_gold_span_is_a_negative_candidate_beside_the_sampled_ones(distance):
    levered = list(reader(boundary_neighbours=distance, neg_entity_count=3, seed=5).read(str(SPERT)))
    for instance, sentence in zip(levered, read_sentences(str(SPERT))):
        spans, labels = spans_and_labels(instance)
        gold = {(e.start, e.end) for e in sentence.entities}
        near = {(s, e) for s in range(len(sentence.tokens)) for e in range(s + 1, min(len(sentence.tokens), s + 8) + 1)
                if (s, e) not in gold and any(abs(s - gs) + abs(e - ge) <= distance for gs, ge in gold)}
        assert near <= set(spans)
        assert all(label == "O" for span, label in zip(spans, labels) if span in near)
        assert len(spans) == len(set(spans)) == len(gold) + len(near) + min(3, sum(
            1 for s in range(len(sentence.tokens)) for e in range(s + 1, min(len(sentence.tokens), s + 8) + 1)
            if (s, e) not in gold | near))


def is_windowed(instance) -> bool:
    start, end = instance["metadata"].metadata["target_wordpieces"]
    return end - start + 2 < len(instance["tokens"])


def test_context_dropout_reads_the_configured_share_of_sentences_alone_the_same_for_a_seed():
    def shares(seed):
        sampler = reader(context_window=32, context_dropout=0.5, seed=seed, neg_entity_count=2)
        return [[is_windowed(instance) for instance in sampler.read(str(DYGIE))] for _ in range(8)]

    first = shares(seed=3)
    assert first == shares(seed=3)  # deterministic per seed
    assert first != shares(seed=4)
    windowable = [is_windowed(i) for i in reader(context_window=32, seed=3).read(str(DYGIE))]
    assert sum(windowable) >= 3  # the fixture documents do give windows
    alone = [not flag for passes in first for flag, can in zip(passes, windowable) if can]
    assert 0.3 < sum(alone) / len(alone) < 0.7  # about half, over 8 passes


def test_a_sentence_read_alone_is_the_sentence_level_instance():
    alone = reader(context_window=32, context_dropout=1.0, seed=3, neg_entity_count=0, neg_relation_count=0)
    sentence_level = reader(context_window=0, seed=3, neg_entity_count=0, neg_relation_count=0)
    for a, b in zip(alone.read(str(DYGIE)), sentence_level.read(str(DYGIE))):
        assert [t.text for t in a["tokens"].tokens] == [t.text for t in b["tokens"].tokens]
        assert a["entity_wordpiece_spans"].tensor.tolist() == b["entity_wordpiece_spans"].tensor.tolist()


def test_evaluation_instances_keep_their_window_under_context_dropout():
    evaluation = reader(training_instances=False, context_window=32, context_dropout=1.0)
    windowed = reader(training_instances=False, context_window=32)
    assert [is_windowed(i) for i in evaluation.read(str(DYGIE))] == [is_windowed(i) for i in windowed.read(str(DYGIE))]


@pytest.mark.parametrize("options, message", [
    ({"context_dropout": 0.5}, "context_dropout drops the context of a context_window"),
    ({"context_window": 8, "context_dropout": 1.5}, "context_dropout must be a share between 0 and 1"),
    ({"boundary_neighbours": -1}, "boundary_neighbours must be 0 or more"),
])
def test_lever_settings_that_mean_nothing_are_refused(options, message):
    with pytest.raises(ConfigurationError, match=message):
        reader(**options)
