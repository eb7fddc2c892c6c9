"""scripts/run_paired_variants.py: seed-major runs of a plan's variants, recorded beside the plan so
that a later session adds seeds, with the bootstrap of each variant against the baseline."""
import csv
import importlib.util
import json

import pytest
import torch
from allennlp.common import Params

from tests.conftest import FIXTURE_CONFIG, REPO

spec = importlib.util.spec_from_file_location("run_paired_variants", REPO / "scripts" / "run_paired_variants.py")
paired = importlib.util.module_from_spec(spec)
spec.loader.exec_module(paired)


def write_plan(folder, seeds):
    folder.mkdir(parents=True, exist_ok=True)
    plan = {
        "baseline": "today",
        "seeds": seeds,
        "models": ["best", "final"],
        "variants": {  # the baseline listed last: it still runs first
            "lower_threshold": {"config": str(FIXTURE_CONFIG), "overrides": {"model.relation_threshold": 0.3}},
            "today": {"config": str(FIXTURE_CONFIG)},
        },
    }
    (folder / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    return folder / "plan.json"


def table_runs(path):
    with open(path, newline="", encoding="utf-8") as file:
        return [row["run"] for row in csv.DictReader(file)]


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """One seed of both variants, trained (the tiny fixture model) and recorded."""
    root = tmp_path_factory.mktemp("paired")
    plan = write_plan(root / "records", [1])
    assert paired.main([str(plan), "--runs", str(root / "runs")]) == 0
    return root, plan


def test_runs_are_recorded_in_the_runners_layout_and_tabulated(measured):
    root, plan = measured
    for variant in ("today", "lower_threshold"):
        recorded = root / "records" / variant / FIXTURE_CONFIG.stem / "seed1"
        assert sorted(path.name for path in recorded.iterdir()) == [
            "metrics.json", "test_final_metrics.json", "test_metrics.json"]
        trained = root / "runs" / variant / FIXTURE_CONFIG.stem / "seed1"
        assert (recorded / "test_metrics.json").read_bytes() == (trained / "test_metrics.json").read_bytes()
        assert table_runs(root / "records" / variant / "results_test_runs.csv") == ["seed1"]
        assert table_runs(root / "records" / variant / "results_test_final_runs.csv") == ["seed1"]


def test_each_variant_is_bootstrapped_against_the_baseline_on_the_same_seed(measured):
    root, _ = measured
    reports = sorted(path.name for path in (root / "records").glob("significance_*.json"))
    assert reports == ["significance_lower_threshold_seed1_best.json", "significance_lower_threshold_seed1_final.json"]
    report = json.loads((root / "records" / reports[0]).read_text(encoding="utf-8"))
    assert report["system_a"].endswith("today/sinet_fixture/seed1/test_predictions.jsonl")
    assert report["system_b"].endswith("lower_threshold/sinet_fixture/seed1/test_predictions.jsonl")
    assert set(report["rel_strict"]) >= {"delta", "p_value"}


def test_a_later_session_adds_seeds_without_rerunning_the_recorded_ones(measured, tmp_path, monkeypatch):
    root, plan = measured
    trained = []
    monkeypatch.setattr(paired, "train_and_record", lambda plan, name, run, cuda: trained.append((name, run.seed)))
    monkeypatch.setattr(paired, "bootstrap", lambda plan, name, run: None)
    # A fresh runs folder, as in a new checkout: only the records are left.
    assert paired.main([str(plan), "--runs", str(tmp_path / "runs"), "--seeds", "1", "2"]) == 0
    assert trained == [("today", 2), ("lower_threshold", 2)]  # seed 1 is recorded; the baseline goes first
    assert table_runs(root / "records" / "today" / "results_test_runs.csv") == ["seed1"]


def test_variants_can_be_split_between_two_processes(measured, tmp_path, monkeypatch):
    _, plan = measured
    trained = []
    monkeypatch.setattr(paired, "train_and_record", lambda plan, name, run, cuda: trained.append((name, run.seed)))
    monkeypatch.setattr(paired, "bootstrap", lambda plan, name, run: None)
    assert paired.main([str(plan), "--runs", str(tmp_path), "--seeds", "2", "3", "--variants", "lower_threshold"]) == 0
    assert trained == [("lower_threshold", 2), ("lower_threshold", 3)]
    with pytest.raises(SystemExit, match=r"no variants \['tomorrow'\]"):
        paired.main([str(plan), "--variants", "tomorrow"])


def test_a_plans_threads_are_the_threads_of_every_run(tmp_path, monkeypatch):
    """Runs pair only with the same torch threads: the plan's `threads` holds for each run."""
    plan = write_plan(tmp_path / "records", [1])
    spec = json.loads(plan.read_text(encoding="utf-8"))
    plan.write_text(json.dumps({**spec, "threads": 1}), encoding="utf-8")
    threads = []
    monkeypatch.setattr(paired, "train_and_record", lambda *args: threads.append(torch.get_num_threads()))
    monkeypatch.setattr(paired, "bootstrap", lambda plan, name, run: None)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert paired.main([str(plan), "--runs", str(tmp_path / "runs")]) == 0
    finally:
        torch.set_num_threads(before)
    assert threads == [1, 1]


def test_a_missing_report_is_written_later_or_says_why_it_cannot_be(measured, tmp_path, caplog):
    root, plan = measured
    report = root / "records" / "significance_lower_threshold_seed1_best.json"
    written = report.read_bytes()
    report.unlink()
    paired.bootstrap_recorded(paired.Plan(plan, tmp_path / "runs"))  # predictions not in this runs folder
    assert "no bootstrap, the predictions of both runs are needed" in caplog.text and not report.exists()
    paired.bootstrap_recorded(paired.Plan(plan, root / "runs"))
    assert report.read_bytes() == written


def test_a_variant_with_its_own_config_is_bootstrapped_against_the_baselines_run(tmp_path, monkeypatch):
    """Variants may be different configs (CMAN against SINET): the baseline's run of the same seed
    is found under the baseline's config, not the variant's."""
    configs = {"sinet": REPO / "tests/fixtures/sinet_fixture.jsonnet", "cman": REPO / "tests/fixtures/cman_fixture.jsonnet"}
    spec = {"baseline": "sinet", "seeds": [1], "variants": {name: {"config": str(path)} for name, path in configs.items()}}
    (tmp_path / "plan.json").write_text(json.dumps(spec), encoding="utf-8")
    plan = paired.Plan(tmp_path / "plan.json", tmp_path / "runs")
    for name in configs:
        run = plan.run(name, 1, None)
        for folder in (plan.recorded(name, run), plan.trained(name, run)):
            folder.mkdir(parents=True)
        paired.metrics_file(plan.recorded(name, run), "test", "best").write_text("{}", encoding="utf-8")
        paired.predictions_file(plan.trained(name, run), "test", "best").write_text("", encoding="utf-8")
    compared = []
    monkeypatch.setattr(paired, "run_command", lambda command, argv: compared.append([str(arg) for arg in argv]))
    paired.bootstrap_recorded(plan)
    (argv,) = compared
    assert argv[0].endswith("runs/sinet/sinet_fixture/seed1/test_predictions.jsonl")
    assert argv[1].endswith("runs/cman/cman_fixture/seed1/test_predictions.jsonl")
    assert argv[3].endswith("significance_cman_seed1_best.json")


def test_a_plan_with_an_unknown_baseline_is_refused(tmp_path):
    plan = write_plan(tmp_path, [1])
    spec = json.loads(plan.read_text(encoding="utf-8"))
    spec["baseline"] = "yesterday"
    plan.write_text(json.dumps(spec), encoding="utf-8")
    with pytest.raises(SystemExit, match=r"baseline 'yesterday' is not one of the variants"):
        paired.Plan(plan)


@pytest.mark.parametrize("path", sorted(str(path.relative_to(REPO)) for path in REPO.glob("benchmarks/**/plan.json")))
def test_every_committed_plan_overrides_components_its_config_has(path):
    """(A misspelt argument of a component is AllenNLP's error when the run builds it.)"""
    plan = paired.Plan(REPO / path)
    assert plan.order()[0] == plan.baseline
    for name, variant in plan.variants.items():
        assert variant["label"], name
        config = Params.from_file(str(variant["config"])).as_dict(quiet=True)
        for key in variant["overrides"]:
            component = config
            for part in key.split(".")[:-1]:
                component = component.get(part)
                assert isinstance(component, dict), f"{path}, variant {name}: {variant['config']} has no {key}"


@pytest.mark.parametrize("path", sorted(str(path.relative_to(REPO)) for path in REPO.glob("benchmarks/**/plan.json")))
def test_every_committed_runs_table_is_its_recorded_metrics(path):
    """Each row of a committed plan's runs tables (which the pages' tables read) holds the F1 of the
    recorded run's metrics file, in percent to two decimals, and each recorded run has its row."""
    folder = (REPO / path).parent
    plan = paired.Plan(REPO / path)
    for variant in plan.variants:
        for model in plan.models:
            table = folder / variant / f"results_{plan.split}{'' if model == 'best' else '_final'}_runs.csv"
            metrics_name = f"{plan.split}{'' if model == 'best' else '_final'}_metrics.json"
            recorded = sorted(str(metrics.parent.relative_to(folder / variant))  # <config>/seed1[/fold0]
                              for metrics in (folder / variant).glob(f"*/seed*/**/{metrics_name}"))
            if not table.exists():
                assert not recorded, f"{variant}: recorded runs without a table"
                continue
            with open(table, newline="", encoding="utf-8") as file:
                rows = list(csv.DictReader(file))
            assert sorted(f"{row['config']}/{row['run']}" for row in rows) == recorded
            for row in rows:
                metrics = json.loads((folder / variant / row["config"] / row["run"] / metrics_name).read_text())
                for task in ("ent_f1", "rel_f1", "rel_strict_f1"):
                    assert row[task] == f"{100 * metrics[task]:.2f}", (table, row["run"], task)
