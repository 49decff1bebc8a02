"""``python -m arrayloss list``: every loss with its family and aliases."""

from __future__ import annotations

import argparse

from ..core.registry import entries


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--family", help="only this family (regression, classification, ...)")


def run(args: argparse.Namespace) -> int:
    rows = [(e.family, e.name, ", ".join(e.aliases)) for e in entries(args.family)]
    if not rows:
        print(f"no loss in family {args.family!r}")
        return 1
    widths = [max(len(r[i]) for r in rows + [("family", "loss", "aliases")]) for i in range(3)]
    for row in [("family", "loss", "aliases"), *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(f"{len(rows)} losses")
    return 0
