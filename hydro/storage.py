"""Storage sizing: the balancing volume of a day's demand against the source's inflow.

Rule (mass curve): over the peak day, the source delivers the day's demand at a constant rate
during its supply hours (all 24 by default, or only some, e.g. an intermittent tap-off or a
pump run off-peak) while the villages draw it by the hourly pattern. The tank must hold the
largest cumulative surplus plus the largest cumulative deficit:

    V_balancing = max_h S(h) - min_h S(h),   S(h) = sum over hours < h of (inflow - demand)

To this is added an emergency reserve, in hours of average-day demand (default 12 h [E]: half a
day to repair the main or the pump). The brief's rule of thumb, max(50% of peak-day demand,
1 day of average demand) for tanks fed by an intermittent tap-off or a pumped main (Oujda brief
5.1 [E]), is reported beside it for comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import wntr

from hydro.errors import InputError
from hydro.network import copy_network

HOURS_PER_DAY = 24
DEFAULT_RESERVE_HOURS = 12.0
RESERVE_SOURCE = "estimate [E]: half a day of average demand to repair the main or the pump"


@dataclass
class StorageSizing:
    """The storage rule and its result. Volumes in m3."""

    peak_day_m3: float
    average_day_m3: float
    supply_hours: tuple[int, ...]
    balancing_m3: float
    reserve_hours: float
    reserve_m3: float
    hourly: pd.DataFrame  # hour, inflow_m3, demand_m3, stored_m3 (end of hour, above the low)

    @property
    def volume_m3(self) -> float:
        return self.balancing_m3 + self.reserve_m3

    @property
    def brief_rule_m3(self) -> float:
        """Oujda brief 5.1 rule of thumb: max(50% of peak day, 1 day of average demand)."""
        return max(0.5 * self.peak_day_m3, self.average_day_m3)

    @property
    def inflow_l_per_s(self) -> float:
        """Inflow needed during the supply hours [l/s]."""
        return self.peak_day_m3 / len(self.supply_hours) / 3.6

    def describe(self) -> str:
        hours = len(self.supply_hours)
        when = "24 h a day" if hours == HOURS_PER_DAY else f"{hours} h a day"
        return (
            f"balancing volume {self.balancing_m3:.1f} m3 (peak day {self.peak_day_m3:.1f} m3 "
            f"drawn by the hourly pattern, supplied {when} at {self.inflow_l_per_s:.2f} l/s) "
            f"+ reserve {self.reserve_m3:.1f} m3 ({self.reserve_hours:g} h of the average day "
            f"{self.average_day_m3:.1f} m3) = {self.volume_m3:.1f} m3; brief rule of thumb "
            f"max(50% peak day, 1 average day) = {self.brief_rule_m3:.1f} m3"
        )


def parse_hours(text: str | None) -> tuple[int, ...]:
    """Supply hours from ``"0-24"``, ``"6-22"`` or ``"22-6"`` (start inclusive, end exclusive)."""
    if text is None or str(text).strip() in ("", "0-24", "24"):
        return tuple(range(HOURS_PER_DAY))
    try:
        start, end = (int(x) for x in str(text).split("-"))
    except ValueError as exc:
        raise InputError(f"supply hours {text!r}: use START-END in whole hours, e.g. 6-22") from exc
    if not (0 <= start < HOURS_PER_DAY and 0 < end <= HOURS_PER_DAY) or start == end:
        raise InputError(f"supply hours {text!r}: hours must be within 0-24 and differ")
    if start < end:
        return tuple(range(start, end))
    return tuple(range(start, HOURS_PER_DAY)) + tuple(range(0, end))


def size_storage(
    peak_day_m3: float,
    pattern,
    average_day_m3: float | None = None,
    reserve_hours: float = DEFAULT_RESERVE_HOURS,
    supply_hours: tuple[int, ...] | None = None,
) -> StorageSizing:
    """Balancing volume plus reserve for a peak day drawn by ``pattern`` (24 multipliers).

    ``average_day_m3`` defaults to the peak day (no peak-day factor known).
    """
    pattern = np.asarray(pattern, dtype=float)
    if pattern.shape != (HOURS_PER_DAY,) or (pattern < 0).any() or pattern.sum() <= 0:
        raise InputError("the demand pattern must have 24 non-negative multipliers")
    if peak_day_m3 < 0 or reserve_hours < 0:
        raise InputError("peak-day demand and reserve hours must not be negative")
    hours = tuple(range(HOURS_PER_DAY)) if supply_hours is None else tuple(supply_hours)
    if not hours:
        raise InputError("the source must supply at least one hour a day")
    demand = peak_day_m3 * pattern / pattern.sum()
    inflow = np.zeros(HOURS_PER_DAY)
    inflow[list(hours)] = peak_day_m3 / len(hours)
    stored = np.concatenate([[0.0], np.cumsum(inflow - demand)])
    balancing = float(stored.max() - stored.min())
    average = peak_day_m3 if average_day_m3 is None else float(average_day_m3)
    reserve = reserve_hours * average / HOURS_PER_DAY
    hourly = pd.DataFrame(
        {
            "hour": np.arange(HOURS_PER_DAY),
            "inflow_m3": inflow,
            "demand_m3": demand,
            "stored_m3": stored[1:] - stored.min(),
        }
    )
    return StorageSizing(peak_day_m3, average, hours, balancing, reserve_hours, reserve, hourly)


def size_tank(
    wn: wntr.network.WaterNetworkModel,
    tank: str,
    peak_day_factor: float = 1.3,
    reserve_hours: float = DEFAULT_RESERVE_HOURS,
    supply_hours: tuple[int, ...] | None = None,
) -> StorageSizing:
    """Storage for ``tank`` from the model's own first day of demand at the junctions it
    serves, taken as the peak day (average day = peak day / ``peak_day_factor``, 1.3 by
    default: Oujda brief 5.1)."""
    day = tank_demand_day(wn, tank)
    return size_storage(
        day.sum(),
        day,
        average_day_m3=day.sum() / peak_day_factor,
        reserve_hours=reserve_hours,
        supply_hours=supply_hours,
    )


def tank_demand_day(wn: wntr.network.WaterNetworkModel, tank: str) -> np.ndarray:
    """Hourly demand [m3] over the first day at the junctions this tank serves.

    Served junctions: those of the distribution pieces (see :func:`hydro.compliance.zones`)
    that touch the tank.
    """
    from hydro.compliance import zones

    if tank not in wn.tank_name_list:
        raise InputError(f"{tank!r} is not a tank of the network; tanks: {wn.tank_name_list}")
    pipe_zone, node_zone = zones(wn)
    served = _served_junctions(wn, tank, pipe_zone)
    model = copy_network(wn)
    model.options.time.duration = (HOURS_PER_DAY - 1) * 3600
    model.options.time.report_timestep = 3600
    model.options.time.hydraulic_timestep = 3600
    expected = wntr.metrics.expected_demand(model)
    hourly = expected[sorted(served)].sum(axis=1).to_numpy()[:HOURS_PER_DAY] * 3600
    return hourly


def _served_junctions(wn, tank: str, pipe_zone: dict) -> set[str]:
    import networkx as nx

    graph = nx.Graph()
    for name, link in wn.links():
        if pipe_zone.get(name) == "distribution":
            graph.add_edge(link.start_node_name, link.end_node_name)
    if tank not in graph:
        return set()
    fixed = set(wn.reservoir_name_list) | set(wn.tank_name_list)
    served, stack = set(), [n for n in graph.neighbors(tank)]
    seen = {tank}
    while stack:
        n = stack.pop()
        if n in seen or n in fixed:
            continue
        seen.add(n)
        served.add(n)
        stack.extend(graph.neighbors(n))
    return served


def resize_tank(
    wn: wntr.network.WaterNetworkModel, tank: str, volume_m3: float
) -> wntr.network.WaterNetworkModel:
    """A copy of ``wn`` whose tank holds ``volume_m3`` between its minimum and maximum levels.

    The levels are kept; the diameter changes (a cylindrical tank, no volume curve).
    """
    model = copy_network(wn)
    node = model.get_node(tank)
    usable_depth = node.max_level - node.min_level
    if usable_depth <= 0 or volume_m3 <= 0:
        raise InputError(f"tank {tank}: need a positive volume and max level above min level")
    node.diameter = math.sqrt(4 * volume_m3 / (math.pi * usable_depth))
    return model


def tank_volume_m3(wn: wntr.network.WaterNetworkModel, tank: str) -> float:
    """Usable volume of a cylindrical tank between its minimum and maximum levels [m3]."""
    node = wn.get_node(tank)
    return math.pi * node.diameter**2 / 4 * (node.max_level - node.min_level)
