r"""Deviances of the Tweedie family (scikit-learn's ``mean_tweedie_deviance``, with its
Poisson and gamma members), each followed by its closed-form derivatives.

The unit deviance of power ``p`` is ``2·(y^{2-p}/((1-p)(2-p)) - y·ŷ^{1-p}/(1-p) +
ŷ^{2-p}/(2-p))``, with its limits at ``p = 1`` (Poisson) and ``p = 2`` (gamma). Near a good
prediction its three terms cancel: at ``y/ŷ = 1 + u`` the deviance is ``ŷ^{2-p}·u²`` to first
order, while each term is of order 1, so the direct form loses ``log10(1/u²)`` digits
(scikit-learn's does; at ``u = 1e-4`` in float32 no digit is left). Here, where ``|u|`` is
small, it is the power series ``2·ŷ^{2-p}·Σ_{k≥2} c_k u^k`` of the same function, whose
coefficients follow ``c_2 = 1/2``, ``c_{k+1} = c_k·(2 - p - k)/(k + 1)``; elsewhere the
direct form, whose cancellation is then harmless.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Annotated, Any

from ..core.chain_rule import closed_form
from ..core.define import define_loss
from ..core.options import TweediePower
from ..core.stable import xlogy

__all__ = ["gamma_deviance", "poisson_deviance", "tweedie_deviance"]

_REGRESSION = "regression"


Power = Annotated[float, TweediePower()]  # p ≤ 0 or p ≥ 1

# Where |u| is below this, the series (terms up to u^_TERMS) is exact to the dtype's
# precision (0.05^15 < 1e-19, 0.25^15 < 1e-9), and above it the direct form loses fewer
# digits than the dtype has beyond them (eps/u²: 1e-13 in float64, 1e-6 in float32).
_SERIES_BELOW = {8: 0.05, 4: 0.25}
_TERMS = 16


def _unit_deviance(xp: Any, y: Any, mu: Any, power: float) -> Any:
    if power == 0:  # the squared error itself, no cancellation to avoid
        return (y - mu) ** 2
    u = (y - mu) / mu
    small = xp.abs(u) < _SERIES_BELOW.get(xp.finfo(mu.dtype).bits // 8, 0.25)
    # Double where: the series of a large u may overflow (and its gradient with it).
    u_small = xp.where(small, u, xp.zeros_like(u))
    coefficients = [0.5]  # c_2, c_3, ... as in the module docstring
    for k in range(2, _TERMS):
        coefficients.append(coefficients[-1] * (2.0 - power - k) / (k + 1))
    series = xp.full_like(u, coefficients[-1])
    for c in reversed(coefficients[:-1]):  # Horner: u²·(c_2 + u·(c_3 + u·(...)))
        series = c + u_small * series
    series = 2.0 * mu ** (2.0 - power) * u_small**2 * series
    if power == 1:  # 2·(y log(y/μ) - y + μ), 0·log 0 = 0 at y = 0
        direct = 2.0 * (xlogy(y, y / mu) - (y - mu))
    elif power == 2:  # 2·(log(μ/y) + y/μ - 1) = 2·(u - log1p(u))
        direct = 2.0 * (u - xp.log1p(u))
    else:
        # max(y, 0) as scikit-learn for p < 0, where y may be negative; for p ≥ 1 a
        # negative y is outside the domain (NaN below).
        positive = xp.where(y > 0, y, xp.zeros_like(y)) if power < 0 else y
        direct = 2.0 * (positive ** (2.0 - power) / ((1.0 - power) * (2.0 - power))
                        - y * mu ** (1.0 - power) / (1.0 - power)
                        + mu ** (2.0 - power) / (2.0 - power))
    value = xp.where(small, series, direct)
    # The domain (scikit-learn raises there): μ > 0, and y ≥ 0 for p ≥ 1.
    invalid = (mu <= 0) | (y < 0) if power >= 1 else mu <= 0
    return xp.where(invalid, xp.full_like(value, math.nan), value)


def _unit_derivatives(xp: Any, y: Any, mu: Any, power: float) -> Iterator[Any]:
    # d/dμ = 2·μ^{-p}·(μ - y), d²/dμ² = 2·μ^{-p-1}·(p·y + (1 - p)·μ): one form for every p.
    if power == 0:
        yield 2.0 * (mu - y)
        yield xp.full_like(mu, 2.0)
        return
    scale = 2.0 * mu ** (-power)
    yield scale * (mu - y)
    yield scale / mu * (power * y + (1.0 - power) * mu)


@define_loss("tweedie_deviance", family=_REGRESSION, aliases=("tweedie",))
def tweedie_deviance(xp: Any, y_true: Any, y_pred: Any, *, power: Power = 0.0) -> Any:
    r"""Unit deviance of the Tweedie distribution of power ``p`` with mean ``ŷ``.

    .. math:: \ell = \operatorname{mean}_{axis}\, 2\left(\frac{y^{2-p}}{(1-p)(2-p)}
              - \frac{y\,\hat y^{1-p}}{1-p} + \frac{\hat y^{2-p}}{2-p}\right)

    ``p = 0`` is the squared error, ``p = 1`` :func:`poisson_deviance`, ``p = 2``
    :func:`gamma_deviance`, ``1 < p < 2`` the compound Poisson–gamma; ``0 < p < 1`` is
    refused. scikit-learn's ``mean_tweedie_deviance(y, ŷ, power=p)`` is the ``"mean"`` of
    1-D inputs, with the same ``max(y, 0)`` for ``p < 0``. Outside the domain (``ŷ ≤ 0``,
    or ``y < 0`` for ``p ≥ 1``), where scikit-learn raises, the value is NaN. Near
    ``y = ŷ`` a power series replaces the direct form, whose terms cancel (module
    docstring): the deviance of ``ŷ = 1, y = 1 + 1e-4`` is ``1e-8`` to float32's precision.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.tweedie_deviance(xp.asarray([1.0, 3.0]), xp.asarray([2.0, 2.0]),
    ...                            power=1.5, reduction="none")
    Array([0.48528137, 0.28572916], dtype=array_api_strict.float64)
    """
    return _unit_deviance(xp, y_true, y_pred, power)


@closed_form("tweedie_deviance")
def _tweedie(xp: Any, y_true: Any, y_pred: Any, *, power: float) -> Iterator[Any]:
    return _unit_derivatives(xp, y_true, y_pred, power)


@define_loss("poisson_deviance", family=_REGRESSION)
def poisson_deviance(xp: Any, y_true: Any, y_pred: Any) -> Any:
    r"""Poisson deviance: twice the log-likelihood ratio of the mean ``ŷ`` to the saturated model.

    .. math:: \ell = \operatorname{mean}_{axis}\, 2\left(y\log\frac{y}{\hat y} - y + \hat y\right)

    scikit-learn's ``mean_poisson_deviance``; ``0·log 0 = 0`` at ``y = 0``, NaN for
    ``ŷ ≤ 0`` or ``y < 0``. It differs from :func:`poisson` (Keras's, without the
    saturated model) by ``2·(y log y - y)``, a constant in ``ŷ``: the same gradient, halved.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.poisson_deviance(xp.asarray([0.0, 2.0]), xp.asarray([1.0, 2.0]),
    ...                            reduction="none")
    Array([2., 0.], dtype=array_api_strict.float64)
    """
    return _unit_deviance(xp, y_true, y_pred, 1.0)


@closed_form("poisson_deviance")
def _poisson_deviance(xp: Any, y_true: Any, y_pred: Any) -> Iterator[Any]:
    return _unit_derivatives(xp, y_true, y_pred, 1.0)


@define_loss("gamma_deviance", family=_REGRESSION)
def gamma_deviance(xp: Any, y_true: Any, y_pred: Any) -> Any:
    r"""Gamma deviance of the mean ``ŷ``, scale-free in ``y``.

    .. math:: \ell = \operatorname{mean}_{axis}\, 2\left(\log\frac{\hat y}{y} + \frac{y}{\hat y}
              - 1\right)

    scikit-learn's ``mean_gamma_deviance``: multiplying ``y`` and ``ŷ`` by the same factor
    leaves it unchanged. ``y = 0`` gives inf (scikit-learn raises), ``ŷ ≤ 0`` or ``y < 0``
    NaN.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.gamma_deviance(xp.asarray([1.0, 10.0]), xp.asarray([2.0, 20.0]),
    ...                          reduction="none")
    Array([0.38629436, 0.38629436], dtype=array_api_strict.float64)
    """
    return _unit_deviance(xp, y_true, y_pred, 2.0)


@closed_form("gamma_deviance")
def _gamma_deviance(xp: Any, y_true: Any, y_pred: Any) -> Iterator[Any]:
    return _unit_derivatives(xp, y_true, y_pred, 2.0)
