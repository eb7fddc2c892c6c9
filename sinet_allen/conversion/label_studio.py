"""Label Studio's JSON export: a list of tasks `{"id", "data": {"text": ...}, "annotations": [{"result":
[...]}]}` whose results are `labels` regions (`{"id", "type": "labels", "value": {"start", "end",
"labels": [...]}}`) and `relation` items (`{"type": "relation", "from_id", "to_id", "direction",
"labels": [...]}`). The first annotation that was not cancelled is converted; the others are counted.
A region with several labels gives an entity per label (relations attach to the first); a relation
with several labels a relation per label; `direction` "left" swaps head and tail, and "bi" counts
its types as symmetric. The text is `data["text"]`, or the task's only string in `data`."""
from pathlib import Path
from typing import Any, Dict, List, Set, Tuple

from sinet_allen.conversion.annotated_text import AnnotatedText, CharEntity, CharRelation
from sinet_allen.conversion.report import ConversionReport
from sinet_allen.conversion.source_files import read_json
from sinet_allen.schema import FormatError


def read_label_studio(path: Path, report: ConversionReport) -> Tuple[List[AnnotatedText], Set[str]]:
    tasks = read_json(path)
    if not isinstance(tasks, list):
        raise FormatError(f"{path}: a Label Studio export must be a JSON list of tasks")
    documents, symmetric = [], set()
    for i, task in enumerate(tasks):
        where = f"{path}, task {i}"
        try:
            documents.append(_document(task, f"task-{i}", where, symmetric, report))
        except ValueError as error:
            report.bad(f"{where}: {error}")
    return documents, symmetric


def _text(task: Any) -> str:
    data = task.get("data") if isinstance(task, dict) else None
    if not isinstance(data, dict):
        raise ValueError("expected an object with a 'data' object")
    strings = [value for value in data.values() if isinstance(value, str)]
    text = data.get("text", strings[0] if len(strings) == 1 else None)
    if not isinstance(text, str):
        raise ValueError(f"cannot tell the text: 'data' has no 'text' and {len(strings)} strings")
    return text


def _results(task: Dict, report: ConversionReport) -> List[Any]:
    annotations = [a for a in task.get("annotations", []) if isinstance(a, dict) and not a.get("was_cancelled")]
    if len(annotations) > 1:
        report.count("Label Studio annotations beyond a task's first (not converted)", len(annotations) - 1)
    results = annotations[0].get("result", []) if annotations else []
    if not isinstance(results, list):
        raise ValueError("'result' must be a list")
    return results


def _document(task: Any, default_key: str, where: str, symmetric: Set[str], report: ConversionReport) -> AnnotatedText:
    text = _text(task)
    document = AnnotatedText(str(task.get("id", default_key)), text)
    results = _results(task, report)
    for k, item in enumerate(results):
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "labels":
            document.entities.extend(_located(_entities, k, item, text, f"{where}, result {k}"))
        elif kind != "relation":
            report.count(f"Label Studio results of type {kind!r} (not converted)")
    regions = {entity.id.split("#")[0] for entity in document.entities}
    for k, item in enumerate(results):
        if isinstance(item, dict) and item.get("type") == "relation":
            document.relations.extend(
                _located(_relations, k, item, regions, f"{where}, result {k}", symmetric, report))
    return document


def _located(read, k: int, *args):
    """`read(*args)`, with the result's position added to the message of its error."""
    try:
        return read(*args)
    except ValueError as error:
        raise ValueError(f"result {k}: {error}") from None


def _entities(item: Dict, text: str, where: str) -> List[CharEntity]:
    value = item.get("value", {})
    start, end, labels = value.get("start"), value.get("end"), value.get("labels")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        raise ValueError(f"offsets {start!r} {end!r} lie outside the text "
                         f"({len(text)} characters) or are empty")
    if not isinstance(labels, list) or not labels:
        raise ValueError(f"'value.labels' must be a non-empty list")
    # The first label's entity carries the region id, which relations refer to.
    return [CharEntity(str(item.get("id")) + (f"#{n}" if n else ""), start, end, str(label), where)
            for n, label in enumerate(labels)]


def _relations(item: Dict, regions: Set[str], where: str, symmetric: Set[str],
               report: ConversionReport) -> List[CharRelation]:
    head, tail = str(item.get("from_id")), str(item.get("to_id"))
    for role, region in (("from_id", head), ("to_id", tail)):
        if region not in regions:
            raise ValueError(f"{role} {region!r} is no labelled region of the task")
    labels = item.get("labels") or []
    if not labels:
        report.drop("Label Studio relations without a label", f"{where}: {head} -> {tail}")
    direction = item.get("direction", "right")
    if direction == "left":
        head, tail = tail, head
    elif direction == "bi":
        symmetric.update(labels)
    return [CharRelation(head, tail, str(label), where) for label in labels]
