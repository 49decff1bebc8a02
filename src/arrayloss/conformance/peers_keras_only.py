"""Peer rows of the losses whose only peer is Keras 3: the generalized cross-entropy and
the circle loss.

Each ``compute`` takes the arrayloss inputs (float64 NumPy, integer labels) and calls Keras
on its JAX backend (float32), so the rows use a float32 tolerance. Rows with ``difference``
pin where arrayloss deliberately departs from Keras.
"""

from __future__ import annotations

import numpy as np

from .peers import as_jax, keras_module, peer

N, C = 8, 4
KERAS_RTOL = 2e-5
_keras, _jnp = keras_module, as_jax


def _keras_loss(name, **options):
    def compute(*arrays):
        return np.asarray(getattr(_keras().losses, name)(*map(_jnp, arrays), **options))
    return compute


# -- generalized cross-entropy -----------------------------------------------------------------
def labels_distributions(rng):  # Keras reads the label's probability as it is
    return rng.integers(0, C, N), rng.dirichlet(np.ones(C), N)


def labels_unnormalized(rng):
    return rng.integers(0, C, N), rng.uniform(0.05, 1.0, (N, C))


def labels_column_distributions(rng):
    labels, p = labels_distributions(rng)
    return labels[:, None], p


_GCE, _KERAS_GCE = "categorical_generalized_crossentropy", "categorical_generalized_cross_entropy"
for _inputs, _q in [(labels_distributions, 0.5), (labels_unnormalized, 0.2),
                    (labels_distributions, 1.0)]:
    peer(_GCE, "keras", f"keras.losses.{_KERAS_GCE}", _inputs, _keras_loss(_KERAS_GCE, q=_q),
         options={"q": _q}, reduction="none", rtol=KERAS_RTOL)
peer(_GCE, "keras", f"keras.losses.{_KERAS_GCE}", labels_column_distributions,
     _keras_loss(_KERAS_GCE, q=0.5), reduction="none", rtol=KERAS_RTOL, recipe=np.diagonal,
     difference="Keras one-hot encodes (N, 1) labels to (N, 1, C) and broadcasts them "
                "against the (N, C) probabilities into an (N, N) loss (row i: every "
                "sample's probability of label i); arrayloss reads the trailing length-1 "
                "axis as the class axis, one value per sample: the diagonal of Keras's")


# -- circle --------------------------------------------------------------------------------
def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def groups(rng):  # label 3 has no positive: its value is 0, masked out of the mean
    return np.array([0, 0, 1, 1, 1, 2, 2, 3]), _unit(rng.normal(size=(N, 5)))


def raw_groups(rng):  # embeddings not of unit norm
    labels, e = groups(rng)
    return labels, e * rng.uniform(0.5, 2.0, (N, 1))


def _keras_circle_class(**options):
    def compute(labels, e):  # the class: Keras's mask averages over the queries with pairs
        return _keras().losses.Circle(**options)(_jnp(labels), _jnp(e))
    return compute


# Reference embeddings (options of arrayloss's circle, arguments of Keras's): label 4 is in
# no query, and the query of label 3 has a positive among them.
_REF_LABELS = np.array([0, 1, 2, 1, 4, 3])
_REF_EMBEDDINGS = _unit(np.random.default_rng(7).normal(size=(6, 5)))

_CIRCLE = "keras.losses.circle"
peer("circle", "keras", _CIRCLE, groups, _keras_loss("circle"), reduction="none",
     rtol=KERAS_RTOL)
peer("circle", "keras", "keras.losses.Circle", groups, _keras_circle_class(gamma=16.0),
     options={"gamma": 16.0}, rtol=KERAS_RTOL)
peer("circle", "keras", _CIRCLE, groups,
     _keras_loss("circle", gamma=16.0, margin=0.25, remove_diagonal=False),
     options={"gamma": 16.0, "margin": 0.25, "remove_diagonal": False}, reduction="none",
     rtol=KERAS_RTOL)
for _diagonal in (True, False):
    peer("circle", "keras", f"{_CIRCLE}(ref_labels, ref_embeddings)", groups,
         lambda labels, e, d=_diagonal: _keras().losses.circle(
             _jnp(labels), _jnp(e), ref_labels=_jnp(_REF_LABELS),
             ref_embeddings=_jnp(_REF_EMBEDDINGS), gamma=32.0, remove_diagonal=d),
         options={"gamma": 32.0, "remove_diagonal": _diagonal, "ref_labels": _REF_LABELS,
                  "ref_embeddings": _REF_EMBEDDINGS},
         reduction="none", rtol=KERAS_RTOL)
peer("circle", "keras", _CIRCLE, raw_groups, _keras_loss("circle", gamma=8.0),
     options={"gamma": 8.0}, reduction="none", rtol=KERAS_RTOL,
     difference="Keras expects unit-norm embeddings and takes 1 - x·r as the cosine "
                "distance of whatever it is given; arrayloss normalizes every embedding "
                "first (the same values on unit-norm inputs)")
