"""Peer rows of the regression family: the same loss in Keras 3, PyTorch, optax,
scikit-learn and statsmodels, on the same float64 inputs.

Each ``compute`` imports its library inside the function (Keras with ``KERAS_BACKEND=jax``
unless the caller chose a backend) and calls it in the library's own argument order.
Keras's loss functions return per-sample values, so their rows compare ``reduction="none"``;
scikit-learn averages over every value, as arrayloss's ``"mean"`` does for equal-length rows.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .peers import keras_module, peer

SHAPE = (6, 5)
# Fixed per-sample weights for the weighted rows (scikit-learn's sample_weight divides by
# the sum of the weights: arrayloss's "weighted_mean").
WEIGHTS = np.array([0.5, 1.0, 2.0, 0.0, 1.5, 0.25])


def _pair(rng: np.random.Generator):
    return rng.normal(size=SHAPE), 1.5 * rng.normal(size=SHAPE)


def _positive(rng: np.random.Generator):
    return rng.poisson(2.0, size=SHAPE).astype(float), rng.uniform(0.2, 3.0, size=SHAPE)


def _away_from_zero(rng: np.random.Generator):
    y = rng.uniform(0.5, 2.0, size=SHAPE) * rng.choice([-1.0, 1.0], size=SHAPE)
    return y, y + rng.normal(size=SHAPE)


def _with_variance(rng: np.random.Generator):
    return (*_pair(rng), rng.uniform(0.1, 2.0, size=SHAPE))


def _counts_and_logs(rng: np.random.Generator):
    return rng.poisson(3.0, size=SHAPE).astype(float), rng.normal(size=SHAPE)


_keras = keras_module



def _torch_f() -> Any:
    import torch.nn.functional as F

    return F


def _t(x: np.ndarray) -> Any:
    import torch

    return torch.asarray(x, dtype=torch.float64)


def _sklearn_metrics() -> Any:
    import sklearn.metrics

    return sklearn.metrics


# -- scikit-learn ----------------------------------------------------------------------------
peer("mean_squared_error", "sklearn", "sklearn.metrics.mean_squared_error", _pair,
     lambda y, p: _sklearn_metrics().mean_squared_error(y, p))
peer("mean_squared_error", "sklearn", "sklearn.metrics.mean_squared_error(sample_weight)",
     _pair, lambda y, p: _sklearn_metrics().mean_squared_error(y, p, sample_weight=WEIGHTS),
     options={"sample_weight": WEIGHTS}, reduction="weighted_mean")
peer("mean_absolute_error", "sklearn", "sklearn.metrics.mean_absolute_error", _pair,
     lambda y, p: _sklearn_metrics().mean_absolute_error(y, p))
peer("quantile", "sklearn", "sklearn.metrics.mean_pinball_loss", _pair,
     lambda y, p: _sklearn_metrics().mean_pinball_loss(y, p, alpha=0.8), options={"q": 0.8})
peer("quantile", "sklearn", "sklearn.metrics.mean_pinball_loss(sample_weight)", _pair,
     lambda y, p: _sklearn_metrics().mean_pinball_loss(y, p, alpha=0.3, sample_weight=WEIGHTS),
     options={"q": 0.3, "sample_weight": WEIGHTS}, reduction="weighted_mean")
peer("mean_squared_logarithmic_error", "sklearn", "sklearn.metrics.mean_squared_log_error",
     _positive, lambda y, p: _sklearn_metrics().mean_squared_log_error(y, p))
peer("mean_absolute_percentage_error", "sklearn",
     "sklearn.metrics.mean_absolute_percentage_error", _away_from_zero,
     lambda y, p: _sklearn_metrics().mean_absolute_percentage_error(y, p),
     difference="scikit-learn returns a fraction, arrayloss (as Keras) a percentage",
     recipe=lambda v: 100.0 * v)

# -- PyTorch ---------------------------------------------------------------------------------
peer("mean_squared_error", "torch", "torch.nn.functional.mse_loss", _pair,
     lambda y, p: _torch_f().mse_loss(_t(p), _t(y)))
peer("mean_absolute_error", "torch", "torch.nn.functional.l1_loss", _pair,
     lambda y, p: _torch_f().l1_loss(_t(p), _t(y)))
peer("huber", "torch", "torch.nn.functional.huber_loss", _pair,
     lambda y, p: _torch_f().huber_loss(_t(p), _t(y), delta=1.7), options={"delta": 1.7})
peer("huber", "torch", "torch.nn.functional.smooth_l1_loss", _pair,
     lambda y, p: _torch_f().smooth_l1_loss(_t(p), _t(y), beta=0.5), options={"delta": 0.5},
     difference="smooth_l1_loss(beta) is huber(delta=beta) divided by beta",
     recipe=lambda v: 0.5 * v)
peer("poisson_nll", "torch", "torch.nn.functional.poisson_nll_loss", _counts_and_logs,
     lambda y, p: _torch_f().poisson_nll_loss(_t(p), _t(y)))
peer("poisson_nll", "torch", "torch.nn.functional.poisson_nll_loss(full=True)",
     _counts_and_logs, lambda y, p: _torch_f().poisson_nll_loss(_t(p), _t(y), full=True),
     options={"full": True})
peer("poisson_nll", "torch", "torch.nn.functional.poisson_nll_loss(log_input=False)",
     _positive, lambda y, p: _torch_f().poisson_nll_loss(_t(p), _t(y), log_input=False),
     options={"log_input": False})
peer("poisson", "torch", "torch.nn.functional.poisson_nll_loss(log_input=False, eps=1e-7)",
     _positive,
     lambda y, p: _torch_f().poisson_nll_loss(_t(p), _t(y), log_input=False, eps=1e-7))
peer("gaussian_nll", "torch", "torch.nn.functional.gaussian_nll_loss", _with_variance,
     lambda y, p, v: _torch_f().gaussian_nll_loss(_t(p), _t(y), _t(v)))
peer("gaussian_nll", "torch", "torch.nn.functional.gaussian_nll_loss(full=True)",
     _with_variance,
     lambda y, p, v: _torch_f().gaussian_nll_loss(_t(p), _t(y), _t(v), full=True, eps=0.5),
     options={"full": True, "eps": 0.5})
peer("cosine_similarity", "torch", "torch.nn.functional.cosine_similarity", _pair,
     lambda y, p: _torch_f().cosine_similarity(_t(y), _t(p), dim=-1), reduction="none",
     difference="PyTorch returns +cos; arrayloss (as Keras) returns -cos, a loss to minimize",
     recipe=lambda v: -v)

# -- Keras 3 (per-sample values) -------------------------------------------------------------
for _name, _keras_name, _make in (
    ("mean_squared_error", "mean_squared_error", _pair),
    ("mean_absolute_error", "mean_absolute_error", _pair),
    ("mean_absolute_percentage_error", "mean_absolute_percentage_error", _away_from_zero),
    ("mean_squared_logarithmic_error", "mean_squared_logarithmic_error", _pair),
    ("log_cosh", "log_cosh", _pair),
    ("poisson", "poisson", _positive),
    ("cosine_similarity", "cosine_similarity", _pair),
):
    peer(_name, "keras", f"keras.losses.{_keras_name}", _make,
         lambda y, p, _k=_keras_name: getattr(_keras().losses, _k)(y, p),
         reduction="none", rtol=1e-5)
peer("huber", "keras", "keras.losses.huber", _pair,
     lambda y, p: _keras().losses.huber(y, p, delta=0.7), options={"delta": 0.7},
     reduction="none", rtol=1e-5)

# -- optax (element-wise values; compared through their mean) --------------------------------
peer("huber", "optax", "optax.huber_loss", _pair,
     lambda y, p: np.mean(__import__("optax").huber_loss(p, y, delta=1.3)),
     options={"delta": 1.3})
peer("log_cosh", "optax", "optax.log_cosh", _pair,
     lambda y, p: np.mean(__import__("optax").log_cosh(p, y)))
peer("cosine_similarity", "optax", "optax.cosine_similarity", _pair,
     lambda y, p: __import__("optax").cosine_similarity(p, y), reduction="none",
     difference="optax returns +cos; arrayloss (as Keras) returns -cos, a loss to minimize",
     recipe=lambda v: -v)

# -- statsmodels -----------------------------------------------------------------------------
peer("tukey_biweight", "statsmodels", "statsmodels.robust.norms.TukeyBiweight.rho",
     lambda rng: (rng.normal(size=SHAPE), 4.0 * rng.normal(size=SHAPE)),
     lambda y, p: np.mean(__import__("statsmodels.robust.norms", fromlist=["norms"])
                          .TukeyBiweight(c=3.0).rho(p - y)),
     options={"c": 3.0})

# -- SciPy: scipy.optimize.least_squares's robust losses ---------------------------------------
# least_squares's `cost` at its starting point is ½·Σ f_scale²·ρ((f/f_scale)²) over the
# residuals f; residuals that do not depend on x (zero Jacobian) stop it there at once.
# arrayloss's "sum" over every element (axis=()) is that cost.


def _least_squares_cost(y: np.ndarray, p: np.ndarray, loss: str, f_scale: float) -> float:
    from scipy.optimize import least_squares  # type: ignore[import-untyped]

    residuals = (p - y).ravel()
    return least_squares(lambda x: residuals + 0.0 * x[0], x0=[0.0], loss=loss,
                         f_scale=f_scale).cost


peer("soft_l1", "scipy", "scipy.optimize.least_squares(loss='soft_l1').cost", _pair,
     lambda y, p: _least_squares_cost(y, p, "soft_l1", 1.7), options={"scale": 1.7, "axis": ()},
     reduction="sum")
peer("arctan", "scipy", "scipy.optimize.least_squares(loss='arctan').cost", _pair,
     lambda y, p: _least_squares_cost(y, p, "arctan", 0.8), options={"scale": 0.8, "axis": ()},
     reduction="sum")
peer("cauchy", "scipy", "scipy.optimize.least_squares(loss='cauchy').cost", _pair,
     lambda y, p: _least_squares_cost(y, p, "cauchy", 3.0),
     options={"scale": 3.0 / np.sqrt(2.0), "axis": ()}, reduction="sum",
     difference="SciPy's cauchy with f_scale=s is ½s²·log(1 + (e/s)²) per residual; "
                "arrayloss's (kornia's, Barron's) cauchy(scale=c) is log(1 + ½(e/c)²): "
                "with c = s/√2 the two differ by the factor ½s²",
     recipe=lambda v: 2.0 * v / 9.0)


def _deviance_pair(rng: np.random.Generator):
    # 1-D: scikit-learn's deviances take one output only.
    return rng.uniform(0.1, 4.0, size=SHAPE[0]), rng.uniform(0.2, 3.0, size=SHAPE[0])


for _power in (0.0, -1.0, 1.0, 1.5, 2.0, 3.0):
    peer("tweedie_deviance", "sklearn", f"sklearn.metrics.mean_tweedie_deviance(power={_power})",
         _deviance_pair, functools.partial(
             lambda y, p, power: _sklearn_metrics().mean_tweedie_deviance(y, p, power=power),
             power=_power), options={"power": _power})
peer("poisson_deviance", "sklearn", "sklearn.metrics.mean_poisson_deviance", _deviance_pair,
     lambda y, p: _sklearn_metrics().mean_poisson_deviance(y, p))
peer("gamma_deviance", "sklearn", "sklearn.metrics.mean_gamma_deviance", _deviance_pair,
     lambda y, p: _sklearn_metrics().mean_gamma_deviance(y, p))
peer("gamma_deviance", "sklearn", "sklearn.metrics.mean_gamma_deviance(sample_weight)",
     _deviance_pair, lambda y, p: _sklearn_metrics().mean_gamma_deviance(
         y, p, sample_weight=WEIGHTS),
     options={"sample_weight": WEIGHTS}, reduction="weighted_mean")
peer("smooth_l1", "torch", "torch.nn.functional.smooth_l1_loss", _pair,
     lambda y, p: _torch_f().smooth_l1_loss(_t(p), _t(y), beta=0.5), options={"beta": 0.5})
peer("smooth_l1", "torch", "torch.nn.functional.smooth_l1_loss(reduction='none')", _pair,
     lambda y, p: _torch_f().smooth_l1_loss(_t(p), _t(y), reduction="none"),
     options={"axis": ()}, reduction="none")
