"""Extraction from inputs of any size with an archived model: `allennlp sinet-extract` and the
Python `Extractor` (sinet_allen/extractor.py).

The input is read line by line and never held whole: `batch_size` lines at a time are predicted
together (their sentences pooled into forward passes of at most `batch_size` sentences) and
their results written, so memory does not grow with the input's length.

Lines and their outputs correspond one to one: output line N answers input line N, counted as
the file counts them (blank lines included, `\\n` ends a line). In the `jsonl` format a line holds
one of the predictor's four JSON inputs and a blank line gets an error record; in the `text`
format a line is a document of raw text and a blank line an empty document. An input line that
cannot be predicted (not UTF-8, not JSON, no accepted key, a sentence too long for the encoder)
gets the error record `{"error": ..., "line": N}` and the others are still predicted.

The output is written to `OUT.partial` and renamed to `OUT` when the last line is written, so
`OUT` is never incomplete. A run that stops leaves `OUT.partial`; `resume` continues it after its
last complete line (a half-written last line is dropped and predicted again), without duplicates.
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

from sinet_allen.predictors.prediction_format import dump_line
from sinet_allen.predictors.sinet_predictor import InputLine, SinetPredictor

logger = logging.getLogger(__name__)

INPUT_FORMATS = ("auto", "jsonl", "text")
FORMAT_OF_EXTENSION = {".jsonl": "jsonl", ".json": "jsonl", ".txt": "text"}
PARTIAL_SUFFIX = ".partial"


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


def load_predictor(archive: Union[str, Path], cuda_device: int = -1,
                   inference_precision: str = "float32", attention: bool = False,
                   overrides: Optional[JsonDict] = None) -> SinetPredictor:
    """The `sinet` predictor of a `model.tar.gz`; `cuda_device` -1 means the CPU,
    `inference_precision` "bfloat16" runs a bfloat16 copy of the encoder (faster), `attention`
    adds each sentence's attention maps, and `overrides` changes the archived config as
    `allennlp predict -o` does (e.g. `{"model.relation_threshold": 0.7}`)."""
    loaded = load_archive(str(archive), cuda_device=cuda_device,
                          overrides={**(overrides or {}), "model.inference_precision": inference_precision})
    return Predictor.from_archive(loaded, "sinet", extra_args={"attention": attention})


def predict_in_groups(predictor: SinetPredictor, inputs: Iterable[JsonDict], batch_size: int) -> Iterator[JsonDict]:
    """One result per input, in order, predicting `batch_size` inputs at a time."""
    for group in lazy_groups_of(iter(inputs), batch_size):
        yield from predictor.predict_batch_json(group, batch_size)


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
                 input_format: str = "auto", batch_size: int = 32, resume: bool = False) -> Summary:
    """Predicts every line of `input_path` into `output_path` (module docstring) and says what it wrote."""
    input_format = resolve_input_format(input_path, input_format)
    partial = partial_path(output_path)
    summary = resume_partial(partial) if resume else Summary()
    if not resume and partial.exists():
        logger.warning("%s: a partial output of an earlier run, replaced (use --resume to continue it)", partial)
    partial.parent.mkdir(parents=True, exist_ok=True)
    done = summary.lines
    with open(input_path, "rb") as lines, open(partial, "a" if resume else "w", encoding="utf-8") as output:
        inputs = numbered_inputs(lines, input_format)
        skipped = sum(1 for _ in zip(range(done), inputs))  # the lines a resumed run has answered
        if skipped < done:
            raise ValueError(f"{partial} holds {done} lines but {input_path} has only {skipped}: "
                             "not a partial output of this input; delete it or run without --resume")
        try:
            _write_results(predict_in_groups(predictor, inputs, batch_size), output, summary, batch_size)
        except BaseException:
            logger.error("stopped after input line %d; the output so far is in %s: run again with --resume "
                         "to continue it", summary.lines, partial)
            raise
    os.replace(partial, output_path)
    return summary


def _write_results(results: Iterator[JsonDict], output, summary: Summary, batch_size: int) -> None:
    with Tqdm.tqdm(desc="extracting", unit=" sentences", initial=summary.sentences) as progress:
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
