#!/usr/bin/env python
"""Prediction speed, memory and FLOPs of a trained SINET archive, per batch size.

    python scripts/benchmark_efficiency.py ARCHIVE DATA_FILE [--batch-sizes 1 32] [--limit N]
        [--precisions float32 bfloat16] [--cuda-device -1] [--long-sentence-words 300]
        [--document-sentences 0] [-o OVERRIDES] [--output benchmarks/inference/efficiency.json]

DATA_FILE is read with the archive's validation reader, so every sentence has all its spans of at
most `max_span_size` words as candidates, as in evaluation. For each batch size the sentences are
sorted by length in wordpieces (ties keep file order) and cut into consecutive batches, so that a
batch holds sentences of similar length (little padding); each sentence is predicted on its own
(attention and pooling ignore the padding), so the order changes no prediction, which the script
checks by comparing the predictions of all batch sizes. Instances are turned into tensors before
the clock starts; the timed passes run in eval mode under `torch.inference_mode` after one
warm-up batch:

* prediction: the model's forward pass, which includes the decoding (entities, relations);
* encoder: the model's encoder alone (`Sinet.encode`) on the same batches; the ratio of the two
  times is what SINET adds over its encoder;
* accuracy: Ent / Rel / Rel+ F1 of those predictions against the file's gold annotation, so that a
  faster `inference_precision` (each of --precisions is measured) shows what it costs;
* peak memory: the growth of the process's peak resident memory (Linux VmHWM, restarted just
  before the warm-up) during the prediction pass, and on a GPU the peak of
  `torch.cuda.max_memory_allocated`; each batch size runs in a fresh process, so peaks do not mix;
* FLOPs per sentence: `torch.utils.flop_counter.FlopCounterMode` (matrix products and attention,
  not element-wise operations) over a sample of batches spread from the shortest to the longest.

The long-sentence probe predicts one synthetic sentence of --long-sentence-words words (the data's
words in order, repeated) twice, each in a fresh process: with the model as it is, and as an
untrained model that proposes every span would, by lowering the entity classifier's bias for the
no-entity class by 1e4, so that the class never wins and every candidate span is kept as an
entity; the `max_relation_entities` best of them are then paired. Beyond the encoder's 512
wordpieces the sentence needs the archive's `max_length` (`-o`, docs/model.md, "Long inputs").

The document probe (--document-sentences N) predicts the first N sentences with words of DATA_FILE
as one `sentences` input through the `sinet` predictor, as `allennlp predict` would, so that a
model with a context window reads each with its neighbours; timed after a warm-up input, with its
peak memory, in a fresh process. `-o` applies config overrides to the archive in every
measurement (e.g. the readers' `context_window`). The JSON output is written only
once everything has been measured, by replacing the file with a complete temporary one.
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
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
from torch.utils.flop_counter import FlopCounterMode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # a checkout without pip install
import sinet_allen  # noqa: E402,F401  (registers the model and reader for load_archive)
from sinet_allen.dataset_readers.formats import read_sentences  # noqa: E402
from sinet_allen.files import write_json_atomically  # noqa: E402
from sinet_allen.metrics.joint_ie_f1 import JointIEF1  # noqa: E402
from sinet_allen.models.joint_ie_model import PRECISIONS  # noqa: E402
from sinet_allen.predictors.sinet_predictor import SinetPredictor  # noqa: E402
from allennlp.data import Batch, Instance  # noqa: E402
from allennlp.models.archival import load_archive  # noqa: E402
from allennlp.nn.util import move_to_device  # noqa: E402

WORKER = "--worker"  # argv[1] of the measuring subprocesses
FLOP_SAMPLE_BATCHES = 4
NO_ENTITY_BIAS_SHIFT = 1e4  # far beyond any logit gap of a trained classifier
MB = 2**20


class BenchmarkError(Exception):
    """A benchmark that cannot run; the message says why."""


# --- shared with benchmark_training.py ------------------------------------------------------------

class PeakMemory:
    """Peak memory over a `with` block: the growth of the process's peak resident set (Linux
    VmHWM, restarted on entry by writing 5 to /proc/self/clear_refs) and, on a GPU, CUDA's peak
    allocation. A process keeps memory it has freed for reuse, so a block measures best as the
    first thing a process does after loading."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.figures: Dict[str, Optional[float]] = {}

    def __enter__(self) -> "PeakMemory":
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError as error:
            raise BenchmarkError(f"cannot restart the peak memory counter (Linux only): {error}")
        self.rss = _proc_status_mb("VmRSS")
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self.cuda = torch.cuda.memory_allocated(self.device) / MB
        return self

    def __exit__(self, *exc_info) -> None:
        peak = _proc_status_mb("VmHWM")
        self.figures = {"rss_baseline_mb": self.rss, "rss_peak_mb": peak, "rss_growth_mb": peak - self.rss,
                        "cuda_baseline_mb": None, "cuda_peak_mb": None, "cuda_growth_mb": None}
        if self.device.type == "cuda":
            cuda_peak = torch.cuda.max_memory_allocated(self.device) / MB
            self.figures.update(cuda_baseline_mb=self.cuda, cuda_peak_mb=cuda_peak,
                                cuda_growth_mb=cuda_peak - self.cuda)


