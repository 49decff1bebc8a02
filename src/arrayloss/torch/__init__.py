"""PyTorch modules for arrayloss's losses: ``criterion(input, target)``, PyTorch's options.

Each class is a :class:`torch.nn.Module` that holds its options and calls one arrayloss
function in its ``forward``, with the arguments in arrayloss's order
(``fn(target, input, ...)``). Where PyTorch has the loss, the class has PyTorch's name,
options and numbers (``reduction="mean"`` with a class ``weight`` is arrayloss's
``"weighted_mean"``; ``"none"`` is element-wise); the other losses get a class in the same
style (``DiceLoss``, ``FocalLoss``, ``TukeyBiweightLoss``, ...) with arrayloss's options
and semantics. Tensor options (``weight``, ``pos_weight``, ``class_weight``) are buffers,
so ``.to(device)`` and ``state_dict`` carry them. Import this module explicitly:
``import arrayloss`` never imports torch. The mapping and every deliberate difference
from PyTorch: ``docs/torch.md``.

>>> import torch
>>> from arrayloss.torch import CrossEntropyLoss
>>> weight = torch.tensor([1.0, 2.0])
>>> criterion = CrossEntropyLoss(weight=weight, label_smoothing=0.1)
>>> logits, labels = torch.tensor([[2.0, 0.5], [0.1, 0.3]]), torch.tensor([0, 1])
>>> reference = torch.nn.CrossEntropyLoss(weight=weight, label_smoothing=0.1)
>>> torch.allclose(criterion(logits, labels), reference(logits, labels))
True
>>> from arrayloss.torch import DiceLoss
>>> DiceLoss(smooth=1.0, reduction="none")(torch.tensor([[1.0, 0.0]]),
...                                        torch.tensor([[1.0, 1.0]]))
tensor([0.2500])
"""

from typing import TYPE_CHECKING

from ._base import Loss
from ._pytorch import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    CTCLoss,
    GaussianNLLLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    TripletMarginLoss,
)
from ._pytorch_margins import (
    CosineEmbeddingLoss,
    HingeEmbeddingLoss,
    MarginRankingLoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
)
from ._registered import RegisteredLoss, generated

PYTORCH_MODULES = (
    BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CTCLoss, CrossEntropyLoss, GaussianNLLLoss,
    HingeEmbeddingLoss, HuberLoss, KLDivLoss, L1Loss, MarginRankingLoss, MSELoss,
    MultiLabelMarginLoss, MultiLabelSoftMarginLoss, MultiMarginLoss, NLLLoss, PoissonNLLLoss,
    SmoothL1Loss, SoftMarginLoss, TripletMarginLoss,
)
for _cls in PYTORCH_MODULES:  # pickled and shown as arrayloss.torch.<name>
    _cls.__module__ = __name__
_GENERATED = generated()
globals().update(_GENERATED)

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "CTCLoss", "CosineEmbeddingLoss", "CrossEntropyLoss",
    "GaussianNLLLoss", "HingeEmbeddingLoss", "HuberLoss", "KLDivLoss", "L1Loss", "Loss",
    "MSELoss", "MarginRankingLoss", "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss",
    "MultiMarginLoss", "NLLLoss", "PYTORCH_MODULES", "PoissonNLLLoss", "RegisteredLoss",
    "SmoothL1Loss", "SoftMarginLoss", "TripletMarginLoss",
    # the generated modules, sorted (written out for type checkers)
    "ArctanLoss", "CategoricalFocalLoss", "CategoricalHingeLoss", "CauchyLoss", "CharbonnierLoss",
    "ContrastiveLoss", "CosineSimilarityLoss", "DiceLoss", "FocalLoss", "FocalTverskyLoss",
    "GammaDevianceLoss", "GemanMcclureLoss", "GeneralRobustLoss", "GeneralRobustNLLLoss",
    "GeneralizedDiceLoss", "GeneralizedKLDivergenceLoss",
    "HingeLoss", "JaccardLoss", "LogCoshLoss", "MeanAbsolutePercentageErrorLoss",
    "MeanSquaredLogarithmicErrorLoss", "NTXentLoss", "PoissonDevianceLoss", "PoissonLoss",
    "PolyLoss", "QuantileLoss", "SoftL1Loss", "SquaredHingeLoss", "TukeyBiweightLoss",
    "TverskyLoss", "TweedieDevianceLoss", "WelschLoss",
]

if TYPE_CHECKING:  # the modules just generated, as type checkers cannot see them made
    class ArctanLoss(RegisteredLoss): ...
    class CategoricalFocalLoss(RegisteredLoss): ...
    class CategoricalHingeLoss(RegisteredLoss): ...
    class CauchyLoss(RegisteredLoss): ...
    class CharbonnierLoss(RegisteredLoss): ...
    class ContrastiveLoss(RegisteredLoss): ...
    class CosineSimilarityLoss(RegisteredLoss): ...
    class DiceLoss(RegisteredLoss): ...
    class FocalLoss(RegisteredLoss): ...
    class FocalTverskyLoss(RegisteredLoss): ...
    class GammaDevianceLoss(RegisteredLoss): ...
    class GemanMcclureLoss(RegisteredLoss): ...
    class GeneralRobustLoss(RegisteredLoss): ...
    class GeneralRobustNLLLoss(RegisteredLoss): ...
    class GeneralizedDiceLoss(RegisteredLoss): ...
    class GeneralizedKLDivergenceLoss(RegisteredLoss): ...
    class HingeLoss(RegisteredLoss): ...
    class JaccardLoss(RegisteredLoss): ...
    class LogCoshLoss(RegisteredLoss): ...
    class MeanAbsolutePercentageErrorLoss(RegisteredLoss): ...
    class MeanSquaredLogarithmicErrorLoss(RegisteredLoss): ...
    class NTXentLoss(RegisteredLoss): ...
    class PoissonDevianceLoss(RegisteredLoss): ...
    class PoissonLoss(RegisteredLoss): ...
    class PolyLoss(RegisteredLoss): ...
    class QuantileLoss(RegisteredLoss): ...
    class SoftL1Loss(RegisteredLoss): ...
    class SquaredHingeLoss(RegisteredLoss): ...
    class TukeyBiweightLoss(RegisteredLoss): ...
    class TverskyLoss(RegisteredLoss): ...
    class TweedieDevianceLoss(RegisteredLoss): ...
    class WelschLoss(RegisteredLoss): ...
