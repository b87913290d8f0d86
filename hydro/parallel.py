"""One executor interface for many independent evaluations: in-process, local processes, Dask.

Work is cut into tasks (a function and its arguments; :meth:`Executor.cut` sizes blocks of
work for the executor); an executor runs them and yields ``(task index, result)`` as they
finish, so callers can show progress and reassemble the results in order. Random numbers
follow from the caller's seed alone (a task is given its numbers, or draws its own rows of
the seed's stream), so the same seed gives the same numbers whatever runs the tasks.

- :class:`InProcess`: one after the other, in this process;
- :class:`LocalPool`: ``K`` local processes (:class:`concurrent.futures.ProcessPoolExecutor`)
  that take the tasks one by one from a counter in shared memory;
- :class:`DaskCluster`: a ``dask.distributed`` cluster, given by its scheduler's address
  (``tcp://HOST:PORT``) or a ``Client``; workers need hydro installed.

:func:`make_executor` picks one from the command line's ``--workers`` and ``--scheduler``:
without a scheduler, a local pool of one process per core is the default (more workers than
the machine has cores are capped at its cores, with a note).

**One executor for a whole run.** ``with using(executor):`` makes it the run's executor:
every parallel piece inside (tap draws, the budget's plans, the sensitivity's designs, the
looped sizing's independent runs, each study of ``hydro run A B``) takes it from
:func:`current` instead of starting its own, so a pool is started, or a cluster reached, once.
Inside a task the run's executor is :class:`InProcess` (a task never hands work to the
executor that runs it), and a :class:`LocalPool` runs one set of tasks at a time.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager

from hydro.errors import InputError

log = logging.getLogger(__name__)


class Executor:
    """Runs tasks; yields (index, result) as they finish. Use as a context manager."""

    #: How many tasks can run at once.
    workers: int = 1
    #: A short description for messages ("in-process", "2 local processes", ...).
    description: str = ""

    def run(self, fn: Callable, tasks: Sequence[tuple]) -> Iterator[tuple[int, object]]:
        """Yield ``(index, fn(*task))`` for every task, in the order they finish."""
        raise NotImplementedError

    def cut(self, total: int, smallest: int, largest: int) -> list[int]:
        """Sizes of the blocks to cut ``total`` units of work into, for this executor.

        Default: two blocks per worker (a task handed over costs a round trip to the
        worker), each of ``smallest`` to ``largest`` units.
        """
        size = max(smallest, min(math.ceil(total / (2 * self.workers)), largest))
        return [min(size, total - start) for start in range(0, total, size)]

    def close(self) -> None:
        """Release the workers (nothing to do by default)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class InProcess(Executor):
    """Every task in this process, in order."""

    workers = 1
    description = "in-process"

    def run(self, fn, tasks):
        """Yield ``(index, fn(*task))`` for every task, in the order they finish."""
        for i, args in enumerate(tasks):
            yield i, _task(fn, *args)


