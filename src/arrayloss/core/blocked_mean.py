"""NumPy's plain mean of a large batch, evaluated in blocks of rows.

NumPy evaluates a formula one whole-array operation at a time, so every intermediate of
the formula is an array the size of the batch: ``binary_crossentropy`` from logits holds
six of them at once (6× the prediction's memory), where a hand-written expression holds
two. The common call (a plain ``"mean"``, no weights or masks) of an element-wise or
class-axis loss on a large NumPy batch instead runs the same formula on blocks of rows and
adds the blocks' sums: the intermediates are those of one block (about a megabyte), and
the value is the same mean up to the order of the additions. The libraries with an
autodiff graph (PyTorch, JAX) and the lazy ones (Dask) keep the whole-array evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .namespace import namespace_name

__all__ = ["BLOCK_ELEMENTS", "blocked_numpy_mean"]

# Elements per block: large enough that the per-block overhead of a Python loop is small
# against the arithmetic, small enough that a block's intermediates stay in the caches.
BLOCK_ELEMENTS = 1 << 17
# Batches from this size on are blocked (two blocks or more); below, one whole-array pass.
BLOCKED_FROM = 1 << 18


def blocked_numpy_mean(xp: Any, body: Callable[..., Any], data: list[Any],
                       body_axis: dict[str, Any], options: dict[str, Any],
                       per_sample: type) -> Any:
    """The mean of ``body``'s values over blocks of rows, or ``NotImplemented`` where the
    call is not one of NumPy's large batches (or the body returns weights or masks of its
    own, ``per_sample``, which the common path reduces)."""
    if namespace_name(xp) != "numpy" or not data:
        return NotImplemented
    rows = data[-1].shape[0] if data[-1].ndim else 0
    size = math.prod(data[-1].shape)
    if size < BLOCKED_FROM or rows < 2:
        return NotImplemented
    if any(x.ndim == 0 or x.shape[0] != rows for x in data):
        return NotImplemented  # an input that does not split with the prediction's rows
    axes = body_axis.get("axis", ())
    if 0 in (axes if isinstance(axes, tuple) else (axes,)):
        return NotImplemented  # the class axis is the first: rows are not samples
    step = max(1, BLOCK_ELEMENTS // max(1, size // rows))
    total, count, dtype = 0.0, 0, None
    for start in range(0, rows, step):
        values = body(xp, *(x[start:start + step] for x in data), **body_axis, **options)
        if isinstance(values, per_sample):
            return NotImplemented
        # Each block's sum in float64, whatever the dtype: the blocks add without the
        # rounding of a float32 running sum (NumPy's own mean is pairwise within a block).
        total += float(xp.sum(values, dtype=xp.float64))  # ok: NumPy only, on the host
        count += math.prod(values.shape)
        dtype = values.dtype
    return xp.asarray(total / count, dtype=dtype)
