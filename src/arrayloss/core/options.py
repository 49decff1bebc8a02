"""Validation of static option values, with messages that restate what was received.

Only Python values are checked here, never array contents: a loss must stay traceable
under ``jax.jit`` and ``torch.compile`` (SPEC section 7), so data-dependent checks are out.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

__all__ = [
    "REDUCTIONS",
    "StaticInterval",
    "Flag",
    "Fraction",
    "IgnoreIndex",
    "IntChoice",
    "Interval",
    "NonNegative",
    "OpenFraction",
    "OptionCheck",
    "Positive",
    "StrChoice",
    "TweediePower",
    "check_axis",
    "check_bool",
    "check_number",
    "check_reduction",
    "equals_number",
    "is_jax_scalar",
    "option_checks",
    "static_number",
]

REDUCTIONS = ("mean", "sum", "weighted_mean", "none", "partial_mean", "partial_weighted_mean")


def check_reduction(reduction: Any) -> str:
    if reduction not in REDUCTIONS:
        allowed = ", ".join(repr(r) for r in REDUCTIONS)
        raise ValueError(f"reduction must be one of {allowed}; got {reduction!r}")
    return reduction


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Check a real Python (or NumPy scalar) number against an interval.

    ``low_open``/``high_open`` exclude the bound itself: ``check_number("q", q, low=0,
    high=1, low_open=True, high_open=True)`` accepts exactly ``0 < q < 1``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a real number; got {value!r} of type {type(value).__name__}"
        )
    value = float(value)  # ok: a static option, never an array
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    interval = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
    too_low = low is not None and (value < low or (low_open and value == low))
    too_high = high is not None and (value > high or (high_open and value == high))
    # NaN is the one value unequal to itself (math.isnan refuses the symbolic float that
    # torch.compile makes of an option which changes between compiled calls).
    if value != value or too_low or too_high:  # noqa: PLR0124
        raise ValueError(f"{name} must be in {interval}; got {value!r}")
    return value


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False; got {value!r}")
    return value


def check_axis(axis: Any, ndim: int, *, name: str = "axis") -> tuple[int, ...]:
    """Normalize an int or a tuple of ints to sorted, non-negative axes of an ``ndim`` array."""
    if type(axis) is int and -ndim <= axis < ndim:  # the common case, without the ABC check
        return (axis % ndim,)
    axes: Sequence[Any] = axis if isinstance(axis, tuple) else (axis,)
    normalized = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, numbers.Integral):
            raise TypeError(f"{name} must be an int or a tuple of ints; got {axis!r}")
        index = int(a)
        if not -ndim <= index < ndim:
            raise ValueError(
                f"{name}={axis!r} is out of range for inputs with {ndim} dimension(s); "
                f"expected values in [{-ndim}, {ndim - 1}]"
            )
        normalized.append(index % ndim)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{name} must not repeat an axis; got {axis!r}")
    return tuple(sorted(normalized))


class OptionCheck:
    """A validation rule of one option, attached to its annotation (``Annotated``).

    A loss declares its options' rules in its signature (``delta: Positive = 1.0``), so
    they are checked once where the options are given (``arrayloss.get(name, **options)``
    and every call that passes them), never inside the formula.
    """

    def __call__(self, name: str, value: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Interval(OptionCheck):
    """A real number in an interval (see :func:`check_number`)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def __call__(self, name: str, value: Any) -> Any:
        if is_jax_scalar(value):
            # A JAX number (a traced value under jax.jit, or a learned one under
            # jax.grad): data, which cannot be read while tracing, so the interval is the
            # caller's promise. The losses that branch on the value in Python refuse it
            # (``static_number``).
            return value
        return check_number(name, value, low=self.low, high=self.high,
                            low_open=self.low_open, high_open=self.high_open)


def is_jax_scalar(value: Any) -> bool:
    """Whether ``value`` is a 0-d JAX array (a tracer under ``jax.jit`` or ``jax.grad``
    included), without importing JAX. Not array-api-compat's ``is_jax_array``: its cached
    type test makes torch.compile warn wherever an option is checked inside a trace."""
    import sys

    jax = sys.modules.get("jax")
    return (jax is not None and isinstance(value, jax.Array)
            and tuple(value.shape) == ())


