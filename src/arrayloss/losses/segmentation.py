r"""Soft overlap losses for segmentation: Dice, Tversky and Jaccard (IoU).

All three compare soft counts of a target mask ``y`` and a predicted probability map
``p``, summed over ``axis``:

.. math:: TP = \sum y\,p, \qquad FP = \sum (1 - y)\,p, \qquad FN = \sum y\,(1 - p)

and a ``smooth`` term in numerator and denominator makes an empty target with an empty
prediction a perfect match (loss 0) instead of ``0/0``.

By default the sums run over every axis but the first, so the loss is one value per sample
(optax and MONAI compute per sample too); ``axis=None``
sums over everything, as Keras's default does. With ``class_axis`` (one-hot multi-class
targets) the overlap is computed per sample and per class, and the per-sample value is the
mean over classes of ``class_weight[c]·loss_c``, optionally without class 0
(``ignore_background``), as optax and MONAI do. ``class_reduction`` is optax
``dice_loss(reduction=)``: ``"mean"`` (the default), ``"sum"`` over the classes, or
``"none"``, which keeps the class axis in the per-sample values (shape ``(N, C)`` for
``(N, ..., C)`` inputs; ``(N, C - 1)`` without the background), so that ``sample_weight``,
``mask`` and ``reduction`` then act per sample and class.

The focal Tversky loss and the generalized Dice loss, built on the same soft counts, are in
``segmentation_variants``.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from ..core.chain_rule import no_closed_form
from ..core.define import define_loss
from ..core.namespace import option_array
from ..core.options import (
    Flag,
    NonNegative,
    StrChoice,
    check_axis,
    check_number,
    equals_number,
    is_jax_scalar,
)
from ..core.reduction import as_array
from ..core.shapes import reconcile_pair
from ..core.stable import log_softmax, sigmoid

__all__ = ["dice", "jaccard", "tversky"]

_SEGMENTATION = "segmentation"
# The default ``axis``: every axis but the first (one value per sample).
PER_SAMPLE = "per_sample"
# How the per-class values of one sample are combined (optax ``dice_loss(reduction=)``).
ClassReduction = Annotated[str, StrChoice(("mean", "sum", "none"))]


def _sum_axes(axis: Any, ndim: int, class_axis: int | None) -> tuple[int, ...]:
    """The axes the soft counts are summed over (never the class axis)."""
    if isinstance(axis, str):
        if axis != PER_SAMPLE:
            raise ValueError(
                f"axis must be an int, a tuple of ints, None or {PER_SAMPLE!r}; got {axis!r}")
        axes = tuple(range(1, ndim))
    elif axis is None:
        axes = tuple(range(ndim))
    else:
        axes = check_axis(axis, ndim)
    if class_axis is None:
        return axes
    if axis is not None and not isinstance(axis, str) and class_axis in axes:
        raise ValueError(
            f"axis={axis!r} includes class_axis={class_axis}; the overlap is computed per "
            "class, so the class axis cannot be summed over")
    return tuple(a for a in axes if a != class_axis)


def _probabilities(xp: Any, y_pred: Any, from_logits: bool, class_axis: int | None) -> Any:
    if not from_logits:
        return y_pred
    if class_axis is None or y_pred.shape[class_axis] == 1:
        return sigmoid(y_pred)
    # Softmax through the log: exp(x - logsumexp(x)) never overflows for logits of 1e4.
    return xp.exp(log_softmax(y_pred, axis=class_axis))


def _class_weights(xp: Any, class_weight: Any, num_classes: int, like: Any) -> Any:
    if isinstance(class_weight, Sequence) and not isinstance(class_weight, str):
        for w in class_weight:
            check_number("class_weight entries", w, low=0)
    weights = option_array(xp, class_weight, like, name="class_weight")
    if tuple(weights.shape) != (num_classes,):
        raise ValueError(
            f"class_weight must hold one weight per class, shape ({num_classes},); got shape "
            f"{tuple(weights.shape)}")
    return weights


def _need_class_axis(class_weight: Any, ignore_background: bool, class_reduction: str) -> None:
    """The options that act on the class axis, refused without one."""
    if class_weight is not None or ignore_background or class_reduction != "mean":
        raise ValueError(
            "class_weight, ignore_background and class_reduction='sum' or 'none' act on the "
            "class axis of one-hot targets; pass class_axis= (got "
            f"class_weight={class_weight!r}, ignore_background={ignore_background!r}, "
            f"class_reduction={class_reduction!r}, class_axis=None)")


def _focal_power(xp: Any, loss: Any, gamma: float) -> Any:
    """``loss ** gamma``, with a finite gradient at ``loss = 0`` for ``gamma < 1``."""
    if equals_number(gamma, 1.0):
        return loss
    if not is_jax_scalar(gamma) and gamma > 1.0:
        return loss**gamma  # γ·l^(γ-1) is 0 at l = 0: no special case
    # (a traced γ, which Python cannot compare, takes the guarded form below)
    # For γ < 1, γ·l^(γ-1) is infinite at l = 0 (a perfect overlap, the minimum), and
    # autodiff would multiply that inf by the chain rule's 0 into NaN. The minimum takes the
    # gradient 0 instead; the power runs on 1 there so that neither branch of the `where`
    # has an infinite derivative (the "double where"). NaN is not 0, so NaN stays NaN.
    zero = loss == 0.0
    safe = xp.where(zero, xp.ones_like(loss), loss)
    return xp.where(zero, xp.zeros_like(loss), safe**gamma)


def _reduce_classes(xp: Any, loss: Any, position: int, class_reduction: str) -> Any:
    if class_reduction == "mean":
        return xp.mean(loss, axis=position)
    if class_reduction == "sum":
        return xp.sum(loss, axis=position)
    return loss  # "none": the per-sample values keep the class axis


def _overlap(xp: Any, y_true: Any, y_pred: Any, *, alpha: float, beta: float, smooth: float,
             from_logits: bool, class_axis: Any, class_weight: Any, ignore_background: bool,
             axis: Any, class_reduction: str = "mean", gamma: float = 1.0,
             weigh: Callable[[Any, Any, int, Any], Any] | None = None) -> Any:
    r"""``(1 - (TP + s) / (TP + α·FP + β·FN + s))**γ``, per sample (and reduced over classes).

    ``weigh(xp, y_true, class_axis, like)``, where given, computes per-class weights from the
    targets (the generalized Dice's) in place of ``class_weight``.
    """
    y_true, y_pred = reconcile_pair(xp, y_true, y_pred)
    ndim = y_pred.ndim
    if class_axis is not None:
        (class_axis,) = check_axis(class_axis, ndim, name="class_axis")
    else:
        _need_class_axis(class_weight, ignore_background, class_reduction)
    axes = _sum_axes(axis, ndim, class_axis)
    prob = _probabilities(xp, y_pred, from_logits, class_axis)
    tp = xp.sum(y_true * prob, axis=axes)
    fp = xp.sum((1.0 - y_true) * prob, axis=axes)
    fn = xp.sum(y_true * (1.0 - prob), axis=axes)
    # 1 - (TP + s)/(TP + m + s) written as m/(TP + m + s), m = α·FP + β·FN: the same value
    # without the cancellation of 1 - ratio near a perfect overlap, so the focal power of a
    # small loss keeps its relative accuracy. smooth > 0 keeps the denominator positive; with
    # smooth = 0 an empty target and an empty prediction give 0/0 = NaN, as the formula says.
    misses = alpha * fp + beta * fn
    loss = _focal_power(xp, misses / (tp + misses + smooth), gamma)
    if class_axis is None:
        return as_array(xp, loss)  # axis=None: a 0-d array, not a NumPy scalar
    # The class axis is the only one of those left after the sum that is not a sample axis.
    kept = [a for a in range(ndim) if a not in axes]
    position = kept.index(class_axis)
    num_classes = y_pred.shape[class_axis]
    if ignore_background and num_classes < 2:
        raise ValueError(
            f"ignore_background drops class 0 and needs at least 2 classes; class axis "
            f"{class_axis} has length {num_classes}")
    weights = None
    if weigh is not None:
        weights = weigh(xp, y_true, class_axis, loss)
    elif class_weight is not None:
        weights = _class_weights(xp, class_weight, num_classes, loss)
    if weights is not None:
        shape = [1] * loss.ndim
        shape[position] = num_classes
        loss = loss * xp.reshape(weights, tuple(shape))
    if ignore_background:
        loss = _drop_first(xp, loss, position)
    return as_array(xp, _reduce_classes(xp, loss, position, class_reduction))


def _drop_first(xp: Any, x: Any, axis: int) -> Any:
    index = tuple(slice(1, None) if a == axis else slice(None) for a in range(x.ndim))
    return x[index]


def _check_class_axis(class_axis: Any) -> None:
    if class_axis is not None and (isinstance(class_axis, bool)
                                   or not isinstance(class_axis, numbers.Integral)):
        raise TypeError(f"class_axis must be None or an int; got {class_axis!r}")


@define_loss("dice", family=_SEGMENTATION, kind="custom")
def dice(xp: Any, y_true: Any, y_pred: Any, *, smooth: NonNegative = 1e-7,
         from_logits: Flag = False,
         class_axis: int | None = None, class_weight: Any = None,
         ignore_background: Flag = False, class_reduction: ClassReduction = "mean",
         axis: Any = PER_SAMPLE) -> Any:
    r"""Soft Dice loss.

    .. math:: \ell = 1 - \frac{2\,TP + s}{\sum y + \sum p + s}
              = 1 - \frac{2\sum y\,p + s}{\sum y + \sum p + s}

    ``p = y_pred`` (probabilities), or ``sigmoid(y_pred)`` with ``from_logits=True``
    (``softmax`` over ``class_axis`` when it has more than one class). ``smooth`` ``s``
    defaults to Keras's ``1e-7`` (Keras adds it to the denominator only: the values differ
    by less than ``1e-7/(Σy + Σp)``); an empty target with an empty prediction gives 0.
    Keras ``dice`` reduces over everything by default: ``axis=None`` here. optax
    ``dice_loss(smooth=s)`` is ``dice(smooth=2*s, from_logits=True, class_axis=-1)``.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> y = xp.asarray([[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    >>> p = xp.asarray([[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    >>> arrayloss.dice(y, p, smooth=1.0, reduction="none")
    Array([0.4, 0. ], dtype=array_api_strict.float64)
    """
    _check_class_axis(class_axis)
    # Dice is Tversky with α = β = 1/2 and smooth s/2: (TP + s/2)/(TP + FP/2 + FN/2 + s/2).
    return _overlap(xp, y_true, y_pred, alpha=0.5, beta=0.5, smooth=smooth / 2,
                    from_logits=from_logits, class_axis=class_axis, class_weight=class_weight,
                    ignore_background=ignore_background, axis=axis,
                    class_reduction=class_reduction)


no_closed_form(
    "dice",
    "its value couples a whole batch through the overlap sums, "
    "so it is differentiated by autodiff only",
)


@define_loss("tversky", family=_SEGMENTATION, kind="custom")
def tversky(xp: Any, y_true: Any, y_pred: Any, *, alpha: NonNegative = 0.5, beta: NonNegative = 0.5,
            smooth: NonNegative = 1e-7, from_logits: Flag = False, class_axis: int | None = None,
            class_weight: Any = None, ignore_background: Flag = False,
            class_reduction: ClassReduction = "mean", axis: Any = PER_SAMPLE) -> Any:
    r"""Tversky loss: Dice with separate weights for false positives and false negatives.

    .. math:: \ell = 1 - \frac{TP + s}{TP + \alpha\,FP + \beta\,FN + s}

    ``alpha`` weighs the false positives ``FP = Σ(1 - y)·p`` and ``beta`` the false
    negatives ``FN = Σ y·(1 - p)``, as in Tversky's paper, optax ``dice_loss(alpha, beta)`` and
    MONAI ``TverskyLoss``. Keras's ``tversky`` documents the same
    but its code multiplies the false negatives by ``alpha``: Keras's
    ``tversky(alpha=a, beta=b)`` is ``tversky(alpha=b, beta=a, axis=None)`` here.
    ``alpha = beta = 1/2`` is Dice (with ``smooth`` halved), ``alpha = beta = 1`` Jaccard.
    optax ``dice_loss(..., reduction=r)`` (over the classes) is ``class_reduction=r``;
    :func:`focal_tversky` raises the per-class values to a power.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> y = xp.asarray([[1.0, 1.0, 0.0, 0.0]])
    >>> p = xp.asarray([[1.0, 0.0, 0.0, 1.0]])
    >>> float(arrayloss.tversky(y, p, alpha=0.0, beta=1.0, smooth=0.0))
    0.5
    """
    _check_class_axis(class_axis)
    return _overlap(xp, y_true, y_pred, alpha=alpha, beta=beta, smooth=smooth,
                    from_logits=from_logits, class_axis=class_axis, class_weight=class_weight,
                    ignore_background=ignore_background, axis=axis,
                    class_reduction=class_reduction)


no_closed_form(
    "tversky",
    "its value couples a whole batch through the overlap sums, "
    "so it is differentiated by autodiff only",
)


@define_loss("jaccard", family=_SEGMENTATION, aliases=("iou",), kind="custom")
def jaccard(xp: Any, y_true: Any, y_pred: Any, *, smooth: NonNegative = 1e-7,
            from_logits: Flag = False, class_axis: int | None = None, class_weight: Any = None,
            ignore_background: Flag = False, class_reduction: ClassReduction = "mean",
            axis: Any = PER_SAMPLE) -> Any:
    r"""Soft Jaccard (intersection over union) loss.

    .. math:: \ell = 1 - \frac{TP + s}{\sum y + \sum p - TP + s}
              = 1 - \frac{TP + s}{TP + FP + FN + s}

    Tversky with ``alpha = beta = 1``. MONAI ``DiceLoss(jaccard=True, smooth_nr=s,
    smooth_dr=s)`` is ``jaccard(smooth=s/2, class_axis=1)``. Keras has no Jaccard loss.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> y = xp.asarray([[1.0, 1.0, 0.0, 0.0]])
    >>> p = xp.asarray([[1.0, 0.0, 0.0, 1.0]])
    >>> float(arrayloss.iou(y, p, smooth=0.0))  # (FP + FN)/(TP + FP + FN) = 2/3
    0.6666666666666666
    """
    _check_class_axis(class_axis)
    return _overlap(xp, y_true, y_pred, alpha=1.0, beta=1.0, smooth=smooth,
                    from_logits=from_logits, class_axis=class_axis, class_weight=class_weight,
                    ignore_background=ignore_background, axis=axis,
                    class_reduction=class_reduction)


no_closed_form(
    "jaccard",
    "its value couples a whole batch through the overlap sums, "
    "so it is differentiated by autodiff only",
)
