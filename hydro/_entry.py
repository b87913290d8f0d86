"""The ``hydro`` console script.

The ``hydro`` console script: Ctrl-C while the command line loads gives one line, not a
traceback (the command line itself handles Ctrl-C and SIGTERM from then on).
"""

from __future__ import annotations

import sys


def main() -> int:
    """Load the command line and run it; exit 130 when interrupted while loading."""
    try:
        from hydro.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    return run()