def _proc_status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB
    raise BenchmarkError(f"/proc/self/status has no {field}")


def synchronize(device: torch.device) -> None:
    """Waits for queued GPU work, so that a clock reading after it includes that work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def machine_info(device: torch.device) -> Dict[str, Any]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
    }


def shareable_path(path: Path) -> str:
    """`path` as any checkout can read it: `<data>/...` under $SINET_DATA_DIR, relative to the
    repository inside it, else `<elsewhere>/` and the file name: a benchmark file names no
    directory of the machine that wrote it."""
    path = path.resolve()
    data_root = Path(os.environ.get("SINET_DATA_DIR", "data")).resolve()
    if path.is_relative_to(data_root):
        return f"<data>/{path.relative_to(data_root).as_posix()}"
    if path.is_relative_to(REPO):
        return path.relative_to(REPO).as_posix()
    return f"<elsewhere>/{path.name}"


def report_header(script: str, argv: List[str], machine: Dict[str, Any]) -> Dict[str, Any]:
    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": shlex.join(["python", os.path.relpath(script), *argv]),
            "machine": machine}


# --- measurements (each in its own process) -----------------------------------------------------

def _load(job: Dict[str, Any]):
    archive = load_archive(job["archive"], cuda_device=job["cuda_device"],
                           overrides={**job["overrides"], "model.inference_precision": job["precision"]})
    archive.model.eval()
    device = torch.device("cpu") if job["cuda_device"] < 0 else torch.device("cuda", job["cuda_device"])
    return archive.model, archive.validation_dataset_reader, device


def _tensors(model, instances: List[Instance], device: torch.device) -> Dict[str, Any]:
    batch = Batch(instances)
    batch.index_instances(model.vocab)
    return move_to_device(batch.as_tensor_dict(), device)


def _predict(model) -> Callable[[Dict[str, Any]], List[Dict[str, list]]]:
    """One batch's predictions, per sentence: its entities and relations without scores."""
    def step(batch):
        output = model(**batch)
        return [{"entities": entities, "relations": relations}
                for entities, relations in zip(output["entity_triples"], output["relation_triples"])]
    return step


def _timed(step, batches, device) -> Tuple[float, list]:
    """Seconds of one pass of `step` over `batches` after a warm-up batch, and its results."""
    step(batches[0])  # lazy initialisation, allocator and kernel caches
    synchronize(device)
    start = time.perf_counter()
    results = [step(batch) for batch in batches]
    synchronize(device)
    return time.perf_counter() - start, results


def _flops(step, batches) -> int:
    counter = FlopCounterMode(display=False)
    with counter:
        for batch in batches:
            step(batch)
    return counter.get_total_flops()


