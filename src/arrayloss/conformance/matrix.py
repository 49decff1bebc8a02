"""Run the whole conformance matrix loss by loss and collect every check's result (what
``python -m arrayloss check`` prints and writes).

Per loss: values on every backend variant and dtype (:mod:`.plan`), the empty batch, the
gradients (autodiff against finite differences, torch against JAX), the transformations
(:mod:`.transforms`), the peers (:mod:`.peers`) and any registered extra column
(:mod:`.extra`). A library that is not installed is reported as absent, never as passed.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import arrayloss

from . import runner
from .backends import BACKENDS, Backend, backend
from .cases import Case, all_cases
from .extra import extra_checks
from .gradients import check_gradient, check_gradient_agreement, gradient_backends
from .peers import Peer, all_peers, check_peer
from .plan import empty_batch_backends, first_case_per_loss, value_plan
from .transforms import available_transforms

__all__ = ["LIBRARIES", "Matrix", "Result", "default_losses", "library_of", "run_matrix"]

# The libraries of the report's columns, and the import that makes each available.
LIBRARIES = {"numpy": "numpy", "array_api_strict": "array_api_strict", "torch": "torch",
             "jax": "jax", "dask": "dask", "cupy": "cupy"}


def library_of(backend_name: str) -> str:
    """The library of a backend variant (``jax_jit`` -> ``jax``)."""
    for lib in sorted(LIBRARIES, key=len, reverse=True):
        if backend_name == lib or backend_name.startswith(lib + "_"):
            return lib
    return backend_name


@dataclass
class Result:
    """One check: ``kind`` is values, empty_batch, gradient, gradient_agreement, transform,
    peer or an extra column's name; ``target`` the backend, transformation or peer."""

    loss: str
    kind: str
    target: str
    case: str
    passed: bool
    error: float | None = None
    dtypes: dict[str, float] = field(default_factory=dict)
    message: str = ""
    seconds: float = 0.0
    pinned: bool = False  # a peer row that pins a deliberate difference


@dataclass
class Matrix:
    """Every result, the libraries present and absent, and the losses in order."""

    losses: list[str]
    backends: list[str]
    absent: list[str]
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if not r.passed]

    def summary(self) -> str:
        n, bad = len(self.results), len(self.failed)
        absent = f" (absent: {', '.join(self.absent)})" if self.absent else ""
        return (f"{n} checks, {n - bad} passed, {bad} failed, "
                f"backends: {', '.join(self.backends)}{absent}")

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary(), "losses": self.losses, "backends": self.backends,
                "absent": self.absent, "seconds": round(self.seconds, 2),
                "results": [asdict(r) for r in self.results]}


def _run(results: list[Result], loss: str, kind: str, target: str, case: str,
         fn: Callable[[], Any]) -> None:
    start = time.perf_counter()
    try:
        value = fn()
    except Exception as error:  # every failure is a failed check, reported, never raised
        message = f"{type(error).__name__}: {error}" if not isinstance(
            error, AssertionError) else str(error)
        results.append(Result(loss, kind, target, case, False, None, {}, message[:2000],
                              time.perf_counter() - start))
        return
    if isinstance(value, dict):
        dtypes, worst = value, max(value.values(), default=0.0)
    else:
        dtypes, worst = {}, float(value or 0.0)
    results.append(Result(loss, kind, target, case, True, worst, dtypes, "",
                          time.perf_counter() - start))


def _select_backends(names: Iterable[str] | None) -> tuple[list[Backend], list[str]]:
    """The available backend variants (of ``names``: libraries or variants) and the
    libraries asked for (default: all) that have none: not installed, or no device."""
    chosen = [b for b in BACKENDS if b.is_available()]
    wanted = set(LIBRARIES)
    if names:
        wanted = set(names)
        unknown = wanted - {b.name for b in BACKENDS} - set(LIBRARIES)
        if unknown:
            raise ValueError(f"unknown backend(s) {sorted(unknown)}; known: "
                             f"{sorted(set(LIBRARIES) | {b.name for b in BACKENDS})}")
        chosen = [b for b in chosen if b.name in wanted or library_of(b.name) in wanted]
    present = {library_of(b.name) for b in chosen}
    absent = [lib for lib in LIBRARIES if lib in wanted and lib not in present]
    return chosen, absent


