"""``python -m arrayloss plot NAME -o FILE``: a loss and its derivative, drawn from arrayloss.

The curves are arrayloss's own values: the loss is called on NumPy arrays over a grid of a
1-D slice of its inputs, one grid point per sample, with ``reduction="none"``. Each loss
has one or more *views*, the slices that mean something for it:

- regression losses against the error ``e = y_pred - y_true`` (with ``y_true`` fixed; the
  Poisson losses against the rate or log-rate they predict, ``cosine_similarity`` against
  the angle between two unit vectors);
- binary classification against the logit (``from_logits=True``) and the probability of
  the true class; class-axis losses on a two-class slice (logits ``(z, 0)``, probabilities
  ``(p, 1 - p)``); losses of raw scores (hinge) against the score; ``margin_ranking``
  against the score difference, ``cosine_embedding`` against the angle of a similar and of
  a dissimilar pair, ``multilabel_margin`` on a two-class slice;
- the structured losses on a slice named on the figure: segmentation on a 4-pixel image
  predicted with one confidence, ``contrastive`` against the distance of a similar and of
  a dissimilar pair, ``triplet_margin`` against the anchor-negative distance, ``ntxent``
  and ``circle`` against the angle between the two views of an item, ``ctc`` against the
  logit of the label in both frames, the penalties against one weight.

The derivative with respect to the slice's coordinate comes from the closed form
(``arrayloss.gradient``, along the slice's tangent) where the loss has one and the slice
moves only the prediction, else from ``jax.grad`` (under ``jax.jit``, float64) where JAX
is installed, else from central finite differences of arrayloss's values; the figure says
which. A loss with no slice defined here is a ``ValueError`` that says so.

One option can be swept (``--vary``): by default Huber's ``delta``, the focal losses'
``gamma``, the quantile ``q``, Tukey's ``c``, a robust loss's ``alpha``, the margins and
the temperature. ``--family FAMILY`` draws every loss of a family on shared axes instead.
:func:`curves` returns the numbers a figure draws (the tests compare them with the loss).
"""

from __future__ import annotations

import argparse
import ast
import math
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Curve", "View", "curves", "figure", "overview", "sweep_for", "views"]

POINTS = 201

# The option swept by default: by loss first, then by option name (the first option of
# the loss found here). Values a loss rejects are left out.
SWEEP_BY_LOSS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "binary_focal_crossentropy": ("gamma", (0.0, 1.0, 2.0, 5.0)),
    "categorical_focal_crossentropy": ("gamma", (0.0, 1.0, 2.0, 5.0)),
    "tversky": ("alpha", (0.3, 0.5, 0.7)),
    "focal_tversky": ("gamma", (0.5, 0.75, 1.0, 2.0)),
    "tweedie_deviance": ("power", (0.0, 1.0, 1.5, 2.0, 3.0)),
    "poly_crossentropy": ("epsilon", (-1.0, 0.0, 1.0, 2.0)),
    "circle": ("margin", (0.1, 0.25, 0.4)),
}
SWEEP_BY_OPTION: dict[str, tuple[Any, ...]] = {
    "delta": (0.5, 1.0, 2.0),
    "beta": (0.5, 1.0, 2.0),
    "q": (0.1, 0.5, 0.9),
    "c": (2.0, 4.685),
    "alpha": (-2.0, 0.0, 1.0, 2.0),
    "margin": (0.5, 1.0, 2.0),
    "temperature": (0.1, 0.5, 1.0),
}


@dataclass(frozen=True)
class View:
    """A 1-D slice of a loss's inputs.

    ``make(xp, x)`` returns the loss's positional arrays: with ``batched``, for the whole
    grid ``x`` at once (one sample per point, ``reduction="none"``); otherwise for one
    point ``x`` (a Python float; the loss's default reduction). ``tangent(x)`` is the
    derivative of the prediction along the slice, shaped like it, where the slice moves
    only the prediction (the closed-form gradient is then usable); ``options`` are those the
    view implies (``from_logits=True``)."""

    key: str
    xlabel: str
    x: np.ndarray
    make: Callable[[Any, Any], tuple[Any, ...]]
    tangent: Callable[[np.ndarray], np.ndarray] | None = None
    options: dict[str, Any] = field(default_factory=dict)
    batched: bool = True
    # Whether the view's x means what the family overview's x means (not for a soft target).
    comparable: bool = True


