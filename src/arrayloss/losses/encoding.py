"""Integer class labels to one-hot rows: ``one_hot`` (traceable) and Keras's
``to_categorical`` (which may read the data to count the classes); optax's
``smooth_labels`` for one-hot rows."""

from __future__ import annotations

import math
import numbers
from typing import Any, cast

import array_api_compat
import numpy as np

from ..core.namespace import default_float, default_index
from ..core.options import check_axis, check_number

__all__ = ["one_hot", "smooth_labels", "to_categorical"]


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
                "is impossible while tracing (jax.jit, torch.compile); pass num_classes"  # ok: text
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


def smooth_labels(y: Any, /, *, alpha: Any, axis: int | tuple[int, ...] = -1,
                  mask: Any = None) -> Any:
    r"""optax's ``smooth_labels``: one-hot (or soft) targets moved towards the uniform
    distribution over the classes of ``axis`` (default -1; a tuple for several axes).

    .. math:: \tilde y = (1 - \alpha)\,y + \frac{\alpha}{n}, \qquad n = \text{the
              number of classes (the count of true } \texttt{mask} \text{ entries)}

    ``alpha`` is a number in ``[0, 1]`` or an array (a traced value under ``jax.jit``, a
    tensor with a gradient). With ``mask`` (optax's ``where``: true for the classes that
    take part, broadcastable to ``y``) ``n`` counts the true entries along ``axis`` per
    row, and every entry, masked ones included, is shifted by ``α/n`` as in optax (the
    losses' own ``mask`` leaves the masked classes out). optax ``smooth_labels(y, alpha,
    axis=a, where=m)`` is ``smooth_labels(y, alpha=alpha, axis=a, mask=m)``; the losses'
    ``label_smoothing`` option is the same as smoothing first (Keras's ``y·(1 - ls) +
    ls/C``).

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.smooth_labels(xp.asarray([[0.0, 1.0, 0.0, 0.0]]), alpha=0.2)
    Array([[0.05, 0.85, 0.05, 0.05]], dtype=array_api_strict.float64)
    """
    if not array_api_compat.is_array_api_obj(y):
        y = np.asarray(y)
    y = cast(Any, y)
    xp = array_api_compat.array_namespace(y)
    if not xp.isdtype(y.dtype, "real floating"):
        raise TypeError(f"smooth_labels takes floating one-hot or soft targets; got y of "
                        f"dtype {y.dtype}")
    if isinstance(alpha, (numbers.Real, np.generic)):
        alpha = check_number("alpha", alpha, low=0.0, high=1.0)
    axes = check_axis(axis, y.ndim)
    if mask is None:
        count: Any = float(math.prod(y.shape[a] for a in axes))  # ok: a static shape
    else:
        if not array_api_compat.is_array_api_obj(mask):
            mask = xp.asarray(mask, device=array_api_compat.device(y))
        mask = cast(Any, mask)  # any library's array
        if not xp.isdtype(mask.dtype, "bool"):
            raise TypeError(f"mask must hold booleans (the classes that take part); got "
                            f"dtype {mask.dtype}")
        count = xp.sum(xp.astype(mask, y.dtype), axis=axes, keepdims=True)
    return (1.0 - alpha) * y + alpha / count
