"""arrayloss against the same loss in Keras 3, PyTorch, optax, scikit-learn and the other
reference libraries, through the one mapping table (``peers*.py``): agreement where the
definitions match, and every deliberate difference pinned and checked to still differ."""

from __future__ import annotations

import pytest

from arrayloss.conformance.peers import all_peers, check_peer

PEERS = all_peers()


@pytest.mark.parametrize("row", PEERS, ids=lambda p: p.id)
def test_peer(row):
    if not row.is_available():
        pytest.skip(f"{row.module} is not installed (absent, not passed)")
    check_peer(row)


def test_every_pinned_difference_says_why():
    for row in PEERS:
        if row.difference is not None:
            assert len(row.difference) > 20, row.id


def test_a_pinned_difference_that_disappears_fails():
    """A row that claims a difference where there is none is reported, not passed."""
    import dataclasses

    (mse,) = [p for p in PEERS if p.function == "sklearn.metrics.mean_squared_error"]
    if not mse.is_available():
        pytest.skip("scikit-learn is not installed")
    claimed = dataclasses.replace(mse, difference="claimed difference that does not exist")
    with pytest.raises(AssertionError, match="pinned difference .* is gone"):
        check_peer(claimed)
    wrong_recipe = dataclasses.replace(
        next(p for p in PEERS if p.recipe is not None and p.is_available()),
        recipe=lambda v: v)
    with pytest.raises(AssertionError, match="recipe"):
        check_peer(wrong_recipe)
