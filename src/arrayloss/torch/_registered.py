"""Modules for the losses PyTorch does not have, generated from arrayloss's registry.

Each takes its function's options as keyword arguments, with the function's defaults and
semantics (arrayloss's per-sample values and reductions, ``"weighted_mean"`` included), and
is called ``criterion(input, target, *more, sample_weight=None, mask=None)``: ``input`` is
the function's prediction argument, ``target`` and the rest its other arrays in order.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, cast

import torch

import arrayloss

from ._base import TORCH_REDUCTIONS, Loss, as_buffer

if TYPE_CHECKING:
    from arrayloss.core.define import LossFunction

# The losses with a PyTorch-named module (``_pytorch.py``).
HAS_PYTORCH_MODULE = frozenset({
    "mean_squared_error", "mean_absolute_error", "huber", "binary_crossentropy",
    "categorical_crossentropy", "sparse_categorical_crossentropy", "negative_log_likelihood",
    "kl_divergence", "ctc", "triplet_margin", "poisson_nll", "gaussian_nll", "soft_margin",
    "hinge_embedding", "margin_ranking", "cosine_embedding", "multilabel_soft_margin",
    "multi_margin", "multilabel_margin", "smooth_l1",
})
# Names that are not the loss's name in CamelCase plus "Loss".
_NAMES = {"binary_focal_crossentropy": "FocalLoss",
          "categorical_focal_crossentropy": "CategoricalFocalLoss", "ntxent": "NTXentLoss",
          "general_robust_nll": "GeneralRobustNLLLoss",
          "generalized_kl_divergence": "GeneralizedKLDivergenceLoss",
          "poly_crossentropy": "PolyLoss",
          "categorical_generalized_crossentropy": "GeneralizedCrossEntropyLoss"}


def class_name(loss: str) -> str:
    """``tukey_biweight`` -> ``TukeyBiweightLoss``."""
    return _NAMES.get(loss, "".join(p.capitalize() for p in loss.split("_")) + "Loss")


class RegisteredLoss(Loss):
    """Base of the generated modules; ``_defaults`` holds the function's options."""

    _reductions = (*TORCH_REDUCTIONS, "weighted_mean")
    _defaults: dict[str, Any] = {}

    def __init__(self, *, reduction: str = "mean", **options: Any) -> None:
        owner = type(self).__name__
        unknown = options.keys() - self._defaults.keys()
        if unknown:
            raise TypeError(f"{owner}() got unknown option(s) {', '.join(sorted(unknown))}; "
                            f"its options are: {', '.join(self._defaults)}, reduction")
        tensors = {k: v for k, v in options.items() if k.endswith("weight") and v is not None}
        tensors = {k: as_buffer(owner, k, v) for k, v in tensors.items()}
        super().__init__(reduction, **{**options, **tensors})
        for name in self._defaults:
            if name.endswith("weight"):  # a buffer, None unless given
                self.register_buffer(name, tensors.get(name))
        for name, value in options.items():
            if name not in tensors:
                setattr(self, name, value)
        self._shown = tuple(options)

    def forward(self, input: torch.Tensor, target: Any, *more: Any,
                sample_weight: Any = None, mask: Any = None) -> torch.Tensor:
        spec = self.function.spec
        others = iter((target, *more))
        arrays = [input if name == spec.prediction else next(others, None)
                  for name in spec.inputs]
        options = {name: getattr(self, name) for name in self._shown}
        return self.call(input.device, *arrays, sample_weight=sample_weight, mask=mask,
                         reduction=self.reduction, **options)


def _make(loss: str) -> type[RegisteredLoss]:
    function = arrayloss.get(loss)
    spec = cast("LossFunction", function).spec
    parameters = inspect.signature(function).parameters
    defaults = {name: parameters[name].default for name in spec.public_options
                if name not in ("sample_weight", "mask", "reduction")}
    prediction = spec.prediction
    others = [n for n in spec.inputs if n != prediction]
    shown = ", ".join(f"{k}={v!r}" for k, v in defaults.items())
    summary = (inspect.getdoc(function) or "").split("\n\n")[0]
    doc = (
        f"``arrayloss.{loss}`` as a module: ``criterion(input, {', '.join(others)})`` "
        f"calls ``arrayloss.{loss}({', '.join(spec.inputs)}, ...)`` with ``input`` as "
        f"``{prediction}``.\n\nOptions (keyword-only, the function's): {shown}, "
        f"reduction='mean' (one of 'none', 'mean', 'sum', 'weighted_mean'); ``forward`` "
        f"also takes ``sample_weight=`` and ``mask=``.\n\n{summary}\n")
    name = class_name(loss)
    return type(name, (RegisteredLoss,), {
        "__doc__": doc, "__module__": "arrayloss.torch", "__qualname__": name,
        "_loss": loss, "_defaults": defaults})


def generated() -> dict[str, type[RegisteredLoss]]:
    """One module class per registered loss without a PyTorch-named module (the
    penalties ``l1``, ``l2`` and ``l1_l2`` take parameters, not ``(input, target)``)."""
    return {class_name(n): _make(n) for n in arrayloss.available()
            if n not in HAS_PYTORCH_MODULE and hasattr(arrayloss.get(n), "spec")}
