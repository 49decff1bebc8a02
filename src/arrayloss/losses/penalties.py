r"""Weight penalties (Keras's ``L1``, ``L2`` and ``L1L2`` regularizers) over arrays.

Each takes one array or any nesting of lists, tuples and dicts of arrays (a torch model's
``parameters()``, a JAX pytree such as a Flax ``params`` dict) and returns a 0-d array of
their library, on the first array's device, in its computation dtype.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import array_api_compat

from ..core.namespace import resolve
from ..core.options import check_number
from ..core.reduction import as_array
from ..core.registry import register
from ..core.stable import absolute

__all__ = ["l1", "l1_l2", "l2"]


def _leaves(weights: Any) -> list[Any]:
    """Flatten ``weights`` (an array, or nested lists, tuples, dicts, iterables of arrays)."""
    if array_api_compat.is_array_api_obj(weights):
        return [weights]
    if isinstance(weights, Mapping):
        weights = weights.values()
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Iterable):
        raise TypeError(
            "weights must be an array or an iterable (list, tuple, dict, generator) of "
            f"arrays; got {type(weights).__name__}"
        )
    return [leaf for item in weights for leaf in _leaves(item)]


def _penalty(weights: Any, l1_factor: float, l2_factor: float) -> Any:
    leaves = _leaves(weights)
    if not leaves:  # nothing to penalize: a NumPy zero of the default float dtype
        leaves = [0.0]
    names = [f"weights[{i}]" for i in range(len(leaves))]
    xp, _, _, arrays = resolve(list(zip(names, leaves, strict=True)), reference=names[0])
    total = xp.zeros_like(xp.sum(arrays[0]))
    for w in arrays:
        # Both terms always computed: a factor of 0 must still give a 0-d array of xp.
        total = total + l1_factor * xp.sum(absolute(w)) + l2_factor * xp.sum(w**2)
    return as_array(xp, total)


@register("l1", family="penalty")
def l1(weights: Any, /, *, factor: float = 0.01) -> Any:
    r"""L1 penalty: ``factor · Σ|w|`` over every array in ``weights``.

    .. math:: \Omega(w) = \lambda_1 \sum_i |w_i|

    Keras ``regularizers.L1(l1=0.01)``. The subgradient at ``w = 0`` is ``+factor`` on
    every backend.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.l1([xp.asarray([1.0, -2.0]), xp.asarray([[3.0]])], factor=0.5)
    Array(3., dtype=array_api_strict.float64)
    """
    check_number("factor", factor, low=0)
    return _penalty(weights, factor, 0.0)


@register("l2", family="penalty")
def l2(weights: Any, /, *, factor: float = 0.01) -> Any:
    r"""L2 penalty: ``factor · Σ w²`` (no ½, as Keras) over every array in ``weights``.

    .. math:: \Omega(w) = \lambda_2 \sum_i w_i^2

    Keras ``regularizers.L2(l2=0.01)``; PyTorch's SGD ``weight_decay=wd`` adds the gradient
    of ``l2(w, factor=wd / 2)``; optax's ``add_decayed_weights`` likewise.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.l2(xp.asarray([1.0, -2.0]), factor=0.5)
    Array(2.5, dtype=array_api_strict.float64)
    """
    check_number("factor", factor, low=0)
    return _penalty(weights, 0.0, factor)


@register("l1_l2", family="penalty", aliases=("elastic_net",))
def l1_l2(weights: Any, /, *, l1: float | None = None, l2: float | None = None,
          alpha: float | None = None, l1_ratio: float | None = None) -> Any:
    r"""Elastic-net penalty: ``l1 · Σ|w| + l2 · Σ w²``, or in the glossary's (and
    scikit-learn's) parametrization ``alpha · l1_ratio · Σ|w| + alpha · (1 - l1_ratio) · Σ w²``.

    .. math:: \Omega(w) = \lambda_1 \sum_i |w_i| + \lambda_2 \sum_i w_i^2,
              \quad \lambda_1 = \alpha\rho,\; \lambda_2 = \alpha(1 - \rho)

    Give ``l1``/``l2`` (Keras ``regularizers.L1L2``; both default to 0.01) or
    ``alpha``/``l1_ratio`` (``alpha`` defaults to 1.0, ``l1_ratio`` to 0.5, as in
    scikit-learn), never both kinds. scikit-learn's ``ElasticNet`` objective halves the
    squared term: ``l1_l2(w, alpha=a, l1_ratio=r) - a·(1 - r)/2·Σw²`` is its penalty, or
    ``l1_l2(w, l1=a·r, l2=a·(1 - r)/2)``.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> arrayloss.l1_l2(xp.asarray([1.0, -2.0]), l1=1.0, l2=1.0)
    Array(8., dtype=array_api_strict.float64)
    >>> arrayloss.elastic_net(xp.asarray([1.0, -2.0]), alpha=2.0, l1_ratio=0.25)
    Array(9., dtype=array_api_strict.float64)
    """
    keras_style = {k: v for k, v in (("l1", l1), ("l2", l2)) if v is not None}
    ratio_style = {k: v for k, v in (("alpha", alpha), ("l1_ratio", l1_ratio)) if v is not None}
    if keras_style and ratio_style:
        given = ", ".join(f"{k}={v!r}" for k, v in {**keras_style, **ratio_style}.items())
        raise TypeError(
            "l1_l2 takes either l1/l2 (Keras) or alpha/l1_ratio (scikit-learn), not both; "
            f"got {given}")
    if ratio_style:
        alpha = check_number("alpha", 1.0 if alpha is None else alpha, low=0)
        l1_ratio = check_number("l1_ratio", 0.5 if l1_ratio is None else l1_ratio,
                                low=0, high=1)
        return _penalty(weights, alpha * l1_ratio, alpha * (1.0 - l1_ratio))
    l1 = check_number("l1", 0.01 if l1 is None else l1, low=0)
    l2 = check_number("l2", 0.01 if l2 is None else l2, low=0)
    return _penalty(weights, l1, l2)
