"""Break-pressure tanks on random gravity trees with relief (issue 24, point 9).

For each size: a random tree (:func:`hydro.sizing.random_networks.relief_tree`, 300-600 m of
relief, PE100 PN6/PN10/PN16, tanks at 12,000 keeping 2 m) sized by ``size_network`` with
break-pressure tanks at every junction (exact 0-1 program, then the written file verified by
EPANET); its cost against an independent formulation written here:

- ``brute``: every subset of the candidate junctions written as PRVs into the ``.inp`` text
  by hand and sized by hydro's exact pipe program without tanks (the classes then come from
  EPANET's static run of each file); small trees only;
- ``paths``: a path-based 0-1 program (scipy's milp) in which each pipe chooses its
  *anchor*, the nearest tank at or above it (or the source), and each junction's head is the
  anchor's free surface less every loss along the path from it; none of the tree program's
  big-M head or static-head columns.

Prints one row per tree: junctions, relief, tanks placed, hydro's cost, the reference cost,
their relative difference, hydro's solve time and time with verification, the reference's
time. Usage: ``python benchmarks/relief_trees.py [--sizes 7,50,100,200,400] [--seeds 1]``.

``--flat 1000,3000,10000``: trees without relief instead
(:func:`hydro.sizing.random_networks.flat_tree`, 15 m everywhere, no tanks), each read,
sized and verified (the written file's independent EPANET run) in a fresh process, timed
from reading the file to the verified result: wall and CPU seconds, the 0-1 program's
seconds, cost, gap. ``--baseline /work/main`` runs the same file with that checkout's
``hydro`` (``PYTHONPATH``), or ``--baseline REV`` with this repository's revision ``REV``
(``git archive`` into a temporary folder), in the same run, alternating which side goes first, for
``--repeats`` rounds; then per size the medians, the ratio baseline / this code, and
whether the two designs are the same pipe for pipe. The machine's load average is printed
at the start and the end (a shared machine slows both sides alike).

``--prv-cost COST`` also lets the program place pressure-reducing valves at every junction
(issue 24, point 1; tanks and valves together): the row then gives tanks + valves placed and
hydro's cost and times only (the references here are for tanks; valves are checked against
brute force in ``tests/test_pressure_valves.py``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from hydro.catalog import read_catalog
from hydro.errors import InfeasibleDesignError, InputError
from hydro.hydraulics import headloss_hazen_williams
from hydro.network import read_network
from hydro.sizing import Targets, random_networks, size_network
from hydro.sizing.break_tanks import BreakTanks, PressureValves
from hydro.sizing.random_networks import CLASS_CATALOG, relief_tree

TANK_COST = 12_000.0
RESIDUAL_M = 2.0
MIN_PRESSURE_M = 10.0
MARGIN_M = 1e-3  # as hydro's DESIGN_MARGIN_M: the same program, not a looser one
BRUTE_MAX_CANDIDATES = 6
FLAT_MIN_PRESSURE_M = 15.0
ROOT = Path(__file__).resolve().parents[1]


def tree_of(wn):
    """parent, pipe into each junction, elevation, flow of each pipe [m3/s], children."""
    parent, into, children = {}, {}, {}
    for name, pipe in wn.pipes():
        parent[pipe.end_node_name] = pipe.start_node_name
        into[pipe.end_node_name] = name
        children.setdefault(pipe.start_node_name, []).append(pipe.end_node_name)
    below = {}

    def load(n):
        if n not in below:
            own = wn.get_node(n).base_demand if n in wn.junction_name_list else 0.0
            below[n] = own + sum(load(c) for c in children.get(n, []))
        return below[n]

    flow = {into[n]: load(n) for n in into}
    z = {n: wn.get_node(n).elevation for n in wn.junction_name_list}
    return parent, into, z, flow, children


def paths_program(wn, catalog, candidates):
    """The least pipes-plus-tanks cost by the path-based 0-1 program (see the module)."""
    parent, into, z, flow, _ = tree_of(wn)
    root = wn.reservoir_name_list[0]
    h_root = wn.get_node(root).base_head
    table = catalog.table
    rating = table["pressure_rating_m"].to_numpy()
    cost_m, diam = table["cost_per_m"].to_numpy(), table["inner_diameter_mm"].to_numpy() / 1e3
    pipes = list(wn.pipe_name_list)
    k = len(table)
    col = {}
    for p in pipes:
        for j in range(k):
            col[(p, j)] = len(col)
    for c in candidates:
        col[("y", c)] = len(col)

    def path_up(n):  # nodes from n up to the root, n first
        out = [n]
        while out[-1] != root:
            out.append(parent[out[-1]])
        return out

    anchors = {}
    for n, p in into.items():
        up = path_up(parent[n])  # the pipe's upstream node and above
        anchors[p] = [a for a in up if a in candidates] + [root]  # deepest first
        for a in anchors[p]:
            col[("w", p, a)] = len(col)
    cost = np.zeros(len(col))
    hf = {}
    for p in pipes:
        link = wn.get_link(p)
        hf[p] = headloss_hazen_williams(flow[p], link.length, diam, link.roughness)
        for j in range(k):
            cost[col[(p, j)]] = cost_m[j] * link.length
    for c in candidates:
        cost[col[("y", c)]] = TANK_COST
    rows, cols, vals, lo, hi = [], [], [], [], []

    def row(entries, lower, upper):
        r = len(lo)
        for c_, v in entries:
            rows.append(r)
            cols.append(c_)
            vals.append(v)
        lo.append(lower)
        hi.append(upper)

    for n, p in into.items():
        a_list = anchors[p]
        row([(col[(p, j)], 1.0) for j in range(k)], 1, 1)
        row([(col[("w", p, a)], 1.0) for a in a_list], 1, 1)
        for i, a in enumerate(a_list):
            w = col[("w", p, a)]
            if a != root:
                row([(w, 1.0), (col[("y", a)], -1.0)], -np.inf, 0)
            for b in a_list[:i]:  # deeper candidates: none of them may hold a tank
                row([(w, 1.0), (col[("y", b)], 1.0)], -np.inf, 1)
            surface = h_root if a == root else z[a] + RESIDUAL_M
            low_end = min(z[n], z.get(parent[n], z[n]))
            bad = [j for j in range(k) if rating[j] < surface - low_end]
            if bad:
                row([(col[(p, j)], 1.0) for j in bad] + [(w, 1.0)], -np.inf, 1)
            path = []
            m = n
            while m != a:
                path.append(into[m])
                m = parent[m]
            need = surface - z[n] - MIN_PRESSURE_M - MARGIN_M
            big = sum(hf[q].max() for q in path) + max(0.0, -need)  # void when w = 0
            entries = [(col[(q, j)], float(hf[q][j])) for q in path for j in range(k)]
            row([*entries, (w, big)], -np.inf, need + big)
    a_matrix = coo_matrix((vals, (rows, cols)), shape=(len(lo), len(col))).tocsr()
    result = milp(
        cost,
        constraints=LinearConstraint(a_matrix, lo, hi),
        bounds=Bounds(0, 1),
        integrality=np.ones(len(col)),
        options={"time_limit": 600, "mip_rel_gap": 1e-9},
    )
    return (float(result.fun) if result.x is not None else np.inf), result


def with_tanks_by_hand(text: str, tanks, residual_m: float) -> str:
    """``text`` of a relief tree with a PRV BPT_<j> from j to j_BPT at each tank."""
    lines = text.splitlines()
    first, pipes = lines.index("[JUNCTIONS]"), lines.index("[PIPES]")
    z = {}
    for line in lines[first + 1 : lines.index("", first)]:
        name, elevation, _ = line.split()
        z[name] = elevation
    end_pipes = lines.index("", pipes)
    out = []
    for k, line in enumerate(lines):
        if pipes < k < end_pipes:
            name, up, down, *rest = line.split()
            line = " ".join([name, f"{up}_BPT" if up in tanks else up, down, *rest])
        out.append(line)
        if line == "[JUNCTIONS]":
            out.extend(f" {j}_BPT {z[j]} 0" for j in tanks)
    end = out.index("[OPTIONS]")
    valves = [f" BPT_{j} {j} {j}_BPT 100 PRV {residual_m} 0" for j in tanks]
    return "\n".join(out[:end] + ["[VALVES]", *valves, ""] + out[end:])


def brute_force(text, catalog, candidates, folder: Path) -> float:
    """Every subset of ``candidates`` as PRVs, each sized by hydro's pipe program."""
    best = np.inf
    for size in range(len(candidates) + 1):
        for tanks in itertools.combinations(candidates, size):
            path = folder / "placed.inp"
            path.write_text(with_tanks_by_hand(text, tanks, RESIDUAL_M))
            targets = Targets(MIN_PRESSURE_M, node_min_pressure_m={f"{j}_BPT": 0.0 for j in tanks})
            try:
                result = size_network(read_network(path), catalog, targets)
            except (InputError, InfeasibleDesignError):
                continue
            best = min(best, result.cost + TANK_COST * len(tanks))
    return best


