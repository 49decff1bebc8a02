"""``circle`` beyond the conformance matrix: masked queries, finite gradients at degenerate
points, normalization, reference embeddings, bad inputs."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

import arrayloss

RNG = np.random.default_rng(0)


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_queries_without_pairs_are_zero_and_masked():
    labels = np.array([0, 0, 1, 2])  # 1 and 2 have no positive
    e = RNG.normal(size=(4, 3))
    values = np.asarray(arrayloss.circle(labels, e, reduction="none"))
    assert values[0] > 0 and values[1] > 0 and (values[2:] == 0).all()
    mean = float(arrayloss.circle(labels, e))
    assert mean == pytest.approx(values[:2].mean(), rel=1e-14)
    # One class only: no negatives anywhere, an all-masked batch: 0, not NaN.
    assert float(arrayloss.circle(np.zeros(3, dtype=int), e[:3])) == 0.0
    # remove_diagonal=False makes each query its own positive.
    kept = np.asarray(arrayloss.circle(labels, e, remove_diagonal=False, reduction="none"))
    assert (kept > 0).all()


def test_the_embeddings_are_normalized():
    labels = np.array([0, 0, 1, 1, 2])
    e = RNG.normal(size=(5, 4))
    scale = RNG.uniform(0.1, 10.0, (5, 1))
    np.testing.assert_allclose(arrayloss.circle(labels, e * scale, reduction="none"),
                               arrayloss.circle(labels, _unit(e), reduction="none"),
                               rtol=1e-12)


def test_gradients_finite_at_zero_embeddings_and_lonely_queries():
    torch = pytest.importorskip("torch")
    labels = torch.tensor([0, 0, 1, 2, 2])  # label 1: no positive
    e = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    e[3] = 0.0  # a zero embedding
    e.requires_grad_(True)
    refs = torch.randn(4, 3, dtype=torch.float64)
    refs[0] = 0.0
    refs.requires_grad_(True)
    for options in ({}, {"remove_diagonal": False}, {"ref_embeddings": refs,
                                                      "ref_labels": torch.tensor([0, 2, 5, 0])}):
        e.grad = None
        loss = arrayloss.circle(labels, e, **options)
        loss.backward()
        assert torch.isfinite(loss) and torch.isfinite(e.grad).all(), options
        if "ref_embeddings" in options:
            assert torch.isfinite(refs.grad).all() and refs.grad.abs().sum() > 0
    # The query without a positive gets no gradient from its own (masked) value.
    e.grad = None
    arrayloss.circle(labels, e, reduction="none")[2].backward()
    assert (e.grad == 0).all()


def test_jax_jit_and_grad_with_references():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    labels = jnp.asarray([0, 1, 0, 2])
    e = jnp.asarray(RNG.normal(size=(4, 3)))
    refs, ref_labels = jnp.asarray(RNG.normal(size=(6, 3))), jnp.asarray([0, 1, 2, 2, 0, 3])

    def f(x):
        return arrayloss.circle(labels, x, ref_labels=ref_labels, ref_embeddings=refs)

    grad = jax.jit(jax.grad(f))(e)
    assert np.isfinite(np.asarray(grad)).all()
    assert float(jax.jit(f)(e)) == pytest.approx(float(f(e)), rel=1e-6)


def test_references_match_keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    labels = np.array([0, 1, 2, 0, 1])
    e = _unit(RNG.normal(size=(5, 4)))
    refs, ref_labels = _unit(RNG.normal(size=(3, 4))), np.array([1, 0, 0])
    for diagonal in (True, False):
        theirs = keras.losses.circle(labels, e.astype(np.float32), ref_labels=ref_labels,
                                     ref_embeddings=refs.astype(np.float32),
                                     remove_diagonal=diagonal, gamma=20.0)
        ours = arrayloss.circle(labels, e, ref_labels=ref_labels, ref_embeddings=refs,
                                remove_diagonal=diagonal, gamma=20.0, reduction="none")
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=2e-5, atol=2e-5)
    # ref_labels alone: the batch's own embeddings with other labels (as Keras).
    ours = arrayloss.circle(labels, e, ref_labels=[1, 1, 2, 0, 0], reduction="none")
    theirs = keras.losses.circle(labels, e.astype(np.float32),
                                 ref_labels=np.array([1, 1, 2, 0, 0]))
    np.testing.assert_allclose(ours, np.asarray(theirs), rtol=2e-5, atol=2e-5)


E = np.ones((3, 2))


@pytest.mark.parametrize(("arrays", "options", "error", "match"), [
    ((np.array([0.0, 1.0, 1.0]), E), {}, TypeError, "labels must be integers"),
    ((np.array([0, 1]), E), {}, ValueError, r"embeddings.shape=\(3, 2\), labels.shape=\(2,\)"),
    ((np.array([0, 1, 1]), np.ones(3)), {}, ValueError, r"embeddings must have shape \(N, D\)"),
    ((np.array([0, 1, 1]), E), {"ref_embeddings": np.ones((2, 3))}, ValueError,
     r"reference embeddings of shape \(2, 3\)"),
    ((np.array([0, 1, 1]), E), {"ref_embeddings": np.ones((2, 2)), "ref_labels": [0, 1, 2]},
     ValueError, r"reference labels of shape \(3,\)"),
    ((np.array([0, 1, 1]), E), {"ref_labels": [0.5, 1.0, 1.0]}, TypeError,
     "ref_labels must hold integer class labels"),
    ((np.array([0, 1, 1]), E), {"ref_labels": np.array([0.0, 1.0, 1.0])}, TypeError,
     "ref_labels must hold integer class labels; got dtype float64"),
    ((np.array([0, 1, 1]), E), {"ref_labels": "abc"}, TypeError,
     "ref_labels must be an array or a list"),
])
def test_bad_inputs(arrays, options, error, match):
    with pytest.raises(error, match=match):
        arrayloss.circle(*arrays, **options)


@pytest.mark.parametrize(("options", "match"), [
    ({"gamma": 0.0}, r"gamma must be in \(0, inf\]; got 0.0"),
    ({"gamma": -1.0}, "gamma must be"),
    ({"margin": math.nan}, "margin must be"),
    ({"remove_diagonal": 1}, "remove_diagonal must be"),
])
def test_bad_options(options, match):
    with pytest.raises((TypeError, ValueError), match=match):
        arrayloss.get("circle", **options)
