r"""Regression losses: each body is its formula; the shared core does the rest.

Element-wise losses average over the last axis of inputs with 2 or more axes (Keras's
``axis=-1``) and give one value per element of 1-D inputs. ``e`` below is the error
``y_pred - y_true`` unless a formula says otherwise.
"""

from __future__ import annotations

import math
from typing import Any

from ._autodiff import stop_gradient
from ._define import define_loss
from ._options import Flag, NonNegative, OpenFraction, Positive
from ._stable import absolute, clamp_negative, unit_vectors, xlogy

__all__ = [
    "cosine_similarity",
    "gaussian_nll",
    "huber",
    "log_cosh",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "poisson",
    "poisson_nll",
    "quantile",
    "tukey_biweight",
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


def _poisson_values(xp: Any, y_true: Any, y_pred: Any, log_input: bool, epsilon: float) -> Any:
    if log_input:  # y_pred is the log of the rate: exp(x) - y·x
        return xp.exp(y_pred) - y_true * y_pred
    return y_pred - y_true * xp.log(y_pred + epsilon)


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