def measure_batch_size(job: Dict[str, Any]) -> Dict[str, Any]:
    model, reader, device = _load(job)
    # Like the predictor, which does not run the model for a sentence without words.
    sentences = (instance for instance in reader.read(job["data_file"]) if instance["metadata"]["tokens"])
    instances = list(itertools.islice(sentences, job["limit"]))
    if not instances:
        raise BenchmarkError(f"{job['data_file']} holds no sentence with words")
    order = sorted(range(len(instances)), key=lambda index: len(instances[index]["tokens"]))
    size = job["batch_size"]
    groups = [order[start : start + size] for start in range(0, len(order), size)]
    batches = [_tensors(model, [instances[index] for index in group], device) for group in groups]
    predict = _predict(model)
    with torch.inference_mode():
        with PeakMemory(device) as memory:
            seconds, outputs = _timed(predict, batches, device)
        encoder_seconds, _ = _timed(lambda batch: model.encode(batch["tokens"]), batches, device)
        # Evenly spaced over the batches, which run from the shortest sentences to the longest.
        count = min(FLOP_SAMPLE_BATCHES, len(batches))
        sample = [batches[round(k * (len(batches) - 1) / max(1, count - 1))] for k in range(count)]
        sample_sentences = sum(len(batch["metadata"]) for batch in sample)
        flops = _flops(predict, sample) / sample_sentences
        encoder_flops = _flops(lambda batch: model.encode(batch["tokens"]), sample) / sample_sentences
    predictions: List[Any] = [None] * len(instances)
    for group, output in zip(groups, outputs):
        for index, prediction in zip(group, output):
            predictions[index] = prediction
    return {
        "machine": machine_info(device),
        "precision": job["precision"],
        "batch_size": size,
        "batches": len(batches),
        "sentences": len(instances),
        "prediction": {"seconds": seconds, "sentences_per_second": len(instances) / seconds, **memory.figures},
        "encoder": {"seconds": encoder_seconds, "sentences_per_second": len(instances) / encoder_seconds},
        "prediction_to_encoder_time": seconds / encoder_seconds,
        "flops_per_sentence": {"prediction": flops, "encoder": encoder_flops,
                               "sample_batches": len(sample), "sample_sentences": sample_sentences},
        "f1": _f1(model, predictions, [instance["metadata"] for instance in instances]),
        "predictions": predictions,
    }


def _f1(model, predictions: List[Dict[str, list]], metadata: List[Dict[str, Any]]) -> Dict[str, float]:
    metric = JointIEF1(symmetric_relations=model.symmetric_relations)
    metric(predictions, [{"entities": m["gold_entities"], "relations": m["gold_relations"]} for m in metadata])
    return {name: value for name, value in metric.get_metric().items() if name.endswith("_f1")}


def measure_long_sentence(job: Dict[str, Any]) -> Dict[str, Any]:
    model, reader, device = _load(job)
    words = [word for instance in reader.read(job["data_file"]) for word in instance["metadata"]["tokens"]]
    if not words:
        raise BenchmarkError(f"{job['data_file']} holds no words to build the long sentence from")
    instance = reader.text_to_instance(list(itertools.islice(itertools.cycle(words), job["words"])))
    candidates = len(instance["entity_spans"])
    if job["all_spans"]:
        with torch.no_grad():
            model.entity_classifier.bias[model.no_entity] -= NO_ENTITY_BIAS_SHIFT
    with torch.inference_mode(), PeakMemory(device) as memory:
        seconds, [[prediction]] = _timed(_predict(model), [_tensors(model, [instance], device)], device)
    entities = len(prediction["entities"])
    if job["all_spans"] and entities != candidates:
        raise BenchmarkError(f"only {entities} of {candidates} spans were kept with the lowered no-entity bias")
    paired = min(entities, model.max_relation_entities)
    return {"seconds": seconds, "entities": entities, "relations": len(prediction["relations"]),
            "pairs_scored": paired * (paired - 1), **memory.figures,
            "wordpieces": len(instance["tokens"]), "candidate_spans": candidates,
            "max_relation_entities": model.max_relation_entities}


