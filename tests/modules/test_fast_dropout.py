import pytest
import torch

from sinet_allen.modules.fast_dropout import FastDropout, random_bits, use_fast_dropout


def test_random_bits_are_uniform_over_int16():
    bits = random_bits(torch.Size([400, 1000]), torch.device("cpu"))
    assert bits.shape == (400, 1000) and bits.dtype == torch.int16
    counts = torch.bincount(((bits.long() + 2**15) // 2**12).flatten(), minlength=16).float()
    # 16 bins of 25,000 expected draws each: a binomial standard deviation is about 150.
    assert (counts - 25_000).abs().max() < 1_000
    assert bits.min() < -32_000 and bits.max() > 32_000


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_drops_a_fraction_p_and_keeps_the_expectation(p):
    torch.manual_seed(0)
    dropout = FastDropout(p)
    inputs = torch.ones(1000, 1000, requires_grad=True)
    outputs = dropout(inputs)
    kept = outputs != 0
    assert kept.float().mean().item() == pytest.approx(1 - p, abs=0.003)
    assert outputs.mean().item() == pytest.approx(1.0, abs=0.005)
    assert torch.allclose(outputs[kept], torch.tensor(1 / (1 - p)), rtol=1e-4)
    outputs.sum().backward()
    assert torch.equal(inputs.grad, outputs.detach())  # the gradient goes through the kept elements only


def test_masks_differ_between_calls_and_follow_the_torch_seed():
    inputs = torch.ones(64, 64)
    dropout = FastDropout(0.3)
    torch.manual_seed(1)
    first, second = dropout(inputs), dropout(inputs)
    torch.manual_seed(1)
    assert not torch.equal(first, second) and torch.equal(dropout(inputs), first)


def test_identity_in_evaluation():
    inputs = torch.randn(8, 8)
    dropout = FastDropout(0.5).eval()
    assert torch.equal(dropout(inputs), inputs)


def test_replaces_every_plain_dropout_with_the_same_probability():
    model = torch.nn.Sequential(torch.nn.Dropout(0.2), torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.4)),
                                torch.nn.AlphaDropout(0.3))
    use_fast_dropout(model)
    assert type(model[0]) is FastDropout and model[0].p == 0.2
    assert type(model[1][1]) is FastDropout and model[1][1].p == 0.4
    assert type(model[2]) is torch.nn.AlphaDropout  # a different kind of dropout is left alone
