"""Native kernels: a framework's own fused loss, used where it is provably the formula.

A loss may register, beside its formula, the framework function that computes exactly the
same value and gradient (``F.mse_loss`` for the squared error on torch), as
array-api-extra delegates to native functions. The conformance suite runs every case on
both paths (the ``torch_formula`` backend variant turns the kernels off) and requires them
equal, kinks, extremes, NaN, half precision, weights and masks included.

A kernel is ``kernel(xp, *arrays, **options)`` with the body's arrays (already resolved,
cast and reconciled) and options. It is called only for the common call (``"mean"``, no
``sample_weight`` or ``mask``, a non-empty batch) and returns that mean, or
``NotImplemented`` for options it does not cover, and the formula runs instead.

``arrayloss.native_kernels(False)`` (a context manager, or a global switch when called
without ``with``) runs the plain formula everywhere; so does the environment variable
``ARRAYLOSS_NATIVE=0``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

from .namespace import device_of, namespace_name

__all__ = ["add_matmul", "closed_backward_allowed", "custom_backward_allowed", "exp_in_place",
           "finite_logits", "finite_or_formula", "host_checks_allowed", "library_of",
           "native_enabled", "native_kernels", "subtract_at_columns", "torch_tracing"]

_STATE = {"enabled": os.environ.get("ARRAYLOSS_NATIVE", "1") != "0"}


class native_kernels:  # noqa: N801 - used like a function: native_kernels(False)
    """Turn the native kernels on or off: globally when called, for a block with ``with``.

    >>> import arrayloss
    >>> with arrayloss.native_kernels(False):
    ...     pass  # every loss here runs its array-API formula
    """

    def __init__(self, enabled: bool) -> None:
        if not isinstance(enabled, bool):
            raise TypeError(f"native_kernels takes True or False; got {enabled!r}")
        self._previous = _STATE["enabled"]
        _STATE["enabled"] = enabled

    def __enter__(self) -> native_kernels:
        return self

    def __exit__(self, *exc: object) -> None:
        _STATE["enabled"] = self._previous


def native_enabled() -> bool:
    return _STATE["enabled"]


def library_of(xp: Any) -> str | None:
    """The library whose native kernels apply to namespace ``xp`` (torch only, for now)."""
    return "torch" if namespace_name(xp) == "torch" else None


Kernel = Callable[..., Any]


def finite_logits(x: Any) -> Any:
    """A torch tensor clamped to the finite floats, with the gradient passed through as if
    unclamped.

    PyTorch's fused logistic losses compute ``(1 - y)·z - log σ(z)``, which is ``inf - inf =
    NaN`` at an infinite logit; at the largest finite float they give the formula's value
    for every finite logit and its limit for an infinite one. ``Tensor.clamp`` would do that,
    but its backward (two comparisons, an ``and`` and a select) costs more than the fused
    loss itself, and it gives a clamped infinite logit no gradient. The gradient at the
    clamped logit is already the formula's at infinity (``σ(±max) - y`` is ``σ(±inf) - y``),
    so the backward here is the identity, which also keeps double backward, ``torch.func``
    and ``torch.compile`` working.
    """
    from ._torch_functions import PassThroughClamp  # ok: x is a torch tensor

    return PassThroughClamp.apply(x)


def host_checks_allowed(x: Any) -> bool:
    """Whether a kernel may read a value of the torch tensor ``x`` on the host to choose
    its path (every label in range, a finite result): in eager PyTorch on the CPU, where the
    read costs a few microseconds. Not under ``torch.compile`` (a graph break), nor inside a
    ``torch.func`` transform (which cannot read values), nor on an accelerator (the read
    would wait for the device); there the kernel takes its path without the check.
    """
    return x.device.type == "cpu" and not torch_tracing()


def custom_backward_allowed(x: Any) -> bool:
    """Whether a kernel may run its own ``torch.autograd.Function`` for the torch tensor
    ``x``: in eager PyTorch, on any device; not under ``torch.compile`` (which traces the
    formula's operations instead) nor inside a ``torch.func`` transform (where a Function
    would need rules of its own)."""
    return not torch_tracing()


def closed_backward_allowed(x: Any) -> bool:
    """Whether a kernel may run a ``torch.autograd.Function`` whose forward and closed-form
    backward are plain torch operations on the torch tensor ``x``: in eager PyTorch and under
    ``torch.compile``, which traces both into its graphs; not inside a ``torch.func``
    transform (where a Function would need rules of its own)."""
    import torch  # ok: the caller passed torch tensors

    return not torch._C._are_functorch_transforms_active()


def torch_tracing() -> bool:
    """Whether PyTorch is tracing rather than running: ``torch.compile`` (Dynamo) or a
    ``torch.func`` transform. Called only once a torch tensor has been passed."""
    import torch  # ok: the caller passed torch tensors

    return bool(torch.compiler.is_compiling() or torch._C._are_functorch_transforms_active())


def finite_or_formula(loss: Any) -> Any:
    """A kernel's 0-d result if it is finite, read on the host (see
    :func:`host_checks_allowed`), else ``NotImplemented``: the formula recomputes it."""
    return loss if math.isfinite(loss.item()) else NotImplemented


def subtract_at_columns(xp: Any, x: Any, columns: Any, values: Any) -> Any:
    """``x`` with ``values[i]`` subtracted at ``x[i, columns[i]]`` for every row ``i`` whose
    column is in ``[0, x.shape[1])``; ``x`` is a fresh 2-D array the caller owns.

    The standard has no scatter, so there it is a comparison of every column against the
    row's and a ``where`` (three passes over ``x``); the libraries that have one update the
    ``N`` entries in place (NumPy, CuPy and PyTorch by advanced indexing, JAX by ``.at``).
    Not used where autodiff records ``x``: the blocked cross-entropy computes its own
    gradients (``blocked_autodiff.py``).
    """
    name = namespace_name(xp)
    width = x.shape[1]
    inside = (columns >= 0) & (columns < width)
    if name in ("numpy", "cupy", "torch", "jax"):
        rows = xp.arange(x.shape[0], device=device_of(x))
        safe = xp.where(inside, columns, xp.zeros_like(columns))
        step = xp.where(inside, values, xp.zeros_like(values))  # out of range: subtract 0
        if name == "jax":
            return x.at[rows, safe].add(-step)
        x[rows, safe] -= step
        return x
    grid = xp.arange(width, dtype=columns.dtype, device=device_of(x))
    return xp.where(grid[None, :] == columns[:, None], x - values[:, None], x)


def exp_in_place(xp: Any, x: Any) -> Any:
    """``exp(x)``, written over ``x`` where the library can (the caller owns ``x``, and no
    autodiff records it): PyTorch's ``exp_``, NumPy's and CuPy's ``out=``; elsewhere a new
    array. Each block of the blocked cross-entropy is then one allocation: many
    allocations of a few MiB each are served from the C heap, which keeps what they free
    (the peak resident set grew by 30 MiB at 8 MiB blocks), where one is reused."""
    name = namespace_name(xp)
    if name == "torch":
        return x.exp_()
    if name in ("numpy", "cupy"):
        return xp.exp(x, out=x)
    return xp.exp(x)


def add_matmul(xp: Any, accumulator: Any, a: Any, b: Any) -> Any:
    """``accumulator + a @ b``, into ``accumulator`` itself where the library can (the caller
    owns it, and no autodiff records it): PyTorch's ``addmm_`` writes the product into it
    with no temporary, NumPy and CuPy add the product in place; JAX adds it one slice of
    rows at a time (:func:`_jax_add_matmul`); elsewhere (Dask, array-api-strict) a new
    array."""
    name = namespace_name(xp)
    if name == "torch":
        return accumulator.addmm_(a, b)
    if name in ("numpy", "cupy"):
        accumulator += a @ b
        return accumulator
    if name == "jax":
        return _jax_add_matmul(accumulator, a, b)
    return accumulator + a @ b


# Elements of one slice of the product in _jax_add_matmul (8 MiB in float32).
_PRODUCT_SLICE = 2**21


def _jax_add_matmul(accumulator: Any, a: Any, b: Any) -> Any:
    """``accumulator + a @ b`` in JAX, the product made and added one slice of rows at a time.

    XLA on the CPU does not fuse the sum into the matrix product: ``accumulator + a @ b``
    holds the whole product beside the accumulator (64 MiB more for a 32768 × 512 weight
    gradient), and slices written as a Python loop are all scheduled at once. A
    ``fori_loop`` runs them in sequence, each slice added in place by
    ``dynamic_update_slice``, so one slice of the product exists at a time."""
    import jax  # ok: the caller passed JAX arrays

    rows, columns = accumulator.shape
    size = max(1, _PRODUCT_SLICE // max(columns, 1))
    if rows <= size:
        return accumulator + a @ b
    whole = rows // size

    def add_slice(i: Any, total: Any) -> Any:
        start = i * size
        part = jax.lax.dynamic_slice_in_dim(a, start, size, 0) @ b
        current = jax.lax.dynamic_slice_in_dim(total, start, size, 0)
        return jax.lax.dynamic_update_slice_in_dim(total, current + part, start, 0)

    accumulator = jax.lax.fori_loop(0, whole, add_slice, accumulator)
    if whole * size < rows:  # the last, shorter slice
        accumulator = accumulator.at[whole * size:].add(a[whole * size:] @ b)
    return accumulator
