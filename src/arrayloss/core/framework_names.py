"""The names Keras, PyTorch, optax, scikit-learn and kornia give arrayloss's losses (SPEC
section 1).

``arrayloss.get`` resolves a framework's function or class name to the arrayloss loss with
the options that name implies (``binary_cross_entropy_with_logits`` is ``bce`` with
``from_logits=True``). The resolved loss keeps arrayloss's calling convention: targets
first, then predictions (PyTorch's ``(input, target)`` and optax's ``(predictions,
targets)`` are swapped), arrayloss's option names, and arrayloss's reductions (``"mean"``
by default; optax's functions return the unreduced values: pass ``reduction="none"``).

A name whose meaning arrayloss does not reproduce exactly is not mapped: asking for it is a
``ValueError`` that says what the framework's function computes and which arrayloss call
gives it. Names that are arrayloss's own (case aside: Keras's ``Huber``, ``Dice``, ``CTC``;
optax's ``kl_divergence``) are not in these tables; they mean the arrayloss loss of that
name, whose conventions against each framework are on its family's docs page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["MAPPED", "REFUSED", "MappedName", "RefusedName", "mapped", "refused"]


@dataclass(frozen=True)
class MappedName:
    """A framework's name for an arrayloss loss, with the options that name implies."""

    name: str
    frameworks: str
    loss: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))


@dataclass(frozen=True)
class RefusedName:
    """A framework's name that arrayloss does not reproduce exactly under that name."""

    name: str
    frameworks: str
    meaning: str
    use: str

    def message(self) -> str:
        owners = " and ".join(f"{f}'s" for f in self.frameworks.split(", "))
        return (
            f"{self.name!r} is {owners} {self.meaning}, which no arrayloss loss computes "
            f"under that name; use {self.use}"
        )


_LOGITS = {"from_logits": True}
# PyTorch's class-index losses: scores of shape (N, C, ...), the label -100 ignored, and a
# "mean" that divides by the class weights of the kept labels (without class weights, the
# plain mean over the kept labels).
_TORCH_LABELS = {"axis": 1, "ignore_index": -100, "reduction": "weighted_mean"}

_KERAS = "Keras"
_TORCH = "PyTorch"
_OPTAX = "optax"
_KORNIA = "kornia"
_SKLEARN = "scikit-learn"
_SMP = "segmentation_models_pytorch"
# kornia's robust losses (Barron's ρ at c = 1) return the element-wise values by default.
_KORNIA_NONE = {"reduction": "none", "axis": ()}

