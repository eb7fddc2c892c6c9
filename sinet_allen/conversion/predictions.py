"""Model predictions (the library's prediction line format) as word-level `Sentence`s.

Each line is checked by the prediction format's own `check_record` (gold is not needed). A line is
a document (`"sentences"`: word ranges) or one sentence; entity offsets are word offsets over its
`"tokens"` (end exclusive) and relations index its `"entities"`. Error records
(`{"error", "line"}`) are named in the report as dropped. A prediction of raw text carries that
text (`"text"`), kept per document so that brat gets the original text back."""
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List

from sinet_allen.conversion.report import ConversionReport
from sinet_allen.conversion.source_files import json_lines
from sinet_allen.schema import Entity, Relation, Sentence
from sinet_allen.predictors.prediction_format import check_record


@dataclass
class Predictions:
    sentences: List[Sentence] = field(default_factory=list)
    texts: Dict[str, str] = field(default_factory=dict)  # per document key, the raw text predicted


def read_predictions(path: Path, report: ConversionReport) -> Predictions:
    predictions = Predictions()
    for number, record in json_lines(path, report):
        where = f"{path}, line {number}"
        if isinstance(record, dict) and "error" in record:
            report.drop("prediction error records (inputs the model could not predict)",
                        f"{where} (input line {record.get('line')}): {record['error']}")
            continue
        try:
            record = check_record(record, with_gold=False)
            key = _document_key(record, f"line-{number}")
            predictions.sentences.extend(_sentences(record, key, where))
        except ValueError as error:
            report.bad(f"{where}: not a prediction record ({error})")
            continue
        if isinstance(record.get("text"), str):
            predictions.texts[key] = record["text"]
        elif any("char_start" in entity for entity in record["entities"]):
            report.change("predictions of raw text without their text (written before records held it): "
                          "the text is rebuilt from the tokens", where)
    return predictions


def _document_key(record: Dict[str, Any], default_key: str) -> str:
    return str(record.get("doc_key", record.get("id", default_key)))


def _sentences(record: Dict[str, Any], key: str, where: str) -> List[Sentence]:
    tokens = record["tokens"]
    ranges = record.get("sentences") or [[0, len(tokens)]]
    first = record.get("sentence_index", 0)  # a line per sentence of a data file says which
    sentences = [Sentence(tokens[start:end], [], [], f"{where}, sentence {k}", doc_key=key,
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
