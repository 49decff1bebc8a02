"""Numerically stable building blocks, written once against the array API standard.

The standard has no ``softplus``, ``sigmoid``, ``logsumexp``, ``log_softmax`` or ``xlogy``;
the versions some namespaces add (``torch.logsumexp`` behind array-api-compat) exist on one
backend only. These are exact in float32 for arguments of +-1e4 and give finite gradients
everywhere autodiff can reach, including the branch a ``where`` did not take.
"""

from __future__ import annotations

import math
from typing import Any

from .autodiff import stop_gradient
from .namespace import device_of, eager_numpy, namespace_name, namespace_of
from .shapes import drop_axes

__all__ = [
    "absolute",
    "absolute_slope",
    "clamp_negative",
    "clip",
    "cumulative_sum",
    "floored",
    "log1mexp",
    "log_probability",
    "log_sigmoid",
    "log_sigmoid_pair",
    "log_softmax",
    "nothing_floored",
    "logsumexp",
    "max_slope",
    "one_hot_like",
    "positive_part",
    "relative_entropy",
    "reduce_max",
    "replace_where",
    "safe_divide",
    "safe_sqrt",
    "sigmoid",
    "softplus",
    "times_log",
    "xlogy",
]

# PyTorch's floor for log(0) in binary_cross_entropy: finite, and far below the log of any
# representable positive float32 (log(1.4e-45) = -103.3 is still clamped, which keeps
# float32 and float64 results identical at exact 0).
LOG_FLOOR = -100.0


def softplus(x: Any) -> Any:
    """``log(1 + exp(x))`` without overflow: ``max(x, 0) + log1p(exp(-|x|))``.

    The exponent ``-|x|`` is never positive, so ``x = 1e4`` gives ``1e4`` (not inf) and
    ``x = -1e4`` gives ``exp(-1e4) = 0`` (not ``log(1) - ...`` cancellation). On the
    autodiff libraries it is their ``logaddexp(x, 0)``, which computes that same form with
    the derivative ``sigmoid(x)`` finite on the whole line (the spelled-out form's kinks at
    0 would need every library's subgradients of ``max`` and ``abs`` to cancel). The others
    need only the value, and the spelled-out form is several times faster than NumPy's
    general two-argument ``logaddexp``.
    """
    xp = _namespace(x)
    if namespace_name(xp) in _AUTODIFF:
        return xp.logaddexp(x, xp.zeros_like(x))
    return xp.maximum(x, xp.zeros_like(x)) + _log1p_exp_minus_abs(xp, x)


def log_sigmoid(x: Any) -> Any:
    """``log(sigmoid(x)) = -softplus(-x)``: ``-1e4`` for ``x = -1e4`` instead of ``log(0)``."""
    return -softplus(-x)


def log_sigmoid_pair(x: Any) -> tuple[Any, Any]:
    """``(log sigmoid(x), log sigmoid(-x))``, the two logs of a binary cross-entropy.

    Both are ``min(±x, 0) - log1p(exp(-|x|))``: without autodiff the shared term is
    computed once (one ``exp`` and one ``log1p`` for the pair). The autodiff libraries
    take :func:`log_sigmoid` of each, for its derivative (see :func:`softplus`).
    """
    xp = _namespace(x)
    if namespace_name(xp) in _AUTODIFF:
        return log_sigmoid(x), log_sigmoid(-x)
    shared = _log1p_exp_minus_abs(xp, x)
    zero = xp.zeros_like(x)
    return xp.minimum(x, zero) - shared, -xp.maximum(x, zero) - shared


