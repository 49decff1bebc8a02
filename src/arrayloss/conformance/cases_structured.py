"""Conformance rows of the structured losses: segmentation overlaps, metric learning, CTC.

References are plain float64 NumPy written from the papers' formulas with explicit loops,
never calling arrayloss. The CTC reference enumerates every alignment path (C^T of them:
tiny T and C keep this exact and fast), independent of the forward algorithm.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

from .cases import case

# -- segmentation -----------------------------------------------------------------------


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _tversky_ratio(y, p, alpha, beta, smooth):
    tp = np.sum(y * p)
    fp = np.sum((1 - y) * p)
    fn = np.sum(y * (1 - p))
    return (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)


def ref_overlap(y, p, *, kind, alpha=0.5, beta=0.5, gamma=1.0, smooth=1e-7, from_logits=False,
                class_axis=None, class_weight=None, ignore_background=False,
                class_reduction="mean", epsilon=1e-7, axis="per_sample"):
    """Per-sample (1 - ratio)**gamma, per class when ``class_axis`` is given (last axis
    here), reduced over the classes by ``class_reduction``."""
    if kind in ("dice", "generalized_dice"):  # 1 - (2 TP + s) / (Σy + Σp + s)
        ratio = lambda y_, p_: (2 * np.sum(y_ * p_) + smooth) / (y_.sum() + p_.sum() + smooth)  # noqa: E731
    else:
        a, b = (1.0, 1.0) if kind == "jaccard" else (alpha, beta)
        ratio = lambda y_, p_: _tversky_ratio(y_, p_, a, b, smooth)  # noqa: E731
    if from_logits:
        p = _sigmoid(p) if class_axis is None else _softmax(p, class_axis)
    num_classes = y.shape[-1]
    weights = np.ones(num_classes) if class_weight is None else np.asarray(class_weight)
    if kind == "generalized_dice":  # optax: 1/(f² + ε) over the whole batch, summing to C
        inverse = [1.0 / (y[..., c].sum() ** 2 + epsilon) for c in range(num_classes)]
        weights = np.asarray([num_classes * v / sum(inverse) for v in inverse])
    samples = [(y, p)] if axis is None else list(zip(y, p, strict=True))
    out = []
    for ys, ps in samples:
        if class_axis is None:
            out.append((1.0 - ratio(ys, ps)) ** gamma)
            continue
        losses = [weights[c] * (1.0 - ratio(ys[..., c], ps[..., c])) ** gamma
                  for c in range(num_classes)]
        kept = np.asarray(losses[1:] if ignore_background else losses)
        out.append({"mean": np.mean, "sum": np.sum, "none": np.asarray}[class_reduction](kept))
    return np.asarray(out[0]) if axis is None else np.asarray(out)


def _masks(shape, p_low=0.05):
    def make(rng):
        y = (rng.uniform(size=shape) < 0.4).astype(float)
        return y, rng.uniform(p_low, 0.95, size=shape)
    return make


def _empty_sample(rng):
    y, p = _masks((4, 6))(rng)
    y[1], p[1] = 0.0, 0.0  # empty target, empty prediction: loss 0
    return y, p


def _one_hot_logits(rng):
    labels = rng.integers(0, 3, size=(3, 4, 4))
    return np.eye(3)[labels], 2.0 * rng.normal(size=(3, 4, 4, 3))


def _one_hot_empty_class(rng):  # class 3 of 4 absent from every target
    labels = rng.integers(0, 3, size=(3, 4, 4))
    return np.eye(4)[labels], 2.0 * rng.normal(size=(3, 4, 4, 4))


case("dice", _masks((4, 3, 5)), functools.partial(ref_overlap, kind="dice"))
case("dice", _masks((4, 6)), functools.partial(ref_overlap, kind="dice"),
     options={"axis": None, "smooth": 1.0}, label="whole_batch")
case("dice", _one_hot_logits, functools.partial(ref_overlap, kind="dice"),
     options={"from_logits": True, "class_axis": -1, "class_weight": (0.5, 1.0, 2.0),
              "ignore_background": True, "smooth": 1.0}, label="multiclass")
case("tversky", lambda rng: ((rng.uniform(size=(4, 6)) < 0.5).astype(float),
                             rng.normal(size=(4, 6))),
     functools.partial(ref_overlap, kind="tversky"),
     options={"alpha": 0.3, "beta": 0.7, "from_logits": True})
case("jaccard", _empty_sample, functools.partial(ref_overlap, kind="jaccard"),
     options={"smooth": 1.0}, label="empty")
case("tversky", _one_hot_logits, functools.partial(ref_overlap, kind="tversky"),
     options={"alpha": 0.3, "beta": 0.7, "from_logits": True, "class_axis": -1,
              "class_weight": (0.5, 1.0, 2.0), "class_reduction": "sum", "smooth": 1.0},
     label="class_sum")
case("dice", _one_hot_logits, functools.partial(ref_overlap, kind="dice"),
     options={"from_logits": True, "class_axis": -1, "ignore_background": True,
              "class_reduction": "none", "smooth": 1.0}, label="per_class")
case("focal_tversky", _masks((4, 3, 5)), functools.partial(ref_overlap, kind="tversky"),
     options={"alpha": 0.3, "beta": 0.7, "gamma": 0.75})
case("focal_tversky", lambda rng: ((rng.uniform(size=(4, 6)) < 0.5).astype(float),
                                   rng.normal(size=(4, 6))),
     functools.partial(ref_overlap, kind="tversky"),
     options={"alpha": 0.5, "beta": 0.5, "gamma": 2.0, "from_logits": True, "smooth": 1.0},
     label="logits")
case("focal_tversky", _one_hot_logits, functools.partial(ref_overlap, kind="tversky"),
     options={"alpha": 0.3, "beta": 0.7, "gamma": 1.5, "from_logits": True, "class_axis": -1,
              "class_weight": (0.5, 1.0, 2.0), "ignore_background": True, "smooth": 1.0},
     label="multiclass")
case("generalized_dice", _one_hot_logits,
     functools.partial(ref_overlap, kind="generalized_dice", class_axis=-1),
     options={"from_logits": True, "smooth": 2.0})
case("generalized_dice", _one_hot_logits,
     functools.partial(ref_overlap, kind="generalized_dice", class_axis=-1),
     options={"from_logits": True, "ignore_background": True, "class_reduction": "none",
              "smooth": 1.0}, label="per_class")
case("generalized_dice", _one_hot_empty_class,
     functools.partial(ref_overlap, kind="generalized_dice", class_axis=-1),
     options={"from_logits": True, "smooth": 1.0}, label="empty_class")

# -- metric learning --------------------------------------------------------------------


def ref_triplet(anchor, pos, neg, margin=1.0, p=2.0, eps=1e-6, swap=False):
    def dist(x, y):
        return np.sum(np.abs(x - y + eps) ** p, axis=-1) ** (1.0 / p)
    d_neg = dist(anchor, neg)
    if swap:
        d_neg = np.minimum(d_neg, dist(pos, neg))
    return np.maximum(dist(anchor, pos) - d_neg + margin, 0.0)


def _triplets(rng):
    return tuple(rng.normal(size=(6, 4)) for _ in range(3))


def ref_contrastive(y, d, margin=1.0):
    values = (1 - y) * d**2 + y * np.maximum(margin - d, 0.0) ** 2
    return values.mean(axis=-1) if values.ndim >= 2 else values  # element-wise: last axis


def ref_ntxent(e, labels, temperature=0.07):
    values = []
    for i in range(len(e)):
        def sim(j, i=i):
            return e[i] @ e[j] / (np.linalg.norm(e[i]) * np.linalg.norm(e[j])) / temperature
        negatives = sum(np.exp(sim(k)) for k in range(len(e)) if labels[k] != labels[i])
        pairs = [-np.log(np.exp(sim(j)) / (np.exp(sim(j)) + negatives))
                 for j in range(len(e)) if j != i and labels[j] == labels[i]]
        values.append(np.mean(pairs))
    return np.asarray(values)


case("triplet_margin", _triplets, ref_triplet)
case("triplet_margin", _triplets, ref_triplet,
     options={"margin": 0.5, "p": 1.0, "swap": True})
case("contrastive", lambda rng: (rng.integers(0, 2, size=8).astype(float),
                                 rng.uniform(0.0, 2.0, size=8)), ref_contrastive)
case("contrastive", lambda rng: (rng.integers(0, 2, size=(4, 3)).astype(float),
                                 rng.uniform(0.0, 3.0, size=(4, 3))), ref_contrastive,
     options={"margin": 2.0})
case("ntxent", lambda rng: (rng.normal(size=(6, 3)), np.array([0, 0, 1, 1, 2, 2])), ref_ntxent,
     float_inputs=(0,), tolerance=4.0)
case("ntxent", lambda rng: (rng.normal(size=(5, 4)), np.array([3, 1, 3, 1, 3])), ref_ntxent,
     options={"temperature": 0.5}, float_inputs=(0,), label="groups")

def ref_circle(labels, e, gamma=80.0, margin=0.4, remove_diagonal=True, ref_labels=None,
               ref_embeddings=None):
    """Sun et al.'s circle loss per query, in loops, on the normalized embeddings."""
    refs = e if ref_embeddings is None else np.asarray(ref_embeddings)
    ref = labels if ref_labels is None else np.asarray(ref_labels)
    values = []
    for i in range(len(e)):
        pos, neg = [], []
        for j in range(len(refs)):
            norms = np.linalg.norm(e[i]) * np.linalg.norm(refs[j])
            cos = 0.0 if norms == 0 else e[i] @ refs[j] / norms  # a zero embedding: cos 0
            d = max(1.0 - cos, 0.0)
            if labels[i] == ref[j] and not (remove_diagonal and i == j):
                pos.append(-gamma * max(margin + d, 0.0) * (margin - d))
            elif labels[i] != ref[j]:
                neg.append(gamma * max(1.0 + margin - d, 0.0) * (1.0 - margin - d))
        if not pos or not neg:
            values.append(0.0)
            continue
        total = np.logaddexp.reduce(pos) + np.logaddexp.reduce(neg)
        values.append(np.logaddexp(0.0, total))
    return np.asarray(values)


