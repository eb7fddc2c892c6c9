"""The interactive agents as `Seq2VecEncoder`s under the model's sentence mask: AllenNLP's
`cls_pooler` and `boe` (averaged), and our `max_pooler` against brute force."""
import pytest
import torch
from allennlp.common import Params
from allennlp.modules.seq2vec_encoders import Seq2VecEncoder

from sinet_allen.modules.max_pooler import MaxPooler

DIM = 5
AGENTS = {"cls": {"type": "cls_pooler"}, "mean": {"type": "boe", "averaged": True}, "max": {"type": "max_pooler"}}


def agent(name: str) -> Seq2VecEncoder:
    return Seq2VecEncoder.from_params(Params({**AGENTS[name], "embedding_dim": DIM}))


def batch():
    """Three sentences of 4, 1 and 0 wordpieces: [CLS] w.. [SEP] then padding."""
    generator = torch.Generator().manual_seed(0)
    states = torch.randn(3, 6, DIM, generator=generator, dtype=torch.float64)
    sentence_mask = torch.zeros(3, 6, dtype=torch.bool)
    sentence_mask[0, 1:5] = True
    sentence_mask[1, 1:2] = True
    return states, sentence_mask


def test_max_pooler_equals_brute_force_on_random_masks():
    generator = torch.Generator().manual_seed(1)
    states = torch.randn(8, 9, DIM, generator=generator, dtype=torch.float64)
    mask = torch.rand(8, 9, generator=generator) > 0.5
    mask[0] = False  # an empty sentence
    expected = torch.stack([row[keep].max(0).values if keep.any() else row.new_zeros(DIM)
                            for row, keep in zip(states, mask)])
    torch.testing.assert_close(MaxPooler(DIM)(states, mask), expected)
    torch.testing.assert_close(MaxPooler(DIM)(states), states.max(1).values)


def test_cls_is_the_first_state():
    states, mask = batch()
    torch.testing.assert_close(agent("cls")(states, mask), states[:, 0])


@pytest.mark.parametrize("name, reduce", [("max", lambda x: x.max(0).values), ("mean", lambda x: x.mean(0))])
def test_pooling_covers_the_sentence_wordpieces_only(name, reduce):
    states, mask = batch()
    pooled = agent(name)(states, mask)
    torch.testing.assert_close(pooled[0], reduce(states[0, 1:5]))
    torch.testing.assert_close(pooled[1], states[1, 1])
    # Changing [CLS], [SEP] and padding changes nothing.
    changed = torch.where(mask.unsqueeze(-1), states, torch.full_like(states, 1e6))
    torch.testing.assert_close(agent(name)(changed, mask), pooled)


@pytest.mark.parametrize("name", ["max", "mean"])
def test_empty_sentence_gives_zeros_and_finite_gradients(name):
    states, mask = batch()
    states.requires_grad_(True)
    pooled = agent(name)(states, mask)
    assert (pooled[2] == 0).all()
    pooled.sum().backward()
    assert torch.isfinite(states.grad).all()
    assert (states.grad[2] == 0).all()
    assert (states.grad[~mask] == 0).all()


@pytest.mark.parametrize("name", sorted(AGENTS))
def test_output_size_and_no_parameters(name):
    built = agent(name)
    assert built.get_input_dim() == built.get_output_dim() == DIM
    assert not list(built.parameters())  # old archives keep their state-dict keys
    assert type(agent("max")) is MaxPooler
