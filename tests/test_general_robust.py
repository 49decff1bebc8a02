"""Barron's general and adaptive robust loss and the named robust losses: array options,
tracing, the partition function, the torch modules and bad input (the values on every
backend are the conformance rows of ``cases_general_robust.py``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import arrayloss
from arrayloss.losses.general_robust import log_partition

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
jnp = jax.numpy
jax.config.update("jax_enable_x64", True)

RNG = np.random.default_rng(7)
Y, P = RNG.normal(size=(5, 3)), 3.0 * RNG.normal(size=(5, 3))
ALPHAS = [-math.inf, -2.0, 0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize(("name", "alpha"), [("charbonnier", 1.0), ("cauchy", 0.0),
                                             ("geman_mcclure", -2.0), ("welsch", -math.inf)])
def test_named_losses_are_the_general_loss(name, alpha):
    for scale in (1.0, 0.4):
        np.testing.assert_allclose(
            arrayloss.get(name)(Y, P, scale=scale, reduction="none"),
            arrayloss.general_robust(Y, P, alpha=alpha, scale=scale, reduction="none"),
            rtol=1e-14)


def test_soft_l1_is_scaled_charbonnier():
    np.testing.assert_allclose(arrayloss.soft_l1(Y, P, scale=2.0),
                               4.0 * arrayloss.charbonnier(Y, P, scale=2.0), rtol=1e-14)


def test_array_options_are_per_column_numbers():
    alpha, scale = np.array([-2.0, 0.5, 2.0]), np.array([0.5, 1.0, 2.0])
    for name in ("general_robust", "general_robust_nll"):
        loss = arrayloss.get(name)
        both = loss(Y, P, alpha=np.abs(alpha) if name.endswith("nll") else alpha,
                    scale=scale, axis=(), reduction="none")
        for j in range(3):
            a = abs(alpha[j]) if name.endswith("nll") else alpha[j]
            column = loss(Y[:, j], P[:, j], alpha=float(a), scale=float(scale[j]),
                          reduction="none")
            np.testing.assert_allclose(both[:, j], column, rtol=1e-13)


def test_alpha_and_scale_gradients_under_jit_match_finite_differences():
    y, p = jnp.asarray(Y), jnp.asarray(P)
    for name in ("general_robust", "general_robust_nll"):
        loss = arrayloss.get(name)
        for a0 in (1e-6, 0.5, 1.0, 1.99, 3.0):
            def f(a, c, loss=loss):
                return loss(y, p, alpha=a, scale=c)
            da, dc = jax.jit(jax.grad(f, argnums=(0, 1)))(a0, 1.3)
            h = 1e-6
            np.testing.assert_allclose(da, (f(a0 + h, 1.3) - f(a0 - h, 1.3)) / (2 * h),
                                       rtol=1e-6)
            np.testing.assert_allclose(dc, (f(a0, 1.3 + h) - f(a0, 1.3 - h)) / (2 * h),
                                       rtol=1e-6)


@pytest.mark.parametrize("alpha", ALPHAS + [math.inf])
def test_no_nan_gradient_at_the_special_values(alpha):
    x = np.array([0.0, 1e-3, 1.0, 4.0])
    for name in ("general_robust", "general_robust_nll"):
        if name.endswith("nll") and alpha < 0:
            continue
        loss = arrayloss.get(name)
        grads = jax.grad(lambda p, a, c, loss=loss: loss(jnp.zeros(4), p, alpha=a, scale=c),
                         argnums=(0, 1, 2))(jnp.asarray(x), jnp.asarray(alpha), 1.0)
        assert all(np.isfinite(np.asarray(g)).all() for g in grads), (name, grads)


def test_partition_function():
    z = np.exp(np.asarray(log_partition(np, np.array([0.0, 1.0, 2.0, math.inf, -1.0]))))
    from scipy.special import k1

    np.testing.assert_allclose(z[:3], [math.pi * math.sqrt(2), 2 * math.e * k1(1.0),
                                       math.sqrt(2 * math.pi)], rtol=1e-14)
    assert 2.0 < z[3] < z[2] and np.isnan(z[4])
    # The density integrates to 1 at any scale: the NLL is a proper likelihood.
    x = np.linspace(-60.0, 60.0, 240001)
    for alpha, scale in ((0.5, 0.7), (1.0, 2.0), (4.0, 1.0)):
        nll = arrayloss.general_robust_nll(np.zeros_like(x), x, alpha=alpha, scale=scale,
                                           reduction="none")
        assert abs(np.trapezoid(np.exp(-nll), x) - 1.0) < 1e-3 * (alpha < 1) + 1e-9


def test_float32_next_to_two_and_at_huge_errors():
    import array_api_strict as xp

    y = xp.zeros(3, dtype=xp.float32)
    p = xp.asarray([1e-3, 1.0, 1e18], dtype=xp.float32)
    for alpha in (2.0 - 1e-6, 2.0 + 1e-6):
        value = arrayloss.general_robust(y, p, alpha=alpha, reduction="none")
        np.testing.assert_allclose(np.asarray(value), [5e-7, 0.5, 5e35], rtol=1e-4)
    for name, limit in (("cauchy", math.log1p(0.5e36)), ("geman_mcclure", 2.0),
                        ("welsch", 1.0)):
        assert np.isclose(float(arrayloss.get(name)(y, p, reduction="none")[2]), limit)


def test_torch_module_learns_alpha_and_scale():
    import arrayloss.torch as at

    alpha = torch.nn.Parameter(torch.tensor(1.0, dtype=torch.float64))
    scale = torch.nn.Parameter(torch.tensor(1.0, dtype=torch.float64))
    criterion = at.GeneralRobustNLLLoss(alpha=alpha, scale=scale)
    assert {id(q) for q in criterion.parameters()} == {id(alpha), id(scale)}
    target = torch.zeros(2000, dtype=torch.float64)
    noise = torch.tensor(np.random.default_rng(0).standard_cauchy(2000))
    optimizer = torch.optim.Adam(criterion.parameters(), lr=0.05)
    for _ in range(150):
        optimizer.zero_grad()
        criterion(noise, target).backward()
        optimizer.step()
        with torch.no_grad():
            alpha.clamp_(0.0, 3.0)
    assert float(alpha.detach()) < 0.5  # Cauchy noise: α moves towards 0, the Cauchy member


@pytest.mark.parametrize(("name", "options", "error", "message"), [
    ("general_robust", {"scale": 0.0}, ValueError, "scale must be in (0.0, inf]; got 0.0"),
    ("general_robust", {"alpha": math.nan}, ValueError, "alpha must be in"),
    ("general_robust", {"alpha": "1"}, TypeError, "alpha must be a real number or an array"),
    ("general_robust", {"alpha": True}, TypeError, "alpha must be a real number"),
    ("general_robust_nll", {"alpha": -1.0}, ValueError,
     "alpha must be in [0.0, inf]; got -1.0"),
    ("general_robust", {"alpha": np.ones(4)}, ValueError,
     "alpha must broadcast against y_pred of shape (5, 3) without changing it; got an "
     "array of shape (4,)"),
    ("cauchy", {"scale": -1.0}, ValueError, "scale must be in (0, inf]; got -1.0"),
    ("soft_l1", {"alpha": 1.0}, TypeError, "unknown option(s) alpha"),
])
def test_bad_options(name, options, error, message):
    with pytest.raises(error) as caught:
        arrayloss.get(name)(Y, P, **options)
    assert message in str(caught.value)


def test_nll_gives_nan_for_a_negative_array_alpha():
    values = arrayloss.general_robust_nll(Y, P, alpha=np.array([-1.0, 0.0, 1.0]), axis=(),
                                          reduction="none")
    assert np.isnan(values[:, 0]).all() and np.isfinite(values[:, 1:]).all()
