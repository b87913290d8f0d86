"""A pumping station costed from its parts, on the grid or on solar power.

A village booster is small (a few kW) and is priced from what it is made of, not as a share
of a large station: a duty and a standby pump set (by motor power, or the catalogue price of
the pump chosen), a small pump house, the electrics and controls, the power connection (or,
with the solar option, a PV array and its pump drive instead), and surge protection when the
surge check asks for it. The prices are the study's (each with its source); nothing here is
specific to a place.

The motor: the pump's input power at its duty, rho g Q H / efficiency, with a service margin
(:data:`MOTOR_MARGIN`), rounded up to the next standard motor rating
(:data:`STANDARD_MOTORS_KW`). The PV array for the solar option: the day's pump input energy
over the month's yield per kWp and the derate (:mod:`hydro.solar`), the drive rated at the
motor's power.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from hydro.errors import InputError
from hydro.solar import PV_DERATE
from hydro.units import RHO_G

#: Rated outputs of standard three-phase motors [kW] (IEC 60072-1 preferred outputs [S]).
STANDARD_MOTORS_KW = (0.37, 0.55, 0.75, 1.1, 1.5, 2.2, 3.0, 4.0, 5.5, 7.5, 11.0, 15.0, 18.5,
                      22.0, 30.0, 37.0, 45.0, 55.0, 75.0, 90.0, 110.0, 132.0, 160.0,
                      200.0)  # fmt: skip
#: Motor rating over the pump's input power at its duty [-]: a 10% service margin [E].
MOTOR_MARGIN = 1.1
#: Columns of :func:`station_parts`.
PART_COLUMNS = ("part", "quantity", "unit", "unit_cost", "total")
#: A study's price keys of a station's parts ([unit_costs] in a design study) -> the field of
#: :class:`StationPrices`; the first six are needed together, the solar ones are optional.
STATION_COSTS = {
    "station_pump_set_fixed": "pump_set_fixed",
    "station_pump_set_per_kw": "pump_set_per_kw",
    "station_building": "building",
    "station_electrics_fixed": "electrics_fixed",
    "station_electrics_per_kw": "electrics_per_kw",
    "station_power_connection": "power_connection",
    "station_pv_per_wp": "pv_per_wp",
    "station_drive_per_kw": "drive_per_kw",
}


@dataclass(frozen=True, kw_only=True)
class StationPrices:
    """The prices of a station's parts (the study's currency, each part's source the study's).

    pump_set_fixed, pump_set_per_kw : one pump set (pump and motor) = fixed + per kW of motor,
        used when the pump's own price is not known;
    building : the pump house; electrics_fixed, electrics_per_kw : panel, starters, level
    controls and cabling; power_connection : the grid connection; surge_protection : a surge
    vessel or anti-ram valve when the surge check asks; pv_per_wp : the PV array installed
    (per watt peak); drive_per_kw : the solar pump drive (inverter) per kW of motor;
    pv_yield_kwh_per_kwp_day : the worst month's yield.
    """

    pump_set_fixed: float
    pump_set_per_kw: float
    building: float
    electrics_fixed: float
    electrics_per_kw: float
    power_connection: float
    surge_protection: float = 0.0
    pv_per_wp: float | None = None
    drive_per_kw: float | None = None
    pv_yield_kwh_per_kwp_day: float = 5.0


def station_prices(values: dict[str, float], where: str = "study") -> StationPrices | None:
    """The :class:`StationPrices` given by ``values`` (key -> price, keys of
    :data:`STATION_COSTS`); None when none is given.

    >>> station_prices({}) is None
    True
    >>> station_prices({"station_building": 1.0})
    Traceback (most recent call last):
    hydro.errors.InputError: study: a station costed from its parts needs [unit_costs] \
