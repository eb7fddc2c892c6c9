"""What the format parsers share: loading a JSON file with errors that say where, the checks of the
parts common to both formats, and the policy for bad records (raise, or skip and count)."""
import json
import logging
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from sinet_allen.schema import NO_ENTITY, FormatError, TypeInventory

logger = logging.getLogger(__name__)

ENCODING = "utf-8-sig"  # UTF-8, with or without a byte-order mark


# The model never pairs a span with itself, so such a relation could never be found.
SAME_SPAN = "head and tail are the same span"


class InvalidRecord(Exception):
    """One record is bad; the caller adds the file and record to the message."""


def kind_of(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), f"a {type(value).__name__}")


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def load_json(path) -> Any:
    data = Path(path).read_bytes()
    try:
        return json.loads(data.decode(ENCODING))
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise FormatError(f"{path}, line {line}: {not_utf8(e)}") from None
    except json.JSONDecodeError as e:
        raise FormatError(
            f"{path}: malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None


def not_utf8(error: UnicodeDecodeError) -> str:
    return f"not valid UTF-8 (byte {error.object[error.start:error.start + 1]!r}); re-encode the file as UTF-8"


class Skips:
    """Raises on a bad record in strict mode; otherwise logs it and counts it, never silently."""

    def __init__(self, path, strict: bool, on_skip: Optional[Callable[[str], None]] = None):
        self.path, self.strict, self.count, self.on_skip = path, strict, 0, on_skip

    def bad(self, message: str) -> None:
        if self.strict:
            raise FormatError(message)
        self.count += 1
        logger.warning("skipping invalid record: %s", message)
        if self.on_skip:
            self.on_skip(message)

    def finish(self, kept: int) -> None:
        if self.count:
            logger.warning("%s: skipped %d invalid record(s), kept %d sentence(s)",
                           self.path, self.count, kept)


def check_tokens(tokens: Any) -> List[str]:
    if not isinstance(tokens, list):
        raise InvalidRecord(f"'tokens' must be a list of strings, got {kind_of(tokens)}")
    for j, token in enumerate(tokens):
        if not isinstance(token, str):
            raise InvalidRecord(f"tokens[{j}] must be a string, got {kind_of(token)}")
    return tokens


def checked_label(value: Any, types: Optional[TypeInventory], kind: str, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRecord(f"{where}: the {kind} type must be a non-empty string, got {value!r}")
    if types is None:
        if kind == "entity" and value == NO_ENTITY:  # a types file cannot declare it
            raise InvalidRecord(f"{where}: the entity type {NO_ENTITY!r} is reserved for spans that are no entity")
        return value
    if kind == "entity":
        canonical, declared = types.canonical_entity(value), types.entity_types
    else:
        canonical, declared = types.canonical_relation(value), types.relation_types
    if canonical is None:
        raise InvalidRecord(f"{where}: unknown {kind} type {value!r} (the types file declares "
                       f"{', '.join(declared) or 'none'})")
    return canonical


def list_field(record: Dict[str, Any], key: str) -> list:
    value = record.get(key, [])  # missing annotations mean "none" (e.g. unlabelled input)
    if not isinstance(value, list):
        raise InvalidRecord(f"'{key}' must be a list, got {kind_of(value)}")
    return value
