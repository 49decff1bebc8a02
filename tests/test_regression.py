"""Regression family: the numerics SPEC section 6 asks for, properties, and penalties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import arrayloss
from arrayloss.conformance import available_backends
from arrayloss.conformance.gradients import jax_value_and_grad, torch_value_and_grad

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
jnp = jax.numpy
jax.config.update("jax_enable_x64", True)

# The deviances are defined for positive means (NaN elsewhere): their own property below.
DEVIANCES = ["tweedie_deviance", "poisson_deviance", "gamma_deviance"]
TWO_INPUT = [n for n in arrayloss.available("regression")
             if n != "gaussian_nll" and n not in DEVIANCES]
# A negative log-likelihood is not 0 at a perfect prediction (log c + log Z(α) remains).
NON_NEGATIVE = [n for n in TWO_INPUT
                if n not in ("cosine_similarity", "poisson", "poisson_nll", "general_robust_nll")]


_grad_torch, _grad_jax = torch_value_and_grad, jax_value_and_grad


def test_log_cosh_is_finite_and_exact_at_huge_errors_in_float32():
    value, grad = _grad_torch(arrayloss.log_cosh, [0.0, 0.0], [1e4, -1e4])
    assert value == pytest.approx(1e4 - math.log(2), rel=1e-6)
    assert np.allclose(grad, [0.5, -0.5])


@pytest.mark.parametrize("gradient", [_grad_torch, _grad_jax])
def test_huber_knot_has_one_gradient_on_every_autodiff_backend(gradient):
    # At |e| = delta both branches have slope delta·sign(e): the mean gives delta/n each.
    _, grad = gradient(arrayloss.huber, [0.0, 0.0], [2.0, -2.0], delta=2.0)
    assert np.allclose(grad, [1.0, -1.0])


@pytest.mark.parametrize("gradient", [_grad_torch, _grad_jax])
def test_kinks_have_the_same_subgradient_on_every_backend(gradient):
    _, mae = gradient(arrayloss.mae, [1.0], [1.0])
    _, pinball = gradient(arrayloss.quantile, [1.0], [1.0], q=0.2)
    assert mae.tolist() == [1.0] and np.allclose(pinball, [-0.2])


@pytest.mark.parametrize("gradient", [_grad_torch, _grad_jax])
def test_cosine_of_a_zero_vector_is_zero_with_a_finite_gradient(gradient):
    value, grad = gradient(arrayloss.cosine_similarity, [[0.0, 0.0]], [[0.0, 0.0]])
    assert value == 0.0 and np.all(np.isfinite(grad))
    value, grad = gradient(arrayloss.cosine_similarity, [[1.0, 2.0]], [[0.0, 0.0]])
    assert value == 0.0 and np.all(np.isfinite(grad))


def test_gaussian_nll_variance_floor_passes_the_gradient_through_as_pytorch():
    """Below eps the value is that of var = eps and the gradient is the formula's derivative
    there, passed straight to var (PyTorch clamps outside autograd)."""
    y, mean = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    values = torch.tensor([1e-9, 1e-6, 2.0], dtype=torch.float64)
    var = values.clone().requires_grad_(True)
    native = values.clone().requires_grad_(True)
    out = arrayloss.gaussian_nll(y, mean, var, reduction="sum")
    expected = torch.nn.functional.gaussian_nll_loss(mean, y, native, reduction="sum")
    out.backward()
    expected.backward()
    assert out.item() == pytest.approx(expected.item(), rel=1e-12)
    assert torch.allclose(var.grad, native.grad, rtol=1e-12)
    assert var.grad[0].item() == pytest.approx(0.5 * (1 / 1e-6 - 1 / 1e-12))  # at v = eps
    jax_grad = jax.grad(lambda v: arrayloss.gaussian_nll(
        jnp.zeros(3), jnp.ones(3), v, reduction="sum"))(jnp.asarray(values.numpy()))
    np.testing.assert_allclose(np.asarray(jax_grad), native.grad.numpy(), rtol=1e-12)


def test_gaussian_nll_accepts_pytorch_variance_shapes():
    y, p = np.zeros((3, 2)), np.ones((3, 2))
    full = arrayloss.gaussian_nll(y, p, np.full((3, 2), 2.0), reduction="none")
    for var in (np.full(3, 2.0), np.full((3, 1), 2.0), np.asarray(2.0)):
        assert np.allclose(arrayloss.gaussian_nll(y, p, var, reduction="none"), full)
    with pytest.raises(ValueError, match=r"got var.shape=\(2,\)"):
        arrayloss.gaussian_nll(y, p, np.ones(2))


def test_msle_keeps_keras_clamping_of_negative_values():
    # Keras: log(max(x, 1e-7) + 1); the clamp here is at 0 (differs by ~1e-7 in the log).
    out = arrayloss.msle(np.array([-3.0, 1.0]), np.array([-1.0, 1.0]), reduction="none")
    assert np.allclose(out, [0.0, 0.0])
    assert np.isnan(arrayloss.msle(np.array([-3.0]), np.array([0.0]), clip_negative=False))


def test_poisson_full_adds_stirling_only_above_one():
    y, p = np.array([0.0, 1.0, 4.0]), np.zeros(3)
    base = arrayloss.poisson_nll(y, p, reduction="none")
    full = arrayloss.poisson_nll(y, p, full=True, reduction="none")
    stirling = 4 * math.log(4) - 4 + 0.5 * math.log(2 * math.pi * 4)
    assert np.allclose(full - base, [0.0, 0.0, stirling])


# -- properties -----------------------------------------------------------------------------
# No subnormal numbers: XLA on the CPU flushes them to zero, so JAX sees another input
# (test_contract.py's test_norms_are_scaled_before_squaring pins that case).
finite = st.floats(-50, 50, allow_nan=False, allow_subnormal=False, width=64)
pairs = st.integers(1, 6).flatmap(lambda n: st.tuples(
    hnp.arrays(np.float64, (n, 3), elements=finite), hnp.arrays(np.float64, (n, 3),
                                                                elements=finite)))


@settings(max_examples=25, deadline=None)
@given(pairs)
def test_losses_are_non_negative_and_zero_at_a_perfect_prediction(arrays):
    y, p = arrays
    for name in NON_NEGATIVE:
        assert np.all(arrayloss.get(name)(y, p, reduction="none") >= -1e-12), name
        assert np.allclose(arrayloss.get(name)(y, y, reduction="none"), 0.0, atol=1e-9), name


@settings(max_examples=10, deadline=None)
@given(pairs)
def test_every_backend_gives_the_numpy_value(arrays):
    y, p = arrays
    for backend in available_backends():
        for name in TWO_INPUT:
            if name.startswith("poisson"):
                continue  # needs positive rates: covered by the conformance matrix
            expected = arrayloss.get(name)(y, p, reduction="none")
            result = backend.call(arrayloss.get(name), backend.asarray(y), backend.asarray(p),
                                  reduction="none")
            assert np.allclose(backend.to_numpy(result), expected, rtol=1e-10, atol=1e-10), (
                name, backend.name)


positive = st.floats(0.05, 50, allow_nan=False, width=64)
positive_pairs = st.integers(1, 6).flatmap(lambda n: st.tuples(
    hnp.arrays(np.float64, (n, 3), elements=positive),
    hnp.arrays(np.float64, (n, 3), elements=positive)))


@settings(max_examples=15, deadline=None)
@given(positive_pairs, st.sampled_from([-1.0, 0.0, 1.0, 1.2, 1.5, 2.0, 3.0]))
def test_deviances_are_non_negative_zero_at_the_mean_and_equal_on_every_backend(arrays, power):
    y, mu = arrays
    deviance = arrayloss.tweedie_deviance(y, mu, power=power, reduction="none")
    assert np.all(deviance >= -1e-12)
    np.testing.assert_allclose(arrayloss.tweedie_deviance(y, y, power=power,
                                                          reduction="none"), 0.0, atol=1e-12)
    if power in (1.0, 2.0):
        named = arrayloss.poisson_deviance if power == 1 else arrayloss.gamma_deviance
        np.testing.assert_allclose(named(y, mu, reduction="none"), deviance, rtol=1e-12)
    for backend in available_backends():
        result = backend.call(arrayloss.tweedie_deviance, backend.asarray(y),
                              backend.asarray(mu), power=power, reduction="none")
        np.testing.assert_allclose(backend.to_numpy(result), deviance, rtol=1e-10,
                                   atol=1e-12, err_msg=backend.name)


def test_deviance_near_the_mean_keeps_float32s_digits():
    """Where the direct form's three terms cancel (y/ŷ = 1 + u, small u), the series keeps
    the value: the float32 result matches the float64 one to float32's precision."""
    u = np.array([1e-4, -3e-4, 1e-3, -0.02, 0.2, 0.3])
    mu = np.array([0.5, 2.0, 1.0, 3.0, 1.5, 0.7])
    y = mu * (1 + u)
    y32, mu32 = y.astype(np.float32), mu.astype(np.float32)
    for power in (1.0, 1.5, 2.0, 3.0):
        # The float64 deviance of the same (float32-rounded) inputs.
        exact = arrayloss.tweedie_deviance(y32.astype(np.float64), mu32.astype(np.float64),
                                           power=power, reduction="none")
        single = arrayloss.tweedie_deviance(y32, mu32, power=power, reduction="none")
        assert single.dtype == np.float32
        np.testing.assert_allclose(single, exact, rtol=2e-6)


