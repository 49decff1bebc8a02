"""Extra per-loss checks that add a column to ``python -m arrayloss check``'s report.

A module of the conformance package registers one with :func:`register_check`; the report
runs it on every case it applies to, on the listed backend variants and dtypes, and shows
the worst returned error per loss in the column. The closed-form gradients
(``conformance/closed_form.py``: ``arrayloss.gradient`` and ``hessian_diagonal`` against
autodiff) are registered here when that module is present.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from .backends import Backend
from .cases import Case

__all__ = ["ExtraCheck", "extra_checks", "register_check"]


@dataclass(frozen=True)
class ExtraCheck:
    """A column of the report: ``check(case, backend, dtype)`` returns the worst error or
    raises AssertionError; it runs on the cases where ``applies(case)`` holds."""

    column: str
    check: Callable[[Case, Backend, str], float]
    applies: Callable[[Case], bool]
    backends: tuple[str, ...] = ("numpy",)
    dtypes: tuple[str, ...] = ("float64",)
    needs: tuple[str, ...] = ()  # modules that must be installed for the check to run


_EXTRA: dict[str, ExtraCheck] = {}


def register_check(extra: ExtraCheck) -> ExtraCheck:
    """Add (or replace) a column of the report."""
    _EXTRA[extra.column] = extra
    return extra


def _closed_form() -> None:
    try:
        module = importlib.import_module(f"{__package__}.closed_form")
    except ModuleNotFoundError as error:  # not written yet in this version
        if error.name != f"{__package__}.closed_form":
            raise
        return
    if "closed-form gradient" in _EXTRA:
        return
    rows = getattr(module, "closed_form_cases", None)
    check = getattr(module, "check_closed_form", None)
    if rows is None or check is None:
        return
    ids: set[int] = set()
    loaded = False

    def applies(case: Case) -> bool:
        nonlocal loaded
        if not loaded:
            ids.update(id(c) for c in rows())
            loaded = True
        return id(case) in ids

    # The command runs it on NumPy in float64 (every backend and dtype
    # runs in the pytest suite, conformance/test_closed_form.py).
    register_check(ExtraCheck("closed-form gradient", check, applies,
                              backends=("numpy",), dtypes=("float64",),
                              needs=("torch", "jax")))


def extra_checks() -> list[ExtraCheck]:
    """Every registered extra column (the known modules are imported first)."""
    _closed_form()
    return list(_EXTRA.values())
