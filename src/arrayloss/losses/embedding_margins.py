r"""PyTorch's two-class margin losses on raw scores: soft margin and hinge embedding.

Labels are ``{-1, 1}`` as in PyTorch (any other value enters the formula as it is, as in
PyTorch's own functions). Each loss is followed by its closed-form derivatives with
respect to the prediction (first, then second).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..core.chain_rule import closed_form
from ..core.define import define_loss
from ..core.stable import sigmoid, softplus
from ._classes import CLASSIFICATION

__all__ = ["soft_margin"]


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
