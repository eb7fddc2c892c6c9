"""SpERT-style data: one JSON list of sentence records, word offsets with exclusive ends."""
import json
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, TextIO, Tuple

from sinet_allen.dataset_readers.formats.records import (SAME_SPAN, InvalidRecord, Skips, check_tokens, checked_label,
                                                         is_int, kind_of, list_field, load_json)
from sinet_allen.files import atomic_output
from sinet_allen.schema import Entity, FormatError, Relation, Sentence


def read_spert(path, types, skips: Skips) -> Iterator[Sentence]:
    data = load_json(path)
    if not isinstance(data, list):
        raise FormatError(f"{path}: a SpERT-style file must be a JSON list of sentence records, "
                          f"got {kind_of(data)}")
    name, kept = Path(path).name, 0
    for i, record in enumerate(data):
        try:
            sentence = _spert_sentence(record, types, f"{name}, record {i}")
        except InvalidRecord as e:
            skips.bad(f"{path}, record {i}: {e}")
            continue
        kept += 1
        yield sentence
    skips.finish(kept)


def _spert_sentence(record: Any, types, source: str) -> Sentence:
    if not isinstance(record, dict):
        raise InvalidRecord(f"expected a sentence object, got {kind_of(record)}")
    if "tokens" not in record:
        raise InvalidRecord("missing 'tokens'")
    tokens = check_tokens(record["tokens"])
    entities = []
    for j, item in enumerate(list_field(record, "entities")):
        where = f"entities[{j}]"
        start, end, label = _fields(item, ("start", "end", "type"), where)
        if start >= end:
            raise InvalidRecord(f"{where}: start {start} >= end {end} (the end is exclusive)")
        if start < 0 or end > len(tokens):
            raise InvalidRecord(f"{where}: span [{start}, {end}) lies outside the sentence "
                           f"({len(tokens)} tokens)")
        entities.append(Entity(start, end, checked_label(label, types, "entity", where)))
    relations = []
    for j, item in enumerate(list_field(record, "relations")):
        where = f"relations[{j}]"
        head, tail, label = _fields(item, ("head", "tail", "type"), where)
        for role, index in (("head", head), ("tail", tail)):
            if not 0 <= index < len(entities):
                raise InvalidRecord(f"{where}: {role} {index} points at no entity "
                               f"(the sentence has {len(entities)})")
        if (entities[head].start, entities[head].end) == (entities[tail].start, entities[tail].end):
            raise InvalidRecord(f"{where}: {SAME_SPAN} [{entities[head].start}, {entities[head].end})")
        relations.append(Relation(head, tail, checked_label(label, types, "relation", where)))
    # The document: its doc_key, else SpERT's orig_id (the writer's name for it).
    doc_key = record.get("doc_key", record.get("orig_id"))
    return Sentence(tokens, entities, relations, source,
                    doc_key=None if doc_key is None else str(doc_key))


def _fields(item: Any, keys: Tuple[str, str, str], where: str) -> Tuple[int, int, Any]:
    """The two integer fields and the label of a SpERT entity or relation object."""
    if not isinstance(item, dict):
        raise InvalidRecord(f"{where}: expected an object, got {kind_of(item)}")
    missing = [k for k in keys if k not in item]
    if missing:
        raise InvalidRecord(f"{where}: missing {', '.join(repr(k) for k in missing)}")
    for key in keys[:2]:
        if not is_int(item[key]):
            raise InvalidRecord(f"{where}: '{key}' must be an integer, got {item[key]!r}")
    return item[keys[0]], item[keys[1]], item[keys[2]]


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
