"""scripts/benchmark_efficiency.py and benchmark_training.py on the fixture model and config."""
import importlib
import json
import os
import subprocess
import sys
import types

import pytest

import sinet_allen  # noqa: F401  (the config defaults and registrations that fixture_archive needs)
from conftest import FIXTURE_CONFIG, FIXTURE_DATA, REPO

SCRIPTS = REPO / "scripts"
DATA = FIXTURE_DATA / "spert" / "train.json"
# One thread: torch's worker threads, spinning against other processes on a busy machine, can make
# the tiny model hundreds of times slower.
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def load(name):
    """The script as a module; the training script imports the other from its folder."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(SCRIPTS))


efficiency, training = load("benchmark_efficiency"), load("benchmark_training")


def run(script, *args):
    """The script's command line in a fresh process, as a user runs it."""
    return subprocess.run([sys.executable, str(SCRIPTS / script), *map(str, args)], cwd=REPO, env=ENV,
                          capture_output=True, text=True)


def test_efficiency(fixture_archive, tmp_path):
    output = tmp_path / "out" / "efficiency.json"
    data = tmp_path / "six.json"
    data.write_text(json.dumps([sentence for sentence in json.loads(DATA.read_text()) if sentence["tokens"]][:6]))
    done = run("benchmark_efficiency.py", fixture_archive, data, "--batch-sizes", 1, 3,
               "--precisions", "float32", "bfloat16", "--long-sentence-words", 40, "--output", output)
    assert done.returncode == 0, done.stderr
    assert "float32 predictions identical across batch sizes: yes" in done.stdout
    report = json.loads(output.read_text())
    assert {"date", "command", "machine", "archive", "data_file", "batching"} <= set(report)
    assert report["machine"]["device"] == "cpu" and report["machine"]["torch_threads"] == 1
    assert report["differing_sentences"] == {"float32": 0, "bfloat16": 0}
    assert report["sentences"] == 6
    assert report["data_file"] == "<elsewhere>/six.json"  # no directory of this machine
    assert [(entry["precision"], entry["batch_size"], entry["batches"]) for entry in report["runs"]] == [
        ("float32", 1, 6), ("float32", 3, 2), ("bfloat16", 1, 6), ("bfloat16", 3, 2)]
    f1_figures = [figures["f1"] for figures in report["runs"]]
    assert f1_figures[0] == f1_figures[1] and f1_figures[2] == f1_figures[3]  # batching changes nothing
    for figures in report["runs"]:
        assert figures["prediction"]["sentences_per_second"] > 0
        assert figures["encoder"]["sentences_per_second"] > 0
        assert figures["prediction"]["rss_growth_mb"] >= 0 and figures["prediction"]["cuda_peak_mb"] is None
        flops = figures["flops_per_sentence"]
        assert flops["prediction"] > flops["encoder"] > 0
        assert not {"predictions", "machine"} & set(figures)
    probe = report["long_sentence"]
    assert probe["words"] == 40 and probe["candidate_spans"] == 40 * 8 - 28  # widths 1-8
    kept = probe["all_spans_kept"]
    assert kept["entities"] == probe["candidate_spans"]
    paired = min(kept["entities"], probe["max_relation_entities"])
    assert kept["pairs_scored"] == paired * (paired - 1)
    assert probe["as_is"]["entities"] <= kept["entities"]
    assert not [path.name for path in output.parent.iterdir() if path != output]  # no temporary file


