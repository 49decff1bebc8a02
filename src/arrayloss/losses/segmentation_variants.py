r"""Two variants of the soft overlap losses: focal Tversky and generalized Dice.

Both reuse the soft counts of :mod:`.segmentation` (``TP``, ``FP``, ``FN`` summed over
``axis``, one value per sample by default) and its options (``from_logits``,
``class_axis``, ``ignore_background``, ``class_reduction``, ``axis``).
"""

from __future__ import annotations

from typing import Any

from ..core.chain_rule import no_closed_form
from ..core.define import define_loss
from ..core.options import Flag, NonNegative, Positive
from .segmentation import (
    PER_SAMPLE,
    ClassReduction,
    _check_class_axis,
    _overlap,
)

__all__ = ["focal_tversky", "generalized_dice"]

_SEGMENTATION = "segmentation"


@define_loss("focal_tversky", family=_SEGMENTATION, kind="custom")
def focal_tversky(xp: Any, y_true: Any, y_pred: Any, *, alpha: NonNegative = 0.3,
                  beta: NonNegative = 0.7, gamma: Positive = 0.75, smooth: NonNegative = 1e-7,
                  from_logits: Flag = False, class_axis: int | None = None,
                  class_weight: Any = None, ignore_background: Flag = False,
                  class_reduction: ClassReduction = "mean", axis: Any = PER_SAMPLE) -> Any:
    r"""Focal Tversky loss (Abraham & Khan, 2019): the Tversky loss raised to ``gamma``.

    .. math:: \ell_c = \left(1 - TI_c\right)^{\gamma}, \qquad
              TI_c = \frac{TP_c + s}{TP_c + \alpha\,FP_c + \beta\,FN_c + s}

    per sample and per class (with ``class_axis``), then weighted by ``class_weight`` and
    reduced over the classes as in :func:`tversky`; ``gamma=1`` is :func:`tversky`.
    ``alpha`` weighs the false positives, ``beta`` the false negatives. The defaults are the
    paper's best setting: false negatives weighed 0.7, false positives 0.3, and the exponent
    ``0.75``. The paper writes the exponent as ``1/γ`` (its ``γ = 4/3``):
    its ``γ = g`` is ``gamma=1/g`` here. Most code, Abraham's own included, raises to
    ``gamma`` directly, as here. segmentation_models_pytorch ``TverskyLoss(gamma=g)`` raises
    the *mean over classes* of ``1 - TI_c`` to ``g`` (one value for the whole batch):
    equal to ``focal_tversky(gamma=g)`` for one class and ``axis=None``, not for several
    classes. kornia's ``TverskyLoss`` has no exponent.

    Gradient at a perfect overlap (``TI = 1``): for ``gamma < 1`` the exact derivative
    ``γ·(1 - TI)^(γ-1)`` is infinite there; the loss takes its minimum's gradient, 0, so a
    perfectly predicted sample contributes a finite (zero) gradient instead of NaN.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> y = xp.asarray([[1.0, 1.0, 0.0, 0.0]])
    >>> p = xp.asarray([[1.0, 0.0, 0.0, 0.0]])
    >>> float(arrayloss.focal_tversky(y, p, alpha=0.5, beta=0.5, gamma=2.0, smooth=0.0))
    0.1111111111111111
    """
    _check_class_axis(class_axis)
    return _overlap(xp, y_true, y_pred, alpha=alpha, beta=beta, smooth=smooth,
                    from_logits=from_logits, class_axis=class_axis, class_weight=class_weight,
                    ignore_background=ignore_background, axis=axis,
                    class_reduction=class_reduction, gamma=gamma)


no_closed_form(
    "focal_tversky",
    "its value couples a whole batch through the overlap sums, "
    "so it is differentiated by autodiff only",
)


def _inverse_square_frequency(epsilon: float) -> Any:
    """optax's generalized-Dice class weights ``1/(f_c² + ε)``, scaled to sum to ``C``."""
    def weigh(xp: Any, y_true: Any, class_axis: int, like: Any) -> Any:
        # The class frequencies f_c of the whole batch: every axis but the class axis.
        others = tuple(a for a in range(y_true.ndim) if a != class_axis)
        frequency = xp.sum(y_true, axis=others)
        # ε keeps an empty class's weight finite, 1/ε: the largest weight of all.
        weights = 1.0 / (frequency * frequency + epsilon)
        return weights / xp.sum(weights) * y_true.shape[class_axis]
    return weigh


@define_loss("generalized_dice", family=_SEGMENTATION, kind="custom")
def generalized_dice(xp: Any, y_true: Any, y_pred: Any, *, smooth: NonNegative = 1e-7,
                     epsilon: Positive = 1e-7, from_logits: Flag = False, class_axis: int = -1,
                     ignore_background: Flag = False, class_reduction: ClassReduction = "mean",
                     axis: Any = PER_SAMPLE) -> Any:
    r"""Generalized Dice loss (Sudre et al., 2017) as optax computes it: the per-class Dice
    losses weighted by the inverse squared class frequencies of the batch.

    .. math:: w_c = C\,\frac{1/(f_c^2 + \epsilon)}{\sum_k 1/(f_k^2 + \epsilon)}, \quad
              f_c = \sum_{\text{batch}} y_c, \qquad
              \ell = \operatorname{mean}_c\, w_c\,\Bigl(1 - \frac{2\,TP_c + s}
              {\sum y_c + \sum p_c + s}\Bigr)

    The frequencies ``f_c`` sum the targets over every axis but ``class_axis`` (the whole
    batch, as optax does, so the weights tie the samples together); the per-class Dice
    losses are per sample, as in :func:`dice`. An empty class (``f_c = 0``) gets the weight
    ``1/epsilon`` before the scaling, far above any present class's: it dominates the mean
    (optax's choice, kept). The weights are scaled to sum to ``C`` over all the classes,
    before ``ignore_background`` drops class 0.

    optax ``multiclass_generalized_dice_loss(predictions, targets, smooth=s)`` is
    ``generalized_dice(targets, predictions, smooth=2*s, from_logits=True)`` (optax's
    smooth is added to ``TP`` and the half-sum: ``2s`` in Dice's form), its scalar the
    ``"mean"`` reduction. Sudre's paper and MONAI ``GeneralizedDiceLoss`` sum the weighted
    counts before dividing, ``1 - 2 Σ_c w_c TP_c / Σ_c w_c (Σ y_c + Σ p_c)``, with an empty
    class's infinite weight replaced by the largest finite one: a different value.

    >>> import array_api_strict as xp
    >>> import arrayloss
    >>> y = xp.asarray([[[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]])  # f = (3, 1)
    >>> p = xp.asarray([[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]])
    >>> # Dice losses (1/5, 1/3), weights (0.2, 1.8): (0.2/5 + 1.8/3)/2
    >>> round(float(arrayloss.generalized_dice(y, p, smooth=0.0)), 6)
    0.32
    """
    if class_axis is None:
        raise ValueError("generalized_dice weighs the classes of one-hot targets and needs "
                         "an int class_axis (default -1); got class_axis=None")
    _check_class_axis(class_axis)
    return _overlap(xp, y_true, y_pred, alpha=0.5, beta=0.5, smooth=smooth / 2,
                    from_logits=from_logits, class_axis=class_axis, class_weight=None,
                    ignore_background=ignore_background, axis=axis,
                    class_reduction=class_reduction, weigh=_inverse_square_frequency(epsilon))


no_closed_form(
    "generalized_dice",
    "its value couples a whole batch through the overlap sums and the class frequencies, "
    "so it is differentiated by autodiff only",
)
