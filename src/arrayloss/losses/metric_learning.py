r"""Metric-learning losses: triplet margin, contrastive (pair) and NT-Xent (InfoNCE).

Each gives one value per sample: per triplet, per pair, or per anchor embedding.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Annotated, Any

from ..core.chain_rule import closed_form, no_closed_form
from ..core.define import PerSample, define_loss
from ..core.namespace import device_of as _device
from ..core.norms import scaled_norm, unit_vectors
from ..core.options import Flag, NonNegative, Positive, StaticInterval
from ..core.stable import logsumexp, positive_part, safe_divide, softplus

__all__ = ["contrastive", "ntxent", "triplet_margin"]

_METRIC = "metric_learning"
# The order p of a p-norm distance: any finite positive number.
_NormOrder = Annotated[float, StaticInterval(low=0, high=math.inf, low_open=True,
                                             high_open=True)]


def _pairwise_distance(xp: Any, a: Any, b: Any, p: float, eps: float) -> Any:
    # PyTorch's F.pairwise_distance: eps is added to the difference, inside the norm.
    # The norm is scaled by the largest entry first: exact for differences of 1e20 in
    # float32, whose squares would overflow.
    return scaled_norm(a - b + eps, axis=-1, p=p)


@define_loss("triplet_margin", family=_METRIC, aliases=("triplet",), kind="custom",
             inputs=("anchor", "positive", "negative"), prediction="anchor")
def triplet_margin(xp: Any, anchor: Any, positive: Any, negative: Any, *,
                   margin: NonNegative = 1.0, p: _NormOrder = 2.0, eps: NonNegative = 1e-6,
                   swap: Flag = False) -> Any:
    r"""Triplet margin loss over embeddings of shape ``(N, D)`` (or one triplet ``(D,)``).

    .. math:: \ell = \max(d(a, p) - d(a, n) + \text{margin}, 0), \quad
              d(x, y) = \lVert x - y + \epsilon \rVert_p

    PyTorch ``F.triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap)``
    with ``reduction="none"``: the same numbers. With ``swap=True`` the negative distance is
    ``min(d(a, n), d(p, n))`` (Balntas et al., 2016). optax ``triplet_margin_loss`` adds
    ``eps`` to the sum of powers instead, ``(Σ|a - p|^p + ε)^(1/p)``: the values differ by
    about ``ε`` and agree for ``eps=0``. At ``margin = d(a, n) - d(a, p)`` the gradient is 0
    (ReLU's convention).

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> a = xp.asarray([[0.0, 0.0]])
    >>> loss = arrayloss.triplet_margin(a, xp.asarray([[3.0, 4.0]]), xp.asarray([[0.0, 1.0]]),
    ...                                eps=0.0)
    >>> float(loss)  # 5 - 1 + 1
    5.0
    """
    shapes = {tuple(x.shape) for x in (anchor, positive, negative)}
    if len(shapes) != 1 or anchor.ndim not in (1, 2):
        raise ValueError(
            "anchor, positive and negative must have one shape, (N, D) or (D,); got "
            f"anchor.shape={tuple(anchor.shape)}, positive.shape={tuple(positive.shape)}, "
            f"negative.shape={tuple(negative.shape)}")
    d_pos = _pairwise_distance(xp, anchor, positive, p, eps)
    d_neg = _pairwise_distance(xp, anchor, negative, p, eps)
    if swap:
        d_swap = _pairwise_distance(xp, positive, negative, p, eps)
        d_neg = xp.where(d_swap < d_neg, d_swap, d_neg)
    return positive_part(d_pos - d_neg + margin)


no_closed_form(
    "triplet_margin",
    "its value couples three embeddings through their distances, "
    "so it is differentiated by autodiff only",
)


@define_loss("contrastive", family=_METRIC, inputs=("y_true", "distance"),
             prediction="distance")
def contrastive(xp: Any, y_true: Any, distance: Any, *, margin: NonNegative = 1.0) -> Any:
    r"""Contrastive (pair) loss of Hadsell, Chopra and LeCun (2006), on distances.

    .. math:: \ell = (1 - y)\,d^2 + y\,\max(\text{margin} - d, 0)^2

    ``y = 0`` marks a **similar** pair (pulled together), ``y = 1`` a dissimilar one
    (pushed beyond ``margin``), as in the paper. Many tutorials (and the former TensorFlow
    Addons ``contrastive_loss``) use the opposite sense, ``y = 1`` for similar: pass
    ``1 - y``. Without the paper's factor 1/2. ``distance`` is any non-negative distance,
    e.g. ``‖f(x₁) - f(x₂)‖``; a 2-D input is averaged over its last axis like any
    element-wise loss.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.contrastive(xp.asarray([0.0, 1.0, 1.0]), xp.asarray([0.5, 0.5, 2.0]),
    ...                       reduction="none")
    Array([0.25, 0.25, 0.  ], dtype=array_api_strict.float64)
    """
    # (margin - d)² is differentiable at the hinge: the ReLU's kink is squared away.
    return (1.0 - y_true) * distance**2 + y_true * positive_part(margin - distance) ** 2


@closed_form("contrastive")
def _contrastive(xp: Any, y_true: Any, distance: Any, *, margin: float) -> Iterator[Any]:
    # (1 - y)·d² + y·max(m - d, 0)²: 2(1 - y)·d - 2y·max(m - d, 0), and 2(1 - y) + 2y·[d < m]
    # (the squared hinge is differentiable at d = m; its second derivative takes the
    # outer branch there, as positive_part's `where` does).
    inside = margin - distance > 0
    zero = xp.zeros_like(distance)
    push = xp.where(inside, margin - distance, zero)
    yield 2.0 * (1.0 - y_true) * distance - 2.0 * y_true * push
    yield 2.0 * (1.0 - y_true) + xp.where(inside, 2.0 * y_true + zero, zero)


def check_labelled_embeddings(xp: Any, loss: str, embeddings: Any, labels: Any) -> None:
    """The shapes and dtype of the batch-coupled losses' inputs: ``(N, D)`` embeddings and
    ``(N,)`` integer class labels."""
    if embeddings.ndim != 2 or labels.ndim != 1 or labels.shape[0] != embeddings.shape[0]:
        raise ValueError(
            f"{loss}: embeddings must have shape (N, D) and labels shape (N,); got "
            f"embeddings.shape={tuple(embeddings.shape)}, labels.shape={tuple(labels.shape)}")
    if not xp.isdtype(labels.dtype, "integral"):
        raise TypeError(f"{loss}: labels must be integers; got dtype {labels.dtype}")


@define_loss("ntxent", family=_METRIC, aliases=("info_nce",), kind="custom",
             inputs=("embeddings", "labels"), prediction="embeddings",
             keep_dtype=("labels",))
def ntxent(xp: Any, embeddings: Any, labels: Any, *, temperature: Positive = 0.07) -> Any:
    r"""Normalized temperature-scaled cross-entropy (NT-Xent, InfoNCE), supervised.

    With ``s_ij`` the cosine similarity of embeddings ``i`` and ``j`` over ``temperature``
    τ, every ordered pair ``(i, j)``, ``i ≠ j``, with equal labels is a positive pair, every
    pair with different labels a negative one, and

    .. math:: \ell_{ij} = -\log \frac{e^{s_{ij}}}{e^{s_{ij}} + \sum_{k:\,y_k \ne y_i}
              e^{s_{ik}}}, \qquad \ell_i = \operatorname{mean}_{j \in P(i)} \ell_{ij}

    The per-sample value is anchor ``i``'s mean over its positives ``P(i)``; an anchor
    without positives is masked out of the means. optax ``ntxent(embeddings, labels,
    temperature)`` averages over all positive pairs: the same number with
    ``reduction="mean"`` whenever every anchor has as many positives (two views per item,
    as in SimCLR), and in general with ``sample_weight=|P(i)|`` and
    ``reduction="weighted_mean"``. A zero embedding has cosine 0 with everything (finite
    loss and gradient). Logits of ``±1/τ`` go through a max-shifted logsumexp.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> e = xp.asarray([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    >>> loss = arrayloss.ntxent(e, xp.asarray([0, 0, 1, 1]), temperature=1.0)
    >>> float(loss)  # -log(e / (e + 2·e⁰)) = log(1 + 2/e)
    0.5514447139320511
    """
    check_labelled_embeddings(xp, "ntxent", embeddings, labels)
    n = embeddings.shape[0]
    if n == 0:  # an empty batch (a static shape): no anchors, no values
        return xp.zeros((0,), dtype=embeddings.dtype, device=_device(embeddings))
    # A zero embedding stays the zero vector (cosine 0 with every other one).
    unit = unit_vectors(embeddings, axis=-1)
    logits = xp.matmul(unit, xp.matrix_transpose(unit)) / temperature
    index = xp.arange(n, device=_device(embeddings))
    same = xp.expand_dims(labels, axis=1) == xp.expand_dims(labels, axis=0)
    positive = same & (xp.expand_dims(index, axis=1) != xp.expand_dims(index, axis=0))
    negative = ~same
    has_negative = xp.any(negative, axis=1, keepdims=True)
    # Log of the sum over negatives. Rows without negatives see 0 instead of -inf, so the
    # logsumexp's gradient stays finite there; the outer where sets their sum to 0 (log -inf).
    masked = xp.where(negative, logits, xp.full_like(logits, -math.inf))
    masked = xp.where(has_negative, masked, xp.zeros_like(logits))
    log_negatives = logsumexp(masked, axis=1, keepdims=True)
    # ℓ_ij = log(1 + Σ_k e^(s_ik - s_ij)) = softplus(log Σ_k e^(s_ik) - s_ij): no overflow.
    pair = softplus(log_negatives - logits)
    pair = xp.where(positive & has_negative, pair, xp.zeros_like(pair))
    count = xp.sum(xp.astype(positive, logits.dtype), axis=1)
    values = safe_divide(xp.sum(pair, axis=1), count)
    return PerSample(values, mask=count > 0)


no_closed_form(
    "ntxent",
    "its value couples the whole batch through a similarity matrix, "
    "so it is differentiated by autodiff only",
)
