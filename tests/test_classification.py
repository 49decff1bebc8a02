"""The classification family beyond the conformance matrix: class weights and ignore_index
with their own denominators, the numerical failures of the reference libraries (REFERENCE
section 2), half precision, tracing, encoding utilities and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss
from arrayloss.conformance.backends import available_backends
from arrayloss.conformance.gradients import jax_value_and_grad, torch_value_and_grad

BACKENDS = available_backends()
RNG = np.random.default_rng(7)
LABELS = np.array([0, 3, 2, 1, 2, 5, 3, 0])  # 2 is ignored below; 5 is out of range (C = 4)
LOGITS = RNG.normal(size=(8, 4))
CLASS_WEIGHT = np.array([0.5, 2.0, 1.0, 3.0])


def _reference_scce(labels, logits, class_weight, ignore_index):
    """Per-sample values and weights of PyTorch's cross_entropy, in NumPy."""
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    valid = (labels >= 0) & (labels < logits.shape[1])
    safe = np.where(valid, labels, 0)
    values = np.where(valid, -log_p[np.arange(len(labels)), safe], np.nan)
    keep = labels != ignore_index
    weight = class_weight[safe]
    return np.where(keep, values, 0.0), np.where(keep, weight, 0.0), keep


@pytest.mark.parametrize("b", BACKENDS, ids=lambda b: b.name)
def test_class_weight_and_ignore_index_reductions(b):
    """ignore_index is a mask (out of the "mean" denominator) and class weights are
    per-sample weights w_y (in the "weighted_mean" denominator), on every backend; the
    out-of-range label 5 gives NaN for its own sample only."""
    labels, logits = LABELS[LABELS != 5], LOGITS[LABELS != 5]
    values, weight, keep = _reference_scce(labels, logits, CLASS_WEIGHT, 2)
    expected = {
        "none": weight * values,
        "sum": np.sum(weight * values),
        "mean": np.sum(weight * values) / keep.sum(),
        "weighted_mean": np.sum(weight * values) / weight.sum(),
    }
    for reduction, want in expected.items():
        got = b.call(arrayloss.scce, b.asarray(labels), b.asarray(logits), from_logits=True,
                     class_weight=CLASS_WEIGHT, ignore_index=2, reduction=reduction)
        np.testing.assert_allclose(b.to_numpy(got), want, rtol=1e-12, err_msg=reduction)
    got = b.call(arrayloss.nll, b.asarray(LABELS), b.asarray(LOGITS), ignore_index=2,
                 reduction="none")
    assert np.isnan(b.to_numpy(got)).tolist() == (LABELS == 5).tolist()


_torch_grad, _jax_grad = torch_value_and_grad, jax_value_and_grad


GRADIENT_BACKENDS = [g for g, name in ((_torch_grad, "torch"), (_jax_grad, "jax"))
                     if any(b.name == name for b in BACKENDS)]
ONEHOT = np.array([[1.0, 0.0, 0.0]])

# (loss, y_true, y_pred, options, expected loss, sign of the gradient at [0, 0]).
EXTREMES = [
    # Keras: 16.118 with a zero gradient for (y=1, p=0); PyTorch: 100.
    (arrayloss.bce, np.array([[1.0]]), np.array([[0.0]]), {}, 100.0, -1),
    (arrayloss.bce, np.array([[0.0]]), np.array([[1.0]]), {}, 100.0, +1),
    (arrayloss.cce, ONEHOT, np.array([[0.0, 0.5, 0.5]]), {}, 100.0, -1),
    (arrayloss.scce, np.array([0]), np.array([[0.0, 0.5, 0.5]]), {}, 100.0, -1),
    (arrayloss.binary_focal_crossentropy, np.array([[1.0]]), np.array([[0.0]]), {}, 100.0, -1),
    (arrayloss.categorical_focal_crossentropy, ONEHOT, np.array([[0.0, 0.5, 0.5]]), {},
     25.0, -1),
    # Confidently wrong logits of 1e4 in float32: the true loss, not Keras's cap of 15.94.
    (arrayloss.bce, np.array([[1.0]]), np.array([[-1e4]]), {"from_logits": True}, 1e4, -1),
    (arrayloss.binary_focal_crossentropy, np.array([[0.0]]), np.array([[1e4]]),
     {"from_logits": True}, 1e4, +1),
    (arrayloss.binary_focal_crossentropy, np.array([[1.0]]), np.array([[-1e4]]),
     {"from_logits": True, "apply_class_balancing": True}, 2.5e3, -1),
    (arrayloss.cce, ONEHOT, np.array([[-1e4, 1e4, 0.0]]), {"from_logits": True}, 2e4, -1),
    (arrayloss.scce, np.array([0]), np.array([[-1e4, 1e4, 0.0]]), {"from_logits": True},
     2e4, -1),
    (arrayloss.categorical_focal_crossentropy, ONEHOT, np.array([[-1e4, 1e4, 0.0]]),
     {"from_logits": True, "alpha": 1.0}, 2e4, -1),
]


