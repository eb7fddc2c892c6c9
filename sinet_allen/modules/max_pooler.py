"""The dimension-wise maximum over a sequence's unmasked positions, as a `Seq2VecEncoder`.

AllenNLP has [CLS] (`cls_pooler`) and the mean (`boe` with `averaged: true`) but no max; SINET's
Table 3 compares all three as the interactive agent.
"""
import torch
from allennlp.modules.seq2vec_encoders import Seq2VecEncoder
from allennlp.nn.util import masked_max


@Seq2VecEncoder.register("max_pooler")
class MaxPooler(Seq2VecEncoder):
    """`[batch, length, dim]` -> `[batch, dim]`, the maximum over the positions `mask` keeps; a
    sequence without any (an empty sentence) gives zeros, and padding gets no gradient.

    Registered as a `Seq2VecEncoder` with name "max_pooler".

    # Parameters

    embedding_dim : `int`, required.
        The last dimension of the input, which is also the output size.
    """

    def __init__(self, embedding_dim: int) -> None:
        super().__init__()
        self._embedding_dim = embedding_dim

    def get_input_dim(self) -> int:
        return self._embedding_dim

    def get_output_dim(self) -> int:
        return self._embedding_dim

    def forward(self, tokens: torch.Tensor, mask: torch.BoolTensor = None) -> torch.Tensor:
        if mask is None:
            return tokens.max(dim=1).values
        pooled = masked_max(tokens, mask.unsqueeze(-1), dim=1)
        return pooled * mask.any(dim=1, keepdim=True)
