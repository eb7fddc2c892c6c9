"""Length-bucketed batching (issue 37): sentences grouped by length within a bounded look-ahead, the
results in input order and byte-identical to predicting in input order (float32)."""
import json
import random

import pytest

from sinet_allen.predictors.extraction import extract_file, load_predictor

WORDS = ["hidden", "Markov", "models", "support", "vector", "machines", "parsing", "phrase-based", "tagging",
         "kernel", "methods", "neural", "networks", "are", "used", "for", "with", "the", "a", "CRFs"]


def ragged_lines(count: int, seed: int = 7):
    """JSON lines of sentences and documents from 1 to 60 words, with bad lines among them."""
    rng = random.Random(seed)
    lines = []
    for number in range(1, count + 1):
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 60))]
        if number % 17 == 0:
            lines.append('{"sentence": "x", "meta": ' + "[" * 5000 + "]" * 5000 + "}")
        elif number % 13 == 0:
            lines.append("{broken")
        elif number % 5 == 0:
            lines.append(json.dumps({"id": number, "document": " ".join(words[:30]) + ". " + " ".join(words[30:]) + "."}))
        else:
            lines.append(json.dumps({"id": number, "tokens": words}))
    return lines


@pytest.fixture(scope="module")
def predictors(fixture_archive):
    return load_predictor(fixture_archive), load_predictor(fixture_archive, bucketing=False)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    path = tmp_path_factory.mktemp("bucketing") / "ragged.jsonl"
    path.write_text("".join(line + "\n" for line in ragged_lines(70)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def in_input_order(predictors, source, tmp_path_factory):
    """The output of predicting one sentence after another, in input order."""
    output = tmp_path_factory.mktemp("order") / "out.jsonl"
    extract_file(predictors[1], source, output, batch_size=1, lookahead=1)
    return output.read_bytes()


@pytest.mark.parametrize("batch_size, lookahead", [(1, 256), (3, 7), (8, 256), (32, 16), (32, 256)])
def test_bucketed_output_is_byte_identical_to_input_order(predictors, source, in_input_order, tmp_path,
                                                          batch_size, lookahead):
    bucketed, unbucketed = tmp_path / "bucketed.jsonl", tmp_path / "unbucketed.jsonl"
    summary = extract_file(predictors[0], source, bucketed, batch_size=batch_size, lookahead=lookahead)
    extract_file(predictors[1], source, unbucketed, batch_size=batch_size, lookahead=lookahead)
    assert bucketed.read_bytes() == in_input_order
    assert unbucketed.read_bytes() == in_input_order
    results = [json.loads(line) for line in in_input_order.decode().splitlines()]
    assert [r.get("line") for r in results if "error" in r] == [13, 17, 26, 34, 39, 51, 52, 65, 68]
    assert [r["id"] for r in results if "error" not in r] == [n for n in range(1, 71) if n % 13 and n % 17]
    assert summary.failures == 9


def test_batches_are_grouped_by_length_within_the_lookahead(predictors, monkeypatch):
    predictor = predictors[0]
    passes = []
    forward = predictor._model.forward_on_instances
    monkeypatch.setattr(predictor._model, "forward_on_instances",
                        lambda instances: passes.append([len(i["tokens"]) for i in instances]) or forward(instances))
    items = [json.loads(line) for line in ragged_lines(40) if line.startswith('{"id"')]
    predictor.predict_batch_json(items, batch_size=8)
    lengths = [length for batch in passes for length in batch]
    assert lengths == sorted(lengths) and len(lengths) > 30
    assert all(len(batch) == 8 for batch in passes[:-1])
