"""``python -m arrayloss check``: run the conformance matrix on the installed backends.

Prints one line per loss as it finishes, then a row per loss with each library's worst
relative error against the float64 NumPy reference, the gradient agreement, the
transformations and the peer agreement, and the summary line
``N checks, N passed, N failed, backends: ...``. The exit status is 1 on any failure, 2
on a bad argument: among them a ``--backend`` that is not known or cannot run here (not
installed, no device), named with the reason and the backends available. Without
``--backend``, the libraries not installed are reported as absent.

What it runs (``--full`` runs what the pytest suite in ``conformance/`` runs):
every case of every loss on every installed backend variant, in float64 and float32 and
the half precisions the backend has; every rule of the reductions, weights and masks on
the first case of each loss, the per-sample values and a weighted, masked mean elsewhere;
the empty batch once per loss and library; gradients of every case (torch autograd and
``jax.jit(jax.grad)`` against finite differences and each other); ``jax.vmap``,
``torch.func.grad``/``vmap`` and Dask laziness on the first case of each loss and
``torch.compile(fullgraph=True)`` on an evenly spread sample of losses; every peer row;
registered extra columns (closed-form gradients) on the first case of each loss. On JAX and
Dask it makes one call per dtype, JAX under ``jax.jit`` only. Losses are checked in
parallel worker processes (``--jobs``), each loss's line printed as it finishes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--loss", action="append", metavar="NAME",
                        help="only this loss (name or alias; repeat for several)")
    parser.add_argument("--family", action="append", metavar="FAMILY",
                        help="only the losses of this family (repeat for several)")
    parser.add_argument("--backend", action="append", metavar="NAME",
                        help="only this library or backend variant (numpy, array_api_strict, "
                             "torch, jax, dask, cupy, jax_jit, ...; repeat for several)")
    parser.add_argument("--json", metavar="PATH", help="write every check's result here")
    parser.add_argument("--markdown", metavar="PATH",
                        help="write the table as Markdown (the published conformance report)")
    parser.add_argument("--full", action="store_true",
                        help="every reduction variant on every case, as the pytest suite")
    parser.add_argument("--no-peers", action="store_true", help="skip the peer libraries")
    parser.add_argument("--compile-sample", type=int, default=3, metavar="N",
                        help="losses checked under torch.compile (default 3; -1: all)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), metavar="N",
                        help="worker processes, one loss at a time each (default: up to 2, "
                             "the number of CPUs)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.set_defaults(check_parser=parser)  # for errors in argparse's form


def _error(args: argparse.Namespace, message: str) -> int:
    """``usage: ...`` and ``PROG: error: MESSAGE`` on stderr, as argparse reports a bad
    argument; the status 2 is returned (not raised) to the caller of :func:`run`."""
    parser = getattr(args, "check_parser", None)
    if parser is not None:
        parser.print_usage(sys.stderr)
    prog = parser.prog if parser is not None else "python -m arrayloss check"
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from ..conformance.backends import check_requested
    from ..conformance.matrix import default_losses, run_matrix
    from ..conformance.report import markdown, progress_line, table

    if args.backend:
        # A backend asked for by name that cannot run is an error, not an empty run.
        try:
            check_requested(args.backend)
        except ValueError as error:
            return _error(args, str(error))
    losses = list(args.loss or [])
    if args.family:
        from ..core.registry import entries

        families = {e.family for e in entries()}
        unknown = sorted(set(args.family) - families)
        if unknown:
            return _error(args, f"--family: unknown family {', '.join(unknown)}; known: "
                                f"{', '.join(sorted(families))}")
        allowed = set(default_losses())
        losses += [e.name for e in entries() if e.family in args.family and e.name in allowed]
    total = len(losses) if losses else len(default_losses())
    done = [0]

    def progress(loss: str, results: list, seconds: float) -> None:
        done[0] += 1
        if not args.quiet:
            print(progress_line(done[0], total, loss, results, seconds), flush=True)

    try:
        matrix = run_matrix(losses or None, args.backend, light=not args.full,
                            peers=not args.no_peers, progress=progress, jobs=args.jobs,
                            compile_sample=None if args.compile_sample < 0
                            else args.compile_sample)
    except ValueError as error:
        return _error(args, str(error))
    print()
    print(table(matrix), flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(matrix.to_json(), f, indent=1, default=str)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(markdown(matrix))
    return 1 if matrix.failed else 0