station_pump_set_fixed, station_pump_set_per_kw, station_electrics_fixed, \
station_electrics_per_kw, station_power_connection
    """
    given = {STATION_COSTS[k]: float(v) for k, v in values.items() if k in STATION_COSTS}
    if not given:
        return None
    needed = list(STATION_COSTS)[:6]
    missing = [k for k in needed if STATION_COSTS[k] not in given]
    if missing:
        raise InputError(
            f"{where}: a station costed from its parts needs [unit_costs] {', '.join(missing)}"
        )
    return StationPrices(**given)


def motor_kw(flow_m3_per_s: float, head_m: float, efficiency: float) -> float:
    """The standard motor [kW] for a pump at ``flow_m3_per_s`` and ``head_m``.

    ``efficiency`` is the wire-to-water efficiency at the duty (0-1).

    Examples
    --------
    >>> motor_kw(0.00125, 100.0, 0.55)  # 2.23 kW of input, x 1.1 = 2.45: a 3 kW motor
    3.0
    """
    if not (flow_m3_per_s > 0 and head_m > 0 and 0 < efficiency <= 1):
        raise InputError(
            f"pumping station: duty {flow_m3_per_s * 1000:g} l/s at {head_m:g} m with "
            f"efficiency {efficiency:g}: flow and head must be above 0, efficiency in (0, 1]"
        )
    need = RHO_G * flow_m3_per_s * head_m / efficiency / 1000 * MOTOR_MARGIN
    for rating in STANDARD_MOTORS_KW:
        if rating >= need - 1e-9:
            return rating
    raise InputError(
        f"pumping station: {need:.0f} kW is above the largest standard motor here "
        f"({STANDARD_MOTORS_KW[-1]:g} kW): split the duty between several stations"
    )


def pv_kwp(energy_kwh_per_day: float, yield_kwh_per_kwp_day: float) -> float:
    """The PV array [kWp] that gives ``energy_kwh_per_day`` of pump input in a day.

    >>> round(pv_kwp(26.8, 5.0), 2)  # 26.8 / (5.0 x 0.85)
    6.31
    """
    return energy_kwh_per_day / (yield_kwh_per_kwp_day * PV_DERATE)


def station_parts(
    flow_m3_per_s: float,
    head_m: float,
    efficiency: float,
    prices: StationPrices,
    *,
    pump_price: float | None = None,
    surge: bool = False,
    solar_kwh_per_day: float | None = None,
) -> pd.DataFrame:
    """The station's parts with their quantities and costs (:data:`PART_COLUMNS`).

    Parameters
    ----------
    flow_m3_per_s, head_m, efficiency : float
        The pump's duty and its wire-to-water efficiency there.
    prices : StationPrices
        The parts' prices.
    pump_price : float, optional
        The price of the chosen pump set (a catalogue pump); else by motor power.
    surge : bool
        The surge check asks for protection (a vessel or an anti-ram valve).
    solar_kwh_per_day : float, optional
        The solar option: the pump's input energy a day [kWh]; the PV array and its drive
        replace the grid connection.

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> prices = StationPrices(pump_set_fixed=22000, pump_set_per_kw=4200, building=100000,
    ...                        electrics_fixed=40000, electrics_per_kw=6000,
    ...                        power_connection=150000)
    >>> parts = station_parts(0.00125, 100.0, 0.55, prices)  # a 3 kW motor
    >>> parts["total"].tolist()  # 2 x (22,000 + 3 x 4,200); 100,000; 40,000 + 3 x 6,000; ...
    [69200.0, 100000.0, 58000.0, 150000.0]
    """
    kw = motor_kw(flow_m3_per_s, head_m, efficiency)
    pump_set = pump_price if pump_price is not None else (
        prices.pump_set_fixed + prices.pump_set_per_kw * kw
    )  # fmt: skip
    rows = [
        ("duty and standby pump sets", 2.0, f"set ({kw:g} kW)", pump_set),
        ("pump house", 1.0, "unit", prices.building),
        ("electrics and controls", 1.0, "unit",
         prices.electrics_fixed + prices.electrics_per_kw * kw),
    ]  # fmt: skip
    if solar_kwh_per_day is None:
        rows.append(("power connection", 1.0, "unit", prices.power_connection))
    else:
        if prices.pv_per_wp is None or prices.drive_per_kw is None:
            raise InputError(
                "pumping station, solar option: give the PV price per Wp and the drive's "
                "price per kW"
            )
        kwp = pv_kwp(solar_kwh_per_day, prices.pv_yield_kwh_per_kwp_day)
        rows.append(("PV array", math.ceil(kwp * 1000), "Wp", prices.pv_per_wp))
        rows.append(("solar pump drive", kw, "kW", prices.drive_per_kw))
    if surge:
        rows.append(("surge protection", 1.0, "unit", prices.surge_protection))
    table = pd.DataFrame(rows, columns=list(PART_COLUMNS[:-1]))
    table["total"] = (table["quantity"] * table["unit_cost"]).astype(float)
    return table


def station_cost(*args, **kwargs) -> float:
    """The station's total cost: the sum of :func:`station_parts` (same arguments)."""
    return float(station_parts(*args, **kwargs)["total"].sum())