def test_efficiency_beyond_512_wordpieces_and_a_document_with_context(fixture_archive, tmp_path):
    output = tmp_path / "efficiency.json"
    data = FIXTURE_DATA / "dygie" / "train.jsonl"  # documents, for the context window
    overrides = {"validation_dataset_reader.max_length": 128, "model.embedder.token_embedders.tokens.max_length": 128,
                 "validation_dataset_reader.context_window": 16}
    done = run("benchmark_efficiency.py", fixture_archive, data, "--batch-sizes", 4, "--long-sentence-words", 600,
               "--document-sentences", 6, "-o", json.dumps(overrides), "--output", output)
    assert done.returncode == 0, done.stderr
    report = json.loads(output.read_text())
    assert report["long_sentence"]["wordpieces"] > 512  # folded in segments of 128
    assert report["long_sentence"]["all_spans_kept"]["entities"] == 600 * 8 - 28
    document = report["document"]
    words = [len(tokens) for line in data.read_text().splitlines() for tokens in json.loads(line)["sentences"] if tokens]
    assert (document["sentences"], document["words"]) == (6, sum(words[:6]))
    assert document["seconds"] > 0 and document["rss_growth_mb"] >= 0
    assert "document: 6 sentences" in done.stdout


def test_f1_scores_predictions_against_the_gold_metadata():
    metadata = [{"gold_entities": [[0, 1, "Method"], [3, 5, "Task"]],
                 "gold_relations": [[[3, 5, "Task"], [0, 1, "Method"], "Compare"]]},
                {"gold_entities": [[2, 3, "Metric"]], "gold_relations": []}]
    model = types.SimpleNamespace(symmetric_relations=frozenset({"Compare"}))
    perfect = [{"entities": [tuple(e) for e in m["gold_entities"]],
                "relations": [(tuple(h), tuple(t), r) for h, t, r in m["gold_relations"]]} for m in metadata]
    # The symmetric relation predicted the other way round still counts.
    perfect[0]["relations"] = [((0, 1, "Method"), (3, 5, "Task"), "Compare")]
    assert set(efficiency._f1(model, perfect, metadata).values()) == {1.0}
    half = [{"entities": [(0, 1, "Method")], "relations": []}, {"entities": [(2, 3, "Task")], "relations": []}]
    figures = efficiency._f1(model, half, metadata)
    assert figures["ent_f1"] == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))
    assert figures["rel_f1"] == figures["rel_strict_f1"] == 0.0


def test_efficiency_missing_data_file(fixture_archive, tmp_path, capsys):
    output = tmp_path / "efficiency.json"
    output.write_text("earlier results")
    assert efficiency.main([str(fixture_archive), str(tmp_path / "missing.json"), "--output", str(output)]) == 1
    assert f"error: data file not found: {tmp_path / 'missing.json'}" in capsys.readouterr().err
    assert output.read_text() == "earlier results"


def test_efficiency_failed_measurement_keeps_the_old_output(fixture_archive, tmp_path):
    # The reader rejects the record inside the measuring process.
    data = tmp_path / "bad.jsonl"
    data.write_text('{"doc_key": "d"}\n')
    output = tmp_path / "efficiency.json"
    output.write_text("earlier results")
    done = run("benchmark_efficiency.py", fixture_archive, data, "--batch-sizes", 1, "--output", output)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == f"error: the batch_size measurement failed: " \
        f"sinet_allen.schema.FormatError: {data}, line 1: missing 'sentences'"
    assert output.read_text() == "earlier results"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bad.jsonl", "efficiency.json"]


def test_training(tmp_path):
    output = tmp_path / "training.json"
    done = run("benchmark_training.py", FIXTURE_CONFIG, "--epochs", 2, "--limit", 2, "--output", output)
    assert done.returncode == 0, done.stderr
    report = json.loads(output.read_text())
    assert {"date", "command", "machine", "config", "timed", "epoch_seconds", "memory"} <= set(report)
    assert report["overrides"] == {"trainer.num_epochs": 2, "data_loader.batches_per_epoch": 2}
    assert report["batches"] == 4 and report["sentences"] == 8  # the fixture's batch size is 2
    assert report["sentences_per_second"] > 0 and len(report["epoch_seconds"]) == 2
    assert report["memory"]["rss_growth_mb"] >= 0
    assert "validation not run" in report["timed"]
    assert report["config"] == "tests/fixtures/sinet_fixture.jsonnet"


