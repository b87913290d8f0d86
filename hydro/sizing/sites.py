"""Break-pressure tanks and pressure-reducing valves at given sites of a looped network.

The exact tree program (:mod:`hydro.sizing.tree`) places these devices in branched networks.
In a looped network it does not apply; there the user names the candidate sites
(``--break-tank-nodes``, ``--prv-nodes``) and this module tries them, a **heuristic**:

1. the network sized as it is (no device), when the catalogue's classes and the targets
   allow it;
2. each candidate alone: a break-pressure tank at its residual head, or a valve at the
   highest setting that the classes of the pipes below it and the maximum pressure allow,
   then, while the design is verified, at lower settings where a pipe below it may take a
   lower class (:func:`valve_settings`);
3. when no single device gives a verified design, every pair of candidates (up to
   :data:`MAX_PAIR_SITES` sites).

Each trial is the whole looped design of the network with its devices written in (the
looped optimiser, then the independent EPANET verification of the written file); the least
cost of pipes plus devices among the verified designs wins. It is not a proven optimum: the
settings are a few tried, not optimised, and larger sets of devices are not tried. Each
trial has the optimiser's whole time limit and evaluation budget: on a large network the
time grows with the sites named.

A device at junction ``j`` carries the pipes of ``j`` that lead away from the sources (to a
neighbour farther from the nearest source along the pipes, :func:`downstream_pipes`); the
junctions it relieves are those that every path from a source reaches through it
(:func:`relieved_nodes`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

import networkx as nx
import numpy as np
import wntr

from hydro.errors import HydroError, InputError
from hydro.network import copy_network
from hydro.sizing.break_tanks import (
    PRV_OUTLET_SUFFIX,
    PRV_PREFIX,
    BreakTanks,
    PressureValves,
    add_break_tanks,
    add_pressure_valves,
)
from hydro.sizing.problem import build_problem
from hydro.topology import device_ids

log = logging.getLogger(__name__)

#: Head kept below the highest setting that the classes or the maximum pressure allow, so
#: that EPANET's tolerance never puts a pipe just over its class [m].
SETTING_MARGIN_M = 0.1
#: Settings tried for one valve at most (each a whole looped design).
MAX_SETTINGS = 5
#: Pairs of devices are tried only among at most this many candidate sites (the pairs grow
#: as the square of the sites, each a whole looped design).
MAX_PAIR_SITES = 6


@dataclass(frozen=True)
class Site:
    """A device at a site: ``kind`` ``tank`` or ``valve``, the junction, and a valve's
    setting [m of pressure] (None for a tank).
    """

    kind: str
    node: str
    setting_m: float | None = None


def _graph(wn: wntr.network.WaterNetworkModel) -> nx.Graph:
    graph = nx.Graph()
    for name, link in wn.links():
        length = getattr(link, "length", 0.0) or 0.0
        graph.add_edge(link.start_node_name, link.end_node_name, name=name, length=length)
    return graph


def downstream_pipes(wn: wntr.network.WaterNetworkModel, node: str, source: str = "network"):
    """The pipes of junction ``node`` that lead away from the sources: to a neighbour
    farther from the nearest reservoir or tank along the pipes (by length).

    Raises
    ------
    InputError
        ``node`` is not a junction, or no pipe of it leads away from the sources.
    """
    if node not in wn.junction_name_list:
        raise InputError(f"{source}: candidate site {node} is not a junction of the network")
    graph = _graph(wn)
    sources = [*wn.reservoir_name_list, *wn.tank_name_list]
    distance = nx.multi_source_dijkstra_path_length(graph, sources, weight="length")
    here = distance.get(node, np.inf)
    out = [
        data["name"]
        for other, data in graph[node].items()
        if distance.get(other, np.inf) > here and data["name"] in wn.pipe_name_list
    ]
    if not out:
        raise InputError(
            f"{source}: candidate site {node}: no pipe of it leads away from the sources, so a "
            "device there would relieve nothing; name a junction with pipes below it"
        )
    return out


def with_devices(
    wn: wntr.network.WaterNetworkModel, sites: tuple[Site, ...], residual_m: float, source: str
) -> wntr.network.WaterNetworkModel:
    """A copy of ``wn`` with each device of ``sites`` written in (``BPT_<node>`` at
    ``residual_m`` [m], ``PRV_<node>`` at its setting), each carrying its downstream pipes.
    """
    model = copy_network(wn)
    downstream = {s.node: downstream_pipes(wn, s.node, source) for s in sites}
    tanks = [s.node for s in sites if s.kind == "tank"]
    add_break_tanks(model, tanks, downstream, residual_m)
    valves = {s.node: float(s.setting_m) for s in sites if s.kind == "valve"}
    add_pressure_valves(model, valves, downstream)
    return model


def relieved_nodes(model: wntr.network.WaterNetworkModel, valve: str) -> set[str]:
    """Junctions that every path from a source reaches through link ``valve`` of ``model``."""
    graph = _graph(model)
    link = model.get_link(valve)
    graph.remove_edge(link.start_node_name, link.end_node_name)
    sources = {*model.reservoir_name_list, *model.tank_name_list}
    fed = set().union(*(nx.node_connected_component(graph, s) for s in sources))
    return {n for n in model.junction_name_list if n not in fed}


def valve_settings(wn, node: str, catalog, targets, residual_m: float, source: str) -> list[float]:
    """Settings [m] to try for a valve at ``node``, highest first.

    The highest is the one that every pipe below it holds in the catalogue's highest class
    and that keeps the junctions below within the maximum pressure; the others are the
    class thresholds of the pipes below (the setting at which a pipe's static pressure
    just fits a lower class: its lower end's elevation plus the class's rating, less the
    valve's elevation), down to the one that would give every junction below its minimum
    with no head lost; at most :data:`MAX_SETTINGS`, each less :data:`SETTING_MARGIN_M`.
    Empty when even that lowest one is above the highest.
    """
    model = with_devices(wn, (Site("valve", node, 0.0),), residual_m, source)
    below = relieved_nodes(model, device_ids(node, PRV_PREFIX, PRV_OUTLET_SUFFIX)[0])
    z = wn.get_node(node).elevation
    level = {n: model.get_node(n).elevation for n in below}
    need = max((level[n] + targets.min_at(n) for n in below if n in wn.junction_name_list),
               default=z)  # fmt: skip
    lowest = max(need - z, 0.0)
    ratings = []
    if catalog.has_pressure_classes:
        ratings = sorted({float(r) for r in catalog.table["pressure_rating_m"] if r == r})
    pipes = [p for p, link in model.pipes() if {link.start_node_name, link.end_node_name} <= below]
    low_end = [min(level[model.get_link(p).start_node_name],
                   level[model.get_link(p).end_node_name]) for p in pipes]  # fmt: skip
    caps = [e + ratings[-1] for e in low_end] if ratings else []
    if targets.max_pressure_m is not None:
        caps += [level[n] + targets.max_pressure_m for n in below]
    highest = min(caps, default=need + 50.0) - z - SETTING_MARGIN_M
    if highest < lowest:
        return []
    steps = {e + r - z - SETTING_MARGIN_M for e in low_end for r in ratings[:-1]}
    steps = sorted((x for x in steps if lowest <= x < highest - 1e-3), reverse=True)
    if len(steps) > MAX_SETTINGS - 1:  # evenly over the thresholds
        pick = np.linspace(0, len(steps) - 1, MAX_SETTINGS - 1).round().astype(int)
        steps = [steps[k] for k in sorted(set(pick))]
    return [highest, *steps]


def size_with_sites(
    wn,
    devices: tuple[BreakTanks | None, PressureValves | None],
    catalog,
    targets,
    size: Callable,
    notes: list[str],
    source: str = "network",
):
    """The cheapest verified design of looped ``wn`` with devices at its candidate sites.

    ``devices``: the break-pressure tanks and valves allowed (each with its ``nodes``, the
    candidate sites, required here); ``size(model) -> design``: the looped design of a
    network, written and verified (its ``verification.ok`` and ``verification.cost``, which
    counts the devices). Tried as the module docstring says; what was tried goes to
    ``notes``.

    Raises
    ------
    InputError
        A device allowed without its candidate sites, or a site that is not a junction with
        a pipe leading away from the sources.
    HydroError
        No trial gives a verified design: the first design's error, with what was tried.
    """
    tanks, valves = devices
    for given, option in ((tanks, "--break-tank-nodes"), (valves, "--prv-nodes")):
        if given is not None and not given.nodes:
            raise InputError(
                f"{source}: in a looped network devices go only at given sites: name the "
                f"candidate junctions with {option}"
            )
    for given in (tanks, valves):
        for node in given.nodes if given is not None else ():
            downstream_pipes(wn, node, source)  # a junction with pipes below it, or an error
    residual = tanks.residual_m if tanks is not None else 0.0
    trials = _Trials(wn, size, residual, source)
    trials.run(())
    settings = {
        n: valve_settings(wn, n, catalog, targets, residual, source)
        for n in (valves.nodes if valves else ())
    }
    for node, tried in settings.items():
        for setting in tried:  # the highest, then lower while verified
            if not trials.run((Site("valve", node, setting),)):
                break
    singles = [Site("tank", n) for n in (tanks.nodes if tanks else ())]
    for site in singles:
        trials.run((site,))
    sites = [*singles, *(Site("valve", n, s[0]) for n, s in settings.items() if s)]
    if trials.best is None and len({s.node for s in sites}) <= MAX_PAIR_SITES:
        for i, a in enumerate(sites):
            for b in sites[i + 1 :]:
                if a.node != b.node:
                    trials.run((a, b))
    notes.append(
        f"looped network, devices at the given sites (a heuristic, not a proven optimum): "
        f"{trials.count} design(s) tried; " + trials.summary()
    )
    if trials.best is None:
        raise trials.first_error or HydroError("no design with the devices was verified")
    return trials.best


def looped_with_sites(inputs: tuple, devices: tuple, size_looped: Callable, notes: list[str]):
    """A looped network with break-pressure tanks or valves at its given candidate sites
    (:func:`size_with_sites`): each trial is the network with its devices written in, its
    problem built again (:func:`hydro.sizing.problem.build_problem`: the classes from its
    static heads), sized by ``size_looped(problem, inputs, notes=..., unit_cost=...)`` (the
    looped design of :mod:`hydro.sizing.size`, which writes and verifies it; the junction
    below each device is held to no minimum, :mod:`hydro.sizing.evaluator`), its cost the
    pipes' and the devices'. ``inputs``: the network, catalogue, targets, fixed pipes, source
    name, smallest diameters and taps. The winner's notes go first in ``notes``.
    """
    wn, catalog, targets, fixed, source, min_dn, taps = inputs
    tanks, valves = devices
    unit_cost = (tanks.cost if tanks else 0.0, valves.cost if valves else 0.0)
    kept: dict[int, list[str]] = {}

    def size(model):
        problem = build_problem(model, catalog, targets, fixed, source, min_dn, taps=taps)
        trial_notes: list[str] = []
        design = size_looped(
            problem, (model, catalog, targets, fixed, source, min_dn), notes=trial_notes,
            unit_cost=unit_cost,
        )  # fmt: skip
        v = design.verification  # the optimiser's cost, with the devices it was given
        extra = v.break_tank_cost + v.pressure_valve_cost
        design = replace(design, optimiser_cost=design.optimiser_cost + extra)
        kept[id(design)] = trial_notes
        return design

    design = size_with_sites(wn, devices, catalog, targets, size, notes, source)
    notes[:0] = kept.get(id(design), [])
    return design


class _Trials:
    """Whole looped designs with given devices, the cheapest verified one kept."""

    def __init__(self, wn, size: Callable, residual_m: float, source: str):
        self.wn, self.size, self.residual_m, self.source = wn, size, residual_m, source
        self.best, self.best_sites, self.count = None, None, 0
        self.first_error: Exception | None = None

    def run(self, sites: tuple[Site, ...]) -> bool:
        """Size the network with ``sites``; True when the design is verified."""
        self.count += 1
        try:
            design = self.size(with_devices(self.wn, sites, self.residual_m, self.source))
        except HydroError as exc:  # InputError, InfeasibleDesignError, SimulationError
            log.info("devices %s: no design (%s)", _label(sites), exc)
            self.first_error = self.first_error or exc
            return False
        if not design.verification.ok:
            return False
        if self.best is None or design.verification.cost < self.best.verification.cost:
            self.best, self.best_sites = design, sites
        return True

    def summary(self) -> str:
        """What won."""
        if self.best is None:
            return "none verified"
        return f"least cost with {_label(self.best_sites)}"


def _label(sites: tuple[Site, ...]) -> str:
    if not sites:
        return "no device"
    return ", ".join(
        f"a break-pressure tank at {s.node}" if s.kind == "tank"
        else f"a pressure-reducing valve at {s.node} set at {s.setting_m:.2f} m"
        for s in sites
    )  # fmt: skip
