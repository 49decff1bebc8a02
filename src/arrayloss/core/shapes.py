"""Shape rules of SPEC section 4: equal shapes, or one of the few reconciliations allowed.

Nothing here broadcasts silently: ``(N,)`` against ``(N, 1)`` is reconciled to ``(N, 1)``
(Keras does the same), while ``(N,)`` against ``(N, 10)`` is an error that states both
shapes, instead of a broadcast into an ``(N, N)`` or ``(N, 10)`` array.
"""

from __future__ import annotations

from typing import Any

from .namespace import namespace_name
from .options import check_axis

__all__ = [
    "align_leading",
    "drop_axes",
    "flatten_class_axes",
    "known_size",
    "reconcile_labels",
    "reconcile_pair",
    "same_shape",
    "sizes_always_known",
]


def reconcile_pair(xp: Any, a: Any, b: Any, *,
                   names: tuple[str, ...] = ("y_true", "y_pred")) -> tuple[Any, Any]:
    """Bring ``a`` (targets) and ``b`` (predictions) to one shape, or raise ValueError."""
    if same_shape(tuple(a.shape), tuple(b.shape)):
        return a, b
    if a.ndim == 0:
        return xp.broadcast_to(a, b.shape), b
    if a.ndim + 1 == b.ndim and b.shape[-1] == 1 and same_shape(a.shape, b.shape[:-1]):
        return xp.expand_dims(a, axis=-1), b
    if b.ndim + 1 == a.ndim and a.shape[-1] == 1 and same_shape(b.shape, a.shape[:-1]):
        return a, xp.expand_dims(b, axis=-1)
    raise ValueError(
        f"{names[0]} and {names[1]} must have the same shape (or differ only by a trailing "
        f"axis of length 1); got {names[0]}.shape={tuple(a.shape)} and "
        f"{names[1]}.shape={tuple(b.shape)}"
    )


def reconcile_labels(xp: Any, labels: Any, scores: Any, class_axis: int, *, name: str = "y_true"):
    """Shape integer ``labels`` like ``scores`` with a length-1 class axis at ``class_axis``.

    Accepted: ``scores.shape`` without the class axis (PyTorch's convention), or with a
    class axis of length 1 (what Keras's documentation asks for).
    """
    shape, scores_shape = tuple(labels.shape), tuple(scores.shape)
    axis = class_axis % len(scores_shape) if scores_shape else class_axis
    without = scores_shape[:axis] + scores_shape[axis + 1:]
    if same_shape(shape, without):  # same_shape compares the tuples first: one comparison
        return xp.expand_dims(labels, axis=axis)
    with_one = scores_shape[:axis] + (1,) + scores_shape[axis + 1:]
    if same_shape(shape, with_one):
        return labels
    raise ValueError(
        f"{name} must hold one integer label per sample: shape {without} (y_pred's shape "
        f"{tuple(scores.shape)} without the class axis {class_axis}) or {with_one}; "
        f"got {name}.shape={tuple(labels.shape)}"
    )


def align_leading(xp: Any, x: Any, shape: tuple[int, ...], *, name: str) -> Any:
    """Broadcast ``x`` to ``shape``, aligning axes from the left (a ``(N,)`` weight
    applies to sample ``n`` whatever the rank of the per-sample values).

    As for ``y_true`` against ``y_pred``, one trailing length-1 axis beyond ``shape`` is
    reconciled: Keras passes ``(N, 1)`` weights for ``(N,)`` values, and ``(N, T, 1)`` for
    ``(N, T)``.
    """
    if x.ndim == len(shape) + 1 and x.shape[-1] == 1:
        x = drop_axes(xp, x, -1)
    if x.ndim > len(shape) or any(
        not _fits(s, t) for s, t in zip(x.shape, shape[: x.ndim], strict=True)
    ):
        raise ValueError(
            f"{name} must broadcast against the per-sample loss values from the leading "
            f"axis (a trailing axis of length 1 is allowed); got {name}.shape="
            f"{tuple(x.shape)} for per-sample values of shape {shape}"
        )
    if x.shape == shape:
        return x
    x = xp.reshape(x, tuple(x.shape) + (1,) * (len(shape) - x.ndim))
    return xp.broadcast_to(x, shape)


def _fits(size: Any, target: Any) -> bool:
    """Whether an axis of ``size`` broadcasts to ``target``; an unknown size (None, or
    NaN on Dask after boolean indexing) is accepted where the rule cannot be decided."""
    return size == 1 or size == target or not known_size(size) or not known_size(target)


def drop_axes(xp: Any, x: Any, axis: int | tuple[int, ...]) -> Any:
    """``squeeze(x, axis)`` of length-1 axes, as a ``reshape``: array-api-compat's PyTorch
    ``squeeze`` costs tens of microseconds a call, a reshape a fraction of one. Dask, whose
    sizes may be unknown (after boolean indexing), keeps ``squeeze``."""
    if namespace_name(xp) == "dask":
        return xp.squeeze(x, axis=axis)
    axes = (axis % x.ndim,) if isinstance(axis, int) else tuple(a % x.ndim for a in axis)
    return xp.reshape(x, tuple(s for i, s in enumerate(x.shape) if i not in axes))


# The libraries whose arrays always know their shape (a lazy one, Dask, may not).
_SIZES_ALWAYS_KNOWN = frozenset({"numpy", "torch", "jax", "cupy", "array_api_strict"})


def sizes_always_known(xp: Any) -> bool:
    """Whether every array of namespace ``xp`` knows its sizes, so no size need be checked."""
    return namespace_name(xp) in _SIZES_ALWAYS_KNOWN


def known_size(size: Any) -> bool:
    """Whether an axis size is known: not None (the standard's unknown) nor NaN (Dask's)."""
    return size is not None and size == size  # NaN is the only value not equal to itself


def same_shape(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Equal shapes, an unknown size matching any size (Dask's NaN, the standard's None)."""
    if a == b:  # the common case, without a loop
        return True
    return len(a) == len(b) and all(
        s == t or not known_size(s) or not known_size(t) for s, t in zip(a, b, strict=True))


def flatten_class_axes(xp: Any, scores: Any, axis: tuple[Any, ...]) -> tuple[Any, Any]:
    """Scores whose class is a tuple of axes (optax's ``axis=(2, 3)`` for integer labels),
    with those axes moved last in the order given and flattened into one: a label is then
    the flat row-major index into the slice of those axes. Returns the flattened scores and
    the function that brings an array of their shape back (a gradient)."""
    ndim = scores.ndim
    check_axis(axis, ndim)  # the axes' rules: ints in range, none twice
    axes = [a % ndim for a in axis]  # in the order given: the flat index's order
    batch = [a for a in range(ndim) if a not in axes]
    order = (*batch, *axes)
    moved = scores if order == tuple(range(ndim)) else xp.permute_dims(scores, order)
    moved_shape = tuple(moved.shape)
    size = 1
    for a in axes:
        size *= scores.shape[a]
    flat = xp.reshape(moved, (*moved_shape[: len(batch)], size))
    inverse = tuple(order.index(a) for a in range(ndim))

    def restore(x: Any) -> Any:
        x = xp.reshape(x, moved_shape)
        return x if order == tuple(range(ndim)) else xp.permute_dims(x, inverse)

    return flat, restore
