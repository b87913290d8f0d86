"""Interrupted runs (issue 28, point 6): after SIGINT, SIGTERM or SIGHUP, to hydro or to its
whole process group, the exit status is 130, 143 or 129, and no temporary folder, worker or
resource-tracker process is left; ``--workers`` above the machine's cores is capped."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import BENCHMARKS, ROOT, hydro_command, run_hydro

NETWORK = ROOT / "tests" / "data" / "booster_aqueduct.inp"
VILLAGES = ROOT / "tests" / "data" / "booster_villages.csv"
#: How long the processes of a stopped run may take to be gone [s].
GONE_WITHIN_S = 10.0


def start(args, tmp: Path) -> subprocess.Popen:
    """Start ``hydro args`` in a process group of its own, temporary files in ``tmp``."""
    return subprocess.Popen(
        [*hydro_command(), *map(str, args)],
        env={**os.environ, "TMPDIR": str(tmp)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for(process: subprocess.Popen, text: str, timeout_s: float = 120.0) -> str:
    """Read stderr until a line holds ``text`` (the run is at work); return what was read."""
    seen, deadline = [], time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        seen.append(line)
        if text in line:
            return "".join(seen)
    raise AssertionError(f"never saw {text!r}: {''.join(seen)}")


def alive(group: int) -> list[str]:
    """The processes of a process group that still run (zombies waiting for init excluded)."""
    found = subprocess.run(["pgrep", "-g", str(group)], capture_output=True, text=True).stdout
    running = []
    for pid in found.split():
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            running.append(pid)
    return running


def stop(process: subprocess.Popen, signum: int, group: bool, twice: bool = False):
    """Send ``signum`` (to the group, and a second time); return (status, stderr)."""
    send = os.killpg if group else os.kill
    send(process.pid, signum)
    if twice:
        time.sleep(0.3)
        with contextlib.suppress(ProcessLookupError):  # gone already: a quick clean-up
            send(process.pid, signum)
    stderr = process.stderr.read()
    status = process.wait(timeout=60)
    deadline = time.monotonic() + GONE_WITHIN_S
    while alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert alive(process.pid) == [], "processes left behind"
    return status, stderr


@pytest.mark.parametrize(
    ("signum", "group", "twice", "status"),
    [
        (signal.SIGINT, True, True, 130),  # Ctrl-C twice in the terminal
        (signal.SIGTERM, False, False, 143),
        (signal.SIGHUP, True, False, 129),  # the terminal closed
    ],
    ids=["ctrl-c-twice", "sigterm", "sighup"],
)
def test_a_signal_during_taps_on_workers_leaves_nothing(tmp_path, signum, group, twice, status):
    process = start(
        ["taps", NETWORK, "--villages", VILLAGES, "--draws", 400_000, "--workers", 2], tmp_path
    )
    wait_for(process, "draws ")  # the workers are drawing
    code, stderr = stop(process, signum, group, twice)
    assert code == status, stderr
    assert "Traceback" not in stderr, stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_sigterm_during_a_parallel_sizing_leaves_no_worker_and_no_temporary_folder(tmp_path):
    process = start(
        ["size", BENCHMARKS / "hanoi.inp", "--catalog", BENCHMARKS / "hanoi_catalog.csv",
         "--min-pressure", 30, "--workers", 2, "--time-limit", 120],
        tmp_path,
    )  # fmt: skip
    wait_for(process, "best cost")  # the runs are under way in their processes
    code, stderr = stop(process, signal.SIGTERM, group=False)
    assert code == 143, stderr
    assert "error: terminated (SIGTERM)" in stderr and "Traceback" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_more_workers_than_cores_are_capped_with_a_note(tmp_path):
    done = run_hydro(
        "taps", NETWORK, "--villages", VILLAGES, "--draws", 20, "--workers", 999, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "--workers 999 is more than" in done.stderr
    from hydro.parallel import capped

    assert capped(999) == (os.cpu_count() or 1) and capped(1) == 1


#: A command that receives SIGTERM while ctypes converts an argument through a Python
#: ``from_param`` (as numpy's ``ndpointer`` is, for EPANET's bulk getters): ctypes wraps the
#: signal's exception in an ``ArgumentError``.
SIGNAL_IN_CTYPES = """
import ctypes, os, signal, sys
import hydro.cli.check as check
from hydro.cli import main

class Signalled:
    @classmethod
    def from_param(cls, value):
        os.kill(os.getpid(), signal.SIGTERM)  # the handler runs inside this conversion
        return ctypes.c_char_p(b"")  # a valid string, were the call ever made

def command(args):
    strlen = ctypes.CDLL(None).strlen
    strlen.argtypes = [Signalled]
    strlen(None)
    return 0

check.cmd_check = command
sys.exit(main(["check", sys.argv[1]]))
"""


def test_sigterm_inside_a_ctypes_conversion_is_a_termination_not_an_error(tmp_path):
    """The race behind a SIGTERM test that failed once in about 30 runs: a signal arriving
    while ctypes converted an EPANET call's argument ended in "unexpected ArgumentError",
    exit 1, instead of 143."""
    done = subprocess.run(
        [sys.executable, "-c", SIGNAL_IN_CTYPES, str(NETWORK)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 143, done.stderr
    assert "error: terminated (SIGTERM)" in done.stderr
    assert "ArgumentError" not in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


#: A pool, made inside a command (hydro's signal handlers installed), ended while its task
#: runs for a minute; prints how long the ending took [s].
TERMINATE_IN_A_COMMAND = """
import threading, time
from hydro._signals import guarded
from hydro.parallel import LocalPool

def run(pool):
    try:
        list(pool.run(time.sleep, [(60.0,)]))
    except BaseException:
        pass

with guarded():
    pool = LocalPool(1)
    threading.Thread(target=run, args=(pool,), daemon=True).start()
    while not pool._pool._processes:
        time.sleep(0.01)
    time.sleep(0.5)  # the worker is in its task
    started = time.monotonic()
    pool.terminate()
    print(time.monotonic() - started)
"""


def test_a_pool_ended_inside_a_command_does_not_wait_for_its_task(tmp_path):
    """A forked worker ignores SIGTERM while its parent lives; ending a pool (a looped sizing
    stopped by a signal) sent it SIGTERM and so waited for the signal watchdog's kill, 5 s
    later, leaving 3 s for the rest of the clean-up on a loaded machine: the other race
    behind the flaky SIGTERM test."""
    done = subprocess.run(
        [sys.executable, "-c", TERMINATE_IN_A_COMMAND],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) < 2.0, done.stdout  # not the task's minute
