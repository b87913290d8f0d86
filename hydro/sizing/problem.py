"""The design problem: the decision pipes and their candidate options at the design condition.

Shared by the exact tree solver and the looped-network optimiser, so both size against the
same targets, the same pressure-class rule and the same head-loss formula as EPANET.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import networkx as nx
import numpy as np
import pandas as pd
import wntr

from hydro import defaults, validate
from hydro.catalog import Catalog
from hydro.condition import check_pressure_targets, default_taps, design_cases
from hydro.errors import InputError
from hydro.pumps import shutoff_head
from hydro.simulation import static_pressure
from hydro.topology import is_source_copy
from hydro.units import M_PER_BAR

log = logging.getLogger(__name__)

#: Head margin kept above the pressure target by the optimisers, so that EPANET's own
#: convergence tolerance never turns an exactly-tight design into a violation [m].
DESIGN_MARGIN_M = 1e-3


@dataclass(frozen=True)
class Targets:
    """What a design must satisfy at the design condition.

    Parameters
    ----------
    min_pressure_m : float
        Lowest pressure at every junction [m], except those in ``node_min_pressure_m``.
    max_pressure_m : float, optional
        Highest pressure at every junction [m].
    max_velocity_m_per_s : float, optional
        Highest velocity in every sized pipe [m/s].
    node_min_pressure_m : mapping, optional
        Junction -> its own minimum [m] (for example 10 m at standpipe nodes and 15 m at
        household-connection nodes, docs/sources.md, 5.1); ``-inf``: none (a pump's suction).
    tap_min_pressure_m : float, optional
        At a tap node while its taps draw [m] (5 m, docs/sources.md, 5.1); None: no tap-flow case.
    tank_reserve_share : float
        Tanks at their reserve level (share of the usable depth) in the design condition
        (:mod:`hydro.condition`).

    Examples
    --------
    >>> Targets(10.0, node_min_pressure_m={"HH1": 15.0}).min_at("HH1")
    15.0
    """

    min_pressure_m: float
    max_pressure_m: float | None = None
    max_velocity_m_per_s: float | None = None
    node_min_pressure_m: Mapping[str, float] | None = None
    tap_min_pressure_m: float | None = defaults.TAP_MIN_PRESSURE_M
    tank_reserve_share: float = defaults.TANK_RESERVE_SHARE

    def __post_init__(self):
        validate.number(self.min_pressure_m, "Targets: min_pressure_m", validate.PRESSURE_M)
        validate.optional_number(
            self.max_pressure_m, "Targets: max_pressure_m", validate.MAX_PRESSURE_M
        )
        validate.optional_number(
            self.max_velocity_m_per_s, "Targets: max_velocity_m_per_s", validate.VELOCITY_M_PER_S
        )
        for node, value in validate.mapping(
            self.node_min_pressure_m, "Targets: node_min_pressure_m"
        ).items():
            if value != -np.inf:  # -inf: none (a pump's suction, no consumer)
                validate.number(
                    value, f"Targets: node_min_pressure_m[{node!r}]", validate.PRESSURE_M
                )
        validate.optional_number(
            self.tap_min_pressure_m, "Targets: tap_min_pressure_m", validate.PRESSURE_M
        )
        validate.number(
            self.tank_reserve_share, "Targets: tank_reserve_share", validate.TANK_RESERVE_SHARE
        )
        minima = [self.min_pressure_m, *(self.node_min_pressure_m or {}).values()]
        minima = [m for m in minima if m != -np.inf]
        check_pressure_targets(minima, self.max_pressure_m)

    def min_at(self, node: str) -> float:
        """The minimum pressure at ``node`` [m]."""
        if self.node_min_pressure_m and node in self.node_min_pressure_m:
            return float(self.node_min_pressure_m[node])
        return self.min_pressure_m


@dataclass
class Problem:
    """A sizing problem: which pipes to size, and which catalogue entries each may take.

    Attributes
    ----------
    snapshot : WaterNetworkModel
        The design condition (steady state).
    pipes : list of str
        Decision pipes (all pipes but the fixed ones).
    allowed : dict
        pipe -> array of catalogue row indices the pipe may take (pressure class, velocity
        when known); sorted by cost.
    max_pressure_seen_m : Series
        Per decision pipe: the highest static pressure at its two ends [m].
    """

    wn: wntr.network.WaterNetworkModel
    catalog: Catalog
    targets: Targets
    fixed: list[str]
    snapshot: wntr.network.WaterNetworkModel
    design_time_s: float
    pipes: list[str]
    lengths: np.ndarray
    roughness: np.ndarray  # per pipe x option (catalogue's or the pipe's own; WNTR's units: C, m)
    allowed: dict[str, np.ndarray]
    max_pressure_seen_m: pd.Series
    static_pressure_m: pd.Series
    notes: list[str] = field(default_factory=list)
    #: the design condition's cases (hydro.condition.DesignCase), peak hour first
    cases: list = field(default_factory=list)
    #: the tap table the tap-flow case was built from (hydro.demand.tap_design)
    taps: pd.DataFrame | None = None

    @property
    def headloss_formula(self) -> str:
        """The network's head-loss formula (``H-W``, ``D-W`` or ``C-M``)."""
        return self.wn.options.hydraulic.headloss

    def without(self, pipes: list[str]) -> Problem:
        """The same problem with ``pipes`` kept as they are (no new hydraulic runs)."""
        keep = [i for i, p in enumerate(self.pipes) if p not in set(pipes)]
        names = [self.pipes[i] for i in keep]
        return replace(
            self,
            fixed=self.fixed + [p for p in pipes if p in self.pipes],
            pipes=names,
            lengths=self.lengths[keep],
            roughness=self.roughness[keep],
            allowed={p: self.allowed[p] for p in names},
            max_pressure_seen_m=self.max_pressure_seen_m[names],
        )

    def cost_of(self, choice: np.ndarray) -> float:
        """Pipe cost of a design, ``choice[i]`` = catalogue row of pipe i [currency]."""
        return float(np.dot(self.lengths, self.catalog.costs[choice]))


def _decision_pipes(wn, fixed: list[str], source: str) -> list[str]:
    """The pipes to size (all but ``fixed``), after checking that sizing applies to ``wn``."""
    unknown = [p for p in fixed if p not in wn.pipe_name_list]
    if unknown:
        raise InputError(
            f"{source}: --fixed names pipe(s) not in the network: {', '.join(unknown)}"
        )
    if wn.options.hydraulic.headloss not in ("H-W", "D-W"):
        raise InputError(
            f"{source}: head-loss formula {wn.options.hydraulic.headloss} is not supported for "
            "sizing; allowed: H-W (Hazen-Williams) or D-W (Darcy-Weisbach)"
        )
    pipes = [p for p in wn.pipe_name_list if p not in fixed]
    if not pipes:
        raise InputError(f"{source}: every pipe is fixed: nothing to size")
    return pipes


def _pipe_options(
    catalog: Catalog,
    name: str,
    seen_m: float,
    smallest_mm: float | None,
    source: str,
    pressure_classes: bool = True,
) -> np.ndarray:
    """Catalogue rows pipe ``name`` may take: rated for the static pressure it sees
    (``seen_m`` [m]; an entry without a class is not checked; every class when
    ``pressure_classes`` is False, which the caller passes for a catalogue without classes)
    and at least ``smallest_mm`` nominal diameter [mm]; an error naming the pipe when none
    is left.
    """
    table = catalog.table
    ok = np.ones(len(table), dtype=bool)
    if pressure_classes:
        ok &= ~(table["pressure_rating_m"].to_numpy() < seen_m)  # NaN class: no check
        if not ok.any():
            top = float(np.nanmax(table["pressure_rating_m"]))
            raise InputError(
                f"{source}: pipe {name} sees a static pressure of {seen_m:.1f} m "
                f"({seen_m / M_PER_BAR:.1f} bar), {seen_m - top:.1f} m above the highest "
                f"pressure class of {catalog.source} "
                f"(PN{np.nanmax(table['pressure_class_bar']):g}, {top:.1f} m): no class of the "
                f"catalogue holds {seen_m:.1f} m; add a class of at least "
                f"PN{np.ceil(seen_m / M_PER_BAR):g} to the catalogue, or allow break-pressure "
                "tanks (--break-tank-cost) or pressure-reducing valves (--prv-cost) above it"
            )
    if smallest_mm is not None:
        nominal = table["nominal_diameter_mm"].fillna(table["inner_diameter_mm"])
        ok &= nominal.to_numpy() >= smallest_mm - 1e-9
        if not ok.any():
            raise InputError(
                f"{source}: pipe {name}: no catalogue entry of {catalog.source} is at least "
                f"DN{smallest_mm:g} within the allowed pressure classes"
            )
    return np.flatnonzero(ok)


def build_problem(
    wn,
    catalog: Catalog,
    targets: Targets,
    fixed=(),
    source="network",
    min_diameter_mm: dict | None = None,
    taps: pd.DataFrame | None = None,
    snapshot: wntr.network.WaterNetworkModel | None = None,
    pressure_classes: bool = True,
) -> Problem:
    """Check the inputs and prepare the sizing problem (no optimisation yet).

    ``min_diameter_mm``: pipe -> smallest nominal diameter it may take [mm] (for example the
    DN63 minimum of distribution pipes, docs/sources.md, 5.1); the inner diameter where the
    catalogue gives no nominal one. ``taps``: the tap table of the tap-flow case (default:
    from the node classes, :func:`hydro.condition.default_taps`). ``snapshot``: size
    for this steady state instead of the design condition's peak hour. ``pressure_classes``
    False: every class stays allowed (the tree program with break-pressure tanks picks the
    class from the static head below the tanks it places).
    """
    fixed = list(fixed)
    pipes = _decision_pipes(wn, fixed, source)
    if targets.tap_min_pressure_m is not None and taps is None:
        taps = default_taps(wn)
    cases = design_cases(
        wn,
        targets.min_at,
        taps if targets.tap_min_pressure_m is not None else None,
        targets.tap_min_pressure_m or 0.0,
        targets.tank_reserve_share,
    )
    static = static_pressure(wn)
    node_pressure = static.to_dict()
    for node, shut in shutoff_pressure(wn, static).items():  # a pump against closed valves
        node_pressure[node] = max(node_pressure.get(node, 0.0), shut)
    # The catalogue gives Darcy-Weisbach roughness in mm; WNTR, and so the problem, in m.
    catalog_roughness = catalog.roughness_in(wn.options.hydraulic.headloss)
    roughness = np.empty((len(pipes), len(catalog)))
    seen, allowed = {}, {}
    classes = pressure_classes and catalog.has_pressure_classes  # once, not once per pipe
    for i, name in enumerate(pipes):
        pipe = wn.get_link(name)
        roughness[i] = catalog_roughness.fillna(pipe.roughness).to_numpy()
        ends = [node_pressure.get(n, 0.0) for n in (pipe.start_node_name, pipe.end_node_name)]
        seen[name] = max(max(ends), 0.0)
        smallest = (min_diameter_mm or {}).get(name)
        allowed[name] = _pipe_options(catalog, name, seen[name], smallest, source, classes)
    return Problem(
        wn,
        catalog,
        targets,
        fixed,
        cases[0].snapshot if snapshot is None else snapshot,
        cases[0].time_s,
        pipes,
        np.array([wn.get_link(p).length for p in pipes]),
        roughness,
        allowed,
        pd.Series(seen),
        static,
        cases=cases,
        taps=taps,
    )


def shutoff_pressure(wn: wntr.network.WaterNetworkModel, static: pd.Series) -> dict[str, float]:
    """Node -> the pressure a pump of ``wn`` can put on it at shut-off [m].

    When the taps close and the tank it fills stops taking water (EPANET closes a full
    tank's inlet), a head pump passes no flow and gives its shut-off head
    (:func:`hydro.pumps.shutoff_head`, times its speed squared) above its suction's static
    head (``static`` [m] plus the elevation). Every node its discharge reaches by pipes and
    valves other than pressure-reducing or -sustaining ones, without passing a tank, a
    reservoir or another pump, can see that head less its elevation; a pipe there must hold
    it, as below a booster the tree program places. Power pumps (no curve) are skipped.
    """
    out: dict[str, float] = {}
    links: dict[str, list[str]] = {}
    for _, link in wn.links():
        if link.link_type == "Pump" or getattr(link, "valve_type", "") in ("PRV", "PSV"):
            continue
        links.setdefault(link.start_node_name, []).append(link.end_node_name)
        links.setdefault(link.end_node_name, []).append(link.start_node_name)
    for _, pump in wn.pumps():
        if pump.pump_type != "HEAD" or pump.get_pump_curve() is None:
            continue
        suction = wn.get_node(pump.start_node_name)
        above = float(static.get(suction.name, 0.0)) + _elevation(suction)
        head = above + shutoff_head(pump.get_pump_curve().points) * (pump.base_speed or 1.0) ** 2
        seen, stack = {pump.end_node_name}, [pump.end_node_name]
        while stack:
            node = wn.get_node(stack.pop())
            if node.node_type != "Junction":
                continue
            out[node.name] = max(out.get(node.name, 0.0), head - node.elevation)
            for n in links.get(node.name, []):
                if n not in seen:
                    seen.add(n)
                    stack.append(n)
    return out


def _elevation(node) -> float:
    """A node's elevation [m] (a reservoir's: its head, less the static pressure of 0 m)."""
    return float(node.base_head if node.node_type == "Reservoir" else node.elevation)


# --------------------------------------------------------------------------- tree structure
@dataclass(kw_only=True)
class TreeComponent:
    """One part of a branched network: a tree fed by one fixed-head node.

    ``order`` lists (link, upstream node, downstream node) from the root outwards; flows are
    the demands downstream, so every pipe's flow is known before sizing. The root is a
    reservoir, a tank, or a pressure-reducing valve (its downstream head is fixed by its
    setting, the link itself then heads ``order`` with no loss). ``head_floor``: the head some
    nodes must keep [m], at the inlet of a pressure-reducing valve feeding another tree.
    """

    root: str
    root_head_m: float
    order: list[tuple[str, str, str]]
    flow: dict[str, float]  # pipe -> flow from upstream to downstream [m3/s]
    nodes: list[str]
    head_floor: dict[str, float] = field(default_factory=dict)


#: Head kept above a pressure-reducing valve's setting at its inlet, so that it regulates [m].
PRV_INLET_MARGIN_M = 1.0


def _source_graph(wn, sources: set[str], prvs: dict) -> nx.MultiGraph:
    """The network as a graph cut at its fixed heads: each source appears once per link it
    feeds (the pair ``(source, link)``), each open PRV as the root ``(outlet, valve)`` of the
    tree below it (pairs, never strings: no node ID can take their place).
    """
    graph = nx.MultiGraph()
    for name, link in wn.links():
        a, b = link.start_node_name, link.end_node_name
        if name in prvs:  # a root of the tree below it
            graph.add_edge((b, name), b, key=name)
            graph.add_node(a)
            continue
        graph.add_edge((a, name) if a in sources else a, (b, name) if b in sources else b, key=name)
    return graph


def _prv_inlet_demand(components: list, prvs: dict, demand: dict) -> dict[str, float] | None:
    """Demand drawn at each PRV's inlet node [m3/s]: the demand of the tree below the valve,
    plus what that tree's own PRVs pass on; None when a PRV feeds its own inlet (a PRV in
    parallel with a pipe). Summed from the bottom up, without recursion (a chain of PRVs as
    long as the user's file never overflows the stack).
    """
    owner = {n: k for k, (component, _, _) in enumerate(components) for n in component}
    below_of = {prv: components[owner[(v.end_node_name, prv)]][0] for prv, v in prvs.items()}
    below = nx.DiGraph()  # PRV -> the PRVs fed from the tree below it
    below.add_nodes_from(prvs)
    for prv, component in below_of.items():
        below.add_edges_from(
            (prv, v) for v, link in prvs.items() if link.start_node_name in component
        )
    if not nx.is_directed_acyclic_graph(below):
        return None
    passed: dict[str, float] = {}
    for prv in reversed(list(nx.topological_sort(below))):
        passed[prv] = sum(demand.get(n, 0.0) for n in below_of[prv])
        passed[prv] += sum(passed[v] for v in below.successors(prv))
    inlet: dict[str, float] = {}
    for name, link in prvs.items():
        inlet[link.start_node_name] = inlet.get(link.start_node_name, 0.0) + passed[name]
    return inlet


def _tree(wn, sub, root: tuple, load: dict, prvs: dict, component) -> TreeComponent:
    """The tree of one component fed at ``root`` (``(source, link)``): its links from the root
    outwards, each pipe's flow (the load downstream) and the head floors of its PRV inlets.
    """
    source, via = root
    node = wn.get_node(source)
    if via in prvs:
        head = node.elevation + prvs[via].initial_setting
    elif node.node_type == "Reservoir":
        head = node.base_head
    else:
        head = node.elevation + node.init_level
    below = {}
    tree = nx.bfs_tree(sub, root)
    for n in reversed(list(nx.topological_sort(tree))):
        below[n] = load.get(n, 0.0) + sum(below[c] for c in tree.successors(n))
    label = root if via in prvs else source  # a PRV's outlet is also a junction
    order, flow = [], {}
    for up, down in nx.bfs_edges(sub, root):
        key = next(iter(sub.get_edge_data(up, down)))
        order.append((key, label if up == root else up, down))
        flow[key] = below[down]
    floor = {
        link.start_node_name: wn.get_node(link.end_node_name).elevation
        + link.initial_setting
        + PRV_INLET_MARGIN_M
        for link in prvs.values()
        if link.start_node_name in component
    }
    return TreeComponent(
        root=label,
        root_head_m=head,
        order=order,
        flow=flow,
        nodes=[d for _, _, d in order],
        head_floor=floor,
    )


def tree_components(problem: Problem) -> tuple[list[TreeComponent], list[str]] | None:
    """Split the design snapshot into trees fed by one source each.

    Returns (trees, transmission pipes), or None when the network has a loop (or a component
    that the tree method cannot size). A head pump inside a tree, along the flow, adds its
    head at the flow below it (:func:`hydro.sizing.tree.fixed_pipe_headloss`). Transmission
    pipes join two fixed-head nodes (a rising main from a tap-off to a tank): their flow is
    set by pumps and levels, not by demands, so they are kept as they are and reported. A
    pressure-reducing valve (PRV) splits a tree in two: below it, a tree fed at the valve's
    setting; above it, its inlet draws the whole demand below and must keep the setting plus
    a margin (:data:`PRV_INLET_MARGIN_M`).
    """
    wn = problem.snapshot
    sources = set(wn.reservoir_name_list) | set(wn.tank_name_list)
    prvs = {
        name: link
        for name, link in wn.valves()
        if link.valve_type == "PRV" and link.initial_status != wntr.network.LinkStatus.Closed
    }
    graph = _source_graph(wn, sources, prvs)
    demand = {n: j.demand_timeseries_list.at(0) for n, j in wn.junctions()}
    components = []
    for component in nx.connected_components(graph):
        sub = graph.subgraph(component)
        if sub.number_of_edges() != sub.number_of_nodes() - 1:
            return None
        components.append((component, sub, [n for n in component if is_source_copy(n)]))
    inlet_demand = _prv_inlet_demand(components, prvs, demand)
    if inlet_demand is None:
        return None  # a PRV feeds its own inlet (in parallel with a pipe): not a tree
    trees, transmission = [], []
    for component, sub, roots in components:
        links = [k for _, _, k in sub.edges(keys=True)]
        load = {n: demand.get(n, 0.0) + inlet_demand.get(n, 0.0) for n in component}
        if len(roots) == 2 and sum(load.values()) == 0 and not set(links) & set(prvs):
            transmission.extend(links)
            continue
        if len(roots) != 1:
            return None
        if any(wn.get_link(k).link_type not in ("Pipe", "Pump") and k not in prvs for k in links):
            return None  # other valves inside a tree: use the general optimiser
        tree = _tree(wn, sub, roots[0], load, prvs, component)
        if not all(_pump_along(wn.get_link(k), up) for k, up, _ in tree.order):
            return None  # a pump against the flow, or with a curve of its own shape
        trees.append(tree)
    return trees, transmission


def _pump_along(link, up) -> bool:
    """True unless ``link`` is a pump the tree method cannot take: one against the flow from
    ``up`` (its upstream node, or the root's label), a power pump, or a curve that is not one
    of EPANET's fitted shapes (one point, or three from shut-off).
    """
    if link.link_type != "Pump":
        return True
    start = up[0] if is_source_copy(up) else up
    if link.start_node_name != start or link.pump_type != "HEAD":
        return False
    points = link.get_pump_curve().points
    return len(points) == 1 or (len(points) == 3 and sorted(points)[0][0] == 0)
