"""A user's code that must type-check without a single error (tests/test_typing.py)."""

from __future__ import annotations

import numpy as np

import arrayloss
from arrayloss import Reduction

y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
y_pred = np.array([[0.2, 0.7], [0.9, 0.4]])
labels = np.array([1, 0])

value = arrayloss.binary_crossentropy(y_true, y_pred)
value = arrayloss.bce(y_true, y_pred, from_logits=True, label_smoothing=0.1,
                      reduction="sum")
value = arrayloss.huber(y_true, y_pred, delta=2, axis=(0, 1), sample_weight=[1.0, 2.0])
value = arrayloss.mse([0.0, 1.0], [0.5, 0.5], reduction="none")
value = arrayloss.scce(labels, y_pred, from_logits=True, ignore_index=None, axis=-1)
value = arrayloss.nll(labels, np.log(y_pred), class_weight=[1.0, 2.0], ignore_index=-100,
                      reduction="weighted_mean")
value = arrayloss.dice(y_true, y_pred, class_axis=None, axis=None, smooth=1.0)
value = arrayloss.triplet_margin(y_true, y_pred, y_true, margin=0.5, p=1, swap=True)
value = arrayloss.ctc(np.array([[1, 2]]), np.zeros((1, 4, 3)), [2], [4], blank=0)
value = arrayloss.gaussian_nll(y_true, y_pred, np.ones((2, 2)), full=True)
value = arrayloss.l1_l2([y_pred], l1=0.1, l2=0.2)
value = arrayloss.one_hot(labels, 2) + arrayloss.to_categorical(labels)

reduction: Reduction = "mean"
value = arrayloss.kld(y_true, y_pred, reduction=reduction)

loss = arrayloss.get("BCEWithLogitsLoss", pos_weight=2.0)
value = loss(y_true, y_pred)
names: list[str] = arrayloss.available("regression")
grad = arrayloss.gradient("huber", y_true, y_pred, delta=0.5)
print(value, names, grad)
