"""The classification family against Keras 3, PyTorch, optax and scikit-learn: every peer
row of ``peers_classification`` (rows with ``difference`` must still differ)."""

from __future__ import annotations

import os

import numpy as np
import pytest

import arrayloss
from arrayloss.conformance import peers_classification  # noqa: F401  (registers the rows)
from arrayloss.conformance.peers import PEERS

ROWS = [p for p in PEERS if p.loss in arrayloss.available("classification")]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_peer(row):
    os.environ.setdefault("KERAS_BACKEND", "jax")  # before any import of keras
    pytest.importorskip({"sklearn": "sklearn"}.get(row.library, row.library))
    inputs = row.make_inputs(np.random.default_rng(0))
    ours = np.asarray(arrayloss.get(row.loss)(*inputs, reduction=row.reduction, **row.options))
    theirs = np.asarray(row.compute(*inputs), dtype=np.float64)
    assert ours.shape == theirs.shape
    close = np.allclose(ours, theirs, rtol=row.rtol, atol=row.rtol)
    if row.difference is None:
        np.testing.assert_allclose(ours, theirs, rtol=row.rtol, atol=row.rtol)
    else:
        assert not close, f"{row.id} no longer differs ({row.difference})"


def test_every_loss_has_a_peer():
    covered = {r.loss for r in ROWS if r.difference is None}
    assert covered == set(arrayloss.available("classification"))
