"""Conformance rows of the regression family and the penalties' references.

The references are plain float64 NumPy, written from the formulas (Keras, PyTorch,
scikit-learn, statsmodels), never calling arrayloss. Per-sample values average the last
axis of 2-D inputs.
"""

from __future__ import annotations

import numpy as np

from .cases import case

SHAPE = (6, 5)


def _pair(rng: np.random.Generator, shape: tuple[int, ...] = SHAPE):
    return rng.normal(size=shape), rng.normal(size=shape)


def _positive_pair(rng: np.random.Generator):
    return rng.poisson(2.0, size=SHAPE).astype(float), rng.uniform(0.2, 3.0, size=SHAPE)


def _last(values: np.ndarray) -> np.ndarray:
    return values.mean(axis=-1) if values.ndim >= 2 else values


def ref_mse(y, p):
    return _last((p - y) ** 2)


def ref_mae(y, p):
    return _last(np.abs(p - y))


def ref_mape(y, p, epsilon=1e-7):
    return _last(100.0 * np.abs(y - p) / np.maximum(np.abs(y), epsilon))


def ref_msle(y, p, clip_negative=True):
    if clip_negative:
        y, p = np.maximum(y, 0.0), np.maximum(p, 0.0)
    return _last((np.log1p(p) - np.log1p(y)) ** 2)


def ref_huber(y, p, delta=1.0):
    e = np.abs(p - y)
    return _last(np.where(e <= delta, 0.5 * e**2, delta * (e - 0.5 * delta)))


def ref_log_cosh(y, p):
    e = p - y
    # log(cosh(e)) = |e| + log1p(exp(-2|e|)) - log 2, exact for any e.
    return _last(np.abs(e) + np.log1p(np.exp(-2 * np.abs(e))) - np.log(2.0))


def ref_quantile(y, p, q=0.5):
    d = y - p
    return _last(np.maximum(q * d, (q - 1) * d))


def ref_tukey(y, p, c=4.685):
    r = (p - y) / c
    return _last(np.where(np.abs(r) <= 1, c**2 / 6 * (1 - (1 - r**2) ** 3), c**2 / 6))


def ref_poisson(y, p, log_input=False, epsilon=1e-7):
    values = np.exp(p) - y * p if log_input else p - y * np.log(p + epsilon)
    return _last(values)


def ref_poisson_nll(y, p, log_input=True, full=False, epsilon=1e-8):
    values = np.exp(p) - y * p if log_input else p - y * np.log(p + epsilon)
    if full:
        with np.errstate(divide="ignore", invalid="ignore"):
            stirling = y * np.log(y) - y + 0.5 * np.log(2 * np.pi * y)
        values = values + np.where(y > 1, stirling, 0.0)
    return _last(values)


def ref_gaussian_nll(y, p, var, full=False, eps=1e-6):
    v = np.maximum(var, eps)
    values = 0.5 * (np.log(v) + (y - p) ** 2 / v)
    return _last(values + (0.5 * np.log(2 * np.pi) if full else 0.0))


