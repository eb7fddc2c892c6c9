"""scripts/make_benchmark_tables.py: the committed pages are what their data give, each table is
computed from its records, and `--check` notices a page or a data file that changed."""
import csv
import importlib.util
import json
import re
import shutil
import statistics

import pytest

from conftest import REPO

spec = importlib.util.spec_from_file_location("make_benchmark_tables", REPO / "scripts/make_benchmark_tables.py")
tables = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tables)

TABLES = {table.name: table for table in tables.TABLES}
# The pages that may name files under benchmarks/ (the generated ones and those that cite records).
PAGES_NAMING_RECORDS = ["README.md", *(str(path.relative_to(REPO)) for path in (REPO / "docs").glob("*.md"))]


def body(markdown):
    """The cells of a Markdown table's rows, header and rule left out."""
    return [[cell.strip() for cell in line.strip()[1:-1].split("|")] for line in markdown.splitlines()[2:]]


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


@pytest.mark.parametrize("name", sorted(tables.pages()))
def test_committed_page_equals_the_generated_tables(name):
    page = (REPO / name).read_text(encoding="utf-8")
    assert tables.render(page, tables.pages()[name]) == page, "run: python scripts/make_benchmark_tables.py"


def test_the_per_seed_table_is_the_runs_file():
    """Each row of `seeds-eps1e-6` is the seed's best and final figures in runs.csv."""
    runs = {(row["recipe"], row["seed"], row["model"]): row
            for row in read_csv(REPO / "benchmarks/scierc_minilm/runs.csv") if row["decoding"] == "overlapping"}
    rows = body(tables.render_table(TABLES["seeds-eps1e-6"]))
    assert [row[0] for row in rows] == list(tables.SEED_ORDER)
    for seed, best, epoch, final, minutes, other in rows:
        expected_best, expected_final = runs["eps1e-6", seed, "best"], runs["eps1e-6", seed, "final"]
        assert best == " / ".join(expected_best[task] for task in tables.TASKS)
        assert final == " / ".join(expected_final[task] for task in tables.TASKS)
        assert (epoch, minutes) == (expected_best["best_epoch"], f"{expected_final['training_minutes']} min")
        assert other == runs["eps1e-8", seed, "final"]["rel_strict_f1"]


def test_a_computed_row_is_recomputed_from_its_sources():
    """The summary's last row: our final models' mean minus the authors' run, per task, with the
    standard error of the mean; and the training table's speed ratios."""
    authors = json.loads((REPO / "benchmarks/scierc_minilm/authors_code.json").read_text(encoding="utf-8"))
    final = [row for row in read_csv(REPO / "benchmarks/scierc_minilm/runs.csv")
             if (row["recipe"], row["model"], row["decoding"]) == ("eps1e-6", "final", "overlapping")]
    gap_row = body(tables.render_table(TABLES["scierc-summary"]))[-1]
    for task, cell in zip(tables.TASKS, gap_row[1:4]):
        values = [float(row[task]) for row in final]
        gap, error = statistics.mean(values) - authors["test"][task], statistics.stdev(values) / len(values) ** 0.5
        assert cell == f"{gap:+.2f} (± {error:.2f})"
    for config, speed, ratio, memory, file in body(tables.render_table(TABLES["training"]))[:-1]:
        report = json.loads((REPO / file.strip("`")).read_text(encoding="utf-8"))
        assert config == f"`{report['config']}`" and speed == f"{report['sentences_per_second']:.1f}"
        assert ratio == f"{report['sentences_per_second'] / authors['training_sentences_per_second']:.2f}×"


def test_every_record_a_page_names_exists():
    """A file or folder under benchmarks/ that a page's prose or tables name (globs allowed) is
    there, and no page reads the archive. Commands (code blocks, an `--output` or a default
    output) name files they would write, so those are left out."""
    for name in PAGES_NAMING_RECORDS:
        text = (REPO / name).read_text(encoding="utf-8")
        assert "benchmarks/archive" not in text, name
        prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
        for path in re.findall(r"(?<!--output )(?<!default `)benchmarks/[\w./*-]*[\w*]", prose):
            assert any(REPO.glob(path)), f"{name} names {path}, which is not in the repository"


def test_benchmarks_holds_topic_folders_that_its_readme_describes():
    """No record lies loose in benchmarks/, and every topic folder is in the layout's description."""
    layout = (REPO / "benchmarks/README.md").read_text(encoding="utf-8")
    entries = list((REPO / "benchmarks").iterdir())
    assert [entry.name for entry in entries if entry.is_file()] == ["README.md"]
    for folder in (entry for entry in entries if entry.is_dir()):
        assert f"`{folder.name}/" in layout, f"benchmarks/{folder.name} is not described in benchmarks/README.md"


