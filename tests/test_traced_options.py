"""Loss options given as JAX values (SPEC section 7): under ``jax.jit`` a number option
(``delta``, ``q``, ``gamma``, ``margin``, ``temperature``, ``label_smoothing``, ...) may be
traced, and ``jax.grad`` differentiates the loss with respect to it. A property over the
whole registry: every number option of every loss's first conformance row, except the
options by which the formula chooses its form in Python, which refuse a traced value with a
clear TypeError."""

from __future__ import annotations

import numbers

import numpy as np
import pytest

import arrayloss
from arrayloss.conformance.cases import all_cases
from arrayloss.core.options import Interval, StaticInterval, option_checks

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy

# Options whose value picks the formula's form in Python (the deviance's power, the norm's
# order): refused when traced.
STATIC = {("tweedie_deviance", "power"), ("triplet_margin", "p")}


def _number_options():
    rows = {}
    for case in all_cases():
        rows.setdefault(case.loss, case)
    found = []
    for name, case in rows.items():
        function = arrayloss.get(name)
        spec = getattr(function, "spec", None)
        if spec is None:
            continue
        checks = option_checks(spec.body)
        values = {**spec.options, **case.options}
        for option, value in values.items():
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                continue
            rule = checks.get(option)
            if rule is None or isinstance(rule, StaticInterval) or not isinstance(
                    rule, Interval):
                continue
            if not np.isfinite(value):
                continue
            found.append(pytest.param(case, option, float(value), id=f"{name}-{option}"))
    return found


NUMBER_OPTIONS = _number_options()


def test_the_property_covers_the_options_the_frameworks_trace():
    covered = {(p.values[0].loss, p.values[1]) for p in NUMBER_OPTIONS}
    for pair in [("huber", "delta"), ("quantile", "q"), ("binary_focal_crossentropy", "gamma"),
                 ("categorical_focal_crossentropy", "gamma"), ("hinge_embedding", "margin"),
                 ("triplet_margin", "margin"), ("ntxent", "temperature"),
                 ("sparse_categorical_crossentropy", "label_smoothing"),
                 ("smooth_l1", "beta"), ("multiclass_hinge", "margin")]:
        assert pair in covered, pair


@pytest.mark.parametrize(("case", "option", "value"), NUMBER_OPTIONS)
def test_a_traced_option_gives_the_value_and_its_gradient(case, option, value):
    function = arrayloss.get(case.loss)
    inputs = [jnp.asarray(x) for x in case.inputs()]

    def loss(t):
        return function(*inputs, **{**case.options, option: t})

    expected = float(loss(value))
    traced = jax.jit(loss)(jnp.asarray(value))
    np.testing.assert_allclose(float(traced), expected, rtol=1e-12, atol=1e-14)
    slope = float(jax.grad(loss)(jnp.asarray(value)))
    step = 1e-6 * max(1.0, abs(value))
    # JAX numbers, unchecked: a central difference also at the end of an option's interval.
    above, below = (float(loss(jnp.asarray(value + d))) for d in (step, -step))
    # One-sided where the loss has no value below the option's range (a density's α ≥ 0).
    difference = (above - below) / (2 * step) if np.isfinite(below) else (
        (above - expected) / step)
    np.testing.assert_allclose(slope, difference, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(("loss", "option", "value", "inputs"), [
    ("tweedie_deviance", "power", 1.5, (np.ones(3), np.ones(3))),
    ("triplet_margin", "p", 2.0, (np.ones((2, 3)), np.zeros((2, 3)), np.ones((2, 3)))),
])
def test_an_option_that_picks_the_form_refuses_a_traced_value(loss, option, value, inputs):
    assert (loss, option) in STATIC
    function = arrayloss.get(loss)
    arrays = [jnp.asarray(x) for x in inputs]
    with pytest.raises(TypeError, match=f"{option} chooses the form of the formula"):
        jax.jit(lambda t: function(*arrays, **{option: t}))(jnp.asarray(value))
    # A concrete JAX number is read.
    np.testing.assert_allclose(float(function(*arrays, **{option: jnp.asarray(value)})),
                               float(function(*arrays, **{option: value})))


def test_the_closed_form_gradient_takes_a_traced_option():
    y, p = np.array([0.0, 1.0, 3.0]), np.array([0.5, -1.0, 0.0])

    def gradient(delta):
        return arrayloss.gradient("huber", jnp.asarray(y), jnp.asarray(p), delta=delta)

    np.testing.assert_allclose(np.asarray(jax.jit(gradient)(jnp.asarray(2.0))),
                               arrayloss.gradient("huber", y, p, delta=2.0), rtol=1e-12)
