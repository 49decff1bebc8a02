r"""The binary cross-entropy, from probabilities or from logits.

Probabilities go through :func:`~arrayloss.core.stable.log_probability` (the log floored at
-100 as PyTorch does, never a 1e-7 clip); logits (``from_logits=True``) go through
log-sigmoid, exact for logits of ``±1e4`` in float32.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..core.chain_rule import closed_form
from ..core.define import define_loss
from ..core.namespace import option_array
from ..core.native import (
    closed_backward_allowed,
    finite_logits,
    finite_or_formula,
    host_checks_allowed,
)
from ..core.options import Flag, Fraction
from ..core.stable import nothing_floored, times_log
from ._classes import (
    CLASSIFICATION,
    binary_curvatures,
    binary_logs,
    binary_slopes,
    smooth_binary,
)

__all__ = ["binary_crossentropy"]


def _pos_weight(xp: Any, pos_weight: Any, y_pred: Any) -> Any:
    weight = option_array(xp, pos_weight, y_pred, name="pos_weight")
    shape = tuple(y_pred.shape)
    if not _broadcasts(tuple(weight.shape), shape):
        raise ValueError(
            f"pos_weight must broadcast against y_pred of shape {shape}; got shape "
            f"{tuple(weight.shape)}"
        )
    return weight


def _broadcasts(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


@define_loss("binary_crossentropy", family=CLASSIFICATION, aliases=("bce", "logloss"))
def binary_crossentropy(
    xp: Any,
    y_true: Any,
    y_pred: Any,
    *,
    from_logits: Flag = False,
    label_smoothing: Fraction = 0.0,
    pos_weight: Any = None,
) -> Any:
    r"""Binary cross-entropy, averaged over ``axis`` (default: the last axis).

    .. math:: \ell = -\operatorname{mean}_{axis}\left(w_+\,y\log p + (1 - y)\log(1 - p)\right),
              \quad y \leftarrow y(1 - ls) + \tfrac12 ls

    ``p = sigmoid(y_pred)`` with ``from_logits=True`` (computed as ``log_sigmoid``, so a
    logit of 1e4 gives a loss of 1e4, not inf). Probabilities are not clipped at 1e-7 as
    Keras does: the log is floored at -100 as in PyTorch's ``F.binary_cross_entropy``, and
    a prediction of exactly 0 or 1 still has a gradient. ``pos_weight`` (``w_+``, a number
    or an array broadcasting against ``y_pred``, e.g. one weight per output column) is
    PyTorch's ``F.binary_cross_entropy_with_logits(pos_weight=...)``.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> loss = arrayloss.bce(xp.asarray([[1.0, 0.0]]), xp.asarray([[0.0, 0.0]]),
    ...                      from_logits=True)
    >>> round(float(loss), 6)
    0.693147
    """
    y = smooth_binary(y_true, label_smoothing)
    log_p, log_q = binary_logs(xp, y_pred, from_logits)
    positive = times_log(y, log_p)
    if pos_weight is not None:
        positive = _pos_weight(xp, pos_weight, y_pred) * positive
    return -(positive + times_log(1.0 - y, log_q))


@binary_crossentropy.native("torch")
def _bce_torch(xp: Any, y_true: Any, y_pred: Any, *, from_logits: bool,
               label_smoothing: float, pos_weight: Any) -> Any:
    # F.binary_cross_entropy_with_logits: one fused kernel each way, PyTorch's pos_weight.
    # It gives inf - inf = NaN at an infinite logit; `finite_logits` clamps to the largest
    # finite float (the formula's value for every finite logit, 0 for a perfect infinite
    # one, that float instead of inf for a wrong one) and passes the gradient through.
    from torch.nn import functional  # ok: torch kernel, torch tensors only

    if not from_logits:
        return _bce_probabilities_torch(y_true, y_pred, label_smoothing, pos_weight)
    weight = None if pos_weight is None else _pos_weight(xp, pos_weight, y_pred)
    targets = smooth_binary(y_true, label_smoothing)
    if host_checks_allowed(y_pred):
        # Where the result can be read on the host, no clamp at all: a finite mean means
        # every logit was finite, and any other is recomputed by the formula.
        loss = functional.binary_cross_entropy_with_logits(
            y_pred, targets, pos_weight=weight, reduction="mean")
        return finite_or_formula(loss)
    if (closed_backward_allowed(y_pred) and not targets.requires_grad
            and (weight is None or not weight.requires_grad)):
        # The same values with the closed-form backward, which the clamp's own backward
        # would double (_logistic_torch.py); a target with a gradient takes autograd.
        from ._logistic_torch import MeanBinaryCrossEntropy  # ok: torch tensors only

        return MeanBinaryCrossEntropy.apply(targets, y_pred, weight)
    return functional.binary_cross_entropy_with_logits(
        finite_logits(y_pred), targets, pos_weight=weight, reduction="mean")


def _bce_probabilities_torch(y_true: Any, p: Any, label_smoothing: float,
                             pos_weight: Any) -> Any:
    # F.binary_cross_entropy floors each log at -100 as the formula does, and its gradient
    # (p - y)/max(p(1 - p), 1e-12) is the formula's -y/p + (1 - y)/(1 - p) wherever
    # p(1 - p) > 1e-12. So it runs only where every p is inside (1e-12, 1 - 1e-12), read on
    # the host in one pass (NaN fails the test too); elsewhere the formula runs.
    if pos_weight is not None or y_true.shape != p.shape or not host_checks_allowed(p):
        return NotImplemented
    import torch  # ok: torch kernel, torch tensors only
    from torch.nn import functional  # ok: torch kernel, torch tensors only

    low, high = torch.aminmax(p.detach())  # ok: torch-only, in a torch kernel
    # ok: host reads, only where host_checks_allowed (eager, CPU) said they are cheap
    if not (low.item() > _INSIDE and high.item() < 1.0 - _INSIDE):  # ok: see above
        return NotImplemented
    try:
        return functional.binary_cross_entropy(p, smooth_binary(y_true, label_smoothing))
    except RuntimeError:  # PyTorch refuses targets outside [0, 1]; the formula takes them
        return NotImplemented


# The margin from 0 and 1 inside which PyTorch's BCE gradient is the formula's: its
# denominator max(p(1 - p), 1e-12) is p(1 - p) there (twice 1e-12, for p(1 - p)'s rounding).
_INSIDE = 2e-12


@closed_form("binary_crossentropy", self_contained=True)
def _bce(xp: Any, y_true: Any, y_pred: Any, *, from_logits: bool, label_smoothing: float,
         pos_weight: Any) -> Iterator[Any]:
    # Every slope keeps NaN (sigmoid, 1/p), and so does the target's weighting.
    y = smooth_binary(y_true, label_smoothing)
    positive = y if pos_weight is None else option_array(
        xp, pos_weight, y_pred, name="pos_weight") * y
    if (not from_logits and pos_weight is None and nothing_floored(y_pred)
            and nothing_floored(complement := 1.0 - y_pred)):
        # Neither log floored (known on NumPy only): -y/p + (1 - y)/(1 - p) over one
        # denominator is (p - y)/(p(1 - p)), PyTorch's form, in four passes; the in-place
        # operators reuse the two new arrays (each a batch-sized allocation on NumPy).
        complement *= y_pred
        slope = y_pred - y
        slope /= complement
        yield slope
    else:
        dp, dq = binary_slopes(xp, y_pred, from_logits)
        yield -(positive * dp + (1.0 - y) * dq)
    ddp, ddq = binary_curvatures(xp, y_pred, from_logits)
    yield -(positive * ddp + (1.0 - y) * ddq)
