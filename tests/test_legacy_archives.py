"""Archives written before the package was reorganised (2026-12-07: schema, formats, decoding and
renamed modules and reader options) still load and predict what they predicted then."""
import json

import pytest
from allennlp.models.archival import load_archive
from allennlp.predictors import Predictor

from conftest import FIXTURES

ARCHIVES = FIXTURES / "archives"


def predictions(lines):
    return [json.loads(line) for line in lines]


@pytest.mark.parametrize("model", ["sinet", "cman"])
def test_an_archive_from_before_the_renames_loads_and_predicts_as_it_did(model):
    archive = load_archive(str(ARCHIVES / f"{model}_2026-12-07.tar.gz"))
    assert archive.dataset_reader.training_instances  # the config's old key `negative_sampling: true`, read
    predictor = Predictor.from_archive(archive)
    inputs = [json.loads(line) for line in (ARCHIVES / "input.jsonl").read_text().splitlines()]
    recorded = predictions((ARCHIVES / f"{model}_2026-12-07.predictions.jsonl").read_text().splitlines())
    now = [json.loads(predictor.dump_line(output)) for output in predictor.predict_batch_json(inputs)]
    assert sum(len(record["entities"]) for record in recorded) > 0  # the fixtures predict something
    for old, new in zip(recorded, now, strict=True):
        assert new["tokens"] == old["tokens"]
        assert [(e["start"], e["end"], e["type"]) for e in new["entities"]] == \
               [(e["start"], e["end"], e["type"]) for e in old["entities"]]
        assert [e["score"] for e in new["entities"]] == pytest.approx([e["score"] for e in old["entities"]], abs=1e-3)
        assert [(r["head"], r["tail"], r["type"]) for r in new["relations"]] == \
               [(r["head"], r["tail"], r["type"]) for r in old["relations"]]
