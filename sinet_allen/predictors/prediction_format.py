"""The one prediction line format: built, written and read here, and nowhere else.

A prediction file holds one JSON object per line: per input line (`allennlp predict`,
`allennlp sinet-extract`) or per sentence of a data file (`allennlp evaluate
--predictions-output-file`, `allennlp predict --use-dataset-reader`, `allennlp sinet-experiment`):

    {<the input's other keys: id, doc_key, source, sentence_index, ...>,
     ["text": str],
     "tokens": [str],
     "entities": [{"type", "start", "end", "text", ["char_start", "char_end"], "score"}],
     "relations": [{"head", "tail", "type", "score"}],
     ["sentences": [[start, end], ...]],
     ["gold_entities": [{"type", "start", "end", "text"}], "gold_relations": [{"head", "tail", "type"}]],
     ["attention": [{"encoder": [w], ("ner": {"mean", "self", "heads", "self_heads"}, "re": {...}) | "note"}
                    | null, ...]]}

Offsets are word offsets, `end` exclusive; `char_start`/`char_end` slice raw input text, which
the record holds as `text` (given for raw-text input only); relations'
`head` and `tail` index `entities` (gold relations index `gold_entities`); `sentences` is given for
document inputs; the gold keys when the input had gold. An input that could not be predicted gives
the error record `{"error": message, "line": N}` in its place.

`attention` is there only when asked for (the predictor's `attention` argument): per sentence
(null for an empty one), weights per word of that sentence, as sinet_allen/models/attention_recorder.py
defines them; a model without CTAM gives no `ner` and `re` maps, and `note` says why.
"""
import json
from pathlib import Path
from typing import Callable, Iterable, List, Optional, Sequence, Tuple, Union

from allennlp.common.util import JsonDict, sanitize

from sinet_allen.metrics.joint_ie_f1 import SentenceTriples

SCORE_DECIMALS = 4
PREDICTION_KEYS = ("tokens", "entities", "relations")
GOLD_KEYS = ("gold_entities", "gold_relations")
# The metadata keys that say where a sentence of a data file comes from.
SENTENCE_IDENTIFIERS = ("source", "doc_key", "sentence_index")

Surface = Callable[[int, int], JsonDict]  # (start, end) -> {"text", ["char_start", "char_end"]}


def token_surface(tokens: Sequence[str]) -> Surface:
    """The surface of tokenised input: the entity's tokens joined by spaces."""
    return lambda start, end: {"text": " ".join(tokens[start:end])}


def add_sentence(entities: List[JsonDict], relations: List[JsonDict], output: JsonDict, offset: int,
                 surface: Surface) -> None:
    """Appends one sentence's model output to a result's `entities` and `relations`, its word
    offsets shifted by `offset` (the sentence's start in the document) and its relation indices
    by the entities already there."""
    first = len(entities)
    for entity in output["entities"]:
        start, end = entity["start"] + offset, entity["end"] + offset
        entities.append({"type": entity["type"], "start": start, "end": end, **surface(start, end),
                         "score": round(entity["score"], SCORE_DECIMALS)})
    relations.extend({"head": relation["head"] + first, "tail": relation["tail"] + first, "type": relation["type"],
                      "score": round(relation["score"], SCORE_DECIMALS)} for relation in output["relations"])


def prediction_record(other: JsonDict, tokens: List[str], entities: List[JsonDict], relations: List[JsonDict],
                      sentences: Optional[List[List[int]]] = None, gold: Optional[JsonDict] = None,
                      attention: Optional[List[Optional[JsonDict]]] = None, text: Optional[str] = None) -> JsonDict:
    """A line in the schema's key order: the input's `other` keys (those of the same name as the
    record's own, such as a training record's gold `entities`, are replaced), the raw `text` where
    given, the prediction, then `sentences`, the gold keys and `attention` where given."""
    record = {} if text is None else {"text": text}
    record.update({"tokens": tokens, "entities": entities, "relations": relations})
    if sentences is not None:
        record["sentences"] = sentences
    record.update(gold or {})
    if attention is not None:
        record["attention"] = attention
    return {**{key: value for key, value in other.items() if key not in record}, **record}


