"""Promises of the contract checked as properties of the whole registry: every loss, not
one example each. A defect of one kind (NaN dropped by a ``where``, a weight shape refused,
an option checked too late) is caught wherever a loss has it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import arrayloss
from arrayloss.conformance import all_cases
from arrayloss.conformance.backends import backend
from arrayloss.conformance.plan import first_case_per_loss
from arrayloss.conformance.runner import prepare_inputs
from arrayloss.core.chain_rule import has_closed_form
from arrayloss.core.options import (
    Boolean,
    IntChoice,
    Interval,
    OptionalInt,
    StrChoice,
    TweediePower,
)
from arrayloss.core.registry import entries

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)


def _plain_case(name: str):
    """The loss's conformance row with the fewest options (no mask-like options)."""
    rows = [c for c in all_cases() if c.loss == name and "ignore_index" not in c.options]
    return min(rows, key=lambda c: len(c.options))


LOSSES = [c.loss for c in first_case_per_loss(all_cases())]
CASES = [_plain_case(name) for name in LOSSES]
VALUE_BACKENDS = [backend(n) for n in ("numpy", "array_api_strict", "torch", "jax", "jax_jit",
                                       "dask")]


def _float_inputs(case) -> list[int]:
    return list(case.float_indices(len(case.inputs())))


def _call(case, b, inputs, **options):
    arrays, _ = prepare_inputs(case, b, "float64", tuple(inputs))
    return b.to_numpy(b.call(arrayloss.get(case.loss), *arrays, **case.options, **options))


# -- NaN in, NaN out (SPEC section 6) -------------------------------------------------------
def _put_nan(case, inputs, index):
    """NaN at the first element of input ``index`` that the formula reads: for the
    log-probabilities of ``negative_log_likelihood`` and the probabilities of
    ``categorical_generalized_crossentropy``, the first sample's label entry (its other
    entries are not part of ``-log p_y`` nor of ``p_y^q``)."""
    reads_the_label_only = case.loss == "negative_log_likelihood" or (
        case.loss == "categorical_generalized_crossentropy"
        and not case.options.get("from_logits"))
    if reads_the_label_only and index == 1:
        inputs[1][0, int(inputs[0].flat[0])] = math.nan
    else:
        inputs[index].flat[0] = math.nan


@pytest.mark.parametrize("b", VALUE_BACKENDS, ids=lambda b: b.name)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.loss)
def test_nan_in_any_float_input_gives_nan(case, b):
    for index in _float_inputs(case):
        inputs = [np.array(x) for x in case.inputs()]
        _put_nan(case, inputs, index)
        result = _call(case, b, inputs, reduction="sum")
        assert np.isnan(result), (
            f"{case.loss} on {b.name}: NaN in input {index} gave {result} instead of NaN")


@pytest.mark.parametrize("case", [c for c in CASES if has_closed_form(c.loss)],
                         ids=lambda c: c.loss)
def test_nan_in_any_float_input_gives_nan_closed_form_derivatives(case):
    prediction = 1  # the closed forms differentiate y_pred, the second input
    for index in _float_inputs(case):
        inputs = [np.array(x) for x in case.inputs()]
        _put_nan(case, inputs, index)
        grad, hess = arrayloss.gradient(case.loss, *inputs, **case.options), \
            arrayloss.hessian_diagonal(case.loss, *inputs, **case.options)
        assert grad.shape == inputs[prediction].shape
        where = np.isnan(inputs[index])
        assert np.isnan(grad[where]).all() and np.isnan(hess[where]).all(), (
            f"{case.loss}: NaN in input {index} gave gradient {grad[where]} and Hessian "
            f"{hess[where]} at that element")


