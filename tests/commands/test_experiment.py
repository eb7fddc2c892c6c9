import json
import os
import sys

import pytest
from allennlp.commands import main

import sinet_allen.commands  # noqa: F401  (registers the subcommands)
from sinet_allen.experiments import grid
from sinet_allen.experiments.grid import Run, plan_runs, run_grid
from sinet_allen.predictors.prediction_format import read_predictions, triples
from sinet_allen.experiments.results_table import collect_rows, mean_std, write_results_table
from sinet_allen.model_card import read_card
from sinet_allen.metrics import JointIEF1
from tests.conftest import FIXTURE_CONFIG, FIXTURE_DATA, REPO

METRIC_KEYS = [f"{task}_{kind}" for task in ("ent", "rel", "rel_strict")
               for kind in ("precision", "recall", "f1", "macro_f1")]


def write_metrics(directory, split="test", model="best", **values):
    directory.mkdir(parents=True, exist_ok=True)
    metrics = {key: values.get(key, 0.5) for key in METRIC_KEYS}
    grid.metrics_file(directory, split, model).write_text(json.dumps(metrics))


def run_allennlp(monkeypatch, *args):
    monkeypatch.setattr(sys, "argv", ["allennlp", *map(str, args)])
    main()


@pytest.fixture
def fake_training(monkeypatch):
    """Replaces training and evaluation by recorders; evaluation writes a metrics file."""
    calls = {"train": [], "evaluate": []}

    def train(run, directory, overrides):
        calls["train"].append((run.seed, run.fold, os.environ["SINET_SEED"], os.environ.get("SINET_FOLD")))

    def evaluate(directory, split, cuda_device, batch_size, model):
        calls["evaluate"].append((directory, model))
        write_metrics(directory, split, model)

    monkeypatch.setattr(grid, "train", train)
    monkeypatch.setattr(grid, "evaluate", evaluate)
    return calls


def test_plan_puts_seed_and_fold_in_path_and_environment(tmp_path):
    runs = plan_runs(["configs/a.jsonnet", "b.jsonnet"], seeds=[1, 2], folds=[0, 3])
    assert len(runs) == 8
    assert runs[1] == Run(runs[1].config, seed=1, fold=3)
    assert runs[1].directory(tmp_path) == tmp_path / "a" / "seed1" / "fold3"
    assert runs[1].environment() == {"SINET_SEED": "1", "SINET_FOLD": "3"}
    assert plan_runs(["a.jsonnet"], [7])[0].directory(tmp_path) == tmp_path / "a" / "seed7"


def test_plan_rejects_configs_with_the_same_name():
    with pytest.raises(ValueError, match="'base'"):
        plan_runs(["one/base.jsonnet", "two/base.jsonnet"], [1])


def test_folds_are_refused_for_a_config_that_does_not_read_them(tmp_path, monkeypatch, fake_training):
    with pytest.raises(ValueError, match="sinet_fixture.jsonnet does not read SINET_FOLD, so its 2 folds would be"):
        run_allennlp(monkeypatch, "sinet-experiment", FIXTURE_CONFIG, "--seeds", 1, "--folds", 0, 1,
                     "--output-dir", tmp_path)
    assert fake_training["train"] == []
    grid.check_folds_are_read([REPO / "training_config/sinet_ace04.jsonnet"], [0, 1])  # reads its fold


def test_grid_skips_complete_runs_and_redoes_incomplete_ones(tmp_path, fake_training):
    runs = plan_runs(["cfg.jsonnet"], seeds=[1, 2, 3], folds=[4])
    write_metrics(runs[0].directory(tmp_path))  # complete
    runs[1].directory(tmp_path).mkdir(parents=True)  # interrupted: no metrics
    seed_before = os.environ.get("SINET_SEED")

    run_grid(runs, tmp_path, "test")

    assert fake_training["train"] == [(2, 4, "2", "4"), (3, 4, "3", "4")]
    assert fake_training["evaluate"] == [(runs[1].directory(tmp_path), "best"), (runs[2].directory(tmp_path), "best")]
    assert os.environ.get("SINET_SEED") == seed_before  # restored after each run


