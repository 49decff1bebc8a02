"""The suite catches real mistakes: deliberately broken losses, injected into the matrix,
fail exactly on the backends and checks where they are wrong, and pass everywhere else.

- ``guard_torch_only`` calls ``xp.sigmoid``, a name only the PyTorch namespace has;
- ``guard_python_if`` branches in Python on array values (fine eagerly, wrong under
  ``jax.jit``, ``vmap``, ``torch.compile`` and on lazy Dask);
- ``guard_nan_gradient`` computes ``p·log p`` with a single ``where``: right values, NaN
  gradient at ``p = 0``;
- ``guard_kink_gradient`` uses ``xp.abs``: right values, but PyTorch (``abs'(0) = 0``) and
  JAX (``abs'(0) = 1``) disagree on the gradient at a tie.
"""

from __future__ import annotations

import numpy as np
import pytest

from arrayloss import define_loss
from arrayloss.conformance import available_backends
from arrayloss.conformance.cases import Case
from arrayloss.conformance.gradients import (
    check_gradient,
    check_gradient_agreement,
    gradient_backends,
)
from arrayloss.conformance.matrix import run_matrix
from arrayloss.conformance.runner import LIGHT_VARIANTS, check_dtypes
from arrayloss.conformance.transforms import available_transforms
from arrayloss.core import registry as _registry

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0·log 0 on purpose

BACKENDS = available_backends()
NAMES = {b.name for b in BACKENDS}
AUTODIFF = gradient_backends(BACKENDS)
SHAPE = (6, 5)


@pytest.fixture(scope="module")
def broken():
    """The broken losses, registered for this module only."""
    saved = dict(_registry._ENTRIES), dict(_registry._LOOKUP)

    @define_loss("guard_torch_only", family="guard")
    def guard_torch_only(xp, y_true, y_pred):
        return (xp.sigmoid(y_pred) - y_true) ** 2

    @define_loss("guard_python_if", family="guard")
    def guard_python_if(xp, y_true, y_pred):
        if xp.all(y_true == 0):  # a Python branch on array values
            return xp.zeros_like(y_pred)
        return (y_pred - y_true) ** 2

    @define_loss("guard_nan_gradient", family="guard")
    def guard_nan_gradient(xp, y_true, y_pred):
        # One `where` only: the untaken branch 0·log(0) has a NaN derivative.
        return xp.where(y_pred > 0, y_pred * xp.log(y_pred), xp.zeros_like(y_pred)) - (
            y_true * y_pred)

    @define_loss("guard_kink_gradient", family="guard")
    def guard_kink_gradient(xp, y_true, y_pred):
        return xp.abs(y_pred - y_true)

    def pair(rng):
        return rng.normal(size=SHAPE), rng.normal(size=SHAPE)

    def with_zeros(rng):
        p = rng.uniform(0.1, 1.0, size=SHAPE)
        p[::2, 1] = 0.0
        return rng.normal(size=SHAPE), p

    def ties(rng):
        y = rng.normal(size=SHAPE)
        p = y + rng.normal(size=SHAPE)
        p[:, :2] = y[:, :2]
        return y, p

    def entropy(y, p):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (np.where(p > 0, p * np.log(p), 0.0) - y * p).mean(-1)

    cases = {
        "torch_only": Case("guard_torch_only", pair,
                           lambda y, p: ((1 / (1 + np.exp(-p)) - y) ** 2).mean(-1),
                           function=guard_torch_only),
        "python_if": Case("guard_python_if", pair, lambda y, p: ((p - y) ** 2).mean(-1),
                          function=guard_python_if),
        "nan_gradient": Case("guard_nan_gradient", with_zeros, entropy, smooth=False,
                             function=guard_nan_gradient),
        "kink_gradient": Case("guard_kink_gradient", ties, lambda y, p: np.abs(p - y).mean(-1),
                              smooth=False, function=guard_kink_gradient),
    }
    yield cases
    _registry._ENTRIES.clear()
    _registry._ENTRIES.update(saved[0])
    _registry._LOOKUP.clear()
    _registry._LOOKUP.update(saved[1])