def measure_document(job: Dict[str, Any]) -> Dict[str, Any]:
    model, reader, device = _load(job)
    sentences = [sentence.tokens for sentence in read_sentences(job["data_file"]) if sentence.tokens]
    if len(sentences) < job["sentences"]:
        raise BenchmarkError(f"{job['data_file']} holds {len(sentences)} sentences with words, fewer than "
                             f"the {job['sentences']} asked for")
    predictor = SinetPredictor(model, reader)
    predictor.predict_json({"sentences": sentences[:2]})  # warm-up
    document = {"sentences": sentences[: job["sentences"]]}
    with torch.inference_mode(), PeakMemory(device) as memory:
        start = time.perf_counter()
        result = predictor.predict_json(document)
        synchronize(device)
        seconds = time.perf_counter() - start
    if "error" in result:
        raise BenchmarkError(f"the document could not be predicted: {result['error']}")
    return {"seconds": seconds, "sentences": job["sentences"], "words": len(result["tokens"]),
            "entities": len(result["entities"]), "relations": len(result["relations"]), **memory.figures}


MEASUREMENTS = {"batch_size": measure_batch_size, "long_sentence": measure_long_sentence, "document": measure_document}


def run_worker(job_file: str, result_file: str) -> None:
    job = json.loads(Path(job_file).read_text())
    measure = MEASUREMENTS[job["task"]]
    Path(result_file).write_text(json.dumps(measure(job)))


