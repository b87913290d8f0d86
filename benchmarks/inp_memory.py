"""Memory hydro takes to read and check a network, per byte of its ``.inp`` file.

Usage: python benchmarks/inp_memory.py [--sizes 443,10000,100000] [--check-up-to 10000]

For each network (the benchmark and example files of ``networks/``, then random rural meshes
of ``--sizes`` junctions from :func:`hydro.sizing.random_networks.rural_mesh`, a Balerma-like
443 junctions and 454 pipes first), in a fresh process each:

- ``read``: ``hydro.read_network`` (EPANET's parser, WNTR's model, every check), the growth of
  the process's peak resident set (``VmHWM``, reset by ``/proc/self/clear_refs`` once the
  imports are done: their own passing peak would hide a small read) over its resident set
  before the read;
- ``check``: ``hydro check FILE --no-tap-flows`` (72 h), the peak resident set of the whole
  command, less that of a process that only imports what the command imports, for files of
  up to ``--check-up-to`` junctions.

``tracemalloc`` would miss what EPANET and numpy allocate in C, so the resident set is
measured. Small files show the fixed cost of a read (EPANET's project, WNTR's objects):
the per-byte factor that matters, the one :data:`hydro.network.MEMORY_PER_FILE_BYTE` must
cover, is that of files of 1 MB or more. Last line:
``read_bytes_per_file_byte=<x> check_bytes_per_file_byte=<y>`` (the largest over those files).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hydro.sizing.random_networks import rural_mesh  # noqa: E402

#: Files from which the per-byte factor is taken (smaller ones show the fixed cost) [bytes].
LARGE_FILE_BYTES = 1_000_000

READ = """
import json, sys, time
from hydro.network import read_network

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1])

open("/proc/self/clear_refs", "w").write("5")  # the peak starts again from here (Linux)
before = status("VmRSS:")
started = time.perf_counter()
wn = read_network(sys.argv[1])
seconds = time.perf_counter() - started
print(json.dumps({"junctions": wn.num_junctions, "pipes": wn.num_pipes,
                  "growth_kb": status("VmHWM:") - before, "seconds": seconds}))
"""

#: What ``hydro check`` imports: the baseline of its peak resident set.
IMPORTS = "import hydro.cli, hydro.compliance, hydro.condition, hydro.simulation, hydro.demand"

CHILD_PEAK = """
import resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - started
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, seconds, done.returncode)
"""


def child_peak_kb(args: list[str]) -> tuple[int, float, int]:
    """Peak resident set [kB] of a command, its wall time [s] and exit status."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD_PEAK, *args], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[0]), float(out[1]), int(out[2])


def measure(path: Path, check_up_to: int, baseline_kb: int) -> dict:
    """One network: its size, the read's growth and, up to ``check_up_to`` junctions, the
    check command's."""
    done = subprocess.run(
        [sys.executable, "-c", READ, str(path)], capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"{path}: {done.stderr[-500:]}")
    row = {"file": path.name, "bytes": path.stat().st_size, **json.loads(done.stdout)}
    if row["junctions"] <= check_up_to:
        peak, seconds, status = child_peak_kb(
            [sys.executable, "-m", "hydro", "-q", "check", str(path), "--no-tap-flows"]
        )
        row.update(check_growth_kb=peak - baseline_kb, check_seconds=seconds, check_status=status)
    return row


def main() -> None:
    """Measure every network and print one row each, then the factors."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="443,10000,100000")
    parser.add_argument("--check-up-to", type=int, default=10_000)
    args = parser.parse_args()
    baseline_kb, _, _ = child_peak_kb([sys.executable, "-c", IMPORTS])
    files = sorted((ROOT / "networks").glob("*.inp")) + sorted(
        (ROOT / "networks" / "benchmarks").glob("*.inp")
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="inp-memory-") as folder:
        for size in map(int, args.sizes.split(",")):
            path = Path(folder) / f"rural_mesh_{size}.inp"
            share = 0.013 if size < 1000 else 0.25  # 443: 443 junctions, 454 pipes (Balerma)
            path.write_text(rural_mesh(size, seed=1, loop_share=share))
            files.append(path)
        print("file, bytes, junctions, pipes, read s, read growth MB, per file byte, "
              "check s, check growth MB, per file byte, check status")  # fmt: skip
        for path in files:
            started = time.perf_counter()
            row = measure(path, args.check_up_to, baseline_kb)
            rows.append(row)
            read_factor = row["growth_kb"] * 1024 / row["bytes"]
            check = (
                f"{row['check_seconds']:.1f}, {row['check_growth_kb'] / 1024:.1f}, "
                f"{row['check_growth_kb'] * 1024 / row['bytes']:.1f}, {row['check_status']}"
                if "check_growth_kb" in row
                else "-, -, -, -"
            )
            print(
                f"{row['file']}, {row['bytes']:,}, {row['junctions']:,}, {row['pipes']:,}, "
                f"{row['seconds']:.1f}, {row['growth_kb'] / 1024:.1f}, {read_factor:.1f}, "
                f"{check}  ({time.perf_counter() - started:.0f} s)",
                flush=True,
            )
    large = [r for r in rows if r["bytes"] >= LARGE_FILE_BYTES]
    read = max((r["growth_kb"] * 1024 / r["bytes"] for r in large), default=float("nan"))
    checked = [r["check_growth_kb"] * 1024 / r["bytes"] for r in large if "check_growth_kb" in r]
    print(
        f"read_bytes_per_file_byte={read:.1f} "
        f"check_bytes_per_file_byte={max(checked, default=float('nan')):.1f}"
    )


if __name__ == "__main__":
    main()
