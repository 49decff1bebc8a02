r"""The general and adaptive robust loss (Barron, CVPR 2019) and its named special cases.

``x = (ŷ - y) / c`` is the error in units of the scale ``c`` and ``u = x²``. Barron's loss

.. math:: \rho(x, \alpha) = \frac{|\alpha - 2|}{\alpha}
          \left(\left(\frac{u}{|\alpha - 2|} + 1\right)^{\alpha/2} - 1\right)

is ``½u`` at ``α = 2`` (L2), ``log(½u + 1)`` at 0 (Cauchy), ``√(u + 1) - 1`` at 1
(Charbonnier), ``2u/(u + 4)`` at -2 (Geman-McClure) and ``1 - exp(-½u)`` at ``-∞``
(Welsch); ``+∞`` is the limit ``exp(½u) - 1``. kornia's ``charbonnier_loss``,
``cauchy_loss``, ``geman_mcclure_loss`` and ``welsch_loss`` are these at ``c = 1``. SciPy's
``least_squares`` losses ``soft_l1`` and ``arctan`` are here in SciPy's own scaling (the
value ``least_squares`` adds to its cost per residual); SciPy's ``cauchy`` is
``½c'²·log(1 + (e/c')²)``, which is ``½c'²·cauchy(scale=c'/√2)``. ``arctan`` is not a
member of Barron's family. Each loss is followed by its closed-form derivatives with
respect to the prediction (``closed_form``: first, then second).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from ..core.chain_rule import closed_form
from ..core.define import define_loss
from ..core.namespace import device_of, option_array
from ..core.options import Interval, check_number
from ..core.stable import absolute, logsumexp

__all__ = ["general_robust", "general_robust_nll", "log_partition"]

_REGRESSION = "regression"


@dataclass(frozen=True)
class NumberOrArray(Interval):
    """A real number in the interval (see :class:`Interval`), or an array: its values are
    data (learnable, possibly traced), never read at call time; only its shape is checked,
    against y_pred's, where the loss receives it."""

    def __call__(self, name: str, value: Any) -> Any:
        if isinstance(value, numbers.Real):  # bool included: check_number refuses it
            return check_number(name, value, low=self.low, low_open=self.low_open)
        if isinstance(value, (list, tuple)) or hasattr(value, "shape"):
            return value
        raise TypeError(f"{name} must be a real number or an array of real numbers; got "
                        f"{value!r} of type {type(value).__name__}")


Shape = Annotated[Any, NumberOrArray()]  # alpha: any real number, ±inf included
Scale = Annotated[Any, NumberOrArray(low=0.0, low_open=True)]
Shape0 = Annotated[Any, NumberOrArray(low=0.0)]  # the NLL's alpha: a density needs alpha >= 0


def _option(xp: Any, value: Any, like: Any, name: str) -> Any:
    """An option as an array of ``like``'s dtype and device that broadcasts against
    ``like`` without changing its shape (so the per-sample values keep their shape)."""
    array = option_array(xp, value, like, name=name)
    shape, target = tuple(array.shape), tuple(like.shape)
    fits = len(shape) <= len(target) and all(
        s in (1, t) for s, t in zip(reversed(shape), reversed(target), strict=False))
    if not fits:
        raise ValueError(f"{name} must broadcast against y_pred of shape {target} without "
                         f"changing it; got an array of shape {shape}")
    return array


def _expm1_ratio(xp: Any, y: Any) -> Any:
    """``φ(y) = expm1(y)/y`` (1 at 0). For ``|y| < ½`` its Taylor series (to ``y¹⁶``,
    exact to the last bit there) in Horner form: the quotient is 0/0 at 0, and autodiff of
    the quotient loses digits near 0 (``(y·eʸ - expm1 y)/y²`` cancels). Double where: each
    branch sees an argument where it is finite."""
    small = absolute(y) < 0.5
    ys = xp.where(small, y, xp.zeros_like(y))
    series = xp.ones_like(y)
    for k in range(16, 0, -1):
        series = 1.0 + ys * series / (k + 1)
    yd = xp.where(small, xp.ones_like(y), y)
    return xp.where(small, series, xp.expm1(yd) / yd)


def _log1p_ratio(xp: Any, w: Any) -> Any:
    """``ψ(w) = log1p(w)/w`` (1 at 0) for ``w ≥ 0``: the series ``Σ(-w)ᵏ/(k+1)`` below 0.1
    (the same two reasons as :func:`_expm1_ratio`), the quotient above."""
    small = w < 0.1
    ws = xp.where(small, w, xp.zeros_like(w))
    series = xp.full_like(w, 1.0 / 17.0)
    for k in range(15, -1, -1):
        series = 1.0 / (k + 1) - ws * series
    wd = xp.where(small, xp.ones_like(w), w)
    return xp.where(small, series, xp.log1p(wd) / wd)