# -- result types (SPEC section 3) ---------------------------------------------------------
@pytest.mark.parametrize("reduction", ["none", "sum", "mean", "weighted_mean"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.loss)
def test_every_reduction_returns_an_array_on_numpy(case, reduction):
    result = arrayloss.get(case.loss)(*case.inputs(), **case.options, reduction=reduction)
    assert isinstance(result, np.ndarray), type(result)


@pytest.mark.parametrize("name", [e.name for e in entries() if hasattr(e.function, "spec")
                                  and e.function.spec.kind == "elementwise"
                                  and e.function.spec.inputs == ("y_true", "y_pred")])
def test_zero_dimensional_inputs_give_zero_dimensional_arrays(name):
    for reduction in ("none", "mean"):
        result = arrayloss.get(name)(np.float64(0.25), np.asarray(0.5), reduction=reduction)
        assert isinstance(result, np.ndarray) and result.shape == (), (reduction, type(result))


# -- weights and masks with Keras's trailing axis (SPEC section 4) -------------------------
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.loss)
def test_weights_and_masks_with_a_trailing_unit_axis(case):
    loss = arrayloss.get(case.loss)
    inputs = case.inputs()
    shape = loss(*inputs, **case.options, reduction="none").shape
    rng = np.random.default_rng(1)
    weight = rng.uniform(0.5, 2.0, size=shape)
    mask = rng.uniform(size=shape) < 0.7
    for reduction in ("none", "sum", "mean", "weighted_mean"):
        for option, value in (("sample_weight", weight), ("mask", mask)):
            flat = loss(*inputs, **case.options, **{option: value}, reduction=reduction)
            column = loss(*inputs, **case.options, **{option: value[..., None]},
                          reduction=reduction)
            np.testing.assert_array_equal(column, flat, err_msg=f"{option}, {reduction}")
    if has_closed_form(case.loss):
        flat = arrayloss.gradient(case.loss, *inputs, **case.options, sample_weight=weight)
        column = arrayloss.gradient(case.loss, *inputs, **case.options,
                                    sample_weight=weight[..., None])
        np.testing.assert_array_equal(column, flat)


# -- bad inputs and options (SPEC section 9) -----------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.loss)
def test_none_as_data_is_a_type_error_naming_the_argument(case):
    spec = arrayloss.get(case.loss).spec
    for index, name in enumerate(spec.inputs):
        inputs = list(case.inputs())
        inputs[index] = None
        with pytest.raises(TypeError, match=rf"{name} must be an array.*got None"):
            arrayloss.get(case.loss)(*inputs, **case.options)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.loss)
def test_numpy_views_with_negative_strides_beside_torch(case):
    spec = arrayloss.get(case.loss).spec
    inputs = [np.asarray(x) for x in case.inputs()]
    expected = arrayloss.get(case.loss)(*inputs, **case.options, reduction="none")
    prediction = spec.inputs.index(spec.prediction)
    # The same values, seen through views with negative strides: x[::-1] of a reversed copy.
    views = [x if x.ndim == 0 else np.flip(np.flip(x).copy()) for x in inputs]
    assert any(v.ndim and v.strides[0] < 0 for v in views)
    views[prediction] = torch.asarray(inputs[prediction])
    result = arrayloss.get(case.loss)(*views, **case.options, reduction="none")
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-12, atol=1e-12)


def _invalid_values(rule):
    if isinstance(rule, Boolean):
        return ["yes", 1]
    if isinstance(rule, OptionalInt):
        return [1.5, "0"]
    if isinstance(rule, IntChoice):
        return [float(rule.allowed[0]), True, max(rule.allowed) + 1, min(rule.allowed) - 1]
    if isinstance(rule, TweediePower):
        return ["a string", True, math.nan, math.inf, 0.5]
    if isinstance(rule, StrChoice):
        return [rule.allowed[0].upper(), "avg", None, 1]
    assert isinstance(rule, Interval), rule
    bad = ["a string", math.nan]
    if rule.low is not None:
        bad.append(rule.low if rule.low_open else rule.low - 1.0)
    if rule.high is not None and math.isfinite(rule.high):
        bad.append(rule.high if rule.high_open else rule.high + 1.0)
    return bad


OPTION_RULES = [(e.name, option, rule) for e in entries() if hasattr(e.function, "spec")
                for option, rule in e.function.spec.checks.items()]


@pytest.mark.parametrize(("name", "option", "rule"), OPTION_RULES,
                         ids=[f"{n}-{o}" for n, o, _ in OPTION_RULES])
def test_option_values_are_checked_when_bound(name, option, rule):
    for bad in _invalid_values(rule):
        with pytest.raises((TypeError, ValueError), match=rf"{option} must"):
            arrayloss.get(name, **{option: bad})


def test_every_option_of_a_number_or_flag_has_a_rule():
    """A numeric or boolean option without a declared rule would be checked late or never."""
    for e in entries():
        spec = getattr(e.function, "spec", None)
        if spec is None:
            continue
        for option, default in spec.options.items():
            if isinstance(default, (bool, float)):
                assert option in spec.checks, f"{e.name}: option {option} has no rule"


