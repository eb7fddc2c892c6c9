"""Model predictions (the library's prediction line format) as word-level `Sentence`s.

Each line is checked by the prediction format's own `check_record` (gold is not needed). A line is
a document (`"sentences"`: word ranges) or one sentence; entity offsets are word offsets over its
`"tokens"` (end exclusive) and relations index its `"entities"`. Error records
(`{"error", "line"}`) are named in the report as dropped."""
from pathlib import Path
from typing import Any, Dict, List

from sinet_allen.conversion.report import ConversionReport
from sinet_allen.conversion.source_files import json_lines
from sinet_allen.schema import Entity, Relation, Sentence
from sinet_allen.predictors.prediction_format import check_record


def read_prediction_sentences(path: Path, report: ConversionReport) -> List[Sentence]:
    sentences = []
    for number, record in json_lines(path, report):
        where = f"{path}, line {number}"
        if isinstance(record, dict) and "error" in record:
            report.drop("prediction error records (inputs the model could not predict)",
                        f"{where} (input line {record.get('line')}): {record['error']}")
            continue
        try:
            sentences.extend(_sentences(check_record(record, with_gold=False), f"line-{number}", where))
        except ValueError as error:
            report.bad(f"{where}: not a prediction record ({error})")
    return sentences


def _sentences(record: Dict[str, Any], default_key: str, where: str) -> List[Sentence]:
    tokens = record["tokens"]
    ranges = record.get("sentences") or [[0, len(tokens)]]
    key = record.get("doc_key", record.get("id", default_key))
    first = record.get("sentence_index", 0)  # a line per sentence of a data file says which
    sentences = [Sentence(tokens[start:end], [], [], f"{where}, sentence {k}", doc_key=str(key),
                          sentence_index=first + k) for k, (start, end) in enumerate(ranges)]
    placed = []  # per entity of the record: (sentence, index in it)
    for entity in record["entities"]:
        k = next((k for k, (start, end) in enumerate(ranges) if start <= entity["start"] < end), None)
        if k is None:
            raise ValueError(f"entity {entity} starts outside the record's sentences")
        offset = ranges[k][0]
        if entity["end"] > ranges[k][1]:
            raise ValueError(f"entity {entity} crosses the end of sentence {k}")
        placed.append((k, len(sentences[k].entities)))
        sentences[k].entities.append(Entity(entity["start"] - offset, entity["end"] - offset, entity["type"]))
    for relation in record["relations"]:
        (k, head), (k_tail, tail) = placed[relation["head"]], placed[relation["tail"]]
        if k != k_tail:
            raise ValueError(f"relation {relation} joins entities of two sentences")
        sentences[k].relations.append(Relation(head, tail, relation["type"]))
    return sentences