@dataclass(frozen=True)
class Curve:
    """What one line of a figure draws: the loss and its derivative along a view."""

    loss: str
    view: str
    xlabel: str
    options: dict[str, Any]
    x: np.ndarray
    value: np.ndarray
    derivative: np.ndarray
    method: str  # "closed form", "jax.grad" or "finite differences"


def _spec(name: str) -> Any:
    from ..core.registry import get

    return getattr(get(name), "spec", None)


def _canonical(name: str) -> str:
    from ..core.registry import entries, get

    function = get(name)
    for entry in entries():
        if entry.function is function:
            return entry.name
    raise ValueError(f"{name!r} is not a registered loss")


def _grid(low: float, high: float, points: int) -> np.ndarray:
    return np.linspace(low, high, points)


def _const(xp: Any, value: Any, like: Any, dtype: Any = None) -> Any:
    """``value`` repeated along a new leading axis of the grid ``like``'s length."""
    arr = np.broadcast_to(np.asarray(value, dtype=dtype), (like.shape[0], *np.shape(value)))
    return xp.asarray(np.ascontiguousarray(arr))


def _stack(xp: Any, columns: Sequence[Any]) -> Any:
    return xp.stack(list(columns), axis=-1)


def _ones(x: np.ndarray, *pattern: float) -> np.ndarray:
    return np.broadcast_to(np.asarray(pattern, dtype=float), (x.shape[0], len(pattern)))


def _two_classes(view: View) -> View:
    """A segmentation view with the one-hot class axis of a class-axis loss: the target
    ``(y, 1 − y)`` and the prediction ``(p, 1 − p)`` (probabilities) or ``(z, 0)`` (logits,
    whose softmax is ``(sigmoid(z), 1 − sigmoid(z))``). Both classes cover 2 of the 4 pixels,
    so frequency-based class weights are equal along the slice."""
    logits = bool(view.options.get("from_logits"))

    def make(xp: Any, x: Any) -> tuple[Any, ...]:
        y, pred = view.make(xp, x)
        other = xp.zeros_like(pred) if logits else 1.0 - pred
        return _stack(xp, [y, 1.0 - y]), _stack(xp, [pred, other])

    return View(view.key, f"{view.xlabel}, two classes (y, 1 − y)", view.x, make, None,
                view.options)


def _two_class_labels(view: View) -> View:
    """:func:`_two_classes` with integer labels: class 0 where ``y = 1``, class 1 elsewhere
    (the sparse labels of ``lovasz_softmax``)."""
    logits = bool(view.options.get("from_logits"))

    def make(xp: Any, x: Any) -> tuple[Any, ...]:
        _, pred = view.make(xp, x)
        other = xp.zeros_like(pred) if logits else 1.0 - pred
        return _const(xp, [0, 0, 1, 1], x, dtype=np.int64), _stack(xp, [pred, other])

    return View(view.key, f"{view.xlabel}, labels (0, 0, 1, 1)", view.x, make, None,
                view.options)