def test_a_model_finished_for_another_split_is_only_evaluated(tmp_path, fake_training):
    runs = plan_runs(["cfg.jsonnet"], seeds=[1])
    write_metrics(runs[0].directory(tmp_path), split="dev")

    run_grid(runs, tmp_path, "test")

    assert fake_training["train"] == []
    assert (runs[0].directory(tmp_path) / "test_metrics.json").exists()


def test_the_final_model_of_a_trained_run_is_only_evaluated_then_tabulated_apart(tmp_path, fake_training):
    runs = plan_runs(["cfg.jsonnet"], seeds=[1, 2])
    write_metrics(runs[0].directory(tmp_path), rel_strict_f1=0.3)  # trained, best model scored
    write_metrics(runs[1].directory(tmp_path), model="final")  # complete for the final model

    run_grid(runs, tmp_path, "test", model="final")

    assert fake_training["train"] == []
    assert fake_training["evaluate"] == [(runs[0].directory(tmp_path), "final")]
    rows = write_results_table(tmp_path, "test", configs=["cfg"], model="final")
    assert rows[0].runs == 2 and rows[0].scores["rel_strict_f1"] == (50.0, 0.0)  # not the best model's 30
    assert "(final models)" in (tmp_path / "results_test_final.md").read_text()
    assert (tmp_path / "results_test_final.csv").read_text().splitlines()[1].startswith("cfg,test,final,2,")


def test_table_aggregates_seeds_and_folds(tmp_path):
    for seed, f1 in [(1, 0.70), (2, 0.72), (3, 0.74)]:
        write_metrics(tmp_path / "base" / f"seed{seed}", ent_f1=f1, rel_f1=0.4, rel_strict_f1=0.3)
    for fold, f1 in [(0, 0.5), (1, 0.6)]:
        write_metrics(tmp_path / "sinet" / "seed1" / f"fold{fold}", ent_f1=f1, ent_macro_f1=0.25)
    write_metrics(tmp_path / "sinet" / "seed2" / "fold0", split="dev")  # another split: not counted
    (tmp_path / "base" / "seed2" / "metrics.json").write_text('{"training_duration": "1:10:30.0", "epoch": 14}')

    rows = write_results_table(tmp_path, "test", configs=["sinet", "base"], macro=True)

    assert [(row.config, row.runs) for row in rows] == [("sinet", 2), ("base", 3)]
    markdown = (tmp_path / "results_test.md").read_text().splitlines()
    assert markdown[2] == "| Config | Ent | Ent macro | Rel | Rel macro | Rel+ | Rel+ macro | Runs |"
    assert markdown[5] == ("| base | 72.00 ± 2.00 | 50.00 ± 0.00 | 40.00 ± 0.00 | 50.00 ± 0.00 "
                           "| 30.00 ± 0.00 | 50.00 ± 0.00 | 3 |")
    csv_lines = (tmp_path / "results_test.csv").read_text().splitlines()
    assert csv_lines[0].startswith("config,split,model,runs,ent_f1_mean,ent_f1_std,ent_macro_f1_mean,")
    assert csv_lines[1].startswith("sinet,test,best,2,55.00,7.07,25.00,0.00,")
    runs = (tmp_path / "results_test_runs.csv").read_text().splitlines()
    assert runs[0] == ("config,run,split,model,ent_f1,ent_macro_f1,rel_f1,rel_macro_f1,rel_strict_f1,"
                       "rel_strict_macro_f1,epochs,training_minutes")
    assert [line.split(",")[:2] + line.split(",")[4:5] for line in runs[1:]] == [
        ["sinet", "seed1/fold0", "50.00"], ["sinet", "seed1/fold1", "60.00"],
        ["base", "seed1", "70.00"], ["base", "seed2", "72.00"], ["base", "seed3", "74.00"]]
    assert runs[1].endswith(",,")  # no AllenNLP metrics.json: no training time
    assert runs[4].endswith(",72.00,50.00,40.00,50.00,30.00,50.00,15,70.5")  # AllenNLP's metrics.json

    write_results_table(tmp_path, "dev", configs=["sinet"])  # a table per split, side by side
    assert "| sinet | 50.00 " in (tmp_path / "results_dev.md").read_text()
    assert (tmp_path / "results_test.md").read_text().splitlines() == markdown


