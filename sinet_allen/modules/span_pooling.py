"""Pooling of wordpiece states over spans, without a spans x length x dim tensor.

Used twice by the model: over entity spans, and over the local context between two spans.
Spans are `[start, end)` wordpiece offsets; an empty span (end <= start) pools to zero.
"""

import torch
from allennlp.common import Registrable
from allennlp.nn.util import batched_index_select


class SpanPooler(Registrable):
    default_implementation = "max"

    def __call__(self, states: torch.Tensor, spans: torch.LongTensor) -> torch.Tensor:
        """`states [batch, length, dim]`, `spans [batch, num_spans, 2]` -> `[batch, num_spans, dim]`."""
        if spans.size(1) == 0:  # e.g. a batch of empty sentences
            return states.new_zeros(states.size(0), 0, states.size(-1))
        starts, ends = spans[..., 0].clamp(min=0), spans[..., 1].clamp(min=0)
        nonempty = (ends > starts).unsqueeze(-1)
        # An empty range may start at the sequence's end: pool one valid position instead (zeroed).
        starts = starts.clamp(max=states.size(1) - 1)
        return self.pool(states, starts, torch.where(nonempty.squeeze(-1), ends, starts + 1)) * nonempty

    def pool(self, states: torch.Tensor, starts: torch.LongTensor, ends: torch.LongTensor):
        """Pools over `[starts, ends)`, every range non-empty."""
        raise NotImplementedError


@SpanPooler.register("sum")
class SumPooler(SpanPooler):
    """Differences of prefix sums: O(length x dim) memory whatever the number of spans."""

    def pool(self, states, starts, ends):
        prefix = torch.cat([torch.zeros_like(states[:, :1]), states.cumsum(dim=1)], dim=1)
        return batched_index_select(prefix, ends) - batched_index_select(prefix, starts)


@SpanPooler.register("mean")
class MeanPooler(SumPooler):
    def pool(self, states, starts, ends):
        return super().pool(states, starts, ends) / (ends - starts).unsqueeze(-1).to(states.dtype)


@SpanPooler.register("max")
class MaxPooler(SpanPooler):
    """Range maximum from a sparse table: level k holds the max over 2^k positions from each start,
    so any range is the max of two overlapping power-of-two blocks. Memory is
    O(length x log(widest range) x dim), independent of the number of spans."""

    def pool(self, states, starts, ends):
        length = states.size(1)
        # Only the levels the widest range needs: entity spans are far shorter than sentences.
        widest = int((ends - starts).max())
        levels = [states]
        while (2 << (len(levels) - 1)) <= widest:
            previous, step = levels[-1], 1 << (len(levels) - 1)
            block_max = torch.maximum(previous[:, :-step], previous[:, step:])
            # Pad to full length so the levels stack; the padding is never inside a valid range.
            levels.append(torch.cat([block_max, previous[:, -step:]], dim=1))
        # [batch, levels * length, dim]: level k of position i is row k * length + i.
        table = torch.stack(levels, dim=1).flatten(1, 2)
        # floor(log2(width)), exact: frexp writes width = mantissa * 2^exponent, mantissa in [0.5, 1).
        log_width = torch.frexp((ends - starts).to(torch.float32)).exponent.long() - 1
        # index_select (inside batched_index_select) has a much cheaper backward than indexing.
        left = batched_index_select(table, log_width * length + starts)
        right = batched_index_select(table, log_width * length + ends - (1 << log_width))
        return torch.maximum(left, right)
