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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from ._namespace import default_index, resolve
from ._options import check_axis, check_reduction
from ._reduction import as_bool, mean_over_axis, reduce_values
from ._registry import register
from ._shapes import align_leading, reconcile_labels, reconcile_pair

__all__ = ["LossSpec", "PerSample", "define_loss"]

KINDS = ("elementwise", "axis", "labels", "custom")


class PerSample(NamedTuple):
    """Per-sample values with the weights and masks a loss's own options imply."""

    values: Any
    weight: Any = None
    mask: Any = None


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


_SHARED_OPTIONS = ("sample_weight", "mask", "reduction")


def define_loss(
    name: str,
    *,
    family: str,
    aliases: tuple[str, ...] = (),
    kind: str = "elementwise",
    inputs: Sequence[str] = ("y_true", "y_pred"),
    prediction: str = "y_pred",
    keep_dtype: Sequence[str] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate ``body`` into the public loss ``name`` (see the module docstring)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}")
    inputs = tuple(inputs)
    if kind == "labels":
        keep_dtype = (inputs[0], *keep_dtype)

    def decorate(body: Callable[..., Any]) -> Callable[..., Any]:
        options = {
            p.name: p.default
            for p in inspect.signature(body).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and (p.name != "axis" or kind == "custom")
        }
        default_axis = None if kind == "elementwise" else -1
        has_axis = kind != "custom"
        public_options = [*options, *(["axis"] if has_axis else []), *_SHARED_OPTIONS]

        @functools.wraps(body, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
        def loss(*arrays, sample_weight=None, mask=None, reduction="mean", **given):
            axis = given.pop("axis", default_axis) if has_axis else None
            if len(arrays) != len(inputs):
                raise TypeError(
                    f"{name}() takes {len(inputs)} positional array argument(s) "
                    f"({', '.join(inputs)}); got {len(arrays)}"
                )
            unknown = sorted(set(given) - set(options))
            if unknown:
                raise TypeError(
                    f"{name}() got unknown option(s) {', '.join(unknown)}; "
                    f"its options are: {', '.join(public_options)}"
                )
            check_reduction(reduction)
            resolved = resolve(
                [*zip(inputs, arrays, strict=True), ("sample_weight", sample_weight),
                 ("mask", mask)],
                reference=prediction,
                keep_dtype=(*keep_dtype, "mask"),
            )
            xp = resolved.xp
            *data, weight, keep = resolved.arrays
            result = _call_body(xp, resolved.device, data, axis, {**options, **given})
            if not isinstance(result, PerSample):
                result = PerSample(result)
            shape = tuple(result.values.shape)
            if result.weight is not None:
                weight = result.weight if weight is None else (
                    align_leading(xp, weight, shape, name="sample_weight") * result.weight)
            if result.mask is not None:
                keep = result.mask if keep is None else xp.logical_and(
                    align_leading(xp, as_bool(xp, keep), shape, name="mask"), result.mask)
            return reduce_values(
                xp, result.values, sample_weight=weight, mask=keep, reduction=reduction
            )

        def _call_body(xp, device, data, axis, opts):
            if kind == "custom":
                return body(xp, *data, **opts)
            if kind == "labels":
                labels, scores, *rest = data
                if not xp.isdtype(labels.dtype, "integral"):
                    raise TypeError(
                        f"{inputs[0]} must hold integer class labels; got dtype {labels.dtype}"
                    )
                if isinstance(axis, tuple):
                    raise TypeError(f"axis must be a single int (the class axis); got {axis!r}")
                (class_axis,) = check_axis(axis, scores.ndim)
                labels = reconcile_labels(xp, labels, scores, class_axis, name=inputs[0])
                labels = xp.astype(labels, default_index(xp, device))
                return body(xp, labels, scores, *rest, axis=class_axis, **opts)
            first, second, *rest = data
            first, second = reconcile_pair(xp, first, second, names=inputs[:2])
            if kind == "axis":
                return body(xp, first, second, *rest, axis=check_axis(axis, second.ndim), **opts)
            values = body(xp, first, second, *rest, **opts)
            if axis is None:  # the default: one value per sample
                axes = (values.ndim - 1,) if values.ndim >= 2 else ()
            else:
                axes = check_axis(axis, values.ndim)
            return mean_over_axis(xp, values, axes)

        parameters = [
            inspect.Parameter(arg, inspect.Parameter.POSITIONAL_ONLY) for arg in inputs
        ] + [
            inspect.Parameter(opt, inspect.Parameter.KEYWORD_ONLY, default=default)
            for opt, default in options.items()
        ]
        if has_axis:
            parameters.append(
                inspect.Parameter("axis", inspect.Parameter.KEYWORD_ONLY, default=default_axis))
        parameters += [
            inspect.Parameter("sample_weight", inspect.Parameter.KEYWORD_ONLY, default=None),
            inspect.Parameter("mask", inspect.Parameter.KEYWORD_ONLY, default=None),
            inspect.Parameter("reduction", inspect.Parameter.KEYWORD_ONLY, default="mean"),
        ]
        loss.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        loss.spec = LossSpec(name, family, kind, inputs, prediction, options, body)  # type: ignore[attr-defined]
        return register(name, family=family, aliases=aliases)(loss)

    return decorate
