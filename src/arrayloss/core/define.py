"""``define_loss``: turns a loss formula into a public loss under the whole contract.

A loss module writes only its formula, ``body(xp, *arrays, **options)``, and declares its
kind. This decorator gives it the public calling convention of SPEC section 1 (data
positional-only, options keyword-only, ``sample_weight``, ``mask`` and ``reduction``),
resolves the namespace, device and dtype (section 3), reconciles shapes (section 4),
reduces (section 5) and registers the name (section 1). The body receives arrays of one
namespace, already cast to the computation dtype.

Kinds:

``"elementwise"``
    ``body(xp, y_true, y_pred, ...)`` returns element-wise values; they are averaged over
    ``axis`` (default: the last axis for inputs of 2 or more axes, nothing for 1-D inputs;
    ``axis=()`` keeps every element).
``"axis"``
    ``body(xp, y_true, y_pred, ..., axis=axes)`` reduces over ``axes`` (default ``-1``, an
    int or a tuple, normalized to a sorted tuple of non-negative axes) itself.
``"labels"``
    ``body(xp, labels, y_pred, ..., axis=class_axis)``: ``labels`` are integers, cast to the
    default index dtype and shaped like ``y_pred`` with a length-1 class axis.
``"custom"``
    ``body(xp, *arrays, ...)``: no shape rule is applied; the body checks its own shapes.

A body returns per-sample values, or a :class:`PerSample` that adds per-sample weights
(``class_weight``) and masks (``ignore_index``) to the caller's.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, cast

from .blocked_mean import blocked_numpy_mean
from .call_cache import call_key, remember, replay
from .class_mask import is_class_mask, leave_out_classes
from .namespace import default_index, numpy_quiet, resolve
from .native import library_of, native_enabled
from .options import OptionCheck, check_axis, check_reduction, option_checks
from .reduction import as_bool, mean_over_axis, plain_reduction, reduce_values
from .registry import register
from .shapes import (
    align_leading,
    flatten_class_axes,
    known_size,
    reconcile_labels,
    reconcile_pair,
    sizes_always_known,
)

__all__ = ["BoundCall", "LossFunction", "LossSpec", "PerSample", "bind", "define_loss",
           "per_sample"]

KINDS = ("elementwise", "axis", "labels", "custom")


class PerSample(NamedTuple):
    """Per-sample values with the weights and masks a loss's own options imply, and where
    its input is invalid (a class label outside ``[0, C)``: NaN for that sample, SPEC
    section 6, set by the core so that the closed-form derivatives, like autodiff through a
    ``where``, stay 0 there instead of following the value to NaN)."""

    values: Any
    weight: Any = None
    mask: Any = None
    invalid: Any = None


@dataclass(frozen=True)
class LossSpec:
    """What ``define_loss`` knows of a loss (used by ``gradient`` and the conformance suite)."""

    name: str
    family: str
    kind: str
    inputs: tuple[str, ...]
    prediction: str
    options: dict[str, Any]
    body: Callable[..., Any]
    keep_dtype: tuple[str, ...] = ()
    checks: dict[str, OptionCheck] = field(default_factory=dict)
    # Native kernels by library (``_native.py``): the framework's own fused loss.
    kernels: dict[str, Callable[..., Any]] = field(default_factory=dict)
    # How a class is left out of the formula, for a mask inside the class axis
    # (``class_mask.py``); None where the loss takes no such mask.
    class_mask: Callable[..., Any] | None = None
    _accepted: frozenset[str] = field(init=False, repr=False, compare=False)
    _plans: dict[Any, Any] = field(init=False, repr=False, compare=False)
    _resolve_keep: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _prediction_index: int = field(init=False, repr=False, compare=False)
    _shapes_matched: bool = field(init=False, repr=False, compare=False)

    @property
    def public_options(self) -> list[str]:
        axis = ["axis"] if self.kind != "custom" else []
        return [*self.options, *axis, *_SHARED_OPTIONS]

    def __post_init__(self) -> None:
        # Computed once here, not as a cached_property: Python 3.11's takes a lock, which
        # torch.compile cannot trace.
        object.__setattr__(self, "_accepted", frozenset(self.public_options))
        # What bind asks of every call, decided once.
        object.__setattr__(self, "_plans", {})  # call_cache.py
        object.__setattr__(self, "_resolve_keep", (*self.keep_dtype, "mask"))
        object.__setattr__(self, "_prediction_index", self.inputs.index(self.prediction))
        object.__setattr__(self, "_shapes_matched",
                           self.kind in ("labels", "custom") or len(self.inputs) > 2)

    def validate(self, given: dict[str, Any]) -> dict[str, Any]:
        """Check option names and values of ``given`` (the caller's keyword arguments):
        unknown names are a TypeError, values against each option's declared rule and the
        reduction at once, so ``arrayloss.get(name, **options)`` fails where the options are
        bound, not at the first call. Returns the options with the checked values."""
        if not given:
            return {}
        unknown = given.keys() - self._accepted
        if unknown:
            raise TypeError(
                f"{self.name}() got unknown option(s) {', '.join(sorted(unknown))}; "
                f"its options are: {', '.join(self.public_options)}"
            )
        if "reduction" in given:
            check_reduction(given["reduction"])
        checked = dict(given)
        for name, value in given.items():
            rule = self.checks.get(name)
            if rule is not None:
                checked[name] = rule(name, value)
        return checked


_SHARED_OPTIONS = ("sample_weight", "mask", "reduction")


class LossFunction(Protocol):
    """A public loss made by :func:`define_loss`: callable, with its spec and a decorator
    that registers a native kernel beside its formula (``@huber.native("torch")``)."""

    spec: LossSpec

    def __call__(self, *arrays: Any, **options: Any) -> Any: ...

    def native(self, library: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...


class BoundCall(NamedTuple):
    """One call of a loss, validated and prepared up to its body (see :func:`bind`)."""

    xp: Any
    data: list[Any]  # the body's positional arrays
    body_axis: dict[str, Any]  # {"axis": ...} for the kinds whose body takes it
    mean_axes: tuple[int, ...] | None  # axes averaged after the body ("elementwise")
    options: dict[str, Any]
    weight: Any
    keep: Any
    reduction: str
    prediction_shape: tuple[int, ...]
    # Brings an array of the body's prediction shape back to the caller's (the sparse
    # losses' tuple of class axes, flattened for the body); None where they are one.
    restore: Any = None
    # A mask inside the class axis (in the body's layout), whose classes get derivative 0.
    class_keep: Any = None

    @property
    def plain_mean(self) -> bool:
        """The common call: a mean without the caller's weights or masks."""
        return (self.reduction in ("mean", "weighted_mean") and self.weight is None
                and self.keep is None)


def bind(spec: LossSpec, arrays: Sequence[Any], given: dict[str, Any]) -> BoundCall:
    """Validate a call's arguments and prepare what the body receives.

    Checks the number of arrays, option names and reduction; resolves namespace, device
    and dtype (SPEC section 3); applies the kind's shape rule (section 4). Shared by every
    loss and by the closed-form gradients, so both see exactly the same arrays. A common
    call already prepared for the same types, shapes and options is replayed
    (``call_cache.py``).
    """
    key = call_key(arrays, given)
    if key is not None:
        plan = spec._plans.get(key)
        if plan is not None:
            return replay(plan, arrays, BoundCall)
    call = _bind(spec, arrays, given)
    if key is not None:
        remember(spec._plans, key, call, tuple(arrays), spec.kind == "labels")
    return call


def _bind(spec: LossSpec, arrays: Sequence[Any], given: dict[str, Any]) -> BoundCall:
    given = spec.validate(given)
    sample_weight = given.pop("sample_weight", None)
    mask = given.pop("mask", None)
    reduction = given.pop("reduction", "mean")
    has_axis = spec.kind != "custom"
    axis = given.pop("axis", None if spec.kind == "elementwise" else -1) if has_axis else None
    if len(arrays) != len(spec.inputs):
        raise TypeError(
            f"{spec.name}() takes {len(spec.inputs)} positional array argument(s) "
            f"({', '.join(spec.inputs)}); got {len(arrays)}"
        )
    for arg_name, value in zip(spec.inputs, arrays, strict=True):
        if value is None:
            raise TypeError(
                f"{spec.name}(): {arg_name} must be an array, a NumPy array or a Python "
                f"number; got None (None is accepted only for options such as "
                f"sample_weight and mask)"
            )
    resolved = resolve(
        [*zip(spec.inputs, arrays, strict=True), ("sample_weight", sample_weight),
         ("mask", mask)],
        reference=spec.prediction,
        keep_dtype=spec._resolve_keep,
    )
    xp = resolved.xp
    *data, weight, keep = resolved.arrays
    if spec._shapes_matched and not sizes_always_known(xp):
        _require_known_sizes(spec, data)
    prediction_shape = tuple(data[spec._prediction_index].shape)
    body_axis: dict[str, Any] = {}
    mean_axes: tuple[int, ...] | None = None
    restore = class_keep = None
    if spec.kind == "labels":
        labels, scores, *rest = data
        if not xp.isdtype(labels.dtype, "integral"):
            raise TypeError(
                f"{spec.inputs[0]} must hold integer class labels; got dtype {labels.dtype}"
            )
        if isinstance(axis, tuple) and len(axis) == 1:
            (axis,) = axis
        within = keep is not None and is_class_mask(  # a mask inside the class axis
            keep, tuple(scores.shape), check_axis(axis, scores.ndim))
        if isinstance(axis, tuple):  # several class axes: labels index their flat slice
            if within:
                keep = flatten_class_axes(xp, keep, axis)[0]
            scores, restore = flatten_class_axes(xp, scores, axis)
            axis = -1
        (class_axis,) = check_axis(axis, scores.ndim)
        labels = reconcile_labels(xp, labels, scores, class_axis, name=spec.inputs[0])
        index = default_index(xp, resolved.device)
        if labels.dtype != index:
            labels = xp.astype(labels, index)
        data = [labels, scores, *rest]
        body_axis = {"axis": class_axis}
        if within:
            data, keep, class_keep = leave_out_classes(
                xp, spec.name, spec.class_mask, keep, data, {**spec.options, **given},
                (class_axis,))
    elif spec.kind in ("elementwise", "axis"):
        first, second, *rest = data
        first, second = reconcile_pair(xp, first, second, names=spec.inputs[:2])
        data = [first, second, *rest]
        if spec.kind == "axis":
            body_axis = {"axis": check_axis(axis, second.ndim)}
            if keep is not None and is_class_mask(keep, tuple(second.shape), body_axis["axis"]):
                data, keep, class_keep = leave_out_classes(
                    xp, spec.name, spec.class_mask, keep, data, {**spec.options, **given},
                    body_axis["axis"])
        elif axis is None:  # the default: one value per sample
            mean_axes = (second.ndim - 1,) if second.ndim >= 2 else ()
        else:
            mean_axes = check_axis(axis, second.ndim)
    options = {**spec.options, **given}
    return BoundCall(xp, data, body_axis, mean_axes, options, weight, keep, reduction,
                     prediction_shape, restore, class_keep)


def _native_mean(spec: LossSpec, call: BoundCall) -> Any:
    """The common call's mean by the library's native kernel (``_native.py``), or
    ``NotImplemented`` where none applies (no kernel, kernels off, an empty batch, or
    options the kernel does not cover)."""
    if not (spec.kernels and call.plain_mean and native_enabled()
            and 0 not in call.prediction_shape):
        return NotImplemented
    library = library_of(call.xp)
    kernel = spec.kernels.get(library) if library is not None else None
    if kernel is None:
        return NotImplemented
    return kernel(call.xp, *call.data, **call.body_axis, **call.options)


def _require_known_sizes(spec: LossSpec, data: Sequence[Any]) -> None:
    """Losses whose shape rules compare or reshape several inputs need every size; a Dask
    array after boolean indexing has unknown (NaN) sizes, which only Dask can compute."""
    for arg_name, x in zip(spec.inputs, data, strict=True):
        if not all(known_size(s) for s in x.shape):
            raise ValueError(
                f"{spec.name}(): {arg_name}.shape={tuple(x.shape)} has unknown sizes (a Dask "
                f"array after boolean indexing), which this loss's shape rules need; call "
                f"{arg_name}.compute_chunk_sizes() first (element-wise and class-axis losses "
                f"of y_true and y_pred take unknown sizes as they are)"
            )


def per_sample(call: BoundCall, result: Any) -> tuple[Any, Any, Any]:
    """The body's ``result`` as per-sample values, with the caller's weights and masks
    combined with the body's own (``PerSample``): ``(values, weight, keep)``."""
    xp = call.xp
    if not isinstance(result, PerSample):
        result = PerSample(result)
    values = result.values
    if call.mean_axes is not None:
        values = mean_over_axis(xp, values, call.mean_axes)
    if result.invalid is not None:
        values = xp.where(result.invalid, xp.full_like(values, math.nan), values)
    shape = tuple(values.shape)
    weight, keep = call.weight, call.keep
    if result.weight is not None:
        weight = result.weight if weight is None else (
            align_leading(xp, weight, shape, name="sample_weight") * result.weight)
    if result.mask is not None:
        keep = result.mask if keep is None else xp.logical_and(
            align_leading(xp, as_bool(xp, keep), shape, name="mask"), result.mask)
    return values, weight, keep


def define_loss(
    name: str,
    *,
    family: str,
    aliases: tuple[str, ...] = (),
    kind: str = "elementwise",
    inputs: Sequence[str] = ("y_true", "y_pred"),
    prediction: str = "y_pred",
    keep_dtype: Sequence[str] = (),
    class_mask: Callable[..., Any] | None = None,
) -> Callable[[Callable[..., Any]], LossFunction]:
    """Decorate ``body`` into the public loss ``name`` (see the module docstring)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
    inputs = tuple(inputs)
    if kind == "labels":
        keep_dtype = (inputs[0], *keep_dtype)

    def decorate(body: Callable[..., Any]) -> LossFunction:
        options = {
            p.name: p.default
            for p in inspect.signature(body).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and (p.name != "axis" or kind == "custom")
        }
        spec = LossSpec(name, family, kind, inputs, prediction, options, body,
                        tuple(keep_dtype), option_checks(body), class_mask=class_mask)
        for option, rule in spec.checks.items():  # the defaults obey their own rules
            rule(option, options[option])
        default_axis = None if kind == "elementwise" else -1

        @functools.wraps(body, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
        def loss(*arrays: Any, **given: Any) -> Any:
            call = bind(spec, arrays, given)
            native = _native_mean(spec, call)  # kernels are PyTorch's: nothing to quiet
            if native is not NotImplemented:
                return native
            with numpy_quiet(call.xp):
                if call.plain_mean and spec.kind in ("elementwise", "axis"):
                    blocked = blocked_numpy_mean(call.xp, body, call.data, call.body_axis,
                                                 call.options, PerSample)
                    if blocked is not NotImplemented:
                        return blocked
                result = body(call.xp, *call.data, **call.body_axis, **call.options)
                if call.plain_mean and not isinstance(result, PerSample):
                    # The common call: the mean of equal-sized per-sample means is the mean
                    # of every element, one reduction instead of two.
                    return plain_reduction(call.xp, result, call.reduction)
                values, weight, keep = per_sample(call, result)
                return reduce_values(
                    call.xp, values, sample_weight=weight, mask=keep, reduction=call.reduction
                )

        parameters = [
            inspect.Parameter(arg, inspect.Parameter.POSITIONAL_ONLY) for arg in inputs
        ] + [
            inspect.Parameter(opt, inspect.Parameter.KEYWORD_ONLY, default=default)
            for opt, default in options.items()
        ]
        if kind != "custom":
            parameters.append(
                inspect.Parameter("axis", inspect.Parameter.KEYWORD_ONLY, default=default_axis))
        parameters += [
            inspect.Parameter("sample_weight", inspect.Parameter.KEYWORD_ONLY, default=None),
            inspect.Parameter("mask", inspect.Parameter.KEYWORD_ONLY, default=None),
            inspect.Parameter("reduction", inspect.Parameter.KEYWORD_ONLY, default="mean"),
        ]
        loss.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        loss.spec = spec  # type: ignore[attr-defined]

        def native(library: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
            """Register ``kernel`` as this loss's native kernel on ``library``."""

            def add(kernel: Callable[..., Any]) -> Callable[..., Any]:
                spec.kernels[library] = kernel
                return kernel

            return add

        loss.native = native  # type: ignore[attr-defined]
        return cast(LossFunction, register(name, family=family, aliases=aliases)(loss))

    return decorate