def _log1p_exp_minus_abs(xp: Any, x: Any) -> Any:
    # log(1 + e^-|x|) lies in [0, log 2]: e^-|x| <= 1 never overflows, and log1p keeps
    # its digits where e^-|x| is tiny (log(1 + 1e-20) would round to 0).
    return xp.log1p(xp.exp(-xp.abs(x)))


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
    ``-inf`` rather than ``-inf - (-inf) = NaN``. The gradient through ``m`` would cancel
    exactly (``d/dx [m + log Σ exp(x - m)]`` is ``softmax(x)`` whatever ``m`` is), so ``m``
    is held constant for autodiff and the backward pass is the softmax alone.
    """
    xp = _namespace(x)
    # The shift is a constant for autodiff (its gradient would cancel exactly): the
    # backward pass is the softmax alone, without the maximum's.
    shift = stop_gradient(reduce_max(x, axis=axis, keepdims=True))
    shift = xp.where(xp.isfinite(shift), shift, xp.zeros_like(shift))
    total = xp.sum(xp.exp(x - shift), axis=axis, keepdims=True)
    out = xp.log(total) + shift
    if not keepdims:
        out = drop_axes(xp, out, axis)
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


def max_slope(x: Any, /, *, axis: int | tuple[int, ...]) -> Any:
    """The derivative of ``max(x, axis)`` with respect to ``x``: 1 at the maximum, shared
    equally by tied maxima (JAX's rule for ``reduce_max``), 0 elsewhere."""
    xp = _namespace(x)
    ties = xp.astype(x == reduce_max(x, axis=axis, keepdims=True), x.dtype)
    return ties / xp.sum(ties, axis=axis, keepdims=True)


def log_softmax(x: Any, /, *, axis: int) -> Any:
    """``x - logsumexp(x)`` over ``axis``: exact for logits of ``±1e4``."""
    return x - logsumexp(x, axis=axis, keepdims=True)


def xlogy(x: Any, y: Any) -> Any:
    """``x·log(y)``, defined as 0 where ``x == 0`` and ``y`` is 0 or inf (so ``p·log p = 0``
    at ``p = 0``).

    Only where the product is ``0·(±inf)`` is ``y`` replaced by 1 first (a double
    ``where``: ``log(0) = -inf`` would make both the value and the untaken branch's
    gradient NaN). Everywhere else it is the plain product, so the derivative with respect
    to ``x`` is ``log y`` also at ``x = 0`` (a soft target's gradient in distillation), and a
    NaN in either argument gives NaN.
    """
    xp = _namespace(x)
    if eager_numpy(x):  # values readable on the host: see times_log
        product = x * xp.log(y)
        if not xp.isnan(product).any():  # NumPy: the method, without a wrapper
            return product
    undefined = (x == 0) & ((y == 0) | (y == math.inf))
    safe_y = xp.where(undefined, xp.ones_like(y), y)
    return x * xp.log(safe_y)


def relative_entropy(p: Any, q: Any, /, *, axis: tuple[int, ...]) -> Any:
    """``Σ p·log(p/q)`` over ``axis``: the sum of ``xlogy(p, p) - times_log(p,
    log_probability(q))`` (``p = 0`` contributes 0, ``log q`` is floored at -100).

    On NumPy, where no ``q`` is floored (read on the host), it is first summed as
    ``p·log(p/q)``: one log instead of two, the same value to rounding (more exact where
    ``p ≈ q``). A ``p`` of 0 or below makes its term NaN (``0·log 0``, the log of a
    negative), as do an infinite or NaN input and an overflowing quotient, and NaN or inf
    reaches the sum: then, and on every other library, the two logs are taken.
    """
    xp = _namespace(p)
    if eager_numpy(p) and nothing_floored(q):
        sums = xp.sum(p * xp.log(p / q), axis=axis)
        if xp.isfinite(sums).all():  # one pass over the sums, not over every term
            return sums
    return xp.sum(xlogy(p, p) - times_log(p, log_probability(q)), axis=axis)


def times_log(y: Any, log_p: Any) -> Any:
    """``y·log p`` given ``log p``, with ``0·(-inf) = 0``: a class masked out by a logit of
    ``-inf``, or a probability of exactly 0, with a target of 0 contributes 0, not NaN.

    Only that product is replaced (by a ``where`` on ``log p``, so the gradient reaching
    ``log p`` there is ``y = 0``); everywhere else it is the plain product, whose derivative
    with respect to ``y`` is ``log p``, also where ``y = 0``.
    """
    xp = _namespace(log_p)
    if eager_numpy(log_p):
        # NumPy's values can be read on the host, in one pass over a boolean array: where
        # no product is NaN there is no 0·(-inf), and the plain product is the value (the
        # `where` below would change nothing). Elsewhere the `where` always runs.
        product = y * log_p
        if not xp.isnan(product).any():
            return product
    undefined = (y == 0) & xp.isinf(log_p)
    return y * xp.where(undefined, xp.zeros_like(log_p), log_p)


# PyTorch's binary_cross_entropy divides its gradient by max(p·(1 - p), 1e-12): the slope
# of the log below its floor, so that a prediction of exactly 0 still learns.
LOG_FLOOR_SLOPE = 1e12
# The probability below which the log is floored: log p < -100 exactly where p < e^-100
# (to within the rounding of log at that one point).
FLOOR_PROBABILITY = math.exp(LOG_FLOOR)
# float32's smallest normal number: above it, log p > -87.4 > LOG_FLOOR in every dtype.
_SMALLEST_NORMAL = 1.1754943508222875e-38


def floored(p: Any) -> Any:
    """Where ``log_probability`` floors ``p``: ``log p < -100``, ``p ≤ 0`` included, NaN not.

    In float64, ``e^-100`` is a normal number and one comparison decides. In narrower
    dtypes it is subnormal, and XLA flushes it to 0 (and then folds ``p <= 0 | p < c`` into
    ``p < 0``), so there the log itself is compared.
    """
    xp = _namespace(p)
    if p.dtype == xp.float64:
        return p < FLOOR_PROBABILITY
    tiny = p <= 0
    return tiny | (xp.log(xp.where(tiny, xp.ones_like(p), p)) < LOG_FLOOR)


def nothing_floored(p: Any) -> bool:
    """Whether no element of ``p`` is floored, known without cost: on NumPy only, read on
    the host in one pass (every ``p`` is at least float32's smallest normal number, so
    ``log p > -87.4``). A primitive then skips its ``where``s, which
    would change nothing; for every other library the answer is False."""
    # The minimum, a float reduction, is cheaper than a comparison's boolean array; NaN
    # makes it NaN, which fails the test.
    return eager_numpy(p) and p.size > 0 and bool(p.min() >= _SMALLEST_NORMAL)


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
    if nothing_floored(p):
        return xp.log(p)
    low = floored(p)
    safe_p = xp.where(low, xp.ones_like(p), p)
    return xp.where(low, LOG_FLOOR + LOG_FLOOR_SLOPE * p, xp.log(safe_p))


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

    ``abs'(0)`` is 0 in PyTorch and +1 in JAX (``jax.grad(jnp.abs)(0.0)``, also at -0.0),
    and ``clip``/``maximum`` split ties differently too. On PyTorch ``x`` times its slope
    (``sign(x)``, with 0 lifted to +1) held constant: autograd's gradient is that slope, in
    one multiply, where a ``where`` costs two selects each way (and compiles poorly); the
    value keeps NaN (the slope of NaN is 0, and NaN·0 is NaN) and ``-inf`` gives ``inf``.
    JAX's own ``abs`` already has the slope +1 at 0, and the libraries without autodiff
    (NumPy, Dask, CuPy, array-api-strict) need only the value, which their ``abs``
    computes in one pass. The closed-form gradients take +1 too.
    """
    xp = _namespace(x)
    if namespace_name(xp) == "torch":
        # Tensor.sign, not the namespace's: array-api-compat's sets sign(NaN) = NaN by
        # boolean indexing, which torch.func.vmap cannot batch.
        return x * stop_gradient(x.sign() + xp.astype(x == 0, x.dtype))
    return xp.abs(x)


def absolute_slope(x: Any) -> Any:
    """The slope of :func:`absolute` at ``x``: -1 below 0, +1 at 0 (either sign) and
    above, NaN at NaN (the closed-form gradients rely on it to keep NaN)."""
    xp = _namespace(x)
    if namespace_name(xp) == "torch":
        # torch.sign(NaN) is 0, not NaN: the slope from a comparison, NaN put back.
        slope = xp.where(x < 0, xp.full_like(x, -1.0), xp.full_like(x, 1.0))
        return xp.where(xp.isnan(x), x, slope)
    # sign is -1, ±0 or +1 and keeps NaN; adding `x == 0` lifts ±0 to +1. On NumPy, where
    # no element is 0 (read on the host from the boolean array), the sign alone.
    zero = x == 0
    if eager_numpy(zero) and not zero.any():
        return xp.sign(x)
    return xp.sign(x) + xp.astype(zero, x.dtype)


def positive_part(x: Any) -> Any:
    """``max(x, 0)`` with the subgradient 0 at 0 on every backend (ReLU's convention).

    On PyTorch its ``relu``, which has exactly that gradient, in one pass each way. On JAX
    a ``where``, whose test is ``x <= 0`` rather than ``x > 0`` so that NaN, for which
    every comparison is false, takes the ``x`` branch and stays NaN; ``maximum`` would split
    the gradient at the tie. The others need only the value: ``maximum(x, 0)``, which keeps
    NaN.
    """
    xp = _namespace(x)
    name = namespace_name(xp)
    if name == "torch":
        return x.relu()
    if name == "jax":
        return xp.where(x <= 0, xp.zeros_like(x), x)
    return xp.maximum(x, 0.0)


def replace_where(condition: Any, value: float, x: Any) -> Any:
    """``where(condition, value, x)``. On NumPy, where ``condition`` holds nowhere (read on
    the host in one pass over a boolean array), ``x`` itself: the ``where`` would change
    nothing, and skipping it saves a copy."""
    xp = _namespace(x)
    if eager_numpy(condition) and not condition.any():
        return x
    return xp.where(condition, xp.full_like(x, value), x)


def clip(x: Any, low: float, high: float) -> Any:
    """``x`` limited to ``[low, high]``; NaN stays NaN. ``clip`` is one pass (NumPy's
    ``maximum``/``minimum`` pair is many times slower); on Dask, whose array-api-compat
    ``clip`` needs known chunk sizes, the pair."""
    xp = _namespace(x)
    if namespace_name(xp) == "dask":
        return xp.minimum(xp.maximum(x, xp.full_like(x, low)), xp.full_like(x, high))
    return xp.clip(x, low, high)


def cumulative_sum(x: Any, /, *, axis: int) -> Any:
    """The running sum along ``axis``. On PyTorch the tensor's own ``cumsum``:
    array-api-compat's ``cumulative_sum`` looks up the namespace again inside, a cached
    call that ``torch.compile`` warns about on every trace."""
    xp = _namespace(x)
    if namespace_name(xp) == "torch":
        return x.cumsum(axis)
    return xp.cumulative_sum(x, axis=axis)


def clamp_negative(x: Any) -> Any:
    """``max(x, 0)`` with the slope 1 at 0: the clamp acts only on negative values, so at
    ``x = 0``, where the value is finite and exact, the derivative is the one-sided one from
    the right (a prediction of exactly 0 still learns). NaN stays NaN (``NaN < 0`` is false).
    """
    xp = _namespace(x)
    return xp.where(x < 0, xp.zeros_like(x), x)


def safe_sqrt(x: Any) -> Any:
    """``sqrt(x)`` with gradient 0 instead of ``inf`` at ``x = 0`` (a norm of a zero vector).

    Double ``where`` on ``x <= 0`` (not ``x > 0``): NaN takes the square-root branch and
    stays NaN.
    """
    xp = _namespace(x)
    empty = x <= 0
    return xp.where(empty, xp.zeros_like(x), xp.sqrt(xp.where(empty, xp.ones_like(x), x)))


def safe_divide(numerator: Any, denominator: Any) -> Any:
    """``numerator / denominator``, 0 where the denominator is 0 (double ``where``).

    The 0 is ``0·numerator``, so a NaN numerator over a zero denominator is still NaN.
    """
    xp = _namespace(numerator)
    zero = denominator == 0
    safe = xp.where(zero, xp.ones_like(denominator), denominator)
    return xp.where(zero, 0.0 * numerator, numerator / safe)


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


# The libraries with autodiff, whose primitives keep the forms with the right derivatives.
_AUTODIFF = frozenset({"torch", "jax"})

_namespace = namespace_of
_device = device_of
