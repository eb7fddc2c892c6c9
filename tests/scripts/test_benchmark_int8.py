"""scripts/benchmark_int8.py on the fixture archive: every variant's F1 on dev and test, the speed
runs, the recipe chosen on dev, and a summary made from earlier outputs."""
import json
import os
import subprocess
import sys

from conftest import FIXTURE_DATA, REPO

SCRIPT = REPO / "scripts" / "benchmark_int8.py"
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
SPLITS = ["--dev", FIXTURE_DATA / "spert" / "dev.json", "--test", FIXTURE_DATA / "spert" / "test.json"]


def run(*args):
    completed = subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], cwd=REPO, env=ENV,
                               capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed


def test_benchmark_measures_every_variant_and_summarises_earlier_outputs(fixture_archive, tmp_path):
    first = tmp_path / "first.json"
    run(fixture_archive, *SPLITS, "--recipes", "all_linear", "asymmetric", "--batch-sizes", "1", "4",
        "--speed-sentences", "5", "--rounds", "1", "--output", first)
    report = json.loads(first.read_text())
    variants = {"float32", "bfloat16", "int8/all_linear", "int8/asymmetric"}
    [archive] = report["archives"]
    assert set(archive["dev"]) == set(archive["test"]) == variants
    assert all(0 <= figures["rel_strict_f1"] <= 100 for figures in archive["test"].values())
    assert {(run["variant"], run["batch_size"]) for run in archive["speed"]["runs"]} == {
        (variant, size) for variant in variants for size in (1, 4)}
    assert set(archive["speed"]["differing_sentences"]) == variants
    assert report["mean_difference_to_float32"]["test"]["float32"]["rel_strict_f1"] == 0
    assert report["choice"] in {"int8/all_linear", "int8/asymmetric"}
    assert str(tmp_path) not in report["command"]  # no directory of the machine that wrote it

    # Accuracy alone, then both runs summarised together without measuring again.
    second = tmp_path / "second.json"
    run(fixture_archive, *SPLITS, "--recipes", "all_linear", "--speed-sentences", "0", "--output", second)
    assert "speed" not in json.loads(second.read_text())["archives"][0]
    summary = tmp_path / "summary.json"
    printed = run(first, second, *SPLITS, "--output", summary).stdout
    combined = json.loads(summary.read_text())
    assert len(combined["archives"]) == 2
    assert combined["mean_difference_to_float32"]["dev"]["int8/all_linear"]["archives"] == 2
    assert combined["mean_difference_to_float32"]["dev"]["int8/asymmetric"]["archives"] == 1
    assert "chosen on dev" in printed
