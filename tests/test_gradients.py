"""arrayloss.gradient, hessian_diagonal and value_and_gradient: the chain rule through
axes, weights, masks and reductions, kinks, numerics, namespaces and errors. (Every loss and
backend against autodiff: conformance/test_closed_form.py.)"""

from __future__ import annotations

import math

import array_api_strict
import numpy as np
import pytest

import arrayloss

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
jnp = jax.numpy
jax.config.update("jax_enable_x64", True)

RNG = np.random.default_rng(3)
Y3 = RNG.normal(size=(4, 3, 2))
P3 = RNG.normal(size=(4, 3, 2))
W = np.array([0.5, 0.0, 2.0, 1.5])
M = np.array([True, True, False, True])


def torch_grad(loss, *arrays, index=1, **options):
    tensors = [torch.asarray(a) for a in arrays]
    tensors[index] = tensors[index].clone().requires_grad_(True)
    options = {k: torch.asarray(v) if isinstance(v, np.ndarray) else v
               for k, v in options.items()}
    arrayloss.get(loss)(*tensors, **options).sum().backward()
    return tensors[index].grad.numpy()


def jax_grad_and_hessian(loss, *arrays, index=1, **options):
    def scalar(x):
        args = [jnp.asarray(a) for a in arrays]
        args[index] = x
        return jnp.sum(arrayloss.get(loss)(*args, **options))

    x = jnp.asarray(arrays[index])
    hessian = np.asarray(jax.hessian(scalar)(x)).reshape(x.size, x.size)
    return np.asarray(jax.grad(scalar)(x)), np.diagonal(hessian).reshape(x.shape)


# -- every loss has a closed form or a clear error ------------------------------------------
NO_CLOSED_FORM = ("dice", "tversky", "jaccard", "focal_tversky", "generalized_dice",
                  "triplet_margin", "ntxent", "circle", "ctc", "lovasz_hinge", "lovasz_softmax")


LOSSES = [n for n in arrayloss.available() if hasattr(arrayloss.get(n), "spec")]


def test_only_the_penalties_are_not_losses_of_arrays():
    assert sorted(set(arrayloss.available()) - set(LOSSES)) == ["l1", "l1_l2", "l2"]
    with pytest.raises(TypeError, match="l1, which is not an arrayloss loss"):
        arrayloss.gradient("l1", np.zeros(2), np.zeros(2))


@pytest.mark.parametrize("name", LOSSES)
def test_every_loss_has_a_closed_form_or_says_why_not(name):
    if name in NO_CLOSED_FORM:
        assert not arrayloss.has_closed_form(name)
        with pytest.raises(NotImplementedError, match=rf"no closed-form gradient for the loss "
                                                      rf"'{name}'.*autodiff"):
            arrayloss.gradient(name, np.zeros(2), np.zeros(2))
    else:
        assert arrayloss.has_closed_form(name), name


# -- the chain rule: axis, reductions, weights, masks (SPEC sections 4 and 5) -----------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "weighted_mean", "none"])
@pytest.mark.parametrize("axis", [None, (1, 2), ()])
def test_elementwise_chain_rule_matches_torch(reduction, axis):
    options = {"reduction": reduction, "sample_weight": W, "mask": M, "delta": 0.7}
    if axis is not None:
        options["axis"] = axis
    got = arrayloss.gradient("huber", Y3, P3, **options)
    np.testing.assert_allclose(got, torch_grad("huber", Y3, P3, **options), atol=1e-12)
    hessian = arrayloss.hessian_diagonal("huber", Y3, P3, **options)
    expected = jax_grad_and_hessian("huber", Y3, P3, **options)[1]
    np.testing.assert_allclose(hessian, expected, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "weighted_mean", "none"])
