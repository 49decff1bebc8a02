"""Conformance rows of PyTorch's two-class, ranking and multi-label margin losses
(``soft_margin``, ``hinge_embedding``, ``cosine_embedding``, ``margin_ranking``,
``multilabel_soft_margin``, ``multi_margin``, ``multilabel_margin``).

The references are plain float64 NumPy written from PyTorch's documented formulas, never
calling arrayloss: ``log(1 + exp(-y·x))`` by ``np.logaddexp``; the hinge embedding with
PyTorch's two label tests; the cosine with PyTorch's ε = 1e-12 in each squared norm;
``max(0, -y·(x₁ - x₂) + margin)``; the multi-label soft margin by ``np.logaddexp``,
weighted per class and averaged over the classes; the multi-class margin summed over the
other classes by a loop; the multi-label margin by a loop over PyTorch's padded target
list. Per-sample values of the element-wise
losses average the last axis.
"""

from __future__ import annotations

import numpy as np

from .cases import case

SHAPE = (6, 5)


def _last(values: np.ndarray) -> np.ndarray:
    return values.mean(axis=-1) if values.ndim >= 2 else values


def _signs(rng: np.random.Generator, spread: float = 2.0):
    return rng.choice([-1.0, 1.0], size=SHAPE), spread * rng.normal(size=SHAPE)


def _large(rng: np.random.Generator):
    """Scores of ±1e4 beside ordinary ones (representable in float16)."""
    y = rng.choice([-1.0, 1.0], size=SHAPE)
    return y, rng.choice([-1e4, -30.0, -0.5, 0.0, 2.0, 30.0, 1e4], size=SHAPE)


def ref_soft_margin(y, p):
    return _last(np.logaddexp(0.0, -y * p))


case("soft_margin", _signs, ref_soft_margin)
case("soft_margin", lambda rng: (rng.choice([-1.0, 0.0, 1.0], size=SHAPE),
                                 rng.normal(size=SHAPE)), ref_soft_margin, label="zero labels")
case("soft_margin", _large, ref_soft_margin, label="large", tolerance=10.0)
case("soft_margin", lambda rng: (rng.choice([-1.0, 1.0], size=(7,)), rng.normal(size=(7,))),
     ref_soft_margin, label="1-D")


def ref_hinge_embedding(y, p, margin=1.0):
    values = np.where(y != -1, p, 0.0) + np.where(y != 1, np.maximum(margin - p, 0.0), 0.0)
    return _last(np.where(np.isnan(y), np.nan, values))


def _distances(rng: np.random.Generator):
    return rng.choice([-1.0, 1.0], size=SHAPE), rng.uniform(0.0, 2.5, size=SHAPE)


# The labels are piecewise constant in the loss: only the distance is differentiated.
case("hinge_embedding", _distances, ref_hinge_embedding, grad_inputs=(1,))
case("hinge_embedding", _signs, ref_hinge_embedding, options={"margin": 2.0},
     label="margin 2, negative scores", grad_inputs=(1,))
case("hinge_embedding", lambda rng: (rng.choice([-1.0, 0.0, 1.0, 2.0], size=SHAPE),
                                     rng.uniform(0.0, 2.5, size=SHAPE)),
     ref_hinge_embedding, options={"margin": 0.5}, label="other labels", grad_inputs=(1,))
case("hinge_embedding", lambda rng: (rng.choice([-1.0, 1.0], size=(7,)),
                                     rng.uniform(0.0, 2.5, size=(7,))),
     ref_hinge_embedding, label="1-D", grad_inputs=(1,))


def ref_margin_ranking(y, x1, x2, margin=0.0):
    return _last(np.maximum(margin - y * (x1 - x2), 0.0))


def _ranked(shape):
    def make(rng: np.random.Generator):
        return (rng.choice([-1.0, 1.0], size=shape), rng.normal(size=shape),
                rng.normal(size=shape))
    return make


