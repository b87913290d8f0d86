"""The ``hydro`` console script (and ``python -m hydro``).

Ctrl-C while the command line loads gives one line, not a traceback (the command line itself
handles Ctrl-C, SIGTERM and SIGHUP from then on: :mod:`hydro._signals`). After a command a
signal stopped, the signals that follow are ignored while the interpreter shuts down (it
would otherwise restore their default action, and a second Ctrl-C would end the process with
status -2 instead of 130).
"""

from __future__ import annotations

import sys

from hydro._signals import EXIT_STATUS, ignore_signals


def main() -> int:
    """Load the command line and run it; exit 130 when interrupted while loading."""
    try:
        from hydro.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        ignore_signals()
        return 130
    status = run()
    if status in EXIT_STATUS.values():
        ignore_signals()
    return status
