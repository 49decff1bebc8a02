"""What the classification losses share: option checks, class weights, label handling and
the passage from probabilities or logits to log-probabilities.

The losses themselves live in ``binary_crossentropy.py``, ``crossentropy.py`` (categorical,
sparse, NLL), ``divergences.py`` (KL), ``margin.py`` (hinge losses), ``focal.py`` (focal
losses) and ``encoding.py`` (``one_hot``, ``to_categorical``). Every helper here works on
arrays of one namespace already cast to the computation dtype by the shared core.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from ..core.namespace import option_array
from ..core.options import equals_number
from ..core.shapes import drop_axes
from ..core.stable import (
    LOG_FLOOR_SLOPE,
    floored,
    log_probability,
    log_sigmoid_pair,
    logsumexp,
    nothing_floored,
    one_hot_like,
    sigmoid,
)

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


def without_classes(xp: Any, mask: Any, y_true: Any, y_pred: Any, *, from_logits: bool = False,
                    log_target: bool = False, log_input: bool = False, **_: Any) -> tuple[Any, Any]:
    """The softmax losses' rule for a mask inside the class axis (``core/class_mask.py``):
    a masked class gets the logit ``-inf`` (the probability 0) and the target 0 (``-inf``
    for a log target), which those formulas count as exactly 0, so the softmax is taken
    over the other classes; a ``where``, so the masked entries get no gradient. Integer
    labels are left as they are (a label on a masked class has probability 0)."""
    log_prediction = from_logits or log_input
    absent = xp.full_like(y_pred, -math.inf if log_prediction else 0.0)
    y_pred = xp.where(mask, y_pred, absent)
    if xp.isdtype(y_true.dtype, "real floating"):
        absent = xp.full_like(y_true, -math.inf if log_target else 0.0)
        y_true = xp.where(mask, y_true, absent)
    return y_true, y_pred


def smooth_binary(y: Any, label_smoothing: float) -> Any:
    """Keras's binary label smoothing: ``y·(1 - ls) + 0.5·ls``."""
    if equals_number(label_smoothing, 0):
        return y
    return y * (1.0 - label_smoothing) + 0.5 * label_smoothing


def smooth_categorical(y: Any, label_smoothing: float, num_classes: int) -> Any:
    """Keras's categorical label smoothing: ``y·(1 - ls) + ls/C``."""
    if equals_number(label_smoothing, 0):
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
        return log_sigmoid_pair(y_pred)
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
    valid = drop_axes(xp, valid, axis)
    keep = None if keep is None else drop_axes(xp, keep, axis)
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
        return drop_axes(xp, xp.take_along_axis(values, safe, axis=axis), axis)
    rows = one_hot_like(safe, values, axis=axis)
    return xp.sum(xp.where(rows > 0, values, xp.zeros_like(values)), axis=axis)


def log_probability_slope(xp: Any, p: Any) -> Any:
    """The derivative of ``log_probability(p)``: ``1/p``, or ``1e12`` where the log is
    floored (``p ≤ 0`` or ``log p < -100``). Finite wherever ``p`` is not NaN."""
    if nothing_floored(p):
        return 1.0 / p
    low = floored(p)
    safe = xp.where(low, xp.ones_like(p), p)  # double where: no 1/0 in the unused branch
    return xp.where(low, xp.full_like(p, LOG_FLOOR_SLOPE), 1.0 / safe)


def log_probability_curvature(xp: Any, p: Any) -> Any:
    """The second derivative of ``log_probability(p)``: ``-1/p²``, 0 where floored."""
    if nothing_floored(p):
        inverse = 1.0 / p
        return -inverse * inverse
    low = floored(p)
    inverse = 1.0 / xp.where(low, xp.ones_like(p), p)
    return xp.where(low, xp.zeros_like(p), -inverse * inverse)


def log_probability_slopes(xp: Any, p: Any) -> tuple[Any, Any]:
    """Both derivatives of ``log_probability(p)`` (:func:`log_probability_slope`,
    :func:`log_probability_curvature`)."""
    return log_probability_slope(xp, p), log_probability_curvature(xp, p)


def binary_slopes(xp: Any, y_pred: Any, from_logits: bool) -> tuple[Any, Any]:
    """``(lp', lq')``: the derivatives of ``log p`` and ``log(1 - p)``."""
    if from_logits:
        return sigmoid(-y_pred), -sigmoid(y_pred)  # both exact, no 1 - sigmoid cancellation
    return log_probability_slope(xp, y_pred), -log_probability_slope(xp, 1.0 - y_pred)


