"""The int8 encoder behind `inference_precision: "int8"`: a copy of the encoder whose chosen Linear
layers multiply in int8 on the CPU.

Weights are quantised once, symmetrically, with one scale per output feature (per channel). Inputs
are quantised on every call with one scale per token (per row), from that token's own largest
absolute value, so a layer's result for a token depends on nothing else in the batch: the integer
products are exact, and the scaling after them is elementwise. (PyTorch's `quantize_dynamic` takes one scale for
the whole batch, so there a sentence's output changes with its batch-mates, and one outlier token
coarsens every other.) `Int8Recipe` says which layers are quantised; `RECIPES` are the ones the
benchmark measured (scripts/benchmark_int8.py), `DEFAULT_RECIPE` the one the models use.
"""
import copy
import re
from dataclasses import dataclass
from typing import Dict, Iterator, Optional, Tuple

import torch

INT8_MIN, INT8_MAX = -128, 127
INT8_LEVELS = INT8_MAX - INT8_MIN
SYMMETRIC_MAX = 127  # symmetric int8 uses -127..127, so that negation stays representable
SMALLEST_SCALE = 1e-12  # an all-zero row (padding) quantises to zeros rather than dividing by zero
SMALLEST_RANGE = 1e-5  # keeps a smoothing scale finite where a feature or a weight column is all zero