def _value_failures(case: Case) -> dict[str, str]:
    failures = {}
    for b in BACKENDS:
        try:
            check_dtypes(case, b, (("float64", LIGHT_VARIANTS), ("float32", LIGHT_VARIANTS)))
        except Exception as error:
            failures[b.name] = f"{type(error).__name__}: {error}"
    return failures


def _transform_failures(case: Case) -> dict[str, str]:
    failures = {}
    for t in available_transforms():
        try:
            t.check(case)
        except Exception as error:
            failures[t.name] = f"{type(error).__name__}: {error}"
    return failures


def _gradient_failures(case: Case) -> dict[str, str]:
    failures = {}
    for b in AUTODIFF:
        try:
            check_gradient(case, b)
        except Exception as error:
            failures[b.name] = f"{type(error).__name__}: {error}"
    return failures


def test_torch_only_function_fails_everywhere_but_torch(broken):
    failures = _value_failures(broken["torch_only"])
    assert set(failures) == NAMES - {"torch", "torch_formula", "torch_cuda"}
    assert all("sigmoid" in message for message in failures.values())


def test_python_if_on_array_values_fails_where_values_are_traced(broken):
    case = broken["python_if"]
    assert set(_value_failures(case)) == NAMES & {"jax_jit", "dask"}
    transforms = _transform_failures(case)
    traced = {"jax.vmap", "torch.compile", "torch.func.vmap", "dask.lazy"}
    assert set(transforms) == traced & {t.name for t in available_transforms()}
    assert "compute()" in transforms.get("dask.lazy", "compute()")
    if "jax_jit" in NAMES:
        assert "TracerBoolConversionError" in _gradient_failures(case)["jax_jit"]


@pytest.mark.skipif(not AUTODIFF, reason="needs torch or jax")
def test_nan_gradient_is_caught_on_every_autodiff_backend(broken):
    case = broken["nan_gradient"]
    assert _value_failures(case) == {}  # the values are right everywhere
    failures = _gradient_failures(case)
    assert set(failures) == {b.name for b in AUTODIFF}
    assert all("non-finite gradient" in m for m in failures.values())


@pytest.mark.skipif(len(AUTODIFF) < 2, reason="needs torch and jax")
def test_backend_dependent_subgradient_is_caught_by_agreement(broken):
    case = broken["kink_gradient"]
    assert _value_failures(case) == {}
    assert _gradient_failures(case) == {}  # finite on each backend alone
    with pytest.raises(AssertionError, match="differ between torch and jax_jit"):
        check_gradient_agreement(case, AUTODIFF)


def test_correct_loss_in_the_same_harness_passes_everywhere(broken):
    """The control: the harness itself does not fail a correct loss."""
    from arrayloss.conformance import all_cases

    (mae_ties,) = [c for c in all_cases() if c.id == "mean_absolute_error[ties]"]
    assert _value_failures(mae_ties) == {}
    assert _gradient_failures(mae_ties) == {}
    if len(AUTODIFF) >= 2:
        check_gradient_agreement(mae_ties, AUTODIFF)


def test_broken_losses_fail_in_the_report(broken):
    matrix = run_matrix(cases=list(broken.values()), backends=["numpy", "torch", "jax"],
                        peers=False, transforms=False)
    failed = {(r.loss, r.kind, r.target) for r in matrix.failed}
    assert ("guard_torch_only", "values", "numpy") in failed
    assert ("guard_torch_only", "values", "torch") not in failed
    assert ("guard_python_if", "values", "jax_jit") in failed
    assert ("guard_python_if", "values", "jax") not in failed
    assert any(k == ("guard_nan_gradient", "gradient", "torch") for k in failed)
    assert any(k[:2] == ("guard_kink_gradient", "gradient_agreement") for k in failed)
    assert not any(k[0] == "guard_kink_gradient" and k[1] == "values" for k in failed)
