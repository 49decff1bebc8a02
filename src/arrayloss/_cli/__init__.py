"""Command-line subcommands of ``python -m arrayloss``."""
