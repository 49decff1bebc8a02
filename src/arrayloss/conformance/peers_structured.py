"""Peer rows of the structured losses: Keras 3, optax, PyTorch, MONAI and
pytorch-metric-learning.

Each ``compute`` takes the arrayloss inputs (float64 NumPy; integer labels and lengths) and
calls the peer in its own argument order and layout. Keras and optax run on JAX in float32
(their rows use a float32 tolerance); PyTorch, MONAI and pytorch-metric-learning run in
float64. Rows with ``difference`` pin where arrayloss deliberately departs from the peer.
"""

from __future__ import annotations

import numpy as np

from .peers import as_jax, as_torch, keras_module, peer

F32_RTOL = 2e-5


_keras, _torch, _jnp = keras_module, as_torch, as_jax



# -- inputs --------------------------------------------------------------------------------
def masks(rng):
    return (rng.uniform(size=(4, 5, 5)) < 0.4).astype(float), rng.uniform(0.05, 0.95, (4, 5, 5))


def onehot_logits(rng):  # channels last: (N, H, W, C)
    return np.eye(3)[rng.integers(0, 3, (3, 4, 4))], 2.0 * rng.normal(size=(3, 4, 4, 3))


def onehot_channels_first(rng):  # MONAI's layout: (N, C, H, W)
    y, x = onehot_logits(rng)
    return np.moveaxis(y, -1, 1), np.moveaxis(x, -1, 1)


def triplets(rng):
    return tuple(rng.normal(size=(8, 5)) for _ in range(3))


def views(rng):  # two views per item: every anchor has one positive
    return rng.normal(size=(8, 4)), np.array([0, 1, 2, 3, 0, 1, 2, 3])


def groups(rng):  # unequal numbers of positives per anchor
    return rng.normal(size=(7, 4)), np.array([0, 0, 0, 0, 1, 1, 2])


def sequences(rng, impossible=False):
    n, frames, classes, width = 4, 12, 6, 5
    labels = rng.integers(1, classes, (n, width))
    labels[1, 1] = labels[1, 0]  # a repeat needs a blank between
    label_lengths = np.array([5, 3, 0, 4])
    logit_lengths = np.array([12, 9, 7, 3 if impossible else 12])
    return labels, 2.0 * rng.normal(size=(n, frames, classes)), label_lengths, logit_lengths


# -- compute functions -----------------------------------------------------------------------
def keras_dice(axis=None):
    return lambda y, p: _keras().losses.dice(_jnp(y), _jnp(p), axis=axis)


def keras_tversky(alpha, beta):
    return lambda y, p: _keras().losses.tversky(_jnp(y), _jnp(p), alpha=alpha, beta=beta)


# Keras's tversky multiplied the false negatives by ``alpha`` and the false positives by
# ``beta`` (its docstring says the reverse; keras/src/losses/losses.py sets
# ``inputs = y_true``, ``targets = y_pred``) until keras-team/keras PR #23333 on its main
# branch. No installed source tells the first release with the fix (3.15.1 still swaps), so
# the rows do not compare versions: they run Keras's tversky on a probe input when they run
# and follow what the installed Keras does.
def keras_tversky_swaps() -> bool:
    """Whether the installed Keras's tversky weighs the false negatives by ``alpha``.

    Probe: TP = 1, FN = 1, FP = 0 with ``alpha=1, beta=0``: ``1 - 1/(1 + 1) = 0.5`` where
    ``alpha`` multiplies the false negatives, ``1 - 1/1 = 0`` where it multiplies the false
    positives (the paper's and arrayloss's reading)."""
    value = float(np.asarray(_keras().losses.tversky(
        _jnp([[1.0, 1.0, 0.0]]), _jnp([[1.0, 0.0, 0.0]]), alpha=1.0, beta=0.0)))
    if abs(value - 0.5) < 1e-3:
        return True
    if abs(value) < 1e-3:
        return False
    raise AssertionError(f"keras.losses.tversky on the probe (TP=1, FN=1, FP=0, alpha=1, "
                         f"beta=0) gave {value}; expected 0.5 (alpha weighs false negatives) "
                         f"or 0 (alpha weighs false positives)")