def views(name: str, options: dict[str, Any] | None = None,
          points: int = POINTS) -> list[View]:
    """The slices of loss ``name`` (with ``options``) that a figure draws."""
    name = _canonical(name)
    options = dict(options or {})
    spec = _spec(name)
    from ..core.registry import entries

    family = next(e.family for e in entries() if e.name == name)
    if spec is None:  # a penalty of a weight pytree
        if family == "penalty":
            return [View("weight", "weight w", _grid(-2.0, 2.0, points),
                         lambda xp, w: (xp.asarray([w]),), batched=False)]
        raise ValueError(f"no plot slice is defined for {name!r}")
    opts = {**spec.options, **options}
    kind, inputs = spec.kind, spec.inputs
    logits = "from_logits" in spec.options
    pair = inputs[:2] == ("y_true", "y_pred")

    if name in ("tweedie_deviance", "poisson_deviance", "gamma_deviance"):
        y = 2.0  # a positive target, the mean ŷ > 0 on the x axis
        return [View("prediction", "mean ŷ (y = 2)", _grid(0.1, 6.0, points),
                     lambda xp, x: (_const(xp, y, x), xp.asarray(x)),
                     lambda x: np.ones_like(x))]
    if name in ("poisson", "poisson_nll"):
        y = 2.0
        if opts.get("log_input"):
            x, label = _grid(-2.0, 2.5, points), "log-rate ŷ (y = 2)"
        else:
            x, label = _grid(0.05, 6.0, points), "rate ŷ (y = 2)"
        return [View("prediction", label, x, lambda xp, x: (_const(xp, y, x), xp.asarray(x)),
                     lambda x: np.ones_like(x))]
    if name == "cosine_similarity":
        return [View("angle", "angle θ between y = (1, 0) and ŷ = (cos θ, sin θ)",
                     _grid(-math.pi, math.pi, points),
                     lambda xp, t: (_const(xp, [1.0, 0.0], t),
                                    _stack(xp, [xp.cos(xp.asarray(t)), xp.sin(xp.asarray(t))])),
                     lambda t: np.stack([-np.sin(t), np.cos(t)], axis=-1))]
    if family == "regression" and kind == "elementwise" and pair:
        y, low, high = {"mean_absolute_percentage_error": (1.0, -2.0, 2.0),
                        "mean_squared_logarithmic_error": (1.0, -1.5, 3.0)}.get(
                            name, (0.0, -3.0, 3.0))
        extra = inputs[2:]  # gaussian_nll's variance: 1

        def make(xp: Any, e: Any) -> tuple[Any, ...]:
            return (_const(xp, y, e), xp.asarray(y + e), *(_const(xp, 1.0, e) for _ in extra))

        label = "error e = ŷ − y" + (f" (y = {y:g})" if y else "") + (
            "; var = 1" if extra else "")
        return [View("error", label, _grid(low, high, points), make, lambda e: np.ones_like(e))]
    if family == "classification" and kind == "elementwise" and pair:
        if logits:
            return [
                View("logit", "logit z (y = 1)", _grid(-6.0, 6.0, points),
                     lambda xp, z: (_const(xp, 1.0, z), xp.asarray(z)),
                     lambda z: np.ones_like(z), {"from_logits": True}),
                View("probability", "probability p of the true class (y = 1)",
                     _grid(0.005, 1.0, points),
                     lambda xp, p: (_const(xp, 1.0, p), xp.asarray(p)),
                     lambda p: np.ones_like(p), {"from_logits": False}),
            ]
        return [View("score", "score ŷ (y = 1)", _grid(-3.0, 3.0, points),
                     lambda xp, z: (_const(xp, 1.0, z), xp.asarray(z)),
                     lambda z: np.ones_like(z))]
    if family == "classification" and kind in ("axis", "labels") and pair:
        if kind == "labels":
            def target(xp: Any, x: Any) -> Any:
                return _const(xp, 0, x, dtype=np.int64)
            what = "true class 0"
        else:
            soft = (0.8, 0.2) if name == "kl_divergence" else (1.0, 0.0)

            def target(xp: Any, x: Any) -> Any:
                return _const(xp, list(soft), x)
            what = f"y = ({soft[0]:g}, {soft[1]:g})"
        if name == "negative_log_likelihood":  # log-probabilities
            return [View("probability",
                         f"probability p of class 0; ŷ = (log p, log(1 − p)), {what}",
                         _grid(0.005, 0.995, points),
                         lambda xp, p: (target(xp, p), _stack(
                             xp, [xp.log(xp.asarray(p)), xp.log(1.0 - xp.asarray(p))])),
                         lambda p: np.stack([1.0 / p, -1.0 / (1.0 - p)], axis=-1))]
        if not logits:
            return [View("score", f"score margin z; ŷ = (z, 0), {what}",
                         _grid(-3.0, 3.0, points),
                         lambda xp, z: (target(xp, z), _stack(
                             xp, [xp.asarray(z), xp.zeros_like(xp.asarray(z))])),
                         lambda z: _ones(z, 1.0, 0.0))]
        return [
            View("logit", f"logit margin z; logits (z, 0), {what}", _grid(-6.0, 6.0, points),
                 lambda xp, z: (target(xp, z), _stack(
                     xp, [xp.asarray(z), xp.zeros_like(xp.asarray(z))])),
                 lambda z: _ones(z, 1.0, 0.0), {"from_logits": True},
                 comparable=name != "kl_divergence"),
            View("probability", f"probability p of class 0; ŷ = (p, 1 − p), {what}",
                 _grid(0.005, 0.995, points),
                 lambda xp, p: (target(xp, p), _stack(
                     xp, [xp.asarray(p), 1.0 - xp.asarray(p)])),
                 lambda p: _ones(p, 1.0, -1.0), {"from_logits": False}),
        ]
    if family == "segmentation" and pair:
        pattern = [1.0, 1.0, 0.0, 0.0]
        sign = [1.0, 1.0, -1.0, -1.0]
        image = "4-pixel image y = (1, 1, 0, 0)"
        found = [
            View("probability", f"confidence p; ŷ = (p, p, 1 − p, 1 − p), {image}",
                 _grid(0.0, 1.0, points),
                 lambda xp, p: (_const(xp, pattern, p), _stack(xp, [
                     xp.asarray(p) if s > 0 else 1.0 - xp.asarray(p) for s in sign])),
                 lambda p: _ones(p, *sign), {"from_logits": False} if logits else {}),
        ]
        if logits or name == "lovasz_hinge":  # lovasz_hinge takes logits only
            found.insert(0, View(
                "logit", f"logit z; logits (z, z, −z, −z), {image}", _grid(-6.0, 6.0, points),
                lambda xp, z: (_const(xp, pattern, z), _stack(
                    xp, [s * xp.asarray(z) for s in sign])),
                lambda z: _ones(z, *sign), {"from_logits": True} if logits else {}))
        if name == "lovasz_hinge":
            found = found[:1]
        if name == "lovasz_softmax":  # integer labels and a class axis (the last)
            found = [_two_class_labels(v) for v in found]
        if name == "generalized_dice":  # its class axis (the last) is required: two classes
            found = [_two_classes(v) for v in found]
        return found
    if name == "margin_ranking":
        return [View("difference", "score difference x₁ − x₂ (y = 1, x₂ = 0)",
                     _grid(-3.0, 3.0, points),
                     lambda xp, d: (_const(xp, 1.0, d), xp.asarray(d), _const(xp, 0.0, d)),
                     lambda d: np.ones_like(d))]
    if name == "cosine_embedding":
        def embeddings(y: float) -> Callable[[Any, Any], tuple[Any, ...]]:
            return lambda xp, t: (_const(xp, y, t), _stack(
                xp, [xp.cos(xp.asarray(t)), xp.sin(xp.asarray(t))]), _const(xp, [1.0, 0.0], t))

        return [View(key, f"angle θ between x₁ = (cos θ, sin θ) and x₂ = (1, 0) ({key}, "
                     f"y = {y:g})", _grid(0.0, math.pi, points), embeddings(y),
                     lambda t: np.stack([-np.sin(t), np.cos(t)], axis=-1))
                for key, y in (("similar", 1.0), ("dissimilar", -1.0))]
    if name == "multilabel_margin":
        return [View("score", "score margin z; ŷ = (z, 0), target list (0, −1)",
                     _grid(-3.0, 3.0, points),
                     lambda xp, z: (_const(xp, [0, -1], z, dtype=np.int64), _stack(
                         xp, [xp.asarray(z), xp.zeros_like(xp.asarray(z))])),
                     lambda z: _ones(z, 1.0, 0.0))]
    if name == "contrastive":
        def pair_of(y: float) -> Callable[[Any, Any], tuple[Any, ...]]:
            return lambda xp, d: (_const(xp, y, d), xp.asarray(d))

        return [View(key, f"distance d ({key} pair, y = {y:g})", _grid(0.0, 2.5, points),
                     pair_of(y), lambda d: np.ones_like(d))
                for key, y in (("similar", 0.0), ("dissimilar", 1.0))]
    if name == "triplet_margin":
        return [View("negative", "anchor–negative distance (anchor–positive distance 1)",
                     _grid(0.0, 3.0, points),
                     lambda xp, d: (_const(xp, [0.0, 0.0], d), _const(xp, [0.0, 1.0], d),
                                    _stack(xp, [xp.asarray(d), xp.zeros_like(xp.asarray(d))])))]
    if name == "ntxent":
        def pairs(xp: Any, t: Any) -> tuple[Any, ...]:
            t = xp.asarray(t)
            one, zero = xp.ones_like(t), xp.zeros_like(t)
            rows = [xp.stack([one, zero]), xp.stack([xp.cos(t), xp.sin(t)]),
                    xp.stack([-one, zero]), xp.stack([zero, -one])]
            return xp.stack(rows), xp.asarray([0, 0, 1, 1])

        return [View("angle", "angle θ between the two views of item 0 (item 1 fixed)",
                     _grid(0.0, math.pi, points), pairs, batched=False)]
    if name == "circle":
        def views_of(xp: Any, t: Any) -> tuple[Any, ...]:
            t = xp.asarray(t)
            one, zero = xp.ones_like(t), xp.zeros_like(t)
            rows = [xp.stack([one, zero]), xp.stack([xp.cos(t), xp.sin(t)]),
                    xp.stack([-one, zero]), xp.stack([zero, -one])]
            return xp.asarray([0, 0, 1, 1]), xp.stack(rows)

        return [View("angle", "angle θ between the two views of item 0 (item 1 fixed)",
                     _grid(0.0, math.pi, points), views_of, batched=False)]
    if name == "ctc":
        def frames(xp: Any, z: Any) -> tuple[Any, ...]:
            z = xp.asarray(z)
            frame = xp.stack([xp.zeros_like(z), z], axis=-1)  # (N, C=2): blank, "a"
            return (_const(xp, [1], z, dtype=np.int64), xp.stack([frame, frame], axis=1),
                    _const(xp, 1, z, dtype=np.int64), _const(xp, 2, z, dtype=np.int64))

        return [View("logit", "logit z of the label \"a\" in both of 2 frames (blank: 0)",
                     _grid(-4.0, 4.0, points), frames)]
    raise ValueError(
        f"no plot slice is defined for {name!r} (family {family}, inputs {', '.join(inputs)}); "
        "add one to arrayloss/_cli/plot.py")


