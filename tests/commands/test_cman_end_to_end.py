"""A CMAN run goes through the library's commands as SINET's does: `sinet-experiment` trains and
evaluates it into the prediction format; the predictor, `sinet-extract`, `Extractor`,
`allennlp evaluate` and `sinet-significance` work on its archive."""
import json
import sys

import pytest
from allennlp.commands import main
from allennlp.commands.evaluate import evaluate_from_archive
from allennlp.models.archival import load_archive
from allennlp.predictors import Predictor

from conftest import CMAN_CONFIG, FIXTURE_DATA, archive_with_weights
from sinet_allen import Extractor
from sinet_allen.metrics import JointIEF1
from sinet_allen.predictors.decoding_options import DecodingOptions, OptionError
from sinet_allen.predictors.extraction import load_predictor
from sinet_allen.predictors.prediction_format import read_predictions, triples
from sinet_allen.predictors.sinet_predictor import SinetPredictor

TEST_FILE = FIXTURE_DATA / "spert" / "test.json"
SYMMETRIC = ["Compare", "Conjunction"]


def run_allennlp(*arguments) -> int:
    """An allennlp command in this process; its exit status."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", ["allennlp", *map(str, arguments)])
        try:
            main()
        except SystemExit as exit:
            return exit.code
    return 0


@pytest.fixture(scope="module")
def cman_run(tmp_path_factory):
    """One seed of the CMAN fixture config, one epoch, through the experiment runner."""
    output = tmp_path_factory.mktemp("cman_runs")
    assert run_allennlp("sinet-experiment", CMAN_CONFIG, "--seeds", "1", "--output-dir", output,
                        "-o", '{"trainer.num_epochs": 1}', "--cuda-device", "-1") == 0
    return output / "cman_fixture" / "seed1"


@pytest.fixture(scope="module")
def eager_cman(cman_run, tmp_path_factory):
    """The run's archive with a model that tags every word B-Method and relates every pair of
    entities by Used-for (the barely trained model finds nothing)."""
    def eager(weights, vocabulary):
        weights["tagger.bias"][vocabulary.get_token_index("B-Method", "bio_tags")] = 100.0
        weights["selection.bias"][vocabulary.get_token_index("Used-for", "relation_labels")] = 100.0

    return archive_with_weights(cman_run / "model.tar.gz", tmp_path_factory.mktemp("eager_cman"), eager)


def test_the_runner_writes_metrics_and_predictions_that_reproduce_them(cman_run):
    metrics = json.loads((cman_run / "test_metrics.json").read_text())
    records = read_predictions(cman_run / "test_predictions.jsonl")
    assert [record["tokens"] for record in records] == [s["tokens"] for s in json.loads(TEST_FILE.read_text())]
    # Every gold entity is in the file, the nested ones that BIO cannot hold included.
    assert sum(len(record["gold_entities"]) for record in records) == 10
    metric = JointIEF1(symmetric_relations=SYMMETRIC)
    predicted, gold = zip(*map(triples, records))
    metric(list(predicted), list(gold))
    keys = [f"{task}_{kind}" for task in ("ent", "rel", "rel_strict") for kind in ("f1", "macro_f1")]
    assert {key: metric.get_metric()[key] for key in keys} == pytest.approx({key: metrics[key] for key in keys})
    assert "| cman_fixture |" in (cman_run.parent.parent / "results_test.md").read_text()


def test_the_predictor_gives_the_prediction_format_for_raw_text(eager_cman):
    predictor = Predictor.from_archive(load_archive(str(eager_cman)))  # the model's default predictor
    assert isinstance(predictor, SinetPredictor)
    text = "We train a tagger ."
    result = predictor.predict_json({"id": 7, "sentence": text})
    assert list(result) == ["id", "text", "tokens", "entities", "relations"] and result["id"] == 7
    assert result["text"] == text  # raw text keeps its characters (predictions back to brat)
    assert [(e["type"], e["text"], text[e["char_start"] : e["char_end"]]) for e in result["entities"]] == [
        ("Method", word, word) for word in text.split()]
    assert all(0.0 < e["score"] <= 1.0 for e in result["entities"])
    pairs = {(r["head"], r["tail"]) for r in result["relations"] if r["type"] == "Used-for"}
    assert pairs == {(h, t) for h in range(5) for t in range(5) if h != t}


def test_the_predictor_gives_the_encoders_attention_on_request(eager_cman):
    predictor = Predictor.from_archive(load_archive(str(eager_cman)), extra_args={"attention": True})
    result = predictor.predict_json({"sentences": [["We", "train", "a", "tagger", "."], [], ["It", "works"]]})
    first, empty, last = result["attention"]
    assert len(first["encoder"]) == 5 and empty is None and len(last["encoder"]) == 2
    assert 0 < sum(first["encoder"]) <= 1
    assert "ner" not in first and "re" not in first and "CTAM" in first["note"]


def test_sinet_extract_and_the_extractor_on_a_cman_archive(eager_cman, tmp_path):
    source = tmp_path / "input.jsonl"
    source.write_text('{"document": "We train a tagger. It works."}\n{"tokens": ["A", "test"]}\n')
    output = tmp_path / "output.jsonl"
    assert run_allennlp("sinet-extract", eager_cman, source, "--output-file", output) == 0
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert [line["sentences"] for line in lines[:1]] == [[[0, 5], [5, 8]]]
    assert [len(line["entities"]) for line in lines] == [8, 2]
    extracted = Extractor.from_archive(eager_cman, inference_precision="bfloat16").extract("We train a tagger.")
    assert [entity["text"] for entity in extracted["entities"]] == ["We", "train", "a", "tagger", "."]


def test_cman_decodes_flat_entities_and_takes_the_other_decoding_options(eager_cman):
    predictor = load_predictor(eager_cman)
    item = {"sentence": "We train a tagger."}
    assert predictor.predict_batch_json([item], decoding=DecodingOptions(overlapping_entities=False)) == \
        predictor.predict_batch_json([item])
    with pytest.raises(OptionError, match="tags words and decodes flat entities only"):
        predictor.predict_batch_json([item], decoding=DecodingOptions(overlapping_entities=True))
    assert predictor.predict_json({**item, "decoding": {"relation_threshold": 1.0}})["relations"] == []
    long_result = predictor.predict_json({"sentence": " ".join(["tagger"] * 600)})  # over the encoder's limit
    assert "error" not in long_result and len(long_result["tokens"]) == 600


def test_evaluate_and_significance_compare_two_cman_models(cman_run, eager_cman, tmp_path, capsys):
    eager_predictions = tmp_path / "eager.jsonl"
    evaluate_from_archive(str(eager_cman), str(TEST_FILE), predictions_output_file=str(eager_predictions))
    capsys.readouterr()
    assert run_allennlp("sinet-significance", cman_run / "test_predictions.jsonl", eager_predictions,
                        "--samples", "200") == 0
    printed = capsys.readouterr().out
    # The symmetric types come from the run's config.json, written by the runner.
    assert "Symmetric relation types: Compare, Conjunction (from " in printed
    assert "Paired bootstrap, 4 sentences, 200 resamples" in printed
