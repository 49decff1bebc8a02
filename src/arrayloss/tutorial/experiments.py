"""The nine experiments of the loss-choice tutorial, as data.

The tutorial ("How to Choose Loss Functions When Training Deep Learning Neural Networks")
trains the same small network on three problems with three losses each and reports one
train and one test figure per run. An :class:`Experiment` names everything that changes
between runs: the problem, the loss, the output activation, the label encoding, the
number of epochs, the metric and the tutorial's reported figures. Everything else (one
hidden ReLU layer, SGD with learning rate 0.01 and momentum 0.9, batch size 32, the first
500 samples for training) is shared and lives in :mod:`.model` and :mod:`.train`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EXPERIMENTS", "PROBLEMS", "Experiment", "select"]


@dataclass(frozen=True)
class Experiment:
    """One of the nine runs.

    ``problem``: ``"regression"``, ``"circles"`` or ``"blobs"`` (see :mod:`.data`).
    ``loss``: the arrayloss name the tutorial passes to Keras's ``compile(loss=...)``.
    ``output``: the output layer's activation: ``"linear"``, ``"sigmoid"``, ``"tanh"`` or
    ``"softmax"``. ``targets``: how the labels are encoded for the loss: ``"value"`` (the
    standardized regression target), ``"binary"`` ({0, 1}), ``"signed"`` ({-1, 1}, for
    the hinge losses), ``"one_hot"`` (``arrayloss.to_categorical``) or ``"integer"``.
    ``metric``: ``"mse"``, ``"binary_accuracy"`` or ``"categorical_accuracy"``.
    ``reported``: the tutorial's (train, test) figure for this run.
    """

    problem: str
    loss: str
    output: str
    targets: str
    epochs: int
    hidden: int
    metric: str
    reported: tuple[float, float]

    @property
    def name(self) -> str:
        return f"{self.problem}/{self.loss}"


# The tutorial's figures are single runs of a stochastic procedure (random initial weights
# and shuffling); they are what one run gave, not expected values.
EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment("regression", "mean_squared_error", "linear", "value", 100, 25, "mse",
               (0.000, 0.001)),
    Experiment("regression", "mean_squared_logarithmic_error", "linear", "value", 100, 25,
               "mse", (0.165, 0.184)),
    Experiment("regression", "mean_absolute_error", "linear", "value", 100, 25, "mse",
               (0.002, 0.002)),
    Experiment("circles", "binary_crossentropy", "sigmoid", "binary", 200, 50,
               "binary_accuracy", (0.836, 0.852)),
    Experiment("circles", "hinge", "tanh", "signed", 200, 50, "binary_accuracy",
               (0.792, 0.740)),
    Experiment("circles", "squared_hinge", "tanh", "signed", 200, 50, "binary_accuracy",
               (0.682, 0.646)),
    Experiment("blobs", "categorical_crossentropy", "softmax", "one_hot", 100, 50,
               "categorical_accuracy", (0.840, 0.822)),
    Experiment("blobs", "sparse_categorical_crossentropy", "softmax", "integer", 100, 50,
               "categorical_accuracy", (0.832, 0.818)),
    Experiment("blobs", "kl_divergence", "softmax", "one_hot", 100, 50,
               "categorical_accuracy", (0.822, 0.822)),
)

PROBLEMS = ("regression", "circles", "blobs")


def select(problems: list[str] | None = None, losses: list[str] | None = None
           ) -> tuple[Experiment, ...]:
    """The experiments of the given problems and losses (all when ``None``)."""
    for given, known, what in ((problems, PROBLEMS, "problem"),
                               (losses, [e.loss for e in EXPERIMENTS], "loss")):
        unknown = sorted(set(given or ()) - set(known))
        if unknown:
            raise ValueError(f"unknown {what}(s) {', '.join(unknown)}; "
                             f"expected some of: {', '.join(known)}")
    return tuple(e for e in EXPERIMENTS
                 if (problems is None or e.problem in problems)
                 and (losses is None or e.loss in losses))
