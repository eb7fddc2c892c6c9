"""Counts of what a model's limits leave out of evaluation, reported beside the F1 figures so
that nothing is lost unseen."""
import logging
from typing import Dict, Sequence

import torch
from allennlp.common.util import is_distributed
from allennlp.nn.util import dist_reduce_sum
from allennlp.training.metrics.metric import Metric

logger = logging.getLogger(__name__)


class LeftOutCounts(Metric):
    """Running counts under fixed names, each with the sentence that explains it, logged as a
    warning the first time the count grows (once per name for the metric's lifetime: a model
    evaluated every epoch warns once, not every epoch). `get_metric` reports every name, zero
    included, summed over all workers in distributed training.

    # Parameters

    explanations : `Dict[str, str]`
        Per count's name, what it counts and what follows for the figures.
    """

    supports_distributed = True

    def __init__(self, explanations: Dict[str, str]) -> None:
        self.explanations = dict(explanations)
        self._warned: set = set()
        self.reset()

    def reset(self) -> None:
        self._counts = {name: 0 for name in self.explanations}

    def __call__(self, **counts: int) -> None:  # type: ignore[override]
        for name, count in counts.items():
            self._counts[name] += int(count)
            if count and name not in self._warned:
                self._warned.add(name)
                logger.warning("%s (reported as the metric %s; this warning is shown once)",
                               self.explanations[name], name)

    def get_metric(self, reset: bool = False) -> Dict[str, float]:
        names: Sequence[str] = list(self._counts)
        counts = [self._counts[name] for name in names]
        if is_distributed():
            counts = dist_reduce_sum(torch.tensor(counts, dtype=torch.long)).tolist()
        if reset:
            self.reset()
        return {name: float(count) for name, count in zip(names, counts)}
