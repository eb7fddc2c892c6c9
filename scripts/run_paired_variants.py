#!/usr/bin/env python
"""Runs a paired comparison that outlives the session running it: variants of a model (each a
config plus overrides), the same seeds (and folds) for each, scored by `allennlp sinet-experiment`
and compared with the plan's baseline by `allennlp sinet-significance` on the same test sentences.

    python scripts/run_paired_variants.py benchmarks/fidelity/plan.json [--seeds 1 2] [--cuda-device 0]
    python scripts/run_paired_variants.py benchmarks/fidelity/plan.json --tables-only

The plan (JSON) names `variants` ({name: {"config": path, "overrides": {...}, "label": text}}; config
paths are relative to the directory the script runs in; the label names the variant in the tables of
scripts/make_benchmark_tables.py), `baseline` (one of them, or null), `seeds`, and
optionally `folds`, `split` ("test" or "dev"), `models` ("best", "final"), `macro` and `threads`.

`threads` fixes torch's CPU threads for every run of the plan, so that its runs train in the same
conditions wherever they run (a kernel may split its sums by thread count, and a run recorded
under other conditions need not be reproduced); two processes with one thread each share a
2-core machine.

Runs go seed by seed, the baseline and then the other variants of a seed before the next seed, so
that a session cut off leaves whole pairs. They train under `runs/<plan folder>/` (`--runs`); each
finished run's metrics files are recorded beside the plan in the runner's layout
(`<variant>/<config>/seed<k>[/fold<f>]/`), its bootstrap against the baseline as
`significance_<variant>_seed<k>[-fold<f>]_<model>.json`. A recorded run is not run again, so a later
session adds seeds; the runner's tables (`<variant>/results_<split>[_final][_runs].csv`) are rebuilt
from the recorded files alone.
"""
import argparse
import json
import logging
import shutil
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402
from allennlp.common.util import import_module_and_submodules  # noqa: E402

from sinet_allen.commands.experiment import SinetExperiment  # noqa: E402
from sinet_allen.commands.significance import SinetSignificance  # noqa: E402
from sinet_allen.experiments.grid import Run, metrics_file, predictions_file  # noqa: E402

logger = logging.getLogger("run_paired_variants")


def run_command(subcommand, argv: Sequence[str]) -> None:
    """Runs one of our subcommands in this process, exactly as `allennlp <name> argv` parses it."""
    parser = argparse.ArgumentParser(prog="allennlp")
    subcommand.add_subparser(parser.add_subparsers())
    args = parser.parse_args([subcommand.name, *map(str, argv)])
    args.func(args)


class Plan:
    def __init__(self, path: Path, runs: Optional[Path] = None) -> None:
        spec = json.loads(path.read_text(encoding="utf-8"))
        try:
            self.variants: Dict[str, Dict] = spec["variants"]
            self.baseline: Optional[str] = spec.get("baseline")
            self.seeds: List[int] = spec["seeds"]
            self.folds: List[Optional[int]] = spec.get("folds") or [None]
            self.split: str = spec.get("split", "test")
            self.models: List[str] = spec.get("models", ["best"])
            self.macro: bool = spec.get("macro", False)
            self.threads: Optional[int] = spec.get("threads")
            for name, variant in self.variants.items():
                variant["config"] = Path(variant["config"])
                variant.setdefault("overrides", {})
        except (KeyError, TypeError) as error:
            raise SystemExit(f"{path}: not a plan ({type(error).__name__}: {error}); see this script's docstring")
        if self.baseline is not None and self.baseline not in self.variants:
            raise SystemExit(f"{path}: baseline {self.baseline!r} is not one of the variants {sorted(self.variants)}")
        self.records = path.parent
        self.runs = runs or REPO / "runs" / path.parent.name

    def order(self) -> List[str]:
        """The variants, the baseline first (a variant's bootstrap needs the baseline's run)."""
        return sorted(self.variants, key=lambda name: name != self.baseline)

    def run(self, name: str, seed: int, fold: Optional[int]) -> Run:
        return Run(self.variants[name]["config"], seed, fold)

    def recorded(self, name: str, run: Run) -> Path:
        return run.directory(self.records / name)

    def trained(self, name: str, run: Run) -> Path:
        return run.directory(self.runs / name)

    def is_recorded(self, name: str, run: Run) -> bool:
        return all(metrics_file(self.recorded(name, run), self.split, model).exists() for model in self.models)


def run_name(run: Run) -> str:
    """`seed1`, `seed1-fold0`: a run's folder below its config's, in a file name."""
    return run.directory(Path()).relative_to(run.name).as_posix().replace("/", "-")


