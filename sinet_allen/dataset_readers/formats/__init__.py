"""Reading, validating and writing the two input formats.

* SpERT-style: one JSON list of sentence records, word offsets with exclusive ends.
* DyGIE-style: JSON lines, one document per line, inclusive ends, document-level offsets.

Both become `Sentence` objects with sentence-relative, end-exclusive offsets, so the rest of the
library never sees the difference. Every problem is reported as a `FormatError` that names the file,
the record and the field, because a bad record deep inside a large training file is otherwise very
hard to find.
"""
from typing import Callable, Iterator, Optional

from sinet_allen.dataset_readers.formats.dygie import read_dygie, write_dygie
from sinet_allen.dataset_readers.formats.records import ENCODING, Skips
from sinet_allen.dataset_readers.formats.spert import read_spert, write_spert
from sinet_allen.dataset_readers.formats.types_file import load_types
from sinet_allen.schema import FormatError, Sentence, TypeInventory

__all__ = ["FORMATS", "detect_format", "read_sentences", "load_types", "write_spert", "write_dygie"]

FORMATS = ("spert", "dygie")


def detect_format(path) -> str:
    """Tell "spert" (a JSON list) from "dygie" (JSON lines) by the first non-blank character."""
    with open(path, encoding=ENCODING, errors="replace") as f:  # reading reports bad bytes
        while True:
            chunk = f.read(4096)
            if not chunk:
                raise FormatError(f"{path}: the file is empty, cannot tell its format")
            stripped = chunk.lstrip()
            if stripped:
                break
    first = stripped[0]
    if first == "[":
        return "spert"
    if first == "{":
        return "dygie"
    raise FormatError(f"{path}: starts with {first!r}; expected '[' (SpERT-style JSON list) "
                      "or '{' (DyGIE-style JSON lines)")


def read_sentences(path, format: str = "auto", types: Optional[TypeInventory] = None,
                   strict: bool = True, on_skip: Optional[Callable[[str], None]] = None) -> Iterator[Sentence]:
    """Yield the sentences of a SpERT- or DyGIE-style file, validated (and labels canonicalised
    when `types` is given). With strict=False bad records are skipped with a warning instead, and
    their messages passed to `on_skip` when given."""
    if format == "auto":
        format = detect_format(path)  # checked now, not at the first next(), so errors come early
    elif format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; expected 'auto', 'spert' or 'dygie'")
    reader = read_spert if format == "spert" else read_dygie
    return reader(path, types, Skips(path, strict, on_skip))
