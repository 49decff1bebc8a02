r"""PyTorch's two-class margin losses: soft margin and hinge embedding on raw scores or
distances, cosine embedding on pairs of embeddings.

Labels are ``{-1, 1}`` as in PyTorch (any other value enters the formula as PyTorch's own
functions read it). Each loss is followed by its closed-form derivatives with respect to
the prediction (first, then second).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Annotated, Any

from ..core.chain_rule import closed_form
from ..core.define import define_loss
from ..core.options import Interval
from ..core.stable import positive_part, sigmoid, softplus
from ._classes import CLASSIFICATION

__all__ = ["cosine_embedding", "hinge_embedding", "soft_margin"]

# A margin is any finite real number, as in PyTorch (which takes negative margins too).
Margin = Annotated[float, Interval(low=-math.inf, high=math.inf, low_open=True,
                                   high_open=True)]


@define_loss("soft_margin", family=CLASSIFICATION)
def soft_margin(xp: Any, y_true: Any, y_pred: Any) -> Any:
    r"""Two-class logistic (soft margin) loss, averaged over ``axis`` (default: the last
    axis).

    .. math:: \ell = \operatorname{mean}_{axis} \log\left(1 + e^{-y\,\hat y}\right),
              \quad y \in \{-1, 1\}

    PyTorch ``F.soft_margin_loss(input, target, reduction="none")`` is
    ``soft_margin(target, input, axis=(), reduction="none")``, and PyTorch's ``"mean"``
    (over every element) is ``soft_margin(target, input, axis=())``. Written
    ``softplus(-y·ŷ)``: a score of ``-1e4`` with the label 1 gives ``1e4``, not inf. Labels
    are not converted: 0 gives ``log 2`` as in PyTorch (:func:`arrayloss.hinge` reads 0 as
    -1; here ``{0, 1}`` labels must be turned into ``2y - 1`` first).

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.soft_margin(xp.asarray([1.0, -1.0]), xp.asarray([0.0, 1e4]),
    ...                       reduction="none")
    Array([6.93147181e-01, 1.00000000e+04], dtype=array_api_strict.float64)
    """
    return softplus(-y_true * y_pred)


@closed_form("soft_margin", self_contained=True)
def _soft_margin(xp: Any, y_true: Any, y_pred: Any) -> Iterator[Any]:
    # softplus(-y·ŷ): -y·σ(-y·ŷ), then y²·σ(y·ŷ)·σ(-y·ŷ) (both keep NaN).
    z = y_true * y_pred
    yield -y_true * sigmoid(-z)
    yield y_true * y_true * sigmoid(z) * sigmoid(-z)


def _keep_nan_labels(xp: Any, y_true: Any, values: Any) -> Any:
    # PyTorch's label tests (y != 1, y != -1) are both true for a NaN label, which would
    # give a finite value; SPEC section 6 wants NaN in, NaN out, so a NaN label is passed
    # through (the `where` sends no gradient to y_pred there; the closed form is masked
    # by the NaN value).
    return xp.where(xp.isnan(y_true), y_true, values)


@define_loss("hinge_embedding", family=CLASSIFICATION)
def hinge_embedding(xp: Any, y_true: Any, y_pred: Any, *, margin: Margin = 1.0) -> Any:
    r"""PyTorch's hinge embedding loss on distances (or scores), averaged over ``axis``
    (default: the last axis).

    .. math:: \ell = \operatorname{mean}_{axis}\Big(
              [y \ne -1]\,\hat y + [y \ne 1]\,\max(\text{margin} - \hat y, 0)\Big),
              \quad y \in \{-1, 1\}

    A label 1 (a similar pair) pulls the distance ``ŷ`` down to 0, a label -1 pushes it
    beyond ``margin``. PyTorch ``F.hinge_embedding_loss(input, target, margin,
    reduction="none")`` is ``hinge_embedding(target, input, margin=margin, axis=(),
    reduction="none")``, and PyTorch's ``"mean"`` (over every element) is
    ``hinge_embedding(target, input, margin=margin, axis=())``. Any other label takes both
    terms, as in PyTorch (0 gives ``ŷ + max(margin - ŷ, 0)``); a NaN label gives NaN. At
    the kink ``ŷ = margin`` of a label -1 the gradient is 0 (ReLU's convention; PyTorch's
    ``clamp_min`` gives -1 there).

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.hinge_embedding(xp.asarray([1.0, -1.0, -1.0]), xp.asarray([0.5, 0.25, 3.0]),
    ...                           reduction="none")
    Array([0.5 , 0.75, 0.  ], dtype=array_api_strict.float64)
    """
    zero = xp.zeros_like(y_pred)
    # PyTorch's two `where`s on the label, not one select: labels other than ±1 take both.
    pull = xp.where(y_true != -1.0, y_pred, zero)
    push = xp.where(y_true != 1.0, positive_part(margin - y_pred), zero)
    return _keep_nan_labels(xp, y_true, pull + push)


@closed_form("hinge_embedding", zero_hessian=True)
def _hinge_embedding(xp: Any, y_true: Any, y_pred: Any, *, margin: float) -> Iterator[Any]:
    # [y ≠ -1]·ŷ + [y ≠ 1]·max(m - ŷ, 0): [y ≠ -1] - [y ≠ 1]·[m - ŷ > 0] (slope 0 at the
    # kink, positive_part's convention), then 0. NaN comes from the body's mask.
    zero = xp.zeros_like(y_pred)
    one = xp.ones_like(y_pred)
    pull = xp.where(y_true != -1.0, one, zero)
    push = xp.where((y_true != 1.0) & (margin - y_pred > 0), one, zero)
    yield pull - push
    yield zero


# PyTorch's EPSILON of cosine_embedding_loss, added to each squared norm.
_COSINE_EPS = 1e-12


def _check_pairs(y_true: Any, input1: Any, input2: Any) -> None:
    if (tuple(input1.shape) != tuple(input2.shape) or input1.ndim not in (1, 2)
            or tuple(y_true.shape) != tuple(input1.shape[:-1])):
        raise ValueError(
            "input1 and input2 must have one shape, (N, D) or (D,), and y_true shape (N,) or "
            f"(); got y_true.shape={tuple(y_true.shape)}, input1.shape={tuple(input1.shape)}, "
            f"input2.shape={tuple(input2.shape)}")


def _cosine_parts(xp: Any, input1: Any, input2: Any) -> tuple[Any, Any, Any]:
    # PyTorch's cosine: Σx₁x₂ / sqrt((Σx₁² + ε)(Σx₂² + ε)), ε = 1e-12. The ε keeps a zero
    # vector at cos = 0 with a finite gradient (no division by zero, no `where`).
    a = xp.sum(input1 * input1, axis=-1) + _COSINE_EPS
    b = xp.sum(input2 * input2, axis=-1) + _COSINE_EPS
    root = xp.sqrt(a * b)
    return xp.sum(input1 * input2, axis=-1) / root, a, root


@define_loss("cosine_embedding", family=CLASSIFICATION, kind="custom",
             inputs=("y_true", "input1", "input2"), prediction="input1")
def cosine_embedding(xp: Any, y_true: Any, input1: Any, input2: Any, *,
                     margin: Margin = 0.0) -> Any:
    r"""PyTorch's cosine embedding loss of pairs of embeddings ``(N, D)`` (or one pair
    ``(D,)``), one value per pair.

    .. math:: \ell = \begin{cases} 1 - \cos(x_1, x_2) & y = 1 \\
              \max(0, \cos(x_1, x_2) - \text{margin}) & y = -1 \\
              0 & \text{otherwise} \end{cases}, \quad
              \cos = \frac{\sum x_1 x_2}{\sqrt{(\sum x_1^2 + \epsilon)
              (\sum x_2^2 + \epsilon)}}, \ \epsilon = 10^{-12}

    PyTorch ``F.cosine_embedding_loss(input1, input2, target, margin, reduction)`` is
    ``cosine_embedding(target, input1, input2, margin=margin, reduction=reduction)`` (the
    target first) for ``"none"``, ``"mean"`` and ``"sum"``, with PyTorch's ``ε`` in the
    cosine (a zero vector has cosine 0 and a finite gradient). PyTorch documents a margin
    in ``[-1, 1]``; any finite number is taken, as there. Labels other than ±1 give 0, as in
    PyTorch; a NaN label or embedding gives NaN. At ``cos = margin`` of a label -1 the
    gradient is 0 (ReLU's convention; PyTorch's ``clamp_min`` passes the slope).

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.cosine_embedding(xp.asarray([1.0, -1.0]), xp.asarray([[1.0, 0.0], [1.0, 1.0]]),
    ...                            xp.asarray([[0.0, 2.0], [1.0, 1.0]]), margin=0.5,
    ...                            reduction="none")
    Array([1. , 0.5], dtype=array_api_strict.float64)
    """
    _check_pairs(y_true, input1, input2)
    cos = _cosine_parts(xp, input1, input2)[0]
    # PyTorch's two `where`s; `0·cos` rather than 0 for the other labels, so that a NaN
    # embedding stays NaN there too (cos is bounded, so 0·cos is 0 otherwise).
    values = xp.where(y_true == 1.0, 1.0 - cos,
                      xp.where(y_true == -1.0, positive_part(cos - margin), 0.0 * cos))
    return _keep_nan_labels(xp, y_true, values)


@closed_form("cosine_embedding")
def _cosine_embedding(xp: Any, y_true: Any, input1: Any, input2: Any, *,
                      margin: float) -> Iterator[Any]:
    # With a = Σx₁² + ε, r = sqrt(a·(Σx₂² + ε)) and c = Σx₁x₂ / r, in x₁ᵢ:
    #   dc/dx₁ᵢ   = x₂ᵢ/r - c·x₁ᵢ/a
    #   d²c/dx₁ᵢ² = -x₁ᵢx₂ᵢ/(a·r) - x₁ᵢ·(dc/dx₁ᵢ)/a - c/a + 2c·x₁ᵢ²/a²
    # The loss is -c (y = 1), c where c > margin (y = -1), 0 otherwise. NaN comes from the
    # body's mask.
    _check_pairs(y_true, input1, input2)
    cos, a, root = _cosine_parts(xp, input1, input2)
    cos, a, root = (xp.expand_dims(v, axis=-1) for v in (cos, a, root))
    y = xp.expand_dims(y_true, axis=-1)
    sign = xp.where(y == 1.0, -xp.ones_like(cos),
                    xp.where((y == -1.0) & (cos - margin > 0), xp.ones_like(cos),
                             xp.zeros_like(cos)))
    d1 = input2 / root - cos * input1 / a
    yield sign * d1
    d2 = (-input1 * input2 / (a * root) - input1 * d1 / a - cos / a
          + 2.0 * cos * input1 * input1 / (a * a))
    yield sign * d2
