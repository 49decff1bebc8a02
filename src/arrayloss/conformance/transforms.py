"""Transformation checks (SPEC section 7): ``jax.vmap``, ``torch.compile(fullgraph=True)``,
``torch.func.grad`` and ``torch.func.vmap``, and Dask staying lazy until the caller computes.

Each check runs one case (the matrix runs them on the first case of every loss, to keep the
time bounded), raises ``AssertionError`` naming the case and the transformation, and returns
the worst relative error against the float64 reference (or against autograd for
``torch.func.grad``). ``jax.jit`` is the ``jax_jit`` backend of the value matrix.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .backends import Backend, backend, forbid_dask_compute
from .cases import Case
from .gradients import GRADIENT_TOLERANCE, autodiff_gradients
from .runner import loss_function, relative_error, tolerance

__all__ = ["TRANSFORMS", "Transform", "available_transforms"]

# torch.compile's "eager" backend runs Dynamo with fullgraph=True, so any graph break (a
# Python `if` on a tensor, `.item()`, a data-dependent shape, an untraceable call) is an
# error, and then runs the captured graph as is: the tracing contract of SPEC section 7 is
# checked without generating code (no compiler needed on the machine, and about 0.7 s per
# loss instead of several seconds with inductor).
TORCH_COMPILE_BACKEND = "eager"


def _batch(case: Case, seeds: tuple[int, ...] = (0, 1)) -> list[np.ndarray]:
    """The case's inputs for several seeds, stacked along a new leading (vmap) axis."""
    per_seed = [case.inputs(s) for s in seeds]
    shapes = {tuple(x.shape for x in inputs) for inputs in per_seed}
    if len(shapes) != 1:
        raise AssertionError(f"{case.id}: inputs change shape with the seed; cannot vmap")
    return [np.stack(xs) for xs in zip(*per_seed, strict=True)]


def _expected_mean(case: Case, seed: int) -> float:
    values = np.asarray(case.reference(*case.inputs(seed), **case.options), dtype=np.float64)
    return float(values.mean()) if values.size else 0.0


def _check(case: Case, name: str, actual: np.ndarray, expected: np.ndarray,
           limit: float) -> float:
    error = relative_error(actual, expected)
    if not error <= limit:
        raise AssertionError(f"{case.id} under {name}: relative error {error:.3g} > "
                             f"{limit:.3g}\ngot      {actual!r}\nexpected {expected!r}")
    return error


def _float_arrays(case: Case, b: Backend, inputs: list[np.ndarray]) -> list[Any]:
    floats = case.float_indices(len(inputs))
    return [b.asarray(x, "float64" if i in floats else None) for i, x in enumerate(inputs)]


def check_jax_vmap(case: Case) -> float:
    """``jax.jit(jax.vmap(...))`` of the ``"mean"`` loss over a stack of two input sets."""
    import jax

    b = backend("jax")
    stacked = _float_arrays(case, b, _batch(case))
    fn = loss_function(case)
    # Under jit: one compilation instead of one per primitive of the eager batched trace.
    actual = np.asarray(jax.jit(jax.vmap(lambda *a: fn(*a, **case.options)))(*stacked))
    expected = np.array([_expected_mean(case, 0), _expected_mean(case, 1)])
    return _check(case, "jax.vmap", actual, expected, tolerance("float64") * case.tolerance)


def check_torch_vmap(case: Case) -> float:
    """``torch.func.vmap`` of the ``"mean"`` loss over a stack of two input sets."""
    import torch

    b = backend("torch")
    stacked = _float_arrays(case, b, _batch(case))
    fn = loss_function(case)
    actual = b.to_numpy(torch.func.vmap(lambda *a: fn(*a, **case.options))(*stacked))
    expected = np.array([_expected_mean(case, 0), _expected_mean(case, 1)])
    return _check(case, "torch.func.vmap", actual, expected,
                  tolerance("float64") * case.tolerance)


