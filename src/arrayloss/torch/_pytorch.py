"""The losses PyTorch has, with PyTorch's names, options, argument order and shapes.

Each ``forward(input, target)`` calls the arrayloss function ``fn(target, input, ...)``
with the options that give PyTorch's numbers (``docs/torch.md`` has the whole mapping).
"""

from __future__ import annotations

from typing import Any

import torch

import arrayloss

from ._base import Loss, as_buffer


class _Elementwise(Loss):
    """Element-wise PyTorch losses: ``fn(target, input, axis=(), ...)`` keeps every element
    as a per-sample value, so ``"none"`` has the input's shape and ``"mean"`` averages all
    elements, as PyTorch does."""

    _options: dict[str, str] = {}  # PyTorch option name -> arrayloss option name

    def __init__(self, *, reduction: str = "mean", **options: Any) -> None:
        super().__init__(reduction, **{self._options[k]: v for k, v in options.items()})
        for name, value in options.items():
            setattr(self, name, value)
        self._shown = tuple(options)

    def _arrayloss_options(self) -> dict[str, Any]:
        return {self._options[n]: getattr(self, n) for n in self._shown}

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.call(input.device, target, input, axis=(), reduction=self.reduction,
                         **self._arrayloss_options())


class MSELoss(_Elementwise):
    """``torch.nn.MSELoss`` calling ``arrayloss.mean_squared_error(target, input, axis=())``.

    >>> import torch
    >>> from arrayloss.torch import MSELoss
    >>> MSELoss(reduction="none")(torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 4.0]]))
    tensor([[1., 4.]])
    """

    _loss = "mean_squared_error"

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)


class L1Loss(_Elementwise):
    """``torch.nn.L1Loss`` calling ``arrayloss.mean_absolute_error(target, input, axis=())``."""

    _loss = "mean_absolute_error"

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)


class HuberLoss(_Elementwise):
    """``torch.nn.HuberLoss(delta)`` calling ``arrayloss.huber(target, input, delta=delta,
    axis=())``."""

    _loss = "huber"
    _options = {"delta": "delta"}

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction, delta=delta)


class SmoothL1Loss(_Elementwise):
    """``torch.nn.SmoothL1Loss(beta)`` calling ``arrayloss.smooth_l1(target, input,
    beta=beta, axis=())``."""

    _loss = "smooth_l1"
    _options = {"beta": "beta"}

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction=reduction, beta=beta)


class SoftMarginLoss(_Elementwise):
    """``torch.nn.SoftMarginLoss`` calling ``arrayloss.soft_margin(target, input,
    axis=())``: ``log(1 + exp(-target·input))`` element by element, labels ``{-1, 1}``."""

    _loss = "soft_margin"

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)


class PoissonNLLLoss(_Elementwise):
    """``torch.nn.PoissonNLLLoss(log_input, full, eps)`` calling
    ``arrayloss.poisson_nll(target, input, log_input=log_input, full=full, epsilon=eps,
    axis=())``."""

    _loss = "poisson_nll"
    _options = {"log_input": "log_input", "full": "full", "eps": "epsilon"}

    def __init__(self, log_input: bool = True, full: bool = False, eps: float = 1e-8,
                 reduction: str = "mean") -> None:
        super().__init__(reduction=reduction, log_input=log_input, full=full, eps=eps)


class GaussianNLLLoss(_Elementwise):
    """``torch.nn.GaussianNLLLoss(full, eps)``, called ``criterion(input, target, var)``:
    ``arrayloss.gaussian_nll(target, input, var, full=full, eps=eps, axis=())``."""

    _loss = "gaussian_nll"
    _options = {"full": "full", "eps": "eps"}

    def __init__(self, *, full: bool = False, eps: float = 1e-6,
                 reduction: str = "mean") -> None:
        super().__init__(reduction=reduction, full=full, eps=eps)

    def forward(self, input: torch.Tensor, target: torch.Tensor,  # type: ignore[override]
                var: torch.Tensor | float) -> torch.Tensor:
        return self.call(input.device, target, input, var, axis=(), reduction=self.reduction,
                         **self._arrayloss_options())


