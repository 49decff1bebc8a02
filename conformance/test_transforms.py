"""SPEC section 7 on the first case of every loss: jax.vmap (under jit),
torch.func.grad, torch.func.vmap, Dask staying lazy; torch.compile(fullgraph=True) on an
evenly spread sample of losses, to keep the time bounded. jax.jit is the jax_jit backend of
the value matrix."""

from __future__ import annotations

import pytest

from arrayloss.conformance import all_cases
from arrayloss.conformance.matrix import _spread
from arrayloss.conformance.plan import first_case_per_loss
from arrayloss.conformance.transforms import TRANSFORMS

FIRST = first_case_per_loss(all_cases())
COMPILED = set(_spread([c.loss for c in FIRST], 8))
ROWS = [(t, c) for t in TRANSFORMS for c in FIRST
        if t.name != "torch.compile" or c.loss in COMPILED]


@pytest.mark.parametrize(("transform", "case"), ROWS,
                         ids=[f"{t.name}-{c.id}" for t, c in ROWS])
def test_transform(transform, case):
    if not transform.is_available():
        pytest.skip(f"{transform.module} is not installed (absent, not passed)")
    transform.check(case)
