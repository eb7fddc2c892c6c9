#!/usr/bin/env python
"""int8 against float32 and bfloat16: F1 of every int8 recipe and prediction speed, per archive.

    python scripts/benchmark_int8.py ARCHIVE_OR_JSON [...] --dev DEV_FILE --test TEST_FILE
        [--recipes all_linear ...] [--batch-sizes 1 32] [--speed-sentences 200] [--rounds 2]
        [--output benchmarks/int8/cpu.json]

Every archive is loaded once, in float32; each variant is its encoder (the archive's own, its
bfloat16 copy, or an int8 copy made by one recipe of sinet_allen/models/quantization.py, `RECIPES`)
put in the model's place, so that everything after the encoder is the same in all of them.

* accuracy: Ent / Rel / Rel+ F1 of every variant on DEV_FILE and TEST_FILE (read with the archive's
  validation reader, batches of 32 sentences of similar length), and per variant the mean difference
  to float32 over the archives. The recipe is chosen on dev (`choice`): the fastest at the largest
  batch size among those within `TOLERANCE` F1 of float32 in mean Ent and Rel+, else the one that
  loses least Rel+. Report the test figures of that choice.
* speed: sentences/s of the first --speed-sentences test sentences (batches of similar length, one
  warm-up batch) per variant and batch size. The variants alternate within each of --rounds rounds
  in this one process, so that on a shared machine every variant meets the same load; the best
  round counts. Each variant's predictions at every batch size are compared: `differing_sentences`
  counts the sentences whose entities or relations change with the batch size (per-token int8, like
  float32, should change none).

An argument ending in .json is an earlier output of this script whose archives are taken as they
are, so that archives measured in parallel processes are summarised together. The JSON output is
written only once everything has been measured.
"""
import argparse
import json
import sys
import time
from pathlib import Path
from statistics import mean
from typing import Any, Callable, Dict, List, Optional

import torch

# The script's folder is on sys.path: the shared helpers and the plugin's registrations.
from benchmark_efficiency import _f1, _predict, _tensors, machine_info, report_header, shareable_path
from sinet_allen.files import write_json_atomically
from sinet_allen.models.joint_ie_model import bfloat16_copy
from sinet_allen.models.quantization import DEFAULT_RECIPE, RECIPES, int8_copy
from allennlp.models.archival import load_archive

TOLERANCE = 0.5  # F1 points, the bound on what int8 may cost
ACCURACY_BATCH = 32
SCORES = ("ent_f1", "rel_f1", "rel_strict_f1")


def encoder_variants(embedder: torch.nn.Module, recipes: List[str]) -> Dict[str, torch.nn.Module]:
    variants = {"float32": embedder, "bfloat16": bfloat16_copy(embedder)}
    variants.update({f"int8/{name}": int8_copy(embedder, RECIPES[name]) for name in recipes})
    return variants


def sentences(reader, path: str) -> List[Any]:
    # Like the predictor, which does not run the model for a sentence without words.
    return [instance for instance in reader.read(path) if instance["metadata"]["tokens"]]


def batched(model, instances: List[Any], size: int):
    """Tensor batches of `size` sentences of similar length, and the sentence indices of each."""
    order = sorted(range(len(instances)), key=lambda index: len(instances[index]["tokens"]))
    groups = [order[start : start + size] for start in range(0, len(order), size)]
    return [_tensors(model, [instances[index] for index in group], torch.device("cpu")) for group in groups], groups


def in_input_order(groups: List[List[int]], outputs: List[list], count: int) -> List[Any]:
    predictions: List[Any] = [None] * count
    for group, output in zip(groups, outputs):
        for index, prediction in zip(group, output):
            predictions[index] = prediction
    return predictions


def accuracy(model, variants: Dict[str, torch.nn.Module], instances: List[Any]) -> Dict[str, Dict[str, float]]:
    batches, groups = batched(model, instances, ACCURACY_BATCH)
    predict = _predict(model)
    figures = {}
    for name, encoder in variants.items():
        model.embedder = encoder
        outputs = [predict(batch) for batch in batches]
        predictions = in_input_order(groups, outputs, len(instances))
        figures[name] = {key: 100 * value for key, value in
                         _f1(model, predictions, [instance["metadata"] for instance in instances]).items()}
        print(f"  {name:32} " + "  ".join(f"{key} {figures[name][key]:.2f}" for key in SCORES), file=sys.stderr)
    return figures


def timed_pass(step: Callable, batches: list) -> tuple:
    step(batches[0])  # warm-up: lazy initialisation, allocator caches
    start = time.perf_counter()
    outputs = [step(batch) for batch in batches]
    return time.perf_counter() - start, outputs


def speed(model, variants: Dict[str, torch.nn.Module], instances: List[Any], batch_sizes: List[int],
          rounds: int) -> Dict[str, Any]:
    predict = _predict(model)
    runs = {(name, size): {"variant": name, "batch_size": size, "seconds": []}
            for size in batch_sizes for name in variants}
    predictions: Dict[tuple, list] = {}
    for size in batch_sizes:
        batches, groups = batched(model, instances, size)
        for _ in range(rounds):
            for name, encoder in variants.items():
                model.embedder = encoder
                seconds, outputs = timed_pass(predict, batches)
                runs[name, size]["seconds"].append(seconds)
                predictions[name, size] = in_input_order(groups, outputs, len(instances))
    for run in runs.values():
        run["sentences_per_second"] = len(instances) / min(run["seconds"])
        print(f"  {run['variant']:32} batch {run['batch_size']:3}: {run['sentences_per_second']:.1f} sentences/s",
              file=sys.stderr)
    differing = {name: sum(len({repr(predictions[name, size][index]) for size in batch_sizes}) > 1
                           for index in range(len(instances))) for name in variants}
    return {"sentences": len(instances), "rounds": rounds, "runs": list(runs.values()),
            "differing_sentences": differing}