def _log1p_scaled(xp: Any, x: Any, u: Any, b: Any) -> Any:
    """``log1p(u/b)`` with ``u = x²``; where ``u/b`` would overflow (α within 1e-7 of 2 in
    float32, or ``|x| > 1.8e19``), ``2·log|x| - log b``, which differs from it by
    ``log1p(b/u) < 1e-38`` there. The test divides by the largest float instead of
    multiplying, so it overflows nothing itself; double where: no ``log 0``."""
    over = u * (1.0 / xp.finfo(u.dtype).max) > b
    safe_x = xp.where(over, x, xp.ones_like(x))
    far = 2.0 * xp.log(absolute(safe_x)) - xp.log(xp.where(over, b, xp.ones_like(b)))
    return xp.where(over, far, xp.log1p(xp.where(over, xp.zeros_like(u), u) / b))


def _rho(xp: Any, x: Any, alpha: Any) -> Any:
    """Barron's ``ρ(x, α)`` for an array ``α`` broadcasting against ``x``."""
    u = x * x
    two, infinite = alpha == 2.0, xp.isinf(alpha)
    # α = 2 and α = ±∞ have their exact limits below; the general branch sees α = 1 there
    # (double where), so its |α-2|/α is never 0/0 or ∞/∞ in the backward pass.
    a = xp.where(two | infinite, xp.ones_like(alpha), alpha)
    b = xp.abs(a - 2.0)
    log_base = _log1p_scaled(xp, x, u, b)  # L = log(u/b + 1)
    # ρ = (b/a)·expm1(y) = (b/2)·L·φ(y) with y = αL/2; at α = 0 and u = inf, y is 0 (not
    # 0·inf = NaN) so that ρ = log1p(inf) = inf.
    zero = a == 0.0
    y = 0.5 * a * xp.where(zero & (log_base == math.inf), xp.zeros_like(log_base), log_base)
    small = absolute(y) < 0.5
    # Near α = 0 (and small u) the (b/2)·L·φ(y) form: exact at α = 0 itself (φ(0) = 1
    # gives log1p(½u)), and its α-derivative there without the 1/α² cancellation.
    near = 0.5 * b * log_base * _expm1_ratio(xp, xp.where(small, y, xp.zeros_like(y)))
    # Elsewhere |y| ≥ ½, so α ≠ 0: (b/a)·expm1(y), and for y > 20 (only α > 0) the log
    # form exp(y + log(b/a)) - b/a, finite wherever ρ is (expm1(y) alone would overflow
    # first: α near 2 makes b/a tiny and y large).
    ratio = b / xp.where(small | zero, xp.ones_like(a), a)  # (NaN y at α = 0: no b/0)
    huge = y > 20.0
    mid = ratio * xp.expm1(xp.where(small | huge, xp.zeros_like(y), y))
    ratio_h = xp.where(huge, ratio, xp.ones_like(ratio))
    top = xp.exp(xp.where(huge, y, xp.zeros_like(y)) + xp.log(ratio_h)) - ratio_h
    general = xp.where(small, near, xp.where(huge, top, mid))
    # α = +∞: expm1(½u), whose argument is 0 elsewhere so exp(½u) = inf never meets a
    # zero cotangent (0·inf = NaN); α = -∞: 1 - exp(-½u), finite everywhere.
    plus = xp.expm1(0.5 * xp.where(infinite & (alpha > 0), u, xp.zeros_like(u)))
    limit = xp.where(alpha > 0, plus, -xp.expm1(-0.5 * u))
    return xp.where(two, 0.5 * u, xp.where(infinite, limit, general))


