"""`allennlp evaluate --predictions-output-file` with the configs' `sinet` serializer: a line per
sentence, the same as `allennlp predict --use-dataset-reader`, holding what the metrics count."""
import json

import pytest
from allennlp.commands.evaluate import evaluate_from_archive
from allennlp.models.archival import load_archive
from allennlp.predictors import Predictor

from conftest import FIXTURE_DATA

TEST_FILE = FIXTURE_DATA / "spert" / "test.json"


def test_evaluate_writes_a_line_per_sentence(eager_archive, tmp_path):
    predictions_file = tmp_path / "predictions.jsonl"
    metrics = evaluate_from_archive(eager_archive, str(TEST_FILE), predictions_output_file=str(predictions_file))
    lines = [json.loads(line) for line in predictions_file.read_text(encoding="utf-8").splitlines()]
    predictor = Predictor.from_archive(load_archive(str(eager_archive)))
    instances = list(predictor._dataset_reader.read(str(TEST_FILE)))
    # In the order of the evaluation's length buckets; `source` says where each sentence is from.
    by_source = lambda results: sorted(results, key=lambda result: result["source"])  # noqa: E731
    assert by_source(lines) == by_source(predictor.predict_batch_instance(instances))
    assert len(lines) == len(json.loads(TEST_FILE.read_text(encoding="utf-8")))
    # The lines hold what the metrics count: entity F1 recomputed from them is the reported one.
    predicted = sum(len(line["entities"]) for line in lines)
    gold = sum(len(line["gold_entities"]) for line in lines)
    spans = lambda entities: {(e["start"], e["end"], e["type"]) for e in entities}  # noqa: E731
    correct = sum(len(spans(line["entities"]) & spans(line["gold_entities"])) for line in lines)
    assert correct > 0
    assert 2 * correct / (predicted + gold) == pytest.approx(metrics["ent_f1"])