def sweep_for(name: str, options: dict[str, Any] | None = None) -> tuple[str, list[Any]] | None:
    """The option swept by default for ``name`` and its values (those the loss accepts,
    the caller's fixed ``options`` left unswept), or None."""
    name = _canonical(name)
    spec = _spec(name)
    if spec is None:
        return None
    fixed = set(options or {})
    key, values = SWEEP_BY_LOSS.get(name, (None, ()))
    if key is None:
        key = next((o for o in spec.options if o in SWEEP_BY_OPTION), None)
        values = SWEEP_BY_OPTION.get(key, ()) if key else ()
    if key is None or key in fixed:
        return None
    accepted = []
    for value in values:
        try:
            spec.validate({**(options or {}), key: value})
        except (TypeError, ValueError):
            continue
        accepted.append(value)
    return (key, accepted) if len(accepted) > 1 else None


def _call(name: str, view: View, options: dict[str, Any], xp: Any, x: Any) -> Any:
    from ..core.registry import get

    loss = get(name)
    extra = {"reduction": "none"} if view.batched else {}
    return loss(*view.make(xp, x), **options, **extra)


def _values(name: str, view: View, options: dict[str, Any], x: np.ndarray) -> np.ndarray:
    if view.batched:
        return np.asarray(_call(name, view, options, np, x), dtype=float)
    return np.array([float(_call(name, view, options, np, float(xi))) for xi in x])


