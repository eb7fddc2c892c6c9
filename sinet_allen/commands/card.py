"""`allennlp sinet-card MODEL`: prints the model card a model archive (or serialization folder)
carries (sinet_allen/model_card.py)."""
import argparse
import sys
from pathlib import Path

from allennlp.commands.subcommand import Subcommand

from sinet_allen.model_card import read_card
from sinet_allen.commands.silent import add_silent_option, silence_if_asked


@Subcommand.register("sinet-card")
class SinetCard(Subcommand):
    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = ("Print the model card of a model archive or serialization folder: model and encoder, "
                       "data and split, the validation (and test) figures it was selected with, the training "
                       "command, seed, date and hardware, and its known limits.")
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("model", type=Path, help="a model.tar.gz or a serialization folder")
        add_silent_option(subparser)
        subparser.set_defaults(func=print_card_from_args)
        return subparser


def print_card_from_args(args: argparse.Namespace) -> None:
    silence_if_asked(args)
    try:
        print(read_card(args.model), end="")
    except (ValueError, OSError) as error:
        sys.exit(f"sinet-card: error: {error}")