def keras_tversky_by_meaning(alpha, beta):
    """Keras's tversky with ``alpha`` on the false positives, ``beta`` on the false
    negatives, whichever way the installed Keras reads its arguments."""
    def compute(y, p):
        a, b = (beta, alpha) if keras_tversky_swaps() else (alpha, beta)
        return _keras().losses.tversky(_jnp(y), _jnp(p), alpha=a, beta=b)
    return compute


def keras_with_tversky_swap():
    """None where the installed Keras swaps (the pinned row applies), else what it needs."""
    try:
        if keras_tversky_swaps():
            return None
    except Exception:  # neither behaviour, or Keras fails: the row runs and reports it
        return None
    return (f"keras with tversky's alpha/beta swap (the installed {_keras().__version__} "
            f"has the fix of keras-team/keras PR #23333)")


def optax_dice(**kw):
    def compute(y, x):
        import optax

        return optax.losses.dice_loss(_jnp(x), _jnp(y), **kw)
    return compute


def optax_generalized_dice(**kw):
    def compute(y, x):
        import optax

        return optax.losses.multiclass_generalized_dice_loss(_jnp(x), _jnp(y), **kw)
    return compute


def onehot_empty_class(rng):  # class 3 of 4 absent from every target: weight 1/ε
    return np.eye(4)[rng.integers(0, 3, (3, 4, 4))], 2.0 * rng.normal(size=(3, 4, 4, 4))


def monai(name, **kw):
    def compute(y, x):
        import monai.losses

        loss = getattr(monai.losses, name)(reduction="none", **kw)
        return loss(_torch(x), _torch(y)).detach().numpy().reshape(len(y), -1).mean(axis=1)
    return compute


def torch_triplet(**kw):
    def compute(a, p, n):
        import torch.nn.functional as F

        return F.triplet_margin_loss(_torch(a), _torch(p), _torch(n), reduction="none", **kw)
    return compute


def optax_triplet(**kw):
    def compute(a, p, n):
        import optax

        return optax.losses.triplet_margin_loss(_jnp(a), _jnp(p), _jnp(n), **kw)
    return compute


def optax_ntxent(e, labels):
    import optax

    return optax.ntxent(_jnp(e), _jnp(labels), temperature=0.1)


def pml_ntxent(e, labels):
    from pytorch_metric_learning.losses import NTXentLoss

    return NTXentLoss(temperature=0.1)(_torch(e), _torch(labels)).detach().numpy()


def torch_ctc(reduction="none", zero_infinity=False):
    def compute(labels, logits, label_lengths, logit_lengths):
        import torch
        import torch.nn.functional as F

        log_probs = torch.log_softmax(_torch(logits), dim=-1).transpose(0, 1)
        return F.ctc_loss(log_probs, _torch(labels), _torch(logit_lengths),
                          _torch(label_lengths), reduction=reduction,
                          zero_infinity=zero_infinity).detach().numpy()
    return compute


def optax_ctc(labels, logits, label_lengths, logit_lengths):
    import optax

    frames, width = logits.shape[1], labels.shape[1]
    logit_pad = (np.arange(frames)[None, :] >= logit_lengths[:, None]).astype(float)
    label_pad = (np.arange(width)[None, :] >= label_lengths[:, None]).astype(float)
    return optax.ctc_loss(_jnp(logits), _jnp(logit_pad), _jnp(labels), _jnp(label_pad))


# -- segmentation ----------------------------------------------------------------------------
peer("dice", "keras", "keras.losses.dice", masks, keras_dice(), options={"axis": None},
     rtol=F32_RTOL)
peer("dice", "keras", "keras.losses.dice", masks, keras_dice(axis=(1, 2)), reduction="none",
     rtol=F32_RTOL)
peer("tversky", "keras", "keras.losses.tversky(alpha, beta exchanged where Keras swaps them)",
     masks, keras_tversky_by_meaning(0.2, 0.8),
     options={"alpha": 0.2, "beta": 0.8, "axis": None}, rtol=F32_RTOL)
