"""Conformance rows of the classification family.

The references are plain float64 NumPy written from the formulas (Keras, PyTorch), never
calling arrayloss: the log of a probability floored at -100 (PyTorch's rule), log-softmax
with the max shift, and the focal factor from ``log1p``/``expm1``. Per-sample values
average the last axis for the element-wise losses and reduce the class axis for the others.

``class_weight`` and ``ignore_index`` change the denominators of ``"mean"`` and
``"weighted_mean"``, which this table's runner derives from ``sample_weight`` and ``mask``
only; their rows live in ``tests/test_classification.py`` with their own reductions.
"""

from __future__ import annotations

import numpy as np

from .cases import case

SHAPE = (6, 5)
C = 5


def _log(p):
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(p), -100.0)


def _log_sigmoid(z):
    return -np.logaddexp(0.0, -z)


def _log_softmax(z, axis=-1):
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _last(values):
    return values.mean(axis=-1) if values.ndim >= 2 else values


# -- inputs --------------------------------------------------------------------------------
def binary_probs(rng):
    return rng.integers(0, 2, SHAPE).astype(float), rng.uniform(0.05, 0.95, SHAPE)


def binary_logits(rng):
    return rng.integers(0, 2, SHAPE).astype(float), 3.0 * rng.normal(size=SHAPE)


def binary_extreme(rng):
    """Probabilities of exactly 0 and 1, right and wrong."""
    y = np.tile([1.0, 0.0, 1.0, 0.0, 1.0], (SHAPE[0], 1))
    p = np.tile([0.0, 1.0, 1.0, 0.0, 0.5], (SHAPE[0], 1))
    return y, p


def huge_logits(rng):
    return rng.integers(0, 2, SHAPE).astype(float), rng.choice([-1e4, 1e4, 30.0, -30.0], SHAPE)


def onehot_probs(rng):
    y = np.eye(C)[rng.integers(0, C, SHAPE[0])]
    return y, rng.uniform(0.05, 1.0, SHAPE)  # unnormalized: renormalized over the classes


def onehot_logits(rng):
    return np.eye(C)[rng.integers(0, C, SHAPE[0])], 2.0 * rng.normal(size=SHAPE)


def onehot_huge(rng):
    y = np.eye(C)[rng.integers(0, C, SHAPE[0])]
    return y, rng.choice([-1e4, 1e4, 0.0], SHAPE)


def labels_bad(rng):
    labels = rng.integers(0, C, SHAPE[0])
    labels[[0, 3]] = [C, -1]  # out of range: NaN for those samples
    return labels, 2.0 * rng.normal(size=SHAPE)


def labels_column(rng):
    return rng.integers(0, C, (SHAPE[0], 1)), rng.uniform(0.05, 1.0, SHAPE)


def labels_images(rng):
    return rng.integers(0, 3, (2, 2, 3)), rng.normal(size=(2, 3, 2, 3))  # (N, C, H, W)


def labels_two_axes(rng):
    # Classes over the last two axes (3·2 = 6 of them), each label a flat index there.
    return rng.integers(0, 6, (4, 2)), rng.normal(size=(4, 2, 3, 2))


def ref_scce_axes(labels, z, from_logits=True, axis=(2, 3)):
    batch = [a for a in range(z.ndim) if a not in axis]
    flat = np.transpose(z, (*batch, *axis)).reshape(*labels.shape, -1)
    return ref_scce(labels, flat, from_logits=from_logits)


def log_probs(rng):
    return rng.integers(0, C, SHAPE[0]), _log_softmax(rng.normal(size=SHAPE))


def signed_or_zero(rng):
    """{-1, 1} and {0, 1} labels in one batch: 0 is read as -1 element by element."""
    return rng.choice([-1.0, 0.0, 1.0], SHAPE), 2.0 * rng.normal(size=SHAPE)