def _jax_derivative(name: str, view: View, options: dict[str, Any],
                    x: np.ndarray) -> np.ndarray:
    import jax
    import jax.numpy as jnp

    # Under jax.jit: one compiled call per curve (eager JAX would dispatch every small
    # operation of the grid separately). float64 only inside this block.
    with jax.enable_x64(True):
        if view.batched:
            def total(xs: Any) -> Any:
                return jnp.sum(_call(name, view, options, jnp, xs))

            grad = jax.jit(jax.grad(total))
        else:
            def one(xi: Any) -> Any:
                return _call(name, view, options, jnp, xi)

            grad = jax.jit(jax.vmap(jax.grad(one)))
        return np.asarray(grad(jnp.asarray(x, dtype=jnp.float64)), dtype=float)


def _finite_differences(name: str, view: View, options: dict[str, Any],
                        x: np.ndarray) -> np.ndarray:
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    return (_values(name, view, options, x + h) - _values(name, view, options, x - h)) / (2 * h)


def _derivative(name: str, view: View, options: dict[str, Any], x: np.ndarray,
                method: str | None) -> tuple[np.ndarray, str]:
    from .._gradients import gradient, has_closed_form

    if method in (None, "closed form") and view.tangent is not None and has_closed_form(name):
        arrays = view.make(np, x)
        g = np.asarray(gradient(name, *arrays, **options, reduction="none"), dtype=float)
        along = g * view.tangent(x)
        return along.reshape(x.shape[0], -1).sum(axis=1), "closed form"
    if method == "closed form":
        raise ValueError(f"{name} has no closed-form derivative along the {view.key} slice")
    if method in (None, "jax.grad"):
        try:
            import jax  # noqa: F401
        except ImportError:
            if method == "jax.grad":
                raise
        else:
            return _jax_derivative(name, view, options, x), "jax.grad"
    return _finite_differences(name, view, options, x), "finite differences"


