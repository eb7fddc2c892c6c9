"""What a system got wrong, sentence by sentence and in total, from prediction files with gold.

Entities are compared as (start, end, type), relations strictly (both entities with their types,
and the relation type), as the metric's Ent and Rel+ count them. An error is one of:

* `missed entity`: a gold entity whose span has no prediction;
* `wrong entity type`: a predicted span that is a gold span, with another type;
* `spurious entity`: a predicted span that is no gold span;
* `missed relation` / `spurious relation`: a gold relation not predicted / a predicted one not in
  gold, unless another type links the same two spans (predicted and gold): then `wrong relation type`.

Both the model and the reader write a symmetric relation head first (`canonical_relation`), so
the comparison needs no knowledge of which types are symmetric.
"""
from collections import Counter
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

from allennlp.common.util import JsonDict

from sinet_allen.metrics.joint_ie_f1 import JointIEF1
from sinet_allen.predictors.prediction_format import triples

NONE = "(none)"
ERROR_KINDS = ("missed entity", "wrong entity type", "spurious entity",
               "missed relation", "wrong relation type", "spurious relation")


@dataclass(frozen=True)
class Error:
    kind: str  # one of ERROR_KINDS
    words: Tuple[int, ...]  # the words it concerns, for marking them in the sentence
    description: str


def scores(records: Sequence[JsonDict]) -> Dict[str, float]:
    """The metric's figures (micro, macro and per type) over the records."""
    metric = JointIEF1(per_type=True)
    predicted, gold = zip(*(triples(record) for record in records)) if records else ((), ())
    metric(list(predicted), list(gold))
    return metric.get_metric()


def entity_confusion(records: Sequence[JsonDict]) -> Counter:
    """Counts of (gold type, predicted type) over spans that are gold or predicted; `NONE` stands for
    a span on one side only (missed: predicted NONE; spurious: gold NONE)."""
    confusion: Counter = Counter()
    for record in records:
        predicted, gold = ({(start, end): label for start, end, label in side.entities} for side in triples(record))
        for span in predicted.keys() | gold.keys():
            confusion[gold.get(span, NONE), predicted.get(span, NONE)] += 1
    return confusion


def sentence_errors(record: JsonDict) -> List[Error]:
    predicted, gold = triples(record)
    tokens = record["tokens"]

    def text(span) -> str:
        return " ".join(tokens[span[0]:span[1]])

    def words(*spans) -> Tuple[int, ...]:
        return tuple(sorted({word for span in spans for word in range(span[0], span[1])}))

    errors = []
    predicted_types = {entity[:2]: entity[2] for entity in predicted.entities}
    gold_types = {entity[:2]: entity[2] for entity in gold.entities}
    for span, label in gold_types.items():
        if span not in predicted_types:
            errors.append(Error("missed entity", words(span), f"“{text(span)}” {label}"))
    for span, label in predicted_types.items():
        if span not in gold_types:
            errors.append(Error("spurious entity", words(span), f"“{text(span)}” {label}"))
        elif gold_types[span] != label:
            errors.append(Error("wrong entity type", words(span), f"“{text(span)}” {label}, gold {gold_types[span]}"))
    errors += _relation_errors(set(predicted.relations), set(gold.relations), text, words)
    return errors


def _relation_errors(predicted: set, gold: set, text, words) -> List[Error]:
    def pair(relation) -> Tuple:
        return relation[0], relation[1]

    def describe(relation) -> str:
        head, tail, label = relation
        return f"“{text(head)}” → “{text(tail)}” {label}"

    unmatched_gold, unmatched_predicted = sorted(gold - predicted), sorted(predicted - gold)
    predicted_pairs = {pair(relation) for relation in unmatched_predicted}
    errors = [Error("missed relation", words(*pair(relation)), describe(relation))
              for relation in unmatched_gold if pair(relation) not in predicted_pairs]
    for relation in unmatched_predicted:
        gold_labels = [other[2] for other in unmatched_gold if pair(other) == pair(relation)]
        if gold_labels:
            errors.append(Error("wrong relation type", words(*pair(relation)),
                                f"{describe(relation)}, gold {', '.join(gold_labels)}"))
        else:
            errors.append(Error("spurious relation", words(*pair(relation)), describe(relation)))
    return errors
