"""Storage sizing: the balancing volume of a day's demand against the source's inflow.

Rule (mass curve): over the peak day, the source delivers the day's demand at a constant rate
during its supply hours (all 24 by default, or only some, e.g. an intermittent tap-off or a
pump run off-peak) while the villages draw it by the hourly pattern. The tank must hold the
largest cumulative surplus plus the largest cumulative deficit:

    V_balancing = max_h S(h) - min_h S(h),   S(h) = sum over hours < h of (inflow - demand)

To this is added an emergency reserve, in hours of average-day demand (default 12 h [E]: half a
day to repair the main or the pump). The rule of thumb of docs/sources.md, 5.1 [E],
max(50% of peak-day demand, 1 day of average demand) for tanks fed by an intermittent tap-off
or a pumped main, is reported beside it for comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import wntr

from hydro import defaults
from hydro.demand import apply_demand, get_scenario, network_demand
from hydro.errors import InputError
from hydro.network import copy_network, element
from hydro.topology import served_junctions
from hydro.units import HOURS_PER_DAY, SECONDS_PER_HOUR


@dataclass(kw_only=True)
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
        """Storage volume: balancing plus reserve [m3]."""
        return self.balancing_m3 + self.reserve_m3

    @property
    def brief_rule_m3(self) -> float:
        """The rule of thumb of docs/sources.md, 5.1: max(50% of peak day, 1 day of average
        demand).
        """
        return max(0.5 * self.peak_day_m3, self.average_day_m3)

    @property
    def inflow_l_per_s(self) -> float:
        """Inflow needed during the supply hours [l/s]."""
        return self.peak_day_m3 / len(self.supply_hours) / 3.6

    def describe(self) -> str:
        """The storage rule as a sentence."""
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
    reserve_hours: float = defaults.RESERVE_HOURS,
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
    return StorageSizing(
        peak_day_m3=peak_day_m3,
        average_day_m3=average,
        supply_hours=hours,
        balancing_m3=balancing,
        reserve_hours=reserve_hours,
        reserve_m3=reserve,
        hourly=hourly,
    )


def size_tank(
    wn: wntr.network.WaterNetworkModel,
    tank: str,
    peak_day_factor: float = defaults.PEAK_DAY_FACTOR,
    reserve_hours: float = defaults.RESERVE_HOURS,
    supply_hours: tuple[int, ...] | None = None,
) -> StorageSizing:
    """Storage for ``tank`` from the hourly balance of the peak day.

    Storage for ``tank`` from the model's own first day of demand at the junctions it
    serves, taken as the peak day (average day = peak day / ``peak_day_factor``, 1.3 by
    default: docs/sources.md, 5.1).
    """
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

    Served junctions: those of the distribution pieces (see :func:`hydro.topology.zones`)
    that touch the tank.
    """
    if tank not in wn.tank_name_list:
        raise InputError(f"{tank!r} is not a tank of the network; tanks: {wn.tank_name_list}")
    served = served_junctions(wn, tank)
    model = copy_network(wn)
    model.options.time.duration = int((HOURS_PER_DAY - 1) * SECONDS_PER_HOUR)
    model.options.time.report_timestep = int(SECONDS_PER_HOUR)
    model.options.time.hydraulic_timestep = int(SECONDS_PER_HOUR)
    expected = wntr.metrics.expected_demand(model)
    hourly = expected[sorted(served)].sum(axis=1).to_numpy()[:HOURS_PER_DAY] * SECONDS_PER_HOUR
    return hourly


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


@dataclass(frozen=True, kw_only=True)
class StorageDesign:
    """A tank sized by :func:`design_storage`, and the pump that fills it when asked."""

    sizing: StorageSizing
    model: wntr.network.WaterNetworkModel  # a copy with the tank (and pump) installed
    duty: object | None = None  # hydro.pumps.Duty
    pump: object | None = None  # hydro.pumps.PumpChoice
    energy: object | None = None  # hydro.pumps.PumpEnergy over the check run


