"""arrayloss: machine-learning losses written once against the Python array API standard.

Every loss takes its arrays from any array-API library (NumPy, PyTorch, JAX, Dask, CuPy,
array-api-strict) and returns its result in that library, on that device, in the
computation dtype. See ``docs/`` for the shared rules and each family's conventions.
"""

from ._define import PerSample, define_loss
from ._penalties import l1, l1_l2, l2
from ._registry import available, get
from ._regression import (
    cosine_similarity,
    gaussian_nll,
    huber,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    poisson_nll,
    quantile,
    tukey_biweight,
)

# Keras's short names, bound to the same functions.
mse = mean_squared_error
mae = mean_absolute_error
mape = mean_absolute_percentage_error
msle = mean_squared_logarithmic_error
huber_loss = huber
logcosh = log_cosh
pinball = pinball_loss = quantile
tukey = tukey_biweight
cosine_proximity = cosine_similarity
elastic_net = l1_l2

__version__ = "0.1.0"

__all__ = [
    "PerSample",
    "available",
    "cosine_proximity",
    "cosine_similarity",
    "define_loss",
    "elastic_net",
    "gaussian_nll",
    "get",
    "huber",
    "huber_loss",
    "l1",
    "l1_l2",
    "l2",
    "log_cosh",
    "logcosh",
    "mae",
    "mape",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "mse",
    "msle",
    "pinball",
    "pinball_loss",
    "poisson",
    "poisson_nll",
    "quantile",
    "tukey",
    "tukey_biweight",
]