def distributions(rng):
    p = rng.uniform(0.0, 1.0, SHAPE)
    p[:, 0] = 0.0  # p = 0 contributes exactly 0
    return p / p.sum(-1, keepdims=True), rng.dirichlet(np.ones(C), SHAPE[0])


def positive_distributions(rng):
    p = rng.uniform(0.1, 1.0, SHAPE)
    return p / p.sum(-1, keepdims=True), rng.dirichlet(np.ones(C), SHAPE[0])


def signed(rng):
    return rng.choice([-1.0, 1.0], SHAPE), rng.normal(size=SHAPE)


# -- references ----------------------------------------------------------------------------
def ref_bce(y, p, from_logits=False, label_smoothing=0.0, pos_weight=None):
    y = y * (1 - label_smoothing) + 0.5 * label_smoothing
    lp, lq = (_log_sigmoid(p), _log_sigmoid(-p)) if from_logits else (_log(p), _log(1 - p))
    w = 1.0 if pos_weight is None else np.asarray(pos_weight)
    return _last(-(w * y * lp + (1 - y) * lq))


def ref_cce(y, p, from_logits=False, label_smoothing=0.0, axis=-1):
    y = y * (1 - label_smoothing) + label_smoothing / p.shape[axis]
    lp = _log_softmax(p, axis) if from_logits else _log(p / p.sum(axis, keepdims=True))
    return -(y * lp).sum(axis)


def ref_scce(labels, p, from_logits=False, label_smoothing=0.0, axis=-1):
    axis = axis % p.ndim
    if labels.ndim == p.ndim:
        labels = labels.squeeze(axis)
    lp = _log_softmax(p, axis) if from_logits else _log(p / p.sum(axis, keepdims=True))
    lp = np.moveaxis(lp, axis, -1)
    valid = (labels >= 0) & (labels < lp.shape[-1])
    picked = np.take_along_axis(lp, np.where(valid, labels, 0)[..., None], -1)[..., 0]
    values = -(1 - label_smoothing) * picked - label_smoothing * lp.mean(-1)
    return np.where(valid, values, np.nan)


def ref_nll(labels, lp):
    return -np.take_along_axis(lp, labels[:, None], -1)[:, 0]


def ref_hinge(y, s):
    return _last(np.maximum(1 - np.where(y == 0, -1.0, y) * s, 0.0))


def ref_squared_hinge(y, s):
    return _last(np.maximum(1 - np.where(y == 0, -1.0, y) * s, 0.0) ** 2)


def ref_categorical_hinge(y, s):
    pos = (y * s).sum(-1)
    neg = ((1 - y) * s).max(-1)
    return np.maximum(neg - pos + 1, 0.0)


def ref_kld(p, q, from_logits=False):
    lq = _log_softmax(q) if from_logits else _log(q)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p == 0, 0.0, p * (np.log(p) - lq))
    return terms.sum(-1)


def ref_kld_log_target(log_p, q, from_logits=False, log_target=True):
    return ref_kld(np.exp(log_p), q, from_logits=from_logits)


def log_distributions(rng):
    p, q = positive_distributions(rng)
    return np.log(p), np.log(q)


def log_distributions_with_zeros(rng):
    p, q = distributions(rng)
    with np.errstate(divide="ignore"):
        return np.log(p), np.log(q)  # log p = -inf where p = 0: it contributes 0