def design_storage(
    wn: wntr.network.WaterNetworkModel,
    tank: str,
    *,
    peak_day_factor: float = defaults.PEAK_DAY_FACTOR,
    reserve_hours: float = defaults.RESERVE_HOURS,
    supply_hours: tuple[int, ...] | None = None,
    pump: str | None = None,
    pump_catalog: pd.DataFrame | None = None,
    pumping_hours: float = defaults.PUMPING_HOURS,
    energy_price_per_kwh: float = defaults.ENERGY_PRICE_EUR_PER_KWH,
    duration_h: float = defaults.CHECK_DURATION_H,
    villages: pd.DataFrame | None = None,
    year: int | None = None,
    scenario: str = "standpipes",
    source: str = "network",
) -> StorageDesign:
    """Size a tank from the hourly balance of the demand it serves, and optionally its pump.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network, with the demand to store for (never modified).
    tank : str
        The tank to size.
    peak_day_factor : float
        Peak day over average day [-] (default: docs/sources.md, 5.1).
    reserve_hours : float
        Emergency reserve in hours of average demand [h].
    supply_hours : tuple of int, optional
        Hours of the day the source supplies (:func:`parse_hours`); default all day.
    pump : str, optional
        The pump that fills the tank: sized for the peak day in ``pumping_hours``, chosen from
        ``pump_catalog`` (else a fitted curve), given tank-level controls.
    pump_catalog : pandas.DataFrame, optional
        :func:`hydro.pumps.read_pump_catalog`.
    pumping_hours : float
        Hours a day the pump runs at its duty flow [h].
    energy_price_per_kwh : float
        Energy price [currency/kWh]: the pump's energy cost comes in its currency (default
        :data:`hydro.defaults.ENERGY_PRICE_EUR_PER_KWH`, in EUR).
    duration_h : float
        Duration of the run that measures the pump's energy [h].
    villages : pandas.DataFrame, optional
        A village table (:func:`hydro.demand.read_villages`): store for its demand projected
        to ``year`` (:func:`hydro.demand.network_demand`) instead of the model's own.
    year : int, optional
        The year of the projection (with ``villages``, and only with them).
    scenario : str
        Demand scenario of the projection (:func:`hydro.demand.get_scenario`).
    source : str
        The network's file name, for messages.

    Returns
    -------
    StorageDesign
        The sizing (balancing volume and reserve [m3], hourly balance), a copy of the model
        with the tank resized, and the pump's duty, choice and energy when asked.

    Examples
    --------
    >>> from hydro.network import read_network
    >>> design = design_storage(read_network("networks/oujda_rural.inp"), "T_ANGAD")
    >>> design.sizing.volume_m3 > 0
    True
    """
    from hydro.pumps import install_pump, pump_duty, pump_energy, select_pump
    from hydro.simulation import run_simulation

    element(wn, tank, "tank", "design_storage: tank")
    if pump:
        element(wn, pump, "pump", "design_storage: pump")
    if (villages is None) != (year is None):
        raise InputError(
            f"{source}: storing for a projected demand needs both a village table and a year"
        )
    if villages is not None:
        projection = network_demand(villages, wn, year, get_scenario(scenario), source)
        wn = apply_demand(wn, projection)
    sizing = size_tank(wn, tank, peak_day_factor, reserve_hours, supply_hours)
    model = resize_tank(wn, tank, sizing.volume_m3)
    if not pump:
        return StorageDesign(sizing=sizing, model=model)
    duty = pump_duty(model, pump, tank, sizing.peak_day_m3, pumping_hours)
    choice = select_pump(pump_catalog, duty)
    model = install_pump(model, pump, choice, tank)
    results = run_simulation(model, duration_h=duration_h)
    energy = pump_energy(results, model, pump, energy_price_per_kwh)
    return StorageDesign(sizing=sizing, model=model, duty=duty, pump=choice, energy=energy)