peer("tversky", "keras", "keras.losses.tversky", masks, keras_tversky(0.2, 0.8),
     options={"alpha": 0.2, "beta": 0.8, "axis": None}, rtol=F32_RTOL,
     requires=keras_with_tversky_swap,
     difference="Keras before keras-team/keras PR #23333 (3.15.1 included) multiplies the "
                "false negatives by alpha (its docstring says false positives); arrayloss "
                "follows the paper, optax and MONAI: tversky(alpha=b, beta=a) gives its value")
peer("dice", "optax", "optax.losses.dice_loss", onehot_logits, optax_dice(smooth=1.0),
     options={"smooth": 2.0, "from_logits": True, "class_axis": -1}, reduction="none",
     rtol=F32_RTOL)
peer("tversky", "optax", "optax.losses.dice_loss", onehot_logits,
     optax_dice(alpha=0.3, beta=0.7, class_weights=np.array([0.5, 1.0, 2.0]),
                ignore_background=True),
     options={"alpha": 0.3, "beta": 0.7, "smooth": 1.0, "from_logits": True, "class_axis": -1,
              "class_weight": (0.5, 1.0, 2.0), "ignore_background": True},
     reduction="none", rtol=F32_RTOL)
for _reduction in ("mean", "sum", "none"):  # optax's reduction over the classes
    peer("tversky", "optax", f"optax.losses.dice_loss(reduction={_reduction!r})",
         onehot_logits,
         optax_dice(alpha=0.3, beta=0.7, class_weights=np.array([0.5, 1.0, 2.0]),
                    ignore_background=True, reduction=_reduction),
         options={"alpha": 0.3, "beta": 0.7, "smooth": 1.0, "from_logits": True,
                  "class_axis": -1, "class_weight": (0.5, 1.0, 2.0),
                  "ignore_background": True, "class_reduction": _reduction},
         reduction="none", rtol=F32_RTOL)
    peer("dice", "optax", f"optax.losses.dice_loss(reduction={_reduction!r})", onehot_logits,
         optax_dice(smooth=0.5, reduction=_reduction),
         options={"smooth": 1.0, "from_logits": True, "class_axis": -1,
                  "class_reduction": _reduction}, reduction="none", rtol=F32_RTOL)
peer("generalized_dice", "optax", "optax.losses.multiclass_generalized_dice_loss",
     onehot_logits, optax_generalized_dice(),
     options={"smooth": 2.0, "from_logits": True}, rtol=F32_RTOL)
peer("generalized_dice", "optax", "optax.losses.multiclass_generalized_dice_loss",
     onehot_empty_class, optax_generalized_dice(smooth=0.5, ignore_background=True),
     options={"smooth": 1.0, "from_logits": True, "ignore_background": True}, rtol=F32_RTOL)
peer("dice", "monai", "monai.losses.DiceLoss", onehot_channels_first,
     monai("DiceLoss", softmax=True, smooth_nr=1e-3, smooth_dr=1e-3),
     options={"smooth": 1e-3, "from_logits": True, "class_axis": 1}, reduction="none")
peer("tversky", "monai", "monai.losses.TverskyLoss", onehot_channels_first,
     monai("TverskyLoss", softmax=True, include_background=False, alpha=0.3, beta=0.7,
           smooth_nr=1e-3, smooth_dr=1e-3),
     options={"alpha": 0.3, "beta": 0.7, "smooth": 1e-3, "from_logits": True,
              "class_axis": 1, "ignore_background": True}, reduction="none")
peer("jaccard", "monai", "monai.losses.DiceLoss", onehot_channels_first,
     monai("DiceLoss", softmax=True, jaccard=True, smooth_nr=1e-3, smooth_dr=1e-3),
     options={"smooth": 5e-4, "from_logits": True, "class_axis": 1}, reduction="none")

# -- metric learning -------------------------------------------------------------------------
peer("triplet_margin", "torch", "torch.nn.functional.triplet_margin_loss", triplets,
     torch_triplet(), reduction="none")
