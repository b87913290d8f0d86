"""Exact tree sizing on random branched networks: solve time, cost and peak memory per size.

Usage: python benchmarks/size_trees.py [--sizes 50 300 1000 3000] [--seed 1]

Each network is a random recursive tree (every new junction hangs below a uniformly chosen
earlier one), about 24 l/s of demand in all, one reservoir at 110 m, Hazen-
Williams C = 130, and a 10-entry catalogue. The time of the 0-1 program (HiGHS) is printed
apart from the total, which includes reading, the design-condition run and the independent
EPANET verification of the written design.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hydro.catalog import read_catalog  # noqa: E402
from hydro.network import read_network  # noqa: E402
from hydro.sizing import size_network  # noqa: E402
from hydro.sizing.problem import Targets  # noqa: E402

CATALOG = pd.DataFrame(
    {
        "inner_diameter_mm": [40.8, 55.4, 66.0, 79.2, 96.8, 110.2, 141.0, 176.2, 220.4, 277.6],
        "cost_per_m": [55, 70, 85, 100, 130, 155, 210, 300, 420, 610],
    }
)


def random_tree(n_pipes: int, rng: np.random.Generator) -> str:
    junctions, pipes, coords = [], [], [" R1 0 0"]
    for k in range(1, n_pipes + 1):
        parent = "R1" if k == 1 else f"J{rng.integers(1, k)}"
        demand_l_s = rng.uniform(0.2, 1.0) * 40.0 / n_pipes  # about 24 l/s in all
        junctions.append(f" J{k} {rng.uniform(0, 30):.2f} {demand_l_s:.5f}")
        pipes.append(f" P{k} {parent} J{k} {rng.uniform(100, 800):.1f} 100 130")
        coords.append(f" J{k} {k} {k}")
    head = 110.0
    return (
        "[JUNCTIONS]\n"
        + "\n".join(junctions)
        + f"\n[RESERVOIRS]\n R1 {head}\n[PIPES]\n"
        + "\n".join(pipes)
        + "\n[OPTIONS]\n Units LPS\n Headloss H-W\n[COORDINATES]\n"
        + "\n".join(coords)
        + "\n[END]\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 300, 1000, 3000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--min-pressure", type=float, default=15.0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(
        f"{'pipes':>6} {'milp_s':>8} {'total_s':>8} {'cost':>14} {'cost_per_pipe':>14} "
        f"{'min_p_m':>8} {'gap':>8} {'verified':>8} {'peak_rss_mb':>11}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        cat_path = Path(tmp) / "catalog.csv"
        CATALOG.to_csv(cat_path, index=False)
        catalog = read_catalog(cat_path)
        for n in args.sizes:
            path = Path(tmp) / f"tree_{n}.inp"
            path.write_text(random_tree(n, rng))
            started = time.perf_counter()
            result = size_network(read_network(path), catalog, Targets(args.min_pressure))
            total = time.perf_counter() - started
            rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            v = result.verification
            print(
                f"{n:>6} {result.seconds:>8.2f} {total:>8.2f} {v.cost:>14,.0f} "
                f"{v.cost / n:>14,.1f} {v.min_pressure_m:>8.3f} {result.gap:>8.1e} "
                f"{str(v.ok):>8} {rss_mb:>11.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
