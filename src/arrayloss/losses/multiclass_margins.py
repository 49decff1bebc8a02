r"""PyTorch's multi-label margin losses on raw scores: multi-label soft margin.

Each gives one value per sample, the mean over the class axis of per-class terms; the
class axis is one axis (PyTorch's is the last, the default here). Each loss is followed by
its closed-form derivatives with respect to the scores (first, then second).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from ..core.chain_rule import closed_form
from ..core.define import define_loss
from ..core.stable import sigmoid, softplus
from ._classes import CLASSIFICATION, check_class_axis, class_weight_array

__all__ = ["multilabel_soft_margin"]


def _class_weights(xp: Any, class_weight: Any, y_pred: Any, axis: int) -> Any:
    # One weight per class along the class axis, or the number 1 (no array: a plain call
    # multiplies nothing).
    return 1.0 if class_weight is None else class_weight_array(xp, class_weight, y_pred, axis)


@define_loss("multilabel_soft_margin", family=CLASSIFICATION, kind="axis")
def multilabel_soft_margin(xp: Any, y_true: Any, y_pred: Any, *, class_weight: Any = None,
                           axis: tuple[int, ...]) -> Any:
    r"""PyTorch's multi-label soft margin loss: the logistic loss of each class's score,
    weighted per class and averaged over the class ``axis`` (default -1).

    .. math:: \ell = \frac1C \sum_c w_c \big(y_c \log(1 + e^{-z_c})
              + (1 - y_c) \log(1 + e^{z_c})\big), \quad y_c \in \{0, 1\}

    ``y_true`` holds ``{0, 1}`` targets (soft targets in ``[0, 1]`` too) of ``y_pred``'s
    shape, ``y_pred`` the logits ``z``. PyTorch ``F.multilabel_soft_margin_loss(input,
    target, weight, reduction)`` is ``multilabel_soft_margin(target, input,
    class_weight=weight, reduction=reduction)`` for ``"none"``, ``"mean"`` and ``"sum"``
    (PyTorch's ``"mean"`` is the plain mean over samples, with or without weights).
    Without ``class_weight`` it equals ``binary_crossentropy(y, z, from_logits=True)``.
    Written with ``softplus``: logits of ``±1e4`` give finite values and gradients
    (``log σ(z)`` would be ``log 0``).

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.multilabel_soft_margin(xp.asarray([[1.0, 0.0]]), xp.asarray([[0.0, 1e4]]),
    ...                                  class_weight=[2.0, 1.0], reduction="none")
    Array([5000.69314718], dtype=array_api_strict.float64)
    """
    class_axis = check_class_axis("multilabel_soft_margin", axis)
    weights = _class_weights(xp, class_weight, y_pred, class_axis)
    # y·softplus(-z) + (1 - y)·softplus(z) = -(y·log σ(z) + (1 - y)·log σ(-z)), without the
    # log of an underflowed σ.
    terms = y_true * softplus(-y_pred) + (1.0 - y_true) * softplus(y_pred)
    return xp.mean(weights * terms, axis=class_axis)


@closed_form("multilabel_soft_margin", self_contained=True)
def _multilabel_soft_margin(xp: Any, y_true: Any, y_pred: Any, *, class_weight: Any,
                            axis: tuple[int, ...]) -> Iterator[Any]:
    # (w/C)·(y·softplus(-z) + (1 - y)·softplus(z)): (w/C)·(σ(z) - y), then (w/C)·σ(z)σ(-z)
    # (both keep NaN of z and y).
    class_axis = check_class_axis("multilabel_soft_margin", axis)
    scale = _class_weights(xp, class_weight, y_pred, class_axis) / max(
        1, math.prod(y_pred.shape[a] for a in axis))
    yield scale * (sigmoid(y_pred) - y_true)
    yield scale * sigmoid(y_pred) * sigmoid(-y_pred) + 0.0 * y_true