@pytest.mark.parametrize("name", [e.name for e in entries() if hasattr(e.function, "spec")])
def test_reduction_and_unknown_options_are_checked_when_bound(name):
    with pytest.raises(ValueError, match=r"reduction must be one of .*got 'abc'"):
        arrayloss.get(name, reduction="abc")
    with pytest.raises(TypeError, match=r"unknown option\(s\) dleta"):
        arrayloss.get(name, dleta=1.0)


# -- Dask arrays of unknown chunk sizes -----------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.loss)
def test_dask_arrays_of_unknown_chunk_sizes(case):
    """After boolean filtering Dask no longer knows its chunk sizes: the loss either gives
    the value of the known-shape call, lazily, or says what to do."""
    import dask.array as da

    dask = backend("dask")
    inputs = [np.asarray(x) for x in case.inputs()]
    expected = arrayloss.get(case.loss)(*inputs, **case.options)
    arrays = [dask.asarray(x) for x in inputs]
    keep = da.ones(inputs[0].shape[0], dtype=bool, chunks=arrays[0].chunks[0]) \
        if inputs[0].ndim else None
    if keep is not None:
        arrays = [a[keep] if a.ndim and a.shape[0] == inputs[0].shape[0] else a
                  for a in arrays]
    try:
        result = dask.call(arrayloss.get(case.loss), *arrays, **case.options)
    except ValueError as error:
        assert "compute_chunk_sizes()" in str(error), error
        return
    np.testing.assert_allclose(dask.to_numpy(result), expected, rtol=1e-12, atol=1e-12)


# -- perfect predictions from infinite logits ----------------------------------------------
LOGIT_LOSSES = [e.name for e in entries() if hasattr(e.function, "spec")
                and "from_logits" in e.function.spec.options
                and e.family == "classification"]


@pytest.mark.parametrize("b", VALUE_BACKENDS, ids=lambda b: b.name)
@pytest.mark.parametrize("name", LOGIT_LOSSES)
def test_a_perfect_prediction_from_infinite_logits_costs_zero(name, b):
    """0·log 0 is 0: no NaN where the exact loss is 0 (a logit of ±inf on the right side)."""
    spec = arrayloss.get(name).spec
    classes = np.array([0, 1, 1, 0])
    if spec.kind == "elementwise":
        y_true = classes.astype(float)
        logits = np.where(classes == 1, math.inf, -math.inf)
    else:
        onehot = np.eye(2)[classes]
        logits = np.where(onehot == 1, 0.0, -math.inf)
        y_true = classes if spec.kind == "labels" else onehot
    loss = arrayloss.get(name, from_logits=True)
    for reduction in ("none", "mean"):  # "mean": a native kernel's path where one exists
        result = b.to_numpy(b.call(loss, b.asarray(y_true), b.asarray(logits),
                                   reduction=reduction))
        np.testing.assert_array_equal(result, np.zeros_like(result), err_msg=reduction)


