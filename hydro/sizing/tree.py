"""Exact least-cost sizing of branched networks with scipy's ``milp`` (HiGHS).

In a tree fed by one source the flow in every pipe is the demand downstream of it, so the
head loss of every (pipe, catalogue entry) pair is a constant and least cost is a 0-1 program:

    minimise   sum_p sum_k c_k L_p x_pk
    subject to sum_k x_pk = 1                               (one entry per pipe)
               H_down = H_up - sum_k hf_pk x_pk             (head along every pipe)
               z_j + p_min <= H_j  (<= z_j + p_max)         (pressure at every junction)
               x_pk = 0 where entry k breaks the pressure class or the velocity limit

The split-pipe variant (Karmeli, Gadish & Meyers 1968; Alperovits & Shamir 1977) replaces
x_pk by continuous lengths l_pk >= 0 with sum_k l_pk = L_p: a linear program whose optimum is
a lower bound on the single-diameter cost.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from hydro.errors import InfeasibleDesignError
from hydro.hydraulics import (
    EPANET_GRAVITY_M_PER_S2,
    headloss_darcy_weisbach,
    headloss_hazen_williams,
    velocity,
)
from hydro.sizing.problem import DESIGN_MARGIN_M, Problem, TreeComponent

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class TreeResult:
    """Result of the tree program.

    ``choice``: pipe -> catalogue row (single diameter); ``segments``: pipe -> list of
    (catalogue row, length m) for the split design; ``cost`` and ``bound`` in currency;
    ``gap``: relative optimality gap reported by HiGHS; ``seconds``: solve time.
    """

    method: str
    cost: float
    bound: float
    gap: float
    seconds: float
    choice: dict[str, int]
    segments: dict[str, list[tuple[int, float]]]


def unit_headloss(problem: Problem, pipe_index: int, flow: float) -> np.ndarray:
    """Head loss per metre [m/m] of pipe ``pipe_index`` for every catalogue entry at ``flow``."""
    name = problem.pipes[pipe_index]
    pipe = problem.wn.get_link(name)
    d = problem.catalog.diameters
    r = problem.roughness[pipe_index]
    q = abs(flow)
    if problem.headloss_formula == "H-W":
        per_m = headloss_hazen_williams(q, 1.0, d, r)
    else:
        per_m = headloss_darcy_weisbach(q, 1.0, d, r)  # roughness in m, as WNTR holds it
    if pipe.minor_loss:
        per_m = (
            per_m
            + pipe.minor_loss * velocity(q, d) ** 2 / (2 * EPANET_GRAVITY_M_PER_S2) / pipe.length
        )
    return np.asarray(per_m, dtype=float)


def fixed_pipe_headloss(problem: Problem, pipe: str, flow: float) -> float:
    """Head loss [m] of a pipe that keeps its own diameter.

    Head loss [m] of a pipe that keeps its own diameter and roughness (0 for the
    pressure-reducing valve that feeds a tree: its outlet head is its setting).
    """
    link = problem.wn.get_link(pipe)
    if link.link_type == "Valve":
        return 0.0
    if problem.headloss_formula == "H-W":
        return float(headloss_hazen_williams(flow, link.length, link.diameter, link.roughness))
    return float(headloss_darcy_weisbach(flow, link.length, link.diameter, link.roughness))


def _check_reachable(problem: Problem, trees: list[TreeComponent]) -> None:
    """Fail early, naming junctions that miss the pressure even with the largest pipes."""
    index = {p: i for i, p in enumerate(problem.pipes)}
    targets = problem.targets
    short = []
    for tree in trees:
        head = {tree.root: tree.root_head_m}
        for pipe, up, down in tree.order:
            if pipe in index:
                i = index[pipe]
                hl = unit_headloss(problem, i, tree.flow[pipe])[problem.allowed[pipe]]
                loss = hl.min() * problem.lengths[i]
            else:
                loss = fixed_pipe_headloss(problem, pipe, tree.flow[pipe])
            head[down] = head[up] - loss
            node = problem.snapshot.get_node(down)
            need = max(node.elevation + targets.min_at(down), tree.head_floor.get(down, -np.inf))
            deficit = need - head[down]
            if deficit > 1e-9:
                short.append((down, deficit))
    if short:
        short.sort(key=lambda x: -x[1])
        if targets.node_min_pressure_m:
            listed = ", ".join(
                f"{n} by {d:.2f} m (of {targets.min_at(n):g} m)" for n, d in short[:10]
            )
            target = "the minimum pressure"
        else:
            listed = ", ".join(f"{n} by {d:.2f} m" for n, d in short[:10])
            target = f"{targets.min_pressure_m:g} m"
        more = f" and {len(short) - 10} more" if len(short) > 10 else ""
        raise InfeasibleDesignError(
            f"no catalogue pipe can give {target} at junction(s) {listed}{more}, even with "
            "the largest diameter allowed everywhere: the source is too low (a pump or a higher "
            "tank is needed)"
        )


def solve_tree(
    problem: Problem,
    trees: list[TreeComponent],
    split: bool = False,
    time_limit_s: float = 600.0,
    extra_margin_m: dict[str, float] | None = None,
) -> TreeResult:
    """Least-cost design of the trees' decision pipes (exact 0-1 program, or split-pipe LP).

    ``extra_margin_m``: junction -> head kept above its target on top of
    :data:`DESIGN_MARGIN_M` [m] (the repair loop of :func:`hydro.sizing.size_network` sets it
    at junctions that the independent EPANET run found short).
    """
    extra_margin_m = extra_margin_m or {}
    _check_reachable(problem, trees)
    targets = problem.targets
    index = {p: i for i, p in enumerate(problem.pipes)}
    # Variables: per decision pipe its allowed options (x or l), then one head per tree node.
    # spans[p]: the contiguous columns of pipe p's options
    var_option, cost = [], []
    spans: dict[str, range] = {}
    vmax = targets.max_velocity_m_per_s
    flows = {p: t.flow[p] for t in trees for p, _, _ in t.order}
    for p in problem.pipes:
        if p not in flows:
            continue
        i = index[p]
        options = problem.allowed[p]
        if vmax is not None:
            v = velocity(flows[p], problem.catalog.diameters[options])
            options = options[v <= vmax + 1e-12]
            if options.size == 0:
                raise InfeasibleDesignError(
                    f"pipe {p}: even the largest catalogue pipe runs faster than "
                    f"{vmax:g} m/s at the design flow of {abs(flows[p]) * 1000:.2f} l/s"
                )
        spans[p] = range(len(var_option), len(var_option) + len(options))
        var_option.extend(int(k) for k in options)
        per_m = problem.catalog.costs[options]
        cost.extend(per_m if split else per_m * problem.lengths[i])
    n_x = len(var_option)
    nodes = [n for t in trees for n in t.nodes]
    head_index = {n: n_x + j for j, n in enumerate(nodes)}
    n_var = n_x + len(nodes)
    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0

    def add(entries, lower, upper):
        nonlocal r
        for c, v in entries:
            rows.append(r)
            cols.append(c)
            vals.append(v)
        lo.append(lower)
        hi.append(upper)
        r += 1

    for p, span in spans.items():
        total = problem.lengths[index[p]] if split else 1.0
        add([(c, 1.0) for c in span], total, total)
    for tree in trees:
        for pipe, up, down in tree.order:
            # H_down - H_up + sum_k hf x = 0 (or with a fixed pipe's own loss on the right side)
            entries = [(head_index[down], 1.0)]
            rhs = 0.0
            if up in head_index:
                entries.append((head_index[up], -1.0))
            else:
                rhs = tree.root_head_m
            if pipe in spans:
                i = index[pipe]
                hl = unit_headloss(problem, i, tree.flow[pipe])
                scale = 1.0 if split else problem.lengths[i]
                entries.extend((c, hl[var_option[c]] * scale) for c in spans[pipe])
            else:
                rhs -= fixed_pipe_headloss(problem, pipe, tree.flow[pipe])
            add(entries, rhs, rhs)
    matrix = coo_matrix((vals, (rows, cols)), shape=(r, n_var)).tocsr()
    lower = np.zeros(n_var)
    upper = np.full(n_var, np.inf if split else 1.0)
    floors = {n: h for t in trees for n, h in t.head_floor.items()}
    for j, n in enumerate(nodes):
        node = problem.snapshot.get_node(n)
        z = node.elevation
        lower[n_x + j] = (
            max(z + targets.min_at(n), floors.get(n, -np.inf))
            + DESIGN_MARGIN_M
            + extra_margin_m.get(n, 0.0)
            if node.node_type == "Junction"
            else -np.inf
        )
        upper[n_x + j] = (
            z + targets.max_pressure_m
            if (targets.max_pressure_m is not None and node.node_type == "Junction")
            else np.inf
        )
    c = np.concatenate([np.array(cost), np.zeros(len(nodes))])
    integrality = np.zeros(n_var)
    if not split:
        integrality[:n_x] = 1
    started = time.perf_counter()
    result = milp(
        c,
        constraints=LinearConstraint(matrix, np.array(lo), np.array(hi)),
        bounds=Bounds(lower, upper),
        integrality=integrality,
        options={"time_limit": time_limit_s, "mip_rel_gap": 1e-9, "presolve": True},
    )
    seconds = time.perf_counter() - started
    if result.x is None:
        raise InfeasibleDesignError(
            "no design meets the targets: "
            + (
                f"the maximum pressure of {targets.max_pressure_m:g} m cannot be kept together "
                f"with the minimum of {targets.min_pressure_m:g} m (HiGHS: {result.message})"
                if targets.max_pressure_m is not None
                else f"HiGHS: {result.message}"
            )
        )
    x = result.x[:n_x]
    choice, segments = {}, {}
    for p, span in spans.items():
        i = index[p]
        if split:
            used = [(int(var_option[c]), float(x[c])) for c in span if x[c] > 1e-6]
            segments[p] = used
            choice[p] = max(used, key=lambda s: s[1])[0]
        else:
            best = max(span, key=lambda c: x[c])
            choice[p] = int(var_option[best])
            segments[p] = [(choice[p], float(problem.lengths[i]))]
    gap = float(getattr(result, "mip_gap", 0.0) or 0.0)
    bound = float(getattr(result, "mip_dual_bound", result.fun) or result.fun)
    log.info(
        "%s: %d pipes, %d variables, solved in %.2f s (%s)",
        "split-pipe LP" if split else "0-1 program",
        len(spans),
        n_var,
        seconds,
        result.message,
    )
    return TreeResult(
        method="split-pipe LP" if split else "exact 0-1 program (HiGHS)",
        cost=float(result.fun),
        bound=bound,
        gap=gap,
        seconds=seconds,
        choice=choice,
        segments=segments,
    )
