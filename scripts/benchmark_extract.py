#!/usr/bin/env python
"""Memory and speed of `allennlp sinet-extract` on a long input: is memory flat in the input's length?

    python scripts/benchmark_extract.py ARCHIVE [--lines 10000] [--batch-size 32] [--cuda-device -1]
        [--inputs tests/fixtures/predict/scientific_text.jsonl] [--output benchmarks/extract/extract_cpu.json]

Builds an input of --lines JSON lines by cycling the lines of --inputs (the predictor's four input
kinds), with one line of broken JSON in the middle, and runs `allennlp sinet-extract` on it in a
subprocess. While it runs, the process's resident memory (VmRSS in /proc/PID/status) and the lines
written so far (in the partial output) are sampled every --interval seconds. Reported: the peak
resident memory up to 10 %, 50 % and 100 % of the lines and in each tenth of them (flat memory:
they are close), apart from the peak after the output was complete (the interpreter's exit), the
exit status (1, because of the broken line), the line number of the error record (the broken
line's), whether the good lines came out in input order, and sentences per second after the
model was loaded. Printed, and written as JSON (paths relative to the repository) when complete.
"""
import argparse
import itertools
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # a checkout without pip install
from sinet_allen.files import write_json_atomically  # noqa: E402
from sinet_allen.predictors.extraction import partial_path, sentence_count  # noqa: E402

BROKEN_LINE = "{broken"
FRACTIONS = (0.1, 0.5, 1.0)
MB = 2**20


def relative(path: Path) -> str:
    """A path as the JSON records it: relative to the repository, never a machine's absolute path."""
    return os.path.relpath(Path(path).resolve(), REPO)


def build_input(path: Path, inputs: Path, lines: int) -> int:
    """Writes `lines` lines cycled from the JSON lines of `inputs` (its other lines are left out),
    the broken one in the middle; returns its number."""
    examples = [line for line in inputs.read_text(encoding="utf-8").splitlines() if is_json(line)]
    broken = lines // 2
    with open(path, "w", encoding="utf-8") as file:
        for number, line in zip(range(1, lines + 1), itertools.cycle(examples)):
            file.write((BROKEN_LINE if number == broken else line) + "\n")
    return broken


def is_json(line: str) -> bool:
    try:
        json.loads(line)
        return True
    except json.JSONDecodeError:
        return False


class LineCounter:
    """Counts the complete lines of a growing file, reading only what was added since the last call."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset, self.lines = path, 0, 0

    def __call__(self) -> int:
        if self.path.exists():
            with open(self.path, "rb") as file:
                file.seek(self.offset)
                added = file.read()
            self.offset += len(added)
            self.lines += added.count(b"\n")
        return self.lines


def resident_mb(pid: int) -> Optional[float]:
    """The process's resident memory; None once it has exited (a zombie has no VmRSS)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / MB
    return None


Sample = Tuple[float, float, int]  # (seconds since the start, resident MB, lines written)


def run_sampled(command: List[str], output: Path, interval: float) -> Tuple[int, List[Sample], List[Sample]]:
    """Runs the command; returns its exit status, the samples while it wrote its output and those
    after the output was complete (the process's exit)."""
    counter, writing, exiting = LineCounter(partial_path(output)), [], []
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while process.poll() is None:
        try:
            complete, rss = output.exists(), resident_mb(process.pid)
            sample = (time.perf_counter() - start, rss, counter())
        except (FileNotFoundError, ProcessLookupError):  # it ended between poll and read
            break
        if rss is not None:
            (exiting if complete else writing).append(sample)
        time.sleep(interval)
    stderr = process.communicate()[1]
    if process.returncode not in (0, 1):
        raise SystemExit(f"sinet-extract failed with status {process.returncode}:\n{stderr[-3000:]}")
    return process.returncode, writing, exiting


def peaks(samples: List[Sample], lines: int) -> Dict[str, float]:
    """The peak resident memory up to each fraction of the lines written."""
    return {f"{int(100 * fraction)}%": round(max(rss for _, rss, done in samples if done <= fraction * lines), 1)
            for fraction in FRACTIONS}


def tenths(samples: List[Sample], lines: int) -> List[float]:
    """The peak resident memory while each tenth of the lines was written (the first tenth
    includes loading the model)."""
    bounds = [round(lines * k / 10) for k in range(11)]
    return [round(max((rss for _, rss, done in samples if low <= done < high), default=0.0), 1)
            for low, high in zip(bounds, bounds[1:])]


def check_output(input_file: Path, output: Path) -> Dict[str, object]:
    """Error records' line numbers, good lines in input order (their tokens), sentences predicted."""
    errors, in_order, sentences = [], True, 0
    with open(input_file, encoding="utf-8") as given, open(output, encoding="utf-8") as written:
        for number, (source, line) in enumerate(zip(given, written), 1):
            result = json.loads(line)
            sentences += sentence_count(result)
            if "error" in result:
                errors.append(result["line"])
            elif "tokens" in json.loads(source):
                in_order &= json.loads(source)["tokens"] == result["tokens"]
    return {"error_record_lines": errors, "good_lines_in_input_order": in_order, "sentences": sentences}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", type=Path)
    parser.add_argument("--lines", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--cuda-device", type=int, default=-1)
    parser.add_argument("--inputs", type=Path, default=REPO / "tests/fixtures/predict/scientific_text.jsonl")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between memory samples")
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks/extract/extract_cpu.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as work:
        input_file, output = Path(work) / "input.jsonl", Path(work) / "output.jsonl"
        broken = build_input(input_file, args.inputs, args.lines)
        command = [sys.executable, "-m", "allennlp", "sinet-extract", str(args.archive), str(input_file),
                   "--output-file", str(output), "--batch-size", str(args.batch_size),
                   "--cuda-device", str(args.cuda_device)]
        status, samples, exiting = run_sampled(command, output, args.interval)
        checked = check_output(input_file, output)
    written = samples[-1][0]  # the last sample before the output was complete
    loaded = next((seconds for seconds, _, done in samples if done > 0), written)  # first line written
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(["python", relative(Path(__file__)), *map(str, sys.argv[1:])]),
        "extract_command": shlex.join(["allennlp", *command[3:4], relative(args.archive), "INPUT",
                                       *command[6:7], "OUTPUT", *command[8:]]),
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count(),
                    "omp_num_threads": os.environ.get("OMP_NUM_THREADS")},
        "archive": relative(args.archive), "inputs": relative(args.inputs), "lines": args.lines,
        "batch_size": args.batch_size, "broken_line": broken, "exit_status": status, **checked,
        "peak_rss_mb_up_to_fraction_of_lines": peaks(samples, args.lines),
        "peak_rss_mb_per_tenth_of_lines": tenths(samples, args.lines),
        "peak_rss_mb_after_output_complete": round(max((rss for _, rss, _ in exiting), default=0.0), 1),
        "until_first_line_s": round(loaded, 2), "until_output_complete_s": round(written, 2),
        "sentences_per_s": round(checked["sentences"] / max(written - loaded, 1e-9), 1), "samples": len(samples),
    }
    print(json.dumps(result, indent=2))
    write_json_atomically(args.output, result)


if __name__ == "__main__":
    main()
