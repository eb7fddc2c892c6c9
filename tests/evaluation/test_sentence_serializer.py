"""`allennlp evaluate --predictions-output-file` with the configs' `sinet` serializer: a line per
sentence, the same as `allennlp predict --use-dataset-reader`, holding what the metrics count."""
import json
import tarfile

import pytest
import torch
from allennlp.commands.evaluate import evaluate_from_archive
from allennlp.models.archival import load_archive
from allennlp.predictors import Predictor

from conftest import FIXTURE_DATA

TEST_FILE = FIXTURE_DATA / "spert" / "test.json"


@pytest.fixture(scope="module")
def eager_archive(fixture_archive, tmp_path_factory):
    """The fixture archive with a model that calls every span a Method (the barely trained model
    finds no entity), so that there are predictions to write and to count."""
    folder = tmp_path_factory.mktemp("eager_model")
    with tarfile.open(fixture_archive) as archive:
        archive.extractall(folder, filter="data")
    vocabulary = load_archive(str(fixture_archive)).model.vocab
    weights = torch.load(folder / "weights.th")
    weights["entity_classifier.bias"][vocabulary.get_token_index("Method", "entity_labels")] = 100.0
    torch.save(weights, folder / "weights.th")
    with tarfile.open(folder / "model.tar.gz", "w:gz") as archive:
        for name in ("config.json", "weights.th", "vocabulary", "meta.json"):
            archive.add(folder / name, arcname=name)
    return folder / "model.tar.gz"


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
    correct = sum(len({(e["start"], e["end"], e["type"]) for e in line["entities"]}
                      & {tuple(g) for g in line["gold_entities"]}) for line in lines)
    assert correct > 0
    assert 2 * correct / (predicted + gold) == pytest.approx(metrics["ent_f1"])