def curves(name: str, options: dict[str, Any] | None = None, *, vary: tuple[str, Sequence[Any]]
           | None | bool = True, view: str | None = None, points: int = POINTS,
           method: str | None = None) -> list[Curve]:
    """The curves of ``name``: one per view and swept value (``vary=True``: the default
    sweep; a ``(key, values)`` pair; ``None`` or ``False``: none), with the derivative by
    ``method`` (``"closed form"``, ``"jax.grad"``, ``"finite differences"``; default: the
    first that applies)."""
    name = _canonical(name)
    options = dict(options or {})
    if vary is True:
        vary = sweep_for(name, options)
    settings = [dict(options)] if not vary else [{**options, vary[0]: v} for v in vary[1]]
    found = views(name, options, points)
    if view is not None:
        keys = [v.key for v in found]
        if view not in keys:
            raise ValueError(f"{name} has no view {view!r}; its views: {', '.join(keys)}")
        found = [v for v in found if v.key == view]
    result = []
    for v in found:
        for setting in settings:
            opts = {**setting, **v.options}
            value = _values(name, v, opts, v.x)
            derivative, how = _derivative(name, v, opts, v.x, method)
            result.append(Curve(name, v.key, v.xlabel, setting, v.x, value, derivative, how))
    return result


def _label(options: dict[str, Any], fixed: dict[str, Any]) -> str:
    shown = {k: v for k, v in options.items() if k not in fixed}
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in shown.items()) or "defaults"


def _clipped(y: np.ndarray) -> np.ndarray:
    """Values beyond a robust range blanked out, so a pole does not flatten the curve."""
    finite = y[np.isfinite(y)]
    if finite.size == 0:
        return y
    low, high = np.percentile(finite, [2, 98])
    span = max(high - low, 1e-12)
    return np.where((y < low - 2 * span) | (y > high + 2 * span), np.nan, y)


