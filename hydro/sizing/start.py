"""A start from hydraulic knowledge for the looped optimiser: the linear program of
Alperovits and Shamir (1977) for fixed flows.

With the flow in every pipe fixed, each (pipe, catalogue entry) pair has a known head loss
per metre, and the least-cost split-pipe design (length ``l_pk`` of entry k along pipe p) is a
linear program over those lengths and the junction heads:

    minimise   sum_p sum_k c_k l_pk
    subject to sum_k l_pk = L_p                            (every pipe fully built)
               H_u - H_v = sum_k J_pk(q_p) l_pk            (pipe p carries q_p from u to v)
               z_j + p_min,j + margin_j <= H_j  (<= z_j + p_max)
               l_pk = 0 for entries faster than the velocity limit at q_p

It is :mod:`hydro.sizing.tree`'s split-pipe program on the whole looped graph. Links that
are not sized (kept pipes, pumps, valves) keep the head difference of the run that gave the
flows. The flows come from an EPANET run of a design (first: every pipe at its largest
allowed entry). Alperovits and Shamir then move the loop flows along the gradient given by
the program's dual values; here the flows are instead updated by an EPANET run of the
program's own design (a fixed-point iteration), a few times. Each split pipe is rounded to
the cheapest single entry that loses no more head at ``q_p`` than the split pipe; when the
EPANET run of that design still leaves junctions short, their margin is raised by the
shortfall and the program solved again with the new flows.

Reference: Alperovits, E. and Shamir, U. (1977). Design of optimal water distribution
systems. Water Resources Research 13(6), 885-900.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from hydro import _toolkit as tk
from hydro.hydraulics import velocity
from hydro.sizing.evaluator import Evaluator
from hydro.sizing.problem import DESIGN_MARGIN_M, Problem
from hydro.sizing.tree import ProgramRows, unit_headloss

log = logging.getLogger(__name__)

#: Times a tree restart routes the demands again on the previous tree's marginal costs.
CONCENTRATION_ROUNDS = 6
#: Exponent of the diameter in the flow a pipe carries at a fixed head-loss gradient: 1/2.63
#: with Hazen-Williams (Q grows as D^2.63), about the same with Darcy-Weisbach when rough.
DIAMETER_PER_FLOW_EXPONENT = 0.38
#: Flow below which a link is treated as carrying nothing [m3/s].
NO_FLOW_M3_PER_S = 1e-9


class FixedFlowProgram:
    """The fixed-flow linear program of one problem, built against one evaluator's project."""

    def __init__(self, problem: Problem, evaluator: Evaluator):
        self.problem, self.ev = problem, evaluator
        node_ids = evaluator.project.node_ids()
        self.node_index = {n: k for k, n in enumerate(node_ids)}
        types = evaluator.project.node_types()
        self.junctions = [k for k, t in enumerate(types) if t == tk.EN_JUNCTION]
        self.head_column = {k: j for j, k in enumerate(self.junctions)}
        link_ids = evaluator.project.link_ids()
        snapshot = problem.snapshot
        self.links = []  # (toolkit link index, start node index, end node index, decision i)
        decision = {p: i for i, p in enumerate(problem.pipes)}
        for k, name in enumerate(link_ids):
            link = snapshot.get_link(name)
            self.links.append(
                (
                    k,
                    self.node_index[link.start_node_name],
                    self.node_index[link.end_node_name],
                    decision.get(name),
                )
            )
        self.elevation = np.array(
            [snapshot.get_node(node_ids[k]).elevation for k in self.junctions]
        )
        targets = problem.targets
        self.p_min = np.array([targets.min_at(node_ids[k]) for k in self.junctions])
        self.junction_names = [node_ids[k] for k in self.junctions]

    def solve(
        self, flows: np.ndarray, heads: np.ndarray, extra_margin_m: np.ndarray
    ) -> list[int] | None:
        """Least-cost single-entry design for fixed flows and the fixed links' heads.

        Parameters
        ----------
        flows : ndarray
            Flow of every link [m3/s, toolkit link order].
        heads : ndarray
            Head of every node in the run that gave the flows [m, toolkit node order]: those
            of the fixed-head nodes and across the kept links are used.
        extra_margin_m : ndarray
            Head kept at each junction above its minimum and :data:`DESIGN_MARGIN_M` [m].

        Returns
        -------
        list of int or None
            Each decision pipe's position in its allowed list (the entry with most length in
            the split design); None when the program has no solution at these flows.
        """
        columns, cost, spans = self._columns(flows)
        n_l, n_h = len(columns), len(self.junctions)
        rows = self._rows(flows, heads, columns, spans)
        result = linprog(
            np.concatenate([np.array(cost), np.zeros(n_h)]),
            A_eq=rows.matrix(n_l + n_h),
            b_eq=np.array(rows.lower),
            bounds=self._bounds(n_l, extra_margin_m),
            method="highs",
        )
        if result.status != 0:
            return None
        x = result.x[:n_l]
        choice = []
        for span in spans:
            used = max(span, key=lambda c: x[c])  # the entry with most length
            choice.append(columns[used][1])
        return choice

    def _columns(
        self, flows: np.ndarray
    ) -> tuple[list[tuple[int, int, float]], list[float], list[range]]:
        """The length columns at these flows [m3/s, toolkit link order].

        Returns (pipe i, position, unit head loss [m/m]) per column, each column's cost per
        metre, and each decision pipe's contiguous columns. Entries faster than the velocity
        limit are left out (all but the largest when every entry is).
        """
        problem = self.problem
        vmax = problem.targets.max_velocity_m_per_s
        columns: list[tuple[int, int, float]] = []
        cost = []
        spans = []
        pipe_flows = np.abs(flows[self.ev.link_index - 1])
        diameters, unit_costs = problem.catalog.diameters, problem.catalog.costs
        for i, p in enumerate(problem.pipes):
            options = problem.allowed[p]
            q = pipe_flows[i]
            per_m = unit_headloss(problem, i, q)[options]
            keep = np.arange(len(options))
            if vmax is not None:
                fast = velocity(q, diameters[options]) > vmax
                keep = keep[~fast] if (~fast).any() else keep[-1:]
            start = len(columns)
            for pos in keep.tolist():
                columns.append((i, pos, float(per_m[pos])))
                cost.append(unit_costs[options[pos]])
            spans.append(range(start, len(columns)))
        return columns, cost, spans

    def _rows(
        self,
        flows: np.ndarray,
        heads: np.ndarray,
        columns: list[tuple[int, int, float]],
        spans: list[range],
    ) -> ProgramRows:
        """Equality rows: every pipe fully built, and the head loss along every flowing link.

        Along link a -> b: ``H_a - H_b - (loss along a->b) = 0``, with the heads of fixed-head
        nodes, and a kept link's loss in the run, moved to the right side. A closed or idle
        link (below :data:`NO_FLOW_M3_PER_S`) gives no row.
        """
        problem = self.problem
        n_l = len(columns)
        rows = ProgramRows()
        for i, span in enumerate(spans):  # full length
            rows.add([(c, 1.0) for c in span], problem.lengths[i], problem.lengths[i])
        for k, a, b, i in self.links:
            q = flows[k]
            if abs(q) < NO_FLOW_M3_PER_S:
                continue  # a closed or idle link: no relation between its ends
            entries = []
            rhs = 0.0
            for node, sign in ((a, 1.0), (b, -1.0)):
                if node in self.head_column:
                    entries.append((n_l + self.head_column[node], sign))
                else:
                    rhs -= sign * heads[node]
            if i is None:
                rhs += heads[a] - heads[b]  # kept link: its loss in the run
            else:
                direction = 1.0 if q >= 0 else -1.0
                entries.extend((c, -direction * columns[c][2]) for c in spans[i])
            rows.add(entries, rhs, rhs)
        return rows

    def _bounds(self, n_l: int, extra_margin_m: np.ndarray) -> np.ndarray:
        """(lower, upper) of each column: lengths >= 0; junction heads within their targets."""
        targets = self.problem.targets
        n_h = len(self.junctions)
        lower = self.elevation + self.p_min + DESIGN_MARGIN_M + extra_margin_m
        upper = (
            self.elevation + targets.max_pressure_m
            if targets.max_pressure_m is not None
            else np.full(n_h, np.inf)
        )
        return np.column_stack(
            [np.concatenate([np.zeros(n_l), lower]), np.concatenate([np.full(n_l, np.inf), upper])]
        )


