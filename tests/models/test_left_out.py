"""What the model's limits leave out of evaluation is counted in the metrics and warned about
once: entities beyond `max_relation_entities` (left out of relation scoring) and gold entities
wider than the reader's `max_span_size` (no candidate can match them)."""
import json
import logging

from allennlp.commands.evaluate import evaluate_from_archive

from conftest import FIXTURE_DATA

TEST_FILE = FIXTURE_DATA / "spert" / "test.json"
MAX_SPAN_SIZE, MAX_ENTITIES = 2, 5


def expected_counts(max_span_size=MAX_SPAN_SIZE):
    """From the data alone, for a model that calls every candidate span an entity."""
    sentences = json.loads(TEST_FILE.read_text())
    beyond = too_wide = 0
    for sentence in sentences:
        n = len(sentence["tokens"])
        candidates = sum(min(max_span_size, n - start) for start in range(n))
        beyond += max(0, candidates - MAX_ENTITIES)
        too_wide += sum(1 for e in sentence["entities"] if e["end"] - e["start"] > max_span_size)
    return beyond, too_wide


def test_capped_entities_and_too_wide_gold_are_counted_and_warned_about_once(eager_archive, caplog):
    beyond, too_wide = expected_counts()
    assert beyond > 0 and too_wide > 0  # the fixture exercises both limits
    overrides = {"model.max_relation_entities": MAX_ENTITIES,
                 "validation_dataset_reader.max_span_size": MAX_SPAN_SIZE}
    with caplog.at_level(logging.WARNING, logger="sinet_allen"):
        metrics = evaluate_from_archive(eager_archive, str(TEST_FILE), cmd_overrides=overrides)
    assert metrics["entities_beyond_max_relation_entities"] == beyond
    assert metrics["gold_entities_wider_than_max_span_size"] == too_wide
    warnings = [record.getMessage() for record in caplog.records]
    for name in ("entities_beyond_max_relation_entities", "gold_entities_wider_than_max_span_size"):
        assert sum(f"reported as the metric {name};" in warning for warning in warnings) == 1


def test_the_configs_limits_leave_out_the_widest_gold(fixture_archive):
    metrics = evaluate_from_archive(fixture_archive, str(TEST_FILE))
    assert metrics["gold_entities_wider_than_max_span_size"] == expected_counts(max_span_size=8)[1] == 1
    assert metrics["entities_beyond_max_relation_entities"] == 0  # at most 84 candidates, 100 scored
