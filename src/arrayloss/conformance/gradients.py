"""Gradient checks: PyTorch autograd and ``jax.grad`` against central finite differences
of the float64 reference, against ``torch.autograd.gradcheck``, and against each other.

Gradients are of the ``"mean"`` loss in float64 with respect to each of the case's
``grad_inputs``. Where the case is smooth, each autodiff gradient must match finite
differences of the NumPy reference; everywhere (kinks and ties included) the PyTorch and
JAX gradients must match each other, so a formula that differentiates ``abs`` or ``clip``
at a tie, where the two libraries pick different subgradients, is caught.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .backends import Backend
from .cases import Case
from .runner import loss_function, relative_error

__all__ = [
    "GRADIENT_TOLERANCE",
    "autodiff_gradient",
    "autodiff_gradients",
    "check_gradient",
    "check_gradient_agreement",
    "gradient_backends",
    "jax_value_and_grad",
    "numeric_gradient",
    "torch_value_and_grad",
]

# Central differences with a relative step of 1e-6 are accurate to about 1e-9 in float64
# for the smooth losses here; 1e-5 leaves room for curvature without hiding a wrong formula.
GRADIENT_TOLERANCE = 1e-5

_CACHE: dict[tuple[Any, ...], list[np.ndarray]] = {}


def gradient_backends(backends: tuple[Backend, ...] | list[Backend]) -> list[Backend]:
    """One backend per autodiff library and path: torch with its native kernels, torch's
    array-API formula (``torch_formula``), and jax as ``jax.jit(jax.grad(loss))`` (the way
    training code takes it; one compilation per case)."""
    chosen: dict[str, Backend] = {}
    for b in backends:
        if b.autodiff and b.name in ("torch", "torch_formula", "jax_jit", "jax"):
            key = b.name if b.name.startswith("torch") else b.autodiff
            if key not in chosen or b.name == "jax_jit":
                chosen[key] = b
    return list(chosen.values())


def numeric_gradient(case: Case, inputs: list[np.ndarray], index: int,
                     step: float = 1e-6) -> np.ndarray:
    """Central differences of the reference's mean over its per-sample values."""
    def value(x: np.ndarray) -> float:
        args = list(inputs)
        args[index] = x
        return float(np.mean(case.reference(*args, **case.options)))

    x = np.array(inputs[index], dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        h = step * max(1.0, abs(float(x[i])))
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (value(up) - value(down)) / (2 * h)
    return grad


def autodiff_gradients(case: Case, backend: Backend, seed: int = 0) -> list[np.ndarray]:
    """The gradients of the ``"mean"`` loss in float64 with respect to every input of
    ``case.grad_inputs`` on ``backend`` (cached per case, backend and seed)."""
    key = (id(case), backend.name, seed)
    if key not in _CACHE:
        inputs = [np.asarray(x) for x in case.inputs(seed)]
        _CACHE[key] = _gradients(case, backend, inputs)
    return _CACHE[key]


def autodiff_gradient(case: Case, backend: Backend, inputs: list[np.ndarray],
                      index: int) -> np.ndarray:
    """The gradient with respect to input ``index`` alone, on given inputs."""
    single = _with_grad_inputs(case, (index,))
    return _gradients(single, backend, inputs)[0]


def _with_grad_inputs(case: Case, grad_inputs: tuple[int, ...]) -> Case:
    import dataclasses

    return dataclasses.replace(case, grad_inputs=grad_inputs)


def _gradients(case: Case, backend: Backend, inputs: list[np.ndarray]) -> list[np.ndarray]:
    floats = case.float_indices(len(inputs))
    arrays = [backend.asarray(x, "float64" if i in floats else None)
              for i, x in enumerate(inputs)]
    fn = loss_function(case)
    options = case.options
    wrt = case.grad_inputs
    if backend.autodiff == "torch":
        for i in wrt:
            arrays[i] = arrays[i].clone().requires_grad_(True)
        backend.call(fn, *arrays, **options).backward()
        return [backend.to_numpy(arrays[i].grad) for i in wrt]
    if backend.autodiff == "jax":
        import jax

        def scalar(*diff: Any) -> Any:
            args = list(arrays)
            for i, x in zip(wrt, diff, strict=True):
                args[i] = x
            return fn(*args, **options)

        grad = jax.grad(scalar, argnums=tuple(range(len(wrt))))
        if backend.name == "jax_jit":
            grad = jax.jit(grad)
        return [np.asarray(g, dtype=np.float64) for g in grad(*(arrays[i] for i in wrt))]
    raise ValueError(f"{backend.name} has no autodiff")


def check_gradient(case: Case, backend: Backend, seed: int = 0) -> float:
    """Autodiff gradients of every ``grad_inputs`` are finite and, in smooth cases, match
    finite differences of the reference and (on torch) ``torch.autograd.gradcheck``;
    returns the worst relative error against finite differences."""
    inputs = [np.asarray(x) for x in case.inputs(seed)]
    worst = 0.0
    for index, actual in zip(case.grad_inputs, autodiff_gradients(case, backend, seed),
                             strict=True):
        if not np.all(np.isfinite(actual)):
            raise AssertionError(
                f"{case.id} on {backend.name}: non-finite gradient of input {index}: {actual!r}")
        if not case.smooth:
            continue
        expected = _numeric_cached(case, inputs, index, seed)
        error = relative_error(actual, expected)
        worst = max(worst, error)
        if not error <= GRADIENT_TOLERANCE * case.tolerance:
            raise AssertionError(
                f"{case.id} on {backend.name}: gradient of input {index} differs from finite "
                f"differences by {error:.3g}\nautodiff {actual!r}\nnumeric  {expected!r}")
    if backend.name == "torch" and case.smooth:
        _torch_gradcheck(case, inputs)
    return worst


def _numeric_cached(case: Case, inputs: list[np.ndarray], index: int,
                    seed: int) -> np.ndarray:
    key = (id(case), "numeric", seed, index)
    if key not in _CACHE:
        _CACHE[key] = [numeric_gradient(case, inputs, index)]
    return _CACHE[key][0]


def check_gradient_agreement(case: Case, backends: list[Backend], seed: int = 0) -> float:
    """The gradients of every autodiff backend agree with each other (kinks and ties
    included); returns the worst relative difference."""
    if len(backends) < 2:
        raise ValueError(
            f"agreement needs two autodiff backends; got {[b.name for b in backends]}")
    first, *others = backends
    reference = autodiff_gradients(case, first, seed)
    worst = 0.0
    for other in others:
        for index, a, b in zip(case.grad_inputs, reference, autodiff_gradients(case, other, seed),
                               strict=True):
            error = relative_error(b, a)
            worst = max(worst, error)
            if not error <= GRADIENT_TOLERANCE * case.tolerance:
                raise AssertionError(
                    f"{case.id}: gradients of input {index} differ between {first.name} and "
                    f"{other.name} by {error:.3g}\n{first.name} {a!r}\n{other.name} {b!r}")
    return worst


def _torch_gradcheck(case: Case, inputs: list[np.ndarray]) -> None:
    import torch

    floats = case.float_indices(len(inputs))
    tensors = [torch.asarray(x, dtype=torch.float64 if i in floats else None)
               for i, x in enumerate(inputs)]
    fn = loss_function(case)
    wrt = [tensors[i].clone().requires_grad_(True) for i in case.grad_inputs]

    def function(*diff: Any) -> Any:
        args = list(tensors)
        for i, t in zip(case.grad_inputs, diff, strict=True):
            args[i] = t
        return fn(*args, **case.options)

    if not torch.autograd.gradcheck(function, tuple(wrt), eps=1e-6, atol=1e-6, rtol=1e-4,
                                    raise_exception=False):
        raise AssertionError(f"{case.id}: torch.autograd.gradcheck failed")


def torch_value_and_grad(loss: Any, y_true: Any, y_pred: Any, **options: Any):
    """``(value, dloss/dy_pred)`` of ``loss(y_true, y_pred)`` by torch autograd in float32."""
    import torch

    pred = torch.asarray(np.asarray(y_pred, dtype=np.float32)).requires_grad_(True)
    value = loss(torch.asarray(np.asarray(y_true)), pred, **options)
    value.backward()
    assert pred.grad is not None
    return value.item(), pred.grad.numpy()


def jax_value_and_grad(loss: Any, y_true: Any, y_pred: Any, **options: Any):
    """``(value, dloss/dy_pred)`` of ``loss(y_true, y_pred)`` by ``jax.jit(jax.value_and_grad)``
    in float32."""
    import jax
    import jax.numpy as jnp

    pred = jnp.asarray(np.asarray(y_pred, dtype=np.float32))
    target = jnp.asarray(np.asarray(y_true))
    value, grad = jax.jit(jax.value_and_grad(lambda q: loss(target, q, **options)))(pred)
    return float(value), np.asarray(grad)  # ok: a test utility reads the result

