"""scripts/make_benchmark_tables.py: the committed measured pages are exactly what their data give."""
import importlib.util
import json
import statistics

import pytest

from conftest import REPO

spec = importlib.util.spec_from_file_location("make_benchmark_tables", REPO / "scripts/make_benchmark_tables.py")
tables = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tables)


@pytest.mark.parametrize("name", sorted(tables.PAGES))
def test_committed_page_equals_the_generated_tables(name):
    page = (tables.REPO / name).read_text(encoding="utf-8")
    assert tables.render(page, tables.PAGES[name]) == page, "run: python scripts/make_benchmark_tables.py"


def test_a_table_is_computed_from_its_data():
    summary = tables.scierc_summary()
    # The authors' single run and our twelve final models' mean, from their data files.
    assert "| authors' code, final model, one run (target) | 63.13 | 38.28 | 28.01 | 27.5 min |" in summary
    assert "| 63.23 ± 0.48 | 38.62 ± 1.10 | 27.69 ± 0.98 |" in summary
    flat = tables.flat_decoding()
    assert "| test, flat − kept, same run: mean (higher in) | +0.41 (12 of 12) |" in flat


def test_check_reports_a_stale_page_and_rewriting_fixes_it(tmp_path, monkeypatch, capsys):
    committed = (tables.REPO / "docs/benchmarks.md").read_text(encoding="utf-8")
    stale = committed.replace("| 63.13 | 38.28 | 28.01 |", "| 1.00 | 2.00 | 3.00 |")
    assert stale != committed
    page = tmp_path / "docs" / "benchmarks.md"
    page.parent.mkdir()
    page.write_text(stale, encoding="utf-8")
    monkeypatch.setattr(tables, "PAGES", {"docs/benchmarks.md": tables.BENCHMARK_TABLES})
    monkeypatch.setattr(tables, "REPO", tmp_path)
    assert tables.main(["--check"]) == 1
    assert "benchmarks.md is out of date" in capsys.readouterr().err
    assert tables.main([]) == 0 and tables.main(["--check"]) == 0
    assert page.read_text(encoding="utf-8") == committed


def test_unknown_or_missing_blocks_are_errors():
    with pytest.raises(ValueError, match=r"unknown table blocks \['nope'\], missing \["):
        tables.render("<!-- table: nope -->\n<!-- end table -->\n", tables.BENCHMARK_TABLES)


