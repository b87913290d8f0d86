"""The executors: every task run once, errors and early stops, the cut of the work; the
run's executor; the looped sizing's independent runs on every executor."""

from __future__ import annotations

import logging
import math
import operator
import os
import threading
import time

import numpy as np
import pytest
from conftest import local_cluster

from hydro.parallel import (
    Executor,
    InProcess,
    LocalPool,
    capped,
    current,
    executor_for,
    make_executor,
    using,
)


def slow_square(x):
    time.sleep(0.02)
    return x * x


@pytest.fixture(scope="module")
def pool():
    with LocalPool(2) as pool:
        yield pool


def test_local_pool_runs_every_task_once_across_runners(pool, monkeypatch):
    # runners that return after each task: many runners per run, started while tasks remain
    monkeypatch.setattr(pool, "slice_s", 0.0)
    tasks = [(i, i + 1) for i in range(57)]
    got = list(pool.run(operator.mul, tasks))
    assert sorted(i for i, _ in got) == list(range(57))
    assert dict(got) == {i: i * (i + 1) for i in range(57)}
    assert list(pool.run(operator.mul, [])) == []


def test_local_pool_reports_a_tasks_error_and_stays_usable(pool):
    with pytest.raises(ValueError, match="math domain error"):
        list(pool.run(math.sqrt, [(4.0,), (-1.0,), (9.0,)]))
    assert dict(pool.run(math.sqrt, [(4.0,), (9.0,)])) == {0: 2.0, 1: 3.0}


def test_local_pool_run_stopped_early_does_not_leak_into_the_next(pool, monkeypatch):
    # one runner is still in the long task when the caller stops after the first results
    monkeypatch.setattr(pool, "slice_s", 10.0)
    first = pool.run(time.sleep, [(0.0,)] * 10 + [(0.3,)] + [(0.0,)] * 50)
    next(first)
    first.close()
    # that runner must not take tasks of the next run when it wakes up
    expected = {k: k * k for k in range(40)}
    assert dict(pool.run(slow_square, [(k,) for k in range(40)])) == expected


@pytest.mark.parametrize("total", [1, 49, 50, 2000, 20000, 123457])
def test_cuts_cover_the_work_in_bounded_blocks(total):
    for executor in (InProcess(), LocalPool.__new__(LocalPool)):
        executor.workers = 1 if isinstance(executor, InProcess) else 2
        sizes = executor.cut(total, 50, 5000)
        assert sum(sizes) == total
        assert all(0 < s <= 5000 for s in sizes)
        assert all(s >= 50 for s in sizes[:-1])
    # the pool's blocks shrink as the work left does: the last ones are the smallest
    sizes = executor.cut(total, 50, 5000)
    assert sizes == sorted(sizes, reverse=True)
    # the default cut: two blocks per worker
    assert Executor.cut(executor, 2000, 50, 5000) == [500] * 4


# --------------------------------------------------------------------------- the run's executor
def in_task_executor():
    """The executor a task sees as the run's (it must not hand work on to its own runner)."""
    return type(current()).__name__


def test_the_runs_executor_is_set_for_a_block_and_in_process_inside_a_task(pool):
    assert current() is None
    outer, inner = InProcess(), InProcess()
    with using(outer):
        assert current() is outer
        with using(inner):
            assert current() is inner
        assert current() is outer
        # a thread of its own is outside the run (Dask runs tasks in its worker threads)
        seen = []
        thread = threading.Thread(target=lambda: seen.append(current()))
        thread.start()
        thread.join()
        assert seen == [None]
    assert current() is None
    with using(pool):
        assert current() is pool
        # in a task, in a worker process or in this one: in-process
        assert dict(pool.run(in_task_executor, [()] * 3)) == {k: "InProcess" for k in range(3)}
        assert dict(InProcess().run(in_task_executor, [()])) == {0: "InProcess"}
        assert current() is pool


def test_a_pool_runs_one_set_of_tasks_at_a_time(pool):
    first = pool.run(slow_square, [(k,) for k in range(4)])
    got = [next(first)]
    with pytest.raises(RuntimeError, match="one run at a time"):
        list(pool.run(slow_square, [(1,)]))
    got.extend(first)  # the first run was not disturbed
    assert dict(got) == {0: 0, 1: 1, 2: 4, 3: 9}
    assert dict(pool.run(slow_square, [(3,)])) == {0: 9}  # and the pool is free again


def test_terminate_ends_a_pool_whose_task_runs_for_long():
    pool = LocalPool(1)
    seen = []
    thread = threading.Thread(target=lambda: seen.extend(_outcome(pool, time.sleep, [(60.0,)])))
    thread.start()
    while not pool._pool._processes:  # the worker has started
        time.sleep(0.01)
    processes = list(pool._pool._processes.values())
    pool.terminate()
    thread.join(timeout=10)
    assert not thread.is_alive() and not any(p.is_alive() for p in processes)
    assert seen and isinstance(seen[0], BaseException)  # the run ended in an error, not a result


def _outcome(pool, fn, tasks):
    try:
        return list(pool.run(fn, tasks))
    except BaseException as exc:  # noqa: BLE001 - a worker that inherited hydro's SIGTERM
        return [exc]  # handler (a command test ran earlier in this process) raises Terminated


def test_more_workers_than_cores_are_capped_with_a_note(caplog):
    cores = os.cpu_count() or 1
    with caplog.at_level(logging.WARNING, logger="hydro.parallel"):
        with make_executor(cores + 997) as executor:
            assert executor.workers == cores
    assert f"--workers {cores + 997} is more than this machine's {cores} cores" in caplog.text
    assert capped(1) == 1
    with executor_for(1) as alone:  # outside a run: made for the block
        assert isinstance(alone, InProcess)
    run = InProcess()
    with using(run), executor_for(4) as inside:  # in a run: the run's
        assert inside is run


# --------------------------------------------------------------------------- sizing restarts
def test_looped_sizing_runs_give_the_same_design_whichever_executor_runs_them(pool):
    """Three independent runs (each its own random stream) on Hanoi, bounded by evaluations:
    in this process one after another, on local processes, on a Dask cluster, on the run's
    executor: the same runs, the same cheapest design."""
    from conftest import BENCHMARKS

    from hydro.catalog import read_catalog
    from hydro.network import read_network
    from hydro.sizing.looped import optimise
    from hydro.sizing.problem import Targets, build_problem

    wn = read_network(BENCHMARKS / "hanoi.inp")
    problem = build_problem(wn, read_catalog(BENCHMARKS / "hanoi_catalog.csv"), Targets(30.0))

    def size(executor):
        return optimise(problem, seed=3, time_limit_s=600, max_evaluations=300, workers=3,
                        executor=executor)  # fmt: skip

    alone = size(InProcess())
    assert alone.evaluations == 3 * 300 and "3 independent runs" in alone.notes[0]
    costs = alone.notes[0].split("(")[1]
    assert len(set(costs.split(", "))) > 1  # the runs differ: each has its own stream
    with using(pool):
        on_the_run = size(None)
    got = [size(pool), on_the_run]
    distributed = pytest.importorskip("dask.distributed")
    with (
        local_cluster(distributed) as cluster,
        make_executor(scheduler=cluster.scheduler_address) as dask,
    ):
        got.append(size(dask))
    for result in got:
        assert result.cost == alone.cost and result.notes == alone.notes
        np.testing.assert_array_equal(result.choice, alone.choice)
        assert result.evaluations == alone.evaluations
