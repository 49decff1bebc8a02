"""``python -m arrayloss check``: the table, the summary line, the exit status, --json and
--markdown, the selection options, and absent libraries reported as absent."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from arrayloss.__main__ import main
from arrayloss.conformance.matrix import run_matrix
from arrayloss.conformance.report import markdown, table


def test_check_writes_table_json_and_markdown(tmp_path, capsys):
    out_json, out_md = tmp_path / "r.json", tmp_path / "r.md"
    status = main(["check", "--loss", "mse", "--loss", "LogCosh", "--backend", "numpy",
                   "--backend", "array_api_strict", "--json", str(out_json),
                   "--markdown", str(out_md), "--no-peers"])
    printed = capsys.readouterr().out
    assert status == 0, printed
    # One line per loss as it finishes (in worker processes: in any order).
    lines = [line for line in printed.splitlines() if line.startswith("[")]
    assert sorted(line.split()[1] for line in lines) == ["log_cosh", "mean_squared_error"]
    assert {line.split()[0] for line in lines} == {"[1/2]", "[2/2]"}
    summary = [line for line in printed.splitlines() if line.endswith(")") or "checks," in line]
    assert any(line.startswith(tuple("0123456789")) and " 0 failed, backends: numpy, "
               "array_api_strict" in line for line in summary), printed
    data = json.loads(out_json.read_text())
    assert data["losses"] == ["mean_squared_error", "log_cosh"]
    assert {r["target"] for r in data["results"] if r["kind"] == "values"} >= {
        "numpy", "array_api_strict", "array_api_strict_strictest"}
    assert all(r["passed"] for r in data["results"])
    report = out_md.read_text()
    assert "| mean_squared_error |" in report and "| log_cosh |" in report
    assert data["summary"] in report


def test_family_selection_and_unknown_names(capsys):
    assert main(["check", "--backend", "not_a_backend", "--loss", "mse"]) == 2
    assert "unknown backend" in capsys.readouterr().err
    assert main(["check", "--family", "no_such_family"]) == 2
    with pytest.raises(ValueError, match="unknown loss"):
        run_matrix(["no_such_loss"], ["numpy"])


def test_absent_library_is_reported_absent_not_passed():
    matrix = run_matrix(["mse"], ["numpy", "cupy"], peers=False, transforms=False)
    if importlib.util.find_spec("cupy") is None:
        assert matrix.absent == ["cupy"]
        assert "cupy" not in matrix.backends
        assert "(absent: cupy)" in matrix.summary()
        assert not any(r.target == "cupy" for r in matrix.results)
        assert "reported as absent" in markdown(matrix)


def test_failure_gives_nonzero_status_and_names_it():
    from arrayloss.conformance.cases import Case

    wrong = Case("mean_squared_error", lambda rng: (rng.normal(size=4), rng.normal(size=4)),
                 lambda y, p: (p - y) ** 2 + 1e-3, label="wrong_reference")
    matrix = run_matrix(backends=["numpy"], cases=[wrong], peers=False, transforms=False)
    assert matrix.failed and all(r.loss == "mean_squared_error" for r in matrix.failed)
    text = table(matrix)
    assert "FAIL" in text and "mean_squared_error[wrong_reference]" in text
    assert " 0 failed" not in matrix.summary()


def test_requested_backend_not_installed_is_an_error(monkeypatch, capsys):
    """A backend asked for by name whose library cannot be imported stops the run (status
    2) instead of running nothing and reporting "0 checks, 0 passed"."""
    monkeypatch.setitem(sys.modules, "array_api_strict", None)  # as if not installed
    for requested in ("array_api_strict", "array_api_strict_strictest"):
        status = main(["check", "--backend", requested, "--loss", "mse", "--no-peers"])
        captured = capsys.readouterr()
        assert status == 2, captured.out
        assert f"--backend {requested}" in captured.err
        assert "not installed" in captured.err and "array_api_strict" in captured.err
        assert "available: numpy" in captured.err, captured.err
        assert "checks," not in captured.out
    assert main(["check", "--backend", "torch_meta", "--loss", "mse"]) == 2
    err = capsys.readouterr().err
    assert "--backend torch_meta" in err and "not known" in err and "known: numpy" in err


def test_absent_backend_exits_nonzero_from_the_command_line(tmp_path):
    """The same from ``python -m arrayloss``, with array-api-strict blocked by a
    ``sitecustomize`` on PYTHONPATH."""
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nsys.modules['array_api_strict'] = None  # as if not installed\n")
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-m", "arrayloss", "check", "--backend",
                           "array_api_strict", "--loss", "mse", "--no-peers"],
                          env={**os.environ, "PYTHONPATH": path}, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "array_api_strict" in done.stderr and "not installed" in done.stderr
    assert "0 checks" not in done.stdout
