r"""The robust losses of kornia and SciPy under their own names.

``x = (ŷ - y) / c``. kornia's ``charbonnier_loss``, ``cauchy_loss``, ``geman_mcclure_loss``
and ``welsch_loss`` are Barron's ρ (:func:`arrayloss.general_robust`) at α = 1, 0, -2 and
-∞ with ``c = 1``; here each has the scale ``c`` of Barron's ρ. SciPy's
``least_squares`` losses ``soft_l1`` and ``arctan`` are in SciPy's own scaling: the value
``least_squares(loss=..., f_scale=c)`` adds to its ``cost`` per residual, ``½c²·ρ((e/c)²)``.
SciPy's ``cauchy`` (``½c²·log(1 + (e/c)²)``) is ``½c²·cauchy(scale=c/√2)`` here: the name
follows kornia and Barron, for whom it is the α = 0 member. Each loss is followed by its
closed-form derivatives with respect to the prediction (first, then second).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..core.chain_rule import closed_form
from ..core.define import define_loss
from ..core.options import Positive
from ..core.stable import absolute

__all__ = ["arctan", "cauchy", "charbonnier", "geman_mcclure", "soft_l1", "welsch"]

_REGRESSION = "regression"


def _hypot1(xp: Any, x: Any) -> Any:
    """``√(1 + x²)`` without overflowing ``x²``: ``|x|·√(1 + 1/x²)`` beyond 1."""
    size = absolute(x)
    far = size > 1.0
    inverse = 1.0 / xp.where(far, size, xp.ones_like(size))
    return xp.where(far, size * xp.sqrt(1.0 + inverse * inverse), xp.sqrt(1.0 + x * x))


def _sqrt1m1(xp: Any, x: Any) -> Any:
    # √(1 + x²) - 1 written x²/(√(1 + x²) + 1): no cancellation for small x; for |x| > 1
    # the difference itself (no x², which overflows first, and no cancellation there).
    root = _hypot1(xp, x)
    return xp.where(absolute(x) > 1.0, root - 1.0, x * x / (root + 1.0))


@define_loss("charbonnier", family=_REGRESSION, aliases=("pseudo_huber",))
def charbonnier(xp: Any, y_true: Any, y_pred: Any, *, scale: Positive = 1.0) -> Any:
    r"""Charbonnier (pseudo-Huber, L1-L2) loss, Barron's ρ at α = 1.

    .. math:: \ell = \operatorname{mean}_{axis} \sqrt{(e/c)^2 + 1} - 1

    kornia ``charbonnier_loss(img1, img2)`` is ``charbonnier(img2, img1, reduction=
    "none", axis=())`` (kornia has no scale: ``c = 1``; its default reduction is
    ``"none"``). SciPy's ``soft_l1`` is ``c²`` times this (:func:`soft_l1`).

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.charbonnier(xp.asarray([0.0]), xp.asarray([3.0]), scale=4.0)
    Array(0.25, dtype=array_api_strict.float64)
    """
    return _sqrt1m1(xp, (y_pred - y_true) / scale)


@closed_form("charbonnier")
def _charbonnier(xp: Any, y_true: Any, y_pred: Any, *, scale: float) -> Iterator[Any]:
    x = (y_pred - y_true) / scale
    root = _hypot1(xp, x)  # ρ' = x/(c√(1+x²)), ρ'' = 1/(c²(1+x²)^(3/2))
    yield x / root / scale
    yield 1.0 / (root * root * root) / scale**2


@define_loss("cauchy", family=_REGRESSION, aliases=("lorentzian",))
def cauchy(xp: Any, y_true: Any, y_pred: Any, *, scale: Positive = 1.0) -> Any:
    r"""Cauchy (Lorentzian) loss, Barron's ρ at α = 0.

    .. math:: \ell = \operatorname{mean}_{axis} \log\left(\tfrac12 (e/c)^2 + 1\right)

    kornia ``cauchy_loss`` at ``c = 1``. SciPy's ``least_squares(loss="cauchy",
    f_scale=s)`` adds ``½s²·log(1 + (e/s)²)`` per residual: ``½s²·cauchy(scale=s/√2)``.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.cauchy(xp.asarray([0.0]), xp.asarray([2.0]))
    Array(1.09861229, dtype=array_api_strict.float64)
    """
    x = (y_pred - y_true) / scale
    # Beyond |x| = 1: 2·log|x| + log(½ + 1/x²), which never squares x (x² overflows
    # float32 at |x| = 1.8e19, where the loss is still 87).
    size = absolute(x)
    far = size > 1.0
    inverse = 1.0 / xp.where(far, size, xp.ones_like(size))
    outer = 2.0 * xp.log(xp.where(far, size, xp.ones_like(size))) + xp.log(
        0.5 + inverse * inverse)
    return xp.where(far, outer, xp.log1p(0.5 * x * x))


@closed_form("cauchy")
def _cauchy(xp: Any, y_true: Any, y_pred: Any, *, scale: float) -> Iterator[Any]:
    x = (y_pred - y_true) / scale
    u = x * x  # ρ' = x/(c(1 + u/2)), ρ'' = (1 - u/2)/(c²(1 + u/2)²)
    yield x / (1.0 + 0.5 * u) / scale
    yield (1.0 - 0.5 * u) / (1.0 + 0.5 * u) ** 2 / scale**2


@define_loss("geman_mcclure", family=_REGRESSION)
def geman_mcclure(xp: Any, y_true: Any, y_pred: Any, *, scale: Positive = 1.0) -> Any:
    r"""Geman-McClure loss, Barron's ρ at α = -2 (bounded by 2).

    .. math:: \ell = \operatorname{mean}_{axis} \frac{2 (e/c)^2}{(e/c)^2 + 4}

    kornia ``geman_mcclure_loss`` at ``c = 1``.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.geman_mcclure(xp.asarray([0.0, 0.0]), xp.asarray([2.0, 1e200]),
    ...                         reduction="none")
    Array([1., 2.], dtype=array_api_strict.float64)
    """
    x = (y_pred - y_true) / scale
    u = x * x
    # 2/(1 + 4/u) beyond u = 1: the limit 2 also where u overflows (inf/inf otherwise).
    far = u > 1.0
    return xp.where(far, 2.0 / (1.0 + 4.0 / xp.where(far, u, xp.ones_like(u))),
                    2.0 * u / (u + 4.0))


@closed_form("geman_mcclure")
def _geman_mcclure(xp: Any, y_true: Any, y_pred: Any, *, scale: float) -> Iterator[Any]:
    x = (y_pred - y_true) / scale
    d = x * x + 4.0  # ρ' = 16x/(c(u+4)²), ρ'' = 16(4 - 3u)/(c²(u+4)³)
    yield 16.0 * x / (d * d) / scale
    yield 16.0 * (4.0 - 3.0 * x * x) / (d * d * d) / scale**2


@define_loss("welsch", family=_REGRESSION, aliases=("leclerc",))
def welsch(xp: Any, y_true: Any, y_pred: Any, *, scale: Positive = 1.0) -> Any:
    r"""Welsch (Leclerc) loss, Barron's ρ at α = -∞ (bounded by 1).

    .. math:: \ell = \operatorname{mean}_{axis} 1 - \exp\left(-\tfrac12 (e/c)^2\right)

    kornia ``welsch_loss`` at ``c = 1``. Written ``-expm1(-½(e/c)²)``: no cancellation for
    small errors.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.welsch(xp.asarray([0.0]), xp.asarray([1e-5]))
    Array(5.e-11, dtype=array_api_strict.float64)
    """
    x = (y_pred - y_true) / scale
    return -xp.expm1(-0.5 * x * x)


@closed_form("welsch", self_contained=True)
def _welsch(xp: Any, y_true: Any, y_pred: Any, *, scale: float) -> Iterator[Any]:
    x = (y_pred - y_true) / scale
    decay = xp.exp(-0.5 * x * x)  # ρ' = x·e^(-u/2)/c, ρ'' = (1 - u)·e^(-u/2)/c²
    yield x * decay / scale
    yield (1.0 - x * x) * decay / scale**2


@define_loss("soft_l1", family=_REGRESSION)
def soft_l1(xp: Any, y_true: Any, y_pred: Any, *, scale: Positive = 1.0) -> Any:
    r"""SciPy's ``soft_l1`` robust loss, in SciPy's scaling.

    .. math:: \ell = \operatorname{mean}_{axis} c^2 \left(\sqrt{1 + (e/c)^2} - 1\right)

    The value ``scipy.optimize.least_squares(loss="soft_l1", f_scale=c)`` adds to its cost
    per residual (``½c²·ρ(z)``, ``ρ(z) = 2(√(1+z) - 1)``, ``z = (e/c)²``): its ``cost`` is
    ``soft_l1(..., scale=c, reduction="sum")``. About ``½e²`` for ``|e| ≪ c`` and
    ``c|e|`` beyond; ``c²·charbonnier(scale=c)``.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.soft_l1(xp.asarray([0.0]), xp.asarray([3.0]), scale=4.0)
    Array(4., dtype=array_api_strict.float64)
    """
    return scale**2 * _sqrt1m1(xp, (y_pred - y_true) / scale)


@closed_form("soft_l1")
def _soft_l1(xp: Any, y_true: Any, y_pred: Any, *, scale: float) -> Iterator[Any]:
    x = (y_pred - y_true) / scale
    root = _hypot1(xp, x)  # ρ' = e/√(1+x²), ρ'' = (1+x²)^(-3/2)
    yield scale * x / root
    yield 1.0 / (root * root * root)


@define_loss("arctan", family=_REGRESSION)
def arctan(xp: Any, y_true: Any, y_pred: Any, *, scale: Positive = 1.0) -> Any:
    r"""SciPy's ``arctan`` robust loss, in SciPy's scaling (bounded by ``πc²/4``).

    .. math:: \ell = \operatorname{mean}_{axis} \tfrac12 c^2 \arctan\left((e/c)^2\right)

    The value ``scipy.optimize.least_squares(loss="arctan", f_scale=c)`` adds to its cost
    per residual. Not a member of Barron's family (its ``ρ(z) = arctan z`` is bounded
    but not of the form ``(1 + z/b)^(α/2)``).

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.arctan(xp.asarray([0.0]), xp.asarray([1.0]))
    Array(0.39269908, dtype=array_api_strict.float64)
    """
    x = (y_pred - y_true) / scale
    return 0.5 * scale**2 * xp.atan(x * x)  # atan(inf) = π/2: no overflow concern


@closed_form("arctan", self_contained=True)
def _arctan(xp: Any, y_true: Any, y_pred: Any, *, scale: float) -> Iterator[Any]:
    x = (y_pred - y_true) / scale
    v = 1.0 + (x * x) ** 2  # ρ' = e/(1 + u²), ρ'' = (1 - 3u²)/(1 + u²)²
    yield scale * x / v
    yield (1.0 - 3.0 * (x * x) ** 2) / (v * v)