class Int8Linear(torch.nn.Module):
    """A `torch.nn.Linear` with int8 weights (a scale per output feature) applied to inputs
    quantised to int8 per token; the integer product runs in `torch._int_mm` (int32 sums).

    `asymmetric` gives each token a zero point as well as a scale, so that one-sided inputs (GELU's
    output, never below -0.17) use all 256 levels. `input_scale` (per input feature) divides the
    input and multiplies the weight's columns, which leaves the product unchanged but moves the
    range of outlier input features into the weight, where each output feature has its own scale
    (SmoothQuant, Xiao et al. 2023)."""

    def __init__(self, linear: torch.nn.Linear, asymmetric: bool = False,
                 input_scale: Optional[torch.Tensor] = None) -> None:
        super().__init__()
        weight = linear.weight.detach().float()
        if input_scale is not None:
            weight = weight * input_scale
        scale = weight.abs().amax(dim=1).clamp(min=SMALLEST_SCALE) / SYMMETRIC_MAX
        quantised = torch.round(weight / scale[:, None]).to(torch.int8)
        # Stored [out, in] and used transposed, the layout the int8 kernel reads fastest.
        self.register_buffer("weight", quantised)
        self.register_buffer("weight_scale", scale)
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().float().clone())
        self.register_buffer("inverse_input_scale", None if input_scale is None else 1 / input_scale)
        # The weight's row sums turn a product with shifted inputs back into one with the inputs.
        self.register_buffer("weight_sums", quantised.sum(dim=1, dtype=torch.int32) if asymmetric else None)
        self.in_features = linear.in_features
        self.out_features = linear.out_features

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        rows = inputs.reshape(-1, self.in_features).float()
        if self.inverse_input_scale is not None:
            rows = rows * self.inverse_input_scale
        if self.weight_sums is None:
            quantised, row_scale = quantise_rows(rows)
            output = torch._int_mm(quantised, self.weight.t()).float()
        else:
            quantised, row_scale, zero_point = quantise_rows_asymmetric(rows)
            # In integers, exact: a float correction (addr_) rounds differently for a single row.
            output = (torch._int_mm(quantised, self.weight.t()) - zero_point * self.weight_sums).float()
        # In place: each step would otherwise allocate another [tokens, out_features] tensor.
        output.mul_(row_scale).mul_(self.weight_scale)
        if self.bias is not None:
            output.add_(self.bias)
        return output.reshape(*inputs.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        inputs = "asymmetric" if self.weight_sums is not None else "symmetric"
        smoothed = ", smoothed" if self.inverse_input_scale is not None else ""
        return (f"in_features={self.in_features}, out_features={self.out_features}, weights int8 per channel, "
                f"inputs int8 per token ({inputs}{smoothed})")


def quantise_rows(rows: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """`rows` [n, d] as int8 with one symmetric scale per row, and those scales [n, 1]."""
    scale = rows.abs().amax(dim=1, keepdim=True).clamp(min=SMALLEST_SCALE) / SYMMETRIC_MAX
    return (rows / scale).round_().to(torch.int8), scale


def quantise_rows_asymmetric(rows: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`rows` [n, d] as int8 q with a scale s and a zero point z per row ([n, 1] each): the row's
    range [min, max] maps onto [-128, 127], and a value is s * (q - z)."""
    low, high = rows.amin(dim=1, keepdim=True), rows.amax(dim=1, keepdim=True)
    scale = ((high - low) / INT8_LEVELS).clamp(min=SMALLEST_SCALE)
    zero_point = torch.round(INT8_MIN - low / scale)
    quantised = (rows / scale).round_().add_(zero_point).clamp_(INT8_MIN, INT8_MAX).to(torch.int8)
    return quantised, scale, zero_point.to(torch.int32)


@dataclass(frozen=True)
class Int8Recipe:
    """Which of the encoder's Linear layers become `Int8Linear`, and how: every one whose qualified
    name (as `named_modules` gives it) matches none of `keep_float`.

    # Parameters

    name : `str`
        How the benchmark and the docs call it.
    keep_float : `Tuple[str, ...]`, optional (default = `()`)
        Patterns (`re.search`) of the layers that stay float32.
    asymmetric : `bool`, optional (default = `False`)
        Inputs quantised with a zero point per token (`Int8Linear`).
    smoothing : `float`, optional (default = `0.0`)
        The SmoothQuant exponent alpha for the layers fed by a LayerNorm (`LAYER_NORM_FED`); 0 for
        none. Without data, a feature's largest input is estimated from the LayerNorm's affine
        parameters, |gain| + |bias|, whose largest values mark the encoder's outlier features.
    """

    name: str
    keep_float: Tuple[str, ...] = ()
    asymmetric: bool = False
    smoothing: float = 0.0

    def quantises(self, module_name: str) -> bool:
        return not any(re.search(pattern, module_name) for pattern in self.keep_float)


ATTENTION_PROJECTIONS = r"attention\.self\.(query|key|value)$"
VALUE = r"attention\.self\.value$"
ATTENTION_OUTPUT = r"attention\.output\.dense$"
FEED_FORWARD_OUTPUT = r"(?<!attention\.)output\.dense$"  # the second feed-forward layer, not the attention's output
# BERT's layers whose input is a LayerNorm's output: the last one registered before them.
LAYER_NORM_FED = r"attention\.self\.(query|key|value)$|intermediate\.dense$"

RECIPES: Dict[str, Int8Recipe] = {
    recipe.name: recipe for recipe in (
        Int8Recipe("all_linear"),
        Int8Recipe("feed_forward_only", (ATTENTION_PROJECTIONS, ATTENTION_OUTPUT)),
        Int8Recipe("asymmetric", asymmetric=True),
        Int8Recipe("asymmetric_smoothed", asymmetric=True, smoothing=0.5),
        Int8Recipe("asymmetric_smoothed_value_ffn_output_float", (VALUE, FEED_FORWARD_OUTPUT),
                   asymmetric=True, smoothing=0.5),
    )
}
DEFAULT_RECIPE = RECIPES["all_linear"]  # chosen on SciERC dev (benchmarks/int8/summary.json)


def quantised_linears(module: torch.nn.Module, recipe: Int8Recipe
                      ) -> Iterator[Tuple[str, torch.nn.Linear, Optional[torch.nn.LayerNorm]]]:
    """The qualified names of `module`'s Linear layers that `recipe` quantises, the layers, and
    for those in `LAYER_NORM_FED` the LayerNorm that feeds them."""
    layer_norm = None
    for name, child in module.named_modules():
        if isinstance(child, torch.nn.LayerNorm):
            layer_norm = child
        if isinstance(child, torch.nn.Linear) and recipe.quantises(name):
            yield name, child, layer_norm if re.search(LAYER_NORM_FED, name) else None


def smoothing_scale(linear: torch.nn.Linear, layer_norm: torch.nn.LayerNorm, alpha: float) -> torch.Tensor:
    """SmoothQuant's per input feature scale max|x|^alpha / max|w|^(1 - alpha), with max|x|
    estimated from the LayerNorm's gain and bias."""
    input_range = (layer_norm.weight.detach().abs() + layer_norm.bias.detach().abs()).clamp(min=SMALLEST_RANGE)
    weight_range = linear.weight.detach().abs().amax(dim=0).clamp(min=SMALLEST_RANGE)
    return input_range.float() ** alpha / weight_range.float() ** (1 - alpha)


def int8_copy(encoder: torch.nn.Module, recipe: Int8Recipe = DEFAULT_RECIPE) -> torch.nn.Module:
    """A copy of `encoder` (on the CPU) with the Linear layers `recipe` picks replaced by
    `Int8Linear`; the encoder itself is left as it is."""
    if any(parameter.device.type != "cpu" for parameter in encoder.parameters()):
        raise ValueError("inference_precision 'int8' runs on the CPU only; load the model with cuda_device -1")
    quantised = copy.deepcopy(encoder)
    for name, linear, layer_norm in list(quantised_linears(quantised, recipe)):
        input_scale = None
        if recipe.smoothing and layer_norm is not None:
            input_scale = smoothing_scale(linear, layer_norm, recipe.smoothing)
        parent_name, _, attribute = name.rpartition(".")
        setattr(quantised.get_submodule(parent_name), attribute, Int8Linear(linear, recipe.asymmetric, input_scale))
    return quantised
