"""Break-pressure tanks and pressure-reducing valves placed by the exact tree program, and
written as EPANET users model them.

A break-pressure tank at junction ``j`` is a small open tank: the junction's own demand is
drawn upstream of it, and below it both the static and the working hydraulic grade line start
again from its free surface, ``z_j + residual``. The tree program (:mod:`hydro.sizing.tree`)
decides where to put them; this module holds the option (:class:`BreakTanks`), what the
program needs to know about the trees (:func:`plan_break_tanks`: the candidates and, for
every pipe, the candidate whose free surface sets its static head), and the writing: a
pressure-reducing valve ``BPT_<node>`` whose setting is the residual head, from the junction
to a new junction ``<node>_BPT`` at the same elevation which carries the pipes downstream
(:func:`add_break_tanks`).

A pressure-reducing valve at junction ``j`` (:class:`PressureValves`) keeps the hydraulic
grade continuous up to its setting: below it the head is the lower of the head reaching it
and its setting, and the static head starts at the setting (not at the source's free
surface). The program chooses each valve's setting; it is written as a PRV ``PRV_<node>``
from the junction to a new junction ``<node>_PRV`` at the same elevation, set at that
pressure (:func:`add_pressure_valves`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import wntr

from hydro.errors import InfeasibleDesignError, InputError, some_of
from hydro.sizing.boosters import Boosters, average_demand, booster_outlets
from hydro.topology import device_ids
from hydro.units import M_PER_BAR

#: Name of the valve that models a break-pressure tank at a junction: ``BPT_<node>``.
VALVE_PREFIX = "BPT_"
#: Suffix of the junction below a break-pressure tank: ``<node>_BPT``.
OUTLET_SUFFIX = "_BPT"
#: Name of a pressure-reducing valve placed by the program: ``PRV_<node>``.
PRV_PREFIX = "PRV_"
#: Suffix of the junction below such a valve: ``<node>_PRV``.
PRV_OUTLET_SUFFIX = "_PRV"


@dataclass(frozen=True)
class BreakTanks:
    """Break-pressure tanks the tree program may place.

    Parameters
    ----------
    cost : float
        Cost of one tank [the catalogue's currency].
    nodes : tuple of str, optional
        Junctions where a tank may go; None: every junction with a pipe below it.
    residual_m : float
        Head kept above the junction's elevation by the tank [m] (its water depth).

    Examples
    --------
    >>> BreakTanks(12000.0, residual_m=2.0).residual_m
    2.0
    """

    cost: float
    nodes: tuple[str, ...] | None = None
    residual_m: float = 0.0

    def __post_init__(self):
        if not (math.isfinite(self.cost) and self.cost >= 0):
            raise InputError(
                f"--break-tank-cost: {self.cost:g} is not allowed; give a finite cost >= 0"
            )
        if not (math.isfinite(self.residual_m) and self.residual_m >= 0):
            raise InputError(
                f"--break-tank-residual: {self.residual_m:g} m is not allowed; give a finite "
                "head >= 0 m"
            )


@dataclass(frozen=True)
class PressureValves:
    """Pressure-reducing valves the tree program may place, each at a setting it chooses.

    Parameters
    ----------
    cost : float
        Cost of one valve, installed [the catalogue's currency].
    nodes : tuple of str, optional
        Junctions where a valve may go; None: every junction with a pipe below it.

    Examples
    --------
    >>> PressureValves(8000.0, ("J3",)).nodes
    ('J3',)
    """

    cost: float
    nodes: tuple[str, ...] | None = None

    def __post_init__(self):
        if not (math.isfinite(self.cost) and self.cost >= 0):
            raise InputError(f"--prv-cost: {self.cost:g} is not allowed; give a finite cost >= 0")


def outlet_name(node: str) -> str:
    """The junction below a break-pressure tank at ``node``.

    >>> outlet_name("J7")
    'J7_BPT'
    """
    return device_ids(node, VALVE_PREFIX, OUTLET_SUFFIX)[1]


def valve_name(node: str) -> str:
    """The valve that models a break-pressure tank at ``node``.

    >>> valve_name("J7")
    'BPT_J7'
    """
    return device_ids(node, VALVE_PREFIX, OUTLET_SUFFIX)[0]


def break_tank_valves(wn: wntr.network.WaterNetworkModel) -> list[str]:
    """The pressure-reducing valves of ``wn`` that model break-pressure tanks (``BPT_*``)."""
    return [
        name
        for name, link in wn.valves()
        if name.startswith(VALVE_PREFIX) and link.valve_type == "PRV"
    ]


def pressure_valves(wn: wntr.network.WaterNetworkModel) -> list[str]:
    """The pressure-reducing valves of ``wn`` placed as ``PRV_<node>`` to ``<node>_PRV``."""
    return [
        name
        for name, link in wn.valves()
        if name.startswith(PRV_PREFIX)
        and link.valve_type == "PRV"
        and link.end_node_name.endswith(PRV_OUTLET_SUFFIX)
    ]


def break_tank_outlets(wn: wntr.network.WaterNetworkModel) -> set[str]:
    """Junctions just below a break-pressure tank (a free surface), a placed
    pressure-reducing valve (``<node>_PRV``, a point of the pipe) or a placed booster
    (``<node>_PMP``): not consumers.
    """
    valves = [*break_tank_valves(wn), *pressure_valves(wn)]
    return {wn.get_link(v).end_node_name for v in valves} | booster_outlets(wn)


def pump_suctions(wn: wntr.network.WaterNetworkModel) -> set[str]:
    """Junctions with no demand at a pump's suction (its start node): no consumers.

    Their head is the source's above them less the suction main's loss: no pipe raises it,
    so a service minimum there cannot be met; ``hydro size`` and ``hydro check`` hold them
    to none (their pressure is the pump's matter, its suction head).
    """
    return {
        pump.start_node_name
        for _, pump in wn.pumps()
        if pump.start_node_name in wn.junction_name_list
        and not any(d.base_value for d in wn.get_node(pump.start_node_name).demand_timeseries_list)
    }


@dataclass(kw_only=True)
class TankPlan:
    """What the tree program needs to place break-pressure tanks and pressure-reducing valves.

    ``candidates``: junctions where a device may go (each with a pipe below it);
    ``tank_nodes`` and ``valve_nodes``: those where a tank, a valve may go; ``above``:
    candidate -> the nearest candidate upstream of it, or the static head at it without any
    device [m] when there is none; ``anchor``: decision pipe -> the candidate at or above its
    upstream end whose device would set its static head (None: the source's);
    ``low_end_m``: decision pipe -> elevation of its lower end [m] (the static pressure a
    pipe sees is the static head minus that); ``rating_m``: each catalogue entry's pressure
    class [m] (None: the catalogue has none); ``static_range_m``: candidate -> the lowest and
    highest static head that can reach it from above [m] (the free surface of a tank above,
    a valve's setting, at least the valve's elevation, or the static head with no device),
    which bound the program's big-M terms (boosters aside: the tree program adds their
    lift, :mod:`hydro.sizing.tree`). ``booster_nodes``: candidates where a booster may go;
    ``average_flow``: each of them -> the demand below it averaged over the patterns
    [m3/s] (the junction's own drawn above the device); ``booster_efficiency``: candidate
    -> the efficiency to take for a booster there [-] (the tree program's, at the duty
    point of a booster it placed). ``static_cap_m``: with a maximum pressure, candidate ->
    the highest static head below it that keeps every junction it would feed within the
    maximum with every demand at zero [m] (:func:`static_caps`).
    """

    tanks: BreakTanks | None
    candidates: list[str]
    elevation: dict[str, float]
    above: dict[str, str | float]
    anchor: dict[str, str | None]
    low_end_m: dict[str, float]
    rating_m: np.ndarray | None
    static_range_m: dict[str, tuple[float, float]]
    valves: PressureValves | None = None
    tank_nodes: set[str] = field(default_factory=set)
    valve_nodes: set[str] = field(default_factory=set)
    boosters: Boosters | None = None
    booster_nodes: set[str] = field(default_factory=set)
    average_flow: dict[str, float] = field(default_factory=dict)
    booster_efficiency: dict[str, float] = field(default_factory=dict)
    static_cap_m: dict[str, float] = field(default_factory=dict)

    @property
    def residual_m(self) -> float:
        """Head kept above a tank's junction [m] (0 without tanks)."""
        return self.tanks.residual_m if self.tanks is not None else 0.0


def worst_first(excess: dict[str, float]) -> str:
    """Junctions by how much they exceed a limit [m], the worst first, for a message.

    >>> worst_first({"J1": 0.5, "J2": 2.0})
    'J2 by 2.00 m, J1 by 0.50 m'
    """
    worst = sorted(excess.items(), key=lambda x: -x[1])
    return some_of([f"{n} by {d:.2f} m" for n, d in worst])


def _allowed_nodes(given, parent: dict, junctions: list, option: str, source: str) -> set[str]:
    """The junctions ``given`` (None: every junction), after checking they are in a tree."""
    if given is None:
        return set(junctions)
    unknown = [n for n in given if n not in parent]
    if unknown:
        raise InputError(
            f"{source}: {option} names node(s) that are not junctions of a branched part of "
            f"the network: {', '.join(unknown)}"
        )
    return set(given)


def plan_break_tanks(
    problem,
    trees: list,
    tanks: BreakTanks | None,
    source: str = "network",
    valves: PressureValves | None = None,
    boosters: Boosters | None = None,
) -> TankPlan:
    """The candidates and anchors of break-pressure tanks, pressure-reducing valves and
    booster pumps.

    ``trees`` are the peak-hour trees (:func:`hydro.sizing.problem.tree_components`).

    Raises
    ------
    InputError
        ``tanks.nodes``, ``valves.nodes`` or ``boosters.nodes`` names a node that is not a
        junction of a tree.
    """
    parent: dict[str, str] = {}
    below: set[str] = set()
    order = []
    for tree in trees:
        for pipe, up, down in tree.order:
            parent[down] = up
            below.add(up)
            order.append((pipe, up, down))
    snapshot = problem.snapshot
    junctions = [n for n in parent if snapshot.get_node(n).node_type == "Junction"]
    tank_nodes, valve_nodes = set(), set()
    if tanks is not None:
        tank_nodes = _allowed_nodes(tanks.nodes, parent, junctions, "--break-tank-nodes", source)
    if valves is not None:
        valve_nodes = _allowed_nodes(valves.nodes, parent, junctions, "--prv-nodes", source)
    pump_nodes = set()
    if boosters is not None:
        pump_nodes = _allowed_nodes(boosters.nodes, parent, junctions, "--booster-nodes", source)
    allowed = tank_nodes | valve_nodes | pump_nodes
    candidates = [n for n in junctions if n in allowed and n in below]
    elevation = {n: snapshot.get_node(n).elevation for n in parent}
    static = problem.static_pressure_m
    chosen = set(candidates)
    residual = tanks.residual_m if tanks is not None else 0.0
    anchor_of: dict[str, str | None] = {}
    above: dict[str, str | float] = {}
    for _, up, down in order:  # upstream nodes before downstream ones
        over = anchor_of.get(up)  # the root: None
        if down in chosen:
            above[down] = over if over is not None else float(static[down]) + elevation[down]
            anchor_of[down] = down
        else:
            anchor_of[down] = over
    static_range: dict[str, tuple[float, float]] = {}
    for _, up, down in order:
        if down in chosen:
            a, heads = anchor_of.get(up), [float(static[down]) + elevation[down]]
            while a is not None:  # every candidate above may be the nearest device
                if a in tank_nodes:
                    heads.append(elevation[a] + residual)
                if a in valve_nodes:
                    heads.append(elevation[a])  # a valve's setting: 0 m at the least
                a = anchor_of.get(parent.get(a))
            static_range[down] = (min(heads), max(heads))
    anchor, low_end = {}, {}
    for pipe, up, down in order:
        if pipe in problem.allowed:
            anchor[pipe] = anchor_of.get(up)
            low_end[pipe] = min(elevation[down], elevation.get(up, elevation[down]))
    rating = None
    if problem.catalog.has_pressure_classes:
        rating = problem.catalog.table["pressure_rating_m"].to_numpy()
    devices = {n: min(elevation[n] + (residual if n in tank_nodes else np.inf),
                      elevation[n] if n in valve_nodes else np.inf) for n in chosen}  # fmt: skip
    caps = static_caps(problem, order, anchor_of, devices, source)
    return TankPlan(
        tanks=tanks,
        candidates=candidates,
        elevation=elevation,
        above=above,
        anchor=anchor,
        low_end_m=low_end,
        rating_m=rating,
        static_range_m=static_range,
        valves=valves,
        tank_nodes=tank_nodes & chosen,
        valve_nodes=valve_nodes & chosen,
        boosters=boosters,
        booster_nodes=pump_nodes & chosen,
        average_flow=_average_flow_below(problem.wn, order, pump_nodes & chosen),
        static_cap_m=caps,
    )


def static_caps(problem, order: list, anchor_of: dict, devices: dict, source: str) -> dict:
    """With a maximum pressure, the highest static head below each candidate [m].

    With every demand at zero, a junction's head is the static head below the nearest
    candidate above it (``anchor_of`` of its upstream node: a tank's free surface, a valve's
    setting, a booster's shut-off above the static head reaching it) or, with none, the
    source's static head (:attr:`Problem.static_pressure_m`). So the junction keeps the
    maximum pressure at night as at the peak hour when that head is at most its elevation
    plus the maximum: each candidate's cap is the least of those over the junctions it
    feeds (its own outlet is no consumer, held to its pipes' class only). ``devices``:
    candidate -> the lowest static head a device there can give [m] (``inf``: none lowers
    it, a booster).

    Raises
    ------
    InfeasibleDesignError
        A junction's static head stays above the maximum with every device above it at its
        lowest (the message names the junctions, by how much, and what would fix it).
    """
    top = problem.targets.max_pressure_m
    if top is None:
        return {}
    static = problem.static_pressure_m
    snapshot = problem.snapshot
    caps = dict.fromkeys(devices, np.inf)  # a device's own outlet is no consumer
    lowest: dict = {}  # node -> the lowest static head a device at or above it gives
    over: dict[str, float] = {}
    for _, up, down in order:
        lowest[down] = min(lowest.get(up, np.inf), devices.get(down, np.inf))
        node = snapshot.get_node(down)
        if node.node_type != "Junction":
            continue
        limit = node.elevation + top
        a = anchor_of.get(up)
        if a is not None:
            caps[a] = min(caps[a], limit)
        least = min(float(static[down]) + node.elevation, lowest.get(up, np.inf))
        if least - limit > 1e-6:
            over[down] = least - limit
    if over:
        raise InfeasibleDesignError(
            f"{source}: with every demand at zero (at night) junction(s) {worst_first(over)} stay "
            f"above the maximum pressure of {top:g} m even with every allowed device above "
            "them at its lowest: no pipe and no candidate fixes it; allow a pressure-reducing "
            "valve or a break-pressure tank closer above them (--prv-nodes, "
            "--break-tank-nodes, or every junction: leave those out), or give a higher "
            "--max-pressure"
        )
    return caps


def _average_flow_below(wn, order: list, nodes: set[str]) -> dict[str, float]:
    """Each of ``nodes`` -> the demand of the junctions below it, averaged over the
    patterns [m3/s] (its own excluded: drawn above the device); ``order``: the trees' links
    from the roots outwards.
    """
    own = average_demand(wn)
    below = dict(own)
    for _, up, down in reversed(order):
        if isinstance(up, str):
            below[up] = below.get(up, 0.0) + below.get(down, 0.0)
    return {n: below[n] - own.get(n, 0.0) for n in nodes}


def source_classes(problem, plan: TankPlan, source: str = "network") -> dict[str, np.ndarray]:
    """Options of the pipes no candidate tank can relieve: those whose class holds the static
    pressure from the source (pipes below a candidate keep every option; the program picks).

    Raises
    ------
    InputError
        A pipe with no candidate above it sees more than every class holds; the message says
        by how much and what would fix it.
    """
    allowed = dict(problem.allowed)
    if plan.rating_m is None:
        return allowed
    for pipe, a in plan.anchor.items():
        if a is not None:
            continue
        seen = float(problem.max_pressure_seen_m[pipe])
        options = allowed[pipe]
        ok = options[~(plan.rating_m[options] < seen)]
        if ok.size == 0:
            top = float(np.nanmax(plan.rating_m[options]))
            raise InputError(
                f"{source}: pipe {pipe} sees a static pressure of {seen:.1f} m "
                f"({seen / M_PER_BAR:.1f} bar), {seen - top:.1f} m above the highest pressure "
                f"class of {problem.catalog.source} (PN{top / M_PER_BAR:.3g}), and no "
                "break-pressure tank or valve candidate lies upstream of it: no class of the "
                f"catalogue holds {seen:.1f} m; add a class of at least "
                f"PN{math.ceil(seen / M_PER_BAR)} to the catalogue, or allow a break-pressure "
                "tank or a pressure-reducing valve at a junction above it (--break-tank-nodes, "
                "--prv-nodes)"
            )
        allowed[pipe] = ok
    return allowed


def add_break_tanks(
    model: wntr.network.WaterNetworkModel, nodes: list[str], downstream: dict, residual_m: float
) -> None:
    """Write a break-pressure tank at each of ``nodes`` into ``model`` (changed in place).

    The pipes of ``downstream[node]`` (those leaving the junction away from the source) move
    to a new junction ``<node>_BPT`` at the same elevation; a pressure-reducing valve
    ``BPT_<node>`` set at ``residual_m`` [m] joins the junction to it.

    Raises
    ------
    InputError
        The names ``BPT_<node>`` or ``<node>_BPT`` are already in the network.
    """
    for node in nodes:
        _add_valve(model, node, downstream[node], (valve_name(node), outlet_name(node)),
                   residual_m, "a break-pressure tank")  # fmt: skip


def add_pressure_valves(
    model: wntr.network.WaterNetworkModel, settings_m: dict[str, float], downstream: dict
) -> None:
    """Write a pressure-reducing valve at each junction of ``settings_m`` into ``model``
    (changed in place): the pipes of ``downstream[node]`` move to a new junction
    ``<node>_PRV`` at the same elevation, and a PRV ``PRV_<node>`` set at
    ``settings_m[node]`` [m of pressure] joins the junction to it.

    Raises
    ------
    InputError
        The names ``PRV_<node>`` or ``<node>_PRV`` are already in the network.
    """
    for node, setting in settings_m.items():
        names = device_ids(node, PRV_PREFIX, PRV_OUTLET_SUFFIX)
        _add_valve(model, node, downstream[node], names, setting, "a pressure-reducing valve")


def _add_valve(model, node: str, pipes: list[str], names: tuple[str, str], setting: float,
               what: str) -> None:  # fmt: skip
    """A PRV ``names[0]`` set at ``setting`` [m] from ``node`` to a new junction ``names[1]``
    at its elevation, which carries ``pipes`` (those below the node).
    """
    valve, outlet = names
    if outlet in model.node_name_list or valve in model.link_name_list:
        raise InputError(
            f"cannot write {what} at {node}: the network already has a node {outlet} or a "
            f"link {valve}"
        )
    junction = model.get_node(node)
    x, y = junction.coordinates or (0.0, 0.0)
    model.add_junction(outlet, base_demand=0.0, elevation=junction.elevation, coordinates=(x, y))
    diameter = 0.0
    for name in pipes:
        pipe = model.get_link(name)
        diameter = max(diameter, pipe.diameter)
        if pipe.start_node_name == node:
            pipe.start_node = model.get_node(outlet)
        else:
            pipe.end_node = model.get_node(outlet)
    model.add_valve(
        valve, node, outlet, diameter=diameter, valve_type="PRV",
        minor_loss=0.0, initial_setting=setting,
    )  # fmt: skip
