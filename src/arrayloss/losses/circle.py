r"""The circle loss of Sun et al. (2020), Keras 3's ``keras.losses.circle``.

One value per query embedding: its positive and negative pairs (by label) against a set of
reference embeddings (the batch itself by default), each similarity weighted by how far it
is from its optimum.
"""

from __future__ import annotations

import math
import numbers
from typing import Annotated, Any

import array_api_compat
import numpy as np

from ..core.chain_rule import no_closed_form
from ..core.define import PerSample, define_loss
from ..core.namespace import device_of as _device
from ..core.namespace import library_name, option_array
from ..core.norms import unit_vectors
from ..core.options import Flag, Interval, Positive
from ..core.stable import logsumexp, positive_part, softplus
from .metric_learning import check_labelled_embeddings

__all__ = ["circle"]

_Real = Annotated[float, Interval()]


def _reference_labels(xp: Any, ref_labels: Any, labels: Any) -> Any:
    """``ref_labels`` (a list, a NumPy array or an array of the labels' library) as
    integers of ``labels``'s dtype and device."""
    device = _device(labels)
    if isinstance(ref_labels, (list, tuple)):
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                   for v in ref_labels):
            raise TypeError(f"ref_labels must hold integer class labels; got {ref_labels!r}")
        return xp.asarray(ref_labels, dtype=labels.dtype, device=device)
    if isinstance(ref_labels, np.ndarray):
        if not np.issubdtype(ref_labels.dtype, np.integer):
            raise TypeError(f"ref_labels must hold integer class labels; got dtype "
                            f"{ref_labels.dtype}")
        return xp.asarray(ref_labels.astype(np.int64), dtype=labels.dtype, device=device)
    if not array_api_compat.is_array_api_obj(ref_labels):
        raise TypeError(f"ref_labels must be an array or a list of integer labels; got an "
                        f"object of type {type(ref_labels).__name__}")
    if library_name(ref_labels) != library_name(labels):
        raise TypeError(f"ref_labels is a {library_name(ref_labels)} array while the labels "
                        f"are a {library_name(labels)} array; pass a NumPy array, a list or "
                        f"a {library_name(labels)} array")
    other: Any = ref_labels
    if not xp.isdtype(other.dtype, "integral"):
        raise TypeError(f"ref_labels must hold integer class labels; got dtype {other.dtype}")
    return xp.astype(other, labels.dtype)


@define_loss("circle", family="metric_learning", kind="custom",
             inputs=("labels", "embeddings"), prediction="embeddings",
             keep_dtype=("labels",))
