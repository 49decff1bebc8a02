"""Closed-form derivatives of the structured losses that have a simple one.

``contrastive`` is element-wise in the distance. The others (dice, tversky, jaccard,
triplet_margin, ntxent, ctc) couple several inputs or a whole batch and are left to
autodiff (see ``_gradients.py``).
"""

from __future__ import annotations

from typing import Any

from ._gradients_core import closed_form


@closed_form("contrastive")
def _contrastive(xp: Any, y_true: Any, distance: Any, *, margin: float) -> tuple[Any, Any]:
    # (1 - y)·d² + y·max(m - d, 0)²: 2(1 - y)·d - 2y·max(m - d, 0), and 2(1 - y) + 2y·[d < m]
    # (the squared hinge is differentiable at d = m; its second derivative takes the
    # outer branch there, as positive_part's `where` does).
    inside = margin - distance > 0
    zero = xp.zeros_like(distance)
    push = xp.where(inside, margin - distance, zero)
    gradient = 2.0 * (1.0 - y_true) * distance - 2.0 * y_true * push
    hessian = 2.0 * (1.0 - y_true) + xp.where(inside, 2.0 * y_true + zero, zero)
    return gradient, hessian
