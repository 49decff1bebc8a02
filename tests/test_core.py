"""The shared rules of SPEC sections 1, 3, 4, 5 and 9, checked through public losses."""

from __future__ import annotations

import inspect

import array_api_strict
import numpy as np
import pytest

import arrayloss

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
jnp = jax.numpy
jax.config.update("jax_enable_x64", True)

Y = np.array([[0.0, 1.0, 2.0], [1.0, -1.0, 0.5]])
P = np.array([[0.5, 1.0, 1.0], [0.0, -2.0, 0.5]])


# -- namespace and device (section 3) ------------------------------------------------------
def test_numpy_and_python_targets_are_converted_to_the_prediction_library():
    pred = torch.tensor(P)
    for target in (Y, Y.tolist()):
        out = arrayloss.mse(target, pred)
        assert isinstance(out, torch.Tensor) and out.dtype == torch.float64
        assert out.item() == pytest.approx(np.mean((P - Y) ** 2))


def test_numpy_prediction_beside_a_jax_target_computes_in_jax():
    out = arrayloss.mae(jnp.asarray(Y), P)
    assert isinstance(out, jax.Array)


def test_two_foreign_libraries_are_a_type_error_naming_both():
    with pytest.raises(TypeError, match=r"y_pred is a torch array and y_true is a jax array"):
        arrayloss.mse(jnp.asarray(Y), torch.tensor(P))


def test_no_array_at_all_computes_in_numpy():
    out = arrayloss.mse([1.0, 2.0], [1.0, 4.0])
    assert isinstance(out, np.ndarray) and out.shape == () and float(out) == 2.0


def test_result_is_an_array_not_a_numpy_scalar():
    out = arrayloss.huber(Y, P)
    assert type(out) is np.ndarray and out.ndim == 0


def test_non_array_object_is_a_type_error():
    with pytest.raises(TypeError, match="y_pred must be an array.*got an object of type object"):
        arrayloss.mse(Y, object())


def test_arrays_stay_on_a_non_default_device():
    device = array_api_strict.Device("device1")
    y = array_api_strict.asarray(Y, device=device)
    p = array_api_strict.asarray(P, device=device)
    out = arrayloss.cosine_similarity(y, p, sample_weight=array_api_strict.asarray(
        [1.0, 2.0], device=device))
    assert out.device == device


def _first_case_per_loss():
    from arrayloss.conformance import all_cases

    first = {}
    for case in all_cases():
        first.setdefault(case.loss, case)
    return list(first.values())


@pytest.mark.parametrize("case", _first_case_per_loss(), ids=lambda c: c.loss)
def test_every_loss_keeps_torch_meta_tensors_on_the_meta_device(case):
    data = case.inputs()
    floats = case.float_indices(len(data))
    arrays = [torch.asarray(x, dtype=torch.float32 if i in floats else None, device="meta")
              for i, x in enumerate(data)]
    loss = arrayloss.get(case.loss, **case.options)
    per_sample = loss(*arrays, reduction="none")
    expected_shape = np.shape(case.reference(*data, **case.options))
    assert per_sample.device.type == "meta" and per_sample.dtype == torch.float32
    assert tuple(per_sample.shape) == expected_shape
    assert loss(*arrays).device.type == "meta"


def test_penalties_keep_the_device_and_library():
    weights = [torch.empty(3, 2, device="meta"), torch.empty(2, device="meta")]
    for penalty in (arrayloss.l1, arrayloss.l2, arrayloss.l1_l2):
        out = penalty(weights)
        assert out.device.type == "meta" and out.shape == ()


# -- dtype policy (section 3) ------------------------------------------------------------
@pytest.mark.parametrize("half", ["float16", "bfloat16"])
def test_half_precision_is_computed_and_returned_in_float32(half):
    y = torch.zeros(4, dtype=getattr(torch, half))
    p = torch.full((4,), 300.0, dtype=getattr(torch, half))
    out = arrayloss.mse(y, p)
    assert out.dtype == torch.float32 and out.item() == 90000.0  # float16 would overflow


def test_integer_prediction_uses_the_default_float_dtype():
    assert arrayloss.mse(torch.tensor([1, 2]), torch.tensor([1, 4])).dtype == torch.float32
    assert arrayloss.mse(np.array([1, 2]), np.array([1, 4])).dtype == np.float64


def test_integer_targets_are_cast_explicitly_on_array_api_strict():
    y = array_api_strict.asarray([1, 2], dtype=array_api_strict.int64)
    p = array_api_strict.asarray([1.0, 4.0], dtype=array_api_strict.float32)
    out = arrayloss.mse(y, p)
    assert out.dtype == array_api_strict.float32 and float(out) == 2.0


