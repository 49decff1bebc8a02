r"""Closed-form derivatives of the classification losses with respect to ``y_pred``.

Every formula is the derivative of the loss's own body, through the same stable pieces:
``log_sigmoid``/``log_softmax`` from logits (derivatives written with ``sigmoid`` and
``softmax``, so logits of ±1e4 stay exact), and ``log_probability`` from probabilities
(slope ``1/p``, and PyTorch's 1e12 below its floor of -100, as the loss has).

Softmax losses share :func:`_through_classes`: for a loss ``Σ_c f(s_c)`` of the
log-probabilities ``s = log_softmax(z)`` (or ``log(p/Σp)``), it applies the chain rule
through the whole class axis, so the Hessian diagonal is exact, e.g. ``Σy·p(1 - p)`` for
cross-entropy from logits (the per-class diagonal boosting libraries use).
"""

from __future__ import annotations

import math
from typing import Any

from ._classification import (
    binary_logs,
    categorical_logs,
    class_weight_array,
    label_rows,
    smooth_binary,
    smooth_categorical,
)
from ._focal import _log_mix
from ._gradients_core import closed_form
from ._namespace import option_array
from ._stable import LOG_FLOOR, LOG_FLOOR_SLOPE, log1mexp, sigmoid, times_log


def _log_probability_slopes(xp: Any, p: Any) -> tuple[Any, Any]:
    """First and second derivative of ``log_probability(p)``: ``1/p`` and ``-1/p²``, or
    ``1e12`` and 0 where the log is floored (``p ≤ 0`` or ``log p < -100``)."""
    tiny = p <= 0
    safe = xp.where(tiny, xp.ones_like(p), p)  # double where: no 1/0 in the unused branch
    floored = tiny | (xp.log(safe) < LOG_FLOOR)
    inverse = 1.0 / safe
    return (xp.where(floored, xp.full_like(p, LOG_FLOOR_SLOPE), inverse),
            xp.where(floored, xp.zeros_like(p), -inverse * inverse))


def _binary_slopes(xp: Any, y_pred: Any, from_logits: bool) -> tuple[Any, ...]:
    """``(lp', lp'', lq', lq'')``: derivatives of ``log p`` and ``log(1 - p)``."""
    if from_logits:
        p, q = sigmoid(y_pred), sigmoid(-y_pred)  # both exact, no 1 - sigmoid cancellation
        return q, -p * q, -p, -p * q
    d_p, dd_p = _log_probability_slopes(xp, y_pred)
    d_q, dd_q = _log_probability_slopes(xp, 1.0 - y_pred)
    return d_p, dd_p, -d_q, dd_q


@closed_form("binary_crossentropy")
def _bce(xp: Any, y_true: Any, y_pred: Any, *, from_logits: bool, label_smoothing: float,
         pos_weight: Any) -> tuple[Any, Any]:
    y = smooth_binary(y_true, label_smoothing)
    dp, ddp, dq, ddq = _binary_slopes(xp, y_pred, from_logits)
    positive = y if pos_weight is None else option_array(
        xp, pos_weight, y_pred, name="pos_weight") * y
    return -(positive * dp + (1.0 - y) * dq), -(positive * ddp + (1.0 - y) * ddq)


def _softmax(xp: Any, z: Any, axis: int | tuple[int, ...]) -> Any:
    """``exp(z - m) / Σ exp(z - m)`` with the max shift ``m``, as the gradient of
    ``logsumexp`` is: exact for logits of ±1e4 (``exp(z - logsumexp(z))`` would carry the
    rounding of ``logsumexp ≈ 1e4`` in float32 into every probability)."""
    shift = xp.max(z, axis=axis, keepdims=True)
    # A row that is entirely -inf is shifted by 0, as in logsumexp.
    shift = xp.where(xp.isfinite(shift), shift, xp.zeros_like(shift))
    exponentials = xp.exp(z - shift)
    return exponentials / xp.sum(exponentials, axis=axis, keepdims=True)


