"""Closed-form gradients and Hessian diagonals against autodiff, for the conformance matrix.

:func:`check_closed_form` computes ``arrayloss.gradient`` and
``arrayloss.hessian_diagonal`` of one case on one backend variant and dtype (no autodiff
needed there: NumPy, array-api-strict and Dask included), and compares them with
``torch.autograd`` and ``jax.grad`` / ``jax.hessian`` of the loss itself, in float64, on
exactly the values the backend computed with. ``python -m arrayloss check`` reports its
returned error per loss; :func:`closed_form_cases` lists the rows it applies to.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

import arrayloss

from ..core.define import LossFunction
from .backends import Backend
from .cases import Case, all_cases
from .runner import prepare_inputs, relative_error, result_dtype, tolerance, weight_and_mask

__all__ = ["check_closed_form", "closed_form_cases"]

def closed_form_cases() -> list[Case]:
    """The conformance rows whose loss has a closed-form gradient."""
    return [c for c in all_cases() if arrayloss.has_closed_form(c.loss)]


def check_closed_form(case: Case, backend: Backend, dtype: str, seed: int = 0) -> float:
    """Closed-form gradient and Hessian diagonal of ``case`` on ``backend`` in ``dtype``
    against float64 autodiff of the same inputs; returns the worst relative error.

    Checked: the ``"mean"`` gradient against ``torch.autograd`` and ``jax.grad``, its
    Hessian diagonal against the diagonal of ``jax.hessian`` (in float32, element by
    element, that or torch's float32 Hessian of the same inputs: a second derivative that
    jumps at a knot takes the side the computing precision decides), and the weighted, masked
    ``"weighted_mean"`` gradient against ``torch.autograd``. Raises ``AssertionError``
    naming the case, backend, dtype, reduction and quantity that differ.
    """
    data = case.inputs(seed)
    arrays, rounded = prepare_inputs(case, backend, dtype, data)
    per_sample = np.asarray(case.reference(*rounded, **case.options))
    weight = mask = None
    extra: dict[str, Any] = {}
    if per_sample.ndim >= 1:
        weight, mask = weight_and_mask(per_sample.shape[0], seed)
        extra = {"sample_weight": backend.asarray(weight, dtype), "mask": backend.asarray(mask)}
        weight = backend.rounded(weight, dtype)
    # One call computes everything, so that jax_jit compiles once per case and dtype.
    results = backend.call(_closed_forms, case.loss, case.options, *arrays, **extra)
    expected = _autodiff(case, rounded, weight, mask)
    hessian32 = _torch_hessian32(case, rounded) if dtype != "float64" else None
    limit = tolerance(dtype) * case.tolerance
    worst = 0.0
    for actual in results:
        backend.check_result(actual, result_dtype(dtype))
    if backend.name == "dask":  # one computation of the four lazy results
        from dask.base import compute

        computed = compute(*results, scheduler="sync")
    else:
        computed = [backend.to_numpy(actual) for actual in results]
    for (what, reference_name), got in zip(_CHECKS, computed, strict=True):
        got = np.asarray(got, dtype=np.float64)
        reference = expected[reference_name]
        if hessian32 is not None and reference_name == "jax.hessian":
            # A second derivative jumps at a knot (Huber's |e| = δ), and the side an input
            # on the knot falls on is decided by the computing precision; so in float32
            # each element may match either float64 jax.hessian or torch's float32
            # Hessian of the same inputs (which is NaN where torch's double backward
            # overflows, at logits of 1e4: there float64 decides).
            closer = np.abs(got - hessian32) < np.abs(got - reference)
            reference = np.where(closer, hessian32, reference)
        # Relative to the largest component, or to 1/size: a "mean" gradient is small
        # (divided by the element count), and relative_error alone would measure it
        # absolutely below 1; the floor 1/size keeps the rounding of autodiff's
        # saturated second derivatives (1e-15 next to gradients of 1/size) from counting.
        finite = np.abs(reference[np.isfinite(reference)])
        scale = max(float(finite.max(initial=0.0)), 1.0 / max(1, reference.size))
        error = relative_error(got / scale, reference / scale)
        worst = max(worst, error)
        if not error <= limit:
            raise AssertionError(
                f"{case.id} on {backend.name} in {dtype}: closed-form {what} differs from "
                f"{reference_name} by {error:.3g} > {limit:.3g}\n"
                f"closed form {got!r}\nautodiff    {reference!r}"
            )
    return worst


# (what is computed, the reference it is compared with), in _closed_forms's order.
_CHECKS = (
    ("gradient (mean)", "torch.autograd"),
    ("gradient (mean)", "jax.grad"),
    ("hessian_diagonal (mean)", "jax.hessian"),  # float32: or torch's float32 Hessian
    ("gradient (weighted_mean, weighted, masked)", "torch.autograd weighted"),
)


def _closed_forms(loss: str, options: dict[str, Any], *arrays: Any,
                  **extra: Any) -> tuple[Any, Any, Any, Any]:
    from ..core.chain_rule import evaluate

    mean = evaluate(loss, arrays, dict(options), hessian=True)
    weighted = evaluate(loss, arrays, dict(options, reduction="weighted_mean", **extra))
    return mean.gradient, mean.gradient, mean.hessian, weighted.gradient


_CACHE: dict[tuple[Any, ...], dict[str, np.ndarray]] = {}


def _autodiff(case: Case, rounded: list[np.ndarray], weight: np.ndarray | None,
              mask: np.ndarray | None) -> dict[str, np.ndarray]:
    """float64 autodiff of the loss at ``rounded`` (cached: every backend variant of one
    dtype sees the same rounded inputs)."""
    key = (case.id, *(x.tobytes() for x in rounded),
           None if weight is None else weight.tobytes())
    if key not in _CACHE:
        _CACHE[key] = _compute_autodiff(case, rounded, weight, mask)
    return _CACHE[key]


def _compute_autodiff(case: Case, rounded: list[np.ndarray], weight: np.ndarray | None,
                      mask: np.ndarray | None) -> dict[str, np.ndarray]:
    import jax
    import torch

    jax.config.update("jax_enable_x64", True)
    spec = cast(LossFunction, arrayloss.get(case.loss)).spec
    index = spec.inputs.index(spec.prediction)
    floats = case.float_indices(len(rounded))
    raw = [x.astype(np.float64) if i in floats else x for i, x in enumerate(rounded)]
    fn = arrayloss.get(case.loss, **case.options)

    def torch_grad(**extra: Any) -> np.ndarray:
        tensors = [torch.asarray(np.array(x)) for x in raw]  # writable copies
        tensors[index] = tensors[index].clone().requires_grad_(True)
        extra = {k: torch.asarray(np.array(v)) if isinstance(v, np.ndarray) else v
                 for k, v in extra.items()}
        fn(*tensors, **extra).backward()
        grad = tensors[index].grad
        assert grad is not None
        return grad.double().numpy()

    out = {"torch.autograd": torch_grad()}
    out["torch.autograd weighted"] = out["torch.autograd"] if weight is None else torch_grad(
        sample_weight=weight, mask=mask, reduction="weighted_mean")

    jarrays = [jax.numpy.asarray(x) for x in raw]
    grad, hessian = _jax_program(case, index)(jarrays)
    out["jax.grad"] = np.asarray(grad)
    size = int(np.prod(raw[index].shape))
    out["jax.hessian"] = np.diagonal(np.asarray(hessian).reshape(size, size)).reshape(
        raw[index].shape)
    return out


def _torch_hessian32(case: Case, rounded: list[np.ndarray]) -> np.ndarray:
    """The diagonal of ``torch.autograd.functional.hessian`` of the ``"mean"`` loss,
    computed in float32."""
    import torch

    spec = cast(LossFunction, arrayloss.get(case.loss)).spec
    index = spec.inputs.index(spec.prediction)
    floats = case.float_indices(len(rounded))
    tensors = [torch.asarray(x.astype(np.float32)) if i in floats else torch.asarray(np.array(x))
               for i, x in enumerate(rounded)]
    fn = arrayloss.get(case.loss, **case.options)

    def scalar(x: Any) -> Any:
        args = list(tensors)
        args[index] = x
        return fn(*args)

    x = tensors[index]
    # The formula's own float32 Hessian: the native kernels' second derivatives may differ
    # at a knot (F.huber_loss takes the outer branch's 0 at |e| = δ; docs/performance.md).
    with arrayloss.native_kernels(False):
        hessian = torch.autograd.functional.hessian(scalar, x).reshape(x.numel(), x.numel())
    return torch.diagonal(hessian).reshape(x.shape).double().numpy()


_PROGRAMS: dict[str, Any] = {}


def _jax_program(case: Case, index: int) -> Any:
    """``jax.grad`` and ``jax.hessian`` of the ``"mean"`` loss in one compiled program.

    Eager JAX would compile every primitive of the Hessian's batched trace separately,
    which is far slower for these small inputs; the inputs are arguments, so the float64
    and the float32-rounded inputs of one case share one compilation.
    """
    if case.id not in _PROGRAMS:
        import jax

        fn = arrayloss.get(case.loss, **case.options)

        def grad_and_hessian(arrays: list[Any]) -> tuple[Any, Any]:
            def scalar(x: Any) -> Any:
                args = list(arrays)
                args[index] = x
                return fn(*args)

            x = arrays[index]
            return jax.grad(scalar)(x), jax.hessian(scalar)(x)

        _PROGRAMS[case.id] = jax.jit(grad_and_hessian)
    return _PROGRAMS[case.id]