def in_repository(path: Path) -> Path:
    """A path inside the repository relative to it, as the records name files."""
    return path.relative_to(REPO) if path.is_relative_to(REPO) else path


def train_and_record(plan: Plan, name: str, run: Run, cuda_device: int) -> None:
    variant = plan.variants[name]
    for model in plan.models:
        run_command(SinetExperiment(), [
            variant["config"], "--seeds", run.seed, *(["--folds", run.fold] if run.fold is not None else []),
            "--eval-split", plan.split, *(["--final-model"] if model == "final" else []),
            "--cuda-device", cuda_device, "--output-dir", plan.runs / name, "-o", json.dumps(variant["overrides"]),
        ])
    recorded = plan.recorded(name, run)
    recorded.mkdir(parents=True, exist_ok=True)
    # The run's training record, then the metrics files, whose presence marks the run as recorded.
    files = ["metrics.json"] + [metrics_file(Path(), plan.split, model).name for model in plan.models]
    for file in files:
        shutil.copyfile(plan.trained(name, run) / file, recorded / file)


def bootstrap(plan: Plan, name: str, run: Run) -> None:
    """The variant (B) against the baseline (A) on the same seed's predictions, per model, where
    both runs are recorded and the report is not yet written."""
    baseline_run = plan.run(plan.baseline, run.seed, run.fold)  # the same seed and fold, the baseline's config
    for model in plan.models:
        report = plan.records / f"significance_{name}_{run_name(run)}_{model}.json"
        if report.exists() or not (plan.is_recorded(name, run) and plan.is_recorded(plan.baseline, baseline_run)):
            continue
        baseline = predictions_file(plan.trained(plan.baseline, baseline_run), plan.split, model)
        variant = predictions_file(plan.trained(name, run), plan.split, model)
        if not (baseline.exists() and variant.exists()):
            logger.warning("%s: no bootstrap, the predictions of both runs are needed (%s, %s) and are kept only "
                           "under runs/ of the session that trained them", report.name, baseline, variant)
            continue
        run_command(SinetSignificance(), [in_repository(baseline), in_repository(variant), "--output", report])


def bootstrap_recorded(plan: Plan) -> None:
    """Every bootstrap of the plan whose two runs are recorded and not yet compared."""
    if plan.baseline is None:
        return
    for seed in plan.seeds:
        for fold in plan.folds:
            for name in plan.order()[1:]:
                bootstrap(plan, name, plan.run(name, seed, fold))


def write_tables(plan: Plan) -> None:
    for name, variant in plan.variants.items():
        if not (plan.records / name).is_dir():
            continue
        for model in plan.models:
            run_command(SinetExperiment(), [
                variant["config"], "--table-only", "--eval-split", plan.split, "--output-dir", plan.records / name,
                *(["--final-model"] if model == "final" else []), *(["--macro"] if plan.macro else []),
            ])


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("plan", type=Path, help="the plan's JSON file; records are written beside it")
    parser.add_argument("--seeds", type=int, nargs="+", help="run these seeds instead of the plan's")
    parser.add_argument("--variants", nargs="+", help=(
        "run only these variants (two processes on disjoint variants share a machine's cores); "
        "bootstraps and tables cover every recorded run"))
    parser.add_argument("--runs", type=Path, help="where the runs train (default: runs/<plan folder>)")
    parser.add_argument("--cuda-device", type=int, default=-1, help="GPU for evaluation (training: the config's)")
    parser.add_argument("--tables-only", action="store_true", help="run nothing; rebuild the tables from the records")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import_module_and_submodules("sinet_allen")
    plan = Plan(args.plan, args.runs)
    unknown = set(args.variants or ()) - set(plan.variants)
    if unknown:
        raise SystemExit(f"{args.plan}: no variants {sorted(unknown)}; the plan has {sorted(plan.variants)}")
    if plan.threads:
        torch.set_num_threads(plan.threads)
    if not args.tables_only:
        for seed in args.seeds or plan.seeds:
            for fold in plan.folds:
                for name in plan.order():
                    run = plan.run(name, seed, fold)
                    if args.variants and name not in args.variants:
                        continue
                    if plan.is_recorded(name, run):
                        logger.info("%s %s: recorded, skipped", name, run_name(run))
                        continue
                    train_and_record(plan, name, run, args.cuda_device)
                    bootstrap_recorded(plan)
    bootstrap_recorded(plan)
    write_tables(plan)
    return 0


if __name__ == "__main__":
    sys.exit(main())
