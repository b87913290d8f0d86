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

import contextlib
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix, csr_matrix

from hydro.errors import InfeasibleDesignError, some_of
from hydro.hydraulics import (
    EPANET_GRAVITY_M_PER_S2,
    headloss_darcy_weisbach,
    headloss_hazen_williams,
    velocity,
)
from hydro.pumps import SHUTOFF_HEAD_RATIO, head_at, pump_efficiency_for_size
from hydro.sizing.boosters import head_factor, lift_cost_per_m
from hydro.sizing.break_tanks import TankPlan, worst_first
from hydro.sizing.problem import DESIGN_MARGIN_M, Problem, Targets, TreeComponent

log = logging.getLogger(__name__)
#: What a user sees of a long solve (the command line prints it on stderr, ``--quiet`` not).
progress = logging.getLogger("hydro.progress")


@dataclass(kw_only=True)
class TreeResult:
    """Result of the tree program.

    ``choice``: pipe -> catalogue row (single diameter); ``segments``: pipe -> list of
    (catalogue row, length m) for the split design; ``cost`` and ``bound`` in currency;
    ``gap``: relative optimality gap reported by HiGHS; ``seconds``: solve time;
    ``break_tanks``: junctions given a break-pressure tank (their cost is in ``cost``);
    ``pressure_valves``: junction given a pressure-reducing valve -> its setting [m of
    pressure] (their cost is in ``cost``); ``boosters``: junction given a booster pump ->
    (duty flow [m3/s], duty head [m], efficiency [-]) (its capital and discounted energy are
    in ``cost``).
    """

    method: str
    cost: float
    bound: float
    gap: float
    seconds: float
    choice: dict[str, int]
    segments: dict[str, list[tuple[int, float]]]
    break_tanks: list[str] = field(default_factory=list)
    pressure_valves: dict[str, float] = field(default_factory=dict)
    boosters: dict[str, tuple[float, float, float]] = field(default_factory=dict)


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
    pressure-reducing valve that feeds a tree: its outlet head is its setting; minus its
    head for a pump, at the flow it passes: EPANET's fitted curve times its speed squared,
    :func:`hydro.pumps.head_at`).
    """
    link = problem.wn.get_link(pipe)
    if link.link_type == "Valve":
        return 0.0
    if link.link_type == "Pump":
        speed = link.base_speed or 1.0
        return -head_at(link.get_pump_curve().points, abs(flow) / speed) * speed**2
    if problem.headloss_formula == "H-W":
        return float(headloss_hazen_williams(flow, link.length, link.diameter, link.roughness))
    return float(headloss_darcy_weisbach(flow, link.length, link.diameter, link.roughness))


def _heads_down(problem: Problem, tree: TreeComponent, index: dict, pick):
    """Yield ``(node, head [m])`` down ``tree`` with every decision pipe at the allowed
    diameter whose loss ``pick`` (``np.min``: the largest pipes; ``np.max``: the smallest)
    chooses, fixed pipes as they are.
    """
    head = {tree.root: tree.root_head_m}
    for pipe, up, down in tree.order:
        if pipe in index:
            i = index[pipe]
            hl = unit_headloss(problem, i, tree.flow[pipe])[problem.allowed[pipe]]
            loss = pick(hl) * problem.lengths[i]
        else:
            loss = fixed_pipe_headloss(problem, pipe, tree.flow[pipe])
        head[down] = head[up] - loss
        yield down, head[down]


def _check_reachable(
    problem: Problem, trees: list[TreeComponent], lifted: frozenset[str] = frozenset()
) -> None:
    """Fail early, naming junctions that miss the pressure even with the largest pipes and
    that no booster candidate above them (``lifted``: the junctions below one) can reach.

    The message tells why (:func:`_unreachable_message`): the source's head itself below
    the junction's target (no pipe could help), or the head lost in the largest allowed
    pipes (the catalogue lacks larger diameters).
    """
    index = {p: i for i, p in enumerate(problem.pipes)}
    targets = problem.targets
    short, lost = [], {}
    for tree in trees:
        still = dict(_heads_down(problem, tree, index, lambda hl: 0.0))
        for down, head in _heads_down(problem, tree, index, np.min):
            if down in lifted:
                continue
            node = problem.snapshot.get_node(down)
            need = max(node.elevation + targets.min_at(down), tree.head_floor.get(down, -np.inf))
            deficit = need - head
            if deficit > 1e-9:
                short.append((down, deficit))
                lost[down] = (still[down] - need, still[down] - head)
    if short:
        raise InfeasibleDesignError(_unreachable_message(problem, short, lost))


def _unreachable_message(problem: Problem, short: list, lost: dict) -> str:
    """What :func:`_check_reachable` says of junctions ``short`` ((node, deficit [m])).

    ``lost``: node -> (the head left at it above its target with no head lost in the
    decision pipes [m], the head lost in them with the largest allowed pipes [m]). Where
    that head left is not positive the source is too low; elsewhere a larger pipe would do,
    and the message gives the inner diameter that, on every decision pipe of the worst
    path, would lose no more than the head left (the loss scales as ``D^-4.87``,
    Hazen-Williams; ``D^-5``, Darcy-Weisbach in rough turbulence).
    """
    targets = problem.targets
    short.sort(key=lambda x: -x[1])
    if targets.node_min_pressure_m:
        listed = some_of([f"{n} by {d:.2f} m (of {targets.min_at(n):g} m)" for n, d in short])
        target = "the minimum pressure"
    else:
        listed = some_of([f"{n} by {d:.2f} m" for n, d in short])
        target = f"{targets.min_pressure_m:g} m"
    head = (
        f"no catalogue pipe can give {target} at junction(s) {listed}, even with the "
        "largest diameter allowed everywhere"
    )
    low = [n for n, _ in short if lost[n][0] <= 1e-9]
    if low:
        return (
            f"{head}: the source is too low for {', '.join(low[:10])}"
            f"{' and more' if len(low) > 10 else ''} (its head is below their target with no "
            "head lost at all); a booster (--booster-cost) upstream of them would, or a "
            "higher tank"
        )
    exponent = 4.87 if problem.headloss_formula == "H-W" else 5.0
    worst = max(short, key=lambda x: lost[x[0]][1] / lost[x[0]][0])[0]
    left, loss = lost[worst]
    largest = float(np.max(problem.catalog.diameters))
    needed = largest * (loss / left) ** (1.0 / exponent)
    return (
        f"{head}: the head is lost in the pipes, not missing at the source: with the "
        f"catalogue's largest pipe (inner {largest * 1000:.1f} mm) the decision pipes above "
        f"{worst} lose {loss:.2f} m where {left:.2f} m is available; add larger diameters "
        f"to the catalogue (about {needed * 1000:.0f} mm inner on that path would carry its "
        "flow), or allow a booster (--booster-cost) upstream of them"
    )


def _check_not_too_high(problem: Problem, trees: list[TreeComponent]) -> None:
    """Fail early, naming junctions held above the maximum pressure even with the smallest
    pipes allowed (the most head lost) everywhere: no class or diameter fixes that, a
    pressure-reducing valve or a break-pressure tank above them would.
    """
    top = problem.targets.max_pressure_m
    if top is None:
        return
    index = {p: i for i, p in enumerate(problem.pipes)}
    over: dict[str, float] = {}
    for tree in trees:
        for down, head in _heads_down(problem, tree, index, np.max):
            node = problem.snapshot.get_node(down)
            excess = head - node.elevation - top
            if node.node_type == "Junction" and excess > 1e-9:
                name = down.split("@")[0]
                over[name] = max(over.get(name, 0.0), excess)
    if over:
        raise InfeasibleDesignError(
            f"junction(s) {worst_first(over)} stay above the maximum pressure of {top:g} m even "
            "with the smallest pipes allowed everywhere: no pipe of the catalogue fixes it; a "
            "pressure-reducing valve (--prv-cost) or a break-pressure tank (--break-tank-cost) "
            "above them would"
        )


@dataclass
class ProgramRows:
    """Sparse constraint rows ``lower <= A x <= upper`` of a linear program, built row by row."""

    rows: list[int] = field(default_factory=list)
    cols: list[int] = field(default_factory=list)
    vals: list[float] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)

    def add(self, entries: Iterable[tuple[int, float]], lower: float, upper: float) -> None:
        """Append one row: ``entries`` are (column, coefficient) pairs, then its two bounds."""
        r = len(self.lower)
        for c, v in entries:
            self.rows.append(r)
            self.cols.append(c)
            self.vals.append(v)
        self.lower.append(lower)
        self.upper.append(upper)

    def matrix(self, n_columns: int) -> csr_matrix:
        """The rows as a CSR matrix with ``n_columns`` columns."""
        shape = (len(self.lower), n_columns)
        return coo_matrix((self.vals, (self.rows, self.cols)), shape=shape).tocsr()


@dataclass(kw_only=True)
class _Lift:
    """What the program needs of the booster candidates (:func:`_lift_terms`).

    ``factor``: copy of a candidate (in any case) -> its pump's head over the duty head at
    the flow it passes there (EPANET's single-point curve, :func:`hydro.sizing.boosters.
    head_factor`); ``head_max``: candidate -> the largest duty head that can be of use [m]
    (``M``: every junction below fed through the smallest pipes from the lowest head that
    can reach the candidate); ``design_flow``: -> the duty flow [m3/s], the largest it
    passes over the cases; ``efficiency`` [-] and ``cost_per_m``: -> the discounted energy
    per metre of duty head [currency/m]; ``station_cost``: one station [currency];
    ``high``: copy of a candidate -> the highest head below it with every booster above it
    and its own at their largest [m]; ``static_lift``: candidate -> the most static head the
    boosters above it can add [m] (at shut-off).
    """

    factor: dict[str, float]
    head_max: dict[str, float]
    design_flow: dict[str, float]
    efficiency: dict[str, float]
    cost_per_m: dict[str, float]
    station_cost: float
    high: dict[str, float]
    static_lift: dict[str, float]


def _base(node) -> str:
    """The network's name of a node of the joint program (``node@case`` -> ``node``)."""
    return node.split("@")[0] if isinstance(node, str) else node


def _largest_losses(problem: Problem, trees: list[TreeComponent]) -> dict[tuple, float]:
    """(pipe, tree index) -> its head loss with the smallest pipe allowed [m]."""
    index = {p: i for i, p in enumerate(problem.pipes)}
    out = {}
    for t, tree in enumerate(trees):
        for pipe, _, _ in tree.order:
            flow = tree.flow[pipe]
            if pipe in index:
                i = index[pipe]
                hl = unit_headloss(problem, i, flow)[problem.allowed[pipe]]
                out[pipe, t] = float(np.max(hl)) * problem.lengths[i]
            else:
                out[pipe, t] = fixed_pipe_headloss(problem, pipe, flow)
    return out


def _lift_terms(
    problem: Problem, trees: list[TreeComponent], plan: TankPlan, extra_margin_m: dict
) -> _Lift:
    """The booster candidates' bounds and costs (:class:`_Lift`); a candidate with no flow
    below it is none.
    """
    loss = _largest_losses(problem, trees)
    r, z, pumps = plan.residual_m, plan.elevation, plan.booster_nodes
    floors = {n: h for t in trees for n, h in t.head_floor.items()}
    flow: dict = {}
    for tree in trees:
        for pipe, up, _ in tree.order:
            flow[up] = flow.get(up, 0.0) + tree.flow[pipe]
    design: dict[str, float] = {}
    for u, q in flow.items():
        if _base(u) in pumps:
            design[_base(u)] = max(design.get(_base(u), 0.0), q)
    design = {j: q for j, q in design.items() if q > 0}
    factor = {u: head_factor(q, design[_base(u)]) for u, q in flow.items() if _base(u) in design}

    def need(n) -> float:
        node = problem.snapshot.get_node(n)
        if node.node_type != "Junction":
            return -np.inf
        own = max(node.elevation + problem.targets.min_at(n), floors.get(n, -np.inf))
        return own + DESIGN_MARGIN_M + extra_margin_m.get(n, 0.0)

    low, below = {}, {}  # lowest head reaching a node; highest head needed below its outlet
    for t, tree in enumerate(trees):
        low[tree.root] = tree.root_head_m
        for pipe, up, down in tree.order:
            out = low[up]
            if _base(up) in plan.tank_nodes:
                out = min(out, z[_base(up)] + r)
            if _base(up) in plan.valve_nodes:
                out = min(out, z[_base(up)])
            low[down] = out - loss[pipe, t]
        reach: dict = {}
        for pipe, up, down in reversed(tree.order):
            here = max(need(down), reach.get(down, -np.inf)) + loss[pipe, t]
            reach[up] = max(reach.get(up, -np.inf), here)
            below[up] = max(below.get(up, -np.inf), here)
    head_max: dict[str, float] = {}
    for u, k in factor.items():
        useful = (below[u] - max(low[u], need(u))) / k
        head_max[_base(u)] = max(head_max.get(_base(u), 0.0), useful)
    head_max = {j: m for j, m in head_max.items() if m > 0}
    return _lift_economics(plan, trees, design, factor, head_max)


def _lift_economics(plan: TankPlan, trees, design, factor, head_max) -> _Lift:
    """The :class:`_Lift` of candidates ``head_max``: efficiency and energy cost per metre,
    and the highest heads and static heads their boosters can give.
    """
    given, at_duty = plan.boosters.efficiency, plan.booster_efficiency
    efficiency = {
        j: given if given is not None else at_duty.get(j, pump_efficiency_for_size(design[j], m))
        for j, m in head_max.items()
    }
    cost = {
        j: lift_cost_per_m(plan.boosters, plan.average_flow[j], design[j], efficiency[j])
        for j in head_max
    }

    def lift(u) -> float:
        return factor[u] * head_max[_base(u)] if u in factor and _base(u) in head_max else 0.0

    high: dict = {}
    for tree in trees:
        high[tree.root] = tree.root_head_m
        for _, up, down in tree.order:
            high[down] = high[up] + lift(up)
    static_lift: dict[str, float] = {}
    for c in plan.candidates:  # from the top down: the candidate above comes first
        a = plan.above[c]
        static_lift[c] = (
            static_lift[a] + SHUTOFF_HEAD_RATIO * head_max.get(a, 0.0) if isinstance(a, str)
            else 0.0
        )  # fmt: skip
    return _Lift(
        factor={u: k for u, k in factor.items() if _base(u) in head_max},
        head_max=head_max,
        design_flow={j: design[j] for j in head_max},
        efficiency=efficiency,
        cost_per_m=cost,
        station_cost=plan.boosters.cost,
        high={u: h + lift(u) for u, h in high.items()},
        static_lift=static_lift,
    )


@dataclass(kw_only=True)
class _Columns:
    """The tree program's columns: each decision pipe's allowed options, then one head per node.

    ``option``: catalogue row of each option column; ``cost``: its cost (per metre for the
    split-pipe LP, for the whole pipe otherwise); ``spans``: pipe -> its contiguous option
    columns; ``head``: node -> its head column (after every option column). With break-pressure
    tanks, then: ``tank``: candidate -> its 0-1 column (a tank there), ``static``: candidate
    -> the static head below it [m] (below a pressure-reducing valve: its setting, as a
    head), ``outlet``: node (or its copy in another case) of a candidate -> the head below it
    [m]; ``tank_cost``: cost of one tank; ``valve``: candidate -> its 0-1 column (a
    pressure-reducing valve there), ``valve_cost``: cost of one valve; ``booster``:
    candidate -> its 0-1 column (a booster pump there) and ``lift``: -> its duty head [m]
    column, ``lift_terms``: their bounds and costs (:class:`_Lift`); ``limits``: column ->
    its (lower, upper) bounds where not the default; ``static_cap``: static-head column ->
    its highest value under the maximum pressure with no demand
    (:attr:`hydro.sizing.break_tanks.TankPlan.static_cap_m`) [m].
    """

    option: list[int]
    cost: list[float]
    spans: dict[str, range]
    nodes: list[str]
    head: dict[str, int]
    tank: dict[str, int] = field(default_factory=dict)
    static: dict[str, int] = field(default_factory=dict)
    outlet: dict[str, int] = field(default_factory=dict)
    tank_cost: float = 0.0
    valve: dict[str, int] = field(default_factory=dict)
    valve_cost: float = 0.0
    limits: dict[int, tuple[float, float]] = field(default_factory=dict)
    booster: dict[str, int] = field(default_factory=dict)
    lift: dict[str, int] = field(default_factory=dict)
    lift_terms: _Lift | None = None
    static_cap: dict[int, float] = field(default_factory=dict)

    @property
    def n_options(self) -> int:
        """Number of option columns."""
        return len(self.option)

    @property
    def n_columns(self) -> int:
        """Number of columns: options, heads and the break-pressure tanks' columns."""
        return (
            len(self.option) + len(self.nodes) + len(self.tank) + len(self.valve)
            + len(self.static) + len(self.outlet) + len(self.booster) + len(self.lift)
        )  # fmt: skip

    def objective(self) -> np.ndarray:
        """Cost of each column: the options', each tank's and valve's, and each booster's:
        its station, and the discounted energy per metre of its head.
        """
        c = np.zeros(self.n_columns)
        c[: self.n_options] = self.cost
        c[list(self.tank.values())] = self.tank_cost
        c[list(self.valve.values())] = self.valve_cost
        if self.lift_terms is not None:
            c[list(self.booster.values())] = self.lift_terms.station_cost
            for node, k in self.lift.items():
                c[k] = self.lift_terms.cost_per_m[node]
        return c

    def add_boosters(self, lift: _Lift) -> None:
        """Add a 0-1 column and a head column for each booster candidate of ``lift``, after
        every other column; the head between 0 and its largest useful value.
        """
        n = self.n_columns
        self.booster = {c: n + j for j, c in enumerate(lift.head_max)}
        n += len(self.booster)
        self.lift = {c: n + j for j, c in enumerate(lift.head_max)}
        self.lift_terms = lift
        for c, k in self.lift.items():
            self.limits[k] = (0.0, lift.head_max[c])
        for c, k in self.static.items():  # a valve's setting may take a booster's lift too
            if c in self.valve and c in self.lift and k in self.limits:
                low, high = self.limits[k]
                self.limits[k] = (low, high + SHUTOFF_HEAD_RATIO * lift.head_max[c])

    def add_tanks(self, trees: list[TreeComponent], plan: TankPlan) -> None:
        """Add the columns of ``plan``'s candidates after the heads.

        Below a candidate for a valve, the static head (its setting) lies between the
        junction's elevation (a setting of 0 m) and the highest static head that may reach
        it, and so does the head.
        """
        n = self.n_columns
        self.tank = {c: n + j for j, c in enumerate(c for c in plan.candidates
                                                    if c in plan.tank_nodes)}  # fmt: skip
        n += len(self.tank)
        self.valve = {c: n + j for j, c in enumerate(c for c in plan.candidates
                                                     if c in plan.valve_nodes)}  # fmt: skip
        n += len(self.valve)
        if plan.rating_m is not None or self.valve or plan.static_cap_m:
            self.static = {c: n + j for j, c in enumerate(plan.candidates)}
            n += len(self.static)
        chosen = set(plan.candidates)
        copies = [u for t in trees for _, u, _ in t.order if u.split("@")[0] in chosen]
        copies = [u for u in dict.fromkeys(copies) if u in self.head]
        self.outlet = {u: n + j for j, u in enumerate(copies)}
        self.tank_cost = plan.tanks.cost if plan.tanks is not None else 0.0
        self.valve_cost = plan.valves.cost if plan.valves is not None else 0.0
        for c in self.valve:
            self.limits[self.static[c]] = (plan.elevation[c], plan.static_range_m[c][1])
        for u, k in self.outlet.items():
            if u.split("@")[0] in self.valve:
                self.limits[k] = (plan.elevation[u.split("@")[0]], np.inf)
        self.static_cap = {self.static[c]: cap for c, cap in plan.static_cap_m.items()
                           if c in self.static}  # fmt: skip


def _columns(problem: Problem, trees: list[TreeComponent], split: bool) -> _Columns:
    """The program's columns: options within the velocity limit at each pipe's design flow.

    Raises
    ------
    InfeasibleDesignError
        When even the largest allowed entry of a pipe runs faster than the velocity limit.
    """
    index = {p: i for i, p in enumerate(problem.pipes)}
    vmax = problem.targets.max_velocity_m_per_s
    flows = {p: t.flow[p] for t in trees for p, _, _ in t.order}
    option, cost = [], []
    spans: dict[str, range] = {}
    for p in problem.pipes:
        if p not in flows:
            continue
        options = problem.allowed[p]
        if vmax is not None:
            v = velocity(flows[p], problem.catalog.diameters[options])
            options = options[v <= vmax + 1e-12]
            if options.size == 0:
                raise InfeasibleDesignError(
                    f"pipe {p}: even the largest catalogue pipe runs faster than "
                    f"{vmax:g} m/s at the design flow of {abs(flows[p]) * 1000:.2f} l/s"
                )
        spans[p] = range(len(option), len(option) + len(options))
        option.extend(int(k) for k in options)
        per_m = problem.catalog.costs[options]
        cost.extend(per_m if split else per_m * problem.lengths[index[p]])
    nodes = [n for t in trees for n in t.nodes]
    head = {n: len(option) + j for j, n in enumerate(nodes)}
    return _Columns(option=option, cost=cost, spans=spans, nodes=nodes, head=head)


def _constraints(
    problem: Problem,
    trees: list[TreeComponent],
    columns: _Columns,
    split: bool,
    plan: TankPlan | None = None,
) -> LinearConstraint:
    """One entry per pipe (or its full length when split), and the head along every pipe.

    Along pipe (up -> down): ``H_down - H_up + sum_k hf_k x_k = 0``; a root's head and a
    kept pipe's own loss move to the right side. Below a candidate for a break-pressure tank,
    ``H_up`` is the head below it (its outlet column), and ``plan``'s rows
    (:func:`_tank_rows`) follow.
    """
    index = {p: i for i, p in enumerate(problem.pipes)}
    rows = ProgramRows()
    for p, span in columns.spans.items():
        total = problem.lengths[index[p]] if split else 1.0
        rows.add([(c, 1.0) for c in span], total, total)
    for tree in trees:
        for pipe, up, down in tree.order:
            entries = [(columns.head[down], 1.0)]
            rhs = 0.0
            if up in columns.outlet:
                entries.append((columns.outlet[up], -1.0))
            elif up in columns.head:
                entries.append((columns.head[up], -1.0))
            else:
                rhs = tree.root_head_m
            if pipe in columns.spans:
                i = index[pipe]
                hl = unit_headloss(problem, i, tree.flow[pipe])
                scale = 1.0 if split else problem.lengths[i]
                entries.extend((c, hl[columns.option[c]] * scale) for c in columns.spans[pipe])
            else:
                rhs -= fixed_pipe_headloss(problem, pipe, tree.flow[pipe])
            rows.add(entries, rhs, rhs)
    if plan is not None:
        _tank_rows(problem, trees, columns, plan, rows)
    return LinearConstraint(
        rows.matrix(columns.n_columns), np.array(rows.lower), np.array(rows.upper)
    )


def _tank_rows(
    problem: Problem, trees: list[TreeComponent], columns: _Columns, plan: TankPlan, rows
) -> None:
    """Rows of the break-pressure tanks, valves and boosters: the head and static head below.

    With ``y`` = 1 for a tank at candidate ``j`` (elevation ``z``, residual ``r``) and ``v``
    = 1 for a pressure-reducing valve there (``y + v <= 1``):

        H_out <= H_j,   H_out >= H_j - M (y + v),   z + r - M' (1 - y) <= H_out <= z + r + M (1 - y)

    for ``j`` and each of its copies in the other cases (the junction's own demand is drawn
    upstream of the device, so ``H_j`` keeps its target); below a valve the head is also at
    most its setting (as a head) ``S_j``, the same in every case (:func:`_valve_rows`).
    The static head below ``j`` is at least the one above it unless a device is there, and
    at least ``z + r`` below a tank:

        S_j >= S_above - M_s (y + v),   S_j >= z + r - M_s' (1 - y)

    where ``S_above`` is the nearest candidate's above, or the static head at ``j`` with no
    device. A pipe below candidate ``a`` then takes a class that holds its static pressure:
    ``sum_k PN_k x_k - S_a >= -z_low`` (``z_low``: its lower end's elevation). Each big-M is
    the least that leaves its row void [m]: ``M`` = the root's head less the lowest head
    below a device (``z + r``, or ``z`` where a valve may go), ``M'`` = ``r`` less the
    junction's minimum pressure (or 0; ``r`` where a valve may go), ``M_s`` and ``M_s'``
    the distance from that lowest head to the highest and lowest static head that may reach
    ``j`` (:attr:`TankPlan.static_range_m`); tight bounds keep the relaxation strong.

    A booster at ``j`` (``b`` = 1, duty head ``h``, :func:`_booster_rows`) adds ``k_c h`` to
    both rows of the head in each case ``c`` (``k_c``: its curve's head at the case's flow
    over the duty head, :class:`_Lift`), so ``H_out = H_j + k_c h`` there, and ``4/3 h`` to
    the row of the static head, ``S_j >= S_above + 4/3 h``: the pipes below hold its
    shut-off. Boosters above raise the big-Ms' highest heads (:attr:`_Lift.high`,
    :attr:`_Lift.static_lift`).
    """
    r = plan.residual_m
    z = plan.elevation
    root_head = {n: t.root_head_m for t in trees for n in t.nodes}
    lift = columns.lift_terms
    if lift is not None:  # boosters above raise the highest head below a device
        root_head = {n: lift.high.get(n, h) for n, h in root_head.items()}
    for copy, out in columns.outlet.items():
        node = copy.split("@")[0]
        head, top = columns.head[copy], z[node] + r
        y, v = columns.tank.get(node), columns.valve.get(node)
        m = max(root_head[copy] - (z[node] if v is not None else top), 0.0)
        devices = [(k, m) for k in (y, v) if k is not None]
        pump = [(columns.lift[node], -lift.factor[copy])] if node in columns.lift else []
        rows.add([(out, 1.0), (head, -1.0), *pump], -np.inf, 0.0)
        rows.add([(out, 1.0), (head, -1.0), *pump, *devices], 0.0, np.inf)
        if y is not None:
            m_low = r if v is not None else max(r - problem.targets.min_at(copy), 0.0)
            rows.add([(out, 1.0), (y, m)], -np.inf, top + m)
            rows.add([(out, 1.0), (y, -m_low)], top - m_low, np.inf)
    _valve_rows(problem, columns, plan, rows, root_head)
    _booster_rows(columns, rows)
    if not columns.static:
        return
    for c, s in columns.static.items():
        y, v, above = columns.tank.get(c), columns.valve.get(c), plan.above[c]
        lowest, highest = plan.static_range_m[c]
        m = max(highest - z[c] - (0.0 if v is not None else r), 0.0)
        devices = [(k, m) for k in (y, v) if k is not None]
        if c in columns.lift:  # the pipes below hold the booster's shut-off head
            devices.append((columns.lift[c], -SHUTOFF_HEAD_RATIO))
        if isinstance(above, str):
            rows.add([(s, 1.0), (columns.static[above], -1.0), *devices], 0.0, np.inf)
        else:
            rows.add([(s, 1.0), *devices], above, np.inf)
        if y is not None:
            m_low = max(z[c] + r - lowest, r if v is not None else 0.0)
            rows.add([(s, 1.0), (y, -m_low)], z[c] + r - m_low, np.inf)
    if plan.rating_m is None:
        return
    highest = max(h for _, h in plan.static_range_m.values())
    rating = np.nan_to_num(plan.rating_m, nan=2 * highest)  # no class: never binding
    for pipe, a in plan.anchor.items():
        if a is not None and pipe in columns.spans:
            entries = [(k, float(rating[columns.option[k]])) for k in columns.spans[pipe]]
            rows.add([*entries, (columns.static[a], -1.0)], -plan.low_end_m[pipe], np.inf)


def _valve_rows(problem: Problem, columns: _Columns, plan: TankPlan, rows, root_head) -> None:
    """Rows of the pressure-reducing valves: the head below one is at most its setting.

    With ``v`` = 1 for a valve at ``j`` whose setting (as a head) is ``S_j`` (at least ``z``,
    a setting of 0 m: a bound), in every case: ``H_out <= S_j + M (1 - v)``, ``M`` = the
    root's head less ``z``. So ``H_out`` = min(``H_j``, ``S_j``) at the least, which is what
    the valve gives; a head below it that is lower than that only asks more of the pipes, so
    the least cost is exact. With a maximum pressure, a head below the valve must not be
    under-estimated: then the valve regulates in every case, ``H_out >= S_j - M_s (1 - v)``
    (``M_s``: the highest static head that may reach ``j`` less ``z``), and ``H_j >= S_j``
    follows from ``H_out <= H_j``.
    """
    z = plan.elevation
    capped = problem.targets.max_pressure_m is not None
    for copy, out in columns.outlet.items():
        node = copy.split("@")[0]
        v = columns.valve.get(node)
        if v is None:
            continue
        s = columns.static[node]
        m = max(root_head[copy] - z[node], 0.0)
        rows.add([(out, 1.0), (s, -1.0), (v, m)], -np.inf, m)
        if capped:
            m_s = max(plan.static_range_m[node][1] - z[node], 0.0)
            rows.add([(out, 1.0), (s, -1.0), (v, -m_s)], -m_s, np.inf)


def _booster_rows(columns: _Columns, rows: ProgramRows) -> None:
    """A booster's head only where it is (``h <= M b``, ``M`` its largest useful head), and
    at most one device (tank, valve or booster) at a junction.
    """
    for node, b in columns.booster.items():
        rows.add([(columns.lift[node], 1.0), (b, -columns.lift_terms.head_max[node])],
                 -np.inf, 0.0)  # fmt: skip
    for node in dict.fromkeys([*columns.tank, *columns.valve, *columns.booster]):
        devices = [d[node] for d in (columns.tank, columns.valve, columns.booster) if node in d]
        if len(devices) > 1:
            rows.add([(k, 1.0) for k in devices], -np.inf, 1.0)


def _bounds(
    problem: Problem,
    trees: list[TreeComponent],
    columns: _Columns,
    split: bool,
    extra_margin_m: dict[str, float],
) -> Bounds:
    """Bounds of every column: options in [0, 1] (lengths >= 0 when split), heads in range,
    tanks in [0, 1], static heads and heads below a candidate free.

    A junction's head is at least its elevation plus its minimum pressure (or its tree's head
    floor, when higher), :data:`DESIGN_MARGIN_M` and its ``extra_margin_m`` [m]; at most its
    elevation plus the maximum pressure, when one is set; and then so is the static head
    below each candidate at every junction it feeds (``static_cap``: the night, every
    demand at zero).
    """
    targets = problem.targets
    n_x = columns.n_options
    lower = np.zeros(columns.n_columns)
    upper = np.full(columns.n_columns, np.inf if split else 1.0)
    floors = {n: h for t in trees for n, h in t.head_floor.items()}
    for j, n in enumerate(columns.nodes):
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
    free = [*columns.static.values(), *columns.outlet.values()]
    lower[free], upper[free] = -np.inf, np.inf
    upper[[*columns.tank.values(), *columns.valve.values(), *columns.booster.values()]] = 1.0
    for k, (low, high) in columns.limits.items():
        lower[k], upper[k] = low, high
    for k, cap in columns.static_cap.items():  # the maximum pressure with every demand at 0
        upper[k] = min(upper[k], cap)
    return Bounds(lower, upper)


def _read_design(
    problem: Problem, columns: _Columns, x: np.ndarray, split: bool
) -> tuple[dict[str, int], dict[str, list[tuple[int, float]]]]:
    """Each pipe's catalogue row and segments from the option columns of a solution.

    Split: the segments longer than 1e-6 m, the choice the longest one; otherwise the option
    set to 1, over the whole pipe.
    """
    index = {p: i for i, p in enumerate(problem.pipes)}
    choice, segments = {}, {}
    for p, span in columns.spans.items():
        if split:
            used = [(int(columns.option[c]), float(x[c])) for c in span if x[c] > 1e-6]
            segments[p] = used
            choice[p] = max(used, key=lambda s: s[1])[0]
        else:
            best = span.start + int(np.argmax(x[span.start : span.stop]))  # the first largest
            choice[p] = int(columns.option[best])
            segments[p] = [(choice[p], float(problem.lengths[index[p]]))]
    return choice, segments


def _no_design(
    targets: Targets, message: str, plan: TankPlan | None = None
) -> InfeasibleDesignError:
    """The error when HiGHS finds no solution (``message``: its status)."""
    tanks = ""
    if plan is not None:
        what = " and ".join(
            w for w, n in (("break-pressure tanks", plan.tank_nodes),
                           ("pressure-reducing valves", plan.valve_nodes),
                           ("booster pumps", plan.booster_nodes)) if n
        )  # fmt: skip
        named = (
            ("--break-tank-nodes", plan.tanks),
            ("--prv-nodes", plan.valves),
            ("--booster-nodes", plan.boosters),
        )
        options = [o for o, given in named if given is not None]
        other = (
            ", a higher --break-tank-residual" if plan.tanks is not None
            else ", break-pressure tanks (--break-tank-cost)"
        )  # fmt: skip
        tanks = (
            f"; {what} were allowed at {len(plan.candidates)} junction(s) and no placement "
            "of them with the catalogue's pressure classes meets the targets (more "
            f"candidates, {' or '.join(options)}{other}, or a higher class would)"
        )
    return InfeasibleDesignError(
        "no design meets the targets: "
        + tanks.lstrip("; ")
        + ("; " if tanks else "")
        + (
            f"the maximum pressure of {targets.max_pressure_m:g} m cannot be kept together "
            f"with the minimum of {targets.min_pressure_m:g} m (HiGHS: {message})"
            if targets.max_pressure_m is not None
            else f"HiGHS: {message}"
        )
    )


#: A solve that lasts longer than this says so, and again at each interval [s].
HEARTBEAT_S = 5.0


@contextlib.contextmanager
def _heartbeat(what: str, time_limit_s: float):
    """Report the elapsed time of a long HiGHS solve every :data:`HEARTBEAT_S` on the progress
    channel (scipy's HiGHS has no callback: its bound and gap come at the end of the solve).
    """
    started, done = time.perf_counter(), threading.Event()

    def beat() -> None:
        while not done.wait(HEARTBEAT_S):
            progress.info(
                "solving the %s: %.0f s of at most %.0f s (bound and gap at the end)",
                what, time.perf_counter() - started, time_limit_s,
            )  # fmt: skip

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()


def solve_tree(
    problem: Problem,
    trees: list[TreeComponent],
    split: bool = False,
    time_limit_s: float = 600.0,
    extra_margin_m: dict[str, float] | None = None,
    plan: TankPlan | None = None,
) -> TreeResult:
    """Least-cost design of the trees' decision pipes (exact 0-1 program, or split-pipe LP).

    Parameters
    ----------
    problem : Problem
        The sizing problem (:func:`hydro.sizing.problem.build_problem`).
    trees : list of TreeComponent
        Its trees, each fed at a known head (:func:`hydro.sizing.problem.tree_components`).
    split : bool
        Solve the split-pipe LP (a lower bound) instead of the 0-1 program.
    time_limit_s : float
        HiGHS's time limit [s].
    extra_margin_m : dict, optional
        Junction -> head kept above its target on top of :data:`DESIGN_MARGIN_M` [m] (the
        repair loop of :func:`hydro.sizing.size_network` sets it at junctions that the
        independent EPANET run found short).
    plan : TankPlan, optional
        Break-pressure tanks, pressure-reducing valves and booster pumps the program may
        place (:func:`hydro.sizing.break_tanks.plan_break_tanks`; the 0-1 program only): the
        least cost of pipes plus devices. A booster's efficiency, unless stated
        (:attr:`hydro.sizing.boosters.Boosters.efficiency`), is taken first at its duty flow
        and the largest head it may give; the boosters placed are then costed at their duty
        point (:func:`hydro.pumps.pump_efficiency_for_size`) and the program solved again,
        at most :data:`BOOSTER_EFFICIENCY_ROUNDS` times, until their efficiencies hold.

    Returns
    -------
    TreeResult
        The design, its cost, HiGHS's bound and gap, and the solve time.

    Raises
    ------
    InfeasibleDesignError
        When no catalogue design meets the targets; the message says which one.
    """
    deadline = time.monotonic() + time_limit_s
    extra = extra_margin_m or {}
    result = _solve_program(problem, trees, split, time_limit_s, extra, plan)
    for _ in range(BOOSTER_EFFICIENCY_ROUNDS):
        if plan is None or plan.boosters is None or plan.boosters.efficiency is not None:
            break
        at_duty = {j: pump_efficiency_for_size(q, h) for j, (q, h, _) in result.boosters.items()}
        used = {j: e for j, (_, _, e) in result.boosters.items()}
        if all(abs(at_duty[j] - used[j]) <= EFFICIENCY_TOL for j in used):
            break
        plan = replace(plan, booster_efficiency={**plan.booster_efficiency, **at_duty})
        left = max(deadline - time.monotonic(), 1.0)
        again = _solve_program(problem, trees, split, left, extra, plan)
        result = replace(again, seconds=result.seconds + again.seconds)
    return result


#: Solves of the tree program again with the placed boosters' efficiencies at their duty
#: points (:func:`solve_tree`), and how close an efficiency must hold [-].
BOOSTER_EFFICIENCY_ROUNDS = 3
EFFICIENCY_TOL = 1e-3


def _solve_program(
    problem: Problem,
    trees: list[TreeComponent],
    split: bool,
    time_limit_s: float,
    extra_margin_m: dict[str, float],
    plan: TankPlan | None,
) -> TreeResult:
    """One solve of the tree program (:func:`solve_tree`)."""
    plan, columns = _prepare(problem, trees, split, plan, extra_margin_m)
    n_x, n_var = columns.n_options, columns.n_columns
    integrality = np.zeros(n_var)
    if not split:
        integrality[:n_x] = 1
    integrality[[*columns.tank.values(), *columns.valve.values(), *columns.booster.values()]] = 1
    started = time.perf_counter()
    kind = "split-pipe LP" if split else "0-1 program"
    with _heartbeat(f"{kind} ({len(problem.pipes):,} decision pipes)", time_limit_s):
        result = milp(
            columns.objective(),
            constraints=_constraints(problem, trees, columns, split, plan),
            bounds=_bounds(problem, trees, columns, split, extra_margin_m or {}),
            integrality=integrality,
            options={"time_limit": time_limit_s, "mip_rel_gap": 1e-9, "presolve": True},
        )
    seconds = time.perf_counter() - started
    if result.x is None and result.status == 1:  # the time limit, before any design
        raise InfeasibleDesignError(
            f"the time limit of {time_limit_s:,.0f} s ran out before HiGHS found a design "
            f"({len(problem.pipes):,} decision pipes); give a longer --time-limit"
        )
    if result.x is None:
        raise _no_design(problem.targets, result.message, plan)
    choice, segments = _read_design(problem, columns, result.x[:n_x], split)
    tanks = [c for c, k in columns.tank.items() if result.x[k] > 0.5]
    valves = _valve_settings(columns, result.x, plan)
    boosters = _booster_duties(columns, result.x)
    gap = float(getattr(result, "mip_gap", 0.0) or 0.0)
    bound = float(getattr(result, "mip_dual_bound", result.fun) or result.fun)
    progress.info(
        "%s: %d pipes, %d variables, solved in %.1f s: cost %s, bound %s, gap %.2g%% (%s)",
        kind, len(columns.spans), n_var, seconds, f"{result.fun:,.2f}", f"{bound:,.2f}",
        100 * gap, result.message,
    )  # fmt: skip
    return TreeResult(
        method="split-pipe LP" if split else "exact 0-1 program (HiGHS)",
        cost=float(result.fun),
        bound=bound,
        gap=gap,
        seconds=seconds,
        choice=choice,
        segments=segments,
        break_tanks=tanks,
        pressure_valves=valves,
        boosters=boosters,
    )


def _prepare(problem: Problem, trees, split: bool, plan: TankPlan | None, extra_margin_m: dict):
    """The checks before the program and its columns: the junctions that no pipe and no
    booster candidate can reach refused (:func:`_check_reachable`), and those held too high
    without devices (:func:`_check_not_too_high`); with boosters, the static heads that may
    reach a candidate raised by the shut-off of the boosters above it. Returns the plan
    (so raised) and the columns.
    """
    lift = None
    if plan is not None and plan.booster_nodes:
        lift = _lift_terms(problem, trees, plan, extra_margin_m)
        raised = {c: (low, high + lift.static_lift[c])
                  for c, (low, high) in plan.static_range_m.items()}  # fmt: skip
        plan = replace(plan, static_range_m=raised)
    lifted: set = set()
    for tree in trees:  # the junctions below a booster candidate
        below = {tree.root: False}
        for _, up, down in tree.order:
            below[down] = below[up] or (lift is not None and _base(up) in lift.head_max)
        lifted |= {n for n, flag in below.items() if flag}
    _check_reachable(problem, trees, frozenset(lifted))
    if plan is None:
        _check_not_too_high(problem, trees)
    columns = _columns(problem, trees, split)
    if plan is not None:
        columns.add_tanks(trees, plan)
    if lift is not None:
        columns.add_boosters(lift)
    return plan, columns


def _booster_duties(columns: _Columns, x: np.ndarray) -> dict[str, tuple[float, float, float]]:
    """Junction given a booster -> (duty flow [m3/s], duty head [m], efficiency [-])."""
    lift = columns.lift_terms
    return {
        node: (lift.design_flow[node], float(x[k]), lift.efficiency[node])
        for node, k in columns.lift.items()
        if x[columns.booster[node]] > 0.5 and x[k] > 1e-6
    }


def _valve_settings(columns: _Columns, x: np.ndarray, plan: TankPlan | None) -> dict[str, float]:
    """Junction given a valve -> its setting [m of pressure]: the highest head below it over
    the cases, less its elevation (the least setting that gives every case its head).
    """
    out: dict[str, float] = {}
    for copy, k in columns.outlet.items():
        node = copy.split("@")[0]
        if node in columns.valve and x[columns.valve[node]] > 0.5:
            setting = float(x[k]) - plan.elevation[node]
            out[node] = max(out.get(node, 0.0), setting)
    return out
