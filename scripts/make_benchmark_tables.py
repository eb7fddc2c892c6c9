#!/usr/bin/env python
"""Regenerates the tables of the measured pages (docs/benchmarks.md, cman.md, fidelity.md and the
README's accuracy table) from the measured outputs under benchmarks/.

    python scripts/make_benchmark_tables.py           # rewrite the tables in the pages
    python scripts/make_benchmark_tables.py --check   # exit 1 if a table differs from its data

Each table sits between `<!-- table: NAME -->` and `<!-- end table -->`; everything outside those
markers is prose and stays as written. The data are the runner's CSV tables (`allennlp
sinet-experiment`), the JSON files of the benchmark scripts and of `allennlp sinet-significance`,
and, under benchmarks/runs/, the per-run figures of the lab notebook with their dates, machine and
commands. No figure is typed into the page: change the data, then rerun this script.
"""
import argparse
import csv
import json
import re
import statistics
import sys
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Sequence

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"
RUNS = BENCHMARKS / "runs"
BLOCK = re.compile(r"(<!-- table: (?P<name>[\w-]+) -->\n).*?(<!-- end table -->)", re.S)
TASKS = ("ent_f1", "rel_f1", "rel_strict_f1")
SEED_ORDER = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "13")


# --- reading ------------------------------------------------------------------------------------

