"""Suite-wide rule: in CI (``CI`` set) a skipped test is a failure.

A test may skip on a developer's machine where an optional backend or reference library
is missing; CI installs every extra, so there a skip can only mean a check that silently
stopped running.
"""

from __future__ import annotations

import os

import pytest

# Keras picks its backend at its first import, and defaults to TensorFlow, which the test
# extras do not install: jax, before anything (a doctest of arrayloss.keras) imports it.
os.environ.setdefault("KERAS_BACKEND", "jax")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI") and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped in CI, where every extra is installed: {reason}"
