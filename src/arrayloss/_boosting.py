"""Any arrayloss loss as a gradient-boosting custom objective (LightGBM, XGBoost).

Gradient-boosting libraries grow each tree from the per-sample gradient and Hessian of
the objective with respect to the raw scores. :func:`boosting_objective` gives them the
closed forms of :func:`arrayloss.gradient` and :func:`arrayloss.hessian_diagonal`:

- LightGBM: ``lgb.train({"objective": objective, ...}, dataset)`` or
  ``lgb.LGBMRegressor(objective=objective.sklearn)``;
- XGBoost: ``xgb.train(params, dtrain, obj=objective)`` or
  ``xgb.XGBRegressor(objective=objective.sklearn)``.

Custom objectives start from a raw score of 0 and get no automatic sample weighting: the
objective multiplies by the dataset's weights itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .core.chain_rule import _loss_spec, evaluate, form_of
from .core.options import check_number

__all__ = ["BoostingObjective", "boosting_objective"]


class BoostingObjective:
    """A custom objective ``(predictions, training_data) -> (grad, hess)``.

    ``training_data`` is a LightGBM ``Dataset`` or an XGBoost ``DMatrix`` (anything with
    ``get_label()`` and ``get_weight()``). :meth:`sklearn` is the same objective with the
    scikit-learn wrappers' signature ``(y_true, y_pred[, weight])``.
    """

    def __init__(self, loss: str | Callable[..., Any], *, hessian_floor: float | None = None,
                 **options: Any) -> None:
        spec, bound = _loss_spec(loss)
        form = form_of(spec.name)  # NotImplementedError at once for a loss without one
        if len(spec.inputs) != 2:
            raise ValueError(
                f"a boosting objective needs a loss of (y_true, y_pred); {spec.name} takes "
                f"{', '.join(spec.inputs)}"
            )
        reserved = sorted({"sample_weight", "mask", "reduction"} & set(options))
        if reserved:
            raise TypeError(
                f"boosting_objective() sets {', '.join(reserved)} itself (the dataset's "
                "weights, per-sample values); pass only the loss's own options"
            )
        if hessian_floor is None:
            # Piecewise-linear losses have a zero Hessian almost everywhere; LightGBM's and
            # XGBoost's own L1 and quantile objectives use a constant Hessian of 1 there.
            hessian_floor = 1.0 if form.zero_hessian else None
        else:
            hessian_floor = check_number("hessian_floor", hessian_floor, low=0)
        self.loss = spec.name
        self.kind = spec.kind
        self.options = {**bound, **options}
        if spec.kind == "elementwise":
            # One value per raw score: no average over a class axis of multi-output scores.
            self.options.setdefault("axis", ())
        self.hessian_floor = hessian_floor

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return (f"BoostingObjective({self.loss!r}, hessian_floor={self.hessian_floor!r}"
                f"{', ' + options if options else ''})")

    def __call__(self, predictions: Any, training_data: Any) -> tuple[np.ndarray, np.ndarray]:
        """LightGBM's ``lgb.train`` and XGBoost's ``xgb.train(obj=...)`` signature."""
        return self.gradient_and_hessian(training_data.get_label(), predictions,
                                         training_data.get_weight())

    def sklearn(self, y_true: Any, y_pred: Any, weight: Any = None
                ) -> tuple[np.ndarray, np.ndarray]:
        """The scikit-learn wrappers' signature (``LGBMRegressor(objective=...)``)."""
        return self.gradient_and_hessian(y_true, y_pred, weight)

    def gradient_and_hessian(self, labels: Any, predictions: Any, weight: Any = None
                             ) -> tuple[np.ndarray, np.ndarray]:
        """Per-sample ``(grad, hess)`` shaped like ``predictions``, as float64 NumPy."""
        scores = np.asarray(predictions, dtype=np.float64)
        labels = np.asarray(labels)
        if self.kind == "labels":
            labels = labels.astype(np.int64)
        elif self.kind == "axis" and labels.ndim == scores.ndim - 1:
            # Class indices (what boosting libraries store) as one-hot targets.
            labels = (labels.astype(np.int64)[..., None] == np.arange(scores.shape[-1]))
            labels = labels.astype(np.float64)
        else:
            labels = labels.astype(np.float64)
            if labels.shape != scores.shape and labels.size == scores.size:
                labels = labels.reshape(scores.shape)
        result = evaluate(self.loss, (labels, scores), dict(self.options, reduction="none"),
                          hessian=True)
        grad = np.asarray(result.gradient, dtype=np.float64)
        hess = np.asarray(result.hessian, dtype=np.float64)
        if self.hessian_floor is not None:
            hess = np.where(hess < self.hessian_floor, self.hessian_floor, hess)
        if weight is not None and np.size(weight) > 0:
            w = np.asarray(weight, dtype=np.float64).reshape((-1,) + (1,) * (grad.ndim - 1))
            grad, hess = grad * w, hess * w
        return grad, hess


def boosting_objective(loss: str | Callable[..., Any], /, *,
                       hessian_floor: float | None = None, **options: Any) -> BoostingObjective:
    """``loss`` (a name or an arrayloss loss, with its ``options``) as a custom objective
    for LightGBM and XGBoost: ``(predictions, training_data) -> (grad, hess)``.

    Raw scores are ``y_pred``: use ``from_logits=True`` for the classification losses.
    Class-index labels are passed as integers to the sparse losses and one-hot encoded
    for the categorical ones. The Hessian is the closed-form diagonal, floored at
    ``hessian_floor`` where given; by default a piecewise-linear loss (MAE, MAPE,
    quantile, hinge), whose Hessian is 0 almost everywhere, gets a constant 1 (times the
    sample weight), as the libraries' own L1 and quantile objectives do. A loss whose
    Hessian can be negative (``tukey_biweight``) may want ``hessian_floor=1e-3``.

    >>> import numpy as np
    >>> import arrayloss
    >>> objective = arrayloss.boosting_objective("mse")
    >>> objective.sklearn(np.array([1.0, 2.0]), np.array([0.0, 2.0]))
    (array([-2.,  0.]), array([2., 2.]))
    """
    return BoostingObjective(loss, hessian_floor=hessian_floor, **options)
