"""optax's losses on raw scores (perceptron, binary sparsemax, multi-class perceptron,
Crammer–Singer hinge, sparsemax): values and gradients against optax where its gradient is
defined, the edges where arrayloss chooses (kinks, ties, labels out of range, large scores),
and the bad inputs; optax's smooth_labels on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss
from arrayloss.conformance.backends import available_backends

jax = pytest.importorskip("jax")
optax = pytest.importorskip("optax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy

MULTICLASS = [("multiclass_perceptron", "multiclass_perceptron_loss"),
              ("multiclass_hinge", "multiclass_hinge_loss"),
              ("multiclass_sparsemax", "multiclass_sparsemax_loss")]


def _optax_value_and_grad(name, scores, labels):
    function = getattr(optax.losses, name)
    s, y = jnp.asarray(scores, dtype=jnp.float64), jnp.asarray(labels)
    value = function(s, y)
    grad = jax.grad(lambda t: function(t, y).sum())(s)
    return np.asarray(value), np.asarray(grad)


@pytest.mark.parametrize(("loss", "peer"), MULTICLASS)
def test_multiclass_against_optax_with_ties(loss, peer):
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(12, 5)) * np.geomspace(0.05, 5.0, 12)[:, None]
    scores[0] = [1.0, 1.0, 1.0, 0.0, -2.0]  # a three-way tie for the maximum
    scores[1] = 2.0  # every class tied
    scores[2] = [3.0, 2.0, 2.0, -1.0, 0.0]  # a tie below the label's score
    labels = rng.integers(0, 5, 12)
    labels[:3] = [0, 4, 0]
    value, grad = _optax_value_and_grad(peer, scores, labels)
    np.testing.assert_allclose(arrayloss.get(loss)(labels, scores, reduction="none"), value,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(arrayloss.gradient(loss, labels, scores, reduction="sum"),
                               grad, rtol=1e-12, atol=1e-12)
    torch = pytest.importorskip("torch")  # autograd and jax.grad of arrayloss's call
    s = torch.tensor(scores, requires_grad=True)
    arrayloss.get(loss)(torch.tensor(labels), s, reduction="sum").backward()
    np.testing.assert_allclose(s.grad.numpy(), grad, rtol=1e-12, atol=1e-12)
    ours = jax.grad(lambda t: arrayloss.get(loss)(jnp.asarray(labels), t, reduction="sum"))(
        jnp.asarray(scores))
    np.testing.assert_allclose(np.asarray(ours), grad, rtol=1e-12, atol=1e-12)


def test_sparsemax_hessian_is_the_jacobian_diagonal_of_sparsemax():
    rng = np.random.default_rng(1)
    scores, labels = rng.normal(size=(6, 4)), rng.integers(0, 4, 6)
    jac = jax.vmap(jax.jacfwd(optax.projections.projection_simplex))(jnp.asarray(scores))
    expected = np.diagonal(np.asarray(jac), axis1=-2, axis2=-1)
    hessian = arrayloss.hessian_diagonal("multiclass_sparsemax", labels, scores,
                                         reduction="sum")
    np.testing.assert_allclose(hessian, expected, atol=1e-12)


def test_sparsemax_zero_exactly_at_a_clear_label_and_exact_for_large_scores():
    loss = arrayloss.multiclass_sparsemax
    # The label's score 1 above every other: sparsemax is its one-hot row, loss 0.
    assert loss(np.array([1]), np.array([[0.0, 1.0, -3.0]]), reduction="none")[0] == 0.0
    # Scores near 1e6 in float32: the row-max shift keeps the value of (0, 0.5, 0).
    big = np.array([[1e6, 0.0, 1e6 - 0.5]], dtype=np.float32)
    small = np.array([[0.5, -1e6 + 0.5, 0.0]])
    np.testing.assert_allclose(loss(np.array([0]), big, reduction="none"),
                               loss(np.array([0]), small, reduction="none"), rtol=1e-6)


def test_binary_sparsemax_exact_far_from_the_knots_in_float32():
    scores = np.array([1e8, -1e8, 3.0, 1.0, -1.0], dtype=np.float32)
    values = arrayloss.binary_sparsemax(np.zeros(5, np.float32), scores, axis=(),
                                        reduction="none")
    np.testing.assert_array_equal(values, np.array([1e8, 0.0, 3.0, 1.0, 0.0], np.float32))
    grads = arrayloss.gradient("binary_sparsemax", np.ones(5), np.array([-3, -1, 0, 1, 3.0]),
                               axis=(), reduction="sum")
    np.testing.assert_array_equal(grads, [-1.0, -1.0, -0.5, 0.0, 0.0])  # continuous slope


def test_perceptron_slope_zero_at_the_kink_where_optax_gives_half():
    y, s = np.array([1.0, -1.0]), np.array([0.0, 0.0])
    ours = arrayloss.gradient("perceptron", y, s, axis=(), reduction="sum")
    np.testing.assert_array_equal(ours, [0.0, 0.0])
    theirs = jax.grad(lambda t: optax.losses.perceptron_loss(t, jnp.asarray(y)).sum())(
        jnp.asarray(s))
    np.testing.assert_array_equal(np.asarray(theirs), [-0.5, 0.5])  # the pinned difference


@pytest.mark.parametrize("loss", [m for m, _ in MULTICLASS])
def test_labels_out_of_range_give_nan_and_zero_gradient(loss):
    scores, labels = np.array([[0.5, 1.0, 0.25], [2.0, 0.0, 1.0]]), np.array([3, 1])
    values = arrayloss.get(loss)(labels, scores, reduction="none")
    assert np.isnan(values[0]) and np.isfinite(values[1])
    grad = arrayloss.gradient(loss, labels, scores, reduction="none")
    np.testing.assert_array_equal(grad[0], 0.0)
    torch = pytest.importorskip("torch")
    s = torch.tensor(scores, requires_grad=True)
    arrayloss.get(loss)(torch.tensor(labels), s, reduction="none")[1].backward()
    np.testing.assert_allclose(s.grad.numpy()[1], grad[1])
    np.testing.assert_array_equal(s.grad.numpy()[0], 0.0)


def test_multiclass_hinge_margin_and_bad_inputs():
    scores, labels = np.array([[0.5, 1.0, 0.25]]), np.array([1])
    assert arrayloss.multiclass_hinge(labels, scores, margin=0.25, reduction="none")[0] == 0.0
    assert arrayloss.multiclass_hinge(labels, scores, margin=2.0, reduction="none")[0] == 1.5
    with pytest.raises(ValueError, match="margin"):
        arrayloss.multiclass_hinge(labels, scores, margin=float("nan"))
    with pytest.raises(TypeError, match="integer"):
        arrayloss.multiclass_sparsemax(np.array([1.0]), scores)
    with pytest.raises(ValueError, match="shape"):
        arrayloss.multiclass_perceptron(np.array([1, 0]), scores)


@pytest.mark.parametrize(("name", "loss"), [
    ("perceptron_loss", "perceptron"), ("sparsemax_loss", "binary_sparsemax"),
    ("multiclass_perceptron_loss", "multiclass_perceptron"),
    ("multiclass_hinge_loss", "multiclass_hinge"),
    ("multiclass_sparsemax_loss", "multiclass_sparsemax")])
def test_optax_names_resolve(name, loss):
    assert arrayloss.get(name) is arrayloss.get(loss)


# -- smooth_labels ---------------------------------------------------------------------------
@pytest.mark.parametrize("b", available_backends(), ids=lambda b: b.name)
def test_smooth_labels_on_every_backend(b):
    y = np.eye(4)[[0, 2, 3]]
    mask = np.array([[True, True, False, True]] * 3)
    plain = b.to_numpy(b.call(arrayloss.smooth_labels, b.asarray(y), alpha=0.3))
    np.testing.assert_allclose(plain, 0.7 * y + 0.3 / 4, rtol=1e-6)
    masked = b.to_numpy(b.call(arrayloss.smooth_labels, b.asarray(y), alpha=0.3,
                               mask=b.asarray(mask)))
    np.testing.assert_allclose(masked, 0.7 * y + 0.1, rtol=1e-6)  # 3 classes take part


def test_smooth_labels_against_optax_with_traced_and_learned_alpha():
    y = np.random.default_rng(2).dirichlet(np.ones(5), size=(3, 2))
    for axis in (-1, (1, 2)):
        np.testing.assert_allclose(
            arrayloss.smooth_labels(y, alpha=0.25, axis=axis),
            np.asarray(optax.losses.smooth_labels(jnp.asarray(y), 0.25, axis=axis)),
            rtol=1e-12)
    jitted = jax.jit(lambda a: arrayloss.smooth_labels(jnp.asarray(y), alpha=a))(0.5)
    np.testing.assert_allclose(np.asarray(jitted), 0.5 * y + 0.1, rtol=1e-12)
    torch = pytest.importorskip("torch")
    alpha = torch.tensor(0.2, dtype=torch.float64, requires_grad=True)
    arrayloss.smooth_labels(torch.tensor(y), alpha=alpha).sum().backward()
    # d/dα Σ((1 - α)y + α/5) = Σ(1/5 - y) = 6 rows · (1 - 1) = 0 for rows summing to 1.
    assert abs(alpha.grad.item()) < 1e-12
    scale = torch.tensor(0.2, dtype=torch.float64, requires_grad=True)
    arrayloss.smooth_labels(torch.tensor(y), alpha=scale)[..., 0].sum().backward()
    np.testing.assert_allclose(scale.grad.item(), np.sum(0.2 - y[..., 0]), rtol=1e-12)


def test_smooth_labels_bad_inputs():
    with pytest.raises(ValueError, match="alpha"):
        arrayloss.smooth_labels(np.eye(3), alpha=1.5)
    with pytest.raises(TypeError, match="floating"):
        arrayloss.smooth_labels(np.array([[0, 1]]), alpha=0.1)
    with pytest.raises(TypeError, match="booleans"):
        arrayloss.smooth_labels(np.eye(3), alpha=0.1, mask=np.ones((3, 3)))
    with pytest.raises(ValueError, match="axis"):
        arrayloss.smooth_labels(np.eye(3), alpha=0.1, axis=2)