def test_complex_prediction_is_a_type_error():
    with pytest.raises(TypeError, match="y_pred must be real; got an array of dtype complex128"):
        arrayloss.mse(Y, P.astype(complex))


# -- shapes (section 4) ------------------------------------------------------------------
def test_trailing_unit_axis_is_reconciled_not_broadcast():
    y = np.arange(4.0)
    p = np.arange(4.0)[:, None] + 1.0
    assert arrayloss.mse(y, p, reduction="none").shape == (4,)
    assert float(arrayloss.mse(y, p)) == 1.0
    assert float(arrayloss.mse(p, y)) == 1.0


def test_scalar_target_broadcasts():
    assert float(arrayloss.mae(0.0, np.array([1.0, -3.0]))) == 2.0


def test_mismatched_shapes_state_both_shapes():
    with pytest.raises(ValueError, match=r"y_true.shape=\(4,\) and y_pred.shape=\(4, 10\)"):
        arrayloss.mse(np.zeros(4), np.zeros((4, 10)))


def test_axis_selects_the_averaged_axes():
    y, p = np.zeros((2, 3, 4)), np.ones((2, 3, 4))
    assert arrayloss.mse(y, p, reduction="none").shape == (2, 3)
    assert arrayloss.mse(y, p, axis=(1, 2), reduction="none").shape == (2,)
    assert arrayloss.mse(y, p, axis=(), reduction="none").shape == (2, 3, 4)
    with pytest.raises(ValueError, match=r"axis=3 is out of range for inputs with 3 dim"):
        arrayloss.mse(y, p, axis=3)


# -- reductions, weights and masks (section 5) ---------------------------------------------
def test_reductions_follow_the_spec_formulas():
    per_sample = np.mean((P - Y) ** 2, axis=-1)
    w, m = np.array([2.0, 0.5]), np.array([True, False])
    assert np.allclose(arrayloss.mse(Y, P, reduction="none"), per_sample)
    assert np.isclose(arrayloss.mse(Y, P, reduction="sum", sample_weight=w), per_sample @ w)
    assert np.isclose(arrayloss.mse(Y, P, sample_weight=w), per_sample @ w / 2)
    assert np.isclose(arrayloss.mse(Y, P, sample_weight=w, mask=m), 2 * per_sample[0])
    assert np.isclose(arrayloss.mse(Y, P, sample_weight=w, reduction="weighted_mean"),
                      per_sample @ w / w.sum())
    assert np.allclose(arrayloss.mse(Y, P, sample_weight=w, mask=m, reduction="none"),
                       [2 * per_sample[0], 0.0])


@pytest.mark.parametrize("reduction", ["mean", "weighted_mean", "sum"])
def test_a_mean_over_nothing_is_zero(reduction):
    assert float(arrayloss.mse(np.zeros((0, 3)), np.zeros((0, 3)), reduction=reduction)) == 0
    assert float(arrayloss.mse(Y, P, mask=np.zeros(2, bool), reduction=reduction)) == 0
    assert float(arrayloss.mse(Y, P, sample_weight=np.zeros(2), reduction=reduction)) == 0


def test_masked_out_nan_does_not_poison_the_result_or_gradient():
    p = torch.tensor([[1.0, float("nan")], [2.0, 3.0]], requires_grad=True)
    out = arrayloss.mse(torch.zeros(2, 2), p, mask=torch.tensor([False, True]))
    out.backward()
    assert out.item() == pytest.approx(6.5)
    assert torch.isfinite(p.grad[1]).all()


def test_nan_in_an_input_gives_nan():
    p = P.copy()
    p[0, 0] = np.nan
    assert np.isnan(arrayloss.huber(Y, p))


def test_leading_axis_weights_apply_to_every_element_of_a_sample():
    y, p = np.zeros((2, 3, 4)), np.ones((2, 3, 4))
    out = arrayloss.mse(y, p, sample_weight=np.array([1.0, 3.0]), reduction="none")
    assert np.array_equal(out, [[1.0] * 3, [3.0] * 3])
    with pytest.raises(ValueError, match=r"sample_weight.shape=\(3,\) for per-sample values "
                                         r"of shape \(2, 3\)"):
        arrayloss.mse(y, p, sample_weight=np.ones(3))


def test_unknown_reduction_lists_the_allowed_ones():
    with pytest.raises(ValueError, match="reduction must be one of 'mean', 'sum', "
                                         "'weighted_mean', 'none', 'partial_mean', "
                                         "'partial_weighted_mean'; got 'avg'"):
        arrayloss.mse(Y, P, reduction="avg")


