"""Per-sample values to the result: weights, masks and the four reductions (SPEC section 5)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .namespace import device_of, namespace_name, namespace_of
from .shapes import align_leading, known_size

__all__ = [
    "PARTIAL",
    "as_array",
    "as_bool",
    "combine_partials",
    "mean_over_axis",
    "plain_reduction",
    "reduce_values",
]

# The partial reductions and the mean each one is the pair of (SPEC section 5).
PARTIAL = {"partial_mean": "mean", "partial_weighted_mean": "weighted_mean"}


def mean_over_axis(xp: Any, values: Any, axis: int | tuple[int, ...] | None) -> Any:
    """Average element-wise values over ``axis`` (``None`` or ``()``: keep every element,
    without the copy a mean over no axes makes)."""
    return values if axis is None or axis == () else xp.mean(values, axis=axis)


def reduce_values(
    xp: Any,
    values: Any,
    *,
    sample_weight: Any = None,
    mask: Any = None,
    reduction: str = "mean",
) -> Any:
    """Apply ``sample_weight`` ``w``, ``mask`` ``m`` and ``reduction`` to per-sample ``values``.

    ``none``: ``w·m·l``; ``sum``: ``Σ w·m·l``; ``mean``: ``Σ w·m·l / Σ m``;
    ``weighted_mean``: ``Σ w·m·l / Σ w·m``. A mean over nothing is 0. ``partial_mean`` and
    ``partial_weighted_mean``: the pair ``(Σ w·m·l, Σ m)`` or ``(Σ w·m·l, Σ w·m)``, 0-d
    arrays, which sum over shards into the numerator and denominator of the mean
    (:func:`combine_partials`).
    """
    if sample_weight is None and mask is None and reduction != "none":
        return plain_reduction(xp, values, reduction)
    shape = tuple(values.shape)
    zero = xp.zeros_like(values)
    weighted = values
    keep = None
    if sample_weight is not None:
        sample_weight = align_leading(xp, sample_weight, shape, name="sample_weight")
        weighted = values * sample_weight
    if mask is not None:
        keep = align_leading(xp, as_bool(xp, mask), shape, name="mask")
        # `where`, not a product: a masked-out value may be NaN or inf (padding), and
        # 0·NaN would still be NaN.
        weighted = xp.where(keep, weighted, zero)
    if reduction == "none":
        return as_array(xp, weighted)
    total = xp.sum(weighted)
    if reduction == "sum":
        return as_array(xp, total)
    mean = PARTIAL.get(reduction, reduction)
    if mean == "mean":
        count = zero + 1 if keep is None else xp.astype(keep, values.dtype)
    else:  # weighted_mean
        count = zero + 1 if sample_weight is None else sample_weight + zero
        if keep is not None:
            count = xp.where(keep, count, zero)
    denominator = xp.sum(count)
    if reduction in PARTIAL:
        return as_array(xp, total), as_array(xp, denominator)
    # A mean over nothing (empty batch, all masked, all-zero weights) has a zero
    # numerator too; dividing by 1 there gives 0 instead of 0/0 = NaN.
    denominator = xp.where(denominator == 0, xp.ones_like(denominator), denominator)
    return as_array(xp, total / denominator)


def plain_reduction(xp: Any, values: Any, reduction: str) -> Any:
    """``"sum"``, ``"mean"`` or ``"weighted_mean"`` without weights or masks: one reduction.

    Both means are ``Σ l / N`` here. An empty batch has no mean; its sum, 0 (with the
    right dtype, device and autodiff graph), is the "mean over nothing is 0" rule.
    """
    if reduction in PARTIAL:
        # Every per-sample value counts once: the denominator is their number, read from
        # the shape (counted only where Dask does not know it).
        shape = tuple(values.shape)
        if all(known_size(s) for s in shape):
            count = xp.full((), float(math.prod(shape)), dtype=values.dtype,  # ok: a shape
                            device=device_of(values))
        else:
            count = xp.sum(xp.ones_like(values))
        return as_array(xp, xp.sum(values)), as_array(xp, count)
    if reduction == "sum" or 0 in tuple(values.shape):
        return as_array(xp, xp.sum(values))
    return as_array(xp, xp.mean(values))


def combine_partials(numerator: Any, denominator: Any, /) -> Any:
    """The mean from the partial reductions of several shards: ``Σ numerators / Σ
    denominators``, 0 where the denominators sum to 0 (every shard empty or masked).

    ``numerator`` and ``denominator`` are the summed partials (what an all-reduce of
    ``loss(..., reduction="partial_mean")`` gives), or sequences of them, one per shard, or
    arrays of them, summed here. The result equals ``loss(..., reduction="mean")`` (or
    ``"weighted_mean"``) over the whole batch, in the arrays' library.

    >>> import numpy as np
    >>> import arrayloss
    >>> y, p = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    >>> shards = [arrayloss.mse(y[:1], p[:1], reduction="partial_mean"),
    ...           arrayloss.mse(y[1:], p[1:], reduction="partial_mean"),
    ...           arrayloss.mse(y[:0], p[:0], reduction="partial_mean")]  # an empty shard
    >>> float(arrayloss.combine_partials(*zip(*shards)))
    1.6666666666666667
    >>> float(arrayloss.mse(y, p))
    1.6666666666666667
    """
    numerator, denominator = _summed(numerator), _summed(denominator)
    xp = namespace_of(numerator)
    # Every shard empty or masked: the numerator is 0 too, and 0/1 is the 0 of the rule.
    safe = xp.where(denominator == 0, xp.ones_like(denominator), denominator)
    return as_array(xp, numerator / safe)


def _summed(partials: Any) -> Any:
    """A partial, or the sum of a sequence or an array of partials."""
    if isinstance(partials, (list, tuple)):
        if not partials:
            raise ValueError("combine_partials needs at least one shard's partials; got none")
        total = partials[0]
        for part in partials[1:]:
            total = total + part
        partials = total
    if isinstance(partials, (int, float)):
        partials = np.asarray(float(partials))  # ok: a Python number, no array to sync
    xp = namespace_of(partials)
    return xp.sum(partials) if partials.ndim else partials


def as_bool(xp: Any, mask: Any) -> Any:
    """A mask as booleans: nonzero entries are kept."""
    return mask if xp.isdtype(mask.dtype, "bool") else mask != 0


def as_array(xp: Any, x: Any) -> Any:
    # NumPy reductions return NumPy scalars, not 0-d arrays; every other library returns
    # arrays already.
    return np.asarray(x) if namespace_name(xp) == "numpy" else x
