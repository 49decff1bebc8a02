r"""Cross-entropy losses of classes: categorical, sparse (integer labels) and NLL (the
binary one is ``binary_crossentropy.py``).

Probabilities go through :func:`~arrayloss.core.stable.log_probability` (the log floored at
-100 as PyTorch does, never a 1e-7 clip); logits (``from_logits=True``) go through
log-sigmoid or log-softmax, exact for logits of ``±1e4`` in float32.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from ..core.chain_rule import closed_form
from ..core.define import PerSample, define_loss
from ..core.native import (
    finite_or_formula,
    host_checks_allowed,
)
from ..core.options import Flag, Fraction, IgnoreIndex, equals_number
from ..core.shapes import drop_axes
from ..core.stable import times_log
from ._classes import (
    CLASSIFICATION,
    categorical_logs,
    check_class_axis,
    class_weight_array,
    label_targets,
    pick,
    smooth_categorical,
    through_classes,
    usable_labels,
    without_classes,
)

__all__ = [
    "categorical_crossentropy",
    "negative_log_likelihood",
    "sparse_categorical_crossentropy",
]


@define_loss("categorical_crossentropy", family=CLASSIFICATION, aliases=("cce",), kind="axis",
             class_mask=without_classes)
def categorical_crossentropy(
    xp: Any,
    y_true: Any,
    y_pred: Any,
    *,
    from_logits: Flag = False,
    label_smoothing: Fraction = 0.0,
    class_weight: Any = None,
    axis: tuple[int, ...],
) -> Any:
    r"""Categorical cross-entropy over the class ``axis`` (default -1).

    .. math:: \ell = -\sum_c y_c \log p_c, \quad y \leftarrow y(1 - ls) + ls/C

    ``p = softmax(y_pred)`` with ``from_logits=True`` (computed as ``logsoftmax_of``);
    probabilities are renormalized, ``p / Σ p``, as Keras does, then the log is floored
    at -100 (no 1e-7 clip). ``class_weight`` (one weight per class) gives each sample the
    weight ``Σ_c y_c w_c`` of its (unsmoothed) target, as Keras's ``fit(class_weight=)``
    does for one-hot targets; ``reduction="weighted_mean"`` then divides by the sum of
    those weights, as PyTorch's ``F.cross_entropy(weight=...)`` does for class indices.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> loss = arrayloss.cce(xp.asarray([[0.0, 1.0]]), xp.asarray([[0.5, 2.0]]))
    >>> round(float(loss), 6)
    0.223144
    """
    class_axis = check_class_axis("categorical_crossentropy", axis)
    y = smooth_categorical(y_true, label_smoothing, y_pred.shape[class_axis])
    log_p = categorical_logs(xp, y_pred, from_logits, class_axis)
    values = -xp.sum(times_log(y, log_p), axis=class_axis)
    if class_weight is None:
        return values
    weights = class_weight_array(xp, class_weight, y_pred, class_axis)
    return PerSample(values, weight=xp.sum(y_true * weights, axis=class_axis))


@categorical_crossentropy.native("torch")
def _cce_torch(xp: Any, y_true: Any, y_pred: Any, *, from_logits: bool, label_smoothing: float,
               class_weight: Any, axis: tuple[int, ...]) -> Any:
    # F.cross_entropy with probability targets is -Σ y·log_softmax(z) (the formula's
    # smoothing too) in one fused kernel each way. It differs only where a log-probability
    # is infinite (0·(-inf) is NaN there, 0 in the formula): a result that is not finite
    # is recomputed by the formula, which is why the kernel runs only where the result can
    # be read on the host.
    if not from_logits or class_weight is not None or not host_checks_allowed(y_pred):
        return NotImplemented
    from torch.nn import functional  # ok: torch kernel, torch tensors only

    scores, targets = torch_class_axis_first(y_pred, y_true, axis)
    loss = functional.cross_entropy(scores, targets, label_smoothing=label_smoothing)
    return finite_or_formula(loss)


def torch_class_axis_first(scores: Any, targets: Any, axis: tuple[int, ...]) -> tuple[Any, Any]:
    """Scores and same-shaped targets with the class axis where PyTorch has it (axis 1)."""
    import torch  # ok: torch kernel, torch tensors only

    (class_axis,) = axis
    if scores.ndim > 1 and class_axis % scores.ndim != 1:
        moved = torch.movedim(scores, class_axis, 1)  # ok: torch-only, in a torch kernel
        return moved, torch.movedim(targets, class_axis, 1)  # ok: torch-only, as above
    return scores, targets


@closed_form("categorical_crossentropy")
def _cce(xp: Any, y_true: Any, y_pred: Any, *, from_logits: bool, label_smoothing: float,
         class_weight: Any, axis: tuple[int, ...]) -> Iterator[Any]:
    # -Σ t_c s_c: f' = -t, f'' = 0 (class_weight is a per-sample weight of y_true only).
    t = smooth_categorical(y_true, label_smoothing, y_pred.shape[axis[0]])
    return through_classes(xp, y_pred, -t, None, from_logits, axis)


def _indexed_loss(
    xp: Any,
    labels: Any,
    log_p: Any,
    axis: int,
    *,
    ignore_index: int | None,
    label_smoothing: float,
    class_weight: Any,
) -> PerSample:
    """The negative log-probability of each label, with PyTorch's label smoothing,
    class weights and ignore mask; NaN for a label outside ``[0, C)``."""
    safe, valid, keep = usable_labels(xp, labels, log_p.shape[axis], axis, ignore_index)
    # The label's log-probability, read by a gather: only the entry the formula uses
    # counts, so a NaN elsewhere in a row of log-probabilities is not part of the value.
    values = -pick(xp, log_p, safe, axis)
    weight = weights = None
    if class_weight is not None:
        weights = class_weight_array(xp, class_weight, log_p, axis)
        weight = pick(xp, xp.broadcast_to(weights, tuple(log_p.shape)), safe, axis)
    if not equals_number(label_smoothing, 0):  # a traced value takes the general form
        num_classes = log_p.shape[axis]
        # PyTorch: (1 - ls)·w_y·(-log p_y) + ls/C·Σ_c w_c·(-log p_c), divided by w_y here
        # because the core multiplies the per-sample value by the weight w_y.
        spread = -log_p if class_weight is None else -log_p * weights / _nonzero(xp, weight,
                                                                                  axis)
        uniform = xp.sum(spread, axis=axis) / num_classes
        values = (1.0 - label_smoothing) * values + label_smoothing * uniform
    if keep is not None:
        # An ignored sample is 0 (the core masks it out; 0 keeps "none" finite).
        values = xp.where(keep, values, xp.zeros_like(values))
    # A label outside [0, C) that is not ignored: NaN for its sample, set by the core.
    invalid = ~valid if keep is None else ~valid & keep
    return PerSample(values, weight=weight, mask=keep, invalid=invalid)


def _nonzero(xp: Any, weight: Any, axis: int) -> Any:
    # A class weight of 0 makes the sample's whole contribution 0 after the core's
    # multiplication; dividing by 1 there keeps the value finite.
    safe = xp.where(weight == 0, xp.ones_like(weight), weight)
    return xp.expand_dims(safe, axis=axis)


@define_loss("sparse_categorical_crossentropy", family=CLASSIFICATION, aliases=("scce",),
             kind="labels",
             class_mask=without_classes)
def sparse_categorical_crossentropy(
    xp: Any,
    y_true: Any,
    y_pred: Any,
    *,
    from_logits: Flag = False,
    ignore_index: IgnoreIndex = None,
    label_smoothing: Fraction = 0.0,
    class_weight: Any = None,
    axis: int,
) -> Any:
    r"""Categorical cross-entropy with integer labels.

    .. math:: \ell = -(1 - ls)\log p_y - \frac{ls}{C}\sum_c \frac{w_c}{w_y}\log p_c,
              \quad\text{weighted by } w_y

    ``y_true`` holds one integer label per sample: ``y_pred``'s shape without the class
    ``axis`` (PyTorch's convention; ``axis=1`` for channels-first ``(N, C, H, W)``
    logits) or with a length-1 class axis (Keras's). ``ignore_index`` is a mask: ignored
    samples count in neither the numerator nor the denominator of ``"mean"``. A label
    outside ``[0, C)`` that is not ignored gives NaN for its sample. With ``class_weight``
    and ``reduction="weighted_mean"`` (and ``from_logits=True``) this is PyTorch's
    ``F.cross_entropy(logits, labels, weight=w, ignore_index=i, label_smoothing=ls)``.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> logits = xp.asarray([[0.0, 0.0], [3.0, 1.0]])
    >>> arrayloss.scce(xp.asarray([1, 7]), logits, from_logits=True, reduction="none")
    Array([0.69314718,        nan], dtype=array_api_strict.float64)
    """
    log_p = categorical_logs(xp, y_pred, from_logits, axis)
    return _indexed_loss(xp, y_true, log_p, axis, ignore_index=ignore_index,
                         label_smoothing=label_smoothing, class_weight=class_weight)


@sparse_categorical_crossentropy.native("torch")
def _scce_torch(xp: Any, y_true: Any, y_pred: Any, *, from_logits: bool,
                ignore_index: int | None, label_smoothing: float, class_weight: Any,
                axis: int) -> Any:
    # F.cross_entropy fuses log-softmax and the gather (PyTorch's label smoothing is the
    # formula's). Not used with class weights or ignore_index, whose means PyTorch
    # defines otherwise (an all-ignored batch is 0/0 there).
    if not from_logits or class_weight is not None or ignore_index is not None:
        return NotImplemented
    from torch.nn import functional  # ok: torch kernel, torch tensors only

    def per_label(scores: Any, labels: Any, reduction: str, ignored: int) -> Any:
        return functional.cross_entropy(scores, labels, reduction=reduction,
                                        ignore_index=ignored, label_smoothing=label_smoothing)

    return _torch_label_mean(xp, y_true, y_pred, axis, per_label)


@closed_form("sparse_categorical_crossentropy")
def _scce(xp: Any, labels: Any, y_pred: Any, *, from_logits: bool, ignore_index: Any,
          label_smoothing: float, class_weight: Any, axis: int) -> Iterator[Any]:
    t, usable = label_targets(xp, labels, y_pred, axis, ignore_index, label_smoothing,
                               class_weight)
    # An out-of-range label's value is a constant NaN and an ignored one a constant 0
    # (through `where`): no gradient flows to their scores.
    for derivative in through_classes(xp, y_pred, -t, None, from_logits, axis):
        yield xp.where(usable, derivative, xp.zeros_like(derivative))


def _torch_label_mean(xp: Any, y_true: Any, scores: Any, axis: int, per_label: Any) -> Any:
    """The mean of a torch per-label loss with PyTorch's class axis 1 and arrayloss's rule
    for a label outside ``[0, C)``: NaN for its sample (PyTorch raises an index error)."""
    import torch  # ok: torch kernel, torch tensors only

    num_classes = scores.shape[axis]
    if scores.ndim > 1 and axis != 1:
        scores = torch.movedim(scores, axis, 1)  # ok: torch-only, in a torch kernel
    if host_checks_allowed(scores):
        # Every label in range (one pass over the N labels, read on the host): the
        # kernel's own mean, without the NaN mask.
        low, high = torch.aminmax(y_true)  # ok: torch-only, in a torch kernel
        if low.item() >= 0 and high.item() < num_classes:  # ok: host reads, eager CPU only
            # The class axis of length 1 that the shape rules gave the labels, dropped by
            # torch's own squeeze (a C call; the array-API reshape costs microseconds).
            return per_label(scores, y_true.squeeze(axis), "mean", _IGNORED)
    # Without a host read: an out-of-range label is PyTorch's ignore_index, so it adds
    # nothing to the sum nor to the gradient (as the formula's constant NaN), the sum over
    # the N samples is the mean, and 0·log 0 = NaN makes that mean NaN (arithmetic on one
    # flag: a select over the N values compiles into a slow loop).
    labels = drop_axes(xp, y_true, axis)
    valid = (labels >= 0) & (labels < num_classes)
    safe = torch.where(valid, labels, _IGNORED)  # ok: torch-only, in a torch kernel
    total = per_label(scores, safe, "sum", _IGNORED)
    everything_valid = xp.astype(xp.all(valid), total.dtype)
    return total / math.prod(labels.shape) + 0.0 * xp.log(everything_valid)


_IGNORED = -100  # PyTorch's default ignore_index, given explicitly


@define_loss("negative_log_likelihood", family=CLASSIFICATION, aliases=("nll",),
             kind="labels")
def negative_log_likelihood(
    xp: Any,
    y_true: Any,
    y_pred: Any,
    *,
    ignore_index: IgnoreIndex = None,
    class_weight: Any = None,
    axis: int,
) -> Any:
    r"""Negative log-likelihood of integer labels under log-probabilities ``y_pred``.

    .. math:: \ell = -\log p_y, \quad\text{weighted by } w_y

    PyTorch's ``F.nll_loss(log_probs, labels, weight=w, ignore_index=i)`` is
    ``nll(labels, log_probs, class_weight=w, ignore_index=i, axis=1,
    reduction="weighted_mean")``; PyTorch's default ``ignore_index=-100`` is not assumed
    here (a label of -100 is out of range, so NaN, unless ``ignore_index=-100``).

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.nll(xp.asarray([0, 1]), xp.asarray([[-0.5, -1.0], [-2.0, -0.1]]),
    ...               reduction="none")
    Array([0.5, 0.1], dtype=array_api_strict.float64)
    """
    return _indexed_loss(xp, y_true, y_pred, axis, ignore_index=ignore_index,
                         label_smoothing=0.0, class_weight=class_weight)


@negative_log_likelihood.native("torch")
def _nll_torch(xp: Any, y_true: Any, y_pred: Any, *, ignore_index: int | None,
               class_weight: Any, axis: int) -> Any:
    # F.nll_loss reads the label's entry only, as the formula's gather does.
    if class_weight is not None or ignore_index is not None:
        return NotImplemented
    from torch.nn import functional  # ok: torch kernel, torch tensors only

    def per_label(scores: Any, labels: Any, reduction: str, ignored: int) -> Any:
        return functional.nll_loss(scores, labels, reduction=reduction, ignore_index=ignored)

    return _torch_label_mean(xp, y_true, y_pred, axis, per_label)


@closed_form("negative_log_likelihood")
def _nll(xp: Any, labels: Any, y_pred: Any, *, ignore_index: Any, class_weight: Any,
         axis: int) -> Iterator[Any]:
    t, usable = label_targets(xp, labels, y_pred, axis, ignore_index, 0.0, None)
    zero = xp.zeros_like(y_pred)
    yield xp.where(usable, -t, zero)
    yield zero  # linear in the log-probabilities
