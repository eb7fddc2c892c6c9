"""Task-aware projection (TAP): one view of the encoder states for NER and one for RE."""
from typing import Tuple

import torch
from allennlp.common import Registrable


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
    """`h^e = W^e h` and `h^r = W^r h` with bias-free d x d maps, [CLS] included."""

    def __init__(self, input_dim: int) -> None:
        super().__init__()
        self.entity = torch.nn.Linear(input_dim, input_dim, bias=False)
        self.relation = torch.nn.Linear(input_dim, input_dim, bias=False)

    def forward(self, states: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.entity(states), self.relation(states)
