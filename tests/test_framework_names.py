"""Keras, PyTorch and optax names in ``arrayloss.get``: each mapped name resolves to its
loss with the options it implies and gives the framework's number (arguments translated to
arrayloss's order); each refused name explains itself; unknown names suggest close ones."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

import arrayloss
from arrayloss.core import framework_names
from arrayloss.core.registry import entries

MAPPED = {m.name: m for m in framework_names.MAPPED}
REFUSED = {r.name: r for r in framework_names.REFUSED}
RNG = np.random.default_rng(0)


def _resolved(loss):
    """(the arrayloss function, the bound options) of what ``get`` returned."""
    return getattr(loss, "func", loss), dict(getattr(loss, "keywords", {}))


@pytest.mark.parametrize("name", MAPPED)
def test_mapped_name_resolves_with_its_options(name):
    entry = MAPPED[name]
    for spelling in (name, name.lower(), name.upper()):
        function, options = _resolved(arrayloss.get(spelling))
        assert function is arrayloss.get(entry.loss)
        assert options == dict(entry.options)


def test_framework_names_are_not_arrayloss_names():
    own = {key.lower() for e in entries() for key in (e.name, *e.aliases)}
    framework = [n.lower() for n in (*MAPPED, *REFUSED)]
    assert len(framework) == len(set(framework))
    assert not own & set(framework)


def test_caller_options_override_and_combine():
    _, options = _resolved(arrayloss.get("binary_cross_entropy_with_logits", from_logits=False))
    assert options == {"from_logits": False}
    _, options = _resolved(arrayloss.get("CrossEntropyLoss", label_smoothing=0.1,
                                         reduction="mean"))
    assert options == {"from_logits": True, "axis": 1, "ignore_index": -100,
                       "label_smoothing": 0.1, "reduction": "mean"}
    with pytest.raises(TypeError, match="unknown option"):
        arrayloss.get("mse_loss", delta=1.0)
    with pytest.raises(ValueError, match="label_smoothing"):
        arrayloss.get("cross_entropy", label_smoothing=2.0)


@pytest.mark.parametrize("name", REFUSED)
def test_refused_name_explains(name):
    refusal = REFUSED[name]
    for spelling in (name, name.lower()):
        with pytest.raises(ValueError) as error:
            arrayloss.get(spelling)
        message = str(error.value)
        assert message.startswith(f"{name!r} is ")
        assert refusal.meaning in message and refusal.use in message
        assert "arrayloss" in refusal.use


@pytest.mark.parametrize("name, suggestion", [
    ("binary_cross_entropy_logits", "binary_cross_entropy_with_logits"),
    ("crossentropyloss_", "CrossEntropyLoss"),
    ("mean_square_error", "mean_squared_error"),
    ("softmax_crossentropy", "softmax_cross_entropy"),
    ("kl_dv", "kl_div"),
])
def test_unknown_name_suggests_close_names(name, suggestion):
    with pytest.raises(ValueError, match="unknown loss") as error:
        arrayloss.get(name)
    assert repr(suggestion) in str(error.value)


def test_docs_list_every_name():
    text = (Path(__file__).parents[1] / "docs" / "names.md").read_text()
    text = text.split("## The names that resolve")[1].split("## Names that are")[0]
    listed = set(re.findall(r"^\| `(\w+)` \|", text, flags=re.MULTILINE))
    assert listed == set(MAPPED) | set(REFUSED)


# -- the framework's numbers ---------------------------------------------------------------

def _data():
    y = RNG.uniform(0.1, 2.0, (4, 3))
    p = RNG.uniform(0.1, 2.0, (4, 3))
    y01 = (RNG.uniform(size=(4, 3)) > 0.5).astype(np.float64)
    prob = RNG.uniform(0.05, 0.95, (4, 3))
    z = RNG.normal(size=(4, 3)) * 2
    soft = RNG.dirichlet(np.ones(3), size=4)
    labels = np.array([0, 2, 1, 2])
    return y, p, y01, prob, z, soft, labels


def _torch_checks():
    import torch
    from torch import nn
    from torch.nn import functional as F

    t = torch.as_tensor
    y, p, y01, prob, z, _, labels = _data()
    z3 = RNG.normal(size=(3, 4, 5)) * 2  # (N, C, L): PyTorch's class axis 1
    labels3 = RNG.integers(0, 4, (3, 5))
    labels3[0, 1] = labels3[2, 4] = -100  # PyTorch's default ignore_index
    w = np.array([0.5, 1.0, 2.0, 1.5])
    pw = np.array([2.0, 0.5, 1.0])
    var = RNG.uniform(0.5, 2.0, (4, 3))
    a, pos, neg = (RNG.normal(size=(5, 8)) for _ in range(3))
    signs5 = np.array([1.0, -1.0, -1.0, 1.0, -1.0])
    lists = np.array([[2, 0, -1], [1, -1, 2], [-1, 0, 0], [0, 1, 2]])  # -1-padded targets
    log_p3 = F.log_softmax(t(z3), dim=1)
    return [
        ("mse_loss", F.mse_loss(t(p), t(y)), {}, (y, p)),
        ("soft_margin_loss", F.soft_margin_loss(t(z), t(2.0 * y01 - 1.0)), {},
         (2.0 * y01 - 1.0, z)),
        ("SoftMarginLoss", nn.SoftMarginLoss()(t(z), t(2.0 * y01 - 1.0)), {},
         (2.0 * y01 - 1.0, z)),
        ("hinge_embedding_loss", F.hinge_embedding_loss(t(prob * 2), t(2.0 * y01 - 1.0)), {},
         (2.0 * y01 - 1.0, prob * 2)),
        ("HingeEmbeddingLoss", nn.HingeEmbeddingLoss(margin=0.5)(t(z), t(2.0 * y01 - 1.0)),
         {"margin": 0.5}, (2.0 * y01 - 1.0, z)),
        ("cosine_embedding_loss", F.cosine_embedding_loss(t(a), t(pos), t(signs5)), {},
         (signs5, a, pos)),
        ("CosineEmbeddingLoss", nn.CosineEmbeddingLoss(margin=0.2)(t(a), t(neg), t(signs5)),
         {"margin": 0.2}, (signs5, a, neg)),
        ("multi_margin_loss", F.multi_margin_loss(t(z), t(labels)), {}, (labels, z)),
        ("MultiMarginLoss", nn.MultiMarginLoss(p=2, margin=0.5, weight=t(pw))(t(z), t(labels)),
         {"p": 2, "margin": 0.5, "class_weight": pw}, (labels, z)),
        ("multilabel_margin_loss", F.multilabel_margin_loss(t(z), t(lists)), {}, (lists, z)),
        ("MultiLabelMarginLoss", nn.MultiLabelMarginLoss()(t(z), t(lists)), {}, (lists, z)),
        ("multilabel_soft_margin_loss", F.multilabel_soft_margin_loss(t(z), t(y01)), {},
         (y01, z)),
        ("MultiLabelSoftMarginLoss",
         nn.MultiLabelSoftMarginLoss(weight=t(pw))(t(z), t(y01)), {"class_weight": pw},
         (y01, z)),
        ("margin_ranking_loss", F.margin_ranking_loss(t(p), t(z), t(2.0 * y01 - 1.0)), {},
         (2.0 * y01 - 1.0, p, z)),
        ("MarginRankingLoss", nn.MarginRankingLoss(margin=0.5)(t(p), t(z), t(2.0 * y01 - 1.0)),
         {"margin": 0.5}, (2.0 * y01 - 1.0, p, z)),
        ("MSELoss", nn.MSELoss()(t(p), t(y)), {}, (y, p)),
        ("l1_loss", F.l1_loss(t(p), t(y)), {}, (y, p)),
        ("L1Loss", nn.L1Loss()(t(p), t(y)), {}, (y, p)),
        ("HuberLoss", nn.HuberLoss(delta=0.5)(t(p), t(y)), {"delta": 0.5}, (y, p)),
        ("smooth_l1_loss", F.smooth_l1_loss(t(p), t(y), beta=0.5), {"beta": 0.5}, (y, p)),
        ("SmoothL1Loss", nn.SmoothL1Loss()(t(p), t(y)), {}, (y, p)),
        ("binary_cross_entropy", F.binary_cross_entropy(t(prob), t(y01)), {}, (y01, prob)),
        ("BCELoss", nn.BCELoss()(t(prob), t(y01)), {}, (y01, prob)),
        ("binary_cross_entropy_with_logits",
         F.binary_cross_entropy_with_logits(t(z), t(y01), pos_weight=t(pw)),
         {"pos_weight": pw}, (y01, z)),
        ("BCEWithLogitsLoss", nn.BCEWithLogitsLoss()(t(z), t(y01)), {}, (y01, z)),
        ("cross_entropy", F.cross_entropy(t(z3), t(labels3), weight=t(w)),
         {"class_weight": w}, (labels3, z3)),
        ("CrossEntropyLoss", nn.CrossEntropyLoss(label_smoothing=0.1)(t(z3), t(labels3)),
         {"label_smoothing": 0.1}, (labels3, z3)),
        ("nll_loss", F.nll_loss(log_p3, t(labels3), weight=t(w)), {"class_weight": w},
         (labels3, log_p3.numpy())),
        ("NLLLoss", nn.NLLLoss()(log_p3, t(labels3)), {}, (labels3, log_p3.numpy())),
        ("poisson_nll_loss", F.poisson_nll_loss(t(z), t(y)), {}, (y, z)),
        ("PoissonNLLLoss", nn.PoissonNLLLoss(full=True)(t(z), t(y)), {"full": True}, (y, z)),
        ("gaussian_nll_loss", F.gaussian_nll_loss(t(p), t(y), t(var)), {}, (y, p, var)),
        ("GaussianNLLLoss", nn.GaussianNLLLoss()(t(p), t(y), t(var)), {}, (y, p, var)),
        ("triplet_margin_loss", F.triplet_margin_loss(t(a), t(pos), t(neg)), {},
         (a, pos, neg)),
        ("TripletMarginLoss", nn.TripletMarginLoss(margin=0.5)(t(a), t(pos), t(neg)),
         {"margin": 0.5}, (a, pos, neg)),
    ]


def _optax_checks():
    import jax
    import jax.numpy as jnp
    import optax

    j = jnp.asarray
    y, p, y01, _, z, soft, labels = _data()
    signs = 2.0 * y01 - 1.0
    onehot = np.eye(3)[RNG.integers(0, 3, (2, 4, 4))]  # (N, H, W, C)
    zc = RNG.normal(size=(2, 4, 4, 3))
    none = {"reduction": "none"}
    each = {"reduction": "none", "axis": ()}  # optax's element-wise arrays
    with jax.default_device(jax.devices("cpu")[0]):
        return [
            ("squared_error", optax.losses.squared_error(j(p), j(y)), each, (y, p)),
            ("sigmoid_binary_cross_entropy",
             optax.losses.sigmoid_binary_cross_entropy(j(z), j(y01)), each, (y01, z)),
            ("softmax_cross_entropy", optax.losses.softmax_cross_entropy(j(z), j(soft)), none,
             (soft, z)),
            ("safe_softmax_cross_entropy",
             optax.losses.safe_softmax_cross_entropy(j(z), j(soft)), none, (soft, z)),
            ("softmax_cross_entropy_with_integer_labels",
             optax.losses.softmax_cross_entropy_with_integer_labels(j(z), j(labels)), none,
             (labels, z)),
            ("sigmoid_focal_loss", optax.losses.sigmoid_focal_loss(j(z), j(y01)), each,
             (y01, z)),
            ("hinge_loss", optax.losses.hinge_loss(j(z), j(signs)), each, (signs, z)),
            ("perceptron_loss", optax.losses.perceptron_loss(j(z), j(signs)), each,
             (signs, z)),
            ("sparsemax_loss", optax.losses.sparsemax_loss(j(z), j(y01)), each, (y01, z)),
            ("multiclass_perceptron_loss", optax.losses.multiclass_perceptron_loss(
                j(z), j(labels)), none, (labels, z)),
            ("multiclass_hinge_loss", optax.losses.multiclass_hinge_loss(j(z), j(labels)),
             none, (labels, z)),
            ("multiclass_sparsemax_loss", optax.losses.multiclass_sparsemax_loss(
                j(z), j(labels)), none, (labels, z)),
            ("kl_divergence_with_log_targets", optax.losses.kl_divergence_with_log_targets(
                jax.nn.log_softmax(j(z)), j(np.log(soft))), none, (np.log(soft), z)),
            ("poly_loss_cross_entropy", optax.losses.poly_loss_cross_entropy(
                j(z), j(soft), epsilon=1.5), {**none, "epsilon": 1.5}, (soft, z)),
            ("dice_loss", optax.losses.dice_loss(j(zc), j(onehot)), none, (onehot, zc)),
            ("dice_loss", optax.losses.dice_loss(j(zc), j(onehot), alpha=0.3, beta=0.7,
                                                 smooth=0.5, ignore_background=True),
             {**none, "alpha": 0.3, "beta": 0.7, "smooth": 0.5, "ignore_background": True},
             (onehot, zc)),
            ("dice_loss", optax.losses.dice_loss(j(zc), j(onehot), reduction="none"),
             {**none, "class_reduction": "none"}, (onehot, zc)),
            ("multiclass_generalized_dice_loss",
             optax.losses.multiclass_generalized_dice_loss(j(zc), j(onehot)), {}, (onehot, zc)),
            ("multiclass_generalized_dice_loss",
             optax.losses.multiclass_generalized_dice_loss(j(zc), j(onehot), smooth=0.5,
                                                           ignore_background=True),
             {"smooth": 1.0, "ignore_background": True}, (onehot, zc)),
        ]


def _keras_checks():
    os.environ.setdefault("KERAS_BACKEND", "jax")  # before any import of keras
    import keras

    L = keras.losses
    y, p, y01, prob, z, soft, labels = _data()
    probs = RNG.dirichlet(np.ones(3), size=4)
    signs = 2.0 * y01 - 1.0
    w = RNG.normal(size=(3, 2))
    return [
        ("MeanSquaredError", L.MeanSquaredError()(y, p), {}, (y, p)),
        ("MeanAbsoluteError", L.MeanAbsoluteError()(y, p), {}, (y, p)),
        ("MeanAbsolutePercentageError", L.MeanAbsolutePercentageError()(y, p), {}, (y, p)),
        ("MeanSquaredLogarithmicError", L.MeanSquaredLogarithmicError()(y, p), {}, (y, p)),
        ("CosineSimilarity", L.CosineSimilarity()(y, p), {}, (y, p)),
        ("BinaryCrossentropy", L.BinaryCrossentropy()(y01, prob), {}, (y01, prob)),
        ("CategoricalCrossentropy", L.CategoricalCrossentropy(from_logits=True)(soft, z),
         {"from_logits": True}, (soft, z)),
        ("SparseCategoricalCrossentropy", L.SparseCategoricalCrossentropy()(labels, probs), {},
         (labels, probs)),
        ("KLDivergence", L.KLDivergence()(soft, probs), {}, (soft, probs)),
        ("SquaredHinge", L.SquaredHinge()(signs, z), {}, (signs, z)),
        ("CategoricalHinge", L.CategoricalHinge()(np.eye(3)[labels], z), {},
         (np.eye(3)[labels], z)),
        ("BinaryFocalCrossentropy", L.BinaryFocalCrossentropy(gamma=1.5)(y01, prob),
         {"gamma": 1.5}, (y01, prob)),
        ("CategoricalFocalCrossentropy", L.CategoricalFocalCrossentropy()(soft, probs), {},
         (soft, probs)),
        ("CategoricalGeneralizedCrossEntropy",
         L.CategoricalGeneralizedCrossEntropy(q=0.7)(labels, probs), {"q": 0.7},
         (labels, probs)),
        ("categorical_generalized_cross_entropy",
         L.categorical_generalized_cross_entropy(labels, probs, q=0.5), {"reduction": "none"},
         (labels, probs)),
        ("L1L2", keras.regularizers.L1L2(l1=0.02)(w.astype(np.float32)), {"l1": 0.02}, (w,)),
    ]


def _sklearn_checks():
    import sklearn.metrics as M

    y = RNG.uniform(0.1, 4.0, 12)
    mu = RNG.uniform(0.2, 3.0, 12)
    return [
        ("mean_tweedie_deviance", M.mean_tweedie_deviance(y, mu, power=1.5), {"power": 1.5},
         (y, mu)),
        ("mean_poisson_deviance", M.mean_poisson_deviance(y, mu), {}, (y, mu)),
        ("mean_gamma_deviance", M.mean_gamma_deviance(y, mu), {}, (y, mu)),
    ]


CHECKS = {"PyTorch": _torch_checks, "optax": _optax_checks, "Keras": _keras_checks,
          "scikit-learn": _sklearn_checks}


@pytest.mark.parametrize("framework", CHECKS)
def test_mapped_names_give_the_frameworks_numbers(framework):
    checks = CHECKS[framework]()
    for name, theirs, options, arrays in checks:
        ours = arrayloss.get(name, **options)(*arrays)
        theirs = np.asarray(theirs, dtype=np.float64)
        rtol = 2e-5 if framework in ("optax", "Keras") else 1e-12  # float32 on JAX
        np.testing.assert_allclose(np.asarray(ours), theirs, rtol=rtol, atol=rtol,
                                   err_msg=name)
    names = {m.name for m in framework_names.MAPPED if m.frameworks == framework}
    assert {check[0] for check in checks} == names
