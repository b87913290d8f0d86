"""Break-pressure tanks placed by the exact tree program, and written as EPANET users model them.

A break-pressure tank at junction ``j`` is a small open tank: the junction's own demand is
drawn upstream of it, and below it both the static and the working hydraulic grade line start
again from its free surface, ``z_j + residual``. The tree program (:mod:`hydro.sizing.tree`)
decides where to put them; this module holds the option (:class:`BreakTanks`), what the
program needs to know about the trees (:func:`plan_break_tanks`: the candidates and, for
every pipe, the candidate whose free surface sets its static head), and the writing: a
pressure-reducing valve ``BPT_<node>`` whose setting is the residual head, from the junction
to a new junction ``<node>_BPT`` at the same elevation which carries the pipes downstream
(:func:`add_break_tanks`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import wntr

from hydro.errors import InputError
from hydro.units import M_PER_BAR

#: Name of the valve that models a break-pressure tank at a junction: ``BPT_<node>``.
VALVE_PREFIX = "BPT_"
#: Suffix of the junction below a break-pressure tank: ``<node>_BPT``.
OUTLET_SUFFIX = "_BPT"


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


def outlet_name(node: str) -> str:
    """The junction below a break-pressure tank at ``node``.

    >>> outlet_name("J7")
    'J7_BPT'
    """
    return f"{node}{OUTLET_SUFFIX}"


def valve_name(node: str) -> str:
    """The valve that models a break-pressure tank at ``node``.

    >>> valve_name("J7")
    'BPT_J7'
    """
    return f"{VALVE_PREFIX}{node}"


def break_tank_valves(wn: wntr.network.WaterNetworkModel) -> list[str]:
    """The pressure-reducing valves of ``wn`` that model break-pressure tanks (``BPT_*``)."""
    return [
        name
        for name, link in wn.valves()
        if name.startswith(VALVE_PREFIX) and link.valve_type == "PRV"
    ]


def break_tank_outlets(wn: wntr.network.WaterNetworkModel) -> set[str]:
    """Junctions just below a break-pressure tank: a free surface, not a consumer."""
    return {wn.get_link(v).end_node_name for v in break_tank_valves(wn)}


@dataclass(kw_only=True)
class TankPlan:
    """What the tree program needs to place break-pressure tanks.

    ``candidates``: junctions where a tank may go (each with a pipe below it); ``above``:
    candidate -> the nearest candidate upstream of it, or the static head at it without any
    tank [m] when there is none; ``anchor``: decision pipe -> the candidate at or above its
    upstream end whose tank would set its static head (None: the source's);
    ``low_end_m``: decision pipe -> elevation of its lower end [m] (the static pressure a
    pipe sees is the static head minus that); ``rating_m``: each catalogue entry's pressure
    class [m] (None: the catalogue has none); ``static_range_m``: candidate -> the lowest and
    highest static head that can reach it from above [m] (the free surface of a candidate
    above, or the static head with no tank), which bound the program's big-M terms.
    """

    tanks: BreakTanks
    candidates: list[str]
    elevation: dict[str, float]
    above: dict[str, str | float]
    anchor: dict[str, str | None]
    low_end_m: dict[str, float]
    rating_m: np.ndarray | None
    static_range_m: dict[str, tuple[float, float]]


def plan_break_tanks(problem, trees: list, tanks: BreakTanks, source: str = "network") -> TankPlan:
    """The candidates and anchors of break-pressure tanks in the trees of ``problem``.

    ``trees`` are the peak-hour trees (:func:`hydro.sizing.problem.tree_components`).

    Raises
    ------
    InputError
        ``tanks.nodes`` names a node that is not a junction of a tree.
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
    if tanks.nodes is not None:
        unknown = [n for n in tanks.nodes if n not in parent]
        if unknown:
            raise InputError(
                f"{source}: --break-tank-nodes names node(s) that are not junctions of a "
                f"branched part of the network: {', '.join(unknown)}"
            )
    allowed = set(tanks.nodes) if tanks.nodes is not None else set(junctions)
    candidates = [n for n in junctions if n in allowed and n in below]
    elevation = {n: snapshot.get_node(n).elevation for n in parent}
    static = problem.static_pressure_m
    chosen = set(candidates)
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
            while a is not None:  # every candidate above may be the nearest tank
                heads.append(elevation[a] + tanks.residual_m)
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
    return TankPlan(
        tanks=tanks,
        candidates=candidates,
        elevation=elevation,
        above=above,
        anchor=anchor,
        low_end_m=low_end,
        rating_m=rating,
        static_range_m=static_range,
    )


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
                "break-pressure tank candidate lies upstream of it: add a class of at least "
                f"PN{math.ceil(seen / M_PER_BAR)} to the catalogue, or allow a break-pressure "
                "tank at a junction above it (--break-tank-nodes)"
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
        outlet, valve = outlet_name(node), valve_name(node)
        if outlet in model.node_name_list or valve in model.link_name_list:
            raise InputError(
                f"cannot write a break-pressure tank at {node}: the network already has a "
                f"node {outlet} or a link {valve}"
            )
        junction = model.get_node(node)
        x, y = junction.coordinates or (0.0, 0.0)
        model.add_junction(
            outlet, base_demand=0.0, elevation=junction.elevation, coordinates=(x, y)
        )
        diameter = 0.0
        for name in downstream[node]:
            pipe = model.get_link(name)
            diameter = max(diameter, pipe.diameter)
            if pipe.start_node_name == node:
                pipe.start_node = model.get_node(outlet)
            else:
                pipe.end_node = model.get_node(outlet)
        model.add_valve(
            valve, node, outlet, diameter=diameter, valve_type="PRV",
            minor_loss=0.0, initial_setting=residual_m,
        )  # fmt: skip