def _through_classes(xp: Any, y_pred: Any, f1: Any, f2: Any, from_logits: bool,
                     axis: int | tuple[int, ...]) -> tuple[Any, Any]:
    """Gradient and Hessian diagonal of ``Σ_c f(s_c)`` w.r.t. ``y_pred``, given
    ``f1 = f'(s_c)`` and ``f2 = f''(s_c)`` per class, where ``s`` is the log-softmax of
    logits or the floored log of the renormalized probabilities ``q = p/Σp``.

    With ``J_cj = ds_c/dŷ_j`` and ``H_cj = d²s_c/dŷ_j²``: ``g_j = Σ_c f1_c J_cj`` and
    ``h_j = Σ_c f2_c J_cj² + f1_c H_cj``. Logits: ``J_cj = δ_cj - p_j``,
    ``H_cj = -p_j(1 - p_j)``. Probabilities (``L`` = ``log_probability``, ``S = Σp``):
    ``J_cj = L'(q_c)(δ_cj - q_c)/S``, ``H_cj = (L''(q_c)(δ_cj - q_c)² - 2L'(q_c)(δ_cj -
    q_c))/S²``. The sums over ``c`` expand into per-class terms and class-axis totals.
    """
    def total(x: Any) -> Any:
        return xp.sum(x, axis=axis, keepdims=True)

    if from_logits:
        p = _softmax(xp, y_pred, axis)
        gradient = f1 - p * total(f1)
        hessian = f2 * (1.0 - 2.0 * p) + p * p * total(f2) - p * (1.0 - p) * total(f1)
        return gradient, hessian
    size = total(y_pred)
    q = y_pred / size
    d1, d2 = _log_probability_slopes(xp, q)
    alpha = d1 / size  # J_cj = δ_cj·alpha_j + beta_c
    beta = -d1 * q / size
    gradient = f1 * alpha + total(f1 * beta)
    second = f2 * (alpha * alpha + 2.0 * alpha * beta) + total(f2 * beta * beta)
    curvature = (f1 * d2 * (1.0 - 2.0 * q) + total(f1 * d2 * q * q)
                 - 2.0 * f1 * d1 + 2.0 * total(f1 * d1 * q)) / (size * size)
    return gradient, second + curvature


@closed_form("categorical_crossentropy")
def _cce(xp: Any, y_true: Any, y_pred: Any, *, from_logits: bool, label_smoothing: float,
         class_weight: Any, axis: tuple[int, ...]) -> tuple[Any, Any]:
    # -Σ t_c s_c: f' = -t, f'' = 0 (class_weight is a per-sample weight of y_true only).
    t = smooth_categorical(y_true, label_smoothing, y_pred.shape[axis[0]])
    return _through_classes(xp, y_pred, -t, xp.zeros_like(y_pred), from_logits, axis)


def _label_targets(xp: Any, labels: Any, scores: Any, axis: int, ignore_index: Any,
                   label_smoothing: float, class_weight: Any) -> tuple[Any, Any]:
    """Per-class targets ``t`` with ``loss = -Σ t_c log p_c`` (PyTorch's smoothing, class
    weights divided by the label's own weight ``w_y``, which the core multiplies back),
    and where the sample's label is usable (in range and not ignored)."""
    rows, valid, keep = label_rows(xp, labels, scores, axis, ignore_index)
    targets = rows
    if label_smoothing > 0:
        spread = xp.ones_like(scores)
        if class_weight is not None:
            weights = class_weight_array(xp, class_weight, scores, axis)
            own = xp.sum(rows * weights, axis=axis, keepdims=True)
            own = xp.where(own == 0, xp.ones_like(own), own)  # as the loss's _nonzero
            spread = weights / own + xp.zeros_like(scores)
        num_classes = scores.shape[axis]
        targets = (1.0 - label_smoothing) * rows + label_smoothing / num_classes * spread
    usable = valid if keep is None else xp.logical_and(valid, keep)
    return targets, xp.expand_dims(usable, axis=axis)


