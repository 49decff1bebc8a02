"""Static types: the committed stub is what the registry generates, and mypy and pyright
find no error in ``src/arrayloss`` nor in a user's typed code (``tests/typing/usage_ok.py``),
and report every deliberate mistake of ``tests/typing/usage_bad.py`` on its line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from arrayloss._cli import stubs

ROOT = Path(__file__).resolve().parents[1]
OK = "tests/typing/usage_ok.py"
BAD = "tests/typing/usage_bad.py"
TARGETS = ["src/arrayloss", OK, BAD]

# Files whose remaining errors their owners are fixing (see the typing report); every
# other file of src/arrayloss must stay free of errors.
PENDING: tuple[str, ...] = ()


def _expected_bad_lines() -> set[int]:
    lines = (ROOT / BAD).read_text().splitlines()
    return {n for n, line in enumerate(lines, start=1) if "# error:" in line}


def _check(errors: list[tuple[str, int, str]], tool: str) -> None:
    """``errors`` as (path relative to the root, line, message)."""
    src = [e for e in errors if e[0].startswith("src/") and not e[0].startswith(PENDING)]
    assert not src, f"{tool} errors in src/arrayloss:\n" + "\n".join(map(str, src))
    ok = [e for e in errors if e[0] == OK]
    assert not ok, f"{tool} errors in {OK}:\n" + "\n".join(map(str, ok))
    reported = {line for path, line, _ in errors if path == BAD}
    expected = _expected_bad_lines()
    assert expected, BAD
    assert expected - reported == set(), f"{tool} missed the mistakes on lines " \
        f"{sorted(expected - reported)} of {BAD}"
    assert reported - expected == set(), f"{tool} reported lines {sorted(reported - expected)}" \
        f" of {BAD} that carry no mistake"


def test_stub_is_generated_from_the_registry():
    assert stubs.STUB.read_text() == stubs.generate(), (
        "src/arrayloss/__init__.pyi is out of date: run python -m arrayloss._cli.stubs")


def test_stub_and_marker_ship():
    text = (ROOT / "pyproject.toml").read_text()  # (tomllib is Python 3.11+)
    shipped = re.search(r"^\[tool\.setuptools\.package-data\]\narrayloss = \[(.*)\]$",
                        text, flags=re.MULTILINE)
    assert shipped is not None
    assert '"py.typed"' in shipped[1] and '"*.pyi"' in shipped[1]
    assert (ROOT / "src/arrayloss/py.typed").exists()


def test_every_public_loss_has_its_signature_in_the_stub():
    import inspect

    import arrayloss

    text = stubs.STUB.read_text()
    for name in arrayloss.available():
        function = getattr(arrayloss, name)
        if not hasattr(function, "spec"):
            continue
        parameters = inspect.signature(function).parameters
        block = text.split(f"\ndef {name}(")[1].split(") -> Array: ...")[0]
        stated = re.findall(r"(\w+):", block)
        assert stated == list(parameters), name


def test_mypy():
    cache = Path(tempfile.gettempdir()) / "arrayloss-mypy-cache"
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache), "--no-error-summary",
         "--no-pretty", *TARGETS],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode in (0, 1), run.stderr
    errors = []
    for line in run.stdout.splitlines():
        match = re.match(r"^(.+?):(\d+): error: (.*)$", line)
        if match:
            errors.append((match[1].replace("\\", "/"), int(match[2]), match[3]))
    assert errors or run.returncode == 0, run.stdout
    _check(errors, "mypy")


def test_pyright():
    env = {**os.environ, "PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "pyright", "--outputjson", "--pythonpath", sys.executable,
         *TARGETS],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    report = json.loads(run.stdout)
    errors = [
        (Path(d["file"]).resolve().relative_to(ROOT).as_posix(),
         d["range"]["start"]["line"] + 1, d["message"])
        for d in report["generalDiagnostics"] if d["severity"] == "error"
    ]
    _check(errors, "pyright")
