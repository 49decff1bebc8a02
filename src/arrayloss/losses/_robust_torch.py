"""The ``torch.autograd.Function`` of a robust loss's kernel (``robust.py``).

Imported only once a torch tensor is passed, so ``import arrayloss`` never imports torch;
a class at module level, as ``core/_torch_functions.py`` explains.
"""

from __future__ import annotations

import math
from typing import Any

import torch  # ok: this module is imported only for torch tensors

__all__ = ["MeanLogCosh"]


class MeanLogCosh(torch.autograd.Function):
    r"""The mean of ``log cosh(ŷ - y)`` with its closed-form backward, ``tanh(ŷ - y)``.

    The forward is the formula of ``robust.log_cosh`` (``|e| + log1p(exp(-|e|)²) - log 2``),
    formed in place without an autograd graph; the backward is its derivative, one
    ``tanh`` and one scale, where autograd through the formula's six operations costs
    twice ``log(cosh(e))``'s own. Where a graph of the backward is recorded (double
    backward) the derivative is built from the saved inputs, so its own derivative,
    ``1 - tanh²``, flows."""

    @staticmethod
    def forward(ctx: Any, y_true: Any, y_pred: Any) -> Any:
        error = y_pred - y_true
        ctx.save_for_backward(y_true, y_pred, error)
        size = error.abs()
        # softplus(-2|e|) as log1p(exp(-|e|)²), as in the formula (no overflow of -2|e|).
        values = torch.neg(size).exp_().square_().log1p_().add_(size).sub_(math.log(2.0))
        return values.mean()

    @staticmethod
    def backward(ctx: Any, *cotangents: Any) -> Any:
        (cotangent,) = cotangents
        y_true, y_pred, error = ctx.saved_tensors
        scale = cotangent / error.numel()
        if torch.is_grad_enabled():
            d_pred = torch.tanh(y_pred - y_true) * scale
        else:
            d_pred = torch.tanh(error).mul_(scale)
        want_true, want_pred = ctx.needs_input_grad
        return (-d_pred if want_true else None), (d_pred if want_pred else None)
