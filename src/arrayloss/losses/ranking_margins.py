r"""PyTorch's ranking margin loss on pairs of scores: margin ranking.

Labels are ``{-1, 1}`` as in PyTorch (1: the first score should rank higher, -1: the
second), taken as they are: any other value scales the difference, as in
``F.margin_ranking_loss``. The closed-form derivatives are taken with respect to the first
score ``input1``; the loss depends on ``input1 - input2`` only, so those with respect to
``input2`` are their negatives (first) and themselves (second).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..core.chain_rule import closed_form
from ..core.define import define_loss
from ..core.stable import positive_part
from ._classes import CLASSIFICATION
from .embedding_margins import Margin

__all__ = ["margin_ranking"]


def _same_shape(xp: Any, input1: Any, input2: Any) -> Any:
    # define_loss reconciles y_true with input1 only (the first pair); input2 must have
    # input1's shape, or one value for all (broadcast, as PyTorch does).
    if tuple(input2.shape) == tuple(input1.shape):
        return input2
    if input2.ndim == 0:
        return xp.broadcast_to(input2, input1.shape)
    raise ValueError(
        f"input1 and input2 must have the same shape; got input1.shape={tuple(input1.shape)} "
        f"and input2.shape={tuple(input2.shape)}")


@define_loss("margin_ranking", family=CLASSIFICATION, inputs=("y_true", "input1", "input2"),
             prediction="input1")
def margin_ranking(xp: Any, y_true: Any, input1: Any, input2: Any, *,
                   margin: Margin = 0.0) -> Any:
    r"""Margin ranking loss of two scores, averaged over ``axis`` (default: the last axis
    of inputs with 2 or more axes; 1-D inputs give one value per pair).

    .. math:: \ell = \operatorname{mean}_{axis} \max\big(0,\,
              -y\,(x_1 - x_2) + \text{margin}\big), \quad y \in \{-1, 1\}

    ``y = 1`` asks ``x₁`` to exceed ``x₂`` by ``margin``, ``y = -1`` the reverse. PyTorch
    ``F.margin_ranking_loss(input1, input2, target, margin, reduction="none")`` is
    ``margin_ranking(target, input1, input2, margin=margin, axis=(), reduction="none")``
    (the target first, as every arrayloss loss), and PyTorch's ``"mean"`` of 1-D inputs is
    ``margin_ranking(target, input1, input2, margin=margin)``. Labels are not converted (0
    gives ``max(margin, 0)``). At the kink ``y·(x₁ - x₂) = margin`` the gradient is 0
    (ReLU's convention; PyTorch's ``clamp_min`` passes the slope there).

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.margin_ranking(xp.asarray([1.0, -1.0]), xp.asarray([0.5, 0.5]),
    ...                          xp.asarray([1.0, 0.0]), margin=0.25, reduction="none")
    Array([0.75, 0.75], dtype=array_api_strict.float64)
    """
    input2 = _same_shape(xp, input1, input2)
    return positive_part(margin - y_true * (input1 - input2))


@closed_form("margin_ranking", zero_hessian=True)
def _margin_ranking(xp: Any, y_true: Any, input1: Any, input2: Any, *,
                    margin: float) -> Iterator[Any]:
    # max(0, m - y·(x₁ - x₂)) in x₁: -y where the hinge is active (slope 0 at the kink,
    # positive_part's convention), then 0. NaN comes from the body's mask.
    input2 = _same_shape(xp, input1, input2)
    zero = xp.zeros_like(input1)
    active = margin - y_true * (input1 - input2) > 0
    yield xp.where(active, -y_true + zero, zero)
    yield zero