def _rho_derivatives(xp: Any, y_true: Any, y_pred: Any, alpha: Any, scale: Any) -> Iterator[Any]:
    """``dρ/dŷ = (e/c²)·w`` and ``d²ρ/dŷ² = (w/c²)·(1 + sign(α-2)·b·u/(b+u))`` with
    ``w = (u/b + 1)^(α/2-1) = exp(sign(α-2)·(b/2)·L)``; at α = 2, ``w = 1`` and the second
    factor is 1; at ``±∞``, ``w = exp(±½u)`` and the factor ``1 ± u``."""
    error = y_pred - y_true
    alpha, scale = _option(xp, alpha, y_pred, "alpha"), _option(xp, scale, y_pred, "scale")
    x = error / scale
    u = x * x
    two, infinite = alpha == 2.0, xp.isinf(alpha)
    a = xp.where(two | infinite, xp.ones_like(alpha), alpha)  # as in _rho
    b = xp.abs(a - 2.0)
    ones = xp.ones_like(a)
    side = xp.where(infinite, xp.where(alpha > 0, ones, -ones), xp.sign(a - 2.0))
    exponent = xp.where(infinite, side * 0.5 * u, side * 0.5 * b * _log1p_scaled(xp, x, u, b))
    weight = xp.exp(xp.where(two, xp.zeros_like(exponent), exponent))
    yield error / (scale * scale) * weight
    curvature = xp.where(infinite, u, b * (u / (b + u)))
    factor = xp.where(two, xp.ones_like(u), 1.0 + side * curvature)
    yield weight / (scale * scale) * factor


@define_loss("general_robust", family=_REGRESSION, aliases=("barron",))
def general_robust(xp: Any, y_true: Any, y_pred: Any, *, alpha: Shape = 1.0,
                   scale: Scale = 1.0) -> Any:
    r"""Barron's general robust loss with shape ``α`` and scale ``c``.

    .. math:: \ell = \operatorname{mean}_{axis} \frac{|\alpha - 2|}{\alpha}
              \left(\left(\frac{(e/c)^2}{|\alpha - 2|} + 1\right)^{\alpha/2} - 1\right)

    with the limits ``½(e/c)²`` (α = 2), ``log(½(e/c)² + 1)`` (0), ``1 - exp(-½(e/c)²)``
    (``-∞``) and ``exp(½(e/c)²) - 1`` (``+∞``), each exact; near 0 and 2 the formula is
    evaluated through ``expm1``/``log1p`` (module helpers), so α = 1e-6 and 2 - 1e-6
    lose no digits. ``alpha`` is any real number or ``±inf``; ``scale > 0``. Either may be
    an array that broadcasts against ``y_pred`` (a learnable parameter: torch autograd
    and ``jax.grad`` give its gradient; under ``jax.jit`` it may be traced). ρ is smooth
    in α except at α = 2, where ``∂ρ/∂α`` diverges like ``-(u/4)·log|α - 2|`` (a vertical
    tangent of Barron's ``|α - 2|``): at exactly 2 the α-gradient is the α = 2 branch's,
    0. Barron's ``lossfun(x, alpha, scale)`` is ``general_robust(..., reduction="none",
    axis=())``.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.general_robust(xp.asarray([0.0, 0.0]), xp.asarray([1.0, 10.0]),
    ...                          alpha=0.0, reduction="none")
    Array([0.40546511, 3.93182563], dtype=array_api_strict.float64)
    """
    alpha, scale = _option(xp, alpha, y_pred, "alpha"), _option(xp, scale, y_pred, "scale")
    return _rho(xp, (y_pred - y_true) / scale, alpha)


@closed_form("general_robust")
def _general_robust(xp: Any, y_true: Any, y_pred: Any, *, alpha: Any,
                    scale: Any) -> Iterator[Any]:
    yield from _rho_derivatives(xp, y_true, y_pred, alpha, scale)


# -- the adaptive loss: the negative log-likelihood of Barron's distribution ---------------

# Two trapezoid rules, each exponentially convergent where the other is slow (checked
# against 30-digit quadrature for α in [0, 1e8] and +∞: relative error < 5e-15).
# α < 2.5: x = eᵗ, t in [-40, 40] by 1/8; the integrand eᵗ⁻ᵖ decays like e^-|t| at both
# ends and its singularities sit at Im t = π/2 whatever α. For larger α, ρ grows like
# x^α, too steep in t; there ρ = s² itself is the variable (x = x(s), see _log_z_large),
# an integrand e^-s²·G(s) with G smooth, on s in [0, 9.5] by 1/16.
_T_STEP, _T_NODES, _S_STEP, _S_NODES = 0.125, 641, 0.0625, 153
_SWITCH = 2.5


def _nodes(xp: Any, like: Any, count: int, step: float, start: float) -> Any:
    grid = xp.arange(count, dtype=like.dtype, device=device_of(like))
    return start + step * grid


def _log_z_small(xp: Any, alpha: Any) -> Any:
    # Z = 2∫₀^∞ e^-ρ(x) dx = 2∫ e^(t - ρ(eᵗ)) dt, the trapezoid sum as one logsumexp.
    t = _nodes(xp, alpha, _T_NODES, _T_STEP, -40.0)
    exponent = t - _rho(xp, xp.exp(t), xp.expand_dims(alpha, axis=-1))
    return math.log(2.0 * _T_STEP) + logsumexp(exponent, axis=-1)