@pytest.mark.parametrize("grad", GRADIENT_BACKENDS, ids=lambda g: g.__name__)
@pytest.mark.parametrize("row", EXTREMES, ids=lambda r: f"{r[0].__name__}-{r[2].ravel()[0]:g}")
def test_confidently_wrong_predictions_keep_loss_and_gradient(row, grad):
    loss, y, p, options, expected, sign = row
    value, gradient = grad(loss, y, p, **options)
    np.testing.assert_allclose(value, expected, rtol=1e-5)
    assert np.all(np.isfinite(gradient))
    assert np.sign(gradient.ravel()[0]) == sign


HALF = [(b, d) for b in BACKENDS for d in b.half_dtypes]
HALF_CALLS = [
    # Keras in float16: NaN for (1, 1) and inf for (0, 1), since 1 - 1e-7 rounds to 1.
    (arrayloss.bce, [[1.0, 0.0, 1.0, 0.0]], [[1.0, 1.0, 0.0, 0.0]], {}),
    (arrayloss.binary_focal_crossentropy, [[1.0, 0.0, 1.0, 0.0]], [[1.0, 1.0, 0.0, 0.0]], {}),
    (arrayloss.bce, [[1.0, 0.0, 1.0, 0.0]], [[1e4, 1e4, -1e4, -1e4]], {"from_logits": True}),
    (arrayloss.binary_focal_crossentropy, [[1.0, 0.0]], [[1e4, 1e4]], {"from_logits": True}),
    (arrayloss.cce, [[1.0, 0.0, 0.0]], [[1.0, 0.0, 0.0]], {}),
    (arrayloss.cce, [[1.0, 0.0, 0.0]], [[-1e4, 1e4, 0.0]], {"from_logits": True}),
    (arrayloss.categorical_focal_crossentropy, [[0.0, 1.0, 0.0]], [[-1e4, 1e4, 0.0]],
     {"from_logits": True}),
    (arrayloss.kld, [[1.0, 0.0]], [[0.0, 1.0]], {}),
]


@pytest.mark.parametrize(("b", "dtype"), HALF, ids=[f"{b.name}-{d}" for b, d in HALF])
def test_half_precision_is_finite_float32(b, dtype):
    for loss, y, p, options in HALF_CALLS:
        result = b.call(loss, b.asarray(np.array(y), dtype), b.asarray(np.array(p), dtype),
                        reduction="none", **options)
        b.check_result(result, "float32")
        assert np.all(np.isfinite(b.to_numpy(result))), (loss.__name__, options)


@pytest.mark.skipif(not any(b.name == "jax" for b in BACKENDS), reason="needs jax")
def test_kl_divergence_gradient_is_finite_at_zero_probability():
    """optax's kl_divergence has a NaN gradient with respect to p at p = 0."""
    import jax
    import jax.numpy as jnp

    p, q = jnp.asarray([[0.0, 1.0]]), jnp.asarray([[0.5, 0.5]])
    dp, dq = jax.grad(lambda a, b: arrayloss.kld(a, b), argnums=(0, 1))(p, q)
    assert np.all(np.isfinite(dp)) and np.all(np.isfinite(dq))
    assert float(arrayloss.kld(p, q)) == pytest.approx(np.log(2.0))


def _several(labels, logits, y, probs):
    """Several losses at once, so one trace covers them."""
    return (arrayloss.scce(labels, logits, from_logits=True, ignore_index=1,
                           class_weight=[1.0, 2.0, 0.5], reduction="weighted_mean")
            + arrayloss.binary_focal_crossentropy(y, logits, from_logits=True)
            + arrayloss.categorical_focal_crossentropy(probs, logits, from_logits=True)
            + arrayloss.categorical_hinge(probs, logits)
            + arrayloss.kld(probs, logits, from_logits=True))


SMOKE = (np.array([0, 1, 2, 7]), RNG.normal(size=(4, 3)), RNG.integers(0, 2, (4, 3)) * 1.0,
         np.eye(3)[[0, 1, 2, 2]])


