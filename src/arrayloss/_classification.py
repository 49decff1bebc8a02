"""What the classification losses share: option checks, class weights, label handling and
the passage from probabilities or logits to log-probabilities.

The losses themselves live in ``_crossentropy.py`` (binary, categorical, sparse, NLL, KL),
``_margin.py`` (hinge losses), ``_focal.py`` (focal losses) and ``_encoding.py``
(``one_hot``, ``to_categorical``). Every helper here works on arrays of one namespace
already cast to the computation dtype by the shared core.
"""

from __future__ import annotations

from typing import Any

from ._namespace import option_array
from ._stable import log_probability, log_sigmoid, logsumexp, one_hot_like

__all__ = [
    "CLASSIFICATION",
    "binary_logs",
    "categorical_logs",
    "check_class_axis",
    "class_weight_array",
    "label_rows",
    "pick",
    "smooth_binary",
    "smooth_categorical",
    "usable_labels",
]

CLASSIFICATION = "classification"


def check_class_axis(name: str, axis: tuple[int, ...]) -> int:
    """The single class axis of a categorical loss (the core normalizes ``axis`` to a
    tuple; several class axes have no meaning for a softmax over classes)."""
    if len(axis) != 1:
        raise TypeError(f"{name}: axis must be a single int (the class axis); got {axis!r}")
    return axis[0]


def class_weight_array(xp: Any, class_weight: Any, scores: Any, axis: int) -> Any:
    """``class_weight`` (one weight per class) shaped to broadcast along ``axis``."""
    num_classes = scores.shape[axis]
    weights = option_array(xp, class_weight, scores, name="class_weight")
    if tuple(weights.shape) != (num_classes,):
        raise ValueError(
            f"class_weight must hold one weight per class: shape ({num_classes},) for "
            f"y_pred of shape {tuple(scores.shape)} with the class axis {axis}; got "
            f"shape {tuple(weights.shape)}"
        )
    shape = [1] * scores.ndim
    shape[axis] = num_classes
    return xp.reshape(weights, tuple(shape))


def smooth_binary(y: Any, label_smoothing: float) -> Any:
    """Keras's binary label smoothing: ``y·(1 - ls) + 0.5·ls``."""
    return y if label_smoothing == 0 else y * (1.0 - label_smoothing) + 0.5 * label_smoothing


def smooth_categorical(y: Any, label_smoothing: float, num_classes: int) -> Any:
    """Keras's categorical label smoothing: ``y·(1 - ls) + ls/C``."""
    if label_smoothing == 0:
        return y
    return y * (1.0 - label_smoothing) + label_smoothing / num_classes


def binary_logs(xp: Any, y_pred: Any, from_logits: bool) -> tuple[Any, Any]:
    """``(log p, log(1 - p))`` of the positive class.

    From logits: ``log_sigmoid(±z)``, exact for ``|z| = 1e4`` (``log(1 - sigmoid(z))``
    would be ``log 0``). From probabilities: :func:`log_probability` of ``p`` and
    ``1 - p``, floored at -100 as PyTorch does, with a nonzero gradient at 0 and 1 and no
    1e-7 clip.
    """
    if from_logits:
        return log_sigmoid(y_pred), log_sigmoid(-y_pred)
    return log_probability(y_pred), log_probability(1.0 - y_pred)


def categorical_logs(xp: Any, y_pred: Any, from_logits: bool, axis: int | tuple[int, ...]) -> Any:
    """Log-probabilities over the class ``axis``.

    From logits: ``log_softmax`` (the max shift keeps logits of 1e4 finite). From
    probabilities: Keras renormalizes ``p / Σ p`` over the class axis first (a row that
    does not sum to 1 is read as unnormalized probabilities), then the floored log.
    """
    if from_logits:
        return y_pred - logsumexp(y_pred, axis=axis, keepdims=True)
    return log_probability(y_pred / xp.sum(y_pred, axis=axis, keepdims=True))


def usable_labels(
    xp: Any, labels: Any, num_classes: int, axis: int, ignore_index: int | None
) -> tuple[Any, Any, Any]:
    """Integer ``labels`` (shaped like the scores with a length-1 class axis) made safe to
    read with, with their validity and the ignore mask.

    Returns ``(safe, valid, keep)``: ``safe`` is the label where it is in ``[0, C)`` and
    not ignored, else 0, so reading with it never fails; ``valid`` is true where the label
    is in ``[0, C)``; ``keep`` is false where it equals ``ignore_index`` (``None`` when no
    ``ignore_index``); both have the per-sample shape (the class axis removed). The caller
    turns an invalid, non-ignored label into NaN (SPEC section 6) and lets the core mask
    the ignored ones.
    """
    valid = (labels >= 0) & (labels < num_classes)
    keep = None
    usable = valid
    if ignore_index is not None:
        keep = labels != ignore_index
        usable = valid & keep
    safe = xp.where(usable, labels, xp.zeros_like(labels))
    valid = xp.squeeze(valid, axis=axis)
    keep = None if keep is None else xp.squeeze(keep, axis=axis)
    return safe, valid, keep


def label_rows(
    xp: Any, labels: Any, scores: Any, axis: int, ignore_index: int | None
) -> tuple[Any, Any, Any]:
    """One-hot rows of :func:`usable_labels`: ``(one_hot, valid, keep)``."""
    safe, valid, keep = usable_labels(xp, labels, scores.shape[axis], axis, ignore_index)
    return one_hot_like(safe, scores, axis=axis), valid, keep


def pick(xp: Any, values: Any, safe: Any, axis: int) -> Any:
    """``values`` at each sample's label along ``axis`` (the class axis removed);
    ``values`` has the scores' shape, ``safe`` that shape with a length-1 class axis.

    A gather (``take_along_axis``: ``N`` reads) where the namespace has one; Dask's has
    not, and there the one-hot comparison against ``arange(C)`` selects through a
    ``where`` (``N·C`` work; a ``where`` rather than a product, so only the label's entry
    is read, as by the gather: a NaN elsewhere in the row is not part of the value).
    """
    if hasattr(xp, "take_along_axis"):
        return xp.squeeze(xp.take_along_axis(values, safe, axis=axis), axis=axis)
    rows = one_hot_like(safe, values, axis=axis)
    return xp.sum(xp.where(rows > 0, values, xp.zeros_like(values)), axis=axis)


