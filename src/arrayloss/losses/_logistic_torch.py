"""The ``torch.autograd.Function``s of the logistic kernels: the binary cross-entropy from
logits (``binary_crossentropy.py``) and the binary focal loss (``focal.py``), each with its
closed-form backward.

Imported only once a torch tensor is passed, so ``import arrayloss`` never imports torch;
a class at module level, as ``core/_torch_functions.py`` explains.
"""

from __future__ import annotations

from typing import Any

import torch  # ok: this module is imported only for torch tensors
from torch.nn import functional  # ok: as above

__all__ = ["MeanBinaryCrossEntropy", "MeanBinaryFocal"]


def _finite(logits: Any) -> Any:
    # native.finite_logits's clamp, inside a Function whose backward is its own.
    largest = torch.finfo(logits.dtype).max
    return logits.clamp(-largest, largest)


class MeanBinaryCrossEntropy(torch.autograd.Function):
    r"""The mean of PyTorch's fused BCE from logits ``z`` (positive weight ``w``, a
    constant), on logits clamped to the finite floats, with its closed-form derivative

    .. math:: \frac{d}{dz}\,\mathrm{BCE} = (1 - y)\,p - w\,y\,q, \quad p = \sigma(z),\;
              q = \sigma(-z)

    (``p - y`` without a weight), the derivative at the largest float being the one at
    infinity. Under ``torch.compile`` the clamp's own backward would be a second pass; here
    the backward is this one expression. Where a graph of the backward is recorded (double
    backward) it is built from the saved logits by differentiable operations.
    """

    @staticmethod
    def forward(ctx: Any, y: Any, logits: Any, pos_weight: Any) -> Any:
        # The input itself is saved (not its clamp, which the graph does not know).
        ctx.save_for_backward(y, logits, *(() if pos_weight is None else (pos_weight,)))
        return functional.binary_cross_entropy_with_logits(_finite(logits), y,
                                                           pos_weight=pos_weight)

    @staticmethod
    def backward(ctx: Any, *cotangents: Any) -> Any:
        (cotangent,) = cotangents
        y, logits, *pos_weight = ctx.saved_tensors
        logits = _finite(logits)
        p = torch.sigmoid(logits)
        if pos_weight:
            slope = (1.0 - y) * p - pos_weight[0] * y * torch.sigmoid(-logits)
        else:
            slope = p - y
        return None, slope * (cotangent / logits.numel()), None


def _parts(y: Any, logits: Any) -> tuple[Any, Any, Any, Any]:
    """``(p, q, m, CE)``: ``sigmoid(±z)``, the modulating ``m = y·q + (1 - y)·p`` (``1 - p_t``
    as a sum of two exact terms) and PyTorch's fused BCE from logits."""
    p, q = torch.sigmoid(logits), torch.sigmoid(-logits)
    mix = y * q + (1.0 - y) * p
    return p, q, mix, functional.binary_cross_entropy_with_logits(logits, y, reduction="none")


class MeanBinaryFocal(torch.autograd.Function):
    r"""The mean of ``a·m^γ·CE`` from logits ``z`` with its closed-form derivative.

    .. math:: \frac{d}{dz}\, m^\gamma\,\mathrm{CE} = \gamma\,m^{\gamma - 1}\,(1 - 2y)\,p\,q\,
              \mathrm{CE} + m^\gamma\,(p - y), \quad \gamma \ge 1

    (``dm/dz = (1 - 2y)·p·q`` and ``dCE/dz = p - y``, with the smoothed label ``y`` and the
    class balance ``a``, both constants). Autograd through the forward's operations would
    run twice as many backward passes, and under ``torch.compile`` the fused backward is
    this single expression. The forward saves ``p``, ``q``, ``m`` and ``CE`` for it; where a
    graph of the backward is recorded (double backward) the backward is built from the saved
    logits instead, so its own derivative flows. ``finite`` clamps the logits to the finite
    floats first (``native.finite_logits``: the derivative at the largest float is the one
    at infinity).
    """

    @staticmethod
    def forward(ctx: Any, y: Any, logits: Any, balance: Any, gamma: float,
                finite: bool) -> Any:
        p, q, mix, cross_entropy = _parts(y, _finite(logits) if finite else logits)
        values = (mix if gamma == 1 else mix**gamma) * cross_entropy
        if balance is not None:
            values = balance * values
        ctx.gamma, ctx.finite = gamma, finite
        # The input itself is saved (not its clamp, which the graph does not know).
        ctx.save_for_backward(y, logits, p, q, mix, cross_entropy,
                              *(() if balance is None else (balance,)))
        return values.mean()

    @staticmethod
    def backward(ctx: Any, *cotangents: Any) -> Any:
        (cotangent,) = cotangents
        y, logits, p, q, mix, cross_entropy, *balance = ctx.saved_tensors
        if torch.is_grad_enabled():  # double backward: a graph from the logits themselves
            p, q, mix, cross_entropy = _parts(y, _finite(logits) if ctx.finite else logits)
        gamma = ctx.gamma
        # m^(γ-1), and m^γ = m^(γ-1)·m: finite at m = 0 for every γ >= 1.
        power = 1.0 if gamma == 1 else mix if gamma == 2 else mix ** (gamma - 1.0)
        slope = power * (gamma * (1.0 - 2.0 * y) * p * q * cross_entropy + mix * (p - y))
        if balance:
            slope = balance[0] * slope
        return None, slope * (cotangent / logits.numel()), None, None, None
