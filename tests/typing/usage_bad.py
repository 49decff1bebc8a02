"""Deliberate mistakes that the type checkers must report, each on the line whose comment
names the mistake (tests/test_typing.py checks both mypy and pyright)."""

from __future__ import annotations

import numpy as np

import arrayloss

y_true = np.array([0.0, 1.0])
y_pred = np.array([0.2, 0.7])

arrayloss.mse(y_true, y_pred, reduction="avg")  # error: reduction
arrayloss.huber(y_true, y_pred, delt=1.0)  # error: misspelled option
arrayloss.bce(y_true, y_pred, from_logit=True)  # error: misspelled option
arrayloss.huber(y_true, y_pred, delta="big")  # error: wrong option type
arrayloss.bce(y_true, y_pred, from_logits=1)  # error: wrong option type
arrayloss.scce(y_true, y_pred, ignore_index=1.5)  # error: wrong option type
arrayloss.mse(y_true=y_true, y_pred=y_pred)  # error: data by keyword
arrayloss.cce(y_true, y_pred, -1)  # error: option passed positionally
arrayloss.mae(y_true)  # error: missing data
