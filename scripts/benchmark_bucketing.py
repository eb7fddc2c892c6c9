#!/usr/bin/env python
"""Extraction throughput with length-bucketed batches vs batches in file order (issue 37), and the
cost of reading over-long sentences (issue 36), on a realistic mixed-length corpus.

    python scripts/benchmark_bucketing.py ARCHIVE [--data-dir $SINET_DATA_DIR] [--sentences 5000]
        [--batch-size 32] [--lookahead 256] [--rounds 2] [--precisions float32 bfloat16]
        [--no-long-sentences] [--update] [--output benchmarks/prediction/bucketing.json]

The corpus: every SciERC sentence (`scierc/{train,dev,test}.json`, one `tokens` line each) shuffled
with every whole abstract of `scierc_dygie/{train,dev,test}.jsonl` (one `sentences` line each, the
way a user's documents come), the lines repeated until they hold at least --sentences sentences.
It is predicted as `sinet-extract` predicts a file (`predict_in_groups`: --lookahead lines at a
time, forward passes of --batch-size sentences), once per round in each mode, the modes alternating
(ABBA) in one process so that a machine shared with other work loads both alike. Per precision:
sentences per second of each run, the median ratio bucketed / file order, and whether the outputs
are byte-identical (float32: they must be; bfloat16: the number of lines that differ and the
largest score difference).

Long sentences: the first 1,000 SciERC sentences alone, then with a 653-word sentence after every
100th, predicted (a) as the predictor does by default (only the long sentences folded, in passes of
their own) and (b) with the archive's `max_length` set to 512 in the reader and the embedder
(AllenNLP's folding, the only way before, which folds every batch holding a long sentence):
sentences per second, and whether the ordinary sentences' results are the same in all three runs.

Writes the figures with the date, the machine and the command as JSON (paths relative to the
repository), each section with the date and command of the run that measured it (`--update` keeps
the sections another run measured); prints them.
"""
import argparse
import json
import os
import platform
import random
import shlex
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # a checkout without pip install
from allennlp.models.archival import load_archive  # noqa: E402
from allennlp.predictors import Predictor  # noqa: E402

from sinet_allen.files import write_json_atomically  # noqa: E402
from sinet_allen.predictors.extraction import load_predictor, predict_in_groups, sentence_count  # noqa: E402
from sinet_allen.predictors.prediction_format import dump_line  # noqa: E402
from sinet_allen.settings import CONFIG_DEFAULTS  # noqa: E402

SPLITS = ("train", "dev", "test")
LONG_WORDS = 653


def mixed_corpus(folder: Path, sentences: int, seed: int) -> List[Dict]:
    """SciERC sentences shuffled with whole SciERC abstracts, repeated to at least `sentences` sentences."""
    lines = [{"tokens": record["tokens"]} for split in SPLITS
             for record in json.loads((folder / "scierc" / f"{split}.json").read_text(encoding="utf-8"))]
    for split in SPLITS:
        with open(folder / "scierc_dygie" / f"{split}.jsonl", encoding="utf-8") as documents:
            lines += [{"doc_key": json.loads(line)["doc_key"], "sentences": json.loads(line)["sentences"]}
                      for line in documents if line.strip()]
    random.Random(seed).shuffle(lines)
    corpus, count = [], 0
    while count < sentences:
        corpus += lines
        count += sum(len(line.get("sentences", [None])) for line in lines)
    return corpus


def timed_run(predictor, corpus: List[Dict], batch_size: int, lookahead: int):
    start = time.perf_counter()
    output = [dump_line(result) for result in predict_in_groups(predictor, corpus, batch_size, lookahead)]
    seconds = time.perf_counter() - start
    return output, sum(sentence_count(json.loads(line)) for line in output) / seconds


def bucketing_figures(archive: str, precision: str, corpus: List[Dict], args) -> Dict:
    predictor = load_predictor(archive, inference_precision=precision)
    speeds = {"bucketed": [], "file_order": []}
    outputs = {}
    for round_ in range(args.rounds):
        order = ["bucketed", "file_order"] if round_ % 2 == 0 else ["file_order", "bucketed"]
        for mode in order:
            predictor.bucketing = mode == "bucketed"
            outputs[mode], speed = timed_run(predictor, corpus, args.batch_size, args.lookahead)
            speeds[mode].append(round(speed, 1))
            print(f"{precision} round {round_ + 1} {mode}: {speed:.1f} sentences/s", flush=True)
    differing = [k for k, (a, b) in enumerate(zip(outputs["bucketed"], outputs["file_order"])) if a != b]
    ratios = [b / f for b, f in zip(speeds["bucketed"], speeds["file_order"])]
    return {"sentences_per_second": speeds, "ratio_bucketed_to_file_order": round(statistics.median(ratios), 3),
            "identical_output": not differing, "lines_differing": len(differing),
            "largest_score_difference": largest_score_difference(outputs, differing)}


