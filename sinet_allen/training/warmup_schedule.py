"""Linear warm-up over a fraction of training, then linear decay to zero (SpERT/SINET schedule)."""
import torch
from allennlp.training.learning_rate_schedulers import LearningRateScheduler, PolynomialDecay


@LearningRateScheduler.register("linear_warmup_fraction")
class LinearWarmupFraction(PolynomialDecay):
    """AllenNLP's `linear_with_warmup` takes a step count, which depends on the data set size;
    this takes the fraction of all steps (default 10%) instead, so one config fits every data set.

    Registered as a `LearningRateScheduler` with name "linear_warmup_fraction".

    # Parameters

    optimizer : `torch.optim.Optimizer`
        Given by the trainer.
    num_epochs : `int`
        Given by the trainer: the number of training epochs.
    num_steps_per_epoch : `int`
        Given by the trainer: the optimizer steps per epoch.
    warmup_fraction : `float`, optional (default = `0.1`)
        The share of all steps over which the learning rate rises linearly from zero; it then falls
        linearly to zero at the end of training.
    last_epoch : `int`, optional (default = `-1`)
        The last finished epoch, as AllenNLP's schedulers take it; -1 starts afresh.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        num_epochs: int,
        num_steps_per_epoch: int,
        warmup_fraction: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        warmup_steps = int(warmup_fraction * num_epochs * num_steps_per_epoch)
        super().__init__(optimizer, num_epochs, num_steps_per_epoch, power=1.0,
                         warmup_steps=warmup_steps, end_learning_rate=0.0, last_epoch=last_epoch)