def measure_archive(path: str, args: argparse.Namespace) -> Dict[str, Any]:
    print(f"{path}:", file=sys.stderr)
    archive = load_archive(path)
    model = archive.model.eval()
    reader = archive.validation_dataset_reader
    dev, test = sentences(reader, args.dev), sentences(reader, args.test)
    with torch.inference_mode():
        variants = encoder_variants(model.embedder, args.recipes)
        result = {"archive": shareable_path(Path(path)),
                  "dev": accuracy(model, variants, dev), "test": accuracy(model, variants, test)}
        if args.speed_sentences:
            result["speed"] = speed(model, variants, test[: args.speed_sentences], args.batch_sizes, args.rounds)
    return result


def measured(path: str, args: argparse.Namespace) -> List[Dict[str, Any]]:
    if path.endswith(".json"):
        return json.loads(Path(path).read_text())["archives"]
    return [measure_archive(path, args)]


def mean_differences(archives: List[Dict[str, Any]], split: str) -> Dict[str, Dict[str, float]]:
    """Per variant, the mean over the archives of its F1 minus float32's."""
    names = dict.fromkeys(name for archive in archives for name in archive[split])
    return {name: {**{key: mean(a[split][name][key] - a[split]["float32"][key] for a in archives if name in a[split])
                      for key in SCORES}, "archives": sum(name in a[split] for a in archives)}
            for name in names}


def mean_speed(archives: List[Dict[str, Any]]) -> Dict[str, Dict[int, float]]:
    table: Dict[str, Dict[int, List[float]]] = {}
    for archive in archives:
        for run in archive.get("speed", {}).get("runs", []):
            table.setdefault(run["variant"], {}).setdefault(run["batch_size"], []).append(run["sentences_per_second"])
    return {name: {size: mean(values) for size, values in sizes.items()} for name, sizes in table.items()}


def choose_recipe(dev_differences: Dict[str, Dict[str, float]], speeds: Dict[str, Dict[int, float]]) -> str:
    int8 = [name for name in dev_differences if name.startswith("int8/")]
    holding = [name for name in int8 if dev_differences[name]["ent_f1"] >= -TOLERANCE
               and dev_differences[name]["rel_strict_f1"] >= -TOLERANCE]
    if holding:
        return max(holding, key=lambda name: max(speeds.get(name, {0: 0.0}).items())[1])
    return max(int8, key=lambda name: dev_differences[name]["rel_strict_f1"])


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archives", nargs="+")
    parser.add_argument("--dev", required=True, help="choose the recipe on this file")
    parser.add_argument("--test", required=True, help="report and time on this file")
    parser.add_argument("--recipes", nargs="+", choices=sorted(RECIPES), default=sorted(RECIPES))
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 32])
    parser.add_argument("--speed-sentences", type=int, default=200,
                        help="test sentences timed per variant; 0 measures accuracy only")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", default="benchmarks/int8/cpu.json")
    args = parser.parse_args(argv)
    arguments = sys.argv[1:] if argv is None else argv
    # The files named as any checkout can read them (no directory of this machine).
    arguments = [shareable_path(Path(argument)) if Path(argument).exists() or argument == args.output else argument
                 for argument in arguments]
    header = report_header(__file__, arguments, machine_info(torch.device("cpu")))
    archives = [archive for path in args.archives for archive in measured(path, args)]
    speeds = mean_speed(archives)
    dev_differences = mean_differences(archives, "dev")
    report = {**header, "tolerance": TOLERANCE, "default_recipe": DEFAULT_RECIPE.name,
              "choice": choose_recipe(dev_differences, speeds), "archives": archives,
              "mean_difference_to_float32": {"dev": dev_differences, "test": mean_differences(archives, "test")},
              "mean_sentences_per_second": speeds}
    write_json_atomically(Path(args.output), report)
    print_summary(report)
    return 0


def print_summary(report: Dict[str, Any]) -> None:
    print(f"{'variant':32} {'dev dEnt':>8} {'dRel':>6} {'dRel+':>6} {'test dEnt':>9} {'dRel':>6} {'dRel+':>6}"
          "  archives  sentences/s")
    for name, dev in report["mean_difference_to_float32"]["dev"].items():
        test = report["mean_difference_to_float32"]["test"][name]
        measured = report["mean_sentences_per_second"].get(name, {})
        speeds = " ".join(f"b{size}: {value:.1f}" for size, value in measured.items())
        print(f"{name:32} " + " ".join(f"{dev[key]:+6.2f}" for key in SCORES) + "    "
              + " ".join(f"{test[key]:+6.2f}" for key in SCORES) + f"  {test['archives']:8}  {speeds}")
    print(f"chosen on dev: {report['choice']} (the models' default: {report['default_recipe']})")


if __name__ == "__main__":
    sys.exit(main())
