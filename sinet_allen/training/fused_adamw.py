"""AdamW with PyTorch's fused kernel: one pass over all parameters per step."""
import math
from typing import Any, Dict, List, Tuple

import torch
from allennlp.training.optimizers import Optimizer, make_parameter_groups


@Optimizer.register("fused_adamw")
class FusedAdamW(Optimizer, torch.optim.AdamW):
    """AdamW with decoupled weight decay, fused: with a small encoder and small batches the
    per-tensor update loops of AllenNLP's `adamw` and `huggingface_adamw` take up to half of a
    CPU training step.

    `bias_correction: false` gives the update of BERT's original optimizer, which SpERT and the
    SINET authors' code use (`correct_bias=False`): `m / (sqrt(v) + eps)` without Adam's bias
    correction, a step up to about 3x larger early in training. It equals the corrected step scaled
    by `(1 - beta1^t) / sqrt(1 - beta2^t)` with eps divided by `sqrt(1 - beta2^t)`, so each step runs
    the fused kernel with the learning rate scaled by that factor, eps divided as said and the weight
    decay divided by the factor (the decay stays `lr * weight_decay`, as in BERT's optimizer).
    BERT's optimizer and `transformers.AdamW` default to eps 1e-6, which the configs set; the
    default here is PyTorch's 1e-8.

    Registered as an `Optimizer` with name "fused_adamw".

    # Parameters

    model_parameters : `List[Tuple[str, torch.nn.Parameter]]`
        Given by the trainer: the model's named parameters.
    parameter_groups : `List[Tuple[List[str], Dict[str, Any]]]`, optional (default = `None`)
        AllenNLP's parameter groups: regexes over parameter names and the settings that differ for
        them (e.g. `{"weight_decay": 0}` for biases and LayerNorm weights).
    lr : `float`, optional (default = `1e-3`)
        The learning rate.
    betas : `Tuple[float, float]`, optional (default = `(0.9, 0.999)`)
        The decay rates of the first and second moment estimates.
    eps : `float`, optional (default = `1e-8`)
        Added to the square root of the second moment; with `bias_correction: false` exactly as BERT's
        optimizer adds it.
    weight_decay : `float`, optional (default = `0.01`)
        Decoupled weight decay: every step takes `lr * weight_decay` of each weight away.
    bias_correction : `bool`, optional (default = `True`)
        Adam's bias correction of the moment estimates; `false` gives BERT's (and the SINET
        authors') update.
    """

    def __init__(
        self,
        model_parameters: List[Tuple[str, torch.nn.Parameter]],
        parameter_groups: List[Tuple[List[str], Dict[str, Any]]] = None,
        lr: float = 1e-3,
        betas: Tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
        bias_correction: bool = True,
    ) -> None:
        super().__init__(
            params=make_parameter_groups(model_parameters, parameter_groups),
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, fused=True,
        )
        self.bias_correction = bias_correction

    @torch.no_grad()
    def step(self, closure=None):
        if self.bias_correction:
            return super().step(closure)
        saved = [{key: group[key] for key in ("lr", "eps", "weight_decay")} for group in self.param_groups]
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            step = self._next_step(group)
            second_moment_correction = math.sqrt(1 - beta2**step)
            scale = (1 - beta1**step) / second_moment_correction
            group["lr"] *= scale
            group["eps"] /= second_moment_correction
            group["weight_decay"] /= scale
        try:
            return super().step(closure)
        finally:
            for group, values in zip(self.param_groups, saved):
                group.update(values)

    def _next_step(self, group: Dict[str, Any]) -> int:
        """The number of the step about to be taken (restored with the state on `--recover`)."""
        for parameter in group["params"]:
            state = self.state.get(parameter)
            if state and "step" in state:
                return int(state["step"]) + 1
        return 1