def check_torch_compile(case: Case) -> float:
    """``torch.compile(fullgraph=True)`` of the ``"mean"`` loss, value and gradient."""
    import torch

    b = backend("torch")
    arrays = _float_arrays(case, b, [np.asarray(x) for x in case.inputs(0)])
    fn = loss_function(case)
    # A fresh Dynamo cache per case: every case compiles the same wrapper code, which
    # would otherwise count as recompilations of one function and hit Dynamo's limit.
    torch._dynamo.reset()
    compiled = torch.compile(lambda *a: fn(*a, **case.options), fullgraph=True,
                             backend=TORCH_COMPILE_BACKEND)
    for i in case.grad_inputs:
        arrays[i] = arrays[i].clone().requires_grad_(True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = compiled(*arrays)
    # arrayloss's own code traces without a Dynamo warning (array-api-compat's lru-cached
    # probes are kept off the traced path by the core's type caches).
    dynamo = [str(w.message).splitlines()[0] for w in caught
              if "Dynamo" in str(w.message) or "arrayloss" in str(w.filename)]
    if dynamo:
        raise AssertionError(f"{case.id}: torch.compile warned: {dynamo}")
    error = _check(case, "torch.compile(fullgraph=True)", b.to_numpy(value),
                   np.asarray(_expected_mean(case, 0)), tolerance("float64") * case.tolerance)
    value.backward()
    eager = autodiff_gradients(case, b)
    for i, expected in zip(case.grad_inputs, eager, strict=True):
        error = max(error, _check(case, "torch.compile(fullgraph=True) backward",
                                  b.to_numpy(arrays[i].grad), expected,
                                  GRADIENT_TOLERANCE * case.tolerance))
    return error


def check_torch_func_grad(case: Case) -> float:
    """``torch.func.grad`` of the ``"mean"`` loss against ``Tensor.backward``."""
    import torch

    b = backend("torch")
    arrays = _float_arrays(case, b, [np.asarray(x) for x in case.inputs(0)])
    fn = loss_function(case)
    wrt = case.grad_inputs

    def scalar(*diff: Any) -> Any:
        args = list(arrays)
        for i, x in zip(wrt, diff, strict=True):
            args[i] = x
        return fn(*args, **case.options)

    grads = torch.func.grad(scalar, argnums=tuple(range(len(wrt))))(*(arrays[i] for i in wrt))
    worst = 0.0
    for g, expected in zip(grads, autodiff_gradients(case, b), strict=True):
        worst = max(worst, _check(case, "torch.func.grad", b.to_numpy(g), expected,
                                  GRADIENT_TOLERANCE * case.tolerance))
    return worst


def check_dask_lazy(case: Case) -> float:
    """On Dask the loss builds a graph without computing (``compute()`` raises inside the
    call) and the caller's ``compute()`` gives the reference value."""
    import dask.array as da

    b = backend("dask")
    arrays = _float_arrays(case, b, [np.asarray(x) for x in case.inputs(0)])
    fn = loss_function(case)
    with forbid_dask_compute():
        result = fn(*arrays, **case.options)
    if not isinstance(result, da.Array):
        raise AssertionError(f"{case.id} on Dask returned a {type(result).__name__}, "
                             "not a lazy dask.array.Array")
    return _check(case, "dask (lazy)", b.to_numpy(result),
                  np.asarray(_expected_mean(case, 0)), tolerance("float64") * case.tolerance)


class Transform:
    """A named transformation check and the library it needs."""

    def __init__(self, name: str, module: str, check: Callable[[Case], float]) -> None:
        self.name, self.module, self.check = name, module, check

    def is_available(self) -> bool:
        import importlib.util

        return importlib.util.find_spec(self.module) is not None

    def __repr__(self) -> str:
        return f"Transform({self.name!r})"


TRANSFORMS = (
    Transform("jax.vmap", "jax", check_jax_vmap),
    Transform("torch.compile", "torch", check_torch_compile),
    Transform("torch.func.grad", "torch", check_torch_func_grad),
    Transform("torch.func.vmap", "torch", check_torch_vmap),
    Transform("dask.lazy", "dask", check_dask_lazy),
)


def available_transforms() -> list[Transform]:
    """The transformations whose library is installed."""
    return [t for t in TRANSFORMS if t.is_available()]