def ref_cosine(y, p):
    norms = np.linalg.norm(y, axis=-1) * np.linalg.norm(p, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(norms == 0, 0.0, -np.sum(y * p, axis=-1) / norms)


case("mean_squared_error", _pair, ref_mse)
case("mean_squared_error", lambda rng: (rng.normal(size=8), rng.normal(size=8)), ref_mse,
     label="1d")
case("mean_squared_error", lambda rng: (np.ones(SHAPE), np.ones(SHAPE)), ref_mse,
     label="perfect")
case("mean_absolute_error", _pair, ref_mae, smooth=False)
case("mean_absolute_percentage_error", _pair, ref_mape, smooth=False)
case("mean_absolute_percentage_error", _pair, ref_mape, options={"epsilon": 1e-3},
     smooth=False)
# Count targets include exact zeros, where the clamp has its kink (the one-sided slope is
# taken; finite differences straddle it): the targets' gradient is checked on the
# continuous targets of the clip_negative=False row instead.
case("mean_squared_logarithmic_error", _positive_pair, ref_msle, grad_inputs=(1,))
case("mean_squared_logarithmic_error", _pair, ref_msle, label="negative", smooth=False)
case("mean_squared_logarithmic_error",
     lambda rng: (rng.uniform(-0.5, 2, SHAPE), rng.uniform(-0.5, 2, SHAPE)), ref_msle,
     options={"clip_negative": False})
case("huber", _pair, ref_huber)
case("huber", lambda rng: (rng.normal(size=SHAPE), 3 * rng.normal(size=SHAPE)), ref_huber,
     options={"delta": 2.5})
case("log_cosh", _pair, ref_log_cosh)
case("log_cosh", lambda rng: (np.zeros(SHAPE), rng.choice([-1e4, 1e4, 50.0], SHAPE)),
     ref_log_cosh, label="huge")
case("quantile", _pair, ref_quantile, smooth=False)
case("quantile", _pair, ref_quantile, options={"q": 0.9}, smooth=False)
case("tukey_biweight", lambda rng: (rng.normal(size=SHAPE), 4 * rng.normal(size=SHAPE)),
     ref_tukey, smooth=False)
case("tukey_biweight", _pair, ref_tukey, options={"c": 1.5}, smooth=False)
case("poisson", _positive_pair, ref_poisson)
case("poisson", _pair, ref_poisson, options={"log_input": True})
case("poisson_nll", _pair, ref_poisson_nll)
# The Stirling term of full=True starts at a count of 1 with a jump (as PyTorch's does): no
# derivative with respect to those count targets.
case("poisson_nll", _positive_pair, ref_poisson_nll, options={"full": True}, grad_inputs=(1,))
case("poisson_nll", _positive_pair, ref_poisson_nll,
     options={"log_input": False, "epsilon": 1e-3})
case("gaussian_nll",
     lambda rng: (*_pair(rng), rng.uniform(0.1, 2.0, SHAPE)), ref_gaussian_nll,
     )
case("gaussian_nll",
     lambda rng: (*_pair(rng), rng.uniform(0.1, 2.0, SHAPE)), ref_gaussian_nll,
     options={"full": True, "eps": 0.5}, smooth=False)
case("cosine_similarity", _pair, ref_cosine)
case("cosine_similarity",
     lambda rng: (np.vstack([np.zeros(5), rng.normal(size=(3, 5))]),
                  np.vstack([rng.normal(size=(1, 5)), np.zeros((1, 5)),
                             rng.normal(size=(2, 5))])),
     ref_cosine, label="zero_vector", smooth=False)

# -- edge inputs -----------------------------------------------------------------------------


def _ties(rng: np.random.Generator):
    """Predictions equal to the targets in two columns: the kink of abs and of the pinball
    loss, where torch and JAX must still agree on the gradient."""
    y = rng.normal(size=SHAPE)
    p = y + rng.normal(size=SHAPE)
    p[:, :2] = y[:, :2]
    return y, p


def _zeros(rng: np.random.Generator):
    return np.zeros(SHAPE), np.zeros(SHAPE)


def _knots(rng: np.random.Generator):
    """Errors exactly at ±delta (the Huber knot) and ±c (the Tukey cut-off), and zero."""
    y = rng.normal(size=SHAPE)
    return y, y + rng.choice([-1.0, 1.0, 0.0, 0.5], size=SHAPE)


case("mean_absolute_error", _ties, ref_mae, label="ties", smooth=False)
case("quantile", _ties, ref_quantile, options={"q": 0.3}, label="ties", smooth=False)
case("huber", _knots, ref_huber, label="knot")
case("tukey_biweight", _knots, ref_tukey, options={"c": 1.0}, label="cutoff", smooth=False)
case("log_cosh", _zeros, ref_log_cosh, label="zeros")
case("mean_squared_logarithmic_error", _zeros, ref_msle, label="zeros")
case("mean_absolute_percentage_error",
     lambda rng: (np.where(rng.uniform(size=SHAPE) < 0.3, 0.0, rng.normal(size=SHAPE)),
                  rng.normal(size=SHAPE)), ref_mape, label="zero_targets", smooth=False)
case("poisson", lambda rng: (np.zeros(SHAPE), rng.uniform(0.2, 3.0, size=SHAPE)), ref_poisson,
     label="zero_counts")
case("cosine_similarity", lambda rng: (lambda y: (y, 2.5 * y))(rng.normal(size=SHAPE)),
     ref_cosine, label="parallel")


def ref_tweedie(y, p, power=0.0):
    # scikit-learn's unit deviance, written out (float64; the cases keep y/ŷ away from 1,
    # where its terms cancel).
    if power == 0:
        dev = (y - p) ** 2
    elif power == 1:
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = 2 * (np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / p), 0.0) - y + p)
    elif power == 2:
        dev = 2 * (np.log(p / y) + y / p - 1)
    else:
        positive = np.maximum(y, 0.0) if power < 0 else y
        dev = 2 * (positive ** (2 - power) / ((1 - power) * (2 - power))
                   - y * p ** (1 - power) / (1 - power) + p ** (2 - power) / (2 - power))
    return _last(dev)


