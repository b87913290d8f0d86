"""A design study: from a network, village data and a budget to the donors' feasibility pack.

``hydro run STUDY.toml`` reads the study file (:func:`load_study`), then for each scenario
(:func:`run_scenario`): projects the demand of the opening and the design year, sizes the
rising main (economic diameter) and the pump, the storage, then every other pipe at least
cost; writes the design and checks the written file independently (a full extended-period
EPANET run of the file read back, costs recomputed from the catalogue labels in its
``[TAGS]``); and costs it. The tables and the report (:mod:`hydro.report`) carry what that
check found.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import wntr

from hydro.catalog import Catalog, read_catalog
from hydro.compliance import ComplianceReport, Rules, check_compliance
from hydro.demand import (
    DemandProjection,
    Scenario,
    apply_demand,
    check_villages_against_network,
    get_scenario,
    project_demand,
    read_pattern_csv,
    read_villages,
)
from hydro.design import Targets
from hydro.errors import InputError
from hydro.hydraulics import M_PER_BAR, headloss_hazen_williams
from hydro.network import copy_network, read_network, write_network
from hydro.pumps import (
    Duty,
    PumpChoice,
    install_pump,
    pump_duty,
    pump_energy,
    read_pump_catalog,
    select_pump,
)
from hydro.service import Service, delivered_service
from hydro.sizing import size_network
from hydro.storage import StorageSizing, resize_tank, size_storage, tank_demand_day

LITRES_PER_M3 = 1000.0
DAYS_PER_YEAR = 365.0
RHO_G = 9810.0

#: Unit costs every study must give (value, unit, source).
REQUIRED_COSTS = (
    "standpipe",
    "household_connection",
    "tank_small_per_m3",
    "tank_large_per_m3",
    "pump_station",
    "tap_off",
    "engineering_share",
    "contingency_share",
    "energy_per_kwh",
    "maintenance_share_per_year",
    "keeper_per_standpipe_per_year",
    "tariff_standpipe_per_m3",
    "tariff_household_per_m3",
    "fixed_fee_per_connection_per_month",
)
#: ONEP douar projects, 1,300 (Tuscany-Angad, PAGER) to 2,850 MAD (Ahl Angad) per beneficiary:
#: Oujda brief 4.1 and 5.5 [D]. A study may give its own ([money] benchmark_mad_per_beneficiary).
BENCHMARK_MAD_PER_BENEFICIARY = (1300.0, 2850.0)
BENCHMARK_SOURCE = "Oujda brief 4.1/5.5 [D]: ONEP douar projects 1,300-2,850 MAD per beneficiary"
#: Tanks up to this volume take the small-tank rate (brief 5.4: 50-100 m3 vs 250-500 m3).
SMALL_TANK_LIMIT_M3 = 150.0


# --------------------------------------------------------------------------- study file
@dataclass
class Cost:
    value: float
    unit: str
    source: str


@dataclass
class ScenarioSpec:
    name: str
    label: str
    service: str  # demand scenario served (standpipes / household_connections)
    sizing: str  # demand scenario the pipes are sized for (design year)


@dataclass
class Study:
    path: Path
    name: str
    title: str
    network: Path
    villages: Path
    patterns: Path | None
    pipe_catalog: Path
    pump_catalog: Path | None
    base_year: int
    horizon_year: int
    tank: str
    pump: str | None
    pumping_hours: float
    reserve_hours: float
    supply_hours: tuple[int, ...]
    min_distribution_dn_mm: float | None
    simulation_hours: float
    persons_per_household: float
    mad_per_eur: Cost
    budget_eur: float
    funders: list[tuple[str, float]]
    life_years: float
    discount_rate: float
    costs: dict[str, Cost]
    scenarios: list[ScenarioSpec]
    sensitivity: dict
    sources: dict = field(default_factory=dict)
    #: Capital cost per beneficiary of Moroccan rural projects, low and high [MAD]
    benchmark_mad_per_beneficiary: tuple[float, float] = BENCHMARK_MAD_PER_BENEFICIARY

    @property
    def crf(self) -> float:
        """Capital recovery factor i(1+i)^n / ((1+i)^n - 1)."""
        i, n = self.discount_rate, self.life_years
        return i * (1 + i) ** n / ((1 + i) ** n - 1) if i > 0 else 1 / n


def _get(table: dict, key: str, where: str, path: Path, kind=None):
    if key not in table:
        raise InputError(f"{path}: [{where}] needs '{key}'")
    value = table[key]
    if kind is not None and not isinstance(value, kind):
        raise InputError(f"{path}: [{where}] {key} = {value!r} is not a {kind.__name__}")
    return value


def _number(table: dict, key: str, where: str, path: Path, positive=True) -> float:
    value = _get(table, key, where, path)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{path}: [{where}] {key} = {value!r}: a number is required")
    if positive and value < 0:
        raise InputError(f"{path}: [{where}] {key} = {value!r}: must not be negative")
    return float(value)


def _file(table: dict, key: str, path: Path, required=True) -> Path | None:
    if key not in table:
        if required:
            raise InputError(f"{path}: [inputs] needs '{key}'")
        return None
    file = (path.parent / str(table[key])).resolve()
    if not file.is_file():
        raise InputError(f"{path}: [inputs] {key}: no such file {file}")
    return file


def load_study(path: str | os.PathLike) -> Study:
    """Read and check a study file; every error names the file and the key."""
    from hydro.storage import parse_hours

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such study file")
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a valid TOML study file: {exc}") from exc
    inputs = _get(data, "inputs", "study", path, dict)
    design = _get(data, "design", "study", path, dict)
    money = _get(data, "money", "study", path, dict)
    costs_raw = _get(data, "unit_costs", "study", path, dict)
    costs = {}
    for key in REQUIRED_COSTS:
        entry = _get(costs_raw, key, "unit_costs", path, dict)
        costs[key] = Cost(
            _number(entry, "value", f"unit_costs.{key}", path),
            str(entry.get("unit", "")),
            str(entry.get("source", "estimate")),
        )
    rate = _get(money, "mad_per_eur", "money", path, dict)
    funders = []
    for k, f in enumerate(_get(money, "funders", "money", path, list)):
        funders.append(
            (str(_get(f, "name", f"money.funders[{k}]", path)),
             _number(f, "share", f"money.funders[{k}]", path))
        )  # fmt: skip
    total_share = sum(s for _, s in funders)
    if abs(total_share - 1) > 1e-9:
        raise InputError(f"{path}: [money] the funders' shares add up to {total_share:g}, not 1")
    scenarios = []
    allowed = ("standpipes", "household_connections")
    for k, s in enumerate(_get(data, "scenarios", "study", path, list)):
        where = f"scenarios[{k}]"
        spec = ScenarioSpec(
            str(_get(s, "name", where, path)),
            str(s.get("label", s.get("name"))),
            str(_get(s, "service", where, path)),
            str(s.get("sizing", s.get("service"))),
        )
        for key in ("service", "sizing"):
            if getattr(spec, key) not in allowed:
                raise InputError(
                    f"{path}: [{where}] {key} = {getattr(spec, key)!r}; allowed: "
                    f"{', '.join(allowed)}"
                )
        scenarios.append(spec)
    if not scenarios:
        raise InputError(f"{path}: the study needs at least one [[scenarios]]")
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise InputError(f"{path}: scenario names must be unique: {names}")
    sensitivity = dict(data.get("sensitivity", {}))
    if sensitivity and sensitivity.get("scenario", names[0]) not in names:
        raise InputError(f"{path}: [sensitivity] scenario must be one of {names}")
    base, horizon = (
        int(_number(design, "base_year", "design", path)),
        int(_number(design, "horizon_year", "design", path)),
    )
    if horizon < base:
        raise InputError(f"{path}: [design] horizon_year {horizon} is before base_year {base}")
    study = Study(
        path=path,
        name=str(data.get("name", path.parent.name)),
        title=str(data.get("title", path.parent.name)),
        network=_file(inputs, "network", path),
        villages=_file(inputs, "villages", path),
        patterns=_file(inputs, "patterns", path, required=False),
        pipe_catalog=_file(inputs, "pipe_catalog", path),
        pump_catalog=_file(inputs, "pump_catalog", path, required=False),
        base_year=base,
        horizon_year=horizon,
        tank=str(_get(design, "tank", "design", path)),
        pump=str(design["pump"]) if design.get("pump") else None,
        pumping_hours=float(design.get("pumping_hours", 20.0)),
        reserve_hours=float(design.get("storage_reserve_hours", 12.0)),
        supply_hours=parse_hours(design.get("source_supply_hours")),
        min_distribution_dn_mm=(
            float(design["min_distribution_dn_mm"]) if "min_distribution_dn_mm" in design else None
        ),
        simulation_hours=float(design.get("simulation_hours", 72.0)),
        persons_per_household=float(design.get("persons_per_household", 5.5)),
        mad_per_eur=Cost(
            _number(rate, "value", "money.mad_per_eur", path),
            "MAD/EUR",
            str(rate.get("source", "estimate")),
        ),
        budget_eur=_number(money, "budget_eur", "money", path),
        funders=funders,
        life_years=_number(money, "life_years", "money", path),
        discount_rate=_number(money, "discount_rate", "money", path),
        costs=costs,
        scenarios=scenarios,
        sensitivity=sensitivity,
        sources=dict(data.get("sources", {})),
    )
    if "benchmark_mad_per_beneficiary" in money:
        pair = money["benchmark_mad_per_beneficiary"]
        if not (isinstance(pair, list) and len(pair) == 2 and 0 < pair[0] < pair[1]):
            raise InputError(
                f"{path}: [money] benchmark_mad_per_beneficiary must be [low, high] in MAD"
            )
        study.benchmark_mad_per_beneficiary = (float(pair[0]), float(pair[1]))
    return study


# --------------------------------------------------------------------------- one scenario
@dataclass
class Outcome:
    """Everything one scenario produced, as checked on the written file."""

    spec: ScenarioSpec
    projection_open: DemandProjection
    projection_design: DemandProjection
    storage: StorageSizing
    duty: Duty | None
    pump: PumpChoice | None
    rising_main: pd.DataFrame
    model: wntr.network.WaterNetworkModel  # the written file, read back
    inp_text: str
    compliance_design: ComplianceReport
    compliance_open: ComplianceReport
    service: Service
    boq: pd.DataFrame
    capital_before_margins_mad: float
    capital_mad: float
    energy_kwh_per_day: float
    energy_kwh_per_m3: float
    standpipes: int
    connections: int
    notes: list[str]


def _demand_scenario(study: Study, name: str, overrides: dict | None = None) -> Scenario:
    scenario = get_scenario(name)
    if study.patterns:
        patterns = read_pattern_csv(study.patterns)
        scenario = scenario.with_changes(
            standpipe_pattern=patterns.get("standpipe", scenario.standpipe_pattern),
            household_pattern=patterns.get("household", scenario.household_pattern),
        )
    if overrides:
        scenario = scenario.with_changes(**overrides)
    return scenario


def _classes(projection: DemandProjection) -> dict[str, str]:
    out: dict[str, str] = {}
    for node, service in zip(projection.nodes["node"], projection.nodes["service"], strict=True):
        if out.get(node) != "household":
            out[node] = service
    return out


def _min_pressure(rules: Rules, projection: DemandProjection) -> float:
    present = set(_classes(projection).values())
    return max((rules.min_pressure_m[c] for c in present), default=rules.min_pressure_m["junction"])


def economic_main(
    wn, pipes: list[str], catalog: Catalog, flow: float, hours_per_day: float, study: Study
) -> pd.DataFrame:
    """Rising-main pipe at least whole-life cost: pipe cost plus the present value of the energy
    its friction costs at the duty flow (``hours_per_day`` of pumping, pump efficiency 0.6 [E]).

    One catalogue entry for the main below the pump, whose pressure class must hold the
    pressure at the pump outlet (lift to the full tank plus this entry's friction, plus 10% for
    surges [E]); one for the pipes above the pump, holding the source's static pressure. Both
    at most 2.0 m/s (brief 5.1).
    """
    table = catalog.table
    energy_price = study.costs["energy_per_kwh"].value
    annuity = 1 / study.crf
    tank = wn.get_node(study.tank)
    delivery = tank.elevation + tank.max_level
    pump = wn.get_link(study.pump)
    below = [p for p in _path_links(wn, pump.end_node_name, study.tank) if p in pipes]
    above = [p for p in pipes if p not in below]
    source_head = max(wn.get_node(r).base_head for r in wn.reservoir_name_list)
    rows = []
    for group, downstream in ((below, True), (above, False)):
        if not group:
            continue
        lowest = min(_elevation(wn.get_node(n)) for p in group for n in _ends(wn, p))
        best = None
        for k, entry in table.iterrows():
            d = entry["inner_diameter_mm"] / 1000
            v = flow / (math.pi * d**2 / 4)
            if v > 2.0:
                continue
            losses = {}
            for name in group:
                pipe = wn.get_link(name)
                c = entry["roughness"] if not np.isnan(entry["roughness"]) else pipe.roughness
                losses[name] = float(headloss_hazen_williams(flow, pipe.length, d, c))
            friction = sum(losses.values())
            if downstream:
                pressure = 1.1 * (delivery + friction - lowest)
            else:
                pressure = source_head - lowest
            if entry["pressure_class_bar"] * M_PER_BAR < pressure:
                continue
            kwh_year = RHO_G * flow * friction / 0.6 * hours_per_day * 3600 * DAYS_PER_YEAR
            kwh_year /= 3.6e6
            length = sum(wn.get_link(p).length for p in group)
            whole_life = entry["cost_per_m"] * length + kwh_year * energy_price * annuity
            if best is None or whole_life < best[0]:
                best = (whole_life, k, losses, v, kwh_year, pressure)
        if best is None:
            raise InputError(
                f"{study.path}: rising main {', '.join(group)}: no catalogue pipe holds the "
                "pressure at under 2 m/s; a higher pressure class or a second pump is needed"
            )
        whole_life, k, losses, v, kwh_year, pressure = best
        for name in group:
            rows.append(
                {
                    "pipe": name,
                    "label": table.at[k, "label"],
                    "row": k,
                    "inner_diameter_mm": table.at[k, "inner_diameter_mm"],
                    "velocity_m_per_s": v,
                    "friction_m": losses[name],
                    "design_pressure_m": pressure,
                    "group_friction_energy_kwh_per_year": kwh_year,
                    "group_whole_life_cost_mad": whole_life,
                }
            )
    return pd.DataFrame(rows)


def _path_links(wn, start: str, end: str) -> list[str]:
    from hydro.pumps import _path

    return _path(wn, start, end)


def _elevation(node) -> float:
    return node.base_head if node.node_type == "Reservoir" else node.elevation


def _ends(wn, pipe: str) -> tuple[str, str]:
    link = wn.get_link(pipe)
    return link.start_node_name, link.end_node_name


def _rising_main(wn, study: Study) -> list[str]:
    """Pipes from the source to the tank: through the pump when there is one, else the
    shortest path from the nearest reservoir (a gravity main)."""
    if study.pump:
        link = wn.get_link(study.pump)
        down = _path_links(wn, link.end_node_name, study.tank)
        up = min(
            (_path_links(wn, r, link.start_node_name) for r in wn.reservoir_name_list), key=len
        )
        path = up + down
    else:
        path = min((_path_links(wn, r, study.tank) for r in wn.reservoir_name_list), key=len)
    return [p for p in path if wn.get_link(p).link_type == "Pipe"]


def gravity_main(wn, pipes: list[str], catalog: Catalog, flow: float, study: Study) -> pd.DataFrame:
    """Cheapest single catalogue entry that carries ``flow`` from the source to the top of the
    tank by gravity (friction plus 10% for minor losses within the head available), within
    its pressure class (the source's static head) and 2.0 m/s (brief 5.1)."""
    table = catalog.table
    tank = wn.get_node(study.tank)
    top = tank.elevation + tank.max_level
    source = max(wn.get_node(r).base_head for r in wn.reservoir_name_list)
    available = source - top
    if available <= 0:
        raise InputError(
            f"{study.path}: the source's head {source:.1f} m is below the top of tank "
            f"{study.tank} ({top:.1f} m): a pump is needed ([design] pump)"
        )
    lowest = min(_elevation(wn.get_node(n)) for p in pipes for n in _ends(wn, p))
    rows = None
    for k, entry in table.iterrows():  # sorted by cost: the first that works is the cheapest
        d = entry["inner_diameter_mm"] / 1000
        if flow / (math.pi * d**2 / 4) > 2.0 or entry["pressure_class_bar"] * M_PER_BAR < (
            source - lowest
        ):
            continue
        losses = {}
        for name in pipes:
            pipe = wn.get_link(name)
            c = entry["roughness"] if not np.isnan(entry["roughness"]) else pipe.roughness
            losses[name] = float(headloss_hazen_williams(flow, pipe.length, d, c))
        if 1.1 * sum(losses.values()) <= available:
            v = flow / (math.pi * d**2 / 4)
            rows = [
                {"pipe": name, "label": entry["label"], "row": k,
                 "inner_diameter_mm": entry["inner_diameter_mm"], "velocity_m_per_s": v,
                 "friction_m": losses[name], "design_pressure_m": source - lowest}
                for name in pipes
            ]  # fmt: skip
            break
    if rows is None:
        raise InputError(
            f"{study.path}: no catalogue pipe carries {1000 * flow:.2f} l/s from the source to "
            f"tank {study.tank} with {available:.1f} m of head: a pump is needed"
        )
    return pd.DataFrame(rows)


def _min_diameters(wn, study: Study, classes: dict[str, str], main: list[str]) -> dict:
    """DN minimum for distribution pipes, except the branch that feeds a standpipe node."""
    if study.min_distribution_dn_mm is None:
        return {}
    out = {}
    for name, pipe in wn.pipes():
        if name in main:
            continue
        ends = (pipe.start_node_name, pipe.end_node_name)
        degree = [len(wn.get_links_for_node(n)) for n in ends]
        feeds_standpipe = any(
            classes.get(n) == "standpipe" and d == 1 for n, d in zip(ends, degree, strict=True)
        )
        if not feeds_standpipe:
            out[name] = study.min_distribution_dn_mm
    return out


def run_scenario(
    study: Study,
    spec: ScenarioSpec,
    wn,
    villages: pd.DataFrame,
    catalog: Catalog,
    pumps: pd.DataFrame | None,
    overrides: dict | None = None,
    log=lambda message: None,
    sizing_year: int | None = None,
) -> Outcome:
    """Demand, sizing, storage, pump, independent check and costs of one scenario.

    ``sizing_year``: size pipes, storage and pump for this year's demand instead of the
    governing one (the stress case of a design made for the opening year); the checks still
    run the opening and the design year.
    """
    rules = Rules()
    service = _demand_scenario(study, spec.service, overrides)
    sizing = _demand_scenario(study, spec.sizing, overrides)
    p_open = project_demand(villages, study.base_year, service)
    p_design = project_demand(villages, study.horizon_year, service)
    p_sizing = project_demand(villages, sizing_year or study.horizon_year, sizing)
    notes = []
    # a shrinking population makes the opening year the heavier one: design for it
    p_storage = p_design if sizing_year is None else project_demand(villages, sizing_year, service)
    if (
        sizing_year is None
        and p_open.totals()["peak_hour_l_per_s"] > p_design.totals()["peak_hour_l_per_s"]
    ):
        p_storage = p_open
        p_sizing = project_demand(villages, study.base_year, sizing)
        notes.append(
            f"the demand of {study.base_year} exceeds that of {study.horizon_year} "
            f"(population decline): pipes, storage and pump are sized for {study.base_year}"
        )

    # storage from the governing year's service demand at the tank
    model = apply_demand(wn, p_storage)
    day = tank_demand_day(model, study.tank)
    storage = size_storage(
        day.sum(),
        day,
        average_day_m3=day.sum() / service.peak_day_factor,
        reserve_hours=study.reserve_hours,
        supply_hours=study.supply_hours,
    )
    model = resize_tank(model, study.tank, storage.volume_m3)

    # rising main (economic diameter) and pump, for the sizing demand (pipes built once)
    sizing_model = apply_demand(model, p_sizing)
    sizing_day = tank_demand_day(sizing_model, study.tank).sum() / sizing.transmission_efficiency
    main = _rising_main(wn, study)
    duty, choice = None, None
    hours = study.pumping_hours if study.pump else len(study.supply_hours)
    flow = sizing_day / (hours * 3600)
    if study.pump:
        main_table = economic_main(model, main, catalog, flow, study.pumping_hours, study)
    else:
        main_table = gravity_main(model, main, catalog, flow, study)
    for rec in main_table.to_dict("records"):
        pipe = model.get_link(rec["pipe"])
        pipe.diameter = rec["inner_diameter_mm"] / 1000
        pipe.tag = rec["label"].replace(" ", "_")
        roughness = catalog.table.at[rec["row"], "roughness"]
        if not np.isnan(roughness):
            pipe.roughness = float(roughness)
    if study.pump:
        duty = pump_duty(model, study.pump, study.tank, sizing_day, study.pumping_hours)
        choice = select_pump(pumps, duty)
        model = install_pump(model, study.pump, choice, study.tank)
        if choice.source != "catalogue":
            notes.append(f"pump: {choice.source}")

    # pipes at least cost for the sizing demand, with the tank at its reserve level
    sizing_model = apply_demand(model, p_sizing)
    tank = sizing_model.get_node(study.tank)
    tank.init_level = tank.min_level + rules.tank_reserve_share * (tank.max_level - tank.min_level)
    targets = Targets(_min_pressure(rules, p_sizing))
    log(f"sizing pipes for the {spec.sizing} demand of {p_sizing.year}")
    result = size_network(
        sizing_model,
        catalog,
        targets,
        fixed=tuple(main),
        source=str(study.network),
        min_diameter_mm=_min_diameters(wn, study, _classes(p_sizing), main),
    )
    notes.extend(result.notes)
    sized = apply_demand(result.model, p_design)
    sized.get_node(study.tank).init_level = model.get_node(study.tank).init_level

    # write, read back, check over days: what is reported comes from the file
    with tempfile.TemporaryDirectory(prefix="hydro-study-") as tmp:
        written = write_network(sized, Path(tmp) / "sized.inp")
        inp_text = written.read_text()
        checked = read_network(written)
    log(f"checking {study.simulation_hours:g} h of operation (design and opening year)")
    node_douar = dict(zip(p_design.nodes["node"], p_design.nodes["douar"], strict=True))
    compliance_design = check_compliance(
        checked, rules, _classes(p_design), duration_h=study.simulation_hours
    )
    compliance_open = check_compliance(
        apply_demand(checked, p_open), rules, _classes(p_open), duration_h=study.simulation_hours
    )
    delivered = delivered_service(
        checked,
        study.simulation_hours,
        _min_pressure(rules, p_design),
        0.0,
        douars=p_design.douars,
        node_douar=node_douar,
    )
    energy_day = energy_m3 = 0.0
    if study.pump:
        energy = pump_energy(
            compliance_design.results, checked, study.pump, study.costs["energy_per_kwh"].value
        )
        energy_day, energy_m3 = energy.kwh_per_day, energy.kwh_per_m3
    boq, standpipes, connections = bill_of_quantities(
        study, checked, catalog, p_open, storage.volume_m3
    )
    before = float(boq.loc[boq["category"] != "margin", "total_mad"].sum())
    return Outcome(
        spec,
        p_open,
        p_design,
        storage,
        duty,
        choice,
        main_table,
        checked,
        inp_text,
        compliance_design,
        compliance_open,
        delivered,
        boq,
        before,
        float(boq["total_mad"].sum()),
        energy_day,
        energy_m3,
        standpipes,
        connections,
        notes,
    )


def bill_of_quantities(
    study: Study, wn, catalog: Catalog, p_open: DemandProjection, tank_m3: float
) -> tuple[pd.DataFrame, int, int]:
    """Pipes by material, DN, PN and length (priced from the labels in the file); standpipes;
    household connections; tank; pump station; tap-off; then engineering and contingencies."""
    table = catalog.table.assign(tag=catalog.table["label"].str.replace(" ", "_"))
    by_tag = table.set_index("tag")
    lengths: dict[str, float] = {}
    for name, pipe in wn.pipes():
        if pipe.tag not in by_tag.index:
            raise InputError(
                f"{study.network}: pipe {name} carries no catalogue label after sizing; "
                "cannot cost it"
            )
        lengths[pipe.tag] = lengths.get(pipe.tag, 0.0) + pipe.length
    c = study.costs
    rows = []
    for tag, length in sorted(
        lengths.items(), key=lambda kv: by_tag.at[kv[0], "inner_diameter_mm"]
    ):
        e = by_tag.loc[tag]
        rows.append(
            ("pipes", f"pipe {e['label']}", e["material"], e["nominal_diameter_mm"],
             e["pressure_class_bar"], length, "m", e["cost_per_m"])
        )  # fmt: skip
    douars = p_open.douars
    taps_each = p_open.scenario.taps_per_standpipe
    standpipes = 0
    for d in douars.to_dict("records"):
        if d["people_standpipe"] > 0:
            standpipes += max(int(d["standpipes"]), math.ceil(d["taps_needed"] / taps_each))
    connections = int(np.ceil(douars["people_household"] / study.persons_per_household).sum())
    if standpipes:
        rows.append(("standpipes", "standpipe, complete (2 taps)", "", np.nan, np.nan,
                     standpipes, "unit", c["standpipe"].value))  # fmt: skip
    if connections:
        rows.append(("connections", "household connection with meter", "", np.nan, np.nan,
                     connections, "unit", c["household_connection"].value))  # fmt: skip
    rate = c["tank_small_per_m3" if tank_m3 <= SMALL_TANK_LIMIT_M3 else "tank_large_per_m3"]
    rows.append(("storage", f"ground reservoir {study.tank}", "reinforced concrete", np.nan,
                 np.nan, round(tank_m3, 1), "m3", rate.value))  # fmt: skip
    if study.pump:
        rows.append(("pumping", f"booster station {study.pump}", "", np.nan, np.nan, 1, "unit",
                     c["pump_station"].value))  # fmt: skip
    rows.append(("source", "tap-off on the main (valve, meter, chamber)", "", np.nan, np.nan, 1,
                 "unit", c["tap_off"].value))  # fmt: skip
    boq = pd.DataFrame(
        rows,
        columns=["category", "item", "material", "nominal_diameter_mm", "pressure_class_bar",
                 "quantity", "unit", "unit_cost_mad"],
    )  # fmt: skip
    boq["total_mad"] = boq["quantity"] * boq["unit_cost_mad"]
    works = float(boq["total_mad"].sum())
    margins = [
        ("margin", "engineering and supervision", "", np.nan, np.nan,
         c["engineering_share"].value, "share of works", works),
        ("margin", "contingencies", "", np.nan, np.nan,
         c["contingency_share"].value, "share of works", works),
    ]  # fmt: skip
    extra = pd.DataFrame(margins, columns=boq.columns[:-1])
    extra["total_mad"] = extra["quantity"] * extra["unit_cost_mad"]
    return pd.concat([boq, extra], ignore_index=True), standpipes, connections


# --------------------------------------------------------------------------- tables
def _within_500_m(wn, villages: pd.DataFrame, projection: DemandProjection) -> float:
    """Share of people within 500 m (straight line) of a standpipe or served at home.

    Where people live: the douar's household-connection nodes with their shares (the
    standpipe nodes when it has none). NaN when the model has no coordinates.
    """
    standpipes = [n for n, c in _classes(projection).items() if c == "standpipe"]
    standpipes = standpipes or [
        n for r in villages.to_dict("records") for n in r["standpipe_shares"]
    ]
    coords = {n: wn.get_node(n).coordinates for n in wn.junction_name_list}
    if not standpipes or all(coords[n] in (None, (0, 0)) for n in standpipes):
        return float("nan")
    total = near = 0.0
    douars = projection.douars.set_index("douar")
    for row in villages.to_dict("records"):
        d = douars.loc[row["douar"]]
        homes = row["household_shares"] or row["standpipe_shares"]
        near += d["people_household"]
        for node, share in homes.items():
            x, y = coords[node]
            closest = min(math.hypot(x - coords[s][0], y - coords[s][1]) for s in standpipes)
            if closest <= 500.0:
                near += d["people_standpipe"] * share
        total += d["population"]
    return near / total if total else float("nan")


def _ladder(projection: DemandProjection, within_500: float) -> str:
    t = projection.totals()
    pop = t["population"]
    parts = []
    if t["people_household"] > 0:
        parts.append(
            f"safely managed candidate (on premises) {100 * t['people_household'] / pop:.0f}%"
        )
    if t["people_standpipe"] > 0:
        share = t["people_standpipe"] / pop
        level = (
            "basic (standpipe within 500 m / 30 min)"
            if (np.isnan(within_500) or within_500 >= 0.999)
            else "basic/limited (some beyond 500 m)"
        )
        parts.append(f"{level} {100 * share:.0f}%")
    return "; ".join(parts)


def _per_person(douars: pd.DataFrame, column: str) -> float:
    """Population-weighted mean of a per-person column over the douars (NaN when empty)."""
    if douars.empty:
        return float("nan")
    return float((douars[column] * douars["population"]).sum() / douars["population"].sum())


def feasibility_row(study: Study, o: Outcome, villages: pd.DataFrame) -> dict:
    rate = study.mad_per_eur.value
    c = study.costs
    t_open, t_design = o.projection_open.totals(), o.projection_design.totals()
    beneficiaries_open, beneficiaries_design = (
        float(t_open["population"]),
        float(t_design["population"]),
    )
    capital_eur = o.capital_mad / rate
    headroom = study.budget_eur - capital_eur
    delivered = o.service.douars
    lpd = _per_person(delivered, "delivered_l_per_person_day")
    allowance = _per_person(delivered, "allowance_l_per_person_day")
    within = _within_500_m(o.model, villages, o.projection_open)
    taps = o.standpipes * o.projection_open.scenario.taps_per_standpipe
    people_per_tap = float(t_open["people_standpipe"] / taps) if taps else float("nan")
    # O&M and revenue in the design year
    maintenance = c["maintenance_share_per_year"].value * o.capital_mad
    energy = o.energy_kwh_per_day * DAYS_PER_YEAR * c["energy_per_kwh"].value
    keepers = o.standpipes * c["keeper_per_standpipe_per_year"].value
    om = maintenance + energy + keepers
    bf_m3 = (
        float(t_design["people_standpipe"])
        * o.projection_design.scenario.domestic_l_per_person_day["standpipe"]
        / LITRES_PER_M3
        * DAYS_PER_YEAR
    )
    all_m3 = float(t_design["consumption_m3_per_day"]) * DAYS_PER_YEAR
    bi_m3 = max(all_m3 - bf_m3, 0.0) if t_design["people_household"] > 0 else 0.0
    revenue = (
        bf_m3 * c["tariff_standpipe_per_m3"].value
        + bi_m3 * c["tariff_household_per_m3"].value
        + o.connections * 12 * c["fixed_fee_per_connection_per_month"].value
    )
    consumed = (
        (float(t_open["consumption_m3_per_day"]) + float(t_design["consumption_m3_per_day"]))
        / 2
        * DAYS_PER_YEAR
    )
    s = o.compliance_design.summary
    failures = []
    if headroom < 0:
        failures.append(f"over budget by EUR {-headroom:,.0f}")
    for label, report in (
        ("design year", o.compliance_design),
        ("opening year", o.compliance_open),
    ):
        if not report.compliant:
            failures.append(f"{report.summary['violations']} rule violations ({label})")
    if lpd < allowance * 0.99:
        failures.append("delivers less than the allowance")
    verdict = (
        "FEASIBLE: within budget and compliant"
        if not failures
        else "NOT FEASIBLE: " + "; ".join(failures)
    )
    row = {
        "scenario": o.spec.name,
        "label": o.spec.label,
        f"beneficiaries_{study.base_year}": round(beneficiaries_open),
        f"beneficiaries_{study.horizon_year}": round(beneficiaries_design),
        "service_level": _ladder(o.projection_open, within),
        "allowance_l_per_person_day": allowance,
        "delivered_l_per_person_day": lpd,
        "standpipes": o.standpipes,
        "household_connections": o.connections,
        "people_per_tap": people_per_tap,
        "share_within_500_m": within,
        "lowest_pressure_m": min(
            s["min_pressure_by_class_m"].get(k, np.inf) for k in ("standpipe", "household")
        ),
        "compliance_share": s["node_hours_compliant_share"],
        "tank_m3": o.storage.volume_m3,
        "pump": o.pump.name if o.pump else "",
        "capital_before_margins_mad": o.capital_before_margins_mad,
        "capital_mad": o.capital_mad,
        "capital_eur": capital_eur,
        "budget_eur": study.budget_eur,
        "headroom_eur": headroom,
        "headroom_share": headroom / study.budget_eur,
    }
    for name, share in study.funders:
        row[f"funder_{name}_eur"] = share * capital_eur
    per = capital_eur / beneficiaries_open
    low, high = (v / rate for v in study.benchmark_mad_per_beneficiary)
    row.update(
        {
            "cost_per_beneficiary_eur": per,
            "cost_per_beneficiary_mad": o.capital_mad / beneficiaries_open,
            "cost_per_beneficiary_horizon_eur": capital_eur / beneficiaries_design,
            "moroccan_range_eur": f"{low:.0f}-{high:.0f}",
            "against_range": "below" if per < low else ("above" if per > high else "within"),
            "om_mad_per_year": om,
            "om_maintenance_mad_per_year": maintenance,
            "om_energy_mad_per_year": energy,
            "om_keepers_mad_per_year": keepers,
            "energy_kwh_per_m3": o.energy_kwh_per_m3,
            "tariff_revenue_mad_per_year": revenue,
            "om_recovery_ratio": revenue / om if om else float("nan"),
            "capital_mad_per_m3": study.crf * o.capital_mad / consumed
            if consumed
            else float("nan"),
            "verdict": verdict,
        }
    )
    return row


def assumptions_table(study: Study, outcomes: list[Outcome]) -> pd.DataFrame:
    rows = [
        ("base_year", study.base_year, "year", study.sources.get("base_year", "study file")),
        (
            "horizon_year",
            study.horizon_year,
            "year",
            study.sources.get("horizon_year", "Oujda brief 5.1: Tuscany-Angad horizon 2030 [S]"),
        ),
        ("mad_per_eur", study.mad_per_eur.value, "MAD/EUR", study.mad_per_eur.source),
        ("budget_eur", study.budget_eur, "EUR", study.sources.get("budget", "study brief")),
    ]
    for name, share in study.funders:
        rows.append(
            (
                f"funder_share: {name}",
                share,
                "fraction",
                study.sources.get("funders", "study brief"),
            )
        )
    rows += [
        ("life_years", study.life_years, "years", study.sources.get("life", "Oujda brief 4.3 [D]")),
        (
            "discount_rate",
            study.discount_rate,
            "1/year",
            study.sources.get("life", "Oujda brief 4.3 [D]"),
        ),
        ("capital_recovery_factor", round(study.crf, 4), "1/year", "derived: i(1+i)^n/((1+i)^n-1)"),
        ("persons_per_household", study.persons_per_household, "persons", "Oujda brief 5.1 [E]"),
        (
            "storage_reserve_hours",
            study.reserve_hours,
            "h of average day",
            "estimate [E]: see hydro.storage",
        ),
        ("source_supply_hours", len(study.supply_hours), "h/day", "study file"),
        ("pumping_hours", study.pumping_hours, "h/day", "estimate [E]: see hydro.pumps"),
        (
            "min_distribution_dn_mm",
            study.min_distribution_dn_mm,
            "mm",
            "Oujda brief 5.1 [E]: PE DN63",
        ),
        ("simulation_hours", study.simulation_hours, "h", "three peak days"),
    ]
    for key, cost in study.costs.items():
        rows.append((key, cost.value, cost.unit, cost.source))
    low, high = study.benchmark_mad_per_beneficiary
    source = (
        study.sources.get("benchmark", "study file")
        if study.benchmark_mad_per_beneficiary != BENCHMARK_MAD_PER_BENEFICIARY
        else BENCHMARK_SOURCE
    )
    rows.append(("benchmark_per_beneficiary", f"{low:g}-{high:g}", "MAD/beneficiary", source))
    table = pd.DataFrame(rows, columns=["parameter", "value", "unit", "source"]).assign(
        scenario="all"
    )
    parts = [table, Rules().as_table().assign(scenario="all")]
    seen = set()
    for o in outcomes:
        for projection in (o.projection_design,):
            sc = projection.scenario
            if sc.name in seen:
                continue
            seen.add(sc.name)
            parts.append(sc.as_table().assign(scenario=f"demand: {sc.name}"))
    out = pd.concat(parts, ignore_index=True)
    out["value"] = out["value"].astype(str)
    return out[["scenario", "parameter", "value", "unit", "source"]]


# --------------------------------------------------------------------------- sensitivity
def sensitivity_cases(study: Study) -> list[tuple[str, str, dict, float]]:
    """(parameter, value shown, demand overrides, pipe price factor)."""
    s = study.sensitivity
    cases = []
    for g in s.get("growth_rate", []):
        cases.append(("population growth", f"{100 * g:+.1f}%/yr", {"growth_rate": float(g)}, 1.0))
    for f in s.get("per_capita_demand_factor", []):
        cases.append(("per-capita demand", f"x{f:g}", {"_demand_factor": float(f)}, 1.0))
    for f in s.get("pipe_price_factor", []):
        cases.append(("pipe prices", f"{100 * (f - 1):+.0f}%", {}, float(f)))
    return cases


# --------------------------------------------------------------------------- stress cases
def stress_table(
    study: Study,
    base: Outcome,
    wn,
    villages: pd.DataFrame,
    catalog: Catalog,
    pumps: pd.DataFrame | None,
    log=lambda m: None,
) -> pd.DataFrame:
    """Water delivered (pressure-driven runs) when the scheme is stressed, per douar.

    Cases, all with the design year's demand: the scheme as designed (reference); the network
    as given in the input model, before sizing; the design made for the opening year's demand;
    the design with its pump out of service for the whole run.
    """
    rules = Rules()
    p = base.projection_design
    required = _min_pressure(rules, p)
    node_douar = dict(zip(p.nodes["node"], p.nodes["douar"], strict=True))
    cases = [("as designed", "the design, design-year demand", base.model)]
    cases.append(("unsized model", "the input network as given", apply_demand(wn, p)))
    if study.base_year != study.horizon_year:
        log(f"stress: the design made for {study.base_year}, run with {study.horizon_year}")
        early = run_scenario(
            study, base.spec, wn, villages, catalog, pumps, sizing_year=study.base_year
        )
        cases.append(
            (f"designed for {study.base_year}", f"sized for the {study.base_year} demand",
             early.model)
        )  # fmt: skip
    if study.pump:
        stopped = copy_network(base.model)
        link = stopped.get_link(study.pump)
        for name, control in list(stopped.controls()):
            if any(a.target()[0] is link for a in control.actions()):
                stopped.remove_control(name)
        link.initial_status = wntr.network.LinkStatus.Closed
        cases.append(("pump out of service", f"{study.pump} stopped for the whole run", stopped))
    rows = []
    for case, description, model in cases:
        log(f"stress: {case} (pressure-driven, {study.simulation_hours:g} h)")
        service = delivered_service(
            model, study.simulation_hours, required, 0.0, douars=p.douars, node_douar=node_douar
        )
        pressure = service.results.pressure
        for rec in service.douars.to_dict("records"):
            nodes = [n for n, d in node_douar.items() if d == rec["douar"]]
            rows.append(
                {
                    "scenario": base.spec.name,
                    "case": case,
                    "description": description,
                    **rec,
                    # EPANET gives a dry, cut-off node a negative pressure: shown as 0
                    "lowest_pressure_m": max(float(pressure[nodes].min().min()), 0.0),
                }
            )
    return pd.DataFrame(rows)


def operation_table(study: Study, outcomes: list[Outcome]) -> pd.DataFrame:
    """Storage rule and result, rising main, pump duty and choice, energy, per scenario."""
    rows = []
    for o in outcomes:
        st = o.storage
        row = {
            "scenario": o.spec.name,
            "peak_day_m3": st.peak_day_m3,
            "balancing_m3": st.balancing_m3,
            "reserve_m3": st.reserve_m3,
            "tank_m3": st.volume_m3,
            "brief_rule_m3": st.brief_rule_m3,
            "storage_rule": st.describe(),
        }
        row["main"] = "; ".join(f"{r.pipe} {r.label}" for r in o.rising_main.itertuples())
        row["main_velocity_m_per_s"] = float(o.rising_main["velocity_m_per_s"].max())
        if o.duty is not None:
            row.update(
                {
                    "duty_l_per_s": 1000 * o.duty.flow_m3_per_s,
                    "duty_head_m": o.duty.head_m,
                    "pump": o.pump.name,
                    "pump_source": o.pump.source,
                    "pump_flow_l_per_s": 1000 * o.pump.flow_m3_per_s,
                    "pump_head_m": o.pump.head_m,
                    "pump_efficiency": o.pump.efficiency,
                    "energy_kwh_per_day": o.energy_kwh_per_day,
                    "energy_kwh_per_m3": o.energy_kwh_per_m3,
                    "energy_mad_per_year": o.energy_kwh_per_day
                    * DAYS_PER_YEAR
                    * study.costs["energy_per_kwh"].value,
                    "pump_rule": o.duty.describe(),
                }
            )
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the run
@dataclass
class StudyResult:
    study: Study
    outcomes: list[Outcome]
    feasibility: pd.DataFrame
    sensitivity: pd.DataFrame
    assumptions: pd.DataFrame
    stress: pd.DataFrame
    operation: pd.DataFrame
    seconds: float


class _Steps:
    def __init__(self, quiet: bool):
        self.started = time.perf_counter()
        self.quiet = quiet

    def __call__(self, message: str) -> None:
        if not self.quiet:
            sys.stderr.write(f"[{time.perf_counter() - self.started:5.1f} s] {message}\n")
            sys.stderr.flush()


def run_study(study: Study, log=lambda m: None) -> StudyResult:
    started = time.perf_counter()
    wn = read_network(study.network)
    villages = read_villages(study.villages)
    check_villages_against_network(villages, wn, str(study.network))
    if study.tank not in wn.tank_name_list:
        raise InputError(
            f"{study.path}: [design] tank {study.tank!r} is not a tank of {study.network}"
        )
    if study.pump and study.pump not in wn.pump_name_list:
        raise InputError(
            f"{study.path}: [design] pump {study.pump!r} is not a pump of {study.network}"
        )
    catalog = read_catalog(study.pipe_catalog)
    pumps = read_pump_catalog(study.pump_catalog) if study.pump_catalog else None
    outcomes = []
    for k, spec in enumerate(study.scenarios, start=1):
        log(f"scenario {k}/{len(study.scenarios)}: {spec.label}")
        outcomes.append(run_scenario(study, spec, wn, villages, catalog, pumps, log=log))
    feasibility = pd.DataFrame([feasibility_row(study, o, villages) for o in outcomes])
    rows = []
    base_name = study.sensitivity.get("scenario", study.scenarios[0].name)
    base = next(o for o in outcomes if o.spec.name == base_name)
    for k, (parameter, shown, overrides, price) in enumerate(sensitivity_cases(study), start=1):
        log(f"sensitivity {k}: {parameter} {shown}")
        demand = dict(overrides)
        factor = demand.pop("_demand_factor", None)
        if factor is not None:
            sc = _demand_scenario(study, base.spec.service)
            demand["domestic_l_per_person_day"] = {
                key: v * factor for key, v in sc.domestic_l_per_person_day.items()
            }
        cat = (
            catalog
            if price == 1.0
            else Catalog(
                catalog.table.assign(cost_per_m=catalog.table["cost_per_m"] * price), catalog.source
            )
        )
        o = run_scenario(study, base.spec, wn, villages, cat, pumps, demand)
        rows.append(
            {
                "scenario": base.spec.name,
                "parameter": parameter,
                "value": shown,
                "capital_mad": o.capital_mad,
                "capital_eur": o.capital_mad / study.mad_per_eur.value,
                "change_from_base": o.capital_mad / base.capital_mad - 1,
                "headroom_eur": study.budget_eur - o.capital_mad / study.mad_per_eur.value,
                "lowest_pressure_m": o.compliance_design.summary["min_pressure_by_class_m"].get(
                    "standpipe", np.nan
                ),
                "compliance_share": o.compliance_design.summary["node_hours_compliant_share"],
                "compliant": o.compliance_design.compliant and o.compliance_open.compliant,
                f"beneficiaries_{study.horizon_year}": round(
                    o.projection_design.totals()["population"]
                ),
            }
        )
    sensitivity = pd.DataFrame(rows)
    stress = stress_table(study, base, wn, villages, catalog, pumps, log)
    assumptions = assumptions_table(study, outcomes)
    return StudyResult(
        study,
        outcomes,
        feasibility,
        sensitivity,
        assumptions,
        stress,
        operation_table(study, outcomes),
        time.perf_counter() - started,
    )


def write_outputs(result: StudyResult, out: Path, lang: str, log=lambda m: None) -> list[Path]:
    """Write every table, figure and report into ``out``, all or nothing."""
    from hydro import report

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        written = report.write_all(result, staging, lang, log)
        if out.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
            out.rename(trash / out.name)
            staging.rename(out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [out / p.relative_to(staging) for p in written]


# --------------------------------------------------------------------------- command
def cmd_run(args) -> int:
    study = load_study(args.study)
    out = Path(args.out) if args.out else Path("out") / study.name
    protected = {
        p.resolve() for p in (study.network, study.villages, study.pipe_catalog, study.path)
    }
    if out.resolve() in protected or any(p.is_relative_to(out.resolve()) for p in protected):
        raise InputError(f"{out}: the output folder would hold or replace an input; choose another")
    steps = _Steps(args.quiet)
    for name in ("hydro.sizing", "hydro.sizing_tree", "hydro.sizing_looped"):
        logging.getLogger(name).setLevel(logging.WARNING)  # the study reports its own steps
    result = run_study(study, steps)
    steps("writing tables, figures and reports")
    paths = write_outputs(result, out, args.lang, steps)
    print(f"study: {study.title} ({result.seconds:.0f} s)")
    cols = ["scenario", "capital_eur", "headroom_eur", "cost_per_beneficiary_eur",
            "delivered_l_per_person_day", "lowest_pressure_m", "verdict"]  # fmt: skip
    print(result.feasibility[cols].to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
    print(f"wrote {len(paths)} files into {out}/ (open {out / 'report.html'})")
    return 0


def add_command(sub) -> None:
    p = sub.add_parser(
        "run",
        help="run a design study: scenarios, sizing, checks, costs, donor report",
        description="Run the study file: for each scenario project the demand, size the pipes, "
        "storage and pump, check the written design over days of operation and cost it; write "
        "the feasibility tables, figures, report.xlsx and report.html.",
    )
    p.add_argument("study", metavar="STUDY.toml", help="study file (see studies/oujda/)")
    p.add_argument("--out", metavar="DIR", help="output folder (default out/<study name>/)")
    p.add_argument("--lang", choices=["en", "fr"], default="en", help="report language")
    p.set_defaults(func=cmd_run)
