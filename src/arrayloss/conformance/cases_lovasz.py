"""Conformance rows of the Lovász losses (Berman, Rannen Triki & Blaschko, 2018).

The reference is plain float64 Python written from the paper's Algorithm 1 with explicit
loops, never calling arrayloss: each image's pixels are sorted by ``sorted``, and the
Jaccard loss of every prefix is counted afresh, pixel by pixel.
"""

from __future__ import annotations

import functools

import numpy as np

from .cases import case


def _extension(errors: list[float], labels: list[int]) -> float:
    """The Lovász extension of the Jaccard loss at ``errors``: the errors in decreasing
    order, each weighed by the Jaccard loss its pixel adds when it joins the mispredicted
    pixels."""
    order = sorted(range(len(errors)), key=lambda i: -errors[i])
    positives = sum(labels)
    total, previous = 0.0, 0.0
    for rank in range(1, len(order) + 1):
        chosen = order[:rank]
        hits = sum(labels[i] for i in chosen)
        false_positives = rank - hits
        # The Jaccard loss when the first `rank` pixels are wrong: the positives among them
        # are missed, the negatives predicted positive; 1 - |B \ M| / |B ∪ M| for the
        # ground truth B and those pixels M.
        union = positives + false_positives
        jaccard = 1.0 - (positives - hits) / union if union else 0.0
        total += errors[order[rank - 1]] * (jaccard - previous)
        previous = jaccard
    return total


def _split(arrays, per_image):
    return list(zip(*arrays, strict=True)) if per_image else [tuple(arrays)]


def ref_lovasz_hinge(y, z, *, ignore_index=None, axis: str | None = "per_sample"):
    out = []
    for ys, zs in _split((y, z), axis is not None):
        errors, labels = [], []
        for label, logit in zip(np.ravel(ys), np.ravel(zs), strict=True):
            if ignore_index is not None and label == ignore_index:
                continue
            errors.append(max(0.0, 1.0 - float(logit) * (2.0 * float(label) - 1.0)))
            labels.append(int(label))
        out.append(_extension(errors, labels))
    return np.asarray(out[0]) if axis is None else np.asarray(out)


def ref_lovasz_softmax(labels, p, *, from_logits=False, classes="present", class_axis=-1,
                       ignore_index=None, axis: str | None = "per_sample"):
    p = np.moveaxis(p, class_axis, -1)
    if from_logits:
        e = np.exp(p - p.max(axis=-1, keepdims=True))
        p = e / e.sum(axis=-1, keepdims=True)
    out = []
    for ls, ps in _split((labels, p), axis is not None):
        flat_labels = [int(v) for v in np.ravel(ls)]
        flat_p = np.reshape(ps, (-1, ps.shape[-1]))
        pixels = [i for i, v in enumerate(flat_labels)
                  if ignore_index is None or v != ignore_index]
        if any(not 0 <= flat_labels[i] < p.shape[-1] for i in pixels):
            out.append(np.nan)
            continue
        losses = []
        for c in range(p.shape[-1]):
            fg = [1 if flat_labels[i] == c else 0 for i in pixels]
            if classes == "present" and sum(fg) == 0:
                continue
            errors = [abs(f - float(flat_p[i, c])) for f, i in zip(fg, pixels, strict=True)]
            losses.append(_extension(errors, fg))
        out.append(sum(losses) / len(losses) if losses else 0.0)
    return np.asarray(out[0]) if axis is None else np.asarray(out)


def _binary(shape, scale=2.0):
    def make(rng):
        y = (rng.uniform(size=shape) < 0.4).astype(float)
        return y, scale * rng.normal(size=shape)
    return make


def _binary_ties(rng):
    # Logits on a coarse grid: many tied errors within an image (and across the labels).
    y = (rng.uniform(size=(4, 3, 5)) < 0.5).astype(float)
    return y, rng.integers(-2, 3, size=(4, 3, 5)) * 0.5


def _binary_empty(rng):
    y, z = _binary((4, 6))(rng)
    y[1] = 0.0  # no positives: the image's loss is its largest error
    y[2] = 1.0  # no negatives
    return y, z


def _binary_ignored(rng):
    y, z = _binary((4, 6))(rng)
    y[0, :3] = 255.0
    y[3] = 255.0  # every pixel left out: 0
    return y, z


def _labels(shape, classes=4):
    def make(rng):
        return rng.integers(0, classes - 1, size=shape), 2.0 * rng.normal(size=(*shape, classes))
    return make


def _softmax_probs(rng):
    labels, z = _labels((3, 4, 5))(rng)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return labels, e / e.sum(axis=-1, keepdims=True)


def _softmax_ties(rng):
    labels = rng.integers(0, 3, size=(3, 6))
    p = rng.integers(0, 3, size=(3, 6, 3)).astype(float) + 1.0
    return labels, p / p.sum(axis=-1, keepdims=True)  # few distinct probabilities: ties


def _softmax_ignored(rng):
    labels, z = _labels((3, 6))(rng)
    labels[0, :2] = -1
    labels[2] = -1  # every pixel left out: 0
    return labels, z


def _channels_first(rng):
    labels = rng.integers(0, 3, size=(2, 4, 3))
    return labels, 2.0 * rng.normal(size=(2, 3, 4, 3))  # (B, C, H, W), Berman's layout


_LOGITS_ONLY = (1,)  # the masks are data, not differentiated
_LABELS = {"grad_inputs": (1,), "float_inputs": (1,)}  # integer labels

case("lovasz_hinge", _binary((4, 3, 5)), ref_lovasz_hinge, grad_inputs=_LOGITS_ONLY)
case("lovasz_hinge", _binary((4, 6)), functools.partial(ref_lovasz_hinge, axis=None),
     options={"axis": None}, label="whole_batch", grad_inputs=_LOGITS_ONLY)
case("lovasz_hinge", _binary_ties, ref_lovasz_hinge, label="ties", grad_inputs=_LOGITS_ONLY,
     smooth=False)
case("lovasz_hinge", _binary_empty, ref_lovasz_hinge, label="empty",
     grad_inputs=_LOGITS_ONLY)
case("lovasz_hinge", _binary_ignored, functools.partial(ref_lovasz_hinge, ignore_index=255),
     options={"ignore_index": 255}, label="ignored", grad_inputs=_LOGITS_ONLY)
case("lovasz_softmax", _softmax_probs, ref_lovasz_softmax, **_LABELS)
case("lovasz_softmax", _labels((3, 4, 4)),
     functools.partial(ref_lovasz_softmax, from_logits=True, classes="all"),
     options={"from_logits": True, "classes": "all"}, label="all", **_LABELS)
case("lovasz_softmax", _softmax_ties, ref_lovasz_softmax, label="ties",
     smooth=False, **_LABELS)
case("lovasz_softmax", _softmax_ignored,
     functools.partial(ref_lovasz_softmax, from_logits=True, ignore_index=-1),
     options={"from_logits": True, "ignore_index": -1}, label="ignored",
     **_LABELS)
case("lovasz_softmax", _channels_first,
     functools.partial(ref_lovasz_softmax, from_logits=True, class_axis=1, axis=None),
     options={"from_logits": True, "class_axis": 1, "axis": None}, label="whole_batch",
     **_LABELS)
