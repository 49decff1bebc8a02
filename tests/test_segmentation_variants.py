"""class_reduction on the overlap losses, focal_tversky and generalized_dice: against optax,
against float64 NumPy references written here, their gradients at a perfect overlap, and
their bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss
from arrayloss.conformance.backends import available_backends

BACKENDS = available_backends()
HAS = {b.name for b in BACKENDS}
RNG = np.random.default_rng(11)
MASKS = (np.ones((2, 4)), np.full((2, 4), 0.5))
ONEHOT = np.eye(3)[RNG.integers(0, 3, (2, 4, 4))]  # (N, H, W, C)
LOGITS = 2.0 * RNG.normal(size=(2, 4, 4, 3))
CLASSES = (ONEHOT, LOGITS)


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def ref_tversky_per_class(y, p, alpha, beta, smooth):
    """(N, C): 1 - TI per sample and class, channels last, by loops."""
    out = np.zeros((y.shape[0], y.shape[-1]))
    for n in range(y.shape[0]):
        for c in range(y.shape[-1]):
            yc, pc = y[n, ..., c].ravel(), p[n, ..., c].ravel()
            tp = sum(a * b for a, b in zip(yc, pc, strict=True))
            fp = sum((1 - a) * b for a, b in zip(yc, pc, strict=True))
            fn = sum(a * (1 - b) for a, b in zip(yc, pc, strict=True))
            out[n, c] = 1.0 - (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)
    return out


def ref_generalized_dice(y, z, smooth, epsilon=1e-7, ignore_background=False):
    """optax's definition: Dice per sample and class (smooth in optax's form), weights
    1/(f² + ε) from the batch's class sums, scaled to sum to C, mean over everything."""
    p = _softmax(z)
    num_classes = y.shape[-1]
    f = np.array([y[..., c].sum() for c in range(num_classes)])
    w = 1.0 / (f**2 + epsilon)
    w = w / w.sum() * num_classes
    losses = ref_tversky_per_class(y, p, 0.5, 0.5, smooth) * w
    if ignore_background:
        losses = losses[:, 1:]
    return losses.mean(axis=1)


# -- bad inputs ---------------------------------------------------------------------------
BAD = [
    ("dice", MASKS, {"class_reduction": "sum"}, ValueError,
     r"pass class_axis=.*class_reduction='sum', class_axis=None"),
    ("tversky", MASKS, {"class_reduction": "none"}, ValueError, "class_reduction='none'"),
    ("jaccard", MASKS, {"class_reduction": "avg"}, ValueError,
     r"class_reduction must be one of 'mean', 'sum', 'none'; got 'avg'"),
    ("focal_tversky", MASKS, {"class_reduction": "sum"}, ValueError, "pass class_axis"),
    ("focal_tversky", MASKS, {"gamma": 0.0}, ValueError, r"gamma must be in \(0, inf\]"),
    ("focal_tversky", MASKS, {"gamma": -1.0}, ValueError, "gamma"),
    ("focal_tversky", MASKS, {"class_weight": [1.0, 2.0]}, ValueError, "pass class_axis"),
    ("focal_tversky", CLASSES, {"class_axis": -1, "class_weight": [1.0, 2.0]}, ValueError,
     r"one weight per class, shape \(3,\)"),
    ("generalized_dice", CLASSES, {"class_axis": None}, ValueError,
     "needs an int class_axis.*got class_axis=None"),
    ("generalized_dice", CLASSES, {"class_axis": 1.0}, TypeError, "class_axis"),
    ("generalized_dice", CLASSES, {"epsilon": 0.0}, ValueError, r"epsilon must be in \(0"),
    ("generalized_dice", CLASSES, {"class_weight": [1.0, 2.0, 3.0]}, TypeError,
     r"unknown option\(s\) class_weight"),
    ("generalized_dice", CLASSES, {"class_axis": -1, "axis": (1, 3)}, ValueError,
     "includes class_axis"),
    ("generalized_dice", (np.ones((2, 4, 1)), np.ones((2, 4, 1))), {"ignore_background": True},
     ValueError, "at least 2 classes; class axis 2 has length 1"),
]