def in_subprocess(job: Dict[str, Any]) -> Dict[str, Any]:
    """Runs one measurement in a fresh Python process (so that its peak memory is its own)."""
    with tempfile.TemporaryDirectory() as folder:
        job_file, result_file = Path(folder, "job.json"), Path(folder, "result.json")
        job_file.write_text(json.dumps(job))
        done = subprocess.run([sys.executable, __file__, WORKER, str(job_file), str(result_file)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            sys.stderr.write(done.stderr)  # the details: the worker's traceback
            last = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
            raise BenchmarkError(f"the {job['task']} measurement failed: {last[0]}")
        return json.loads(result_file.read_text())


# --- the report ---------------------------------------------------------------------------------

def _mb(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.1f}"


def print_report(report: Dict[str, Any]) -> None:
    print(f"{report['sentences']} sentences of {report['data_file']} on {report['machine']['device']}")
    print(f"{'precision':>9} {'batch':>5} {'sent/s':>9} {'encoder sent/s':>14} {'pred/enc time':>13} "
          f"{'RSS +MB':>8} {'CUDA peak MB':>12} {'GFLOP/sent':>10} {'encoder GFLOP/sent':>18} "
          f"{'Ent F1':>6} {'Rel F1':>6} {'Rel+ F1':>7}")
    for run in report["runs"]:
        prediction, flops, f1 = run["prediction"], run["flops_per_sentence"], run["f1"]
        print(f"{run['precision']:>9} {run['batch_size']:>5} {prediction['sentences_per_second']:>9.1f} "
              f"{run['encoder']['sentences_per_second']:>14.1f} {run['prediction_to_encoder_time']:>13.2f} "
              f"{_mb(prediction['rss_growth_mb']):>8} {_mb(prediction['cuda_peak_mb']):>12} "
              f"{flops['prediction'] / 1e9:>10.3f} {flops['encoder'] / 1e9:>18.3f} "
              f"{100 * f1['ent_f1']:>6.2f} {100 * f1['rel_f1']:>6.2f} {100 * f1['rel_strict_f1']:>7.2f}")
    for precision, differing in report["differing_sentences"].items():
        print(f"{precision} predictions identical across batch sizes: "
              + ("yes" if not differing else f"NO ({differing} sentences differ)"))
    probe = report["long_sentence"]
    if probe:
        print(f"long sentence: {probe['words']} words, {probe['wordpieces']} wordpieces, "
              f"{probe['candidate_spans']} candidate spans")
        for mode in ("as_is", "all_spans_kept"):
            figures = probe[mode]
            print(f"  {mode:<15}{figures['seconds']:8.3f} s  {figures['entities']:6} entities  "
                  f"{figures['pairs_scored']:6} pairs  RSS +{_mb(figures['rss_growth_mb'])} MB  "
                  f"CUDA peak {_mb(figures['cuda_peak_mb'])} MB")
    document = report.get("document")
    if document:
        print(f"document: {document['sentences']} sentences, {document['words']} words: {document['seconds']:.3f} s, "
              f"{document['entities']} entities, {document['relations']} relations, "
              f"RSS +{_mb(document['rss_growth_mb'])} MB, CUDA peak {_mb(document['cuda_peak_mb'])} MB")


def _differing_sentences(predictions_by_run: List[List[Any]]) -> int:
    reference = predictions_by_run[0]
    return len({index for other in predictions_by_run[1:]
                for index, (a, b) in enumerate(zip(reference, other)) if a != b})


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", type=Path, help="model.tar.gz of a trained SINET model")
    parser.add_argument("data_file", type=Path, help="sentences in a format the reader accepts")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--limit", type=int, help="only the first N sentences (with words) of DATA_FILE")
    parser.add_argument("--precisions", nargs="+", default=["float32"], choices=PRECISIONS,
                        help="the model's inference_precision settings to measure")
    parser.add_argument("--cuda-device", type=int, default=-1, help="GPU index; -1: the CPU")
    parser.add_argument("--long-sentence-words", type=int, default=300,
                        help="words of the long-sentence probe; 0 skips it")
    parser.add_argument("--document-sentences", type=int, default=0,
                        help="sentences of the document probe; 0 (the default) skips it")
    parser.add_argument("-o", "--overrides", type=json.loads, default={},
                        help="JSON config overrides for the archive, dotted keys as in allennlp's -o")
    parser.add_argument("--output", type=Path, default=Path("benchmarks/inference/efficiency.json"))
    args = parser.parse_args(argv)
    if min(args.batch_sizes) < 1 or (args.limit is not None and args.limit < 1) or args.long_sentence_words < 0:
        parser.error("batch sizes and --limit must be positive, --long-sentence-words at least 0")

    try:
        for path, what in ((args.archive, "archive"), (args.data_file, "data file")):
            if not path.is_file():
                raise BenchmarkError(f"{what} not found: {path}")
        job = {"archive": str(args.archive), "data_file": str(args.data_file), "cuda_device": args.cuda_device,
               "overrides": args.overrides}
        runs = []
        for precision in args.precisions:
            for size in args.batch_sizes:
                print(f"measuring {precision} at batch size {size} ...", file=sys.stderr)
                runs.append(in_subprocess({**job, "task": "batch_size", "precision": precision,
                                           "batch_size": size, "limit": args.limit}))
        long_sentence = None
        if args.long_sentence_words:
            # In float32: the memory bound concerns the model as trained.
            print(f"measuring a sentence of {args.long_sentence_words} words ...", file=sys.stderr)
            modes = {mode: in_subprocess({**job, "task": "long_sentence", "precision": "float32",
                                          "words": args.long_sentence_words,
                                          "all_spans": mode == "all_spans_kept"})
                     for mode in ("as_is", "all_spans_kept")}
            shared = ("wordpieces", "candidate_spans", "max_relation_entities")
            long_sentence = {"words": args.long_sentence_words,
                             **{key: modes["as_is"][key] for key in shared},
                             **{mode: {k: v for k, v in figures.items() if k not in shared}
                                for mode, figures in modes.items()}}
        document = None
        if args.document_sentences:
            print(f"measuring a document of {args.document_sentences} sentences ...", file=sys.stderr)
            document = in_subprocess({**job, "task": "document", "precision": "float32",
                                      "sentences": args.document_sentences})
    except BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    # Reported by the measuring processes: the parent need not start CUDA for the device's name.
    machine = [run.pop("machine") for run in runs][0]
    report = {
        **report_header(__file__, argv, machine),
        "archive": shareable_path(args.archive),
        "data_file": shareable_path(args.data_file),
        "sentences": runs[0]["sentences"],
        "batching": "sorted by length in wordpieces (ties in file order), consecutive batches",
        "runs": runs,
        # Per precision, how many sentences' predictions differ between its batch sizes.
        "differing_sentences": {precision: _differing_sentences([run.pop("predictions") for run in runs
                                                                 if run["precision"] == precision])
                                for precision in args.precisions},
        "long_sentence": long_sentence,
        "document": document,
    }
    print_report(report)
    write_json_atomically(args.output, report)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == [WORKER]:
        run_worker(*sys.argv[2:])
    else:
        sys.exit(main())
