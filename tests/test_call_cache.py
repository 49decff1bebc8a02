"""The remembered common call (``core/call_cache.py``), as properties over the registry:
a replayed call gives the first call's value bit for bit, on NumPy and on PyTorch, with
and without the native kernels; a call that differs in an option, a dtype or a shape is
prepared again, with every check of SPEC section 9; nothing is remembered while
``torch.compile`` traces."""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss
from arrayloss.conformance import all_cases
from arrayloss.conformance.backends import backend
from arrayloss.conformance.plan import first_case_per_loss
from arrayloss.conformance.runner import prepare_inputs
from arrayloss.core.registry import entries

torch = pytest.importorskip("torch")

CASES = first_case_per_loss(all_cases())
BACKENDS = [backend("numpy"), backend("torch")]
SPECS = {e.name: e.function.spec for e in entries() if hasattr(e.function, "spec")}


def _inputs(case, b):
    arrays, _ = prepare_inputs(case, b, "float64", tuple(case.inputs()))
    return arrays


@pytest.mark.parametrize("native", [True, False], ids=["native", "formula"])
@pytest.mark.parametrize("b", BACKENDS, ids=lambda b: b.name)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.loss)
def test_a_replayed_call_is_the_first_call(case, b, native):
    spec = SPECS[case.loss]
    spec._plans.clear()
    fn = arrayloss.get(case.loss)
    arrays = _inputs(case, b)
    with arrayloss.native_kernels(native):
        first = b.to_numpy(fn(*arrays, **case.options))
        remembered = len(spec._plans)
        again = b.to_numpy(fn(*arrays, **case.options))
        fresh = b.to_numpy(fn(*_inputs(case, b), **case.options))  # new arrays, same key
    assert remembered <= 1
    np.testing.assert_array_equal(again, first)
    np.testing.assert_array_equal(fresh, first)


@pytest.mark.parametrize("name", ["mean_squared_error", "sparse_categorical_crossentropy",
                                  "binary_crossentropy", "huber", "categorical_crossentropy"])
@pytest.mark.parametrize("b", BACKENDS, ids=lambda b: b.name)
def test_the_common_calls_are_remembered(name, b):
    case = next(c for c in CASES if c.loss == name)
    SPECS[name]._plans.clear()
    arrayloss.get(name)(*_inputs(case, b), **case.options)
    assert len(SPECS[name]._plans) == 1


@pytest.mark.parametrize("b", BACKENDS, ids=lambda b: b.name)
def test_a_remembered_shape_still_checks_every_other_call(b):
    x = b.asarray(np.linspace(-1.0, 1.0, 12).reshape(4, 3), "float64")
    labels = b.asarray(np.array([0, 2, 1, 2]), None)
    arrayloss.mse(x, x)
    arrayloss.scce(labels, x, from_logits=True)
    with pytest.raises(ValueError, match="reduction must be one of"):
        arrayloss.mse(x, x, reduction="abc")
    with pytest.raises(TypeError, match="unknown option"):
        arrayloss.mse(x, x, dleta=1.0)
    with pytest.raises(ValueError, match="must have the same shape"):
        arrayloss.mse(x[:, :2], x)
    with pytest.raises(TypeError, match="integer class labels"):
        arrayloss.scce(x[:, 0], x, from_logits=True)
    with pytest.raises(ValueError, match="one integer label per sample"):
        arrayloss.scce(labels[:3], x, from_logits=True)


def test_labels_of_another_dtype_or_with_their_class_axis_are_prepared_as_before():
    logits = torch.linspace(-2.0, 2.0, 12, dtype=torch.float64).reshape(4, 3)
    labels = torch.tensor([0, 2, 1, 2])
    expected = arrayloss.scce(labels, logits, from_logits=True)
    spec = SPECS["sparse_categorical_crossentropy"]
    spec._plans.clear()
    narrow = labels.to(torch.int32)  # cast to int64 on every call: not remembered
    assert torch.equal(arrayloss.scce(narrow, logits, from_logits=True), expected)
    assert len(spec._plans) == 0
    keras_style = labels[:, None]  # the class axis already there: passed as it is
    for _ in range(2):
        assert torch.equal(arrayloss.scce(keras_style, logits, from_logits=True), expected)
    assert len(spec._plans) == 1


def test_nothing_is_remembered_while_torch_compile_traces():
    spec = SPECS["mean_squared_error"]
    spec._plans.clear()
    compiled = torch.compile(lambda a, b: arrayloss.mse(a, b), fullgraph=True)
    a = torch.linspace(0.0, 1.0, 6).reshape(2, 3)
    assert torch.allclose(compiled(a, 2 * a), torch.mean(a**2))
    assert len(spec._plans) == 0
