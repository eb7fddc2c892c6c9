"""The fused AdamW: the same updates as the reference optimizers it replaces."""
import pytest
import torch
import transformers

from sinet_allen.training.fused_adamw import FusedAdamW


def train_pair(reference_optimizer, bias_correction: bool, weight_decay: float = 0.1, eps: float = 1e-8,
               loss_scale: float = 1.0, steps: int = 30):
    torch.manual_seed(0)
    reference, fused = torch.nn.Linear(5, 3), torch.nn.Linear(5, 3)
    fused.load_state_dict(reference.state_dict())
    optimizers = (
        reference_optimizer(reference.parameters()),
        FusedAdamW(list(fused.named_parameters()), lr=1e-2, weight_decay=weight_decay, eps=eps,
                   bias_correction=bias_correction),
    )
    for _ in range(steps):
        inputs = torch.randn(4, 5)
        for model, optimizer in zip((reference, fused), optimizers):
            optimizer.zero_grad()
            (loss_scale * model(inputs).pow(2).sum()).backward()
            optimizer.step()
    return reference, fused, optimizers[1]


def max_difference(first: torch.nn.Module, second: torch.nn.Module) -> float:
    return max((a - b).abs().max().item() for a, b in zip(first.parameters(), second.parameters()))


def test_with_bias_correction_it_is_torch_adamw():
    reference, fused, _ = train_pair(lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=0.1), True)
    assert max_difference(reference, fused) < 1e-6


def berts_adamw(weight_decay: float, eps: float):
    return lambda p: transformers.AdamW(p, lr=1e-2, weight_decay=weight_decay, correct_bias=False, eps=eps)


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_without_bias_correction_it_is_berts_adamw():
    reference, fused, optimizer = train_pair(berts_adamw(0.1, 1e-6), False, eps=1e-6)
    # Equal up to whether weight decay comes before or after the update (second-order in
    # lr * weight_decay: about 3e-4 here, over 30 steps of lr 1e-2).
    assert max_difference(reference, fused) < 1e-3
    # The per-step scaling of the learning rate, eps and weight decay is undone after each step.
    group = optimizer.param_groups[0]
    assert (group["lr"], group["eps"], group["weight_decay"]) == (1e-2, 1e-6, 0.1)


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_without_bias_correction_eps_enters_as_in_berts_adamw():
    # Gradients so small that eps (1e-6, BERT's) dominates the denominator `sqrt(v) + eps`: the
    # update must still match, which adding eps to the bias-corrected sqrt(v) would not.
    reference, fused, _ = train_pair(berts_adamw(0.0, 1e-6), False, weight_decay=0.0, eps=1e-6, loss_scale=1e-7)
    start, _, _ = train_pair(berts_adamw(0.0, 1e-6), False, weight_decay=0.0, eps=1e-6, steps=0)
    assert max_difference(reference, start) > 1e-2  # the parameters did move
    assert max_difference(reference, fused) < 1e-6


def one_step_movement(bias_correction: bool) -> float:
    torch.manual_seed(0)
    model = torch.nn.Linear(5, 3)
    start = [p.clone() for p in model.parameters()]
    optimizer = FusedAdamW(list(model.named_parameters()), lr=1e-2, weight_decay=0.0,
                           bias_correction=bias_correction)
    model(torch.randn(4, 5)).pow(2).sum().backward()
    optimizer.step()
    return sum((p - s).abs().sum().item() for p, s in zip(model.parameters(), start))


def test_the_uncorrected_first_step_is_larger():
    # Step 1 without correction: (1 - 0.9) / sqrt(1 - 0.999) = 3.162 times the corrected step.
    assert one_step_movement(False) == pytest.approx(3.1623 * one_step_movement(True), rel=1e-3)
