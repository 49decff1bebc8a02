"""The checks of ``arrayloss.keras`` on one Keras backend, run by ``tests/test_keras.py`` as
``KERAS_BACKEND=<backend> python tests/keras_checks.py`` (Keras fixes its backend at its
first import, so each backend needs its own process).

Prints one JSON object: ``{"backend": ..., "checks": {name: error message or null}}``. Every
check compares against Keras's own losses or against a run of the same model; nothing here
is a hard-coded number.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback

import numpy as np

RTOL = ATOL = 1e-6
REDUCTIONS = ("sum_over_batch_size", "sum", "mean_with_sample_weight", None)


def keras_cases(rng):
    """(our class name, inputs (y_true, y_pred), our options, Keras's options) for every loss
    that Keras has; inputs are float32 NumPy arrays in the range where the libraries agree."""
    n = 8
    f32 = np.float32
    reg = rng.normal(size=(n, 3)).astype(f32), rng.normal(size=(n, 3)).astype(f32)
    pos = rng.uniform(0.5, 3.0, (n, 3)).astype(f32), rng.uniform(0.5, 3.0, (n, 3)).astype(f32)
    binary = rng.integers(0, 2, (n, 4)).astype(f32), rng.uniform(0.05, 0.95, (n, 4)).astype(f32)
    logits = binary[0], rng.normal(size=(n, 4)).astype(f32) * 2
    onehot = np.eye(5, dtype=f32)[rng.integers(0, 5, n)]
    probs = rng.dirichlet(np.ones(5), n).astype(f32)
    soft = rng.dirichlet(np.ones(5) * 3, n).astype(f32)
    labels = rng.integers(0, 5, n)
    masks = (rng.uniform(size=(n, 6, 6, 1)) > 0.5).astype(f32)
    maps = rng.uniform(0.01, 0.99, (n, 6, 6, 1)).astype(f32)
    # Circle: unit-norm embeddings (Keras expects them), class 3 without a positive.
    groups = np.array([0, 0, 1, 1, 2, 2, 2, 3], dtype=f32)
    embeddings = rng.normal(size=(n, 4))
    embeddings = (embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)).astype(f32)
    ctc_labels = np.array([[1, 2, 2, 0], [3, 0, 0, 0], [1, 4, 3, 2], [2, 1, 0, 0]] * 2)
    ctc_logits = rng.normal(size=(n, 7, 5)).astype(f32)
    # Keras <= 3.15.1 multiplies the false negatives by alpha (docs/structured.md): probe it.
    import keras
    probe = float(keras.losses.tversky(np.array([1.0, 1.0]), np.array([1.0, 0.0]),
                                       alpha=1.0, beta=0.0))
    swapped = abs(probe - 0.5) < 1e-3
    return [
        ("MeanSquaredError", reg, {}, {}),
        ("MeanAbsoluteError", reg, {}, {}),
        ("MeanAbsolutePercentageError", pos, {}, {}),
        ("MeanSquaredLogarithmicError", pos, {}, {}),
        ("Huber", reg, {"delta": 0.7}, {"delta": 0.7}),
        ("LogCosh", reg, {}, {}),
        ("Poisson", pos, {}, {}),
        ("CosineSimilarity", reg, {"axis": -1}, {"axis": -1}),
        ("BinaryCrossentropy", binary, {"label_smoothing": 0.1}, {"label_smoothing": 0.1}),
        ("BinaryCrossentropy", logits, {"from_logits": True}, {"from_logits": True}),
        ("BinaryFocalCrossentropy", binary,
         {"apply_class_balancing": True, "alpha": 0.3, "gamma": 1.5},
         {"apply_class_balancing": True, "alpha": 0.3, "gamma": 1.5}),
        ("CategoricalCrossentropy", (onehot, probs), {"label_smoothing": 0.2},
         {"label_smoothing": 0.2}),
        ("CategoricalFocalCrossentropy", (onehot, probs), {"alpha": 0.4, "gamma": 1.0},
         {"alpha": 0.4, "gamma": 1.0}),
        ("SparseCategoricalCrossentropy", (labels.astype(f32), probs), {}, {}),
        ("SparseCategoricalCrossentropy", (labels, probs * 3), {"from_logits": True},
         {"from_logits": True}),
        ("SparseCategoricalCrossentropy", (labels, probs), {"ignore_class": 2},
         {"ignore_class": 2}),
        ("CategoricalGeneralizedCrossEntropy", (labels.astype(f32), probs), {"q": 0.7},
         {"q": 0.7}),
        ("Circle", (groups, embeddings), {"gamma": 8.0, "margin": 0.25},
         {"gamma": 8.0, "margin": 0.25}),
        ("Circle", (groups, embeddings), {"remove_diagonal": False, "gamma": 4.0},
         {"remove_diagonal": False, "gamma": 4.0}),
        ("KLDivergence", (soft, probs), {}, {}),
        ("Hinge", binary, {}, {}),
        ("SquaredHinge", (2 * binary[0] - 1, logits[1]), {}, {}),
        ("CategoricalHinge", (onehot, probs), {}, {}),
        ("Dice", (masks, maps), {}, {"axis": (1, 2, 3)}),
        ("Dice", (masks, maps), {"axis": None}, {}),
        ("Tversky", (masks, maps), {"alpha": 0.3, "beta": 0.7}, {"axis": (1, 2, 3), **(
            {"alpha": 0.7, "beta": 0.3} if swapped else {"alpha": 0.3, "beta": 0.7})}),
        ("CTC", (ctc_labels, ctc_logits), {}, {}),
    ]


def close(ours, theirs, what):
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    if ours.shape != theirs.shape:
        raise AssertionError(f"{what}: shape {ours.shape} against Keras's {theirs.shape}")
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=what)


def check_against_keras(name, inputs, ours_options, keras_options, rng):
    """Called directly, with and without sample_weight, for several reductions: ours equals
    Keras's class of the same name (on JAX inside one ``jax.jit``, as in fit)."""
    import keras

    import arrayloss.keras as alk

    weight = rng.uniform(0.0, 2.0, len(inputs[0])).astype(np.float32)
    weight[0] = 0.0
    # The reductions are Keras's own code for every class: all of them for a few losses
    # (element-wise, masked, per-image), the default and "none" (the per-sample shape) for
    # the others.
    every = name in ("MeanSquaredError", "Dice", "Circle") or "ignore_class" in ours_options
    reductions = REDUCTIONS if every else ("sum_over_batch_size", None)
    pairs = [(getattr(alk, name)(reduction=r, **ours_options),
              getattr(keras.losses, name)(reduction=r, **keras_options)) for r in reductions]
    for ours, _ in pairs:
        assert isinstance(ours, alk.ArraylossLoss) and isinstance(ours, keras.losses.Loss)

    def compute(w, *arrays):
        return [(ours(*arrays, sample_weight=sw), theirs(*arrays, sample_weight=sw))
                for ours, theirs in pairs for sw in (None, w)]

    if keras.backend.backend() == "jax":
        import jax

        compute = jax.jit(compute)
    results = compute(weight, *inputs)
    for (reduction, weighted), (got, expected) in zip(
            [(r, w) for r in reductions for w in (False, True)], results, strict=True):
        close(keras.ops.convert_to_numpy(got), keras.ops.convert_to_numpy(expected),
              f"{name}({ours_options}) reduction={reduction} weighted={weighted}")


def families(rng):
    """(family, x, y, model maker, [(our loss, Keras's loss or None)], sample_weight,
    class_weight) for one small problem per family."""
    import keras

    import arrayloss.keras as alk

    n = 48
    x = rng.normal(size=(n, 4)).astype(np.float32)
    w_true = rng.normal(size=(4,)).astype(np.float32)
    score = x @ w_true
    sample_weight = rng.uniform(0.2, 2.0, n).astype(np.float32)

    def dense(units, activation=None):
        return lambda: keras.Sequential([keras.Input((4,)),
                                         keras.layers.Dense(units, activation=activation)])

    y_reg = (score + 0.1 * rng.normal(size=n)).astype(np.float32)
    y_bin = (score > 0).astype(np.float32)
    y_cls = np.digitize(score, np.quantile(score, [1 / 3, 2 / 3])).astype(np.int64)
    images = rng.normal(size=(n, 6, 6, 2)).astype(np.float32)
    y_seg = (images[..., :1] + images[..., 1:] > 0).astype(np.float32)
    y_seg3 = np.eye(3, dtype=np.float32)[np.digitize(images[..., 0], [-0.5, 0.5])]

    def conv(units, activation):
        return lambda: keras.Sequential([keras.Input((6, 6, 2)), keras.layers.Conv2D(
            units, 3, padding="same", activation=activation)])

    return [
        ("regression", x, y_reg, dense(1), [
            (alk.MeanSquaredError(), keras.losses.MeanSquaredError()),
        ], sample_weight, None),
        ("binary", x, y_bin, dense(1, "sigmoid"), [
            (alk.BinaryCrossentropy(label_smoothing=0.1),
             keras.losses.BinaryCrossentropy(label_smoothing=0.1)),
        ], sample_weight, {0: 1.0, 1: 2.5}),
        ("sparse", x, y_cls, dense(3), [
            (alk.SparseCategoricalCrossentropy(from_logits=True),
             keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
        ], sample_weight, {0: 0.5, 1: 1.0, 2: 2.0}),
        ("sparse", x, y_cls, dense(3, "log_softmax"), [
            (alk.NegativeLogLikelihood(), None),
        ], sample_weight, {0: 0.5, 1: 1.0, 2: 2.0}),
        ("segmentation", images, y_seg, conv(1, "sigmoid"), [
            (alk.Dice(), keras.losses.Dice(axis=(1, 2, 3))),
        ], sample_weight, None),
        # Keras's fit takes no class_weight for 3+-D targets: per-class weights are the
        # loss's own option here.
        ("segmentation_classes", images, y_seg3, conv(3, "softmax"), [
            (alk.Dice(class_axis=-1, class_weight=[0.5, 1.0, 1.5]), None),
        ], sample_weight, None),
    ]


def run_family(family, x, y, make_model, pairs, sample_weight, class_weight, checks, workdir):
    """Per loss: with class_weight, one full-batch step of fit reports the loss of Keras's
    own loss (or, without one, our loss weighted by class_weight[y]) and takes the same step;
    fit with sample_weight lowers the loss; evaluate equals Keras's own loss; save and
    load_model bring back the same loss, options and value."""
    import keras

    n, sw = len(x), sample_weight
    one_step = {"class_weight": class_weight, "epochs": 1, "batch_size": n, "shuffle": False,
                "verbose": 0}
    for ours, theirs in pairs:
        label = f"{family}:{type(ours).__name__}"
        try:
            keras.utils.set_random_seed(0)
            model, reference = make_model(), make_model()
            start = model.get_weights()
            if theirs is not None:
                reference.set_weights(start)
                reference.compile(optimizer=keras.optimizers.SGD(0.1), loss=theirs)
            model.compile(optimizer=keras.optimizers.SGD(0.1), loss=ours)
            if class_weight is not None:
                if theirs is None:
                    weights = np.array([class_weight[int(v)] for v in y], np.float32)
                    expected = model.evaluate(x, y, sample_weight=weights, batch_size=n,
                                              verbose=0)
                else:
                    expected = reference.fit(x, y, **one_step).history["loss"][0]
                close(model.fit(x, y, **one_step).history["loss"][0], expected,
                      f"{label} fit with class_weight")
                if theirs is not None:  # the same gradient step
                    for a, b in zip(model.get_weights(), reference.get_weights(), strict=True):
                        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6,
                                                   err_msg=f"{label} step with class_weight")
            losses = model.fit(x, y, sample_weight=sw, epochs=6, batch_size=16,
                               verbose=0).history["loss"]
            assert np.all(np.isfinite(losses)), f"non-finite training loss {losses}"
            assert losses[-1] < losses[0], f"training did not lower the loss: {losses}"
            after = model.evaluate(x, y, sample_weight=sw, verbose=0)
            if theirs is not None:
                reference.set_weights(model.get_weights())
                close(after, reference.evaluate(x, y, sample_weight=sw, verbose=0),
                      f"{label} evaluate against Keras's own")
            path = os.path.join(workdir, f"{family}_{type(ours).__name__}.keras")
            model.save(path)
            loaded = keras.saving.load_model(path)
            assert type(loaded.loss) is type(ours), f"loaded loss is {loaded.loss!r}"
            assert loaded.loss.get_config() == ours.get_config(), (
                f"{loaded.loss.get_config()} != {ours.get_config()}")
            close(loaded.evaluate(x, y, sample_weight=sw, verbose=0), after,
                  f"{label} evaluate after load_model")
            checks[label] = None
        except Exception:  # reported: the test fails on it
            checks[label] = traceback.format_exc(limit=4)


def check_plain_functions(rng, checks):
    """What docs/keras.md says plain functions in compile do: the right value unweighted;
    with sample_weight, Keras multiplies the function's mean by the weights' mean."""
    import keras

    import arrayloss
    import arrayloss.keras as alk

    x = rng.normal(size=(20, 3)).astype(np.float32)
    y = rng.normal(size=(20,)).astype(np.float32)
    sw = rng.uniform(0.0, 2.0, 20).astype(np.float32)
    try:
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile(loss=arrayloss.mse)
        model.fit(x, y, epochs=1, verbose=0)
        plain = model.evaluate(x, y, verbose=0, batch_size=20)
        plain_weighted = model.evaluate(x, y, sample_weight=sw, verbose=0, batch_size=20)
        model.compile(loss=alk.MeanSquaredError())
        ours = model.evaluate(x, y, verbose=0, batch_size=20)
        ours_weighted = model.evaluate(x, y, sample_weight=sw, verbose=0, batch_size=20)
        errors = (keras.ops.convert_to_numpy(model(x))[:, 0] - y) ** 2
        close(plain, ours, "plain function, unweighted")
        close(ours_weighted, np.mean(sw * errors), "class, weighted")
        close(plain_weighted, np.mean(errors) * np.mean(sw), "plain function, weighted")
        assert not np.isclose(plain_weighted, ours_weighted, rtol=1e-3)
        checks["plain_functions"] = None
    except Exception:
        checks["plain_functions"] = traceback.format_exc(limit=4)


def main() -> None:
    backend = os.environ["KERAS_BACKEND"]
    import keras

    assert keras.backend.backend() == backend
    checks: dict[str, str | None] = {}
    rng = np.random.default_rng(0)
    for name, inputs, ours, theirs in keras_cases(rng):
        label = f"keras:{name}:{sorted(ours)}"
        try:
            check_against_keras(name, inputs, ours, theirs, rng)
            checks[label] = None
        except Exception:
            checks[label] = traceback.format_exc(limit=4)
    with tempfile.TemporaryDirectory() as workdir:
        for family in families(rng):
            run_family(*family, checks, workdir)
    check_plain_functions(rng, checks)
    json.dump({"backend": keras.backend.backend(), "checks": checks}, sys.stdout)


if __name__ == "__main__":
    main()
