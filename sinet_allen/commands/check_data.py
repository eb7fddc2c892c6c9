"""`allennlp sinet-check-data DATA [--types TYPES] [--model MODEL] [--json OUT]`: what a data file
holds and what would go wrong training on it (see sinet_allen/data_report.py)."""
import argparse
import sys
from pathlib import Path

from allennlp.commands.subcommand import Subcommand

from sinet_allen.data_report import check_data, encoder_of, format_report
from sinet_allen.dataset_readers.formats import load_types
from sinet_allen.schema import FormatError
from sinet_allen.files import write_json_atomically
from sinet_allen.commands.silent import add_silent_option, silence_if_asked


@Subcommand.register("sinet-check-data")
class SinetCheckData(Subcommand):
    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = ("Report on a SpERT- or DyGIE-style data file before training: sentences, documents, "
                       "entities and relations per type, (head type, relation, tail type) counts, nested and "
                       "overlapping entities, and every problem (invalid records, entities longer than the "
                       "maximum span size, sentences beyond the encoder's limit, duplicates, symmetric "
                       "relations stored in both orders) with its file and record. Exits with status 1 when "
                       "it reports a problem or cannot read the file, 0 when it found none.")
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("data", type=Path, help="a SpERT-style .json or DyGIE-style .jsonl file")
        subparser.add_argument("--types", type=Path,
                               help="the types.json to check the labels against (and the symmetric types)")
        subparser.add_argument("--model", help="a model archive, a serialization folder, or a transformer name "
                                               "or path: its tokenizer and limits are checked")
        subparser.add_argument("--max-span-size", type=int,
                               help="the longest entity in words (default: the model's, else 8)")
        subparser.add_argument("--json", type=Path, help="also write the report, every problem included, as JSON")
        add_silent_option(subparser)
        subparser.set_defaults(func=check_data_from_args)
        return subparser


def check_data_from_args(args: argparse.Namespace) -> None:
    silence_if_asked(args)
    try:
        types = load_types(args.types) if args.types else None
        encoder = encoder_of(args.model) if args.model else None
        report = check_data(args.data, types, encoder, args.max_span_size)
    except (FormatError, OSError) as error:
        sys.exit(f"sinet-check-data: error: {error}")
    print(format_report(report))
    if args.json:
        write_json_atomically(args.json, report.as_json())
    if report.problems:  # a script (or CI) checking data before training stops here
        sys.exit(1)