# Every query has a positive and a negative here: the runner's means count every sample,
# and a query without pairs is masked out of them (tests/test_structured.py checks those).
def _circle_groups(rng):  # one zero embedding: cosine 0 with everything
    e = rng.normal(size=(7, 3))
    e[4] = 0.0
    return np.array([0, 0, 1, 1, 2, 2, 1]), e


case("circle", _circle_groups, ref_circle, options={"gamma": 4.0, "margin": 0.25},
     float_inputs=(1,), smooth=False)
case("circle", lambda rng: (np.array([2, 0, 2, 0, 1]), rng.normal(size=(5, 4))), ref_circle,
     options={"gamma": 2.0, "remove_diagonal": False}, float_inputs=(1,), label="diagonal")
case("circle", lambda rng: (np.array([0, 1, 0, 2]), rng.normal(size=(4, 3))), ref_circle,
     options={"gamma": 3.0, "ref_labels": [0, 1, 2, 0, 1],
              "ref_embeddings": [[1.0, 0.5, -0.2], [0.0, 1.0, 0.3], [-0.4, 0.2, 1.0],
                                 [0.7, -0.7, 0.1], [0.2, 0.2, 0.2]]},
     float_inputs=(1,), label="references")

# -- sequence (CTC) ---------------------------------------------------------------------