case("margin_ranking", _ranked((8,)), ref_margin_ranking)
case("margin_ranking", _ranked(SHAPE), ref_margin_ranking, options={"margin": 0.5},
     label="2-D, margin 0.5")
case("margin_ranking", _ranked((8,)), ref_margin_ranking, options={"margin": -0.3},
     label="negative margin")


def ref_cosine_embedding(y, x1, x2, margin=0.0):
    cos = (x1 * x2).sum(-1) / np.sqrt(((x1 * x1).sum(-1) + 1e-12) * ((x2 * x2).sum(-1) + 1e-12))
    values = np.where(y == 1, 1.0 - cos, np.where(y == -1, np.maximum(cos - margin, 0.0), 0.0))
    return np.where(np.isnan(y), np.nan, values)


def _pairs(labels, n=6, d=4):
    def make(rng: np.random.Generator):
        return rng.choice(labels, size=(n,)), rng.normal(size=(n, d)), rng.normal(size=(n, d))
    return make


def _with_zero_vector(rng: np.random.Generator):
    y, x1, x2 = _pairs([-1.0, 1.0])(rng)
    y[:2] = 1.0
    x1[0] = 0.0  # cos = 0 through PyTorch's ε: the loss is 1, the gradient finite
    x2[1] = 0.0
    return y, x1, x2


# The labels are piecewise constant in the loss: only the embeddings are differentiated.
case("cosine_embedding", _pairs([-1.0, 1.0]), ref_cosine_embedding, grad_inputs=(1, 2))
case("cosine_embedding", _pairs([-1.0, 0.0, 1.0]), ref_cosine_embedding,
     options={"margin": 0.3}, label="margin 0.3, other labels", grad_inputs=(1, 2))
case("cosine_embedding", _pairs([-1.0, 1.0]), ref_cosine_embedding,
     options={"margin": -0.5}, label="negative margin", grad_inputs=(1, 2))
# A zero vector's gradient is of order 1/sqrt(ε): finite, not for finite differences.
case("cosine_embedding", _with_zero_vector, ref_cosine_embedding, label="zero vectors",
     grad_inputs=(1, 2), smooth=False)
case("cosine_embedding", lambda rng: (np.asarray(-1.0), rng.normal(size=(5,)),
                                      rng.normal(size=(5,))),
     ref_cosine_embedding, options={"margin": -1.0}, label="one pair", grad_inputs=(1, 2),
     empty_batch=False)


def ref_multilabel_soft_margin(y, z, class_weight=None, axis=-1):
    terms = y * np.logaddexp(0.0, -z) + (1.0 - y) * np.logaddexp(0.0, z)
    if class_weight is not None:
        shape = [1] * z.ndim
        shape[axis] = -1
        terms = terms * np.reshape(np.asarray(class_weight), shape)
    return terms.mean(axis=axis)


def _multilabel(rng: np.random.Generator):
    return rng.integers(0, 2, size=SHAPE).astype(float), 2.0 * rng.normal(size=SHAPE)


def _soft_targets(rng: np.random.Generator):
    return rng.uniform(0.0, 1.0, size=SHAPE), 2.0 * rng.normal(size=SHAPE)


case("multilabel_soft_margin", _multilabel, ref_multilabel_soft_margin)
case("multilabel_soft_margin", _soft_targets, ref_multilabel_soft_margin,
     options={"class_weight": (0.5, 1.0, 2.0, 0.0, 1.5)}, label="soft targets, class weights")
case("multilabel_soft_margin", lambda rng: (rng.integers(0, 2, size=SHAPE).astype(float),
                                            rng.choice([-1e4, -30.0, 0.0, 30.0, 1e4],
                                                       size=SHAPE)),
     ref_multilabel_soft_margin, label="large", tolerance=10.0)
case("multilabel_soft_margin", _multilabel, ref_multilabel_soft_margin,
     options={"axis": 0, "class_weight": (1.0, 2.0, 0.5, 1.0, 1.0, 3.0)}, label="axis 0")


