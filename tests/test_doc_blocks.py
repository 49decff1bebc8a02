"""Every ```python block of README.md, docs/*.md, docs/guides/*.md and docs/migrate/*.md runs
as written.

The blocks of one page run in order in one namespace, as a reader would run them; a page's
test fails at the first block that raises, and the traceback points at the page's lines.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
         *sorted((ROOT / "docs" / "guides").glob("*.md")),
         *sorted((ROOT / "docs" / "migrate").glob("*.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```", flags=re.S | re.M)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """Each ```python block of ``text`` with the line number of its first line."""
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in FENCE.finditer(text)]


PAGES_WITH_CODE = [p for p in PAGES if python_blocks(p.read_text())]


def test_every_python_fence_is_collected():
    # An indented or otherwise unusual ```python fence would escape the regex, and its
    # block would silently not run.
    for page in PAGES:
        text = page.read_text()
        assert text.count("```python") == len(python_blocks(text)), page.name


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_run(page):
    namespace: dict = {"__name__": "__doc_blocks__"}
    for line, block in python_blocks(page.read_text()):
        # Padding with newlines makes the traceback's line numbers the page's.
        code = compile("\n" * (line - 1) + block, str(page.relative_to(ROOT)), "exec")
        exec(code, namespace)