def ref_poisson_deviance(y, p):
    return ref_tweedie(y, p, power=1.0)


def ref_gamma_deviance(y, p):
    return ref_tweedie(y, p, power=2.0)


def _counts_and_means(rng: np.random.Generator):
    return rng.poisson(2.0, size=SHAPE).astype(float), rng.uniform(0.2, 3.0, size=SHAPE)


def _positive_and_means(rng: np.random.Generator):
    return rng.uniform(0.1, 4.0, size=SHAPE), rng.uniform(0.2, 3.0, size=SHAPE)


def _near_means(rng: np.random.Generator):
    # y within 1e-3 of ŷ: where the direct form's terms cancel (the series takes over).
    mean = rng.uniform(0.5, 2.0, size=SHAPE)
    return mean * (1 + 1e-3 * rng.uniform(-1, 1, size=SHAPE)), mean


# y/ŷ kept away from 1 by the rows above except "near_mean", whose reference is the series
# itself in float64 (the direct form loses 6 of its 16 digits there, within the tolerance).
case("tweedie_deviance", _pair, ref_tweedie, label="normal (power 0)")
case("tweedie_deviance", lambda rng: (rng.normal(size=SHAPE), rng.uniform(0.2, 3.0, SHAPE)),
     ref_tweedie, options={"power": -1.0}, label="power -1", smooth=False)
case("tweedie_deviance", _positive_and_means, ref_tweedie, options={"power": 1.5})
case("tweedie_deviance", _counts_and_means, ref_tweedie, options={"power": 1.5},
     label="zero counts", grad_inputs=(1,))
case("tweedie_deviance", _positive_and_means, ref_tweedie, options={"power": 3.0})
case("tweedie_deviance", _near_means, ref_tweedie, options={"power": 1.5}, label="near_mean",
     low_precision=False)
case("poisson_deviance", _positive_and_means, ref_poisson_deviance)
case("poisson_deviance", _counts_and_means, ref_poisson_deviance, label="zero counts",
     grad_inputs=(1,))
case("poisson_deviance", _near_means, ref_poisson_deviance, label="near_mean",
     low_precision=False)
case("gamma_deviance", _positive_and_means, ref_gamma_deviance)
case("gamma_deviance", _near_means, ref_gamma_deviance, label="near_mean", low_precision=False)


def ref_smooth_l1(y, p, beta=1.0):
    e = np.abs(p - y)
    if beta == 0:
        return _last(e)
    return _last(np.where(e <= beta, 0.5 * e**2 / beta, e - 0.5 * beta))


case("smooth_l1", _pair, ref_smooth_l1)
case("smooth_l1", lambda rng: (rng.normal(size=SHAPE), 3 * rng.normal(size=SHAPE)),
     ref_smooth_l1, options={"beta": 0.4})
case("smooth_l1", _pair, ref_smooth_l1, options={"beta": 0.0}, label="beta 0")
