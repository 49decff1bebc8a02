"""The conformance matrix under pytest: values on every backend variant and dtype, with
every reduction, weights and masks; gradients on every autodiff backend."""

from __future__ import annotations

import pytest

from arrayloss.conformance import all_cases, available_backends
from arrayloss.conformance.runner import REDUCTION_VARIANTS, check_gradient, check_values

CASES = all_cases()
BACKENDS = available_backends()
AUTODIFF = [b for b in BACKENDS if b.autodiff]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_values(case, backend, dtype):
    for reduction, weighted, masked in REDUCTION_VARIANTS:
        check_values(case, backend, dtype, reduction, weighted, masked)


@pytest.mark.parametrize("backend", AUTODIFF, ids=lambda b: b.name)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gradient(case, backend):
    check_gradient(case, backend)
