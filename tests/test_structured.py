"""The structured losses beyond the conformance matrix: bad inputs, empty masks, impossible
CTC alignments, zero embeddings, PyTorch's CTC gradients, and tracing (jax.jit, vmap,
torch.compile)."""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss
from arrayloss.conformance.backends import available_backends

BACKENDS = available_backends()
HAS = {b.name for b in BACKENDS}
RNG = np.random.default_rng(7)
EMB = RNG.normal(size=(4, 3))
INTS = np.array([0, 0, 1, 1])
SEQ = (np.array([[1, 2], [2, 0]]), RNG.normal(size=(2, 4, 3)), np.array([2, 1]),
       np.array([4, 4]))
MASKS = (np.ones((2, 4)), np.full((2, 4), 0.5))

# -- bad inputs: (loss, arrays, options, error, message fragment) ------------------------------
BAD = [
    ("triplet_margin", (EMB, EMB, EMB[:3]), {}, ValueError, r"one shape.*negative.shape=\(3, 3\)"),
    ("triplet_margin", (EMB, EMB, EMB), {"margin": -1.0}, ValueError, r"margin must be in \[0"),
    ("triplet_margin", (EMB, EMB, EMB), {"p": 0.0}, ValueError, r"p must be in \(0"),
    ("contrastive", (INTS, EMB[:, 0]), {"margin": -0.5}, ValueError, "margin"),
    ("ntxent", (EMB, INTS[:3]), {}, ValueError, r"labels.shape=\(3,\)"),
    ("ntxent", (EMB[0], INTS[:1]), {}, ValueError, r"embeddings.shape=\(3,\)"),
    ("ntxent", (EMB, INTS), {"temperature": -0.1}, ValueError, "temperature"),
    ("ntxent", (EMB, INTS), {"temperature": 0.0}, ValueError, "temperature"),
    ("ntxent", (EMB, INTS * 1.0), {}, TypeError, "labels must be integers"),
    ("tversky", MASKS, {"alpha": -0.1}, ValueError, r"alpha must be in \[0, inf\]"),
    ("tversky", MASKS, {"beta": -2}, ValueError, "beta"),
    ("tversky", MASKS, {"alpha": float("nan")}, ValueError, "alpha"),
    ("dice", MASKS, {"smooth": -1.0}, ValueError, "smooth"),
    ("dice", MASKS, {"class_weight": [1.0, 2.0]}, ValueError, "pass class_axis"),
    ("dice", MASKS, {"ignore_background": True}, ValueError, "class_axis"),
    ("dice", MASKS, {"class_axis": -1, "class_weight": [1.0, 2.0]}, ValueError,
     r"one weight per class, shape \(4,\)"),
    ("dice", MASKS, {"class_axis": -1, "axis": (1,)}, ValueError, "includes class_axis"),
    ("dice", MASKS, {"axis": "samples"}, ValueError, "per_sample"),
    ("dice", MASKS, {"class_axis": 1.5}, TypeError, "class_axis"),
    ("jaccard", (np.ones((2, 4)), np.ones((2, 3))), {}, ValueError, "same shape"),
    ("ctc", (SEQ[0], SEQ[1][0], *SEQ[2:]), {}, ValueError, r"\(N, T, C\)"),
    ("ctc", (SEQ[0] * 1.0, *SEQ[1:]), {}, TypeError, "labels must be integers"),
    ("ctc", (*SEQ[:2], SEQ[2][:1], SEQ[3]), {}, ValueError, r"label_lengths.shape=\(1,\)"),
    ("ctc", SEQ, {"blank": 3}, ValueError, r"blank must be an int class index in \[0, 3\)"),
    ("ctc", SEQ, {"zero_infinity": 1}, TypeError, "zero_infinity"),
]