peer("triplet_margin", "torch", "torch.nn.functional.triplet_margin_loss", triplets,
     torch_triplet(margin=0.5, p=1.0, swap=True, eps=1e-3),
     options={"margin": 0.5, "p": 1.0, "swap": True, "eps": 1e-3}, reduction="none")
peer("triplet_margin", "optax", "optax.losses.triplet_margin_loss", triplets,
     optax_triplet(eps=0.0), options={"eps": 0.0}, reduction="none", rtol=F32_RTOL)
peer("triplet_margin", "optax", "optax.losses.triplet_margin_loss", triplets,
     optax_triplet(eps=0.1), options={"eps": 0.1}, reduction="none", rtol=F32_RTOL,
     difference="optax adds eps to the sum of powers, (Σ|a-p|^p + eps)^(1/p); arrayloss "
                "adds it to the difference, ‖a - p + eps‖_p, as PyTorch does")
peer("ntxent", "optax", "optax.ntxent", views, optax_ntxent, options={"temperature": 0.1},
     rtol=F32_RTOL)
peer("ntxent", "torch", "pytorch_metric_learning.losses.NTXentLoss", views, pml_ntxent,
     options={"temperature": 0.1})
peer("ntxent", "optax", "optax.ntxent", groups, optax_ntxent, options={"temperature": 0.1},
     rtol=F32_RTOL,
     difference="optax averages over positive pairs, arrayloss over anchors (each the mean "
                "of its pairs); sample_weight=|P(i)| with reduction='weighted_mean' gives "
                "optax's number")

# -- sequence --------------------------------------------------------------------------------
peer("ctc", "torch", "torch.nn.functional.ctc_loss", sequences, torch_ctc(),
     reduction="none")
peer("ctc", "torch", "torch.nn.functional.ctc_loss",
     lambda rng: sequences(rng, impossible=True), torch_ctc(zero_infinity=True),
     options={"zero_infinity": True}, reduction="none")
peer("ctc", "torch", "torch.nn.functional.ctc_loss", sequences, torch_ctc("mean"),
     difference="PyTorch's 'mean' divides each loss by its label length first: "
                "mean(ctc(..., reduction='none') / max(label_lengths, 1))")
peer("ctc", "optax", "optax.ctc_loss", sequences, optax_ctc, reduction="none", rtol=F32_RTOL)


def keras_ctc(labels, logits, label_lengths, logit_lengths):
    # Keras reads label lengths from 0-padding and uses every frame.
    return _keras().losses.ctc(_jnp(labels), _jnp(logits))


def full_sequences(rng):
    labels = np.array([[3, 1, 4, 0], [1, 5, 0, 0], [2, 2, 0, 0]])
    return labels, rng.normal(size=(3, 10, 6)), np.count_nonzero(labels, axis=1), np.full(3, 10)


peer("ctc", "keras", "keras.losses.ctc", full_sequences, keras_ctc, reduction="none",
     rtol=F32_RTOL)


# -- kornia: the Lovász losses (kornia.losses, a scalar: the mean over images) -------------
def _kornia_losses():
    import kornia.losses

    return kornia.losses


def lovasz_masks(rng):
    return rng.integers(0, 2, (3, 5, 6)).astype(float), 2.0 * rng.normal(size=(3, 5, 6))


def lovasz_labels(rng):  # channels first: (N, C, H, W) logits, (N, H, W) labels
    return rng.integers(0, 4, (3, 5, 6)), 2.0 * rng.normal(size=(3, 4, 5, 6))


peer("lovasz_hinge", "kornia", "kornia.losses.lovasz_hinge_loss", lovasz_masks,
     lambda y, z: _kornia_losses().lovasz_hinge_loss(
         _torch(z)[:, None], _torch(y).long()).numpy())
peer("lovasz_softmax", "kornia", "kornia.losses.lovasz_softmax_loss", lovasz_labels,
     lambda y, z: _kornia_losses().lovasz_softmax_loss(_torch(z), _torch(y)).numpy(),
     options={"from_logits": True, "class_axis": 1, "classes": "all"})
