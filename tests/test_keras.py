"""``arrayloss.keras`` on Keras 3.

Keras fixes its backend at its first import, so the checks on the real framework (fit with
sample_weight and class_weight for every family, evaluate against Keras's own loss of the
same name, save -> load_model -> evaluate) run in one subprocess per backend
(``tests/keras_checks.py``). The rest (names, configs, errors, the losses Keras lacks)
runs here, on the backend this process has.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# Before any import of keras: also lets --doctest-modules import src/arrayloss/keras.py.
os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import arrayloss  # noqa: E402
import arrayloss.keras as alk  # noqa: E402

HERE = Path(__file__).resolve().parent

# arrayloss's canonical name -> the class (Keras's class name where Keras has the loss).
CLASS_NAMES = {
    "binary_crossentropy": "BinaryCrossentropy",
    "categorical_crossentropy": "CategoricalCrossentropy",
    "sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
    "negative_log_likelihood": "NegativeLogLikelihood",
    "categorical_generalized_crossentropy": "CategoricalGeneralizedCrossEntropy",
    "kl_divergence": "KLDivergence",
    "ctc": "CTC",
    "binary_focal_crossentropy": "BinaryFocalCrossentropy",
    "categorical_focal_crossentropy": "CategoricalFocalCrossentropy",
    "mean_squared_error": "MeanSquaredError",
    "mean_absolute_error": "MeanAbsoluteError",
    "mean_absolute_percentage_error": "MeanAbsolutePercentageError",
    "mean_squared_logarithmic_error": "MeanSquaredLogarithmicError",
    "huber": "Huber",
    "log_cosh": "LogCosh",
    "quantile": "Quantile",
    "tukey_biweight": "TukeyBiweight",
    "general_robust": "GeneralRobust",
    "general_robust_nll": "GeneralRobustNLL",
    "charbonnier": "Charbonnier",
    "cauchy": "Cauchy",
    "geman_mcclure": "GemanMcclure",
    "welsch": "Welsch",
    "soft_l1": "SoftL1",
    "arctan": "Arctan",
    "poisson": "Poisson",
    "poisson_nll": "PoissonNLL",
    "gaussian_nll": "GaussianNLL",
    "cosine_similarity": "CosineSimilarity",
    "hinge": "Hinge",
    "squared_hinge": "SquaredHinge",
    "categorical_hinge": "CategoricalHinge",
    "soft_margin": "SoftMargin",
    "hinge_embedding": "HingeEmbedding",
    "cosine_embedding": "CosineEmbedding",
    "margin_ranking": "MarginRanking",
    "multilabel_soft_margin": "MultilabelSoftMargin",
    "multi_margin": "MultiMargin",
    "multilabel_margin": "MultilabelMargin",
    "perceptron": "Perceptron",
    "binary_sparsemax": "BinarySparsemax",
    "multiclass_perceptron": "MulticlassPerceptron",
    "multiclass_hinge": "MulticlassHinge",
    "multiclass_sparsemax": "MulticlassSparsemax",
    "triplet_margin": "TripletMargin",
    "contrastive": "Contrastive",
    "ntxent": "NTXent",
    "circle": "Circle",
    "dice": "Dice",
    "tversky": "Tversky",
    "jaccard": "Jaccard",
    "focal_tversky": "FocalTversky",
    "generalized_dice": "GeneralizedDice",
}
WITH_KERAS = sorted(n for n in CLASS_NAMES.values() if hasattr(keras.losses, n))
FAMILY_CHECKS = ["regression:MeanSquaredError",
                 "binary:BinaryCrossentropy", "sparse:SparseCategoricalCrossentropy",
                 "sparse:NegativeLogLikelihood", "segmentation:Dice",
                 "segmentation_classes:Dice", "plain_functions"]


def test_one_class_per_loss_with_keras_names():
    assert {n: alk.CLASSES[n].__name__ for n in CLASS_NAMES} == CLASS_NAMES
    # Every loss but the penalties (which take weights, not a pair) has its class.
    losses = {n for n in arrayloss.available() if hasattr(arrayloss.get(n), "spec")}
    assert set(alk.CLASSES) == losses
    assert set(arrayloss.available()) - losses == {"l1", "l2", "l1_l2"}
    assert len(WITH_KERAS) == 22
    # __all__ is written out for type checkers: exactly the generated classes, in order.
    assert alk.__all__ == ["CLASSES", "ArraylossLoss", "get",
                           *(cls.__name__ for cls in alk.CLASSES.values())]
    for name, cls in alk.CLASSES.items():
        assert getattr(alk, cls.__name__) is cls and cls.__name__ in alk.__all__
        assert issubclass(cls, keras.losses.Loss) and cls.function is arrayloss.get(name)
        assert cls.__module__ == "arrayloss.keras" and cls.__qualname__ == cls.__name__
        assert keras.saving.get_registered_name(cls) == f"arrayloss>{cls.__name__}"
        assert keras.saving.get_registered_object(f"arrayloss>{cls.__name__}") is cls


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_on_keras_backend(backend):
    env = {**os.environ, "KERAS_BACKEND": backend}
    run = subprocess.run([sys.executable, str(HERE / "keras_checks.py")], env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-4000:]
    report = json.loads(run.stdout)
    assert report["backend"] == backend
    checks = report["checks"]
    compared = {label.split(":")[1] for label in checks if label.startswith("keras:")}
    assert compared == set(WITH_KERAS)
    assert set(FAMILY_CHECKS) <= set(checks)
    failed = {label: error for label, error in checks.items() if error is not None}
    assert not failed, "\n\n".join(f"{label}:\n{error}" for label, error in failed.items())


def changed(value, option):
    """A valid value of ``option`` other than its default ``value``."""
    special = {"class_weight": [1.0, 2.0, 3.0], "pos_weight": 2.0, "ignore_index": -1,
               "class_axis": -1, "blank": 1, "class_reduction": "sum",
               "ref_labels": [0, 1], "ref_embeddings": [[1.0, 0.0], [0.0, 1.0]]}
    if option in special:
        return special[option]
    if option == "axis":
        return {None: (0, 1), -1: 1, "per_sample": (1, 2)}[value]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):  # multi_margin's p: 1 or 2
        return 2 if value == 1 else 1
    if isinstance(value, float):
        return value / 2 if value else 0.1
    raise AssertionError(f"no test value for option {option}={value!r}")


@pytest.mark.parametrize("name", sorted(CLASS_NAMES))
def test_config_round_trips_every_option(name):
    cls = alk.CLASSES[name]
    options = {k: changed(v, k) for k, v in cls.defaults.items()}
    loss = cls(reduction="sum", name="mine", dtype="float32", **options)
    config = loss.get_config()
    assert config == {"name": "mine", "reduction": "sum", "dtype": "float32", **options}
    assert cls.from_config(config).get_config() == config
    assert cls.from_config(json.loads(json.dumps(config))).get_config() == config
    again = keras.saving.deserialize_keras_object(
        json.loads(json.dumps(keras.saving.serialize_keras_object(loss))))
    assert type(again) is cls and again.get_config() == config
    default = cls()
    assert default.options == cls.defaults and default.name == name
    assert default.reduction == "sum_over_batch_size"


def test_array_options_are_saved_as_lists():
    loss = alk.CategoricalCrossentropy(class_weight=np.array([1.0, 2.0, 0.5]))
    assert loss.get_config()["class_weight"] == [1.0, 2.0, 0.5]
    y, p = np.eye(3, dtype=np.float32), np.full((3, 3), 1 / 3, np.float32)
    restored = alk.CategoricalCrossentropy.from_config(loss.get_config())
    np.testing.assert_allclose(np.asarray(restored(y, p)), np.asarray(loss(y, p)), rtol=1e-6)


def test_dtype_policy_round_trips():
    loss = alk.Huber(dtype=keras.DTypePolicy("float64"))
    again = alk.Huber.from_config(json.loads(json.dumps(loss.get_config())))
    assert again.dtype == loss.dtype == "float64"


def test_sparse_losses_accept_float_labels_and_the_function_does_not():
    labels = np.array([0, 2, 1, 2])
    logp = np.log(np.random.default_rng(0).dirichlet(np.ones(3), 4)).astype(np.float32)
    weight = np.array([1.0, 0.5, 0.0, 2.0], np.float32)
    for cls, scores in [(alk.SparseCategoricalCrossentropy, np.exp(logp)),
                        (alk.NegativeLogLikelihood, logp)]:
        expected = np.asarray(cls.function(labels, scores, sample_weight=weight))
        for y in (labels.astype(np.float32), labels[:, None].astype(np.float32), labels):
            got = np.asarray(cls()(y, scores, sample_weight=weight))
            np.testing.assert_allclose(got, expected, rtol=1e-6)
    with pytest.raises(TypeError, match="integer class labels"):
        arrayloss.sparse_categorical_crossentropy(labels.astype(np.float32), np.exp(logp))


def inputs_for(name, rng):
    """(Keras's y_true, y_pred) and the function's arrays for the classes without a Keras
    counterpart (where the class reads y_pred in its own way)."""
    f32 = np.float32
    n = 6
    y, p = rng.normal(size=(n, 3)).astype(f32), rng.normal(size=(n, 3)).astype(f32)
    if name == "gaussian_nll":
        var = rng.uniform(0.5, 2.0, (n, 3)).astype(f32)
        return (y, np.concatenate([p, var], -1)), (y, p, var)
    if name == "margin_ranking":
        signs = rng.choice([-1.0, 1.0], (n, 3)).astype(f32)
        return (signs, np.concatenate([y, p], -1)), (signs, y, p)
    if name == "cosine_embedding":
        signs = rng.choice([-1.0, 1.0], (n, 1)).astype(f32)
        a, b = (rng.normal(size=(n, 4)).astype(f32) for _ in range(2))
        return (signs, np.concatenate([a, b], -1)), (signs[:, 0], a, b)
    if name == "multilabel_soft_margin":
        targets = rng.integers(0, 2, (n, 3)).astype(f32)
        return (targets, p), (targets, p)
    if name in ("multi_margin", "multiclass_perceptron", "multiclass_hinge",
                "multiclass_sparsemax"):
        labels = rng.integers(0, 3, n)
        return (labels.astype(f32), p), (labels, p)
    if name == "multilabel_margin":
        targets = np.array([[2, 0, -1], [1, -1, 2], [-1, 0, 0], [0, 1, 2], [2, -1, -1],
                            [1, 2, -1]])
        return (targets.astype(f32), p), (targets, p)
    if name == "hinge_embedding":
        signs = rng.choice([-1.0, 1.0], (n, 3)).astype(f32)
        return (signs, p), (signs, p)
    if name == "triplet_margin":
        a, b, c = (rng.normal(size=(n, 4)).astype(f32) for _ in range(3))
        return (np.zeros(n, f32), np.concatenate([a, b, c], -1)), (a, b, c)
    if name == "ntxent":
        labels = np.array([0, 0, 1, 1, 2, 2])
        return (labels.astype(f32), p), (p, labels)
    if name == "negative_log_likelihood":
        logp = np.log(rng.dirichlet(np.ones(3), n)).astype(f32)
        labels = np.array([0, 1, 2, 1, 0, 2])
        return (labels.astype(f32), logp), (labels, logp)
    if name == "contrastive":
        similar = rng.integers(0, 2, (n, 1)).astype(f32)
        distance = rng.uniform(0, 2, (n, 1)).astype(f32)
        return (similar, distance), (similar, distance)
    if name == "jaccard":
        mask = (rng.uniform(size=(n, 4, 4)) > 0.5).astype(f32)
        prob = rng.uniform(size=(n, 4, 4)).astype(f32)
        return (mask, prob), (mask, prob)
    if name == "poisson_nll":
        counts = rng.poisson(2.0, (n, 3)).astype(f32)
        return (counts, p), (counts, p)
    return (y, p), (y, p)


@pytest.mark.parametrize("name", sorted(n for n, c in CLASS_NAMES.items()
                                        if c not in WITH_KERAS))
def test_losses_keras_lacks_equal_the_function(name):
    rng = np.random.default_rng(1)
    (y_true, y_pred), arrays = inputs_for(name, rng)
    weight = rng.uniform(0.0, 2.0, len(y_pred)).astype(np.float32)
    function, cls = arrayloss.get(name), alk.CLASSES[name]
    for reduction, ours in [("sum_over_batch_size", "mean"), ("sum", "sum"),
                            ("mean_with_sample_weight", "weighted_mean"), (None, "none")]:
        got = np.asarray(cls(reduction=reduction)(y_true, y_pred, sample_weight=weight))
        expected = np.asarray(function(*arrays, sample_weight=weight, reduction=ours))
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=2e-6, atol=1e-6, err_msg=reduction)


def test_ignore_index_averages_over_kept_labels():
    labels = np.array([0, 2, 1, 2, 1], np.float32)
    probs = np.random.default_rng(2).dirichlet(np.ones(3), 5).astype(np.float32)
    loss = alk.SparseCategoricalCrossentropy(ignore_index=2)
    assert loss.options["ignore_index"] == 2
    kept = arrayloss.scce(np.array([0, 1, 1]), probs[[0, 2, 4]])
    np.testing.assert_allclose(np.asarray(loss(labels, probs)), np.asarray(kept), rtol=1e-6)
    keras_spelling = alk.SparseCategoricalCrossentropy(ignore_class=2)
    assert keras_spelling.get_config() == {**loss.get_config(), "name": keras_spelling.name}


def test_errors_restate_what_was_given():
    with pytest.raises(TypeError, match=r"Huber\(\) got unknown option\(s\) deltas; it takes "
                       r"delta, axis, reduction, name, dtype"):
        alk.Huber(deltas=2.0)
    with pytest.raises(TypeError, match="given at the call or to fit"):
        alk.MeanSquaredError(sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="delta"):
        alk.Huber(delta=-1.0)
    with pytest.raises(ValueError, match="reduction"):
        alk.Huber(reduction="avg")
    with pytest.raises(TypeError, match="both ignore_class and ignore_index"):
        alk.SparseCategoricalCrossentropy(ignore_class=1, ignore_index=1)
    with pytest.raises(ValueError, match=r"multiple of 2; got y_pred.shape=\(4, 3\)"):
        alk.GaussianNLL()(np.zeros((4, 1)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="no class for 'l1'"):
        alk.get("l1")
    with pytest.raises(TypeError, match="base class"):
        alk.ArraylossLoss()
    with pytest.raises(ValueError, match="unknown loss 'hubr'"):
        alk.get("hubr")


def test_get_builds_the_class_by_any_name():
    loss = alk.get("HUBER_LOSS", delta=2.0, reduction="sum")
    assert type(loss) is alk.Huber and loss.options["delta"] == 2.0
    assert loss.reduction == "sum"
    assert type(alk.get(arrayloss.scce)) is alk.SparseCategoricalCrossentropy
    implied = alk.get("binary_cross_entropy_with_logits")  # a name that implies an option
    assert type(implied) is alk.BinaryCrossentropy and implied.options["from_logits"] is True
    bound = alk.get(arrayloss.get("huber", delta=3.0), delta=4.0)
    assert bound.options["delta"] == 4.0


def test_import_arrayloss_does_not_import_keras():
    code = "import sys, arrayloss; print('keras' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.stdout.strip() == "False", run.stderr
