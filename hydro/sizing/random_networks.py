"""Random looped networks for testing and measuring the sizing methods.

Two families, each deterministic from its seed:

- :func:`grid_network`: a street grid (``rows`` x ``cols`` junctions, blocks of 80-250 m)
  fed from one corner, as in a town's distribution network;
- :func:`rural_mesh`: junctions scattered over a plain, joined by their minimum spanning tree
  (the cheapest branched layout) plus a share of the remaining Delaunay edges that close
  loops, as in a rural scheme reinforced with interconnections.

Both take a smooth random relief and node demands of a rural scheme, and one reservoir whose
head gives every junction its minimum pressure plus an allowance of head loss per metre of
path (so the problem is neither trivial nor infeasible with the catalogue). The catalogue
(:data:`CATALOG`) is a PE/PVC-like list of 12 inner diameters with a cost that grows as about
D^1.5. Used by ``tests/`` and by ``benchmarks/large_loops.py``; never by the optimiser.

And one branched family with relief, for break-pressure tanks: :func:`relief_tree`, a gravity
tree falling ``relief_m`` from its reservoir, with the PE100 PN6/PN10/PN16 catalogue
:data:`CLASS_CATALOG` (used by ``tests/`` and ``benchmarks/relief_trees.py``); and a tree
without relief, :func:`flat_tree` with :data:`FLAT_TREE_CATALOG`, for the time to size and
verify trees of up to 10,000 pipes.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
from scipy.spatial import Delaunay

#: Inner diameter [mm] and cost per metre [currency/m] of the random networks' catalogue.
CATALOG = pd.DataFrame(
    {
        "inner_diameter_mm": [
            44.0, 55.4, 66.0, 79.2, 96.8, 110.2, 141.0, 176.2, 220.4, 277.6, 352.6, 440.6,
        ],
        "cost_per_m": [14.0, 19.0, 25.0, 32.0, 43.0, 52.0, 75.0, 105.0, 146.0, 206.0, 295.0,
                       412.0],
    }
)  # fmt: skip


def grid_network(rows: int, cols: int, seed: int, min_pressure_m: float = 20.0) -> str:
    """A street grid of ``rows`` x ``cols`` junctions fed at one corner (``.inp`` text).

    Decision pipes: ``rows*(cols-1) + cols*(rows-1) + 1`` (the last one joins the reservoir).
    """
    rng = np.random.default_rng(seed)
    xs = np.concatenate([[0.0], np.cumsum(rng.uniform(80, 250, cols - 1))])
    ys = np.concatenate([[0.0], np.cumsum(rng.uniform(80, 250, rows - 1))])
    points = np.array([(x, y) for y in ys for x in xs])
    edges = []
    for r in range(rows):
        for c in range(cols):
            k = r * cols + c
            if c + 1 < cols:
                edges.append((k, k + 1))
            if r + 1 < rows:
                edges.append((k, k + cols))
    return _network_text(points, edges, rng, min_pressure_m, title=f"grid {rows}x{cols}")


def rural_mesh(
    n_junctions: int, seed: int, loop_share: float = 0.25, min_pressure_m: float = 15.0
) -> str:
    """Scattered junctions joined by their spanning tree plus ``loop_share`` of the other
    Delaunay edges (``.inp`` text). Decision pipes: about
    ``n_junctions * (1 + 2 * loop_share)``.
    """
    rng = np.random.default_rng(seed)
    side = 300.0 * np.sqrt(n_junctions)  # about 300 m between neighbours
    points = rng.uniform(0, side, (n_junctions, 2))
    graph = nx.Graph()
    for simplex in Delaunay(points).simplices:
        for a, b in ((0, 1), (1, 2), (0, 2)):
            i, j = sorted((int(simplex[a]), int(simplex[b])))
            graph.add_edge(i, j, weight=float(np.hypot(*(points[i] - points[j]))))
    tree = nx.minimum_spanning_tree(graph)
    rest = sorted(set(graph.edges()) - set(tree.edges()) - {(b, a) for a, b in tree.edges()})
    rest = [tuple(sorted(e)) for e in rest]
    extra = rng.choice(len(rest), int(loop_share * len(rest)), replace=False)
    edges = sorted(tuple(sorted(e)) for e in tree.edges()) + [rest[k] for k in sorted(extra)]
    return _network_text(points, edges, rng, min_pressure_m, title=f"rural mesh {n_junctions}")


def _network_text(points, edges, rng, min_pressure_m: float, title: str) -> str:
    n = len(points)
    span = np.ptp(points, axis=0).max() or 1.0
    # smooth relief: a tilted plane plus two broad hills, up to about 40 m
    u = (points - points.min(axis=0)) / span
    tilt = rng.uniform(-1, 1, 2)
    elevation = 100 + 20 * (u @ tilt)
    for _ in range(2):
        centre, width = rng.uniform(0, 1, 2), rng.uniform(0.15, 0.4)
        elevation += rng.uniform(5, 15) * np.exp(-((u - centre) ** 2).sum(axis=1) / width**2)
    demand_l_s = rng.uniform(0.05, 0.6, n)
    lengths = {
        e: float(np.hypot(*(points[e[0]] - points[e[1]])) * rng.uniform(1.0, 1.2)) for e in edges
    }
    source = int(np.argmin(points.sum(axis=1)))  # the corner nearest the origin
    graph = nx.Graph()
    graph.add_weighted_edges_from((a, b, lengths[(a, b)]) for a, b in edges)
    distance = nx.single_source_dijkstra_path_length(graph, source)
    # head: every junction at its minimum plus 3.5 m of loss per km of shortest path
    head = max(elevation[k] + min_pressure_m + 0.0035 * distance[k] for k in range(n)) + 2.0
    junctions = "\n".join(f" J{k} {elevation[k]:.2f} {demand_l_s[k]:.4f}" for k in range(n))
    pipes = [f" P{a}_{b} J{a} J{b} {lengths[(a, b)]:.1f} 300 130" for a, b in edges]
    pipes.append(f" PR R1 J{source} 50.0 300 130")
    coordinates = "\n".join(f" J{k} {points[k, 0]:.1f} {points[k, 1]:.1f}" for k in range(n))
    x0, y0 = points[source] - 50
    return (
        f"[TITLE]\n{title}\n\n[JUNCTIONS]\n{junctions}\n\n[RESERVOIRS]\n R1 {head:.2f}\n\n"
        "[PIPES]\n" + "\n".join(pipes) + "\n\n[OPTIONS]\n Units LPS\n Headloss H-W\n\n"
        f"[TIMES]\n Duration 0\n\n[COORDINATES]\n{coordinates}\n R1 {x0:.1f} {y0:.1f}\n\n[END]\n"
    )


#: PE100 in three pressure classes (SDR 26, 17, 11): nominal and inner diameter [mm], class
#: [bar] and cost [currency/m]; prices of the right order for Morocco [E], for benchmarks only.
CLASS_CATALOG = pd.DataFrame(
    [
        ("PE100", dn, pn, round(dn * (1 - 2 / sdr), 1), round(0.02 * dn**1.6 * (1 + pn / 16), 1))
        for dn in (63, 75, 90, 110, 125, 160, 200, 250)
        for pn, sdr in ((6, 26), (10, 17), (16, 11))
    ],
    columns=["material", "nominal_diameter_mm", "pressure_class_bar", "inner_diameter_mm",
             "cost_per_m"],
)  # fmt: skip


def relief_tree(
    n_junctions: int, seed: int, relief_m: float = 400.0, total_demand_l_per_s: float = 20.0
) -> str:
    """A gravity tree falling about ``relief_m`` from its reservoir (``.inp`` text).

    Junction ``Jk`` hangs below a random earlier junction (the first below the reservoir
    ``R1``) by a pipe ``Pk`` of 200-1,200 m; its elevation falls with its distance along the
    tree from the first junction, from 25 m below the reservoir's head there to ``relief_m``
    below that at the farthest, give or take 5 m; the demands, 0.5-1.5 times the mean, add
    to ``total_demand_l_per_s``. Static pressures reach ``relief_m`` (above PN16's 163 m
    when it is more than that): break-pressure tanks or nothing.
    """
    rng = np.random.default_rng(seed)
    parent = [-1] + [int(rng.integers(0, k)) for k in range(1, n_junctions)]
    length = rng.uniform(200, 1200, n_junctions)
    along = np.zeros(n_junctions)
    for k in range(n_junctions):
        along[k] = length[k] + (along[parent[k]] if parent[k] >= 0 else 0.0)
    head = 300.0 + relief_m + 25.0
    below_top = (along - along[0]) / max(along.max() - along[0], 1.0)
    elevation = head - 25.0 - relief_m * below_top + rng.uniform(-5, 5, n_junctions)
    demand = rng.uniform(0.5, 1.5, n_junctions)
    demand *= total_demand_l_per_s / demand.sum()
    junctions = "\n".join(f" J{k} {elevation[k]:.2f} {demand[k]:.4f}" for k in range(n_junctions))
    pipes = "\n".join(
        f" P{k} {'R1' if parent[k] < 0 else f'J{parent[k]}'} J{k} {length[k]:.1f} 100 140"
        for k in range(n_junctions)
    )
    return (
        f"[TITLE]\nrelief tree {n_junctions} seed {seed}\n\n[JUNCTIONS]\n{junctions}\n\n"
        f"[RESERVOIRS]\n R1 {head:.2f}\n\n[PIPES]\n{pipes}\n\n[OPTIONS]\n Units LPS\n"
        " Headloss H-W\n\n[TIMES]\n Duration 0\n\n[END]\n"
    )


#: Inner diameter [mm] and cost per metre [currency/m] of :func:`flat_tree`'s catalogue (the
#: catalogue of ``benchmarks/size_trees.py``).
FLAT_TREE_CATALOG = pd.DataFrame(
    {
        "inner_diameter_mm": [40.8, 55.4, 66.0, 79.2, 96.8, 110.2, 141.0, 176.2, 220.4, 277.6],
        "cost_per_m": [55, 70, 85, 100, 130, 155, 210, 300, 420, 610],
    }
)


def flat_tree(n_pipes: int, seed: int) -> str:
    """A random recursive tree without relief (``.inp`` text), as ``benchmarks/size_trees.py``.

    Junction ``Jk`` (k = 1..``n_pipes``) hangs below a uniformly chosen earlier one (``J1``
    below the reservoir ``R1`` at 110 m) by a pipe ``Pk`` of 100-800 m, Hazen-Williams
    C = 130; elevations 0-30 m; about 24 l/s of demand in all. ``size_trees.py --sizes N``
    (seed 1) sizes the tree of ``flat_tree(N, 1)``; with :data:`FLAT_TREE_CATALOG` and 15 m
    every junction can be served.
    """
    rng = np.random.default_rng(seed)
    junctions, pipes, coordinates = [], [], [" R1 0 0"]
    for k in range(1, n_pipes + 1):
        parent = "R1" if k == 1 else f"J{rng.integers(1, k)}"
        demand_l_per_s = rng.uniform(0.2, 1.0) * 40.0 / n_pipes
        junctions.append(f" J{k} {rng.uniform(0, 30):.2f} {demand_l_per_s:.5f}")
        pipes.append(f" P{k} {parent} J{k} {rng.uniform(100, 800):.1f} 100 130")
        coordinates.append(f" J{k} {k} {k}")
    return (
        "[JUNCTIONS]\n" + "\n".join(junctions) + "\n[RESERVOIRS]\n R1 110.0\n[PIPES]\n"
        + "\n".join(pipes) + "\n[OPTIONS]\n Units LPS\n Headloss H-W\n[COORDINATES]\n"
        + "\n".join(coordinates) + "\n[END]\n"
    )  # fmt: skip
