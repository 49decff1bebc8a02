r"""Closed-form derivatives of the regression losses with respect to ``y_pred``.

Each function returns ``(d1, d2)``: the first and second derivative of the loss body's
output (see ``_gradients_core``). At a kink the value is the one ``jax.grad`` gives for
arrayloss's own ``where`` formulation: ``absolute`` has slope +1 at 0, the quantile loss
takes its ``y ≥ ŷ`` branch, Huber's and Tukey's knots belong to the inner branch. The
Hessian of a piecewise-linear loss is 0 almost everywhere and 0 here.
"""

from __future__ import annotations

from typing import Any

import array_api_compat

from ._gradients_core import closed_form, constant
from ._regression import _variance_like
from ._stable import safe_divide, safe_sqrt, sigmoid


def _sign(x: Any) -> Any:
    """The slope of ``absolute`` at ``x``: -1 below 0, +1 at and above 0."""
    xp = array_api_compat.array_namespace(x)
    return xp.where(x < 0, constant(x, -1.0), constant(x, 1.0))


@closed_form("mean_squared_error")
def _mse(xp: Any, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    return 2.0 * (y_pred - y_true), constant(y_pred, 2.0)


@closed_form("mean_absolute_error", zero_hessian=True)
def _mae(xp: Any, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    return _sign(y_pred - y_true), xp.zeros_like(y_pred)


@closed_form("mean_absolute_percentage_error", zero_hessian=True)
def _mape(xp: Any, y_true: Any, y_pred: Any, *, epsilon: float) -> tuple[Any, Any]:
    magnitude = xp.where(y_true < 0, -y_true, y_true)
    denominator = xp.where(magnitude < epsilon, constant(magnitude, epsilon), magnitude)
    # The body is 100·|y - ŷ|/den: the slope of |d| at d = y - ŷ, times dd/dŷ = -1.
    return -100.0 * _sign(y_true - y_pred) / denominator, xp.zeros_like(y_pred)


@closed_form("mean_squared_logarithmic_error")
def _msle(xp: Any, y_true: Any, y_pred: Any, *, clip_negative: bool) -> tuple[Any, Any]:
    zero = xp.zeros_like(y_pred)
    if clip_negative:
        # The clamp acts on negative values only (clamp_negative): slope 1 at 0.
        active = y_pred >= 0
        y_true = xp.where(y_true < 0, xp.zeros_like(y_true), y_true)
        y_pred = xp.where(active, y_pred, zero)
    residual = xp.log1p(y_pred) - xp.log1p(y_true)
    inverse = 1.0 / (1.0 + y_pred)
    d1 = 2.0 * residual * inverse
    d2 = 2.0 * (1.0 - residual) * inverse**2
    if clip_negative:
        d1, d2 = xp.where(active, d1, zero), xp.where(active, d2, zero)
    return d1, d2


@closed_form("huber")
def _huber(xp: Any, y_true: Any, y_pred: Any, *, delta: float) -> tuple[Any, Any]:
    error = y_pred - y_true
    inner = xp.where(error < 0, -error, error) <= delta
    d1 = xp.where(inner, error, delta * _sign(error))
    return d1, xp.where(inner, xp.ones_like(error), xp.zeros_like(error))


@closed_form("log_cosh")
def _log_cosh(xp: Any, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    error = y_pred - y_true
    # d/de log cosh e = tanh e; the second derivative 1 - tanh² e is written
    # 4·sigmoid(2e)·sigmoid(-2e), which keeps its tiny value for large |e| where
    # 1 - tanh² cancels to 0 (and never overflows, as 1/cosh² would).
    return xp.tanh(error), 4.0 * sigmoid(2.0 * error) * sigmoid(-2.0 * error)


@closed_form("quantile", zero_hessian=True)
def _quantile(xp: Any, y_true: Any, y_pred: Any, *, q: float) -> tuple[Any, Any]:
    under = y_true - y_pred
    slope = xp.where(under >= 0, constant(under, -q), constant(under, 1.0 - q))
    return slope, xp.zeros_like(under)


@closed_form("tukey_biweight")
def _tukey(xp: Any, y_true: Any, y_pred: Any, *, c: float) -> tuple[Any, Any]:
    error = y_pred - y_true
    u = (error / c) ** 2
    inside = u <= 1.0
    zero = xp.zeros_like(error)
    # rho = c²/6·(1 - (1 - u)³), u = (e/c)²: rho' = e·(1 - u)², rho'' = (1 - u)(1 - 5u).
    # The second derivative is negative for u > 1/5: the loss is not convex there.
    d1 = xp.where(inside, error * (1.0 - u) ** 2, zero)
    d2 = xp.where(inside, (1.0 - u) * (1.0 - 5.0 * u), zero)
    return d1, d2


def _poisson_derivatives(xp: Any, y_true: Any, y_pred: Any, log_input: bool,
                         epsilon: float) -> tuple[Any, Any]:
    if log_input:  # exp(x) - y·x
        rate = xp.exp(y_pred)
        return rate - y_true, rate
    # ŷ - y·log(ŷ + ε): 1 - y/(ŷ + ε) and y/(ŷ + ε)².
    ratio = y_true / (y_pred + epsilon)
    return 1.0 - ratio, ratio / (y_pred + epsilon)


@closed_form("poisson")
def _poisson(xp: Any, y_true: Any, y_pred: Any, *, log_input: bool,
             epsilon: float) -> tuple[Any, Any]:
    return _poisson_derivatives(xp, y_true, y_pred, log_input, epsilon)


@closed_form("poisson_nll")
def _poisson_nll(xp: Any, y_true: Any, y_pred: Any, *, log_input: bool, full: bool,
                 epsilon: float) -> tuple[Any, Any]:
    # The Stirling term of ``full`` depends on y_true only.
    return _poisson_derivatives(xp, y_true, y_pred, log_input, epsilon)


@closed_form("gaussian_nll")
def _gaussian_nll(xp: Any, y_true: Any, y_pred: Any, var: Any, *, full: bool,
                  eps: float) -> tuple[Any, Any]:
    # With respect to the mean y_pred only: ½(y - ŷ)²/v gives (ŷ - y)/v and 1/v.
    var = _variance_like(xp, var, y_pred)
    var = xp.where(var < eps, xp.full_like(var, eps), var)
    inverse = 1.0 / var
    return (y_pred - y_true) * inverse, inverse + xp.zeros_like(y_pred)


@closed_form("cosine_similarity")
def _cosine(xp: Any, y_true: Any, y_pred: Any, *, axis: tuple[int, ...]) -> tuple[Any, Any]:
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
    d1 = -y_true * inv_ab + dot * y_pred * inv_ab * inv_b2
    d2 = ((2.0 * y_true * y_pred + dot) * inv_ab * inv_b2
          - 3.0 * dot * y_pred**2 * inv_ab * inv_b2**2)
    return d1, d2
