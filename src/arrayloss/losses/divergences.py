r"""Divergences between a target distribution and a predicted one: Kullback–Leibler, and
the generalized (I-) divergence of measures that need not sum to 1.

As the cross-entropies (``crossentropy.py``), probabilities go through the log floored at
-100, logits (``from_logits=True``) through log-softmax; ``p·log p`` is 0 at ``p = 0``, with
a finite gradient. Each loss is followed by its torch kernel (KL) and closed-form derivatives.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from ..core.chain_rule import closed_form
from ..core.define import define_loss
from ..core.native import finite_or_formula, host_checks_allowed
from ..core.options import Flag
from ..core.stable import (
    log_probability,
    nothing_floored,
    relative_entropy,
    times_log,
    xlogy,
)
from ._classes import (
    CLASSIFICATION,
    categorical_logs,
    log_probability_curvature,
    log_probability_slope,
    through_classes,
    without_classes,
)
from .crossentropy import torch_class_axis_first  # ok: a helper, called in torch kernels

__all__ = ["generalized_kl_divergence", "kl_divergence"]


@define_loss("kl_divergence", family=CLASSIFICATION,
             aliases=("kld", "kullback_leibler_divergence"), kind="axis",
             class_mask=without_classes)
def kl_divergence(
    xp: Any, y_true: Any, y_pred: Any, *, from_logits: Flag = False, log_target: Flag = False,
    axis: tuple[int, ...],
) -> Any:
    r"""Kullback–Leibler divergence ``KL(y_true ‖ y_pred)`` over ``axis`` (default -1).

    .. math:: \ell = \sum p \log\frac{p}{q}, \quad p = y_{true},\; q = y_{pred}
              \text{ or } \operatorname{softmax}(y_{pred})

    A class with ``p = 0`` contributes exactly 0, with finite gradients (optax's
    ``kl_divergence`` has a NaN gradient there); ``log q`` is floored at -100. Keras clips
    both ``p`` and ``q`` to ``[1e-7, 1]`` (so ``p = 0`` adds ``1e-7·log(1e-7/q)``).
    PyTorch's ``F.kl_div(log_q, p, reduction="batchmean")`` is the ``"mean"`` of this.
    With ``log_target=True``, ``y_true`` holds ``log p`` (PyTorch's ``log_target=True``,
    optax's ``kl_divergence_with_log_targets``): a class with ``log p = -inf`` contributes
    0, where both of theirs give ``0·(-inf) = NaN``.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> loss = arrayloss.kld(xp.asarray([[1.0, 0.0]]), xp.asarray([[0.5, 0.5]]))
    >>> round(float(loss), 6)
    0.693147
    """
    if not (from_logits or log_target):
        return relative_entropy(y_true, y_pred, axis=axis)
    log_q = categorical_logs(xp, y_pred, True, axis) if from_logits else log_probability(y_pred)
    if log_target:
        # p·(log p - log q) with p = exp(log p); times_log makes p = 0 contribute 0.
        p = xp.exp(y_true)
        return xp.sum(times_log(p, y_true) - times_log(p, log_q), axis=axis)
    return xp.sum(xlogy(y_true, y_true) - times_log(y_true, log_q), axis=axis)


@kl_divergence.native("torch")
def _kld_torch(xp: Any, y_true: Any, y_pred: Any, *, from_logits: bool, log_target: bool,
               axis: tuple[int, ...]) -> Any:
    # PyTorch's kl_div is xlogy(p, p) - p·log q, the formula's value wherever log q is
    # finite; "sum" over every element divided by the N samples is the mean of the
    # per-sample sums ("batchmean"). Its gradient with respect to p is -inf at p = 0 (the
    # formula's is finite there), so the kernel runs only for targets without a gradient,
    # and a result that is not finite is recomputed by the formula.
    if (not from_logits or len(axis) != 1 or y_true.requires_grad
            or not host_checks_allowed(y_pred)):
        return NotImplemented
    from torch.nn import functional  # ok: torch kernel, torch tensors only

    scores, targets = torch_class_axis_first(y_pred, y_true, axis)
    samples = math.prod(scores.shape) // scores.shape[1 if scores.ndim > 1 else 0]
    log_q = functional.log_softmax(scores, dim=1 if scores.ndim > 1 else 0)
    loss = functional.kl_div(log_q, targets, reduction="sum", log_target=log_target) / samples
    return finite_or_formula(loss)


@closed_form("kl_divergence", self_contained=True)
def _kld(xp: Any, y_true: Any, y_pred: Any, *, from_logits: bool, log_target: bool,
         axis: tuple[int, ...]) -> Iterator[Any]:
    # Σ p log p - Σ p log q: only the second term depends on y_pred.
    p = xp.exp(y_true) if log_target else y_true
    if from_logits:
        return through_classes(xp, y_pred, -p, None, True, axis)
    return _kld_probabilities(xp, p, y_pred)


def _kld_probabilities(xp: Any, y_true: Any, y_pred: Any) -> Iterator[Any]:
    # q itself, not renormalized, element by element. The slope is finite (floored at
    # 1e12), so p = 0 contributes 0 and NaN in p or q stays NaN without a `where`.
    if nothing_floored(y_pred):  # known on NumPy: the slope -p/q, in one division
        slope = y_true / y_pred
        slope *= -1.0  # in place: no second batch-sized array
        yield slope
    else:
        yield -y_true * log_probability_slope(xp, y_pred)
    # -1/q² may overflow where q is tiny: a zero target's 0·inf is kept out by `where`.
    curvature = log_probability_curvature(xp, y_pred)
    yield xp.where(y_true == 0, xp.zeros_like(y_pred), -y_true * curvature)


@define_loss("generalized_kl_divergence", family=CLASSIFICATION,
             aliases=("i_divergence",), kind="axis",
             class_mask=without_classes)
def generalized_kl_divergence(
    xp: Any, y_true: Any, y_pred: Any, *, log_input: Flag = False, axis: tuple[int, ...]
) -> Any:
    r"""Generalized Kullback–Leibler (I-) divergence of non-negative measures, over ``axis``.

    .. math:: \ell = \sum p \log\frac{p}{q} - p + q

    For measures that need not sum to 1 (non-negative matrix factorization, Poisson
    regression of counts: half the Poisson deviance); for distributions it is
    :func:`kl_divergence`. With ``log_input=True`` ``y_pred`` holds ``log q``, as in optax's
    ``generalized_kl_divergence(log_predictions, targets)``. ``p = 0`` contributes ``q``,
    with finite gradients; ``log q`` is floored at -100 as in :func:`kl_divergence`.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.generalized_kl_divergence(xp.asarray([[1.0, 0.0]]), xp.asarray([[2.0, 0.5]]),
    ...                                     reduction="none")
    Array([0.80685282], dtype=array_api_strict.float64)
    """
    if log_input:
        log_q, q = y_pred, xp.exp(y_pred)
    else:
        log_q, q = log_probability(y_pred), y_pred
    return xp.sum(xlogy(y_true, y_true) - times_log(y_true, log_q) - y_true + q, axis=axis)


@closed_form("generalized_kl_divergence", self_contained=True)
def _generalized_kld(xp: Any, y_true: Any, y_pred: Any, *, log_input: bool,
                     axis: tuple[int, ...]) -> Iterator[Any]:
    # Element by element (no normalization couples the classes): -p log q + q.
    if log_input:  # q = exp(t): d/dt = q - p, d²/dt² = q
        q = xp.exp(y_pred)
        yield q - y_true
        yield q
        return
    derivatives = _kld_probabilities(xp, y_true, y_pred)
    yield next(derivatives) + 1.0
    yield next(derivatives)