MAPPED: tuple[MappedName, ...] = (
    # Keras 3 classes (keras.losses, keras.regularizers) whose lower-case spelling is not
    # already an arrayloss name.
    MappedName("MeanSquaredError", _KERAS, "mean_squared_error"),
    MappedName("MeanAbsoluteError", _KERAS, "mean_absolute_error"),
    MappedName("MeanAbsolutePercentageError", _KERAS, "mean_absolute_percentage_error"),
    MappedName("MeanSquaredLogarithmicError", _KERAS, "mean_squared_logarithmic_error"),
    MappedName("CosineSimilarity", _KERAS, "cosine_similarity"),
    MappedName("BinaryCrossentropy", _KERAS, "binary_crossentropy"),
    MappedName("CategoricalCrossentropy", _KERAS, "categorical_crossentropy"),
    MappedName("SparseCategoricalCrossentropy", _KERAS, "sparse_categorical_crossentropy"),
    MappedName("KLDivergence", _KERAS, "kl_divergence"),
    MappedName("SquaredHinge", _KERAS, "squared_hinge"),
    MappedName("CategoricalHinge", _KERAS, "categorical_hinge"),
    MappedName("BinaryFocalCrossentropy", _KERAS, "binary_focal_crossentropy"),
    MappedName("CategoricalFocalCrossentropy", _KERAS, "categorical_focal_crossentropy"),
    MappedName("CategoricalGeneralizedCrossEntropy", _KERAS,
               "categorical_generalized_crossentropy"),
    MappedName("categorical_generalized_cross_entropy", _KERAS,
               "categorical_generalized_crossentropy"),
    # Keras 3's L1L2() penalizes nothing until given l1 or l2.
    MappedName("L1L2", _KERAS, "l1_l2", {"l1": 0.0, "l2": 0.0}),
    # PyTorch: torch.nn.functional and torch.nn.
    MappedName("mse_loss", _TORCH, "mean_squared_error"),
    MappedName("MSELoss", _TORCH, "mean_squared_error"),
    MappedName("l1_loss", _TORCH, "mean_absolute_error"),
    MappedName("L1Loss", _TORCH, "mean_absolute_error"),
    MappedName("HuberLoss", _TORCH, "huber"),
    MappedName("binary_cross_entropy", _TORCH, "binary_crossentropy"),
    MappedName("BCELoss", _TORCH, "binary_crossentropy"),
    MappedName("binary_cross_entropy_with_logits", _TORCH, "binary_crossentropy", _LOGITS),
    MappedName("BCEWithLogitsLoss", _TORCH, "binary_crossentropy", _LOGITS),
    MappedName("cross_entropy", _TORCH, "sparse_categorical_crossentropy",
               {**_LOGITS, **_TORCH_LABELS}),
    MappedName("CrossEntropyLoss", _TORCH, "sparse_categorical_crossentropy",
               {**_LOGITS, **_TORCH_LABELS}),
    MappedName("nll_loss", _TORCH, "negative_log_likelihood", _TORCH_LABELS),
    MappedName("NLLLoss", _TORCH, "negative_log_likelihood", _TORCH_LABELS),
    MappedName("soft_margin_loss", _TORCH, "soft_margin"),
    MappedName("SoftMarginLoss", _TORCH, "soft_margin"),
    MappedName("hinge_embedding_loss", _TORCH, "hinge_embedding"),
    MappedName("HingeEmbeddingLoss", _TORCH, "hinge_embedding"),
    MappedName("cosine_embedding_loss", _TORCH, "cosine_embedding"),
    MappedName("CosineEmbeddingLoss", _TORCH, "cosine_embedding"),
    MappedName("margin_ranking_loss", _TORCH, "margin_ranking"),
    MappedName("MarginRankingLoss", _TORCH, "margin_ranking"),
    MappedName("multi_margin_loss", _TORCH, "multi_margin"),
    MappedName("MultiMarginLoss", _TORCH, "multi_margin"),
    MappedName("multilabel_margin_loss", _TORCH, "multilabel_margin"),
    MappedName("MultiLabelMarginLoss", _TORCH, "multilabel_margin"),
    MappedName("multilabel_soft_margin_loss", _TORCH, "multilabel_soft_margin"),
    MappedName("MultiLabelSoftMarginLoss", _TORCH, "multilabel_soft_margin"),
    MappedName("smooth_l1_loss", _TORCH, "smooth_l1"),
    MappedName("SmoothL1Loss", _TORCH, "smooth_l1"),
    MappedName("poisson_nll_loss", _TORCH, "poisson_nll"),
    MappedName("PoissonNLLLoss", _TORCH, "poisson_nll"),
    MappedName("gaussian_nll_loss", _TORCH, "gaussian_nll"),
    MappedName("GaussianNLLLoss", _TORCH, "gaussian_nll"),
    MappedName("triplet_margin_loss", _TORCH, "triplet_margin"),
    MappedName("TripletMarginLoss", _TORCH, "triplet_margin"),
    # optax (optax.losses): element-wise or per-sample values, reduced here by "mean".
    MappedName("squared_error", _OPTAX, "mean_squared_error"),
    MappedName("sigmoid_binary_cross_entropy", _OPTAX, "binary_crossentropy", _LOGITS),
    MappedName("softmax_cross_entropy", _OPTAX, "categorical_crossentropy", _LOGITS),
    MappedName("safe_softmax_cross_entropy", _OPTAX, "categorical_crossentropy", _LOGITS),
    MappedName("softmax_cross_entropy_with_integer_labels", _OPTAX,
               "sparse_categorical_crossentropy", _LOGITS),
    MappedName("sigmoid_focal_loss", _OPTAX, "binary_focal_crossentropy", _LOGITS),
    MappedName("hinge_loss", _OPTAX, "hinge"),
    MappedName("perceptron_loss", _OPTAX, "perceptron"),
    MappedName("sparsemax_loss", _OPTAX, "binary_sparsemax"),
    MappedName("multiclass_perceptron_loss", _OPTAX, "multiclass_perceptron"),
    MappedName("multiclass_hinge_loss", _OPTAX, "multiclass_hinge"),
    MappedName("multiclass_sparsemax_loss", _OPTAX, "multiclass_sparsemax"),
    MappedName("kl_divergence_with_log_targets", _OPTAX, "kl_divergence",
               {"log_target": True, "from_logits": True}),
    MappedName("poly_loss_cross_entropy", _OPTAX, "poly_crossentropy", _LOGITS),
    MappedName("dice_loss", _OPTAX, "tversky",
               {"from_logits": True, "class_axis": -1, "smooth": 1.0}),
    # optax's smooth s is added to TP and to the half-sum: 2s in Dice's (2·TP + s) form.
    MappedName("multiclass_generalized_dice_loss", _OPTAX, "generalized_dice",
               {"from_logits": True, "smooth": 2.0}),
    # scikit-learn (sklearn.metrics): the mean over every value, arrayloss's "mean".
    MappedName("mean_tweedie_deviance", _SKLEARN, "tweedie_deviance"),
    MappedName("mean_poisson_deviance", _SKLEARN, "poisson_deviance"),
    MappedName("mean_gamma_deviance", _SKLEARN, "gamma_deviance"),
    # kornia (kornia.losses): functions (img1, img2) and modules, reduction "none" default.
    MappedName("charbonnier_loss", _KORNIA, "charbonnier", _KORNIA_NONE),
    MappedName("CharbonnierLoss", _KORNIA, "charbonnier", _KORNIA_NONE),
    MappedName("cauchy_loss", _KORNIA, "cauchy", _KORNIA_NONE),
    MappedName("CauchyLoss", _KORNIA, "cauchy", _KORNIA_NONE),
    MappedName("geman_mcclure_loss", _KORNIA, "geman_mcclure", _KORNIA_NONE),
    MappedName("GemanMcclureLoss", _KORNIA, "geman_mcclure", _KORNIA_NONE),
    MappedName("welsch_loss", _KORNIA, "welsch", _KORNIA_NONE),
    MappedName("WelschLoss", _KORNIA, "welsch", _KORNIA_NONE),
)