@pytest.mark.skipif(not any(b.name == "jax" for b in BACKENDS), reason="needs jax")
def test_jax_jit_grad_and_vmap():
    import jax
    import jax.numpy as jnp

    labels, logits, y, probs = (jnp.asarray(a) for a in SMOKE)
    eager = _several(labels, logits, y, probs)
    assert np.isnan(eager)  # label 7 is out of range and not ignored
    valid = labels.at[3].set(0)
    value, grad = jax.jit(jax.value_and_grad(_several, argnums=1))(valid, logits, y, probs)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(value, _several(valid, logits, y, probs), rtol=1e-6)
    per_row = jax.vmap(lambda z, t: arrayloss.scce(t, z, from_logits=True))(logits, valid)
    np.testing.assert_allclose(per_row, arrayloss.scce(valid, logits, from_logits=True,
                                                       reduction="none"), rtol=1e-6)


@pytest.mark.skipif(not any(b.name == "torch" for b in BACKENDS), reason="needs torch")
def test_torch_compile_fullgraph():
    import torch

    labels, logits, y, probs = (torch.asarray(a) for a in SMOKE)
    compiled = torch.compile(_several, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(labels, logits, y, probs),
                               _several(labels, logits, y, probs), equal_nan=True)


# -- one_hot and to_categorical ----------------------------------------------------------------
@pytest.mark.parametrize("b", BACKENDS, ids=lambda b: b.name)
def test_one_hot_uint8_with_many_classes(b):
    labels = b.asarray(np.array([255, 3, 0], dtype=np.uint8))
    rows = b.to_numpy(b.call(arrayloss.one_hot, labels, 300))
    np.testing.assert_array_equal(rows, np.eye(300)[[255, 3, 0]])


def test_to_categorical():
    np.testing.assert_array_equal(arrayloss.to_categorical(np.array([[2], [0]])),
                                  np.eye(3)[[2, 0]])
    np.testing.assert_array_equal(arrayloss.to_categorical([1, 0], num_classes=4),
                                  np.eye(4)[[1, 0]])
    with pytest.raises(ValueError, match="empty"):
        arrayloss.to_categorical(np.zeros(0, dtype=int))


@pytest.mark.skipif(not any(b.name == "jax" for b in BACKENDS), reason="needs jax")
def test_to_categorical_under_jit_needs_num_classes():
    import jax
    import jax.numpy as jnp

    labels = jnp.asarray([1, 0])
    with pytest.raises(ValueError, match="pass num_classes"):
        jax.jit(arrayloss.to_categorical)(labels)
    rows = jax.jit(lambda t: arrayloss.to_categorical(t, num_classes=2))(labels)
    np.testing.assert_array_equal(rows, np.eye(2)[[1, 0]])


# -- names and bad inputs --------------------------------------------------------------------
def test_aliases():
    for alias, loss in [("bce", "binary_crossentropy"), ("logloss", "binary_crossentropy"),
                        ("cce", "categorical_crossentropy"),
                        ("scce", "sparse_categorical_crossentropy"),
                        ("nll", "negative_log_likelihood"), ("kld", "kl_divergence"),
                        ("kullback_leibler_divergence", "kl_divergence"),
                        ("focal", "binary_focal_crossentropy"),
                        ("binary_focal", "binary_focal_crossentropy"),
                        ("categorical_focal", "categorical_focal_crossentropy")]:
        assert arrayloss.get(alias) is arrayloss.get(loss) is getattr(arrayloss, alias)