# -- options and names (sections 1 and 9) ----------------------------------------------------
@pytest.mark.parametrize("loss, options, message", [
    ("huber", {"delta": -1.0}, r"delta must be in \(0, inf\]; got -1.0"),
    ("huber", {"delta": "big"}, "delta must be a real number; got 'big'"),
    ("quantile", {"q": 1.0}, r"q must be in \(0, 1\); got 1.0"),
    ("quantile", {"q": 0.0}, r"q must be in \(0, 1\); got 0.0"),
    ("tukey_biweight", {"c": 0}, r"c must be in \(0, inf\]; got 0.0"),
    ("msle", {"clip_negative": 1}, "clip_negative must be True or False; got 1"),
    ("gaussian_nll", {"eps": 0.0}, r"eps must be in \(0, inf\]; got 0.0"),
])
def test_bad_option_values_restate_the_value(loss, options, message):
    arrays = (Y, P, np.ones_like(P)) if loss == "gaussian_nll" else (Y, P)
    error = TypeError if "real number" in message or "True or False" in message else ValueError
    with pytest.raises(error, match=message):
        arrayloss.get(loss)(*arrays, **options)


def test_unknown_option_names_the_allowed_options():
    with pytest.raises(TypeError, match="mse got unknown option|mean_squared_error.. got "
                                        "unknown option.*delta.*its options are: axis"):
        arrayloss.mse(Y, P, delta=1.0)
    with pytest.raises(TypeError, match=r"huber\(\) got unknown option\(s\) detla; its "
                                        "options are: delta"):
        arrayloss.get("huber", detla=2.0)


def test_wrong_number_of_arrays_is_a_type_error():
    with pytest.raises(TypeError, match=r"gaussian_nll\(\) takes 3 positional array"):
        arrayloss.gaussian_nll(Y, P)


def test_get_resolves_names_aliases_and_callables():
    assert arrayloss.get("Mean_Squared_Error") is arrayloss.mean_squared_error
    assert arrayloss.get("pinball_loss") is arrayloss.quantile
    assert arrayloss.get(arrayloss.huber) is arrayloss.huber
    bound = arrayloss.get("huber", delta=0.1)
    assert bound.__name__ == "huber"
    assert float(bound(Y, P)) == float(arrayloss.huber(Y, P, delta=0.1))
    with pytest.raises(ValueError, match=r"unknown loss 'hubber'; did you mean 'huber'"):
        arrayloss.get("hubber")
    with pytest.raises(TypeError, match="identifier must be a loss name or a callable"):
        arrayloss.get(3)


def test_every_public_loss_is_reachable_by_name_and_alias():
    names = arrayloss.available()
    assert len(names) == len(set(names))
    for name in names:
        assert arrayloss.get(name) is getattr(arrayloss, name)
    for alias, name in [("mse", "mean_squared_error"), ("mae", "mean_absolute_error"),
                        ("mape", "mean_absolute_percentage_error"), ("logcosh", "log_cosh"),
                        ("msle", "mean_squared_logarithmic_error"), ("tukey", "tukey_biweight"),
                        ("huber_loss", "huber"), ("cosine_proximity", "cosine_similarity"),
                        ("elastic_net", "l1_l2"), ("pinball", "quantile")]:
        assert arrayloss.get(alias) is arrayloss.get(name) is getattr(arrayloss, alias)
    with pytest.raises(ValueError, match="family must be one of"):
        arrayloss.available("nonsense")


def test_signatures_are_positional_data_and_keyword_options():
    parameters = inspect.signature(arrayloss.huber).parameters
    kinds = {name: p.kind for name, p in parameters.items()}
    assert kinds["y_true"] is kinds["y_pred"] is inspect.Parameter.POSITIONAL_ONLY
    assert all(kinds[o] is inspect.Parameter.KEYWORD_ONLY
               for o in ("delta", "axis", "sample_weight", "mask", "reduction"))


def test_inputs_are_never_written_to():
    arrays = [Y.copy(), P.copy(), np.ones_like(P)]
    weight = np.array([1.0, 2.0])
    for name in arrayloss.available("regression"):
        count = 3 if name == "gaussian_nll" else 2
        arrayloss.get(name)(*arrays[:count], sample_weight=weight, reduction="none")
    assert np.array_equal(arrays[0], Y) and np.array_equal(arrays[1], P)
    assert np.array_equal(weight, [1.0, 2.0])
