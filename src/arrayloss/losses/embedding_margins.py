r"""PyTorch's two-class margin losses on raw scores: soft margin and hinge embedding.

Labels are ``{-1, 1}`` as in PyTorch (any other value enters the formula as it is, as in
PyTorch's own functions). Each loss is followed by its closed-form derivatives with
respect to the prediction (first, then second).
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

__all__ = ["hinge_embedding", "soft_margin"]

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
