"""``python -m arrayloss COMMAND``: list the losses, check conformance, run the tutorial."""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "list": ("arrayloss._cli.listing", "print every loss with its family and aliases"),
    "check": ("arrayloss._cli.check", "run the conformance matrix on the installed backends"),
    "tutorial": ("arrayloss._cli.tutorial", "reproduce the nine loss-choice experiments"),
    "plot": ("arrayloss._cli.plot", "draw a loss and its derivative (matplotlib)"),
    "stubs": ("arrayloss._cli.stubs", "regenerate the type stub arrayloss/__init__.pyi"),
}


def _version() -> str:
    from arrayloss import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m arrayloss", description=__doc__)
    parser.add_argument("--version", action="version", version=f"arrayloss {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).add_arguments(command)
    args = parser.parse_args(argv)
    return int(importlib.import_module(COMMANDS[args.command][0]).run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