def _log_z_large(xp: Any, alpha: Any) -> Any:
    # With ρ = s², u(s) = b·((1 + w)^(2/a) - 1), w = a·s²/b, and dx = (dx/ds) ds:
    # Z = ∫_ℝ exp(½log 2 - s² + y/2 - log1p(w) - ½log ψ(w) - ½log φ(-y)) ds with
    # y = (2/a)·log1p(w) = (2s²/b)·ψ(w), ψ(w) = log1p(w)/w, φ(y) = expm1(y)/y; the
    # log φ(y) = y + log φ(-y) rewriting never overflows. At α = +∞: a/b = 1, 2/b = 0.
    s = _nodes(xp, alpha, _S_NODES, _S_STEP, 0.0)
    a = xp.expand_dims(alpha, axis=-1)
    finite = xp.where(xp.isinf(a), xp.full_like(a, 3.0), a)  # double where: no ∞/∞
    q = xp.where(xp.isinf(a), xp.ones_like(a), finite / xp.abs(finite - 2.0))
    s2 = s * s
    w = q * s2
    psi = _log1p_ratio(xp, w)
    y = 2.0 * s2 * psi / xp.abs(a - 2.0)
    exponent = (0.5 * math.log(2.0) - s2 + 0.5 * y - xp.log1p(w) - 0.5 * xp.log(psi)
                - 0.5 * xp.log(_expm1_ratio(xp, -y)))
    # The even integrand over ℝ: the node at 0 once, every other node twice.
    log_weight = xp.where(s == 0, xp.full_like(s, math.log(_S_STEP)),
                          xp.full_like(s, math.log(2.0 * _S_STEP)))
    return logsumexp(exponent + log_weight, axis=-1)


def log_partition(xp: Any, alpha: Any) -> Any:
    """``log Z(α)``, ``Z(α) = ∫ exp(-ρ(x, α, 1)) dx``, for an array ``α`` (NaN for α < 0,
    where ``exp(-ρ)`` tends to ``exp(-|α-2|/|α|) > 0`` and Z is infinite)."""
    small = alpha < _SWITCH
    low = _log_z_small(xp, xp.where(small, alpha, xp.ones_like(alpha)))
    high = _log_z_large(xp, xp.where(small, xp.full_like(alpha, 3.0), alpha))
    value = xp.where(small, low, high)
    return xp.where(alpha >= 0, value, xp.full_like(value, math.nan))


@define_loss("general_robust_nll", family=_REGRESSION, aliases=("adaptive_robust",))
def general_robust_nll(xp: Any, y_true: Any, y_pred: Any, *, alpha: Shape0 = 1.0,
                       scale: Scale = 1.0) -> Any:
    r"""Barron's adaptive robust loss: the negative log-likelihood of his distribution.

    .. math:: \ell = \operatorname{mean}_{axis} \rho(e, \alpha, c) + \log c + \log Z(\alpha),
              \qquad Z(\alpha) = \int_{-\infty}^{\infty} e^{-\rho(x, \alpha, 1)}\,dx

    ``Z`` is computed (no table): a trapezoid rule of 641 or 153 nodes in the array
    library, exact to ~1e-14 in float64 and differentiable in ``α`` (``Z(0) = π√2``,
    ``Z(2) = √(2π)``). ``alpha ≥ 0`` (only there is ``e^-ρ`` integrable; an array α gives
    NaN where it is negative) and ``scale > 0``, numbers or arrays as in
    :func:`general_robust`. Barron's ``AdaptiveLossFunction`` learns α in ``[0, 2]``
    through a sigmoid; here α is whatever the caller passes.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.general_robust_nll(xp.asarray([0.0]), xp.asarray([0.0]), alpha=2.0)
    Array(0.91893853, dtype=array_api_strict.float64)
    """
    alpha, scale = _option(xp, alpha, y_pred, "alpha"), _option(xp, scale, y_pred, "scale")
    rho = _rho(xp, (y_pred - y_true) / scale, alpha)
    return rho + xp.log(scale) + log_partition(xp, alpha)


@closed_form("general_robust_nll")
def _general_robust_nll(xp: Any, y_true: Any, y_pred: Any, *, alpha: Any,
                        scale: Any) -> Iterator[Any]:
    # log c + log Z(α) does not depend on the prediction: ρ's derivatives.
    yield from _rho_derivatives(xp, y_true, y_pred, alpha, scale)

