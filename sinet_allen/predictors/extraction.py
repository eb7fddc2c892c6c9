"""Extraction from inputs of any size with an archived model: `allennlp sinet-extract` and the
Python `Extractor` (sinet_allen/extractor.py).

The input is read line by line and never held whole: a look-ahead of `lookahead` lines at a time
is predicted together, their sentences batched by length into forward passes of at most
`batch_size` sentences (length buckets: little padding), and their results written in input order,
so memory does not grow with the input's length. An encoder's rounding depends on its batch's
padded shape, so with another look-ahead or without bucketing a score may differ in its last
decimal (float32) or two (bfloat16).

Lines and their outputs correspond one to one: output line N answers input line N, counted as
the file counts them (blank lines included, `\\n` ends a line). In the `jsonl` format a line holds
one of the predictor's four JSON inputs and a blank line gets an error record; in the `text`
format a line is a document of raw text and a blank line an empty document. An input line that
cannot be parsed, read or predicted (not UTF-8, not JSON, nested too deeply, no accepted key, a
failure of the model on it) gets the error record `{"error": ..., "line": N}` and the others are
still predicted: a run always reaches the end of its input.

The output is written to `OUT.partial` and renamed to `OUT` when the last line is written, so
`OUT` is never incomplete. A run that stops leaves `OUT.partial`; `resume` continues it after its
last complete line (a half-written last line is dropped and predicted again), without duplicates.
An output path that is the input (or its partial file is) is refused; missing parent folders of the
output are created, and the log says so.
"""
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional, Union

from allennlp.common import Tqdm
from allennlp.common.util import JsonDict, lazy_groups_of
from allennlp.models.archival import load_archive
from allennlp.predictors import Predictor

from sinet_allen.predictors.decoding_options import DecodingOptions
from sinet_allen.predictors.prediction_format import dump_line
from sinet_allen.predictors.sinet_predictor import InputLine, SinetPredictor

logger = logging.getLogger(__name__)

INPUT_FORMATS = ("auto", "jsonl", "text")
FORMAT_OF_EXTENSION = {".jsonl": "jsonl", ".json": "jsonl", ".txt": "text"}
PARTIAL_SUFFIX = ".partial"
DEFAULT_LOOKAHEAD = 256  # input lines predicted together: room for length buckets, memory still flat


@dataclass
class Summary:
    """What an extraction wrote: input lines, sentences predicted, error records (a resumed run
    counts its earlier part too)."""

    lines: int = 0
    sentences: int = 0
    failures: int = 0

    def add(self, result: JsonDict) -> None:
        self.lines += 1
        self.failures += "error" in result
        self.sentences += sentence_count(result)


def sentence_count(result: JsonDict) -> int:
    if "error" in result:
        return 0
    return len(result["sentences"]) if "sentences" in result else 1


def load_predictor(archive: Union[str, Path], cuda_device: int = -1, inference_precision: str = "float32",
                   attention: bool = False, decoding: Optional[DecodingOptions] = None,
                   bucketing: bool = True, overrides: Optional[JsonDict] = None) -> SinetPredictor:
    """The `sinet` predictor of a `model.tar.gz`; `cuda_device` -1 means the CPU,
    `inference_precision` "bfloat16" runs a bfloat16 copy of the encoder (faster), `attention`
    adds each sentence's attention maps, `decoding` replaces the archive's decoding options (those
    it sets), `bucketing` False batches sentences in input order, and `overrides` changes the
    archived config as `allennlp predict -o` does."""
    loaded = load_archive(str(archive), cuda_device=cuda_device,
                          overrides={**(overrides or {}), "model.inference_precision": inference_precision})
    options = (decoding or DecodingOptions()).to_json()
    return Predictor.from_archive(loaded, "sinet", extra_args={"attention": attention, "bucketing": bucketing,
                                                               **options})


def predict_in_groups(predictor: SinetPredictor, inputs: Iterable[JsonDict], batch_size: int,
                      lookahead: Optional[int] = None, decoding: Optional[DecodingOptions] = None) -> Iterator[JsonDict]:
    """One result per input, in order, predicting `lookahead` inputs (default `DEFAULT_LOOKAHEAD`)
    at a time in forward passes of at most `batch_size` sentences, with the call's `decoding` options."""
    for group in lazy_groups_of(iter(inputs), lookahead or DEFAULT_LOOKAHEAD):
        yield from predictor.predict_batch_json(group, batch_size, decoding)


def resolve_input_format(path: Union[str, Path], input_format: str = "auto") -> str:
    if input_format != "auto":
        return input_format
    suffix = Path(path).suffix.lower()
    if suffix not in FORMAT_OF_EXTENSION:
        raise ValueError(f"{path}: cannot tell the input format from the extension {suffix!r} (.jsonl and .json "
                         "are JSON lines, .txt is a document per line); give --input-format jsonl or text")
    return FORMAT_OF_EXTENSION[suffix]


