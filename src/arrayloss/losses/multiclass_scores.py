r"""optax's multi-class losses of integer labels on raw scores: the perceptron, the
Crammer–Singer hinge and the sparsemax loss.

Each takes class indices and one row of scores per sample (the class ``axis``, default -1)
and gives one value per sample; a label outside ``[0, C)`` gives NaN for its sample. All
three are Fenchel–Young losses ``Ω*(z) - z_y + Ω(e_y)`` of a regulariser ``Ω`` on the
simplex (none, the margin's, the squared norm's), so their gradient is the prediction of
``Ω`` minus the one-hot label. Each loss is followed by its closed-form derivatives with
respect to the scores (first, then second).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..core.chain_rule import closed_form
from ..core.define import PerSample, define_loss
from ..core.namespace import device_of
from ..core.stable import cumulative_sum, max_slope, one_hot_like, positive_part, reduce_max
from ._classes import CLASSIFICATION, pick, usable_labels
from .embedding_margins import Margin

__all__ = ["multiclass_hinge", "multiclass_perceptron", "multiclass_sparsemax"]


def _labelled(xp: Any, labels: Any, y_pred: Any, axis: int) -> tuple[Any, Any, Any]:
    """``(one_hot, own, valid)``: the label's one-hot row, its score (class axis kept) and
    where the label is in ``[0, C)`` (per sample)."""
    # A label outside [0, C) reads class 0 (`safe`); its sample is NaN, set by the core.
    safe, valid, _ = usable_labels(xp, labels, y_pred.shape[axis], axis, None)
    own = xp.expand_dims(pick(xp, y_pred, safe, axis), axis=axis)
    return one_hot_like(safe, y_pred, axis=axis), own, valid


def _only_valid(xp: Any, derivative: Any, valid: Any, axis: int) -> Any:
    # A label outside [0, C) has derivatives 0 (its value is NaN through the core's
    # `where`, as in autodiff).
    return xp.where(xp.expand_dims(valid, axis=axis), derivative, xp.zeros_like(derivative))


@define_loss("multiclass_perceptron", family=CLASSIFICATION, kind="labels")
def multiclass_perceptron(xp: Any, labels: Any, y_pred: Any, *, axis: int) -> Any:
    r"""The multi-class perceptron loss (Collins, 2002) of integer labels and scores: how
    far the label's score is below the largest.

    .. math:: \ell = \max_c z_c - z_y

    ``labels`` are class indices shaped as the scores without the class ``axis`` (default
    -1), or with it of length 1. optax ``multiclass_perceptron_loss(scores, labels)`` is
    ``multiclass_perceptron(labels, scores, reduction="none")``. Where several scores tie
    for the maximum, the gradient shares the max's slope equally among them (JAX's rule);
    the value is 0 whenever the label's score is a maximum.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.multiclass_perceptron(xp.asarray([1, 0]), xp.asarray([[0.5, 1.0, 0.25],
    ...                                                              [0.0, 2.0, 1.5]]),
    ...                                 reduction="none")
    Array([0., 2.], dtype=array_api_strict.float64)
    """
    _, own, valid = _labelled(xp, labels, y_pred, axis)
    values = xp.squeeze(reduce_max(y_pred, axis=axis, keepdims=True) - own, axis=axis)
    return PerSample(values, invalid=xp.logical_not(valid))


@closed_form("multiclass_perceptron", zero_hessian=True)
def _multiclass_perceptron(xp: Any, labels: Any, y_pred: Any, *, axis: int) -> Iterator[Any]:
    # The argmax's (shared) one-hot row minus the label's; piecewise linear: Hessian 0.
    one_hot, _, valid = _labelled(xp, labels, y_pred, axis)
    yield _only_valid(xp, max_slope(y_pred, axis=axis) - one_hot, valid, axis)
    yield xp.zeros_like(y_pred)


@define_loss("multiclass_hinge", family=CLASSIFICATION, kind="labels")
def multiclass_hinge(xp: Any, labels: Any, y_pred: Any, *, margin: Margin = 1.0,
                     axis: int) -> Any:
    r"""The Crammer–Singer multi-class hinge loss of integer labels and scores: the largest
    score of another class plus the margin, above the label's score.

    .. math:: \ell = \max_c \big(z_c + \text{margin}\,[c \ne y]\big) - z_y
              = \max\big(0,\ \max_{c \ne y} z_c + \text{margin} - z_y\big)

    optax ``multiclass_hinge_loss(scores, labels)`` is ``multiclass_hinge(labels, scores,
    reduction="none")`` (margin 1). PyTorch's ``F.multi_margin_loss`` sums the margins of
    all classes (Weston–Watkins, :func:`multi_margin`) and Keras's ``categorical_hinge``
    takes one-hot targets and counts the label's class as a score of 0 among the others:
    neither is this formula. Tied maxima share the max's slope equally (JAX's rule).

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.multiclass_hinge(xp.asarray([1, 0]), xp.asarray([[0.5, 1.0, 0.25],
    ...                                                         [0.0, 2.0, 1.5]]),
    ...                            reduction="none")  # max(0, 0.5 + 1 - 1), 2 + 1 - 0
    Array([0.5, 3. ], dtype=array_api_strict.float64)
    """
    one_hot, own, valid = _labelled(xp, labels, y_pred, axis)
    # The label's own entry is z_y (its margin term is 0), so the max is never below z_y
    # and the value never negative, without a separate max(0, ·).
    raised = y_pred + margin * (1.0 - one_hot)
    values = xp.squeeze(reduce_max(raised, axis=axis, keepdims=True) - own, axis=axis)
    return PerSample(values, invalid=xp.logical_not(valid))


@closed_form("multiclass_hinge", zero_hessian=True)
def _multiclass_hinge(xp: Any, labels: Any, y_pred: Any, *, margin: float,
                      axis: int) -> Iterator[Any]:
    one_hot, _, valid = _labelled(xp, labels, y_pred, axis)
    raised = y_pred + margin * (1.0 - one_hot)
    yield _only_valid(xp, max_slope(raised, axis=axis) - one_hot, valid, axis)
    yield xp.zeros_like(y_pred)


def sparsemax_threshold(xp: Any, z: Any, axis: int) -> Any:
    r"""The threshold ``τ`` of ``sparsemax(z) = max(z - τ, 0)`` (the Euclidean projection
    of ``z`` onto the simplex), with the class ``axis`` kept.

    With the scores sorted in decreasing order and ``S_j`` the sum of the ``j`` largest,
    ``τ = max_j (S_j - 1)/j``: ``(S_j - 1)/j`` grows exactly while the ``j``-th score is
    in the support (``1 + j z_(j) > S_j``), so its maximum is at the support's size ``k``,
    where it is the projection's ``τ = (S_k - 1)/k`` (Martins & Astudillo, 2016). A
    maximum rather than a count of the support: no integer index, no gather.
    """
    axis = axis % z.ndim
    descending = xp.sort(z, axis=axis, descending=True)
    shape = [1] * z.ndim
    shape[axis] = z.shape[axis]
    ranks = xp.reshape(xp.arange(1, z.shape[axis] + 1, dtype=z.dtype, device=device_of(z)),
                       tuple(shape))
    candidates = (cumulative_sum(descending, axis=axis) - 1.0) / ranks
    return reduce_max(candidates, axis=axis, keepdims=True)


def _sparsemax(xp: Any, y_pred: Any, axis: int) -> Any:
    # Shifted by the row's max first (sparsemax does not change under a shift): the
    # cumulative sums then start at 0 and keep their digits for scores of 1e6.
    z = y_pred - reduce_max(y_pred, axis=axis, keepdims=True)
    # τ again from the support it gives, (Σ_S z - 1)/|S|: the same number, but autodiff
    # then differentiates through the support's scores only. Through the max of the
    # candidates a tie (a score exactly at τ, outside the support) would split the slope
    # with a candidate that counts that score, and the gradient would not be p - e_y.
    support = xp.astype(z > sparsemax_threshold(xp, z, axis), z.dtype)
    size = xp.sum(support, axis=axis, keepdims=True)
    tau = (xp.sum(support * z, axis=axis, keepdims=True) - 1.0) / size
    return positive_part(z - tau)


@define_loss("multiclass_sparsemax", family=CLASSIFICATION, kind="labels")
def multiclass_sparsemax(xp: Any, labels: Any, y_pred: Any, *, axis: int) -> Any:
    r"""The sparsemax loss (Martins & Astudillo, 2016) of integer labels and scores: the
    Fenchel–Young loss of the squared norm, whose prediction is ``p = sparsemax(z)``, the
    projection of ``z`` onto the simplex (exact zeros outside the support).

    .. math:: \ell = \langle p,\ z - z_y \rangle + \tfrac12\,(1 - \lVert p \rVert^2),
              \qquad \frac{\partial \ell}{\partial z} = p - e_y

    optax ``multiclass_sparsemax_loss(scores, labels)`` is ``multiclass_sparsemax(labels,
    scores, reduction="none")``. The value is 0 exactly when ``p`` is the one-hot label
    (the label's score at least 1 above every other). Scores differing by ``1e6`` keep
    their digits: the sums run on scores shifted by the row's maximum.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.multiclass_sparsemax(xp.asarray([0, 2]), xp.asarray([[0.5, 0.0, 2.0],
    ...                                                             [0.0, 0.2, 0.1]]),
    ...                                reduction="none")
    Array([1.5       , 0.34333333], dtype=array_api_strict.float64)
    """
    _, own, valid = _labelled(xp, labels, y_pred, axis)
    p = _sparsemax(xp, y_pred, axis)
    # ⟨p, z⟩ - z_y as ⟨p, z - z_y⟩ (Σp = 1): no cancellation between two large sums.
    values = (xp.sum(p * (y_pred - own), axis=axis)
              + 0.5 * (1.0 - xp.sum(p * p, axis=axis)))
    return PerSample(values, invalid=xp.logical_not(valid))


@closed_form("multiclass_sparsemax")
def _multiclass_sparsemax(xp: Any, labels: Any, y_pred: Any, *, axis: int) -> Iterator[Any]:
    # p - e_y, then the diagonal of sparsemax's Jacobian diag(s) - s sᵀ/|S| (s: the
    # support), s·(1 - 1/|S|).
    one_hot, _, valid = _labelled(xp, labels, y_pred, axis)
    p = _sparsemax(xp, y_pred, axis)
    yield _only_valid(xp, p - one_hot, valid, axis)
    support = xp.astype(p > 0, p.dtype)
    size = xp.sum(support, axis=axis, keepdims=True)
    yield _only_valid(xp, support * (1.0 - 1.0 / size), valid, axis)
