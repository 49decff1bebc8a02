"""The common call's preparation, remembered per loss.

What :func:`~arrayloss.core.define.bind` decides for a call (namespace, computation dtype,
the shape rule's action, the axes, the checked options) depends only on the arrays'
types, dtypes, shapes and devices and on the options given. For the common call (NumPy
arrays or PyTorch tensors of one dtype, options that are plain Python values, no weight or
mask) those decisions are kept under that key, so a training loop's later calls skip the
checks it has already passed: one key and one dictionary lookup instead of the rules
(about 5 µs of a PyTorch call at 128 elements). Every call that is not remembered, and
every first call, runs the full rules, so every error of SPEC section 9 is still raised;
a call is remembered only after it has passed them.

Not used while ``torch.compile`` traces (whose shapes may be symbolic) nor inside
``torch.func`` transforms, where the full rules run as before.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from .native import torch_tracing

__all__ = ["CallPlan", "call_key", "remember", "replay"]

# Plans kept per loss; a loop over ever new shapes starts again from an empty cache.
_LIMIT = 64
_OPTION_TYPES = (bool, int, float, str, type(None))


class CallPlan(NamedTuple):
    """A remembered call: the fields of its prepared call but the data, and the shape the
    labels take with their length-1 class axis (``None``: every array is passed as it is)."""

    fields: tuple[Any, ...]  # the BoundCall's fields after ``data``
    label_shape: tuple[int, ...] | None


# PyTorch's tensor types, looked up once PyTorch is imported (never imported here).
_TORCH: dict[str, tuple[type, ...]] = {}


def call_key(arrays: Sequence[Any], given: dict[str, Any]) -> tuple[Any, ...] | None:
    """What ``bind`` decides from, as a key; ``None`` for a call that is not remembered."""
    parts: list[Any] = []
    checked_tracing = False
    for x in arrays:
        kind = type(x)
        if kind is np.ndarray:
            parts.append((kind, x.dtype, x.shape))
            continue
        torch_types = _TORCH.get("types")
        if torch_types is None:
            torch = sys.modules.get("torch")  # ok: only looked up, never imported
            if torch is None:
                return None
            torch_types = _TORCH["types"] = (torch.Tensor, torch.nn.Parameter)
        if kind not in torch_types:
            return None
        if not checked_tracing:
            if torch_tracing():
                return None
            checked_tracing = True
        parts.append((kind, x.dtype, x.shape, x.device))
    for name, value in given.items():
        if type(value) is tuple and all(type(v) is int for v in value):  # an axis
            parts.append((name, tuple, value))
        elif type(value) in _OPTION_TYPES:
            parts.append((name, type(value), value))  # the type too: True is not 1
        else:
            return None  # an array (sample_weight, mask, class_weight) or other object
    return tuple(parts)


def remember(plans: dict[Any, CallPlan], key: tuple[Any, ...], call: Any,
             arrays: Sequence[Any], labels: bool) -> None:
    """Keep ``call`` under ``key`` if its data are the arrays passed, as they are or (for
    integer labels) with a length-1 class axis added: anything else (a cast, a
    broadcast, a weight, a mask, a flattened tuple of class axes) is prepared again on
    every call."""
    if (call.weight is not None or call.keep is not None or call.restore is not None
            or call.class_keep is not None or len(call.data) != len(arrays)):
        return
    label_shape = None
    first = 0
    if labels and call.data[0] is not arrays[0]:
        prepared, given = call.data[0], arrays[0]
        if prepared.dtype != given.dtype or prepared.ndim != given.ndim + 1:
            return
        label_shape = tuple(prepared.shape)
        first = 1
    if any(d is not a for d, a in zip(call.data[first:], arrays[first:], strict=True)):
        return
    if len(plans) >= _LIMIT:
        plans.clear()
    plans[key] = CallPlan((call.xp, *tuple(call)[2:]), label_shape)


def replay(plan: CallPlan, arrays: Sequence[Any], make: Callable[..., Any]) -> Any:
    """The remembered call (``make`` builds it from its fields) with this call's arrays;
    the labels' class axis is added by the arrays' own ``reshape`` (a view, as the shape
    rule's ``expand_dims``)."""
    data = list(arrays)
    if plan.label_shape is not None:
        data[0] = data[0].reshape(plan.label_shape)
    xp, body_axis, mean_axes, options, *rest = plan.fields
    return make(xp, data, body_axis, mean_axes, dict(options), *rest)
