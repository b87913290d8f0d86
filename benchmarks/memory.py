"""Memory over a long sizing session: does the resident set stay flat?

Usage: python benchmarks/memory.py [--minutes 10] [--every 30]

Runs the looped optimiser on Hanoi again and again (a new seed each time, 60 s each, as
``hydro size`` does) in one process for ``--minutes``, and samples the resident set size
(``/proc/self/status`` VmRSS) and the open file descriptors every ``--every`` seconds. The
evaluator's memo is bounded (200,000 designs) and each run opens and closes its own EPANET
project, so after the first run the memory should stop growing. Printed: the samples, then the
peak resident set of the second half against that of the first half (after the
first minute), in MB and as a share.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hydro.catalog import read_catalog  # noqa: E402
from hydro.network import read_network  # noqa: E402
from hydro.sizing.looped import optimise  # noqa: E402
from hydro.sizing.problem import Targets, build_problem  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=30.0)
    args = parser.parse_args()
    wn = read_network(ROOT / "networks" / "benchmarks" / "hanoi.inp")
    catalog = read_catalog(ROOT / "networks" / "benchmarks" / "hanoi_catalog.csv")
    problem = build_problem(wn, catalog, Targets(30.0))
    samples: list[tuple[float, float, int, int]] = []
    evaluations = [0]
    started = time.perf_counter()
    stop = started + args.minutes * 60

    def sampler() -> None:
        while time.perf_counter() < stop:
            samples.append((time.perf_counter() - started, rss_mb(), open_fds(), evaluations[0]))
            print(
                f"  t={samples[-1][0]:6.0f} s  RSS {samples[-1][1]:7.1f} MB  open fds "
                f"{samples[-1][2]:3d}  evaluations {samples[-1][3]:,}",
                flush=True,
            )
            time.sleep(args.every)

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    seed = 0
    while time.perf_counter() < stop:
        seed += 1
        left = stop - time.perf_counter()
        outcome = optimise(problem, seed=seed, time_limit_s=max(1.0, min(60.0, left)))
        evaluations[0] += outcome.evaluations
    thread.join(timeout=args.every + 5)
    samples.append((time.perf_counter() - started, rss_mb(), open_fds(), evaluations[0]))
    end = samples[-1]
    half = end[0] / 2
    first = max(s[1] for s in samples if 60 <= s[0] < half) if end[0] > 120 else end[1]
    second = max(s[1] for s in samples if s[0] >= half)
    print(
        f"runs {seed}, evaluations {end[3]:,} in {end[0]:.0f} s; peak RSS from minute 1 to "
        f"half-time {first:.1f} MB, in the second half {second:.1f} MB; open fds "
        f"{min(s[2] for s in samples)}-{max(s[2] for s in samples)}"
    )
    print(f"rss_growth_mb={second - first:.1f} rss_growth_share={(second - first) / first:.3f}")


if __name__ == "__main__":
    main()
