"""The int8 encoder behind `inference_precision: "int8"`: a copy of the encoder whose chosen Linear
layers multiply in int8 on the CPU.

Weights are quantised once, symmetrically, with one scale per output feature (per channel). Inputs
are quantised on every call with one scale per token (per row), from that token's own largest
absolute value, so a token's result depends on nothing else in the batch: the integer products are
exact, and the scaling after them is elementwise. (PyTorch's `quantize_dynamic` takes one scale for
the whole batch, so there a sentence's output changes with its batch-mates, and one outlier token
coarsens every other.) `Int8Recipe` says which layers are quantised; `RECIPES` are the ones the
benchmark measured (scripts/benchmark_int8.py), `DEFAULT_RECIPE` the one the models use.
"""
import copy
import re
from dataclasses import dataclass
from typing import Dict, Iterator, Tuple

import torch

INT8_MAX = 127
SMALLEST_SCALE = 1e-12  # an all-zero row (padding) quantises to zeros rather than dividing by zero


class Int8Linear(torch.nn.Module):
    """A `torch.nn.Linear` with int8 weights (a scale per output feature) applied to inputs
    quantised to int8 per token; the integer product runs in `torch._int_mm` (int32 sums)."""

    def __init__(self, linear: torch.nn.Linear) -> None:
        super().__init__()
        weight = linear.weight.detach().float()
        scale = weight.abs().amax(dim=1).clamp(min=SMALLEST_SCALE) / INT8_MAX
        quantised = torch.round(weight / scale[:, None]).to(torch.int8)
        # Stored [out, in] and used transposed, the layout the int8 kernel reads fastest.
        self.register_buffer("weight", quantised)
        self.register_buffer("weight_scale", scale)
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().float().clone())
        self.in_features = linear.in_features
        self.out_features = linear.out_features

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        rows = inputs.reshape(-1, self.in_features).float()
        quantised, row_scale = quantise_rows(rows)
        product = torch._int_mm(quantised, self.weight.t()).float()
        output = product * (row_scale * self.weight_scale)
        if self.bias is not None:
            output += self.bias
        return output.reshape(*inputs.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, weights int8 per channel, inputs int8 per token"


def quantise_rows(rows: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """`rows` [n, d] as int8 with one symmetric scale per row, and those scales [n, 1]."""
    scale = rows.abs().amax(dim=1, keepdim=True).clamp(min=SMALLEST_SCALE) / INT8_MAX
    return torch.round(rows / scale).to(torch.int8), scale


@dataclass(frozen=True)
class Int8Recipe:
    """Which of the encoder's Linear layers become `Int8Linear`: every one whose qualified name
    (as `named_modules` gives it) matches none of `keep_float`, a tuple of regular expressions.

    # Parameters

    name : `str`
        How the benchmark and the docs call it.
    keep_float : `Tuple[str, ...]`, optional (default = `()`)
        Patterns (`re.search`) of the layers that stay float32.
    """

    name: str
    keep_float: Tuple[str, ...] = ()

    def quantises(self, module_name: str) -> bool:
        return not any(re.search(pattern, module_name) for pattern in self.keep_float)


ATTENTION_PROJECTIONS = r"attention\.self\.(query|key|value)$"
ATTENTION_OUTPUT = r"attention\.output\.dense$"
FEED_FORWARD_OUTPUT = r"(?<!attention\.)output\.dense$"  # the second feed-forward layer, not the attention's output


def last_layer(count: int) -> str:
    """A pattern for the Linear layers of the encoder's last layer among `count` (BERT naming)."""
    return rf"layer\.{count - 1}\."


RECIPES: Dict[str, Int8Recipe] = {
    recipe.name: recipe for recipe in (
        Int8Recipe("all_linear"),
        Int8Recipe("feed_forward_only", (ATTENTION_PROJECTIONS, ATTENTION_OUTPUT)),
        Int8Recipe("attention_float", (ATTENTION_PROJECTIONS,)),
        Int8Recipe("feed_forward_output_float", (FEED_FORWARD_OUTPUT,)),
        Int8Recipe("last_layer_float", (last_layer(6),)),
    )
}
DEFAULT_RECIPE = RECIPES["all_linear"]


def quantised_linears(module: torch.nn.Module, recipe: Int8Recipe) -> Iterator[Tuple[str, torch.nn.Linear]]:
    """The qualified names and layers of `module`'s Linear layers that `recipe` quantises."""
    for name, child in module.named_modules():
        if isinstance(child, torch.nn.Linear) and recipe.quantises(name):
            yield name, child


def int8_copy(encoder: torch.nn.Module, recipe: Int8Recipe = DEFAULT_RECIPE) -> torch.nn.Module:
    """A copy of `encoder` (on the CPU) with the Linear layers `recipe` picks replaced by
    `Int8Linear`; the encoder itself is left as it is."""
    if any(parameter.device.type != "cpu" for parameter in encoder.parameters()):
        raise ValueError("inference_precision 'int8' runs on the CPU only; load the model with cuda_device -1")
    quantised = copy.deepcopy(encoder)
    for name, linear in list(quantised_linears(quantised, recipe)):
        parent_name, _, attribute = name.rpartition(".")
        setattr(quantised.get_submodule(parent_name), attribute, Int8Linear(linear))
    return quantised
