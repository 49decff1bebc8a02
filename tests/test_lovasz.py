"""The Lovász losses beyond the conformance matrix: the loop reference on every backend,
ties in any order, images without positives or without counted pixels, the subgradient
(by hand, PyTorch autograd, jax.grad, under jax.jit), Dask's laziness, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss
from arrayloss.conformance.backends import available_backends, forbid_dask_compute
from arrayloss.conformance.cases_lovasz import ref_lovasz_hinge, ref_lovasz_softmax

BACKENDS = available_backends()
HAS = {b.name for b in BACKENDS}
RNG = np.random.default_rng(11)


def _call(b, fn, *arrays, **options):
    return b.to_numpy(b.call(fn, *(b.asarray(a) for a in arrays), **options))


def _masks(shape=(3, 4, 5)):
    return (RNG.uniform(size=shape) < 0.4).astype(float), 2.0 * RNG.normal(size=shape)


def _labelled(shape=(3, 4, 5), classes=4):
    return RNG.integers(0, classes, size=shape), 2.0 * RNG.normal(size=(*shape, classes))


# -- the reference on every backend ----------------------------------------------------------
@pytest.mark.parametrize("b", BACKENDS, ids=lambda b: b.name)
@pytest.mark.parametrize("options", [{}, {"axis": None}, {"ignore_index": 255}])
def test_hinge_matches_the_loop_reference(b, options):
    y, z = _masks()
    y[0, 0] = 255.0
    expected = ref_lovasz_hinge(y, z, **options) if "ignore_index" in options else \
        ref_lovasz_hinge(np.where(y > 1, 1.0, y), z, **options)
    y_in = y if "ignore_index" in options else np.where(y > 1, 1.0, y)
    got = _call(b, arrayloss.lovasz_hinge, y_in, z, reduction="none", **options)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("b", BACKENDS, ids=lambda b: b.name)
@pytest.mark.parametrize("options", [{"from_logits": True},
                                     {"from_logits": True, "classes": "all", "axis": None},
                                     {"from_logits": True, "ignore_index": 3}])
def test_softmax_matches_the_loop_reference(b, options):
    labels, z = _labelled()
    got = _call(b, arrayloss.lovasz_softmax, labels, z, reduction="none", **options)
    np.testing.assert_allclose(got, ref_lovasz_softmax(labels, z, **options), rtol=1e-10,
                               atol=1e-12)


def test_berman_layouts():
    """Berman's (B, C, H, W) probabilities with class_axis=1 are the channels-last call."""
    labels, z = _labelled((2, 3, 4), classes=3)
    last = arrayloss.lovasz_softmax(labels, z, from_logits=True, axis=None)
    first = arrayloss.lovasz_softmax(labels, np.moveaxis(z, -1, 1), from_logits=True,
                                     class_axis=1, axis=None)
    np.testing.assert_allclose(first, last, rtol=1e-14)
    # Labels with a length-1 class axis are accepted too.
    np.testing.assert_allclose(
        arrayloss.lovasz_softmax(labels[..., None], z, from_logits=True, axis=None), last,
        rtol=1e-14)


# -- ties --------------------------------------------------------------------------------------
def test_tied_errors_give_one_value_in_any_order():
    y = (RNG.uniform(size=(3, 12)) < 0.5).astype(float)
    z = RNG.integers(-2, 3, size=(3, 12)) * 0.5  # many tied hinge errors per image
    base = arrayloss.lovasz_hinge(y, z, reduction="none")
    labels = RNG.integers(0, 3, size=(3, 12))
    p = RNG.integers(1, 3, size=(3, 12, 3)).astype(float)
    p /= p.sum(axis=-1, keepdims=True)
    soft = arrayloss.lovasz_softmax(labels, p, reduction="none")
    for seed in range(5):
        perm = np.random.default_rng(seed).permutation(12)  # the same pixels, reordered
        np.testing.assert_allclose(arrayloss.lovasz_hinge(y[:, perm], z[:, perm],
                                                          reduction="none"), base, rtol=1e-13)
        np.testing.assert_allclose(arrayloss.lovasz_softmax(labels[:, perm], p[:, perm],
                                                            reduction="none"), soft,
                                   rtol=1e-13)
    np.testing.assert_allclose(base, ref_lovasz_hinge(y, z), rtol=1e-12)
    np.testing.assert_allclose(soft, ref_lovasz_softmax(labels, p), rtol=1e-12)


