"""Signals and worker processes of one command: a clean stop, and nothing left behind.

The command line runs every command inside :func:`guarded`:

- SIGINT (Ctrl-C), SIGTERM and SIGHUP (the terminal closed) become :class:`KeyboardInterrupt`,
  :class:`Terminated` and :class:`Hangup` in the main thread, so that every ``finally`` block
  and context manager cleans up as for Ctrl-C; the command line exits with 130, 143 and 129
  (:data:`EXIT_STATUS`, 128 + the signal's number, as shells report a process a signal ended);
- the first signal also kills the command's worker processes at once (a worker may be in the
  middle of a long task), but for those of a process pool, which finish their task and are
  ended by the pool's shutdown; the signals that follow are ignored while the clean-up runs:
  a second Ctrl-C cannot cut the clean-up short or end the process with status -2. A
  watchdog bounds the clean-up (:data:`GRACE_S`, :data:`LAST_GRACE_S`);
- the command and its worker processes, forked or spawned, make their temporary folders
  (EPANET's scratch files, the evaluators' designs) in a private folder of the run
  (``hydro-run-*``), removed at its end whatever happened: a killed worker, or a signal
  between the making of a folder and the code that removes it, leaves nothing behind;
- a forked worker ignores the three signals while its parent lives (the terminal sends them
  to the whole process group: its parent stops it), and ends at once once orphaned; a
  spawned worker ignores SIGINT and SIGHUP and ends on SIGTERM. A spawned worker starts
  ignoring them when it imports hydro's main module, its first step (the stdlib's own test
  of that step, ``current_process()._inheriting``, tells it is one).
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures.process import _process_worker
from multiprocessing.util import Finalize


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
    run_tmp: str | None = None  # the run's temporary folder
    done: threading.Event | None = None  # set when the command's clean-up is over


_RUN = _Run()
#: How long the clean-up after a signal may take before the watchdog kills every worker [s]
#: (a pool's workers finish their task and hand its result back first, see below).
GRACE_S = 5.0
#: How long after that before the watchdog ends the process itself [s].
LAST_GRACE_S = 3.0


def _on_signal(signum, frame) -> None:
    """Stop the guarded command (in its process), or leave a forked worker to its parent."""
    if os.getpid() != _RUN.owner:  # a forked worker: its parent stops it, while it lives
        if os.getppid() != _RUN.owner:
            os._exit(EXIT_STATUS[signum])
        return
    if _RUN.stopping is not None:  # already stopping: let the clean-up run
        return
    _RUN.stopping = signum
    stop_workers(pools=False)
    threading.Thread(target=_watchdog, args=(signum, _RUN.done), daemon=True).start()
    raise RAISED[signum]()


def stopping() -> BaseException | None:
    """The exception of the signal that is stopping this process's command, or None.

    A signal's exception can reach the command line wrapped in another: raised while ctypes
    converts the argument of an EPANET call (a Python ``from_param``, such as numpy's
    ``ndpointer``), it comes out as a :class:`ctypes.ArgumentError`. Whatever the exception,
    once a signal stops the command, the command ends as that signal asks (exit 143 for
    SIGTERM, not "unexpected ArgumentError").
    """
    signum = _RUN.stopping
    if signum and os.getpid() == _RUN.owner:
        return RAISED[signum]()
    return None


def _pool_worker(child) -> bool:
    """True for a worker of a :class:`concurrent.futures.ProcessPoolExecutor`."""
    return getattr(child, "_target", None) is _process_worker


def stop_workers(pools: bool = True, join: bool = False) -> None:
    """Kill this process's worker processes (its :mod:`multiprocessing` children).

    Without ``pools``, the workers of a process pool are spared: killed in the middle of
    handing back a result, one would leave half a message in the pool's result pipe, and
    the pool's reader thread would wait for the rest for ever; the pool's own shutdown ends
    them after their task. With ``join``, wait for them, so that none is left as a zombie.
    """
    children = [c for c in multiprocessing.active_children() if pools or not _pool_worker(c)]
    for child in children:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            child.kill()
    if join:
        for child in children:
            with contextlib.suppress(OSError, ValueError, AssertionError):
                child.join(JOIN_TIMEOUT_S)


def _watchdog(signum: int, done: threading.Event) -> None:
    """Bound the clean-up after a signal.

    Kill every worker after :data:`GRACE_S`; end the process (its exit handlers run, the
    workers' folder removed) after :data:`LAST_GRACE_S` more.
    """
    if done.wait(GRACE_S):
        return
    stop_workers(pools=True)
    if done.wait(LAST_GRACE_S):
        return
    with contextlib.suppress(Exception):
        atexit._run_exitfuncs()  # EPANET's scratch folder, temporary folders still open
    if _RUN.run_tmp:
        shutil.rmtree(_RUN.run_tmp, ignore_errors=True)
    os._exit(EXIT_STATUS[signum])


def _in_forked_worker() -> None:
    """After a fork: the worker makes its temporary folders in the run's folder too."""
    if _RUN.run_tmp is not None:
        tempfile.tempdir = _RUN.run_tmp
        os.environ["TMPDIR"] = _RUN.run_tmp


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
    ``TMPDIR`` and :data:`tempfile.tempdir` are restored, and so are the signal handlers
    unless a signal stopped the command: the process is then ending, and the signals that
    follow stay ignored.
    """
    if threading.current_thread() is not threading.main_thread() or _RUN.run_tmp:
        yield
        return
    run_tmp = tempfile.mkdtemp(prefix="hydro-run-")
    saved_tempdir, saved_tmpdir = tempfile.tempdir, os.environ.get("TMPDIR")
    saved_handlers = {signum: signal.getsignal(signum) for signum in RAISED}
    _RUN.owner, _RUN.stopping, _RUN.run_tmp = os.getpid(), None, run_tmp
    _RUN.done = threading.Event()
    tempfile.tempdir = run_tmp  # this process's temporary folders, and forked workers'
    os.environ["TMPDIR"] = run_tmp  # spawned workers read it when they start
    try:
        for signum in RAISED:
            signal.signal(signum, _on_signal)
        yield
    finally:
        signalled = _RUN.stopping is not None
        _RUN.stopping = _RUN.stopping or 0  # ending: a signal now is ignored
        stop_workers(join=True)
        tempfile.tempdir = saved_tempdir
        if saved_tmpdir is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_tmpdir
        _remove_run_folder(run_tmp)
        _RUN.done.set()
        _RUN.run_tmp = None
        if not signalled:
            for signum, handler in saved_handlers.items():
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
            _RUN.owner, _RUN.stopping = None, None


def _remove_run_folder(run_tmp: str) -> None:
    """Remove the run's temporary folder, with what a killed worker or a cut clean-up left.

    A folder in it that another library removes at exit goes with the process, after that
    library's exit handler (which would fail not to find it): :mod:`multiprocessing`'s own
    folder, if this process made one, and Matplotlib's configuration folder, which it makes
    there when ``MPLCONFIGDIR`` (or the home's) cannot be written, and names in
    ``MPLCONFIGDIR``. The run's folder is then removed last, by a finalizer of
    :mod:`multiprocessing`, whose exit handler (registered when hydro is imported) runs after
    those of the libraries the command imported.
    """
    kept = {
        multiprocessing.current_process()._config.get("tempdir"),
        os.environ.get("MPLCONFIGDIR"),
    }
    kept = {path for path in kept if path and os.path.dirname(path) == run_tmp}
    if kept:
        for entry in os.scandir(run_tmp):
            if entry.path not in kept:
                _remove(entry.path)
        Finalize(None, shutil.rmtree, args=(run_tmp,), kwargs={"ignore_errors": True},
                 exitpriority=-200)  # fmt: skip
        return
    shutil.rmtree(run_tmp, ignore_errors=True)


def _remove(path: str) -> None:
    """Remove a file or a folder (not following a link)."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)


def ignore_signals() -> None:
    """Ignore SIGINT, SIGTERM and SIGHUP from now on (a process that is exiting)."""
    for signum in RAISED:
        with contextlib.suppress(ValueError, OSError):
            signal.signal(signum, signal.SIG_IGN)
