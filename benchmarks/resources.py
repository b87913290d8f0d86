"""Resources over many calls in one process (issue 15): descriptors, memory, temporary files.

Runs 2,000 reads of rejected networks and 2,000 simulations in one process and prints, for
each, the open file descriptors, the resident memory and the files left in the temporary
folder and in the current folder: after a warm-up of 100 calls (the baseline) and at the end,
side by side with their growth. For the descriptors it also runs the old failure path (EPANET's
project deleted without ``EN_close``) in the same process, as the baseline that leaked.

Run: ``.venv/bin/python benchmarks/resources.py [--calls 2000]`` (Linux: reads ``/proc``).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hydro._toolkit import library  # noqa: E402
from hydro.errors import InputError  # noqa: E402
from hydro.network import read_network  # noqa: E402
from hydro.simulation import run_simulation  # noqa: E402

NETWORK = """[TITLE]
resources benchmark
[JUNCTIONS]
 J1 10 10
 J2 12 5
[RESERVOIRS]
 R1 60
[PIPES]
 P1 R1 J1 1000 150 130
 P2 J1 J2 500 100 130
[PATTERNS]
 D 0.5 1.5 1.0 0.8
[OPTIONS]
 Units LPS
 Headloss H-W
 Pattern D
[TIMES]
 Duration 24
 Hydraulic Timestep 1:00
[END]
"""
BAD = "[JUNCTIONS]\n J1 10 x\n[RESERVOIRS]\n R1 50\n[PIPES]\n P1 R1 J1 1000 150 130\n[END]\n"


def descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def temp_entries() -> int:
    """Entries in this process's private temporary folder (TMPDIR), recursively."""
    return sum(1 for _ in Path(tempfile.gettempdir()).rglob("*"))


def cwd_entries() -> int:
    return len(os.listdir("."))


def snapshot() -> dict:
    return {
        "descriptors": descriptors(),
        "rss_mb": rss_mb(),
        "temp_entries": temp_entries(),
        "cwd_entries": cwd_entries(),
    }


def measure(name: str, call, calls: int, warmup: int = 100) -> None:
    for _ in range(warmup):
        call()
    base = snapshot()
    started = time.perf_counter()
    for _ in range(calls - warmup):
        call()
    seconds = time.perf_counter() - started
    end = snapshot()
    print(f"\n{name}: {calls} calls, {1000 * seconds / (calls - warmup):.1f} ms each")
    print(f"  {'':14s} {'after ' + str(warmup):>12s} {'after ' + str(calls):>12s} {'growth':>10s}")
    for key in base:
        grow = end[key] - base[key]
        print(f"  {key:14s} {base[key]:12.1f} {end[key]:12.1f} {grow:+10.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="resources-bench-"))
    (work / "tmp").mkdir()
    tempfile.tempdir = str(work / "tmp")  # a private TMPDIR: only this process's files count
    os.environ["TMPDIR"] = tempfile.tempdir
    os.chdir(work)  # the current folder must stay as it is
    bad, good = work / "bad.inp", work / "net.inp"
    bad.write_text(BAD)
    good.write_text(NETWORK)

    def rejected_read():
        try:
            read_network(bad)
        except InputError:
            return
        raise AssertionError("the bad network was accepted")

    lib = library()

    def old_failure_path():  # before issue 15: EN_deleteproject without EN_close
        handle = ctypes.c_void_p()
        lib.EN_createproject(ctypes.byref(handle))
        lib.EN_open(handle, str(bad).encode(), os.devnull.encode(), b"")
        lib.EN_deleteproject(handle)

    wn = read_network(good)

    def simulation():
        run_simulation(wn, duration_h=24)

    print(f"python {sys.version.split()[0]}, working folder {work}")
    measure("baseline: old failure path (no EN_close), 200 calls", old_failure_path, 200, 10)
    measure("hydro: read_network on a rejected file", rejected_read, args.calls)
    measure("hydro: run_simulation (24 h, 3 nodes)", simulation, args.calls)
    left = sorted(p.name for p in work.iterdir())
    print(f"\nfiles in the working folder at the end: {left}")
    print(f"files in the private TMPDIR at the end: {sorted(map(str, (work / 'tmp').rglob('*')))}")
    os.chdir(ROOT)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
