"""The conformance matrix under pytest: values on every installed backend variant and dtype
against the float64 NumPy reference (every reduction, weights and masks in float64; the
per-sample values and a weighted, masked mean in float32, float16 and bfloat16), the empty
batch once per loss, and gradients on every autodiff library."""

from __future__ import annotations

import pytest

from arrayloss.conformance import all_cases, available_backends
from arrayloss.conformance.gradients import (
    check_gradient,
    check_gradient_agreement,
    gradient_backends,
)
from arrayloss.conformance.plan import empty_batch_backends, first_case_per_loss, value_plan
from arrayloss.conformance.runner import check_dtypes, check_empty_batch

CASES = all_cases()
BACKENDS = available_backends()
AUTODIFF = gradient_backends(BACKENDS)
PLAN = value_plan(CASES, BACKENDS)


@pytest.mark.parametrize(("case", "backend", "plan"), PLAN,
                         ids=[f"{c.id}-{b.name}" for c, b, _ in PLAN])
def test_values(case, backend, plan):
    check_dtypes(case, backend, plan)


@pytest.mark.parametrize("backend", empty_batch_backends(BACKENDS), ids=lambda b: b.name)
@pytest.mark.parametrize("case", [c for c in first_case_per_loss(CASES) if c.empty_batch],
                         ids=lambda c: c.loss)
def test_empty_batch(case, backend):
    check_empty_batch(case, backend)


@pytest.mark.parametrize("backend", AUTODIFF, ids=lambda b: b.name)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gradient(case, backend):
    check_gradient(case, backend)


@pytest.mark.skipif(len(AUTODIFF) < 2, reason="needs both torch and jax installed")
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gradient_agreement(case):
    check_gradient_agreement(case, AUTODIFF)
