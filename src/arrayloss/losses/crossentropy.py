r"""Cross-entropy losses: binary, categorical, sparse (integer labels) and NLL.

Probabilities go through :func:`~arrayloss.core.stable.log_probability` (the log floored at
-100 as PyTorch does, never a 1e-7 clip); logits (``from_logits=True``) go through
log-sigmoid or log-softmax, exact for logits of ``±1e4`` in float32.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..core.chain_rule import closed_form
from ..core.define import PerSample, define_loss
from ..core.namespace import option_array
from ..core.native import finite_logits, finite_or_formula, host_checks_allowed
from ..core.options import Flag, Fraction, IgnoreIndex, equals_number
from ..core.shapes import drop_axes
from ..core.stable import nothing_floored, times_log
from ._classes import (
    CLASSIFICATION,
    binary_curvatures,
    binary_logs,
    binary_slopes,
    categorical_logs,
    check_class_axis,
    class_weight_array,
    label_targets,
    pick,
    smooth_binary,
    smooth_categorical,
    through_classes,
    usable_labels,
    without_classes,
)

__all__ = [
    "binary_crossentropy",
    "categorical_crossentropy",
    "negative_log_likelihood",
    "sparse_categorical_crossentropy",
]


def _pos_weight(xp: Any, pos_weight: Any, y_pred: Any) -> Any:
    weight = option_array(xp, pos_weight, y_pred, name="pos_weight")
    shape = tuple(y_pred.shape)
    if not _broadcasts(tuple(weight.shape), shape):
        raise ValueError(
            f"pos_weight must broadcast against y_pred of shape {shape}; got shape "
            f"{tuple(weight.shape)}"
        )
    return weight


def _broadcasts(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


@define_loss("binary_crossentropy", family=CLASSIFICATION, aliases=("bce", "logloss"))
def binary_crossentropy(
    xp: Any,
    y_true: Any,
    y_pred: Any,
    *,
    from_logits: Flag = False,
    label_smoothing: Fraction = 0.0,
    pos_weight: Any = None,
) -> Any:
    r"""Binary cross-entropy, averaged over ``axis`` (default: the last axis).

    .. math:: \ell = -\operatorname{mean}_{axis}\left(w_+\,y\log p + (1 - y)\log(1 - p)\right),
              \quad y \leftarrow y(1 - ls) + \tfrac12 ls

    ``p = sigmoid(y_pred)`` with ``from_logits=True`` (computed as ``log_sigmoid``, so a
    logit of 1e4 gives a loss of 1e4, not inf). Probabilities are not clipped at 1e-7 as
    Keras does: the log is floored at -100 as in PyTorch's ``F.binary_cross_entropy``, and
    a prediction of exactly 0 or 1 still has a gradient. ``pos_weight`` (``w_+``, a number
    or an array broadcasting against ``y_pred``, e.g. one weight per output column) is
    PyTorch's ``F.binary_cross_entropy_with_logits(pos_weight=...)``.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> loss = arrayloss.bce(xp.asarray([[1.0, 0.0]]), xp.asarray([[0.0, 0.0]]),
    ...                      from_logits=True)
    >>> round(float(loss), 6)
    0.693147
    """
    y = smooth_binary(y_true, label_smoothing)
    log_p, log_q = binary_logs(xp, y_pred, from_logits)
    positive = times_log(y, log_p)
    if pos_weight is not None:
        positive = _pos_weight(xp, pos_weight, y_pred) * positive
    return -(positive + times_log(1.0 - y, log_q))


@binary_crossentropy.native("torch")
def _bce_torch(xp: Any, y_true: Any, y_pred: Any, *, from_logits: bool,
               label_smoothing: float, pos_weight: Any) -> Any:
    # F.binary_cross_entropy_with_logits: one fused kernel each way, PyTorch's pos_weight.
    # It gives inf - inf = NaN at an infinite logit; `finite_logits` clamps to the largest
    # finite float (the formula's value for every finite logit, 0 for a perfect infinite
    # one, that float instead of inf for a wrong one) and passes the gradient through.
    from torch.nn import functional  # ok: torch kernel, torch tensors only

    if not from_logits:
        return _bce_probabilities_torch(y_true, y_pred, label_smoothing, pos_weight)
    weight = None if pos_weight is None else _pos_weight(xp, pos_weight, y_pred)
    targets = smooth_binary(y_true, label_smoothing)
    if host_checks_allowed(y_pred):
        # Where the result can be read on the host, no clamp at all: a finite mean means
        # every logit was finite, and any other is recomputed by the formula.
        loss = functional.binary_cross_entropy_with_logits(
            y_pred, targets, pos_weight=weight, reduction="mean")
        return finite_or_formula(loss)
    return functional.binary_cross_entropy_with_logits(
        finite_logits(y_pred), targets, pos_weight=weight, reduction="mean")


def _bce_probabilities_torch(y_true: Any, p: Any, label_smoothing: float,
                             pos_weight: Any) -> Any:
    # F.binary_cross_entropy floors each log at -100 as the formula does, and its gradient
    # (p - y)/max(p(1 - p), 1e-12) is the formula's -y/p + (1 - y)/(1 - p) wherever
    # p(1 - p) > 1e-12. So it runs only where every p is inside (1e-12, 1 - 1e-12), read on
    # the host in one pass (NaN fails the test too); elsewhere the formula runs.
    if pos_weight is not None or y_true.shape != p.shape or not host_checks_allowed(p):
        return NotImplemented
    import torch  # ok: torch kernel, torch tensors only
    from torch.nn import functional  # ok: torch kernel, torch tensors only

    low, high = torch.aminmax(p.detach())  # ok: torch-only, in a torch kernel
    # ok: host reads, only where host_checks_allowed (eager, CPU) said they are cheap
    if not (low.item() > _INSIDE and high.item() < 1.0 - _INSIDE):  # ok: see above
        return NotImplemented
    try:
        return functional.binary_cross_entropy(p, smooth_binary(y_true, label_smoothing))
    except RuntimeError:  # PyTorch refuses targets outside [0, 1]; the formula takes them
        return NotImplemented


# The margin from 0 and 1 inside which PyTorch's BCE gradient is the formula's: its
# denominator max(p(1 - p), 1e-12) is p(1 - p) there (twice 1e-12, for p(1 - p)'s rounding).
_INSIDE = 2e-12


@closed_form("binary_crossentropy", self_contained=True)
def _bce(xp: Any, y_true: Any, y_pred: Any, *, from_logits: bool, label_smoothing: float,
         pos_weight: Any) -> Iterator[Any]:
    # Every slope keeps NaN (sigmoid, 1/p), and so does the target's weighting.
    y = smooth_binary(y_true, label_smoothing)
    positive = y if pos_weight is None else option_array(
        xp, pos_weight, y_pred, name="pos_weight") * y
    if (not from_logits and pos_weight is None and nothing_floored(y_pred)
            and nothing_floored(complement := 1.0 - y_pred)):
        # Neither log floored (known on NumPy only): -y/p + (1 - y)/(1 - p) over one
        # denominator is (p - y)/(p(1 - p)), PyTorch's form, in four passes.
        yield (y_pred - y) / (y_pred * complement)
    else:
        dp, dq = binary_slopes(xp, y_pred, from_logits)
        yield -(positive * dp + (1.0 - y) * dq)
    ddp, ddq = binary_curvatures(xp, y_pred, from_logits)
    yield -(positive * ddp + (1.0 - y) * ddq)


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
