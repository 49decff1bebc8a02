r"""PyTorch's multi-class and multi-label margin losses on raw scores: multi-label soft
margin, multi-class margin (Weston–Watkins) and multi-label margin.

Each gives one value per sample, the mean over the class axis of per-class terms; the
class axis is one axis (PyTorch's is the last, the default here). Each loss is followed by
its closed-form derivatives with respect to the scores (first, then second).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Annotated, Any

from ..core.chain_rule import closed_form
from ..core.define import PerSample, define_loss
from ..core.namespace import device_of
from ..core.options import IntChoice
from ..core.stable import one_hot_like, positive_part, sigmoid, softplus
from ._classes import (
    CLASSIFICATION,
    check_class_axis,
    class_weight_array,
    pick,
    usable_labels,
)
from .embedding_margins import Margin

__all__ = ["multi_margin", "multilabel_margin", "multilabel_soft_margin"]


# PyTorch's p of multi_margin_loss: 1 or 2.
_Power = Annotated[int, IntChoice((1, 2))]


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


def _margins(xp: Any, labels: Any, y_pred: Any, margin: float, class_weight: Any,
             axis: int) -> tuple[Any, Any, Any, Any]:
    """``(h, others, scale, valid)``: the margins ``h_c = margin - x_y + x_c`` of every
    class, whether ``c`` is not the label, ``w_y / C`` with the class axis kept, and where
    the label is in ``[0, C)`` (per sample)."""
    # A label outside [0, C) reads class 0 (`safe`; its sample is NaN, set by the core):
    # the gather never fails.
    safe, valid, _ = usable_labels(xp, labels, y_pred.shape[axis], axis, None)
    rows = one_hot_like(safe, y_pred, axis=axis)
    own = xp.expand_dims(pick(xp, y_pred, safe, axis), axis=axis)
    scale = 1.0 / y_pred.shape[axis] + xp.zeros_like(own)
    if class_weight is not None:
        weights = class_weight_array(xp, class_weight, y_pred, axis)
        scale = scale * xp.sum(rows * weights, axis=axis, keepdims=True)
    return margin - own + y_pred, rows == 0, scale, valid


@define_loss("multi_margin", family=CLASSIFICATION, kind="labels")
def multi_margin(xp: Any, labels: Any, y_pred: Any, *, p: _Power = 1, margin: Margin = 1.0,
                 class_weight: Any = None, axis: int) -> Any:
    r"""PyTorch's multi-class margin loss (Weston–Watkins hinge) of integer labels and
    scores, one value per sample.

    .. math:: \ell = \frac{w_y}{C} \sum_{c \ne y} \max(0,\ \text{margin} - x_y + x_c)^p,
              \quad p \in \{1, 2\}

    ``labels`` are class indices, shaped as the scores without the class ``axis``
    (default -1) or with it of length 1, as for ``sparse_categorical_crossentropy``.
    PyTorch ``F.multi_margin_loss(input, target, p, margin, weight, reduction)`` is
    ``multi_margin(target, input, p=p, margin=margin, class_weight=weight,
    reduction=reduction)`` for ``"none"``, ``"mean"`` and ``"sum"`` (PyTorch's ``"mean"``
    is the plain mean over samples, with weights too: ``w_y`` scales each sample's value).
    A label outside ``[0, C)`` gives NaN for its sample (PyTorch raises). Keras's
    ``categorical_hinge`` and optax's ``multiclass_hinge_loss`` take the max over the other
    classes (Crammer–Singer), not this sum. At a kink (``x_y - x_c = margin``) the slope is
    0 (ReLU's convention; PyTorch passes it).

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.multi_margin(xp.asarray([1, 0]), xp.asarray([[0.5, 1.0, 0.75],
    ...                                                      [2.0, 0.0, 1.5]]),
    ...                        reduction="none")  # (0.5 + 0.75) / 3, (0 + 0.5) / 3
    Array([0.41666667, 0.16666667], dtype=array_api_strict.float64)
    """
    h, others, scale, valid = _margins(xp, labels, y_pred, margin, class_weight, axis)
    hinge = positive_part(h)
    if p == 2:
        hinge = hinge * hinge
    # The label's own class is left out by a `where` (its margin, `margin`, is no error).
    terms = xp.where(others, hinge, xp.zeros_like(hinge))
    values = xp.sum(terms * scale, axis=axis)
    return PerSample(values, invalid=xp.logical_not(valid))


@closed_form("multi_margin")
def _multi_margin(xp: Any, labels: Any, y_pred: Any, *, p: int, margin: float,
                  class_weight: Any, axis: int) -> Iterator[Any]:
    # With s = w_y/C and a_c = [c ≠ y]·[h_c > 0] (slope 0 at the kink, positive_part's
    # convention): p = 1 gives s·a_c for c ≠ y and -s·Σa for the label, Hessian 0; p = 2
    # gives 2s·a_c·h_c and -2s·Σ a·h, Hessian 2s·a_c and 2s·Σa. A label outside [0, C)
    # has derivatives 0 (its value is NaN through the core's `where`, as in autodiff).
    h, others, scale, valid = _margins(xp, labels, y_pred, margin, class_weight, axis)
    zero = xp.zeros_like(y_pred)
    active = xp.where(others & (h > 0), xp.ones_like(y_pred), zero)
    scale = xp.where(xp.expand_dims(valid, axis=axis), scale, xp.zeros_like(scale))
    own = xp.where(others, zero, xp.ones_like(y_pred))  # the label's one-hot row

    def spread(per_class: Any) -> Any:
        # per_class on the other classes, minus their sum on the label's class.
        return per_class - own * xp.sum(per_class, axis=axis, keepdims=True)

    if p == 1:
        yield scale * spread(active)
        yield zero
        return
    yield 2.0 * scale * spread(active * h)
    yield 2.0 * scale * (active + own * xp.sum(active, axis=axis, keepdims=True))


def _target_sets(xp: Any, y_true: Any, y_pred: Any) -> tuple[Any, Any, Any]:
    """``(count, other, valid)`` of PyTorch's padded target lists: how many times each
    class is listed before the first -1 (PyTorch counts a repeated class again), whether
    a class is not listed, and where every listed class is in ``[0, C)`` (per sample)."""
    num_classes = y_pred.shape[-1]
    device = device_of(y_pred)
    classes = xp.arange(num_classes, device=device)
    # Position k is listed when no -1 stands at or before it: a count of the -1s by a
    # matmul with the upper-triangular ones (m ≤ k), not a data-dependent slice.
    before = xp.astype(xp.expand_dims(classes, axis=1) <= xp.expand_dims(classes, axis=0),
                       y_pred.dtype)
    ends = xp.astype(y_true == -1, y_pred.dtype)
    listed = xp.matmul(ends, before) == 0
    valid = xp.all(xp.logical_not(listed) | ((y_true >= 0) & (y_true < num_classes)),
                   axis=-1)
    # hits[..., k, c]: position k lists class c.
    hits = (xp.expand_dims(y_true, axis=-1) == classes) & xp.expand_dims(listed, axis=-1)
    count = xp.sum(xp.astype(hits, y_pred.dtype), axis=-2)
    return count, count == 0, valid


def _check_multilabel(xp: Any, y_true: Any, y_pred: Any) -> None:
    if not xp.isdtype(y_true.dtype, "integral"):
        raise TypeError(f"y_true must hold integer class indices padded with -1; got dtype "
                        f"{y_true.dtype}")
    if tuple(y_true.shape) != tuple(y_pred.shape) or y_pred.ndim not in (1, 2):
        raise ValueError(
            "y_true and y_pred must have one shape, (N, C) or (C,); got "
            f"y_true.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}")


def _pair_weights(xp: Any, y_true: Any, y_pred: Any) -> tuple[Any, Any, Any]:
    """``(hinge, weight, valid)``: ``max(0, 1 - x_c + x_i)`` for every pair ``(c, i)``
    (shape ``(..., C, C)``), how often it counts (listed ``c``, unlisted ``i``), validity."""
    count, other, valid = _target_sets(xp, y_true, y_pred)
    h = 1.0 - xp.expand_dims(y_pred, axis=-1) + xp.expand_dims(y_pred, axis=-2)
    weight = xp.expand_dims(count, axis=-1) * xp.expand_dims(
        xp.astype(other, y_pred.dtype), axis=-2)
    return h, weight, valid


@define_loss("multilabel_margin", family=CLASSIFICATION, kind="custom",
             keep_dtype=("y_true",))
def multilabel_margin(xp: Any, y_true: Any, y_pred: Any) -> Any:
    r"""PyTorch's multi-label margin loss: every listed class against every unlisted one,
    one value per sample of scores ``(N, C)`` (or one sample ``(C,)``).

    .. math:: \ell = \frac1C \sum_{j} \sum_{i \notin Y} \max(0,\ 1 - (x_{y_j} - x_i))

    ``y_true`` has ``y_pred``'s shape and lists the target classes ``y_j`` first, padded
    with -1 (what follows the first -1 is not read), as PyTorch's ``target``; ``Y`` is the
    set of listed classes. PyTorch ``F.multilabel_margin_loss(input, target, reduction)``
    is ``multilabel_margin(target, input, reduction=reduction)`` for ``"none"``, ``"mean"``
    and ``"sum"``; a class listed twice counts twice, as in PyTorch. A listed class outside
    ``[0, C)`` gives NaN for its sample (PyTorch raises). At a kink (``x_{y_j} - x_i = 1``)
    the slope is 0 (ReLU's convention; PyTorch passes it).

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.multilabel_margin(xp.asarray([[3, 0, -1, 1]]),
    ...                             xp.asarray([[0.1, 0.2, 0.4, 0.8]]), reduction="none")
    Array([0.85], dtype=array_api_strict.float64)
    """
    _check_multilabel(xp, y_true, y_pred)
    h, weight, valid = _pair_weights(xp, y_true, y_pred)
    # A `where`, not weight·hinge: a score that no pair reads (a sample without targets)
    # stays out of the value, NaN included.
    terms = xp.where(weight > 0, weight * positive_part(h), xp.zeros_like(h))
    values = xp.sum(terms, axis=(-2, -1)) / y_pred.shape[-1]
    return PerSample(values, invalid=xp.logical_not(valid))


@closed_form("multilabel_margin", zero_hessian=True)
def _multilabel_margin(xp: Any, y_true: Any, y_pred: Any) -> Iterator[Any]:
    # With A_ci = weight_ci·[1 - x_c + x_i > 0] (slope 0 at the kink): dℓ/dx_k =
    # (Σ_c A_ck - Σ_i A_ki)/C, then 0. A sample with a class outside [0, C) has
    # derivatives 0 (its value is NaN through the core's `where`, as in autodiff).
    _check_multilabel(xp, y_true, y_pred)
    h, weight, valid = _pair_weights(xp, y_true, y_pred)
    active = xp.where(h > 0, weight, xp.zeros_like(h))
    grad = (xp.sum(active, axis=-2) - xp.sum(active, axis=-1)) / y_pred.shape[-1]
    zero = xp.zeros_like(y_pred)
    yield xp.where(xp.expand_dims(valid, axis=-1), grad, zero)
    yield zero
