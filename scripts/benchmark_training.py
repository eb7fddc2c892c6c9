#!/usr/bin/env python
"""Training throughput of a config: sentences per second and peak memory, validation excluded.

    python scripts/benchmark_training.py CONFIG [--epochs 1] [--limit N] [-o OVERRIDES]
        [--output benchmarks/training/training.json]
    python scripts/benchmark_training.py --plan PLAN --variant NAME [-o OVERRIDES] ...

With `--plan`, the config and overrides are those of a variant of a scripts/run_paired_variants.py
plan; `-o` then replaces the plan's overrides key by key.

Everything is built from CONFIG as `allennlp train` builds it (reader, vocabulary, model, data
loader, trainer with its optimizer, gradient clipping and learning-rate schedule), and the trainer
runs its own training epochs: forward, backward, clipping and optimizer step per batch. Validation,
checkpoints and the final archive are left out. The clock runs from the end of the first (warm-up)
batch to the end of the last one, so it includes the data loading between batches (and, with
several epochs, the data loader's restart at each epoch); the sentences per second are those of the
batches after the first. Peak memory is measured as in benchmark_efficiency.py, from the end of
the setup to the end of training (so it includes the optimizer's state). Runs in one process, on
the device the config's trainer uses: GPU 0 when there is one, unless -o '{"trainer.cuda_device": -1}'.
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
from allennlp.commands.train import TrainModel
from allennlp.common import Params
from allennlp.common.util import prepare_environment
from allennlp.training.callbacks import TrainerCallback
from sinet_allen.files import write_json_atomically


class BatchClock(TrainerCallback):
    """The time at the end of every training batch and how many sentences it held."""

    def __init__(self, device: torch.device) -> None:
        super().__init__(serialization_dir="")
        self.device = device
        self.marks: List[tuple] = []

    def on_batch(self, trainer, batch_inputs, batch_outputs, batch_metrics, epoch, batch_number,
                 is_training, **kwargs) -> None:
        synchronize(self.device)  # the optimizer step's kernels may still be queued
        self.marks.append((time.perf_counter(), sum(len(batch["metadata"]) for batch in batch_inputs)))


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
        params = Params.from_file(str(config), overrides)
        if "distributed" in params:
            raise BenchmarkError("distributed training is not measured: leave SINET_CUDA_DEVICES unset")
        prepare_environment(params)  # the config's seeds
        params.pop("evaluation", None)  # read by `allennlp evaluate` only, as `allennlp train` drops it
        params.pop("include_in_archive", None)  # what train_model packs into the archive; no archive here
        with tempfile.TemporaryDirectory() as serialization_dir:
            trainer = TrainModel.from_params(params=params, serialization_dir=serialization_dir,
                                             local_rank=0).trainer
            clock = BatchClock(trainer.cuda_device)
            # What train() does around its epochs, less validation, checkpoints and the archive;
            # AllenNLP 2.10.1 is the last release, so these private parts stay as they are.
            trainer._callbacks.append(clock)
            for callback in trainer._callbacks:
                callback.on_start(trainer, is_primary=True)
            epoch_seconds = []
            with PeakMemory(trainer.cuda_device) as memory:
                for epoch in range(args.epochs):
                    start = time.perf_counter()
                    trainer._train_epoch(epoch)
                    epoch_seconds.append(time.perf_counter() - start)
        if len(clock.marks) < 2:
            raise BenchmarkError("training ran fewer than 2 batches: nothing to time after the warm-up batch")
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    seconds = clock.marks[-1][0] - clock.marks[0][0]
    sentences = sum(count for _, count in clock.marks[1:])
    report = {
        **report_header(__file__, argv, machine_info(trainer.cuda_device)),
        "config": shareable_path(config),
        **({"plan": shareable_path(args.plan), "variant": args.variant} if args.plan else {}),
        "overrides": overrides,
        "epochs": args.epochs,
        "batches": len(clock.marks),
        "sentences": sum(count for _, count in clock.marks),
        "timed": "training batches after the first, data loading included; validation not run",
        "seconds": seconds,
        "sentences_per_second": sentences / seconds,
        "epoch_seconds": epoch_seconds,
        "memory": memory.figures,
    }
    print(f"{report['sentences']} training sentences in {report['batches']} batches on "
          f"{report['machine']['device']}: {report['sentences_per_second']:.1f} sentences/s "
          f"(after the first batch, validation excluded); peak RSS +{memory.figures['rss_growth_mb']:.1f} MB"
          + (f", CUDA peak {memory.figures['cuda_peak_mb']:.1f} MB" if memory.figures["cuda_peak_mb"] else ""))
    write_json_atomically(args.output, report)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
