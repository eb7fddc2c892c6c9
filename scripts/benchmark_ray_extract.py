#!/usr/bin/env python
"""Throughput of extraction on Ray Data against the single-process `sinet-extract`, on this machine.

    python scripts/benchmark_ray_extract.py ARCHIVE [--archive-note TEXT] [--sentences 5000]
        [--batch-size 32] [--shard-lines 250] [--model-share-sentences 500]
        [--output benchmarks/ray/extract_cpu.json]

The input is SciERC's sentences ($SINET_DATA_DIR/scierc: train, dev and test) as `{"tokens": [...]}`
lines, cycled to --sentences lines, one sentence each. On that input, in this order:

- single process: `extract_file`, the function `allennlp sinet-extract` runs, with two torch
  threads; the model's loading is timed apart, and the process's peak resident memory after the run
  (torch, AllenNLP and the model: what one worker holds) is recorded;
- Ray with 1 and then 2 workers (one CPU and one torch thread each), each on a local Ray started for
  it: Ray's start-up (`ray.init`) is timed apart; the run's wall time includes the workers loading
  the model; the steady throughput is the lines of the shards finished after the first one over the
  time between the first and the last shard's completion;
- the model's share of one-thread prediction (`Model.forward_on_instances`, the forward pass and
  decoding, against the whole `predict_batch_json`) on the first --model-share-sentences sentences:
  docs/scaling.md's GPU estimate assumes a GPU makes that share negligible.

Every output is checked equal to the single process's. Printed, and written as JSON with the date,
the machine (and its load average before and after: a shared machine gives contended figures) and
the command.
"""
import argparse
import json
import os
import platform
import resource
import shlex
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # a checkout without pip install
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
import torch  # noqa: E402
from allennlp.models.archival import load_archive  # noqa: E402

from sinet_allen.files import write_json_atomically  # noqa: E402
from sinet_allen.predictors.extraction import extract_file, load_predictor, predict_in_groups  # noqa: E402
from sinet_allen.predictors.ray_extraction import WorkerOptions, extract_files, ray_session  # noqa: E402

SPLITS = ("train", "dev", "test")


def build_input(path: Path, data_dir: Path, sentences: int) -> List[List[str]]:
    """Writes `sentences` lines of SciERC's sentences, cycled; returns their tokens."""
    corpus = [record["tokens"] for split in SPLITS
              for record in json.loads((data_dir / "scierc" / f"{split}.json").read_text(encoding="utf-8"))]
    chosen = [corpus[k % len(corpus)] for k in range(sentences)]
    path.write_text("".join(json.dumps({"tokens": tokens}) + "\n" for tokens in chosen), encoding="utf-8")
    return chosen


def single_process(archive: Path, source: Path, output: Path, batch_size: int) -> Dict[str, Any]:
    torch.set_num_threads(2)
    start = time.perf_counter()
    predictor = load_predictor(archive)
    loaded = time.perf_counter()
    summary = extract_file(predictor, source, output, batch_size=batch_size)
    done = time.perf_counter()
    return {"torch_threads": 2, "load_s": round(loaded - start, 2), "extract_s": round(done - loaded, 2),
            "sentences_per_s": round(summary.sentences / (done - loaded), 1),
            "end_to_end_sentences_per_s": round(summary.sentences / (done - start), 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def with_ray(archive: Path, source: Path, output_dir: Path, workers: int, batch_size: int,
             shard_lines: int) -> Dict[str, Any]:
    options = WorkerOptions(num_workers=workers, cpus_per_worker=1, batch_size=batch_size)
    start = time.perf_counter()
    with ray_session(None, options):
        started = time.perf_counter()
        summary = extract_files(archive, source, output_dir, shard_lines=shard_lines, options=options)
        done = time.perf_counter()
    finished = sorted(path.stat().st_mtime for path in output_dir.rglob("lines-*.jsonl"))
    steady_lines = summary.lines - min(shard_lines, summary.lines)  # all shards but the first to finish
    return {"workers": workers, "cpus_per_worker": 1, "torch_threads_per_worker": 1,
            "ray_start_s": round(started - start, 2), "run_s": round(done - started, 2), "shards": summary.shards,
            "sentences_per_s_steady": round(steady_lines / max(finished[-1] - finished[0], 1e-9), 1),
            "sentences_per_s_run": round(summary.sentences / (done - started), 1),
            "sentences_per_s_with_ray_start": round(summary.sentences / (done - start), 1)}


def model_share(archive: Path, sentences: List[List[str]], batch_size: int) -> Dict[str, Any]:
    """The share of one-thread prediction time spent in the model (forward and decoding)."""
    torch.set_num_threads(1)
    predictor, loaded = load_predictor(archive), load_archive(str(archive))
    inputs = [{"tokens": tokens} for tokens in sentences]
    start = time.perf_counter()
    list(predict_in_groups(predictor, inputs, batch_size))
    whole = time.perf_counter() - start
    instances = sorted((loaded.dataset_reader.text_to_instance(tokens, [], []) for tokens in sentences),
                       key=lambda instance: len(instance["tokens"]))  # batched by length, as the predictor does
    start = time.perf_counter()
    for first in range(0, len(instances), batch_size):
        loaded.model.forward_on_instances(instances[first:first + batch_size])
    model = time.perf_counter() - start
    return {"sentences": len(sentences), "torch_threads": 1, "whole_s": round(whole, 2), "model_s": round(model, 2),
            "model_share": round(model / whole, 3), "host_sentences_per_s": round(len(sentences) / (whole - model), 1)}


def joined(output_dir: Path, name: str) -> str:
    return "".join(path.read_text(encoding="utf-8") for path in sorted((output_dir / name).glob("lines-*.jsonl")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", type=Path)
    parser.add_argument("--archive-note", default="", help="what the archive is (recorded with the figures)")
    parser.add_argument("--sentences", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--shard-lines", type=int, default=250)
    parser.add_argument("--model-share-sentences", type=int, default=500)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("SINET_DATA_DIR", REPO / "data")))
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks/ray/extract_cpu.json")
    args = parser.parse_args()

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as work:
        source, reference = Path(work) / "input.jsonl", Path(work) / "single.jsonl"
        sentences = build_input(source, args.data_dir, args.sentences)
        single = single_process(args.archive, source, reference, args.batch_size)
        print("single process:", single, flush=True)
        ray_runs, identical = [], True
        for workers in (1, 2):
            run = with_ray(args.archive, source, Path(work) / f"ray{workers}", workers, args.batch_size,
                           args.shard_lines)
            identical &= joined(Path(work) / f"ray{workers}", source.name) == reference.read_text(encoding="utf-8")
            print(f"ray, {workers} worker(s):", run, flush=True)
            ray_runs.append(run)
        share = model_share(args.archive, sentences[: args.model_share_sentences], args.batch_size)
        print("model share:", share, flush=True)
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(["python", os.path.relpath(Path(__file__).resolve(), REPO), *sys.argv[1:]]),
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count(),
                    "load_average_before": [round(load, 1) for load in load_before],
                    "load_average_after": [round(load, 1) for load in os.getloadavg()]},
        "archive": args.archive.name, "archive_note": args.archive_note,
        "input": f"{args.sentences} SciERC sentences (train, dev, test, cycled) as tokens lines",
        "sentences": args.sentences, "batch_size": args.batch_size, "shard_lines": args.shard_lines,
        "single_process": single, "ray": ray_runs, "model_share": share, "outputs_identical": identical,
    }
    print(json.dumps(result, indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomically(args.output, result)


if __name__ == "__main__":
    main()
