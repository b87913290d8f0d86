"""Evaluations per second on Hanoi: hydro's in-memory evaluator vs WNTR's EpanetSimulator.

Usage: python benchmarks/evaluator.py [--designs 2000] [--simulator-designs 200] [--seed 0]

All three rates are measured in the same run on the same random designs (each changes every
diameter, the worst case for the evaluator; an optimiser's moves change one or two):
- evaluator: set the changed diameters, solve, read all pressures (memo disabled);
- EpanetSimulator: WNTR's file-based run of the same design (a subset of the designs);
- bare solve: EN_initH + EN_runH only, in the evaluator's open project.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import wntr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hydro.catalog import read_catalog  # noqa: E402
from hydro.network import read_network  # noqa: E402
from hydro.sizing.evaluator import Evaluator  # noqa: E402
from hydro.sizing.problem import Targets, build_problem  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designs", type=int, default=2000)
    parser.add_argument("--simulator-designs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    wn = read_network(ROOT / "networks" / "benchmarks" / "hanoi.inp")
    catalog = read_catalog(ROOT / "networks" / "benchmarks" / "hanoi_catalog.csv")
    problem = build_problem(wn, catalog, Targets(30.0))
    rng = np.random.default_rng(args.seed)
    designs = rng.integers(0, len(catalog), (args.designs, len(problem.pipes)))

    with Evaluator(problem, memo_size=0) as evaluator:
        started = time.perf_counter()
        for d in designs:
            evaluator.memo.clear()
            evaluator.evaluate(d)
        fast = len(designs) / (time.perf_counter() - started)
        started = time.perf_counter()
        for _ in range(len(designs)):
            evaluator.solve()
        bare = len(designs) / (time.perf_counter() - started)
        engine = evaluator.engine

    snapshot = problem.snapshot
    diameters = catalog.diameters
    with tempfile.TemporaryDirectory() as tmp:
        prefix = str(Path(tmp) / "run")
        started = time.perf_counter()
        for d in designs[: args.simulator_designs]:
            for name, k in zip(problem.pipes, d, strict=True):
                snapshot.get_link(name).diameter = diameters[k]
            wntr.sim.EpanetSimulator(snapshot).run_sim(file_prefix=prefix)
        slow = args.simulator_designs / (time.perf_counter() - started)

    print(f"network: Hanoi, {len(problem.pipes)} pipes, EPANET {engine} toolkit in memory")
    print(f"fast evaluator:        {fast:12,.0f} evaluations/s ({len(designs)} designs)")
    print(f"EpanetSimulator loop:  {slow:12,.0f} evaluations/s ({args.simulator_designs} designs)")
    print(f"bare EPANET solve:     {bare:12,.0f} solves/s")
    print(f"speedup_vs_epanetsimulator={fast / slow:.1f} fraction_of_bare_solve={fast / bare:.3f}")


if __name__ == "__main__":
    main()
