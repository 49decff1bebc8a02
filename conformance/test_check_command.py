"""``python -m arrayloss check``: the table, the summary line, the exit status, --json and
--markdown, the selection options, and absent libraries reported as absent."""

from __future__ import annotations

import importlib.util
import json

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
