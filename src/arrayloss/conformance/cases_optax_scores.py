"""Conformance rows of optax's losses on raw scores that arrayloss adds beside the hinge:
the perceptron and the binary sparsemax loss of ``{-1, 1}`` labels (0 read as -1), and
the multi-class perceptron, Crammer–Singer hinge and sparsemax loss of integer labels.

The references are plain float64 NumPy written from the published formulas, never calling
arrayloss: the sparse plus by its three pieces; the maxima by loops over the classes; the
sparsemax projection by the textbook algorithm (sort, find the support's size ``k`` as the
last ``j`` with ``1 + j·z_(j) > Σ_{i≤j} z_(i)``, ``τ = (Σ_{i≤k} z_(i) - 1)/k``), whose
loss is ``⟨p, z⟩ - z_y + (1 - ‖p‖²)/2``. Per-sample values of the element-wise losses
average the last axis.
"""

from __future__ import annotations

import numpy as np

from .cases import case

SHAPE = (6, 5)
_LABELS = {"float_inputs": (1,)}


def _last(values: np.ndarray) -> np.ndarray:
    return values.mean(axis=-1) if values.ndim >= 2 else values


def _signed(y: np.ndarray) -> np.ndarray:
    return np.where(y == 0, -1.0, y)


def ref_perceptron(y, s):
    return _last(np.maximum(-_signed(y) * s, 0.0))


def _sparse_plus(x):
    return np.where(x <= -1, 0.0, np.where(x >= 1, x, (x + 1) ** 2 / 4))


def ref_binary_sparsemax(y, s):
    return _last(_sparse_plus(-_signed(y) * s))


def _signs(rng):
    return rng.choice([-1.0, 1.0], SHAPE), 2.0 * rng.normal(size=SHAPE)


def _zero_one(rng):
    return rng.integers(0, 2, SHAPE).astype(float), 2.0 * rng.normal(size=SHAPE)


def _large(rng):
    """Scores of ±1e4 beside ordinary ones (representable in float16)."""
    y = rng.choice([-1.0, 1.0], size=SHAPE)
    return y, rng.choice([-1e4, -30.0, -0.5, 0.25, 2.0, 30.0, 1e4], size=SHAPE)


# A label of 0 is read as -1, a jump: no derivative with respect to those targets.
case("perceptron", _zero_one, ref_perceptron, grad_inputs=(1,))
case("perceptron", _signs, ref_perceptron, label="signed")
case("binary_sparsemax", _zero_one, ref_binary_sparsemax, grad_inputs=(1,))
case("binary_sparsemax", _signs, ref_binary_sparsemax, label="signed")
case("binary_sparsemax", _large, ref_binary_sparsemax, label="large", smooth=False)


def _rows(labels, scores, axis):
    scores = np.moveaxis(scores, axis, -1)
    if labels.ndim == scores.ndim:
        labels = np.moveaxis(labels, axis, -1)[..., 0]
    return labels, scores


def _per_sample(labels, scores, axis, value):
    labels, scores = _rows(labels, scores, axis)
    values = np.full(labels.shape, np.nan)
    for index in np.ndindex(labels.shape):
        y = labels[index]
        if 0 <= y < scores.shape[-1]:  # out of range: NaN
            values[index] = value(scores[index], int(y))
    return values


def ref_multiclass_perceptron(labels, scores, axis=-1):
    return _per_sample(labels, scores, axis, lambda x, y: max(x) - x[y])


def ref_multiclass_hinge(labels, scores, margin=1.0, axis=-1):
    def value(x, y):
        others = max(x[c] for c in range(len(x)) if c != y)
        return max(0.0, others + margin - x[y])

    return _per_sample(labels, scores, axis, value)


def _sparsemax(x):
    descending = np.sort(x)[::-1]
    sums = np.cumsum(descending)
    k = max(j for j in range(1, len(x) + 1) if 1 + j * descending[j - 1] > sums[j - 1])
    return np.maximum(x - (sums[k - 1] - 1) / k, 0.0)


def ref_multiclass_sparsemax(labels, scores, axis=-1):
    def value(x, y):
        p = _sparsemax(x)
        return p @ x - x[y] + 0.5 * (1 - p @ p)

    return _per_sample(labels, scores, axis, value)


def _class_labels(rng, n: int = 7, c: int = 4):
    return rng.integers(0, c, size=(n,)), rng.normal(size=(n, c))


def _spread_labels(rng):
    """Scores spread over several units: supports of one to all classes."""
    labels, scores = _class_labels(rng)
    return labels, scores * np.array([[0.2], [0.5], [1.0], [2.0], [4.0], [8.0], [0.05]])


def _bad_class_labels(rng):
    labels, scores = _class_labels(rng)
    labels[[0, 3]] = [4, -1]  # out of range: NaN for those samples
    return labels, scores


def _class_axis(rng):
    return rng.integers(0, 3, size=(2, 4)), rng.normal(size=(2, 3, 4))


for _loss, _reference in (("multiclass_perceptron", ref_multiclass_perceptron),
                          ("multiclass_hinge", ref_multiclass_hinge),
                          ("multiclass_sparsemax", ref_multiclass_sparsemax)):
    case(_loss, _class_labels, _reference, **_LABELS)
    case(_loss, _class_axis, _reference, options={"axis": 1}, label="class axis 1", **_LABELS)
    case(_loss, _bad_class_labels, _reference, label="out of range", smooth=False, **_LABELS)
case("multiclass_hinge", _class_labels, ref_multiclass_hinge, options={"margin": 0.25},
     label="margin 0.25", **_LABELS)
case("multiclass_sparsemax", _spread_labels, ref_multiclass_sparsemax, label="spread",
     **_LABELS)