def test_all_errors_tied():
    # Every error 1 (logits 0): the extension is that error times the full Jaccard loss, 1.
    y = np.array([[1.0, 0.0, 1.0, 0.0, 0.0]])
    assert float(arrayloss.lovasz_hinge(y, np.zeros((1, 5)))) == pytest.approx(1.0, rel=1e-15)


# -- empty images ------------------------------------------------------------------------------
def test_image_without_positives_is_its_largest_error():
    z = RNG.normal(size=(2, 7))
    y = np.zeros((2, 7))
    got = arrayloss.lovasz_hinge(y, z, reduction="none")
    np.testing.assert_allclose(got, np.max(np.maximum(0.0, 1.0 + z), axis=1), rtol=1e-14)
    assert np.isfinite(got).all()


def test_image_without_counted_pixels_is_zero():
    y, z = _masks((2, 6))
    y[1] = 255.0
    got = arrayloss.lovasz_hinge(y, z, ignore_index=255, reduction="none")
    assert got[1] == 0.0 and got[0] > 0.0
    labels, s = _labelled((2, 6), classes=3)
    labels[0] = -1
    got = arrayloss.lovasz_softmax(labels, s, from_logits=True, ignore_index=-1,
                                   reduction="none")
    assert got[0] == 0.0 and got[1] > 0.0


def test_invalid_label_is_nan_for_its_image_only():
    labels, s = _labelled((3, 6), classes=3)
    labels[1, 2] = 3
    got = arrayloss.lovasz_softmax(labels, s, from_logits=True, reduction="none")
    assert np.isnan(got[1]) and np.isfinite(got[[0, 2]]).all()


def test_perfect_prediction_is_zero():
    y = np.array([[1.0, 0.0, 1.0, 0.0]])
    assert float(arrayloss.lovasz_hinge(y, 3.0 * (2 * y - 1))) == 0.0
    labels = np.array([[0, 2, 1]])
    assert float(arrayloss.lovasz_softmax(labels, np.eye(3)[labels])) == 0.0


# -- gradients ---------------------------------------------------------------------------------
def _hinge_subgradient(y, z):
    """dℓ/dz by hand, per image: the weight of each pixel's rank times d e/d z."""
    grad = np.zeros_like(z)
    for n in range(z.shape[0]):
        errors = 1.0 - z[n] * (2 * y[n] - 1)
        order = sorted(range(z.shape[1]), key=lambda i: -errors[i])
        g = [y[n, i] for i in order]
        total, previous = sum(g), 0.0
        for rank, i in enumerate(order, start=1):
            hits = sum(g[:rank])
            jaccard = 1.0 - (total - hits) / (total + rank - hits)
            if errors[i] > 0:
                grad[n, i] = (jaccard - previous) * -(2 * y[n, i] - 1)
            previous = jaccard
    return grad


@pytest.mark.skipif(not {"torch", "jax"} <= HAS, reason="needs PyTorch and JAX")
def test_gradient_by_hand_torch_and_jax():
    import jax
    import torch

    jax.config.update("jax_enable_x64", True)
    y, z = _masks((3, 9))
    y[1] = 0.0  # an image without positives: finite weights (1, 0, ...)
    expected = _hinge_subgradient(y, z) / 3  # the mean over 3 images
    zt = torch.tensor(z, requires_grad=True)
    arrayloss.lovasz_hinge(torch.tensor(y), zt).backward()
    gj = jax.grad(lambda v: arrayloss.lovasz_hinge(jax.numpy.asarray(y), v))(
        jax.numpy.asarray(z))
    gjit = jax.jit(jax.grad(lambda v: arrayloss.lovasz_hinge(jax.numpy.asarray(y), v)))(
        jax.numpy.asarray(z))
    for got in (zt.grad.numpy(), np.asarray(gj), np.asarray(gjit)):
        assert np.isfinite(got).all()
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.skipif(not {"torch", "jax"} <= HAS, reason="needs PyTorch and JAX")
@pytest.mark.parametrize("options", [{}, {"classes": "all", "axis": None},
                                     {"ignore_index": 0}])
