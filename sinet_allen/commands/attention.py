"""`allennlp sinet-attention MODEL INPUT --output-dir DIR`: the paper's Figure 4 (encoder, NER-aware
and RE-aware [CLS] attention per word) for sentences of a data file, as PNG, SVG and JSON
(sinet_allen/visualization/attention_figures.py, docs/prediction.md "Attention maps")."""
import argparse
from pathlib import Path

from allennlp.commands.subcommand import Subcommand


@Subcommand.register("sinet-attention")
class SinetAttention(Subcommand):
    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = ("Draw the encoder's and CTAM's attention over the words of sentences of a data file "
                       "(gold entities bold; in-relation entities red, others blue), as PNG, SVG and JSON.")
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("archive_file", type=Path, help="the model.tar.gz written by allennlp train")
        subparser.add_argument("input_file", type=Path, help="a data file the model's reader reads (with gold)")
        subparser.add_argument("--output-dir", type=Path, required=True, help="where sentence_<i>.{png,svg,json} go")
        subparser.add_argument("--sentences", type=int, nargs="+", help=(
            "indices of the sentences in the file (from 0, in reading order); default: the first --limit"))
        subparser.add_argument("--limit", type=int, default=5, help="sentences drawn without --sentences")
        subparser.add_argument("--cuda-device", type=int, default=-1, help="GPU to run on; -1 (default) is the CPU")
        subparser.set_defaults(func=attention_from_args)
        return subparser


def attention_from_args(args: argparse.Namespace) -> None:
    # Imported here: every allennlp command loads the plugin, only this one needs matplotlib.
    from sinet_allen.visualization.attention_figures import attention_figures

    try:
        written = attention_figures(args.archive_file, args.input_file, args.output_dir, args.sentences,
                                    args.limit, args.cuda_device)
    except ValueError as error:
        raise SystemExit(f"sinet-attention: {error}") from None
    print(f"{len(written)} files -> {args.output_dir}")