def test_labels_kind_with_class_weight_and_ignore_index(reduction):
    logits = RNG.normal(size=(5, 4, 3))  # channels first: classes on axis 1
    labels = np.array([[0, 1, 3], [2, -1, 1], [3, 3, 0], [1, 0, -1], [2, 2, 2]])
    options = {"from_logits": True, "axis": 1, "ignore_index": -1, "label_smoothing": 0.1,
               "class_weight": [1.0, 2.0, 0.5, 0.0], "reduction": reduction,
               "sample_weight": np.array([1.0, 0.5, 2.0, 1.0, 3.0])}
    got = arrayloss.gradient("scce", labels, logits, **options)
    np.testing.assert_allclose(got, torch_grad("scce", labels, logits, **options), atol=1e-12)
    hessian = arrayloss.hessian_diagonal("scce", labels, logits, **options)
    np.testing.assert_allclose(
        hessian, jax_grad_and_hessian("scce", labels, logits, **options)[1], atol=1e-12)


def test_axis_kind_on_a_tuple_of_axes():
    y = np.abs(RNG.normal(size=(3, 2, 4)))
    y = y / y.sum(axis=(1, 2), keepdims=True)
    logits = RNG.normal(size=(3, 2, 4))
    options = {"from_logits": True, "axis": (1, 2), "reduction": "sum"}
    grad, hess = jax_grad_and_hessian("kld", y, logits, **options)
    np.testing.assert_allclose(arrayloss.gradient("kld", y, logits, **options), grad,
                               atol=1e-12)
    np.testing.assert_allclose(arrayloss.hessian_diagonal("kld", y, logits, **options), hess,
                               atol=1e-12)


def test_softmax_hessian_is_the_per_class_diagonal_boosting_uses():
    logits = RNG.normal(size=(4, 3))
    y = np.eye(3)[[0, 2, 1, 1]]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    hess = arrayloss.hessian_diagonal("cce", y, logits, from_logits=True, reduction="none")
    np.testing.assert_allclose(hess, p * (1 - p), rtol=1e-12)
    grad = arrayloss.gradient("cce", y, logits, from_logits=True, reduction="none")
    np.testing.assert_allclose(grad, p - y, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("y_true", "y_pred"), [
    (np.zeros(4), np.ones((4, 1))), (np.zeros((4, 1)), np.ones(4)), (np.asarray(0.5), np.ones(4)),
])
def test_gradient_is_shaped_like_y_pred(y_true, y_pred):
    grad = arrayloss.gradient("mse", y_true, y_pred, reduction="sum")
    assert grad.shape == y_pred.shape
    expected = 2 * (np.reshape(y_pred, -1) - np.reshape(y_true, -1))
    np.testing.assert_allclose(grad, expected.reshape(y_pred.shape))


def test_mean_over_nothing_has_a_zero_gradient():
    for kwargs in ({"mask": np.zeros(4, bool)}, {"sample_weight": np.zeros(4),
                                                   "reduction": "weighted_mean"}):
        grad = arrayloss.gradient("mse", np.zeros(4), np.ones(4), **kwargs)
        np.testing.assert_array_equal(grad, np.zeros(4))
    assert arrayloss.gradient("mse", np.zeros(0), np.zeros(0)).shape == (0,)


def test_masked_nan_does_not_leak_into_the_gradient():
    y_pred = np.array([1.0, np.nan, 2.0])
    grad = arrayloss.gradient("mse", np.zeros(3), y_pred, mask=np.array([1, 0, 1]))
    np.testing.assert_array_equal(grad, [1.0, 0.0, 2.0])
    assert np.isnan(arrayloss.gradient("mse", np.zeros(3), y_pred)[1])  # NaN in, NaN out


def test_value_and_gradient_share_one_pass():
    options = {"sample_weight": W, "mask": M, "reduction": "weighted_mean"}
    value, grad = arrayloss.value_and_gradient("log_cosh", Y3, P3, **options)
    assert value == arrayloss.log_cosh(Y3, P3, **options)
    np.testing.assert_array_equal(grad, arrayloss.gradient("log_cosh", Y3, P3, **options))


def test_a_loss_function_with_bound_options_is_accepted():
    bound = arrayloss.get("quantile", q=0.8)
    np.testing.assert_allclose(arrayloss.gradient(bound, np.zeros(2), np.array([1.0, -1.0]),
                                                  reduction="sum"), [0.2, -0.8])
    np.testing.assert_allclose(arrayloss.gradient(arrayloss.quantile, np.zeros(1), np.ones(1),
                                                  q=0.3), [0.7])