def test_softmax_gradient_torch_equals_jax(options):
    import jax
    import torch

    jax.config.update("jax_enable_x64", True)
    labels, s = _labelled((3, 4, 4), classes=3)
    labels[2] = 0  # with ignore_index=0: an image without counted pixels
    zt = torch.tensor(s, requires_grad=True)
    arrayloss.lovasz_softmax(torch.tensor(labels), zt, from_logits=True, **options).backward()
    gj = jax.jit(jax.grad(lambda v: arrayloss.lovasz_softmax(
        jax.numpy.asarray(labels), v, from_logits=True, **options)))(jax.numpy.asarray(s))
    assert np.isfinite(zt.grad.numpy()).all()
    np.testing.assert_allclose(zt.grad.numpy(), np.asarray(gj), rtol=1e-10, atol=1e-14)
    assert np.abs(zt.grad.numpy()).max() > 0


@pytest.mark.skipif(not {"torch", "jax"} <= HAS, reason="needs PyTorch and JAX")
def test_gradient_with_ties_is_finite_and_one_subgradient_on_both():
    import jax
    import torch

    jax.config.update("jax_enable_x64", True)
    y = np.array([[1.0, 0.0, 1.0, 0.0, 1.0, 0.0]])
    z = np.zeros((1, 6))  # every error 1: all tied
    zt = torch.tensor(z, requires_grad=True)
    arrayloss.lovasz_hinge(torch.tensor(y), zt).backward()
    gj = np.asarray(jax.grad(lambda v: arrayloss.lovasz_hinge(jax.numpy.asarray(y), v))(
        jax.numpy.asarray(z)))
    # Sorted stably, the tied pixels take the ranks of their order in the input.
    np.testing.assert_allclose(zt.grad.numpy(), _hinge_subgradient(y, z), atol=1e-15)
    np.testing.assert_allclose(gj, _hinge_subgradient(y, z), atol=1e-15)


@pytest.mark.skipif("jax" not in HAS, reason="needs JAX")
def test_jit_matches_numpy():
    import jax

    jax.config.update("jax_enable_x64", True)
    labels, s = _labelled()
    y, z = _masks()
    soft = jax.jit(lambda a, b: arrayloss.lovasz_softmax(a, b, from_logits=True))
    hinge = jax.jit(lambda a, b: arrayloss.lovasz_hinge(a, b, axis=None))
    np.testing.assert_allclose(soft(labels, s), arrayloss.lovasz_softmax(
        labels, s, from_logits=True), rtol=1e-13)
    np.testing.assert_allclose(hinge(y, z), arrayloss.lovasz_hinge(y, z, axis=None),
                               rtol=1e-13)


# -- Dask: lazy, by chunks of whole images ------------------------------------------------------
@pytest.mark.skipif("dask" not in HAS, reason="needs Dask")
def test_dask_stays_lazy_and_keeps_the_batch_chunks():
    import dask.array as da

    labels, s = _labelled((6, 4, 4), classes=3)
    y, z = _masks((6, 4, 4))
    with forbid_dask_compute():
        soft = arrayloss.lovasz_softmax(da.from_array(labels, chunks=(2, 2, 2)),
                                        da.from_array(s, chunks=(2, 2, 2, 3)),
                                        from_logits=True, reduction="none")
        hinge = arrayloss.lovasz_hinge(da.from_array(y, chunks=(3, 1, 4)),
                                       da.from_array(z, chunks=(3, 1, 4)), reduction="none")
        whole = arrayloss.lovasz_hinge(da.from_array(y, chunks=2), da.from_array(z, chunks=2),
                                       axis=None)
    assert isinstance(soft, da.Array) and soft.chunks == ((2, 2, 2),)
    assert hinge.chunks == ((3, 3),)
    np.testing.assert_allclose(soft.compute(), arrayloss.lovasz_softmax(
        labels, s, from_logits=True, reduction="none"), rtol=1e-13)
    np.testing.assert_allclose(hinge.compute(), ref_lovasz_hinge(y, z), rtol=1e-12)
    np.testing.assert_allclose(whole.compute(), ref_lovasz_hinge(y, z, axis=None),
                               rtol=1e-12)


