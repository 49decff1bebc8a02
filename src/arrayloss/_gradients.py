r"""Closed-form gradients and Hessian diagonals of arrayloss's losses.

NumPy, CuPy and Dask have no autodiff, and gradient-boosting libraries ask a custom
objective for per-sample gradients and Hessians. These functions give both for every loss
with a closed form, written once against the array API standard like the losses: same
namespace, device and dtype rules (SPEC section 3), same numerics (finite where the loss is
finite, exact for logits of ±1e4), and at a kink the subgradient ``jax.grad`` gives for
the loss itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .core.chain_rule import closed_form_names, evaluate, has_closed_form

__all__ = [
    "closed_form_names",
    "gradient",
    "has_closed_form",
    "hessian_diagonal",
    "value_and_gradient",
]

Loss = str | Callable[..., Any]


def gradient(loss: Loss, /, *arrays: Any, **options: Any) -> Any:
    """The gradient of ``loss(*arrays, **options)`` with respect to its prediction.

    ``loss`` is a loss name or a loss function of arrayloss; ``arrays`` are the loss's own
    positional arrays (``y_true, y_pred`` or, for ``gaussian_nll``, ``y_true, y_pred,
    var``); ``options`` are the loss's options, with ``axis``, ``sample_weight``, ``mask``
    and ``reduction``. The result is shaped like ``y_pred``, in its library, on its
    device, in the computation dtype. With ``reduction="none"`` it is the gradient of the
    sum of the per-sample values (each element's own sample's derivative, weighted).

    >>> import numpy as np
    >>> import arrayloss
    >>> arrayloss.gradient("mse", np.array([0.0, 1.0]), np.array([1.0, 1.0]))
    array([1., 0.])
    """
    return evaluate(loss, arrays, options).gradient


def hessian_diagonal(loss: Loss, /, *arrays: Any, **options: Any) -> Any:
    """The diagonal of the Hessian of ``loss(*arrays, **options)`` w.r.t. its prediction.

    Arguments as in :func:`gradient`. For a piecewise-linear loss (MAE, MAPE, quantile,
    hinge) it is 0, the value almost everywhere. For softmax losses from logits it is the
    per-class diagonal ``p·(1 - p)`` (times the target mass), the one boosting libraries use.

    >>> import numpy as np
    >>> import arrayloss
    >>> arrayloss.hessian_diagonal("mse", np.array([0.0, 1.0]), np.array([1.0, 1.0]),
    ...                            reduction="sum")
    array([2., 2.])
    """
    return evaluate(loss, arrays, options, gradient=False, hessian=True).hessian


def value_and_gradient(loss: Loss, /, *arrays: Any, **options: Any) -> tuple[Any, Any]:
    """``(loss(*arrays, **options), gradient(loss, *arrays, **options))`` in one pass:
    the resolution, the loss's formula and the reduction weights are computed once.

    >>> import numpy as np
    >>> import arrayloss
    >>> value, grad = arrayloss.value_and_gradient("mae", np.array([0.0]), np.array([2.0]))
    >>> float(value), grad
    (2.0, array([1.]))
    """
    result = evaluate(loss, arrays, options, value=True)
    return result.value, result.gradient