def numbered_inputs(lines: Iterable[bytes], input_format: str, first_line: int = 1) -> Iterator[InputLine]:
    """The predictor's input for each line of a file read in binary, numbered as the file counts lines
    (`first_line` the number of the first line given: a part of a file starts further on)."""
    for number, raw in enumerate(lines, first_line):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            yield InputLine({}, number, f"the line is not UTF-8: byte {raw[error.start]:#04x} at byte {error.start}")
            continue
        if input_format == "text":
            yield InputLine({"document": line.rstrip("\r\n")}, number)
        elif not line.strip():
            yield InputLine({}, number, "a blank line: expected a JSON object")
        else:
            yield InputLine.parse(line, number)


def partial_path(output: Union[str, Path]) -> Path:
    return Path(f"{output}{PARTIAL_SUFFIX}")


def extract_file(predictor: SinetPredictor, input_path: Union[str, Path], output_path: Union[str, Path],
                 input_format: str = "auto", batch_size: int = 32, resume: bool = False,
                 lookahead: Optional[int] = None, decoding: Optional[DecodingOptions] = None,
                 show_progress: bool = True) -> Summary:
    """Predicts every line of `input_path` into `output_path` (module docstring) and says what it
    wrote; `show_progress` shows a progress bar on stderr."""
    input_format = resolve_input_format(input_path, input_format)
    partial = partial_path(output_path)
    check_output_path(input_path, output_path)
    summary = resume_partial(partial) if resume else Summary()
    if not resume and partial.exists():
        logger.warning("%s: a partial output of an earlier run, replaced (use --resume to continue it)", partial)
    make_parent_folder(partial)
    done = summary.lines
    with open(input_path, "rb") as lines, open(partial, "a" if resume else "w", encoding="utf-8") as output:
        inputs = numbered_inputs(lines, input_format)
        skipped = sum(1 for _ in zip(range(done), inputs))  # the lines a resumed run has answered
        if skipped < done:
            raise ValueError(f"{partial} holds {done} lines but {input_path} has only {skipped}: "
                             "not a partial output of this input; delete it or run without --resume")
        try:
            results = predict_in_groups(predictor, inputs, batch_size, lookahead, decoding)
            _write_results(results, output, summary, batch_size, show_progress)
        except BaseException:
            logger.error("stopped: the results of input lines 1 to %d are in %s; run again with --resume "
                         "to continue from line %d", summary.lines, partial, summary.lines + 1)
            raise
    os.replace(partial, output_path)
    return summary


def check_output_path(input_path: Union[str, Path], output_path: Union[str, Path]) -> None:
    """Refuses an output (or its partial file) that is the input, however the paths are spelt."""
    source = Path(input_path).resolve()
    for path in (Path(output_path), partial_path(output_path)):
        if path.resolve() == source or (path.exists() and source.exists() and os.path.samefile(path, source)):
            raise ValueError(f"the output {path} is the input {input_path}: writing it would destroy the "
                             "input; choose another --output-file")


def make_parent_folder(path: Path) -> None:
    """Creates the missing folders above `path`, saying so: a mistyped path shows in the log."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True)
        logger.warning("created the folder %s for the output, which did not exist", path.parent)


def _write_results(results: Iterator[JsonDict], output, summary: Summary, batch_size: int,
                   show_progress: bool) -> None:
    with Tqdm.tqdm(desc="extracting", unit=" sentences", initial=summary.sentences,
                   disable=not show_progress) as progress:
        for group in lazy_groups_of(results, batch_size):
            sentences = summary.sentences
            for result in group:
                output.write(dump_line(result))
                summary.add(result)
            output.flush()  # a stopped run keeps every complete group
            progress.update(summary.sentences - sentences)
            progress.set_postfix(lines=summary.lines, failed=summary.failures, refresh=False)


def resume_partial(partial: Path) -> Summary:
    """What the partial output of a stopped run holds, after cutting off a half-written last line."""
    if not partial.exists():
        logger.info("%s does not exist: nothing to resume, starting from the first line", partial)
        return Summary()
    with open(partial, "rb+") as file:
        complete = 0
        for line in file:
            if line.endswith(b"\n"):
                complete += len(line)
        file.truncate(complete)
    summary = Summary()
    with open(partial, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                summary.add(json.loads(line))
            except (json.JSONDecodeError, TypeError, KeyError):
                raise ValueError(f"{partial}, line {number}: not a line written by sinet-extract; "
                                 "delete the file or run without --resume") from None
    logger.info("%s: resuming after input line %d", partial, summary.lines)
    return summary
