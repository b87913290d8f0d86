"""Looped sizing at scale: hydro's optimiser against a unit-headloss baseline, same run.

Usage: python benchmarks/large_loops.py [--quick] [--seeds 5] [--checkpoints 30 60 120]
       [--reference-s 1200] [--networks grid16,mesh500]

Networks (from :mod:`hydro.sizing.random_networks`, seed 1, its 12-entry catalogue):
``grid16``: 16 x 16 street grid, 481 decision pipes; ``mesh500``: rural mesh of 500 junctions,
about 750 decision pipes; ``grid22``: 22 x 22 grid, 925 pipes; ``mesh1300``: about 1,950 pipes.

For each network the script runs, one after the other:

1. the baseline, written here: the unit-headloss heuristic (every pipe the cheapest entry
   whose head loss per metre at its flow is at most S; S found by bisection, flows updated by
   EPANET runs of the design) followed by a feasible local search (downsize one pipe by one
   entry when the design stays feasible, largest saving first, until no move is left), over
   the same in-memory EPANET evaluator as hydro, in this one process;
2. hydro's optimiser (``size_network``, every core) for each seed, with the longest
   checkpoint as its time limit; its history gives the cost at each checkpoint;
3. with ``--reference-s``: one long hydro run (seed 1) whose cost is the network's reference
   ("20-minute best").

Every hydro design counted passed the independent EPANET verification of its written file.
Printed: per checkpoint the median hydro cost over the seeds, the baseline's cost, their ratio,
and the gap to the reference; then the issue's targets (median within 2% of the reference at
the last checkpoint; ahead of the baseline at every checkpoint).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hydro.catalog import read_catalog  # noqa: E402
from hydro.network import read_network  # noqa: E402
from hydro.sizing import size_network  # noqa: E402
from hydro.sizing.evaluator import Evaluator  # noqa: E402
from hydro.sizing.problem import Targets, build_problem  # noqa: E402
from hydro.sizing.random_networks import CATALOG, grid_network, rural_mesh  # noqa: E402
from hydro.sizing.tree import unit_headloss  # noqa: E402

NETWORKS = {
    "grid16": (lambda: grid_network(16, 16, seed=1), 20.0),
    "mesh500": (lambda: rural_mesh(500, seed=1), 15.0),
    "grid22": (lambda: grid_network(22, 22, seed=1), 20.0),
    "mesh1300": (lambda: rural_mesh(1300, seed=1), 15.0),
}


# --------------------------------------------------------------------------- the baseline
def unit_headloss_baseline(problem, time_limit_s: float) -> list[tuple[float, float]]:
    """Unit-headloss heuristic + feasible local search; returns [(seconds, best cost)]."""
    started = time.perf_counter()
    history: list[tuple[float, float]] = []
    options = [problem.allowed[p] for p in problem.pipes]
    cost_of = [problem.catalog.costs[o] * problem.lengths[i] for i, o in enumerate(options)]
    with Evaluator(problem) as ev:

        def rows(pos):
            return np.array([options[i][k] for i, k in enumerate(pos)])

        def cost(pos):
            return float(sum(c[k] for c, k in zip(cost_of, pos, strict=True)))

        def feasible(pos):
            return ev.evaluate(rows(pos)).deficit_m <= 0

        def design_for(slope, pos):
            """Pipes at the cheapest entry losing at most ``slope`` m/m at their flow."""
            for _ in range(3):  # flows of the previous design, three times
                ev.set_design(rows(pos))
                ev.solve()
                flows = ev.flows()
                new = []
                for i in range(len(options)):
                    q = flows[ev.link_index[i] - 1]
                    per_m = unit_headloss(problem, i, q)[options[i]]
                    ok = np.flatnonzero(per_m <= slope)
                    new.append(int(ok[0]) if len(ok) else len(options[i]) - 1)
                pos = np.array(new)
            return pos

        top = np.array([len(o) - 1 for o in options])
        best = top.copy() if feasible(top) else None
        low, high = np.log(1e-4), np.log(0.1)  # slopes 0.1 to 100 m/km
        for _ in range(12):
            mid = (low + high) / 2
            pos = design_for(np.exp(mid), top)
            if feasible(pos):
                low = mid
                if best is None or cost(pos) < cost(best):
                    best = pos
            else:
                high = mid
        if best is None:
            return history
        history.append((time.perf_counter() - started, cost(best)))
        improved = True
        while improved and time.perf_counter() - started < time_limit_s:
            improved = False
            savings = sorted(
                ((cost_of[i][best[i]] - cost_of[i][best[i] - 1], i) for i in range(len(best))
                 if best[i] > 0), reverse=True,
            )  # fmt: skip
            for _, i in savings:
                if time.perf_counter() - started > time_limit_s:
                    break
                best[i] -= 1
                if feasible(best):
                    improved = True
                    history.append((time.perf_counter() - started, cost(best)))
                else:
                    best[i] += 1
    return history


def cost_at(history: list[tuple[float, float]], seconds: float) -> float:
    """Best cost reached by ``seconds`` (NaN before the first design)."""
    reached = [c for s, c in history if s <= seconds]
    return min(reached) if reached else float("nan")


# --------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, checkpoints 10 20 s")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--checkpoints", type=float, nargs="+", default=[30, 60, 120])
    parser.add_argument("--reference-s", type=float, default=0.0)
    parser.add_argument("--networks", default="grid16,mesh500")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.checkpoints = 1, [10.0, 20.0]
    limit = max(args.checkpoints)
    lines = []
    with tempfile.TemporaryDirectory(prefix="hydro-large-") as tmp:
        cat_path = Path(tmp) / "catalog.csv"
        CATALOG.to_csv(cat_path, index=False)
        catalog = read_catalog(cat_path)
        for name in args.networks.split(","):
            make, pressure = NETWORKS[name]
            path = Path(tmp) / f"{name}.inp"
            path.write_text(make())
            wn = read_network(path)
            targets = Targets(pressure)
            problem = build_problem(wn, catalog, targets)
            n = len(problem.pipes)
            print(f"{name}: {n} decision pipes, minimum pressure {pressure:g} m", flush=True)
            base = unit_headloss_baseline(problem, limit) if args.seeds else []
            if args.seeds:
                print(f"  baseline: {cost_at(base, limit):,.0f} after {limit:g} s", flush=True)
            runs = []
            for seed in range(1, args.seeds + 1):
                result = size_network(
                    wn, catalog, targets, seed=seed, time_limit_s=limit, workers=args.workers
                )
                ok = result.verification.ok
                runs.append(([(s, c) for _, s, c in result.history], ok, result))
                print(
                    f"  hydro seed {seed}: {result.cost:,.0f} verified={ok} "
                    f"({result.evaluations:,} evaluations)",
                    flush=True,
                )
            reference = None
            if args.reference_s:
                long = size_network(
                    wn, catalog, targets, seed=1, time_limit_s=args.reference_s,
                    workers=args.workers,
                )  # fmt: skip
                reference = long.cost if long.verification.ok else None
                print(
                    f"  reference ({args.reference_s:g} s): {long.cost:,.0f} verified="
                    f"{long.verification.ok} ({long.evaluations:,} evaluations); best at "
                    + ", ".join(f"{t:g} s {cost_at([(s, c) for _, s, c in long.history], t):,.0f}"
                                for t in (30, 60, 120, 300, 600, args.reference_s)),
                    flush=True,
                )  # fmt: skip
            if not runs:  # --seeds 0: the reference run only
                continue
            all_ok = all(ok for _, ok, _ in runs)
            ahead_everywhere = True
            for t in args.checkpoints:
                costs = [cost_at(h, t) for h, _, _ in runs]
                med = statistics.median(costs)
                b = cost_at(base, t)
                ahead = med < b or (np.isnan(b) and not np.isnan(med))
                ahead_everywhere &= bool(ahead)
                gap = f", {100 * (med / reference - 1):+.2f}% vs reference" if reference else ""
                lines.append(
                    f"{name} ({n} pipes) at {t:g} s: hydro median {med:,.0f} "
                    f"(seeds {', '.join(f'{c:,.0f}' for c in costs)}), baseline {b:,.0f}, "
                    f"hydro/baseline {med / b:.4f}{gap}"
                )
            final = statistics.median(cost_at(h, limit) for h, _, _ in runs)
            within = reference is not None and final <= 1.02 * reference
            lines.append(
                f"  targets: every hydro design verified: {all_ok}; ahead of the baseline at "
                f"every checkpoint: {'MET' if ahead_everywhere else 'NOT MET'}; median within "
                f"2% of the reference at {limit:g} s: "
                + ("not measured (no --reference-s)" if reference is None else
                   ("MET" if within else "NOT MET") + f" ({100 * (final / reference - 1):+.2f}%)")
            )  # fmt: skip
    print("\n".join(lines))


if __name__ == "__main__":
    main()
