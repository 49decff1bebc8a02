r"""Focal losses (Lin et al., 2017), computed in log space.

Keras takes ``sigmoid``/``softmax`` of the logits and then clips the probabilities at 1e-7,
so a confidently wrong logit of 1e4 gives a loss of 15.94 with a zero gradient. Here the
modulating factor ``(1 - p_t)^γ`` and the cross-entropy both come from log-probabilities
(``log_sigmoid``, ``log_softmax``), so that logit gives its true loss, about 1e4, and a
gradient of the right sign.
"""

from __future__ import annotations

import math
from typing import Any

from ._classification import (
    CLASSIFICATION,
    binary_logs,
    categorical_logs,
    check_class_axis,
    smooth_binary,
    smooth_categorical,
)
from ._crossentropy import weighted_log
from ._define import define_loss
from ._options import Flag, Fraction, NonNegative
from ._stable import log1mexp

__all__ = ["binary_focal_crossentropy", "categorical_focal_crossentropy"]


def _power_from_log(xp: Any, log_x: Any, gamma: float) -> Any:
    """``x^γ`` from ``log x``: ``exp(γ·log x)``, 0 at ``log x = -inf`` with a zero gradient
    (``power(x, γ)`` has an infinite derivative at ``x = 0`` for ``γ < 1``). ``γ = 0``
    is exactly 1, also where ``log x = -inf`` (``0·(-inf)`` would be NaN)."""
    if gamma == 0:
        return xp.ones_like(log_x)
    return xp.exp(gamma * log_x)


def _log_mix(xp: Any, y: Any, log_a: Any, log_b: Any) -> Any:
    """``log(y·a + (1 - y)·b)`` from ``log a`` and ``log b``, for a label ``y`` in [0, 1].

    A ``logaddexp`` of the two weighted terms; a term whose weight is exactly 0 becomes
    ``-inf`` through a ``where`` (``logaddexp(-inf, t) = t`` with gradient 1 to ``t``),
    and the double ``where`` keeps ``log 0`` of a zero weight out of the gradient, so hard
    labels cost one exact log-probability and soft labels mix the two exactly.
    """
    has_a = y > 0
    has_b = y < 1
    minus_inf = xp.full_like(log_a, -math.inf)
    term_a = log_a + xp.log(xp.where(has_a, y, xp.ones_like(y)))
    term_b = log_b + xp.log1p(-xp.where(has_b, y, xp.zeros_like(y)))
    return xp.logaddexp(xp.where(has_a, term_a, minus_inf), xp.where(has_b, term_b, minus_inf))


@define_loss("binary_focal_crossentropy", family=CLASSIFICATION,
             aliases=("focal", "binary_focal"))
def binary_focal_crossentropy(
    xp: Any,
    y_true: Any,
    y_pred: Any,
    *,
    apply_class_balancing: Flag = False,
    alpha: Fraction = 0.25,
    gamma: NonNegative = 2.0,
    from_logits: Flag = False,
    label_smoothing: Fraction = 0.0,
) -> Any:
    r"""Binary focal cross-entropy, averaged over ``axis`` (default: the last axis).

    .. math:: \ell = \operatorname{mean}_{axis}\, a\,(1 - p_t)^\gamma\,
              \mathrm{BCE}(y, p), \quad 1 - p_t = y(1 - p) + (1 - y)\,p

    with ``a = α·y + (1 - α)(1 - y)`` if ``apply_class_balancing`` else 1, and the label
    smoothed as in :func:`binary_crossentropy`. Keras's ``binary_focal_crossentropy``
    values; optax's ``sigmoid_focal_loss(logits, labels, alpha=None, gamma)`` is
    ``from_logits=True``, and its ``alpha=a`` (torchvision's default 0.25) is
    ``apply_class_balancing=True, alpha=a``. ``1 - p_t`` is ``exp(log_sigmoid(∓z))``,
    so a logit of ``1e4`` on the wrong side gives a loss of ``1e4`` (Keras: 15.94).

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> loss = arrayloss.binary_focal_crossentropy(
    ...     xp.asarray([[0.0]]), xp.asarray([[1e4]], dtype=xp.float32), from_logits=True)
    >>> float(loss)
    10000.0
    """
    y = smooth_binary(y_true, label_smoothing)
    log_p, log_q = binary_logs(xp, y_pred, from_logits)
    cross_entropy = -(weighted_log(xp, y, log_p) + weighted_log(xp, 1.0 - y, log_q))
    values = _power_from_log(xp, _log_mix(xp, y, log_q, log_p), gamma) * cross_entropy
    if apply_class_balancing:
        values = (alpha * y + (1.0 - alpha) * (1.0 - y)) * values
    return values


@define_loss("categorical_focal_crossentropy", family=CLASSIFICATION,
             aliases=("categorical_focal",), kind="axis")
def categorical_focal_crossentropy(
    xp: Any,
    y_true: Any,
    y_pred: Any,
    *,
    alpha: Fraction = 0.25,
    gamma: NonNegative = 2.0,
    from_logits: Flag = False,
    label_smoothing: Fraction = 0.0,
    axis: tuple[int, ...],
) -> Any:
    r"""Categorical focal cross-entropy over the class ``axis`` (default -1).

    .. math:: \ell = -\sum_c \alpha\,(1 - p_c)^\gamma\, y_c \log p_c

    Keras's ``categorical_focal_crossentropy``: ``α`` always applies, probabilities are
    renormalized over the class axis, labels smoothed as in
    :func:`categorical_crossentropy`. ``log(1 - p_c)`` is ``log1mexp(log p_c)`` of the
    log-softmax, exact for confidently right and wrong logits alike.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> loss = arrayloss.categorical_focal_crossentropy(
    ...     xp.asarray([[1.0, 0.0]]), xp.asarray([[0.0, 1e4]], dtype=xp.float32),
    ...     from_logits=True, alpha=1.0)
    >>> float(loss)
    10000.0
    """
    class_axis = check_class_axis("categorical_focal_crossentropy", axis)
    y = smooth_categorical(y_true, label_smoothing, y_pred.shape[class_axis])
    log_p = categorical_logs(xp, y_pred, from_logits, class_axis)
    modulation = _power_from_log(xp, log1mexp(log_p), gamma)
    return -alpha * xp.sum(modulation * weighted_log(xp, y, log_p), axis=class_axis)
