"""Norms and directions of vectors, exact for any finite entries.

Every power is taken of the vector divided by its largest magnitude, so squaring neither
overflows nor underflows; a zero vector has norm 0 and no direction, with finite gradients.
"""

from __future__ import annotations

from typing import Any

from .autodiff import stop_gradient
from .namespace import namespace_of
from .shapes import drop_axes
from .stable import absolute, reduce_max

__all__ = ["scaled_norm", "unit_vectors"]


def _scaled(x: Any, axis: int | tuple[int, ...]) -> tuple[Any, Any, Any]:
    """``(|x|/s, s, s == 0)`` with ``s`` the largest magnitude of each vector along
    ``axis`` (kept as a length-1 axis). Dividing by ``s`` before any power is taken keeps
    the norm exact: squaring 1e20 overflows float32, squaring 1e-30 underflows it to 0, and
    subnormal float64 values have too few digits to square. A zero vector divides by 1
    (double where: no 0/0). NaN anywhere in a vector makes ``s`` NaN."""
    xp = _namespace(x)
    # A constant for autodiff: norms and directions are homogeneous in the scale, so its
    # gradient would cancel exactly; held constant, it costs no backward pass.
    scale = stop_gradient(reduce_max(absolute(x), axis=axis, keepdims=True))
    empty = scale == 0
    return x / xp.where(empty, xp.ones_like(scale), scale), scale, empty


def scaled_norm(x: Any, /, *, axis: int | tuple[int, ...], p: float = 2.0,
                keepdims: bool = False) -> Any:
    """The ``p``-norm ``(Σ|x|^p)^(1/p)`` over ``axis``, exact for any finite ``x``:
    ``s·‖x/s‖`` with ``s`` the largest magnitude. A zero vector has norm 0 with gradient 0;
    NaN anywhere in a vector gives NaN. ``s`` is held constant for autodiff (the norm is
    homogeneous, so its gradient would cancel exactly), so ties of the maximum do not
    matter."""
    xp = _namespace(x)
    unit, scale, empty = _scaled(x, axis)
    magnitude = absolute(unit)
    if p == 2.0:
        powers = magnitude * magnitude
    else:
        powers = magnitude if p == 1.0 else magnitude**p
    total = xp.sum(powers, axis=axis, keepdims=True)
    # Double where: the root's derivative is infinite at 0; a zero vector's root sees 1.
    total = xp.where(empty, xp.ones_like(total), total)
    root = xp.sqrt(total) if p == 2.0 else total if p == 1.0 else total ** (1.0 / p)
    norm = xp.where(empty, xp.zeros_like(root), scale * root)
    return norm if keepdims else drop_axes(xp, norm, axis)


def unit_vectors(x: Any, /, *, axis: int | tuple[int, ...]) -> Any:
    """``x / ‖x‖₂`` along ``axis``, exact for any finite ``x`` (the vector is first divided
    by its largest magnitude, see :func:`scaled_norm`); the zero vector stays 0 with a
    finite gradient, and NaN anywhere in a vector gives NaN."""
    xp = _namespace(x)
    unit, _, empty = _scaled(x, axis)
    # A nonzero vector scaled by its largest entry has length in [1, √n]. A zero vector
    # has no direction: it stays 0 with a zero gradient. Double where: its squared length
    # is replaced by 1 before the root, whose derivative at 0 is infinite.
    squared = xp.sum(unit * unit, axis=axis, keepdims=True)
    length = xp.sqrt(xp.where(empty, xp.ones_like(squared), squared))
    direction = unit / length
    return xp.where(empty, xp.zeros_like(direction), direction)


_namespace = namespace_of