def test_empty_batch():
    assert arrayloss.lovasz_hinge(np.zeros((0, 3)), np.zeros((0, 3)),
                                  reduction="none").shape == (0,)
    assert arrayloss.lovasz_softmax(np.zeros((0, 3), dtype=int), np.zeros((0, 3, 2)),
                                    reduction="sum") == 0.0


# -- the framework modules ----------------------------------------------------------------------
@pytest.mark.skipif("torch" not in HAS, reason="needs PyTorch")
def test_torch_modules():
    import torch

    from arrayloss.torch import LovaszHingeLoss, LovaszSoftmaxLoss

    y, z = _masks()
    labels, s = _labelled()
    np.testing.assert_allclose(LovaszHingeLoss(axis=None)(torch.tensor(z), torch.tensor(y)),
                               ref_lovasz_hinge(y, z, axis=None), rtol=1e-12)
    np.testing.assert_allclose(
        LovaszSoftmaxLoss(from_logits=True)(torch.tensor(s), torch.tensor(labels)),
        ref_lovasz_softmax(labels, s, from_logits=True).mean(), rtol=1e-12)


# -- bad inputs -----------------------------------------------------------------------------------
MASKS = _masks((2, 4))
LABELS = _labelled((2, 4), classes=3)
BAD = [
    ("lovasz_hinge", MASKS, {"axis": 1}, ValueError, r"axis must be 'per_sample'.*got 1"),
    ("lovasz_hinge", MASKS, {"ignore_index": 1.5}, TypeError, "ignore_index must be None"),
    ("lovasz_hinge", (np.ones((2, 4)), np.ones((2, 3))), {}, ValueError, "same shape"),
    ("lovasz_hinge", (np.float64(1.0), np.float64(0.5)), {}, ValueError, "0-d inputs"),
    ("lovasz_softmax", (LABELS[0] * 1.0, LABELS[1]), {}, TypeError, "integer class labels"),
    ("lovasz_softmax", LABELS, {"classes": "some"}, ValueError, "classes"),
    ("lovasz_softmax", LABELS, {"class_axis": 0}, ValueError, "image axis"),
    ("lovasz_softmax", LABELS, {"class_axis": 3}, ValueError, "class_axis=3 must be an axis"),
    ("lovasz_softmax", LABELS, {"class_axis": 1.0}, TypeError, "class_axis must be an int"),
    ("lovasz_softmax", (LABELS[0][:, :3], LABELS[1]), {}, ValueError,
     r"one integer label per sample.*got y_true.shape=\(2, 3\)"),
    ("lovasz_softmax", LABELS, {"axis": (1, 2)}, ValueError, "axis must be"),
]


@pytest.mark.parametrize(("name", "arrays", "options", "error", "match"), BAD,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_inputs_raise_at_call_time(name, arrays, options, error, match):
    with pytest.raises(error, match=match):
        arrayloss.get(name)(*arrays, **options)


def test_lovasz_loss_name_is_refused_with_both_calls():
    with pytest.raises(ValueError, match="mode=") as error:
        arrayloss.get("LovaszLoss")
    assert "lovasz_hinge(y_true, logits, axis=None)" in str(error.value)
    assert "lovasz_softmax(labels, logits, from_logits=True, class_axis=1" in str(error.value)


def test_no_closed_form():
    with pytest.raises(NotImplementedError, match="sorts every pixel"):
        arrayloss.gradient("lovasz_hinge", *MASKS)


def test_per_image_shards_combine_and_the_whole_batch_does_not():
    """Per image the loss is shard-exact (tests/test_partials.py checks it registry-wide);
    with axis=None the batch is one image, so shards of it are other images."""
    y, z = _masks((6, 5))
    for axis, exact in (("per_sample", True), (None, False)):
        whole = arrayloss.lovasz_hinge(y, z, axis=axis)
        parts = [arrayloss.lovasz_hinge(y[rows], z[rows], axis=axis, reduction="partial_mean")
                 for rows in (slice(0, 2), slice(2, 6))]
        combined = arrayloss.combine_partials(*zip(*parts, strict=True))
        assert np.isclose(float(combined), float(whole), rtol=1e-12) == exact, axis
