r"""Margin (hinge) losses on raw scores.

Labels are ``{-1, 1}``; a label of exactly 0 is read as -1, element by element, so ``{0, 1}``
labels work too without Keras's data-dependent branch (Keras converts ``{0, 1}`` labels
only when *every* label of the batch is 0 or 1, which a traced function cannot decide).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..core.chain_rule import closed_form
from ..core.define import define_loss
from ..core.stable import clip, max_slope, positive_part, reduce_max, replace_where
from ._classes import CLASSIFICATION

__all__ = ["binary_sparsemax", "categorical_hinge", "hinge", "perceptron", "squared_hinge"]


def _signed(xp: Any, y_true: Any) -> Any:
    # 0 -> -1 element by element: a `where` is traceable and leaves ±1 (and any other
    # value) unchanged.
    return replace_where(y_true == 0, -1.0, y_true)


@define_loss("hinge", family=CLASSIFICATION)
def hinge(xp: Any, y_true: Any, y_pred: Any) -> Any:
    r"""Hinge loss, averaged over ``axis`` (default: the last axis).

    .. math:: \ell = \operatorname{mean}_{axis} \max(1 - y\,\hat y, 0),
              \quad y \in \{-1, 1\} \;(0 \text{ is read as } -1)

    Keras ``hinge``; optax ``hinge_loss(scores, labels)`` (which takes ``{-1, 1}`` only);
    scikit-learn ``hinge_loss(y, decision)`` for binary labels is the ``"mean"`` of 1-D
    inputs. At the kink ``y·ŷ = 1`` the gradient is 0 on every backend.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.hinge(xp.asarray([1.0, 0.0]), xp.asarray([0.25, 0.5]), reduction="none")
    Array([0.75, 1.5 ], dtype=array_api_strict.float64)
    """
    return positive_part(1.0 - _signed(xp, y_true) * y_pred)


@closed_form("hinge", zero_hessian=True)
def _hinge(xp: Any, y_true: Any, y_pred: Any) -> Iterator[Any]:
    s = _signed(xp, y_true)
    zero = xp.zeros_like(y_pred)
    # max(1 - s·ŷ, 0) has slope 0 at the margin (positive_part's convention).
    yield xp.where(1.0 - s * y_pred > 0, -s + zero, zero)
    yield zero


@define_loss("squared_hinge", family=CLASSIFICATION)
def squared_hinge(xp: Any, y_true: Any, y_pred: Any) -> Any:
    r"""Squared hinge loss, averaged over ``axis`` (default: the last axis).

    .. math:: \ell = \operatorname{mean}_{axis} \max(1 - y\,\hat y, 0)^2

    Keras ``squared_hinge``; torchmetrics ``binary_hinge_loss(squared=True)``.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.squared_hinge(xp.asarray([-1.0]), xp.asarray([1.0]), reduction="none")
    Array([4.], dtype=array_api_strict.float64)
    """
    return positive_part(1.0 - _signed(xp, y_true) * y_pred) ** 2


@closed_form("squared_hinge")
def _squared_hinge(xp: Any, y_true: Any, y_pred: Any) -> Iterator[Any]:
    s = _signed(xp, y_true)
    margin = 1.0 - s * y_pred
    active = margin > 0
    zero = xp.zeros_like(y_pred)
    yield xp.where(active, -2.0 * s * margin, zero)
    yield xp.where(active, 2.0 * s * s + zero, zero)


@define_loss("categorical_hinge", family=CLASSIFICATION, kind="axis")
def categorical_hinge(xp: Any, y_true: Any, y_pred: Any, *, axis: tuple[int, ...]) -> Any:
    r"""Categorical hinge loss over the class ``axis`` (default -1), Keras's formula.

    .. math:: \ell = \max(\text{neg} - \text{pos} + 1, 0), \quad
              \text{pos} = \sum y\,\hat y, \quad \text{neg} = \max\,(1 - y)\,\hat y

    ``y_true`` is one-hot. As in Keras, the true class enters ``neg`` as 0, so when every
    other score is negative ``neg`` is 0. optax's ``multiclass_hinge_loss`` (Crammer–Singer)
    takes the max over the other classes only; PyTorch's ``F.multi_margin_loss`` sums the
    margins over classes and divides by ``C`` (Weston–Watkins): neither is this formula.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.categorical_hinge(xp.asarray([[0.0, 1.0, 0.0]]),
    ...                             xp.asarray([[0.5, 1.0, 0.75]]), reduction="none")
    Array([0.75], dtype=array_api_strict.float64)
    """
    positive = xp.sum(y_true * y_pred, axis=axis)
    negative = reduce_max((1.0 - y_true) * y_pred, axis=axis)
    return positive_part(negative - positive + 1.0)


@closed_form("categorical_hinge", zero_hessian=True)
def _categorical_hinge(xp: Any, y_true: Any, y_pred: Any, *,
                       axis: tuple[int, ...]) -> Iterator[Any]:
    others = (1.0 - y_true) * y_pred
    largest = xp.max(others, axis=axis, keepdims=True)
    d_negative = (1.0 - y_true) * max_slope(others, axis=axis)
    positive = xp.sum(y_true * y_pred, axis=axis, keepdims=True)
    active = largest - positive + 1.0 > 0
    zero = xp.zeros_like(y_pred)
    yield xp.where(active, d_negative - y_true, zero)
    yield zero


@define_loss("perceptron", family=CLASSIFICATION)
def perceptron(xp: Any, y_true: Any, y_pred: Any) -> Any:
    r"""Perceptron loss, averaged over ``axis`` (default: the last axis): the hinge without
    its margin, 0 once the score has the label's sign.

    .. math:: \ell = \operatorname{mean}_{axis} \max(-y\,\hat y, 0),
              \quad y \in \{-1, 1\} \;(0 \text{ is read as } -1)

    optax ``perceptron_loss(scores, targets)`` (``{-1, 1}`` targets) is
    ``perceptron(targets, scores, axis=(), reduction="none")``. At ``y·ŷ = 0`` the slope is
    0 (ReLU's convention); optax's ``maximum`` gives half the slope there under
    ``jax.grad``.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.perceptron(xp.asarray([1.0, 0.0]), xp.asarray([0.25, 0.5]), axis=(),
    ...                      reduction="none")
    Array([0. , 0.5], dtype=array_api_strict.float64)
    """
    return positive_part(-_signed(xp, y_true) * y_pred)


@closed_form("perceptron", zero_hessian=True)
def _perceptron(xp: Any, y_true: Any, y_pred: Any) -> Iterator[Any]:
    s = _signed(xp, y_true)
    zero = xp.zeros_like(y_pred)
    yield xp.where(-s * y_pred > 0, -s + zero, zero)
    yield zero


@define_loss("binary_sparsemax", family=CLASSIFICATION)
def binary_sparsemax(xp: Any, y_true: Any, y_pred: Any) -> Any:
    r"""Binary sparsemax loss (Blondel et al., 2020), averaged over ``axis`` (default: the
    last axis): the Fenchel–Young loss whose prediction is the sparse sigmoid
    ``clip((ŷ + 1)/2, 0, 1)``, so it is 0 once ``y·ŷ ≥ 1``, quadratic inside the margin
    and linear beyond.

    .. math:: \ell = \operatorname{sparseplus}(-y\,\hat y), \quad
              \operatorname{sparseplus}(x) = \begin{cases} 0 & x \le -1 \\
              (x + 1)^2 / 4 & |x| < 1 \\ x & x \ge 1 \end{cases},
              \quad y \in \{-1, 1\} \;(0 \text{ is read as } -1)

    optax ``sparsemax_loss(logits, labels)`` (``{0, 1}`` labels) is
    ``binary_sparsemax(labels, logits, axis=(), reduction="none")``. Its slope is
    continuous (``-y·clip((1 - yŷ)/2, 0, 1)``), so there is no kink to choose a slope at.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.binary_sparsemax(xp.asarray([1.0, 0.0, 1.0]), xp.asarray([0.0, 0.5, 3.0]),
    ...                            axis=(), reduction="none")
    Array([0.25  , 0.5625, 0.    ], dtype=array_api_strict.float64)
    """
    x = -_signed(xp, y_true) * y_pred
    # sparseplus as the quadratic at x clipped to [-1, 1] plus the linear part beyond 1:
    # exact for any |x| (the difference of two squares (x+1)²/4 - (x-1)²/4 would lose every
    # digit of a score of 1e8), with no `where` chain.
    c = clip(x, -1.0, 1.0)
    return 0.25 * (c + 1.0) * (c + 1.0) + positive_part(x - 1.0)


@closed_form("binary_sparsemax")
def _binary_sparsemax(xp: Any, y_true: Any, y_pred: Any) -> Iterator[Any]:
    # d/dŷ sparseplus(-s·ŷ) = -s·clip((x + 1)/2, 0, 1), then s²/2 inside |x| < 1 (0 at
    # and beyond the knots, where the slope is continuous but the curvature jumps).
    s = _signed(xp, y_true)
    x = -s * y_pred
    yield -s * clip(0.5 * (x + 1.0), 0.0, 1.0)
    inside = xp.astype(xp.abs(x) < 1.0, y_pred.dtype)
    yield 0.5 * s * s * inside
