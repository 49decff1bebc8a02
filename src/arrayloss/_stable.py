"""Numerically stable building blocks, written once against the array API standard.

The standard has no ``softplus``, ``sigmoid``, ``logsumexp``, ``log_softmax`` or ``xlogy``;
the versions some namespaces add (``torch.logsumexp`` behind array-api-compat) exist on one
backend only. These are exact in float32 for arguments of +-1e4 and give finite gradients
everywhere autodiff can reach, including the branch a ``where`` did not take.
"""

from __future__ import annotations

import math
from typing import Any

import array_api_compat

__all__ = [
    "absolute",
    "log1mexp",
    "log_probability",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "one_hot_like",
    "positive_part",
    "reduce_max",
    "safe_divide",
    "safe_sqrt",
    "sigmoid",
    "softplus",
    "xlogy",
]

# PyTorch's floor for log(0) in binary_cross_entropy: finite, and far below the log of any
# representable positive float32 (log(1.4e-45) = -103.3 is still clamped, which keeps
# float32 and float64 results identical at exact 0).
LOG_FLOOR = -100.0


def softplus(x: Any) -> Any:
    """``log(1 + exp(x))`` without overflow: ``logaddexp(x, 0)``.

    ``logaddexp`` subtracts the larger argument before exponentiating, so ``x = 1e4``
    gives ``1e4`` (not inf) and ``x = -1e4`` gives ``exp(-1e4) = 0`` (not ``log(1) - ...``
    cancellation); its derivative, ``sigmoid(x)``, is finite on the whole line.
    """
    xp = _namespace(x)
    return xp.logaddexp(x, xp.zeros_like(x))


def log_sigmoid(x: Any) -> Any:
    """``log(sigmoid(x)) = -softplus(-x)``: ``-1e4`` for ``x = -1e4`` instead of ``log(0)``."""
    return -softplus(-x)


def sigmoid(x: Any) -> Any:
    """``1 / (1 + exp(-x))`` as ``exp(log_sigmoid(x))``.

    The direct formula's gradient is ``inf/inf = NaN`` once ``exp(-x)`` overflows; through
    the log it is ``sigmoid(x)·sigmoid(-x)``, finite everywhere.
    """
    xp = _namespace(x)
    return xp.exp(log_sigmoid(x))


def logsumexp(x: Any, /, *, axis: int | tuple[int, ...], keepdims: bool = False) -> Any:
    """``log(Σ exp(x))`` over ``axis``, with the max shift.

    Subtracting the maximum ``m`` makes every exponent ``≤ 0``, so nothing overflows and
    the largest term is exactly 1 (no underflow of the whole sum). A row whose maximum is
    not finite (all ``-inf``: a fully masked row) is shifted by 0 instead, so it yields
    ``-inf`` rather than ``-inf - (-inf) = NaN``. The gradient through ``m`` cancels
    exactly: ``d/dx [m + log Σ exp(x - m)]`` is ``softmax(x)`` whatever ``m`` is.
    """
    xp = _namespace(x)
    shift = reduce_max(x, axis=axis, keepdims=True)
    shift = xp.where(xp.isfinite(shift), shift, xp.zeros_like(shift))
    total = xp.sum(xp.exp(x - shift), axis=axis, keepdims=True)
    out = xp.log(total) + shift
    if not keepdims:
        out = xp.squeeze(out, axis=axis)
    return out


def reduce_max(x: Any, /, *, axis: int | tuple[int, ...], keepdims: bool = False) -> Any:
    """``max(x, axis)`` that also works on an empty batch on Dask.

    Dask's chunked ``max`` fails on zero-size chunks ("zero-size array to reduction
    operation maximum") even when only another axis is empty and the result is simply
    empty. A zero in the (static) shape outside ``axis`` means an empty result: ``sum``
    gives it with the right shape and dtype on every backend. An empty ``axis`` itself
    still has no maximum and raises, as everywhere.
    """
    xp = _namespace(x)
    axes = axis if isinstance(axis, tuple) else (axis,)
    kept = [n for i, n in enumerate(x.shape) if i not in {a % x.ndim for a in axes}]
    if 0 in kept:
        return xp.sum(x, axis=axis, keepdims=keepdims)
    return xp.max(x, axis=axis, keepdims=keepdims)


def log_softmax(x: Any, /, *, axis: int) -> Any:
    """``x - logsumexp(x)`` over ``axis``: exact for logits of ``±1e4``."""
    return x - logsumexp(x, axis=axis, keepdims=True)


def xlogy(x: Any, y: Any) -> Any:
    """``x·log(y)``, defined as 0 where ``x == 0`` (so ``p·log p = 0`` at ``p = 0``).

    The double ``where``: the inner one replaces ``y`` by 1 where ``x == 0`` so that
    ``log(y)`` is finite there; otherwise ``log(0) = -inf`` would make the untaken branch's
    gradient ``0·inf = NaN``, which the outer ``where`` alone does not stop.
    """
    xp = _namespace(x)
    is_zero = x == 0
    safe_y = xp.where(is_zero, xp.ones_like(y), y)
    return xp.where(is_zero, xp.zeros_like(x), x * xp.log(safe_y))


