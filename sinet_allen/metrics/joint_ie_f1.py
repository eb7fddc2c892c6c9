"""Micro/macro P/R/F1 for joint entity and relation extraction (Ent, Rel, Rel+)."""
from collections import Counter
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Set, Tuple

import torch
from allennlp.common.util import is_distributed
from allennlp.nn.util import dist_reduce_sum
from allennlp.training.metrics.metric import Metric

from sinet_allen.schema import canonical_relation

Span = Tuple[int, int, str]  # (word start, word end exclusive, entity type)
Relation = Tuple[Span, Span, str]  # (head, tail, relation type)
Counts = Tuple[int, int, int]  # (true positives, predicted, gold)

TASKS = ("ent", "rel", "rel_strict")
TASK_LABELS = dict(zip(TASKS, ("Ent", "Rel", "Rel+")))  # as named in the paper's tables


@dataclass(frozen=True)
class SentenceTriples:
    """Entities and relations of one sentence (predicted or gold)."""

    entities: Iterable[Span] = ()
    relations: Iterable[Relation] = ()


def _field(sentence: Any, name: str) -> Iterable:
    # Plain dicts with the same keys are accepted, so callers need not build the dataclass.
    if isinstance(sentence, Mapping):
        return sentence.get(name, ())
    return getattr(sentence, name)


def _normalise(sentence: Any, symmetric: Set[str]) -> Dict[str, Set[tuple]]:
    """Canonical item sets per task; the item's type (entity or relation) is always item[0]."""
    ents = {(str(t), int(s), int(e)) for s, e, t in _field(sentence, "entities")}
    rels: Set[tuple] = set()
    strict: Set[tuple] = set()
    for head, tail, label in _field(sentence, "relations"):
        label = str(label)
        # A symmetric pair in either order becomes one key (the two spans always differ).
        h, t = canonical_relation((int(head[0]), int(head[1]), str(head[2])),
                                  (int(tail[0]), int(tail[1]), str(tail[2])), label, symmetric)
        rels.add((label, h[:2], t[:2]))
        strict.add((label, h, t))
    return {"ent": ents, "rel": rels, "rel_strict": strict}


def _by_type(pred: Set[tuple], gold: Set[tuple]) -> Dict[str, Counts]:
    tp = Counter(item[0] for item in pred & gold)
    n_pred = Counter(item[0] for item in pred)
    n_gold = Counter(item[0] for item in gold)
    return {label: (tp[label], n_pred[label], n_gold[label]) for label in n_pred.keys() | n_gold.keys()}


def sentence_type_counts(
    predicted: Any, gold: Any, symmetric: Iterable[str] = ()
) -> Dict[str, Dict[str, Counts]]:
    """Per task ("ent", "rel", "rel_strict"), per type: (tp, predicted, gold) for one sentence.

    Types are entity types for "ent" and relation types for "rel"/"rel_strict"; only types
    occurring in the sentence appear.
    """
    symmetric = set(symmetric)
    pred, gold_sets = _normalise(predicted, symmetric), _normalise(gold, symmetric)
    return {task: _by_type(pred[task], gold_sets[task]) for task in TASKS}


def sentence_counts(predicted: Any, gold: Any, symmetric: Iterable[str] = ()) -> Dict[str, Counts]:
    """Micro counts (tp, predicted, gold) per task for one sentence (e.g. for bootstrap tests)."""
    symmetric = set(symmetric)
    pred, gold_sets = _normalise(predicted, symmetric), _normalise(gold, symmetric)
    return {
        task: (len(pred[task] & gold_sets[task]), len(pred[task]), len(gold_sets[task]))
        for task in TASKS
    }


def prf(tp: int, n_pred: int, n_gold: int) -> Tuple[float, float, float]:
    """Precision, recall, F1 as fractions; empty denominators give 0.0."""
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _add_type_counts(target: Dict[str, Dict[str, List[int]]], source: Mapping) -> None:
    for task, types in source.items():
        for label, counts in types.items():
            acc = target[task].setdefault(label, [0, 0, 0])
            for i in range(3):
                acc[i] += counts[i]


