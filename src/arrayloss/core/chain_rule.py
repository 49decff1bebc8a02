"""Closed-form gradients and Hessian diagonals: the shared chain rule.

Each loss with a closed form registers, beside its formula, one *local* derivative
function with :func:`closed_form`. It receives exactly what the loss's ``body`` receives
(arrays of one namespace in the computation dtype, already reconciled; ``axis=`` for the
``"axis"`` and ``"labels"`` kinds) and is a generator: it yields the first derivative of
the body's output with respect to the prediction, then the second. Only what is asked is
computed: ``gradient`` stops after the first ``yield``, so a Hessian is never computed for
nothing, and a derivative shares its intermediates with the second one.

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

NaN in, NaN out: a derivative is NaN wherever the loss's value is NaN. A form declared
``self_contained`` keeps NaN by its own formula (its first derivative is NaN wherever an
input is) and its body adds no per-sample weight or mask; for it the gradient runs neither
the loss's body nor a NaN mask, and the Hessian is NaN where the gradient is. For every
other form the body runs and its NaN values mask both derivatives.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from .define import PerSample, bind, per_sample
from .namespace import namespace_of, numpy_quiet
from .reduction import as_bool, reduce_values
from .registry import get
from .shapes import align_leading, known_size

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
    derivatives: Callable[..., Iterator[Any]]
    # True where the Hessian is 0 almost everywhere (piecewise-linear losses): boosting
    # libraries then need a constant Hessian instead (see ``boosting_objective``).
    zero_hessian: bool = False
    # True where the first derivative keeps NaN by itself and the body returns plain
    # values (module docstring): the gradient needs no call of the body.
    self_contained: bool = False


_FORMS: dict[str, ClosedForm] = {}
_MISSING: dict[str, str] = {}  # canonical name -> why there is no closed form


def closed_form(name: str, *, zero_hessian: bool = False,
                self_contained: bool = False) -> Callable[[Callable[..., Any]], Any]:
    """Register the generator ``derivatives(xp, *arrays, **options)``, which yields the
    first and then the second derivative, for the loss ``name`` (module docstring)."""

    def decorate(derivatives: Callable[..., Iterator[Any]]) -> Callable[..., Any]:
        if name in _FORMS:
            raise RuntimeError(f"a closed form for {name!r} is registered twice")
        _FORMS[name] = ClosedForm(name, derivatives, zero_hessian, self_contained)
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
        "Differentiate it with a framework's autodiff instead "
        "(torch.autograd, jax.grad), "  # ok: names them in an error message
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
    # The loss's own validation and preparation, so both see exactly the same arrays.
    call = bind(spec, arrays, {**bound, **given})
    with numpy_quiet(call.xp):
        return _evaluate(spec, form, call, value=value, gradient=gradient, hessian=hessian)


def _evaluate(spec: Any, form: ClosedForm, call: Any, *, value: bool, gradient: bool,
              hessian: bool) -> Evaluation:
    xp = call.xp
    derivatives = form.derivatives(xp, *call.data, **call.body_axis, **call.options)
    d1 = next(derivatives) if (gradient or hessian) else None
    d2 = next(derivatives) if hessian else None
    # The axes each per-sample value reduced: averaged by the core, or by the body itself.
    body_axis = call.body_axis.get("axis", ())
    reduced = call.mean_axes if call.mean_axes is not None else (
        body_axis if isinstance(body_axis, tuple) else (body_axis,))
    result: Any = None
    if value or not form.self_contained:
        result = spec.body(xp, *call.data, **call.body_axis, **call.options)
        raw = result.values if isinstance(result, PerSample) else result
        per_sample_values, weight, keep = per_sample(call, result)
        shape = tuple(per_sample_values.shape)
        # NaN in, NaN out (module docstring): the piecewise formulas' `where`s would
        # otherwise send NaN down a constant branch.
        undefined = None if form.self_contained else xp.isnan(raw)
    else:  # a self-contained gradient or Hessian: the body is not needed
        assert d1 is not None
        per_sample_values, weight, keep = None, call.weight, call.keep
        shape = tuple(s for a, s in enumerate(d1.shape) if a not in reduced)
        undefined = None

    out_value = None
    if value:
        if form.self_contained and isinstance(result, PerSample):
            raise RuntimeError(  # pragma: no cover - a form registered wrongly
                f"the closed form of {spec.name} is declared self-contained, but its body "
                f"returns per-sample weights or masks")
        out_value = reduce_values(xp, per_sample_values, sample_weight=weight, mask=keep,
                                  reduction=call.reduction)
    if d1 is None:
        return Evaluation(out_value, None, None)

    # Elements averaged into each per-sample value (1 where the body reduced itself).
    size = 1 if call.mean_axes is None else max(
        1, math.prod(d1.shape[a] for a in call.mean_axes))
    if weight is None and keep is None and all(known_size(s) for s in shape):
        # Every per-sample value counts once: the coefficient is one number.
        samples = math.prod(shape)
        share = 1.0 if call.reduction in _SUMS else 1.0 / max(1, samples)
        factor: Any = share / size
        kept = None
    else:
        if per_sample_values is None:  # the body did not run: its values' shape, from d1
            per_sample_values = xp.sum(d1, axis=reduced) if reduced else d1
        coefficient = _reduction_coefficients(xp, per_sample_values, weight, keep,
                                              call.reduction)
        factor = _to_elements(xp, coefficient, reduced, d1.ndim) / size
        kept = None if keep is None else _to_elements(
            xp, align_leading(xp, as_bool(xp, keep), shape, name="mask"), reduced, d1.ndim)
    if undefined is not None:
        undefined = _to_elements(xp, undefined, reduced, d1.ndim)

    def chain(local: Any, undefined: Any) -> Any:
        if undefined is not None:
            local = xp.where(undefined, xp.full_like(local, math.nan), local)
        out = factor * local
        if kept is not None:
            # `where`, not the zero coefficient alone: a masked-out derivative may be NaN
            # or inf (padding), and 0·NaN would still be NaN -- as in the loss itself.
            out = xp.where(kept, out, xp.zeros_like(out))
        if tuple(out.shape) != tuple(d1.shape):
            out = xp.broadcast_to(out, tuple(d1.shape))
        if call.class_keep is not None:  # a class left out: no derivative there
            out = xp.where(call.class_keep, out, xp.zeros_like(out))
        if call.restore is not None:  # the sparse losses' tuple of class axes
            out = call.restore(out)
        if tuple(out.shape) != call.prediction_shape:
            out = xp.reshape(out, call.prediction_shape)
        return out

    out_gradient = chain(d1, undefined) if gradient else None
    out_hessian = None
    if hessian:
        # A self-contained form's gradient is NaN exactly where the value is.
        out_hessian = chain(d2, xp.isnan(d1) if form.self_contained else undefined)
    return Evaluation(out_value, out_gradient, out_hessian)


# Reductions whose gradient is that of a plain sum: "none" (the sum of its output) and the
# partial reductions (the gradient of the numerator; the denominator does not depend on the
# prediction, and the caller divides by the combined one).
_SUMS = ("none", "sum", "partial_mean", "partial_weighted_mean")


def _reduction_coefficients(xp: Any, per_sample: Any, weight: Any, keep: Any,
                            reduction: str) -> Any:
    """``c`` with ``result = Σ c·l`` for per-sample values ``l`` (module docstring).

    Built with ``reduce_values`` itself, so weights and masks align and mask exactly as
    they do in the loss: ``w·m`` is the ``"none"`` reduction of ones.
    """
    ones = xp.ones_like(per_sample)
    weighted = reduce_values(xp, ones, sample_weight=weight, mask=keep, reduction="none")
    if reduction in _SUMS:
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
    return namespace_of(x).full_like(x, value)

