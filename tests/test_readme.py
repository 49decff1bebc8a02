"""The README's promises: its commands are the ones CI runs, and its example runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_ci_runs_exactly_the_readme_test_command():
    test_command = next(b.strip() for b in _blocks("bash") if "pytest" in b)
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_main_command_runs_the_check_job():
    main_command = next(b.strip() for b in _blocks("bash") if "arrayloss check" in b)
    assert main_command.endswith("python -m arrayloss check")


def test_the_example_runs():
    (example,) = _blocks("python")
    exec(compile(example, "README.md", "exec"), {})


def test_list_command_prints_every_loss():
    import arrayloss

    out = subprocess.run([sys.executable, "-m", "arrayloss", "list"], check=True,
                         capture_output=True, text=True).stdout
    for name in arrayloss.available():
        assert re.search(rf"\b{name}\b", out), name
    assert f"{len(arrayloss.available())} losses" in out


def test_the_loss_table_lists_every_loss_and_alias():
    from arrayloss._registry import entries

    for entry in entries():
        assert f"`{entry.name}(" in README, entry.name
        for alias in entry.aliases:
            assert f"`{alias}`" in README, alias