def read_csv(path: Path) -> List[Dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def runner_row(file_name: str) -> Dict[str, str]:
    """The single config row of a runner table (benchmarks/<name>.csv)."""
    (row,) = read_csv(BENCHMARKS / file_name)
    return row


def runs(recipe: str, model: str, decoding: str = "overlapping") -> Dict[str, Dict[str, str]]:
    """Per seed, the SciERC test figures of one recipe's best or final models."""
    return {row["seed"]: row for row in read_csv(RUNS / "scierc_minilm_runs.csv")
            if (row["recipe"], row["model"], row["decoding"]) == (recipe, model, decoding)}


# --- formatting ---------------------------------------------------------------------------------

def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def triple(row: Dict[str, str]) -> str:
    return " / ".join(row[task] for task in TASKS)


def mean_std(values: Sequence[float]) -> str:
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def mean_std_triple(rows: Iterable[Dict[str, str]]) -> str:
    rows = list(rows)
    return " / ".join(mean_std([float(row[task]) for row in rows]) for task in TASKS)


def runner_cells(row: Dict[str, str]) -> List[str]:
    return [f"{row[task + '_mean']} ± {row[task + '_std']}" for task in TASKS]


def minutes_range(rows: Iterable[Dict[str, str]]) -> str:
    times = [float(row["training_minutes"]) for row in rows if row["training_minutes"]]
    return f"{min(times):.1f} - {max(times):.1f} min"


def ordered(by_seed: Dict[str, Dict[str, str]]) -> List[Dict[str, str]]:
    return [by_seed[seed] for seed in SEED_ORDER if seed in by_seed]


# --- the tables ---------------------------------------------------------------------------------

def authors_code() -> Dict:
    return read_json(RUNS / "authors_code_scierc_minilm.json")


def scierc_summary() -> str:
    authors = authors_code()
    rows = [["authors' code, final model, one run (target)", *(f"{authors['test'][t]:.2f}" for t in TASKS),
             f"{authors['training_minutes']} min"]]
    for recipe, label in (("eps1e-6", "sinet_allen"), ("eps1e-8", "sinet_allen, AdamW eps 1e-8 (until session 7)")):
        tables = read_json(RUNS / "scierc_minilm_recipes.json")["recipes"][recipe]["runner_tables"]
        final = runner_row(tables["final"])
        rows.append([f"{label}, final model, mean ± std of {final['runs']} seeds", *runner_cells(final),
                     minutes_range(runs(recipe, "final").values())])
        best = runner_row(tables["best"])
        rows.append([f"{label}, best dev Rel+ model (the config's selection), {best['runs']} seeds",
                     *runner_cells(best), ""])
    final = ordered(runs("eps1e-6", "final"))
    gaps = []
    for task in TASKS:
        values = [float(row[task]) for row in final]
        error = statistics.stdev(values) / len(values) ** 0.5
        gaps.append(f"{statistics.mean(values) - authors['test'][task]:+.2f} (± {error:.2f})")
    rows.append(["sinet_allen final models − authors' code (standard error of our mean)", *gaps, ""])
    return table(["SciERC test, F1 %", "Ent", "Rel", "Rel+", "training time (15 epochs, dev evaluation included)"],
                 rows)


def seeds_eps1e_6() -> str:
    best, final = runs("eps1e-6", "best"), runs("eps1e-6", "final")
    other_final = runs("eps1e-8", "final")
    return table(["seed", "best dev Rel+ model: Ent / Rel / Rel+", "best epoch (of 0-14)",
                  "final model: Ent / Rel / Rel+", "training wall time", "final Rel+ with eps 1e-8, same seed"],
                 ([seed, triple(best[seed]), best[seed]["best_epoch"], triple(final[seed]),
                   f"{final[seed]['training_minutes']} min", other_final[seed]["rel_strict_f1"]]
                  for seed in SEED_ORDER))


def seeds_eps1e_8() -> str:
    best, final = runs("eps1e-8", "best"), runs("eps1e-8", "final")
    return table(["seed", "best dev Rel+ model: Ent / Rel / Rel+", "best epoch (of 0-14)",
                  "final model: Ent / Rel / Rel+", "training wall time"],
                 ([seed, triple(best[seed]), best[seed]["best_epoch"], triple(final[seed]),
                   f"{final[seed]['training_minutes']} min"] for seed in SEED_ORDER))


def plain_dropout() -> str:
    best, final = runs("plain_dropout", "best"), runs("plain_dropout", "final")
    seeds = list(best)  # in the order of the runs
    rows = [[seed, triple(best[seed]), triple(final[seed])] for seed in seeds]
    rows.append([f"mean ± std, {len(seeds)} runs", mean_std_triple(best.values()), mean_std_triple(final.values())])
    return table(["seed", "best dev Rel+ model: Ent / Rel / Rel+", "final model: Ent / Rel / Rel+"], rows)


def bfloat16() -> str:
    bf16, float32 = runs("bf16", "best"), runs("plain_dropout", "best")
    rows = [[seed, triple(row), row["best_epoch"], f"{row['training_minutes']} min", triple(float32[seed])]
            for seed, row in bf16.items()]
    summary = runner_row("sinet_scierc_minilm_bf16_seeds.csv")
    rows.append(["mean ± std", " / ".join(runner_cells(summary)), "", "",
                 mean_std_triple(float32[seed] for seed in bf16)])
    return table(["seed", "Ent / Rel / Rel+", "best epoch", "training wall time",
                  "float32, same seed, also before FastDropout"], rows)


def shuffled_batches() -> str:
    best, final = runs("shuffle_eps1e-6", "best"), runs("shuffle_eps1e-6", "final")
    bucketed = runs("eps1e-6", "final")
    rows = [[seed, triple(best[seed]), best[seed]["best_epoch"], triple(final[seed]),
             f"{final[seed]['training_minutes']} min", triple(bucketed[seed])] for seed in best]
    rows.append(["mean ± std", mean_std_triple(best.values()), "", mean_std_triple(final.values()), "",
                 mean_std_triple(bucketed[seed] for seed in best)])
    return table(["seed", "best dev Rel+ model: Ent / Rel / Rel+", "best epoch", "final model: Ent / Rel / Rel+",
                  "training wall time", "bucketed (eps 1e-6 runs), final model"], rows)


def dev_curves() -> Dict[tuple, str]:
    """Dev Rel+ per epoch (as printed, comma-separated) of the runs whose curve was recorded."""
    return {(row["recipe"], row["seed"]): row["dev_rel_strict_f1_per_epoch"].replace(" ", ", ")
            for row in read_csv(RUNS / "scierc_minilm_dev_curves.csv")}


def single_runs() -> str:
    rows = []
    for (recipe, seed), curve in dev_curves().items():
        if recipe.startswith("ablation_cpu/"):
            continue
        best, final = runs(recipe, "best")[seed], runs(recipe, "final").get(seed)
        time = best["training_minutes"] or (final or {}).get("training_minutes")
        rows.append([recipe, seed, best["best_epoch"], triple(best), triple(final) if final else "",
                     f"{time} min" if time else "", curve])
    return table(["recipe", "seed", "best epoch", "test, best dev model", "test, final model", "training",
                  "dev Rel+ per epoch"], rows)


def flat_decoding() -> str:
    authors = authors_code()
    kept, flat = ordered(runs("eps1e-6", "final")), ordered(runs("eps1e-6", "final", "flat"))
    rows = [["authors' code, one run (target)", *(f"{authors['test'][t]:.2f}" for t in TASKS)],
            ["test, overlaps kept (the paper's decoding, the default)",
             *(mean_std([float(r[t]) for r in kept]) for t in TASKS)],
            ["test, flat", *(mean_std([float(r[t]) for r in flat]) for t in TASKS)]]
    differences = []
    for task in TASKS:
        gaps = [float(f[task]) - float(k[task]) for f, k in zip(flat, kept)]
        differences.append(f"{statistics.mean(gaps):+.2f} ({sum(gap > 0 for gap in gaps)} of {len(gaps)})")
    rows.append(["test, flat − kept, same run: mean (higher in)", *differences])
    dev = read_json(RUNS / "scierc_minilm_flat_dev.json")
    for key, label in (("overlapping", "dev, overlaps kept"), ("flat", "dev, flat")):
        rows.append([label, *(f"{dev[key][t][0]:.2f} ± {dev[key][t][1]:.2f}" for t in TASKS)])
    rows.append(["dev, flat − kept, same run: mean (higher in)",
                 *(f"{dev['flat_minus_overlapping'][t][0]:+.2f} ({dev['flat_minus_overlapping'][t][1]} of "
                   f"{dev['runs']})" for t in TASKS)])
    return table([f"final models, {len(kept)} runs", "Ent", "Rel", "Rel+"], rows)


def flat_per_seed() -> str:
    flat = runs("eps1e-6", "final", "flat")
    return table(["seed", "test, flat: Ent / Rel / Rel+"], ([seed, triple(flat[seed])] for seed in SEED_ORDER))


def make_train() -> str:
    def prf(row, task):
        return " / ".join(row[f"{task}_{part}"] for part in ("precision", "recall", "f1"))

    rows = [[f"{row['date']} ({row['session']})" + (f", {row['note']}" if row["note"] else ""), row["adamw_eps"],
             prf(row, "ent"), prf(row, "rel"), prf(row, "rel_strict"),
             f"{int(row['wall_seconds']) // 60} min {int(row['wall_seconds']) % 60} s"]
            for row in read_csv(RUNS / "make_train.csv")]
    return table(["date (session)", "AdamW eps", "Ent (P / R / F1)", "Rel (P / R / F1)", "Rel+ (P / R / F1)",
                  "wall time"], rows)


ABLATION_NAMES = {"base": "Base", "base_tap": "Base+TAP", "base_tap_ctam_ner": "Base+TAP+CTAM_NER",
                  "base_tap_ctam_re": "Base+TAP+CTAM_RE", "sinet_scierc": "SINET"}


def ablation(file_name: str, with_curves: bool) -> str:
    curves = dev_curves()
    header = ["config", "Ent", "Rel", "Rel+", "runs"] + (["dev Rel+ per epoch, seed 1"] if with_curves else [])
    rows = []
    for row in read_csv(BENCHMARKS / file_name):
        cells = [ABLATION_NAMES[row["config"]], *(row[f"{task}_mean"] for task in TASKS), row["runs"]]
        rows.append(cells + ([curves[(f"ablation_cpu/{row['config']}", "1")]] if with_curves else []))
    return table(header, rows)


def bootstrap_cells(report: Dict) -> List[str]:
    """B − A in F1 points and the p value, per task, of a `sinet-significance --output` report."""
    return [f"{100 * report[task]['delta']:+.2f} (p = {report[task]['p_value']:.3f})"
            for task in (name.removesuffix("_f1") for name in TASKS)]


def significance() -> str:
    rows = []
    for path in sorted(BENCHMARKS.glob("significance_*.json")):
        report = read_json(path)
        system_a = report["system_a"].split("/")[-3]
        rows.append([f"SINET vs {system_a}", *bootstrap_cells(report), f"`benchmarks/{path.name}`"])
    return table(["paired bootstrap, dev", "Ent", "Rel", "Rel+", "file"], rows)


def inference() -> str:
    report = read_json(BENCHMARKS / "efficiency_cpu.json")
    rows = [[run["precision"], str(run["batch_size"]), f"{run['prediction']['sentences_per_second']:.1f}",
             f"{run['encoder']['sentences_per_second']:.1f}", f"{run['prediction_to_encoder_time']:.2f}",
             f"{run['prediction']['rss_growth_mb']:.0f} MB",
             " / ".join(f"{100 * run['f1'][task]:.2f}" for task in TASKS)] for run in report["runs"]]
    authors = authors_code()["prediction"]
    rows.append(["authors' code", "1 / 32", f"{authors['batch_1_sentences_per_second']} / "
                 f"{authors['batch_32_sentences_per_second']}", "", "", f"{authors['batch_32_peak_memory_gb']} GB "
                 "at batch 32", ""])
    return table(["precision", "batch", "sentences/s", "encoder alone, sentences/s", "whole / encoder time",
                  "peak memory growth", "test Ent / Rel / Rel+"], rows)


def refactor_check() -> str:
    """Prediction speed of one archive before and after issue 21's refactor, measured back to back."""
    reports = {side: read_json(BENCHMARKS / "refactor" / f"efficiency_cpu_{side}.json") for side in ("before", "after")}
    rows = []
    for before, after in zip(reports["before"]["runs"], reports["after"]["runs"]):
        speeds = [run["prediction"]["sentences_per_second"] for run in (before, after)]
        rows.append([before["precision"], str(before["batch_size"]), f"{speeds[0]:.1f}", f"{speeds[1]:.1f}",
                     f"{100 * (speeds[1] / speeds[0] - 1):+.1f} %",
                     " / ".join(f"{100 * after['f1'][task]:.2f}" for task in TASKS)])
    return table(["precision", "batch", "before, sentences/s", "after, sentences/s", "change",
                  "test Ent / Rel / Rel+ (both)"], rows)


def long_sentence() -> str:
    probe = read_json(BENCHMARKS / "efficiency_cpu.json")["long_sentence"]
    rows = [[mode, str(probe["words"]), str(probe[mode]["entities"]), str(probe[mode]["pairs_scored"]),
             f"{probe[mode]['seconds']:.2f} s", f"{probe[mode]['rss_growth_mb']:.0f} MB"]
            for mode in ("as_is", "all_spans_kept")]
    return table(["model", "words", "entities kept", "pairs scored", "time", "peak memory growth"], rows)


def training_throughput() -> str:
    authors = authors_code()["training_sentences_per_second"]
    rows = []
    for name in ("training_cpu.json", "training_cpu_bf16.json"):
        report = read_json(BENCHMARKS / name)
        speed = report["sentences_per_second"]
        rows.append([f"`{report['config']}`", f"{speed:.1f}", f"{speed / authors:.2f}×",
                     f"{report['memory']['rss_growth_mb']:.0f} MB", f"`benchmarks/{name}`"])
    rows.append(["authors' code, same settings", f"{authors}", "1.00×", "",
                 "`benchmarks/runs/authors_code_scierc_minilm.json`"])
    return table(["config", "sentences/s", "vs the authors' code", "peak memory growth", "file"], rows)


def server_load() -> str:
    report = read_json(BENCHMARKS / "server_cpu.json")
    rows = [[str(level["clients"]), str(level["requests"]), f"{level['requests_per_second']:.1f}",
             f"{level['p50_ms']:.0f} ms", f"{level['p95_ms']:.0f} ms", str(level["errors"])]
            for level in report["levels"]]
    return table(["concurrent clients", "requests", "requests/s", "p50 latency", "p95 latency", "errors"], rows)


def server_memory() -> str:
    report = read_json(BENCHMARKS / "server_cpu.json")
    rows = [[f"{sample['requests']:,}", f"{sample['rss_mb']:.0f} MB"] for sample in report["memory"]]
    return table(["requests answered", "server resident memory"], rows)


# --- paired comparisons recorded by scripts/run_paired_variants.py (fidelity.md, cman.md, context) ----

FIDELITY = BENCHMARKS / "fidelity"
CONTEXT = BENCHMARKS / "context"
CMAN = BENCHMARKS / "cman"


INT8 = BENCHMARKS / "int8"
INT8_COMMAND = ("python scripts/benchmark_int8.py ARCHIVE [ARCHIVE ...] --dev <data>/scierc/dev.json "
                "--test <data>/scierc/test.json --output benchmarks/int8/summary.json")


def int8_accuracy() -> str:
    """Per archive and variant of `benchmarks/int8/summary.json`, test F1; then per variant the mean
    difference to float32 on dev (where the recipe is chosen) and on test."""
    if not (INT8 / "summary.json").exists():
        return not_measured(INT8_COMMAND)
    report = read_json(INT8 / "summary.json")
    rows = [[f"`{archive['archive']}`", name, " / ".join(f"{figures[task]:.2f}" for task in TASKS)]
            for archive in report["archives"] for name, figures in archive["test"].items()]
    for name, dev in report["mean_difference_to_float32"]["dev"].items():
        test = report["mean_difference_to_float32"]["test"][name]
        rows.append([f"mean difference to float32 ({dev['archives']} archives)", name,
                     "dev " + " / ".join(f"{dev[task]:+.2f}" for task in TASKS)
                     + ", test " + " / ".join(f"{test[task]:+.2f}" for task in TASKS)])
    return table(["archive", "variant", "test Ent / Rel / Rel+"], rows)


def int8_speed() -> str:
    """Sentences/s per variant and batch size of `benchmarks/int8/summary.json`, against float32."""
    if not (INT8 / "summary.json").exists():
        return not_measured(INT8_COMMAND)
    report = read_json(INT8 / "summary.json")
    speeds = report["mean_sentences_per_second"]
    timed = [archive["speed"] for archive in report["archives"] if "speed" in archive]
    differing = {name: sum(speed["differing_sentences"][name] for speed in timed) for name in speeds}
    sentences = sum(speed["sentences"] for speed in timed)
    rows = [[name, size, f"{value:.1f}", f"{value / speeds['float32'][size]:.2f}×",
             f"{differing[name]} of {sentences}"] for name, sizes in speeds.items() for size, value in sizes.items()]
    return table(["variant", "batch", "sentences/s", "vs float32", "predictions changed by the batch size"], rows)


def plan_command(folder: Path) -> str:
    return f"python scripts/run_paired_variants.py benchmarks/{folder.relative_to(BENCHMARKS).as_posix()}/plan.json"


def not_measured(command: str) -> str:
    """What a table of measurements not yet taken shows: the command that takes them."""
    return f"Not measured yet: `{command}`.\n"


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


def paired_deltas(folder: Path, plan: Dict, variant: str, model: str) -> Dict[str, Dict[str, float]]:
    """Per run the variant and its plan's baseline both have, per task, the variant's F1 minus the baseline's."""
    runs = recorded_runs(folder, variant, plan["split"], model)
    baseline = recorded_runs(folder, plan["baseline"], plan["split"], model)
    return {run: {task: float(runs[run][task]) - float(baseline[run][task]) for task in TASKS}
            for run in sorted(set(runs) & set(baseline))}


PAIRED_HEADER = ("model", "Ent", "Rel", "Rel+", "Δ Ent", "Δ Rel", "Δ Rel+", "seeds")


def paired_rows(folder: Path) -> List[List[str]]:
    """The recorded runs of a plan: per variant and model, mean ± std over its runs, the mean of the
    per-run differences from the baseline over the runs both have, and the runs."""
    plan = read_json(folder / "plan.json")
    rows = []
    for model in plan.get("models", ["best"]):
        for variant, label in plan_labels(folder).items():
            runs = recorded_runs(folder, variant, plan["split"], model)
            if not runs:
                continue
            cells = (runner_cells(read_csv(runner_results(folder, variant, plan["split"], model, per_run=False))[0])
                     if len(runs) > 1 else [next(iter(runs.values()))[task] for task in TASKS])
            deltas = paired_deltas(folder, plan, variant, model)
            means = ([f"{statistics.mean(delta[task] for delta in deltas.values()):+.2f}" for task in TASKS]
                     if variant != plan["baseline"] and deltas else ["", "", ""])
            rows.append([label, "best dev" if model == "best" else model, *cells, *means,
                         ", ".join(run.removeprefix("seed") for run in sorted(runs, key=run_order))])
    return rows


def paired_summary(folder: Path, title: str) -> str:
    rows = paired_rows(folder)
    return table([title, *PAIRED_HEADER], rows) if rows else not_measured(plan_command(folder))


def paired_validation(folder: Path, title: str) -> str:
    """Per variant of a plan, its runs' best validation figures (the dev scores that chose each
    best-dev model, from the runs' `metrics.json`): mean ± std and the runs."""
    rows = []
    for variant, label in plan_labels(folder).items():
        records = {"/".join(path.parent.relative_to(folder / variant).parts[1:]): read_json(path)
                   for path in (folder / variant).glob("*/seed*/**/metrics.json")}  # <config>/seed1[/fold0]
        if len(records) > 1:
            rows.append([label, *(mean_std([100 * record[f"best_validation_{task}"] for record in records.values()])
                                  for task in TASKS),
                         ", ".join(run.removeprefix("seed") for run in sorted(records, key=run_order))])
    return table([title, "Ent", "Rel", "Rel+", "seeds"], rows) if rows else not_measured(plan_command(folder))


def readme_accuracy() -> str:
    """The README's accuracy table: the authors' code's run, then our sentence-level and context
    models over the same seeds (docs/benchmarks.md, "Cross-sentence context")."""
    authors = authors_code()["test"]
    reference = ["the authors' code (sentence level), one run", "final", *(f"{authors[task]:.2f}" for task in TASKS),
                 "", "", "", ""]
    return table(["SciERC test, MiniLM-L6, CPU settings, F1 %", *PAIRED_HEADER],
                 [reference, *paired_rows(CONTEXT / "seeds")])


def nearest_the_mean(folder: Path, plan: Dict, variant: str, model: str) -> str:
    """The run (as bootstrap files name it, `seed1-fold0`) whose Rel+ difference from the baseline
    is nearest the mean difference: the pair whose bootstrap is the typical one."""
    deltas = {run: delta["rel_strict_f1"] for run, delta in paired_deltas(folder, plan, variant, model).items()}
    if not deltas:
        return ""
    mean = statistics.mean(deltas.values())
    return min(deltas, key=lambda run: (abs(deltas[run] - mean), run)).replace("/", "-")


def paired_significance(folder: Path, title: str) -> str:
    """The plan's paired bootstraps against its baseline (`significance_<variant>_<run>_<model>.json`),
    the run nearest the mean marked."""
    plan, labels, rows = read_json(folder / "plan.json"), plan_labels(folder), []
    typical = {(variant, model): nearest_the_mean(folder, plan, variant, model)
               for variant in labels for model in plan.get("models", ["best"])}
    for path in sorted(folder.glob("significance_*.json")):
        variant, run, model = path.stem.removeprefix("significance_").rsplit("_", 2)
        mark = " (nearest the mean)" if run == typical[variant, model] else ""
        rows.append([labels[variant], run.removeprefix("seed") + mark, "best dev" if model == "best" else model,
                     *bootstrap_cells(read_json(path))])
    if not rows:
        return not_measured(plan_command(folder))
    return table([title, "seed", "model", "Ent", "Rel", "Rel+"], rows)


def context_training_cost() -> str:
    """Training throughput per context window (`benchmarks/context/training_cpu_window<N>.json`)."""
    reports = sorted(CONTEXT.glob("training_cpu_window*.json"),
                     key=lambda path: int(path.stem.removeprefix("training_cpu_window")))
    if not reports:
        return not_measured("python scripts/benchmark_training.py training_config/cpu/sinet_scierc_minilm_context.jsonnet "
                            "--limit 300 --output benchmarks/context/training_cpu_window128.json")
    baseline = read_json(reports[0])["sentences_per_second"]
    rows = []
    for path in reports:
        report = read_json(path)
        speed = report["sentences_per_second"]
        rows.append([path.stem.removeprefix("training_cpu_window"), f"{speed:.1f}", f"{baseline / speed:.2f}×",
                     f"{report['memory']['rss_growth_mb']:.0f} MB", report["date"][:10], f"`benchmarks/context/{path.name}`"])
    return table(["context window (wordpieces)", "training sentences/s", "time per epoch vs the first row",
                  "peak memory growth", "date", "file"], rows)


CONTEXT_EFFICIENCY_COMMAND = ("python scripts/benchmark_efficiency.py ARCHIVE $SINET_DATA_DIR/scierc_dygie/test.jsonl "
                              "--precisions float32 bfloat16 -o '{\"validation_dataset_reader.context_window\": N}' "
                              "--output benchmarks/context/efficiency_cpu_windowN.json")


def context_inference() -> str:
    """Prediction speed per context window (`benchmarks/context/efficiency_cpu_window<N>.json`),
    precision and batch size, against the smallest window, with the archive each was measured on
    (a model trained with the window or one read with it through `-o`)."""
    reports = sorted((int(path.stem.removeprefix("efficiency_cpu_window")), read_json(path))
                     for path in CONTEXT.glob("efficiency_cpu_window*.json"))
    if not reports:
        return not_measured(CONTEXT_EFFICIENCY_COMMAND)
    first_speed = {(run["precision"], run["batch_size"]): run["prediction"]["sentences_per_second"]
                   for run in reports[0][1]["runs"]}
    rows = []
    for window, report in reports:
        for run in report["runs"]:
            speed = run["prediction"]["sentences_per_second"]
            rows.append([str(window), run["precision"], str(run["batch_size"]), f"{speed:.1f}",
                         f"{first_speed[run['precision'], run['batch_size']] / speed:.2f}×",
                         f"{run['prediction']['rss_growth_mb']:.0f} MB", f"`{Path(report['archive']).parent}`"])
    return table(["context window", "precision", "batch", "sentences/s", "time vs the first window",
                  "peak memory growth", "archive"], rows)


def context_probes() -> str:
    """The long-sentence and document probes of `benchmarks/context/efficiency_cpu_*.json`."""
    rows = []
    for path in sorted(CONTEXT.glob("efficiency_cpu_*.json")):
        report = read_json(path)
        probe, document = report["long_sentence"], report.get("document")
        if probe:
            rows += [[f"one sentence ({mode.replace('_', ' ')})", f"{probe['words']:,}", str(probe[mode]["entities"]),
                      f"{probe[mode]['seconds']:.2f} s", f"{probe[mode]['rss_growth_mb']:.0f} MB", f"`{path.name}`"]
                     for mode in ("as_is", "all_spans_kept")]
        if document:
            rows.append([f"a document of {document['sentences']} sentences", f"{document['words']:,}",
                         str(document["entities"]), f"{document['seconds']:.2f} s",
                         f"{document['rss_growth_mb']:.0f} MB", f"`{path.name}`"])
    if not rows:
        return not_measured(CONTEXT_EFFICIENCY_COMMAND.replace("--precisions float32 bfloat16", "--document-sentences 50"))
    return table(["input", "words", "entities", "time", "peak memory growth", "file"], rows)


# --- CMAN against SINET (docs/cman.md) -----------------------------------------------------------


def variant_rows(folder: Path, table_name: str) -> Dict[str, List[Dict[str, str]]]:
    """Per variant label of the plan in `folder` that has recorded runs, the rows of its runner
    table `table_name` (`results_test.csv`, `results_test_runs.csv`)."""
    return {label: read_csv(folder / name / table_name) for name, label in plan_labels(folder).items()
            if (folder / name / table_name).exists()}


def micro_macro_cells(row: Dict[str, str]) -> List[str]:
    return [f"{row[key + '_mean']} ± {row[key + '_std']}" if int(row["runs"]) > 1 else row[key + "_mean"]
            for key in (*TASKS, *(task.replace("_f1", "_macro_f1") for task in TASKS))]


def cman_summary(data: str) -> str:
    measured = variant_rows(CMAN / data, "results_test.csv")
    if not measured:
        return not_measured(plan_command(CMAN / data))
    rows = [[label, "MiniLM-L6, this library", *micro_macro_cells(row), row["runs"]]
            for label, (row,) in measured.items()]
    published = read_json(CMAN / "published.json")[data]
    rows.append([published["system"], f"{published['encoder']}, as published", *published["micro"],
                 *published["macro"], "1"])
    return table(["system", "encoder", "Ent", "Rel", "Rel+", "Ent macro", "Rel macro", "Rel+ macro", "runs"], rows)


def cman_runs(data: str) -> str:
    measured = variant_rows(CMAN / data, "results_test_runs.csv")
    if not measured:
        return not_measured(plan_command(CMAN / data))
    rows = [[label, row["run"], *(row[task] for task in TASKS),
             *(row[task.replace("_f1", "_macro_f1")] for task in TASKS), row["training_minutes"]]
            for label, runs in measured.items() for row in runs]
    return table(["system", "run", "Ent", "Rel", "Rel+", "Ent macro", "Rel macro", "Rel+ macro", "training minutes"],
                 rows)


BENCHMARK_TABLES: Dict[str, Callable[[], str]] = {
    "scierc-summary": scierc_summary,
    "seeds-eps1e-6": seeds_eps1e_6,
    "seeds-eps1e-8": seeds_eps1e_8,
    "plain-dropout": plain_dropout,
    "bfloat16": bfloat16,
    "shuffled-batches": shuffled_batches,
    "single-runs": single_runs,
    "flat-decoding": flat_decoding,
    "flat-per-seed": flat_per_seed,
    "make-train": make_train,
    "ablation": lambda: ablation("ablation_cpu.csv", with_curves=True),
    "ablation-eps1e-8": lambda: ablation("ablation_cpu_eps1e-8.csv", with_curves=False),
    "significance": significance,
    "inference": inference,
    "int8": int8_accuracy,
    "int8-speed": int8_speed,
    "long-sentence": long_sentence,
    "refactor-check": refactor_check,
    "training": training_throughput,
    "server-load": server_load,
    "server-memory": server_memory,
    "context-sweep": lambda: paired_summary(CONTEXT / "sweep", "context window, SciERC dev, seed 1"),
    "context-seeds": lambda: paired_summary(CONTEXT / "seeds", "SciERC test, MiniLM, CPU settings"),
    "context-training-cost": context_training_cost,
    "context-seeds-dev": lambda: paired_validation(CONTEXT / "seeds", "SciERC dev (best epoch), MiniLM"),
    "context-significance": lambda: paired_significance(CONTEXT / "seeds", "context − sentence level, SciERC test"),
    "context-inference": context_inference,
    "context-probes": context_probes,
}
CMAN_TABLES: Dict[str, Callable[[], str]] = {
    "cman-conll04": lambda: cman_summary("conll04"),
    "cman-conll04-runs": lambda: cman_runs("conll04"),
    "cman-ade": lambda: cman_summary("ade"),
    "cman-ade-runs": lambda: cman_runs("ade"),
    "cman-significance-conll04": lambda: paired_significance(CMAN / "conll04", "system − SINET, CoNLL04 test"),
    "cman-significance-ade": lambda: paired_significance(CMAN / "ade", "system − SINET, ADE test"),
}
# Each measured page (its path in the repository) and the tables it holds.
PAGES: Dict[str, Dict[str, Callable[[], str]]] = {
    "README.md": {"readme-accuracy": readme_accuracy},
    "docs/benchmarks.md": BENCHMARK_TABLES,
    "docs/cman.md": CMAN_TABLES,
    "docs/fidelity.md": {
        "fidelity-variants": lambda: paired_summary(FIDELITY, "SciERC test, MiniLM, CPU settings"),
        "fidelity-significance": lambda: paired_significance(FIDELITY, "variant − today's model, SciERC test"),
    },
}


def render(page: str, tables: Dict[str, Callable[[], str]], name: str = "the page") -> str:
    """The page with every table block regenerated; an unknown or missing block is an error."""
    found = [match["name"] for match in BLOCK.finditer(page)]
    unknown, missing = set(found) - set(tables), set(tables) - set(found)
    if unknown or missing:
        raise ValueError(f"{name}: unknown table blocks {sorted(unknown)}, missing {sorted(missing)}")
    return BLOCK.sub(lambda match: match[1] + tables[match["name"]]() + match[3], page)


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 when a table is out of date")
    args = parser.parse_args(argv)
    stale = []
    for name, tables in PAGES.items():
        path = REPO / name
        page = path.read_text(encoding="utf-8")
        generated = render(page, tables, str(path.relative_to(REPO)))
        if args.check:
            if generated != page:
                stale.append(path)
                print(f"{path.relative_to(REPO)} is out of date: run python scripts/make_benchmark_tables.py",
                      file=sys.stderr)
            continue
        path.write_text(generated, encoding="utf-8")
        print(f"wrote {path.relative_to(REPO)} ({len(tables)} tables)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
