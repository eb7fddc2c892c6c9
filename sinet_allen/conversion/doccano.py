"""doccano's JSON-lines export, a document a line with character offsets:
`{"id", "text", "entities": [{"id", "label", "start_offset", "end_offset"}],
  "relations": [{"id", "from_id", "to_id", "type"}]}` (relation extraction projects), or
`{"id", "text", "label": [[start, end, label], ...]}` (sequence labelling projects, no relations).
A line without an `id` is named after its line number."""
from pathlib import Path
from typing import Any, List, Set, Tuple

from sinet_allen.conversion.annotated_text import AnnotatedText, CharEntity, CharRelation
from sinet_allen.conversion.report import ConversionReport
from sinet_allen.conversion.source_files import json_lines


def read_doccano(path: Path, report: ConversionReport) -> Tuple[List[AnnotatedText], Set[str]]:
    documents = []
    for number, record in json_lines(path, report):
        where = f"{path}, line {number}"
        try:
            documents.append(_document(record, number, where))
        except ValueError as error:
            report.bad(f"{where}: {error}")
    return documents, set()  # doccano relations have no direction setting


def _document(record: Any, number: int, where: str) -> AnnotatedText:
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise ValueError("expected an object with a 'text' string")
    text = record["text"]
    document = AnnotatedText(str(record.get("id", f"line-{number}")), text)
    if "label" in record and "entities" not in record:
        spans = [_check(item, 3, "label", k) for k, item in enumerate(record["label"])]
        entities = [{"id": k, "start_offset": s, "end_offset": e, "label": label} for k, (s, e, label) in
                    enumerate(spans)]
    else:
        entities = record.get("entities", [])
    ids = set()
    for k, item in enumerate(entities):
        if not isinstance(item, dict) or not {"id", "label", "start_offset", "end_offset"} <= item.keys():
            raise ValueError(f"entities[{k}] must hold 'id', 'label', 'start_offset' and 'end_offset', got {item!r}")
        start, end = item["start_offset"], item["end_offset"]
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            raise ValueError(f"entities[{k}]: offsets {start!r} {end!r} lie outside the text "
                             f"({len(text)} characters) or are empty")
        ids.add(str(item["id"]))
        document.entities.append(CharEntity(str(item["id"]), start, end, str(item["label"]), f"{where}, entities[{k}]"))
    for k, item in enumerate(record.get("relations", [])):
        if not isinstance(item, dict) or not {"from_id", "to_id", "type"} <= item.keys():
            raise ValueError(f"relations[{k}] must hold 'from_id', 'to_id' and 'type', got {item!r}")
        for role in ("from_id", "to_id"):
            if str(item[role]) not in ids:
                raise ValueError(f"relations[{k}]: {role} {item[role]!r} is no entity of this line")
        document.relations.append(CharRelation(str(item["from_id"]), str(item["to_id"]), str(item["type"]),
                                               f"{where}, relations[{k}]"))
    return document


def _check(item: Any, length: int, field: str, k: int) -> list:
    if not isinstance(item, list) or len(item) != length:
        raise ValueError(f"{field}[{k}] must be [start, end, label], got {item!r}")
    return item