def ref_binary_focal(y, p, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                     from_logits=False, label_smoothing=0.0):
    y = y * (1 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        lp, lq = _log_sigmoid(p), _log_sigmoid(-p)
        miss = y * np.exp(lq) + (1 - y) * np.exp(lp)  # 1 - p_t
    else:
        lp, lq = _log(p), _log(1 - p)
        miss = y * (1 - p) + (1 - y) * p
    values = miss**gamma * -(y * lp + (1 - y) * lq)
    if apply_class_balancing:
        values = (alpha * y + (1 - alpha) * (1 - y)) * values
    return _last(values)


def ref_categorical_focal(y, p, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0):
    y = y * (1 - label_smoothing) + label_smoothing / p.shape[-1]
    lp = _log_softmax(p) if from_logits else _log(p / p.sum(-1, keepdims=True))
    return (alpha * (-np.expm1(lp)) ** gamma * -(y * lp)).sum(-1)


# -- rows (few and dense: each row runs on every backend, dtype and reduction) ------------
LABELS = {"float_inputs": (1,)}

case("binary_crossentropy", binary_probs, ref_bce)
case("binary_crossentropy", binary_logits, ref_bce,
     options={"from_logits": True, "label_smoothing": 0.1,
              "pos_weight": [0.5, 1.0, 2.0, 3.0, 1.5]})
case("binary_crossentropy", binary_extreme, ref_bce, label="exact_0_1", smooth=False)
case("binary_crossentropy", huge_logits, ref_bce, options={"from_logits": True},
     label="huge", smooth=False)
case("categorical_crossentropy", onehot_probs, ref_cce)
case("categorical_crossentropy", onehot_logits, ref_cce,
     options={"from_logits": True, "label_smoothing": 0.2})
case("categorical_crossentropy", onehot_huge, ref_cce, options={"from_logits": True},
     label="huge", smooth=False)
case("sparse_categorical_crossentropy", labels_column, ref_scce, label="column", **LABELS)
case("sparse_categorical_crossentropy", labels_images, ref_scce,
     options={"from_logits": True, "axis": 1, "label_smoothing": 0.1}, label="nchw", **LABELS)
case("sparse_categorical_crossentropy", labels_two_axes, ref_scce_axes,
     options={"from_logits": True, "axis": (2, 3)}, label="two class axes", **LABELS)
case("sparse_categorical_crossentropy", labels_bad, ref_scce, options={"from_logits": True},
     label="out_of_range", smooth=False, **LABELS)
case("negative_log_likelihood", log_probs, ref_nll, **LABELS)
# A label of 0 is read as -1, a jump: no derivative with respect to those targets. Labels
# of ±1 have one (the "signed" rows).
case("hinge", signed_or_zero, ref_hinge, grad_inputs=(1,))
case("hinge", signed, ref_hinge, label="signed")
case("squared_hinge", signed_or_zero, ref_squared_hinge, grad_inputs=(1,))
case("squared_hinge", signed, ref_squared_hinge, label="signed")
case("categorical_hinge", onehot_logits, ref_categorical_hinge)
# Targets of exactly 0 (p·log p = 0 there, with the derivative of that term taken as 0, as
# the SPEC asks; finite differences would step to p < 0): their gradient is checked on the
# strictly positive targets of the "positive" row.
case("kl_divergence", distributions, ref_kld, grad_inputs=(1,))
case("kl_divergence", positive_distributions, ref_kld, label="positive")
case("kl_divergence", log_distributions, ref_kld_log_target,
     options={"log_target": True, "from_logits": True}, label="log targets")
# log p = -inf: no finite difference there, so the gradient is checked on the logits only.
case("kl_divergence", log_distributions_with_zeros, ref_kld_log_target,
     options={"log_target": True, "from_logits": True}, label="log targets of zero",
     grad_inputs=(1,), low_precision=False)
case("binary_focal_crossentropy", binary_logits, ref_binary_focal,
     options={"from_logits": True, "apply_class_balancing": True, "alpha": 0.4,
              "gamma": 1.5, "label_smoothing": 0.1})
case("binary_focal_crossentropy", huge_logits, ref_binary_focal,
     options={"from_logits": True}, label="huge", smooth=False)
case("categorical_focal_crossentropy", onehot_probs, ref_categorical_focal,
     options={"gamma": 3.0, "label_smoothing": 0.1})
case("categorical_focal_crossentropy", onehot_huge, ref_categorical_focal,
     options={"from_logits": True}, label="huge", smooth=False)


def ref_generalized_kld(p, q, log_input=False):
    lq = q if log_input else _log(q)
    q = np.exp(q) if log_input else q
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p == 0, 0.0, p * (np.log(p) - lq))
    return (terms - p + q).sum(-1)


