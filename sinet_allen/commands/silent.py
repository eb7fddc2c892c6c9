"""`--silent` for the plugin's commands: hides the FutureWarnings and DeprecationWarnings that
third-party libraries (torch, transformers, AllenNLP, fairscale) raise while a command runs; our
own stay visible. The few printed while AllenNLP imports its modules come before any command reads
its options: `PYTHONWARNINGS=ignore::FutureWarning` hides those too (docs/development.md)."""
import argparse
import warnings

THIRD_PARTY = r"(?!sinet_allen)"  # any module outside the plugin


def add_silent_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--silent", action="store_true", help=(
        "hide third-party FutureWarnings and DeprecationWarnings raised while the command runs (those "
        "printed while AllenNLP starts: set PYTHONWARNINGS=ignore::FutureWarning)"))


def silence_if_asked(args: argparse.Namespace) -> None:
    if getattr(args, "silent", False):
        for category in (FutureWarning, DeprecationWarning):
            warnings.filterwarnings("ignore", category=category, module=THIRD_PARTY)
