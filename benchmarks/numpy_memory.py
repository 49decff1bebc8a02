"""Peak extra memory of arrayloss's NumPy losses against a NumPy expression.

    python benchmarks/numpy_memory.py [--size N] [--markdown]

For each loss, the peak of the memory NumPy allocates while the loss is computed (traced
with ``tracemalloc``, which NumPy reports its buffers to), as a multiple of the size of the
prediction array; the inputs themselves are allocated before tracing starts. Nothing here
is a pass/fail test.
"""

from __future__ import annotations

import argparse
import tracemalloc
from collections.abc import Callable

import numpy as np
from table import Table  # benchmarks/table.py, beside this script

import arrayloss


def _peak(fn: Callable[[], object]) -> int:
    fn()  # warm-up: one-time allocations (caches, imports) are not the loss's
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def pairs(n: int) -> list[tuple[str, int, Callable[[], object], Callable[[], object]]]:
    rng = np.random.default_rng(0)
    flat_true, flat_pred = rng.normal(size=n), rng.normal(size=n)
    binary = rng.integers(0, 2, (n // 100, 100)).astype(float)
    logits = rng.normal(size=(n // 100, 100))
    probs = 1.0 / (1.0 + np.exp(-logits))
    labels = rng.integers(0, 100, n // 100)
    return [
        ("mse, 1-D input", flat_pred.nbytes, lambda: arrayloss.mse(flat_true, flat_pred),
         lambda: np.mean((flat_pred - flat_true) ** 2)),
        ("mae, 1-D input", flat_pred.nbytes, lambda: arrayloss.mae(flat_true, flat_pred),
         lambda: np.mean(np.abs(flat_pred - flat_true))),
        ("bce from probabilities", probs.nbytes, lambda: arrayloss.bce(binary, probs),
         lambda: -np.mean(binary * np.log(probs) + (1 - binary) * np.log1p(-probs))),
        ("bce from logits", logits.nbytes,
         lambda: arrayloss.bce(binary, logits, from_logits=True),
         lambda: np.mean(np.logaddexp(0, logits) - binary * logits)),
        ("scce from logits (C=100)", logits.nbytes,
         lambda: arrayloss.scce(labels, logits, from_logits=True),
         lambda: np.mean(np.log(np.exp(logits).sum(-1))
                         - np.take_along_axis(logits, labels[:, None], axis=-1)[:, 0])),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000_000, help="elements")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    print(f"{args.size} float64 elements; peak extra memory / prediction size")
    table = Table(("loss", "arrayloss", "NumPy expression"), markdown=args.markdown, width=28)
    for name, size, ours, expression in pairs(args.size):
        table.row((name, f"{_peak(ours) / size:.2f}×", f"{_peak(expression) / size:.2f}×"))

if __name__ == "__main__":
    main()