class LocalPool(Executor):
    """``workers`` local processes that take the tasks from a shared counter.

    Each worker runs a *runner* (:func:`_runner`): it takes the next task's index from a
    counter in shared memory, runs the task, and goes on until the tasks are all taken or it
    has run for :attr:`slice_s`; it then returns the results of the tasks it ran, and the
    pool starts another runner while tasks are left. A task therefore costs one increment
    of the counter instead of a round trip through the pool's queues (0.3-3.5 ms each,
    measured with 2 processes on the Oujda draws), so the work can be cut fine and a worker
    on a faster core takes more of it; results still come back every :attr:`slice_s` for
    the progress bar.
    """

    #: How long a runner goes on taking tasks before it returns its results [s].
    slice_s: float = 0.25

    def __init__(self, workers: int):
        if workers < 1:
            raise InputError(f"--workers must be 1 or more, got {workers}")
        self.workers = int(workers)
        self.description = f"{self.workers} local processes"
        self._busy = threading.Lock()  # one set of tasks at a time (one shared counter)
        context = multiprocessing.get_context()
        # [run number, next task]: a runner of an earlier run stops at its next task
        self._state = context.RawArray("q", 2)
        self._lock = context.Lock()
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=_share,
            initargs=(self._state, self._lock),
        )

    def cut(self, total: int, smallest: int, largest: int) -> list[int]:
        """Sizes of the blocks to cut ``total`` units of work into: shrinking blocks.

        Each block is a share of the work left (``1 / (2 workers)`` of it, between
        ``smallest`` and ``largest``), so the first blocks are large (few tasks) and the
        last small: the workers finish within a small block of each other ("guided
        self-scheduling", Polychronopoulos and Kuck 1987).
        """
        sizes, left = [], total
        while left > 0:
            size = max(smallest, min(math.ceil(left / (2 * self.workers)), largest))
            sizes.append(min(size, left))
            left -= sizes[-1]
        return sizes

    def run(self, fn, tasks):
        """Yield ``(index, fn(*task))`` for every task, in the order they finish."""
        tasks = list(tasks)
        if not tasks:
            return
        if not self._busy.acquire(blocking=False):
            raise RuntimeError(
                f"{self.description} are running other tasks: one run at a time on a pool"
            )
        try:
            yield from self._run(fn, tasks)
        finally:
            self._busy.release()

    def _run(self, fn, tasks):
        """:meth:`run` with the pool to itself."""
        with self._lock:
            self._state[0] += 1
            self._state[1] = 0
            number = self._state[0]

        def start():
            return self._pool.submit(_runner, fn, tasks, number, self.slice_s)

        running = {start() for _ in range(min(self.workers, len(tasks)))}
        try:
            while running:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    yield from future.result()
                with self._lock:
                    left = len(tasks) - self._state[1]
                running |= {start() for _ in range(min(left, self.workers) - len(running))}
        finally:  # an error, or the caller stopped early: runners still going stop
            # (the parent alone writes the run number; a worker stopped by Ctrl-C inside
            # the lock could keep it, so the parent does not wait on it for long)
            locked = self._lock.acquire(timeout=1.0)
            if self._state[0] == number:
                self._state[0] += 1
            if locked:
                self._lock.release()

    def close(self) -> None:
        """Release the workers."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def terminate(self) -> None:
        """End the workers now, tasks running or not (on an error or an interruption, when
        a task may run for long: a looped sizing run lasts its whole time limit).

        The workers are killed, not sent SIGTERM: inside a command a forked worker ignores
        SIGTERM while its parent lives (:mod:`hydro._signals`), and the shutdown would wait
        for its task (a looped run: its whole time limit) until the signal watchdog's kill.
        """
        for process in list((self._pool._processes or {}).values()):
            process.kill()
        self._pool.shutdown(wait=True, cancel_futures=True)


#: In each worker of a :class:`LocalPool`: its [run number, next task] and their lock.
_SHARED: tuple | None = None


def _share(state, lock) -> None:
    """Keep the pool's counter in the worker (the pool's initializer)."""
    global _SHARED
    _SHARED = (state, lock)


def _runner(fn, tasks, number: int, slice_s: float) -> list:
    """Run tasks of run ``number`` from the shared counter until none is left or
    ``slice_s`` has passed; return ``[(index, fn(*task)), ...]``.
    """
    state, lock = _SHARED
    out = []
    started = time.perf_counter()
    while True:
        with lock:
            if state[0] != number or state[1] >= len(tasks):
                return out
            index = state[1]
            state[1] = index + 1
        out.append((index, _task(fn, *tasks[index])))
        if time.perf_counter() - started >= slice_s:
            return out


class DaskCluster(Executor):
    """A ``dask.distributed`` cluster: its scheduler's address, or a ``Client`` already made.

    A client this executor opens is closed with it; a client given stays open.
    """

    def __init__(self, scheduler):
        try:
            from dask.distributed import Client
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise InputError("--scheduler needs dask's 'distributed' package") from exc
        if isinstance(scheduler, str):
            self.client = _connect(Client, scheduler)
            self._own = True
        else:
            self.client, self._own = scheduler, False
        workers = self.client.scheduler_info().get("workers", {})
        self.workers = max(sum(w.get("nthreads", 1) for w in workers.values()), 1)
        self.description = (
            f"Dask cluster at {self.client.scheduler.address} ({self.workers} threads)"
        )

    def run(self, fn, tasks):
        """Yield ``(index, fn(*task))`` for every task, in the order they finish."""
        from dask.distributed import as_completed as dask_completed

        futures = [self.client.submit(_task, fn, *args, pure=False) for args in tasks]
        index = {f.key: i for i, f in enumerate(futures)}
        for future in dask_completed(futures):
            yield index[future.key], future.result()

    def close(self) -> None:
        """Release the workers."""
        if self._own:
            self.client.close()


#: How long to wait for a Dask scheduler to answer [s].
CONNECT_TIMEOUT_S = 15.0
_ADDRESS = re.compile(r"^(tcp|tls|inproc|ucx|ws|wss)://[^\s:/]+(:\d{1,5})$")


def _connect(client_class, address: str):
    """A ``Client`` of the scheduler at ``address``, or an error within a bounded time.

    The address is checked first (``tcp://HOST:PORT``); the connection, its handshake and the
    first answer must come within :data:`CONNECT_TIMEOUT_S`: something that accepts the
    connection and never answers as a Dask scheduler does not hang the command.
    """
    if not _ADDRESS.match(address):
        raise InputError(
            f"--scheduler {address!r}: give the scheduler's address as tcp://HOST:PORT "
            "(e.g. tcp://10.0.0.5:8786)"
        )
    import dask

    outcome: dict = {}

    def connect() -> None:
        try:
            timeout = f"{CONNECT_TIMEOUT_S:g}s"
            with dask.config.set(
                {
                    "distributed.comm.timeouts.connect": timeout,
                    "distributed.comm.timeouts.tcp": timeout,
                }
            ):
                client = client_class(address, timeout=timeout)
                client.scheduler_info()  # the scheduler really answers
            outcome["client"] = client
        except BaseException as exc:  # reported below, in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(CONNECT_TIMEOUT_S + 5.0)
    if "client" in outcome:
        return outcome["client"]
    reason = outcome.get("error")
    why = f"{type(reason).__name__}: {reason}" if reason else "no answer"
    if isinstance(reason, MemoryError | OverflowError | UnicodeDecodeError):
        # Dask read a reply that is not its protocol (an HTTP server's first bytes as a frame
        # length of exabytes): what answers there is not a scheduler.
        raise InputError(
            f"--scheduler {address}: something answers there, but not a Dask scheduler (a web "
            "server such as the Dask dashboard, usually port 8787?); the scheduler's own port "
            "is usually 8786"
        )
    raise InputError(
        f"cannot reach a Dask scheduler at {address} within {CONNECT_TIMEOUT_S:g} s ({why}); "
        "start one with `dask scheduler` and workers with `dask worker ADDRESS`"
    )


def make_executor(workers: int | None = None, scheduler=None) -> Executor:
    """The executor for ``--workers K`` and ``--scheduler tcp://HOST:PORT``.

    A scheduler (address or ``Client``): the Dask cluster. Else ``workers`` local processes,
    one per core by default and at most one per core (:func:`capped`); ``workers=1``: in
    this process.
    """
    if scheduler:
        return DaskCluster(scheduler)
    workers = (os.cpu_count() or 1) if workers is None else capped(int(workers))
    if workers < 1:
        raise InputError(f"--workers must be 1 or more, got {workers}")
    return InProcess() if workers == 1 else LocalPool(workers)


def capped(workers: int) -> int:
    """``workers`` local processes, at most one per core of this machine (with a note).

    More processes than cores only share the cores and multiply the memory used; hundreds
    of them can exhaust the machine's memory or process table.
    """
    cores = os.cpu_count() or 1
    if workers > cores:
        log.warning(
            "note: --workers %d is more than this machine's %d cores: %d local processes",
            workers,
            cores,
            cores,
        )
        return cores
    return workers


# --------------------------------------------------------------------------- the run's executor
class _Run(threading.local):
    """The executor of the run going on in this thread, and the process that set it."""

    executor: Executor | None = None
    pid: int = 0


_RUN = _Run()


@contextmanager
def using(executor: Executor) -> Iterator[Executor]:
    """Make ``executor`` the run's executor (:func:`current`) inside the ``with`` block.

    The executor stays open after the block (its owner closes it); blocks nest, the inner
    one wins until it ends.

    Examples
    --------
    >>> with using(InProcess()) as executor:
    ...     current() is executor
    True
    >>> current() is None
    True
    """
    before = (_RUN.executor, _RUN.pid)
    _RUN.executor, _RUN.pid = executor, os.getpid()
    try:
        yield executor
    finally:
        _RUN.executor, _RUN.pid = before


def current() -> Executor | None:
    """The run's executor (:func:`using`) in this thread and process, or None outside a run.

    In a task, :class:`InProcess`: work a task would hand on runs inside the task.
    """
    if _RUN.executor is not None and _RUN.pid == os.getpid():
        return _RUN.executor
    return None


@contextmanager
def executor_for(workers: int | None = None, scheduler=None) -> Iterator[Executor]:
    """The run's executor (:func:`current`) or, outside a run, one for this block alone.

    Outside a run the executor is :func:`make_executor` ``(workers, scheduler)``, closed at
    the end of the block; the run's executor stays open (the run closes it).
    """
    running = current()
    if running is not None:
        yield running
        return
    with make_executor(workers, scheduler) as executor:
        yield executor


def _task(fn: Callable, *args):
    """``fn(*args)`` as a task: in it, the run's executor is :class:`InProcess`."""
    with using(InProcess()):
        return fn(*args)