# -- the defects' reproducers, on every backend ---------------------------------------------
EXTREMES = [
    # (loss, y_true, y_pred, options, expected per-sample values)
    ("log_cosh", [0.0], [-2e38], {}, [2e38 - math.log(2.0)]),
    ("log_cosh", [0.0], [2e38], {}, [2e38 - math.log(2.0)]),
    ("cosine_similarity", [[1e-30] * 3], [[1e-30] * 3], {}, [-1.0]),
    ("cosine_similarity", [[1e20] * 3], [[1e20] * 3], {}, [-1.0]),
    ("cosine_similarity", [[1e20, 0.0]], [[0.0, 1e-20]], {}, [0.0]),
    ("binary_crossentropy", [0.0], [-math.inf], {"from_logits": True}, [0.0]),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("b", VALUE_BACKENDS, ids=lambda b: b.name)
@pytest.mark.parametrize(("name", "y_true", "y_pred", "options", "expected"), EXTREMES,
                         ids=[f"{e[0]}-{e[2]}" for e in EXTREMES])
def test_exact_where_the_exact_value_is_finite(name, y_true, y_pred, options, expected, b,
                                               dtype):
    loss = arrayloss.get(name, **options)
    result = b.to_numpy(b.call(loss, b.asarray(np.array(y_true), dtype),
                               b.asarray(np.array(y_pred), dtype), reduction="none"))
    np.testing.assert_allclose(result, expected, rtol=1e-6 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize("b", VALUE_BACKENDS, ids=lambda b: b.name)
def test_norms_are_scaled_before_squaring(b):
    tiny = np.full((1, 3), 1e-310)  # subnormal float64
    # XLA on the CPU flushes subnormal numbers to zero, so on JAX these vectors are the zero
    # vector, whose cosine is 0 by definition; every other backend keeps them.
    expected = 0.0 if b.name.startswith("jax") else -1.0
    assert b.to_numpy(b.call(arrayloss.cosine_similarity, b.asarray(tiny),
                             b.asarray(tiny))) == pytest.approx(expected, rel=1e-12)
    # Triplet distances of 1e20 in float32: d(a, p) = 1e20, d(a, n) = √5·1e20.
    a, p, n = (np.asarray(v, dtype=np.float32) for v in ([[1e20, 0]], [[0, 0]], [[0, 2e20]]))
    swapped = arrayloss.get("triplet_margin", margin=3e20, eps=0.0)
    result = b.to_numpy(b.call(swapped, b.asarray(a), b.asarray(p), b.asarray(n)))
    assert result == pytest.approx((1.0 - math.sqrt(5.0) + 3.0) * 1e20, rel=1e-6)


def test_soft_target_gradients_are_not_silenced_at_zero():
    """d cce / d y at a zero target is -log_softmax(z) there (distillation)."""
    import jax.numpy as jnp

    y = jnp.asarray([[0.0, 1.0, 0.0]])
    z = jnp.asarray([[2.0, -1.0, 0.5]])
    expected = -np.asarray(jax.nn.log_softmax(z))
    got = jax.grad(lambda t: arrayloss.cce(t, z, from_logits=True))(y)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-12)
    q = jax.nn.softmax(z)
    got_kl = jax.grad(lambda t: arrayloss.kld(t, q))(y)
    # KL(y‖q) = Σ y log y - y log q: at y = 0 the y·log y term contributes 0 (SPEC 6).
    np.testing.assert_allclose(np.asarray(got_kl)[0, [0, 2]], -np.log(q)[0, [0, 2]],
                               rtol=1e-12)
    target = torch.tensor([[0.0, 1.0, 0.0]], dtype=torch.float64, requires_grad=True)
    arrayloss.cce(target, torch.asarray(np.asarray(z)), from_logits=True).backward()
    np.testing.assert_allclose(target.grad.numpy(), expected, rtol=1e-12)


def test_msle_learns_from_a_prediction_of_exactly_zero():
    expected = -2.0 * math.log(2.0)
    assert arrayloss.gradient("msle", [1.0], [0.0])[0] == pytest.approx(expected)
    pred = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    arrayloss.msle(torch.ones(1, dtype=torch.float64), pred).backward()
    assert pred.grad.item() == pytest.approx(expected)
    got = jax.grad(lambda p: arrayloss.msle(jax.numpy.ones(1), p))(jax.numpy.zeros(1))
    assert float(got[0]) == pytest.approx(expected)


def test_hinge_closed_form_keeps_nan():
    np.testing.assert_array_equal(arrayloss.gradient("hinge", [1.0, 1.0], [math.nan, 0.0]),
                                  [math.nan, -0.5])


def test_elastic_net_in_the_glossarys_parametrization():
    w = np.array([1.0, -2.0, 0.5])
    alpha, ratio = 0.3, 0.2
    expected = alpha * ratio * np.abs(w).sum() + alpha * (1 - ratio) * (w**2).sum()
    assert arrayloss.elastic_net(w, alpha=alpha, l1_ratio=ratio) == pytest.approx(expected)
    assert arrayloss.l1_l2(w, alpha=alpha, l1_ratio=ratio) == pytest.approx(
        arrayloss.l1_l2(w, l1=alpha * ratio, l2=alpha * (1 - ratio)))
    assert arrayloss.l1_l2(w, alpha=1.0) == pytest.approx(0.5 * np.abs(w).sum()
                                                          + 0.5 * (w**2).sum())
    assert arrayloss.l1_l2(w) == pytest.approx(0.01 * np.abs(w).sum() + 0.01 * (w**2).sum())
    with pytest.raises(TypeError, match=r"either l1/l2 \(Keras\) or alpha/l1_ratio.*got l1=0.1, "
                                        r"alpha=0.2"):
        arrayloss.l1_l2(w, l1=0.1, alpha=0.2)
    with pytest.raises(ValueError, match=r"l1_ratio must be in \[0, 1\]; got 1.5"):
        arrayloss.l1_l2(w, l1_ratio=1.5)
