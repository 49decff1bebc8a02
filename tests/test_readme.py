"""The README's promises: its commands are the ones CI runs and do what it says."""

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


# The README's ```python example runs in tests/test_doc_blocks.py, with every docs/ page's.


def test_version_command_prints_the_version():
    from importlib.metadata import version

    import arrayloss

    done = subprocess.run([sys.executable, "-m", "arrayloss", "--version"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"arrayloss {arrayloss.__version__}\n"
    assert arrayloss.__version__ == version("arrayloss")  # the installed metadata's


def test_list_command_prints_every_loss():
    import arrayloss

    out = subprocess.run([sys.executable, "-m", "arrayloss", "list"], check=True,
                         capture_output=True, text=True).stdout
    for name in arrayloss.available():
        assert re.search(rf"\b{name}\b", out), name
    assert f"{len(arrayloss.available())} losses" in out


def test_the_loss_table_lists_every_loss_and_alias():
    from arrayloss.core.registry import entries

    for entry in entries():
        assert f"`{entry.name}(" in README, entry.name
        for alias in entry.aliases:
            assert f"`{alias}`" in README, alias