def write_runs_table(path, rows):
    """The runner's two tables of a variant: its rows per run at `path`, and their summary beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["config,run,ent_f1,rel_f1,rel_strict_f1"] + [f"c,seed{run},{ent},{rel},{strict}"
                                                          for run, ent, rel, strict in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if len(rows) > 1:
        columns = list(zip(*rows))[1:]
        cells = [f"{statistics.mean(column):.2f},{statistics.stdev(column):.2f}" for column in columns]
        summary = ["config,ent_f1_mean,ent_f1_std,rel_f1_mean,rel_f1_std,rel_strict_f1_mean,rel_strict_f1_std",
                   "c," + ",".join(cells)]
        path.with_name(path.name.replace("_runs", "")).write_text("\n".join(summary) + "\n", encoding="utf-8")


def test_the_variants_table_pairs_seeds_with_the_baseline(tmp_path, monkeypatch):
    """Δ is the mean of the per-seed differences over the seeds both have; a variant without
    records is left out, and a plan with no records says which command measures it."""
    plan = ('{"baseline": "today", "split": "test", "models": ["best", "final"], '
            '"variants": {"today": {"label": "today"}, "new": {"label": "new one"}}}')
    plan_folder = tmp_path / "benchmarks" / "a_comparison"
    plan_folder.mkdir(parents=True)
    (plan_folder / "plan.json").write_text(plan, encoding="utf-8")
    monkeypatch.setattr(tables, "BENCHMARKS", tmp_path / "benchmarks")
    assert tables.paired_summary(plan_folder, "title") == (
        "Not measured yet: `python scripts/run_paired_variants.py benchmarks/a_comparison/plan.json`.\n")
    for model in ("", "_final"):
        write_runs_table(plan_folder / "today" / f"results_test{model}_runs.csv", [(1, 60, 40, 30), (2, 62, 42, 32)])
        write_runs_table(plan_folder / "new" / f"results_test{model}_runs.csv", [(1, 61, 40, 29), (3, 70, 50, 40)])
    summary = tables.paired_summary(plan_folder, "title")
    assert "| today | best dev | 61.00 ± 1.41 | 41.00 ± 1.41 | 31.00 ± 1.41 |  |  |  | 1, 2 |" in summary
    assert "| new one | final | 65.50 ± 6.36 | 45.00 ± 7.07 | 34.50 ± 7.78 | +1.00 | +0.00 | -1.00 | 1, 3 |" in summary


def test_the_validation_table_averages_the_runs_best_epochs(tmp_path, monkeypatch):
    """The dev table reads each recorded run's best validation figures (as fractions) and lists
    its runs in numeric order, folds included; a variant with a single run is left out."""
    plan = '{"baseline": "a", "split": "test", "variants": {"a": {"label": "A"}, "b": {"label": "B"}}}'
    plan_folder = tmp_path / "benchmarks" / "dev"
    plan_folder.mkdir(parents=True)
    (plan_folder / "plan.json").write_text(plan, encoding="utf-8")
    monkeypatch.setattr(tables, "BENCHMARKS", tmp_path / "benchmarks")
    for variant, run, score in [("a", "seed10", 0.6), ("a", "seed2", 0.5), ("b", "seed1/fold0", 0.4)]:
        folder = plan_folder / variant / "config" / run
        folder.mkdir(parents=True)
        metrics = {f"best_validation_{task}": score for task in tables.TASKS}
        (folder / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    assert tables.paired_validation(plan_folder, "title").splitlines()[2:] == [
        "| A | 55.00 ± 7.07 | 55.00 ± 7.07 | 55.00 ± 7.07 | 2, 10 |"]


def test_the_bootstrap_table_marks_the_run_nearest_the_mean_and_folds_keep_their_order(tmp_path, monkeypatch):
    """Runs with folds (`seed1/fold0`) sort by number, and the bootstrap of the pair whose Rel+
    difference is nearest the mean difference is marked as the typical one."""
    plan = '{"baseline": "a", "split": "test", "variants": {"a": {"label": "A"}, "b": {"label": "B"}}}'
    plan_folder = tmp_path / "benchmarks" / "folds"
    plan_folder.mkdir(parents=True)
    (plan_folder / "plan.json").write_text(plan, encoding="utf-8")
    monkeypatch.setattr(tables, "BENCHMARKS", tmp_path / "benchmarks")
    runs = ["10/fold0", "2/fold1", "2/fold0"]
    write_runs_table(plan_folder / "a" / "results_test_runs.csv", [(run, 50, 40, 30) for run in runs])
    # Rel+ differences 3, 0 and 1: mean 4/3, nearest 1 (seed 2, fold 0).
    write_runs_table(plan_folder / "b" / "results_test_runs.csv",
                     [(run, 50, 40, 30 + delta) for run, delta in zip(runs, (3, 0, 1))])
    assert "| B | best dev | 50.00 ± 0.00 | 40.00 ± 0.00 | 31.33 ± 1.53 | +0.00 | +0.00 | +1.33 | " \
           "2/fold0, 2/fold1, 10/fold0 |" in tables.paired_summary(plan_folder, "title")
    for run in ("seed2-fold0", "seed2-fold1"):
        (plan_folder / f"significance_b_{run}_best.json").write_text("{}", encoding="utf-8")
    monkeypatch.setattr(tables, "bootstrap_cells", lambda report: ["", "", ""])
    significance = tables.paired_significance(plan_folder, "title")
    assert "| B | 2-fold0 (nearest the mean) | best dev |" in significance
    assert "| B | 2-fold1 | best dev |" in significance


def test_the_readme_accuracy_table_puts_the_context_plan_under_the_authors_run(tmp_path, monkeypatch):
    """The README's table is the authors' code's run, then the context plan's rows as
    docs/benchmarks.md shows them; with no run recorded it holds the authors' row alone."""
    plan = ('{"baseline": "sentence", "split": "test", "variants": '
            '{"sentence": {"label": "sentence level"}, "context": {"label": "context"}}}')
    plan_folder = tmp_path / "benchmarks" / "context" / "seeds"
    plan_folder.mkdir(parents=True)
    (plan_folder / "plan.json").write_text(plan, encoding="utf-8")
    monkeypatch.setattr(tables, "BENCHMARKS", tmp_path / "benchmarks")
    monkeypatch.setattr(tables, "CONTEXT", tmp_path / "benchmarks" / "context")
    authors = "| the authors' code (sentence level), one run | final | 63.13 | 38.28 | 28.01 |  |  |  |  |"
    assert tables.readme_accuracy().splitlines()[2:] == [authors]
    write_runs_table(plan_folder / "sentence" / "results_test_runs.csv", [(1, 60, 40, 30), (2, 62, 42, 32)])
    write_runs_table(plan_folder / "context" / "results_test_runs.csv", [(1, 63, 41, 31), (2, 65, 43, 35)])
    assert tables.readme_accuracy().splitlines()[2:] == [
        authors,
        "| sentence level | best dev | 61.00 ± 1.41 | 41.00 ± 1.41 | 31.00 ± 1.41 |  |  |  | 1, 2 |",
        "| context | best dev | 64.00 ± 1.41 | 42.00 ± 1.41 | 33.00 ± 2.83 | +3.00 | +1.00 | +2.00 | 1, 2 |",
    ]