@pytest.mark.parametrize(("name", "arrays", "options", "error", "match"), BAD,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_inputs_raise_at_call_time(name, arrays, options, error, match):
    with pytest.raises(error, match=match):
        arrayloss.get(name)(*arrays, **options)


# -- values on every backend ---------------------------------------------------------------------
def _call(b, fn, *arrays, **options):
    return b.to_numpy(b.call(fn, *(b.asarray(a) for a in arrays), **options))


EMPTY = (np.zeros((3, 2, 2)), np.zeros((3, 2, 2)))
EMPTY_CASES = [("dice", {}), ("tversky", {"alpha": 0.2, "beta": 0.9}), ("jaccard", {}),
               ("dice", {"smooth": 1.0, "axis": None})]


@pytest.mark.parametrize("b", BACKENDS, ids=lambda b: b.name)
def test_empty_target_and_prediction_give_zero(b):
    for name, options in EMPTY_CASES:
        np.testing.assert_allclose(_call(b, arrayloss.get(name), *EMPTY, reduction="none",
                                         **options), 0.0, atol=1e-12, err_msg=name)
    # Confident logits of an empty prediction: the same, through the stable sigmoid.
    value = _call(b, arrayloss.dice, EMPTY[0], np.full((3, 2, 2), -1e4), from_logits=True)
    np.testing.assert_allclose(value, 0.0, atol=1e-12)


@pytest.mark.parametrize("b", BACKENDS, ids=lambda b: b.name)
def test_ctc_impossible_and_invalid_on_every_backend(b):
    labels = np.array([[1, 1, 2], [1, 2, 0], [1, 5, 0], [1, 2, 0], [0, 0, 0]])
    logits = RNG.normal(size=(5, 3, 4))
    label_lengths = np.array([3, 2, 2, 2, 0])  # [1,1,2] needs 4 frames: impossible
    logit_lengths = np.array([3, 1, 3, 7, 0])  # 2 labels in 1 frame: impossible; 7 > T
    inputs = (labels, logits, label_lengths, logit_lengths)
    values = _call(b, arrayloss.ctc, *inputs, reduction="none")
    # inf: impossible; NaN: label 5 outside [0, 4), logit length 7 > T; 0: empty in 0 frames.
    np.testing.assert_array_equal(values, [np.inf, np.inf, np.nan, np.nan, 0.0])
    zeroed = _call(b, arrayloss.ctc, *inputs, reduction="none", zero_infinity=True)
    np.testing.assert_array_equal(zeroed, [0.0, 0.0, np.nan, np.nan, 0.0])


@pytest.mark.parametrize("b", BACKENDS, ids=lambda b: b.name)
def test_ntxent_zero_embedding_and_lonely_anchor(b):
    e = np.vstack([np.zeros(3), EMB[1:]])
    value = _call(b, arrayloss.ntxent, e, np.array([0, 0, 1, 2]), reduction="none")
    # Anchor 0 (zero vector) has cosine 0 with all: -log(e^0 / (e^0 + 2 e^0)) = log 3.
    assert np.isclose(value[0], np.log(3.0)) and np.all(np.isfinite(value))
    assert value[2] == 0 and value[3] == 0  # no positive: masked out of the mean
    mean = _call(b, arrayloss.ntxent, e, np.array([0, 0, 1, 2]))
    np.testing.assert_allclose(mean, value[:2].mean())


# -- gradients -----------------------------------------------------------------------------------
@pytest.mark.skipif("torch" not in HAS, reason="needs torch")
def test_ctc_gradient_matches_pytorch_and_stays_finite():
    import torch
    import torch.nn.functional as F

    n, frames, classes = 4, 12, 5
    labels = torch.asarray(RNG.integers(1, classes, (n, 4)))
    label_lengths = torch.asarray([4, 2, 0, 4])
    logit_lengths = torch.asarray([12, 7, 5, 3])  # the last one is impossible
    x = torch.asarray(3.0 * RNG.normal(size=(n, frames, classes)), requires_grad=True)
    ours = arrayloss.ctc(labels, x, label_lengths, logit_lengths, zero_infinity=True,
                         reduction="sum")
    (grad,) = torch.autograd.grad(ours, x)
    y = x.detach().clone().requires_grad_(True)
    theirs = F.ctc_loss(torch.log_softmax(y, -1).transpose(0, 1), labels, logit_lengths,
                        label_lengths, reduction="sum", zero_infinity=True)
    theirs.backward()
    torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(grad, y.grad)
    assert torch.all(grad[3] == 0) and torch.all(grad[1, 7:] == 0)  # impossible; padding


@pytest.mark.skipif("torch" not in HAS, reason="needs torch")
def test_ntxent_and_triplet_gradients_finite_at_degenerate_points():
    import torch

    e = torch.asarray(np.vstack([np.zeros(3), EMB[1:]]), requires_grad=True)
    arrayloss.ntxent(e, torch.asarray(INTS)).backward()
    assert torch.all(torch.isfinite(e.grad))
    a = torch.asarray(EMB, requires_grad=True)  # anchor = positive, eps = 0: distance 0
    arrayloss.triplet_margin(a, a.detach(), torch.asarray(EMB[::-1].copy()), eps=0.0,
                             p=3.0).backward()
    assert torch.all(torch.isfinite(a.grad))


# -- tracing -------------------------------------------------------------------------------------
def _all_structured(labels, logits, label_lengths, logit_lengths, emb, ints, y, p):
    return (arrayloss.ctc(labels, logits, label_lengths, logit_lengths)
            + arrayloss.ntxent(emb, ints)
            + arrayloss.triplet_margin(emb, emb * 0.5, -emb)
            + arrayloss.contrastive(y[:, 0], p[:, 0])
            + arrayloss.dice(y, p, from_logits=True)
            + arrayloss.tversky(y, p, alpha=0.7, beta=0.3, axis=None)
            + arrayloss.iou(y[:, :, None] * 1.0, p[:, :, None], class_axis=-1))


TRACE = (*SEQ, EMB, INTS, (RNG.uniform(size=(4, 3)) > 0.5) * 1.0, RNG.normal(size=(4, 3)))


@pytest.mark.skipif("jax" not in HAS, reason="needs jax")
def test_jax_jit_grad_and_vmap():
    import jax
    import jax.numpy as jnp

    args = [jnp.asarray(a) for a in TRACE]
    value, grads = jax.jit(jax.value_and_grad(_all_structured, argnums=(1, 4, 7)))(*args)
    np.testing.assert_allclose(value, _all_structured(*TRACE), rtol=1e-6)
    assert all(np.all(np.isfinite(g)) for g in grads)
    # vmap over a batch of CTC problems equals the per-sample values.
    per = jax.vmap(lambda lab, x, ll, tl: arrayloss.ctc(lab[None], x[None], ll[None],
                                                         tl[None]))(*args[:4])
    np.testing.assert_allclose(per, arrayloss.ctc(*SEQ, reduction="none"), rtol=1e-6)


@pytest.mark.skipif("torch" not in HAS, reason="needs torch")
def test_torch_compile_fullgraph():
    import torch

    args = [torch.asarray(a) for a in TRACE]
    compiled = torch.compile(_all_structured, fullgraph=True, backend="eager")
    torch.testing.assert_close(compiled(*args), _all_structured(*args))