def binary_curvatures(xp: Any, y_pred: Any, from_logits: bool) -> tuple[Any, Any]:
    """``(lp'', lq'')``: the second derivatives of ``log p`` and ``log(1 - p)``."""
    if from_logits:
        both = -sigmoid(y_pred) * sigmoid(-y_pred)
        return both, both
    return log_probability_curvature(xp, y_pred), log_probability_curvature(xp, 1.0 - y_pred)


def softmax_of(xp: Any, z: Any, axis: int | tuple[int, ...]) -> Any:
    """``exp(z - m) / Σ exp(z - m)`` with the max shift ``m``, as the gradient of
    ``logsumexp`` is: exact for logits of ±1e4 (``exp(z - logsumexp(z))`` would carry the
    rounding of ``logsumexp ≈ 1e4`` in float32 into every probability)."""
    shift = xp.max(z, axis=axis, keepdims=True)
    # A row that is entirely -inf is shifted by 0, as in logsumexp.
    shift = xp.where(xp.isfinite(shift), shift, xp.zeros_like(shift))
    exponentials = xp.exp(z - shift)
    return exponentials / xp.sum(exponentials, axis=axis, keepdims=True)


def through_classes(xp: Any, y_pred: Any, f1: Any, f2: Any, from_logits: bool,
                    axis: int | tuple[int, ...]) -> Iterator[Any]:
    """Yield the gradient, then the Hessian diagonal, of ``Σ_c f(s_c)`` w.r.t. ``y_pred``,
    given ``f1 = f'(s_c)`` per class and ``f2``: ``f''(s_c)`` per class, a function that
    computes it (called only for the Hessian), or ``None`` where ``f''`` is 0. ``s`` is the
    log-softmax of logits or the floored log of the renormalized probabilities
    ``q = p/Σp``.

    With ``J_cj = ds_c/dŷ_j`` and ``H_cj = d²s_c/dŷ_j²``: ``g_j = Σ_c f1_c J_cj`` and
    ``h_j = Σ_c f2_c J_cj² + f1_c H_cj``. Logits: ``J_cj = δ_cj - p_j``,
    ``H_cj = -p_j(1 - p_j)``. Probabilities (``L`` = ``log_probability``, ``S = Σp``):
    ``J_cj = L'(q_c)(δ_cj - q_c)/S``, ``H_cj = (L''(q_c)(δ_cj - q_c)² - 2L'(q_c)(δ_cj -
    q_c))/S²``. The sums over ``c`` expand into per-class terms and class-axis totals.
    """
    def total(x: Any) -> Any:
        return xp.sum(x, axis=axis, keepdims=True)

    def second_derivative() -> Any:
        return f2() if callable(f2) else f2

    if from_logits:
        p = softmax_of(xp, y_pred, axis)
        f1_total = total(f1)
        yield f1 - p * f1_total
        curvature = -p * (1.0 - p) * f1_total
        f2 = second_derivative()
        yield curvature if f2 is None else (
            f2 * (1.0 - 2.0 * p) + p * p * total(f2) + curvature)
        return
    size = total(y_pred)
    q = y_pred / size
    d1, d2 = log_probability_slopes(xp, q)
    alpha = d1 / size  # J_cj = δ_cj·alpha_j + beta_c
    beta = -d1 * q / size
    yield f1 * alpha + total(f1 * beta)
    curvature = (f1 * d2 * (1.0 - 2.0 * q) + total(f1 * d2 * q * q)
                 - 2.0 * f1 * d1 + 2.0 * total(f1 * d1 * q)) / (size * size)
    f2 = second_derivative()
    yield curvature if f2 is None else (
        f2 * (alpha * alpha + 2.0 * alpha * beta) + total(f2 * beta * beta) + curvature)


def label_targets(xp: Any, labels: Any, scores: Any, axis: int, ignore_index: Any,
                   label_smoothing: float, class_weight: Any) -> tuple[Any, Any]:
    """Per-class targets ``t`` with ``loss = -Σ t_c log p_c`` (PyTorch's smoothing, class
    weights divided by the label's own weight ``w_y``, which the core multiplies back),
    and where the sample's label is usable (in range and not ignored)."""
    rows, valid, keep = label_rows(xp, labels, scores, axis, ignore_index)
    targets = rows
    if not equals_number(label_smoothing, 0):
        spread = xp.ones_like(scores)
        if class_weight is not None:
            weights = class_weight_array(xp, class_weight, scores, axis)
            own = xp.sum(rows * weights, axis=axis, keepdims=True)
            own = xp.where(own == 0, xp.ones_like(own), own)  # as the loss's _nonzero
            spread = weights / own + xp.zeros_like(scores)
        num_classes = scores.shape[axis]
        targets = (1.0 - label_smoothing) * rows + label_smoothing / num_classes * spread
    usable = valid if keep is None else xp.logical_and(valid, keep)
    return targets, xp.expand_dims(usable, axis=axis)
