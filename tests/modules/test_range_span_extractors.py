"""The range span extractors (max / sum / mean) against AllenNLP's `max_pooling` extractor and a
brute-force loop over the spans, gradients included."""
import pytest
import torch
from allennlp.common import Params
from allennlp.modules.span_extractors import MaxPoolingSpanExtractor, SpanExtractor

from sinet_allen.modules.range_span_extractors import (
    RangeMaxSpanExtractor,
    RangeMeanSpanExtractor,
    RangeSumSpanExtractor,
)

DIM = 5
EXTRACTORS = {"range_max": RangeMaxSpanExtractor, "range_sum": RangeSumSpanExtractor,
              "range_mean": RangeMeanSpanExtractor}
REDUCE = {"range_max": lambda x: x.max(0).values, "range_sum": lambda x: x.sum(0),
          "range_mean": lambda x: x.mean(0)}


def extract(name, states, spans, span_mask=None):
    return EXTRACTORS[name](states.size(-1))(states, spans, span_indices_mask=span_mask)


def brute_force(name: str, states: torch.Tensor, spans: torch.LongTensor, span_mask=None) -> torch.Tensor:
    """One span at a time over inclusive `[start, end]`; an empty (end < start), padding (-1) or
    masked span gives zeros."""
    batch, num_spans, _ = spans.shape
    rows = []
    for b in range(batch):
        pooled = []
        for s in range(num_spans):
            start, end = (int(v) for v in spans[b, s])
            if end >= start >= 0 and (span_mask is None or span_mask[b, s]):
                pooled.append(REDUCE[name](states[b, start : end + 1]))
            else:
                pooled.append(states.new_zeros(states.size(-1)))
        rows.append(torch.stack(pooled) if pooled else states.new_zeros(0, states.size(-1)))
    return torch.stack(rows)


def random_spans(generator: torch.Generator, batch: int, length: int, count: int) -> torch.LongTensor:
    """Random inclusive spans over the whole sequence, including empty (end < start) ones."""
    starts = torch.randint(0, length, (batch, count), generator=generator)
    ends = torch.randint(-1, length, (batch, count), generator=generator)
    return torch.stack([starts, ends], -1)


# Hand-picked inclusive spans: single positions at both ends, the whole sequence, touching
# neighbours ([2, 4] and [5, 8]), empty ([4, 3], [0, -1], [11, 10]) and padding (-1, -1).
EDGE_SPANS = [(0, 0), (10, 10), (0, 10), (2, 4), (5, 8), (4, 3), (6, 2), (-1, -1), (0, -1), (11, 10)]


@pytest.mark.parametrize("length", [1, 2, 3, 7, 8, 9, 16, 33])
def test_range_max_equals_allennlp_max_pooling(length):
    generator = torch.Generator().manual_seed(length)
    states = torch.randn(3, length, DIM, generator=generator, dtype=torch.float64)
    starts = torch.randint(0, length, (3, 40), generator=generator)
    widths = (torch.rand(3, 40, generator=generator) * (length - starts)).long()
    spans = torch.stack([starts, starts + widths], -1)  # valid spans only: AllenNLP refuses others
    span_mask = torch.rand(3, 40, generator=generator) > 0.2
    expected = MaxPoolingSpanExtractor(DIM)(states, spans, span_indices_mask=span_mask)
    torch.testing.assert_close(extract("range_max", states, spans, span_mask), expected)


@pytest.mark.parametrize("name", sorted(EXTRACTORS))
@pytest.mark.parametrize("length", [1, 2, 3, 7, 8, 9, 11, 16, 33])
def test_extractor_equals_brute_force_on_random_spans(name, length):
    generator = torch.Generator().manual_seed(length)
    states = torch.randn(3, length, DIM, generator=generator, dtype=torch.float64)
    spans = random_spans(generator, 3, length, 40)
    span_mask = torch.rand(3, 40, generator=generator) > 0.2
    torch.testing.assert_close(extract(name, states, spans), brute_force(name, states, spans))
    torch.testing.assert_close(extract(name, states, spans, span_mask),
                               brute_force(name, states, spans, span_mask))


@pytest.mark.parametrize("name", sorted(EXTRACTORS))
def test_extractor_on_edge_spans(name):
    states = torch.randn(2, 11, 4, dtype=torch.float64)
    spans = torch.tensor([EDGE_SPANS, EDGE_SPANS[::-1]])
    pooled = extract(name, states, spans)
    torch.testing.assert_close(pooled, brute_force(name, states, spans))
    empty = [index for index, (start, end) in enumerate(EDGE_SPANS) if end < start or start < 0]
    assert (pooled[0, empty] == 0).all()
    # A one-position span is that position, whatever the pooling.
    torch.testing.assert_close(pooled[0, 0], states[0, 0])
    torch.testing.assert_close(pooled[0, 1], states[0, 10])


@pytest.mark.parametrize("name", sorted(EXTRACTORS))
def test_max_of_negative_states_is_not_clipped_at_zero(name):
    # All states negative: the max of a non-empty span must be negative, not the zero of padding.
    states = -torch.rand(1, 6, 3, dtype=torch.float64) - 1
    spans = torch.tensor([[(1, 3), (0, 5), (5, 5)]])
    pooled = extract(name, states, spans)
    assert (pooled < 0).all()
    torch.testing.assert_close(pooled, brute_force(name, states, spans))


@pytest.mark.parametrize("name", sorted(EXTRACTORS))
def test_gradients_equal_brute_force(name):
    generator = torch.Generator().manual_seed(7)
    states = torch.randn(2, 13, 6, generator=generator, dtype=torch.float64, requires_grad=True)
    spans = torch.cat([random_spans(generator, 2, 13, 30), torch.tensor([EDGE_SPANS] * 2)], 1)
    span_mask = torch.rand(2, spans.size(1), generator=generator) > 0.2
    weights = torch.randn(2, spans.size(1), 6, generator=generator, dtype=torch.float64)

    (gradient,) = torch.autograd.grad((extract(name, states, spans, span_mask) * weights).sum(), states)
    (expected,) = torch.autograd.grad((brute_force(name, states, spans, span_mask) * weights).sum(), states)
    torch.testing.assert_close(gradient, expected)


@pytest.mark.parametrize("name", sorted(EXTRACTORS))
def test_no_spans_and_shapes(name):
    states = torch.randn(2, 5, 3)
    assert extract(name, states, torch.zeros(2, 0, 2, dtype=torch.long)).shape == (2, 0, 3)
    assert extract(name, states, torch.tensor([[(0, 1)] * 4] * 2)).shape == (2, 4, 3)


@pytest.mark.parametrize("name", sorted(EXTRACTORS))
def test_built_from_config_with_the_input_size(name):
    extractor = SpanExtractor.from_params(Params({"type": name, "input_dim": 7}))
    assert type(extractor) is EXTRACTORS[name]
    assert extractor.get_input_dim() == extractor.get_output_dim() == 7
    assert not list(extractor.parameters())  # old archives keep their state-dict keys
