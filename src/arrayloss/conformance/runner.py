"""The value checks behind the conformance matrix, shared by ``conformance/`` (pytest) and
``python -m arrayloss check``.

A check calls one loss on one backend variant in one dtype, in several reduction / weight /
mask variants at once (one compiled function under ``jax.jit``, one ``compute()`` on Dask),
and compares each result with the float64 NumPy reference of the case reduced by SPEC
section 5 in NumPy. It raises ``AssertionError`` with a message that names the case, the
backend and what differed, and returns the worst relative error it saw.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

import arrayloss

from .backends import Backend
from .cases import Case

__all__ = [
    "COMPACT_VARIANTS",
    "FULL_VARIANTS",
    "LIGHT_VARIANTS",
    "Variant",
    "check_dtypes",
    "check_empty_batch",
    "check_many",
    "check_variants",
    "loss_function",
    "prepare_inputs",
    "reduce_reference",
    "relative_error",
    "result_dtype",
    "tolerance",
    "weight_and_mask",
]


@dataclass(frozen=True)
class Variant:
    """How one call reduces: ``weights`` is ``"none"``, ``"random"`` (uniform in [0, 2))
    or ``"zero"``; ``mask`` is ``"none"``, ``"some"`` (every third sample dropped) or
    ``"all"`` (every sample dropped)."""

    reduction: str
    weights: str = "none"
    mask: str = "none"

    def __str__(self) -> str:
        extra = [f"weights={self.weights}"] * (self.weights != "none") + [
            f"mask={self.mask}"] * (self.mask != "none")
        return ", ".join([f"reduction={self.reduction!r}", *extra])


# Every rule of SPEC section 5 at least once: the per-sample values, each reduction, weights
# aligned from the leading axis, masks, and the mean over nothing (all masked, all-zero
# weights) that must be 0, not NaN.
FULL_VARIANTS = (
    Variant("none"),
    Variant("mean"),
    Variant("sum", "random"),
    Variant("none", "random", "some"),
    Variant("mean", "random", "some"),
    Variant("weighted_mean", "random", "some"),
    Variant("mean", "none", "all"),
    Variant("weighted_mean", "random", "all"),
    Variant("weighted_mean", "zero"),
)
# The same rules in fewer calls (each call of a loss is one more copy of its graph under
# jax.jit and on Dask): weights and a mask on every reduction, the means over nothing.
COMPACT_VARIANTS = (
    Variant("none", "random", "some"),
    Variant("sum", "random", "some"),
    Variant("mean", "random", "some"),
    Variant("weighted_mean", "random", "some"),
    Variant("mean", "none", "all"),
    Variant("weighted_mean", "zero"),
)
# Lower precisions: the per-sample values and one reduction that uses weights and a mask.
LIGHT_VARIANTS = (Variant("none"), Variant("weighted_mean", "random", "some"))


def tolerance(dtype: str) -> float:
    """Relative tolerance ``4·sqrt(eps)`` of the computation dtype (SciPy's rule); float16
    and bfloat16 are computed in float32 (SPEC section 3)."""
    return 4.0 * math.sqrt(float(np.finfo(result_dtype(dtype)).eps))


def result_dtype(dtype: str) -> str:
    """The dtype of a loss's result for inputs of ``dtype`` (SPEC section 3)."""
    return "float64" if dtype == "float64" else "float32"


def loss_function(case: Case) -> Any:
    """The function a case checks: its ``function`` if it has one, else the public loss."""
    function = getattr(case, "function", None)
    return function if function is not None else arrayloss.get(case.loss)


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
    # A mean over nothing divides its (zero) total by 1: 0, not 0/0. A NaN value with a
    # zero weight is still NaN (a weight multiplies; only the mask drops a value).
    return np.asarray(total / (count if count != 0 else 1.0))


def _leading(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return np.broadcast_to(x.reshape(x.shape + (1,) * (len(shape) - x.ndim)), shape)


def relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """Worst ``|a - e| / max(|e|, 1)`` (absolute near 0); inf where shapes differ or where
    NaNs or infinities differ."""
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


def prepare_inputs(case: Case, backend: Backend, dtype: str, data: tuple[np.ndarray, ...]):
    """The case's inputs as ``backend`` arrays, and the same values rounded to ``dtype`` in
    float64 NumPy for the reference."""
    floats = case.float_indices(len(data))
    arrays = [backend.asarray(x, dtype if i in floats else None) for i, x in enumerate(data)]
    # The reference sees exactly the rounded values the backend computes with.
    rounded = [backend.rounded(x, dtype) if i in floats else np.asarray(x)
               for i, x in enumerate(data)]
    return arrays, rounded


def weight_and_mask(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``"random"`` sample weights (uniform in [0, 2)) and the ``"some"`` mask (every
    third sample dropped) for ``n`` samples."""
    weight = np.random.default_rng(seed + 1).uniform(0.0, 2.0, size=n)
    return weight, np.arange(n) % 3 != 1


def check_variants(case: Case, backend: Backend, dtype: str,
                   variants: tuple[Variant, ...] = FULL_VARIANTS, seed: int = 0,
                   data: tuple[np.ndarray, ...] | None = None, what: str = "") -> float:
    """Every variant of one case on ``backend`` in ``dtype`` against the float64 reference;
    returns the worst relative error (raises AssertionError beyond the tolerance)."""
    return check_dtypes(case, backend, ((dtype, variants),), seed, data, what)[dtype]


def check_dtypes(case: Case, backend: Backend,
                 plan: tuple[tuple[str, tuple[Variant, ...]], ...], seed: int = 0,
                 data: tuple[np.ndarray, ...] | None = None,
                 what: str = "") -> dict[str, float]:
    """:func:`check_variants` for several dtypes in one batch of calls (one compilation
    under ``jax.jit``, one ``compute()`` on Dask); returns the worst error per dtype."""
    fn, calls, expected = _build(case, backend, plan, seed, data)
    results = backend.call_many(fn, calls)
    return _verify(case, backend, plan, results, backend.to_numpy_many(results), expected,
                   what)


def check_many(items: list[tuple[Case, tuple[tuple[str, tuple[Variant, ...]], ...]]],
               backend: Backend, seed: int = 0) -> list[dict[str, float] | AssertionError]:
    """:func:`check_dtypes` for several cases in one batch of calls (one compilation
    under ``jax.jit`` for all of them); returns each case's errors per dtype, or the
    AssertionError (or other exception) that case raised. Where the batch as a whole
    raises, every case is checked on its own, so a failure is attributed to its case."""
    results: list[Any] = []
    arrays: list[Any] = []
    try:
        built = [_build(case, backend, plan, seed, None) for case, plan in items]
        calls = [(fn, *c) for fn, cs, _ in built for c in cs]
        results = backend.call_many(None, calls)
        arrays = backend.to_numpy_many(results)
    except Exception:
        built = None
    outcomes: list[dict[str, float] | AssertionError] = []
    at = 0
    for i, (case, plan) in enumerate(items):
        try:
            if built is None:
                outcomes.append(check_dtypes(case, backend, plan, seed))
                continue
            n = len(built[i][1])
            outcomes.append(_verify(case, backend, plan, results[at:at + n],
                                    arrays[at:at + n], built[i][2], ""))
            at += n
        except Exception as error:  # reported per case by the caller
            outcomes.append(error)  # type: ignore[arg-type]
    return outcomes


def _build(case: Case, backend: Backend,
           plan: tuple[tuple[str, tuple[Variant, ...]], ...], seed: int,
           data: tuple[np.ndarray, ...] | None):
    data = case.inputs(seed) if data is None else data
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    expected: list[tuple[str, Variant, np.ndarray]] = []
    for dtype, variants in plan:
        c, e = _calls(case, backend, dtype, variants, seed, data)
        calls += c
        expected += [(dtype, v, x) for v, x in zip(variants, e, strict=True)]
    return loss_function(case), calls, expected


def _verify(case: Case, backend: Backend,
            plan: tuple[tuple[str, tuple[Variant, ...]], ...], results: list[Any],
            actual: list[np.ndarray], expected: list[tuple[str, Variant, np.ndarray]],
            what: str) -> dict[str, float]:
    for result, (dtype, v, _) in zip(results, expected, strict=True):
        try:
            backend.check_result(result, result_dtype(dtype))
        except AssertionError as error:
            raise AssertionError(f"{case.id}{what} in {dtype}, {v}: {error}") from None
    worst = {dtype: 0.0 for dtype, _ in plan}
    for a, (dtype, v, e) in zip(actual, expected, strict=True):
        if a.shape != e.shape:
            raise AssertionError(
                f"{case.id}{what} on {backend.name} in {dtype}, {v}: result shape {a.shape}, "
                f"expected {e.shape}")
        relative = relative_error(a, e)
        limit = tolerance(dtype) * case.tolerance
        if not relative <= limit:
            raise AssertionError(
                f"{case.id}{what} on {backend.name} in {dtype}, {v}: relative error "
                f"{relative:.3g} > {limit:.3g}\ngot      {a!r}\nexpected {e!r}")
        worst[dtype] = max(worst[dtype], relative)
    return worst


def _calls(case: Case, backend: Backend, dtype: str, variants: tuple[Variant, ...],
           seed: int, data: tuple[np.ndarray, ...]):
    arrays, rounded = prepare_inputs(case, backend, dtype, data)
    per_sample = np.asarray(case.reference(*rounded, **case.options), dtype=np.float64)
    n = per_sample.shape[0] if per_sample.ndim >= 1 else None
    random_weight, some_mask = weight_and_mask(n or 0, seed)
    weights = {"none": None, "random": random_weight,
               "zero": np.zeros(n if n is not None else ())}
    masks = {"none": None, "some": some_mask, "all": np.zeros(n or 0, bool)}
    calls, expected = [], []
    for v in variants:
        kwargs: dict[str, Any] = dict(case.options, reduction=v.reduction)
        weight = mask = None
        if v.weights != "none" and n is not None:
            kwargs["sample_weight"] = backend.asarray(weights[v.weights], dtype)
            weight = backend.rounded(weights[v.weights], dtype)
        if v.mask != "none" and n is not None:
            kwargs["mask"] = backend.asarray(masks[v.mask])
            mask = masks[v.mask]
        calls.append((tuple(arrays), kwargs))
        expected.append(reduce_reference(per_sample, weight, mask, v.reduction))
    return calls, expected


EMPTY_VARIANTS = (Variant("none"), Variant("mean"), Variant("sum"),
                  Variant("weighted_mean", "random"))


def check_empty_batch(case: Case, backend: Backend, dtype: str = "float64",
                      seed: int = 0) -> dict[str, float]:
    """The case's inputs cut to an empty batch (every input that shares the leading axis
    of the prediction loses all its rows): ``"none"`` is empty, every mean is 0, not NaN."""
    data = case.inputs(seed)
    floats = case.float_indices(len(data))
    lead = next(x.shape[0] for i, x in enumerate(data) if i in floats and x.ndim >= 1)
    empty = tuple(x[:0] if x.ndim >= 1 and x.shape[0] == lead else x for x in data)
    return check_dtypes(case, backend, ((dtype, EMPTY_VARIANTS),), seed, data=empty,
                        what=" (empty batch)")
