"""`allennlp sinet-experiment`: train and evaluate a grid of configs x seeds (x folds), resumably,
and summarise the complete runs in `<output dir>/results_<split>[_final].md` and `.csv`."""
import argparse
from pathlib import Path

import torch
from allennlp.commands.subcommand import Subcommand

from sinet_allen.experiments.grid import SPLIT_DATA_KEYS, check_folds_are_read, plan_runs, run_grid
from sinet_allen.experiments.results_table import to_markdown, write_results_table
from sinet_allen.commands.silent import add_silent_option, silence_if_asked


@Subcommand.register("sinet-experiment")
class SinetExperiment(Subcommand):
    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = ("Train every config with every seed (and fold), evaluate each best model on the "
                       "dev or test split, skip runs that are already complete, and write a results table.")
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("configs", nargs="*", type=Path, help=(
            "training configs; each run goes to <output-dir>/<config file name>/seed<k>[/fold<f>]"))
        subparser.add_argument("--output-dir", type=Path, required=True, help="root folder of the runs and the table")
        subparser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5],
                               help="values of SINET_SEED, one run each")
        subparser.add_argument("--folds", type=int, nargs="+", default=[],
                               help="values of SINET_FOLD for cross-validated data (ACE04: 0-4, ADE: 0-9)")
        subparser.add_argument("-o", "--overrides", default="", help="JSON overrides applied to every config")
        subparser.add_argument("--eval-split", choices=sorted(SPLIT_DATA_KEYS), default="test",
                               help="the split each model is scored on (the config's data path for it)")
        subparser.add_argument("--final-model", action="store_true", help=(
            "score the weights each run ended with (its last checkpoint, or their average when the "
            "config averages weights) instead of its best dev model (files and table named *_final); "
            "a trained run is only evaluated again"))
        subparser.add_argument("--table-only", action="store_true",
                               help="train nothing; tabulate the complete runs under --output-dir")
        subparser.add_argument("--macro", action="store_true", help="add macro F1 columns (ADE)")
        subparser.add_argument("--cuda-device", type=int, default=None,
                               help="GPU for evaluation; default: 0 if one is available, else the CPU")
        subparser.add_argument("--eval-batch-size", type=int, default=32, help="batch size for evaluation")
        add_silent_option(subparser)
        subparser.set_defaults(func=run_experiment_from_args)
        return subparser


def run_experiment_from_args(args: argparse.Namespace) -> None:
    silence_if_asked(args)
    if not args.configs and not args.table_only:
        raise SystemExit("sinet-experiment: give at least one config (or --table-only)")
    model = "final" if args.final_model else "best"
    if not args.table_only:
        cuda_device = args.cuda_device if args.cuda_device is not None else (0 if torch.cuda.is_available() else -1)
        check_folds_are_read(args.configs, args.folds)
        runs = plan_runs(args.configs, args.seeds, args.folds)
        run_grid(runs, args.output_dir, args.eval_split, args.overrides, cuda_device, args.eval_batch_size, model)
    names = [config.stem for config in args.configs]
    rows = write_results_table(args.output_dir, args.eval_split, names, args.macro, model)
    print(to_markdown(rows, args.eval_split, args.macro, model))
