"""The classification family against Keras 3, PyTorch, optax and scikit-learn: every peer
row of ``peers_classification`` and the classification rows of ``peers_keras_only`` (rows
with ``difference`` must still differ)."""

from __future__ import annotations

import os

import numpy as np
import pytest

import arrayloss
from arrayloss.conformance import (  # noqa: F401  (registers the rows)
    peers_classification,
    peers_keras_only,
    peers_optax_scores,
)
from arrayloss.conformance.peers import PEERS

ROWS = [p for p in PEERS if p.loss in arrayloss.available("classification")]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_peer(row):
    os.environ.setdefault("KERAS_BACKEND", "jax")  # before any import of keras
    pytest.importorskip({"sklearn": "sklearn"}.get(row.library, row.library))
    inputs = row.make_inputs(np.random.default_rng(0))
    ours = np.asarray(arrayloss.get(row.loss)(*inputs, reduction=row.reduction, **row.options))
    theirs = np.asarray(row.compute(*inputs), dtype=np.float64)
    if row.difference is not None and ours.shape != theirs.shape:
        # A peer that gives another shape (Keras's (N, N) generalized cross-entropy of
        # (N, 1) labels): the row's recipe turns it into arrayloss's values.
        assert row.recipe is not None, f"{row.id}: a shape difference needs its recipe"
        np.testing.assert_allclose(ours, row.recipe(theirs), rtol=row.rtol, atol=row.rtol)
        return
    assert ours.shape == theirs.shape
    close = np.allclose(ours, theirs, rtol=row.rtol, atol=row.rtol)
    if row.difference is None:
        np.testing.assert_allclose(ours, theirs, rtol=row.rtol, atol=row.rtol)
    else:
        assert not close, f"{row.id} no longer differs ({row.difference})"


def test_every_loss_has_a_peer():
    covered = {r.loss for r in ROWS if r.difference is None}
    assert covered == set(arrayloss.available("classification"))