class BCELoss(Loss):
    """``torch.nn.BCELoss(weight)`` calling ``arrayloss.binary_crossentropy(target, input,
    axis=(), sample_weight=weight)`` (``weight`` broadcast to the input's shape, a buffer).

    >>> import torch
    >>> from arrayloss.torch import BCELoss
    >>> p, y = torch.tensor([0.9, 0.2]), torch.tensor([1.0, 0.0])
    >>> torch.allclose(BCELoss()(p, y), torch.nn.BCELoss()(p, y))
    True
    """

    _loss = "binary_crossentropy"
    _logits = False
    weight: torch.Tensor | None  # a buffer

    def __init__(self, weight: torch.Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__(reduction, from_logits=self._logits)
        self.register_buffer("weight", as_buffer(type(self).__name__, "weight", weight))

    def _options(self) -> dict[str, Any]:
        return {}

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        weight = None if self.weight is None else torch.broadcast_to(self.weight, input.shape)
        return self.call(input.device, target, input, from_logits=self._logits, axis=(),
                         sample_weight=weight, reduction=self.reduction, **self._options())


class BCEWithLogitsLoss(BCELoss):
    """``torch.nn.BCEWithLogitsLoss(weight, pos_weight)`` calling
    ``arrayloss.binary_crossentropy(target, input, from_logits=True, pos_weight=pos_weight,
    axis=(), sample_weight=weight)``; both tensors are buffers."""

    _logits = True
    pos_weight: torch.Tensor | None  # a buffer

    def __init__(self, weight: torch.Tensor | None = None, reduction: str = "mean",
                 pos_weight: torch.Tensor | None = None) -> None:
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", as_buffer("BCEWithLogitsLoss", "pos_weight",
                                                      pos_weight))

    def _options(self) -> dict[str, Any]:
        return {"pos_weight": self.pos_weight}


def _class_axis(input: torch.Tensor) -> int:
    return 1 if input.ndim >= 2 else 0  # PyTorch: (N, C, d1, ...) or an unbatched (C,)


