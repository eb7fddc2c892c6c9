#!/usr/bin/env python
"""Regenerates the tables of the measured pages (README.md and, under docs/, benchmarks.md,
history.md, cman.md, fidelity.md, prediction.md and experiments.md) from the records under benchmarks/.

    python scripts/make_benchmark_tables.py           # rewrite the tables in the pages
    python scripts/make_benchmark_tables.py --check   # exit 1 if a table differs from its data

Each table sits between `<!-- table: NAME -->` and `<!-- end table -->`; everything outside those
markers is prose and stays as written. Every table is a declaration in TABLES (its page, its column
headers, and groups of rows: where the records come from and one cell format per column); a few
generic functions read the records and render them. No figure is typed into a page: change the
data, then rerun this script. The layout of benchmarks/ is described in benchmarks/README.md.
"""
import argparse
import csv
import json
import math
import re
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"
BLOCK = re.compile(r"(<!-- table: (?P<name>[\w-]+) -->\n).*?(<!-- end table -->)", re.S)
TASKS = ("ent_f1", "rel_f1", "rel_strict_f1")
MACRO_TASKS = tuple(task.replace("_f1", "_macro_f1") for task in TASKS)
SEED_ORDER = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "13")

Record = Dict[str, Any]
# A cell: a format string filled from a record (`"{seed}"`, `"{run[f1][ent]:.2f}"`), or a function of it.
Cell = Union[str, Callable[[Record], str]]
Source = Callable[[], List[Record]]


# --- reading ------------------------------------------------------------------------------------

