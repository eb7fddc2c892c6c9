"""`allennlp sinet-significance A.jsonl B.jsonl`: paired bootstrap test of "system B is better than
system A" on Ent, Rel and Rel+ micro F1 (see sinet_allen/experiments/bootstrap.py), on two files
in the prediction format with gold (`allennlp evaluate --predictions-output-file`, `allennlp
sinet-experiment`'s `<split>_predictions.jsonl`)."""
import argparse
import json
import sys
import tarfile
from dataclasses import asdict
from pathlib import Path
from typing import Dict, List, Tuple

from allennlp.commands.subcommand import Subcommand
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError

from sinet_allen.experiments.bootstrap import Comparison, count_array, paired_bootstrap, paired_records
from sinet_allen.metrics.joint_ie_f1 import TASK_LABELS
from sinet_allen.predictors.prediction_format import read_predictions
from sinet_allen.commands.silent import add_silent_option, silence_if_asked


@Subcommand.register("sinet-significance")
class SinetSignificance(Subcommand):
    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = ("Paired bootstrap test between two systems' predictions (with gold) on the same "
                       "sentences; p = share of resamples in which B's F1 does not exceed A's. An input it "
                       "cannot use is a one-line error naming the file (and line) and exit status 1.")
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("system_a", type=Path, help="predictions of the baseline")
        subparser.add_argument("system_b", type=Path, help="predictions of the system claimed to be better")
        subparser.add_argument("--samples", type=int, default=10000, help="number of bootstrap resamples")
        subparser.add_argument("--seed", type=int, default=0, help="seed of the resampling")
        subparser.add_argument("--symmetric", nargs="*", default=None, help=(
            "relation types compared as unordered pairs, overriding the run's; default: the model's "
            "symmetric_relations from --archive, --config, or the config.json beside a prediction file"))
        subparser.add_argument("--archive", type=Path, help="a model.tar.gz whose config names the symmetric types")
        subparser.add_argument("--config", type=Path, help="a training config naming the symmetric types")
        subparser.add_argument("--output", type=Path, help="also write the results as JSON here")
        add_silent_option(subparser)
        subparser.set_defaults(func=significance_from_args)
        return subparser


def significance_from_args(args: argparse.Namespace) -> Dict[str, Comparison]:
    silence_if_asked(args)
    try:
        return compare_systems(args)
    except (ValueError, OSError, tarfile.TarError, ConfigurationError) as error:
        sys.exit(f"sinet-significance: error: {error}")


def compare_systems(args: argparse.Namespace) -> Dict[str, Comparison]:
    """Prints (and with `--output` writes) the bootstrap comparison of the two prediction files;
    a ValueError or OSError names the file at fault."""
    records_a = read_predictions(args.system_a)
    try:
        records_b = paired_records(records_a, read_predictions(args.system_b))
    except ValueError as error:
        if str(args.system_b) in str(error):  # read_predictions named the file and line already
            raise
        raise ValueError(f"{args.system_b} against {args.system_a}: {error}") from None
    symmetric, origin = symmetric_relations(args)
    comparisons = paired_bootstrap(count_array(records_a, symmetric), count_array(records_b, symmetric),
                                   args.samples, args.seed)
    print(f"Paired bootstrap, {len(records_a)} sentences, {args.samples} resamples, seed {args.seed}\n"
          f"A = {args.system_a}\nB = {args.system_b}\n"
          f"Symmetric relation types: {', '.join(symmetric) or 'none'} (from {origin})\n{format_table(comparisons)}")
    if args.output:
        result = {"system_a": str(args.system_a), "system_b": str(args.system_b), "sentences": len(records_a),
                  "samples": args.samples, "seed": args.seed, "symmetric": symmetric, "symmetric_from": origin,
                  **{task: asdict(comparison) for task, comparison in comparisons.items()}}
        args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return comparisons


def symmetric_relations(args: argparse.Namespace) -> Tuple[List[str], str]:
    """The symmetric relation types and where they came from: `--symmetric`, else the model config
    of `--archive` or `--config`, else the config.json of the runs the prediction files lie in
    (`allennlp sinet-experiment` writes them beside it), else none."""
    if args.symmetric is not None:
        return list(args.symmetric), "--symmetric"
    if args.archive:
        return _model_symmetric(_archived_config(args.archive), args.archive), str(args.archive)
    if args.config:
        return _model_symmetric(_training_config(args.config), args.config), str(args.config)
    run_configs = [path.parent / "config.json" for path in (args.system_a, args.system_b)]
    found = {str(path): _model_symmetric(_json_file(path), path) for path in run_configs if path.exists()}
    if len({tuple(types) for types in found.values()}) > 1:
        raise ValueError(f"the runs' configs disagree on the symmetric relation types: {found}; "
                         "give --symmetric to choose")
    if found:
        return next(iter(found.values())), " and ".join(sorted(found))
    return [], "no run config beside the prediction files; give --symmetric, --archive or --config"


def _archived_config(path: Path) -> Dict:
    with tarfile.open(path) as archive:
        try:
            config = archive.extractfile("config.json")
        except KeyError:
            raise ValueError(f"{path}: no config.json inside; is it a model archive?") from None
        try:
            return json.load(config)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}, config.json, line {error.lineno}: not valid JSON ({error.msg})") from None


def _model_symmetric(config: Dict, where: Path) -> List[str]:
    """The model's `symmetric_relations`: none when the config leaves them out (the model's default)."""
    types = config.get("model", {}).get("symmetric_relations", [])
    if not isinstance(types, list) or not all(isinstance(name, str) for name in types):
        raise ValueError(f"{where}: model.symmetric_relations must be a list of relation types, got {types!r}")
    return sorted(types)


def _training_config(path: Path) -> Dict:
    try:
        return Params.from_file(str(path)).as_dict(quiet=True)
    except RuntimeError as error:  # jsonnet's syntax and evaluation errors, which name the line
        raise ValueError(f"{path}: not a valid config: {str(error).splitlines()[0]}") from None


def _json_file(path: Path) -> Dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}, line {error.lineno}: not valid JSON ({error.msg})") from None


def format_table(comparisons: Dict[str, Comparison]) -> str:
    """F1 in percent; p is one-sided: the share of resamples with F1(B) - F1(A) <= 0."""
    lines = [f"{'':6}{'F1 A':>8}{'F1 B':>8}{'B - A':>8}{'p':>8}"]
    for task, c in comparisons.items():
        percent = f"{100 * c.f1_a:8.2f}{100 * c.f1_b:8.2f}{100 * c.delta:+8.2f}"
        lines.append(f"{TASK_LABELS[task]:6}{percent}{c.p_value:8.4f}")
    return "\n".join(lines)
