r"""Focal losses (Lin et al., 2017), computed in log space, and PolyLoss (Leng et al.,
2022), the cross-entropy with the first term of its expansion in ``1 - p_t`` reweighted.

Keras takes ``sigmoid``/``softmax`` of the logits and then clips the probabilities at 1e-7,
so a confidently wrong logit of 1e4 gives a loss of 15.94 with a zero gradient. Here the
modulating factor ``(1 - p_t)^γ`` and the cross-entropy both come from log-probabilities
(``log_sigmoid``, ``log_softmax``), so that logit gives its true loss, about 1e4, and a
gradient of the right sign.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Annotated, Any

from ..core.chain_rule import closed_form
from ..core.define import define_loss
from ..core.native import (
    closed_backward_allowed,
    finite_logits,
    finite_or_formula,
    host_checks_allowed,
)
from ..core.options import Flag, Fraction, Interval, NonNegative, equals_number, is_jax_scalar
from ..core.stable import log1mexp, times_log
from ._classes import (
    CLASSIFICATION,
    binary_curvatures,
    binary_logs,
    binary_slopes,
    categorical_logs,
    check_class_axis,
    smooth_binary,
    smooth_categorical,
    through_classes,
    without_classes,
)

# PolyLoss's ε: from -1, where the loss still decreases as p_t grows (Leng et al., 2022).
PolyEpsilon = Annotated[float, Interval(low=-1.0)]

__all__ = [
    "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
    "poly_crossentropy",
]


def _power_from_log(xp: Any, log_x: Any, gamma: float) -> Any:
    """``x^γ`` from ``log x``: ``exp(γ·log x)``, 0 at ``log x = -inf`` with a zero gradient
    (``power(x, γ)`` has an infinite derivative at ``x = 0`` for ``γ < 1``). ``γ = 0``
    is exactly 1, also where ``log x = -inf`` (``0·(-inf)`` would be NaN)."""
    if equals_number(gamma, 0):
        return xp.ones_like(log_x)
    return xp.exp(gamma * log_x)


def _log_mix(xp: Any, y: Any, log_a: Any, log_b: Any) -> Any:
    """``log(y·a + (1 - y)·b)`` from ``log a`` and ``log b``, for a label ``y`` in [0, 1].

    Inside ``(0, 1)``: a ``logaddexp`` of the two weighted terms, exact for any mix. At a
    hard label the mix is one log-probability, written so that its derivative with respect
    to ``y`` is kept (a learned or distilled label still gets a gradient): at ``y = 0``
    ``log b + log1p(y·expm1(log a - log b))``, whose value is exactly ``log b`` and whose
    ``y``-derivative is ``(a - b)/b``; at ``y = 1`` the same with the roles swapped. Every
    branch sees arguments where it is finite (double ``where``), and the exponent is capped
    below the log of the largest float so ``expm1`` never overflows (``b = 0`` exactly: a
    perfect prediction from an infinite logit).
    """
    at_zero, at_one = y == 0, y == 1
    interior = ~(at_zero | at_one)
    half = xp.full_like(y, 0.5)
    inner_y = xp.where(interior, y, half)
    inner = xp.logaddexp(log_a + xp.log(inner_y), log_b + xp.log1p(-inner_y))
    cap = math.log(xp.finfo(y.dtype).max) - 1.0  # expm1(cap) is finite once rounded
    zero = xp.zeros_like(log_a)

    def edge(at: Any, weight: Any, log_hi: Any, log_lo: Any) -> Any:
        # log_lo + log1p(weight·expm1(log_hi - log_lo)) with weight = 0 at the edge.
        gap = xp.where(at & xp.isfinite(log_lo), log_hi - log_lo, zero)
        gap = xp.where(gap > cap, xp.full_like(gap, cap), gap)
        return log_lo + xp.log1p(weight * xp.expm1(gap))

    return xp.where(at_zero, edge(at_zero, y, log_a, log_b),
                    xp.where(at_one, edge(at_one, 1.0 - y, log_b, log_a), inner))


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
    cross_entropy = -(times_log(y, log_p) + times_log(1.0 - y, log_q))
    if not is_jax_scalar(gamma) and gamma >= 1:
        # 1 - p_t = y·q + (1 - y)·p is a sum of two non-negative terms, exact as it is
        # (q is exp(log q), not 1 - p, which would round to 0 for a large logit); and
        # m^γ has the finite slope γ·m^(γ-1) also where m underflows to 0.
        if from_logits:
            mix = y * xp.exp(log_q) + (1.0 - y) * xp.exp(log_p)
        else:
            mix = y * (1.0 - y_pred) + (1.0 - y) * y_pred
        modulation = mix if gamma == 1 else mix**gamma
    else:  # m^γ's slope is infinite at m = 0 for γ < 1: from log m, with the slope 0 there
        # (also the form of a traced γ, which the Python test above cannot read)
        modulation = _power_from_log(xp, _log_mix(xp, y, log_q, log_p), gamma)
    values = modulation * cross_entropy
    if apply_class_balancing:
        values = (alpha * y + (1.0 - alpha) * (1.0 - y)) * values
    return values


@binary_focal_crossentropy.native("torch")
def _binary_focal_torch(xp: Any, y_true: Any, y_pred: Any, *, apply_class_balancing: bool,
                        alpha: float, gamma: float, from_logits: bool,
                        label_smoothing: float) -> Any:
    # The formula with PyTorch's fused BCE from logits (one kernel each way) and its
    # sigmoid: the same values wherever every logit is finite. An infinite logit makes the
    # fused BCE inf - inf = NaN or inf, so where the result can be read on the host, one
    # that is not finite is recomputed by the formula (0 for a perfect infinite logit).
    # Elsewhere (torch.compile, torch.func, accelerators) the logits are clamped to the
    # finite floats as in `bce`'s kernel: the formula's masks of 0·log 0 compile into slow
    # selects, and the clamp gives the same values except a wrong infinite logit, which
    # costs the largest float instead of inf.
    if not from_logits or gamma < 1:
        return NotImplemented
    import torch  # ok: torch kernel, torch tensors only
    from torch.nn import functional  # ok: torch kernel, torch tensors only

    checked = host_checks_allowed(y_pred)
    y = smooth_binary(y_true, label_smoothing)
    if (closed_backward_allowed(y_pred) and not y_true.requires_grad
            and type(gamma) in (int, float)):
        # The same values with the closed-form backward (_logistic_torch.py), in eager
        # PyTorch and under torch.compile; a target with a gradient takes autograd.
        from ._logistic_torch import MeanBinaryFocal  # ok: torch tensors only

        balance = (alpha * y + (1.0 - alpha) * (1.0 - y)) if apply_class_balancing else None
        loss = MeanBinaryFocal.apply(y, y_pred, balance, float(gamma), not checked)
        return finite_or_formula(loss) if checked else loss
    logits = y_pred if checked else finite_logits(y_pred)
    cross_entropy = functional.binary_cross_entropy_with_logits(logits, y, reduction="none")
    mix = y * torch.sigmoid(-logits) + (1.0 - y) * torch.sigmoid(logits)  # ok: torch kernel
    values = (mix if gamma == 1 else mix**gamma) * cross_entropy
    if apply_class_balancing:
        values = (alpha * y + (1.0 - alpha) * (1.0 - y)) * values
    loss = torch.mean(values)  # ok: torch kernel, torch tensors only
    return finite_or_formula(loss) if checked else loss


@closed_form("binary_focal_crossentropy")
def _binary_focal(xp: Any, y_true: Any, y_pred: Any, *, apply_class_balancing: bool,
                  alpha: float, gamma: float, from_logits: bool,
                  label_smoothing: float) -> Iterator[Any]:
    # v = a·m^γ·CE, m = y·q + (1 - y)·p (= 1 - p_t), CE = -(y log p + (1 - y) log q).
    y = smooth_binary(y_true, label_smoothing)
    dp, dq = binary_slopes(xp, y_pred, from_logits)
    ce1 = -(y * dp + (1.0 - y) * dq)
    scale = (alpha * y + (1.0 - alpha) * (1.0 - y)) if apply_class_balancing else 1.0
    if equals_number(gamma, 0):  # m^0 is exactly 1 in the loss
        yield scale * ce1
        ddp, ddq = binary_curvatures(xp, y_pred, from_logits)
        yield scale * -(y * ddp + (1.0 - y) * ddq)
        return
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
    power = xp.exp(gamma * log_m)
    yield scale * power * (gamma * d1 * ce + ce1)
    ddp, ddq = binary_curvatures(xp, y_pred, from_logits)
    ce2 = -(y * ddp + (1.0 - y) * ddq)
    d2 = r_q * dq * dq + r_p * dp * dp - d1 * d1 + r_q * ddq + r_p * ddp
    yield scale * power * (gamma * gamma * d1 * d1 * ce + 2.0 * gamma * d1 * ce1
                           + gamma * d2 * ce + ce2)


@define_loss("categorical_focal_crossentropy", family=CLASSIFICATION,
             aliases=("categorical_focal",), kind="axis",
             class_mask=without_classes)
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
    return -alpha * xp.sum(modulation * times_log(y, log_p), axis=class_axis)


@closed_form("categorical_focal_crossentropy")
def _categorical_focal(xp: Any, y_true: Any, y_pred: Any, *, alpha: float, gamma: float,
                       from_logits: bool, label_smoothing: float,
                       axis: tuple[int, ...]) -> Iterator[Any]:
    # -α Σ_c y_c f(s_c) with f(s) = M(s)·s, M = (1 - e^s)^γ = exp(γ t), t = log1mexp(s):
    #   f'  = M + γ s (M t'),   f'' = γ² s (M t'²) + 2γ (M t') + γ s (M t''),
    # t' = -e^s/(1 - e^s), t'' = -e^s/(1 - e^s)², and the products with M written in log
    # space: M t' = -exp(s + (γ-1)t), M t'² = exp(2s + (γ-2)t), M t'' = -exp(s + (γ-2)t).
    y = smooth_categorical(y_true, label_smoothing, y_pred.shape[axis[0]])
    s = categorical_logs(xp, y_pred, from_logits, axis)
    zero = xp.zeros_like(s)
    if equals_number(gamma, 0):
        return through_classes(xp, y_pred, -alpha * y + zero, None, from_logits, axis)
    # At s = 0 (p = 1) log1mexp's `where` makes M a constant 0: no derivative there.
    inside = s < 0
    safe_s = xp.where(inside, s, -xp.ones_like(s))
    t = log1mexp(safe_s)
    m_t1 = -xp.exp(safe_s + (gamma - 1.0) * t)
    keep = inside & (y != 0)  # times_log: a zero target contributes a constant 0
    f1 = xp.where(keep, -alpha * y * (xp.exp(gamma * t) + gamma * safe_s * m_t1), zero)

    def f2() -> Any:  # only for the Hessian
        m_t1_sq = xp.exp(2.0 * safe_s + (gamma - 2.0) * t)
        m_t2 = -xp.exp(safe_s + (gamma - 2.0) * t)
        second = gamma * gamma * safe_s * m_t1_sq + 2.0 * gamma * m_t1 + gamma * safe_s * m_t2
        return xp.where(keep, -alpha * y * second, zero)

    return through_classes(xp, y_pred, f1, f2, from_logits, axis)


@define_loss("poly_crossentropy", family=CLASSIFICATION, aliases=("poly_loss", "poly1"),
             kind="axis",
             class_mask=without_classes)
def poly_crossentropy(
    xp: Any,
    y_true: Any,
    y_pred: Any,
    *,
    epsilon: PolyEpsilon = 2.0,
    from_logits: Flag = False,
    axis: tuple[int, ...],
) -> Any:
    r"""Poly-1 cross-entropy (Leng et al., 2022): the cross-entropy plus ``ε`` times the
    first term of its Taylor series in ``1 - p_t``, over the class ``axis`` (default -1).

    .. math:: \ell = -\sum_c y_c \log p_c + \epsilon \sum_c y_c (1 - p_c)

    optax's ``poly_loss_cross_entropy(logits, labels, epsilon)`` is ``from_logits=True``
    with ``reduction="none"``; ``ε = 0`` is :func:`categorical_crossentropy`, and ``ε = -1``
    the lowest value for which the loss still decreases as ``p_t`` grows. ``p = exp(log p)``
    from the log-softmax (or the floored log of the renormalized probabilities, as in
    :func:`categorical_crossentropy`), so a logit of ``±1e4`` gives its true loss.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> loss = arrayloss.poly_crossentropy(xp.asarray([[0.0, 1.0]]), xp.asarray([[0.0, 0.0]]),
    ...                                    from_logits=True, reduction="none")
    >>> loss
    Array([1.69314718], dtype=array_api_strict.float64)
    """
    class_axis = check_class_axis("poly_crossentropy", axis)
    log_p = categorical_logs(xp, y_pred, from_logits, class_axis)
    cross_entropy = -xp.sum(times_log(y_true, log_p), axis=class_axis)
    return cross_entropy + epsilon * xp.sum(y_true * (1.0 - xp.exp(log_p)), axis=class_axis)


@closed_form("poly_crossentropy")
def _poly_crossentropy(xp: Any, y_true: Any, y_pred: Any, *, epsilon: float,
                       from_logits: bool, axis: tuple[int, ...]) -> Iterator[Any]:
    # In the log-probabilities s: f(s) = -y·s + ε·y·(1 - e^s), f' = -y·(1 + ε·p), f'' = -ε·y·p.
    p = xp.exp(categorical_logs(xp, y_pred, from_logits, axis))
    return through_classes(xp, y_pred, -y_true * (1.0 + epsilon * p),
                           lambda: -epsilon * y_true * p, from_logits, axis)
