"""The structured losses against Keras 3, optax, PyTorch, MONAI and pytorch-metric-learning:
every peer row of ``peers_structured`` and the circle rows of ``peers_keras_only`` (rows
with ``difference`` must still differ)."""

from __future__ import annotations

import os

import numpy as np
import pytest

import arrayloss
from arrayloss.conformance import (  # noqa: F401  (registers the rows)
    peers_keras_only,
    peers_structured,
)
from arrayloss.conformance.peers import PEERS

FAMILIES = ("segmentation", "metric_learning", "sequence")
NAMES = {name for family in FAMILIES for name in arrayloss.available(family)}
ROWS = [p for p in PEERS if p.loss in NAMES]
MODULES = {"torch": "torch", "keras": "keras", "optax": "optax", "monai": "monai",
           "kornia": "kornia"}


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_peer(row):
    os.environ.setdefault("KERAS_BACKEND", "jax")  # before any import of keras
    pytest.importorskip(MODULES[row.library])
    if row.function.startswith("pytorch_metric_learning"):
        pytest.importorskip("pytorch_metric_learning")
    if row.requires is not None and row.requires() is not None:
        # A row pinned to a behaviour of some versions (Keras's Tversky swap): on another
        # installed version it reports itself absent, saying why.
        assert row.missing() == row.requires() and "23333" in row.requires()
        return
    inputs = row.make_inputs(np.random.default_rng(0))
    ours = np.asarray(arrayloss.get(row.loss)(*inputs, reduction=row.reduction, **row.options))
    theirs = np.asarray(row.compute(*inputs), dtype=np.float64)
    assert ours.shape == theirs.shape
    if row.difference is None:
        np.testing.assert_allclose(ours, theirs, rtol=row.rtol, atol=row.rtol)
    else:
        close = np.allclose(ours, theirs, rtol=row.rtol, atol=row.rtol)
        assert not close, f"{row.id} no longer differs ({row.difference})"


def test_documented_recipes_reproduce_the_differences():
    """The one-line recipes of the difference rows give the peer's number."""
    pytest.importorskip("optax")
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    e, labels = peers_structured.groups(rng)
    positives = np.array([np.sum(labels == v) - 1 for v in labels], dtype=float)
    ours = arrayloss.ntxent(e, labels, temperature=0.1, sample_weight=positives,
                            reduction="weighted_mean")
    np.testing.assert_allclose(ours, peers_structured.optax_ntxent(e, labels), rtol=F32)
    seq = peers_structured.sequences(rng)
    per_sequence = arrayloss.ctc(*seq, reduction="none")
    torch_mean = peers_structured.torch_ctc("mean")(*seq)
    np.testing.assert_allclose(np.mean(per_sequence / np.maximum(seq[2], 1)), torch_mean)
    x = peers_structured.triplets(rng)
    a = arrayloss.triplet_margin(*x, eps=0.0, reduction="none")
    np.testing.assert_allclose(a, peers_structured.optax_triplet(eps=0.0)(*x), rtol=F32)


F32 = peers_structured.F32_RTOL


# No installed library computes these: Hadsell et al.'s pair loss on given distances, and
# the focal Tversky loss (segmentation_models_pytorch, which has it, is not installed;
# kornia and MONAI have none). Their rows are float64 loops.
WITHOUT_PEER = {"contrastive", "focal_tversky"}


def test_every_structured_loss_has_a_peer_except_contrastive():
    covered = {r.loss for r in ROWS if r.difference is None}
    assert covered == NAMES - WITHOUT_PEER
