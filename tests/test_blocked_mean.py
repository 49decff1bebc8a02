"""NumPy's plain mean of a large batch in blocks of rows (core/blocked_mean.py): a property
over the registry. With blocks of a few elements, every element-wise and class-axis loss's
``"mean"`` on its conformance inputs is the mean of its ``"none"`` values (which take the
whole-array path), in float64 and float32, NaN included; the other calls keep the
whole-array path."""

from __future__ import annotations

import numpy as np
import pytest

import arrayloss
from arrayloss.conformance.cases import all_cases
from arrayloss.core import blocked_mean, define

ROWS = {}
for _case in all_cases():
    _spec = getattr(arrayloss.get(_case.loss), "spec", None)
    if _spec is not None and _spec.kind in ("elementwise", "axis"):
        ROWS.setdefault(_case.loss, _case)


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(blocked_mean, "BLOCK_ELEMENTS", 2)
    monkeypatch.setattr(blocked_mean, "BLOCKED_FROM", 8)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", list(ROWS.values()), ids=lambda c: c.loss)
def test_the_blocked_mean_is_the_mean_of_the_values(case, dtype, small_blocks):
    inputs = [x.astype(dtype) if i in case.float_indices(len(case.inputs())) else x
              for i, x in enumerate(case.inputs())]
    loss = arrayloss.get(case.loss, **case.options)
    calls = []
    real = blocked_mean.blocked_numpy_mean

    def spy(xp, body, data, body_axis, options, per_sample):
        result = real(xp, body, data, body_axis, options, per_sample)
        rows = data[-1].shape[0] if data[-1].ndim else 0
        splits = rows >= 2 and all(x.ndim and x.shape[0] == rows for x in data) and (
            0 not in body_axis.get("axis", ()))
        calls.append((result is not NotImplemented, splits))
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(define, "blocked_numpy_mean", spy)
        mean = loss(*inputs)
    (taken, splits), = calls
    assert taken == splits  # every call whose rows split takes the blocked path
    values = np.asarray(loss(*inputs, reduction="none"), dtype=np.float64)
    expected = values.mean() if values.size else 0.0
    assert np.asarray(mean).dtype == np.asarray(loss(*inputs, reduction="none")).dtype
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(float(mean), expected, rtol=rtol, atol=1e-30)


def test_the_blocked_path_is_numpy_only_and_keeps_nan(small_blocks):
    y, p = np.zeros((8, 3)), np.ones((8, 3))
    p[5, 1] = np.nan
    assert np.isnan(arrayloss.mse(y, p))
    torch = pytest.importorskip("torch")
    assert torch.isnan(arrayloss.mse(torch.tensor(y), torch.tensor(p)))
    # A weighted or masked mean, a sum and the per-sample values take the whole-array path.
    w = np.arange(8.0)
    np.testing.assert_allclose(arrayloss.mse(y, np.ones((8, 3)), sample_weight=w,
                                             reduction="weighted_mean"), 1.0)
