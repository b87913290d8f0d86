"""Signals and worker processes of one command: a clean stop, and nothing left behind.

The command line runs every command inside :func:`guarded`:

- SIGINT (Ctrl-C), SIGTERM and SIGHUP (the terminal closed) become :class:`KeyboardInterrupt`,
  :class:`Terminated` and :class:`Hangup` in the main thread, so that every ``finally`` block
  and context manager cleans up as for Ctrl-C; the command line exits with 130, 143 and 129
  (:data:`EXIT_STATUS`, 128 + the signal's number, as shells report a process a signal ended);
- the first signal also kills the command's worker processes at once (a worker may be in the
  middle of a long task), and the signals that follow are ignored while the clean-up runs: a
  second Ctrl-C cannot cut the clean-up short or end the process with status -2;
- worker processes, forked or spawned, make their temporary folders (EPANET's scratch files,
  the evaluators' designs) in a private folder of the run, removed at its end whatever
  happened: a killed worker leaves nothing in the temporary folder;
- a worker ignores SIGINT and SIGHUP (which the terminal sends to the whole process group:
  its parent stops it); a forked worker ends at once on SIGTERM. A spawned worker starts
  ignoring them when it imports hydro's main module, its first step (the stdlib's own test
  of that step, ``current_process()._inheriting``, tells it is one).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that every clean-up runs as for Ctrl-C."""


class Hangup(BaseException):
    """SIGHUP (the terminal closed), raised in the main thread like :class:`Terminated`."""


#: The signals a command stops on, and the exception each becomes in the main thread.
RAISED = {
    signal.SIGINT: KeyboardInterrupt,
    signal.SIGTERM: Terminated,
    **({signal.SIGHUP: Hangup} if hasattr(signal, "SIGHUP") else {}),
}
#: Exit status after each signal (128 + its number).
EXIT_STATUS = {signum: 128 + int(signum) for signum in RAISED}
#: How long to wait for a killed worker to be gone [s].
JOIN_TIMEOUT_S = 5.0


class _Run:
    """The guarded command of this process (one at a time)."""

    owner: int | None = None  # the process that runs it (a forked worker has another pid)
    stopping: int | None = None  # the first signal received (0: the run is ending)
    workers_tmp: str | None = None  # the workers' temporary folder


_RUN = _Run()


def _on_signal(signum, frame) -> None:
    """Stop the guarded command (in its process), or leave a forked worker to its parent."""
    if os.getpid() != _RUN.owner:  # a forked worker: its parent stops it
        if signum == signal.SIGTERM:
            os._exit(EXIT_STATUS[signum])
        return
    if _RUN.stopping is not None:  # already stopping: let the clean-up run
        return
    _RUN.stopping = signum
    stop_workers(join=False)
    raise RAISED[signum]()


def stop_workers(join: bool = True) -> None:
    """Kill this process's worker processes (its :mod:`multiprocessing` children).

    With ``join``, wait for them too, so that none is left as a zombie.
    """
    children = multiprocessing.active_children()
    for child in children:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            child.kill()
    if join:
        for child in children:
            with contextlib.suppress(OSError, ValueError, AssertionError):
                child.join(JOIN_TIMEOUT_S)


def _in_forked_worker() -> None:
    """After a fork: the worker makes its temporary folders in the run's private folder."""
    if _RUN.workers_tmp is not None:
        tempfile.tempdir = _RUN.workers_tmp
        os.environ["TMPDIR"] = _RUN.workers_tmp


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_in_forked_worker)


def _in_spawned_worker() -> bool:
    """True in a worker that :mod:`multiprocessing` spawns while it imports the main module."""
    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


if _in_spawned_worker():  # its parent stops it: no traceback of its own on Ctrl-C
    for _signum in RAISED:
        if _signum != signal.SIGTERM:
            signal.signal(_signum, signal.SIG_IGN)


@contextlib.contextmanager
def guarded() -> Iterator[None]:
    """Run a command: signals stop it cleanly; its workers and their temporary files go too.

    Outside the main thread, or inside a guarded command already, nothing changes. On exit
    ``TMPDIR`` is restored, and so are the signal handlers unless a signal stopped the
    command: the process is then ending, and the signals that follow stay ignored.
    """
    if threading.current_thread() is not threading.main_thread() or _RUN.workers_tmp:
        yield
        return
    tempfile.gettempdir()  # this process keeps its own temporary folder (cached)
    workers_tmp = tempfile.mkdtemp(prefix="hydro-workers-")
    saved_tmpdir = os.environ.get("TMPDIR")
    saved_handlers = {signum: signal.getsignal(signum) for signum in RAISED}
    _RUN.owner, _RUN.stopping, _RUN.workers_tmp = os.getpid(), None, workers_tmp
    os.environ["TMPDIR"] = workers_tmp  # spawned workers read it when they start
    try:
        for signum in RAISED:
            signal.signal(signum, _on_signal)
        yield
    finally:
        signalled = _RUN.stopping is not None
        _RUN.stopping = _RUN.stopping or 0  # ending: a signal now is ignored
        stop_workers(join=True)
        shutil.rmtree(workers_tmp, ignore_errors=True)
        if saved_tmpdir is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_tmpdir
        _RUN.workers_tmp = None
        if not signalled:
            for signum, handler in saved_handlers.items():
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
            _RUN.owner, _RUN.stopping = None, None


def ignore_signals() -> None:
    """Ignore SIGINT, SIGTERM and SIGHUP from now on (a process that is exiting)."""
    for signum in RAISED:
        with contextlib.suppress(ValueError, OSError):
            signal.signal(signum, signal.SIG_IGN)
