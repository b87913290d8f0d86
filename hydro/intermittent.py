"""Intermittent supply: who gets how much water when the network runs on a schedule.

Many networks (the PLUS towns north of Jerusalem, most of South Asia) are supplied a few hours
a day or a few days a week. Households then withdraw what the pressure lets them while their
zone is open and store it (roof tanks, containers) for the hours without water. The water
each one gets depends on its elevation and distance, not on its need: high and far houses run
dry while low ones fill.

This module models that on EPANET (pressure-driven, EPANET 2.2) in the way Abdelazeem & Meyer
(2024, J. Water Resour. Plann. Manage. 150(1), "How to model an intermittent water supply")
compare modelling choices: each consumer node's demand is taken off the network and given to
an artificial service connection, with one of three withdrawal methods:

- ``"volume"`` (volume-restricted, the paper's recommendation; the default): the node fills a
  store through its service pipes as fast as the pressure allows, until the store is full (a
  float valve: EPANET closes a full tank's inlet), and the household draws its desired demand
  from that store all day. The store is the node's roof tanks (households x volume per
  household) or, with no roof tanks, one day's desired volume (containers).
- ``"flow"`` (flow-restricted): as fast as the pressure allows, capped by a flow-control valve
  at the desired daily volume spread over the zone's supply hours; no store.
- ``"unrestricted"``: as fast as the pressure allows while the zone is open; no store and no
  cap (over-states what low nodes take: the bias the paper shows).

Limits, stated: EPANET keeps every pipe full, so the filling of emptied pipes at the start of
each supply period is not modelled (the paper's EPANET methods share this limit; it delays and
shortens supply at the far ends, so the volumes here are upper bounds there). Zone valves open
and close at the times of the schedule; the report step (default 5 min) bounds the error of
the volumes integrated from EPANET's reported flows.

Entry point: :func:`simulate_intermittent`; the equity indicators are
:func:`christiansen_uniformity` and :func:`weighted_quantile`.
"""

from __future__ import annotations

import ctypes
import math
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import wntr

from hydro import _toolkit as tk
from hydro.errors import InputError
from hydro.network import copy_network, write_network
from hydro.sizing import size_network
from hydro.units import LITRES_PER_M3, SECONDS_PER_DAY, SECONDS_PER_HOUR

METHODS = ("volume", "flow", "unrestricted")
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: Defaults, each with its source (docs/sources.md, section 8).
DEFAULTS_SOURCES = {
    "roof_height_m": "estimate [E]: a roof tank about 6 m above the street (two storeys)",
    "service_pipe_length_m": "estimate [E]: 20 m of service pipe from the main to a house",
    "service_pipe_diameter_mm": "estimate [E]: 16 mm inner diameter (PE 20 mm, 1/2 inch)",
    "roof_tank_m3": "PLUS brief 5 [E]: 2 m3 per household (range 1-4 m3)",
    "initial_fill_share": "estimate [E]: stores half full when the run starts",
}


@dataclass(frozen=True)
class ZoneSchedule:
    """When one zone is supplied: its valve opens at each window of each supply day.

    Attributes
    ----------
    zone : str
        The zone's name.
    valve : str
        The link (a pipe or a valve) that opens and closes the zone.
    hours : tuple of (float, float)
        Supply windows within a day [h from midnight], start < end <= 24.
    days : tuple of int
        Supply days of the week (0 = Monday ... 6 = Sunday).
    """

    zone: str
    valve: str
    hours: tuple[tuple[float, float], ...]
    days: tuple[int, ...] = tuple(range(7))

    def __post_init__(self):
        for start, end in self.hours:
            if not (0 <= start < end <= 24):
                raise InputError(
                    f"zone {self.zone}: supply window {start:g}-{end:g} h is not within a "
                    "day (0 <= start < end <= 24)"
                )
        if not self.days or any(d not in range(7) for d in self.days):
            raise InputError(f"zone {self.zone}: supply days must be among 0-6 (Monday-Sunday)")

    @property
    def hours_per_supply_day(self) -> float:
        """Supply hours on a supply day [h]."""
        return float(sum(end - start for start, end in self.hours))

    @property
    def hours_per_day(self) -> float:
        """Supply hours a day, on average over the week [h]."""
        return self.hours_per_supply_day * len(self.days) / 7.0

    def open_intervals(self, days: int, first_weekday: int = 0) -> list[tuple[float, float]]:
        """Open periods [s from the run's start] over ``days`` days, merged where they touch."""
        spans = []
        for d in range(days):
            if (first_weekday + d) % 7 not in self.days:
                continue
            for start, end in self.hours:
                a, b = (d * 24 + start) * SECONDS_PER_HOUR, (d * 24 + end) * SECONDS_PER_HOUR
                if spans and abs(spans[-1][1] - a) < 1e-6:
                    spans[-1] = (spans[-1][0], b)
                else:
                    spans.append((a, b))
        return spans


def parse_hours(text: str) -> tuple[tuple[float, float], ...]:
    """Supply windows from text: ``"6-9, 18-20"`` -> ((6, 9), (18, 20)) [h]."""
    windows = []
    for part in str(text).split(","):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*", part)
        if not m:
            raise InputError(f"supply hours {text!r}: expected windows like '6-9, 18-20'")
        windows.append((float(m.group(1)), float(m.group(2))))
    return tuple(windows)


