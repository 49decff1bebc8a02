"""Peer rows of the classification family: Keras 3, PyTorch, optax and scikit-learn.

Each ``compute`` takes the arrayloss inputs (``y_true``, ``y_pred``; float64 NumPy, integer
labels) and calls the peer in its own argument order. Keras runs on its JAX backend
(float32), so its rows use inputs away from its 1e-7 clip and a float32 tolerance. Rows
with ``difference`` pin where arrayloss deliberately departs from the peer.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .peers import as_jax, as_torch, keras_module, peer

N, C = 8, 4
KERAS_RTOL = 2e-5


_keras, _torch, _jnp = keras_module, as_torch, as_jax



# -- inputs --------------------------------------------------------------------------------
def binary_probs(rng):
    return rng.integers(0, 2, (N, C)).astype(float), rng.uniform(0.02, 0.98, (N, C))


def binary_logits(rng):
    return rng.integers(0, 2, (N, C)).astype(float), 3.0 * rng.normal(size=(N, C))


def binary_1d(rng):
    return rng.integers(0, 2, N).astype(float), rng.uniform(0.02, 0.98, N)


def exact_wrong(rng):
    return np.ones((N, 1)), np.zeros((N, 1))


def huge_wrong(rng):
    return np.tile([1.0, 0.0], (N, 1)), np.tile([-1e4, 1e4], (N, 1))


def onehot_probs(rng):
    return np.eye(C)[rng.integers(0, C, N)], rng.uniform(0.05, 1.0, (N, C))


def onehot_logits(rng):
    return np.eye(C)[rng.integers(0, C, N)], 2.0 * rng.normal(size=(N, C))


def labels_probs(rng):
    return rng.integers(0, C, N), rng.uniform(0.05, 1.0, (N, C))


def labels_logits(rng):
    labels = rng.integers(0, C, N)
    labels[[1, 5]] = 2  # some ignored samples for ignore_index=2
    return labels, 2.0 * rng.normal(size=(N, C))


def labels_log_probs(rng):
    z = rng.normal(size=(N, C))
    return rng.integers(0, C, N), z - np.log(np.exp(z).sum(-1, keepdims=True))


def signed(rng):
    return rng.choice([-1.0, 1.0], (N, C)), 2.0 * rng.normal(size=(N, C))


def mixed_signs(rng):
    return rng.choice([-1.0, 0.0, 1.0], (N, C)), 2.0 * rng.normal(size=(N, C))


def signed_1d(rng):
    return rng.choice([-1.0, 1.0], N), 2.0 * rng.normal(size=N)


def distributions(rng):
    return rng.dirichlet(np.ones(C), N), rng.dirichlet(np.ones(C), N)


CLASS_WEIGHT = [0.5, 2.0, 1.0, 3.0]
POS_WEIGHT = [0.5, 1.0, 2.0, 4.0]


# -- Keras 3 -------------------------------------------------------------------------------
def _keras_loss(name, **options):
    def compute(y, p):
        return np.asarray(getattr(_keras().losses, name)(y, p, **options))
    return compute


_KERAS_ROWS: list[tuple[str, Any, dict[str, Any], dict[str, Any]]] = [
    ("binary_crossentropy", binary_probs, {}, {}),
    ("binary_crossentropy", binary_logits, {"from_logits": True, "label_smoothing": 0.2},
     {"from_logits": True, "label_smoothing": 0.2}),
    ("categorical_crossentropy", onehot_probs, {}, {}),
    ("categorical_crossentropy", onehot_logits, {"from_logits": True, "label_smoothing": 0.1},
     {"from_logits": True, "label_smoothing": 0.1}),
    ("sparse_categorical_crossentropy", labels_probs, {}, {}),
    ("sparse_categorical_crossentropy", labels_logits, {"from_logits": True},
     {"from_logits": True}),
    ("hinge", signed, {}, {}),
    ("squared_hinge", binary_logits, {}, {}),  # {0, 1} labels: Keras converts them too
    ("categorical_hinge", onehot_logits, {}, {}),
    ("kl_divergence", distributions, {}, {}),
    ("binary_focal_crossentropy", binary_probs, {}, {}),
    ("binary_focal_crossentropy", binary_logits,
     {"from_logits": True, "apply_class_balancing": True, "gamma": 1.5, "alpha": 0.3},
     {"from_logits": True, "apply_class_balancing": True, "gamma": 1.5, "alpha": 0.3}),
    ("categorical_focal_crossentropy", onehot_probs, {"gamma": 3.0}, {"gamma": 3.0}),
    ("categorical_focal_crossentropy", onehot_logits,
     {"from_logits": True, "label_smoothing": 0.1},
     {"from_logits": True, "label_smoothing": 0.1}),
]
for _loss, _inputs, _opts, _kopts in _KERAS_ROWS:
    peer(_loss, "keras", f"keras.losses.{_loss}", _inputs, _keras_loss(_loss, **_kopts),
         options=_opts, reduction="none", rtol=KERAS_RTOL)

peer("binary_crossentropy", "keras", "keras.losses.binary_crossentropy", exact_wrong,
     _keras_loss("binary_crossentropy"), reduction="none", rtol=KERAS_RTOL,
     difference="Keras clips p to [1e-7, 1 - 1e-7]: 16.118 with a zero gradient for (y=1, "
                "p=0); arrayloss floors the log at -100 as PyTorch does (100, gradient kept)")
peer("binary_focal_crossentropy", "keras", "keras.losses.binary_focal_crossentropy",
     huge_wrong, _keras_loss("binary_focal_crossentropy", from_logits=True),
     options={"from_logits": True}, reduction="none", rtol=KERAS_RTOL,
     difference="Keras takes sigmoid then clips: the loss caps at 15.94 with a zero gradient "
                "for a wrong logit of 1e4; arrayloss works in log space (1e4)")
peer("hinge", "keras", "keras.losses.hinge", mixed_signs, _keras_loss("hinge"),
     reduction="none", rtol=KERAS_RTOL,
     difference="Keras maps {0, 1} to {-1, 1} only when every label is 0 or 1; arrayloss reads "
                "each 0 as -1, so a batch mixing -1, 0 and 1 differs")


# -- PyTorch -------------------------------------------------------------------------------
def _F():
    import torch.nn.functional as F

    return F


peer("binary_crossentropy", "torch", "torch.nn.functional.binary_cross_entropy", binary_probs,
     lambda y, p: _F().binary_cross_entropy(_torch(p), _torch(y)).numpy())
peer("binary_crossentropy", "torch", "torch.nn.functional.binary_cross_entropy", exact_wrong,
     lambda y, p: _F().binary_cross_entropy(_torch(p), _torch(y)).numpy())
peer("binary_crossentropy", "torch", "torch.nn.functional.binary_cross_entropy_with_logits",
     binary_logits,
     lambda y, z: _F().binary_cross_entropy_with_logits(
         _torch(z), _torch(y), pos_weight=_torch(POS_WEIGHT)).numpy(),
     options={"from_logits": True, "pos_weight": POS_WEIGHT})
peer("categorical_crossentropy", "torch", "torch.nn.functional.cross_entropy", onehot_logits,
     lambda y, z: _F().cross_entropy(_torch(z), _torch(y), label_smoothing=0.1).numpy(),
     options={"from_logits": True, "label_smoothing": 0.1})
peer("sparse_categorical_crossentropy", "torch", "torch.nn.functional.cross_entropy",
     labels_logits,
     lambda y, z: _F().cross_entropy(_torch(z), _torch(y), weight=_torch(CLASS_WEIGHT),
                                     ignore_index=2, label_smoothing=0.2).numpy(),
     options={"from_logits": True, "class_weight": CLASS_WEIGHT, "ignore_index": 2,
              "label_smoothing": 0.2}, reduction="weighted_mean")
peer("sparse_categorical_crossentropy", "torch", "torch.nn.functional.cross_entropy",
     labels_logits,
     lambda y, z: _F().cross_entropy(_torch(z), _torch(y), ignore_index=2).numpy(),
     options={"from_logits": True, "ignore_index": 2})
peer("negative_log_likelihood", "torch", "torch.nn.functional.nll_loss", labels_log_probs,
     lambda y, lp: _F().nll_loss(_torch(lp), _torch(y), weight=_torch(CLASS_WEIGHT)).numpy(),
     options={"class_weight": CLASS_WEIGHT}, reduction="weighted_mean")
peer("kl_divergence", "torch", "torch.nn.functional.kl_div", distributions,
     lambda p, q: _F().kl_div(_torch(np.log(q)), _torch(p), reduction="batchmean").numpy())


# -- optax ---------------------------------------------------------------------------------
def _optax():
    import optax

    return optax


OPTAX_RTOL = 2e-5  # optax runs in float32 unless jax_enable_x64 is set
peer("binary_crossentropy", "optax", "optax.sigmoid_binary_cross_entropy", binary_logits,
     lambda y, z: np.mean(_optax().sigmoid_binary_cross_entropy(_jnp(z), _jnp(y))),
     options={"from_logits": True}, rtol=OPTAX_RTOL)
peer("categorical_crossentropy", "optax", "optax.softmax_cross_entropy", onehot_logits,
     lambda y, z: np.asarray(_optax().softmax_cross_entropy(_jnp(z), _jnp(y))),
     options={"from_logits": True}, reduction="none", rtol=OPTAX_RTOL)
peer("sparse_categorical_crossentropy", "optax",
     "optax.softmax_cross_entropy_with_integer_labels", labels_logits,
     lambda y, z: np.asarray(_optax().softmax_cross_entropy_with_integer_labels(
         _jnp(z), np.asarray(y))),
     options={"from_logits": True}, reduction="none", rtol=OPTAX_RTOL)
peer("binary_focal_crossentropy", "optax", "optax.sigmoid_focal_loss", binary_logits,
     lambda y, z: np.mean(_optax().sigmoid_focal_loss(_jnp(z), _jnp(y), alpha=None, gamma=2.0)),
     options={"from_logits": True}, rtol=OPTAX_RTOL)
peer("binary_focal_crossentropy", "optax", "optax.sigmoid_focal_loss", binary_logits,
     lambda y, z: np.mean(_optax().sigmoid_focal_loss(_jnp(z), _jnp(y), alpha=0.25)),
     options={"from_logits": True, "apply_class_balancing": True, "alpha": 0.25},
     rtol=OPTAX_RTOL)
peer("hinge", "optax", "optax.hinge_loss", signed,
     lambda y, s: np.mean(_optax().hinge_loss(_jnp(s), _jnp(y))), rtol=OPTAX_RTOL)


# -- scikit-learn --------------------------------------------------------------------------
def _log_loss(y, p):
    from sklearn.metrics import log_loss

    return log_loss(y, p, labels=[0, 1])


def _hinge_loss(y, s):
    from sklearn.metrics import hinge_loss

    return hinge_loss(y, s)


peer("binary_crossentropy", "sklearn", "sklearn.metrics.log_loss", binary_1d, _log_loss)
peer("hinge", "sklearn", "sklearn.metrics.hinge_loss", signed_1d, _hinge_loss)


# -- PyTorch's two-class margin losses ---------------------------------------------------------
def _signs(rng: np.random.Generator):
    return rng.choice([-1.0, 1.0], size=(6, 5)), 2.0 * rng.normal(size=(6, 5))


def _torch_soft_margin(reduction):
    def compute(y, p):
        import torch
        import torch.nn.functional as F

        return F.soft_margin_loss(torch.asarray(p), torch.asarray(y), reduction=reduction)
    return compute


peer("soft_margin", "torch", "torch.nn.functional.soft_margin_loss", _signs,
     _torch_soft_margin("none"), options={"axis": ()}, reduction="none")
peer("soft_margin", "torch", "torch.nn.functional.soft_margin_loss", _signs,
     _torch_soft_margin("mean"))
peer("soft_margin", "torch", "torch.nn.functional.soft_margin_loss", _signs,
     _torch_soft_margin("sum"), options={"axis": ()}, reduction="sum")


def _distances(rng: np.random.Generator):
    return rng.choice([-1.0, 1.0], size=(6, 5)), rng.uniform(0.0, 2.5, size=(6, 5))


def _torch_hinge_embedding(reduction, margin=1.0):
    def compute(y, p):
        import torch
        import torch.nn.functional as F

        return F.hinge_embedding_loss(torch.asarray(p), torch.asarray(y), margin=margin,
                                      reduction=reduction)
    return compute


peer("hinge_embedding", "torch", "torch.nn.functional.hinge_embedding_loss", _distances,
     _torch_hinge_embedding("none"), options={"axis": ()}, reduction="none")
peer("hinge_embedding", "torch", "torch.nn.functional.hinge_embedding_loss", _distances,
     _torch_hinge_embedding("mean", margin=2.0), options={"margin": 2.0})
peer("hinge_embedding", "torch", "torch.nn.functional.hinge_embedding_loss", _signs,
     _torch_hinge_embedding("sum", margin=0.5), options={"axis": (), "margin": 0.5},
     reduction="sum")


def _ranked(rng: np.random.Generator):
    return rng.choice([-1.0, 1.0], size=(9,)), rng.normal(size=(9,)), rng.normal(size=(9,))


def _torch_margin_ranking(reduction, margin=0.0):
    def compute(y, x1, x2):
        import torch
        import torch.nn.functional as F

        return F.margin_ranking_loss(torch.asarray(x1), torch.asarray(x2), torch.asarray(y),
                                     margin=margin, reduction=reduction)
    return compute


peer("margin_ranking", "torch", "torch.nn.functional.margin_ranking_loss", _ranked,
     _torch_margin_ranking("none"), reduction="none")
peer("margin_ranking", "torch", "torch.nn.functional.margin_ranking_loss", _ranked,
     _torch_margin_ranking("mean", margin=0.5), options={"margin": 0.5})
peer("margin_ranking", "torch", "torch.nn.functional.margin_ranking_loss", _ranked,
     _torch_margin_ranking("sum", margin=1.0), options={"margin": 1.0}, reduction="sum")


def _embedding_pairs(rng: np.random.Generator):
    return (rng.choice([-1.0, 1.0], size=(7,)), rng.normal(size=(7, 4)),
            rng.normal(size=(7, 4)))


def _torch_cosine_embedding(reduction, margin=0.0):
    def compute(y, x1, x2):
        import torch
        import torch.nn.functional as F

        return F.cosine_embedding_loss(torch.asarray(x1), torch.asarray(x2), torch.asarray(y),
                                       margin=margin, reduction=reduction)
    return compute


peer("cosine_embedding", "torch", "torch.nn.functional.cosine_embedding_loss",
     _embedding_pairs, _torch_cosine_embedding("none"), reduction="none")
peer("cosine_embedding", "torch", "torch.nn.functional.cosine_embedding_loss",
     _embedding_pairs, _torch_cosine_embedding("mean", margin=0.2), options={"margin": 0.2})
peer("cosine_embedding", "torch", "torch.nn.functional.cosine_embedding_loss",
     _embedding_pairs, _torch_cosine_embedding("sum", margin=-0.3), options={"margin": -0.3},
     reduction="sum")


def _multilabel(rng: np.random.Generator):
    return rng.integers(0, 2, size=(6, 4)).astype(float), 2.0 * rng.normal(size=(6, 4))


def _torch_multilabel_soft_margin(reduction, weight=None):
    def compute(y, z):
        import torch
        import torch.nn.functional as F

        w = None if weight is None else torch.asarray(weight, dtype=torch.float64)
        return F.multilabel_soft_margin_loss(torch.asarray(z), torch.asarray(y), weight=w,
                                             reduction=reduction)
    return compute


peer("multilabel_soft_margin", "torch", "torch.nn.functional.multilabel_soft_margin_loss",
     _multilabel, _torch_multilabel_soft_margin("none"), reduction="none")
peer("multilabel_soft_margin", "torch", "torch.nn.functional.multilabel_soft_margin_loss",
     _multilabel, _torch_multilabel_soft_margin("mean", (0.5, 2.0, 1.0, 0.25)),
     options={"class_weight": (0.5, 2.0, 1.0, 0.25)})
peer("multilabel_soft_margin", "torch", "torch.nn.functional.multilabel_soft_margin_loss",
     _multilabel, _torch_multilabel_soft_margin("sum", (1.0, 0.0, 3.0, 1.0)),
     options={"class_weight": (1.0, 0.0, 3.0, 1.0)}, reduction="sum")


def _class_labels(rng: np.random.Generator):
    return rng.integers(0, 4, size=(8,)), rng.normal(size=(8, 4))


def _torch_multi_margin(reduction, weight=None, **options):
    def compute(labels, scores):
        import torch
        import torch.nn.functional as F

        w = None if weight is None else torch.asarray(weight, dtype=torch.float64)
        return F.multi_margin_loss(torch.asarray(scores), torch.asarray(labels), weight=w,
                                   reduction=reduction, **options)
    return compute


peer("multi_margin", "torch", "torch.nn.functional.multi_margin_loss", _class_labels,
     _torch_multi_margin("none"), reduction="none")
peer("multi_margin", "torch", "torch.nn.functional.multi_margin_loss", _class_labels,
     _torch_multi_margin("mean", (0.5, 2.0, 1.0, 0.25), p=2, margin=0.5),
     options={"class_weight": (0.5, 2.0, 1.0, 0.25), "p": 2, "margin": 0.5})
peer("multi_margin", "torch", "torch.nn.functional.multi_margin_loss", _class_labels,
     _torch_multi_margin("sum", (1.0, 0.0, 3.0, 1.0), margin=2.0),
     options={"class_weight": (1.0, 0.0, 3.0, 1.0), "margin": 2.0}, reduction="sum")


def _padded_targets(rng: np.random.Generator):
    targets = np.full((8, 5), -1)
    for row in range(8):
        k = int(rng.integers(0, 6))
        targets[row, :k] = rng.choice(5, size=k, replace=False)
    return targets, rng.normal(size=(8, 5))


def _torch_multilabel_margin(reduction):
    def compute(targets, scores):
        import torch
        import torch.nn.functional as F

        return F.multilabel_margin_loss(torch.asarray(scores), torch.asarray(targets),
                                        reduction=reduction)
    return compute


for _reduction in ("none", "mean", "sum"):
    peer("multilabel_margin", "torch", "torch.nn.functional.multilabel_margin_loss",
         _padded_targets, _torch_multilabel_margin(_reduction), reduction=_reduction)


def _log_pair(rng):
    p, q = distributions(rng)
    return np.log(p), np.log(q)


peer("kl_divergence", "torch", "torch.nn.functional.kl_div(log_target=True)", _log_pair,
     lambda lp, lq: _F().kl_div(_torch(lq), _torch(lp), reduction="batchmean",
                                log_target=True).numpy(),
     options={"log_target": True, "from_logits": True})
peer("kl_divergence", "optax", "optax.kl_divergence_with_log_targets", _log_pair,
     lambda lp, lq: np.asarray(_optax().losses.kl_divergence_with_log_targets(_jnp(lq), _jnp(lp))),
     options={"log_target": True, "from_logits": True}, reduction="none", rtol=OPTAX_RTOL)
peer("generalized_kl_divergence", "optax", "optax.generalized_kl_divergence",
     lambda rng: (rng.uniform(0.1, 2.0, (N, C)), np.log(rng.uniform(0.1, 3.0, (N, C)))),
     lambda p, lq: np.asarray(_optax().losses.generalized_kl_divergence(_jnp(lq), _jnp(p))),
     options={"log_input": True}, reduction="none", rtol=OPTAX_RTOL)
for _epsilon in (2.0, -0.5):
    peer("poly_crossentropy", "optax", f"optax.poly_loss_cross_entropy(epsilon={_epsilon})",
         onehot_logits, functools.partial(
             lambda y, z, epsilon: np.asarray(_optax().losses.poly_loss_cross_entropy(
                 _jnp(z), _jnp(y), epsilon=epsilon)), epsilon=_epsilon),
         options={"from_logits": True, "epsilon": _epsilon}, reduction="none",
         rtol=OPTAX_RTOL)
# PyTorch's element-wise weight: every element its own sample (axis=()), "mean" over N·C.
ELEMENT_WEIGHT = np.random.default_rng(7).uniform(0.0, 2.0, (N, C))
peer("binary_crossentropy", "torch", "torch.nn.functional.binary_cross_entropy_with_logits("
     "weight=W)", binary_logits, lambda y, z: _F().binary_cross_entropy_with_logits(
         _torch(z), _torch(y), weight=_torch(ELEMENT_WEIGHT)).numpy(),
     options={"from_logits": True, "axis": (), "sample_weight": ELEMENT_WEIGHT})
