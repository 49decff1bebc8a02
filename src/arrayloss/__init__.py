"""arrayloss: machine-learning losses written once against the Python array API standard.

Every loss takes its arrays from any array-API library (NumPy, PyTorch, JAX, Dask, CuPy,
array-api-strict) and returns its result in that library, on that device, in the
computation dtype. See ``docs/`` for the shared rules and each family's conventions.
"""

from ._boosting import BoostingObjective, boosting_objective
from ._gradients import gradient, has_closed_form, hessian_diagonal, value_and_gradient
from .core.define import PerSample, define_loss
from .core.native import native_kernels
from .core.reduction import combine_partials
from .core.registry import available, get
from .losses.binary_crossentropy import binary_crossentropy
from .losses.circle import circle
from .losses.crossentropy import (
    categorical_crossentropy,
    negative_log_likelihood,
    sparse_categorical_crossentropy,
)
from .losses.deviance import gamma_deviance, poisson_deviance, tweedie_deviance
from .losses.divergences import generalized_kl_divergence, kl_divergence
from .losses.embedding_margins import cosine_embedding, hinge_embedding, soft_margin
from .losses.encoding import one_hot, smooth_labels, to_categorical
from .losses.focal import (
    binary_focal_crossentropy,
    categorical_focal_crossentropy,
    poly_crossentropy,
)
from .losses.general_robust import general_robust, general_robust_nll
from .losses.generalized_crossentropy import categorical_generalized_crossentropy
from .losses.linear_crossentropy import (
    linear_cross_entropy,
    linear_cross_entropy_value_and_grad,
)
from .losses.lovasz import lovasz_hinge, lovasz_softmax
from .losses.margin import binary_sparsemax, categorical_hinge, hinge, perceptron, squared_hinge
from .losses.metric_learning import contrastive, ntxent, triplet_margin
from .losses.multiclass_margins import multi_margin, multilabel_margin, multilabel_soft_margin
from .losses.multiclass_scores import (
    multiclass_hinge,
    multiclass_perceptron,
    multiclass_sparsemax,
)
from .losses.penalties import l1, l1_l2, l2
from .losses.ranking_margins import margin_ranking
from .losses.regression import (
    cosine_similarity,
    gaussian_nll,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    poisson_nll,
)
from .losses.robust import huber, log_cosh, quantile, smooth_l1, tukey_biweight
from .losses.robust_named import arctan, cauchy, charbonnier, geman_mcclure, soft_l1, welsch
from .losses.segmentation import dice, jaccard, tversky
from .losses.segmentation_variants import focal_tversky, generalized_dice
from .losses.sequence import ctc

# Keras's short names, bound to the same functions.
mse = mean_squared_error
mae = mean_absolute_error
mape = mean_absolute_percentage_error
msle = mean_squared_logarithmic_error
huber_loss = huber
logcosh = log_cosh
pinball = pinball_loss = quantile
tukey = tukey_biweight
barron = general_robust
adaptive_robust = general_robust_nll
pseudo_huber = charbonnier
lorentzian = cauchy
leclerc = welsch
cosine_proximity = cosine_similarity
elastic_net = l1_l2
iou = jaccard
triplet = triplet_margin
info_nce = ntxent
bce = logloss = binary_crossentropy
cce = categorical_crossentropy
scce = sparse_categorical_crossentropy
nll = negative_log_likelihood
kld = kullback_leibler_divergence = kl_divergence
focal = binary_focal = binary_focal_crossentropy
categorical_focal = categorical_focal_crossentropy
gce = generalized_crossentropy = categorical_generalized_crossentropy
tweedie = tweedie_deviance
i_divergence = generalized_kl_divergence
poly_loss = poly1 = poly_crossentropy

__version__ = "0.1.0"

__all__ = [
    "BoostingObjective",
    "PerSample",
    "adaptive_robust",
    "arctan",
    "available",
    "barron",
    "bce",
    "binary_crossentropy",
    "binary_focal",
    "binary_focal_crossentropy",
    "binary_sparsemax",
    "boosting_objective",
    "categorical_crossentropy",
    "categorical_focal",
    "categorical_focal_crossentropy",
    "categorical_generalized_crossentropy",
    "categorical_hinge",
    "cauchy",
    "cce",
    "charbonnier",
    "circle",
    "combine_partials",
    "contrastive",
    "cosine_embedding",
    "cosine_proximity",
    "cosine_similarity",
    "ctc",
    "define_loss",
    "dice",
    "elastic_net",
    "focal",
    "focal_tversky",
    "gamma_deviance",
    "gaussian_nll",
    "gce",
    "geman_mcclure",
    "general_robust",
    "general_robust_nll",
    "generalized_crossentropy",
    "generalized_dice",
    "generalized_kl_divergence",
    "get",
    "gradient",
    "has_closed_form",
    "hessian_diagonal",
    "hinge",
    "hinge_embedding",
    "huber",
    "huber_loss",
    "i_divergence",
    "info_nce",
    "iou",
    "jaccard",
    "kl_divergence",
    "kld",
    "kullback_leibler_divergence",
    "l1",
    "l1_l2",
    "l2",
    "leclerc",
    "linear_cross_entropy",
    "linear_cross_entropy_value_and_grad",
    "log_cosh",
    "logcosh",
    "logloss",
    "lorentzian",
    "lovasz_hinge",
    "lovasz_softmax",
    "mae",
    "mape",
    "margin_ranking",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "mse",
    "msle",
    "multi_margin",
    "multiclass_hinge",
    "multiclass_perceptron",
    "multiclass_sparsemax",
    "multilabel_margin",
    "multilabel_soft_margin",
    "native_kernels",
    "negative_log_likelihood",
    "nll",
    "ntxent",
    "one_hot",
    "perceptron",
    "pinball",
    "pinball_loss",
    "poisson",
    "poisson_deviance",
    "poisson_nll",
    "poly1",
    "poly_crossentropy",
    "poly_loss",
    "pseudo_huber",
    "quantile",
    "scce",
    "smooth_l1",
    "smooth_labels",
    "soft_l1",
    "soft_margin",
    "sparse_categorical_crossentropy",
    "squared_hinge",
    "to_categorical",
    "triplet",
    "triplet_margin",
    "tukey",
    "tukey_biweight",
    "tversky",
    "tweedie",
    "tweedie_deviance",
    "value_and_gradient",
    "welsch",
]
