"""The executors: every task run once, errors and early stops, the cut of the work."""

from __future__ import annotations

import math
import operator
import time

import pytest

from hydro.parallel import Executor, InProcess, LocalPool


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