# -- kinks: the subgradient jax.grad gives for the loss itself ------------------------------
@pytest.mark.parametrize(("loss", "y_true", "y_pred", "options", "expected"), [
    ("mae", [1.0, 2.0], [1.0, 2.0], {}, [1.0, 1.0]),
    ("quantile", [1.0], [1.0], {"q": 0.7}, [-0.7]),
    ("mape", [2.0], [2.0], {}, [-50.0]),
    ("huber", [0.0, 0.0], [1.0, -1.0], {}, [1.0, -1.0]),
    ("hinge", [1.0, -1.0], [1.0, -1.0], {}, [0.0, 0.0]),
    ("squared_hinge", [1.0], [1.0], {}, [0.0]),
    # The clamp of negative values acts below 0 only: at exactly 0 the one-sided slope
    # -2·log(1 + y)/(1 + 0), where Keras's clip gives 0.
    ("msle", [1.0], [0.0], {}, [-2.0 * math.log(2.0)]),
    ("tukey", [0.0], [2.0], {"c": 2.0}, [0.0]),
    ("contrastive", [1.0, 0.0], [1.0, 0.0], {}, [0.0, 0.0]),
])
def test_kinks_take_jaxs_subgradient(loss, y_true, y_pred, options, expected):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    got = arrayloss.gradient(loss, y_true, y_pred, reduction="sum", **options)
    np.testing.assert_allclose(got, expected)
    jax_grad = jax_grad_and_hessian(loss, y_true, y_pred, reduction="sum", **options)[0]
    np.testing.assert_allclose(got, jax_grad)


def test_categorical_hinge_tie_is_shared_like_jax():
    y, p = np.array([[1.0, 0.0, 0.0]]), np.array([[0.5, 0.8, 0.8]])
    got = arrayloss.gradient("categorical_hinge", y, p, reduction="sum")
    np.testing.assert_allclose(got, jax_grad_and_hessian("categorical_hinge", y, p,
                                                         reduction="sum")[0])
    np.testing.assert_allclose(got, [[-1.0, 0.5, 0.5]])


def test_zero_hessian_losses_return_zero():
    for loss in ("mae", "quantile", "hinge", "mape"):
        hess = arrayloss.hessian_diagonal(loss, np.ones(3), np.array([0.0, 1.0, 3.0]))
        np.testing.assert_array_equal(hess, np.zeros(3))


# -- numerics (SPEC section 6) --------------------------------------------------------------
@pytest.mark.parametrize(("loss", "y_true", "options"), [
    ("bce", np.array([[1.0, 0.0, 1.0, 0.0]]), {"from_logits": True}),
    ("binary_focal_crossentropy", np.array([[1.0, 0.0, 1.0, 0.0]]), {"from_logits": True}),
    ("cce", np.array([[1.0, 0.0, 0.0, 0.0]]), {"from_logits": True}),
    ("categorical_focal_crossentropy", np.array([[0.0, 1.0, 0.0, 0.0]]), {"from_logits": True}),
    ("log_cosh", np.zeros((1, 4)), {}),
])
def test_logits_of_1e4_in_float32_are_exact(loss, y_true, options):
    logits = np.array([[1e4, -1e4, -1e4, 1e4]])
    got = arrayloss.gradient(loss, y_true.astype(np.float32), logits.astype(np.float32),
                             reduction="sum", **options)
    assert got.dtype == np.float32 and np.all(np.isfinite(got))
    expected = torch_grad(loss, y_true, logits, reduction="sum", **options)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    hess = arrayloss.hessian_diagonal(loss, y_true.astype(np.float32),
                                      logits.astype(np.float32), reduction="sum", **options)
    assert np.all(np.isfinite(hess))


