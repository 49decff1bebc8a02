"""One table printer for the benchmark scripts: aligned text, or Markdown (``--markdown``)."""

from __future__ import annotations

from collections.abc import Sequence


class Table:
    """Rows of cells printed as they come, so a long run shows its progress."""

    def __init__(self, header: Sequence[str], *, markdown: bool, width: int = 56) -> None:
        self.markdown, self.width = markdown, width
        if markdown:
            print(f"\n| {' | '.join(header)} |")
            print("|---|" + "---:|" * (len(header) - 1))
        else:
            self.row(header)

    def row(self, cells: Sequence[str]) -> None:
        name, *values = cells
        if self.markdown:
            print(f"| {' | '.join(cells)} |")
        else:
            print(f"{name:{self.width}}" + "".join(f" {v:>11}" for v in values))