@pytest.mark.parametrize(("name", "arrays", "options", "error", "match"), BAD,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_inputs_raise_at_call_time(name, arrays, options, error, match):
    with pytest.raises(error, match=match):
        arrayloss.get(name)(*arrays, **options)


# -- class_reduction -------------------------------------------------------------------------
@pytest.mark.parametrize("class_reduction", ["mean", "sum", "none"])
def test_class_reduction_matches_optax_dice_loss(class_reduction):
    optax = pytest.importorskip("optax")
    import jax.numpy as jnp

    w = np.array([0.5, 1.0, 2.0])
    theirs = np.asarray(optax.losses.dice_loss(
        jnp.asarray(LOGITS), jnp.asarray(ONEHOT), alpha=0.3, beta=0.7, class_weights=w,
        ignore_background=True, reduction=class_reduction))
    ours = arrayloss.tversky(ONEHOT, LOGITS, alpha=0.3, beta=0.7, smooth=1.0,
                             from_logits=True, class_axis=-1, class_weight=w,
                             ignore_background=True, class_reduction=class_reduction,
                             reduction="none")
    assert ours.shape == theirs.shape == ((2, 2) if class_reduction == "none" else (2,))
    np.testing.assert_allclose(ours, theirs, rtol=2e-5)


def test_class_reduction_against_a_float64_reference():
    p = _softmax(LOGITS)
    per_class = ref_tversky_per_class(ONEHOT, p, 0.3, 0.7, 1.0) * np.array([0.5, 1.0, 2.0])
    options = {"alpha": 0.3, "beta": 0.7, "smooth": 1.0, "class_axis": -1,
               "class_weight": [0.5, 1.0, 2.0]}
    none = arrayloss.tversky(ONEHOT, p, **options, class_reduction="none", reduction="none")
    np.testing.assert_allclose(none, per_class, rtol=1e-12)
    np.testing.assert_allclose(
        arrayloss.tversky(ONEHOT, p, **options, class_reduction="sum", reduction="none"),
        per_class.sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(arrayloss.tversky(ONEHOT, p, **options),  # "mean" default
                               per_class.mean(), rtol=1e-12)
    # "none": the sample weight of sample n applies to each of its classes.
    weight = np.array([2.0, 0.5])
    np.testing.assert_allclose(
        arrayloss.tversky(ONEHOT, p, **options, class_reduction="none",
                          sample_weight=weight, reduction="sum"),
        (per_class * weight[:, None]).sum(), rtol=1e-12)


def test_class_reduction_none_channels_first_keeps_the_class_axis_in_place():
    y, z = np.moveaxis(ONEHOT, -1, 1), np.moveaxis(LOGITS, -1, 1)  # (N, C, H, W)
    ours = arrayloss.dice(y, z, from_logits=True, class_axis=1, class_reduction="none",
                          reduction="none")
    expected = arrayloss.dice(ONEHOT, LOGITS, from_logits=True, class_axis=-1,
                              class_reduction="none", reduction="none")
    assert ours.shape == (2, 3)
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


# -- focal_tversky ---------------------------------------------------------------------------
@pytest.mark.parametrize("gamma", [0.5, 0.75, 1.0, 2.0])
def test_focal_tversky_against_a_float64_reference(gamma):
    p = _softmax(LOGITS)
    w = np.array([0.5, 1.0, 2.0])
    expected = (ref_tversky_per_class(ONEHOT, p, 0.3, 0.7, 1.0) ** gamma * w)[:, 1:].mean(1)
    ours = arrayloss.focal_tversky(ONEHOT, LOGITS, alpha=0.3, beta=0.7, gamma=gamma,
                                   smooth=1.0, from_logits=True, class_axis=-1,
                                   class_weight=w, ignore_background=True, reduction="none")
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


def test_focal_tversky_with_gamma_one_is_tversky_and_binary_is_unchanged_by_class_mean():
    y, p = (RNG.uniform(size=(3, 8)) < 0.5) * 1.0, RNG.uniform(0.05, 0.95, (3, 8))
    np.testing.assert_allclose(arrayloss.focal_tversky(y, p, gamma=1.0, reduction="none"),
                               arrayloss.tversky(y, p, alpha=0.3, beta=0.7, reduction="none"),
                               rtol=1e-14)
    # One class over the whole batch: the mean over classes (segmentation_models_pytorch's
    # convention) is that class's value, so both conventions agree.
    tv = float(arrayloss.tversky(y, p, alpha=0.3, beta=0.7, axis=None))
    np.testing.assert_allclose(float(arrayloss.focal_tversky(y, p, gamma=1.5, axis=None)),
                               tv**1.5, rtol=1e-14)


PERFECT = ((RNG.uniform(size=(3, 6)) < 0.5) * 1.0)


@pytest.mark.skipif("torch" not in HAS, reason="needs torch")
@pytest.mark.parametrize("gamma", [0.5, 0.75, 2.0])
def test_focal_tversky_gradient_at_a_perfect_overlap_is_zero_on_torch(gamma):
    import torch

    y = torch.asarray(PERFECT)
    p = torch.asarray(PERFECT.copy(), requires_grad=True)
    loss = arrayloss.focal_tversky(y, p, gamma=gamma, reduction="sum")
    loss.backward()
    assert float(loss.detach()) == 0.0
    assert torch.isfinite(p.grad).all() and float(p.grad.abs().max()) == 0.0
    # Beside the perfect point the gradient is the exact one (the chain rule of the power).
    q = torch.asarray(0.8 * PERFECT + 0.1, requires_grad=True)
    arrayloss.focal_tversky(y, q, gamma=gamma, reduction="sum").backward()
    base = torch.asarray(0.8 * PERFECT + 0.1, requires_grad=True)
    tv = arrayloss.tversky(y, base, alpha=0.3, beta=0.7, reduction="none")
    (tv**gamma).sum().backward()
    torch.testing.assert_close(q.grad, base.grad, rtol=1e-12, atol=1e-14)


@pytest.mark.skipif("jax" not in HAS, reason="needs jax")
def test_focal_tversky_gradient_at_a_perfect_overlap_is_zero_under_jax_jit():
    import jax
    import jax.numpy as jnp

    y = jnp.asarray(PERFECT, dtype=jnp.float32)
    grad = jax.jit(jax.grad(lambda p: arrayloss.focal_tversky(y, p, gamma=0.5)))(y)
    assert np.all(np.asarray(grad) == 0.0)
    # A confidently right logit (sigmoid rounds to exactly 0 or 1 in float32) is a perfect
    # overlap too.
    logits = jnp.where(y > 0, 100.0, -100.0)
    g = jax.grad(lambda z: arrayloss.focal_tversky(y, z, gamma=0.5, from_logits=True))(logits)
    assert np.all(np.isfinite(np.asarray(g)))


@pytest.mark.parametrize("b", BACKENDS, ids=lambda b: b.name)
def test_focal_tversky_and_generalized_dice_of_an_empty_image_are_zero(b):
    empty = np.zeros((3, 2, 2))
    value = b.to_numpy(b.call(arrayloss.focal_tversky, b.asarray(empty), b.asarray(empty),
                              gamma=0.5, reduction="none"))
    np.testing.assert_allclose(value, 0.0, atol=1e-12)
    nan = np.full((3, 2, 2), np.nan)
    value = b.to_numpy(b.call(arrayloss.focal_tversky, b.asarray(empty), b.asarray(nan),
                              gamma=0.5, reduction="none"))
    assert np.all(np.isnan(value))  # the `where` at 0 lets NaN through


# -- generalized_dice ------------------------------------------------------------------------
def _with_empty_class():
    y = np.eye(4)[RNG.integers(0, 3, (3, 4, 4))]  # class 3 absent: weight 1/ε
    return y, 2.0 * RNG.normal(size=(3, 4, 4, 4))


@pytest.mark.parametrize("ignore_background", [False, True])
@pytest.mark.parametrize("inputs", ["present", "empty_class"])
def test_generalized_dice_against_a_float64_reference(inputs, ignore_background):
    y, z = CLASSES if inputs == "present" else _with_empty_class()
    expected = ref_generalized_dice(y, z, smooth=0.5, ignore_background=ignore_background)
    ours = arrayloss.generalized_dice(y, z, smooth=1.0, from_logits=True,
                                      ignore_background=ignore_background, reduction="none")
    np.testing.assert_allclose(ours, expected, rtol=1e-10)
    # Channels first, the same values.
    first = arrayloss.generalized_dice(np.moveaxis(y, -1, 1), np.moveaxis(z, -1, 1),
                                       smooth=1.0, from_logits=True, class_axis=1,
                                       ignore_background=ignore_background, reduction="none")
    np.testing.assert_allclose(first, expected, rtol=1e-10)


def test_generalized_dice_empty_class_dominates():
    y, z = _with_empty_class()
    per_class = arrayloss.generalized_dice(y, z, from_logits=True, class_reduction="none",
                                           reduction="none")
    dice = arrayloss.dice(y, z, from_logits=True, class_axis=-1, class_reduction="none",
                          reduction="none")
    # The empty class's weight is ≈ C = 4, the present classes' ≈ C·ε·f² ≈ 0.
    np.testing.assert_allclose(per_class[:, 3], 4.0 * dice[:, 3], rtol=1e-5)
    assert np.all(per_class[:, :3] < 1e-4 * dice[:, :3])


@pytest.mark.parametrize("ignore_background", [False, True])
def test_generalized_dice_matches_optax(ignore_background):
    optax = pytest.importorskip("optax")
    import jax.numpy as jnp

    y, z = _with_empty_class()
    theirs = float(optax.losses.multiclass_generalized_dice_loss(
        jnp.asarray(z), jnp.asarray(y), smooth=0.5, ignore_background=ignore_background))
    ours = float(arrayloss.get("multiclass_generalized_dice_loss", smooth=1.0,
                               ignore_background=ignore_background)(y, z))
    np.testing.assert_allclose(ours, theirs, rtol=2e-5)
