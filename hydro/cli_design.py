"""Design subcommands of the ``hydro`` command line: ``demand``, ``size`` and ``run``."""

from __future__ import annotations


def add_commands(sub) -> None:
    """Register the design subcommands on the main parser's subparsers."""
