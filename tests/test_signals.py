"""Interrupted runs (issue 28, point 6): after SIGINT, SIGTERM or SIGHUP, to hydro or to its
whole process group, the exit status is 130, 143 or 129, and no temporary folder, worker or
resource-tracker process is left; ``--workers`` above the machine's cores is capped."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import BENCHMARKS, ROOT, hydro_command, run_hydro

NETWORK = ROOT / "networks" / "oujda_rural.inp"
VILLAGES = ROOT / "demand_profiles" / "oujda_villages.csv"
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
