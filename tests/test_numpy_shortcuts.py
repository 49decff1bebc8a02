"""The NumPy shortcuts of the stable primitives give the general form's values.

On NumPy a primitive may read its arrays on the host and skip a ``where`` that would
change nothing, or take one log instead of two (``core/stable.py``). array-api-strict
wraps the same NumPy arrays but is never read, so it always runs the general form: the two
must agree on data where the shortcut applies and on data where it must not (zeros,
infinities, NaN, floored probabilities), in float32 and float64. Every loss's conformance
cases run on both backends too (``python -m arrayloss check``).
"""

from __future__ import annotations

import array_api_strict
import numpy as np
import pytest

from arrayloss.core import stable
from arrayloss.core.norms import scaled_norm

DTYPES = ("float32", "float64")
RNG = np.random.default_rng(7)
PLAIN = RNG.uniform(0.05, 0.95, size=(4, 6))
SPECIAL = np.array([[0.0, -0.0, 1e-45, 1e-40, 1e-30, 0.5],
                    [1.0, 2.0, np.inf, -np.inf, np.nan, -3.0]])


def _both(values: np.ndarray, dtype: str) -> tuple[np.ndarray, object]:
    x = values.astype(dtype)
    return x, array_api_strict.asarray(x)


def _same(fast: object, general: object, *, exact: bool = True) -> None:
    fast_values = np.asarray(fast)
    general_values = np.asarray(general)
    assert fast_values.dtype == general_values.dtype
    if exact:
        np.testing.assert_array_equal(fast_values, general_values)
    else:
        # Within a few roundings of terms of size up to 1 (p·log p for p in [0, 1]).
        eps = float(np.finfo(fast_values.dtype).eps)
        np.testing.assert_allclose(fast_values, general_values, rtol=4 * eps, atol=4 * eps)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("data", [PLAIN, SPECIAL], ids=["plain", "special"])
def test_one_argument_primitives_agree(data: np.ndarray, dtype: str) -> None:
    with np.errstate(all="ignore"):
        x, strict = _both(data, dtype)
        for primitive in (stable.log_probability, stable.absolute_slope, stable.softplus):
            _same(primitive(x), primitive(strict))
        for fast, general in zip(stable.log_sigmoid_pair(x), stable.log_sigmoid_pair(strict),
                                 strict=True):
            _same(fast, general)
        _same(stable.replace_where(x == 0, -1.0, x),
              stable.replace_where(strict == 0, -1.0, strict))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("data", [PLAIN, SPECIAL], ids=["plain", "special"])
def test_products_with_logs_agree(data: np.ndarray, dtype: str) -> None:
    with np.errstate(all="ignore"):
        p, strict_p = _both(data, dtype)
        q, strict_q = _both(np.roll(data, 1), dtype)
        _same(stable.xlogy(p, q), stable.xlogy(strict_p, strict_q))
        _same(stable.times_log(p, np.log(q)),
              stable.times_log(strict_p, array_api_strict.log(strict_q)))
        # p·log(p/q) rounds once where p·log p - p·log q rounds three times.
        for axis in ((0,), tuple(range(p.ndim))[-1:]):
            _same(stable.relative_entropy(p, q, axis=axis),
                  stable.relative_entropy(strict_p, strict_q, axis=axis), exact=False)


def test_the_shortcuts_apply_only_where_nothing_changes() -> None:
    probabilities = PLAIN.copy()
    assert stable.nothing_floored(probabilities)
    assert not stable.nothing_floored(array_api_strict.asarray(probabilities))
    probabilities[0, 0] = 0.0
    assert not stable.nothing_floored(probabilities)
    assert stable.log_probability(probabilities)[0, 0] == stable.LOG_FLOOR
    # A skipped `where` returns the array itself; one that acts returns a new array.
    signs = np.sign(PLAIN - 0.5)
    assert stable.replace_where(signs == 0, -1.0, signs) is signs
    signs[1, 1] = 0.0
    assert stable.replace_where(signs == 0, -1.0, signs)[1, 1] == -1.0


def test_softplus_spelled_out_is_logaddexp() -> None:
    x = np.concatenate([np.linspace(-40.0, 40.0, 801), [-1e4, 1e4, 0.0, -0.0]])
    np.testing.assert_allclose(stable.softplus(x), np.logaddexp(x, 0.0), rtol=5e-16, atol=0)
    positive, negative = stable.log_sigmoid_pair(x)
    np.testing.assert_allclose(positive, -np.logaddexp(-x, 0.0), rtol=5e-16, atol=0)
    np.testing.assert_allclose(negative, -np.logaddexp(x, 0.0), rtol=5e-16, atol=0)


def test_norms_moved_beside_the_primitives_keep_their_values() -> None:
    x = np.array([[3e200, 4e200], [0.0, 0.0]])
    np.testing.assert_allclose(scaled_norm(x, axis=-1), [5e200, 0.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_relative_entropy_of_zero_targets_leaves_the_shortcut(dtype: str) -> None:
    p = PLAIN.copy()
    p[0, 0], p[1, 2], p[2, 3] = 0.0, -0.5, np.inf  # 0·log 0, a negative, an infinity
    x, strict_x = _both(p, dtype)
    q, strict_q = _both(np.roll(PLAIN, 1), dtype)
    with np.errstate(all="ignore"):
        fast = stable.relative_entropy(x, q, axis=(1,))
        _same(fast, stable.relative_entropy(strict_x, strict_q, axis=(1,)), exact=False)
    assert np.isfinite(fast[0]) and np.isnan(fast[1]) and fast[2] == np.inf
