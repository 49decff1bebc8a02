"""Closed-form gradients and Hessian diagonals on every backend variant and dtype, against
torch autograd, jax.grad and jax.hessian of the loss itself."""

from __future__ import annotations

import pytest

from arrayloss.conformance import available_backends
from arrayloss.conformance.closed_form import check_closed_form, closed_form_cases

pytest.importorskip("torch")
pytest.importorskip("jax")

CASES = closed_form_cases()
BACKENDS = available_backends()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("backend", BACKENDS, ids=lambda b: b.name)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_closed_form(case, backend, dtype):
    check_closed_form(case, backend, dtype)
