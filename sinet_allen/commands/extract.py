"""`allennlp sinet-extract MODEL INPUT --output-file OUT`: entities and relations for every line of
an input of any size, streamed, resumable, in the prediction format (docs/prediction.md and
sinet_allen/predictors/extraction.py). Exits with status 1 when any line got an error record, 0
when every line was predicted; a bad argument (an output that is the input) stops it before
anything is written, with status 2.
`--engine ray --output-dir OUT` runs on Ray workers instead (sinet_allen/commands/ray_extract.py)."""
import argparse
import logging

from allennlp.commands.subcommand import Subcommand
from allennlp.common.checks import ConfigurationError

from sinet_allen.commands.ray_extract import add_ray_arguments, extract_with_ray
from sinet_allen.commands.silent import add_silent_option, silence_if_asked
from sinet_allen.models.joint_ie_model import PRECISIONS
from sinet_allen.predictors.decoding_options import DecodingOptions, OptionError
from sinet_allen.predictors.extraction import (
    DEFAULT_LOOKAHEAD, INPUT_FORMATS, check_output_path, extract_file, load_predictor)

logger = logging.getLogger(__name__)


@Subcommand.register("sinet-extract")
class SinetExtract(Subcommand):
    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = ("Predict every line of INPUT (JSON lines with 'sentence', 'document', 'tokens' or "
                       "'sentences', or raw text with a document per line) into OUT, line N for line N, "
                       "streaming; exit status 1 when any line failed.")
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("archive_file", help="the model.tar.gz written by allennlp train")
        subparser.add_argument("input_file", help=(
            "the input, one item per line; with --engine ray also a folder or a glob of such files"))
        subparser.add_argument("--output-file", help=(
            "where the results go (not the input; missing folders are created); written as "
            "OUTPUT_FILE.partial and renamed when complete"))
        subparser.add_argument("--resume", action="store_true", help=(
            "continue OUTPUT_FILE.partial, left by a run that stopped, after its last complete line"))
        subparser.add_argument("--batch-size", type=int, default=32, help="the most sentences of one forward pass")
        subparser.add_argument("--lookahead", type=int, default=DEFAULT_LOOKAHEAD, help=(
            "input lines predicted together, their sentences batched by length (default %(default)s)"))
        subparser.add_argument("--no-bucketing", action="store_true", help=(
            "batch sentences in input order rather than by length (same output, slower)"))
        subparser.add_argument("--cuda-device", type=int, default=-1, help="GPU to run on; -1 (default) is the CPU")
        subparser.add_argument("--inference-precision", choices=PRECISIONS, default="float32", help=(
            "the model's inference_precision: bfloat16 runs a bfloat16 copy of the encoder"))
        subparser.add_argument("--input-format", choices=INPUT_FORMATS, default="auto", help=(
            "jsonl or text (a document per line); auto: by extension, .jsonl/.json or .txt"))
        add_ray_arguments(subparser)
        subparser.add_argument("--overlapping-entities", action=argparse.BooleanOptionalAction, default=None, help=(
            "keep nested and overlapping entities (--overlapping-entities) or the best of overlapping "
            "spans (--no-overlapping-entities, flat); default: the archive's"))
        subparser.add_argument("--relation-threshold", type=float, default=None, help=(
            "the probability a relation must exceed; default: the archive's"))
        subparser.add_argument("--max-length", type=int, default=None, help=(
            "sentences of more wordpieces are encoded in segments of this many; default: the archive's "
            "max_length, else the encoder's limit"))
        add_silent_option(subparser)
        subparser.set_defaults(func=extract_from_args)
        return subparser


def extract_from_args(args: argparse.Namespace) -> None:
    if args.batch_size < 1:
        raise SystemExit(f"sinet-extract: --batch-size must be at least 1, got {args.batch_size}")
    if args.engine == "ray":
        return extract_with_ray(args)
    if args.output_file is None:
        raise SystemExit("sinet-extract: --output-file is required (or --engine ray and --output-dir)")
    silence_if_asked(args)
    try:
        decoding = checked_arguments(args)
        predictor = load_predictor(args.archive_file, args.cuda_device, args.inference_precision,
                                   decoding=decoding, bucketing=not args.no_bucketing)
    except (OptionError, ConfigurationError, ValueError) as error:  # before anything is written
        logger.error("sinet-extract: %s", error)
        raise SystemExit(2) from None
    summary = extract_file(predictor, args.input_file, args.output_file, args.input_format,
                           args.batch_size, args.resume, args.lookahead, show_progress=not args.silent)
    print(f"{summary.lines} lines, {summary.sentences} sentences, {summary.failures} failed -> {args.output_file}")
    if summary.failures:
        logger.error("%d input line(s) could not be predicted; their error records are in %s",
                     summary.failures, args.output_file)
        raise SystemExit(1)


def checked_arguments(args: argparse.Namespace) -> DecodingOptions:
    """The decoding options of the arguments, which are checked: a `ValueError` says what is wrong."""
    if args.lookahead < 1:
        raise ValueError(f"--lookahead must be at least 1, got {args.lookahead}")
    check_output_path(args.input_file, args.output_file)
    return DecodingOptions(args.overlapping_entities, args.relation_threshold, args.max_length)