@pytest.fixture
def copy_of_the_repository(tmp_path, monkeypatch):
    """The pages and benchmarks/ copied into `tmp_path`, which the generator then reads."""
    for name in tables.pages():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "benchmarks", tmp_path / "benchmarks", ignore=shutil.ignore_patterns("archive"))
    monkeypatch.setattr(tables, "REPO", tmp_path)
    monkeypatch.setattr(tables, "BENCHMARKS", tmp_path / "benchmarks")
    return tmp_path


def test_check_fails_on_an_edited_figure_and_rewriting_restores_it(copy_of_the_repository, capsys):
    page = copy_of_the_repository / "docs/benchmarks.md"
    committed = page.read_text(encoding="utf-8")
    figure = re.search(r"<!-- table: inference -->\n(?:.*\n){2}\| \w+ \| \d+ \| (\d+\.\d)", committed)
    page.write_text(committed[:figure.start(1)] + "999.9" + committed[figure.end(1):], encoding="utf-8")
    assert tables.main(["--check"]) == 1
    assert "docs/benchmarks.md is out of date" in capsys.readouterr().err
    assert tables.main([]) == 0 and tables.main(["--check"]) == 0
    assert page.read_text(encoding="utf-8") == committed


def test_check_fails_when_a_data_file_changes(copy_of_the_repository, capsys):
    """A figure changed in a record makes the page stale, and the rewritten table shows it."""
    server = copy_of_the_repository / "benchmarks/server/batching_cpu.json"
    report = json.loads(server.read_text(encoding="utf-8"))
    report["levels"]["batching"][0]["p95_ms"] = 123456
    server.write_text(json.dumps(report), encoding="utf-8")
    assert tables.main(["--check"]) == 1
    assert "docs/benchmarks.md is out of date" in capsys.readouterr().err
    tables.main([])
    assert " / 123456 ms |" in (copy_of_the_repository / "docs/benchmarks.md").read_text(encoding="utf-8")


def test_unknown_or_missing_blocks_are_errors():
    with pytest.raises(ValueError, match=r"unknown table blocks \['nope'\], missing \["):
        tables.render("<!-- table: nope -->\n<!-- end table -->\n", tables.pages()["docs/benchmarks.md"])


def test_a_declaration_with_the_wrong_number_of_cells_is_an_error():
    table = tables.Table("t", "p.md", ("a", "b"), [tables.Group(lambda: [{"x": 1}], ("{x}",))])
    with pytest.raises(ValueError, match="table t: 1 cells for 2 columns"):
        tables.render_table(table)


def test_a_new_table_is_a_declaration(tmp_path, monkeypatch):
    """What docs/development.md shows: a benchmark file's list of runs, one format per column,
    and a summary row of the same file."""
    (tmp_path / "speed").mkdir()
    report = {"runs": [{"batch": 1, "speed": 10.04}, {"batch": 8, "speed": 30.55}], "machine": "2 cores"}
    (tmp_path / "speed" / "cpu.json").write_text(json.dumps(report), encoding="utf-8")
    monkeypatch.setattr(tables, "BENCHMARKS", tmp_path)
    table = tables.Table("speed", "docs/benchmarks.md", ("batch", "sentences/s"), [
        tables.Group(tables.json_list("speed/cpu.json", "runs"), ("{batch}", "{speed:.1f}")),
        tables.Group(tables.json_file("speed/cpu.json"), ("machine", "{machine}"))])
    assert tables.render_table(table) == ("| batch | sentences/s |\n|---|---|\n| 1 | 10.0 |\n| 8 | 30.6 |\n"
                                          "| machine | 2 cores |\n")


# --- plans of scripts/run_paired_variants.py, on made-up records --------------------------------

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