@pytest.mark.parametrize(("loss", "y_true", "y_pred", "options"), [
    ("bce", [1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0], {}),
    ("kld", [[1.0, 0.0]], [[0.0, 1.0]], {}),
    ("cosine_similarity", [[0.0, 0.0]], [[1.0, 2.0]], {}),
    ("cosine_similarity", [[1.0, 2.0]], [[0.0, 0.0]], {}),
    ("msle", [1.0, 2.0], [-1.0, -3.0], {}),
    ("cce", [[1.0, 0.0]], [[0.0, 1.0]], {}),
])
def test_no_nan_from_an_unused_branch(loss, y_true, y_pred, options):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    got = arrayloss.gradient(loss, y_true, y_pred, **options)
    hess = arrayloss.hessian_diagonal(loss, y_true, y_pred, **options)
    assert np.all(np.isfinite(got)) and np.all(np.isfinite(hess))
    np.testing.assert_allclose(got, torch_grad(loss, y_true, y_pred, **options), rtol=1e-9)


# -- namespace, device, dtype (SPEC section 3) ----------------------------------------------
def test_result_library_device_and_dtype():
    device = array_api_strict.Device("device1")
    y = array_api_strict.asarray([0.0, 1.0], device=device)
    p = array_api_strict.asarray([1.0, 1.0], device=device, dtype=array_api_strict.float32)
    grad = arrayloss.gradient("mse", y, p)
    assert grad.device == device and grad.dtype == array_api_strict.float32
    half = torch.tensor([1.0, 3.0], dtype=torch.float16)
    assert arrayloss.gradient("mse", [0.0, 0.0], half).dtype == torch.float32
    meta = arrayloss.gradient("mse", torch.zeros(3, device="meta"),
                              torch.zeros(3, device="meta"))
    assert meta.device.type == "meta" and meta.shape == (3,)
    assert isinstance(arrayloss.gradient("mse", [0.0], [1.0]), np.ndarray)


def test_jax_jit_and_dask_stay_traceable_and_lazy():
    import dask.array as da

    from arrayloss.conformance.backends import forbid_dask_compute

    jitted = jax.jit(lambda y, p: arrayloss.value_and_gradient("poisson", y, p))
    value, grad = jitted(jnp.asarray([1.0, 2.0]), jnp.asarray([0.5, 3.0]))
    np.testing.assert_allclose(grad, (1 - np.array([1.0, 2.0]) / (np.array([0.5, 3.0]) + 1e-7))
                               / 2)
    with forbid_dask_compute():
        lazy = arrayloss.gradient("huber", da.zeros((4, 2), chunks=2),
                                  da.ones((4, 2), chunks=2), mask=np.array([1, 0, 1, 1]))
    np.testing.assert_allclose(lazy.compute(), [[1 / 6] * 2, [0.0] * 2, [1 / 6] * 2,
                                                [1 / 6] * 2])


# -- errors (SPEC section 9) ----------------------------------------------------------------
def test_errors_restate_what_was_passed():
    with pytest.raises(TypeError, match="unknown option.*deltaa; its options are: delta"):
        arrayloss.gradient("huber", [0.0], [1.0], deltaa=2.0)
    with pytest.raises(ValueError, match="reduction must be one of.*got 'avg'"):
        arrayloss.gradient("mse", [0.0], [1.0], reduction="avg")
    with pytest.raises(TypeError, match="not an arrayloss loss"):
        arrayloss.gradient(lambda y, p: p, [0.0], [1.0])
    with pytest.raises(ValueError, match="unknown loss 'msee'"):
        arrayloss.gradient("msee", [0.0], [1.0])
    with pytest.raises(ValueError, match="must have the same shape"):
        arrayloss.gradient("mse", np.zeros(3), np.zeros((3, 2)))
    with pytest.raises(TypeError, match="takes 3 positional array"):
        arrayloss.gradient("gaussian_nll", [0.0], [1.0])
    with pytest.raises(TypeError, match="torch array and y_true is a jax array"):
        arrayloss.gradient("mse", jnp.zeros(2), torch.zeros(2))
    with pytest.raises(ValueError, match="q must be in"):
        arrayloss.hessian_diagonal("quantile", [0.0], [1.0], q=1.5)
