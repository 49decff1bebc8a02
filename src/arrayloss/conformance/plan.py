"""Which value checks the matrix runs: for each (case, backend), the dtypes and the
reduction variants in each.

- Every installed backend variant, every case, float64 and float32; float16 and bfloat16
  where the backend has them (on eager JAX: ``jax.jit`` does not change how dtypes are
  handled, and its compilations are the matrix's most expensive step).
- float64 runs every rule of SPEC section 5 on the first case of each loss everywhere
  (:data:`~.runner.FULL_VARIANTS`, or the same rules in fewer calls,
  :data:`~.runner.COMPACT_VARIANTS`, where every call compiles or builds a graph: JAX, Dask)
  and on every case where calls are cheap (NumPy, array-api-strict, PyTorch); otherwise, and
  in the lower precisions, the per-sample values and a weighted, masked mean
  (:data:`~.runner.LIGHT_VARIANTS`).
- ``light=True`` (the command line) runs the compact variants on the first case of each
  loss and the light ones elsewhere on NumPy, array-api-strict and PyTorch, and one call per
  dtype on JAX and Dask (per-sample values with weights and a mask in float64, the weighted,
  masked mean in the other dtypes): the reduction code is shared by every loss and every
  rule of it is checked on the other backends and in the pytest suite. JAX runs under
  ``jax.jit`` only there, every dtype (half precisions included) in one compilation; eager
  JAX runs in the pytest suite.
"""

from __future__ import annotations

from collections.abc import Iterable

from .backends import Backend
from .cases import Case
from .runner import COMPACT_VARIANTS, FULL_VARIANTS, LIGHT_VARIANTS, Variant

__all__ = ["empty_batch_backends", "first_case_per_loss", "value_plan"]

DtypePlan = tuple[tuple[str, tuple[Variant, ...]], ...]
PlanRow = tuple[Case, Backend, DtypePlan]

# Where every call builds a graph or compiles: full variants only once per loss.
EXPENSIVE = ("jax", "jax_jit", "dask")
# Lower precisions are checked on eager JAX, not again under jax.jit.
NO_HALF = ("jax_jit",)


# The command line's single call per dtype where calls are expensive: the per-sample values
# with weights and a mask in float64, their weighted, masked mean in the other dtypes.
ONE_VARIANT = (Variant("none", "random", "some"),)
ONE_REDUCED = (Variant("weighted_mean", "random", "some"),)


def first_case_per_loss(cases: Iterable[Case]) -> list[Case]:
    """The first row of each loss (where the once-per-loss checks run)."""
    seen: dict[str, Case] = {}
    for c in cases:
        seen.setdefault(c.loss, c)
    return list(seen.values())


def dtypes_for(backend: Backend, case: Case, light: bool = False) -> list[str]:
    """float64 and float32 everywhere; float16 and bfloat16 where the backend has them and
    the case's inputs are representable there."""
    half = backend.half_dtypes if case.low_precision and (
        light or backend.name not in NO_HALF) else ()
    return ["float64", "float32", *half]


def value_plan(cases: Iterable[Case], backends: Iterable[Backend],
               light: bool = False) -> list[PlanRow]:
    """Every (case, backend, ((dtype, variants), ...)) value check, in case order."""
    cases = list(cases)
    backends = list(backends)
    firsts = {id(c) for c in first_case_per_loss(cases)}
    names = {b.name for b in backends}
    rows: list[PlanRow] = []
    for c in cases:
        for b in backends:
            expensive = b.name in EXPENSIVE
            if light and b.name == "jax" and "jax_jit" in names:
                continue  # JAX under jit only, every dtype in one compilation
            if light and expensive:  # one call per dtype
                rows.append((c, b, tuple(
                    (dtype, ONE_VARIANT if dtype == "float64" else ONE_REDUCED)
                    for dtype in dtypes_for(b, c, light))))
                continue
            every = (COMPACT_VARIANTS if expensive or light else FULL_VARIANTS) if (
                id(c) in firsts or not (light or expensive)) else LIGHT_VARIANTS
            rows.append((c, b, tuple((dtype, every if dtype == "float64" else LIGHT_VARIANTS)
                                     for dtype in dtypes_for(b, c))))
    return rows


def empty_batch_backends(backends: Iterable[Backend]) -> list[Backend]:
    """One variant per library for the empty-batch check (the strictest array-api-strict,
    JAX under jit)."""
    skip = ("array_api_strict", "array_api_strict_device1", "jax")
    chosen = [b for b in backends if b.name not in skip]
    names = {b.name for b in chosen}
    # Where the preferred variant is absent, keep the library through its other variant.
    for b in backends:
        if b.name == "jax" and "jax_jit" not in names:
            chosen.append(b)
    return chosen
