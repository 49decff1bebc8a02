"""What the array API standard lacks for autodiff: a way to stop a gradient.

The standard has no ``stop_gradient``; each autodiff library has its own
(``Tensor.detach``, ``jax.lax.stop_gradient``). Libraries without autodiff (NumPy, Dask,
CuPy, array-api-strict) need none: the value is returned as it is. The framework is never
imported here unless the array already belongs to it.
"""

from __future__ import annotations

from typing import Any

from .namespace import array_library

__all__ = ["stop_gradient"]


def stop_gradient(x: Any) -> Any:
    """``x`` as a constant for autodiff: the same value, no gradient flowing through it."""
    library = array_library(x)
    if library == "torch":
        return x.detach()
    if library == "jax":
        import jax  # ok: already imported, x is one of its arrays

        return jax.lax.stop_gradient(x)
    return x