def lp_start(
    problem: Problem,
    evaluator: Evaluator,
    first: np.ndarray,
    rows_of,
    deficit_of,
    iterations: int = 6,
    first_flows=None,
    program: FixedFlowProgram | None = None,
) -> np.ndarray | None:
    """Feasible start from the fixed-flow program (see the module docstring), or None.

    ``first``: positions of the design whose EPANET run gives the first flows and the heads
    of the fixed links; ``first_flows``, when given, is called after that run and its flows
    replace the run's for the first program (:func:`tree_flows`); ``rows_of`` turns
    positions into catalogue rows;
    ``deficit_of`` evaluates positions (counting the evaluation in the optimiser's budget).
    Returns the cheapest feasible design found.
    """
    program = program or FixedFlowProgram(problem, evaluator)
    extra = np.zeros(len(program.junctions))
    costs = [problem.catalog.costs[problem.allowed[p]] * problem.lengths[i]
             for i, p in enumerate(problem.pipes)]  # fmt: skip
    best, best_cost = None, np.inf
    pos = np.asarray(first)
    for step in range(iterations + 1):
        deficit = deficit_of(pos)
        if deficit <= 0:
            cost = float(sum(c[k] for c, k in zip(costs, pos, strict=True)))
            if cost < best_cost:
                best, best_cost = pos.copy(), cost
        if step == iterations:
            break
        evaluator.set_design(rows_of(pos))  # this design's run (the memo may have answered)
        evaluator.solve()
        flows, heads, pressure = evaluator.flows(), evaluator.heads(), evaluator.pressures()
        if step == 0 and first_flows is not None:
            flows = first_flows()
        if step > 0:  # junctions still short in the program's own design: raise their margin
            extra += np.maximum(program.p_min + DESIGN_MARGIN_M - pressure, 0.0)
        choice = program.solve(flows, heads, extra)
        if choice is None:
            log.debug("fixed-flow program: no solution at these flows")
            break
        pos = np.array(choice)
    log.debug("fixed-flow program start: %s", f"{best_cost:,.2f}" if best is not None else "none")
    return best