@functools.cache
def _collapsed_paths(frames: int, classes: int, blank: int):
    """Every path over ``frames`` steps and the label sequence it reads."""
    paths = np.array(list(itertools.product(range(classes), repeat=frames)), dtype=int)
    reads = []
    for path in paths:
        merged = [c for k, c in enumerate(path) if k == 0 or c != path[k - 1]]
        reads.append(tuple(c for c in merged if c != blank))
    return paths.reshape(-1, frames), reads


def ref_ctc(labels, logits, label_lengths, logit_lengths, blank=0, zero_infinity=False):
    out = []
    for lab, x, n_lab, n_frames in zip(labels, logits, label_lengths, logit_lengths,
                                       strict=True):
        x = x[:n_frames]
        log_p = x - np.log(np.sum(np.exp(x - x.max(-1, keepdims=True)), -1,
                                  keepdims=True)) - x.max(-1, keepdims=True)
        paths, reads = _collapsed_paths(int(n_frames), x.shape[-1], blank)
        target = tuple(int(v) for v in lab[:n_lab])
        scores = [log_p[np.arange(n_frames), path].sum()
                  for path, read in zip(paths, reads, strict=True) if read == target]
        if not scores:
            out.append(0.0 if zero_infinity else np.inf)
            continue
        top = max(scores)
        out.append(-(top + np.log(np.sum(np.exp(np.asarray(scores) - top)))))
    return np.asarray(out)


def _ctc_inputs(impossible: bool):
    def make(rng):
        labels = np.array([[1, 2, 2], [2, 1, 0], [1, 0, 0], [2, 2, 1]])
        logits = 1.5 * rng.normal(size=(4, 5, 3))
        label_lengths = np.array([3, 2, 1, 3])
        logit_lengths = np.array([5, 4, 5, 4 if impossible else 5])  # [2,2,1] needs 4 frames
        if impossible:
            label_lengths[3], logit_lengths[3] = 3, 3
        return labels, logits, label_lengths, logit_lengths
    return make


case("ctc", _ctc_inputs(False), ref_ctc, float_inputs=(1,))
case("ctc", _ctc_inputs(True), ref_ctc, options={"zero_infinity": True, "blank": 0},
     float_inputs=(1,), label="impossible")