def circle(xp: Any, labels: Any, embeddings: Any, *, gamma: Positive = 80.0,
           margin: _Real = 0.4, remove_diagonal: Flag = True, ref_labels: Any = None,
           ref_embeddings: Any = None) -> Any:
    r"""Circle loss (Sun et al., 2020) of integer labels ``(N,)`` and embeddings ``(N, D)``.

    With ``d_ij = max(1 - cos(x_i, r_j), 0)`` the cosine distance of query ``i`` to
    reference ``j``, ``m`` the margin and γ ``gamma``:

    .. math:: \ell_i = \operatorname{softplus}\Big(
              \log\sum_{j \in P(i)} e^{-\gamma\,[m + d_{ij}]_+\,(m - d_{ij})}
              + \log\sum_{k \in N(i)} e^{\gamma\,[1 + m - d_{ik}]_+\,(1 - m - d_{ik})}\Big)

    ``P(i)``: the references with query ``i``'s label (without ``j = i`` when
    ``remove_diagonal``, the default, as Keras's ``eye(N, M)`` removes it, references or
    not); ``N(i)``: those with another label. The references are the batch itself unless
    ``ref_embeddings`` ``(M, D)`` and ``ref_labels`` ``(M,)`` are given (either defaults to
    the batch's, as in Keras). Keras's ``keras.losses.circle(y_true, y_pred, ...)`` in the
    same argument order (labels first) gives the same values on unit-norm embeddings,
    which Keras expects and does not check: arrayloss normalizes every embedding first
    (a zero embedding stays 0, finite loss and gradient), so ``1 - x·r`` is a cosine
    distance for any input. A query without a positive or without a negative gets 0 and
    is masked out of ``"mean"``, as Keras's mask (``loss > 0``) does; its gradient is 0,
    not the NaN of a logsumexp over nothing.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> e = xp.asarray([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> loss = arrayloss.circle(xp.asarray([0, 0, 1]), e, gamma=1.0, margin=0.0,
    ...                         reduction="none")
    >>> loss  # softplus(0 + 0) twice; the third has no positive
    Array([0.69314718, 0.69314718, 0.        ], dtype=array_api_strict.float64)
    """
    check_labelled_embeddings(xp, "circle", embeddings, labels)
    refs = embeddings if ref_embeddings is None else option_array(
        xp, ref_embeddings, embeddings, name="ref_embeddings")
    ref = labels if ref_labels is None else _reference_labels(xp, ref_labels, labels)
    if (refs.ndim != 2 or refs.shape[1] != embeddings.shape[1] or ref.ndim != 1
            or ref.shape[0] != refs.shape[0]):
        raise ValueError(
            "circle: the references must be (M, D) embeddings with the queries' D and (M,) "
            f"labels; got embeddings.shape={tuple(embeddings.shape)}, reference embeddings "
            f"of shape {tuple(refs.shape)} and reference labels of shape {tuple(ref.shape)}"
            " (ref_embeddings and ref_labels default to the batch's own)")
    n, m = embeddings.shape[0], refs.shape[0]
    if n == 0:  # an empty batch (a static shape): no queries, no values
        return xp.zeros((0,), dtype=embeddings.dtype, device=_device(embeddings))
    unit = unit_vectors(embeddings, axis=-1)
    unit_refs = unit if ref_embeddings is None else unit_vectors(refs, axis=-1)
    # Keras's clamp at 0: a cosine rounded above 1 is distance 0, not a negative one.
    distance = positive_part(1.0 - xp.matmul(unit, xp.matrix_transpose(unit_refs)))
    same = xp.expand_dims(labels, axis=1) == xp.expand_dims(ref, axis=0)
    positive = same
    if remove_diagonal:
        rows = xp.arange(n, device=_device(embeddings))
        columns = xp.arange(m, device=_device(embeddings))
        positive = same & (xp.expand_dims(rows, axis=1) != xp.expand_dims(columns, axis=0))
    negative = ~same
    pos_logits = -gamma * positive_part(margin + distance) * (margin - distance)
    neg_logits = gamma * positive_part(1.0 + margin - distance) * (1.0 - margin - distance)
    has_positive = xp.any(positive, axis=1, keepdims=True)
    has_negative = xp.any(negative, axis=1, keepdims=True)
    both = has_positive & has_negative
    # ℓ = softplus(lse_P + lse_N), no overflow for γ = 80 (logits up to ~2γ). A row
    # without positives (or negatives) has -inf there and Keras's value 0; it is given 0
    # instead of -inf (the logsumexp's gradient stays finite) and its value set to 0 by
    # the outer where.
    log_pos = _masked_logsumexp(xp, pos_logits, positive, both)
    log_neg = _masked_logsumexp(xp, neg_logits, negative, both)
    values = softplus(log_pos + log_neg)
    values = xp.where(both, values, xp.zeros_like(values))
    return PerSample(values[:, 0], mask=both[:, 0])


def _masked_logsumexp(xp: Any, logits: Any, keep: Any, row_used: Any) -> Any:
    """``log Σ_j exp(logits_ij)`` over the kept entries of each row (keepdims), 0 for the
    rows not used."""
    masked = xp.where(keep, logits, xp.full_like(logits, -math.inf))
    masked = xp.where(row_used, masked, xp.zeros_like(logits))
    return logsumexp(masked, axis=1, keepdims=True)


no_closed_form(
    "circle",
    "its value couples the batch and the references through a similarity matrix, "
    "so it is differentiated by autodiff only",
)