def measures(rng):
    p = rng.uniform(0.0, 2.0, SHAPE)
    p[:, 0] = 0.0  # p = 0 contributes q
    return p, rng.uniform(0.1, 3.0, SHAPE)


def positive_measures(rng):
    return rng.uniform(0.1, 2.0, SHAPE), rng.uniform(0.1, 3.0, SHAPE)


def ref_poly(y, p, epsilon=2.0, from_logits=False):
    lp = _log_softmax(p) if from_logits else _log(p / p.sum(-1, keepdims=True))
    with np.errstate(invalid="ignore"):
        cross_entropy = -np.where(y == 0, 0.0, y * lp).sum(-1)
    return cross_entropy + epsilon * (y * (1 - np.exp(lp))).sum(-1)


case("generalized_kl_divergence", measures, ref_generalized_kld, grad_inputs=(1,))
case("generalized_kl_divergence", positive_measures, ref_generalized_kld, label="positive")
def positive_measures_and_log(rng):
    p, q = positive_measures(rng)
    return p, np.log(q)


case("generalized_kl_divergence", positive_measures_and_log, ref_generalized_kld,
     options={"log_input": True}, label="log input")
case("poly_crossentropy", onehot_logits, ref_poly, options={"from_logits": True})
case("poly_crossentropy", onehot_logits, ref_poly, options={"from_logits": True,
                                                           "epsilon": -0.5}, label="epsilon -0.5")
case("poly_crossentropy", onehot_huge, ref_poly, options={"from_logits": True}, label="huge",
     smooth=False)
case("poly_crossentropy", positive_distributions, ref_poly, label="soft probabilities")


# -- generalized cross-entropy (integer labels) --------------------------------------------
def ref_gce(labels, p, q=0.5, from_logits=False, axis=-1):
    """(1 - p_y^q)/q with Keras's p_y as given (no renormalization), NaN out of range."""
    axis = axis % p.ndim
    if labels.ndim == p.ndim:
        labels = labels.squeeze(axis)
    lp = _log_softmax(p, axis) if from_logits else _log(p)
    lp = np.moveaxis(lp, axis, -1)
    valid = (labels >= 0) & (labels < lp.shape[-1])
    picked = np.take_along_axis(lp, np.where(valid, labels, 0)[..., None], -1)[..., 0]
    return np.where(valid, (1.0 - np.exp(q * picked)) / q, np.nan)


def labels_distributions(rng):  # no probability below 0.01 (finite differences of p^q)
    p = rng.uniform(0.05, 1.0, SHAPE)
    return rng.integers(0, C, SHAPE[0]), p / p.sum(-1, keepdims=True)


def labels_at_zero(rng):
    """The label's probability exactly 0 (Keras's gradient is infinite or NaN there) and 1."""
    labels, p = labels_distributions(rng)
    rows = np.arange(SHAPE[0])
    p[rows, labels] = 0.0
    p[0] = np.eye(C)[labels[0]]
    return labels, p


def labels_huge(rng):
    return rng.integers(0, C, SHAPE[0]), rng.choice([-1e4, 1e4, 0.0], SHAPE)


_GCE = "categorical_generalized_crossentropy"
case(_GCE, labels_distributions, ref_gce, **LABELS)
case(_GCE, labels_images, ref_gce, options={"from_logits": True, "axis": 1, "q": 0.8},
     label="nchw", **LABELS)
case(_GCE, labels_column, ref_gce, options={"q": 1.0}, label="column", **LABELS)
case(_GCE, labels_at_zero, ref_gce, options={"q": 0.3}, label="exact_0_1", smooth=False,
     **LABELS)
case(_GCE, labels_huge, ref_gce, options={"from_logits": True, "q": 0.3}, label="huge",
     smooth=False, **LABELS)
case(_GCE, labels_bad, ref_gce, options={"from_logits": True}, label="out_of_range",
     smooth=False, **LABELS)