def measure(n: int, seed: int, folder: Path, catalog, prv_cost: float | None = None) -> str:
    """One tree: hydro against the reference (with ``prv_cost``, valves too: no reference);
    one printed row.
    """
    relief = 300.0 + 300.0 * np.random.default_rng(seed + 1000 * n).random()
    text = relief_tree(n, seed, relief)
    path = folder / f"relief_{n}_{seed}.inp"
    path.write_text(text)
    wn = read_network(path)
    started = time.perf_counter()
    try:
        result = size_network(
            wn,
            catalog,
            Targets(MIN_PRESSURE_M),
            break_tanks=(
                BreakTanks(TANK_COST, None, RESIDUAL_M),
                *([PressureValves(prv_cost)] if prv_cost is not None else []),
            ),
        )
        ours, solve, tanks = result.cost, result.seconds, len(result.verification.break_tanks)
        tanks = f"{tanks}+{len(result.verification.pressure_valves)}" if prv_cost else tanks
        ok = result.verification.ok and result.gap is not None and result.gap <= 1e-9
    except InfeasibleDesignError:
        ours, solve, tanks, ok = np.inf, np.nan, 0, True
    total = time.perf_counter() - started
    candidates = sorted({wn.get_link(p).start_node_name for p in wn.pipe_name_list} - {"R1"})
    started = time.perf_counter()
    if prv_cost is not None:
        how, reference = "-", np.nan
    elif len(candidates) <= BRUTE_MAX_CANDIDATES:
        how, reference = "brute", brute_force(text, catalog, candidates, folder)
    else:
        how, (reference, _) = "paths", paths_program(wn, catalog, set(candidates))
    ref_time = time.perf_counter() - started
    diff = (ours - reference) / reference if np.isfinite(reference) else np.nan
    same = prv_cost is not None or (not np.isfinite(ours) and not np.isfinite(reference))
    same = same or abs(diff) <= 1e-6
    status = "verified, gap 0" if ok else "NOT VERIFIED"
    if not np.isfinite(ours):
        status = "no design (infeasible)"
    return (
        f"{n:6d} {seed:4d} {relief:7.0f} {tanks!s:>6} {ours:14,.2f} {how:>6} {reference:14,.2f} "
        f"{diff:+10.2e} {solve:8.2f} {total:8.2f} {ref_time:8.2f}  "
        f"{status}{'' if same else '  COSTS DIFFER'}"
    )


