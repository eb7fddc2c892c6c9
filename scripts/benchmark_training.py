#!/usr/bin/env python
"""Training throughput of a config: sentences per second and peak memory, validation excluded.

    python scripts/benchmark_training.py CONFIG [--epochs 1] [--limit N] [-o OVERRIDES]
        [--output benchmarks/training/training.json]
    python scripts/benchmark_training.py --plan PLAN --variant NAME [-o OVERRIDES] ...

With `--plan`, the config and overrides are those of a variant of a scripts/run_paired_variants.py
plan; `-o` then replaces the plan's overrides key by key.

The config is trained as `allennlp train` trains it (`train_model`: reader, vocabulary, model,
data loader, trainer with its optimizer, gradient clipping and learning-rate schedule) in a
temporary directory, without its validation and test data, and with one more trainer callback,
`benchmark_clock`, defined here: it reads the clock at the end of every training batch, so the
time runs from the end of the first (warm-up) batch to the end of the last one and includes the
data loading between batches (and, with several epochs, the checkpoint and the data loader's
restart at each epoch); the sentences per second are those of the batches after the first. Peak
memory is measured as in benchmark_efficiency.py, from the trainer's start to its end (so it
includes the optimizer's state, not the archive). Runs in one process, on the device the config's
trainer uses: GPU 0 when there is one, unless -o '{"trainer.cuda_device": -1}'.
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import torch

# The script's folder is on sys.path: the shared helpers and the plugin's registrations.
from benchmark_efficiency import (BenchmarkError, PeakMemory, machine_info, report_header,
                                  shareable_path, synchronize)
from allennlp.commands.train import train_model
from allennlp.common import Params
from allennlp.training.callbacks import TrainerCallback
from sinet_allen.files import write_json_atomically


@TrainerCallback.register("benchmark_clock")
class BatchClock(TrainerCallback):
    """The time at the end of every training batch and how many sentences it held, each epoch's
    wall time, and the peak memory from the start of training to its end. `allennlp train` builds
    it from the config's callbacks; it leaves its figures in the serialization directory."""

    FILE = "benchmark_clock.json"

    def on_start(self, trainer, is_primary: bool = True, **kwargs) -> None:
        self.device = trainer.cuda_device  # a torch.device
        self.marks: List[Tuple[float, int]] = []
        self.epoch_ends = [time.perf_counter()]
        self.memory = PeakMemory(self.device).__enter__()

    def on_batch(self, trainer, batch_inputs, batch_outputs, batch_metrics, epoch, batch_number,
                 is_training, **kwargs) -> None:
        synchronize(self.device)  # the optimizer step's kernels may still be queued
        self.marks.append((time.perf_counter(), sum(len(batch["metadata"]) for batch in batch_inputs)))

    def on_epoch(self, trainer, metrics, epoch, is_primary: bool = True, **kwargs) -> None:
        self.epoch_ends.append(time.perf_counter())

    def on_end(self, trainer, metrics=None, epoch=None, is_primary: bool = True, **kwargs) -> None:
        self.memory.__exit__(None, None, None)
        write_json_atomically(Path(self.serialization_dir) / self.FILE, {
            "device": str(self.device), "marks": self.marks, "memory": self.memory.figures,
            "epoch_seconds": [end - start for start, end in zip(self.epoch_ends, self.epoch_ends[1:])]})


def plan_variant(plan: Path, name: str) -> Tuple[Path, Dict[str, Any]]:
    """The config and overrides of a variant of a scripts/run_paired_variants.py plan."""
    try:
        variant = json.loads(plan.read_text(encoding="utf-8"))["variants"][name]
        return Path(variant["config"]), variant.get("overrides", {})
    except (OSError, ValueError, KeyError) as error:
        raise BenchmarkError(f"{plan}: no variant {name!r} with a config ({type(error).__name__}: {error})")


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", type=Path, nargs="?", help="the config (or --plan and --variant)")
    parser.add_argument("--plan", type=Path, help="a plan of scripts/run_paired_variants.py")
    parser.add_argument("--variant", help="the plan's variant whose config and overrides are measured")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--limit", type=int, help="at most N batches per epoch")
    parser.add_argument("-o", "--overrides", default="{}", help="JSON overrides, as for allennlp train")
    parser.add_argument("--output", type=Path, default=Path("benchmarks/training/training.json"))
    args = parser.parse_args(argv)
    if args.epochs < 1 or (args.limit is not None and args.limit < 1):
        parser.error("--epochs and --limit must be positive")
    if (args.config is None) == (args.plan is None) or (args.plan is None) != (args.variant is None):
        parser.error("give a CONFIG, or --plan and --variant")

    try:
        config, overrides = plan_variant(args.plan, args.variant) if args.plan else (args.config, {})
        if not config.is_file():
            raise BenchmarkError(f"config not found: {config}")
        # The learning-rate schedule depends on the number of epochs: the run's own.
        overrides = {**overrides, **json.loads(args.overrides), "trainer.num_epochs": args.epochs}
        if args.limit:
            overrides["data_loader.batches_per_epoch"] = args.limit
        settings = Params.from_file(str(config), overrides).as_dict(quiet=True)
        if "distributed" in settings:
            raise BenchmarkError("distributed training is not measured: leave SINET_CUDA_DEVICES unset")
        for key in ("validation_data_path", "test_data_path", "evaluate_on_test"):
            settings.pop(key, None)  # training alone: no validation, no test evaluation
        trainer = settings["trainer"]
        trainer["callbacks"] = [*trainer.get("callbacks", []), {"type": "benchmark_clock"}]
        with tempfile.TemporaryDirectory() as serialization_dir:
            train_model(Params(settings), serialization_dir)
            clock = json.loads((Path(serialization_dir) / BatchClock.FILE).read_text(encoding="utf-8"))
        if len(clock["marks"]) < 2:
            raise BenchmarkError("training ran fewer than 2 batches: nothing to time after the warm-up batch")
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    marks, memory = clock["marks"], clock["memory"]
    seconds = marks[-1][0] - marks[0][0]
    sentences = sum(count for _, count in marks[1:])
    report = {
        **report_header(__file__, argv, machine_info(torch.device(clock["device"]))),
        "config": shareable_path(config),
        **({"plan": shareable_path(args.plan), "variant": args.variant} if args.plan else {}),
        "overrides": overrides,
        "epochs": args.epochs,
        "batches": len(marks),
        "sentences": sum(count for _, count in marks),
        "timed": "training batches after the first, data loading included; validation not run",
        "seconds": seconds,
        "sentences_per_second": sentences / seconds,
        "epoch_seconds": clock["epoch_seconds"],
        "memory": memory,
    }
    print(f"{report['sentences']} training sentences in {report['batches']} batches on "
          f"{report['machine']['device']}: {report['sentences_per_second']:.1f} sentences/s "
          f"(after the first batch, validation excluded); peak RSS +{memory['rss_growth_mb']:.1f} MB"
          + (f", CUDA peak {memory['cuda_peak_mb']:.1f} MB" if memory["cuda_peak_mb"] else ""))
    write_json_atomically(args.output, report)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
