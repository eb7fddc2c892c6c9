"""Paired bootstrap significance test between two systems' predictions on the same sentences.

Koehn's (2004) paired bootstrap resampling: draw the test set's sentences with replacement
`samples` times; on every resample recompute each system's micro F1 from its summed per-sentence
counts and the difference delta = F1(B) - F1(A). The one-sided p-value of "B is better than A" is
the share of resamples with delta <= 0 (B not better). This is not Berg-Kirkpatrick et al.'s (2012)
variant, which counts the resamples whose delta exceeds twice the observed one. It is meaningful when the observed delta is
positive; with a negative one it is large (swap A and B to test the other direction).
Resampling sentences keeps the pairing: both systems are always scored on the same draw.
"""
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Sequence

import numpy

from sinet_allen.metrics.joint_ie_f1 import TASKS, sentence_counts
from sinet_allen.predictors.prediction_format import triples

CHUNK = 1000  # resamples scored at once: bounds memory at CHUNK x sentences multiplicities


@dataclass
class Comparison:
    f1_a: float
    f1_b: float
    delta: float
    p_value: float


def paired_records(records_a: Sequence[Dict], records_b: Sequence[Dict]) -> List[Dict]:
    """B's records in the order of A's, checked to be the same sentences with the same gold.
    Sentences are matched by their `source` (file and record) where every record has a distinct
    one, since `allennlp evaluate` writes them in the order of its length buckets; else by position."""
    if len(records_a) != len(records_b):
        raise ValueError(f"system A has {len(records_a)} sentences, system B {len(records_b)}: "
                         f"the predictions are not on the same test set")
    by_source = {record.get("source"): record for record in records_b}
    sources = [record.get("source") for record in records_a]
    by_position = None in by_source or len(by_source) < len(records_b)
    paired = list(records_b) if by_position else [by_source.get(source) for source in sources]
    for index, (a, b) in enumerate(zip(records_a, paired)):
        if b is None:
            raise ValueError(f"system B has no prediction for {sources[index]!r}: "
                             "the predictions are not on the same test set")
        for key in ("tokens", "gold_entities", "gold_relations"):
            if a[key] != b[key]:
                raise ValueError(f"sentence {index + 1} differs between the systems in its {key}: "
                                 f"the predictions are not on the same test set (or not in the same order)")
    return paired


def count_array(records: Iterable[Dict[str, Any]], symmetric: Iterable[str] = ()) -> numpy.ndarray:
    """Per sentence and task the (tp, predicted, gold) counts: `[sentences, tasks, 3]`."""
    symmetric = frozenset(symmetric)
    counts = [sentence_counts(*triples(record), symmetric) for record in records]
    # The reshape gives an empty input the same three axes.
    return numpy.array([[sentence[task] for task in TASKS] for sentence in counts], dtype=float).reshape(
        -1, len(TASKS), 3)


def micro_f1(summed: numpy.ndarray) -> numpy.ndarray:
    """F1 from summed (tp, predicted, gold) on the last axis: 2 tp / (predicted + gold), 0 if empty."""
    tp, predicted, gold = summed[..., 0], summed[..., 1], summed[..., 2]
    denominator = predicted + gold
    return numpy.divide(2 * tp, denominator, out=numpy.zeros_like(denominator), where=denominator > 0)


def paired_bootstrap(counts_a: numpy.ndarray, counts_b: numpy.ndarray, samples: int = 10000,
                     seed: int = 0) -> Dict[str, Comparison]:
    """Per task the observed F1 of A and B, their difference and the one-sided p-value (module doc)."""
    if counts_a.shape != counts_b.shape:
        raise ValueError(f"count arrays differ in shape: {counts_a.shape} vs {counts_b.shape}")
    num_sentences = counts_a.shape[0]
    if num_sentences == 0 or samples < 1:
        raise ValueError(f"cannot resample {num_sentences} sentences {samples} times")
    # One row per sentence holding both systems' counts, so a resample is one matrix product.
    paired = numpy.stack([counts_a, counts_b], axis=1).reshape(num_sentences, -1)
    f1_a, f1_b = _paired_f1(paired.sum(0, keepdims=True))[0]
    rng = numpy.random.default_rng(seed)
    not_better = numpy.zeros(len(TASKS))
    for size in _chunk_sizes(samples):
        f1 = _paired_f1(_resample_weights(rng, num_sentences, size) @ paired)
        not_better += (f1[:, 1] <= f1[:, 0]).sum(0)
    return {
        task: Comparison(float(f1_a[i]), float(f1_b[i]), float(f1_b[i] - f1_a[i]), float(not_better[i] / samples))
        for i, task in enumerate(TASKS)
    }


def _paired_f1(summed: numpy.ndarray) -> numpy.ndarray:
    """Rows of paired count sums `[rows, 2 * tasks * 3]` -> F1 `[rows, 2 (A, B), tasks]`."""
    return micro_f1(summed.reshape(len(summed), 2, len(TASKS), 3))


def _chunk_sizes(samples: int) -> List[int]:
    return [min(CHUNK, samples - start) for start in range(0, samples, CHUNK)]


def _resample_weights(rng: numpy.random.Generator, num_sentences: int, size: int) -> numpy.ndarray:
    """`[size, sentences]`: how often each sentence was drawn in each of `size` resamples."""
    draws = rng.integers(0, num_sentences, size=(size, num_sentences))
    flat = (draws + num_sentences * numpy.arange(size)[:, None]).ravel()
    return numpy.bincount(flat, minlength=size * num_sentences).reshape(size, num_sentences).astype(float)

