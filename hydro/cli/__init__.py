"""The ``hydro`` command line.

Each command lives in its own module and is registered here, flat. A command parses its
options, makes one library call and prints. Library errors become ``error: ...`` on stderr
with exit status 1 (2 for usage errors), never a traceback unless ``--debug`` is given.
``hydro check`` exits 1 when the network is not compliant. Heavy libraries are imported only
by the command that needs them, so ``hydro --version`` and ``--help`` answer at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import sys
import warnings

from hydro import __version__
from hydro._signals import Hangup, Terminated, guarded, stopping
from hydro.cli import check, demand, run, simulate, size, storage, taps
from hydro.cli._common import (
    EXIT_FAIL,
    Parser,
    common_options,
    did_you_mean,
    option_strings,
    show_progress,
    write_error,
)
from hydro.errors import HydroError

#: The commands, in the order ``hydro --help`` lists them.
COMMANDS = (simulate, check, demand, size, storage, taps, run)


def build_parser() -> Parser:
    """The parser of ``hydro`` and its subcommands."""
    parser = Parser(
        prog="hydro",
        description="Size and simulate rural drinking-water supply networks (EPANET/WNTR).",
        parents=[common_options(suppress=False)],
    )
    parser.add_argument("--version", action="version", version=f"hydro {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    parent = common_options(suppress=True)
    for command in COMMANDS:
        command.add_parser(sub, [parent])
    return parser


#: Exit statuses after a signal, as shells report them (128 + the signal's number).
EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_HANGUP = 130, 143, 129


def main(argv: list[str] | None = None) -> int:
    """Run ``hydro`` with ``argv`` (default: the process's arguments); return the exit status.

    Ctrl-C, SIGTERM and SIGHUP stop a command cleanly: one line on stderr, no traceback,
    temporary files and worker processes removed, no partial output (see
    :mod:`hydro._signals` and :mod:`hydro.outputs`).
    """
    with guarded(), _streams_may_close():
        try:
            return _main(argv)
        except KeyboardInterrupt:
            write_error("error: interrupted")
            return EXIT_INTERRUPTED
        except Terminated:
            write_error("error: terminated (SIGTERM)")
            return EXIT_TERMINATED
        except Hangup:  # the terminal is gone: stderr may be too
            with contextlib.suppress(OSError, ValueError):
                write_error("error: hangup (SIGHUP: the terminal closed)")
            return EXIT_HANGUP


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        command = parser._subparsers._group_actions[0].choices[args.command]
        unknown = next((e for e in extra if e.startswith("-")), extra[0])
        command.error(
            f"unrecognized arguments: {' '.join(extra)}"
            + did_you_mean(unknown.split("=")[0], option_strings(command))
        )
    quiet, verbose = getattr(args, "quiet", False), getattr(args, "verbose", False)
    debug = getattr(args, "debug", False)
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )
    # WNTR logs every EPANET warning (e.g. a flow-control valve that cannot deliver its setting
    # while the pump is off); hydro reports what matters in its own summaries.
    logging.getLogger("wntr").setLevel(logging.ERROR)
    # WNTR warns when its reader sets a Darcy-Weisbach file's formula ("Changing the headloss
    # formula from H-W to D-W will not change the units of the roughness coefficient"): a
    # warning for scripts that change the formula, not for a file read, whose roughness
    # WNTR reads in the file's own units.
    warnings.filterwarnings("ignore", message="Changing the headloss formula", module="wntr")
    show_progress(quiet)
    try:
        return args.func(args)
    except Exception as exc:
        signalled = stopping()
        if signalled is not None:  # a signal's exception, wrapped on its way (ctypes)
            raise signalled from exc
        return _report(exc, debug)


def _report(exc: Exception, debug: bool) -> int:
    """Report a command's failure in one line on stderr; the exit status (--debug: raise)."""
    if isinstance(exc, ctypes.ArgumentError) and "KeyboardInterrupt" in str(exc):
        # Ctrl-C while ctypes converts the arguments of an EPANET call comes wrapped
        raise KeyboardInterrupt from exc
    if debug:
        raise exc
    if isinstance(exc, HydroError):
        write_error(f"error: {exc}")
    else:  # an unexpected failure is still reported in one line
        write_error(f"error: unexpected {type(exc).__name__}: {exc} (run with --debug)")
    return EXIT_FAIL


class _MayClose:
    """A standard stream that a reader may close (``hydro check NET.inp | head -1``).

    Once its reader is gone, what is written to it goes to :data:`os.devnull`, as Python's
    documentation advises (library/signal, "Note on SIGPIPE"): the command goes on, writes
    the files it was asked for and ends with its own exit status.
    """

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._to_devnull()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._to_devnull()

    def _to_devnull(self) -> None:
        """Point the stream's file descriptor at the null device; drop what it holds."""
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, self._stream.fileno())
            finally:
                os.close(devnull)
        with contextlib.suppress(OSError, ValueError):
            self._stream.flush()  # what was buffered goes to the null device

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


@contextlib.contextmanager
def _streams_may_close():
    """Run a command with stdout and stderr as :class:`_MayClose` streams; restore them."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = (_MayClose(s) if s is not None else None for s in saved)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
        sys.stdout, sys.stderr = saved


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
