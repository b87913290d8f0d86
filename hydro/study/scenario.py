"""One scenario of a study: demand, storage, mains and pump, pipes, independent check, costs.

:func:`run_scenario` carries a scenario from the village table to a design checked on the file
it writes; :func:`stress_table` runs the design through the cases where service degrades.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import wntr

from hydro.catalog import Catalog, tag_of
from hydro.compliance import ComplianceReport, check_compliance
from hydro.demand import (
    DemandProjection,
    DemandScenario,
    apply_demand,
    get_scenario,
    project_demand,
)
from hydro.errors import InfeasibleDesignError, InputError
from hydro.mains import rising_main, size_gravity_main, size_pumped_main
from hydro.network import copy_network, read_network, write_network
from hydro.pumps import (
    Duty,
    PumpChoice,
    install_pump,
    pump_duty,
    pump_energy,
    select_pump,
    shutoff_head,
)
from hydro.service import Service, delivered_service
from hydro.sizing import size_network
from hydro.sizing.problem import Targets
from hydro.storage import StorageSizing, resize_tank, size_tank, tank_demand_day
from hydro.study.config import ScenarioSpec, Study
from hydro.study.costing import bill_of_quantities, tertiary_network
from hydro.surge import check_rising_main
from hydro.units import SECONDS_PER_HOUR

#: Water level kept in a break tank at the tap-off, above the pump's inlet [m] [E].
BREAK_TANK_LEVEL_M = 2.0


# --------------------------------------------------------------------------- one scenario
@dataclass(kw_only=True)
class ScenarioResult:
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
    #: random tap opening on the design, design-year demand (hydro.taps.TapRun), when asked
    taps: object | None = None
    #: Tank volume built [m3]: the hourly balance plus reserve, or the storage rule of
    #: docs/sources.md 5.1 when it asks for more (pumped main or intermittent tap-off)
    tank_m3: float
    #: Rising-main pressure class and pump-trip surge (hydro.surge), None without a pump
    surge: pd.DataFrame | None
    surge_vessel: bool
    #: Street pipes to the houses per douar (hydro.study.costing.tertiary_network)
    tertiary: pd.DataFrame


def demand_scenario(study: Study, name: str, overrides: dict | None = None) -> DemandScenario:
    """The study's demand scenario ``name``, with its patterns, its ``[taps]`` and some values
    changed.
    """
    return get_scenario(name, study.patterns, {**study.taps.demand_changes(), **(overrides or {})})


#: Fields of the demand scenarios that one design shares, so douars at different service
#: levels can be served by one network (:func:`project_levels`).
SHARED_FIELDS = ("transmission_efficiency", "distribution_efficiency", "peak_day_factor",
                 "taps_per_standpipe", "persons_per_household")  # fmt: skip


def project_levels(
    study: Study,
    spec: ScenarioSpec,
    villages: pd.DataFrame,
    year: int,
    which: str,
    overrides: dict | None = None,
    levels: dict | None = None,
) -> DemandProjection:
    """The demand of ``year`` with each douar at its own service level.

    ``which``: ``"service"`` (what is served) or ``"sizing"`` (what the pipes are sized for);
    ``levels``: douar -> :class:`ScenarioSpec` (None: ``spec`` for every douar). Each group
    of douars is projected with its scenario's definitions (allowances, public uses,
    livestock, household share), then the tables are put together in the village table's
    order. The scenarios must agree on :data:`SHARED_FIELDS`.
    """

    def scenario(s: ScenarioSpec) -> DemandScenario:
        return demand_scenario(study, getattr(s, which), overrides)

    if not levels:
        return project_demand(villages, year, scenario(spec))
    groups: dict[str, list[str]] = {}
    for douar in villages["douar"]:
        groups.setdefault(levels[douar].name, []).append(douar)
    specs = {s.name: s for s in levels.values()}
    parts = []
    for name, douars in groups.items():
        part = villages[villages["douar"].isin(douars)].reset_index(drop=True)
        parts.append(project_demand(part, year, scenario(specs[name])))
    first = parts[0].scenario
    for p in parts[1:]:
        for key in SHARED_FIELDS:
            if getattr(p.scenario, key) != getattr(first, key):
                raise InputError(
                    f"{study.path}: [budget] scenarios {first.name} and {p.scenario.name} "
                    f"differ in {key}: one network cannot serve both"
                )
    order = {d: k for k, d in enumerate(villages["douar"])}
    douars = pd.concat([p.douars for p in parts], ignore_index=True)
    douars = douars.sort_values("douar", key=lambda c: c.map(order)).reset_index(drop=True)
    nodes = pd.concat([p.nodes for p in parts], ignore_index=True)
    nodes = nodes.sort_values("douar", key=lambda c: c.map(order), kind="stable")
    return DemandProjection(scenario=first, year=year, douars=douars,
                            nodes=nodes.reset_index(drop=True))  # fmt: skip


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
    random_taps: bool | None = None,
    levels: dict | None = None,
) -> ScenarioResult:
    """Demand, sizing, storage, pump, independent check and costs of one scenario.

    ``sizing_year``: size pipes, storage and pump for this year's demand instead of the
    governing one (the stress case of a design made for the opening year); the checks still
    run the opening and the design year. ``random_taps``: run the study's ``[taps]`` draws on
    the design (default: for the scenario itself, not for its sensitivity or stress runs, which
    pass ``overrides`` or ``sizing_year``). ``levels``: douar -> :class:`ScenarioSpec`, each
    douar at its own service level (:func:`project_levels`; the design-to-budget mode).
    """
    rules = study.rules

    def project(year: int, which: str) -> DemandProjection:
        return project_levels(study, spec, villages, year, which, overrides, levels)

    p_open = project(study.base_year, "service")
    p_design = project(study.horizon_year, "service")
    p_sizing = project(sizing_year or study.horizon_year, "sizing")
    service, sizing = p_open.scenario, p_sizing.scenario
    notes = []
    # a shrinking population makes the opening year the heavier one: design for it
    p_storage = p_design if sizing_year is None else project(sizing_year, "service")
    if (
        sizing_year is None
        and p_open.totals()["peak_hour_l_per_s"] > p_design.totals()["peak_hour_l_per_s"]
    ):
        p_storage = p_open
        p_sizing = project(study.base_year, "sizing")
        notes.append(
            f"the demand of {study.base_year} exceeds that of {study.horizon_year} "
            f"(population decline): pipes, storage and pump are sized for {study.base_year}"
        )

    if spec.break_tank:
        wn = with_break_tank(wn, study)
    # storage from the governing year's service demand at the tank
    model = apply_demand(wn, p_storage)
    storage = size_tank(
        model, study.tank, service.peak_day_factor, study.reserve_hours, study.supply_hours
    )
    tank_m3 = storage.volume_m3
    if (study.pump or len(study.supply_hours) < 24) and storage.brief_rule_m3 > tank_m3:
        tank_m3 = storage.brief_rule_m3
        notes.append(
            f"tank {tank_m3:.1f} m3 by the storage rule max(50% peak day, 1 average day) of "
            f"docs/sources.md 5.1 (the hourly balance and reserve need {storage.volume_m3:.1f})"
        )
    model = resize_tank(model, study.tank, tank_m3)

    # rising main (economic diameter) and pump, for the sizing demand (pipes built once)
    sizing_model = apply_demand(model, p_sizing)
    sizing_day = tank_demand_day(sizing_model, study.tank).sum() / sizing.transmission_efficiency
    main = rising_main(wn, study.tank, study.pump)
    duty, choice = None, None
    hours = study.pumping_hours if study.pump else len(study.supply_hours)
    flow = sizing_day / (hours * SECONDS_PER_HOUR)
    max_velocity = study.rules.velocity_m_per_s["transmission"][1]
    if study.pump:
        main_table = size_pumped_main(
            model,
            main,
            catalog,
            flow,
            tank=study.tank,
            pump=study.pump,
            hours_per_day=study.pumping_hours,
            energy_price_per_kwh=study.costs["energy_per_kwh"].value,
            annuity_factor=1 / study.crf,
            max_velocity_m_per_s=max_velocity,
            source=str(study.path),
        )
    else:
        main_table = size_gravity_main(
            model,
            main,
            catalog,
            flow,
            tank=study.tank,
            max_velocity_m_per_s=max_velocity,
            source=str(study.path),
        )
    for rec in main_table.to_dict("records"):
        pipe = model.get_link(rec["pipe"])
        pipe.diameter = rec["inner_diameter_mm"] / 1000
        pipe.tag = tag_of(rec["label"])
        roughness = catalog.roughness_in(model.options.hydraulic.headloss).at[rec["row"]]
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
    # each served node at its class minimum (standpipe, household), other junctions at theirs
    # and the tap flows of the design condition (hydro.condition): 5 m at the taps
    targets = Targets(
        rules.min_pressure_m["junction"],
        node_min_pressure_m={
            n: rules.min_pressure_m[c] for n, c in p_sizing.node_classes().items()
        },
        tap_min_pressure_m=rules.tap_min_pressure_m,
        tank_reserve_share=rules.tank_reserve_share,
    )
    log(f"sizing pipes for the {spec.sizing} demand of {p_sizing.year}")
    try:
        result = size_network(
            sizing_model,
            catalog,
            targets,
            fixed=tuple(main),
            source=str(study.network),
            seed=study.seed,
            time_limit_s=study.looped_time_limit_s,
            min_diameter_mm=_min_diameters(wn, study, p_sizing.node_classes(), main),
            taps=p_sizing.taps(),
        )
    except InfeasibleDesignError as exc:
        raise InfeasibleDesignError(f"{study.path}: scenario {spec.name}: {exc}") from exc
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
        checked, rules, p_design.node_classes(), duration_h=study.simulation_hours
    )
    compliance_open = check_compliance(
        apply_demand(checked, p_open),
        rules,
        p_open.node_classes(),
        duration_h=study.simulation_hours,
    )
    delivered = delivered_service(
        checked,
        study.simulation_hours,
        rules.required_pressure_m(p_design.node_classes().values()),
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
    surge, vessel = None, False
    if study.pump:
        shutoff = shutoff_head(choice.curve)  # 133% of the duty head for a fitted pump
        surge = check_rising_main(
            checked, compliance_design.results, study.pump, main, catalog.table, shutoff
        )
        vessel = not surge["surge_ok"].all()
    tertiary = tertiary_network(study, catalog, p_open, p_design)
    tap_run = None
    if random_taps is None:
        random_taps = overrides is None and sizing_year is None
    if random_taps and study.taps.draws:
        tap_run = run_random_taps(study, checked, p_design, log)
    boq, standpipes, connections = bill_of_quantities(
        study, checked, catalog, p_open, tank_m3, tertiary, spec.break_tank, vessel
    )
    before = float(boq.loc[boq["category"] != "margin", "total_mad"].sum())
    return ScenarioResult(
        spec=spec,
        projection_open=p_open,
        projection_design=p_design,
        storage=storage,
        duty=duty,
        pump=choice,
        rising_main=main_table,
        model=checked,
        inp_text=inp_text,
        compliance_design=compliance_design,
        compliance_open=compliance_open,
        service=delivered,
        boq=boq,
        capital_before_margins_mad=before,
        capital_mad=float(boq["total_mad"].sum()),
        energy_kwh_per_day=energy_day,
        energy_kwh_per_m3=energy_m3,
        standpipes=standpipes,
        connections=connections,
        notes=notes,
        tank_m3=tank_m3,
        surge=surge,
        surge_vessel=vessel,
        tertiary=tertiary,
        taps=tap_run,
    )


def with_break_tank(wn, study: Study):
    """A copy of ``wn`` whose booster draws from a break tank at the tap-off: the reservoirs
    upstream of the pump stand at the pump inlet's ground plus :data:`BREAK_TANK_LEVEL_M`
    (the main's pressure is broken, so the pump sees none of it).
    """
    if not study.pump:
        raise InputError(f"{study.path}: break_tank = true needs a [design] pump")
    model = copy_network(wn)
    inlet = model.get_node(model.get_link(study.pump).start_node_name)
    for name in model.reservoir_name_list:
        model.get_node(name).base_head = inlet.elevation + BREAK_TANK_LEVEL_M
    return model


def run_random_taps(study: Study, model, projection: DemandProjection, log=lambda m: None):
    """The study's ``[taps]`` draws on a design with ``projection``'s demand and taps."""
    from hydro.parallel import executor_for
    from hydro.taps import build_tap_model, check_run, run_taps

    spec, rules = study.taps, study.rules
    tap_model = build_tap_model(
        model,
        projection.taps(),
        rules.tap_min_pressure_m or 5.0,
        spec.probability,
        rules.tank_reserve_share,
    )
    with executor_for(spec.workers, spec.scheduler) as executor:  # the run's executor
        log(f"random tap opening: {spec.draws:,} draws ({executor.description})")
        run = run_taps(tap_model, spec.draws, spec.seed, executor, spec.useful_share)
    check_run(run)
    return run


# --------------------------------------------------------------------------- stress cases
def stress_table(
    study: Study,
    base: ScenarioResult,
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
    rules = study.rules
    p = base.projection_design
    required = rules.required_pressure_m(p.node_classes().values())
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
        if model is base.model:  # the scenario's own pressure-driven run, same settings
            service = base.service
        else:
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
