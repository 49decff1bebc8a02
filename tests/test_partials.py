"""Shard-exact partial reductions (SPEC section 5), as properties of the whole registry.

Each loss's plain conformance row is split along its samples into shards, one of them
empty; each shard's ``"partial_mean"`` / ``"partial_weighted_mean"`` pair is summed over the
shards and :func:`arrayloss.combine_partials` must give exactly the single-call
``"mean"`` / ``"weighted_mean"``, weights and masks included (a shard masked entirely
too). The closed-form gradients of the partials, divided by the combined denominator, are
the single call's gradient.
"""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss
from arrayloss.conformance import all_cases
from arrayloss.conformance.plan import first_case_per_loss
from arrayloss.core.chain_rule import has_closed_form

# Losses whose per-sample value depends on the other samples of the batch: a shard is a
# different batch, so no reduction can make them shard-exact (a caller shards their batch
# as a whole). The test pins that they are not.
BATCH_COUPLED = {"ntxent": "a similarity matrix over the whole batch",
                 "circle": "a similarity matrix over the whole batch (its references)",
                 "generalized_dice": "class weights from the whole batch's class frequencies"}


def _plain_case(name: str):
    rows = [c for c in all_cases() if c.loss == name and "ignore_index" not in c.options]
    return min(rows, key=lambda c: len(c.options))


CASES = [_plain_case(c.loss) for c in first_case_per_loss(all_cases())
         if c.loss not in ("l1", "l2", "l1_l2")]  # penalties: no samples


def _samples(case, inputs) -> int:
    per_sample = arrayloss.get(case.loss)(*inputs, **case.options, reduction="none")
    return int(np.asarray(per_sample).shape[0]) if np.ndim(per_sample) else 0


def _shard(case, inputs, rows: slice) -> list[np.ndarray]:
    """The inputs of samples ``rows``: every array input sliced on its leading axis
    (CTC's lengths included)."""
    return [np.asarray(x)[rows] for x in inputs]


def _split(n: int) -> list[slice]:
    cut = max(1, n // 3)
    return [slice(0, cut), slice(cut, cut), slice(cut, n)]  # the middle shard is empty


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.loss)
@pytest.mark.parametrize("weighted", [False, True], ids=["mean", "weighted_mean"])
def test_partials_of_shards_combine_into_the_single_call_mean(case, weighted):
    inputs = [np.asarray(x) for x in case.inputs(0)]
    n = _samples(case, inputs)
    assert n >= 2, case.id
    loss = arrayloss.get(case.loss)
    rng = np.random.default_rng(3)
    weight = rng.uniform(0.0, 2.0, size=n) if weighted else None
    mask = np.arange(n) >= max(1, n // 3)  # the whole first shard is masked out
    reduction = "weighted_mean" if weighted else "mean"
    extra = {"sample_weight": weight} if weighted else {}
    whole = loss(*inputs, **case.options, **extra, mask=mask, reduction=reduction)
    numerators, denominators = [], []
    for rows in _split(n):
        part_extra = {"sample_weight": weight[rows]} if weighted else {}
        num, den = loss(*_shard(case, inputs, rows), **case.options, **part_extra,
                        mask=mask[rows], reduction=f"partial_{reduction}")
        assert np.ndim(num) == 0 and np.ndim(den) == 0, case.id
        numerators.append(num)
        denominators.append(den)
    combined = arrayloss.combine_partials(numerators, denominators)
    if case.loss in BATCH_COUPLED:
        assert not np.isclose(float(combined), float(whole), rtol=1e-12), case.id
        return
    np.testing.assert_allclose(float(combined), float(whole), rtol=1e-12, atol=1e-15,
                               err_msg=case.id)


@pytest.mark.parametrize("case", [c for c in CASES if has_closed_form(c.loss)],
                         ids=lambda c: c.loss)
def test_closed_form_gradients_of_partials_are_the_numerators_gradient(case):
    inputs = [np.asarray(x) for x in case.inputs(0)]
    n = _samples(case, inputs)
    whole = arrayloss.gradient(case.loss, *inputs, **case.options)
    pieces, denominator = [], 0.0
    for rows in _split(n):
        shard = _shard(case, inputs, rows)
        pieces.append(arrayloss.gradient(case.loss, *shard, **case.options,
                                         reduction="partial_mean"))
        denominator += float(arrayloss.get(case.loss)(*shard, **case.options,
                                                      reduction="partial_mean")[1])
    np.testing.assert_allclose(np.concatenate(pieces) / denominator, whole, rtol=1e-12,
                               atol=1e-15, err_msg=case.id)


def test_every_shard_empty_or_masked_combines_to_zero():
    y, p = np.zeros((0, 2)), np.zeros((0, 2))
    parts = [arrayloss.mse(y, p, reduction="partial_mean"),
             arrayloss.mse(np.ones((2, 2)), np.zeros((2, 2)), mask=np.zeros(2, bool),
                           reduction="partial_mean")]
    assert float(arrayloss.combine_partials(*zip(*parts, strict=True))) == 0.0


def test_combine_partials_refuses_no_shards():
    with pytest.raises(ValueError, match="at least one shard"):
        arrayloss.combine_partials([], [])


def test_partials_on_every_backend_are_pairs_of_the_library():
    import jax.numpy as jnp
    import torch

    for y, p in ((torch.ones(3), torch.zeros(3)), (jnp.ones(3), jnp.zeros(3))):
        num, den = arrayloss.mae(y, p, reduction="partial_mean")
        assert type(num) is type(p) and type(den) is type(p)
        assert float(arrayloss.combine_partials(num, den)) == 1.0
