"""Reading, validating and writing the two input formats.

* SpERT-style: one JSON list of sentence records, word offsets with exclusive ends.
* DyGIE-style: JSON lines, one document per line, inclusive ends, document-level offsets.

Both become `Sentence` objects with sentence-relative, end-exclusive offsets, so the rest of the
library never sees the difference. Every problem is reported as a `FormatError` that names the file,
the record and the field, because a bad record deep inside a large training file is otherwise very
hard to find.
"""
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import (Any, Callable, Collection, Dict, FrozenSet, Iterable, Iterator, List, Optional, TextIO,
                    Tuple, TypeVar)

from sinet_allen.files import atomic_output

logger = logging.getLogger(__name__)

FORMATS = ("spert", "dygie")
NO_ENTITY = "O"  # the label of a span that is no entity: reserved, no entity type may take it
ENCODING = "utf-8-sig"  # UTF-8, with or without a byte-order mark


class FormatError(ValueError):
    """A data or types file that does not follow its format (the message says where and why)."""


@dataclass(frozen=True)
class Entity:
    start: int  # first word, sentence-relative
    end: int  # one past the last word
    type: str


@dataclass(frozen=True)
class Relation:
    head: int  # index into Sentence.entities
    tail: int
    type: str


@dataclass
class Sentence:
    tokens: List[str]
    entities: List[Entity]
    relations: List[Relation]
    source: str  # "test.json, record 12" / "test.jsonl, line 3, sentence 2"
    doc_key: Optional[str] = None  # DyGIE doc_key, or the SpERT record's doc_key, else its orig_id
    sentence_index: int = 0  # position inside its document (DyGIE); 0 for SpERT records


@dataclass(frozen=True)
class TypeInventory:
    entity_types: Tuple[str, ...]
    relation_types: Tuple[str, ...]
    symmetric: FrozenSet[str] = frozenset()

    def canonical_entity(self, label: str) -> Optional[str]:
        return _match(label, self.entity_types)

    def canonical_relation(self, label: str) -> Optional[str]:
        return _match(label, self.relation_types)


def _match(label: str, declared: Tuple[str, ...]) -> Optional[str]:
    # Case-insensitive: SciERC's DyGIE files say "USED-FOR" where its types.json says "Used-for".
    folded = label.casefold()
    return next((name for name in declared if name.casefold() == folded), None)


Mention = Tuple[int, int, str]  # (start, end, type) of an entity
T = TypeVar("T")


def canonical_relation(head: T, tail: T, label: str, symmetric: Collection[str],
                       mention: Callable[[T], Mention] = lambda item: item) -> Tuple[T, T]:
    """The order in which a relation is stored, decoded and scored: a relation of a symmetric type
    has its head before its tail by (start, end, type), the mention `mention` gives for each end;
    any other relation keeps its direction. The reader's gold, the model's decoding and the metric
    all call this, so that they agree on which order of a symmetric pair is the one."""
    if label in symmetric and mention(tail) < mention(head):
        return tail, head
    return head, tail


# The model never pairs a span with itself, so such a relation could never be found.
_SAME_SPAN = "head and tail are the same span"


