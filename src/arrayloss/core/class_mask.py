"""A mask inside the class axis (optax's ``where=`` of the logits' shape): the masked
classes leave the loss, as if the class did not exist.

A loss that takes such a mask declares how a class is left out of its formula
(``define_loss(..., class_mask=...)``): for the softmax losses a logit of ``-inf`` (a
probability of 0) and a target of 0, which those formulas already count as exactly 0
(``times_log``), so the softmax is taken over the other classes only. A sample whose every
class is masked leaves the reduction, as a masked sample does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .reduction import as_bool
from .shapes import same_shape

__all__ = ["is_class_mask", "leave_out_classes"]


def is_class_mask(mask: Any, prediction_shape: tuple[int, ...],
                  class_axes: Sequence[int]) -> bool:
    """Whether ``mask`` has the prediction's whole shape, class axes included (of more
    than one class: over one class, a mask of the sample is the same mask)."""
    size = 1
    for a in class_axes:
        size *= prediction_shape[a]
    return (mask is not None and size > 1 and len(mask.shape) == len(prediction_shape)
            and same_shape(tuple(mask.shape), prediction_shape))


def leave_out_classes(xp: Any, name: str, rule: Callable[..., Any] | None, mask: Any,
                      data: list[Any], options: dict[str, Any],
                      class_axes: tuple[int, ...]) -> tuple[list[Any], Any, Any]:
    """``data`` with the masked classes left out by the loss's ``rule``, the per-sample
    mask (the samples with at least one class) and the class mask as booleans."""
    if rule is None:
        raise ValueError(
            f"{name}(): a mask of y_pred's shape {tuple(mask.shape)} masks classes inside the "
            f"class axis, which {name} does not take (the softmax losses do: "
            f"categorical_crossentropy, sparse_categorical_crossentropy, kl_divergence, "
            f"categorical_focal_crossentropy, poly_crossentropy); pass a mask of the "
            f"per-sample values' shape instead")
    mask = as_bool(xp, mask)
    data = list(rule(xp, mask, *data, **options))
    return data, xp.any(mask, axis=class_axes), mask