def ref_multi_margin(labels, scores, p=1, margin=1.0, class_weight=None, axis=-1):
    scores = np.moveaxis(scores, axis, -1)
    if labels.ndim == scores.ndim:
        labels = np.moveaxis(labels, axis, -1)[..., 0]
    num_classes = scores.shape[-1]
    weights = np.ones(num_classes) if class_weight is None else np.asarray(class_weight)
    values = np.full(labels.shape, np.nan)
    for index in np.ndindex(labels.shape):
        y = labels[index]
        if not 0 <= y < num_classes:
            continue  # out of range: NaN
        x = scores[index]
        total = sum(max(0.0, margin - x[y] + x[c]) ** p for c in range(num_classes) if c != y)
        values[index] = weights[y] * total / num_classes
    return values


def _class_labels(rng: np.random.Generator, n: int = 7, c: int = 4):
    return rng.integers(0, c, size=(n,)), rng.normal(size=(n, c))


def _bad_class_labels(rng: np.random.Generator):
    labels, scores = _class_labels(rng)
    labels[[0, 3]] = [4, -1]  # out of range: NaN for those samples
    return labels, scores


_LABELS = {"float_inputs": (1,)}
case("multi_margin", _class_labels, ref_multi_margin, **_LABELS)
case("multi_margin", _class_labels, ref_multi_margin,
     options={"p": 2, "margin": 0.5, "class_weight": (0.5, 1.0, 2.0, 1.5)},
     label="p 2, margin 0.5, class weights", **_LABELS)
case("multi_margin", _class_labels, ref_multi_margin,
     options={"class_weight": (1.0, 0.0, 3.0, 1.0)}, label="class weights", **_LABELS)
case("multi_margin", lambda rng: (rng.integers(0, 3, size=(2, 4)), rng.normal(size=(2, 3, 4))),
     ref_multi_margin, options={"axis": 1, "p": 2}, label="class axis 1", **_LABELS)
case("multi_margin", _bad_class_labels, ref_multi_margin, label="out of range", smooth=False,
     **_LABELS)


def ref_multilabel_margin(targets, scores):
    values = np.full(targets.shape[:-1], np.nan)
    for index in np.ndindex(values.shape):
        t, x = targets[index], scores[index]
        num_classes = len(x)
        listed = []
        for y in t:
            if y == -1:
                break
            listed.append(int(y))
        if any(not 0 <= y < num_classes for y in listed):
            continue  # out of range: NaN
        values[index] = sum(max(0.0, 1.0 - (x[y] - x[i])) for y in listed
                            for i in range(num_classes) if i not in listed) / num_classes
    return values


def _padded_targets(rng: np.random.Generator, n: int = 7, c: int = 5, repeats: bool = False,
                    bad: bool = False):
    targets = np.full((n, c), -1)
    for row in range(n):
        k = int(rng.integers(0, c + 1))
        targets[row, :k] = rng.choice(c, size=k, replace=repeats)
        # After the first -1 anything may follow (PyTorch does not read it).
        targets[row, k + 1:] = rng.integers(-3, c + 2, size=max(0, c - k - 1))
    targets[0, :2] = [1, -1]  # one target
    targets[1, 0] = -1  # no targets: the value 0
    if bad:
        targets[2, :2] = [c, -1]  # out of range: NaN for those samples
        targets[3, :3] = [0, -2, -1]
    return targets, rng.normal(size=(n, c))


_TARGETS = {"float_inputs": (1,)}
case("multilabel_margin", _padded_targets, ref_multilabel_margin, **_TARGETS)
case("multilabel_margin", lambda rng: _padded_targets(rng, repeats=True), ref_multilabel_margin,
     label="repeated targets", **_TARGETS)
case("multilabel_margin", lambda rng: (np.array([2, 0, -1, 4]), rng.normal(size=(4,))),
     ref_multilabel_margin, label="one sample", empty_batch=False, **_TARGETS)
case("multilabel_margin", lambda rng: _padded_targets(rng, bad=True), ref_multilabel_margin,
     label="out of range", smooth=False, **_TARGETS)