class NLLLoss(Loss):
    """``torch.nn.NLLLoss(weight, ignore_index=-100)`` calling
    ``arrayloss.negative_log_likelihood(target, input, class_weight=weight,
    ignore_index=ignore_index, axis=1)``, with ``reduction="weighted_mean"`` for PyTorch's
    ``"mean"`` (the sum over the kept targets' class weights)."""

    _loss = "negative_log_likelihood"
    weight: torch.Tensor | None  # a buffer

    def __init__(self, weight: torch.Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(reduction, ignore_index=ignore_index)
        self.register_buffer("weight", as_buffer(type(self).__name__, "weight", weight))
        self.ignore_index = ignore_index
        self._shown = ("ignore_index",)

    def _reduction(self) -> str:
        return "weighted_mean" if self.reduction == "mean" else self.reduction

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return self.call(input.device, target, input, ignore_index=self.ignore_index,
                         class_weight=self.weight, axis=_class_axis(input),
                         reduction=self._reduction())


class CrossEntropyLoss(NLLLoss):
    """``torch.nn.CrossEntropyLoss(weight, ignore_index=-100, label_smoothing)`` from logits.

    Integer targets (class indices): ``arrayloss.sparse_categorical_crossentropy(target,
    input, from_logits=True, class_weight=weight, ignore_index=ignore_index,
    label_smoothing=label_smoothing, axis=1)`` with ``"weighted_mean"`` for ``"mean"``.
    Floating targets (class probabilities): ``arrayloss.categorical_crossentropy(target,
    input, from_logits=True, label_smoothing=label_smoothing, axis=1)``; with ``weight``
    each class's term is weighted inside the sum, as PyTorch does (the target is smoothed
    and multiplied by ``weight`` before the call).
    """

    _loss = "sparse_categorical_crossentropy"

    def __init__(self, weight: torch.Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, ignore_index, reduction)
        self.check_options({"label_smoothing": label_smoothing})
        self.check_options({"label_smoothing": label_smoothing},
                           function=arrayloss.categorical_crossentropy)
        self.label_smoothing = label_smoothing
        self._shown = ("ignore_index", "label_smoothing")

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        axis = _class_axis(input)
        smoothing = self.label_smoothing
        if target.is_floating_point():  # class probabilities, as PyTorch reads them
            if self.weight is not None:
                if smoothing > 0:
                    target = target * (1.0 - smoothing) + smoothing / input.shape[axis]
                    smoothing = 0.0
                target = target * self.weight.reshape((-1,) + (1,) * (input.ndim - 1 - axis))
            return self.call(input.device, target, input, from_logits=True, axis=axis,
                             label_smoothing=smoothing, reduction=self.reduction,
                             function=arrayloss.categorical_crossentropy)
        return self.call(input.device, target, input, from_logits=True,
                         ignore_index=self.ignore_index, label_smoothing=smoothing,
                         class_weight=self.weight, axis=axis, reduction=self._reduction())


class KLDivLoss(Loss):
    """``torch.nn.KLDivLoss(reduction, log_target)``: ``input`` holds log-probabilities,
    ``target`` probabilities (log-probabilities with ``log_target=True``, passed on as
    ``target.exp()``); the value is ``arrayloss.kl_divergence(target, input,
    from_logits=True, axis=dim)``. ``dim`` (default -1) is the class axis the input was
    normalized over: ``log_softmax`` of a log-probability is itself, so the numbers are
    PyTorch's. ``"batchmean"`` divides the sum by ``input.shape[0]``, ``"mean"`` by the
    number of elements (PyTorch's); ``"none"`` gives one value per distribution (PyTorch
    gives every element's term).
    """

    _loss = "kl_divergence"
    _reductions = ("none", "batchmean", "mean", "sum")

    def __init__(self, reduction: str = "mean", log_target: bool = False,
                 dim: int = -1) -> None:
        super().__init__(reduction, from_logits=True)
        if not isinstance(log_target, bool) or isinstance(dim, bool) or not isinstance(
                dim, int):
            raise TypeError(f"KLDivLoss: log_target must be a bool and dim an int; got "
                            f"log_target={log_target!r}, dim={dim!r}")
        self.log_target, self.dim = log_target, dim
        self._shown = ("log_target", "dim")

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.log_target:
            target = torch.exp(target)
        reduction = "none" if self.reduction == "none" else "sum"
        total = self.call(input.device, target, input, from_logits=True, axis=self.dim,
                          reduction=reduction)
        if self.reduction == "batchmean" and input.ndim > 0:
            return total / input.shape[0]
        if self.reduction == "mean":
            return total / input.numel()  # PyTorch's mean over every element
        return total


class CTCLoss(Loss):
    """``torch.nn.CTCLoss(blank, reduction, zero_infinity)``, called ``criterion(log_probs,
    targets, input_lengths, target_lengths)`` with ``log_probs`` ``(T, N, C)`` and padded
    ``targets`` ``(N, S)``: ``arrayloss.ctc(targets, log_probs.transpose(0, 1),
    target_lengths, input_lengths, blank=blank, zero_infinity=zero_infinity)``; ``"mean"``
    divides each loss by its target length first (``sample_weight``), as PyTorch does."""

    _loss = "ctc"

    def __init__(self, blank: int = 0, reduction: str = "mean",
                 zero_infinity: bool = False) -> None:
        super().__init__(reduction, blank=blank, zero_infinity=zero_infinity)
        self.blank, self.zero_infinity = blank, zero_infinity
        self._shown = ("blank", "zero_infinity")

    def forward(self, log_probs: torch.Tensor, targets: torch.Tensor,  # type: ignore[override]
                input_lengths: Any, target_lengths: Any) -> torch.Tensor:
        if targets.ndim != 2:
            raise ValueError(
                f"CTCLoss: targets must be padded, shape (N, S); got targets.shape="
                f"{tuple(targets.shape)} (the concatenated 1-D form needs the lengths' "
                f"values to split, which a traced loss cannot read)")
        unbatched = log_probs.ndim == 2
        logits = log_probs.unsqueeze(0) if unbatched else log_probs.transpose(0, 1)
        device = log_probs.device
        input_lengths = torch.as_tensor(input_lengths, device=device).reshape(-1)
        target_lengths = torch.as_tensor(target_lengths, device=device).reshape(-1)
        weight = None
        if self.reduction == "mean":
            weight = 1.0 / torch.clamp(target_lengths, min=1).to(logits.dtype)
        loss = self.call(device, targets, logits, target_lengths, input_lengths,
                         blank=self.blank, zero_infinity=self.zero_infinity,
                         sample_weight=weight, reduction=self.reduction)
        return loss[0] if unbatched and self.reduction == "none" else loss


class TripletMarginLoss(Loss):
    """``torch.nn.TripletMarginLoss(margin, p, eps, swap)``, called ``criterion(anchor,
    positive, negative)``: ``arrayloss.triplet_margin(anchor, positive, negative, ...)``."""

    _loss = "triplet_margin"

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, reduction: str = "mean") -> None:
        super().__init__(reduction, margin=margin, p=p, eps=eps, swap=swap)
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap
        self._shown = ("margin", "p", "eps", "swap")

    def forward(self, anchor: torch.Tensor, positive: torch.Tensor,  # type: ignore[override]
                negative: torch.Tensor) -> torch.Tensor:
        return self.call(anchor.device, anchor, positive, negative, margin=self.margin,
                         p=self.p, eps=self.eps, swap=self.swap, reduction=self.reduction)
