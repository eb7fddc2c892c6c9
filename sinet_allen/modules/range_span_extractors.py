"""Max, sum and mean over spans as AllenNLP `SpanExtractor`s, without a spans x width x dim tensor.

AllenNLP's `max_pooling` extractor gathers every span's positions (spans x widest span x dim),
which the context between two spans of a long sentence makes large. These extractors need
O(length x dim) memory whatever the number of spans: prefix sums for sum and mean, a sparse table
for max. The model uses them twice: over entity spans, and over the local context between spans.
"""
import torch
from allennlp.modules.span_extractors import SpanExtractor
from allennlp.nn.util import batched_index_select


class RangeSpanExtractor(SpanExtractor):
    """Pools the states of each span `[start, end]` (inclusive ends, AllenNLP's convention) into
    one vector of the input size. A span masked by `span_indices_mask`, or an empty one (end before
    start), gives zeros; its indices may be anything, padding's -1 included. `sequence_mask` is not
    needed: the spans lie inside the sequence.

    # Parameters

    input_dim : `int`, required.
        The last dimension of the sequence tensor, which is also the output size.
    """

    def __init__(self, input_dim: int) -> None:
        super().__init__()
        self._input_dim = input_dim

    def get_input_dim(self) -> int:
        return self._input_dim

    def get_output_dim(self) -> int:
        return self._input_dim

    def forward(
        self,
        sequence_tensor: torch.FloatTensor,
        span_indices: torch.LongTensor,
        sequence_mask: torch.BoolTensor = None,
        span_indices_mask: torch.BoolTensor = None,
    ) -> torch.FloatTensor:
        if span_indices.size(1) == 0:  # e.g. a batch of empty sentences
            return sequence_tensor.new_zeros(sequence_tensor.size(0), 0, self._input_dim)
        starts, ends = span_indices[..., 0].clamp(min=0), span_indices[..., 1].clamp(min=-1) + 1  # [start, end)
        nonempty = ends > starts
        if span_indices_mask is not None:
            nonempty = nonempty & span_indices_mask
        # An empty range may start at the sequence's end: pool one valid position instead (zeroed).
        starts = starts.clamp(max=sequence_tensor.size(1) - 1)
        ends = torch.where(nonempty, ends, starts + 1)
        return self.pool(sequence_tensor, starts, ends) * nonempty.unsqueeze(-1)

    def pool(self, states: torch.Tensor, starts: torch.LongTensor, ends: torch.LongTensor) -> torch.Tensor:
        """Pools `states [batch, length, dim]` over the non-empty ranges `[starts, ends)`."""
        raise NotImplementedError


@SpanExtractor.register("range_sum")
class RangeSumSpanExtractor(RangeSpanExtractor):
    """The sum over each span, from differences of prefix sums.

    Registered as a `SpanExtractor` with name "range_sum".

    # Parameters

    input_dim : `int`, required.
        The last dimension of the sequence tensor, which is also the output size.
    """

    def pool(self, states, starts, ends):
        prefix = torch.cat([torch.zeros_like(states[:, :1]), states.cumsum(dim=1)], dim=1)
        return batched_index_select(prefix, ends) - batched_index_select(prefix, starts)


@SpanExtractor.register("range_mean")
class RangeMeanSpanExtractor(RangeSumSpanExtractor):
    """The mean over each span, from differences of prefix sums.

    Registered as a `SpanExtractor` with name "range_mean".

    # Parameters

    input_dim : `int`, required.
        The last dimension of the sequence tensor, which is also the output size.
    """

    def pool(self, states, starts, ends):
        return super().pool(states, starts, ends) / (ends - starts).unsqueeze(-1).to(states.dtype)


@SpanExtractor.register("range_max")
class RangeMaxSpanExtractor(RangeSpanExtractor):
    """The dimension-wise maximum over each span (what AllenNLP's `max_pooling` computes), from a
    sparse table: level k holds the max over 2^k positions from each start, so any range is the
    max of two overlapping power-of-two blocks. Memory is O(length x log(widest span) x dim).

    Registered as a `SpanExtractor` with name "range_max".

    # Parameters

    input_dim : `int`, required.
        The last dimension of the sequence tensor, which is also the output size.
    """

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