# PyTorch's binary_cross_entropy divides its gradient by max(p·(1 - p), 1e-12): the slope
# of the log below its floor, so that a prediction of exactly 0 still learns.
LOG_FLOOR_SLOPE = 1e12


def log_probability(p: Any) -> Any:
    """``log(p)`` of a probability, floored at -100 as PyTorch's ``binary_cross_entropy``
    does, with a nonzero gradient at the floor.

    Where the exact log is below -100 (``p < 3.7e-44``, including ``p = 0``), the value is
    ``-100 + 1e12·p``: -100 up to ``4e-32``, so the loss equals PyTorch's, while the slope
    1e12 (PyTorch's ``binary_cross_entropy`` gradient there) keeps a confidently wrong
    prediction of exactly 0 learning in the right direction; a plain clamp would give it a
    zero gradient. The double ``where`` keeps ``1/p = inf`` of the
    untaken branch out of the backward pass.
    """
    xp = _namespace(p)
    tiny = p <= 0
    safe_p = xp.where(tiny, xp.ones_like(p), p)
    log_p = xp.log(safe_p)
    floored = tiny | (log_p < LOG_FLOOR)
    return xp.where(floored, LOG_FLOOR + LOG_FLOOR_SLOPE * p, log_p)


def log1mexp(x: Any) -> Any:
    """``log(1 - exp(x))`` for ``x ≤ 0``: the log of the complement of a probability
    given by its log.

    Two forms, each exact where the other loses digits (Mächler, 2012): ``log(-expm1(x))``
    near 0, where ``1 - exp(x)`` cancels, and ``log1p(-exp(x))`` below ``-log 2``, where
    ``exp(x)`` is small. At ``x = 0`` the value is ``-inf`` (the complement is exactly 0),
    and a double ``where`` replaces ``x`` there by -1 first so the untaken branch's
    gradient ``exp(x)/expm1(x) = 1/0`` never reaches the backward pass.
    """
    xp = _namespace(x)
    inside = x < 0
    safe_x = xp.where(inside, x, -xp.ones_like(x))
    near_zero = safe_x > -0.6931471805599453  # -log 2
    # Each branch gets an argument where it is finite, so neither gradient is NaN.
    value = xp.where(
        near_zero,
        xp.log(-xp.expm1(xp.where(near_zero, safe_x, -xp.ones_like(x)))),
        xp.log1p(-xp.exp(xp.where(near_zero, -xp.ones_like(x), safe_x))),
    )
    # Exactly 0 gives -inf; a positive x (no probability) or NaN gives NaN.
    outside = xp.where(x == 0, xp.full_like(x, -math.inf), xp.full_like(x, math.nan))
    return xp.where(inside, value, outside)


def absolute(x: Any) -> Any:
    """``abs(x)`` with the subgradient +1 at 0 on every backend.

    ``abs'(0)`` is 0 in PyTorch and 1 in JAX, and ``clip``/``maximum`` split ties
    differently too; a ``where`` has one derivative everywhere, so every backend (and the
    closed-form gradients) agree at the kink. +1 is ``jax.grad(jnp.abs)(0.0)``.
    """
    xp = _namespace(x)
    return xp.where(x < 0, -x, x)


def positive_part(x: Any) -> Any:
    """``max(x, 0)`` with the subgradient 0 at 0 on every backend (ReLU's convention)."""
    xp = _namespace(x)
    return xp.where(x > 0, x, xp.zeros_like(x))


def safe_sqrt(x: Any) -> Any:
    """``sqrt(x)`` with gradient 0 instead of ``inf`` at ``x = 0`` (a norm of a zero vector)."""
    xp = _namespace(x)
    positive = x > 0
    return xp.where(positive, xp.sqrt(xp.where(positive, x, xp.ones_like(x))), xp.zeros_like(x))


def safe_divide(numerator: Any, denominator: Any) -> Any:
    """``numerator / denominator``, 0 where the denominator is 0 (double ``where``)."""
    xp = _namespace(numerator)
    zero = denominator == 0
    safe = xp.where(zero, xp.ones_like(denominator), denominator)
    return xp.where(zero, xp.zeros_like(numerator), numerator / safe)


def one_hot_like(labels: Any, scores: Any, *, axis: int) -> Any:
    """``labels == c`` along ``axis`` of ``scores``, as ``scores``'s dtype.

    ``labels`` has ``scores``'s shape with a length-1 ``axis`` and an integer dtype. The
    comparison against ``arange(C)`` is traceable (no gather, no data-dependent shape) and
    runs on Dask, whose namespace has no ``take_along_axis``. A label outside ``[0, C)``
    gives an all-zero row; callers turn that into NaN (SPEC section 6).
    """
    xp = _namespace(scores)
    num_classes = scores.shape[axis]
    shape = [1] * scores.ndim
    shape[axis] = num_classes
    classes = xp.reshape(
        xp.arange(num_classes, dtype=labels.dtype, device=_device(labels)), tuple(shape)
    )
    return xp.astype(labels == classes, scores.dtype)


_namespace = array_api_compat.array_namespace
_device = array_api_compat.device