def equals_number(value: Any, number: float) -> bool:
    """Whether an option is the Python (or NumPy) number ``number``; ``False`` for a JAX
    value, which may be traced: the caller then takes the general form of its formula,
    which the special value would only have shortened."""
    return isinstance(value, numbers.Real) and value == number  # NumPy scalars included


def static_number(name: str, value: Any) -> float:
    """``value`` as a Python float, for an option by which the formula chooses its form in
    Python: a JAX value is read if it is concrete, and a traced one is a clear TypeError."""
    if is_jax_scalar(value):
        try:
            return float(value)
        except Exception as error:  # jax's ConcretizationTypeError, a TypeError
            raise TypeError(
                f"{name} chooses the form of the formula in Python, so it must be a number "
                f"known at trace time; got a traced JAX value ({type(value).__name__}). "
                f"Pass {name} as a Python float (close over it, or "
                f"jax.jit(..., static_argnames=...))") from error
    return float(value)


@dataclass(frozen=True)
class StaticInterval(Interval):
    """A real number in the interval that the formula reads in Python (a norm's order
    ``p``): a traced JAX value is refused with a clear error (:func:`static_number`)."""

    def __call__(self, name: str, value: Any) -> float:
        if is_jax_scalar(value):
            value = static_number(name, value)
        return super().__call__(name, value)


@dataclass(frozen=True)
class Boolean(OptionCheck):
    """``True`` or ``False``."""

    def __call__(self, name: str, value: Any) -> bool:
        return check_bool(name, value)


@dataclass(frozen=True)
class OptionalInt(OptionCheck):
    """An int, or ``None``."""

    def __call__(self, name: str, value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an int or None; got {value!r}")
        return int(value)


@dataclass(frozen=True)
class IntChoice(OptionCheck):
    """An int among ``allowed`` (PyTorch's ``p`` of ``multi_margin_loss``: 1 or 2)."""

    allowed: tuple[int, ...]

    def __call__(self, name: str, value: Any) -> int:
        expected = " or ".join(str(a) for a in self.allowed)
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an int ({expected}); got {value!r} of type "
                            f"{type(value).__name__}")
        if int(value) not in self.allowed:
            raise ValueError(f"{name} must be {expected}; got {value!r}")
        return int(value)


@dataclass(frozen=True)
class StrChoice(OptionCheck):
    """A string among ``allowed`` (the segmentation losses' ``class_reduction``)."""

    allowed: tuple[str, ...]

    def __call__(self, name: str, value: Any) -> str:
        expected = ", ".join(repr(a) for a in self.allowed)
        if not isinstance(value, str) or value not in self.allowed:
            raise ValueError(f"{name} must be one of {expected}; got {value!r}")
        return value


@dataclass(frozen=True)
class TweediePower(OptionCheck):
    """A real power ``p ≤ 0`` or ``p ≥ 1``: no Tweedie distribution has ``0 < p < 1``."""

    def __call__(self, name: str, value: Any) -> float:
        if is_jax_scalar(value):  # the power chooses the deviance's form in Python
            value = static_number(name, value)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a real number; got {value!r} of type "
                            f"{type(value).__name__}")
        power = float(value)
        if not math.isfinite(power) or 0 < power < 1:
            raise ValueError(f"{name} must be ≤ 0 or ≥ 1 (no Tweedie distribution has "
                             f"0 < {name} < 1); got {value!r}")
        return power



# The option types of the losses' signatures: a type checker sees the plain type, the
# core reads the rule.
Positive = Annotated[float, Interval(low=0, low_open=True)]
NonNegative = Annotated[float, Interval(low=0)]
Fraction = Annotated[float, Interval(low=0, high=1)]
OpenFraction = Annotated[float, Interval(low=0, high=1, low_open=True, high_open=True)]
Flag = Annotated[bool, Boolean()]
IgnoreIndex = Annotated["int | None", OptionalInt()]


def option_checks(function: Any) -> dict[str, OptionCheck]:
    """The rules declared in ``function``'s keyword-only annotations, by option name."""
    import inspect
    import typing

    hints = typing.get_type_hints(function, include_extras=True)
    checks = {}
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
            continue
        hint = hints.get(parameter.name)
        for rule in getattr(hint, "__metadata__", ()):
            if isinstance(rule, OptionCheck):
                checks[parameter.name] = rule
    return checks
