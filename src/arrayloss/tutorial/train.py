"""The training loop, the same for every backend.

``fit`` trains the tutorial's network for one experiment on one backend: Keras's
``model.fit(batch_size=32, shuffle=True)`` written out. Each epoch visits the 500 training
samples in a new random order in batches of 32 (the last one holds 20), and takes one SGD
step per batch. After each epoch the loss and the metric are measured on the whole
training set and on the test set; they make the learning curves. The final figures are
those of the last epoch (what ``model.evaluate`` gives after training).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import data, model
from .backends import Backend, Objective, get_backend
from .experiments import EXPERIMENTS, Experiment

__all__ = ["BATCH_SIZE", "LEARNING_RATE", "MOMENTUM", "Result", "fit"]

BATCH_SIZE = 32
LEARNING_RATE = 0.01
MOMENTUM = 0.9

Progress = Callable[[Experiment, str, int, int], None]


@dataclass
class Result:
    """What one run gives: the final figures, the learning curves and the time taken."""

    experiment: Experiment
    backend: str
    seed: int
    epochs: int
    train: float = float("nan")  # ok: a Python default, no array
    test: float = float("nan")  # ok: a Python default, no array
    history: dict[str, list[float]] = field(default_factory=lambda: {
        "loss": [], "val_loss": [], "metric": [], "val_metric": []})
    seconds: float = 0.0


def _rng(seed: int, experiment: Experiment) -> np.random.Generator:
    # One stream per (seed, experiment): the same start and the same batches on every
    # backend, whichever experiments are run together.
    return np.random.default_rng((seed, EXPERIMENTS.index(experiment)))


def fit(experiment: Experiment, backend: Backend | str, *, seed: int = 0,
        epochs: int | None = None, progress: Progress | None = None) -> Result:
    """Train and measure one experiment on one backend.

    ``seed`` fixes the initial weights and the batch order; ``epochs`` (default: the
    tutorial's) shortens a run. ``progress(experiment, backend, epoch, epochs)`` is called
    after every epoch.
    """
    import arrayloss

    backend = get_backend(backend) if isinstance(backend, str) else backend
    epochs = experiment.epochs if epochs is None else epochs
    dataset = data.load(experiment.problem, experiment.targets)
    x_train, y_train = dataset.x_train, dataset.y_train
    rng = _rng(seed, experiment)
    # One output per target column, or one per class for integer labels.
    n_out = (y_train.shape[1] if y_train.ndim == 2
             else int(max(dataset.y_train.max(), dataset.y_test.max())) + 1)
    params = model.init_params(rng, x_train.shape[1], experiment.hidden, n_out)

    # From here on every array is the backend's; only the batch order comes from NumPy.
    asarray = backend.asarray
    params = {k: asarray(v) for k, v in params.items()}
    velocity = model.zeros_like_params(params)
    objective = Objective(arrayloss.get(experiment.loss), experiment.output)
    value_and_grad = backend.value_and_grad(objective)

    def train_step(state, x, y, batch, keep):
        # One SGD step on the rows `batch` of the training set (x, y). Every batch has
        # BATCH_SIZE rows (one compiled shape under jax.jit); the last batch of an epoch
        # is padded with repeated rows that `keep` masks out of the loss's mean, so the
        # step is the one Keras's smaller last batch gives.
        params, velocity = state
        _, grads = value_and_grad(params, model.take_rows(x, batch),
                                  model.take_rows(y, batch), keep)
        return model.sgd_momentum(params, velocity, grads, learning_rate=LEARNING_RATE,
                                  momentum=MOMENTUM)

    def evaluate(params, x, y):
        y_pred = model.forward(params, x, experiment.output)
        return objective.loss(y, y_pred), model.metric(experiment.metric, y, y_pred)

    def train_epoch(params, velocity, batches, keeps, x, y, x_test, y_test):
        # One pass over the batches (rows of `batches`), then the loss and the metric on
        # the training and the test set: one point of each learning curve.
        params, velocity = backend.loop(
            lambda state, batch, keep: train_step(state, x, y, batch, keep),
            (params, velocity), batches, keeps)
        return params, velocity, (*evaluate(params, x, y), *evaluate(params, x_test, y_test))

    train_epoch = backend.compile(train_epoch)  # jax.jit: one compile per experiment
    splits = [asarray(a) for a in (x_train, y_train, dataset.x_test, dataset.y_test)]

    n = x_train.shape[0]
    n_batches = -(-n // BATCH_SIZE)
    keeps = asarray(np.arange(n_batches * BATCH_SIZE).reshape(n_batches, BATCH_SIZE) < n)
    result = Result(experiment, backend.name, seed, epochs)
    start = time.perf_counter()
    with backend.running():
        for epoch in range(epochs):
            # A new order each epoch (Keras's shuffle=True), cut into batches; np.resize
            # repeats the order to fill the last batch, whose extra rows `keeps` masks out.
            batches = np.resize(rng.permutation(n), (n_batches, BATCH_SIZE))
            params, velocity, figures = train_epoch(params, velocity, asarray(batches),
                                                    keeps, *splits)
            for key, value in zip(("loss", "metric", "val_loss", "val_metric"), figures,
                                  strict=True):
                result.history[key].append(float(backend.to_numpy(value)))  # ok: once per epoch
            if progress is not None:
                progress(experiment, backend.name, epoch + 1, epochs)
    result.seconds = time.perf_counter() - start
    if epochs:
        result.train = result.history["metric"][-1]
        result.test = result.history["val_metric"][-1]
    return result