def error_record(message: str, line: Optional[int] = None) -> JsonDict:
    return {"error": message} if line is None else {"error": message, "line": line}


def gold_keys(tokens: Sequence[str], gold_entities: Iterable[Sequence], gold_relations: Iterable[Sequence]) -> JsonDict:
    """The gold keys from the reader's metadata: entity triples (start, end, type) and relation
    triples (head triple, tail triple, type), as dicts whose relations index the gold entities."""
    triples = [tuple(entity) for entity in gold_entities]
    index = {entity: position for position, entity in enumerate(triples)}
    return {
        "gold_entities": [{"type": label, "start": start, "end": end, "text": " ".join(tokens[start:end])}
                          for start, end, label in triples],
        "gold_relations": [{"head": index[tuple(head)], "tail": index[tuple(tail)], "type": label}
                           for head, tail, label in gold_relations],
    }


def sentence_record(output: JsonDict) -> JsonDict:
    """The line of one sentence of a data file from its model output (with the reader's
    `metadata`): where it comes from, the prediction, and its gold."""
    metadata = output["metadata"]
    tokens = metadata["tokens"]
    entities: List[JsonDict] = []
    relations: List[JsonDict] = []
    add_sentence(entities, relations, output, 0, token_surface(tokens))
    identifiers = {key: metadata[key] for key in SENTENCE_IDENTIFIERS if metadata.get(key) is not None}
    gold = gold_keys(tokens, metadata["gold_entities"], metadata["gold_relations"])
    attention = [output["attention"]] if "attention" in output else None
    return prediction_record(identifiers, list(tokens), entities, relations, gold=gold, attention=attention)


def dump_line(record: JsonDict) -> str:
    """A record as one line of a prediction file (ASCII JSON: a token holding a lone surrogate,
    which the encoder accepts, is still written)."""
    return json.dumps(sanitize(record)) + "\n"


def triples(record: JsonDict) -> Tuple[SentenceTriples, SentenceTriples]:
    """(predicted, gold) of a record with gold, as the metric counts them: entities as
    (start, end, type), relations as (head entity, tail entity, type)."""
    return (_triples(record["entities"], record["relations"]),
            _triples(record["gold_entities"], record["gold_relations"]))


def _triples(entities: List[JsonDict], relations: List[JsonDict]) -> SentenceTriples:
    spans = [(entity["start"], entity["end"], entity["type"]) for entity in entities]
    return SentenceTriples(spans, [(spans[relation["head"]], spans[relation["tail"]], relation["type"])
                                   for relation in relations])


def read_predictions(path: Union[str, Path]) -> List[JsonDict]:
    """The records of a prediction file with gold; a line that is not such a record (not JSON, an
    error record, a missing key, an index beyond its entities) is an error naming the file and line."""
    records = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                records.append(_checked_record(line))
            except ValueError as error:
                raise ValueError(f"{path}, line {number}: {error}") from None
    return records


def _checked_record(line: str) -> JsonDict:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error.msg} at column {error.colno})") from None
    return check_record(record)


def check_record(record: object, with_gold: bool = True) -> JsonDict:
    """`record` if it is a prediction line (with the gold keys when `with_gold`), else a ValueError
    saying what is wrong: not an object, an error record, a missing key, an index beyond its entities."""
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    if "error" in record:
        raise ValueError(f"an error record, the input was not predicted: {record['error']}")
    missing = [key for key in PREDICTION_KEYS + (GOLD_KEYS if with_gold else ()) if key not in record]
    if missing:
        raise ValueError(f"no {', '.join(missing)}; expected a prediction line"
                         + (" with gold, as `allennlp evaluate --predictions-output-file` writes it" if with_gold else ""))
    try:
        triples(record) if with_gold else _triples(record["entities"], record["relations"])
    except (KeyError, IndexError, TypeError) as error:
        raise ValueError(f"an entity or relation is malformed ({type(error).__name__}: {error})") from None
    return record