@dataclass(frozen=True)
class _Settings:
    backends: tuple[str, ...]
    light: bool
    peers: bool
    transforms: bool
    compiled: frozenset[str]
    peers_elsewhere: bool = False  # the parent process checks the peers


def run_matrix(losses: Iterable[str] | None = None, backends: Iterable[str] | None = None,
               *, light: bool = True, peers: bool = True, transforms: bool = True,
               compile_sample: int | None = 6, jobs: int = 1,
               progress: Callable[[str, list[Result], float], None] | None = None,
               cases: list[Case] | None = None) -> Matrix:
    """Run the matrix for ``losses`` (default: every public loss) on ``backends`` (default:
    every installed one). ``compile_sample`` limits ``torch.compile`` to that many losses,
    evenly spread (``None``: every loss). ``jobs`` > 1 checks losses in that many worker
    processes (each keeps its imports and compilation caches across the losses it gets);
    ``progress(loss, results, seconds)`` is called as each loss finishes."""
    start = time.perf_counter()
    chosen, absent = _select_backends(backends)
    names = default_losses() if losses is None else [_canonical(n) for n in losses]
    if cases is not None and losses is None:
        names = list(dict.fromkeys(c.loss for c in cases))
    libs = list(dict.fromkeys(library_of(b.name) for b in chosen))
    matrix = Matrix(names, libs, absent)
    settings = _Settings(tuple(b.name for b in chosen), light, peers, transforms,
                         frozenset(names if compile_sample is None
                                   else _spread(names, compile_sample)))
    by_loss: dict[str, list[Result]] = {}
    if jobs > 1 and cases is None and len(names) > 1:
        import concurrent.futures
        import multiprocessing

        # "spawn": a fresh interpreter per worker (forking a process that has started
        # JAX's or PyTorch's threads is unsafe).
        context = multiprocessing.get_context("spawn")
        # The peers run here, while the workers check the losses: their libraries (Keras,
        # optax, scikit-learn, ...) are then imported once, not once per worker.
        settings = dataclasses.replace(settings, peers_elsewhere=True)
        with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context) as pool:
            futures = {pool.submit(_check_loss_timed, n, settings): n for n in names}
            peer_results: dict[str, list[Result]] = {}
            if peers:
                for p in all_peers():
                    if p.loss in names:
                        _peer(peer_results.setdefault(p.loss, []), p)
            for future in concurrent.futures.as_completed(futures):
                results, seconds = future.result()
                results += peer_results.get(futures[future], [])
                by_loss[futures[future]] = results
                if progress is not None:
                    progress(futures[future], results, seconds)
    else:
        for name in names:
            results, seconds = _check_loss_timed(name, settings, cases)
            by_loss[name] = results
            if progress is not None:
                progress(name, results, seconds)
    matrix.results = [r for name in names for r in by_loss[name]]
    matrix.seconds = time.perf_counter() - start
    return matrix


def _check_loss_timed(name: str, settings: _Settings,
                      cases: list[Case] | None = None) -> tuple[list[Result], float]:
    start = time.perf_counter()
    return _check_loss(name, settings, cases), time.perf_counter() - start


