"""Stochastic weight averaging (Izmailov et al., 2018) as an AllenNLP `MovingAverage`: the uniform
mean of the weights after every update from `start_update` on. The trainer validates and saves the
average (as it does AllenNLP's exponential average), so the archived model is the averaged one and
prediction costs nothing more."""
from typing import Any, Dict, Iterable, Optional

from allennlp.training.moving_average import MovingAverage, NamedParameter


@MovingAverage.register("uniform")
class UniformWeightAverage(MovingAverage):
    """
    Before `start_update` the "average" is the current weights, so validation and the saved model
    are those of ordinary training; from `start_update` on it is the mean of the weights after
    each update since then, `start_update`'s included.

    Registered as a `MovingAverage` with name "uniform":
    `"trainer": {"moving_average": {"type": "uniform", "start_update": 3000}}`.

    # Parameters

    parameters : `Iterable[Tuple[str, Parameter]]`, required
        The parameters to average; the trainer passes them (no config entry).
    start_update : `int`, optional (default = `1`)
        The first update (counted from 1 over the whole run, as the trainer counts batches) whose
        weights enter the mean. Set it to the update where the last epochs to average begin,
        e.g. `(num_epochs - k) * updates_per_epoch + 1` for the last k epochs.
    """

    def __init__(self, parameters: Iterable[NamedParameter], start_update: int = 1) -> None:
        self.parameters = list(parameters)
        self.start_update = start_update
        self.count = 0  # the updates averaged so far
        self.averages = {name: parameter.data.clone() for name, parameter in self.parameters}
        self.backups = {name: parameter.data.clone() for name, parameter in self.parameters}

    def apply(self, num_updates: Optional[int] = None) -> None:
        if num_updates is None:
            raise ValueError("the uniform weight average needs the trainer's update count")
        if num_updates < self.start_update:
            self.count = 0
            for name, parameter in self.parameters:
                self.averages[name].copy_(parameter.data)
            return
        self.count += 1
        for name, parameter in self.parameters:  # the running mean, one update at a time
            self.averages[name].add_(parameter.data - self.averages[name], alpha=1.0 / self.count)

    def assign_average_value(self) -> None:
        for name, parameter in self.parameters:
            self.backups[name].copy_(parameter.data)
            parameter.data.copy_(self.averages[name])

    def restore(self) -> None:
        for name, parameter in self.parameters:
            parameter.data.copy_(self.backups[name])

    def state_dict(self) -> Dict[str, Any]:
        return {"count": self.count, "averages": self.averages, "backups": self.backups}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        self.count = state_dict["count"]
        for name in self.averages:
            self.averages[name].copy_(state_dict["averages"][name])
            self.backups[name].copy_(state_dict["backups"][name])
