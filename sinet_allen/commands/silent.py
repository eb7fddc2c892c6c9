"""`--silent` for the plugin's commands: no progress bars or INFO log lines, and none of the
FutureWarnings and DeprecationWarnings that third-party libraries (torch, transformers, AllenNLP,
fairscale) raise while a command runs; our own warnings stay visible. The few printed while AllenNLP
imports its modules come before any command reads its options: `PYTHONWARNINGS=ignore::FutureWarning`
hides those too (docs/development.md)."""
import argparse
import logging
import warnings

import transformers

THIRD_PARTY = r"(?!sinet_allen)"  # any module outside the plugin


def add_silent_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--silent", action="store_true", help=(
        "no progress bar or INFO log lines, and no third-party FutureWarnings or DeprecationWarnings "
        "raised while the command runs (those printed while AllenNLP starts: set "
        "PYTHONWARNINGS=ignore::FutureWarning)"))


def silence_if_asked(args: argparse.Namespace) -> None:
    if getattr(args, "silent", False):
        for category in (FutureWarning, DeprecationWarning):
            warnings.filterwarnings("ignore", category=category, module=THIRD_PARTY)
        logging.getLogger().setLevel(logging.WARNING)
        transformers.logging.set_verbosity_error()  # the encoder library's notes on loading weights