def parse_days(text: str | Iterable) -> tuple[int, ...]:
    """Supply days from text: ``"mon,thu"`` or ``"all"`` -> weekday numbers (Monday = 0)."""
    if not isinstance(text, str):
        return tuple(sorted({int(d) for d in text}))
    if text.strip().lower() in ("all", "daily", "*"):
        return tuple(range(7))
    days = []
    for part in text.split(","):
        key = part.strip().lower()[:3]
        if key not in DAY_NAMES:
            raise InputError(f"supply days {text!r}: use mon, tue, wed, thu, fri, sat, sun or all")
        days.append(DAY_NAMES.index(key))
    return tuple(sorted(set(days)))


@dataclass(frozen=True, kw_only=True)
class IntermittentSettings:
    """How the intermittent run is modelled. Sources of defaults: :data:`DEFAULTS_SOURCES`.

    Attributes
    ----------
    method : str
        ``"volume"``, ``"flow"`` or ``"unrestricted"`` (module docstring).
    days : int
        Days simulated (a week by default).
    step_min : float
        Hydraulic and report step [min].
    roof_height_m : float
        Height of a roof tank's bottom above the node [m].
    service_pipe_length_m, service_pipe_diameter_mm : float
        One household's service pipe; a node's households are that many such pipes in
        parallel (one equivalent pipe, Hazen-Williams).
    initial_fill_share : float
        Share of each store full at the start.
    first_weekday : int
        Weekday of the run's first day (0 = Monday).
    max_splits : int
        Times a step may be cut where a store fills (each cut solves the network again).
        Past it, a store that fills keeps its inlet open in the hydraulics to the step's end
        (its volume is still capped): lower it to trade accuracy for speed on networks of
        hundreds of stores.
    """

    method: str = "volume"
    days: int = 7
    step_min: float = 5.0
    roof_height_m: float = 6.0
    service_pipe_length_m: float = 20.0
    service_pipe_diameter_mm: float = 16.0
    initial_fill_share: float = 0.5
    first_weekday: int = 0
    max_splits: int = 10_000

    def __post_init__(self):
        if self.method not in METHODS:
            raise InputError(f"method {self.method!r}: use one of {', '.join(METHODS)}")
        checks = (
            ("days", self.days, 1, 366),
            ("step_min", self.step_min, 0.1, 60),
            ("roof_height_m", self.roof_height_m, 0.5, 50),
            ("service_pipe_length_m", self.service_pipe_length_m, 0.1, 1000),
            ("service_pipe_diameter_mm", self.service_pipe_diameter_mm, 5, 200),
            ("initial_fill_share", self.initial_fill_share, 0, 1),
            ("max_splits", self.max_splits, 0, 10**6),
        )
        for name, value, low, high in checks:
            if not (
                isinstance(value, int | float) and math.isfinite(value) and low <= value <= high
            ):
                raise InputError(f"{name} = {value!r}: a number in [{low:g}, {high:g}]")