def largest_score_difference(outputs: Dict[str, List[str]], differing: List[int]) -> float:
    largest = 0.0
    for k in differing:
        a, b = (json.loads(outputs[mode][k]) for mode in ("bucketed", "file_order"))
        scores = [{(e["start"], e["end"], e["type"]): e["score"] for e in r.get("entities", [])} for r in (a, b)]
        for key in scores[0].keys() & scores[1].keys():
            largest = max(largest, abs(scores[0][key] - scores[1][key]))
    return largest


def long_sentence_figures(archive: str, corpus: List[Dict], args) -> Dict:
    ordinary = [line for line in corpus if "tokens" in line][:1000]
    long_line = {"tokens": (["The", "statistical", "models", "use", "hidden", "Markov", "models"] * 100)[:LONG_WORDS]}
    mixed = [item for k, line in enumerate(ordinary) for item in ([line, long_line] if k % 100 == 99 else [line])]
    folding_all = {"validation_dataset_reader.max_length": 512, "model.embedder.token_embedders.tokens.max_length": 512}
    default = load_predictor(archive)
    runs = {"ordinary_only": (default, ordinary), "mixed_fold_long_only": (default, mixed),
            "mixed_max_length_512_everywhere": (Predictor.from_archive(load_archive(archive, overrides=folding_all),
                                                                       "sinet"), mixed)}
    figures, outputs = {}, {}
    for name, (predictor, lines) in runs.items():
        output, speed = timed_run(predictor, lines, args.batch_size, args.lookahead)
        outputs[name] = [line for line, item in zip(output, lines) if item is not long_line]
        figures[name] = round(speed, 1)
        print(f"long sentences, {name}: {speed:.1f} sentences/s", flush=True)
    return {"ordinary_sentences": len(ordinary), "long_sentences": len(mixed) - len(ordinary),
            "long_sentence_words": LONG_WORDS, "sentences_per_second": figures,
            "ordinary_results_identical": all(outputs[name] == outputs["ordinary_only"] for name in outputs)}


def shown(argument: str) -> str:
    """An argument as the JSON records it: a path inside the repository relative to it, one
    outside it by its name alone (no machine's absolute path)."""
    path = Path(argument)
    if not path.exists():
        return argument
    inside = Path(os.path.relpath(path.resolve(), REPO))
    return str(inside) if not str(inside).startswith("..") else path.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive")
    parser.add_argument("--data-dir", type=Path, default=None, help="default: $SINET_DATA_DIR")
    parser.add_argument("--sentences", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lookahead", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--precisions", nargs="*", default=["float32", "bfloat16"])
    parser.add_argument("--no-long-sentences", action="store_true", help="skip the long-sentence runs")
    parser.add_argument("--update", action="store_true", help=(
        "keep the other sections of an existing --output (e.g. a precision measured by another run)"))
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "prediction" / "bucketing.json")
    parser.add_argument("--note", default="", help="how the archive was made, the machine's load, ...")
    args = parser.parse_args()
    folder = args.data_dir or Path(os.environ.get("SINET_DATA_DIR", CONFIG_DEFAULTS["SINET_DATA_DIR"]))
    corpus = mixed_corpus(folder, args.sentences, args.seed)
    sentences = sum(len(line.get("sentences", [None])) for line in corpus)
    print(f"corpus: {len(corpus)} lines, {sentences} sentences", flush=True)
    run = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "command": "python " + " ".join(shlex.quote(shown(argument)) for argument in sys.argv),
           "note": args.note}
    report = json.loads(args.output.read_text(encoding="utf-8")) if args.update and args.output.exists() else {}
    report["machine"] = {"cpu": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                         "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
                         "torch": torch.__version__}
    report["corpus"] = {"lines": len(corpus), "sentences": sentences, "batch_size": args.batch_size,
                        "lookahead_lines": args.lookahead}
    report.setdefault("bucketing", {})
    for precision in args.precisions:
        report["bucketing"][precision] = {**run, "rounds": args.rounds,
                                          **bucketing_figures(args.archive, precision, corpus, args)}
    if not args.no_long_sentences:
        report["long_sentences"] = {**run, **long_sentence_figures(args.archive, corpus, args)}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomically(args.output, report)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