@Metric.register("joint_ie_f1")
class JointIEF1(Metric):
    """Ent / Rel / Rel+ micro and macro P/R/F1 over sentences.

    Call with one predicted and one (complete) gold `SentenceTriples` per sentence. Duplicates
    count once per sentence; `symmetric_relations` are compared as unordered pairs. In distributed
    training the counts of all workers are summed before the figures are computed.

    Registered as a `Metric` with name "joint_ie_f1".

    # Parameters

    symmetric_relations : `Iterable[str]`, optional (default = `()`)
        Relation types whose head and tail may be given in either order; the model passes the
        data set's `symmetric_relations`.
    per_type : `bool`, optional (default = `False`)
        Also report P/R/F1 per entity and relation type (`ent_f1_<Type>`, `rel_strict_f1_<Type>`, ...).
    """

    supports_distributed = True

    def __init__(self, symmetric_relations: Iterable[str] = (), per_type: bool = False) -> None:
        self._symmetric = frozenset(symmetric_relations)
        self._per_type = per_type
        self.reset()

    def reset(self) -> None:
        self._micro: Dict[str, List[int]] = {task: [0, 0, 0] for task in TASKS}
        self._types: Dict[str, Dict[str, List[int]]] = {task: {} for task in TASKS}

    def __call__(self, predicted: List[SentenceTriples], gold: List[SentenceTriples]) -> None:  # type: ignore[override]
        if len(predicted) != len(gold):
            raise ValueError(f"got {len(predicted)} predicted but {len(gold)} gold sentences")
        for pred_sentence, gold_sentence in zip(predicted, gold):
            counts = sentence_type_counts(pred_sentence, gold_sentence, self._symmetric)
            _add_type_counts(self._types, counts)
            # Each item has exactly one type, so micro counts are the per-type sums.
            for task, types in counts.items():
                micro = self._micro[task]
                for tp, n_pred, n_gold in types.values():
                    micro[0] += tp
                    micro[1] += n_pred
                    micro[2] += n_gold

    def _gathered(self) -> Tuple[Dict[str, List[int]], Dict[str, Dict[str, List[int]]]]:
        """Counts summed over all workers (local counts when not distributed)."""
        if not is_distributed():
            return self._micro, self._types
        flat = [count for task in TASKS for count in self._micro[task]]
        summed = dist_reduce_sum(torch.tensor(flat, dtype=torch.long)).tolist()
        micro = {task: summed[3 * i : 3 * i + 3] for i, task in enumerate(TASKS)}
        # Type keys may differ between workers, so gather whole dictionaries and merge.
        gathered: List[Any] = [None] * torch.distributed.get_world_size()
        torch.distributed.all_gather_object(gathered, self._types)
        types: Dict[str, Dict[str, List[int]]] = {task: {} for task in TASKS}
        for worker_types in gathered:
            _add_type_counts(types, worker_types)
        return micro, types

    def get_metric(self, reset: bool = False) -> Dict[str, float]:
        micro, types = self._gathered()
        metrics: Dict[str, float] = {}
        for task in TASKS:
            precision, recall, f1 = prf(*micro[task])
            metrics[f"{task}_precision"] = precision
            metrics[f"{task}_recall"] = recall
            metrics[f"{task}_f1"] = f1
            per_type = {label: prf(*counts) for label, counts in sorted(types[task].items())}
            macro = [f for _, _, f in per_type.values()]
            metrics[f"{task}_macro_f1"] = sum(macro) / len(macro) if macro else 0.0
            if self._per_type:
                for label, (p, r, f) in per_type.items():
                    metrics[f"{task}_precision_{label}"] = p
                    metrics[f"{task}_recall_{label}"] = r
                    metrics[f"{task}_f1_{label}"] = f
        if reset:
            self.reset()
        return metrics
