"""Stochastic weight averaging (Izmailov et al., 2018) as an AllenNLP `MovingAverage`: the uniform
mean of the weights after every update from `start_update` on. The trainer validates and saves the
average (as it does AllenNLP's exponential average), so the archived model is the averaged one and
prediction costs nothing more."""
import logging
from pathlib import Path
from typing import Any, Dict, Iterable, Optional

from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.models import Model
from allennlp.training import Checkpointer
from allennlp.training.moving_average import MovingAverage, NamedParameter

logger = logging.getLogger(__name__)


@MovingAverage.register("uniform")
class UniformWeightAverage(MovingAverage):
    """
    Before the first averaged update the "average" is the current weights, so validation and the
    saved model are those of ordinary training; from then on it is the mean of the weights after
    each update since, the first averaged one's included.

    Registered as a `MovingAverage` with name "uniform", its first update given either directly
    (`"trainer": {"moving_average": {"type": "uniform", "start_update": 3000}}`) or as the last
    epochs of the run (`{"type": "uniform", "last_epochs": 5, "num_epochs": 15}`), which needs no
    count of the training batches: an epoch's updates are those before the first validation.

    # Parameters

    parameters : `Iterable[Tuple[str, Parameter]]`, required
        The parameters to average; the trainer passes them (no config entry).
    start_update : `int`, optional (default = `1` when `last_epochs` is not given)
        The first update (counted from 1 over the whole run, as the trainer counts batches) whose
        weights enter the mean.
    last_epochs : `int`, optional
        Average the weights of the last this many epochs instead: the first update is
        `(num_epochs - last_epochs) * updates_per_epoch + 1`.
    num_epochs : `int`, optional
        The run's epochs (the trainer's `num_epochs`), required with `last_epochs`.
    """

    def __init__(self, parameters: Iterable[NamedParameter], start_update: Optional[int] = None,
                 last_epochs: Optional[int] = None, num_epochs: Optional[int] = None) -> None:
        if last_epochs is not None and start_update is not None:
            raise ConfigurationError("uniform weight average: give start_update or last_epochs, not both")
        if last_epochs is not None and (num_epochs is None or not 0 < last_epochs <= num_epochs):
            raise ConfigurationError(f"uniform weight average: last_epochs ({last_epochs}) needs num_epochs "
                                     f"({num_epochs}) and must be between 1 and it")
        self.parameters = list(parameters)
        self.epochs_before_start = 0 if last_epochs is None else num_epochs - last_epochs
        # Unknown (None) until the first validation tells the updates of one epoch.
        self.start_update = start_update if start_update is not None else (
            1 if self.epochs_before_start == 0 else None)
        self.updates = 0  # the trainer's count at the last update
        self.count = 0  # the updates averaged so far
        self.averages = {name: parameter.data.clone() for name, parameter in self.parameters}
        self.backups = {name: parameter.data.clone() for name, parameter in self.parameters}

    def apply(self, num_updates: Optional[int] = None) -> None:
        if num_updates is None:
            raise ValueError("the uniform weight average needs the trainer's update count")
        self.updates = num_updates
        if self.start_update is None or num_updates < self.start_update:
            self.count = 0
            for name, parameter in self.parameters:
                self.averages[name].copy_(parameter.data)
            return
        self.count += 1
        for name, parameter in self.parameters:  # the running mean, one update at a time
            self.averages[name].add_(parameter.data - self.averages[name], alpha=1.0 / self.count)

    def assign_average_value(self) -> None:
        if self.start_update is None:  # the first validation: the updates so far are one epoch's
            self.start_update = self.epochs_before_start * self.updates + 1
            # Said in the log: a run overridden to end before this update never averages.
            logger.info("Weight averaging: %d updates per epoch, the average starts at update %d",
                        self.updates, self.start_update)
        for name, parameter in self.parameters:
            self.backups[name].copy_(parameter.data)
            parameter.data.copy_(self.averages[name])

    def restore(self) -> None:
        for name, parameter in self.parameters:
            parameter.data.copy_(self.backups[name])

    def state_dict(self) -> Dict[str, Any]:
        return {"start_update": self.start_update, "updates": self.updates, "count": self.count,
                "averages": self.averages, "backups": self.backups}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        # States saved before `last_epochs` existed (2026-12-07) carry neither: their start was configured.
        self.start_update = state_dict.get("start_update", self.start_update)
        self.updates = state_dict.get("updates", self.updates)
        self.count = state_dict["count"]
        for name in self.averages:
            self.averages[name].copy_(state_dict["averages"][name])
            self.backups[name].copy_(state_dict["backups"][name])


def assign_final_average(model: Model, config: Params, serialization_dir: Path) -> None:
    """Gives `model`, holding a run's last checkpoint (`model_state_*.th`), the weights the run ended
    with. With a uniform average those are the average, which the trainer keeps in its training
    state and not in the checkpoint's weights; a run without an average is left as it is."""
    average_config = config.get("trainer", {}).get("moving_average", None)
    if average_config is None:
        return
    average = MovingAverage.from_params(average_config.duplicate(), parameters=list(model.named_parameters()))
    if not isinstance(average, UniformWeightAverage):
        # AllenNLP's exponential average reloads its state onto the saved tensors, not onto the model.
        raise ValueError(f"{serialization_dir}: its weights were averaged with {type(average).__name__}, whose "
                         "final average cannot be put back on the model; evaluate the best model instead")
    checkpoint = Checkpointer(str(serialization_dir)).load_checkpoint()
    if checkpoint is None:
        raise ValueError(f"{serialization_dir}: no training_state_*.th checkpoint holds the final weight average")
    average.load_state_dict(checkpoint.trainer_state["moving_average"])
    average.assign_average_value()
