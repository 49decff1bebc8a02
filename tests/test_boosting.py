"""arrayloss losses as LightGBM custom objectives, trained end to end."""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss

lgb = pytest.importorskip("lightgbm")

PARAMS = {"verbose": -1, "num_threads": 1, "learning_rate": 0.1, "num_leaves": 15,
          "seed": 0, "deterministic": True}
ROUNDS = 60


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 4))
    y = np.sin(2 * x[:, 0]) + x[:, 1] ** 2 + 0.1 * rng.normal(size=600)
    return x[:400], y[:400], x[400:], y[400:]


def _train(objective, x, y, rounds=ROUNDS, **params):
    return lgb.train({**PARAMS, "objective": objective, **params}, lgb.Dataset(x, y),
                     num_boost_round=rounds)


def test_mse_objective_trains_exactly_like_lightgbms_l2(data):
    x, y, x_test, y_test = data
    ours = _train(arrayloss.boosting_objective("mse"), x, y).predict(x_test)
    # Custom objectives start from 0; the built-in one does too without the average.
    builtin = _train("l2", x, y, boost_from_average=False).predict(x_test)
    # grad 2(ŷ - y) and hess 2 against LightGBM's (ŷ - y) and 1: the same leaves.
    np.testing.assert_allclose(ours, builtin, rtol=1e-9, atol=1e-9)
    assert np.mean((ours - y_test) ** 2) < 0.25 * np.var(y_test)


def test_bce_from_logits_trains_exactly_like_lightgbms_binary(data):
    x, y, x_test, y_test = data
    labels, labels_test = (y > np.median(y)).astype(float), (y_test > np.median(y)).astype(float)
    objective = arrayloss.boosting_objective("bce", from_logits=True)
    ours = _train(objective, x, labels).predict(x_test, raw_score=True)
    builtin = _train("binary", x, labels, boost_from_average=False).predict(
        x_test, raw_score=True)
    np.testing.assert_allclose(ours, builtin, rtol=1e-9, atol=1e-9)
    assert np.mean((ours > 0) == labels_test) > 0.85


def test_sparse_categorical_crossentropy_learns_three_classes(data):
    x, y, x_test, y_test = data
    edges = np.quantile(y, [1 / 3, 2 / 3])
    labels, labels_test = np.digitize(y, edges), np.digitize(y_test, edges)
    objective = arrayloss.boosting_objective("scce", from_logits=True)
    scores = _train(objective, x, labels, num_class=3).predict(x_test, raw_score=True)
    assert scores.shape == (len(x_test), 3)
    assert np.mean(scores.argmax(axis=1) == labels_test) > 0.75  # chance is 1/3


def test_mae_with_its_constant_hessian_beats_the_median(data):
    x, y, x_test, y_test = data
    objective = arrayloss.boosting_objective("mae")
    assert objective.hessian_floor == 1.0
    predictions = _train(objective, x, y, rounds=100).predict(x_test)
    baseline = np.mean(np.abs(y_test - np.median(y)))
    assert np.mean(np.abs(predictions - y_test)) < 0.5 * baseline


def test_quantile_objective_covers_its_quantile(data):
    x, y, x_test, y_test = data
    objective = arrayloss.boosting_objective("quantile", q=0.9)
    predictions = _train(objective, x, y, rounds=150).predict(x)
    assert 0.8 < np.mean(y <= predictions) < 0.97


def test_sklearn_wrapper_signature(data):
    x, y, x_test, y_test = data
    objective = arrayloss.boosting_objective("huber", delta=0.5)
    model = lgb.LGBMRegressor(objective=objective.sklearn, n_estimators=ROUNDS, **PARAMS)
    model.fit(x, y)
    assert np.mean((model.predict(x_test) - y_test) ** 2) < 0.3 * np.var(y_test)


def test_dataset_weights_multiply_gradient_and_hessian():
    class Data:  # what lgb.Dataset and xgb.DMatrix offer
        def get_label(self):
            return np.array([1.0, 2.0, 3.0])

        def get_weight(self):
            return np.array([0.0, 1.0, 3.0])

    grad, hess = arrayloss.boosting_objective("mse")(np.zeros(3), Data())
    np.testing.assert_array_equal(grad, [0.0, -4.0, -18.0])
    np.testing.assert_array_equal(hess, [0.0, 2.0, 6.0])
    grad, hess = arrayloss.boosting_objective("mae", hessian_floor=0.5).sklearn(
        [1.0, -1.0], [0.0, 0.0], [2.0, 2.0])
    np.testing.assert_array_equal(grad, [-2.0, 2.0])
    np.testing.assert_array_equal(hess, [1.0, 1.0])


def test_objective_errors():
    with pytest.raises(NotImplementedError, match="ctc"):
        arrayloss.boosting_objective("ctc")
    with pytest.raises(ValueError, match="gaussian_nll takes y_true, y_pred, var"):
        arrayloss.boosting_objective("gaussian_nll")
    with pytest.raises(TypeError, match="reduction"):
        arrayloss.boosting_objective("mse", reduction="sum")
    with pytest.raises(ValueError, match="hessian_floor must be in"):
        arrayloss.boosting_objective("mse", hessian_floor=-1.0)
