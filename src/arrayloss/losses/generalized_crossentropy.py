r"""The generalized cross-entropy of Zhang and Sabuncu (2018), on integer labels.

Keras 3's ``categorical_generalized_cross_entropy``: ``(1 - p_y^q)/q``, between the
cross-entropy (``q → 0``) and the mean absolute error of the probabilities (``q = 1``).
``p_y^q`` is written ``exp(q·log p_y)`` so that the probability's log comes from the same
helpers as the cross-entropies' (floored at -100 for probabilities, a log-softmax for
logits).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Annotated, Any

from ..core.chain_rule import closed_form
from ..core.define import PerSample, define_loss
from ..core.options import Flag, Interval
from ..core.stable import log_probability, logsumexp, one_hot_like
from ._classes import (
    CLASSIFICATION,
    log_probability_slopes,
    pick,
    through_classes,
    usable_labels,
)

__all__ = ["categorical_generalized_crossentropy"]

# Keras's class refuses q = 1, where the loss is 1 - p_y; the formula is defined there.
_Q = Annotated[float, Interval(low=0, high=1, low_open=True)]


def _label_log(xp: Any, y_pred: Any, safe: Any, from_logits: bool, axis: int) -> Any:
    """``log p_y`` of each sample: the label's log-softmax, or its floored log."""
    if from_logits:
        # A gather of the label's logit minus the row's logsumexp: the log-softmax at one
        # entry, exact for logits of ±1e4 (no probability is formed).
        return pick(xp, y_pred, safe, axis) - logsumexp(y_pred, axis=axis)
    # Keras takes the label's probability as it is (no renormalization over the classes).
    return log_probability(pick(xp, y_pred, safe, axis))


@define_loss("categorical_generalized_crossentropy", family=CLASSIFICATION,
             aliases=("generalized_crossentropy", "gce"), kind="labels")
def categorical_generalized_crossentropy(
    xp: Any,
    y_true: Any,
    y_pred: Any,
    *,
    q: _Q = 0.5,
    from_logits: Flag = False,
    axis: int,
) -> Any:
    r"""Generalized cross-entropy (Zhang and Sabuncu, 2018) with integer labels.

    .. math:: \ell = \frac{1 - p_y^{\,q}}{q}, \quad 0 < q \le 1

    Robust to noisy labels: the gradient of a confidently wrong sample fades as ``p_y`` goes
    to 0 (``q → 0`` is the cross-entropy, ``q = 1`` is ``1 - p_y``). ``y_true`` holds one
    integer label per sample, as for ``sparse_categorical_crossentropy``; a label outside
    ``[0, C)`` gives NaN for its sample. Keras's
    ``categorical_generalized_cross_entropy(y_true, y_pred, q)`` (probabilities, ``q`` in
    ``(0, 1)``) gives the same values. ``from_logits=True`` reads ``y_pred`` as logits:
    ``p_y^q = exp(q·log_softmax(y_pred)_y)``, finite for logits of ±1e4. Near ``p_y = 1``,
    where ``1 - p_y^q`` cancels, the value is ``-expm1(q·log p_y)/q``. Where Keras's
    gradient is infinite or NaN (``p_y = 0``: ``q·p^(q-1)`` is infinite, and its one-hot
    product makes the other classes' entries ``0·inf``), the probability's log is floored at
    -100 as in the cross-entropies, so the gradient is finite and 0 off the label. Only the
    label's probability is read, as by ``negative_log_likelihood``: a NaN elsewhere in its
    row is not part of the value (Keras's one-hot product reads every entry); with logits
    the whole row counts.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> p = xp.asarray([[0.75, 0.25], [0.36, 0.64]])
    >>> arrayloss.categorical_generalized_crossentropy(xp.asarray([0, 1]), p,
    ...                                                reduction="none")
    Array([0.26794919, 0.4       ], dtype=array_api_strict.float64)
    """
    safe, valid, _ = usable_labels(xp, y_true, y_pred.shape[axis], axis, None)
    log_p = _label_log(xp, y_pred, safe, from_logits, axis)
    # 1 - p^q as -expm1(q·log p) where p^q > 1/2 (no cancellation for p near 1), and as
    # 1 - exp(q·log p) below, where nothing cancels: the backward of expm1 (its value + 1
    # in PyTorch and JAX) would lose digits there, e^-30 read as 1 - (1 - e^-30).
    scaled = q * log_p
    near_one = scaled > -math.log(2.0)
    values = xp.where(near_one, -xp.expm1(scaled), 1.0 - xp.exp(scaled)) / q
    return PerSample(values, invalid=~valid)


@closed_form("categorical_generalized_crossentropy")
def _gce(xp: Any, labels: Any, y_pred: Any, *, q: float, from_logits: bool,
         axis: int) -> Iterator[Any]:
    # ℓ = f(s) with s = log p_y and f(s) = -expm1(q·s)/q: f' = -e^(qs), f'' = -q·e^(qs).
    safe, valid, _ = usable_labels(xp, labels, y_pred.shape[axis], axis, None)
    rows = one_hot_like(safe, y_pred, axis=axis)
    usable = xp.expand_dims(valid, axis=axis)
    zero = xp.zeros_like(y_pred)
    s = xp.expand_dims(_label_log(xp, y_pred, safe, from_logits, axis), axis=axis)
    power = xp.exp(q * s)
    if from_logits:
        # Σ_c t_c f(s_c) with the one-hot t: the shared log-softmax chain rule.
        f1 = -power * rows
        for derivative in through_classes(xp, y_pred, f1, lambda: q * f1, True, axis):
            yield xp.where(usable, derivative, zero)
        return
    # s = L(p_y) with L the floored log: only the label's entry moves,
    # dℓ/dp_y = f'(s)·L'(p_y) and d²ℓ/dp_y² = f''(s)·L'² + f'(s)·L''.
    p = xp.expand_dims(pick(xp, y_pred, safe, axis), axis=axis)
    d1, d2 = log_probability_slopes(xp, p)
    yield xp.where(usable, -power * d1 * rows, zero)
    yield xp.where(usable, -power * (q * d1 * d1 + d2) * rows, zero)
