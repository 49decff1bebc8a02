"""``python -m arrayloss tutorial``: the nine loss-choice experiments on each backend.

Prints one table (experiment, loss, backend, train and test figure, and the tutorial's
reported figures beside them); ``--plots DIR`` also saves the learning curves as PNG
files. Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import sys
import time

BACKEND_CHOICES = ("numpy", "torch", "jax", "all")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=BACKEND_CHOICES, default="all",
                        help="the library to train with (default: all installed ones)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the initial weights and the shuffling (default: 0)")
    parser.add_argument("--plots", metavar="DIR",
                        help="save each experiment's learning curves as PNG files in DIR")
    parser.add_argument("--problem", action="append", choices=("regression", "circles",
                                                               "blobs"),
                        help="run only this problem (repeatable; default: all three)")
    parser.add_argument("--loss", action="append", metavar="NAME",
                        help="run only the experiments of this loss (repeatable)")
    parser.add_argument("--epochs", type=int, metavar="N",
                        help="train for N epochs instead of the tutorial's (a quick look)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--wide", action="store_true",
                        help="one row per experiment, a train / test column per backend")


class _Progress:
    """Progress on stderr: a live line on a terminal, one line per finished run otherwise."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.live = sys.stderr.isatty()

    def epoch(self, experiment, backend: str, epoch: int, epochs: int) -> None:
        if self.live:
            print(f"\r[{self.done + 1}/{self.total}] {backend:5} {experiment.name}: "
                  f"epoch {epoch}/{epochs}\033[K", end="", file=sys.stderr, flush=True)

    def finished(self, result) -> None:
        self.done += 1
        line = (f"[{self.done}/{self.total}] {result.backend:5} {result.experiment.name}: "
                f"train {result.train:.3f}, test {result.test:.3f} ({result.seconds:.1f} s)")
        # On a terminal, overwrite the live line (carriage return, then erase to its end).
        print("\r" + line + "\033[K" if self.live else line, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from ..tutorial import fit, installed, select
    from ..tutorial.report import plot_learning_curves, table

    if args.epochs is not None and args.epochs < 1:
        raise SystemExit(f"--epochs must be a positive number of epochs; got {args.epochs}")
    if args.backend == "all":
        backends = installed()
        missing = sorted({"numpy", "torch", "jax"} - set(backends))
        if missing:
            print(f"note: {', '.join(missing)} not installed; running on "
                  f"{', '.join(backends)}", file=sys.stderr)
    else:
        backends = [args.backend]
    try:
        experiments = select(args.problem, args.loss)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    if not experiments:
        raise SystemExit("no experiment matches the given --problem and --loss")

    progress = _Progress(len(experiments) * len(backends))
    results = []
    start = time.perf_counter()
    try:
        for backend in backends:
            for experiment in experiments:
                result = fit(experiment, backend, seed=args.seed, epochs=args.epochs,
                             progress=progress.epoch)
                progress.finished(result)
                results.append(result)
    except ImportError as error:  # scikit-learn or a backend library is missing
        raise SystemExit(str(error)) from None
    print(f"{len(results)} runs in {time.perf_counter() - start:.0f} s (seed {args.seed})",
          file=sys.stderr)
    print(table(results, markdown=args.markdown, wide=args.wide))
    if args.plots:
        try:
            paths = plot_learning_curves(results, args.plots)
        except ImportError as error:
            raise SystemExit(str(error)) from None
        print(f"learning curves: {len(paths)} PNG files in {args.plots}", file=sys.stderr)
    return 0