# -- penalties ------------------------------------------------------------------------------
def test_penalties_over_a_torch_model_and_a_jax_pytree():
    model = torch.nn.Linear(3, 2, dtype=torch.float64)
    expected = sum(p.abs().sum().item() for p in model.parameters())
    out = arrayloss.l1(model.parameters(), factor=1.0)
    assert out.item() == pytest.approx(expected)
    out.backward()
    assert torch.equal(model.weight.grad, torch.sign(model.weight.detach()))

    params = {"dense": {"w": jnp.ones((2, 2)), "b": jnp.zeros(2)}, "out": [jnp.full(3, -2.0)]}
    assert float(arrayloss.l2(params, factor=0.5)) == pytest.approx(0.5 * (4 + 12))
    grads = jax.grad(lambda t: arrayloss.l1_l2(t, l1=1.0, l2=1.0))(params)
    assert np.allclose(grads["out"][0], -1.0 + 2 * -2.0)
    assert np.allclose(grads["dense"]["b"], 1.0)  # subgradient +1 at 0, as for abs in JAX


def test_penalty_errors():
    with pytest.raises(ValueError, match=r"factor must be in \[0, inf\]; got -1.0"):
        arrayloss.l2(np.ones(2), factor=-1.0)
    with pytest.raises(TypeError, match="weights must be an array or an iterable"):
        arrayloss.l1(3.0)
    with pytest.raises(TypeError, match="weights\\[0\\] is a torch array and weights\\[1\\] is a "
                                        "jax array"):
        arrayloss.l1([torch.ones(2), jnp.ones(2)])
    assert float(arrayloss.l1([])) == 0.0


@pytest.mark.parametrize("backend", available_backends(), ids=lambda b: b.name)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_penalties_on_every_backend(backend, dtype):
    rng = np.random.default_rng(0)
    leaves = [rng.normal(size=(3, 4)), rng.normal(size=5)]
    arrays = [backend.asarray(w, dtype) for w in leaves]
    rounded = [backend.to_numpy(a) for a in arrays]
    l1 = sum(np.abs(w).sum() for w in rounded)
    l2 = sum((w**2).sum() for w in rounded)
    for penalty, options, expected in [
        (arrayloss.l1, {"factor": 0.3}, 0.3 * l1),
        (arrayloss.l2, {"factor": 0.3}, 0.3 * l2),
        (arrayloss.l1_l2, {"l1": 0.2, "l2": 0.5}, 0.2 * l1 + 0.5 * l2),
    ]:
        result = backend.call(lambda *ws, p=penalty, o=options: p(list(ws), **o), *arrays)
        backend.check_result(result, dtype)
        assert backend.to_numpy(result) == pytest.approx(expected, rel=1e-6 if dtype == "float32"
                                                         else 1e-12)
