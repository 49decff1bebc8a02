"""A loss over more data than memory, on a Dask cluster: time and peak worker memory.

    python benchmarks/dask_cluster.py [--elements 1e9] [--chunk 2e7] [--workers 2]
                                      [--memory-limit 1.5GiB] [--markdown]

Targets and predictions are synthesized chunk by chunk on the workers (``dask.array.random``)
and never materialized: the arrayloss graph is built lazily, then computed once, as a mean
(``mse``, ``bce`` from logits) and as summed partial reductions. Prints the time and the
peak of the workers' process memory (``distributed.diagnostics.MemorySampler``, the
cluster's total divided by the number of workers), against the size of the data the loss
reads.
"""

from __future__ import annotations

import argparse
import time

import dask.array as da
from distributed import Client, LocalCluster
from distributed.diagnostics import MemorySampler
from table import Table  # benchmarks/table.py, beside this script

import arrayloss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements", type=float, default=1e9)
    parser.add_argument("--chunk", type=float, default=2e7, help="elements per chunk")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="1.5GiB")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    n, chunk = int(args.elements), int(args.chunk)
    columns = 100
    rows, chunk_rows = n // columns, max(1, chunk // columns)
    with LocalCluster(n_workers=args.workers, threads_per_worker=1,
                      memory_limit=args.memory_limit, dashboard_address=None) as cluster, \
            Client(cluster):
        state = da.random.default_rng(0)
        shape, chunks = (rows, columns), (chunk_rows, columns)
        y_pred = state.standard_normal(shape, chunks=chunks, dtype="float32")
        y_true = state.standard_normal(shape, chunks=chunks, dtype="float32")
        labels = (state.random(shape, chunks=chunks, dtype="float32") > 0.5).astype("float32")
        data_gib = 2 * rows * columns * 4 / 2**30
        print(f"{rows * columns:.3g} float32 elements per input ({data_gib:.1f} GiB read per "
              f"loss), chunks of {chunk_rows * columns:.3g}, {args.workers} workers with "
              f"{args.memory_limit} each")
        table = Table(("loss", "time", "peak memory per worker", "value"), markdown=args.markdown,
                      width=40)
        runs = {
            "mse (mean)": lambda: arrayloss.mse(y_true, y_pred),
            "bce from logits (mean)": lambda: arrayloss.bce(labels, y_pred, from_logits=True),
            "mse (partial_mean, combined)": lambda: arrayloss.combine_partials(
                *arrayloss.mse(y_true, y_pred, reduction="partial_mean")),
        }
        for name, build in runs.items():
            lazy = build()  # a graph: nothing is computed yet
            sampler = MemorySampler()
            start = time.perf_counter()
            with sampler.sample(name, measure="process", interval=0.2):
                value = float(lazy.compute())
            seconds = time.perf_counter() - start
            frame = sampler.to_pandas()
            peak = float(frame[name].max()) / args.workers / 2**30  # per worker, on average
            table.row((name, f"{seconds:.1f} s", f"{peak:.2f} GiB", f"{value:.6f}"))


if __name__ == "__main__":
    main()
