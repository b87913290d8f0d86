"""Solar pumping: the PV array, the pump and the tank of a borehole scheme, for the worst month.

A solar-pumped scheme lifts water from a borehole into an elevated tank while the sun shines
and the tank feeds the standpipes all day. The engineer's questions: how many kWp and which
pump give the daily need in the worst month, how many days of storage, and on how many days
of the year the tank runs short.

The model is the documented simple one (no weather file needed):

- hydraulic energy: E = V H / 367 [kWh] for V m3 lifted H m (rho g / 3.6e6);
- the array's daily output in month m: P_kWp x Y_m x derate, Y_m the month's yield
  [kWh/kWp/day] from the study file (subsaharan brief 9: 4-5.5 in West Africa [S]), derate
  for heat, dust and wiring (0.85 [E]);
- its hourly output: a half-sine between sunrise and sunset scaled to that daily energy
  (estimate [E]: a clear-sky shape; cloudy spells are what the days of storage are for);
- the pump: each catalogue pump gives at most its rated flow at the total head; its
  wire-to-water efficiency turns PV power into lifted water (45% [E], subsaharan brief 9).

Entry points: :func:`size_solar_pumping` (PV, pump, tank) and :func:`simulate_year` (the
tank's level hour by hour over a year of typical days).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hydro.errors import InputError

#: rho g / 3.6e6 expressed as the divisor of m3 x m to get kWh.
M4_PER_KWH = 367.0
#: PV derate for heat, dust, mismatch and wiring [E].
PV_DERATE = 0.85
#: Wire-to-water efficiency of a small solar pump set [E] (subsaharan brief 9).
WIRE_TO_WATER = 0.45
DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True, kw_only=True)
class Borehole:
    """A borehole and the lift to the tank.

    Attributes
    ----------
    static_level_m, drawdown_m : float
        Depth of the water below ground at rest, and its fall while pumping [m].
    tank_inlet_m : float
        Height of the tank's inlet above the borehole's ground [m] (elevation difference
        plus the tower).
    main_loss_m : float
        Head loss in the rising main at the pump's flow [m].
    safe_yield_m3_per_h : float, optional
        The most the borehole gives (pumping test); None: not limiting.
    """

    static_level_m: float
    drawdown_m: float
    tank_inlet_m: float
    main_loss_m: float = 0.0
    safe_yield_m3_per_h: float | None = None

    @property
    def total_head_m(self) -> float:
        """Total dynamic head [m]: lift from the pumping level to the tank inlet, plus losses."""
        return self.static_level_m + self.drawdown_m + self.tank_inlet_m + self.main_loss_m


def hydraulic_energy_kwh(volume_m3: float, head_m: float) -> float:
    """Energy to lift ``volume_m3`` by ``head_m`` [kWh].

    Examples
    --------
    >>> round(hydraulic_energy_kwh(30, 60), 2)  # subsaharan brief 9: 4.9 kWh a day
    4.9
    """
    return volume_m3 * head_m / M4_PER_KWH


def hourly_shape(sunrise_h: float = 6.0, sunset_h: float = 18.0) -> np.ndarray:
    """Share of a day's PV energy in each hour: a half-sine from sunrise to sunset [E].

    Examples
    --------
    >>> shape = hourly_shape()
    >>> round(float(shape.sum()), 6), int(shape.argmax())
    (1.0, 11)
    """
    edges = np.arange(25, dtype=float)
    a, b = np.clip(edges[:-1], sunrise_h, sunset_h), np.clip(edges[1:], sunrise_h, sunset_h)
    width = sunset_h - sunrise_h
    # integral of sin(pi (t - rise) / width) over each hour
    part = np.cos(math.pi * (a - sunrise_h) / width) - np.cos(math.pi * (b - sunrise_h) / width)
    return part / part.sum()


def read_solar_pumps(path) -> pd.DataFrame:
    """A solar pump catalogue: pump, power_kw, max_head_m, flow_m3_per_h (at the rated power
    and a head below the maximum), cost; one row per pump.
    """
    table = pd.read_csv(path, comment="#")
    need = {"pump", "power_kw", "max_head_m", "flow_m3_per_h", "cost"}
    missing = need - set(table.columns)
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    for column in need - {"pump"}:
        values = pd.to_numeric(table[column], errors="coerce")
        bad = ~np.isfinite(values) | (values <= 0)
        if bad.any():
            row = table[bad].iloc[0]
            raise InputError(f"{path}: pump {row['pump']}: {column} = {row[column]!r}; > 0")
        table[column] = values
    return table


@dataclass(kw_only=True)
class SolarDesign:
    """A solar pumping design for the worst month and what a year of it gives.

    Attributes
    ----------
    kwp : float
        PV array [kWp].
    pump : str
        The pump chosen; ``pump_flow_m3_per_h`` its flow at the total head.
    tank_m3 : float
        Storage: days of autonomy x daily need.
    worst_month : int
        1-12: the month of least yield per unit of need.
    year : DataFrame
        One row per day: pumped_m3, delivered_m3, shortfall_m3, lowest_level_m3.
    """

    daily_need_m3: float
    head_m: float
    kwp: float
    pump: str
    pump_flow_m3_per_h: float
    pump_cost: float
    tank_m3: float
    worst_month: int
    year: pd.DataFrame

    @property
    def shortfall_days(self) -> int:
        """Days of the year on which the tank could not give the whole need."""
        return int((self.year["shortfall_m3"] > 1e-6).sum())


def size_solar_pumping(
    daily_need_m3: float | Sequence[float],
    borehole: Borehole,
    yield_kwh_per_kwp_day: Sequence[float],
    pumps: pd.DataFrame,
    autonomy_days: float = 1.0,
    wire_to_water: float = WIRE_TO_WATER,
    derate: float = PV_DERATE,
    demand_pattern: Sequence[float] | None = None,
) -> SolarDesign:
    """Size the PV array, choose the pump and the tank for the worst month, then run a year.

    Parameters
    ----------
    daily_need_m3 : float or 12 floats
        Water to deliver a day [m3], or one figure per month.
    borehole : Borehole
        Levels and lift; its total dynamic head is the pump's head.
    yield_kwh_per_kwp_day : 12 floats
        PV yield of each month [kWh/kWp/day] (the study file, with its source).
    pumps : DataFrame
        The solar pump catalogue (:func:`read_solar_pumps`).
    autonomy_days : float
        Days of need the tank holds (1 day: subsaharan brief 12 [E]).
    wire_to_water, derate : float
        Pump set and PV efficiencies.
    demand_pattern : 24 floats, optional
        Hourly shape of the draw from the tank (default: daylight hours 6-19, flat).

    Returns
    -------
    SolarDesign
        The design; its ``year`` gives the days with a shortfall.
    """
    need = np.broadcast_to(np.asarray(daily_need_m3, dtype=float), (12,)).copy()
    yields = np.asarray(yield_kwh_per_kwp_day, dtype=float)
    if yields.shape != (12,) or not np.all(np.isfinite(yields)) or yields.min() <= 0:
        raise InputError("PV yield: 12 monthly figures > 0 [kWh/kWp/day] are required")
    if not np.all(np.isfinite(need)) or need.min() < 0:
        raise InputError("daily need: a finite number of m3 >= 0 (or 12 of them)")
    head = borehole.total_head_m
    worst = int(np.argmax(need / yields))
    energy = hydraulic_energy_kwh(need[worst], head) / wire_to_water
    kwp = energy / (yields[worst] * derate)
    pump = _choose_pump(
        pumps, head, kwp, need[worst], borehole, yields[worst] * derate, wire_to_water
    )
    flow = min(float(pump["flow_m3_per_h"]), borehole.safe_yield_m3_per_h or math.inf)
    tank = autonomy_days * float(need.max())
    design = SolarDesign(
        daily_need_m3=float(need.max()), head_m=head, kwp=float(kwp), pump=str(pump["pump"]),
        pump_flow_m3_per_h=flow, pump_cost=float(pump["cost"]), tank_m3=tank,
        worst_month=worst + 1, year=pd.DataFrame(),
    )  # fmt: skip
    design.year = simulate_year(design, need, yields, wire_to_water, derate, demand_pattern)
    return design


def _choose_pump(pumps, head, kwp, need_m3, borehole, daily_kwh_per_kwp, efficiency):
    """The cheapest pump that lifts to ``head``, takes the array's noon power and, capped at
    its flow (and the borehole's yield), still lifts the worst month's need in a day.
    """
    power = kwp * daily_kwh_per_kwp * hourly_shape()  # kWh in each hour = kW on average
    usable = pumps[(pumps["max_head_m"] >= head) & (pumps["power_kw"] >= power.max() - 1e-9)]
    cap = borehole.safe_yield_m3_per_h or math.inf
    lift = power * efficiency * M4_PER_KWH / head  # m3 each hour, uncapped
    daily = [float(np.minimum(lift, min(q, cap)).sum()) for q in usable["flow_m3_per_h"]]
    usable = usable[np.asarray(daily, dtype=float) >= need_m3 * (1 - 1e-9)]
    if usable.empty:
        raise InputError(
            f"no pump of the catalogue lifts {need_m3:.1f} m3 a day {head:.0f} m with "
            f"{kwp:.2f} kWp (add a larger pump, lower the need or the head)"
            + (f"; the borehole gives at most {cap:g} m3/h" if cap < math.inf else "")
        )
    return usable.sort_values(["cost", "power_kw"]).iloc[0]


def simulate_year(
    design: SolarDesign,
    need_m3: np.ndarray,
    yields: np.ndarray,
    wire_to_water: float = WIRE_TO_WATER,
    derate: float = PV_DERATE,
    demand_pattern: Sequence[float] | None = None,
) -> pd.DataFrame:
    """The tank's level hour by hour over 365 typical days (each month's yield and need).

    The tank starts full; each hour the pump lifts what the PV power allows (at most its
    flow), the tank takes it up to full, and the village draws its hour's share of the day's
    need while the tank holds water.
    """
    shape = hourly_shape()
    pattern = np.zeros(24)
    pattern[6:19] = 1.0
    if demand_pattern is not None:
        pattern = np.asarray(demand_pattern, dtype=float)
    pattern = pattern / pattern.sum()
    level = design.tank_m3
    rows = []
    for month, days in enumerate(DAYS_IN_MONTH):
        pv_kwh = design.kwp * yields[month] * derate * shape  # per hour
        lift = np.minimum(pv_kwh * wire_to_water * M4_PER_KWH / design.head_m,
                          design.pump_flow_m3_per_h)  # fmt: skip
        draw = need_m3[month] * pattern
        for _ in range(days):
            pumped = delivered = 0.0
            lowest = level
            for h in range(24):
                take = min(lift[h], design.tank_m3 - level)
                level += take
                given = min(draw[h], level)
                level -= given
                pumped, delivered, lowest = pumped + take, delivered + given, min(lowest, level)
            rows.append((month + 1, pumped, delivered, need_m3[month] - delivered, lowest))
    return pd.DataFrame(
        rows, columns=["month", "pumped_m3", "delivered_m3", "shortfall_m3", "lowest_level_m3"]
    )


# --------------------------------------------------------------------------- alternatives
@dataclass(frozen=True, kw_only=True)
class EnergyOption:
    """The cost of an energy source for the same daily pumping (capital and a year's running).

    Attributes
    ----------
    name : str
        ``solar``, ``diesel`` or ``grid``.
    capital : float
        Equipment and connection [currency].
    running_per_year : float
        Fuel or electricity and its upkeep a year [currency].
    life_years : float
        Before the equipment is replaced.
    """

    name: str
    capital: float
    running_per_year: float
    life_years: float


def diesel_option(
    energy_kwh_per_day: float,
    genset_cost: float,
    fuel_price_per_l: float,
    litres_per_kwh: float = 0.4,
    upkeep_per_hour: float = 0.0,
    hours_per_day: float = 6.0,
    life_years: float = 8.0,
) -> EnergyOption:
    """A diesel genset for ``energy_kwh_per_day`` of pump input.

    ``litres_per_kwh``: 0.3-0.5 l of fuel per kWh for small gensets at part load [E].
    """
    fuel = energy_kwh_per_day * litres_per_kwh * fuel_price_per_l * 365
    upkeep = upkeep_per_hour * hours_per_day * 365
    return EnergyOption(name="diesel", capital=genset_cost, running_per_year=fuel + upkeep,
                        life_years=life_years)  # fmt: skip


def grid_option(
    energy_kwh_per_day: float, connection_cost: float, tariff_per_kwh: float, life_years=25.0
) -> EnergyOption:
    """A grid connection for ``energy_kwh_per_day`` of pump input at ``tariff_per_kwh``."""
    return EnergyOption(name="grid", capital=connection_cost,
                        running_per_year=energy_kwh_per_day * tariff_per_kwh * 365,
                        life_years=life_years)  # fmt: skip
