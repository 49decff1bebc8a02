r"""Regression losses: each body is its formula; the shared core does the rest.

Element-wise losses average over the last axis of inputs with 2 or more axes (Keras's
``axis=-1``) and give one value per element of 1-D inputs. ``e`` below is the error
``y_pred - y_true`` unless a formula says otherwise. The robust losses (Huber, log-cosh,
quantile, Tukey) are in ``robust.py``. Each loss is followed by its closed-form
derivatives and native kernel (``losses/__init__.py``); at a kink a derivative is the one
``jax.grad`` gives for the formula itself (``absolute`` has slope +1 at 0).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from ..core.autodiff import stop_gradient
from ..core.chain_rule import closed_form, constant
from ..core.define import define_loss
from ..core.native import host_checks_allowed
from ..core.norms import unit_vectors
from ..core.options import Flag, NonNegative, Positive
from ..core.stable import (
    absolute,
    absolute_slope,
    clamp_negative,
    safe_divide,
    safe_sqrt,
    xlogy,
)

__all__ = [
    "cosine_similarity",
    "gaussian_nll",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "poisson",
    "poisson_nll",
]

_REGRESSION = "regression"


@define_loss("mean_squared_error", family=_REGRESSION, aliases=("mse",))
def mean_squared_error(xp: Any, y_true: Any, y_pred: Any) -> Any:
    r"""Mean squared error.

    .. math:: \ell = \operatorname{mean}_{axis} (\hat y - y)^2

    Keras ``mean_squared_error``; PyTorch ``F.mse_loss`` and scikit-learn's
    ``mean_squared_error`` are the ``"mean"`` of the same values. Half-precision inputs are
    computed in float32, so an error of 300 does not overflow as ``F.mse_loss`` does in
    float16.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.mean_squared_error(xp.asarray([[0.0, 1.0]]), xp.asarray([[1.0, 1.0]]))
    Array(0.5, dtype=array_api_strict.float64)
    """
    return (y_pred - y_true) ** 2


@mean_squared_error.native("torch")
def _mse_torch(xp: Any, y_true: Any, y_pred: Any) -> Any:
    # F.mse_loss is (ŷ - y)² and its mean in one fused kernel each way; the same values
    # and gradients (both inputs) as the formula.
    from torch.nn import functional  # ok: torch kernel, torch tensors only

    return functional.mse_loss(y_pred, y_true, reduction="mean")


@closed_form("mean_squared_error", self_contained=True)
def _mse(xp: Any, y_true: Any, y_pred: Any) -> Iterator[Any]:
    yield 2.0 * (y_pred - y_true)
    yield constant(y_pred, 2.0)


@define_loss("mean_absolute_error", family=_REGRESSION, aliases=("mae",))
def mean_absolute_error(xp: Any, y_true: Any, y_pred: Any) -> Any:
    r"""Mean absolute error.

    .. math:: \ell = \operatorname{mean}_{axis} |\hat y - y|

    Keras ``mean_absolute_error``, PyTorch ``F.l1_loss``, scikit-learn
    ``mean_absolute_error``. At ``ŷ = y`` the gradient is +1 on every backend (JAX's
    subgradient of ``abs``; PyTorch's own ``abs`` gives 0 there).

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.mae(xp.asarray([1.0, 2.0]), xp.asarray([1.5, 0.0]), reduction="none")
    Array([0.5, 2. ], dtype=array_api_strict.float64)
    """
    return absolute(y_pred - y_true)


@mean_absolute_error.native("torch")
def _mae_torch(xp: Any, y_true: Any, y_pred: Any) -> Any:
    # mean |ŷ - y| by torch's own abs and mean, whose subgradient at ŷ = y is 0 where the
    # formula's is +1. So it runs only where no difference is 0: the smallest |ŷ - y| is
    # positive, read on the host from the absolute values the mean needs anyway (a float
    # reduction; a comparison's boolean array costs five times more). NaN fails the test
    # too. Elsewhere (and under torch.compile, torch.func, on accelerators) the formula runs.
    if y_true.shape != y_pred.shape or not host_checks_allowed(y_pred):
        return NotImplemented
    size = (y_pred - y_true).abs()
    if not size.detach().amin().item() > 0:  # ok: host read, where host_checks_allowed
        return NotImplemented
    return size.mean()


@closed_form("mean_absolute_error", zero_hessian=True, self_contained=True)
def _mae(xp: Any, y_true: Any, y_pred: Any) -> Iterator[Any]:
    yield absolute_slope(y_pred - y_true)
    yield xp.zeros_like(y_pred)


@define_loss("mean_absolute_percentage_error", family=_REGRESSION, aliases=("mape",))
def mean_absolute_percentage_error(
    xp: Any, y_true: Any, y_pred: Any, *, epsilon: Positive = 1e-7
) -> Any:
    r"""Mean absolute percentage error, in percent.

    .. math:: \ell = 100 \cdot \operatorname{mean}_{axis}
              \frac{|y - \hat y|}{\max(|y|, \epsilon)}

    Keras's formula and floor (``epsilon=1e-7``). scikit-learn's
    ``mean_absolute_percentage_error`` is a fraction with the floor
    ``finfo(float64).eps``: ``mape(y, ŷ, epsilon=2.220446049250313e-16) / 100``.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.mape(xp.asarray([2.0, 4.0]), xp.asarray([1.0, 5.0]), reduction="none")
    Array([50., 25.], dtype=array_api_strict.float64)
    """
    magnitude = absolute(y_true)
    denominator = xp.where(magnitude < epsilon, xp.full_like(magnitude, epsilon), magnitude)
    return 100.0 * absolute(y_true - y_pred) / denominator


@closed_form("mean_absolute_percentage_error", zero_hessian=True)
def _mape(xp: Any, y_true: Any, y_pred: Any, *, epsilon: float) -> Iterator[Any]:
    magnitude = xp.where(y_true < 0, -y_true, y_true)
    denominator = xp.where(magnitude < epsilon, constant(magnitude, epsilon), magnitude)
    # The body is 100·|y - ŷ|/den: the slope of |d| at d = y - ŷ, times dd/dŷ = -1.
    yield -100.0 * absolute_slope(y_true - y_pred) / denominator
    yield xp.zeros_like(y_pred)


@define_loss("mean_squared_logarithmic_error", family=_REGRESSION, aliases=("msle",))
def mean_squared_logarithmic_error(
    xp: Any, y_true: Any, y_pred: Any, *, clip_negative: Flag = True
) -> Any:
    r"""Mean squared logarithmic error.

    .. math:: \ell = \operatorname{mean}_{axis}
              \left(\log(1 + \max(\hat y, 0)) - \log(1 + \max(y, 0))\right)^2

    Keras clamps negative values (``maximum(x, 1e-7)``) and so does the default here, at 0
    (the two differ by at most ``log1p(1e-7) ≈ 1e-7`` per log). The clamp acts on negative
    values only: at exactly 0 the gradient is the one-sided ``-2·log(1 + y)`` (Keras's clip
    gives 0 there). ``clip_negative=False``
    takes ``log1p`` of the raw values, as scikit-learn and torchmetrics do: NaN for values
    at or below -1 (scikit-learn raises instead, which a traced function cannot do).

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> loss = arrayloss.msle(xp.asarray([[math.e - 1.0]]), xp.asarray([[0.0]]))
    >>> float(loss)
    1.0
    """
    if clip_negative:
        y_true, y_pred = clamp_negative(y_true), clamp_negative(y_pred)
    return (xp.log1p(y_pred) - xp.log1p(y_true)) ** 2


@closed_form("mean_squared_logarithmic_error")
def _msle(xp: Any, y_true: Any, y_pred: Any, *, clip_negative: bool) -> Iterator[Any]:
    zero = xp.zeros_like(y_pred)
    # The clamp acts on negative values only (clamp_negative): slope 1 at 0.
    active = (y_pred >= 0) if clip_negative else None
    if active is not None:
        y_true = xp.where(y_true < 0, xp.zeros_like(y_true), y_true)
        y_pred = xp.where(active, y_pred, zero)
    residual = xp.log1p(y_pred) - xp.log1p(y_true)
    inverse = 1.0 / (1.0 + y_pred)
    d1 = 2.0 * residual * inverse
    yield d1 if active is None else xp.where(active, d1, zero)
    d2 = 2.0 * (1.0 - residual) * inverse**2
    yield d2 if active is None else xp.where(active, d2, zero)


def _poisson_values(xp: Any, y_true: Any, y_pred: Any, log_input: bool, epsilon: float) -> Any:
    if log_input:  # y_pred is the log of the rate: exp(x) - y·x
        return xp.exp(y_pred) - y_true * y_pred
    return y_pred - y_true * xp.log(y_pred + epsilon)


def _poisson_derivatives(xp: Any, y_true: Any, y_pred: Any, log_input: bool,
                         epsilon: float) -> Iterator[Any]:
    if log_input:  # exp(x) - y·x
        rate = xp.exp(y_pred)
        yield rate - y_true
        yield rate
    else:  # ŷ - y·log(ŷ + ε): 1 - y/(ŷ + ε) and y/(ŷ + ε)².
        ratio = y_true / (y_pred + epsilon)
        yield 1.0 - ratio
        yield ratio / (y_pred + epsilon)


@define_loss("poisson", family=_REGRESSION)
def poisson(
    xp: Any, y_true: Any, y_pred: Any, *, log_input: Flag = False, epsilon: NonNegative = 1e-7
) -> Any:
    r"""Poisson negative log-likelihood (without the constant ``log y!``), Keras's default.

    .. math:: \ell = \operatorname{mean}_{axis} (\hat y - y \log(\hat y + \epsilon))
              \quad\text{or, with } \texttt{log\_input}:\quad e^{\hat y} - y\,\hat y

    ``y_pred`` is the rate (Keras ``poisson``, ``epsilon=1e-7``). PyTorch's
    ``F.poisson_nll_loss(log_input=False, eps=1e-8)`` is ``poisson(..., epsilon=1e-8)``;
    PyTorch's default (log-rate input) is :func:`poisson_nll`.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> loss = arrayloss.poisson(xp.asarray([0.0]), xp.asarray([2.0]))
    >>> float(loss)
    2.0
    """
    return _poisson_values(xp, y_true, y_pred, log_input, epsilon)


@closed_form("poisson", self_contained=True)
def _poisson(xp: Any, y_true: Any, y_pred: Any, *, log_input: bool,
             epsilon: float) -> Iterator[Any]:
    return _poisson_derivatives(xp, y_true, y_pred, log_input, epsilon)


@define_loss("poisson_nll", family=_REGRESSION)
def poisson_nll(
    xp: Any,
    y_true: Any,
    y_pred: Any,
    *,
    log_input: Flag = True,
    full: Flag = False,
    epsilon: NonNegative = 1e-8,
) -> Any:
    r"""PyTorch's ``F.poisson_nll_loss``: the Poisson NLL of a log-rate by default.

    .. math:: \ell = e^{\hat y} - y\,\hat y
              \;\big[+\; y\log y - y + \tfrac12\log(2\pi y) \text{ for } y > 1
              \text{ if } \texttt{full}\big]

    The Stirling term is taken only where ``y > 1`` (as PyTorch does); a double ``where``
    keeps ``log y`` of the other entries out of the gradient.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> loss = arrayloss.poisson_nll(xp.asarray([1.0]), xp.asarray([0.0]))
    >>> float(loss)
    1.0
    """
    values = _poisson_values(xp, y_true, y_pred, log_input, epsilon)
    if full:
        counted = y_true > 1
        safe_y = xp.where(counted, y_true, xp.ones_like(y_true) * 2.0)
        stirling = xlogy(safe_y, safe_y) - safe_y + 0.5 * xp.log(2.0 * math.pi * safe_y)
        values = values + xp.where(counted, stirling, xp.zeros_like(stirling))
    return values


@closed_form("poisson_nll", self_contained=True)
def _poisson_nll(xp: Any, y_true: Any, y_pred: Any, *, log_input: bool, full: bool,
                 epsilon: float) -> Iterator[Any]:
    # The Stirling term of ``full`` depends on y_true only.
    return _poisson_derivatives(xp, y_true, y_pred, log_input, epsilon)


def _variance_like(xp: Any, var: Any, y_pred: Any) -> Any:
    """PyTorch's variance shapes: like ``y_pred``, without its last axis, or with a last
    axis of length 1 (one variance per sample), or a scalar."""
    shape = tuple(y_pred.shape)
    if tuple(var.shape) == shape[:-1] and y_pred.ndim > 0:
        var = xp.expand_dims(var, axis=-1)
    if var.ndim == 0 or (var.ndim == len(shape) and all(
            v in (1, s) for v, s in zip(var.shape, shape, strict=True))):
        return xp.broadcast_to(var, shape)
    raise ValueError(
        f"var must have y_pred's shape {shape}, that shape without its last axis, or a "
        f"last axis of length 1; got var.shape={tuple(var.shape)}"
    )


@define_loss("gaussian_nll", family=_REGRESSION, inputs=("y_true", "y_pred", "var"))
def gaussian_nll(
    xp: Any, y_true: Any, y_pred: Any, var: Any, *, full: Flag = False, eps: Positive = 1e-6
) -> Any:
    r"""Gaussian negative log-likelihood of ``y_true`` under mean ``y_pred`` and ``var``.

    .. math:: \ell = \operatorname{mean}_{axis} \tfrac12\left(\log v + \frac{(y - \hat y)^2}{v}
              \right) \;[+\tfrac12 \log 2\pi \text{ if } \texttt{full}],
              \quad v = \max(\texttt{var}, \epsilon)

    PyTorch ``F.gaussian_nll_loss(y_pred, y_true, var, full, eps)``: the same values and
    gradients. As in PyTorch, the floor is not differentiated: below ``eps`` the gradient
    with respect to ``var`` is the formula's derivative at ``v = eps``, passed straight
    through, so a variance driven below the floor can still grow back.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> loss = arrayloss.gaussian_nll(xp.asarray([2.0]), xp.asarray([0.0]), xp.asarray([1.0]))
    >>> float(loss)
    2.0
    """
    var = _variance_like(xp, var, y_pred)
    # Straight-through floor: var - stop_gradient(var) is exactly 0 with derivative 1, so
    # below eps the value is that of v = eps while the gradient reaches var unchanged.
    floored = var - stop_gradient(var) + eps
    var = xp.where(var < eps, floored, var)
    values = 0.5 * (xp.log(var) + (y_true - y_pred) ** 2 / var)
    return values + 0.5 * math.log(2.0 * math.pi) if full else values


@closed_form("gaussian_nll", self_contained=True)
def _gaussian_nll(xp: Any, y_true: Any, y_pred: Any, var: Any, *, full: bool,
                  eps: float) -> Iterator[Any]:
    # With respect to the mean y_pred only: ½(y - ŷ)²/v gives (ŷ - y)/v and 1/v. The floor
    # `var < eps` is false for a NaN variance, which stays NaN.
    var = _variance_like(xp, var, y_pred)
    var = xp.where(var < eps, xp.full_like(var, eps), var)
    inverse = 1.0 / var
    yield (y_pred - y_true) * inverse
    yield inverse + xp.zeros_like(y_pred)


@define_loss("cosine_similarity", family=_REGRESSION, aliases=("cosine_proximity",),
             kind="axis")
def cosine_similarity(xp: Any, y_true: Any, y_pred: Any, *, axis: tuple[int, ...]) -> Any:
    r"""Negative cosine similarity over ``axis``: -1 for vectors pointing the same way.

    .. math:: \ell = -\frac{\sum y\,\hat y}{\lVert y\rVert\,\lVert\hat y\rVert},
              \text{ and } 0 \text{ if either vector is } 0

    Keras ``cosine_similarity`` (which floors the squared norm at 1e-12; here the
    cosine is exact for any nonzero vector: each vector is scaled by its largest entry
    before the norm, so 1e-30 or 1e20 in float32 gives -1 for equal vectors). optax
    ``cosine_similarity`` and PyTorch ``F.cosine_similarity`` return ``+cos``: negate this
    loss. A zero vector gives 0 with a finite gradient (optax gives NaN).

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.cosine_similarity(xp.asarray([[1.0, 0.0], [0.0, 0.0]]),
    ...                             xp.asarray([[2.0, 0.0], [1.0, 1.0]]), reduction="none")
    Array([-1., -0.], dtype=array_api_strict.float64)
    """
    # cos(y, ŷ) = Σ u·û of the unit vectors: normalizing first keeps every product in
    # range (‖y‖·‖ŷ‖ and Σ y·ŷ over- or underflow for large or tiny vectors).
    return -xp.sum(unit_vectors(y_true, axis=axis) * unit_vectors(y_pred, axis=axis), axis=axis)


@closed_form("cosine_similarity")
def _cosine(xp: Any, y_true: Any, y_pred: Any, *, axis: tuple[int, ...]) -> Iterator[Any]:
    # l = -s/(a·b) with s = Σ y·ŷ, a = ‖y‖, b = ‖ŷ‖:
    #   dl/dŷ_i   = -y_i/(a b) + s ŷ_i/(a b³)
    #   d²l/dŷ_i² = (2 y_i ŷ_i + s)/(a b³) - 3 s ŷ_i²/(a b⁵)
    # and 0 where either vector is 0 (the loss is the constant 0 there, through
    # safe_divide and safe_sqrt, whose gradients are 0 at 0).
    dot = xp.sum(y_true * y_pred, axis=axis, keepdims=True)
    a = safe_sqrt(xp.sum(y_true**2, axis=axis, keepdims=True))
    b = safe_sqrt(xp.sum(y_pred**2, axis=axis, keepdims=True))
    ab = a * b
    inv_ab = safe_divide(xp.ones_like(ab), ab)  # 1/(a b), 0 for a zero vector
    inv_b2 = safe_divide(xp.ones_like(b), b * b)  # 1/b², 0 for a zero prediction
    yield -y_true * inv_ab + dot * y_pred * inv_ab * inv_b2
    yield ((2.0 * y_true * y_pred + dot) * inv_ab * inv_b2
           - 3.0 * dot * y_pred**2 * inv_ab * inv_b2**2)
