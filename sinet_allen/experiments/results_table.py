"""The results table of a grid: per config the mean ± sample standard deviation of the F1 scores
over its complete runs (seeds, and folds where there are folds), in percent, as Markdown and CSV
in the layout of the paper's Tables 2 and 4 (config, Ent, Rel, Rel+, then the number of runs)."""
import csv
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy

from sinet_allen.experiments.grid import evaluation_name, metrics_file
from sinet_allen.files import atomic_output
from sinet_allen.metrics.joint_ie_f1 import TASK_LABELS

logger = logging.getLogger(__name__)


@dataclass
class Row:
    config: str
    runs: int
    scores: Dict[str, Tuple[float, float]]  # metric key -> (mean, std) in percent


def columns(macro: bool) -> List[Tuple[str, str]]:
    """(metric key, header) per column: each task's micro F1, with `macro` followed by its macro F1."""
    result = []
    for task, label in TASK_LABELS.items():
        result.append((f"{task}_f1", label))
        if macro:
            result.append((f"{task}_macro_f1", f"{label} macro"))
    return result


def collect_rows(output_dir: Path, split: str, configs: Optional[Sequence[str]] = None,
                 macro: bool = False, model: str = "best") -> List[Row]:
    """One row per config folder (in the given order, else alphabetical) that has runs evaluated
    on `split` with their `model` ("best" or "final")."""
    keys = [key for key, _ in columns(macro)]
    rows = []
    for name, runs in collect_runs(output_dir, split, configs, macro, model).items():
        scores = {key: mean_std([run[key] for run in runs.values()]) for key in keys}
        rows.append(Row(name, len(runs), scores))
    return rows


def collect_runs(output_dir: Path, split: str, configs: Optional[Sequence[str]] = None, macro: bool = False,
                 model: str = "best") -> Dict[str, Dict[str, Dict[str, float]]]:
    """Per config folder with complete runs, each run's scores (fractions) by its folder below the
    config's (`seed1`, `seed1/fold0`)."""
    output_dir = Path(output_dir)
    names = configs or sorted(path.name for path in output_dir.iterdir() if path.is_dir())
    keys = [key for key, _ in columns(macro)]
    found = {}
    for name in names:
        config_dir = output_dir / name
        runs = {path.parent.relative_to(config_dir).as_posix(): _run_scores(path, keys)
                for path in _run_metrics_files(config_dir, split, model)}
        if not runs:
            logger.warning("%s: no complete run on the %s split (%s model)", config_dir, split, model)
            continue
        found[name] = runs
    return found


def _run_metrics_files(config_dir: Path, split: str, model: str) -> List[Path]:
    run_dirs = sorted(config_dir.glob("seed*")) + sorted(config_dir.glob("seed*/fold*"))
    files = [metrics_file(run_dir, split, model) for run_dir in run_dirs]
    return [file for file in files if file.exists()]


def _run_scores(path: Path, keys: Sequence[str]) -> Dict[str, float]:
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
        return {key: float(metrics[key]) for key in keys}
    except (ValueError, KeyError, TypeError) as error:  # JSONDecodeError is a ValueError
        raise ValueError(f"{path}: not the metrics of a finished evaluation ({type(error).__name__}: {error}); "
                         "delete it and run the grid again to evaluate that run afresh") from None


def mean_std(values: Sequence[float]) -> Tuple[float, float]:
    """Mean and sample standard deviation (0 for a single run) of fractions, in percent."""
    percent = 100 * numpy.asarray(values, dtype=float)
    std = float(percent.std(ddof=1)) if len(percent) > 1 else 0.0
    return float(percent.mean()), std


def to_markdown(rows: Sequence[Row], split: str, macro: bool = False, model: str = "best") -> str:
    headers = ["Config"] + [label for _, label in columns(macro)] + ["Runs"]
    models = "best dev models" if model == "best" else f"{model} models"
    lines = [
        f"F1 (%) on the {split} split ({models}), mean ± sample standard deviation over the runs.",
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(headers) - 1)) + "|",
    ]
    for row in rows:
        # One run has no standard deviation: show the mean alone.
        cells = [f"{mean:.2f} ± {std:.2f}" if row.runs > 1 else f"{mean:.2f}"
                 for mean, std in (row.scores[key] for key, _ in columns(macro))]
        lines.append("| " + " | ".join([row.config, *cells, str(row.runs)]) + " |")
    return "\n".join(lines) + "\n"


def write_csv(rows: Sequence[Row], path: Path, split: str, macro: bool = False, model: str = "best") -> None:
    keys = [key for key, _ in columns(macro)]
    with atomic_output(path) as file:
        writer = csv.writer(file)
        writer.writerow(["config", "split", "model", "runs"]
                        + [f"{key}_{stat}" for key in keys for stat in ("mean", "std")])
        for row in rows:
            values = [f"{value:.2f}" for key in keys for value in row.scores[key]]
            writer.writerow([row.config, split, model, row.runs, *values])


def write_runs_csv(output_dir: Path, path: Path, split: str, configs: Optional[Sequence[str]] = None,
                   macro: bool = False, model: str = "best") -> None:
    """Every complete run's F1 scores (%), a line per run: what the mean ± std rows summarise,
    and what a per-seed comparison or the choice of the seed nearest the mean needs; then its
    epochs and training time (validation included) from AllenNLP's metrics.json, where there is one."""
    keys = [key for key, _ in columns(macro)]
    with atomic_output(path) as file:
        writer = csv.writer(file)
        writer.writerow(["config", "run", "split", "model", *keys, "epochs", "training_minutes"])
        for name, runs in collect_runs(output_dir, split, configs, macro, model).items():
            for run, scores in runs.items():
                writer.writerow([name, run, split, model, *(f"{100 * scores[key]:.2f}" for key in keys),
                                 *_training_time(Path(output_dir) / name / run)])


def _training_time(run_dir: Path) -> Tuple[str, str]:
    """Epochs trained and minutes taken, as AllenNLP's metrics.json of the run says ("" if it has none)."""
    path = run_dir / "metrics.json"
    if not path.exists():
        return "", ""
    metrics = json.loads(path.read_text(encoding="utf-8"))
    hours, minutes, seconds = (float(part) for part in metrics["training_duration"].split(":"))
    return str(metrics["epoch"] + 1), f"{60 * hours + minutes + seconds / 60:.1f}"


def write_results_table(output_dir: Path, split: str, configs: Optional[Sequence[str]] = None,
                        macro: bool = False, model: str = "best") -> List[Row]:
    """Writes `<output dir>/results_<split>.md` and `.csv` (`results_<split>_final.*` for the
    final models), the runs one by one in `results_<split>[_final]_runs.csv`, and returns the rows."""
    output_dir = Path(output_dir)
    rows = collect_rows(output_dir, split, configs, macro, model)
    stem = f"results_{evaluation_name(split, model)}"
    with atomic_output(output_dir / f"{stem}.md") as file:
        file.write(to_markdown(rows, split, macro, model))
    write_csv(rows, output_dir / f"{stem}.csv", split, macro, model)
    write_runs_csv(output_dir, output_dir / f"{stem}_runs.csv", split, configs, macro, model)
    return rows
