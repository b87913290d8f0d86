"""A solar-pumped standpipe study (``kind = "solar"``): options side by side, end to end.

A study file with ``kind = "solar"`` describes a borehole scheme (a borehole and solar pump
lifting into an elevated tank, standpipes by gravity), its household clusters on the map,
unit costs with their sources, and options: a documented scheme to rebuild and cost
(``pumped_m3_per_day``, ``documented_cost_local``), designs to a number of litres per person
per day (standpipes, some yard taps) and boreholes with handpumps. ``hydro run`` runs these
named steps for each option:

1. :func:`load_solar_study`: read and check the study file (every error names the file,
   the section and key, and what is allowed);
2. :func:`option_demand`: the people at each water point (each cluster walks to its
   nearest) and the daily need;
3. :func:`design_solar`: the PV array, the pump and the tank for the worst month, and a year
   of days (:func:`hydro.solar.size_solar_pumping`);
4. :func:`size_option_network`: the pipes at least cost at the peak hour in the option's
   network as EPANET runs it (:func:`design_network`: its tank, its pump run by the sun,
   the draw pattern, the rising main), by :func:`hydro.size_network`, whose written file an
   independent EPANET run checks (design condition and 72 h of operation, as ``hydro
   check``);
5. :func:`option_service`: service levels from the map (:mod:`hydro.service_levels`);
6. :func:`option_capital` and :func:`option_lifecycle`: the bill and the WASHCost life-cycle
   cost (:mod:`hydro.lifecycle`);
7. :func:`option_kiosk`: the kiosk's accounts (:mod:`hydro.kiosk`);
8. :func:`calibration_table`: hydro's cost of each documented scheme against its
   documented cost;
9. :func:`write_solar_outputs`: the CSV tables and the report (:mod:`hydro.study.solar_report`).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import wntr.network.controls as ctl

from hydro.catalog import Catalog, read_catalog
from hydro.errors import InputError
from hydro.kiosk import KioskFinances, kiosk_finances, replacement_fund_per_year
from hydro.lifecycle import Asset, LifeCycle, Option, handpump_option, life_cycle, lifecycle_table
from hydro.network import copy_network, read_network
from hydro.outputs import Outputs, write_csv
from hydro.service_levels import (
    SPHERE_PEOPLE_PER_HANDPUMP,
    SPHERE_PEOPLE_PER_TAP,
    nearest_tap,
    village_service,
)
from hydro.sizing import SizingResult, Targets, size_network
from hydro.solar import (
    M4_PER_KWH,
    PV_DERATE,
    WIRE_TO_WATER,
    Borehole,
    SolarDesign,
    diesel_option,
    grid_option,
    hourly_shape,
    hydraulic_energy_kwh,
    read_solar_pumps,
    size_solar_pumping,
)
from hydro.study.solar_report import render as render_report

KIND = "solar"
#: Flow of a handpump [l/s]: Sphere's 17 l/min [S].
HANDPUMP_L_PER_S = 17.0 / 60.0
#: Hours of operation the written design is run over (as ``hydro check``) [h].
OPERATION_H = 72.0
#: The tank's float switch stops the pump this far below the tank's top [m] (``hydro
#: check`` calls a tank within 0.01 m of its top overflowing).
FLOAT_SWITCH_M = 0.05
#: Time step of the solar pump's running pattern [s].
PV_STEP_S = 300

# ---------------------------------------------------------------- the study file's keys
#: section -> {key: (type, required)}; ``number`` keys must be finite and >= 0.
_SECTIONS = {
    "inputs": {"network": (str, True), "clusters": (str, True), "pipe_catalog": (str, True),
               "solar_pumps": (str, True)},
    "scheme": {"tank": (str, True), "people": ("number", True),
               "tap_flow_l_per_s": ("number", True), "peak_hour_factor": ("number", True),
               "peak_day_factor": ("number", True), "min_pressure_m": ("number", True),
               "max_pressure_m": ("number", False), "route_factor": ("number", False),
               "fixed_pipes": (list, False)},
    "borehole": {"depth_m": ("number", True), "static_level_m": ("number", True),
                 "drawdown_m": ("number", True), "tank_inlet_m": ("number", True),
                 "main_loss_m": ("number", False)},
    "solar": {"yield_kwh_per_kwp_day": (list, True), "yield_source": (str, True),
              "yield_source_fr": (str, False)},
    "money": {"local_currency": (str, True), "local_per_usd": ("number", True),
              "horizon_years": ("number", True), "discount_rate": ("number", True),
              "price_local_per_jerrycan": ("number", True), "paying_share": ("number", False)},
    "operation": {"om_usd_per_person_year": ("number", True),
                  "support_usd_per_person_year": ("number", True),
                  "functionality_solar": ("number", True),
                  "functionality_handpump": ("number", True),
                  "handpump_repairs_usd_per_year": ("number", True),
                  "pv_life_years": ("number", True), "pump_life_years": ("number", True),
                  "tank_life_years": ("number", True), "network_life_years": ("number", True)},
}  # fmt: skip
#: [energy], optional: the diesel and grid alternatives to the PV array (US$, each a number
#: with its source in a comment of the study file).
_ENERGY = {"diesel_usd_per_kw": ("number", True), "diesel_fuel_usd_per_l": ("number", True),
           "diesel_l_per_kwh": ("number", True), "diesel_life_years": ("number", True),
           "diesel_upkeep_usd_per_hour": ("number", True), "pumping_hours": ("number", True),
           "grid_connection_usd": ("number", True), "grid_tariff_usd_per_kwh": ("number", True),
           "grid_life_years": ("number", True)}  # fmt: skip
_TOP = {"kind", "name", "title", "title_fr", "unit_costs", "options", "energy", *_SECTIONS}
#: Unit costs every solar study gives (US$), each ``{value, source}``.
COSTS = ("borehole_per_m", "pv_pump_per_wp", "tank_per_m3", "standpipe", "yard_tap",
         "pump_house", "software", "engineering_share", "contingency_share", "handpump",
         "handpump_borehole_depth_m")  # fmt: skip
_OPTION = {"name": str, "label": str, "label_fr": str, "technology": str,
           "pumped_m3_per_day": "number", "l_per_person_day": "number", "tank_m3": "number",
           "autonomy_days": "number", "standpipes": (str, list), "yard_taps": dict,
           "yard_tap_l_per_person_day": "number", "people_per_household": "number",
           "water_points": list, "documented_cost_local": "number"}  # fmt: skip
TECHNOLOGIES = ("solar", "handpumps")


@dataclass(frozen=True, kw_only=True)
class SolarOption:
    """One option of the study (see the module's docstring and ``studies/kasese``)."""

    name: str
    label: str
    label_fr: str
    technology: str
    pumped_m3_per_day: float | None = None
    l_per_person_day: float | None = None
    tank_m3: float | None = None
    autonomy_days: float = 1.0
    standpipes: tuple[str, ...] | None = None  # None: every standpipe of the network
    yard_taps: dict = field(default_factory=dict)
    yard_tap_l_per_person_day: float = 40.0
    people_per_household: float = 6.0
    water_points: tuple[str, ...] = ()
    documented_cost_local: float | None = None


@dataclass(frozen=True)
class _Parallel:
    """Executor options of a study: a solar study runs in this process."""

    workers: int | None = None
    scheduler: str | None = None


@dataclass(kw_only=True)
class SolarStudy:
    """A ``kind = "solar"`` study file, read and checked; paths resolved."""

    path: Path
    name: str
    title: str
    title_fr: str
    network: Path
    clusters: Path
    pipe_catalog: Path
    solar_pumps: Path
    scheme: dict
    borehole: dict
    solar: dict
    money: dict
    operation: dict
    costs: dict  # key -> (value, source, source in French)
    options: list[SolarOption]
    energy: dict = field(default_factory=dict)  # [energy]: diesel and grid alternatives
    taps: _Parallel = field(default_factory=_Parallel)
    kind: str = KIND

    def inputs(self) -> list[Path]:
        """Every file the study reads (no output may replace one)."""
        return [self.path, self.network, self.clusters, self.pipe_catalog, self.solar_pumps]

    def cost(self, key: str) -> float:
        """A unit cost [US$]."""
        return self.costs[key][0]


# ---------------------------------------------------------------- 1. load and validate
def load_solar_study(path: Path, data: dict) -> SolarStudy:
    """Check a parsed ``kind = "solar"`` study file and resolve its paths.

    Parameters
    ----------
    path : pathlib.Path
        The study file (for messages and relative paths).
    data : dict
        Its TOML content.

    Returns
    -------
    SolarStudy
        The study.

    Raises
    ------
    InputError
        Naming the file, the section and key, and what is allowed.
    """
    _check_keys(data, _TOP, path, "the study file")
    for section, keys in _SECTIONS.items():
        table = data.get(section)
        if not isinstance(table, dict):
            raise InputError(f"{path}: [{section}] is missing (keys: {', '.join(keys)})")
        _check_section(table, keys, path, section)
    energy = data.get("energy", {})
    if not isinstance(energy, dict):
        raise InputError(f"{path}: [energy] must be a table (keys: {', '.join(_ENERGY)})")
    if energy:
        _check_section(energy, _ENERGY, path, "energy")
    costs = _unit_costs(data.get("unit_costs"), path)
    options = [_option(o, k, path) for k, o in enumerate(_list(data, "options", path))]
    names = [o.name for o in options]
    if len(set(names)) != len(names):
        raise InputError(f"{path}: [[options]] names must differ, got {names}")
    base = path.parent
    inputs = {k: (base / v).resolve() for k, v in data["inputs"].items()}
    for key, file in inputs.items():
        if not file.is_file():
            raise InputError(f"{path}: [inputs] {key} = {data['inputs'][key]!r}: no such file")
    yields = data["solar"]["yield_kwh_per_kwp_day"]
    if len(yields) != 12 or not all(_finite(v) and v > 0 for v in yields):
        raise InputError(f"{path}: [solar] yield_kwh_per_kwp_day: 12 numbers > 0, got {yields}")
    if not 0 <= data["money"]["discount_rate"] < 1:
        raise InputError(f"{path}: [money] discount_rate: between 0 and 1")
    return SolarStudy(
        path=path, name=str(data.get("name", path.parent.name)),
        title=str(data.get("title", path.parent.name)),
        title_fr=str(data.get("title_fr", data.get("title", path.parent.name))),
        network=inputs["network"], clusters=inputs["clusters"],
        pipe_catalog=inputs["pipe_catalog"], solar_pumps=inputs["solar_pumps"],
        scheme=data["scheme"], borehole=data["borehole"], solar=data["solar"],
        money=data["money"], operation=data["operation"], costs=costs, options=options,
        energy=energy,
    )  # fmt: skip


def _finite(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _list(data: dict, key: str, path: Path) -> list:
    value = data.get(key)
    if not isinstance(value, list) or not value:
        raise InputError(f"{path}: {key}: at least one [[{key}]] table is required")
    return value


def _check_keys(table: dict, allowed, path: Path, where: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise InputError(
            f"{path}: {where}: unknown key(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )


def _check_value(value, kind, path: Path, where: str) -> None:
    if kind == "number":
        if not (_finite(value) and value >= 0):
            raise InputError(f"{path}: {where} = {value!r}: a finite number >= 0")
    elif not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise InputError(f"{path}: {where} = {value!r}: a {names} is required")


def _check_section(table: dict, keys: dict, path: Path, section: str) -> None:
    _check_keys(table, keys, path, f"[{section}]")
    for key, (kind, required) in keys.items():
        if key not in table:
            if required:
                raise InputError(f"{path}: [{section}] {key} is missing")
            continue
        _check_value(table[key], kind, path, f"[{section}] {key}")


def _unit_costs(table, path: Path) -> dict:
    if not isinstance(table, dict):
        raise InputError(f"{path}: [unit_costs] is missing (keys: {', '.join(COSTS)})")
    _check_keys(table, COSTS, path, "[unit_costs]")
    out = {}
    for key in COSTS:
        entry = table.get(key)
        if not isinstance(entry, dict) or "value" not in entry or "source" not in entry:
            raise InputError(
                f"{path}: [unit_costs] {key}: a table {{value, source, source_fr}} is required"
            )
        _check_keys(entry, ("value", "source", "source_fr"), path, f"[unit_costs] {key}")
        _check_value(entry["value"], "number", path, f"[unit_costs] {key}.value")
        source = str(entry["source"])
        out[key] = (float(entry["value"]), source, str(entry.get("source_fr", source)))
    return out


def _option(table, k: int, path: Path) -> SolarOption:
    where = f"[[options]] {k + 1}"
    if not isinstance(table, dict):
        raise InputError(f"{path}: {where}: a table is required")
    _check_keys(table, _OPTION, path, where)
    for key, kind in _OPTION.items():
        if key in table:
            _check_value(table[key], kind, path, f"{where} {key}")
    if "name" not in table or table.get("technology") not in TECHNOLOGIES:
        raise InputError(f"{path}: {where}: name and technology ({', '.join(TECHNOLOGIES)})")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", str(table["name"])):
        raise InputError(f"{path}: {where} name {table['name']!r}: letters, digits, _ and - "
                         "(it names an output file)")  # fmt: skip
    solar = table["technology"] == "solar"
    if solar and ("pumped_m3_per_day" in table) == ("l_per_person_day" in table):
        raise InputError(f"{path}: {where}: give pumped_m3_per_day or l_per_person_day, one")
    if not solar and not table.get("water_points"):
        raise InputError(f"{path}: {where}: handpumps need water_points (network nodes)")
    standpipes = table.get("standpipes", "all")
    if isinstance(standpipes, str) and standpipes != "all":
        raise InputError(f"{path}: {where} standpipes: 'all' or a list of nodes")
    values = dict(table)
    values["standpipes"] = None if standpipes == "all" else tuple(standpipes)
    values["water_points"] = tuple(table.get("water_points", ()))
    values.setdefault("label", table["name"])
    values.setdefault("label_fr", values["label"])
    return SolarOption(**values)


# ---------------------------------------------------------------- 2. demand per option
@dataclass(kw_only=True)
class OptionDemand:
    """Who draws where: water points, people at each, node demands at the peak hour."""

    people: float
    yard_people: float
    daily_need_m3: float  # the peak day's, which the pump and tank are sized for
    mean_need_m3: float  # an average day's
    l_per_person_day: float
    points: pd.DataFrame  # tap, x_m, y_m, taps, tap_flow_l_per_s
    clusters: pd.DataFrame  # the people who fetch at the water points
    node_demand: dict  # node -> m3/s at the peak hour


def standpipe_nodes(wn) -> list[str]:
    """Junctions tagged as standpipes (``standpipe:N@Q``) in the network file."""
    return [n for n, j in wn.junctions() if str(j.tag or "").startswith("standpipe")]


def _points(wn, nodes, taps: int, flow: float, path) -> pd.DataFrame:
    missing = [n for n in nodes if n not in wn.junction_name_list]
    if missing:
        raise InputError(f"{path}: water point(s) {', '.join(missing)} not in the network")
    rows = [{"tap": n, "x_m": wn.get_node(n).coordinates[0],
             "y_m": wn.get_node(n).coordinates[1], "taps": taps, "tap_flow_l_per_s": flow}
            for n in nodes]  # fmt: skip
    return pd.DataFrame(rows)


def option_demand(study: SolarStudy, option: SolarOption, wn, clusters) -> OptionDemand:
    """The people at each water point and the daily need of ``option``."""
    people = float(study.scheme["people"])
    scale = people / float(clusters["people"].sum())  # the clusters carry the study's people
    yard = sum(option.yard_taps.values()) * option.people_per_household
    fetching = clusters.assign(people=clusters["people"] * scale * (1 - yard / people))
    if option.technology == "handpumps":
        points = _points(wn, option.water_points, 1, HANDPUMP_L_PER_S, study.path)
        return OptionDemand(people=people, yard_people=0.0, points=points, clusters=fetching,
                            daily_need_m3=0.0, mean_need_m3=0.0, node_demand={},
                            l_per_person_day=float(option.l_per_person_day or 15.0))  # fmt: skip
    nodes = option.standpipes or tuple(standpipe_nodes(wn))
    points = _points(wn, nodes, 2, float(study.scheme["tap_flow_l_per_s"]), study.path)
    if option.pumped_m3_per_day is not None:  # a documented scheme: what its pump gives
        litres, day_factor = option.pumped_m3_per_day * 1000 / people, 1.0
    else:
        litres, day_factor = option.l_per_person_day, study.scheme["peak_day_factor"]
    peak = day_factor * study.scheme["peak_hour_factor"] / 86400e3  # l/day -> m3/s
    load = nearest_tap(fetching, points).groupby("tap")["people"].sum()
    demand = {t: float(load.get(t, 0.0)) * litres * peak for t in nodes}
    for node, count in option.yard_taps.items():
        if node not in wn.junction_name_list:
            raise InputError(f"{study.path}: [[options]] {option.name}: yard tap node {node}")
        q = count * option.people_per_household * option.yard_tap_l_per_person_day * peak
        demand[node] = demand.get(node, 0.0) + q
    need = (people - yard) * litres + yard * option.yard_tap_l_per_person_day
    return OptionDemand(people=people, yard_people=yard, points=points, clusters=fetching,
                        daily_need_m3=need * day_factor / 1000, mean_need_m3=need / 1000,
                        node_demand=demand,
                        l_per_person_day=float(litres))  # fmt: skip


# ---------------------------------------------------------------- 3. solar design
def design_solar(study: SolarStudy, option: SolarOption, demand: OptionDemand, pumps):
    """PV, pump and tank for the worst month (documented scheme: its tank), and its year."""
    b = study.borehole
    borehole = Borehole(
        static_level_m=b["static_level_m"], drawdown_m=b["drawdown_m"],
        tank_inlet_m=b["tank_inlet_m"], main_loss_m=b.get("main_loss_m", 0.0),
    )  # fmt: skip
    autonomy = option.autonomy_days
    if option.tank_m3 is not None:
        autonomy = option.tank_m3 / demand.daily_need_m3
    pattern = draw_pattern(float(study.scheme["peak_hour_factor"]))  # as the design file
    return size_solar_pumping(demand.daily_need_m3, borehole,
                              study.solar["yield_kwh_per_kwp_day"], pumps, autonomy,
                              demand_pattern=pattern)  # fmt: skip


# ---------------------------------------------------------------- 4. network sizing
def option_network(wn, demand: OptionDemand):
    """A copy of ``wn`` with the option's peak-hour demands; unused standpipes cut off."""
    model = copy_network(wn)
    used = set(demand.points["tap"])
    for node in standpipe_nodes(model):
        if node not in used:
            for link in model.get_links_for_node(node):
                model.remove_link(link)
            model.remove_node(node)
    for name, junction in model.junctions():
        junction.demand_timeseries_list[0].base_value = demand.node_demand.get(name, 0.0)
    return model


def draw_pattern(peak_hour_factor: float) -> np.ndarray:
    """The hourly draw from the tank: the peak hour's flow for 24 / ``peak_hour_factor``
    hours from 6:00 (the standpipes' opening hours), nothing at night; the day's draw is then
    the day's need.

    Examples
    --------
    >>> draw_pattern(2.0).tolist()[5:19]
    [0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0]
    """
    hours = min(24.0 / peak_hour_factor, 18.0)
    edges = np.arange(25, dtype=float)
    return np.clip(np.minimum(edges[1:], 6 + hours) - np.maximum(edges[:-1], 6.0), 0.0, 1.0)


def solar_inflow_m3_per_h(study: SolarStudy, design: SolarDesign) -> np.ndarray:
    """What the pump lifts in each hour of a day of the worst month [m3/h], as
    :func:`hydro.solar.simulate_year` models it (PV power, capped at the pump's flow).
    """
    yields = float(study.solar["yield_kwh_per_kwp_day"][design.worst_month - 1])
    pv_kwh = design.kwp * yields * PV_DERATE * hourly_shape()
    lift = pv_kwh * WIRE_TO_WATER * M4_PER_KWH / design.head_m
    return np.minimum(lift, design.pump_flow_m3_per_h)


def design_network(study: SolarStudy, wn, demand: OptionDemand, design: SolarDesign, catalog):
    """The option's network as EPANET runs it over days.

    Its demands with the draw pattern (:func:`draw_pattern`); its tank: the design's volume
    at the as-built depth, starting at the float switch; its pump: a one-point curve, the
    chosen pump's flow at the design's head, run for the share of each hour that the worst
    month's PV power lifts (:func:`pv_schedule`), its level controls replaced by a float
    switch; the rising main sized for the pump's flow (:func:`size_rising_main`).
    """
    model = option_network(wn, demand)
    tank = model.get_node(study.scheme["tank"])
    tank.diameter = math.sqrt(4 * design.tank_m3 / (math.pi * (tank.max_level - tank.min_level)))
    tank.init_level = tank.max_level - FLOAT_SWITCH_M
    pump = _the_pump(study, model)
    for name, control in list(model.controls()):  # the solar pump runs with the sun
        if any(action.target()[0] is pump for action in control.actions()):
            model.remove_control(name)
    curve = model.get_curve(pump.pump_curve_name)
    curve.points = [(design.pump_flow_m3_per_h / 3600, design.head_m)]
    size_rising_main(study, model, catalog, design.pump_flow_m3_per_h / 3600)
    pv_schedule(model, pump, tank, solar_inflow_m3_per_h(study, design), str(study.network))
    pattern = draw_pattern(float(study.scheme["peak_hour_factor"]))
    model.add_pattern("DRAW", np.repeat(pattern, 3600 // PV_STEP_S).tolist())
    for _, junction in model.junctions():
        junction.demand_timeseries_list[0].pattern_name = "DRAW"
    return model


def _the_pump(study: SolarStudy, model):
    """The network's one pump (the solar pump)."""
    if len(model.pump_name_list) != 1:
        raise InputError(f"{study.network}: a solar scheme has one pump (the borehole's); "
                         f"found {len(model.pump_name_list)}")  # fmt: skip
    return model.get_link(model.pump_name_list[0])


def pv_schedule(model, pump, tank, inflow_m3_per_h: np.ndarray, source: str) -> None:
    """Give ``pump`` a speed pattern ``PV`` (1: running at its duty flow, 0: stopped) in
    steps of :data:`PV_STEP_S` that runs it, in each hour, for the share of the hour that
    lifts what the PV array gives then (``inflow_m3_per_h``; the steps rounded so each
    day's total is kept); a float switch stops it when ``tank`` is :data:`FLOAT_SWITCH_M`
    below its top. The network's patterns are repeated to the same step (``source``: the
    network's file, for the message when its pattern step is not a multiple of it).

    EPANET then runs the pump at its duty point, never throttled: the volume lifted each
    hour is hydro's (:func:`hydro.solar.simulate_year`), to within the pump's flow at the
    tank's level against its rated flow and the step.
    """
    per_hour, step = 3600 // PV_STEP_S, int(model.options.time.pattern_timestep)
    if model.pattern_name_list and step % PV_STEP_S:
        raise InputError(f"{source}: [TIMES] PATTERN TIMESTEP {step} s: a solar scheme's "
                         f"patterns need a multiple of {PV_STEP_S} s")  # fmt: skip
    rated = float(pump.get_pump_curve().points[0][0]) * 3600  # m3/h
    steps = np.round(np.cumsum(np.minimum(inflow_m3_per_h / rated, 1.0)) * per_hour)
    speed = np.zeros(24 * per_hour)
    for h, (start, end) in enumerate(zip(np.r_[0, steps[:-1]], steps, strict=True)):
        speed[h * per_hour : h * per_hour + int(end - start)] = 1.0
    for name in model.pattern_name_list:
        pattern = model.get_pattern(name)
        pattern.multipliers = np.repeat(pattern.multipliers, step // PV_STEP_S)
    model.add_pattern("PV", speed.tolist())
    model.options.time.pattern_timestep = PV_STEP_S
    pump.speed_pattern_name = "PV"
    top = ctl.ValueCondition(tank, "level", ">", tank.max_level - FLOAT_SWITCH_M)
    model.add_control("FLOAT_SWITCH", ctl.Control(top, ctl.ControlAction(pump, "status", 0)))


def size_rising_main(study: SolarStudy, model, catalog: Catalog, flow_m3_s: float) -> None:
    """Give each fixed pipe (the rising main, ``[scheme] fixed_pipes``) the smallest
    catalogue diameter, no smaller than its own, whose Hazen-Williams loss at the pump's
    flow is within ``[borehole] main_loss_m``. A pipe that no catalogue pipe brings within
    it keeps its diameter (the EPANET check of the written design then judges it); without
    ``main_loss_m`` or with Darcy-Weisbach losses, nothing changes.
    """
    allowed = study.borehole.get("main_loss_m")
    if not allowed or model.options.hydraulic.headloss != "H-W":
        return
    table = catalog.table.sort_values("inner_diameter_mm")
    for name in study.scheme.get("fixed_pipes", ()):
        pipe = model.get_link(name)
        for d_mm in table["inner_diameter_mm"]:
            d = float(d_mm) / 1000
            loss = 10.67 * pipe.length * flow_m3_s**1.852 / (pipe.roughness**1.852 * d**4.87)
            if d >= pipe.diameter - 5e-5 and loss <= allowed:
                pipe.diameter = d
                break


def size_option_network(study: SolarStudy, wn, catalog, demand: OptionDemand,
                        design: SolarDesign) -> SizingResult:  # fmt: skip
    """The pipes at least cost (exact for a tree), the written file verified by an
    independent EPANET run: the design condition and 72 h of operation, as ``hydro check``.
    """
    s = study.scheme
    targets = Targets(float(s["min_pressure_m"]), max_pressure_m=s.get("max_pressure_m"))
    fixed = tuple(s.get("fixed_pipes", ()))
    model = design_network(study, wn, demand, design, catalog)
    return size_network(model, catalog, targets, fixed=fixed, source=str(study.network),
                        operation_h=OPERATION_H)  # fmt: skip


def fixed_pipes_cost(study: SolarStudy, wn, catalog: Catalog) -> float:
    """The fixed pipes (rising main) at the price of the cheapest catalogue pipe as wide."""
    table = catalog.table
    total = 0.0
    for name in study.scheme.get("fixed_pipes", ()):
        pipe = wn.get_link(name)
        wide = table[table["inner_diameter_mm"] >= pipe.diameter * 1000 - 0.05]
        price = wide["cost_per_m"].min() if not wide.empty else table["cost_per_m"].max()
        total += float(price) * pipe.length
    return total


# ---------------------------------------------------------------- 5. service levels
def option_service(study: SolarStudy, demand: OptionDemand, delivered: float) -> pd.DataFrame:
    """Service level of each village for one option (:func:`village_service`)."""
    phf = float(study.scheme["peak_hour_factor"])
    handpumps = demand.node_demand == {}
    fetch = delivered if handpumps else demand.l_per_person_day
    limit = SPHERE_PEOPLE_PER_HANDPUMP if handpumps else SPHERE_PEOPLE_PER_TAP
    return village_service(demand.clusters, demand.points, fetch, delivered, phf,
                           float(study.scheme.get("route_factor", 1.3)), limit)  # fmt: skip


# ---------------------------------------------------------------- 6. capital, life cycle
def option_capital(study, option, design: SolarDesign, sizing, rising_main) -> dict:
    """The bill of a solar option [US$]: line -> cost."""
    c = study.cost
    works = {
        "borehole": study.borehole["depth_m"] * c("borehole_per_m"),
        "pv_pump": design.kwp * 1000 * c("pv_pump_per_wp"),
        "tank": design.tank_m3 * c("tank_per_m3"),
        "pipes": sizing.cost + rising_main,
        "standpipes": option_standpipes(option, sizing) * c("standpipe"),
        "yard_taps": sum(option.yard_taps.values()) * c("yard_tap"),
        "pump_house": c("pump_house"),
    }
    subtotal = sum(works.values())
    works["engineering"] = subtotal * c("engineering_share")
    works["contingency"] = subtotal * c("contingency_share")
    works["software"] = c("software")
    return works


def option_standpipes(option, sizing) -> int:
    """Standpipes the option builds."""
    return len(option.standpipes or standpipe_nodes(sizing.model))


def option_lifecycle(study, option, demand, bill: dict, design: SolarDesign | None) -> LifeCycle:
    """The WASHCost life-cycle cost of an option (:func:`hydro.lifecycle.life_cycle`)."""
    o, m = study.operation, study.money
    horizon, rate = int(m["horizon_years"]), float(m["discount_rate"])
    if design is None:  # handpumps
        hp = handpump_option(demand.people, study.cost("handpump_borehole_depth_m")
                             * study.cost("borehole_per_m"), study.cost("handpump"),
                             repairs_per_pump_year=o["handpump_repairs_usd_per_year"],
                             software=study.cost("software"),
                             support_per_person_year=o["support_usd_per_person_year"],
                             functionality=o["functionality_handpump"],
                             l_per_person_day=demand.l_per_person_day)  # fmt: skip
        return life_cycle(replace(hp, name=option.name), horizon, rate)
    pump = min(design.pump_cost, bill["pv_pump"])
    rest = sum(v for k, v in bill.items() if k not in ("pv_pump", "tank", "software"))
    assets = (
        Asset(name="PV array", cost=bill["pv_pump"] - pump, life_years=o["pv_life_years"]),
        Asset(name="pump", cost=pump, life_years=o["pump_life_years"]),
        Asset(name="tank", cost=bill["tank"], life_years=o["tank_life_years"]),
        Asset(name="borehole, network, works", cost=rest, life_years=o["network_life_years"]),
    )
    # an average day: what the year delivered, at most the average need (the peak day's
    # allowance is capacity, not use)
    delivered_m3 = min(float(design.year["delivered_m3"].mean()), demand.mean_need_m3)
    delivered = delivered_m3 * 1000 / demand.people
    scheme = Option(name=option.name, technology="solar piped", people=demand.people,
                    l_per_person_day=delivered, assets=assets, software=bill["software"],
                    om_per_year=o["om_usd_per_person_year"] * demand.people,
                    support_per_person_year=o["support_usd_per_person_year"],
                    functionality=o["functionality_solar"])  # fmt: skip
    return life_cycle(scheme, horizon, rate)


# ---------------------------------------------------------------- 7. kiosk
def option_kiosk(study: SolarStudy, lc: LifeCycle) -> KioskFinances:
    """The kiosk's year in the local currency: water expected sold at the study's price."""
    m = study.money
    rate = float(m["local_per_usd"])
    fund = replacement_fund_per_year(lc, int(m["horizon_years"]), float(m["discount_rate"]))
    return kiosk_finances(lc.option.people, lc.expected_l_per_person_day,
                          float(m["price_local_per_jerrycan"]), lc.option.om_per_year * rate,
                          fund * rate, float(m.get("paying_share", 1.0)))  # fmt: skip


# ---------------------------------------------------------------- the run
@dataclass(kw_only=True)
class OptionResult:
    """Everything one option gave."""

    option: SolarOption
    demand: OptionDemand
    design: SolarDesign | None
    sizing: SizingResult | None
    bill: dict
    lifecycle: LifeCycle
    service: pd.DataFrame
    kiosk: KioskFinances


@dataclass(kw_only=True)
class SolarResult:
    """A solar study's results: one per option, and the side-by-side tables."""

    study: SolarStudy
    options: list[OptionResult]
    seconds: float

    @property
    def summary(self) -> pd.DataFrame:
        """The table ``hydro run`` prints: :func:`options_table` as text for a terminal.

        Capital in whole US$ and whole local currency, other numbers to one decimal, and
        "-" where an option has no such figure (boreholes with handpumps have no PV array,
        pump, tank or network to verify). The numbers themselves: :func:`options_table`.
        """
        table = options_table(self)
        whole = {"capital_usd", f"capital_{self.study.money['local_currency'].lower()}"}
        return table.apply(lambda column: column.map(lambda v: _cell(v, column.name in whole)))


def _cell(value, whole: bool) -> str:
    """One printed cell of :attr:`SolarResult.summary`."""
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):  # numpy's float64 is a float
        return f"{value:,.0f}" if whole else f"{value:,.1f}"
    return str(value)


def run_option(study, option, wn, clusters, catalog, pumps, log) -> OptionResult:
    """Steps 2-7 for one option."""
    demand = option_demand(study, option, wn, clusters)
    design = sizing = None
    bill: dict = {}
    if option.technology == "solar":
        log(f"  {option.name}: solar design ({demand.daily_need_m3:.1f} m3/day)")
        design = design_solar(study, option, demand, pumps)
        log(f"  {option.name}: pipes at least cost, EPANET check of the written design")
        sizing = size_option_network(study, wn, catalog, demand, design)
        rising_main = fixed_pipes_cost(study, sizing.model, catalog)
        bill = option_capital(study, option, design, sizing, rising_main)
    lc = option_lifecycle(study, option, demand, bill, design)
    service = option_service(study, demand, lc.expected_l_per_person_day)
    return OptionResult(option=option, demand=demand, design=design, sizing=sizing, bill=bill,
                        lifecycle=lc, service=service, kiosk=option_kiosk(study, lc))  # fmt: skip


def run_solar_study(study: SolarStudy, log=lambda m: None) -> SolarResult:
    """Run every option of a solar study (steps 2-7 of the module's docstring).

    Examples
    --------
    >>> from hydro.study import load_study
    >>> result = run_solar_study(load_study("studies/kasese"))  # doctest: +SKIP
    >>> calibration_table(result)["ratio"].round(2).tolist()  # doctest: +SKIP
    """
    started = time.perf_counter()
    wn = read_network(study.network)
    if study.scheme["tank"] not in wn.tank_name_list:
        tanks = ", ".join(wn.tank_name_list) or "none"
        raise InputError(
            f"{study.path}: [scheme] tank {study.scheme['tank']!r}: not a tank of "
            f"{study.network} (tanks: {tanks})"
        )
    clusters = pd.read_csv(study.clusters, comment="#")
    need = {"village", "cluster", "x_m", "y_m", "people"}
    if need - set(clusters.columns) or not (clusters["people"] >= 0).all():
        raise InputError(f"{study.clusters}: columns {', '.join(sorted(need))}; people >= 0")
    catalog = read_catalog(study.pipe_catalog)
    pumps = read_solar_pumps(study.solar_pumps)
    results = []
    for k, option in enumerate(study.options, start=1):
        log(f"option {k}/{len(study.options)}: {option.label}")
        results.append(run_option(study, option, wn, clusters, catalog, pumps, log))
    return SolarResult(study=study, options=results, seconds=time.perf_counter() - started)


# ---------------------------------------------------------------- 8. tables
def options_table(result: SolarResult) -> pd.DataFrame:
    """The options side by side: capital, life-cycle cost, water, design, verification."""
    rate = float(result.study.money["local_per_usd"])
    local = result.study.money["local_currency"].lower()
    rows = []
    for r in result.options:
        lc, d, s = r.lifecycle, r.design, r.sizing
        rows.append({
            "option": r.option.name, "technology": lc.option.technology,
            "people": lc.option.people, "capital_usd": lc.option.capital,
            f"capital_{local}": lc.option.capital * rate,
            "capital_usd_per_person": lc.option.capital / lc.option.people,
            "lcc_usd_per_person_year": lc.per_person_year,
            "design_l_per_person_day": lc.option.l_per_person_day,
            "l_per_person_day": lc.expected_l_per_person_day,
            "kwp": d.kwp if d else np.nan, "pump": d.pump if d else "",
            "pump_flow_m3_per_h": d.pump_flow_m3_per_h if d else np.nan,
            "pump_head_m": d.head_m if d else np.nan, "tank_m3": d.tank_m3 if d else np.nan,
            "shortfall_days": d.shortfall_days if d else np.nan,
            "water_points": len(r.demand.points),
            "epanet_verified": bool(s.verification.ok) if s else None,
            "lowest_pressure_m": s.verification.min_pressure_m if s else np.nan,
        })  # fmt: skip
    return pd.DataFrame(rows)


def calibration_table(result: SolarResult) -> pd.DataFrame:
    """Hydro's capital cost of each documented scheme against its documented cost."""
    m = result.study.money
    rows = []
    for r in result.options:
        if r.option.documented_cost_local is None:
            continue
        hydro = r.lifecycle.option.capital * float(m["local_per_usd"])
        rows.append({"scheme": r.option.name, "documented": r.option.documented_cost_local,
                     "hydro": hydro, "ratio": hydro / r.option.documented_cost_local,
                     "currency": m["local_currency"]})  # fmt: skip
    return pd.DataFrame(rows, columns=["scheme", "documented", "hydro", "ratio", "currency"])


def service_table(result: SolarResult) -> pd.DataFrame:
    """Service levels of every village under every option."""
    frames = [r.service.assign(option=r.option.name) for r in result.options]
    table = pd.concat(frames, ignore_index=True)
    return table[["option", *[c for c in table.columns if c != "option"]]]


def kiosk_table(result: SolarResult) -> pd.DataFrame:
    """Every option's kiosk year, in the local currency."""
    local = result.study.money["local_currency"].lower()
    return pd.DataFrame([{
        "option": r.option.name, "sold_m3_per_year": r.kiosk.sold_m3_per_year,
        f"price_{local}_per_jerrycan": r.kiosk.price_per_jerrycan,
        f"revenue_{local}_per_year": r.kiosk.revenue, f"om_{local}_per_year": r.kiosk.om,
        f"replacement_fund_{local}_per_year": r.kiosk.replacement_fund,
        f"balance_{local}_per_year": r.kiosk.balance,
        f"break_even_{local}_per_jerrycan": r.kiosk.break_even_price_per_jerrycan,
        "covers_repairs": r.kiosk.covers_repairs,
    } for r in result.options])  # fmt: skip


def energy_table(result: SolarResult) -> pd.DataFrame:
    """Each solar option's pumping energy from the sun, a diesel genset or the grid [US$].

    The pump's input energy a day is the average day's need lifted the pump's head at the
    wire-to-water efficiency (:func:`hydro.solar.hydraulic_energy_kwh`); the PV array and
    pump set are the option's own; the diesel and grid options add a pump of the same price
    to a genset sized for that energy over the study's pumping hours, or to a connection;
    each is discounted over the study's horizon with its replacements (genset and
    connection at their lives; :func:`hydro.lifecycle.life_cycle`). Empty when the study has
    no ``[energy]``.
    """
    e, m, o = result.study.energy, result.study.money, result.study.operation
    columns = ["option", "energy_source", "capital_usd", "running_usd_per_year",
               "present_value_usd"]  # fmt: skip
    if not e:
        return pd.DataFrame(columns=columns)
    horizon, rate = int(m["horizon_years"]), float(m["discount_rate"])
    rows = []
    for r in result.options:
        if r.design is None:
            continue
        kwh = hydraulic_energy_kwh(r.demand.mean_need_m3, r.design.head_m) / WIRE_TO_WATER
        kw = kwh / e["pumping_hours"]
        diesel = diesel_option(kwh, e["diesel_usd_per_kw"] * kw, e["diesel_fuel_usd_per_l"],
                               e["diesel_l_per_kwh"], e["diesel_upkeep_usd_per_hour"],
                               e["pumping_hours"], e["diesel_life_years"])  # fmt: skip
        grid = grid_option(kwh, e["grid_connection_usd"], e["grid_tariff_usd_per_kwh"],
                           e["grid_life_years"])  # fmt: skip
        pump = r.design.pump_cost  # a mains or genset pump costs about what the solar one does
        sources = (
            ("solar", r.bill["pv_pump"], 0.0, o["pv_life_years"]),
            ("diesel", diesel.capital + pump, diesel.running_per_year, diesel.life_years),
            ("grid", grid.capital + pump, grid.running_per_year, grid.life_years),
        )
        for source, capital, running, life in sources:
            asset = Asset(name=source, cost=capital, life_years=life)
            option = Option(name=source, technology=source, people=r.demand.people,
                            l_per_person_day=0.0, assets=(asset,), om_per_year=running)  # fmt: skip
            pv = life_cycle(option, horizon, rate).present_value["total"]
            rows.append({"option": r.option.name, "energy_source": source, "capital_usd": capital,
                         "running_usd_per_year": running, "present_value_usd": pv})  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def bill_table(result: SolarResult) -> pd.DataFrame:
    """Each solar option's bill [US$], one column per option."""
    bills = {r.option.name: r.bill for r in result.options if r.bill}
    table = pd.DataFrame(bills)
    table.loc["total"] = table.sum()
    return table.rename_axis("item").reset_index()


# ---------------------------------------------------------------- 9. outputs
def write_solar_outputs(result: SolarResult, out, lang: str = "en", log=lambda m: None,
                        force: bool = False) -> list[Path]:  # fmt: skip
    """Write the tables and ``report.html`` into ``out``, all or nothing.

    Files: ``calibration.csv``, ``lifecycle.csv``, ``options.csv``, ``service_levels.csv``,
    ``kiosk.csv``, ``bill.csv``, ``energy.csv``, a sized ``.inp`` per solar option and
    ``report.html``.
    """
    outputs = Outputs(inputs=result.study.inputs(), force=force)
    folder = outputs.folder(out, "output folder")
    tables = {
        "calibration.csv": calibration_table(result),
        "lifecycle.csv": lifecycle_table([r.lifecycle for r in result.options], "usd"),
        "options.csv": options_table(result),
        "service_levels.csv": service_table(result),
        "kiosk.csv": kiosk_table(result),
        "bill.csv": bill_table(result),
        "energy.csv": energy_table(result),
    }
    written = []
    with outputs.assemble(folder) as staging:
        for name, table in tables.items():
            write_csv(table, staging / name, index=False)
            written.append(staging / name)
        for r in result.options:
            if r.sizing is not None:  # the file the verification ran, byte for byte
                path = staging / f"design_{r.option.name}.inp"
                path.write_bytes(r.sizing.written_text)
                written.append(path)
        log("report.html")
        html = render_report(result, tables, lang)
        (staging / "report.html").write_text(html, encoding="utf-8")
        written.append(staging / "report.html")
    return [folder / p.relative_to(staging) for p in written]
