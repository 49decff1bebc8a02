"""Closed-form gradients and Hessian diagonals: the shared chain rule.

Each loss with a closed form registers one *local* derivative function with
:func:`closed_form`. It receives exactly what the loss's ``body`` receives (arrays of one
namespace in the computation dtype, already reconciled; ``axis=`` for the ``"axis"`` and
``"labels"`` kinds) and returns the first and second derivative of the body's output with
respect to the prediction:

``"elementwise"``
    ``d v_e / d ŷ_e`` and ``d² v_e / d ŷ_e²`` of each element value ``v_e``.
``"axis"``, ``"labels"``
    ``d l_s / d ŷ_e`` and ``d² l_s / d ŷ_e²`` of the per-sample value ``l_s`` that contains
    element ``e`` (shaped like the prediction).

Everything else is done once, here, by the same helpers the losses use: namespace, device
and dtype resolution, shape reconciliation, the average over ``axis`` (a factor
``1/K`` for ``K`` averaged elements), per-sample weights and masks (the caller's and a
body's :class:`PerSample`), and the reduction, which is linear in the per-sample values:
``result = Σ_s c_s l_s`` with ``c = w·m`` (``"sum"``, and ``"none"``, whose gradient is
that of the sum of its output), ``w·m/Σm`` (``"mean"``) or ``w·m/Σw·m``
(``"weighted_mean"``). The gradient is ``c_s/K · dv/dŷ`` and, because every per-sample
value depends on its own elements only, the Hessian diagonal is ``c_s/K · d²v/dŷ²``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import array_api_compat

from ._define import PerSample
from ._namespace import default_index, resolve
from ._options import check_axis, check_reduction
from ._reduction import as_bool, mean_over_axis, reduce_values
from ._registry import get
from ._shapes import align_leading, reconcile_labels, reconcile_pair

__all__ = [
    "ClosedForm",
    "Evaluation",
    "closed_form",
    "closed_form_names",
    "evaluate",
    "has_closed_form",
    "no_closed_form",
]


@dataclass(frozen=True)
class ClosedForm:
    """The local derivatives of one loss (see the module docstring)."""

    name: str
    derivatives: Callable[..., tuple[Any, Any]]
    # True where the Hessian is 0 almost everywhere (piecewise-linear losses): boosting
    # libraries then need a constant Hessian instead (see ``boosting_objective``).
    zero_hessian: bool = False
    # Inputs that keep their dtype besides the labels of the "labels" kind.
    keep_dtype: tuple[str, ...] = ()


_FORMS: dict[str, ClosedForm] = {}
_MISSING: dict[str, str] = {}  # canonical name -> why there is no closed form


def closed_form(name: str, *, zero_hessian: bool = False,
                keep_dtype: Sequence[str] = ()) -> Callable[[Callable[..., Any]], Any]:
    """Register ``derivatives(xp, *arrays, **options) -> (d1, d2)`` for the loss ``name``."""

    def decorate(derivatives: Callable[..., tuple[Any, Any]]) -> Callable[..., Any]:
        if name in _FORMS:
            raise RuntimeError(f"a closed form for {name!r} is registered twice")
        _FORMS[name] = ClosedForm(name, derivatives, zero_hessian, tuple(keep_dtype))
        return derivatives

    return decorate


def no_closed_form(name: str, reason: str) -> None:
    """Record that ``name`` has no closed form, with the reason the error will give."""
    _MISSING[name] = reason


def has_closed_form(loss: str | Callable[..., Any]) -> bool:
    """Whether :func:`arrayloss.gradient` supports ``loss`` (a name or a loss function)."""
    try:
        spec = _loss_spec(loss)[0]
    except (TypeError, ValueError):
        return False
    return spec.name in _FORMS


def closed_form_names() -> list[str]:
    """Canonical names of the losses with a closed-form gradient and Hessian diagonal."""
    return sorted(_FORMS)


def form_of(name: str) -> ClosedForm:
    if name in _FORMS:
        return _FORMS[name]
    reason = _MISSING.get(name, "no closed form is written for it yet")
    raise NotImplementedError(
        f"arrayloss has no closed-form gradient for the loss {name!r}: {reason}. "
        "Differentiate it with a framework's autodiff instead (torch.autograd, jax.grad), "
        "which arrayloss's losses support on every autodiff backend."
    )


class Evaluation(NamedTuple):
    """The value, gradient and Hessian diagonal of one call (``None`` where not asked)."""

    value: Any
    gradient: Any
    hessian: Any


def _loss_spec(loss: str | Callable[..., Any]) -> tuple[Any, dict[str, Any]]:
    """The :class:`LossSpec` of ``loss`` and the options bound to it (``arrayloss.get``)."""
    function = get(loss) if isinstance(loss, str) else loss
    if not callable(function):
        raise TypeError(
            f"loss must be a loss name or a loss function of arrayloss; got "
            f"{type(loss).__name__}"
        )
    bound: dict[str, Any] = {}
    if isinstance(function, functools.partial):  # arrayloss.get(name, **options)
        bound = dict(function.keywords)
    spec = getattr(function, "spec", None)
    if spec is None:
        name = getattr(function, "__name__", repr(function))
        raise TypeError(
            f"loss must be a loss name or a loss function of arrayloss (one with a "
            f"closed form); got {name}, which is not an arrayloss loss"
        )
    return spec, bound


def evaluate(loss: str | Callable[..., Any], arrays: Sequence[Any], given: dict[str, Any], *,
             value: bool = False, gradient: bool = True, hessian: bool = False) -> Evaluation:
    """Value, gradient and Hessian diagonal of ``loss(*arrays, **given)`` w.r.t. its
    prediction, sharing the resolution, the body call and the reduction weights."""
    spec, bound = _loss_spec(loss)
    form = form_of(spec.name)
    given = {**bound, **given}
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
    unknown = sorted(set(given) - set(spec.options))
    if unknown:
        allowed = [*spec.options, *(["axis"] if has_axis else []), "sample_weight", "mask",
                   "reduction"]
        raise TypeError(
            f"{spec.name}() got unknown option(s) {', '.join(unknown)}; "
            f"its options are: {', '.join(allowed)}"
        )
    check_reduction(reduction)
    keep_dtype = (*((spec.inputs[0],) if spec.kind == "labels" else ()), *form.keep_dtype)
    resolved = resolve(
        [*zip(spec.inputs, arrays, strict=True), ("sample_weight", sample_weight),
         ("mask", mask)],
        reference=spec.prediction,
        keep_dtype=(*keep_dtype, "mask"),
    )
    xp = resolved.xp
    *data, weight, keep = resolved.arrays
    prediction_shape = tuple(data[spec.inputs.index(spec.prediction)].shape)
    options = {**spec.options, **given}

    data, body_axis, mean_axes = _prepare(xp, spec, data, axis)
    call_axis = {} if body_axis is None else {"axis": body_axis}
    result = spec.body(xp, *data, **call_axis, **options)
    if not isinstance(result, PerSample):
        result = PerSample(result)
    raw = result.values
    if mean_axes is None:  # the body reduced itself: its output is per-sample
        per_sample, size = raw, 1
    else:
        per_sample = mean_over_axis(xp, raw, mean_axes)
        size = max(1, math.prod(raw.shape[a] for a in mean_axes))
    shape = tuple(per_sample.shape)
    # The caller's weights and masks combine with the body's exactly as in define_loss.
    if result.weight is not None:
        weight = result.weight if weight is None else (
            align_leading(xp, weight, shape, name="sample_weight") * result.weight)
    if result.mask is not None:
        keep = result.mask if keep is None else xp.logical_and(
            align_leading(xp, as_bool(xp, keep), shape, name="mask"), result.mask)

    out_value = None
    if value:
        out_value = reduce_values(xp, per_sample, sample_weight=weight, mask=keep,
                                  reduction=reduction)
    if not (gradient or hessian):
        return Evaluation(out_value, None, None)

    coefficient = _reduction_coefficients(xp, per_sample, weight, keep, reduction)
    d1, d2 = form.derivatives(xp, *data, **call_axis, **options)
    reduced = mean_axes if mean_axes is not None else (
        () if body_axis is None else (body_axis if isinstance(body_axis, tuple) else (body_axis,)))
    factor = _to_elements(xp, coefficient, reduced, d1.ndim) / size
    kept = None if keep is None else _to_elements(
        xp, align_leading(xp, as_bool(xp, keep), shape, name="mask"), reduced, d1.ndim)

    def chain(local: Any) -> Any:
        out = factor * local
        if kept is not None:
            # `where`, not the zero coefficient alone: a masked-out derivative may be NaN
            # or inf (padding), and 0·NaN would still be NaN -- as in the loss itself.
            out = xp.where(kept, out, xp.zeros_like(out))
        out = xp.broadcast_to(out, tuple(d1.shape))
        return xp.reshape(out, prediction_shape)

    return Evaluation(out_value, chain(d1) if gradient else None,
                      chain(d2) if hessian else None)


def _prepare(xp: Any, spec: Any, data: list[Any], axis: Any):
    """The arrays the body receives, its ``axis`` argument and the axes averaged after it
    (``None`` for kinds whose body reduces itself): the steps of ``define_loss``."""
    if spec.kind == "custom":
        return data, None, ()
    if spec.kind == "labels":
        labels, scores, *rest = data
        if not xp.isdtype(labels.dtype, "integral"):
            raise TypeError(
                f"{spec.inputs[0]} must hold integer class labels; got dtype {labels.dtype}")
        if isinstance(axis, tuple):
            raise TypeError(f"axis must be a single int (the class axis); got {axis!r}")
        (class_axis,) = check_axis(axis, scores.ndim)
        labels = reconcile_labels(xp, labels, scores, class_axis, name=spec.inputs[0])
        labels = xp.astype(labels, default_index(xp, _device(scores)))
        return [labels, scores, *rest], class_axis, None
    first, second, *rest = data
    first, second = reconcile_pair(xp, first, second, names=spec.inputs[:2])
    if spec.kind == "axis":
        return [first, second, *rest], check_axis(axis, second.ndim), None
    if axis is None:  # the default: one value per sample
        axes = (second.ndim - 1,) if second.ndim >= 2 else ()
    else:
        axes = check_axis(axis, second.ndim)
    return [first, second, *rest], None, axes


def _reduction_coefficients(xp: Any, per_sample: Any, weight: Any, keep: Any,
                            reduction: str) -> Any:
    """``c`` with ``result = Σ c·l`` for per-sample values ``l`` (module docstring).

    Built with ``reduce_values`` itself, so weights and masks align and mask exactly as
    they do in the loss: ``w·m`` is the ``"none"`` reduction of ones.
    """
    ones = xp.ones_like(per_sample)
    weighted = reduce_values(xp, ones, sample_weight=weight, mask=keep, reduction="none")
    if reduction in ("none", "sum"):
        return weighted
    count = weighted if reduction == "weighted_mean" else reduce_values(
        xp, ones, mask=keep, reduction="none")
    denominator = xp.sum(count)
    # A mean over nothing is 0 (SPEC section 5): its gradient is 0 too, not 0/0.
    denominator = xp.where(denominator == 0, xp.ones_like(denominator), denominator)
    return weighted / denominator


def _to_elements(xp: Any, per_sample: Any, reduced: tuple[int, ...], ndim: int) -> Any:
    """Per-sample coefficients with length-1 axes where the loss reduced, so that they
    broadcast against the prediction's elements."""
    if per_sample.ndim + len(reduced) == ndim:
        for a in sorted(reduced):
            per_sample = xp.expand_dims(per_sample, axis=a)
        return per_sample
    if per_sample.ndim == ndim:  # the body kept the reduced axes (length 1)
        return per_sample
    # "custom" kinds: per-sample values are the leading axes of the prediction.
    return xp.reshape(per_sample, tuple(per_sample.shape) + (1,) * (ndim - per_sample.ndim))


def constant(x: Any, value: float) -> Any:
    """``value`` as an array like ``x`` (``where`` takes arrays in the standard)."""
    return array_api_compat.array_namespace(x).full_like(x, value)


_device = array_api_compat.device