class _Invalid(Exception):
    """One record is bad; the caller adds the file and record to the message."""


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), f"a {type(value).__name__}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _load_json(path) -> Any:
    data = Path(path).read_bytes()
    try:
        return json.loads(data.decode(ENCODING))
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise FormatError(f"{path}, line {line}: {_not_utf8(e)}") from None
    except json.JSONDecodeError as e:
        raise FormatError(
            f"{path}: malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None


def _not_utf8(error: UnicodeDecodeError) -> str:
    return f"not valid UTF-8 (byte {error.object[error.start:error.start + 1]!r}); re-encode the file as UTF-8"


# ----------------------------------------------------------------------------- types


def load_types(path) -> TypeInventory:
    """Read a SpERT-style types file:
    {"entities": {name: {...}}, "relations": {name: {..., "symmetric": bool}}}."""
    data = _load_json(path)
    if not isinstance(data, dict):
        raise FormatError(f"{path}: a types file must be a JSON object, got {_kind(data)}")
    tables = {}
    for key in ("entities", "relations"):
        table = data.get(key)
        if not isinstance(table, dict):
            raise FormatError(f"{path}: '{key}' must be an object mapping type names to their "
                              f"descriptions, got {'nothing' if table is None else _kind(table)}")
        seen: Dict[str, str] = {}
        for name, info in table.items():
            if not name.strip():
                raise FormatError(f"{path}: '{key}' declares an empty type name")
            if key == "entities" and name == NO_ENTITY:
                raise FormatError(f"{path}: {NO_ENTITY!r} is reserved for spans that are no entity; "
                                  "rename that entity type")
            if not isinstance(info, dict):
                raise FormatError(f"{path}: {key}[{name!r}] must be an object, got {_kind(info)}")
            if name.casefold() in seen:
                # Labels are matched case-insensitively, so these two could not be told apart.
                raise FormatError(f"{path}: '{key}' declares {seen[name.casefold()]!r} and "
                                  f"{name!r}, which differ only in case")
            seen[name.casefold()] = name
        tables[key] = table
    if not tables["entities"]:
        raise FormatError(f"{path}: 'entities' declares no entity types")
    symmetric = set()
    for name, info in tables["relations"].items():
        flag = info.get("symmetric", False)
        if not isinstance(flag, bool):
            raise FormatError(f"{path}: relations[{name!r}].symmetric must be true or false, "
                              f"got {flag!r}")
        if flag:
            symmetric.add(name)
    return TypeInventory(tuple(tables["entities"]), tuple(tables["relations"]),
                         frozenset(symmetric))


# ----------------------------------------------------------------------------- reading


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
    reader = _read_spert if format == "spert" else _read_dygie
    return reader(path, types, _Skips(path, strict, on_skip))


class _Skips:
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


def _check_tokens(tokens: Any) -> List[str]:
    if not isinstance(tokens, list):
        raise _Invalid(f"'tokens' must be a list of strings, got {_kind(tokens)}")
    for j, token in enumerate(tokens):
        if not isinstance(token, str):
            raise _Invalid(f"tokens[{j}] must be a string, got {_kind(token)}")
    return tokens


def _label(value: Any, types: Optional[TypeInventory], kind: str, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise _Invalid(f"{where}: the {kind} type must be a non-empty string, got {value!r}")
    if types is None:
        if kind == "entity" and value == NO_ENTITY:  # a types file cannot declare it
            raise _Invalid(f"{where}: the entity type {NO_ENTITY!r} is reserved for spans that are no entity")
        return value
    if kind == "entity":
        canonical, declared = types.canonical_entity(value), types.entity_types
    else:
        canonical, declared = types.canonical_relation(value), types.relation_types
    if canonical is None:
        raise _Invalid(f"{where}: unknown {kind} type {value!r} (the types file declares "
                       f"{', '.join(declared) or 'none'})")
    return canonical


def _list_field(record: Dict[str, Any], key: str) -> list:
    value = record.get(key, [])  # missing annotations mean "none" (e.g. unlabelled input)
    if not isinstance(value, list):
        raise _Invalid(f"'{key}' must be a list, got {_kind(value)}")
    return value


def _read_spert(path, types, skips: _Skips) -> Iterator[Sentence]:
    data = _load_json(path)
    if not isinstance(data, list):
        raise FormatError(f"{path}: a SpERT-style file must be a JSON list of sentence records, "
                          f"got {_kind(data)}")
    name, kept = Path(path).name, 0
    for i, record in enumerate(data):
        try:
            sentence = _spert_sentence(record, types, f"{name}, record {i}")
        except _Invalid as e:
            skips.bad(f"{path}, record {i}: {e}")
            continue
        kept += 1
        yield sentence
    skips.finish(kept)


def _spert_sentence(record: Any, types, source: str) -> Sentence:
    if not isinstance(record, dict):
        raise _Invalid(f"expected a sentence object, got {_kind(record)}")
    if "tokens" not in record:
        raise _Invalid("missing 'tokens'")
    tokens = _check_tokens(record["tokens"])
    entities = []
    for j, item in enumerate(_list_field(record, "entities")):
        where = f"entities[{j}]"
        start, end, label = _fields(item, ("start", "end", "type"), where)
        if start >= end:
            raise _Invalid(f"{where}: start {start} >= end {end} (the end is exclusive)")
        if start < 0 or end > len(tokens):
            raise _Invalid(f"{where}: span [{start}, {end}) lies outside the sentence "
                           f"({len(tokens)} tokens)")
        entities.append(Entity(start, end, _label(label, types, "entity", where)))
    relations = []
    for j, item in enumerate(_list_field(record, "relations")):
        where = f"relations[{j}]"
        head, tail, label = _fields(item, ("head", "tail", "type"), where)
        for role, index in (("head", head), ("tail", tail)):
            if not 0 <= index < len(entities):
                raise _Invalid(f"{where}: {role} {index} points at no entity "
                               f"(the sentence has {len(entities)})")
        if (entities[head].start, entities[head].end) == (entities[tail].start, entities[tail].end):
            raise _Invalid(f"{where}: {_SAME_SPAN} [{entities[head].start}, {entities[head].end})")
        relations.append(Relation(head, tail, _label(label, types, "relation", where)))
    # The document: its doc_key, else SpERT's orig_id (the writer's name for it).
    doc_key = record.get("doc_key", record.get("orig_id"))
    return Sentence(tokens, entities, relations, source,
                    doc_key=None if doc_key is None else str(doc_key))


def _fields(item: Any, keys: Tuple[str, str, str], where: str) -> Tuple[int, int, Any]:
    """The two integer fields and the label of a SpERT entity or relation object."""
    if not isinstance(item, dict):
        raise _Invalid(f"{where}: expected an object, got {_kind(item)}")
    missing = [k for k in keys if k not in item]
    if missing:
        raise _Invalid(f"{where}: missing {', '.join(repr(k) for k in missing)}")
    for key in keys[:2]:
        if not _is_int(item[key]):
            raise _Invalid(f"{where}: '{key}' must be an integer, got {item[key]!r}")
    return item[keys[0]], item[keys[1]], item[keys[2]]


def _read_dygie(path, types, skips: _Skips) -> Iterator[Sentence]:
    name, kept = Path(path).name, 0
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                doc_key, sentences, ner, relations = _dygie_document(json.loads(line.decode(ENCODING)))
            except UnicodeDecodeError as e:
                skips.bad(f"{path}, line {lineno}: {_not_utf8(e)}")
                continue
            except json.JSONDecodeError as e:
                skips.bad(f"{path}, line {lineno}: malformed JSON at column {e.colno}: {e.msg}")
                continue
            except _Invalid as e:
                skips.bad(f"{path}, line {lineno}: {e}")
                continue
            doc_length = sum(len(tokens) for tokens in sentences)
            offset = 0
            for k, tokens in enumerate(sentences):
                where = f"line {lineno}, sentence {k}"
                try:
                    sentence = _dygie_sentence(tokens, ner[k], relations[k], k, offset, doc_length,
                                               types)
                except _Invalid as e:
                    skips.bad(f"{path}, {where}: {e}")
                else:
                    sentence.source, sentence.doc_key = f"{name}, {where}", doc_key
                    kept += 1
                    yield sentence
                offset += len(tokens)
    skips.finish(kept)


def _dygie_document(doc: Any) -> Tuple[Optional[str], list, list, list]:
    """Document-level structure; problems here make the whole line unusable."""
    if not isinstance(doc, dict):
        raise _Invalid(f"expected a document object, got {_kind(doc)}")
    if "sentences" not in doc:
        raise _Invalid("missing 'sentences'")
    sentences = doc["sentences"]
    if not isinstance(sentences, list):
        raise _Invalid(f"'sentences' must be a list of token lists, got {_kind(sentences)}")
    for k, tokens in enumerate(sentences):
        # A sentence of unknown length would shift the offsets of every later sentence.
        if not isinstance(tokens, list):
            raise _Invalid(f"sentences[{k}] must be a list of tokens, got {_kind(tokens)}")
    per_sentence = []
    for key in ("ner", "relations"):
        value = doc.get(key)
        if value is None:
            value = [[] for _ in sentences]
        elif not isinstance(value, list) or len(value) != len(sentences):
            raise _Invalid(f"'{key}' must be a list with one list per sentence "
                           f"({len(sentences)}), got {_kind(value)}"
                           + (f" of {len(value)}" if isinstance(value, list) else ""))
        per_sentence.append(value)
    doc_key = doc.get("doc_key")
    return (None if doc_key is None else str(doc_key)), sentences, per_sentence[0], per_sentence[1]


def _dygie_sentence(tokens: Any, ner: Any, relations: Any, k: int, offset: int, doc_length: int,
                    types) -> Sentence:
    tokens = _check_tokens(tokens)
    last = offset + len(tokens) - 1  # inclusive document offset of the sentence's last token

    def span(start: Any, end: Any, where: str) -> Tuple[int, int]:
        if not (_is_int(start) and _is_int(end)):
            raise _Invalid(f"{where}: span offsets must be integers, got [{start!r}, {end!r}]")
        if start > end:
            raise _Invalid(f"{where}: start {start} > end {end} (the end is inclusive)")
        if start < offset or end > last:
            if start < 0 or end >= doc_length:
                raise _Invalid(f"{where}: span [{start}, {end}] lies outside the document "
                               f"({doc_length} tokens)")
            if start <= last and end >= offset:
                raise _Invalid(f"{where}: span [{start}, {end}] crosses a sentence boundary "
                               f"(sentence {k} covers document tokens {offset}..{last})")
            covers = f"covers document tokens {offset}..{last}" if tokens else "is empty"
            raise _Invalid(f"{where}: span [{start}, {end}] lies outside sentence {k}, "
                           f"which {covers}")
        return start, end

    if not isinstance(ner, list):
        raise _Invalid(f"ner[{k}] must be a list, got {_kind(ner)}")
    if not isinstance(relations, list):
        raise _Invalid(f"relations[{k}] must be a list, got {_kind(relations)}")
    entities, by_span = [], {}
    for j, item in enumerate(ner):
        where = f"ner[{k}][{j}]"
        if not isinstance(item, list) or len(item) != 3:
            raise _Invalid(f"{where}: expected [start, end, label], got {item!r}")
        start, end = span(item[0], item[1], where)
        by_span.setdefault((start, end), len(entities))  # relations refer to the first match
        entities.append(Entity(start - offset, end - offset + 1, _label(item[2], types, "entity",
                                                                        where)))
    rels = []
    for j, item in enumerate(relations):
        where = f"relations[{k}][{j}]"
        if not isinstance(item, list) or len(item) != 5:
            raise _Invalid(f"{where}: expected [start1, end1, start2, end2, label], got {item!r}")
        ends = []
        for role, (start, end) in (("head", item[0:2]), ("tail", item[2:4])):
            start, end = span(start, end, f"{where} {role}")
            if (start, end) not in by_span:
                raise _Invalid(f"{where}: {role} span [{start}, {end}] is no entity "
                               f"of sentence {k}")
            ends.append(by_span[start, end])
        if ends[0] == ends[1]:
            raise _Invalid(f"{where}: {_SAME_SPAN} [{item[0]}, {item[1]}]")
        rels.append(Relation(ends[0], ends[1], _label(item[4], types, "relation", where)))
    return Sentence(tokens, entities, rels, source="", sentence_index=k)


# ----------------------------------------------------------------------------- writing


def write_spert(sentences: Iterable[Sentence], path) -> None:
    """Write a SpERT-style JSON list, one record per line."""

    def write(f: TextIO) -> None:
        f.write("[")
        for i, sentence in enumerate(sentences):
            record: Dict[str, Any] = {
                "tokens": sentence.tokens,
                "entities": [{"type": e.type, "start": e.start, "end": e.end}
                             for e in sentence.entities],
                "relations": [{"type": r.type, "head": r.head, "tail": r.tail}
                              for r in sentence.relations],
            }
            if sentence.doc_key is not None:
                record["orig_id"] = sentence.doc_key
            f.write(("," if i else "") + "\n" + json.dumps(record, ensure_ascii=False))
        f.write("\n]\n")

    with atomic_output(path) as file:
        write(file)


def group_documents(sentences: Iterable[Sentence]) -> Iterator[Tuple[str, List[Sentence]]]:
    """Group consecutive sentences sharing a doc_key; a sentence without one is its own document."""
    key, group, name = None, [], ""
    for n, sentence in enumerate(sentences):
        if group and (sentence.doc_key is None or sentence.doc_key != key):
            yield name, group
            group = []
        if not group:
            key = sentence.doc_key
            name = key if key is not None else f"sentence-{n}"
        group.append(sentence)
    if group:
        yield name, group


def write_dygie(sentences: Iterable[Sentence], path) -> None:
    """Write DyGIE-style JSON lines: inclusive ends, document-level offsets."""

    def write(f: TextIO) -> None:
        for doc_key, group in group_documents(sentences):
            ner, relations, offset = [], [], 0
            for s in group:
                spans = [(e.start + offset, e.end + offset - 1) for e in s.entities]
                ner.append([[a, b, e.type] for (a, b), e in zip(spans, s.entities)])
                relations.append([[*spans[r.head], *spans[r.tail], r.type] for r in s.relations])
                offset += len(s.tokens)
            doc = {"doc_key": doc_key, "sentences": [s.tokens for s in group], "ner": ner,
                   "relations": relations}
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")

    with atomic_output(path) as file:
        write(file)