P = np.full((2, 3), 1 / 3)
BAD = [
    (arrayloss.scce, (np.array([0.0, 1.0]), P), {}, TypeError, "integer class labels"),
    (arrayloss.nll, (np.array([0.0, 1.0]), P), {}, TypeError, "integer class labels"),
    (arrayloss.scce, (np.zeros((2, 2), dtype=int), P), {}, ValueError, "one integer label"),
    (arrayloss.cce, (np.eye(2), P), {}, ValueError, "same shape"),
    (arrayloss.bce, (P, P), {"label_smoothing": 1.5}, ValueError, "label_smoothing"),
    (arrayloss.cce, (P, P), {"label_smoothing": -0.1}, ValueError, "label_smoothing"),
    (arrayloss.binary_focal_crossentropy, (P, P), {"gamma": -1.0}, ValueError, "gamma"),
    (arrayloss.categorical_focal_crossentropy, (P, P), {"gamma": -2}, ValueError, "gamma"),
    (arrayloss.categorical_focal_crossentropy, (P, P), {"alpha": 2.0}, ValueError, "alpha"),
    (arrayloss.bce, (P, P), {"from_logit": True}, TypeError, "unknown option"),
    (arrayloss.hinge, (P, P), {"margin": 2.0}, TypeError, "unknown option"),
    (arrayloss.cce, (P, P), {"axis": (0, 1)}, TypeError, "single int"),
    (arrayloss.scce, (np.array([0, 1]), P), {"class_weight": [1.0, 2.0]}, ValueError,
     "one weight per class"),
    (arrayloss.scce, (np.array([0, 1]), P), {"ignore_index": 1.0}, TypeError, "ignore_index"),
    (arrayloss.bce, (P, P), {"pos_weight": [1.0, 2.0]}, ValueError, "pos_weight"),
    (arrayloss.bce, (P, P), {"from_logits": 1}, TypeError, "from_logits"),
    (arrayloss.one_hot, (np.array([0.5]), 3), {}, TypeError, "integer class labels"),
    (arrayloss.one_hot, (np.array([0]), 0), {}, ValueError, "num_classes"),
]


@pytest.mark.parametrize("row", BAD, ids=lambda r: f"{r[0].__name__}-{r[4]}")
def test_bad_inputs(row):
    loss, args, options, error, message = row
    with pytest.raises(error, match=message):
        loss(*args, **options)


def test_inputs_are_not_modified():
    labels, logits = LABELS.copy(), LOGITS.copy()
    arrayloss.scce(labels, logits, from_logits=True, ignore_index=2, label_smoothing=0.1)
    np.testing.assert_array_equal(labels, LABELS)
    np.testing.assert_array_equal(logits, LOGITS)


# -- sparse losses over a tuple of class axes (optax's axis=(...)) ---------------------------
def test_sparse_losses_take_a_tuple_of_class_axes():
    rng = np.random.default_rng(4)
    z = rng.normal(size=(3, 2, 4, 5))  # (N, A, H, B): classes over axes 1 and 3, 2·5 = 10
    labels = rng.integers(0, 10, (3, 4))
    flat = np.transpose(z, (0, 2, 1, 3)).reshape(3, 4, 10)
    weights = rng.uniform(0.5, 2.0, 10)
    for name, options in [("scce", {"from_logits": True, "class_weight": weights}),
                          ("multi_margin", {"p": 2}), ("multiclass_sparsemax", {})]:
        loss = arrayloss.get(name)
        np.testing.assert_allclose(loss(labels, z, axis=(1, 3), reduction="none", **options),
                                   loss(labels, flat, reduction="none", **options), rtol=1e-12)
        # The gradient has the scores' own layout.
        gradient = arrayloss.gradient(name, labels, z, axis=(1, 3), **options)
        flat_gradient = arrayloss.gradient(name, labels, flat, **options)
        np.testing.assert_allclose(np.transpose(gradient, (0, 2, 1, 3)).reshape(3, 4, 10),
                                   flat_gradient, rtol=1e-12)
    # The order of the axes is the order of the flat index (row-major over them).
    swapped = np.transpose(z, (0, 2, 3, 1)).reshape(3, 4, 10)
    np.testing.assert_allclose(arrayloss.scce(labels, z, axis=(3, 1), reduction="none"),
                               arrayloss.scce(labels, swapped, reduction="none"), rtol=1e-12)
    # A tuple of one axis is that axis.
    np.testing.assert_allclose(arrayloss.scce(labels % 5, z[:, 0], axis=(-1,)),
                               arrayloss.scce(labels % 5, z[:, 0]), rtol=1e-12)


def test_a_tuple_of_class_axes_is_checked():
    z, labels = np.zeros((3, 2, 4)), np.zeros((3,), dtype=int)
    with pytest.raises(ValueError, match=r"axis must not repeat an axis; got \(1, 1\)"):
        arrayloss.scce(labels, z, axis=(1, 1))
    with pytest.raises(ValueError, match=r"axis=\(1, 3\) is out of range for inputs with 3 "
                       r"dimension\(s\); expected values in \[-3, 2\]"):
        arrayloss.scce(labels, z, axis=(1, 3))
    with pytest.raises(ValueError, match="shape"):
        arrayloss.scce(np.zeros((3, 2), dtype=int), z, axis=(1, 2))  # labels must be (3,)
