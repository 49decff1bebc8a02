"""A mask inside the class axis (optax's ``where=``): the masked classes leave the loss.

A property over the registry: for every loss that takes such a mask, masking the last class
of every sample gives the loss of the inputs without that class, on every backend, with no
gradient into the masked entries; a sample with every class masked leaves the mean; every
other loss of a class axis refuses the mask with a ValueError."""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss
from arrayloss.conformance.backends import available_backends
from arrayloss.core.registry import entries

RNG = np.random.default_rng(3)
N, C = 5, 4
TAKES = {"categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence",
         "generalized_kl_divergence", "categorical_focal_crossentropy", "poly_crossentropy"}


def _inputs(name, options):
    z = RNG.normal(size=(N, C))
    if name == "sparse_categorical_crossentropy":
        return RNG.integers(0, C - 1, N), z  # no label on the masked last class
    if name == "generalized_kl_divergence":
        return RNG.uniform(0.1, 2.0, (N, C)), z if options.get("log_input") else np.exp(z)
    y = RNG.dirichlet(np.ones(C), N)
    if not options.get("from_logits") and name != "kl_divergence":
        z = RNG.dirichlet(np.ones(C), N)
    if name == "kl_divergence" and not options.get("from_logits"):
        z = RNG.dirichlet(np.ones(C), N)
    return y, z


def _without_last(name, y, z, options):
    """The same inputs without the last class, as the loss reads them."""
    if name == "sparse_categorical_crossentropy":
        return y, z[:, :-1]
    y = y[:, :-1]
    if name in ("categorical_crossentropy", "kl_divergence", "categorical_focal_crossentropy",
                "poly_crossentropy"):
        y = y / y.sum(-1, keepdims=True)  # a distribution over the kept classes
    return y, z[:, :-1]


ROWS = [(name, options) for name in sorted(TAKES)
        for options in ({"from_logits": True}, {"from_logits": False})
        if name != "generalized_kl_divergence"] + [
    ("generalized_kl_divergence", {"log_input": True}),
    ("generalized_kl_divergence", {"log_input": False})]


def test_the_rows_cover_every_loss_that_takes_a_class_mask():
    takes = {e.name for e in entries()
             if getattr(getattr(e.function, "spec", None), "class_mask", None) is not None}
    assert takes == TAKES == {name for name, _ in ROWS}


@pytest.mark.parametrize("b", available_backends(), ids=lambda b: b.name)
@pytest.mark.parametrize(("name", "options"), ROWS, ids=lambda v: str(v))
def test_masked_classes_leave_the_loss(name, options, b):
    y, z = _inputs(name, options)
    y_kept, z_kept = _without_last(name, y, z, options)
    if name != "sparse_categorical_crossentropy":
        # The masked class's target mass is not part of the loss: put it on the kept ones.
        y = np.concatenate([y_kept, np.full((N, 1), 0.3)], axis=-1)
    mask = np.ones((N, C), dtype=bool)
    mask[:, -1] = False
    loss = arrayloss.get(name, **options)
    expected = loss(y_kept, z_kept, reduction="none")
    dtype = "float64"
    labels = b.asarray(y) if y.dtype.kind == "i" else b.asarray(y, dtype)
    got = b.to_numpy(b.call(loss, labels, b.asarray(z, dtype), mask=b.asarray(mask),
                            reduction="none"))
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("name", "options"), ROWS, ids=lambda v: str(v))
def test_no_gradient_into_masked_classes_and_empty_samples_leave_the_mean(name, options):
    y, z = _inputs(name, options)
    mask = RNG.uniform(size=(N, C)) > 0.3
    mask[:, 0] = True
    mask[1] = False  # every class masked: the sample leaves the mean
    if name == "sparse_categorical_crossentropy":
        y = np.zeros(N, dtype=int)  # class 0, never masked but in sample 1
    loss = arrayloss.get(name, **options)
    kept = np.ones(N, dtype=bool)
    kept[1] = False
    values = loss(y, z, mask=mask, reduction="none")
    np.testing.assert_allclose(loss(y, z, mask=mask), values[kept].mean(), rtol=1e-12)
    closed = arrayloss.gradient(name, y, z, mask=mask, **options)
    assert np.all(closed[~mask] == 0.0) and np.all(np.isfinite(closed))
    for autodiff in (_torch_grad, _jax_grad):
        value, grad_z = autodiff(loss, y, z, mask)
        np.testing.assert_allclose(value, loss(y, z, mask=mask), rtol=1e-12)
        assert np.all(grad_z[~mask] == 0.0), autodiff.__name__
        np.testing.assert_allclose(grad_z, closed, rtol=1e-9, atol=1e-12)


def _torch_grad(loss, y, z, mask):
    torch = pytest.importorskip("torch")
    scores = torch.tensor(z, requires_grad=True)
    value = loss(torch.tensor(y), scores, mask=torch.tensor(mask))
    value.backward()
    return value.item(), scores.grad.numpy()


def _jax_grad(loss, y, z, mask):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    value, grad = jax.jit(jax.value_and_grad(
        lambda q: loss(jnp.asarray(y), q, mask=jnp.asarray(mask))))(jnp.asarray(z))
    return float(value), np.asarray(grad)


def test_other_class_axis_losses_refuse_a_class_mask():
    z, y = RNG.normal(size=(N, C)), np.eye(C)[RNG.integers(0, C, N)]
    mask = np.ones((N, C), dtype=bool)
    for name in ("categorical_hinge", "multilabel_soft_margin", "multi_margin",
                 "negative_log_likelihood"):
        first = RNG.integers(0, C, N) if name in ("multi_margin",
                                                  "negative_log_likelihood") else y
        with pytest.raises(ValueError, match=rf"{name}\(\): a mask of y_pred's shape \(5, 4\) "
                                             r"masks classes inside the class axis"):
            arrayloss.get(name)(first, z, mask=mask)
    # A mask of the samples is still a mask of the samples.
    np.testing.assert_allclose(arrayloss.cce(y, z, from_logits=True, mask=mask[:, 0]),
                               arrayloss.cce(y, z, from_logits=True), rtol=1e-12)


def test_the_class_mask_is_optax_where():
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    z = RNG.normal(size=(N, C))
    mask = RNG.uniform(size=(N, C)) > 0.3
    mask[:, 0] = True
    y = RNG.dirichlet(np.ones(C), N) * mask
    y = y / y.sum(-1, keepdims=True)  # targets on the kept classes, as optax assumes
    labels = np.zeros(N, dtype=int)
    j, where = jnp.asarray, jnp.asarray(mask)
    logits = {"from_logits": True, "mask": mask, "reduction": "none"}
    pairs = [
        (arrayloss.cce(y, z, **logits),
         optax.losses.softmax_cross_entropy(j(z), j(y), where=where)),
        (arrayloss.scce(labels, z, **logits),
         optax.losses.softmax_cross_entropy_with_integer_labels(j(z), j(labels), where=where)),
        (arrayloss.poly_crossentropy(y, z, epsilon=1.5, **logits),
         optax.losses.poly_loss_cross_entropy(j(z), j(y), epsilon=1.5, where=where)),
        (arrayloss.kl_divergence(y, z, **logits),
         optax.losses.kl_divergence(jax.nn.log_softmax(j(z), where=where), j(y), where=where)),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-10, atol=1e-12)
