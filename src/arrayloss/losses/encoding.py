"""Integer class labels to one-hot rows: ``one_hot`` (traceable) and Keras's
``to_categorical`` (which may read the data to count the classes)."""

from __future__ import annotations

import numbers
from typing import Any, cast

import array_api_compat
import numpy as np

from ..core.namespace import default_float, default_index

__all__ = ["one_hot", "to_categorical"]


def _labels(y: Any, name: str = "y") -> tuple[Any, Any, Any]:
    """``y`` as an array of its own library (lists and NumPy data as NumPy), with its
    namespace and device; TypeError unless it holds integers."""
    if not array_api_compat.is_array_api_obj(y):
        y = np.asarray(y)
    y = cast(Any, y)  # any library's array
    xp = array_api_compat.array_namespace(y)
    if not xp.isdtype(y.dtype, "integral"):
        raise TypeError(f"{name} must hold integer class labels; got dtype {y.dtype}")
    return xp, y, array_api_compat.device(y)


def _check_num_classes(num_classes: Any) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral):
        raise TypeError(f"num_classes must be an int; got {num_classes!r}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1; got {num_classes}")
    return int(num_classes)


def one_hot(y: Any, num_classes: int, *, dtype: Any = None) -> Any:
    """One-hot rows for integer labels: shape ``y.shape + (num_classes,)``.

    Works under ``jax.jit`` and ``torch.compile`` (a comparison with ``arange``, no
    gather, no data-dependent shape) and on Dask without computing. The labels are cast
    to the namespace's index dtype first, so ``uint8`` labels with more than 256 classes
    are exact (an ``arange`` in ``uint8`` would wrap around). A label outside
    ``[0, num_classes)`` gives a row of zeros, as ``jax.nn.one_hot`` does. The result has
    ``dtype`` (default: the namespace's default floating dtype; ``F.one_hot`` returns
    int64).

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.one_hot(xp.asarray([2, 0]), 3)
    Array([[0., 0., 1.],
           [1., 0., 0.]], dtype=array_api_strict.float64)
    """
    num_classes = _check_num_classes(num_classes)
    xp, y, device = _labels(y)
    labels = xp.astype(y, default_index(xp, device))
    classes = xp.arange(num_classes, dtype=labels.dtype, device=device)
    rows = xp.expand_dims(labels, axis=-1) == classes
    return xp.astype(rows, default_float(xp, device) if dtype is None else dtype)


def _is_traced(y: Any) -> bool:
    """Whether ``y`` is a value being traced (``jax.jit``, ``torch.compile``), whose data
    cannot be read."""
    if array_api_compat.is_jax_array(y):
        import jax.core  # ok: only reached with a JAX array, to detect tracing

        return isinstance(y, jax.core.Tracer)
    if array_api_compat.is_torch_array(y):
        import torch  # ok: only reached with a torch tensor, to detect tracing

        return bool(torch.compiler.is_compiling())  # ok: a Python flag, not array data
    return False


def to_categorical(y: Any, num_classes: int | None = None) -> Any:
    """Keras's ``to_categorical``: one-hot rows of integer labels.

    A trailing axis of length 1 is dropped first (labels of shape ``(N, 1)`` give
    ``(N, C)``). With ``num_classes=None`` the class count is ``max(y) + 1``, which
    **reads the data**: it forces a Dask computation, synchronizes a GPU, and raises a
    ``ValueError`` under ``jax.jit`` or ``torch.compile``; pass ``num_classes`` (or use
    :func:`one_hot`) in traced code. The result has the namespace's default floating
    dtype; labels outside ``[0, C)`` give rows of zeros.

    >>> import numpy as np
    >>> import arrayloss
    >>> arrayloss.to_categorical(np.asarray([[1], [0]]))
    array([[0., 1.],
           [1., 0.]])
    """
    xp, y, _ = _labels(y)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = xp.reshape(y, tuple(y.shape[:-1]))
    if num_classes is None:
        if _is_traced(y):
            raise ValueError(
                "to_categorical(y) with num_classes=None reads max(y) from the data, which "
                "is impossible while tracing (jax.jit, torch.compile); pass num_classes"
            )
        if any(s == 0 for s in y.shape):
            raise ValueError(
                f"to_categorical cannot infer num_classes from empty labels of shape "
                f"{tuple(y.shape)}; pass num_classes"
            )
        largest = y if y.ndim == 0 else xp.max(y)
        if array_api_compat.is_dask_array(largest):
            largest = largest.compute()
        num_classes = max(int(largest) + 1, 1)  # reads the data, as documented
    return one_hot(y, num_classes)
