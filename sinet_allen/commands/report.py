"""`allennlp sinet-report PREDICTIONS [PREDICTIONS_B] --output report.html`: an offline HTML error
analysis of one system, or two side by side, from prediction files with gold
(sinet_allen/visualization/report.py, docs/prediction.md "Error-analysis report")."""
import argparse
from pathlib import Path

from allennlp.commands.subcommand import Subcommand

from sinet_allen.visualization.report import write_report


@Subcommand.register("sinet-report")
class SinetReport(Subcommand):
    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = ("Write one static HTML page with the scores, a per-type F1 chart, the entity-type "
                       "confusion matrix and every sentence with its errors marked; two files compare two systems.")
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("predictions", type=Path, nargs="+", help=(
            "one or two prediction files with gold (allennlp evaluate --predictions-output-file) on the same sentences"))
        subparser.add_argument("--output", type=Path, required=True, help="the HTML file to write")
        subparser.set_defaults(func=report_from_args)
        return subparser


def report_from_args(args: argparse.Namespace) -> None:
    if len(args.predictions) > 2:
        raise SystemExit(f"sinet-report: one or two prediction files, got {len(args.predictions)}")
    try:
        write_report(args.predictions, args.output)
    except ValueError as error:
        raise SystemExit(f"sinet-report: {error}") from None
    print(f"report of {' and '.join(map(str, args.predictions))} -> {args.output}")
