"""Conformance rows of Barron's general and adaptive robust loss and of the named robust
losses of kornia and SciPy.

The references are plain float64 NumPy (and SciPy's adaptive quadrature for the
partition function), written from Barron's paper, kornia's and SciPy's documented
formulas, never calling arrayloss: ``ρ`` by its definition with ``expm1``/``log1p`` (the
algebraic identity ``(1 + v)^p - 1 = expm1(p·log1p v)``, without which the reference itself
would lose digits at α = 1e-6), ``Z(α)`` by ``scipy.integrate.quad`` on ``[0, ∞)`` or by
its closed form at α = 0, 1, 2 (``π√2``, ``2e·K₁(1)``, ``√(2π)``). Per-sample values
average the last axis.
"""

from __future__ import annotations

import math

import numpy as np

from .cases import case

SHAPE = (6, 5)
TINY = 1e-6  # the distance from α = 0 and α = 2 of the rows "near" them


def _last(values: np.ndarray) -> np.ndarray:
    return values.mean(axis=-1) if values.ndim >= 2 else values


def _pair(rng: np.random.Generator, spread: float = 2.0):
    return rng.normal(size=SHAPE), spread * rng.normal(size=SHAPE)


def _small(rng: np.random.Generator):
    """Errors below 2 in size: α = +∞ grows like exp(½x²)."""
    return rng.normal(size=SHAPE), rng.uniform(-1.0, 1.0, size=SHAPE)


def _large(rng: np.random.Generator):
    """Errors of ±1e3 and ±1e4 beside ordinary ones (representable in float16)."""
    y = rng.normal(size=SHAPE)
    return y, y + rng.choice([-1e4, -1e3, -0.5, 0.0, 2.0, 1e3, 1e4], size=SHAPE)


def barron_rho(x: np.ndarray, alpha: float, c: float = 1.0) -> np.ndarray:
    """Barron's ρ(x, α, c), each special value by its own limit."""
    u = (x / c) ** 2
    if alpha == 2.0:
        return 0.5 * u
    if alpha == 0.0:
        return np.log1p(0.5 * u)
    if alpha == -math.inf:
        return -np.expm1(-0.5 * u)
    if alpha == math.inf:
        return np.expm1(0.5 * u)
    b = abs(alpha - 2.0)
    return b / alpha * np.expm1(0.5 * alpha * np.log1p(u / b))


def partition(alpha: float) -> float:
    """``Z(α) = ∫ exp(-ρ(x, α, 1)) dx`` over the real line."""
    if alpha == 0.0:
        return math.pi * math.sqrt(2.0)
    if alpha == 2.0:
        return math.sqrt(2.0 * math.pi)
    if alpha == 1.0:
        from scipy.special import k1  # type: ignore[import-untyped]

        return 2.0 * math.e * float(k1(1.0))
    from scipy.integrate import quad  # type: ignore[import-untyped]

    def density(x: float) -> float:
        with np.errstate(over="ignore"):  # ρ = inf far out at α = +∞: the density is 0
            return float(np.exp(-barron_rho(np.asarray(x), alpha)))

    pieces = (0.0, 1.0, 4.0, 16.0, math.inf)
    total = sum(quad(density, lo, hi, epsabs=0.0, epsrel=1e-13, limit=400)[0]
                for lo, hi in zip(pieces, pieces[1:], strict=False))
    return 2.0 * total


def ref_general_robust(y, p, alpha=1.0, scale=1.0):
    return _last(barron_rho(p - y, alpha, scale))


def ref_general_robust_nll(y, p, alpha=1.0, scale=1.0):
    rho = barron_rho(p - y, alpha, scale)
    return _last(rho + math.log(scale) + math.log(partition(alpha)))


def ref_charbonnier(y, p, scale=1.0):
    return _last(np.sqrt(((p - y) / scale) ** 2 + 1.0) - 1.0)


def ref_cauchy(y, p, scale=1.0):
    return _last(np.log(0.5 * ((p - y) / scale) ** 2 + 1.0))


def ref_geman_mcclure(y, p, scale=1.0):
    u = ((p - y) / scale) ** 2
    return _last(2.0 * u / (u + 4.0))


def ref_welsch(y, p, scale=1.0):
    return _last(1.0 - np.exp(-0.5 * ((p - y) / scale) ** 2))


def ref_soft_l1(y, p, scale=1.0):
    # SciPy: ½c²·ρ(z), ρ(z) = 2(√(1 + z) - 1), z = (e/c)².
    z = ((p - y) / scale) ** 2
    return _last(0.5 * scale**2 * 2.0 * (np.sqrt(1.0 + z) - 1.0))


def ref_arctan(y, p, scale=1.0):
    z = ((p - y) / scale) ** 2
    return _last(0.5 * scale**2 * np.arctan(z))


# -- the general loss at every special α, next to 0 and 2, and at large errors ------------
for _alpha in (-math.inf, -2.0, -TINY, 0.0, TINY, 0.5, 1.0, 2.0 - TINY, 2.0, 2.0 + TINY, 4.0):
    case("general_robust", _pair, ref_general_robust, options={"alpha": _alpha})
case("general_robust", _small, ref_general_robust, options={"alpha": math.inf})
case("general_robust", _pair, ref_general_robust, options={"alpha": 1.5, "scale": 0.3})
case("general_robust", _pair, ref_general_robust, options={"alpha": -5.0, "scale": 2.5})
for _alpha in (-math.inf, -2.0, 0.0, 1.0, 2.0 - TINY, 2.0):
    # Finite differences of values of 5e7 (α near 2, errors of 1e4) lose their digits:
    # there the gradients are checked against each other and the closed form only.
    case("general_robust", _large, ref_general_robust, options={"alpha": _alpha},
         label="large", smooth=_alpha < 1.5)
# The adaptive loss: ρ + log c + log Z(α), α ≥ 0.
for _alpha in (0.0, TINY, 1.0, 2.0 - TINY, 2.0, 3.0):
    case("general_robust_nll", _pair, ref_general_robust_nll, options={"alpha": _alpha})
case("general_robust_nll", _small, ref_general_robust_nll,
     options={"alpha": math.inf, "scale": 1.5})
case("general_robust_nll", _pair, ref_general_robust_nll, options={"alpha": 0.5, "scale": 0.4})
case("general_robust_nll", _large, ref_general_robust_nll, options={"alpha": 1.0},
     label="large")

# -- the named special cases ----------------------------------------------------------------
for _name, _ref in (("charbonnier", ref_charbonnier), ("cauchy", ref_cauchy),
                    ("geman_mcclure", ref_geman_mcclure), ("welsch", ref_welsch),
                    ("soft_l1", ref_soft_l1), ("arctan", ref_arctan)):
    case(_name, _pair, _ref)
    case(_name, _pair, _ref, options={"scale": 0.6})
    case(_name, _large, _ref, options={"scale": 3.0}, label="large")
    case(_name, lambda rng: (np.zeros(SHAPE), np.zeros(SHAPE)), _ref, label="zeros")