@dataclass(frozen=True, kw_only=True)
class BulkPoint:
    """A metered bulk connection: a source of the network bought from a bulk supplier.

    Attributes
    ----------
    source : str
        The reservoir (fixed head) of the network that stands for the connection.
    max_flow_l_per_s : float, optional
        The most the connection delivers (a flow-control valve at the meter); None: no limit.
    price_per_m3 : float
        Bulk price [currency/m3] (PLUS: 2.60 NIS/m3, plus brief 3).
    contracted_m3_per_week : float, optional
        Volume the contract allows a week; the run reports the share used.
    """

    source: str
    max_flow_l_per_s: float | None = None
    price_per_m3: float = 0.0
    contracted_m3_per_week: float | None = None

    def __post_init__(self):
        for name in ("max_flow_l_per_s", "contracted_m3_per_week"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise InputError(f"bulk point {self.source}: {name} = {value!r}; a number > 0")
        if not (math.isfinite(self.price_per_m3) and self.price_per_m3 >= 0):
            raise InputError(f"bulk point {self.source}: price_per_m3 must be a number >= 0")


def _limit_bulk(model, points: Sequence[BulkPoint]) -> None:
    """Put a bulk meter after each bulk source: a check valve (a connection only delivers;
    without it water would run from a higher source into a lower one) and, where the
    connection has a limit, a flow-control valve at that limit.
    """
    for point in points:
        if point.source not in model.reservoir_name_list:
            raise InputError(f"bulk point {point.source!r} is not a reservoir of the network")
        source = model.get_node(point.source)
        links = model.get_links_for_node(point.source)
        a, b = f"iwsM{point.source}", f"iwsN{point.source}"
        for junction in (a, b):
            model.add_junction(junction, elevation=source.base_head - 1.0,
                               coordinates=source.coordinates)  # fmt: skip
        for name in links:  # the source's links now start after the meter
            link = model.get_link(name)
            if link.start_node_name == point.source:
                link.start_node = model.get_node(b)
            else:
                link.end_node = model.get_node(b)
        model.add_pipe(f"iwsK{point.source}", point.source, a, 1.0, 1.0, 140, check_valve=True)
        if point.max_flow_l_per_s is None:
            model.add_pipe(f"iwsL{point.source}", a, b, 1.0, 1.0, 140)
        else:
            model.add_valve(f"iwsL{point.source}", a, b, 1.0, "FCV", 0.0,
                            point.max_flow_l_per_s / 1000.0)  # fmt: skip


@dataclass(kw_only=True)
class IntermittentResult:
    """What each node, municipality and person gets under the schedule.

    Attributes
    ----------
    nodes : DataFrame
        One row per consumer node: node, municipality, people, desired_m3, delivered_m3,
        withdrawn_m3 (taken from the network), satisfaction (delivered / desired),
        delivered_l_per_person_day, supply_h_per_day (its zone's hours a day, averaged over
        the week), hours_with_water_per_day (hours its service pipes ran).
    municipalities : DataFrame
        The same summed per municipality, with its Christiansen uniformity coefficient.
    indicators : dict
        Over all people: satisfaction, christiansen_cu, p10_satisfaction,
        share_under_50_l, share_under_100_l, leakage_m3, bulk_m3 (into the network).
    bulk : DataFrame
        Per source: volume_m3 (over the run), m3_per_day, max_flow_l_per_s, cost,
        contracted_m3_per_week and contract_share (used / contracted).
    settings : IntermittentSettings
        How it was modelled.
    notes : list of str
        What the run left out (junction demands with no households).
    """

    nodes: pd.DataFrame
    municipalities: pd.DataFrame
    indicators: dict
    bulk: pd.DataFrame
    settings: IntermittentSettings
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- equity
def christiansen_uniformity(
    values: Sequence[float], weights: Sequence[float] | None = None
) -> float:
    """Christiansen's uniformity coefficient: 1 - sum(w |x - mean|) / sum(w x).

    1 when everyone gets the same; 0 when the mean deviation equals the mean. ``weights``
    (people) make each value count for the people it stands for (Christiansen 1942, used for
    supply equity by Gottipati & Nanduri 2014 and Abdelazeem & Meyer 2024).

    Examples
    --------
    >>> christiansen_uniformity([100, 100, 100])
    1.0
    >>> christiansen_uniformity([0, 200])
    0.0
    """
    x = np.asarray(values, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    total = float((w * x).sum())
    if total <= 0:
        return 0.0
    mean = total / float(w.sum())
    return float(1.0 - (w * np.abs(x - mean)).sum() / total)


def weighted_quantile(values: Sequence[float], weights: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ``values`` when value i stands for ``weights[i]`` people.

    The smallest value below or at which at least a share ``q`` of the people lie.

    Examples
    --------
    >>> weighted_quantile([0.2, 1.0], [10, 90], 0.1)
    0.2
    >>> weighted_quantile([0.2, 1.0], [10, 90], 0.11)
    1.0
    """
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    order = np.argsort(x, kind="stable")
    cumulative = np.cumsum(w[order]) / w.sum()
    return float(x[order][np.searchsorted(cumulative, q - 1e-12)])


# --------------------------------------------------------------------------- the model
#: Height of a roof tank (its float valve lets water in at the top) [m]: estimate [E].
ROOF_TANK_HEIGHT_M = 1.0


def _check_households(wn, households: pd.DataFrame) -> pd.DataFrame:
    need = {"node", "people", "demand_l_per_person_day"}
    missing = need - set(households.columns)
    if missing:
        raise InputError(f"households table: missing column(s) {', '.join(sorted(missing))}")
    table = households.copy().reset_index(drop=True)
    table["node"] = table["node"].astype(str)
    for name in table["node"]:
        if name not in wn.junction_name_list:
            raise InputError(f"households table: node {name!r} is not a junction of the network")
    if table["node"].duplicated().any():
        raise InputError("households table: a node is listed twice")
    for column, default in {
        "households": np.nan,
        "roof_tank_m3": 0.0,
        "municipality": "all",
    }.items():
        if column not in table:
            table[column] = default
    table["households"] = table["households"].fillna(np.ceil(table["people"] / 5.0))
    for column in ("people", "demand_l_per_person_day", "households", "roof_tank_m3"):
        values = pd.to_numeric(table[column], errors="coerce")
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            row = table[bad].iloc[0]
            raise InputError(
                f"households table: node {row['node']}: {column} = {row[column]!r}; a finite "
                "number >= 0 is required"
            )
        table[column] = values.astype(float)
    table["municipality"] = table["municipality"].astype(str)
    return table


def _equivalent_diameter_m(settings: IntermittentSettings, households: float) -> float:
    """One pipe carrying what ``households`` service pipes in parallel carry (Hazen-Williams:
    Q ~ D^2.63 at equal head loss, so D_eq = D n^(1/2.63)).
    """
    return settings.service_pipe_diameter_mm / 1000.0 * max(households, 1.0) ** (1 / 2.63)


def zone_of_nodes(wn, schedules: Sequence[ZoneSchedule]) -> dict[str, str]:
    """Node -> zone: the nodes cut off from every source when the zone valves are removed,
    named after the valve(s) that feed them; nodes still joined to a source are in no zone.
    """
    cut = nx.Graph(wn.to_graph().to_undirected())
    for s in schedules:
        link = wn.get_link(s.valve)
        if cut.has_edge(link.start_node_name, link.end_node_name):
            cut.remove_edge(link.start_node_name, link.end_node_name)
    sources = set(wn.reservoir_name_list) | set(wn.tank_name_list)
    ends = {s.zone: {wn.get_link(s.valve).start_node_name, wn.get_link(s.valve).end_node_name}
            for s in schedules}  # fmt: skip
    zone_of = {}
    for component in nx.connected_components(cut):
        if component & sources:
            continue  # upstream of every valve: supplied whenever the source is
        touching = sorted(z for z, nodes in ends.items() if nodes & component)
        for node in component:
            zone_of[node] = "+".join(touching)
    return zone_of


def _add_connection(model, i: int, row, settings: IntermittentSettings, cap_m3_per_s: float):
    """The service connection of consumer node ``row.node``: its service pipes (one
    equivalent pipe, whose status the run sets: closed while the store is full) and a check
    valve to a fixed head at the roof (the top of its store, where a float valve lets water
    in), through a flow-control valve for the flow-restricted method. Returns the inlet link.
    """
    node = model.get_node(row.node)
    diameter = _equivalent_diameter_m(settings, row.households)
    top = settings.roof_height_m + (ROOF_TANK_HEIGHT_M if settings.method == "volume" else 0.0)
    sink, inlet, a = f"iwsR{i}", f"iwsP{i}", f"iwsA{i}"
    model.add_reservoir(sink, base_head=node.elevation + top, coordinates=node.coordinates)
    model.add_junction(a, elevation=node.elevation, coordinates=node.coordinates)
    model.add_pipe(inlet, row.node, a, settings.service_pipe_length_m, diameter, 140)
    if settings.method == "flow":
        b = f"iwsB{i}"
        model.add_junction(b, elevation=node.elevation, coordinates=node.coordinates)
        model.add_valve(f"iwsF{i}", a, b, diameter, "FCV", 0.0, cap_m3_per_s)
        a = b
    model.add_pipe(f"iwsC{i}", a, sink, 1.0, diameter, 140, check_valve=True)
    return inlet


def build_model(
    wn: wntr.network.WaterNetworkModel,
    households: pd.DataFrame,
    schedules: Sequence[ZoneSchedule],
    settings: IntermittentSettings,
    bulk: Sequence[BulkPoint] = (),
) -> tuple[wntr.network.WaterNetworkModel, pd.DataFrame, list[str]]:
    """A copy of ``wn`` with each consumer node's service connection, as a steady state.

    Every junction demand is taken off (the households draw through their connections;
    emitters, the leaks, stay). Returns (model, table, notes): ``table`` is the households
    table with, per node, its inlet link, zone, supply hours a day (on average over the week:
    the flow-restricted cap spreads the desired volume over them) and store [m3].
    """
    for s in schedules:
        if s.valve not in wn.link_name_list:
            raise InputError(f"zone {s.zone}: valve {s.valve!r} is not a link of the network")
    model = copy_network(wn)
    table = _check_households(wn, households)
    notes = []
    listed = set(table["node"])
    for name, junction in model.junctions():
        if name not in listed and any(d.base_value > 0 for d in junction.demand_timeseries_list):
            notes.append(f"junction {name} has a demand but no households: not counted")
        for demand in junction.demand_timeseries_list:
            demand.base_value = 0.0
    model.options.time.duration = 0
    model.options.hydraulic.demand_model = "DDA"
    zone_of = zone_of_nodes(model, schedules)
    hours_of = {s.zone: s.hours_per_day for s in schedules}
    desired = table["people"] * table["demand_l_per_person_day"] / LITRES_PER_M3  # m3/day
    table["zone"] = [zone_of.get(n, "") for n in table["node"]]
    table["supply_h_per_day"] = [
        min((hours_of[z] for z in zone.split("+") if z in hours_of), default=24.0)
        for zone in table["zone"]
    ]
    roof = table["households"] * table["roof_tank_m3"]
    volume = settings.method == "volume"
    table["store_m3"] = np.where(roof > 0, roof, desired) if volume else 0.0
    inlets = []
    for i, row in enumerate(table.itertuples(index=False)):
        cap = desired.iloc[i] / (max(row.supply_h_per_day, 1e-3) * SECONDS_PER_HOUR)
        inlets.append(_add_connection(model, i, row, settings, cap))
    table["inlet"] = inlets
    _limit_bulk(model, bulk)
    return model, table, notes


# --------------------------------------------------------------------------- the run
class _Stepper:
    """The steady states of the network, solved in memory by the EPANET toolkit.

    The hydraulics of a step depend only on which links are open (the zone valves, and the
    inlets of the stores that are not full): each distinct set is solved once and kept.
    """

    def __init__(self, model, table: pd.DataFrame, schedules: Sequence[ZoneSchedule]):
        self._tmp = tempfile.TemporaryDirectory(prefix="hydro-iws-")
        path = write_network(model, Path(self._tmp.name) / "iws.inp", units="LPS")
        self.project = tk.Project(path)
        self.project.lib.EN_setstatusreport(self.project.handle, 0)
        links = {name: k for k, name in enumerate(self.project.link_ids(), start=1)}
        nodes = self.project.node_ids()
        types = self.project.node_types()
        self.valves = [links[s.valve] for s in schedules]
        # a zone valve that is a valve (not a pipe) opens at its own setting (active)
        self.valve_settings = {
            links[s.valve]: model.get_link(s.valve).initial_setting
            for s in schedules
            if model.get_link(s.valve).link_type == "Valve"
        }
        self.inlets = np.array([links[n] for n in table["inlet"]])
        self.junctions = np.array(
            [k for k, (n, t) in enumerate(zip(nodes, types, strict=True)) if t == tk.EN_JUNCTION
             and not n.startswith("iws")]
        )  # fmt: skip
        self.sources = [
            k for k, (n, t) in enumerate(zip(nodes, types, strict=True)) if t == tk.EN_RESERVOIR
            and not n.startswith("iws")
        ]  # fmt: skip
        self.source_names = [nodes[k] for k in self.sources]
        # what joins what, to find the parts a closed zone valve cuts off from every source
        self.node_names = nodes
        self.edges = [(link.start_node_name, link.end_node_name, name)
                      for name, link in model.links()]  # fmt: skip
        self.valve_names = [s.valve for s in schedules]
        sources = (tk.EN_RESERVOIR, tk.EN_TANK)
        self.roots = [n for n, t in zip(nodes, types, strict=True)
                      if t in sources and not n.startswith("iws")]  # fmt: skip
        self.inlet_nodes = table["node"].tolist()
        self._reached: dict[bytes, set[str]] = {}
        self.cache: dict[bytes, tuple] = {}
        self.solves = 0

    def supplied(self, valves_open: np.ndarray) -> set[str]:
        """The nodes joined to a source (a real reservoir or tank) with the zone valves so.

        EPANET solves a part cut off from every source too (its heads are then arbitrary), and
        the flows it reports there, into stores and out of emitters, are not water: they are
        set to zero.
        """
        key = np.packbits(valves_open).tobytes()
        if key in self._reached:
            return self._reached[key]
        closed = {v for v, is_open in zip(self.valve_names, valves_open, strict=True)
                  if not is_open}  # fmt: skip
        graph = nx.Graph()
        graph.add_nodes_from(self.node_names)
        graph.add_edges_from((a, b) for a, b, name in self.edges if name not in closed)
        reached: set[str] = set()
        for root in self.roots:
            if root not in reached:
                reached |= nx.node_connected_component(graph, root)
        self._reached[key] = reached
        return reached

    def solve(self, valves_open: np.ndarray, inlets_open: np.ndarray) -> tuple:
        """(inlet flows, junction outflows: the leaks, source outflows) [m3/s] for these
        statuses.
        """
        key = np.packbits(np.concatenate([valves_open, inlets_open])).tobytes()
        if key not in self.cache:
            p, lib = self.project, self.project.lib
            for k, is_open in zip(
                np.concatenate([self.valves, self.inlets]).astype(int),
                np.concatenate([valves_open, inlets_open]),
                strict=True,
            ):
                if is_open and int(k) in self.valve_settings:
                    setting = self._setting_value(int(k))
                    code = lib.EN_setlinkvalue(p.handle, int(k), EN_INITSETTING, setting)
                else:
                    code = lib.EN_setlinkvalue(p.handle, int(k), EN_INITSTATUS, float(is_open))
                p._check(code, "set status")
            p.open_hydraulics()
            p._check(lib.EN_initH(p.handle, 0), "init hydraulics")
            t = ctypes.c_long()
            p._check(lib.EN_runH(p.handle, ctypes.byref(t)), "run hydraulics")
            reached = self.supplied(valves_open)
            on_inlet = np.array([n in reached for n in self.inlet_nodes], dtype=bool)
            on_junction = np.array([self.node_names[k] in reached for k in self.junctions],
                                   dtype=bool)  # fmt: skip
            flows = p.link_values(tk.EN_FLOW)[self.inlets - 1] / 1000.0
            demand = p.node_values(tk.EN_DEMAND) / 1000.0
            self.cache[key] = (
                np.where(on_inlet, flows.clip(min=0.0), 0.0),
                np.where(on_junction, demand[self.junctions].clip(min=0.0), 0.0),
                np.where(-demand[self.sources] > MIN_FLOW_M3_PER_S, -demand[self.sources], 0.0),
            )
            self.solves += 1
        return self.cache[key]

    def _setting_value(self, k: int) -> float:
        """A valve's setting in the toolkit's units (LPS file: m for pressures, l/s for FCVs)."""
        setting = float(self.valve_settings[k])
        kind = ctypes.c_int()
        self.project.lib.EN_getlinktype(self.project.handle, k, ctypes.byref(kind))
        return setting * 1000.0 if kind.value == EN_FCV else setting

    def close(self) -> None:
        self.project.close()
        self._tmp.cleanup()


#: EPANET toolkit codes: a link's initial status (0 closed, 1 open) and setting; FCV type.
EN_INITSTATUS, EN_INITSETTING, EN_FCV = 4, 5, 6


def _open_at(schedules: Sequence[ZoneSchedule], settings, times: np.ndarray) -> np.ndarray:
    """(steps x zones) True where the zone's valve is open during the step."""
    out = np.zeros((len(times), len(schedules)), dtype=bool)
    for j, s in enumerate(schedules):
        for a, b in s.open_intervals(settings.days, settings.first_weekday):
            out[(times >= a - 1e-6) & (times < b - 1e-6), j] = True
    return out


def _use_rate(table, pattern: Sequence[float] | None, times: np.ndarray) -> np.ndarray:
    """(steps x nodes) the households' desired use [m3/s] at each step."""
    hourly = np.ones(24) if pattern is None else np.asarray(pattern, dtype=float)
    if (
        len(hourly) != 24
        or not np.all(np.isfinite(hourly))
        or hourly.min() < 0
        or hourly.sum() <= 0
    ):
        raise InputError("consumption pattern: 24 finite hourly multipliers >= 0 are required")
    hourly = hourly / hourly.mean()
    daily = (table["people"] * table["demand_l_per_person_day"] / LITRES_PER_M3).to_numpy()
    hour = (times // SECONDS_PER_HOUR).astype(int) % 24
    return hourly[hour][:, None] * daily[None, :] / SECONDS_PER_DAY


#: Flows below this are EPANET's numerical trickle into a node cut off from every source
#: [m3/s] (0.001 l/s, 86 l a day).
MIN_FLOW_M3_PER_S = 1e-6


#: A float valve lets water in again once its store falls below this share of full: the
#: dead band of a ball-cock valve, estimate [E] (docs/sources.md, section 8).
REFILL_SHARE = 0.9


def _fill(stepper: _Stepper, valves_open, level, store, is_filling, dt: float, cuts: int):
    """Advance the filling stores over one step of ``dt`` seconds, splitting it where a store
    fills (its inlet then closes and the network's hydraulics change).

    Returns (taken [m3] per node, seconds with inflow per node, leak [m3], volume out of
    each source [m3]).
    """
    taken = np.zeros_like(level)
    wet = np.zeros_like(level)
    leak = 0.0
    sourced = np.zeros(len(stepper.sources))
    remaining = dt
    for split in range(cuts + 1):
        if remaining <= 1e-9:
            break
        flows, junction_out, source_out = stepper.solve(valves_open, is_filling)
        # a node cut off from every source shows a numerical trickle: no flow
        flows = np.where(is_filling & (flows > MIN_FLOW_M3_PER_S), flows, 0.0)
        room = store - level - taken
        with np.errstate(divide="ignore", invalid="ignore"):
            to_full = np.where(flows > 0.0, room / flows, np.inf)
        # the step is cut where the first store fills, at most ``cuts`` times a step; past
        # that, stores that fill keep their inlet open (hydraulically) to the step's end
        span = remaining if split == cuts else min(remaining, float(to_full.min()))
        taken += np.minimum(flows * span, room)
        wet += np.where(flows > 0.0, span, 0.0)
        leak += float(junction_out.sum()) * span
        sourced += source_out * span
        remaining -= span
        is_filling = is_filling & (to_full > span + 1e-9)
    return taken, wet, leak, sourced


def _run(stepper: _Stepper, table, schedules, settings, pattern) -> dict:
    """Step through the run: hydraulics of each step, then each store's mass balance."""
    dt = settings.step_min * 60.0
    times = np.arange(0.0, settings.days * SECONDS_PER_DAY, dt)
    valves = _open_at(schedules, settings, times)
    use = _use_rate(table, pattern, times)
    volume = settings.method == "volume"
    n = len(table)
    # without a store, the household takes what flows: an endless store it never fills
    store = table["store_m3"].to_numpy() if volume else np.full(n, np.inf)
    level = settings.initial_fill_share * store if volume else np.zeros(n)
    filling = level < store
    totals = {k: np.zeros(n) for k in ("withdrawn", "delivered", "wet_s")}
    leak = 0.0
    sourced = np.zeros(len(stepper.sources))
    for k in range(len(times)):
        filling = filling | (level < REFILL_SHARE * store)
        taken, wet, step_leak, step_sourced = _fill(
            stepper, valves[k], level, store, filling, dt, settings.max_splits
        )
        totals["withdrawn"] += taken
        totals["wet_s"] += wet
        leak += step_leak
        sourced += step_sourced
        if volume:
            level = level + taken
            filling = filling & (level < store - 1e-12)
            drawn = np.minimum(use[k] * dt, level)
            level = level - drawn
            totals["delivered"] += drawn
        else:
            totals["delivered"] += taken
    # what entered the network: the stores' intake and the leaks (EPANET's numerical trickle
    # through closed links is left out)
    bulk = float(totals["withdrawn"].sum()) + leak
    return {**totals, "leak_m3": leak, "bulk_m3": bulk, "final_m3": level, "sourced_m3": sourced}


def simulate_intermittent(
    wn: wntr.network.WaterNetworkModel,
    households: pd.DataFrame,
    schedules: Sequence[ZoneSchedule],
    settings: IntermittentSettings | None = None,
    consumption_pattern: Sequence[float] | None = None,
    bulk: Sequence[BulkPoint] = (),
) -> IntermittentResult:
    """Run ``wn`` under its supply schedule and count the water each household gets.

    Each step (``settings.step_min``) is a steady state of EPANET (the toolkit, in memory)
    with the zone valves as the schedule sets them and the inlet of every full store closed
    (its float valve); between steps each store takes what its inlet gave (at most what fills
    it) and gives its households their use while it holds water.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (never modified). Its junction demands are replaced by the households';
        its emitters (leaks) stay.
    households : DataFrame
        One row per consumer node: node, people, demand_l_per_person_day (desired use), and
        optionally households (default people / 5), roof_tank_m3 (per household; 0: none,
        then the store is one day's desired volume) and municipality.
    schedules : sequence of ZoneSchedule
        When each zone's valve is open. Nodes joined to a source without crossing a zone valve
        are supplied all the time.
    settings : IntermittentSettings, optional
        Method, days, step and service-connection defaults.
    consumption_pattern : sequence of float, optional
        24 hourly multipliers of the households' use (default: flat).
    bulk : sequence of BulkPoint
        The network's bulk connections with their limits and prices (sources not listed: no
        limit, no price).

    Returns
    -------
    IntermittentResult
        Per node and municipality: desired and delivered volume, satisfaction, litres per
        person per day; equity indicators over all people.

    Examples
    --------
    >>> import pandas as pd
    >>> from hydro.network import read_network
    >>> wn = read_network("networks/oujda_rural.inp")
    >>> people = pd.DataFrame({"node": ["DB_BF1", "OA_BF2"], "people": [100, 100],
    ...                        "demand_l_per_person_day": [50, 50]})
    >>> result = simulate_intermittent(wn, people, [], IntermittentSettings(days=1))
    >>> 0.0 <= result.indicators["satisfaction"] <= 1.0
    True
    """
    settings = settings or IntermittentSettings()
    model, table, notes = build_model(wn, households, schedules, settings, bulk)
    stepper = _Stepper(model, table, schedules)
    try:
        run = _run(stepper, table, schedules, settings, consumption_pattern)
    finally:
        stepper.close()
    days = settings.days
    columns = ["node", "municipality", "zone", "people", "supply_h_per_day", "store_m3"]
    nodes = table[columns].copy()
    nodes["desired_m3"] = table["people"] * table["demand_l_per_person_day"] / LITRES_PER_M3 * days
    nodes["withdrawn_m3"] = run["withdrawn"]
    nodes["delivered_m3"] = run["delivered"]
    nodes["satisfaction"] = np.where(
        nodes["desired_m3"] > 0, nodes["delivered_m3"] / nodes["desired_m3"], np.nan
    )
    nodes["delivered_l_per_person_day"] = np.where(
        nodes["people"] > 0, nodes["delivered_m3"] * LITRES_PER_M3 / nodes["people"] / days, np.nan
    )
    nodes["hours_with_water_per_day"] = run["wet_s"] / SECONDS_PER_HOUR / days
    indicators = _indicators(nodes)
    indicators.update(leakage_m3=run["leak_m3"], bulk_m3=run["bulk_m3"], solves=stepper.solves)
    return IntermittentResult(
        nodes=nodes,
        municipalities=_by_municipality(nodes, days),
        indicators=indicators,
        bulk=_bulk_table(stepper.source_names, run["sourced_m3"], bulk, days),
        settings=settings,
        notes=notes,
    )


def _bulk_table(sources: list[str], volumes, points: Sequence[BulkPoint], days: int):
    """Per source: what it gave over the run, a day, its cost and its contract's share."""
    by_name = {p.source: p for p in points}
    rows = []
    for name, volume in zip(sources, volumes, strict=True):
        point = by_name.get(name, BulkPoint(source=name))
        weekly = volume / days * 7.0
        contract = point.contracted_m3_per_week
        rows.append(
            {
                "source": name,
                "volume_m3": float(volume),
                "m3_per_day": float(volume) / days,
                "max_flow_l_per_s": point.max_flow_l_per_s,
                "price_per_m3": point.price_per_m3,
                "cost": float(volume) * point.price_per_m3,
                "contracted_m3_per_week": contract,
                "contract_share": weekly / contract if contract else np.nan,
            }
        )
    return pd.DataFrame(rows)


def _by_municipality(nodes: pd.DataFrame, days: int) -> pd.DataFrame:
    rows = []
    for name, group in nodes.groupby("municipality", sort=True):
        people = float(group["people"].sum())
        delivered = float(group["delivered_m3"].sum())
        desired = float(group["desired_m3"].sum())
        rows.append(
            {
                "municipality": name,
                "people": people,
                "desired_m3": desired,
                "delivered_m3": delivered,
                "satisfaction": delivered / desired if desired > 0 else np.nan,
                "delivered_l_per_person_day": delivered * LITRES_PER_M3 / people / days
                if people > 0 else np.nan,
                "christiansen_cu": christiansen_uniformity(
                    group["delivered_l_per_person_day"].fillna(0), group["people"]
                ),
            }
        )  # fmt: skip
    return pd.DataFrame(rows)


def _indicators(nodes: pd.DataFrame) -> dict:
    served = nodes[nodes["people"] > 0]
    people = served["people"].to_numpy()
    per_person = served["delivered_l_per_person_day"].fillna(0).to_numpy()
    satisfaction = served["satisfaction"].fillna(0).to_numpy()
    desired = float(nodes["desired_m3"].sum())
    return {
        "people": float(people.sum()),
        "satisfaction": float(nodes["delivered_m3"].sum()) / desired if desired > 0 else np.nan,
        "christiansen_cu": christiansen_uniformity(per_person, people),
        "p10_satisfaction": weighted_quantile(satisfaction, people, 0.10),
        "share_under_50_l": float(people[per_person < 50 - 1e-6].sum() / people.sum()),
        "share_under_100_l": float(people[per_person < 100 - 1e-6].sum() / people.sum()),
    }


# --------------------------------------------------------------------------- schedule design
@dataclass(kw_only=True)
class ScheduleChoice:
    """The schedule :func:`optimise_schedule` chose, what it gives, and the search's trace.

    Attributes
    ----------
    schedules : list of ZoneSchedule
        One per zone: the slot chosen for it.
    result : IntermittentResult
        The run of that schedule.
    history : DataFrame
        Every schedule tried: evaluation, slots (zone -> slot index), objective.
    """

    schedules: list[ZoneSchedule]
    result: IntermittentResult
    history: pd.DataFrame


def _objective(result: IntermittentResult, bulk: Sequence[BulkPoint], days: int) -> float:
    """Equity first (Christiansen's CU), then the water delivered; a contract's excess
    counts against it (each unit of share over the contract as much as the whole CU).
    """
    over = 0.0
    for point in bulk:
        row = result.bulk[result.bulk["source"] == point.source]
        if point.contracted_m3_per_week and not row.empty:
            over += max(float(row["contract_share"].iloc[0]) - 1.0, 0.0)
    return result.indicators["christiansen_cu"] + 0.1 * result.indicators["satisfaction"] - over


def optimise_schedule(
    wn: wntr.network.WaterNetworkModel,
    households: pd.DataFrame,
    valves: Mapping[str, str],
    slots: Sequence[tuple[tuple[tuple[float, float], ...], tuple[int, ...]]],
    settings: IntermittentSettings | None = None,
    bulk: Sequence[BulkPoint] = (),
    start: Mapping[str, int] | None = None,
    max_evaluations: int = 60,
) -> ScheduleChoice:
    """Which zone when: the slot of each zone that makes the supply most equal.

    A coordinate search: each zone in turn tries every slot, the others fixed, and keeps the
    best; rounds repeat until a round changes nothing or ``max_evaluations`` runs are spent.
    The objective is Christiansen's uniformity coefficient of the water delivered per person
    (plus a tenth of the satisfaction, to prefer more water at equal equity), less any excess
    over a bulk contract; the bulk limits themselves hold in every run (they are valves).

    Parameters
    ----------
    wn, households, settings, bulk
        As for :func:`simulate_intermittent`.
    valves : mapping
        Zone -> the link that opens and closes it.
    slots : sequence of (hours, days)
        The supply windows a zone may get (for example the morning or the evening of given
        days; the bulk water then goes to fewer zones at once).
    start : mapping, optional
        Zone -> slot index to start from (default: slot 0 for every zone).
    max_evaluations : int
        Runs at most.

    Returns
    -------
    ScheduleChoice
        The best schedule found, its run and every schedule tried.
    """
    settings = settings or IntermittentSettings()
    zones = list(valves)
    if not slots:
        raise InputError("schedule design: give at least one slot")
    choice = {z: int((start or {}).get(z, 0)) for z in zones}
    seen: dict[tuple, tuple[float, IntermittentResult]] = {}
    history = []

    def evaluate(candidate: dict) -> float:
        key = tuple(candidate[z] for z in zones)
        if key not in seen:
            schedules = [ZoneSchedule(z, valves[z], *slots[candidate[z]]) for z in zones]
            result = simulate_intermittent(wn, households, schedules, settings, bulk=bulk)
            seen[key] = (_objective(result, bulk, settings.days), result)
            history.append({"evaluation": len(seen), "slots": dict(candidate),
                            "objective": seen[key][0]})  # fmt: skip
        return seen[key][0]

    best = evaluate(choice)
    changed = True
    while changed and len(seen) < max_evaluations:
        changed = False
        for zone in zones:
            for slot in range(len(slots)):
                if len(seen) >= max_evaluations:
                    break
                candidate = {**choice, zone: slot}
                value = evaluate(candidate)
                if value > best + 1e-9:
                    best, choice, changed = value, candidate, True
    key = tuple(choice[z] for z in zones)
    return ScheduleChoice(
        schedules=[ZoneSchedule(z, valves[z], *slots[choice[z]]) for z in zones],
        result=seen[key][1],
        history=pd.DataFrame(history),
    )


# --------------------------------------------------------------------------- sizing
def schedule_design_flows(
    wn: wntr.network.WaterNetworkModel,
    households: pd.DataFrame,
    schedules: Sequence[ZoneSchedule],
) -> pd.Series:
    """Each consumer node's design flow under the schedule [m3/s].

    JalTantra's rule (Hooda & Damani 2019, *INFORMS J. Appl. Anal.*, doi
    10.1287/inte.2019.1014): a network supplied H hours a day carries each node's daily
    volume in those hours, a peak factor of 24 / H. Here the week's volume goes through on
    the zone's supply days: flow = daily volume x 7 / supply days / (H x 3,600 s). A node in
    no zone (supplied all day) takes its daily volume over 24 h.

    Examples
    --------
    >>> import pandas as pd
    >>> from hydro.network import read_network
    >>> wn = read_network("networks/oujda_rural.inp")
    >>> people = pd.DataFrame({"node": ["DB_BF1"], "people": [120],
    ...                        "demand_l_per_person_day": [100]})
    >>> flows = schedule_design_flows(wn, people, [])  # 12 m3 a day over 24 h
    >>> round(float(flows["DB_BF1"]) * 1000, 4)
    0.1389
    """
    table = _check_households(wn, households)
    zone_of = zone_of_nodes(wn, schedules)
    by_zone = {s.zone: s for s in schedules}
    flows = {}
    for row in table.itertuples(index=False):
        daily_m3 = row.people * row.demand_l_per_person_day / LITRES_PER_M3
        zones = [by_zone[z] for z in zone_of.get(row.node, "").split("+") if z in by_zone]
        if not zones:
            flows[row.node] = daily_m3 / SECONDS_PER_DAY
            continue
        zone = min(zones, key=lambda s: s.hours_per_day)  # the scarcest zone governs
        weekly_hours = zone.hours_per_supply_day * len(zone.days)
        flows[row.node] = daily_m3 * 7.0 / (weekly_hours * SECONDS_PER_HOUR)
    return pd.Series(flows, dtype=float)


def size_for_schedule(
    wn: wntr.network.WaterNetworkModel,
    households: pd.DataFrame,
    schedules: Sequence[ZoneSchedule],
    catalog,
    targets,
    **options,
):
    """Size the pipes so that every node gets its week's water within its supply windows.

    Every consumer node draws its :func:`schedule_design_flows` flow at once, every zone valve
    open (conservative where zones are staggered: mains shared by zones open at different
    times carry all of them), and the pipes are sized at least cost for ``targets`` (a
    minimum pressure that fills a roof tank: its height above the street plus the service
    pipe's loss) by :func:`hydro.sizing.size_network`, which writes and verifies the design.
    Check the result under the schedule with :func:`simulate_intermittent`.

    Returns
    -------
    hydro.sizing.SizingResult
        The verified design.
    """
    flows = schedule_design_flows(wn, households, schedules)
    model = copy_network(wn)
    for name, junction in model.junctions():
        for demand in junction.demand_timeseries_list:
            demand.base_value = 0.0
            demand.pattern_name = None
        if name in flows.index:
            junction.demand_timeseries_list[0].base_value = float(flows[name])
    for schedule in schedules:  # every zone open
        model.get_link(schedule.valve).initial_status = wntr.network.LinkStatus.Opened
    model.options.time.duration = 0
    return size_network(model, catalog, targets, **options)
