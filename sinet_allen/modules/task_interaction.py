"""Interaction between the NER and RE views of a sentence (CTAM)."""
from typing import NamedTuple

import torch
from allennlp.common import Registrable


class TaskViews(NamedTuple):
    """Per-task token states `[batch, length, dim]` and agents `[batch, dim]`."""

    entity_states: torch.Tensor
    relation_states: torch.Tensor
    entity_agent: torch.Tensor
    relation_agent: torch.Tensor


class TaskInteraction(torch.nn.Module, Registrable):
    """Lets the two task views inform each other; returns updated `TaskViews`.

    Implementations are built by the model with `input_dim`, the encoder's output size.
    `sentence_mask [batch, length]` marks the sentence's wordpieces ([CLS], [SEP], padding excluded).
    """

    def forward(self, views: TaskViews, sentence_mask: torch.BoolTensor) -> TaskViews:
        raise NotImplementedError