@closed_form("sparse_categorical_crossentropy")
def _scce(xp: Any, labels: Any, y_pred: Any, *, from_logits: bool, ignore_index: Any,
          label_smoothing: float, class_weight: Any, axis: int) -> tuple[Any, Any]:
    t, usable = _label_targets(xp, labels, y_pred, axis, ignore_index, label_smoothing,
                               class_weight)
    g, h = _through_classes(xp, y_pred, -t, xp.zeros_like(y_pred), from_logits, axis)
    # An out-of-range label's value is a constant NaN and an ignored one a constant 0
    # (through `where`): no gradient flows to their scores.
    zero = xp.zeros_like(g)
    return xp.where(usable, g, zero), xp.where(usable, h, zero)


@closed_form("negative_log_likelihood")
def _nll(xp: Any, labels: Any, y_pred: Any, *, ignore_index: Any, class_weight: Any,
         axis: int) -> tuple[Any, Any]:
    t, usable = _label_targets(xp, labels, y_pred, axis, ignore_index, 0.0, None)
    zero = xp.zeros_like(y_pred)
    return xp.where(usable, -t, zero), zero  # linear in the log-probabilities


@closed_form("kl_divergence")
def _kld(xp: Any, y_true: Any, y_pred: Any, *, from_logits: bool,
         axis: tuple[int, ...]) -> tuple[Any, Any]:
    # Σ p log p - Σ p log q: only the second term depends on y_pred.
    zero = xp.zeros_like(y_pred)
    if from_logits:
        return _through_classes(xp, y_pred, -y_true, zero, True, axis)
    # q itself, not renormalized: element by element; p = 0 contributes 0 (`where`).
    d1, d2 = _log_probability_slopes(xp, y_pred)
    empty = y_true == 0
    return xp.where(empty, zero, -y_true * d1), xp.where(empty, zero, -y_true * d2)


def _signed(xp: Any, y_true: Any) -> Any:
    return xp.where(y_true == 0, -xp.ones_like(y_true), y_true)  # as the loss: 0 -> -1