def make_plan(tmp_path, monkeypatch, folder, plan):
    monkeypatch.setattr(tables, "BENCHMARKS", tmp_path / "benchmarks")
    plan_folder = tmp_path / "benchmarks" / folder
    plan_folder.mkdir(parents=True)
    (plan_folder / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    return plan_folder


def plan_table(folder):
    return tables.Table("t", "p.md", ("title", *tables.PLAN_HEADERS),
                        [tables.Group(tables.plan_variants(folder), tables.PLAN_CELLS)],
                        missing=tables.plan_command(folder))


def test_the_variants_table_pairs_seeds_with_the_baseline(tmp_path, monkeypatch):
    """Δ is the mean of the per-seed differences over the seeds both have; a variant without
    records is left out, and a plan with no records says which command measures it."""
    plan = {"baseline": "today", "split": "test", "models": ["best", "final"],
            "variants": {"today": {"label": "today"}, "new": {"label": "new one"}}}
    plan_folder = make_plan(tmp_path, monkeypatch, "a_comparison", plan)
    assert tables.render_table(plan_table("a_comparison")) == (
        "Not measured yet: `python scripts/run_paired_variants.py benchmarks/a_comparison/plan.json`.\n")
    for model in ("", "_final"):
        write_runs_table(plan_folder / "today" / f"results_test{model}_runs.csv", [(1, 60, 40, 30), (2, 62, 42, 32)])
        write_runs_table(plan_folder / "new" / f"results_test{model}_runs.csv", [(1, 61, 40, 29), (3, 70, 50, 40)])
    summary = tables.render_table(plan_table("a_comparison"))
    assert "| today | best dev | 61.00 ± 1.41 | 41.00 ± 1.41 | 31.00 ± 1.41 |  |  |  | 1, 2 |" in summary
    assert "| new one | final | 65.50 ± 6.36 | 45.00 ± 7.07 | 34.50 ± 7.78 | +1.00 | +0.00 | -1.00 | 1, 3 |" in summary
    best_only = [record["model"] for record in tables.plan_variants("a_comparison", models=["best"])()]
    assert best_only == ["best dev", "best dev"]


def write_validation_runs(plan_folder, variant, scores):
    """A recorded run's training record per (run, Rel+ fraction) of `scores`."""
    for run, score in scores:
        folder = plan_folder / variant / "config" / run
        folder.mkdir(parents=True)
        metrics = {f"best_validation_{task}": score for task in tables.TASKS}
        (folder / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")


def test_the_validation_table_averages_the_runs_best_epochs(tmp_path, monkeypatch):
    """The dev table reads each recorded run's best validation figures (as fractions) and lists
    its runs in numeric order, folds included; a variant with a single run is left out."""
    plan = {"baseline": "a", "split": "test", "variants": {"a": {"label": "A"}, "b": {"label": "B"}}}
    plan_folder = make_plan(tmp_path, monkeypatch, "dev", plan)
    write_validation_runs(plan_folder, "a", [("seed10", 0.6), ("seed2", 0.5)])
    write_validation_runs(plan_folder, "b", [("seed1/fold0", 0.4)])
    table = tables.Table("t", "p.md", ("title", "Ent", "Rel", "Rel+", "seeds"), [
        tables.Group(tables.plan_validation("dev"), ("{label}", *tables.per_task("{{task}}"), "{runs}"))])
    assert body(tables.render_table(table)) == [["A", "55.00 ± 7.07", "55.00 ± 7.07", "55.00 ± 7.07", "2, 10"]]


def test_the_bootstrap_table_marks_the_run_nearest_the_mean_and_folds_keep_their_order(tmp_path, monkeypatch):
    """Runs with folds (`seed1/fold0`) sort by number, and the bootstrap of the pair whose Rel+
    difference is nearest the mean difference is marked as the typical one."""
    plan = {"baseline": "a", "split": "test", "variants": {"a": {"label": "A"}, "b": {"label": "B"}}}
    plan_folder = make_plan(tmp_path, monkeypatch, "folds", plan)
    runs = ["10/fold0", "2/fold1", "2/fold0"]
    write_runs_table(plan_folder / "a" / "results_test_runs.csv", [(run, 50, 40, 30) for run in runs])
    # Rel+ differences 3, 0 and 1: mean 4/3, nearest 1 (seed 2, fold 0).
    write_runs_table(plan_folder / "b" / "results_test_runs.csv",
                     [(run, 50, 40, 30 + delta) for run, delta in zip(runs, (3, 0, 1))])
    assert "| B | best dev | 50.00 ± 0.00 | 40.00 ± 0.00 | 31.33 ± 1.53 | +0.00 | +0.00 | +1.33 | " \
           "2/fold0, 2/fold1, 10/fold0 |" in tables.render_table(plan_table("folds"))
    report = {task: {"delta": 0.01, "p_value": 0.5} for task in ("ent", "rel", "rel_strict")}
    for run in ("seed2-fold0", "seed2-fold1"):
        (plan_folder / f"significance_b_{run}_best.json").write_text(json.dumps(report), encoding="utf-8")
    table = tables.Table("t", "p.md", ("title", "seed", "model", "Ent", "Rel", "Rel+"), [
        tables.Group(tables.plan_bootstraps("folds"), ("{label}", "{run}", "{model}", *tables.BOOTSTRAP))])
    assert body(tables.render_table(table)) == [
        ["B", "2-fold0 (nearest the mean)", "best dev", *["+1.00 (p = 0.500)"] * 3],
        ["B", "2-fold1", "best dev", *["+1.00 (p = 0.500)"] * 3]]


def decision_rows():
    return body(tables.render_table(TABLES["levers-decision"]))


def test_the_decision_adopts_a_lever_more_than_one_standard_error_above_zero(tmp_path, monkeypatch):
    """The rule of docs/benchmarks.md on the runs' best validation Rel+: paired per seed with the
    baseline, adopted when the mean difference exceeds its standard error over all the plan's
    seeds; pending while seeds are missing (one run: its difference alone, no standard error)."""
    plan = {"baseline": "base", "split": "test", "seeds": [1, 2, 3],
            "variants": {"base": {"label": "base"}, "up": {"label": "up"}, "noisy": {"label": "noisy"}}}
    plan_folder = make_plan(tmp_path, monkeypatch, "levers/seeds", plan)
    write_validation_runs(plan_folder, "base", [("seed1", 0.30), ("seed2", 0.30), ("seed3", 0.30)])
    write_validation_runs(plan_folder, "up", [("seed1", 0.31)])
    assert decision_rows() == [["up", "1", "+1.00", "+1.00", "pending: 1 of 3 runs"]]
    write_validation_runs(plan_folder, "up", [("seed2", 0.32), ("seed3", 0.30)])
    write_validation_runs(plan_folder, "noisy", [("seed1", 0.33), ("seed2", 0.28)])
    assert decision_rows() == [["up", "1, 2, 3", "+1.00, +2.00, +0.00", "+1.00 ± 0.58", "adopted"],
                               ["noisy", "1, 2", "+3.00, -2.00", "+0.50 ± 2.50", "pending: 2 of 3 runs"]]
    write_validation_runs(plan_folder, "noisy", [("seed3", 0.30)])
    assert decision_rows()[1] == ["noisy", "1, 2, 3", "+3.00, -2.00, +0.00", "+0.33 ± 1.45", "not adopted"]


def test_the_readme_accuracy_table_puts_the_context_plan_under_the_authors_run(tmp_path, monkeypatch):
    """The README's table is the paper's SciERC row, the authors' code's run, then the context
    plan's rows as docs/benchmarks.md shows them, then the levers' rows under their own baseline
    (trained in the levers plan's conditions, so that each Δ is read against the row it is from);
    with no run recorded it holds the first two alone."""
    plan = {"baseline": "sentence", "split": "test",
            "variants": {"sentence": {"label": "sentence level"}, "context": {"label": "context"}}}
    plan_folder = make_plan(tmp_path, monkeypatch, "context/seeds", plan)
    levers = tmp_path / "benchmarks" / "levers" / "seeds"
    levers.mkdir(parents=True)
    (levers / "plan.json").write_text(json.dumps({**plan, "variants": {
        "sentence": {"label": "sentence level, the levers' baseline"}, "lever": {"label": "a lever"}}}),
        encoding="utf-8")
    authors = tmp_path / "benchmarks" / tables.AUTHORS
    authors.parent.mkdir(parents=True)
    authors.write_text(json.dumps({"test": {"ent_f1": 50, "rel_f1": 40.5, "rel_strict_f1": 30.125}}), encoding="utf-8")
    paper = tmp_path / "benchmarks" / "published" / "sinet_table2.json"
    paper.parent.mkdir()
    rows = [{"data": data, "encoder": "X", "ent_f1": figure, "rel_f1": figure, "rel_strict_f1": figure}
            for data, figure in (("ACE05", 1), ("SciERC", 70))]
    paper.write_text(json.dumps({"rows": rows}), encoding="utf-8")
    readme = TABLES["readme-accuracy"]
    reference = body(tables.render_table(readme))
    assert [row[2:5] for row in reference] == [["70.00"] * 3, ["50.00", "40.50", "30.12"]]
    assert "X on a GPU" in reference[0][0] and "transcribed" in reference[1][0]
    write_runs_table(plan_folder / "sentence" / "results_test_runs.csv", [(1, 60, 40, 30), (2, 62, 42, 32)])
    write_runs_table(plan_folder / "context" / "results_test_runs.csv", [(1, 63, 41, 31), (2, 65, 43, 35)])
    assert body(tables.render_table(readme)) == [
        *reference,
        ["sentence level", "best dev", "61.00 ± 1.41", "41.00 ± 1.41", "31.00 ± 1.41", "", "", "", "1, 2"],
        ["context", "best dev", "64.00 ± 1.41", "42.00 ± 1.41", "33.00 ± 2.83", "+3.00", "+1.00", "+2.00", "1, 2"],
    ]
    write_runs_table(levers / "sentence" / "results_test_runs.csv", [(1, 60, 40, 30), (2, 62, 42, 32)])
    write_runs_table(levers / "lever" / "results_test_runs.csv", [(1, 61, 40, 31), (2, 62, 43, 33)])
    assert body(tables.render_table(readme))[-2:] == [
        ["sentence level, the levers' baseline", "best dev", "61.00 ± 1.41", "41.00 ± 1.41", "31.00 ± 1.41",
         "", "", "", "1, 2"],
        ["a lever", "best dev", "61.50 ± 0.71", "41.50 ± 2.12", "32.00 ± 1.41", "+0.50", "+0.50", "+1.00", "1, 2"]]
