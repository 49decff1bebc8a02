"""The tutorial's network, written once against the array API standard.

One hidden ReLU layer and one output layer::

    hidden = relu(x @ w1 + b1)
    y_pred = activation(hidden @ w2 + b2)

The parameters are a plain dict of four arrays, so the same functions run on NumPy,
PyTorch and JAX arrays: the namespace ``xp`` comes from the arrays themselves
(``array_api_compat.array_namespace``). Nothing here knows which library it runs on; the
backends in :mod:`.backends` differ only in how they get the gradient of the loss with
respect to the parameters.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from array_api_compat import array_namespace

from ..core.stable import log_softmax, sigmoid

__all__ = ["OUTPUTS", "activate", "backward", "forward", "hidden_layer", "init_params",
           "layers", "metric", "sgd_momentum", "take_rows", "zeros_like_params"]

OUTPUTS = ("linear", "sigmoid", "tanh", "softmax")
METRICS = ("mse", "binary_accuracy", "categorical_accuracy")
Params = dict[str, Any]


def init_params(rng: np.random.Generator, n_in: int, n_hidden: int, n_out: int) -> Params:
    """Keras's initial weights for the tutorial's layers, as NumPy float32 arrays.

    The hidden layer uses He-uniform (``kernel_initializer='he_uniform'`` in the tutorial):
    ``U(-l, l)`` with ``l = sqrt(6 / fan_in)``. The output layer keeps Keras's default,
    Glorot-uniform: ``l = sqrt(6 / (fan_in + fan_out))``. Biases start at 0. The same
    ``rng`` gives the same start on every backend.
    """
    he = math.sqrt(6.0 / n_in)
    glorot = math.sqrt(6.0 / (n_hidden + n_out))
    return {
        "w1": rng.uniform(-he, he, size=(n_in, n_hidden)).astype(np.float32),
        "b1": np.zeros(n_hidden, dtype=np.float32),
        "w2": rng.uniform(-glorot, glorot, size=(n_hidden, n_out)).astype(np.float32),
        "b2": np.zeros(n_out, dtype=np.float32),
    }


def zeros_like_params(params: Params) -> Params:
    """A dict of zeros shaped like ``params`` (the initial momentum)."""
    xp = array_namespace(*params.values())
    return {name: xp.zeros_like(value) for name, value in params.items()}


def hidden_layer(params: Params, x: Any) -> tuple[Any, Any]:
    """The hidden layer's pre-activation ``x @ w1 + b1`` and its ReLU."""
    xp = array_namespace(x, params["w1"])
    pre = x @ params["w1"] + params["b1"]
    # ReLU as a `where`, so that its derivative at exactly 0 is 0 on every backend
    # (the hand-written backward pass in backends.py uses the same rule).
    return pre, xp.where(pre > 0, pre, xp.zeros_like(pre))


def activate(z: Any, output: str) -> Any:
    """The output layer's activation of the logits ``z``."""
    xp = array_namespace(z)
    if output == "linear":
        return z
    if output == "sigmoid":
        return sigmoid(z)  # exp(log_sigmoid(z)): no overflow of exp(-z)
    if output == "tanh":
        return xp.tanh(z)
    if output == "softmax":
        return xp.exp(log_softmax(z, axis=-1))  # max-shifted: no overflow of exp(z)
    raise ValueError(f"output must be one of {', '.join(OUTPUTS)}; got {output!r}")


def layers(params: Params, x: Any, output: str) -> tuple[Any, Any, Any]:
    """The hidden pre-activation, the hidden layer and the prediction for the inputs ``x``."""
    pre, hidden = hidden_layer(params, x)
    return pre, hidden, activate(hidden @ params["w2"] + params["b2"], output)


def forward(params: Params, x: Any, output: str) -> Any:
    """The network's prediction for the inputs ``x`` (one row per sample)."""
    return layers(params, x, output)[2]


def backward(params: Params, x: Any, output: str, pre: Any, hidden: Any, y_pred: Any,
             grad_y_pred: Any) -> Params:
    """Backpropagation by hand: the gradient of the loss with respect to the parameters.

    ``grad_y_pred`` is the gradient of the loss with respect to the network's output
    (``arrayloss.gradient``); ``pre``, ``hidden`` and ``y_pred`` come from :func:`layers`.
    This is the chain rule that autograd and ``jax.grad`` apply for the other backends.
    """
    xp = array_namespace(x, y_pred)
    g = grad_y_pred
    # Through the output activation, from its output y = act(z):
    if output == "linear":
        grad_z = g
    elif output == "sigmoid":
        grad_z = g * y_pred * (1.0 - y_pred)  # sigmoid'(z) = y (1 - y)
    elif output == "tanh":
        grad_z = g * (1.0 - y_pred**2)  # tanh'(z) = 1 - y²
    elif output == "softmax":
        # Jacobian of softmax is diag(y) - y yᵀ, so its product with g (row by row) is
        # y ⊙ (g - <g, y>): no C×C matrix is formed.
        grad_z = y_pred * (g - xp.sum(g * y_pred, axis=-1, keepdims=True))
    else:
        raise ValueError(f"output must be one of {', '.join(OUTPUTS)}; got {output!r}")
    # Through the two dense layers; ReLU passes the gradient where its input was > 0.
    grad_hidden = grad_z @ params["w2"].T
    grad_pre = xp.where(pre > 0, grad_hidden, xp.zeros_like(grad_hidden))
    return {
        "w1": x.T @ grad_pre,
        "b1": xp.sum(grad_pre, axis=0),
        "w2": hidden.T @ grad_z,
        "b2": xp.sum(grad_z, axis=0),
    }


def take_rows(x: Any, rows: Any) -> Any:
    """The rows ``rows`` (an integer array) of ``x``: a batch."""
    return array_namespace(x).take(x, rows, axis=0)


def sgd_momentum(params: Params, velocity: Params, grads: Params, *,
                 learning_rate: float = 0.01, momentum: float = 0.9) -> tuple[Params, Params]:
    """One step of SGD with momentum, Keras's rule: ``v ← μ·v − η·g``, ``w ← w + v``.

    Returns new dicts; nothing is written in place (JAX arrays are immutable, and a
    functional update is the same code for every backend).
    """
    velocity = {k: momentum * velocity[k] - learning_rate * grads[k] for k in params}
    return {k: params[k] + velocity[k] for k in params}, velocity


def metric(kind: str, y_true: Any, y_pred: Any) -> Any:
    """The tutorial's metric, as a 0-d array of ``y_pred``'s library.

    ``"mse"``: mean squared error (of the standardized regression target).
    ``"binary_accuracy"``: Keras 2's rule, the rate of ``round(y_pred) == y_true``; for
    the {-1, 1} labels of the hinge losses a tanh output in (-0.5, 0.5) rounds to 0 and
    counts as wrong, which is how the tutorial's hinge figures were measured.
    ``"categorical_accuracy"``: the rate of ``argmax(y_pred) == label``, where the label
    is ``y_true`` itself (integer labels) or its argmax (one-hot rows).
    """
    xp = array_namespace(y_pred)
    if kind == "mse":
        return xp.mean((y_pred - y_true) ** 2)
    if kind == "binary_accuracy":
        hits = xp.round(y_pred) == y_true
    elif kind == "categorical_accuracy":
        labels = xp.argmax(y_true, axis=-1) if y_true.ndim == y_pred.ndim else y_true
        hits = xp.argmax(y_pred, axis=-1) == labels
    else:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}; got {kind!r}")
    return xp.mean(xp.astype(hits, y_pred.dtype))
