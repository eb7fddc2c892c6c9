"""Reading input files with errors that name the file and the line."""
import json
from pathlib import Path
from typing import Any, Iterator, Tuple

from sinet_allen.conversion.report import ConversionReport
from sinet_allen.schema import FormatError


def read_utf8(path: Path) -> str:
    """The file's text exactly as stored: no newline translation, since annotation offsets count
    every character (a "\\r\\n" is two)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise FormatError(f"{path}, line {line}: not valid UTF-8 (byte "
                          f"{data[error.start:error.start + 1]!r}); re-encode the file as UTF-8") from None


def read_json(path: Path) -> Any:
    try:
        return json.loads(read_utf8(path))
    except json.JSONDecodeError as error:
        raise FormatError(f"{path}, line {error.lineno}: malformed JSON at column {error.colno}: "
                          f"{error.msg}") from None


def json_lines(path: Path, report: ConversionReport) -> Iterator[Tuple[int, Any]]:
    """(line number, value) of each non-blank line; a line that is not JSON is a bad record."""
    for number, line in enumerate(read_utf8(path).split("\n"), 1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as error:
            report.bad(f"{path}, line {number}: malformed JSON at column {error.colno}: {error.msg}")
