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
(``ignore_background``), as optax and MONAI do.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from ..core.chain_rule import no_closed_form
from ..core.define import define_loss
from ..core.namespace import option_array
from ..core.options import Flag, NonNegative, check_axis, check_number
from ..core.reduction import as_array
from ..core.shapes import reconcile_pair
from ..core.stable import log_softmax, sigmoid

__all__ = ["dice", "jaccard", "tversky"]

_SEGMENTATION = "segmentation"
# The default ``axis``: every axis but the first (one value per sample).
PER_SAMPLE = "per_sample"


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


def _overlap(xp: Any, y_true: Any, y_pred: Any, *, alpha: float, beta: float, smooth: float,
             from_logits: bool, class_axis: Any, class_weight: Any, ignore_background: bool,
             axis: Any) -> Any:
    r"""``1 - (TP + s) / (TP + α·FP + β·FN + s)``, per sample (and averaged over classes)."""
    y_true, y_pred = reconcile_pair(xp, y_true, y_pred)
    ndim = y_pred.ndim
    if class_axis is not None:
        (class_axis,) = check_axis(class_axis, ndim, name="class_axis")
    elif class_weight is not None or ignore_background:
        raise ValueError(
            "class_weight and ignore_background need one-hot targets with a class axis; pass "
            f"class_axis= (got class_weight={class_weight!r}, "
            f"ignore_background={ignore_background!r}, class_axis=None)")
    axes = _sum_axes(axis, ndim, class_axis)
    prob = _probabilities(xp, y_pred, from_logits, class_axis)
    tp = xp.sum(y_true * prob, axis=axes)
    fp = xp.sum((1.0 - y_true) * prob, axis=axes)
    fn = xp.sum(y_true * (1.0 - prob), axis=axes)
    # smooth > 0 keeps the denominator positive; with smooth = 0 an empty target and an
    # empty prediction give 0/0 = NaN, as the formula says.
    loss = 1.0 - (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)
    if class_axis is None:
        return as_array(xp, loss)  # axis=None: a 0-d array, not a NumPy scalar
    # The class axis is the only one of those left after the sum that is not a sample axis.
    kept = [a for a in range(ndim) if a not in axes]
    position = kept.index(class_axis)
    num_classes = y_pred.shape[class_axis]
    if class_weight is not None:
        shape = [1] * loss.ndim
        shape[position] = num_classes
        loss = loss * xp.reshape(_class_weights(xp, class_weight, num_classes, loss),
                                 tuple(shape))
    if ignore_background:
        if num_classes < 2:
            raise ValueError(
                f"ignore_background drops class 0 and needs at least 2 classes; class axis "
                f"{class_axis} has length {num_classes}")
        loss = _drop_first(xp, loss, position)
    return as_array(xp, xp.mean(loss, axis=position))


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
         ignore_background: Flag = False, axis: Any = PER_SAMPLE) -> Any:
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
                    ignore_background=ignore_background, axis=axis)


no_closed_form(
    "dice",
    "its value couples a whole batch through the overlap sums, "
    "so it is differentiated by autodiff only",
)


@define_loss("tversky", family=_SEGMENTATION, kind="custom")
def tversky(xp: Any, y_true: Any, y_pred: Any, *, alpha: NonNegative = 0.5, beta: NonNegative = 0.5,
            smooth: NonNegative = 1e-7, from_logits: Flag = False, class_axis: int | None = None,
            class_weight: Any = None, ignore_background: Flag = False,
            axis: Any = PER_SAMPLE) -> Any:
    r"""Tversky loss: Dice with separate weights for false positives and false negatives.

    .. math:: \ell = 1 - \frac{TP + s}{TP + \alpha\,FP + \beta\,FN + s}

    ``alpha`` weighs the false positives ``FP = Σ(1 - y)·p`` and ``beta`` the false
    negatives ``FN = Σ y·(1 - p)``, as in Tversky's paper, optax ``dice_loss(alpha, beta)`` and
    MONAI ``TverskyLoss``. Keras's ``tversky`` documents the same
    but its code multiplies the false negatives by ``alpha``: Keras's
    ``tversky(alpha=a, beta=b)`` is ``tversky(alpha=b, beta=a, axis=None)`` here.
    ``alpha = beta = 1/2`` is Dice (with ``smooth`` halved), ``alpha = beta = 1`` Jaccard.

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
                    ignore_background=ignore_background, axis=axis)


no_closed_form(
    "tversky",
    "its value couples a whole batch through the overlap sums, "
    "so it is differentiated by autodiff only",
)


@define_loss("jaccard", family=_SEGMENTATION, aliases=("iou",), kind="custom")
def jaccard(xp: Any, y_true: Any, y_pred: Any, *, smooth: NonNegative = 1e-7,
            from_logits: Flag = False, class_axis: int | None = None, class_weight: Any = None,
            ignore_background: Flag = False, axis: Any = PER_SAMPLE) -> Any:
    r"""Soft Jaccard (intersection over union) loss.

    .. math:: \ell = 1 - \frac{TP + s}{\sum y + \sum p - TP + s}
              = 1 - \frac{TP + s}{TP + FP + FN + s}

    Tversky with ``alpha = beta = 1``. MONAI ``DiceLoss(jaccard=True, smooth_nr=s,
    smooth_dr=s)`` is ``jaccard(smooth=s/2, class_axis=1)``. Keras has no Jaccard loss.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> y = xp.asarray([[1.0, 1.0, 0.0, 0.0]])
    >>> p = xp.asarray([[1.0, 0.0, 0.0, 1.0]])
    >>> float(arrayloss.iou(y, p, smooth=0.0))  # 1 - 1/3
    0.6666666666666667
    """
    _check_class_axis(class_axis)
    return _overlap(xp, y_true, y_pred, alpha=1.0, beta=1.0, smooth=smooth,
                    from_logits=from_logits, class_axis=class_axis, class_weight=class_weight,
                    ignore_background=ignore_background, axis=axis)


no_closed_form(
    "jaccard",
    "its value couples a whole batch through the overlap sums, "
    "so it is differentiated by autodiff only",
)