def unit_headloss_start(
    problem: Problem,
    evaluator: Evaluator,
    rows_of,
    deficit_of,
    steps: int = 12,
) -> np.ndarray | None:
    """The classic unit-headloss design: every pipe the cheapest entry whose head loss per
    metre at its flow is at most S, with S the largest slope (found by bisection between
    0.1 and 100 m/km) whose design is feasible. Flows come from an EPANET run of the previous
    design (first: every pipe at its largest entry), updated twice per slope. Returns the
    cheapest feasible design found, or None.
    """
    options = [problem.allowed[p] for p in problem.pipes]
    costs = [problem.catalog.costs[o] * problem.lengths[i] for i, o in enumerate(options)]
    vmax = problem.targets.max_velocity_m_per_s
    top = np.array([len(o) - 1 for o in options])

    def design(slope: float) -> np.ndarray:
        pos = top
        for _ in range(3):
            evaluator.set_design(rows_of(pos))
            evaluator.solve()
            flows = np.abs(evaluator.flows()[evaluator.link_index - 1])
            new = np.empty(len(options), dtype=int)
            for i, o in enumerate(options):
                per_m = unit_headloss(problem, i, flows[i])[o]
                ok = per_m <= slope
                if vmax is not None:
                    ok &= velocity(flows[i], problem.catalog.diameters[o]) <= vmax
                hits = np.flatnonzero(ok)
                new[i] = hits[0] if len(hits) else len(o) - 1
            pos = new
        return pos

    best, best_cost = None, np.inf
    low, high = np.log(1e-4), np.log(0.1)
    for _ in range(steps):
        mid = (low + high) / 2
        pos = design(float(np.exp(mid)))
        if deficit_of(pos) <= 0:
            low = mid
            cost = float(sum(c[k] for c, k in zip(costs, pos, strict=True)))
            if cost < best_cost:
                best, best_cost = pos.copy(), cost
        else:
            high = mid
    log.debug("unit-headloss start: %s", f"{best_cost:,.2f}" if best is not None else "none")
    return best


