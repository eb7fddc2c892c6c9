#!/usr/bin/env python
"""The GPU check's driver, started by scripts/device_check.sh once the carried wheels are on the
path (docs/scaling.md, "Checking a GPU machine"). It writes OUTPUT/device_check.json after every
step, so that a check stopped by its time limit still reports what it did:

1. `environment`: the versions imported (the carried AllenNLP stack, shadowing the machine's
   transformers, tokenizers and huggingface-hub) and the device;
2. `tests`: `pytest -m requires_gpu tests/gpu` (its log and JUnit XML beside the JSON), counted,
   with each failure's message and the figures the tests report;
3. `timing`: with a randomly initialised encoder of the offline MiniLM's configuration (speed does
   not depend on the weights; accuracy is not measured), one SciERC training epoch with
   scripts/benchmark_training.py in float32, bfloat16 and float16 AMP, one epoch through
   `allennlp train` (float32, for an archive), and test-set prediction with
   scripts/benchmark_efficiency.py in float32 and bfloat16, with the peak memory of a dense
   300-word sentence.

Steps run while the time budget lasts; one that does not fit is recorded as skipped. --cpu runs
the same steps on the CPU with a dozen sentences of each split (the dry run of
scripts/gpu_check/dry_run.sh): the GPU tests skip, the timings only show that everything runs.

    python scripts/gpu_check/device_check.py --carry .gpu_carry --output OUT [--cpu] [--budget 285]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

REPO = Path(__file__).resolve().parents[2]
TRAIN_CONFIG = REPO / "training_config" / "cpu" / "sinet_scierc_minilm.jsonnet"
QUICK_SENTENCES = 12  # per split in --cpu mode
# What each step is expected to take on an H100 at most, in seconds: a step starts only if it fits.
ESTIMATES = {"tests": 150, "train_benchmark": 40, "allennlp_train": 50, "prediction": 70}
TRAINING_PRECISIONS = {"float32": {}, "bfloat16": {"model.training_precision": "bfloat16"},
                       "amp": {"trainer.use_amp": True}}


class Report:
    """The JSON report, rewritten whole (through a temporary file) after every step."""

    def __init__(self, path: Path, budget: float) -> None:
        self.path, self.start, self.budget = path, time.monotonic(), budget
        self.content: Dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                        "budget_seconds": budget, "steps": {}}

    def left(self) -> float:
        return self.budget - (time.monotonic() - self.start)

    def step(self, name: str, estimate: float, work: Callable[[], Any]) -> None:
        """Runs `work` when `estimate` seconds are left, and records its result, error or skip."""
        if self.left() < estimate:
            self.record(name, {"skipped": f"{self.left():.0f} s of the budget left, {estimate} s needed"})
            return
        began = time.monotonic()
        print(f"[device_check] {name} ...", flush=True)
        try:
            outcome = {"result": work()}
        except Exception as error:  # a step's failure is its result; the next steps still run
            outcome = {"error": f"{type(error).__name__}: {error}"[-2000:]}
        self.record(name, {**outcome, "seconds": round(time.monotonic() - began, 1)})

    def record(self, name: str, value: Any) -> None:
        self.content["steps"][name] = value
        self.content["elapsed_seconds"] = round(time.monotonic() - self.start, 1)
        temporary = self.path.with_suffix(".partial")
        temporary.write_text(json.dumps(self.content, indent=2))
        temporary.replace(self.path)
        print(f"[device_check] {name}: {json.dumps(value)[:300]}", flush=True)


def run(command: List[Any], timeout: float, log: Optional[Path] = None, **environment: str) -> str:
    """`command` in the repository root with `environment` added; its output (also into `log`)."""
    result = subprocess.run([str(part) for part in command], cwd=REPO, capture_output=True, text=True,
                            timeout=max(timeout, 1), env={**os.environ, **environment})
    output = result.stdout + result.stderr
    if log:
        log.write_text(output)
    if result.returncode != 0:
        raise RuntimeError(f"exit status {result.returncode}: {output[-1500:]}")
    return output


def environment(cuda: bool) -> Dict[str, Any]:
    import allennlp.version
    import huggingface_hub
    import numpy
    import tokenizers
    import torch
    import transformers

    import sinet_allen  # noqa: F401  registers everything, as the commands do

    found = {"python": sys.version.split()[0], "torch": torch.__version__, "numpy": numpy.__version__,
             "allennlp": allennlp.version.VERSION, "transformers": transformers.__version__,
             "transformers_from": os.path.dirname(transformers.__file__),
             "tokenizers": tokenizers.__version__,
             "huggingface_hub": huggingface_hub.__version__, "cuda_available": torch.cuda.is_available()}
    if torch.cuda.is_available():
        found.update(device=torch.cuda.get_device_name(0), device_count=torch.cuda.device_count(),
                     cuda=torch.version.cuda, bf16_supported=torch.cuda.is_bf16_supported())
    elif cuda:
        raise RuntimeError("no CUDA device: run with --cpu for the dry run")
    return found


def gpu_tests(output: Path, timeout: float) -> Dict[str, Any]:
    xml, log = output / "gpu_tests.xml", output / "gpu_tests.log"
    command = [sys.executable, "-m", "pytest", "-m", "requires_gpu", "tests/gpu", "-q", "-rs",
               "-p", "no:cacheprovider", f"--junitxml={xml}"]
    try:
        run(command, timeout, log)
    except RuntimeError:  # failures are counted from the XML below
        if not xml.exists():  # pytest stopped before running anything
            raise RuntimeError(f"pytest wrote no report: {log.read_text()[-1500:]}") from None
    suite = ElementTree.parse(xml).getroot().find("testsuite")
    cases = suite.findall("testcase")
    return {
        **{count: int(suite.get(count)) for count in ("tests", "failures", "errors", "skipped")},
        "passed": sum(1 for case in cases if case.find("failure") is None and case.find("error") is None
                      and case.find("skipped") is None),
        "not_passed": {f"{case.get('classname')}::{case.get('name')}": (problem.get("message") or "")[:500]
                       for case in cases for problem in case if problem.tag in ("failure", "error", "skipped")},
        "properties": {f"{case.get('name')}.{prop.get('name')}": prop.get("value")
                       for case in cases for prop in case.iter("property")},
    }


def random_encoder(carry: Path, folder: Path) -> Dict[str, Any]:
    """A randomly initialised model of the carried MiniLM configuration, with its tokenizer."""
    import shutil

    import torch
    from transformers import AutoConfig, AutoModel

    torch.manual_seed(0)
    source = carry / "encoder" / "minilm"
    model = AutoModel.from_config(AutoConfig.from_pretrained(source))
    model.save_pretrained(folder)
    for file in source.iterdir():
        if file.name != "config.json":
            shutil.copy(file, folder / file.name)
    return {"parameters": sum(p.numel() for p in model.parameters()), "config": str(source)}


def quick_data(data_dir: Path, folder: Path) -> Path:
    """The first QUICK_SENTENCES sentences of each SciERC split, for the dry run."""
    (folder / "scierc").mkdir(parents=True)
    for split in ("train", "dev", "test"):
        sentences = json.loads((data_dir / "scierc" / f"{split}.json").read_text())[:QUICK_SENTENCES]
        (folder / "scierc" / f"{split}.json").write_text(json.dumps(sentences))
    (folder / "scierc" / "types.json").write_text((data_dir / "scierc" / "types.json").read_text())
    return folder


def timing_steps(report: Report, args, work: Path, data_dir: Path) -> None:
    device = -1 if args.cpu else 0
    settings = {"SINET_ENCODER": str(work / "minilm_random"), "SINET_DATA_DIR": str(data_dir)}
    report.step("random_encoder", 10, lambda: random_encoder(args.carry, work / "minilm_random"))
    for precision, overrides in TRAINING_PRECISIONS.items():
        if args.cpu and precision == "amp":
            report.record("train_epoch_amp", {"skipped": "AMP needs a CUDA device"})
            continue
        output = args.output / f"train_{precision}.json"
        overrides = {**overrides, "trainer.cuda_device": device}
        report.step(f"train_epoch_{precision}", ESTIMATES["train_benchmark"], lambda: (
            run([sys.executable, "scripts/benchmark_training.py", TRAIN_CONFIG, "--epochs", 1,
                 "-o", json.dumps(overrides), "--output", output], report.left(), **settings),
            json.loads(output.read_text()))[1])
    run_dir = work / "sinet_scierc_random"
    train_overrides = {"trainer.num_epochs": 1, "trainer.cuda_device": device}
    report.step("allennlp_train_float32", ESTIMATES["allennlp_train"], lambda: (
        run([sys.executable, "-m", "allennlp", "train", TRAIN_CONFIG, "-s", run_dir,
             "-o", json.dumps(train_overrides)], report.left(), **settings),
        json.loads((run_dir / "metrics.json").read_text()))[1])
    output = args.output / "prediction.json"
    report.step("test_set_prediction", ESTIMATES["prediction"], lambda: (
        run([sys.executable, "scripts/benchmark_efficiency.py", run_dir / "model.tar.gz",
             data_dir / "scierc" / "test.json", "--batch-sizes", 32, "--precisions", "float32", "bfloat16",
             "--cuda-device", device, "--long-sentence-words", 300, "--output", output],
            report.left(), **settings),
        json.loads(output.read_text()))[1])


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--carry", type=Path, required=True,
                        help="the carry folder (scripts/gpu_check/build_carry.py)")
    parser.add_argument("--output", type=Path, required=True, help="where device_check.json and the logs go")
    parser.add_argument("--cpu", action="store_true", help="the dry run: the CPU, a dozen sentences per split")
    parser.add_argument("--budget", type=float, default=285, help="seconds for all steps (default 285)")
    args = parser.parse_args(argv)
    args.carry, args.output = args.carry.resolve(), args.output.resolve()
    args.output.mkdir(parents=True, exist_ok=True)
    report = Report(args.output / "device_check.json", args.budget)
    report.record("mode", "cpu dry run" if args.cpu else "gpu")
    report.step("environment", 0, lambda: environment(cuda=not args.cpu))
    report.step("tests", 30 if args.cpu else ESTIMATES["tests"],
                lambda: gpu_tests(args.output, report.left() - (0 if args.cpu else 120)))
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        data_dir = quick_data(args.carry / "data", work / "data") if args.cpu else args.carry / "data"
        timing_steps(report, args, work, data_dir)
    steps = report.content["steps"]
    failed = [name for name, value in steps.items() if isinstance(value, dict) and "error" in value]
    tests = steps.get("tests", {}).get("result", {})
    print(f"[device_check] done in {report.content['elapsed_seconds']} s; steps with errors: {failed or 'none'}; "
          f"tests: {tests.get('passed')} passed, {tests.get('failures')} failed, {tests.get('errors')} errors, "
          f"{tests.get('skipped')} skipped")
    return 1 if failed or tests.get("failures") or tests.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