REFUSED: tuple[RefusedName, ...] = (
    RefusedName(
        "kl_div", _TORCH,
        "KL divergence kl_div(input, target) of log-probabilities `input` (target second; its "
        "reduction='mean' divides by N*C, 'batchmean' is the true KL)",
        "arrayloss.kl_divergence(target, input, from_logits=True) for the 'batchmean' of "
        "log-probabilities such as log_softmax's (or kl_divergence(target, exp(input)))"),
    RefusedName(
        "KLDivLoss", _TORCH,
        "KL divergence of log-probabilities `input` against `target` (reduction='mean' "
        "divides by N*C, 'batchmean' is the true KL)",
        "arrayloss.kl_divergence(target, input, from_logits=True) for the 'batchmean' of "
        "log-probabilities such as log_softmax's (or kl_divergence(target, exp(input)))"),
    RefusedName(
        "ctc_loss", "PyTorch, optax",
        "CTC loss, which takes (T, N, C) log-probabilities and a 'mean' that divides each "
        "loss by its target length (PyTorch), or logits with paddings (optax)",
        "arrayloss.ctc(labels, logits, label_lengths, logit_lengths) (logits (N, T, C), "
        "lengths = sum(1 - paddings, axis=-1); PyTorch's 'mean' is "
        "mean(ctc(..., reduction='none') / max(label_lengths, 1)))"),
    RefusedName(
        "CTCLoss", _TORCH,
        "CTC loss on (T, N, C) log-probabilities, whose 'mean' divides each loss by its "
        "target length",
        "arrayloss.ctc(labels, logits, label_lengths, logit_lengths) (logits (N, T, C)); "
        "PyTorch's 'mean' is mean(ctc(..., reduction='none') / max(label_lengths, 1))"),
    RefusedName(
        "l2_loss", _OPTAX, "l2_loss, 0.5·(predictions − targets)² element-wise (half "
        "the squared error)",
        "0.5 * arrayloss.mean_squared_error(targets, predictions) (with axis=(), "
        "reduction='none' for optax's element-wise array; arrayloss.l2 is Keras's weight "
        "penalty)"),
    RefusedName(
        "cosine_distance", _OPTAX, "cosine_distance, 1 - cos(predictions, targets)",
        "1 + arrayloss.cosine_similarity(targets, predictions) (arrayloss's "
        "cosine_similarity is Keras's -cos)"),
    RefusedName(
        "LovaszLoss", _SMP,
        "Lovász loss, whose mode= chooses between two losses ('binary': the Lovász hinge of "
        "logits; 'multiclass': the Lovász-Softmax of logits, class axis 1), over the whole "
        "batch by default (per_image=False)",
        "arrayloss.lovasz_hinge(y_true, logits, axis=None) for mode='binary', "
        "arrayloss.lovasz_softmax(labels, logits, from_logits=True, class_axis=1, axis=None) "
        "for mode='multiclass' (per_image=True: the default axis='per_sample'; "
        "ignore_index=i: the same option)"),
)

_BY_KEY: dict[str, MappedName] = {m.name.lower(): m for m in MAPPED}
_REFUSED_BY_KEY: dict[str, RefusedName] = {r.name.lower(): r for r in REFUSED}


def mapped(key: str) -> MappedName | None:
    """The framework name ``key`` (lower case) resolves to, or None."""
    return _BY_KEY.get(key)


def refused(key: str) -> RefusedName | None:
    """The refused framework name ``key`` (lower case), or None."""
    return _REFUSED_BY_KEY.get(key)


def keys() -> list[str]:
    """Every framework name, lower case (for the suggestions of an unknown name)."""
    return [*_BY_KEY, *_REFUSED_BY_KEY]