def flat_worker(inp: str, catalog_csv: str, design_json: str) -> None:
    """In a fresh process: read, size and verify one tree; one JSON line of figures.

    Uses only what the baseline's ``hydro`` has too; the design (pipe -> catalogue tag) goes
    to ``design_json``.
    """
    catalog = read_catalog(catalog_csv)
    wall, cpu = time.perf_counter(), time.process_time()
    result = size_network(read_network(inp), catalog, Targets(FLAT_MIN_PRESSURE_M))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    model = result.model
    Path(design_json).write_text(
        json.dumps({p: model.get_link(p).tag for p in model.pipe_name_list})
    )
    figures = {
        "wall_s": wall,
        "cpu_s": cpu,
        "milp_s": result.seconds,
        "cost": result.cost,
        "gap": result.gap,
        "verified": bool(result.verification.ok),
        "notes": len(result.notes),
    }
    print(json.dumps(figures), flush=True)


def run_side(root: Path, inp: Path, catalog_csv: Path, design_json: Path) -> dict:
    """:func:`flat_worker` in a subprocess with ``root``'s ``hydro`` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    args = [sys.executable, __file__, "--flat-worker", str(inp), str(catalog_csv), str(design_json)]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{root}: the worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def commit_of(root: Path) -> str:
    """The short commit of a checkout (``?`` when it is not a git work tree)."""
    done = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "?"


def checkout(baseline: str, folder: Path) -> tuple[Path, str]:
    """The baseline's folder and commit: a checkout, or a revision of this repository
    extracted by ``git archive`` into ``folder``."""
    if Path(baseline).is_dir():
        return Path(baseline), commit_of(Path(baseline))
    rev = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", baseline],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True
    ).stdout
    folder.mkdir()
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder, f"{rev} ({baseline}, git archive)"


def flat(sizes: list[int], seed: int, repeats: int, baseline: str | None) -> None:
    """Trees without relief: each size ``repeats`` times per side, then the medians."""
    print("load average at start:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    with tempfile.TemporaryDirectory(prefix="flat-") as tmp:
        sides, labels = {"hydro": ROOT}, {"hydro": commit_of(ROOT)}
        if baseline:
            sides["baseline"], labels["baseline"] = checkout(baseline, Path(tmp) / "baseline")
        for side, root in sides.items():
            print(f"{side}: {root} at {labels[side]}")
        runs = _flat_runs(sizes, seed, repeats, sides, Path(tmp))
    print("load average at end:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    _flat_summary(sizes, runs, bool(baseline))


def _flat_runs(sizes: list[int], seed: int, repeats: int, sides: dict, folder: Path) -> dict:
    """Every run of every size on every side, printed as it ends: (size, side) -> runs."""
    print(
        f"{'pipes':>6} {'round':>5} {'side':>8} {'wall_s':>7} {'cpu_s':>7} {'milp_s':>7} "
        f"{'cost':>14} {'gap':>7} verified",
        flush=True,
    )
    runs: dict = {}
    random_networks.FLAT_TREE_CATALOG.to_csv(folder / "catalog.csv", index=False)
    for n in sizes:
        (folder / f"flat_{n}.inp").write_text(random_networks.flat_tree(n, seed))
    for k in range(repeats):
        for n in sizes:
            order = list(sides) if k % 2 == 0 else list(sides)[::-1]
            for side in order:
                design = folder / f"design_{side}_{n}_{k}.json"
                got = run_side(
                    sides[side], folder / f"flat_{n}.inp", folder / "catalog.csv", design
                )
                got["design"] = json.loads(design.read_text())
                runs.setdefault((n, side), []).append(got)
                print(
                    f"{n:6d} {k + 1:5d} {side:>8} {got['wall_s']:7.2f} {got['cpu_s']:7.2f} "
                    f"{got['milp_s']:7.2f} {got['cost']:14,.2f} {got['gap']:7.1e} "
                    f"{got['verified']}",
                    flush=True,
                )
    return runs


def _flat_summary(sizes: list[int], runs: dict, baseline: bool) -> None:
    """Per size: the medians of each side, their ratio, and whether the designs agree."""
    for n in sizes:
        ours = runs[(n, "hydro")]
        line = (
            f"{n:6d} pipes: hydro median {statistics.median(r['wall_s'] for r in ours):.2f} s"
            f" wall, {statistics.median(r['cpu_s'] for r in ours):.2f} s CPU"
        )
        if baseline:
            base = runs[(n, "baseline")]
            wall = [statistics.median(r["wall_s"] for r in x) for x in (base, ours)]
            cpu = [statistics.median(r["cpu_s"] for r in x) for x in (base, ours)]
            same = all(r["design"] == base[0]["design"] for r in ours + base)
            line += (
                f"; baseline {wall[0]:.2f} s wall, {cpu[0]:.2f} s CPU; baseline / hydro "
                f"{wall[0] / wall[1]:.2f} (wall), {cpu[0] / cpu[1]:.2f} (CPU); same design "
                f"pipe for pipe: {same}"
            )
        verified = all(r["verified"] and r["gap"] <= 1e-9 for r in ours)
        print(line + f"; every hydro run verified, gap 0: {verified}", flush=True)


def main() -> None:
    """Run the sizes asked and print a row per tree."""
    if len(sys.argv) == 5 and sys.argv[1] == "--flat-worker":
        flat_worker(*sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="7,50,100,200,400")
    parser.add_argument("--seeds", default="1")
    parser.add_argument("--flat", help="sizes of trees without relief, e.g. 1000,3000,10000")
    parser.add_argument(
        "--baseline", help="a checkout or a git revision to time side by side (--flat)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="rounds per side (--flat)")
    parser.add_argument("--prv-cost", type=float, default=None, metavar="COST")
    args = parser.parse_args()
    if args.flat:
        sizes = [int(s) for s in args.flat.split(",")]
        flat(sizes, int(args.seeds.split(",")[0]), args.repeats, args.baseline)
        return
    print(
        f"{'n':>6} {'seed':>4} {'relief':>7} {'tanks':>6} {'hydro cost':>14} {'ref':>6} "
        f"{'reference':>14} {'rel diff':>10} {'solve s':>8} {'total s':>8} {'ref s':>8}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="relief-") as tmp:
        folder = Path(tmp)
        CLASS_CATALOG.to_csv(folder / "pe100.csv", index=False)
        catalog = read_catalog(folder / "pe100.csv")
        for n in (int(s) for s in args.sizes.split(",")):
            for seed in (int(s) for s in args.seeds.split(",")):
                print(measure(n, seed, folder, catalog, args.prv_cost), flush=True)


if __name__ == "__main__":
    main()
