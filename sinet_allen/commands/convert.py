"""`allennlp sinet-convert INPUT OUTPUT --from FORMAT [--to FORMAT]`: annotation-tool exports and the
training formats into each other (see sinet_allen/conversion and docs/own_data.md)."""
import argparse
import sys
from pathlib import Path
from typing import Sequence

from allennlp.commands.subcommand import Subcommand

from sinet_allen.conversion.convert import EXTENSIONS, INPUT_FORMATS, OUTPUT_FORMATS, read_corpus, types_from_data
from sinet_allen.conversion.convert import write_corpus, write_split
from sinet_allen.conversion.report import ConversionReport
from sinet_allen.conversion.split import check_fractions
from sinet_allen.dataset_readers.formats import load_types
from sinet_allen.schema import FormatError, Sentence
from sinet_allen.files import write_json_atomically

FORMAT_BY_EXTENSION = {".json": "spert", ".jsonl": "dygie"}


@Subcommand.register("sinet-convert")
class SinetConvert(Subcommand):
    def add_subparser(self, parser: argparse._SubParsersAction) -> argparse.ArgumentParser:
        description = ("Convert annotated data between brat, doccano, Label Studio, the SpERT and DyGIE "
                       "training formats and model predictions; raw text is tokenised as the predictor does. "
                       "Everything dropped or changed is reported; bad input stops with no output written.")
        subparser = parser.add_parser(self.name, description=description, help=description)
        subparser.add_argument("input", type=Path, help="a file, or a folder of .txt/.ann files for brat")
        subparser.add_argument("output", type=Path, help="a file, a brat folder, or with --split a folder")
        subparser.add_argument("--from", dest="source_format", required=True, choices=INPUT_FORMATS,
                               help="the input's format ('predictions': lines of allennlp predict)")
        subparser.add_argument("--to", choices=OUTPUT_FORMATS,
                               help="the output's format (default: spert for .json, dygie for .jsonl)")
        subparser.add_argument("--types", type=Path,
                               help="a types.json whose types every label must be (written in its spelling)")
        subparser.add_argument("--types-out", type=Path, help="write a types.json declaring the data's types")
        subparser.add_argument("--symmetric", nargs="+", default=[], metavar="TYPE",
                               help="relation types to mark symmetric in --types-out and to write as brat "
                                    "equivalences (brat's own equivalence types are symmetric anyway)")
        subparser.add_argument("--split", nargs="+", type=float, metavar="FRACTION",
                               help="write OUTPUT/train, dev [and test] with these shares of the documents")
        subparser.add_argument("--seed", type=int, default=13, help="seed of the --split draw")
        subparser.add_argument("--skip-bad", action="store_true",
                               help="skip bad records with a counted warning instead of stopping")
        subparser.add_argument("--text-dir", type=Path,
                               help="--to brat: the folder of the original .txt files (default: the words "
                                    "joined by spaces, a sentence a line)")
        subparser.set_defaults(func=convert_from_args)
        return subparser


def convert_from_args(args: argparse.Namespace) -> None:
    target = args.to or FORMAT_BY_EXTENSION.get(args.output.suffix.lower())
    if target is None:
        sys.exit(f"sinet-convert: cannot tell the output format from {args.output.name!r}; "
                 "use a .json/.jsonl name or --to")
    report = ConversionReport(args.skip_bad)
    try:
        if args.split:
            check_fractions(args.split)
        types = load_types(args.types) if args.types else None
        corpus = read_corpus(args.input, args.source_format, report, types)
        symmetric = set(args.symmetric) | corpus.symmetric | (types.symmetric if types else set())
        types_out = types_from_data(corpus.sentences, symmetric) if args.types_out else None  # checked first
        if args.split:
            parts = write_split(corpus.sentences, args.output, target, args.split, args.seed, symmetric,
                                args.text_dir, corpus.texts)
            summary = [_written(part, args.output / f"{name}{EXTENSIONS[target]}", target)
                       for name, part in parts.items()]
        else:
            write_corpus(corpus.sentences, args.output, target, symmetric, args.text_dir, corpus.texts)
            summary = [_written(corpus.sentences, args.output, target)]
        if types_out is not None:
            write_json_atomically(args.types_out, types_out)
            summary.append(f"wrote {len(types_out['entities'])} entity and {len(types_out['relations'])} relation "
                           f"types to {args.types_out} (symmetric: {', '.join(sorted(symmetric)) or 'none'})")
    except (FormatError, ValueError, OSError) as error:
        sys.exit(f"sinet-convert: error: {error}")
    print("\n".join(summary + report.lines()))


def _written(sentences: Sequence[Sentence], path: Path, target: str) -> str:
    documents = len({s.doc_key if s.doc_key is not None else id(s) for s in sentences})
    return (f"wrote {len(sentences)} sentences ({documents} documents), {sum(len(s.entities) for s in sentences)} "
            f"entities, {sum(len(s.relations) for s in sentences)} relations to {path} ({target})")