def _check_loss(name: str, settings: _Settings, cases: list[Case] | None) -> list[Result]:
    """Every check of one loss."""
    chosen = [backend(n) for n in settings.backends]
    libs = {library_of(n) for n in settings.backends}
    mine = [c for c in (all_cases() if cases is None else cases) if c.loss == name]
    results: list[Result] = []
    if not mine:
        results.append(Result(name, "values", "-", "-", False,
                              message=f"no conformance case for {name!r}"))
    _values(results, name, mine, chosen, settings.light)
    autodiff = gradient_backends(chosen)
    for c in mine:
        for b in autodiff:
            _run(results, name, "gradient", b.name, c.id,
                 functools.partial(check_gradient, c, b))
        if len(autodiff) >= 2:
            _run(results, name, "gradient_agreement", "+".join(b.name for b in autodiff),
                 c.id, functools.partial(check_gradient_agreement, c, autodiff))
    if settings.transforms and mine:
        for t in available_transforms():
            if t.name == "torch.compile" and name not in settings.compiled:
                continue
            if t.name == "dask.lazy" and settings.light:
                continue  # every Dask value check already forbids compute() in the loss
            if library_of(t.module) not in libs:
                continue
            _run(results, name, "transform", t.name, mine[0].id,
                 functools.partial(t.check, mine[0]))
    if settings.peers and not settings.peers_elsewhere:
        for p in all_peers():
            if p.loss == name:
                _peer(results, p)
    for extra in extra_checks():
        _extra(results, extra, mine, chosen, settings.light)
    return results


# Where the command line checks all the cases of a loss in one batch of calls (one
# compilation under jax.jit, one compute() on Dask).
BATCHED = ("jax_jit", "dask")


def _values(results: list[Result], name: str, mine: list[Case], chosen: list[Backend],
            light: bool) -> None:
    rows = value_plan(mine, chosen, light=light)
    for b in chosen:
        items = [(c, plan) for c, bb, plan in rows if bb is b]
        if light and b.name in BATCHED and len(items) > 1:
            start = time.perf_counter()
            outcomes = runner.check_many(items, b)
            share = (time.perf_counter() - start) / len(items)
            for (c, _), outcome in zip(items, outcomes, strict=True):
                _run(results, name, "values", b.name, c.id,
                     functools.partial(_raise_or_return, outcome))
                results[-1].seconds = share
            continue
        for c, plan in items:
            _run(results, name, "values", b.name, c.id,
                 functools.partial(runner.check_dtypes, c, b, plan))
    firsts = [c for c in first_case_per_loss(mine) if c.empty_batch]
    for c in firsts:
        for b in empty_batch_backends(chosen):
            _run(results, name, "empty_batch", b.name, c.id,
                 functools.partial(runner.check_empty_batch, c, b))


def _raise_or_return(outcome: Any) -> Any:
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def _peer(results: list[Result], p: Peer) -> None:
    if not p.is_available():
        results.append(Result(p.loss, "peer", p.function, p.id, True, None, {},
                              f"absent: {p.module} is not installed"))
        return
    _run(results, p.loss, "peer", p.function, p.id, lambda: check_peer(p))
    results[-1].pinned = p.difference is not None


def _extra(results: list[Result], extra: Any, mine: list[Case], chosen: list[Backend],
           light: bool) -> None:
    if any(importlib.util.find_spec(m) is None for m in extra.needs):
        return
    names = {b.name for b in chosen}
    applicable = [c for c in mine if extra.applies(c)]
    # The command line runs an extra column on the first case of the loss it applies to.
    for c in applicable[:1] if light else applicable:
        for bname in extra.backends:
            if bname not in names:
                continue
            for dtype in extra.dtypes:
                _run(results, c.loss, extra.column, bname, c.id,
                     functools.partial(_extra_check, extra, c, bname, dtype))


def _extra_check(extra: Any, case: Case, bname: str, dtype: str) -> Any:
    return extra.check(case, backend(bname), dtype)


def default_losses() -> list[str]:
    """Every public loss (the penalties ``l1``, ``l2``, ``l1_l2`` are regularizers of
    weights, with no targets, reductions or per-sample values: not in the matrix)."""
    from ..core.registry import entries

    return [e.name for e in entries() if e.family != "penalty"]


def _spread(names: list[str], k: int) -> list[str]:
    if k <= 0:
        return []
    if k >= len(names):
        return list(names)
    step = len(names) / k
    return [names[int(i * step)] for i in range(k)]


def _canonical(name: str) -> str:
    function = arrayloss.get(name)  # raises ValueError for an unknown name
    spec = getattr(function, "spec", None)
    return spec.name if spec is not None else name
