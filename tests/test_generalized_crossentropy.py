"""``categorical_generalized_crossentropy`` beyond the conformance matrix: its limits, the
precision near ``p_y = 1``, bad inputs, and where Keras's gradient fails and arrayloss's
does not."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

import arrayloss

gce = arrayloss.categorical_generalized_crossentropy
RNG = np.random.default_rng(0)


def _reference(labels, p, q):
    return (1.0 - p[np.arange(len(labels)), labels] ** q) / q


def test_values_limits_and_names():
    labels = np.array([0, 3, 1, 2, 3])
    p = RNG.dirichlet(np.ones(4), 5)
    for q in (0.1, 0.5, 1.0):
        np.testing.assert_allclose(gce(labels, p, q=q, reduction="none"),
                                   _reference(labels, p, q), rtol=1e-13)
    # q = 1 is 1 - p_y; q → 0 is the cross-entropy -log p_y.
    np.testing.assert_allclose(gce(labels, p, q=1.0, reduction="none"),
                               1.0 - p[np.arange(5), labels], rtol=1e-13)
    np.testing.assert_allclose(gce(labels, p, q=1e-7, reduction="none"),
                               -np.log(p[np.arange(5), labels]), rtol=1e-5)
    z = RNG.normal(size=(5, 4))
    softmax = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    np.testing.assert_allclose(gce(labels, z, from_logits=True, q=0.3, reduction="none"),
                               _reference(labels, softmax, 0.3), rtol=1e-13)
    for name in ("gce", "generalized_crossentropy", "CategoricalGeneralizedCrossEntropy",
                 "categorical_generalized_cross_entropy"):
        assert arrayloss.get(name) is gce
    assert arrayloss.has_closed_form("gce")


def test_exact_near_a_certain_prediction():
    # 1 - (1 - 1e-12)^q cancels in the direct formula; -expm1(q·log p) does not.
    p = np.array([[1.0 - 1e-12, 1e-12]])
    gap = 1.0 - p[0, 0]  # exact (Sterbenz): the float p is 1 - gap
    exact = -math.expm1(0.5 * math.log1p(-gap)) / 0.5
    ours = float(gce(np.array([0]), p, q=0.5))
    assert abs(ours - exact) <= 1e-14 * exact
    direct = (1.0 - p[0, 0] ** 0.5) / 0.5
    assert abs(direct - exact) > 1e-6 * exact  # what the direct formula loses


def test_huge_logits_are_finite_in_float32():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], np.float32)
    values = np.asarray(gce(np.array([0, 0]), z, from_logits=True, q=0.5, reduction="none"))
    np.testing.assert_allclose(values, [0.0, 2.0], atol=1e-6)
    grad = arrayloss.gradient("gce", np.array([0, 0]), z, from_logits=True)
    assert np.isfinite(grad).all()


@pytest.mark.parametrize(("options", "error", "match"), [
    ({"q": 0.0}, ValueError, r"q must be in \(0, 1\]; got 0.0"),
    ({"q": -0.5}, ValueError, r"q must be in \(0, 1\]"),
    ({"q": 1.5}, ValueError, r"q must be in \(0, 1\]; got 1.5"),
    ({"q": math.nan}, ValueError, r"q must be in \(0, 1\]"),
    ({"q": "half"}, TypeError, r"q must be a real number"),
    ({"from_logits": "yes"}, TypeError, r"from_logits must be"),
])
def test_bad_options(options, error, match):
    with pytest.raises(error, match=match):
        arrayloss.get("gce", **options)
    with pytest.raises(error, match=match):
        gce(np.array([0]), np.array([[0.5, 0.5]]), **options)


def test_bad_inputs():
    p = np.full((3, 2), 0.5)
    with pytest.raises(TypeError, match="integer class labels"):
        gce(np.array([0.0, 1.0, 1.0]), p)
    with pytest.raises(ValueError, match=r"\(3, 2\)"):
        gce(np.array([0, 1]), p)
    out_of_range = np.asarray(gce(np.array([0, 2, -1]), p, reduction="none"))
    assert not np.isnan(out_of_range[0]) and np.isnan(out_of_range[1:]).all()


def test_keras_gradient_fails_at_a_zero_probability_and_ours_does_not():
    """Keras's p^q has the derivative q·p^(q-1) = inf at p_y = 0, and its one-hot product
    turns the other classes' entries into 0·inf = NaN. arrayloss floors log p_y at -100:
    the value is 1/q, the gradient finite, and 0 off the label."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    labels = np.array([1, 0])
    p = np.array([[0.7, 0.0, 0.3], [0.2, 0.5, 0.3]])

    def keras_mean(x):
        return jnp.mean(keras.losses.categorical_generalized_cross_entropy(
            jnp.asarray(labels), x, 0.5))

    theirs = np.asarray(jax.grad(keras_mean)(jnp.asarray(p, jnp.float32)))
    assert np.isneginf(theirs[0, 1]) and np.isnan(theirs[0, [0, 2]]).all()
    ours = np.asarray(jax.grad(lambda x: gce(jnp.asarray(labels), x))(jnp.asarray(p)))
    assert np.isfinite(ours).all() and ours[0, 1] < 0
    assert (ours[0, [0, 2]] == 0).all()
    np.testing.assert_allclose(ours, arrayloss.gradient("gce", labels, p), rtol=1e-6)  # f32
    # Away from 0, the same gradient as Keras's (the sample with p_y = 0.2).
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5)
    assert float(gce(labels, p, reduction="none")[0]) == 2.0  # (1 - 0)/q
