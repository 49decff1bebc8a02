r"""Robust regression losses: Huber, smooth L1, log-cosh, quantile (pinball) and Tukey's
biweight.

Element-wise losses average over the last axis of inputs with 2 or more axes (Keras's
``axis=-1``) and give one value per element of 1-D inputs. ``e`` below is the error
``y_pred - y_true`` unless a formula says otherwise. Each loss is followed by its
closed-form derivatives and native kernel (``losses/__init__.py``). At a kink a derivative
is the one ``jax.grad`` gives for the formula itself: the quantile loss takes its
``y ≥ ŷ`` branch, Huber's and Tukey's knots belong to the inner branch; the Hessian of a
piecewise-linear loss is 0 almost everywhere and 0 here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from ..core.chain_rule import closed_form, constant
from ..core.define import define_loss
from ..core.native import custom_backward_allowed
from ..core.options import NonNegative, OpenFraction, Positive, equals_number
from ..core.stable import absolute, absolute_slope, clip, sigmoid

__all__ = [
    "huber",
    "log_cosh",
    "quantile",
    "smooth_l1",
    "tukey_biweight",
]


_REGRESSION = "regression"


@define_loss("huber", family=_REGRESSION, aliases=("huber_loss",))
def huber(xp: Any, y_true: Any, y_pred: Any, *, delta: Positive = 1.0) -> Any:
    r"""Huber loss.

    .. math:: \ell = \operatorname{mean}_{axis} \begin{cases}
              \tfrac12 e^2 & |e| \le \delta \\ \delta(|e| - \tfrac12\delta) & |e| > \delta
              \end{cases}

    Keras ``huber``, PyTorch ``F.huber_loss(delta=...)``, optax ``huber_loss``. PyTorch's
    ``F.smooth_l1_loss(beta=b)`` is ``huber(delta=b) / b``. Both branches are finite and
    meet with the same slope, so the gradient at the knot ``|e| = δ`` is ``δ·sign(e)``
    from either side.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.huber(xp.asarray([0.0, 0.0]), xp.asarray([0.5, 3.0]), reduction="none")
    Array([0.125, 2.5  ], dtype=array_api_strict.float64)
    """
    error = y_pred - y_true
    size = absolute(error)
    # The knot |e| = δ belongs to the inner branch: one gradient δ·sign(e) from either
    # side, and the second derivative 1 there on every backend (a clip-based form would
    # leave that to each backend's tie rule). NaN fails the test and takes the outer
    # branch, where it stays NaN. On torch the common call runs F.huber_loss (below).
    return xp.where(size <= delta, 0.5 * error**2, delta * (size - 0.5 * delta))


@huber.native("torch")
def _huber_torch(xp: Any, y_true: Any, y_pred: Any, *, delta: float) -> Any:
    # F.huber_loss: the same two branches, the knot on the inner one (gradient δ·sign e).
    from torch.nn import functional  # ok: torch kernel, torch tensors only

    return functional.huber_loss(y_pred, y_true, delta=delta, reduction="mean")


@closed_form("huber", self_contained=True)
def _huber(xp: Any, y_true: Any, y_pred: Any, *, delta: float) -> Iterator[Any]:
    error = y_pred - y_true
    # The error clipped to [-δ, δ]: e inside (knots included), ±δ outside; NaN stays NaN.
    yield clip(error, -delta, delta)
    inner = xp.where(error < 0, -error, error) <= delta
    yield xp.where(inner, xp.ones_like(error), xp.zeros_like(error))


@define_loss("smooth_l1", family=_REGRESSION)
def smooth_l1(xp: Any, y_true: Any, y_pred: Any, *, beta: NonNegative = 1.0) -> Any:
    r"""PyTorch's smooth L1 loss: quadratic below ``β``, the absolute error above.

    .. math:: \ell = \operatorname{mean}_{axis} \begin{cases}
              \tfrac12 e^2/\beta & |e| \le \beta \\ |e| - \tfrac12\beta & |e| > \beta
              \end{cases}

    ``F.smooth_l1_loss(input, target, beta=b)`` (Fast R-CNN's box loss), named as PyTorch
    names it: :func:`huber` with ``δ = β``, divided by ``β``. Its slope is ``e/β`` inside
    and ``sign(e)`` outside, ±1 at the knot from either side; ``β = 0`` is
    :func:`mean_absolute_error` (PyTorch's ``beta=0`` is ``F.l1_loss``), with its
    subgradient +1 at ``e = 0``.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.smooth_l1(xp.asarray([0.0, 0.0]), xp.asarray([0.5, 3.0]), beta=2.0,
    ...                     reduction="none")
    Array([0.0625, 2.    ], dtype=array_api_strict.float64)
    """
    error = y_pred - y_true
    size = absolute(error)
    if equals_number(beta, 0):
        return size
    # The knot belongs to the inner branch, as Huber's (its second derivative 1/β there).
    return xp.where(size <= beta, 0.5 * error**2 / beta, size - 0.5 * beta)


@smooth_l1.native("torch")
def _smooth_l1_torch(xp: Any, y_true: Any, y_pred: Any, *, beta: float) -> Any:
    # F.smooth_l1_loss: the same two branches, the knot on the inner one. Its beta = 0 is
    # F.l1_loss, whose subgradient at e = 0 is 0: that case runs the formula.
    if beta == 0:
        return NotImplemented
    from torch.nn import functional  # ok: torch kernel, torch tensors only

    return functional.smooth_l1_loss(y_pred, y_true, beta=beta, reduction="mean")


@closed_form("smooth_l1", self_contained=True)
def _smooth_l1(xp: Any, y_true: Any, y_pred: Any, *, beta: float) -> Iterator[Any]:
    if equals_number(beta, 0):  # mae's: the slope +1 at e = 0, no curvature
        yield absolute_slope(y_pred - y_true)
        yield xp.zeros_like(y_pred)
        return
    for derivative in _huber(xp, y_true, y_pred, delta=beta):  # huber(δ = β) / β
        yield derivative / beta


@define_loss("log_cosh", family=_REGRESSION, aliases=("logcosh",))
def log_cosh(xp: Any, y_true: Any, y_pred: Any) -> Any:
    r"""Logarithm of the hyperbolic cosine of the error.

    .. math:: \ell = \operatorname{mean}_{axis} \log\cosh e
              = |e| + \operatorname{softplus}(-2|e|) - \log 2

    The right-hand form never overflows: ``cosh(100)`` is inf in float32, while
    ``softplus(-2|e|)`` lies in ``(0, log 2]``, so an error of ±2e38 in float32 is exact
    (Keras's and optax's ``e + softplus(-2e)`` reaches inf there: ``-2e`` overflows). The
    slope at 0 is ``sign(e)·(1 - 2·sigmoid(0)) = 0`` whichever side ``|e|`` takes.
    torchmetrics' ``log_cosh_error`` overflows at an error of 100.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.log_cosh(xp.asarray([0.0]), xp.asarray([1e4], dtype=xp.float32))
    Array(9999.307, dtype=array_api_strict.float32)
    """
    # Native abs: its subgradient at 0 (0 on PyTorch, 1 on JAX) is multiplied by
    # 1 - 2·sigmoid(0) = 0, so every backend has the slope 0 there.
    size = xp.abs(y_pred - y_true)
    # softplus(-2|e|) = log1p(exp(-|e|)²): exp(-|e|) only underflows (to 0, exactly the
    # limit), where -2|e| itself would overflow for |e| above half the largest float.
    return size + xp.log1p(xp.exp(-size) ** 2) - math.log(2.0)


@log_cosh.native("torch")
def _log_cosh_torch(xp: Any, y_true: Any, y_pred: Any) -> Any:
    # PyTorch has no log_cosh: the formula with its closed-form backward in one
    # autograd.Function (_robust_torch.py), in eager PyTorch; under torch.compile and
    # torch.func the formula runs.
    if y_true.shape != y_pred.shape or not custom_backward_allowed(y_pred):
        return NotImplemented
    from ._robust_torch import MeanLogCosh  # ok: torch tensors only

    return MeanLogCosh.apply(y_true, y_pred)


@closed_form("log_cosh", self_contained=True)
def _log_cosh(xp: Any, y_true: Any, y_pred: Any) -> Iterator[Any]:
    error = y_pred - y_true
    yield xp.tanh(error)  # d/de log cosh e
    # The second derivative 1 - tanh² e is written 4·sigmoid(2e)·sigmoid(-2e), which keeps
    # its tiny value for large |e| where 1 - tanh² cancels to 0 (and never overflows, as
    # 1/cosh² would).
    yield 4.0 * sigmoid(2.0 * error) * sigmoid(-2.0 * error)


@define_loss("quantile", family=_REGRESSION, aliases=("pinball", "pinball_loss"))
def quantile(xp: Any, y_true: Any, y_pred: Any, *, q: OpenFraction = 0.5) -> Any:
    r"""Quantile (pinball) loss for the quantile ``q``.

    .. math:: \ell = \operatorname{mean}_{axis} \max(q\,(y - \hat y), (q - 1)(y - \hat y))

    scikit-learn ``mean_pinball_loss(alpha=q)``. At ``ŷ = y`` the gradient with respect to
    ``ŷ`` is ``-q`` on every backend (the branch for ``y ≥ ŷ``).

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.quantile(xp.asarray([1.0, 1.0]), xp.asarray([0.0, 2.0]), q=0.9,
    ...                    reduction="none")
    Array([0.9, 0.1], dtype=array_api_strict.float64)
    """
    under = y_true - y_pred
    return xp.where(under >= 0, q * under, (q - 1.0) * under)


@closed_form("quantile", zero_hessian=True)
def _quantile(xp: Any, y_true: Any, y_pred: Any, *, q: float) -> Iterator[Any]:
    under = y_true - y_pred
    yield xp.where(under >= 0, constant(under, -q), constant(under, 1.0 - q))
    yield xp.zeros_like(under)


@define_loss("tukey_biweight", family=_REGRESSION, aliases=("tukey",))
def tukey_biweight(xp: Any, y_true: Any, y_pred: Any, *, c: Positive = 4.685) -> Any:
    r"""Tukey's biweight (bisquare) loss, a redescending robust loss.

    .. math:: \ell = \operatorname{mean}_{axis} \begin{cases}
              \frac{c^2}{6}\left(1 - (1 - (e/c)^2)^3\right) & |e| \le c \\
              \frac{c^2}{6} & |e| > c \end{cases}

    statsmodels ``TukeyBiweight(c).rho``; ``c = 4.685`` gives 95% efficiency under
    Gaussian noise. Errors beyond ``c`` have zero gradient: outliers are ignored.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.tukey(xp.asarray([0.0, 0.0]), xp.asarray([0.0, 10.0]), c=3.0,
    ...                 reduction="none")
    Array([0. , 1.5], dtype=array_api_strict.float64)
    """
    ratio_sq = ((y_pred - y_true) / c) ** 2
    plateau = c**2 / 6.0
    inside = plateau * (1.0 - (1.0 - ratio_sq) ** 3)
    # Tested as "beyond c" so that NaN (every comparison false) stays on the NaN branch.
    return xp.where(ratio_sq > 1.0, xp.full_like(ratio_sq, plateau), inside)


@closed_form("tukey_biweight")
def _tukey(xp: Any, y_true: Any, y_pred: Any, *, c: float) -> Iterator[Any]:
    error = y_pred - y_true
    u = (error / c) ** 2
    inside = u <= 1.0
    zero = xp.zeros_like(error)
    # rho = c²/6·(1 - (1 - u)³), u = (e/c)²: rho' = e·(1 - u)², rho'' = (1 - u)(1 - 5u).
    # The second derivative is negative for u > 1/5: the loss is not convex there.
    yield xp.where(inside, error * (1.0 - u) ** 2, zero)
    yield xp.where(inside, (1.0 - u) * (1.0 - 5.0 * u), zero)
