"""The per-loss table of a conformance run: as text (the terminal), as Markdown (the
published conformance report) and one progress line per loss.

Columns: for each installed library, the worst relative error of its values against the
float64 NumPy reference over every variant, dtype and case (``FAIL`` if any check failed);
the gradients (worst error of autodiff against finite differences and of torch against
JAX); the transformations passed; the peer libraries agreeing (pinned differences counted
as such); and one column per registered extra check.
"""

from __future__ import annotations

from collections.abc import Iterable

from .extra import extra_checks
from .matrix import Matrix, Result, library_of

__all__ = ["markdown", "progress_line", "table", "table_rows"]

FIXED = ("values", "empty_batch", "gradient", "gradient_agreement", "transform", "peer")


def _worst(results: Iterable[Result]) -> str:
    results = list(results)
    if not results:
        return "-"
    if any(not r.passed for r in results):
        return "FAIL"
    errors = [r.error for r in results if r.error is not None]
    return f"{max(errors):.1e}" if errors else "ok"


def _worst_by_precision(results: Iterable[Result]) -> str:
    """``float64 worst / lower-precision worst`` (``2e-16 / 1e-07``)."""
    results = list(results)
    if not results:
        return "-"
    if any(not r.passed for r in results):
        return "FAIL"
    f64 = [e for r in results for d, e in r.dtypes.items() if d == "float64"]
    low = [e for r in results for d, e in r.dtypes.items() if d != "float64"]
    parts = [f"{max(x):.0e}" if x else "-" for x in (f64, low)]
    return " / ".join(parts)


def _count(results: Iterable[Result]) -> str:
    results = list(results)
    if not results:
        return "-"
    ran = [r for r in results if not r.message.startswith("absent:")]
    ok = sum(r.passed for r in ran)
    text = f"{ok}/{len(ran)}" if ran else "absent"
    pinned = sum(1 for r in ran if r.passed and r.pinned)
    if pinned:
        text += f" ({pinned} pinned)"
    return text if ok == len(ran) else f"FAIL {text}"


def columns(matrix: Matrix) -> list[str]:
    extras = [e.column for e in extra_checks()
              if any(r.kind == e.column for r in matrix.results)]
    return ["loss", *matrix.backends, "gradients", "transforms", "peers", *extras]


def table_rows(matrix: Matrix) -> list[list[str]]:
    """One row per loss, in the order of :func:`columns`."""
    extras = columns(matrix)[len(matrix.backends) + 4:]
    rows = []
    for loss in matrix.losses:
        mine = [r for r in matrix.results if r.loss == loss]
        row = [loss]
        for lib in matrix.backends:
            row.append(_worst_by_precision(
                r for r in mine if r.kind in ("values", "empty_batch")
                and library_of(r.target) == lib)
                       if any(r.kind == "values" for r in mine) else "FAIL")
        row.append(_worst(r for r in mine if r.kind in ("gradient", "gradient_agreement")))
        row.append(_count(r for r in mine if r.kind == "transform"))
        row.append(_count(r for r in mine if r.kind == "peer"))
        row += [_worst(r for r in mine if r.kind == column) for column in extras]
        rows.append(row)
    return rows


def table(matrix: Matrix) -> str:
    """The table as aligned text, then the summary line."""
    head = columns(matrix)
    rows = table_rows(matrix)
    widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in [head, *rows]]
    failed = matrix.failed
    detail = [f"FAILED {r.loss} [{r.kind} {r.target}] {r.case}: {r.message.splitlines()[0]}"
              for r in failed[:50]]
    if len(failed) > 50:
        detail.append(f"... and {len(failed) - 50} more (--json writes them all)")
    return "\n".join([*lines, "", *detail, matrix.summary()])


def progress_line(index: int, total: int, loss: str, results: list[Result],
                  seconds: float) -> str:
    """``[ 3/29] huber  42 checks, all passed  1.2s`` (or the number failed)."""
    bad = [r for r in results if not r.passed]
    where = sorted({f"{r.kind} {r.target}" for r in bad})
    state = "all passed" if not bad else f"{len(bad)} FAILED ({', '.join(where[:3])})"
    width = len(str(total))
    return (f"[{index:>{width}}/{total}] {loss:<32} {len(results):>4} checks, {state}"
            f"  {seconds:.1f}s")


