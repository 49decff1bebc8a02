"""PyTorch's margin losses with PyTorch's names, options, argument order and shapes: the
two-class, pair, ranking and multi-label margins (``docs/torch.md`` has the mapping)."""

from __future__ import annotations

import torch

from ._base import Loss, as_buffer
from ._pytorch import _Elementwise

__all__ = ["CosineEmbeddingLoss", "HingeEmbeddingLoss", "MarginRankingLoss",
           "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss"]


class HingeEmbeddingLoss(_Elementwise):
    """``torch.nn.HingeEmbeddingLoss(margin)`` calling ``arrayloss.hinge_embedding(target,
    input, margin=margin, axis=())``: ``input`` where the label is 1, ``max(margin - input,
    0)`` where it is -1, element by element."""

    _loss = "hinge_embedding"
    _options = {"margin": "margin"}

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction, margin=margin)


class MarginRankingLoss(_Elementwise):
    """``torch.nn.MarginRankingLoss(margin)``, called ``criterion(input1, input2, target)``:
    ``arrayloss.margin_ranking(target, input1, input2, margin=margin, axis=())``."""

    _loss = "margin_ranking"
    _options = {"margin": "margin"}

    def __init__(self, margin: float = 0.0, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction, margin=margin)

    def forward(self, input1: torch.Tensor, input2: torch.Tensor,  # type: ignore[override]
                target: torch.Tensor) -> torch.Tensor:
        return self.call(input1.device, target, input1, input2, axis=(),
                         reduction=self.reduction, **self._arrayloss_options())


class CosineEmbeddingLoss(Loss):
    """``torch.nn.CosineEmbeddingLoss(margin)``, called ``criterion(input1, input2, target)``:
    ``arrayloss.cosine_embedding(target, input1, input2, margin=margin)``."""

    _loss = "cosine_embedding"

    def __init__(self, margin: float = 0.0, reduction: str = "mean") -> None:
        super().__init__(reduction, margin=margin)
        self.margin = margin
        self._shown = ("margin",)

    def forward(self, input1: torch.Tensor, input2: torch.Tensor,  # type: ignore[override]
                target: torch.Tensor) -> torch.Tensor:
        return self.call(input1.device, target, input1, input2, margin=self.margin,
                         reduction=self.reduction)


class MultiLabelSoftMarginLoss(Loss):
    """``torch.nn.MultiLabelSoftMarginLoss(weight)`` calling
    ``arrayloss.multilabel_soft_margin(target, input, class_weight=weight)`` (the class
    axis last, ``weight`` a buffer)."""

    _loss = "multilabel_soft_margin"
    weight: torch.Tensor | None  # a buffer

    def __init__(self, weight: torch.Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", as_buffer(type(self).__name__, "weight", weight))
        self._shown = ()

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.call(input.device, target, input, class_weight=self.weight,
                         reduction=self.reduction)


class MultiMarginLoss(Loss):
    """``torch.nn.MultiMarginLoss(p, margin, weight)`` calling
    ``arrayloss.multi_margin(target, input, p=p, margin=margin, class_weight=weight)``
    (class indices ``target``, the class axis last, ``weight`` a buffer)."""

    _loss = "multi_margin"
    weight: torch.Tensor | None  # a buffer

    def __init__(self, p: int = 1, margin: float = 1.0, weight: torch.Tensor | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(reduction, p=p, margin=margin)
        self.register_buffer("weight", as_buffer(type(self).__name__, "weight", weight))
        self.p, self.margin = p, margin
        self._shown = ("p", "margin")

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.call(input.device, target, input, p=self.p, margin=self.margin,
                         class_weight=self.weight, reduction=self.reduction)


class MultiLabelMarginLoss(Loss):
    """``torch.nn.MultiLabelMarginLoss`` calling ``arrayloss.multilabel_margin(target,
    input)``: ``target`` lists the target classes first, padded with -1."""

    _loss = "multilabel_margin"

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__(reduction)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.call(input.device, target, input, reduction=self.reduction)