def test_table_without_configs_lists_every_config_folder_and_only_micro_columns(tmp_path):
    write_metrics(tmp_path / "b" / "seed1")
    write_metrics(tmp_path / "a" / "seed1")
    (tmp_path / "empty").mkdir()

    rows = collect_rows(tmp_path, "test")

    assert [row.config for row in rows] == ["a", "b"]
    assert list(rows[0].scores) == ["ent_f1", "rel_f1", "rel_strict_f1"]
    assert mean_std([0.5]) == (50.0, 0.0)


@pytest.mark.parametrize("content, problem", [('{"ent_f1": 0.5, ', "JSONDecodeError"),
                                              ('{"ent_f1": 0.5}', "KeyError: 'rel_f1'")])
def test_a_broken_metrics_file_is_named_and_no_table_is_written(tmp_path, content, problem):
    write_metrics(tmp_path / "cfg" / "seed1")
    broken = grid.metrics_file(tmp_path / "cfg" / "seed2", "test", "best")
    broken.parent.mkdir(parents=True)
    broken.write_text(content)
    with pytest.raises(ValueError, match=f"{broken}: not the metrics of a finished evaluation \\({problem}"):
        write_results_table(tmp_path, "test")
    assert not list(tmp_path.glob("results_*"))


def test_table_only_trains_nothing(tmp_path, monkeypatch, fake_training):
    write_metrics(tmp_path / "sinet_scierc" / "seed1", ent_f1=0.9)
    run_allennlp(monkeypatch, "sinet-experiment", "training_config/sinet_scierc.jsonnet",
                 "--output-dir", tmp_path, "--table-only")
    assert fake_training["train"] == []
    assert "| sinet_scierc | 90.00 | 50.00 | 50.00 | 1 |" in (tmp_path / "results_test.md").read_text()  # one run: no ±


def test_tiny_real_run_writes_metrics_and_predictions_then_resumes(tmp_path, monkeypatch):
    arguments = ["sinet-experiment", FIXTURE_CONFIG, "--seeds", "1", "--output-dir", tmp_path,
                 "-o", '{"trainer.num_epochs": 1}', "--cuda-device", "-1"]
    run_allennlp(monkeypatch, *arguments)

    run_dir = tmp_path / "sinet_fixture" / "seed1"
    metrics = json.loads((run_dir / "test_metrics.json").read_text())
    records = read_predictions(run_dir / "test_predictions.jsonl")
    gold_file = json.loads((FIXTURE_DATA / "spert" / "test.json").read_text())
    assert [record["tokens"] for record in records] == [sentence["tokens"] for sentence in gold_file]
    # The prediction file alone reproduces the metrics.
    metric = JointIEF1(symmetric_relations=["Compare", "Conjunction"])
    predicted, gold = zip(*map(triples, records))
    metric(list(predicted), list(gold))
    assert metric.get_metric() == pytest.approx({key: metrics[key] for key in METRIC_KEYS})
    assert "| sinet_fixture |" in (tmp_path / "results_test.md").read_text()
    # The archive's model card has the figures it was selected by and those it scored on test.
    card = read_card(run_dir / "model.tar.gz")
    assert card == (run_dir / "model_card.md").read_text()
    assert "Command: `allennlp sinet-experiment" in card and "Seed: 1\n" in card
    assert f"| Rel+ | {100 * metrics['rel_strict_precision']:.2f} |" in card.split("## Evaluation")[1]
    assert "The selected model on `spert/test.json`" in card

    monkeypatch.setattr(grid, "train", lambda *args: pytest.fail("a complete run was trained again"))
    run_allennlp(monkeypatch, *arguments)

    # After one epoch the last checkpoint is the best model: the same figures.
    run_allennlp(monkeypatch, *arguments, "--final-model")
    final = json.loads((run_dir / "test_final_metrics.json").read_text())
    assert final == pytest.approx(metrics)
    assert "| sinet_fixture |" in (tmp_path / "results_test_final.md").read_text()
    for checkpoint in run_dir.glob("model_state_*.th"):
        checkpoint.unlink()
    with pytest.raises(ValueError, match="no model_state_.*checkpoint"):
        grid.evaluate(run_dir, "dev", -1, 32, "final")