def tree_flows(
    problem: Problem,
    evaluator: Evaluator,
    program: FixedFlowProgram,
    rng: np.random.Generator,
    noise: float,
) -> np.ndarray:
    """Flows [m3/s, toolkit link order] that carry every junction's demand along a spanning
    tree from the sources (reservoirs and tanks); links off the tree carry nothing.

    Least-cost looped designs are nearly branched: with pipe cost concave in capacity, it pays
    to carry the flow on a few large mains and close the loops with the smallest pipes. The
    fixed-flow program given these flows designs that tree and leaves the other pipes at
    their cheapest entry; EPANET then runs the loops. The demands are those of the
    evaluator's last run.

    The first tree is the shortest-path tree (link lengths). In a street grid it spreads the
    flow over many parallel paths of equal length, so it is then routed again
    :data:`CONCENTRATION_ROUNDS` times on each link's marginal cost per unit of flow at the
    previous tree's flows, the cost of a pipe carrying ``Q`` being taken as proportional to
    ``length * Q**b`` (:func:`flow_cost_exponent`): links that already carry much flow become
    cheap routes, and the flow gathers on trunk mains. ``noise`` > 0 multiplies each link's
    length by ``1 + noise * U(0, 1)`` (``rng``): another tree for each restart.
    """
    from wntr.network import LinkStatus

    snapshot = problem.snapshot
    link_ids = evaluator.project.link_ids()
    types = evaluator.project.node_types()
    sources = [k for k, t in enumerate(types) if t != tk.EN_JUNCTION]
    demand = evaluator.project.node_values(tk.EN_DEMAND) * evaluator._m3_per_s
    noise_of = 1.0 + noise * rng.random(len(link_ids))
    shortest: dict[tuple[int, int], tuple[float, int]] = {}  # node pair -> (length, link)
    for k, a, b, _ in program.links:
        link = snapshot.get_link(link_ids[k])
        if link.initial_status == LinkStatus.Closed:
            continue
        weight = getattr(link, "length", 1.0) * noise_of[k] + 1e-9  # pumps, valves: 1 m
        pair = (min(a, b), max(a, b))
        if pair not in shortest or weight < shortest[pair][0]:
            shortest[pair] = (weight, k)  # parallel links: the shortest one carries the flow
    pairs = np.array(list(shortest), dtype=int).reshape(-1, 2)
    lengths = np.array([w for w, _ in shortest.values()])
    on_pair = np.array([k for _, k in shortest.values()])
    start_of = {k: a for k, a, _, _ in program.links}
    carried = demand.copy()
    carried[sources] = 0.0
    flows = _tree_flows(pairs, lengths, on_pair, start_of, sources, carried, len(link_ids))
    floor = float(np.median(carried[carried > 0])) if np.any(carried > 0) else 1.0
    b = flow_cost_exponent(problem.catalog)
    for _ in range(CONCENTRATION_ROUNDS):
        marginal = (np.abs(flows[on_pair]) + floor) ** (b - 1.0)
        flows = _tree_flows(
            pairs, lengths * marginal, on_pair, start_of, sources, carried, len(link_ids)
        )
    return flows


def flow_cost_exponent(catalog) -> float:
    """How a pipe's cost per metre grows with the flow it carries at a fixed head-loss
    gradient: cost ~ D^a (``a`` fitted in log-log over the catalogue) and D ~ Q^0.38 give
    cost ~ Q^(0.38 a); kept in [0.1, 0.9] so that a flat or odd catalogue still concentrates.
    Measured: 0.56 for :data:`hydro.sizing.random_networks.CATALOG`, 0.39 for the Oujda
    catalogue.

    >>> from types import SimpleNamespace
    >>> round(flow_cost_exponent(SimpleNamespace(diameters=[0.1, 0.2], costs=[10.0, 40.0])), 2)
    0.76
    """
    diameters = np.log(np.asarray(catalog.diameters, dtype=float))
    costs = np.log(np.maximum(np.asarray(catalog.costs, dtype=float), 1e-12))
    if len(np.unique(diameters)) < 2:
        return 0.5
    slope = float(np.polyfit(diameters, costs, 1)[0])
    return float(np.clip(DIAMETER_PER_FLOW_EXPONENT * slope, 0.1, 0.9))


def _tree_flows(pairs, weights, on_pair, start_of, sources, carried, n_links) -> np.ndarray:
    """Flows on the tree of least-``weights`` paths from ``sources`` (node pairs ``pairs``,
    carried by links ``on_pair``) that deliver ``carried`` [m3/s] at each node.
    """
    from scipy.sparse.csgraph import dijkstra

    n = len(carried)
    graph = coo_matrix(
        (np.concatenate([weights, weights]), (np.concatenate([pairs[:, 0], pairs[:, 1]]),
                                              np.concatenate([pairs[:, 1], pairs[:, 0]]))),
        shape=(n, n),
    ).tocsr()  # fmt: skip
    distance, before, _ = dijkstra(graph, indices=sources, return_predecessors=True,
                                   min_only=True)  # fmt: skip
    link_of = {(int(a), int(b)): int(k) for (a, b), k in zip(pairs, on_pair, strict=True)}
    flows = np.zeros(n_links)
    carried = carried.copy()
    for v in np.argsort(-distance):  # farthest first: each node passes on what it gathered
        u = before[v]
        if u < 0 or not np.isfinite(distance[v]):
            continue
        k = link_of[(min(u, v), max(u, v))]
        flows[k] += carried[v] if start_of[k] == u else -carried[v]
        carried[u] += carried[v]
    return flows
