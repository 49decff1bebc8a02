"""The tutorial's outputs: the table of figures and the learning-curve plots."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

from .train import Result

__all__ = ["METRIC_NAMES", "plot_learning_curves", "table"]

METRIC_NAMES = {"mse": "MSE", "binary_accuracy": "accuracy",
                "categorical_accuracy": "accuracy"}
_HEADER = ("experiment", "loss", "backend", "metric", "train", "test", "tutorial train",
           "tutorial test")


def _rows(results: Sequence[Result]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for r in results:
        e = r.experiment
        rows.append((e.problem, e.loss, r.backend, METRIC_NAMES[e.metric], f"{r.train:.3f}",
                     f"{r.test:.3f}", f"{e.reported[0]:.3f}", f"{e.reported[1]:.3f}"))
    return rows


def _wide_rows(results: Sequence[Result]) -> list[tuple[str, ...]]:
    backends = list(dict.fromkeys(r.backend for r in results))
    runs = {(r.experiment.name, r.backend): r for r in results}
    experiments = list(dict.fromkeys(r.experiment for r in results))
    rows = [("experiment", "loss", "metric", *backends, "tutorial")]
    for e in experiments:
        cells = [f"{runs[e.name, b].train:.3f} / {runs[e.name, b].test:.3f}"
                 if (e.name, b) in runs else "" for b in backends]
        rows.append((e.problem, e.loss, METRIC_NAMES[e.metric] + " (train / test)", *cells,
                     f"{e.reported[0]:.3f} / {e.reported[1]:.3f}"))
    return rows


def table(results: Sequence[Result], *, markdown: bool = False, wide: bool = False) -> str:
    """The figures of ``results`` beside the tutorial's, as aligned text or Markdown.

    One row per run, or with ``wide``, one row per experiment with a "train / test"
    column per backend.
    """
    rows = _wide_rows(results) if wide else [_HEADER, *_rows(results)]
    if markdown:
        lines = ["| " + " | ".join(row) + " |" for row in rows]
        lines.insert(1, "|" + "|".join("---" if i < 3 or (i == 3 and not wide) else "---:"
                                       for i in range(len(rows[0]))) + "|")
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    first_number = 3 if wide else 4
    return "\n".join(
        "  ".join(cell.ljust(w) if i < first_number else cell.rjust(w)
                  for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip()
        for row in rows)


# Train in blue and test in orange, as the tutorial draws them; one line style per backend.
_STYLES = {"numpy": "-", "torch": "--", "jax": ":"}


def plot_learning_curves(results: Sequence[Result], directory: str | os.PathLike[str], *,
                         dpi: int = 80) -> list[str]:
    """Save one PNG per experiment (loss and metric per epoch, train and test, every
    backend of ``results`` overlaid) in ``directory``; return the paths written."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display needed
        import matplotlib.pyplot as plt
    except ImportError as error:  # an optional extra, not a dependency of arrayloss
        raise ImportError("--plots needs matplotlib, which is not installed; install it "
                          "with: pip install 'arrayloss[tutorial]'") from error
    os.makedirs(directory, exist_ok=True)
    by_experiment: dict[str, list[Result]] = {}
    for r in results:
        by_experiment.setdefault(r.experiment.name, []).append(r)
    paths = []
    for runs in by_experiment.values():
        e = runs[0].experiment
        figure, (top, bottom) = plt.subplots(2, 1, figsize=(5.5, 5.0), sharex=True)
        for r in runs:
            style = _STYLES.get(r.backend, "-.")
            epochs = range(1, len(r.history["loss"]) + 1)
            for axes, key in ((top, "loss"), (bottom, "metric")):
                axes.plot(epochs, r.history[key], style, color="tab:blue",
                          label=f"train ({r.backend})")
                axes.plot(epochs, r.history["val_" + key], style, color="tab:orange",
                          label=f"test ({r.backend})")
        top.set_title(f"{e.problem}: {e.loss}", fontsize=10)
        top.set_ylabel("loss")
        bottom.set_ylabel(METRIC_NAMES[e.metric])
        bottom.set_xlabel("epoch")
        if e.metric == "mse":
            _log_scale_if_wide(bottom, runs)
        top.legend(fontsize=7, ncol=2)
        figure.tight_layout()
        path = os.path.join(os.fspath(directory), f"{e.problem}_{e.loss}.png")
        figure.savefig(path, dpi=dpi)
        plt.close(figure)
        paths.append(path)
    return paths


def _log_scale_if_wide(axes, runs: Sequence[Result]) -> None:
    # A regression MSE that falls from ~1 to ~0.001 is flat on a linear axis after the
    # first epochs; a log axis shows the whole descent.
    values = [v for r in runs for k in ("metric", "val_metric") for v in r.history[k]]
    positive = [v for v in values if v > 0 and math.isfinite(v)]
    if positive and max(positive) / min(positive) > 100:
        axes.set_yscale("log")