def figure(name: str, options: dict[str, Any] | None = None, *, vary: Any = True,
           view: str | None = None, points: int = POINTS, method: str | None = None,
           dpi: int = 100) -> Any:
    """The matplotlib figure of ``name``: the loss (top row) and its derivative (bottom
    row), one column per view, one line per swept value."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    data = curves(name, options, vary=vary, view=view, points=points, method=method)
    keys = list(dict.fromkeys(c.view for c in data))
    fig = Figure(figsize=(4.2 * len(keys), 5.6), dpi=dpi, layout="constrained")
    axes = fig.subplots(2, len(keys), squeeze=False, sharex="col")
    fixed = dict(options or {})
    for column, key in enumerate(keys):
        top, bottom = axes[0][column], axes[1][column]
        for c in (c for c in data if c.view == key):
            label = _label(c.options, fixed)
            top.plot(c.x, _clipped(c.value), label=label)
            bottom.plot(c.x, _clipped(c.derivative), label=label)
        methods = sorted({c.method for c in data if c.view == key})
        top.set_ylabel("loss")
        bottom.set_ylabel("derivative")
        bottom.set_xlabel(next(c.xlabel for c in data if c.view == key), fontsize=8)
        bottom.set_title(f"derivative: {', '.join(methods)}", fontsize=8)
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
            ax.axhline(0.0, color="0.6", lw=0.6)
        if len({_label(c.options, fixed) for c in data}) > 1:
            top.legend(fontsize=7)
    title = name + (f" ({_label(fixed, {})})" if fixed else "")
    fig.suptitle(f"{title}: values from arrayloss", fontsize=10)
    return fig


def overview(family: str, *, points: int = POINTS, dpi: int = 100) -> Any:
    """Every loss of ``family`` with default options on shared axes, in the view most of
    them share (the others are named in the figure's note)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    from ..core.registry import available

    names = available(family)
    first: dict[str, View] = {}
    skipped = []
    for n in names:
        try:
            first[n] = views(n, points=points)[0]
        except ValueError:
            skipped.append(n)
    keys = [v.key for v in first.values()]
    common = max(dict.fromkeys(keys), key=keys.count) if keys else None
    fig = Figure(figsize=(9.0, 4.0), dpi=dpi, layout="constrained")
    top, bottom = fig.subplots(1, 2)
    xlabel = ""
    if family == "classification":
        xlabel = "logit z of the true class (two classes: logits (z, 0))"
    for n, v in first.items():
        if v.key != common or not v.comparable or (
                family != "classification" and xlabel and v.xlabel != xlabel):
            skipped.append(n)
            continue
        xlabel = xlabel or v.xlabel
        (c,) = curves(n, vary=None, view=v.key, points=points)
        top.plot(c.x, _clipped(c.value), label=n)
        bottom.plot(c.x, _clipped(c.derivative), label=n)
    top.set_ylabel("loss")
    bottom.set_ylabel("derivative")
    for ax in (top, bottom):
        ax.set_xlabel(xlabel, fontsize=8)
        ax.grid(alpha=0.3)
    top.legend(fontsize=7)
    note = f" (on other axes, not shown: {', '.join(skipped)})" if skipped else ""
    fig.suptitle(textwrap.fill(f"{family} losses, default options{note}", 120), fontsize=9)
    return fig


def _option(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE; got {text!r}")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value  # a string option


def _vary(text: str) -> tuple[str, list[Any]] | None:
    if text == "none":
        return None
    key, sep, values = text.partition("=")
    if not sep or not key or not values:
        raise argparse.ArgumentTypeError(f"expected KEY=V1,V2,... or none; got {text!r}")
    return key, [_option(f"{key}={v}")[1] for v in values.split(",")]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="the loss (name or alias)")
    parser.add_argument("--option", action="append", type=_option, default=[],
                        metavar="KEY=VALUE", help="a fixed option of the loss (repeatable)")
    parser.add_argument("--vary", type=_vary, default=True, metavar="KEY=V1,V2,...",
                        help="the option swept (default: the loss's usual one; none: no sweep)")
    parser.add_argument("--view", help="only this slice (error, logit, probability, ...)")
    parser.add_argument("--family", help="every loss of this family on shared axes instead")
    parser.add_argument("--derivative", choices=("closed form", "jax.grad",
                                                 "finite differences"),
                        help="how the derivative is computed (default: the first that applies)")
    parser.add_argument("--points", type=int, default=POINTS, help="grid points per curve")
    parser.add_argument("--dpi", type=int, default=100, help="resolution of the PNG")
    parser.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="the image file (PNG, SVG or PDF by its extension)")


def run(args: argparse.Namespace) -> int:
    if (args.name is None) == (args.family is None):
        raise SystemExit("plot: give a loss NAME or --family FAMILY (one of them)")
    if args.points < 3:
        raise SystemExit(f"plot: --points must be at least 3; got {args.points}")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise SystemExit("plot needs matplotlib: pip install 'arrayloss[tutorial]'") from None
    try:
        if args.family is not None:
            fig = overview(args.family, points=args.points, dpi=args.dpi)
        else:
            fig = figure(args.name, dict(args.option), vary=args.vary, view=args.view,
                         points=args.points, method=args.derivative, dpi=args.dpi)
    except (ValueError, TypeError) as error:
        raise SystemExit(f"plot: {error}") from None
    fig.savefig(args.output)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0