def read_csv(path: Path) -> List[Dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def data(relative: str) -> Path:
    return BENCHMARKS / relative


# --- declarations and the renderer ----------------------------------------------------------------

@dataclass(frozen=True)
class Group:
    """Rows of a table: one per record of `source`, with one cell per column of the table."""
    source: Source
    cells: Sequence[Cell]


@dataclass(frozen=True)
class Table:
    """A generated table: the page and marker it fills, its column headers (format strings filled
    from `header_values`, when given) and its groups of rows. When the first group has no records
    the table is the line `Not measured yet: <missing>`, the command that measures it."""
    name: str
    page: str
    headers: Sequence[str]
    groups: Sequence[Group]
    missing: Optional[str] = None
    header_values: Optional[Callable[[], Record]] = None


def fill(cell: Cell, record: Record) -> str:
    return cell.format_map(record) if isinstance(cell, str) else cell(record)


def markdown(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def render_table(table: Table) -> str:
    records = [group.source() for group in table.groups]
    if table.missing and not records[0]:
        return f"Not measured yet: `{table.missing}`.\n"
    values = table.header_values() if table.header_values else {}
    headers = [header.format_map(values) for header in table.headers]
    rows = []
    for group, group_records in zip(table.groups, records):
        if len(group.cells) != len(headers):
            raise ValueError(f"table {table.name}: {len(group.cells)} cells for {len(headers)} columns")
        rows += [[fill(cell, record) for cell in group.cells] for record in group_records]
    return markdown(headers, rows)


# --- cells --------------------------------------------------------------------------------------

def triple(key: str, spec: str = "") -> str:
    """The cell `Ent / Rel / Rel+` of the figures under `key` of a record (each formatted by `spec`)."""
    return " / ".join(f"{{{key}[{task}]{spec}}}" for task in TASKS)


def per_task(template: str) -> List[str]:
    """One cell per task: `template` with `{task}` replaced by each task's key."""
    return [template.replace("{task}", task) for task in TASKS]


def mean_std(values: Sequence[float]) -> str:
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def percent_triple(*keys: str) -> Callable[[Record], str]:
    """F1 fractions (`{"ent_f1": 0.63, ...}` under `keys` in turn) as percentages `63.00 / ...`."""
    def cell(record: Record) -> str:
        for key in keys:
            record = record[key]
        return " / ".join(f"{100 * record[task]:.2f}" for task in TASKS)
    return cell


def bootstrap_cells(report: Record) -> List[str]:
    """B − A in F1 points and the p value, per task, of a `sinet-significance --output` report."""
    return [f"{100 * report[task]['delta']:+.2f} (p = {report[task]['p_value']:.3f})"
            for task in (name.removesuffix("_f1") for name in TASKS)]


def bootstrap(index: int) -> Callable[[Record], str]:
    return lambda record: bootstrap_cells(record["report"])[index]


BOOTSTRAP = [bootstrap(index) for index in range(len(TASKS))]


def runner_cell(task: str) -> str:
    """A runner summary's `mean ± std` of one task."""
    return f"{{{task}_mean}} ± {{{task}_std}}"


# --- sources: flat files -------------------------------------------------------------------------

def json_file(relative: str, key: Optional[str] = None) -> Source:
    """One record: a JSON file (or the object under `key` in it), with `path`, its path under benchmarks/."""
    def source():
        report = read_json(data(relative))
        return [{**(report[key] if key else report), "path": relative}]
    return source


def json_list(relative: str, key: str) -> Source:
    """The records of the list under `key` of a JSON file."""
    return lambda: list(read_json(data(relative))[key])


BUCKETING = "prediction/bucketing.json"


def bucketing_runs() -> List[Record]:
    """scripts/benchmark_bucketing.py's runs, one per precision."""
    return [{**figures, "precision": precision}
            for precision, figures in read_json(data(BUCKETING))["bucketing"].items()]


def identical_output(run: Record) -> str:
    if run["identical_output"]:
        return "yes"
    return f"no: {run['lines_differing']} lines, scores within {run['largest_score_difference']:.4f}"


def long_sentence_runs() -> List[Record]:
    """The long-sentence measurement of scripts/benchmark_bucketing.py: ordinary sentences alone,
    then mixed with long ones, folded only where long (the default) or folded everywhere."""
    report = read_json(data(BUCKETING))["long_sentences"]
    speeds, ordinary = report["sentences_per_second"], f"{report['ordinary_sentences']} SciERC sentences"
    mixed = f"{ordinary} and {report['long_sentences']} of {report['long_sentence_words']} words"
    return [{"input": ordinary, "prediction": "as is", "speed": speeds["ordinary_only"]},
            {"input": mixed, "prediction": "only the long sentences folded (the default)",
             "speed": speeds["mixed_fold_long_only"]},
            {"input": mixed, "prediction": "`max_length` 512 in the archive (every batch with a long sentence folded)",
             "speed": speeds["mixed_max_length_512_everywhere"]}]


INT8 = "int8/summary.json"
INT8_COMMAND = ("python scripts/benchmark_int8.py ARCHIVE [ARCHIVE ...] --dev <data>/scierc/dev.json "
                "--test <data>/scierc/test.json --output benchmarks/int8/summary.json")


def f1_triple(figures: Record, sign: str = "") -> str:
    return " / ".join(f"{figures[task]:{sign}.2f}" for task in TASKS)


def int8_per_archive() -> List[Record]:
    """Test F1 per archive and variant of scripts/benchmark_int8.py's summary."""
    if not data(INT8).exists():
        return []
    return [{"archive": archive["archive"], "variant": name, "f1": f1_triple(figures)}
            for archive in read_json(data(INT8))["archives"] for name, figures in archive["test"].items()]


def int8_differences() -> List[Record]:
    """Per variant its mean difference to float32 over the archives, on dev (where the recipe is
    chosen) and on test."""
    differences = read_json(data(INT8))["mean_difference_to_float32"]
    return [{"archives": dev["archives"], "variant": name,
             "f1": f"dev {f1_triple(dev, '+')}, test {f1_triple(differences['test'][name], '+')}"}
            for name, dev in differences["dev"].items()]


def int8_speeds() -> List[Record]:
    """Sentences/s per variant and batch size, against float32, and how many predictions the batch
    size changed."""
    report = read_json(data(INT8))
    speeds, timed = report["mean_sentences_per_second"], [a["speed"] for a in report["archives"] if "speed" in a]
    sentences = sum(speed["sentences"] for speed in timed)
    return [{"variant": name, "batch": size, "speed": value, "ratio": value / speeds["float32"][size],
             "changed": f"{sum(speed['differing_sentences'][name] for speed in timed)} of {sentences}"}
            for name, sizes in speeds.items() for size, value in sizes.items()]


def server_modes() -> List[Record]:
    """scripts/benchmark_server.py's levels, batching beside one at a time, per client count."""
    levels = read_json(data(SERVER))["levels"]
    return [{"clients": b["clients"], "batching": b, "alone": a}
            for b, a in zip(levels["batching"], levels["one_at_a_time"])]


def csv_rows(relative: str) -> Source:
    return lambda: read_csv(data(relative))


def json_files(pattern: str, order: Callable[[Path], Any] = lambda path: path.name) -> Source:
    """One record per JSON file matching `pattern` under benchmarks/ (in `order`): its contents,
    `path` (under benchmarks/), `name`, `number` (the last number in its name, if any) and
    `first`, the contents of the first file."""
    def source():
        paths = sorted(BENCHMARKS.glob(pattern), key=order)
        reports = [read_json(path) for path in paths]
        return [{**report, "path": path.relative_to(BENCHMARKS).as_posix(), "name": path.name,
                 "number": (re.findall(r"\d+", path.stem) or [""])[-1], "first": reports[0]}
                for path, report in zip(paths, reports)]
    return source


def by_window(path: Path) -> int:
    return int(re.findall(r"\d+", path.stem)[-1])


def training_passes(folder: str, plan: str) -> Source:
    """Per variant of the plan in `plan` measured by scripts/benchmark_training.py into
    `folder/<variant>.json` and again, in the reverse order, into `folder/repeat/`: its label, both
    speeds, `cost` (time per epoch relative to the plan's baseline, from the mean speeds), the
    larger peak memory growth and the dates."""
    def source():
        spec, records = read_json(data(plan) / "plan.json"), []
        runs = {name: [read_json(path) for path in (data(folder) / f"{name}.json", data(folder) / "repeat" /
                                                     f"{name}.json") if path.exists()] for name in spec["variants"]}
        speed = {name: statistics.mean(run["sentences_per_second"] for run in passes)
                 for name, passes in runs.items() if len(passes) == 2}
        for name in speed:
            records.append({"label": spec["variants"][name]["label"], "passes": runs[name], "speed": speed[name],
                            "cost": speed[spec["baseline"]] / speed[name], "file": f"{folder}/{name}.json",
                            "memory": max(run["memory"]["rss_growth_mb"] for run in runs[name]),
                            "dates": " / ".join(sorted({run["date"][:10] for run in runs[name]}))})
        return records
    return source


# --- sources: the SciERC recipes (benchmarks/scierc_minilm/) --------------------------------------

SCIERC = "scierc_minilm"


def recipe_runs(recipe: str, model: str, decoding: str = "overlapping") -> Dict[str, Dict[str, str]]:
    """Per seed, the SciERC test figures of one recipe's best or final models (`runs.csv`)."""
    return {row["seed"]: row for row in read_csv(data(f"{SCIERC}/runs.csv"))
            if (row["recipe"], row["model"], row["decoding"]) == (recipe, model, decoding)}


def seeds(order: Optional[Sequence[str]] = None, **parts: Sequence[str]) -> Source:
    """One record per seed: under each name of `parts`, the figures of that (recipe, model[,
    decoding]) for the seed. The seeds are `order`, or those of the first part in file order."""
    def source():
        runs = {name: recipe_runs(*part) for name, part in parts.items()}
        return [{"seed": seed, **{name: runs[name][seed] for name in parts}}
                for seed in (order or list(next(iter(runs.values()))))]
    return source


def means(seeds_of: Optional[str] = None, **parts: Sequence[str]) -> Source:
    """One record: per name of `parts`, the mean ± std per task of its runs (over the seeds of
    the part `seeds_of`, when given), and `runs`, their number."""
    def source():
        runs = {name: recipe_runs(*part) for name, part in parts.items()}
        chosen = list(runs[seeds_of]) if seeds_of else None
        record = {"runs": len(next(iter(runs.values())))}
        for name, by_seed in runs.items():
            rows = [by_seed[seed] for seed in (chosen or by_seed)]
            record[name] = {task: mean_std([float(row[task]) for row in rows]) for task in TASKS}
        return [record]
    return source


def differences(variant: Sequence[str], baseline: Sequence[str]) -> Source:
    """One record: per task, the mean of `variant` − `baseline` over the same seeds, and in how
    many of them the variant is higher."""
    def source():
        ours, theirs = recipe_runs(*variant), recipe_runs(*baseline)
        record = {}
        for task in TASKS:
            gaps = [float(ours[seed][task]) - float(theirs[seed][task]) for seed in SEED_ORDER if seed in ours]
            record[task] = f"{statistics.mean(gaps):+.2f} ({sum(gap > 0 for gap in gaps)} of {len(gaps)})"
        return [record]
    return source


def recipe_summary(recipe: str, model: str) -> Source:
    """One record: the runner's summary table of a recipe's best or final models, with
    `minutes`, the range of its runs' training times."""
    def source():
        (row,) = read_csv(data(f"{SCIERC}/{recipe}/results_test{'' if model == 'best' else '_final'}.csv"))
        times = [float(run["training_minutes"]) for run in recipe_runs(recipe, model).values()
                 if run["training_minutes"]]
        return [{**row, "minutes": f"{min(times):.1f} - {max(times):.1f} min" if times else ""}]
    return source


def gap_to_reference(recipe: str, model: str) -> Source:
    """One record: per task, a recipe's mean minus the authors' run, with the standard error of the mean."""
    def source():
        runs = [recipe_runs(recipe, model)[seed] for seed in SEED_ORDER]
        authors = read_json(data(AUTHORS))["test"]
        record = {}
        for task in TASKS:
            values = [float(row[task]) for row in runs]
            error = statistics.stdev(values) / len(values) ** 0.5
            record[task] = f"{statistics.mean(values) - authors[task]:+.2f} (± {error:.2f})"
        return [record]
    return source


def dev_curves() -> Dict[tuple, str]:
    """Dev Rel+ per epoch (as printed, comma-separated) of the runs whose curve was recorded."""
    return {(row["recipe"], row["seed"]): row["dev_rel_strict_f1_per_epoch"].replace(" ", ", ")
            for row in read_csv(data(f"{SCIERC}/dev_curves.csv"))}


def single_runs() -> List[Record]:
    """The recipes' runs whose dev curve was recorded, with their best and final models."""
    records = []
    for (recipe, seed), curve in dev_curves().items():
        if not recipe.startswith("ablation_cpu/"):
            best, final = recipe_runs(recipe, "best")[seed], recipe_runs(recipe, "final").get(seed)
            time = best["training_minutes"] or (final or {}).get("training_minutes")
            records.append({"recipe": recipe, "seed": seed, "curve": curve, "best": best, "final": final,
                            "time": f"{time} min" if time else ""})
    return records


def published(data_set: str) -> Source:
    """The paper's Table 2 rows of a data set (transcribed into benchmarks/published/)."""
    return lambda: [row for row in read_json(data("published/sinet_table2.json"))["rows"] if row["data"] == data_set]


def with_curves(source: Source) -> Source:
    """The ablation's rows, each with the dev curve of its seed-1 run."""
    curves = dev_curves
    return lambda: [{**row, "curve": curves()[(f"ablation_cpu/{row['config']}", "1")]} for row in source()]


# --- sources: plans of scripts/run_paired_variants.py --------------------------------------------

def plan_command(folder: str) -> str:
    return f"python scripts/run_paired_variants.py benchmarks/{folder}/plan.json"


def plan_labels(folder: Path) -> Dict[str, str]:
    """The label of each variant of the plan in `folder` (scripts/run_paired_variants.py)."""
    return {name: variant["label"] for name, variant in read_json(folder / "plan.json")["variants"].items()}


def runner_results(folder: Path, variant: str, split: str, model: str, per_run: bool) -> Path:
    """The runner's table of a variant on `split` with its best dev or final models: its summary
    (mean ± std over the runs, from unrounded figures) or its rows per run."""
    return folder / variant / f"results_{split}{'' if model == 'best' else '_final'}{'_runs' if per_run else ''}.csv"


def recorded_runs(folder: Path, variant: str, split: str, model: str) -> Dict[str, Dict[str, str]]:
    """Per run (`seed1`, ...), a variant's figures on `split` with its best dev or final models;
    empty where the variant has no recorded run yet."""
    path = runner_results(folder, variant, split, model, per_run=True)
    return {row["run"]: row for row in read_csv(path)} if path.exists() else {}


def run_order(run: str) -> List[int]:
    """`seed2` before `seed10`, `seed1/fold0` before `seed1/fold1`."""
    return [int(number) for number in re.findall(r"\d+", run)]


def run_list(runs: Iterable[str]) -> str:
    return ", ".join(run.removeprefix("seed") for run in sorted(runs, key=run_order))


def paired_deltas(folder: Path, plan: Dict, variant: str, model: str) -> Dict[str, Dict[str, float]]:
    """Per run the variant and its plan's baseline both have, per task, the variant's F1 minus the baseline's."""
    runs = recorded_runs(folder, variant, plan["split"], model)
    baseline = recorded_runs(folder, plan["baseline"], plan["split"], model)
    return {run: {task: float(runs[run][task]) - float(baseline[run][task]) for task in TASKS}
            for run in sorted(set(runs) & set(baseline))}


def plan_variants(folder: str, models: Optional[Sequence[str]] = None) -> Source:
    """Per model (the plan's, or `models`) and variant with recorded runs: its label, `model`, per
    task its mean ± std over the runs (the runner's summary; a single run's figures as they are),
    `delta` per task (the mean of its per-run differences from the baseline, empty for the
    baseline) and `runs`."""
    def source():
        path = data(folder)
        plan, records = read_json(path / "plan.json"), []
        for model in models or plan.get("models", ["best"]):
            for variant, label in plan_labels(path).items():
                runs = recorded_runs(path, variant, plan["split"], model)
                if not runs:
                    continue
                if len(runs) > 1:
                    summary = read_csv(runner_results(path, variant, plan["split"], model, per_run=False))[0]
                    figures = {task: fill(runner_cell(task), summary) for task in TASKS}
                else:
                    figures = {task: next(iter(runs.values()))[task] for task in TASKS}
                deltas = paired_deltas(path, plan, variant, model)
                delta = ({task: f"{statistics.mean(d[task] for d in deltas.values()):+.2f}" for task in TASKS}
                         if variant != plan["baseline"] and deltas else dict.fromkeys(TASKS, ""))
                records.append({"label": label, "model": "best dev" if model == "best" else model,
                                **figures, "delta": delta, "runs": run_list(runs)})
        return records
    return source


PLAN_HEADERS = ("model", "Ent", "Rel", "Rel+", "Δ Ent", "Δ Rel", "Δ Rel+", "seeds")
PLAN_CELLS = ("{label}", "{model}", *per_task("{{task}}"), *per_task("{delta[{task}]}"), "{runs}")


def validation_runs(folder: Path, variant: str) -> Dict[str, Dict]:
    """Per recorded run of a variant (`seed1`, `seed1/fold0`), its training record `metrics.json`,
    which holds the best validation figures: the dev scores that chose its best-dev model."""
    return {"/".join(metrics.parent.relative_to(folder / variant).parts[1:]): read_json(metrics)
            for metrics in (folder / variant).glob("*/seed*/**/metrics.json")}  # <config>/seed1[/fold0]


def plan_validation(folder: str) -> Source:
    """Per variant of a plan with more than one run, its runs' best validation figures: mean ± std
    and the runs."""
    def source():
        path, records = data(folder), []
        for variant, label in plan_labels(path).items():
            runs = validation_runs(path, variant)
            if len(runs) > 1:
                records.append({"label": label, "runs": run_list(runs),
                                **{task: mean_std([100 * run[f"best_validation_{task}"] for run in runs.values()])
                                   for task in TASKS}})
        return records
    return source


def plan_dev_decision(folder: str, task: str = "rel_strict_f1") -> Source:
    """Per variant of a plan other than its baseline, the rule of docs/benchmarks.md ("Accuracy
    levers"): its per-run differences from the baseline in best validation `task` F1 (points),
    their mean and standard error, and the decision: adopted when every seed of the plan is
    recorded and the mean is more than one standard error above zero."""
    def source():
        path = data(folder)
        plan, records = read_json(path / "plan.json"), []
        baseline = validation_runs(path, plan["baseline"])
        for variant, label in plan_labels(path).items():
            runs = validation_runs(path, variant)
            paired = sorted(set(runs) & set(baseline), key=run_order)
            if variant == plan["baseline"] or not paired:
                continue
            differences = [100 * (runs[run][f"best_validation_{task}"] - baseline[run][f"best_validation_{task}"])
                           for run in paired]
            mean = statistics.mean(differences)
            # One run has no standard error: its mean is shown alone, and the decision waits anyway.
            error = statistics.stdev(differences) / math.sqrt(len(differences)) if len(differences) > 1 else None
            expected = len(plan["seeds"]) * len(plan.get("folds") or [None])
            decision = (f"pending: {len(paired)} of {expected} runs" if len(paired) < expected
                        else "adopted" if error is not None and mean > error else "not adopted")
            records.append({"label": label, "runs": run_list(paired), "mean": mean, "error": error,
                            "estimate": f"{mean:+.2f}" + (f" ± {error:.2f}" if error is not None else ""),
                            "differences": ", ".join(f"{difference:+.2f}" for difference in differences),
                            "decision": decision})
        return records
    return source


def nearest_the_mean(folder: Path, plan: Dict, variant: str, model: str) -> str:
    """The run (as bootstrap files name it, `seed1-fold0`) whose Rel+ difference from the baseline
    is nearest the mean difference: the pair whose bootstrap is the typical one."""
    deltas = {run: delta["rel_strict_f1"] for run, delta in paired_deltas(folder, plan, variant, model).items()}
    if not deltas:
        return ""
    mean = statistics.mean(deltas.values())
    return min(deltas, key=lambda run: (abs(deltas[run] - mean), run)).replace("/", "-")


def plan_bootstraps(folder: str) -> Source:
    """The plan's paired bootstraps against its baseline (`significance_<variant>_<run>_<model>.json`),
    with the variant's label, the run (marked when it is the one nearest the mean) and the model."""
    def source():
        path = data(folder)
        plan, labels, records = read_json(path / "plan.json"), plan_labels(path), []
        typical = {(variant, model): nearest_the_mean(path, plan, variant, model)
                   for variant in labels for model in plan.get("models", ["best"])}
        for report in sorted(path.glob("significance_*.json")):
            variant, run, model = report.stem.removeprefix("significance_").rsplit("_", 2)
            mark = " (nearest the mean)" if run == typical[variant, model] else ""
            records.append({"label": labels[variant], "run": run.removeprefix("seed") + mark,
                            "model": "best dev" if model == "best" else model, "report": read_json(report)})
        return records
    return source


def plan_runner_tables(folder: str, table_name: str) -> Source:
    """The rows of the runner table `table_name` (`results_test.csv`, `results_test_runs.csv`) of
    each variant of a plan that has one, each with the variant's `label`."""
    def source():
        path = data(folder)
        return [{**row, "label": label} for name, label in plan_labels(path).items()
                if (path / name / table_name).exists() for row in read_csv(path / name / table_name)]
    return source


def summary_means(path: Path) -> Dict[str, float]:
    (row,) = read_csv(path)
    return {key.removesuffix("_mean"): float(value) for key, value in row.items() if key.endswith("_mean")}


def plan_gaps(folder: str, title: str) -> Source:
    """Per variant of a plan other than its baseline: the difference of its runner summary's
    means from the baseline's per task (micro and macro), and the ratio of their mean training
    minutes; then, where the published figures (`published.json` beside the plan's folder) report
    a task, the first variant's mean minus the published figure."""
    def source():
        path = data(folder)
        plan, labels = read_json(path / "plan.json"), plan_labels(path)
        means = {variant: summary_means(path / variant / "results_test.csv") for variant in labels}
        minutes = {variant: statistics.mean(float(row["training_minutes"]) for row in
                                            read_csv(path / variant / "results_test_runs.csv")) for variant in labels}
        baseline = plan["baseline"]
        records = [{"label": f"{labels[variant]} − {labels[baseline]}, {title}",
                    **{key: f"{means[variant][key] - means[baseline][key]:+.2f}" for key in (*TASKS, *MACRO_TASKS)},
                    "minutes": f"{minutes[variant] / minutes[baseline]:.2f}×"}
                   for variant in labels if variant != baseline]
        first = next(iter(labels))
        paper = read_json(path.parent / "published.json")[path.name]
        reported = dict(zip((*TASKS, *MACRO_TASKS), (*paper["micro"], *paper["macro"])))
        records.append({"label": f"{labels[first]} (ours, MiniLM-L6) − {paper['system']}, {title}", "minutes": "",
                        **{key: f"{means[first][key] - float(figure):+.2f}" if figure else ""
                           for key, figure in reported.items()}})
        return records
    return source


def micro_macro(record: Record, key: str) -> str:
    """A runner summary's mean ± std, or the figure alone for a single run."""
    return f"{record[key + '_mean']} ± {record[key + '_std']}" if int(record["runs"]) > 1 else record[key + "_mean"]


# --- extraction on Ray (docs/scaling.md) ---------------------------------------------------------

RAY_EXTRACTION = BENCHMARKS / "ray" / "extract_cpu.json"
CORPUS_SENTENCES, DAY_S = 80_000_000, 24 * 3600  # 10 million abstracts of about 8 sentences; one day


def ray_engines() -> List[Dict]:
    """scripts/benchmark_ray_extract.py's single process, then its Ray runs."""
    report = read_json(RAY_EXTRACTION)
    single = report["single_process"]
    engines = [{"engine": "single process (`sinet-extract`)", "threads": f"{single['torch_threads']} threads",
                "start": f"{single['load_s']:.1f} (model)", "run_s": single["extract_s"],
                "steady": single["sentences_per_s"], "whole": single["end_to_end_sentences_per_s"]}]
    engines += [{"engine": f"Ray, {run['workers']} worker{'s' * (run['workers'] > 1)}",
                 "threads": f"{run['workers']} x {run['torch_threads_per_worker']} thread",
                 "start": f"{run['ray_start_s']:.1f} (Ray)", "run_s": run["run_s"],
                 "steady": run["sentences_per_s_steady"], "whole": run["sentences_per_s_with_ray_start"]}
                for run in report["ray"]]
    return engines


def ray_measured() -> List[Dict]:
    """Under what the figures of scripts/benchmark_ray_extract.py were measured."""
    report = read_json(RAY_EXTRACTION)
    machine = report["machine"]
    busy = machine["load_average_before"][0] > machine["cpus"]
    contended = " (more than its CPUs: contended figures)" if busy else ""
    facts = [("input", f"{report['input']}; batch {report['batch_size']}, shards of {report['shard_lines']} lines"),
             ("outputs identical to the single process's", "yes" if report["outputs_identical"] else "no"),
             ("date", report["date"]), ("machine", f"{machine['platform']}, {machine['cpus']} CPUs"),
             ("load average (1 min) before / after",
              f"{machine['load_average_before'][0]} / {machine['load_average_after'][0]}{contended}"),
             ("archive", report["archive_note"]), ("command", f"`{report['command']}`")]
    return [{"what": what, "value": value} for what, value in facts]


# Below this host-side share of prediction time the share is timing noise (the model's time measured
# at or above the whole's), so a GPU worker's rate cannot be derived from it and an assumed speed-up
# over a CPU worker is stated instead.
MEASURABLE_HOST_SHARE, ASSUMED_GPU_SPEEDUP = 0.05, 10


def ray_capacity() -> List[Dict]:
    """Workers for the corpus in a day: a CPU worker at the measured 1-worker rate; a GPU worker
    estimated at that rate divided by the host side's share of one-thread prediction, or, where that
    share is too small to measure, at an assumed multiple of it."""
    report = read_json(RAY_EXTRACTION)
    cpu_rate = next(run for run in report["ray"] if run["workers"] == 1)["sentences_per_s_steady"]
    share = report["model_share"]["model_share"]
    if 1 - share >= MEASURABLE_HOST_SHARE:
        gpu_rate = cpu_rate / (1 - share)
        source = (f"**estimate**: the CPU rate / (1 − {share:.1%}), the model's measured share of one-thread "
                  "prediction taken as free on the GPU")
    else:
        gpu_rate = cpu_rate * ASSUMED_GPU_SPEEDUP
        source = (f"**estimate, assumed**: {ASSUMED_GPU_SPEEDUP}× the CPU rate; the host side's share of "
                  f"prediction was too small to measure (the model's measured share {share:.1%})")
    memory = f"{report['single_process']['peak_rss_mb']:,.0f} MB resident"
    return [{"worker": "CPU: 1 core, 1 thread", "rate": f"{cpu_rate:.1f}",
             "source": "measured (Ray, 1 worker, steady)",
             "workers": f"{math.ceil(CORPUS_SENTENCES / (cpu_rate * DAY_S)):,}", "memory": memory},
            {"worker": "GPU: 1 GPU, 1 core", "rate": f"{gpu_rate:.1f} (estimate)", "source": source,
             "workers": f"{math.ceil(CORPUS_SENTENCES / (gpu_rate * DAY_S)):,} (estimate)",
             "memory": f"{memory} + GPU memory (not measured)"}]


# --- the declarations -----------------------------------------------------------------------------

README, BENCHMARKS_PAGE, HISTORY_PAGE = "README.md", "docs/benchmarks.md", "docs/history.md"
CMAN_PAGE, FIDELITY_PAGE, PREDICTION_PAGE = "docs/cman.md", "docs/fidelity.md", "docs/prediction.md"
EXPERIMENTS_PAGE = "docs/experiments.md"
SCALING_PAGE = "docs/scaling.md"
AUTHORS = f"{SCIERC}/authors_code.json"
# The authors' code was run here, but its command was not recorded: its figures are transcribed.
AUTHORS_RUN = "authors' code, one run (transcribed, command not recorded)"
EXTRACT = "extract/extract_cpu.json"
QUICK = "quick_model/quick_cpu.json"
F1_HEADERS = ("Ent", "Rel", "Rel+")
MICRO_MACRO_HEADERS = (*F1_HEADERS, "Ent macro", "Rel macro", "Rel+ macro")
ABLATION_NAMES = {"base": "Base", "base_tap": "Base+TAP", "base_tap_ctam_ner": "Base+TAP+CTAM_NER",
                  "base_tap_ctam_re": "Base+TAP+CTAM_RE", "sinet_scierc": "SINET"}
EFFICIENCY = "inference/efficiency_cpu.json"
SERVER = "server/batching_cpu.json"
LEVERS_TRAINING_COMMAND = ("python scripts/benchmark_training.py --plan benchmarks/levers/tuning/plan.json "
                           "--variant VARIANT --limit 300 --output benchmarks/levers/training/VARIANT.json")
CONTEXT_EFFICIENCY_COMMAND = ("python scripts/benchmark_efficiency.py ARCHIVE $SINET_DATA_DIR/scierc_dygie/test.jsonl "
                              "--precisions float32 bfloat16 -o '{\"validation_dataset_reader.context_window\": N}' "
                              "--output benchmarks/context/efficiency_cpu_windowN.json")
SEED_HEADERS = ("seed", "best dev Rel+ model: Ent / Rel / Rel+")


def recipe_rows(recipe: str, label: str) -> List[Group]:
    """The summary table's rows of a recipe: its final and its best dev models over the seeds."""
    return [Group(recipe_summary(recipe, "final"), (f"{label}, final model, mean ± std of {{runs}} seeds",
                                                   *map(runner_cell, TASKS), "{minutes}")),
            Group(recipe_summary(recipe, "best"), (f"{label}, best dev Rel+ model (the config's selection), {{runs}} "
                                                  "seeds", *map(runner_cell, TASKS), ""))]


def ablation_names(record: Record) -> str:
    return ABLATION_NAMES[record["config"]]


def speed_ratio(record: Record) -> str:
    return f"{record['sentences_per_second'] / record['authors']['training_sentences_per_second']:.2f}×"


def with_authors(source: Source) -> Source:
    return lambda: [{**record, "authors": read_json(data(AUTHORS))} for record in source()]


def refactor_pairs() -> List[Record]:
    """The runs of one archive's prediction benchmark before and after issue 21's refactor, paired."""
    before, after = (read_json(data(f"inference/efficiency_cpu_refactor_{side}.json"))["runs"]
                     for side in ("before", "after"))
    return [{"before": old, "after": new, "change": new["prediction"]["sentences_per_second"] /
             old["prediction"]["sentences_per_second"] - 1} for old, new in zip(before, after)]


def long_sentence_probes(pattern: str) -> Source:
    """Per file matching `pattern`, its long-sentence probe (one record per mode: as it is, and
    with every span kept) and its document probe, when it has them."""
    def source():
        records = []
        for report in json_files(pattern)():
            probe, document = report.get("long_sentence"), report.get("document")
            for mode in ("as_is", "all_spans_kept") if probe else ():
                records.append({**probe[mode], "input": f"one sentence ({mode.replace('_', ' ')})", "mode": mode,
                                "words": probe["words"], "name": report["name"]})
            if document:
                records.append({**document, "input": f"a document of {document['sentences']} sentences",
                                "name": report["name"]})
        return records
    return source


def window_runs() -> List[Record]:
    """Each prediction run of the context windows' benchmark files, with the speed of the same
    precision and batch size at the smallest window."""
    reports = json_files("context/efficiency_cpu_window*.json", order=by_window)()
    records = []
    for report in reports:
        first = {(run["precision"], run["batch_size"]): run["prediction"]["sentences_per_second"]
                 for run in report["first"]["runs"]}
        records += [{**run, "window": report["number"], "archive": Path(report["archive"]).parent.as_posix(),
                     "first_speed": first[run["precision"], run["batch_size"]]} for run in report["runs"]]
    return records


def flat_header() -> Record:
    return {"runs": len(recipe_runs("eps1e-6", "final"))}


TABLES: List[Table] = [
    Table("readme-accuracy", README, ("SciERC test, F1 %", *PLAN_HEADERS), [
        Group(published("SciERC"), ("the paper, {encoder} on a GPU (Table 2, transcribed)", "final",
                                    *per_task("{{task}:.2f}"), "", "", "", "")),
        Group(json_file(AUTHORS), (f"the {AUTHORS_RUN}", "final", *per_task("{test[{task}]:.2f}"), "", "", "", "")),
        Group(plan_variants("context/seeds"), PLAN_CELLS),
        # The levers' final models are in docs/benchmarks.md; the README keeps the rows the rule read.
        Group(plan_variants("levers/seeds", models=["best"]), PLAN_CELLS)]),
    Table("scierc-summary", BENCHMARKS_PAGE, ("SciERC test, F1 %", *F1_HEADERS,
                                              "training time (15 epochs, dev evaluation included)"), [
        Group(json_file(AUTHORS), (f"{AUTHORS_RUN}, final model, the target", *per_task("{test[{task}]:.2f}"),
                                   "{training_minutes} min")),
        *recipe_rows("eps1e-6", "sinet_allen"),
        *recipe_rows("eps1e-8", "sinet_allen, AdamW eps 1e-8 (until session 7)"),
        Group(gap_to_reference("eps1e-6", "final"), ("sinet_allen final models − authors' code (standard error of "
                                                     "our mean)", *per_task("{{task}}"), ""))]),
    Table("seeds-eps1e-6", BENCHMARKS_PAGE, (*SEED_HEADERS, "best epoch (of 0-14)", "final model: Ent / Rel / Rel+",
                                             "training wall time", "final Rel+ with eps 1e-8, same seed"), [
        Group(seeds(SEED_ORDER, best=("eps1e-6", "best"), final=("eps1e-6", "final"), other=("eps1e-8", "final")),
              ("{seed}", triple("best"), "{best[best_epoch]}", triple("final"), "{final[training_minutes]} min",
               "{other[rel_strict_f1]}"))]),
    Table("seeds-eps1e-8", HISTORY_PAGE, (*SEED_HEADERS, "best epoch (of 0-14)", "final model: Ent / Rel / Rel+",
                                             "training wall time"), [
        Group(seeds(SEED_ORDER, best=("eps1e-8", "best"), final=("eps1e-8", "final")),
              ("{seed}", triple("best"), "{best[best_epoch]}", triple("final"), "{final[training_minutes]} min"))]),
    Table("plain-dropout", HISTORY_PAGE, (*SEED_HEADERS, "final model: Ent / Rel / Rel+"), [
        Group(seeds(best=("plain_dropout", "best"), final=("plain_dropout", "final")),
              ("{seed}", triple("best"), triple("final"))),
        Group(means(best=("plain_dropout", "best"), final=("plain_dropout", "final")),
              ("mean ± std, {runs} runs", triple("best"), triple("final")))]),
    Table("bfloat16", HISTORY_PAGE, ("seed", "Ent / Rel / Rel+", "best epoch", "training wall time",
                                        "float32, same seed, also before FastDropout"), [
        Group(seeds(bf16=("bf16", "best"), float32=("plain_dropout", "best")),
              ("{seed}", triple("bf16"), "{bf16[best_epoch]}", "{bf16[training_minutes]} min", triple("float32"))),
        Group(lambda: [{**recipe_summary("bf16", "best")()[0], **means("bf16", bf16=("bf16", "best"),
                                                                        float32=("plain_dropout", "best"))()[0]}],
              ("mean ± std", " / ".join(map(runner_cell, TASKS)), "", "", triple("float32")))]),
    Table("shuffled-batches", HISTORY_PAGE, (*SEED_HEADERS, "best epoch", "final model: Ent / Rel / Rel+",
                                                "training wall time", "bucketed (eps 1e-6 runs), final model"), [
        Group(seeds(best=("shuffle_eps1e-6", "best"), final=("shuffle_eps1e-6", "final"),
                    bucketed=("eps1e-6", "final")),
              ("{seed}", triple("best"), "{best[best_epoch]}", triple("final"), "{final[training_minutes]} min",
               triple("bucketed"))),
        Group(means("best", best=("shuffle_eps1e-6", "best"), final=("shuffle_eps1e-6", "final"),
                    bucketed=("eps1e-6", "final")),
              ("mean ± std", triple("best"), "", triple("final"), "", triple("bucketed")))]),
    Table("single-runs", HISTORY_PAGE, ("recipe", "seed", "best epoch", "test, best dev model", "test, final model",
                                           "training", "dev Rel+ per epoch"), [
        Group(single_runs, ("{recipe}", "{seed}", "{best[best_epoch]}", triple("best"),
                            lambda record: fill(triple("final"), record) if record["final"] else "", "{time}",
                            "{curve}"))]),
    Table("flat-decoding", BENCHMARKS_PAGE, ("final models, {runs} runs", *F1_HEADERS), [
        Group(json_file(AUTHORS), (f"{AUTHORS_RUN}, the target", *per_task("{test[{task}]:.2f}"))),
        Group(means("kept", kept=("eps1e-6", "final"), flat=("eps1e-6", "final", "flat")),
              ("test, overlaps kept (the paper's decoding, the default)", *per_task("{kept[{task}]}"))),
        Group(means("kept", kept=("eps1e-6", "final"), flat=("eps1e-6", "final", "flat")),
              ("test, flat", *per_task("{flat[{task}]}"))),
        Group(differences(("eps1e-6", "final", "flat"), ("eps1e-6", "final")),
              ("test, flat − kept, same run: mean (higher in)", *per_task("{{task}}"))),
        Group(json_file(f"{SCIERC}/flat_dev.json"), ("dev, overlaps kept", *per_task(
            "{overlapping[{task}][0]:.2f} ± {overlapping[{task}][1]:.2f}"))),
        Group(json_file(f"{SCIERC}/flat_dev.json"), ("dev, flat", *per_task(
            "{flat[{task}][0]:.2f} ± {flat[{task}][1]:.2f}"))),
        Group(json_file(f"{SCIERC}/flat_dev.json"), ("dev, flat − kept, same run: mean (higher in)", *per_task(
            "{flat_minus_overlapping[{task}][0]:+.2f} ({flat_minus_overlapping[{task}][1]} of {runs})")))],
        header_values=flat_header),
    Table("flat-per-seed", BENCHMARKS_PAGE, ("seed", "test, flat: Ent / Rel / Rel+"), [
        Group(seeds(SEED_ORDER, flat=("eps1e-6", "final", "flat")), ("{seed}", triple("flat")))]),
    Table("make-train", BENCHMARKS_PAGE, ("date (session)", "AdamW eps", "Ent (P / R / F1)", "Rel (P / R / F1)",
                                          "Rel+ (P / R / F1)", "wall time"), [
        Group(csv_rows(f"{SCIERC}/make_train.csv"), (
            lambda row: f"{row['date']} ({row['session']})" + (f", {row['note']}" if row["note"] else ""),
            "{adamw_eps}", *(" / ".join(f"{{{task}_{part}}}" for part in ("precision", "recall", "f1"))
                             for task in ("ent", "rel", "rel_strict")),
            lambda row: f"{int(row['wall_seconds']) // 60} min {int(row['wall_seconds']) % 60} s"))]),
    Table("ablation", BENCHMARKS_PAGE, ("config", *F1_HEADERS, "runs", "dev Rel+ per epoch, seed 1"), [
        Group(with_curves(csv_rows("ablation/eps1e-6/results_dev.csv")),
              (ablation_names, *per_task("{{task}_mean}"), "{runs}", "{curve}"))]),
    Table("ablation-eps1e-8", HISTORY_PAGE, ("config", *F1_HEADERS, "runs"), [
        Group(csv_rows("ablation/eps1e-8/results_dev.csv"), (ablation_names, *per_task("{{task}_mean}"), "{runs}"))]),
    Table("significance", BENCHMARKS_PAGE, ("paired bootstrap, dev", *F1_HEADERS, "file"), [
        Group(lambda: [{**report, "report": report} for report in json_files("ablation/*/significance_*.json")()],
              (lambda record: f"SINET vs {record['system_a'].split('/')[-3]}", *BOOTSTRAP, "`benchmarks/{path}`"))]),
    Table("inference", BENCHMARKS_PAGE, ("precision", "batch", "sentences/s", "encoder alone, sentences/s",
                                         "whole / encoder time", "peak memory growth", "test Ent / Rel / Rel+"), [
        Group(json_list(EFFICIENCY, "runs"), (
            "{precision}", "{batch_size}", "{prediction[sentences_per_second]:.1f}",
            "{encoder[sentences_per_second]:.1f}", "{prediction_to_encoder_time:.2f}",
            "{prediction[rss_growth_mb]:.0f} MB", percent_triple("f1"))),
        Group(json_file(AUTHORS, "prediction"), (
            AUTHORS_RUN, "1 / 32", "{batch_1_sentences_per_second} / {batch_32_sentences_per_second}", "", "",
            "{batch_32_peak_memory_gb} GB at batch 32", ""))]),
    Table("long-sentence", BENCHMARKS_PAGE, ("model", "words", "entities kept", "pairs scored", "time",
                                             "peak memory growth"), [
        Group(long_sentence_probes(EFFICIENCY), ("{mode}", "{words}", "{entities}", "{pairs_scored}", "{seconds:.2f} s",
                                                 "{rss_growth_mb:.0f} MB"))]),
    Table("refactor-check", HISTORY_PAGE, ("precision", "batch", "before, sentences/s", "after, sentences/s",
                                              "change", "test Ent / Rel / Rel+ (both)"), [
        Group(refactor_pairs, ("{before[precision]}", "{before[batch_size]}",
                               "{before[prediction][sentences_per_second]:.1f}",
                               "{after[prediction][sentences_per_second]:.1f}",
                               lambda record: f"{100 * record['change']:+.1f} %", percent_triple("after", "f1")))]),
    Table("training", BENCHMARKS_PAGE, ("config", "sentences/s", "vs the authors' code", "peak memory growth",
                                        "file"), [
        Group(with_authors(lambda: [record for name in ("training_cpu", "training_cpu_bf16")
                                    for record in json_file(f"training/{name}.json")()]),
              ("`{config}`", "{sentences_per_second:.1f}", speed_ratio, "{memory[rss_growth_mb]:.0f} MB",
               "`benchmarks/{path}`")),
        Group(json_file(AUTHORS), (f"{AUTHORS_RUN}, same settings", "{training_sentences_per_second}", "1.00×", "",
                                   "`benchmarks/{path}`"))]),
    Table("server-load", BENCHMARKS_PAGE, ("concurrent clients", "batching req/s", "one at a time req/s", "ratio",
                                           "batching p50 / p95", "one at a time p50 / p95", "errors"), [
        Group(server_modes, ("{clients}", "{batching[requests_per_second]:.1f}",
                             "{alone[requests_per_second]:.1f}",
                             lambda r: f"{r['batching']['requests_per_second'] / r['alone']['requests_per_second']:.2f}×",
                             "{batching[p50_ms]:.0f} / {batching[p95_ms]:.0f} ms",
                             "{alone[p50_ms]:.0f} / {alone[p95_ms]:.0f} ms",
                             "{batching[errors]} / {alone[errors]}")),
        Group(json_file(SERVER), ("offline, batch 32",
                                  lambda r: f"{statistics.mean(r['offline_batch_32_sentences_per_second']):.1f}",
                                  "", "", "", "", ""))]),
    Table("server-memory", BENCHMARKS_PAGE, ("requests answered", "server resident memory"), [
        Group(json_list(SERVER, "memory"), ("{requests:,}", "{rss_mb:.0f} MB"))]),
    Table("int8", BENCHMARKS_PAGE, ("archive", "variant", "test Ent / Rel / Rel+"), [
        Group(int8_per_archive, ("`{archive}`", "{variant}", "{f1}")),
        Group(int8_differences, ("mean difference to float32 ({archives} archives)", "{variant}", "{f1}"))],
        missing=INT8_COMMAND),
    Table("int8-speed", BENCHMARKS_PAGE, ("variant", "batch", "sentences/s", "vs float32",
                                          "predictions changed by the batch size"), [
        Group(lambda: int8_speeds() if data(INT8).exists() else [],
              ("{variant}", "{batch}", "{speed:.1f}", "{ratio:.2f}×", "{changed}"))], missing=INT8_COMMAND),
    Table("context-sweep", BENCHMARKS_PAGE, ("context window, SciERC dev, seed 1", *PLAN_HEADERS), [
        Group(plan_variants("context/sweep"), PLAN_CELLS)], missing=plan_command("context/sweep")),
    Table("context-seeds", BENCHMARKS_PAGE, ("SciERC test, MiniLM, CPU settings", *PLAN_HEADERS), [
        Group(plan_variants("context/seeds"), PLAN_CELLS)], missing=plan_command("context/seeds")),
    Table("context-training-cost", BENCHMARKS_PAGE, (
        "context window (wordpieces)", "training sentences/s", "time per epoch vs the first row",
        "peak memory growth", "date", "file"), [
        Group(json_files("context/training_cpu_window*.json", order=by_window), (
            "{number}", "{sentences_per_second:.1f}",
            lambda record: f"{record['first']['sentences_per_second'] / record['sentences_per_second']:.2f}×",
            "{memory[rss_growth_mb]:.0f} MB", lambda record: record["date"][:10], "`benchmarks/{path}`"))],
        missing="python scripts/benchmark_training.py training_config/cpu/sinet_scierc_minilm_context.jsonnet "
                "--limit 300 -o '{\"dataset_reader.context_window\": 128, \"dataset_reader.context_dropout\": 0}' "
                "--output benchmarks/context/training_cpu_window128.json"),
    Table("context-seeds-dev", BENCHMARKS_PAGE, ("SciERC dev (best epoch), MiniLM", *F1_HEADERS, "seeds"), [
        Group(plan_validation("context/seeds"), ("{label}", *per_task("{{task}}"), "{runs}"))],
        missing=plan_command("context/seeds")),
    Table("context-significance", BENCHMARKS_PAGE, ("context − sentence level, SciERC test", "seed", "model",
                                                    *F1_HEADERS), [
        Group(plan_bootstraps("context/seeds"), ("{label}", "{run}", "{model}", *BOOTSTRAP))],
        missing=plan_command("context/seeds")),
    Table("levers-tuning", BENCHMARKS_PAGE, ("lever, SciERC dev, seed 1", *PLAN_HEADERS), [
        Group(plan_variants("levers/tuning"), PLAN_CELLS)], missing=plan_command("levers/tuning")),
    Table("levers-tuning-significance", BENCHMARKS_PAGE, ("lever − sentence level, SciERC dev", "seed", "model",
                                                          *F1_HEADERS), [
        Group(plan_bootstraps("levers/tuning"), ("{label}", "{run}", "{model}", *BOOTSTRAP))],
        missing=plan_command("levers/tuning")),
    Table("levers-training-cost", BENCHMARKS_PAGE, (
        "lever (its tuning variant)", "training sentences/s: pass 1", "pass 2 (reverse order)", "mean",
        "time per epoch vs sentence level", "peak memory growth", "date", "file (pass 2: under repeat/)"), [
        Group(training_passes("levers/training", "levers/tuning"), (
            "{label}", "{passes[0][sentences_per_second]:.1f}", "{passes[1][sentences_per_second]:.1f}",
            "{speed:.1f}", "{cost:.2f}×", "{memory:.0f} MB", "{dates}", "`benchmarks/{file}`"))],
        missing=LEVERS_TRAINING_COMMAND),
    Table("levers-seeds", BENCHMARKS_PAGE, ("SciERC test, MiniLM, CPU settings", *PLAN_HEADERS), [
        Group(plan_variants("levers/seeds"), PLAN_CELLS)], missing=plan_command("levers/seeds")),
    Table("levers-decision", BENCHMARKS_PAGE, ("lever − sentence level, SciERC dev (best epoch)", "seeds",
                                               "Rel+ difference per seed", "mean ± standard error", "decision"), [
        Group(plan_dev_decision("levers/seeds"), ("{label}", "{runs}", "{differences}", "{estimate}",
                                                  "{decision}"))], missing=plan_command("levers/seeds")),
    Table("levers-significance", BENCHMARKS_PAGE, ("lever − sentence level, SciERC test", "seed", "model",
                                                   *F1_HEADERS), [
        Group(plan_bootstraps("levers/seeds"), ("{label}", "{run}", "{model}", *BOOTSTRAP))],
        missing=plan_command("levers/seeds")),
    Table("context-inference", BENCHMARKS_PAGE, ("context window", "precision", "batch", "sentences/s",
                                                 "time vs the first window", "peak memory growth", "archive"), [
        Group(window_runs, ("{window}", "{precision}", "{batch_size}", "{prediction[sentences_per_second]:.1f}",
                            lambda run: f"{run['first_speed'] / run['prediction']['sentences_per_second']:.2f}×",
                            "{prediction[rss_growth_mb]:.0f} MB", "`{archive}`"))],
        missing=CONTEXT_EFFICIENCY_COMMAND),
    Table("context-probes", BENCHMARKS_PAGE, ("input", "words", "entities", "time", "peak memory growth", "file"), [
        Group(long_sentence_probes("context/efficiency_cpu_*.json"), (
            "{input}", "{words:,}", "{entities}", "{seconds:.2f} s", "{rss_growth_mb:.0f} MB", "`{name}`"))],
        missing=CONTEXT_EFFICIENCY_COMMAND.replace("--precisions float32 bfloat16", "--document-sentences 50")),
    *(table for data_set, title in (("conll04", "CoNLL04"), ("ade", "ADE")) for table in (
        Table(f"cman-{data_set}", CMAN_PAGE, ("system", "encoder", *MICRO_MACRO_HEADERS, "runs"), [
            Group(plan_runner_tables(f"cman/{data_set}", "results_test.csv"), (
                "{label}", "MiniLM-L6, this library", *(lambda row, key=key: micro_macro(row, key)
                                                        for key in (*TASKS, *MACRO_TASKS)), "{runs}")),
            Group(json_file("cman/published.json", data_set), (
                "{system}", "{encoder}, as published", *(f"{{{part}[{index}]}}" for part in ("micro", "macro")
                                                         for index in range(3)), "1"))],
            missing=plan_command(f"cman/{data_set}")),
        Table(f"cman-{data_set}-runs", CMAN_PAGE, ("system", "run", *MICRO_MACRO_HEADERS, "training minutes"), [
            Group(plan_runner_tables(f"cman/{data_set}", "results_test_runs.csv"), (
                "{label}", "{run}", *(f"{{{key}}}" for key in (*TASKS, *MACRO_TASKS)), "{training_minutes}"))],
            missing=plan_command(f"cman/{data_set}")),
        Table(f"cman-significance-{data_set}", CMAN_PAGE, (f"system − SINET, {title} test", "seed", "model",
                                                           *F1_HEADERS), [
            Group(plan_bootstraps(f"cman/{data_set}"), ("{label}", "{run}", "{model}", *BOOTSTRAP))],
            missing=plan_command(f"cman/{data_set}")))),
    Table("cman-differences", CMAN_PAGE, ("difference of the means, test", *MICRO_MACRO_HEADERS,
                                          "training minutes, ratio"), [
        Group(plan_gaps(f"cman/{data_set}", title), ("{label}", *(f"{{{key}}}" for key in (*TASKS, *MACRO_TASKS)),
                                                    "{minutes}"))
        for data_set, title in (("conll04", "CoNLL04"), ("ade", "ADE"))]),
    Table("prediction-bucketing", PREDICTION_PAGE, (
        "precision", "file order, sentences/s (per round)", "bucketed, sentences/s (per round)",
        "bucketed / file order (median)", "identical output"), [
        Group(bucketing_runs, ("{precision}", lambda r: " / ".join(f"{s:.1f}" for s in r["sentences_per_second"]["file_order"]),
                               lambda r: " / ".join(f"{s:.1f}" for s in r["sentences_per_second"]["bucketed"]),
                               "{ratio_bucketed_to_file_order:.2f}×", identical_output))]),
    Table("prediction-long-sentences", PREDICTION_PAGE, ("input", "prediction", "sentences/s"), [
        Group(long_sentence_runs, ("{input}", "{prediction}", "{speed:.1f}"))]),
    Table("extract-memory", PREDICTION_PAGE, ("lines written", "peak resident memory of sinet-extract"), [
        Group(lambda: [{"share": share, "mb": mb, "lines": read_json(data(EXTRACT))["lines"]} for share, mb in
                       read_json(data(EXTRACT))["peak_rss_mb_up_to_fraction_of_lines"].items()],
              ("{share} of {lines:,}", "{mb:.1f} MB")),
        Group(json_file(EXTRACT), ("after the output is complete (the interpreter's teardown)",
                                   "{peak_rss_mb_after_output_complete:.1f} MB"))]),
    Table("extract-run", PREDICTION_PAGE, ("lines", "broken line", "exit status", "error records at lines",
                                           "good lines in input order", "sentences/s after loading"), [
        Group(json_file(EXTRACT), ("{lines:,}", "{broken_line:,}", "{exit_status}",
                                   lambda report: ", ".join(map(str, report["error_record_lines"])),
                                   lambda report: "yes" if report["good_lines_in_input_order"] else "no",
                                   "{sentences_per_s:.0f}"))]),
    Table("quick-model", EXPERIMENTS_PAGE, ("model", "steps", "training minutes", "Ent / Rel / Rel+ F1 %",
                                            "entities / relations in the example sentence"), [
        Group(json_list(QUICK, "epochs"), (
            "after epoch {epoch}, dev", "{steps}", "{training_minutes}", triple("dev", ":.2f"), "")),
        Group(json_file(QUICK, "archive"), (
            "the archive (epoch {best_epoch}'s weights), test", "", "", triple("test", ":.2f"),
            "{entities} / {relations}")),
        Group(json_file(QUICK, "fixture"), (
            "the fixture model, dev", "{steps}", "{training_minutes}", triple("dev", ":.2f"),
            "{entities} / {relations}"))]),
    Table("fidelity-variants", FIDELITY_PAGE, ("SciERC test, MiniLM, CPU settings", *PLAN_HEADERS), [
        Group(plan_variants("fidelity"), PLAN_CELLS)], missing=plan_command("fidelity")),
    Table("fidelity-significance", FIDELITY_PAGE, ("variant − today's model, SciERC test", "seed", "model",
                                                   *F1_HEADERS), [
        Group(plan_bootstraps("fidelity"), ("{label}", "{run}", "{model}", *BOOTSTRAP))],
        missing=plan_command("fidelity")),
    Table("ray-measured", SCALING_PAGE, ("measurement", ""), [Group(ray_measured, ("{what}", "{value}"))]),
    Table("ray-throughput", SCALING_PAGE, ("engine", "threads", "start-up s", "run s (Ray: with the workers' loading)",
                                           "sentences/s, steady", "sentences/s, start to end"), [
        Group(ray_engines, ("{engine}", "{threads}", "{start}", "{run_s:.1f}", "{steady:.1f}", "{whole:.1f}"))]),
    Table("ray-capacity", SCALING_PAGE, ("worker", "sentences/s per worker", "source",
                                         "workers for 80 M sentences in 24 h", "memory per worker"), [
        Group(ray_capacity, ("{worker}", "{rate}", "{source}", "{workers}", "{memory}"))]),
]


# --- the pages ------------------------------------------------------------------------------------

def pages(tables: Sequence[Table] = None) -> Dict[str, Dict[str, Table]]:
    """Each measured page (its path in the repository) and its tables by name."""
    found: Dict[str, Dict[str, Table]] = {}
    for table in TABLES if tables is None else tables:
        found.setdefault(table.page, {})[table.name] = table
    return found


def render(page: str, tables: Dict[str, Table], name: str = "the page") -> str:
    """The page with every table block regenerated; an unknown or missing block is an error."""
    found = [match["name"] for match in BLOCK.finditer(page)]
    unknown, missing = set(found) - set(tables), set(tables) - set(found)
    if unknown or missing:
        raise ValueError(f"{name}: unknown table blocks {sorted(unknown)}, missing {sorted(missing)}")
    return BLOCK.sub(lambda match: match[1] + render_table(tables[match["name"]]) + match[3], page)


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when a table is out of date")
    args = parser.parse_args(argv)
    stale = []
    for name, tables in pages().items():
        path = REPO / name
        page = path.read_text(encoding="utf-8")
        generated = render(page, tables, name)
        if args.check:
            if generated != page:
                stale.append(name)
                print(f"{name} is out of date: run python scripts/make_benchmark_tables.py", file=sys.stderr)
            continue
        path.write_text(generated, encoding="utf-8")
        print(f"wrote {name} ({len(tables)} tables)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
