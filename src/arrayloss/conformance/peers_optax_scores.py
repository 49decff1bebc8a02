"""Peer rows of optax's losses on raw scores: ``perceptron_loss``, ``sparsemax_loss``,
``multiclass_perceptron_loss``, ``multiclass_hinge_loss`` and ``multiclass_sparsemax_loss``
against arrayloss's ``reduction="none"`` (optax returns element-wise or per-sample values);
and ``softmax_cross_entropy_with_integer_labels`` over a tuple of class axes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .peers import as_jax, peer

N, C = 8, 5
OPTAX_RTOL = 2e-5  # optax runs in float32 unless jax_enable_x64 is set
_jnp = as_jax
_EACH = {"axis": ()}


def _optax() -> Any:
    import optax

    return optax


def _signs(rng):
    return rng.choice([-1.0, 1.0], (N, C)), 2.0 * rng.normal(size=(N, C))


def _zero_one(rng):
    return rng.integers(0, 2, (N, C)).astype(float), 2.0 * rng.normal(size=(N, C))


def _labels(rng):
    # Scores spread from 0.1 to 4 per row: sparsemax supports of one to all classes.
    spread = np.geomspace(0.1, 4.0, N)[:, None]
    return rng.integers(0, C, N), spread * rng.normal(size=(N, C))


peer("perceptron", "optax", "optax.perceptron_loss", _signs,
     lambda y, s: np.asarray(_optax().losses.perceptron_loss(_jnp(s), _jnp(y))),
     options=_EACH, reduction="none", rtol=OPTAX_RTOL)
peer("binary_sparsemax", "optax", "optax.sparsemax_loss", _zero_one,
     lambda y, s: np.asarray(_optax().losses.sparsemax_loss(_jnp(s), _jnp(y))),
     options=_EACH, reduction="none", rtol=OPTAX_RTOL)
for _loss, _name in (("multiclass_perceptron", "multiclass_perceptron_loss"),
                     ("multiclass_hinge", "multiclass_hinge_loss"),
                     ("multiclass_sparsemax", "multiclass_sparsemax_loss")):
    peer(_loss, "optax", f"optax.{_name}", _labels,
         lambda y, s, name=_name: np.asarray(getattr(_optax().losses, name)(_jnp(s), _jnp(y))),
         reduction="none", rtol=OPTAX_RTOL)

peer("sparse_categorical_crossentropy", "optax",
     "optax.softmax_cross_entropy_with_integer_labels(axis=(1, 3))",
     lambda rng: (rng.integers(0, 8, (N, 3)), rng.normal(size=(N, 2, 3, 4))),
     lambda y, z: np.asarray(_optax().losses.softmax_cross_entropy_with_integer_labels(
         _jnp(z), _jnp(y), axis=(1, 3))),
     options={"from_logits": True, "axis": (1, 3)}, reduction="none", rtol=OPTAX_RTOL)
