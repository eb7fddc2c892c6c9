"""Task-aware projection (TAP): one view of the encoder states for NER and one for RE."""
from typing import Tuple

import torch
from allennlp.common import Registrable
from allennlp.common.checks import ConfigurationError

from sinet_allen.modules.bert_initialisation import initialise_like_bert


class TaskProjection(torch.nn.Module, Registrable):
    """Maps encoder states `[batch, length, dim]` to `(entity_states, relation_states)`."""

    default_implementation = "linear"

    def forward(self, states: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError


@TaskProjection.register("identity")
class IdentityProjection(TaskProjection):
    """The Base model: both tasks read the encoder states unchanged (no parameters)."""

    def __init__(self, input_dim: int) -> None:
        super().__init__()

    def forward(self, states: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return states, states


@TaskProjection.register("linear")
class LinearTaskProjection(TaskProjection):
    """`h^e = W^e h` and `h^r = W^r h` with bias-free d x d maps, [CLS] included.

    `initial_weights` "identity" (the default) starts both maps as the identity: training begins
    from the Base model's features and the two views move apart as the tasks pull them. "random"
    draws them as BERT draws new layers (normal, standard deviation 0.02), as the authors' code
    does, which starts the classifiers on a random rotation of the pretrained features, scaled down;
    on SciERC with MiniLM it learns more slowly (benchmarks/sinet_scierc_minilm.md).
    """

    def __init__(self, input_dim: int, initial_weights: str = "identity") -> None:
        super().__init__()
        if initial_weights not in ("identity", "random"):
            raise ConfigurationError(f"initial_weights must be 'identity' or 'random', not {initial_weights!r}")
        self.entity = torch.nn.Linear(input_dim, input_dim, bias=False)
        self.relation = torch.nn.Linear(input_dim, input_dim, bias=False)
        for layer in (self.entity, self.relation):
            if initial_weights == "identity":
                torch.nn.init.eye_(layer.weight)
            else:
                initialise_like_bert(layer)

    def forward(self, states: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.entity(states), self.relation(states)