LEGEND = """\
Each library column gives the worst relative error `|a - e| / max(|e|, 1)` of that
library's results against the float64 NumPy reference, in float64 / in float32 and the
half precisions (computed in float32), over every case, reduction,
weight and mask variant and backend variant of the library (array-api-strict: default,
strictest flags and a second device; JAX: eager and under `jax.jit`; Dask: with `compute()`
forbidden inside the loss). float32 and lower-precision results are within
`4·sqrt(eps(float32))` ≈ 1.4e-3; float64 ones within `4·sqrt(eps(float64))` ≈ 6e-8.
**gradients**: worst error of torch autograd and `jax.jit(jax.grad)` against central finite
differences (smooth cases) and against each other (every case). **transforms**: checks
passed among `jax.vmap`, `torch.compile(fullgraph=True)` (on a sample of losses),
`torch.func.grad`, `torch.func.vmap` and Dask laziness. **peers**: reference libraries that
agree (Keras 3, PyTorch, optax, scikit-learn, statsmodels, ...), with the deliberate
differences that are pinned and checked to still differ."""


INTRO = """\
# Conformance report

arrayloss promises that one implementation gives the same numbers everywhere. This page is
written by `python -m arrayloss check --markdown docs/conformance.md`; run the command to
check the promise on your own machine, with the backends you have installed (each library
not installed is reported as absent, never as passed). `--json PATH` writes every check's
result; `--loss`, `--family` and `--backend` select; `--full` runs what the pytest suite
in `conformance/` runs (`python -m pytest conformance`).

What is checked, from one declarative table of cases (loss, options, input generator, and
an independent float64 NumPy reference of the per-sample values):

- **values**: every case of every loss on NumPy, array-api-strict (API 2024.12; also with
  boolean indexing and data-dependent shapes disabled, and on a second device), PyTorch
  (with its native kernels, and as `torch_formula` without them: the array-API formula),
  JAX (eager and under `jax.jit`), Dask (with `compute()` forbidden inside the loss) and
  CuPy, in float64 and float32, and in float16 and bfloat16 where the library has them (the
  result is float32); the result's library, device, dtype and shape; the reductions,
  `sample_weight` and `mask` of [the shared rules](rules.md) including the means over
  nothing (all masked, all-zero weights, an empty batch) that must be 0;
- **gradients**: torch autograd and `jax.jit(jax.grad)` in float64 against central finite
  differences of the reference (and `torch.autograd.gradcheck`) where the case is smooth,
  and against each other everywhere, ties and kinks included;
- **transforms**: `jax.vmap`, `torch.func.grad`, `torch.func.vmap` and Dask laziness on
  the first case of each loss, `torch.compile(fullgraph=True)` on a sample of losses;
- **peers**: the same loss in Keras 3, PyTorch, optax, scikit-learn, statsmodels and
  others through one mapping table, with each deliberate difference pinned, explained and
  checked to still differ (and its one-line recipe checked to reproduce arrayloss).

The command runs a lighter set of reduction variants than the pytest suite (every rule on
the first case of each loss; one call per dtype on JAX and Dask) to finish in about two
minutes on a 2-core machine; the pytest suite runs them all.
"""


def markdown(matrix: Matrix, command: str = "python -m arrayloss check") -> str:
    """The Markdown conformance report: what is checked, the table, the summary and a
    legend."""
    head = columns(matrix)
    rows = table_rows(matrix)
    out = [f"| {' | '.join(head)} |", f"|{'|'.join('---' for _ in head)}|"]
    out += [f"| {' | '.join(r)} |" for r in rows]
    failed = matrix.failed
    fail_lines = [f"- `{r.loss}` {r.kind} {r.target} `{r.case}`: "
                  f"{r.message.splitlines()[0] if r.message else ''}" for r in failed]
    absent = (f"Libraries not available (reported as absent, not as passed): "
              f"{', '.join(matrix.absent)}.\n\n" if matrix.absent else "")
    return "\n".join([
        INTRO, "## Results", "",
        f"Written by `{command}` in {matrix.seconds:.0f} s.", "",
        f"**{matrix.summary()}**", "", absent + "\n".join(out), "",
        *(["Failures:", "", *fail_lines, ""] if failed else []), LEGEND, ""])