@closed_form("hinge", zero_hessian=True)
def _hinge(xp: Any, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    s = _signed(xp, y_true)
    zero = xp.zeros_like(y_pred)
    # max(1 - s·ŷ, 0) has slope 0 at the margin (positive_part's convention).
    return xp.where(1.0 - s * y_pred > 0, -s + zero, zero), zero


@closed_form("squared_hinge")
def _squared_hinge(xp: Any, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    s = _signed(xp, y_true)
    margin = 1.0 - s * y_pred
    active = margin > 0
    zero = xp.zeros_like(y_pred)
    return xp.where(active, -2.0 * s * margin, zero), xp.where(active, 2.0 * s * s + zero, zero)


@closed_form("categorical_hinge", zero_hessian=True)
def _categorical_hinge(xp: Any, y_true: Any, y_pred: Any, *,
                       axis: tuple[int, ...]) -> tuple[Any, Any]:
    others = (1.0 - y_true) * y_pred
    largest = xp.max(others, axis=axis, keepdims=True)
    # The max's gradient is shared equally by tied maxima (JAX's rule for reduce_max).
    ties = xp.astype(others == largest, y_pred.dtype)
    d_negative = (1.0 - y_true) * ties / xp.sum(ties, axis=axis, keepdims=True)
    positive = xp.sum(y_true * y_pred, axis=axis, keepdims=True)
    active = largest - positive + 1.0 > 0
    zero = xp.zeros_like(y_pred)
    return xp.where(active, d_negative - y_true, zero), zero


@closed_form("binary_focal_crossentropy")
def _binary_focal(xp: Any, y_true: Any, y_pred: Any, *, apply_class_balancing: bool,
                  alpha: float, gamma: float, from_logits: bool,
                  label_smoothing: float) -> tuple[Any, Any]:
    # v = a·m^γ·CE, m = y·q + (1 - y)·p (= 1 - p_t), CE = -(y log p + (1 - y) log q).
    y = smooth_binary(y_true, label_smoothing)
    dp, ddp, dq, ddq = _binary_slopes(xp, y_pred, from_logits)
    ce1 = -(y * dp + (1.0 - y) * dq)
    ce2 = -(y * ddp + (1.0 - y) * ddq)
    scale = (alpha * y + (1.0 - alpha) * (1.0 - y)) if apply_class_balancing else 1.0
    if gamma == 0:  # m^0 is exactly 1 in the loss
        return scale * ce1, scale * ce2
    log_p, log_q = binary_logs(xp, y_pred, from_logits)
    ce = -(times_log(y, log_p) + times_log(1.0 - y, log_q))
    log_m = _log_mix(xp, y, log_q, log_p)
    # d log m = r_q·d log q + r_p·d log p with the shares r_q = y·q/m, r_p = (1 - y)·p/m,
    # computed in log space (exact when m, p or q underflow); a zero weight is share 0.
    minus_inf = xp.full_like(log_m, -math.inf)
    has_q, has_p = y > 0, y < 1
    r_q = xp.exp(xp.where(has_q, log_q + xp.log(xp.where(has_q, y, xp.ones_like(y))),
                          minus_inf) - log_m)
    r_p = xp.exp(xp.where(has_p, log_p + xp.log1p(-xp.where(has_p, y, xp.zeros_like(y))),
                          minus_inf) - log_m)
    d1 = r_q * dq + r_p * dp
    d2 = r_q * dq * dq + r_p * dp * dp - d1 * d1 + r_q * ddq + r_p * ddp
    power = xp.exp(gamma * log_m)
    gradient = scale * power * (gamma * d1 * ce + ce1)
    hessian = scale * power * (gamma * gamma * d1 * d1 * ce + 2.0 * gamma * d1 * ce1
                               + gamma * d2 * ce + ce2)
    return gradient, hessian


@closed_form("categorical_focal_crossentropy")
def _categorical_focal(xp: Any, y_true: Any, y_pred: Any, *, alpha: float, gamma: float,
                       from_logits: bool, label_smoothing: float,
                       axis: tuple[int, ...]) -> tuple[Any, Any]:
    # -α Σ_c y_c f(s_c) with f(s) = M(s)·s, M = (1 - e^s)^γ = exp(γ t), t = log1mexp(s):
    #   f'  = M + γ s (M t'),   f'' = γ² s (M t'²) + 2γ (M t') + γ s (M t''),
    # t' = -e^s/(1 - e^s), t'' = -e^s/(1 - e^s)², and the products with M written in log
    # space: M t' = -exp(s + (γ-1)t), M t'² = exp(2s + (γ-2)t), M t'' = -exp(s + (γ-2)t).
    y = smooth_categorical(y_true, label_smoothing, y_pred.shape[axis[0]])
    s = categorical_logs(xp, y_pred, from_logits, axis)
    zero = xp.zeros_like(s)
    if gamma == 0:
        f1, f2 = -alpha * y + zero, zero
    else:
        # At s = 0 (p = 1) log1mexp's `where` makes M a constant 0: no derivative there.
        inside = s < 0
        safe_s = xp.where(inside, s, -xp.ones_like(s))
        t = log1mexp(safe_s)
        m = xp.exp(gamma * t)
        m_t1 = -xp.exp(safe_s + (gamma - 1.0) * t)
        m_t1_sq = xp.exp(2.0 * safe_s + (gamma - 2.0) * t)
        m_t2 = -xp.exp(safe_s + (gamma - 2.0) * t)
        f1 = m + gamma * safe_s * m_t1
        f2 = gamma * gamma * safe_s * m_t1_sq + 2.0 * gamma * m_t1 + gamma * safe_s * m_t2
        keep = inside & (y != 0)  # times_log: a zero target contributes a constant 0
        f1 = xp.where(keep, -alpha * y * f1, zero)
        f2 = xp.where(keep, -alpha * y * f2, zero)
    return _through_classes(xp, y_pred, f1, f2, from_logits, axis)
