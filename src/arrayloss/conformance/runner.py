"""The checks behind the conformance matrix, shared by ``conformance/`` (pytest) and
``python -m arrayloss check``.

Each check raises ``AssertionError`` with a message that names the case, the backend and
what differed, and returns the worst relative error it saw.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import arrayloss

from .backends import Backend
from .cases import Case

__all__ = [
    "REDUCTION_VARIANTS",
    "check_gradient",
    "check_values",
    "reduce_reference",
    "relative_error",
    "tolerance",
]

# (reduction, with sample_weight, with mask): every rule of SPEC section 5 at least once.
REDUCTION_VARIANTS = (
    ("none", False, False),
    ("mean", False, False),
    ("sum", True, False),
    ("none", True, True),
    ("mean", True, True),
    ("weighted_mean", True, True),
)


def tolerance(dtype: str) -> float:
    """Relative tolerance ``4·sqrt(eps)`` of the computation dtype (SciPy's rule)."""
    computed = "float64" if dtype == "float64" else "float32"
    return 4.0 * math.sqrt(float(np.finfo(computed).eps))


def reduce_reference(values: np.ndarray, weight: np.ndarray | None, mask: np.ndarray | None,
                     reduction: str) -> np.ndarray:
    """SPEC section 5 in NumPy, for per-sample ``values``."""
    w = np.ones_like(values) if weight is None else _leading(weight, values.shape)
    m = np.ones(values.shape, bool) if mask is None else _leading(mask, values.shape)
    weighted = np.where(m, w * values, 0.0)
    if reduction == "none":
        return weighted
    total = weighted.sum()
    if reduction == "sum":
        return np.asarray(total)
    count = m.sum() if reduction == "mean" else np.where(m, w, 0.0).sum()
    return np.asarray(0.0 if count == 0 else total / count)


def _leading(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return np.broadcast_to(x.reshape(x.shape + (1,) * (len(shape) - x.ndim)), shape)


def relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """Worst ``|a - e| / max(|e|, 1)`` (absolute near 0); inf where NaNs differ."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        return math.inf
    if actual.size == 0:
        return 0.0
    nan_a, nan_e = np.isnan(actual), np.isnan(expected)
    if np.any(nan_a != nan_e):
        return math.inf
    both_inf = np.isinf(actual) & (actual == expected)
    ok = ~(nan_a | both_inf)
    if np.any(np.isinf(actual[ok]) | np.isinf(expected[ok])):
        return math.inf
    scale = np.maximum(np.abs(expected[ok]), 1.0)
    return float(np.max(np.abs(actual[ok] - expected[ok]) / scale, initial=0.0))


def _prepare(case: Case, backend: Backend, dtype: str, seed: int):
    data = case.inputs(seed)
    floats = case.float_indices(len(data))
    arrays = [backend.asarray(x, dtype if i in floats else None) for i, x in enumerate(data)]
    # The reference sees exactly the rounded values the backend computes with.
    rounded = [backend.to_numpy(a) if i in floats else np.asarray(x)
               for i, (a, x) in enumerate(zip(arrays, data, strict=True))]
    return arrays, rounded


def check_values(case: Case, backend: Backend, dtype: str, reduction: str = "none",
                 weighted: bool = False, masked: bool = False, seed: int = 0) -> float:
    """One loss call on ``backend`` against the float64 reference; returns the error."""
    arrays, rounded = _prepare(case, backend, dtype, seed)
    per_sample = np.asarray(case.reference(*rounded, **case.options), dtype=np.float64)
    rng = np.random.default_rng(seed + 1)
    kwargs: dict[str, Any] = dict(case.options, reduction=reduction)
    weight = mask = None
    if weighted and per_sample.ndim >= 1:
        weight = rng.uniform(0.0, 2.0, size=per_sample.shape[:1])
        kwargs["sample_weight"] = backend.asarray(weight, dtype)
        weight = backend.to_numpy(kwargs["sample_weight"])
    if masked and per_sample.ndim >= 1:
        mask = np.arange(per_sample.shape[0]) % 3 != 1
        kwargs["mask"] = backend.asarray(mask)
    result = backend.call(arrayloss.get(case.loss), *arrays, **kwargs)
    result_dtype = "float64" if dtype == "float64" else "float32"
    backend.check_result(result, result_dtype)
    actual = backend.to_numpy(result)
    expected = reduce_reference(per_sample, weight, mask, reduction)
    error = relative_error(actual, expected)
    limit = tolerance(dtype) * case.tolerance
    if not error <= limit:
        raise AssertionError(
            f"{case.id} on {backend.name} in {dtype}, reduction={reduction!r}, "
            f"weighted={weighted}, masked={masked}: relative error {error:.3g} > {limit:.3g}\n"
            f"got      {actual!r}\nexpected {expected!r}"
        )
    return error


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
        h = step * max(1.0, abs(x[i]))
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (value(up) - value(down)) / (2 * h)
    return grad


def autodiff_gradient(case: Case, backend: Backend, inputs: list[np.ndarray],
                      index: int) -> np.ndarray:
    """The gradient of the ``"mean"`` loss with respect to input ``index`` on ``backend``."""
    floats = case.float_indices(len(inputs))
    arrays = [backend.asarray(x, "float64" if i in floats else None)
              for i, x in enumerate(inputs)]
    fn = arrayloss.get(case.loss, **case.options)
    if backend.autodiff == "torch":
        arrays[index] = arrays[index].clone().requires_grad_(True)
        fn(*arrays).backward()
        return backend.to_numpy(arrays[index].grad)
    if backend.autodiff == "jax":
        import jax

        def scalar(x: Any) -> Any:
            args = list(arrays)
            args[index] = x
            return fn(*args)

        grad = jax.grad(scalar)
        if backend.name == "jax_jit":
            grad = jax.jit(grad)
        return np.asarray(grad(arrays[index]))
    raise ValueError(f"{backend.name} has no autodiff")


def check_gradient(case: Case, backend: Backend, seed: int = 0) -> float:
    """Autodiff gradients of every ``grad_inputs`` against finite differences of the
    reference (smooth cases) and, on torch, ``torch.autograd.gradcheck``."""
    inputs = [np.asarray(x) for x in case.inputs(seed)]
    worst = 0.0
    for index in case.grad_inputs:
        actual = autodiff_gradient(case, backend, inputs, index)
        if not np.all(np.isfinite(actual)):
            raise AssertionError(f"{case.id} on {backend.name}: non-finite gradient {actual!r}")
        if not case.smooth:
            continue
        expected = numeric_gradient(case, inputs, index)
        error = relative_error(actual, expected)
        worst = max(worst, error)
        if not error <= 1e-5 * case.tolerance:
            raise AssertionError(
                f"{case.id} on {backend.name}: gradient of input {index} differs from finite "
                f"differences by {error:.3g}\nautodiff {actual!r}\nnumeric  {expected!r}"
            )
    if backend.autodiff == "torch" and case.smooth:
        _torch_gradcheck(case, inputs)
    return worst


def _torch_gradcheck(case: Case, inputs: list[np.ndarray]) -> None:
    import torch

    floats = case.float_indices(len(inputs))
    tensors = [torch.asarray(x, dtype=torch.float64 if i in floats else None)
               for i, x in enumerate(inputs)]
    fn = arrayloss.get(case.loss, **case.options)
    wrt = [tensors[i].clone().requires_grad_(True) for i in case.grad_inputs]

    def function(*diff: Any) -> Any:
        args = list(tensors)
        for i, t in zip(case.grad_inputs, diff, strict=True):
            args[i] = t
        return fn(*args)

    if not torch.autograd.gradcheck(function, tuple(wrt), eps=1e-6, atol=1e-6, rtol=1e-4):
        raise AssertionError(f"{case.id}: torch.autograd.gradcheck failed")