def test_shareable_path_names_no_directory_of_the_machine(tmp_path, monkeypatch):
    monkeypatch.setenv("SINET_DATA_DIR", str(tmp_path / "data"))
    assert efficiency.shareable_path(tmp_path / "data" / "scierc" / "test.json") == "<data>/scierc/test.json"
    assert efficiency.shareable_path(FIXTURE_CONFIG) == "tests/fixtures/sinet_fixture.jsonnet"
    assert efficiency.shareable_path(REPO / "runs" / ".." / "runs" / "model.tar.gz") == "runs/model.tar.gz"
    assert efficiency.shareable_path(tmp_path / "model.tar.gz") == "<elsewhere>/model.tar.gz"


def test_training_missing_config(tmp_path, capsys):
    output = tmp_path / "training.json"
    assert training.main([str(tmp_path / "missing.jsonnet"), "--output", str(output)]) == 1
    assert f"error: config not found: {tmp_path / 'missing.jsonnet'}" in capsys.readouterr().err
    assert not output.exists()


def test_server(fixture_archive, tmp_path):
    output = tmp_path / "server.json"
    done = run("benchmark_server.py", fixture_archive, "--data-file", DATA, "--clients", 1, 3,
               "--requests-per-level", 6, "--rounds", 2, "--total-requests", 20, "--memory-clients", 4,
               "--output", output)
    assert done.returncode == 0, done.stderr
    report = json.loads(output.read_text())
    assert {"date", "command", "machine", "archive", "data_file", "levels", "memory"} <= set(report)
    assert report["data_file"] == "tests/fixtures/data/spert/train.json"
    assert set(report["levels"]) == {"batching", "one_at_a_time"}
    for levels in report["levels"].values():  # each level run twice per mode, 6 requests each time
        assert [(level["clients"], level["requests"], level["errors"]) for level in levels] == [(1, 12, 0), (3, 12, 0)]
        for level in levels:
            assert level["requests_per_second"] > 0 and 0 < level["p50_ms"] <= level["p95_ms"]
    assert len(report["offline_batch_32_sentences_per_second"]) == 2
    # A sample before the memory run and after each tenth of its 20 requests.
    assert [sample["requests"] for sample in report["memory"]] == list(range(0, 21, 2))
    assert all(sample["rss_mb"] > 0 for sample in report["memory"])
    assert report["exit_status_on_sigterm"] == {"batching": 0, "one_at_a_time": 0}

def test_training_of_a_plan_variant(tmp_path):
    """A plan's variant is measured with its config and overrides; -o replaces a key of the plan's."""
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"variants": {"averaged": {"config": str(FIXTURE_CONFIG), "overrides": {
        "trainer.moving_average": {"type": "uniform", "start_update": 500}, "model.boundary_smoothing": 0.0}}}}))
    output = tmp_path / "training.json"
    done = run("benchmark_training.py", "--plan", plan, "--variant", "averaged", "--limit", 2, "--output", output,
               "-o", json.dumps({"trainer.moving_average": {"type": "uniform", "start_update": 1}}))
    assert done.returncode == 0, done.stderr
    report = json.loads(output.read_text())
    assert report["variant"] == "averaged" and report["config"] == "tests/fixtures/sinet_fixture.jsonnet"
    assert report["overrides"] == {"trainer.moving_average": {"type": "uniform", "start_update": 1},
                                   "model.boundary_smoothing": 0.0, "trainer.num_epochs": 1,
                                   "data_loader.batches_per_epoch": 2}


def test_training_of_an_unknown_plan_variant(tmp_path, capsys):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"variants": {}}))
    assert training.main(["--plan", str(plan), "--variant", "missing", "--output", str(tmp_path / "t.json")]) == 1
    assert f"{plan}: no variant 'missing'" in capsys.readouterr().err
    assert not (tmp_path / "t.json").exists()
