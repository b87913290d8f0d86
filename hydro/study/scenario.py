"""One scenario of a study: demand, storage, mains and pump, pipes, independent check, costs.

:func:`run_scenario` carries a scenario from the village table to a design checked on the file
it writes, as a chain of named steps (:data:`SCENARIO_STEPS`: demand, unused branches, break
tank, storage, main, pump, pipes, write, checks, energy, surge, taps, costs), each a function
of the :class:`ScenarioRun` that reads the fields it needs and sets its own. A study without a pump
has no pump steps; a study replaces or leaves out any step by its name (``Study.steps``,
:func:`chain`) without touching the others.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import wntr

from hydro.catalog import pipe_tag
from hydro.compliance import ComplianceReport, Rules, check_compliance
from hydro.demand import (
    DemandProjection,
    DemandScenario,
    apply_demand,
    get_scenario,
    project_demand,
)
from hydro.errors import InfeasibleDesignError, InputError, did_you_mean
from hydro.mains import (
    PumpAndMain,
    choose_pump_and_main,
    rising_main,
    size_gravity_main,
    size_pumped_main,
    split_main,
)
from hydro.network import copy_network, read_network, topology, write_network
from hydro.parallel import executor_for
from hydro.pumps import (
    Duty,
    PumpChoice,
    install_pump,
    pump_duty,
    pump_efficiency_for_size,
    pump_energy,
    select_pump,
    shutoff_head,
)
from hydro.service import Service, delivered_service
from hydro.sizing import size_network
from hydro.sizing.boosters import Boosters, average_demand, booster_table, fed_by
from hydro.sizing.problem import Targets
from hydro.sizing.size import booster_notes
from hydro.stations import StationPrices, station_parts, station_prices
from hydro.storage import StorageSizing, resize_tank, size_tank, tank_demand_day
from hydro.study.costing import (
    BOQ_COLUMNS,
    bill_of_quantities,
    booster_station_price,
    storage_rule_applies,
    tertiary_network,
)
from hydro.study.parts import ScenarioSpec, Study, StudyData, TapsSpec
from hydro.surge import check_rising_main
from hydro.taps import build_tap_model, check_run, run_taps
from hydro.topology import shortest_path_links, unused_branches
from hydro.units import DAYS_PER_YEAR, SECONDS_PER_HOUR

#: Water level kept in a break tank at the tap-off, above the pump's inlet [m] [E].
BREAK_TANK_LEVEL_M = 2.0
#: Head of the nominal booster at which the sizing prices a station costed from its parts
#: [m] [E] (the program takes one cost per station; the bill costs each placed station from
#: its parts at its own duty): a village booster lifts a few tens of metres.
NOMINAL_BOOSTER_HEAD_M = 30.0


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
    capital_before_margins_lcu: float
    capital_lcu: float
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
    #: Street pipes to the houses per village (hydro.study.costing.tertiary_network)
    tertiary: pd.DataFrame
    #: The booster station's parts (hydro.stations.station_parts), None: none or a lump sum
    station: pd.DataFrame | None = None
    #: Booster pumps the sizing placed in the distribution (``PMP_<node>``): one row each
    #: (:func:`hydro.sizing.boosters.booster_table`, at the study's prices), with its energy
    #: per m3 through it and its share of the network's demand (:func:`booster_rows`)
    boosters: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: Per village: ``served_by``, ``gravity`` or the booster that feeds it (:func:`serving`)
    serving: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True)
class Trunk:
    """The trunk of a whole scheme, built once for it: the tank's volume, the transmission
    main (its pipes' catalogue rows and labels) and the pump. A phase of the scheme
    (:mod:`hydro.study.budget`) is built on it rather than on its own smaller trunk.
    """

    tank_m3: float
    main_table: pd.DataFrame
    duty: Duty | None
    pump: PumpChoice | None


def trunk_of(result: ScenarioResult) -> Trunk:
    """The trunk (tank, main, pump) of a scenario's design."""
    return Trunk(result.tank_m3, result.rising_main, result.duty, result.pump)


def demand_scenario(study: Study, name: str, overrides: dict | None = None) -> DemandScenario:
    """The study's demand scenario ``name``, with its patterns, its ``[taps]`` and some values
    changed.
    """
    return get_scenario(
        name, study.inputs.patterns, {**study.taps.demand_changes(), **(overrides or {})}
    )


#: Fields of the demand scenarios that one design shares, so villages at different service
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
    """The demand of ``year`` with each village at its own service level.

    ``which``: ``"service"`` (what is served) or ``"sizing"`` (what the pipes are sized for);
    ``levels``: village -> :class:`ScenarioSpec` (None: ``spec`` for every village). Each group
    of villages is projected with its scenario's definitions (allowances, public uses,
    livestock, household share), then the tables are put together in the village table's
    order. The scenarios must agree on :data:`SHARED_FIELDS`.
    """

    def scenario(s: ScenarioSpec) -> DemandScenario:
        return demand_scenario(study, getattr(s, which), overrides)

    if not levels:
        return project_demand(villages, year, scenario(spec))
    groups: dict[str, list[str]] = {}
    for village in villages["village"]:
        groups.setdefault(levels[village].name, []).append(village)
    specs = {s.name: s for s in levels.values()}
    parts = []
    for name, names in groups.items():
        part = villages[villages["village"].isin(names)].reset_index(drop=True)
        parts.append(project_demand(part, year, scenario(specs[name])))
    first = parts[0].scenario
    for p in parts[1:]:
        for key in SHARED_FIELDS:
            if getattr(p.scenario, key) != getattr(first, key):
                raise InputError(
                    f"{study.path}: [budget] scenarios {first.name} and {p.scenario.name} "
                    f"differ in {key}: one network cannot serve both"
                )
    order = {d: k for k, d in enumerate(villages["village"])}
    table = pd.concat([p.villages for p in parts], ignore_index=True)
    table = table.sort_values("village", key=lambda c: c.map(order)).reset_index(drop=True)
    nodes = pd.concat([p.nodes for p in parts], ignore_index=True)
    nodes = nodes.sort_values("village", key=lambda c: c.map(order), kind="stable")
    return DemandProjection(scenario=first, year=year, villages=table,
                            nodes=nodes.reset_index(drop=True))  # fmt: skip


def _min_diameters(wn, study: Study, classes: dict[str, str], main: list[str]) -> dict:
    """DN minimum for distribution pipes, except the branch that feeds a standpipe node."""
    if study.design.min_distribution_dn_mm is None:
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
            out[name] = study.design.min_distribution_dn_mm
    return out


# --------------------------------------------------------------------------- the steps
@dataclass(kw_only=True)
class ScenarioRun:
    """What the steps of one scenario share: its inputs, then what each step adds.

    As pvlib's ``ModelChain``: each step reads the fields it needs and sets its own, so a
    step can be replaced or left out (:func:`chain`) without touching the others.
    """

    study: Study
    spec: ScenarioSpec
    data: StudyData
    overrides: dict | None = None
    sizing_year: int | None = None
    random_taps: bool | None = None
    levels: dict | None = None
    #: the trunk of the whole scheme this run is a phase of (None: its own)
    trunk: Trunk | None = None
    log: object = None
    notes: list = field(default_factory=list)
    #: the source network (a break tank when the scenario asks for one)
    source_model: object = None
    #: the network as the steps build it: tank resized, main and pump set, then sized
    model: object = None
    p_open: DemandProjection | None = None
    p_design: DemandProjection | None = None
    p_sizing: DemandProjection | None = None
    p_storage: DemandProjection | None = None
    storage: StorageSizing | None = None
    tank_m3: float = 0.0
    main: list = field(default_factory=list)
    main_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    sizing_day_m3: float = 0.0
    duty: Duty | None = None
    pump: PumpChoice | None = None
    #: the pump and rising main chosen together, every combination looked at (pumped only)
    pump_and_main: PumpAndMain | None = None
    sized: object = None
    checked: object = None
    inp_text: str = ""
    compliance_design: ComplianceReport | None = None
    compliance_open: ComplianceReport | None = None
    service: Service | None = None
    energy_kwh_per_day: float = 0.0
    energy_kwh_per_m3: float = 0.0
    surge: pd.DataFrame | None = None
    surge_vessel: bool = False
    tertiary: pd.DataFrame = field(default_factory=pd.DataFrame)
    taps: object = None
    boq: pd.DataFrame | None = None
    station: pd.DataFrame | None = None
    boosters: pd.DataFrame = field(default_factory=pd.DataFrame)
    serving: pd.DataFrame = field(default_factory=pd.DataFrame)
    standpipes: int = 0
    connections: int = 0

    def project(self, year: int, which: str) -> DemandProjection:
        """The demand of ``year`` (``which``: service or sizing) with this run's changes."""
        return project_levels(
            self.study, self.spec, self.data.villages, year, which, self.overrides, self.levels
        )

    def result(self) -> ScenarioResult:
        """The scenario's result, as checked on the written file."""
        boq = self.boq if self.boq is not None else pd.DataFrame(columns=BOQ_COLUMNS)
        before = float(boq.loc[boq["category"] != "margin", "total_lcu"].sum())
        return ScenarioResult(
            spec=self.spec,
            projection_open=self.p_open,
            projection_design=self.p_design,
            storage=self.storage,
            duty=self.duty,
            pump=self.pump,
            rising_main=self.main_table,
            model=self.checked,
            inp_text=self.inp_text,
            compliance_design=self.compliance_design,
            compliance_open=self.compliance_open,
            service=self.service,
            boq=boq,
            capital_before_margins_lcu=before,
            capital_lcu=float(boq["total_lcu"].sum()),
            energy_kwh_per_day=self.energy_kwh_per_day,
            energy_kwh_per_m3=self.energy_kwh_per_m3,
            standpipes=self.standpipes,
            connections=self.connections,
            notes=self.notes,
            tank_m3=self.tank_m3,
            surge=self.surge,
            surge_vessel=self.surge_vessel,
            tertiary=self.tertiary,
            taps=self.taps,
            station=self.station,
            boosters=self.boosters,
            serving=self.serving,
        )


def step_demand(run: ScenarioRun) -> None:
    """Demand of the opening, design and sizing years; the governing year for storage.

    A shrinking population makes the opening year the heavier one: pipes, storage and pump
    are then sized for it.
    """
    d = run.study.design
    run.p_open = run.project(d.base_year, "service")
    run.p_design = run.project(d.horizon_year, "service")
    run.p_sizing = run.project(run.sizing_year or d.horizon_year, "sizing")
    run.p_storage = (
        run.p_design if run.sizing_year is None else run.project(run.sizing_year, "service")
    )
    if (
        run.sizing_year is None
        and run.p_open.totals()["peak_hour_l_per_s"] > run.p_design.totals()["peak_hour_l_per_s"]
    ):
        run.p_storage = run.p_open
        run.p_sizing = run.project(d.base_year, "sizing")
        run.notes.append(
            f"the demand of {d.base_year} exceeds that of {d.horizon_year} "
            f"(population decline): pipes, storage and pump are sized for {d.base_year}"
        )


#: Names a note lists before it says how many more there are.
NAMES_SHOWN = 12


class Note(str):
    """A note of the design in English (the string itself) that carries its French, ``fr``,
    for the French report (:func:`hydro.study.labels.translate` shows ``fr`` when given).

    >>> note = Note("1 pipe (P9) leads to no village", fr="1 conduite (P9) ...")
    >>> str(note), note.fr
    ('1 pipe (P9) leads to no village', '1 conduite (P9) ...')
    """

    fr: str

    def __new__(cls, en: str, fr: str = ""):
        """The note ``en`` with its French ``fr`` (empty: none)."""
        note = super().__new__(cls, en)
        note.fr = fr
        return note


def unused_branches_note(links: list[str], pipes: bool, prune: bool, words: dict) -> Note:
    r"""The note on branches no village uses, in plain words in English and French.

    ``links``: the links of those branches; ``pipes``: every one a pipe; ``prune``: left
    out of the design (else still sized and costed); ``words``: the study's word for a
    village (``[report] village_word``, {lang: (singular, plural)}). The French is written
    so that the word's gender changes no agreement ("des douars").

    >>> words = {"en": ("douar", "douars"), "fr": ("douar", "douars")}
    >>> note = unused_branches_note(["TR4", "OA1"], True, False, words)
    >>> str(note)
    '2 pipes (TR4, OA1) lead to no douar served in this scenario; they are still sized and costed'
    >>> note.fr  # doctest: +NORMALIZE_WHITESPACE
    '2 conduites (TR4, OA1) ne mènent à aucun point de desserte des douars dans ce
    scénario\xa0; elles sont tout de même dimensionnées et chiffrées'
    >>> str(unused_branches_note(["P9"], True, True, words))
    '1 pipe (P9) leads to no douar served in this scenario and is left out of the design'
    """
    n, one = len(links), len(links) == 1
    more = n - NAMES_SHOWN
    names = ", ".join(links[:NAMES_SHOWN])
    en_names = names + (f" and {more} more" if more > 0 else "")
    fr_names = names + (f" et {more} autres" if more > 0 else "")
    if pipes:
        en_what = "pipe" if one else "pipes"
        fr_what, fr_it, fr_end = ("conduite", "elle", "e") if one else ("conduites", "elles", "es")
    else:  # pipes with valves or pumps among them
        en_what = "pipe or device" if one else "pipes and devices"
        fr_what, fr_it, fr_end = ("tronçon", "il", "") if one else ("tronçons", "ils", "s")
    en_lead = "leads" if one else "lead"
    fr_lead = "mène" if one else "mènent"
    en = f"{n} {en_what} ({en_names}) {en_lead} to no {words['en'][0]} served in this scenario"
    fr = (
        f"{n} {fr_what} ({fr_names}) ne {fr_lead} à aucun point de desserte des "
        f"{words['fr'][1]} dans ce scénario"
    )
    if prune:
        en += f" and {'is' if one else 'are'} left out of the design"
        fr += f" et {'est' if one else 'sont'} laissé{fr_end} hors du projet"
    else:
        en += f"; {'it is' if one else 'they are'} still sized and costed"
        fr += (
            f"\u00a0; {fr_it} {'est' if one else 'sont'} tout de même dimensionné{fr_end} "
            f"et chiffré{fr_end}"
        )
    return Note(en, fr=fr)


def step_branches(run: ScenarioRun) -> None:
    """Pipes and junctions no village's demand reaches in this scenario (dead-end branches
    with no demand node in them, in any year it projects: :func:`hydro.topology.unused_branches`)
    named in a note (:func:`unused_branches_note`), or left out of the design with
    ``[design] unused_branches = "prune"``. The console's warning names the setting.
    """
    used = set()
    for p in (run.p_open, run.p_design, run.p_sizing):
        used |= set(p.nodes.loc[p.nodes["peak_day_l_per_s"] > 0, "node"])
    junctions, links = unused_branches(run.source_model, used)
    if not links:
        return
    prune = run.study.design.unused_branches == "prune"
    pipes = set(links) <= set(run.source_model.pipe_name_list)
    note = unused_branches_note(links, pipes, prune, run.study.report.village_word)
    if prune:
        model = copy_network(run.source_model)
        for name in links:
            model.remove_link(name)
        for name in junctions:
            model.remove_node(name)
        run.source_model = model
        setting = '[design] unused_branches = "prune"'
    else:
        setting = '[design] unused_branches = "prune" would leave them out'
    run.notes.append(note)
    if run.overrides is None and run.sizing_year is None and run.levels is None:
        run.log(f"warning: scenario {run.spec.name}: {note} ({setting})")


def step_break_tank(run: ScenarioRun) -> None:
    """The booster draws from a break tank at the tap-off (:func:`with_break_tank`)."""
    if run.spec.break_tank:
        run.source_model = with_break_tank(run.source_model, run.study)


def step_storage(run: ScenarioRun) -> None:
    """The tank from the governing year's hourly balance plus reserve, or the storage rule
    of docs/sources.md 5.1 when the source is pumped or intermittent and it asks for more.
    """
    d = run.study.design
    model = apply_demand(run.source_model, run.p_storage)
    factor = run.p_open.scenario.peak_day_factor
    run.storage = size_tank(model, d.tank, factor, d.reserve_hours, d.supply_hours)
    run.tank_m3 = run.storage.volume_m3
    if storage_rule_applies(run.study, run.storage) and run.storage.brief_rule_m3 > run.tank_m3:
        run.tank_m3 = run.storage.brief_rule_m3
        run.notes.append(
            f"tank {run.tank_m3:.1f} m3 by the storage rule max(50% peak day, 1 average day) of "
            f"docs/sources.md 5.1 (the hourly balance and reserve need "
            f"{run.storage.volume_m3:.1f})"
        )
    if run.trunk is not None and run.trunk.tank_m3 > run.tank_m3:
        run.tank_m3 = run.trunk.tank_m3
        run.notes.append(f"tank {run.tank_m3:.1f} m3: sized for the whole scheme")
    run.model = resize_tank(model, d.tank, run.tank_m3)


def step_main(run: ScenarioRun) -> None:
    """The transmission main for the sizing year's day over the pumping or supply hours: by
    gravity, the cheapest pipe that carries it; pumped, the pipe and the pump chosen together
    (:func:`pumped_main`).
    """
    study, d, catalog = run.study, run.study.design, run.data.catalog
    sizing_model = apply_demand(run.model, run.p_sizing)
    efficiency = run.p_sizing.scenario.transmission_efficiency
    run.sizing_day_m3 = tank_demand_day(sizing_model, d.tank).sum() / efficiency
    run.main = rising_main(run.source_model, d.tank, d.pump)
    hours = d.pumping_hours if d.pump else len(d.supply_hours)
    flow = run.sizing_day_m3 / (hours * SECONDS_PER_HOUR)
    if run.trunk is not None:  # the main of the whole scheme
        run.main_table = run.trunk.main_table
    elif d.pump:
        run.main_table = pumped_main(run, flow)
    else:
        run.main_table = size_gravity_main(run.model, run.main, catalog, flow, **_limits(study))
    if "length_m" in run.main_table:  # a gravity main: its pipes split between diameters
        run.main_table = split_main(run.model, run.main, run.main_table)
        run.main = list(run.main_table["pipe"])
    _set_main(run.model, run.main_table, catalog)


def _limits(study: Study) -> dict:
    """What every main keeps to: its tank, the transmission velocity, the study file."""
    return {
        "tank": study.design.tank,
        "max_velocity_m_per_s": study.rules.velocity_m_per_s["transmission"][1],
        "source": str(study.path),
    }


def _set_main(model, table: pd.DataFrame, catalog) -> None:
    """Give each pipe of ``table`` (one row per pipe: its catalogue row) its entry's inner
    diameter, tag and roughness in ``model``.
    """
    for rec in table.to_dict("records"):
        pipe = model.get_link(rec["pipe"])
        pipe.diameter = rec["inner_diameter_mm"] / 1000
        pipe.tag = pipe_tag(catalog.table.loc[rec["row"]])
        roughness = catalog.roughness_in(model.options.hydraulic.headloss).at[rec["row"]]
        if not np.isnan(roughness):
            pipe.roughness = float(roughness)


def _station_prices(study: Study) -> StationPrices | None:
    """The prices of a booster station's parts the study gives (None: a lump sum or none)."""
    return station_prices({k: c.value for k, c in study.prices.costs.items()}, str(study.path))


def pumped_main(run: ScenarioRun, flow: float) -> pd.DataFrame:
    """The pumped main's pipes and the pump, chosen for ``flow`` [m3/s].

    The pipes above the pump at least whole-life cost (:func:`hydro.mains.size_pumped_main`);
    then the pump and the main below it together (:func:`hydro.mains.choose_pump_and_main`):
    among the pump catalogue's pumps and the pipe catalogue's diameters and classes, the least
    capital (the pump, or the station from its parts when the study prices them, plus the
    pipe) plus the energy discounted over the study's ``[money]`` life at its discount rate,
    the pump's shut-off within the pipe's class. Sets the run's duty and pump and says in a
    note which pump, which main and class, and the runner-up's whole-life cost.
    """
    study, d, catalog = run.study, run.study.design, run.data.catalog
    money = study.money
    energy = {
        "hours_per_day": d.pumping_hours,
        "energy_price_per_kwh": study.prices.value("energy_per_kwh"),
        "annuity_factor": 1 / money.crf,
        **_limits(study),
    }
    below = set(shortest_path_links(run.model, run.model.get_link(d.pump).end_node_name, d.tank))
    above = [p for p in run.main if p not in below]
    tables = []
    if above:  # the suction side first: the pump's duty starts from its head
        tables.append(size_pumped_main(run.model, above, catalog, flow, pump=d.pump, **energy))
        _set_main(run.model, tables[0], catalog)
    chosen = choose_pump_and_main(
        run.model, catalog, run.data.pumps, flow, pump=d.pump,
        station=_station_prices(study), **energy,
    )  # fmt: skip
    run.duty, run.pump, run.pump_and_main = chosen.duty, chosen.pump, chosen
    life = f"{money.life_years:g} years at {100 * money.discount_rate:g}%"
    run.notes.append(chosen.describe(money.currency, life))
    return pd.concat([chosen.main, *tables], ignore_index=True)


def step_pump(run: ScenarioRun) -> None:
    """The pump the main step chose with its main (or the whole scheme's), else the
    cheapest catalogue pump (or a fitted curve) for the duty; its level controls.
    """
    d = run.study.design
    if run.trunk is not None and run.trunk.pump is not None:  # the whole scheme's pump
        run.duty, run.pump = run.trunk.duty, run.trunk.pump
    elif run.pump is None:  # a main step that chose no pump (a study's own)
        run.duty = pump_duty(run.model, d.pump, d.tank, run.sizing_day_m3, d.pumping_hours)
        run.pump = select_pump(run.data.pumps, run.duty)
    run.model = install_pump(run.model, d.pump, run.pump, d.tank)
    if run.pump.source != "catalogue":
        run.notes.append(f"pump: {run.pump.source}")


def step_pipes(run: ScenarioRun) -> None:
    """Every other pipe at least cost for the sizing demand, the tank at its reserve level.

    Each served node at its class minimum (standpipe, household), other junctions at theirs,
    and the tap flows of the design condition (:mod:`hydro.condition`).
    """
    study, rules = run.study, run.study.rules
    sizing_model = apply_demand(run.model, run.p_sizing)
    tank = sizing_model.get_node(study.design.tank)
    tank.init_level = tank.min_level + rules.tank_reserve_share * (tank.max_level - tank.min_level)
    classes = run.p_sizing.node_classes()
    targets = Targets(
        rules.min_pressure_m["junction"],
        node_min_pressure_m={n: rules.min_pressure_m[c] for n, c in classes.items()},
        tap_min_pressure_m=rules.tap_min_pressure_m,
        tank_reserve_share=rules.tank_reserve_share,
    )
    run.log(f"sizing pipes for the {run.spec.sizing} demand of {run.p_sizing.year}")
    boosters = study_boosters(run, sizing_model)
    try:
        result = size_network(
            sizing_model, run.data.catalog, targets, fixed=tuple(run.main),
            source=str(study.inputs.network), seed=study.design.seed,
            time_limit_s=study.design.looped_time_limit_s,
            min_diameter_mm=_min_diameters(run.source_model, study, classes, run.main),
            taps=run.p_sizing.taps(), break_tanks=boosters,
        )  # fmt: skip
    except InfeasibleDesignError as exc:
        where = f"{study.path}: scenario {run.spec.name}"
        raise InfeasibleDesignError(f"{where}: {in_study_terms(exc)}") from exc
    except InputError as exc:
        if boosters is None:
            raise
        where = f"{study.path}: scenario {run.spec.name}"
        raise InputError(f"{where}: {in_study_terms(exc)}") from exc
    # the study reports its boosters from the written file in its own words (step_costs)
    said = booster_notes(result.verification.boosters, result.model) if boosters else []
    run.notes.extend(n for n in result.notes if n not in said)
    placed = not result.verification.boosters.empty
    if placed and _station_prices(study) is not None:  # one cost per station in the program
        flow = float(run.p_sizing.totals()["peak_hour_l_per_s"])
        run.notes.append(
            f"booster pumps: each station priced in the sizing at {boosters.cost:,.0f} "
            f"{study.money.currency}, from its parts for a nominal duty of {flow:.2f} l/s at "
            f"{NOMINAL_BOOSTER_HEAD_M:g} m; the bill of quantities costs each placed station "
            "at its own duty"
        )
    run.sized = apply_demand(result.model, run.p_design)
    level = run.model.get_node(study.design.tank).init_level
    run.sized.get_node(study.design.tank).init_level = level


#: The options of ``hydro size`` that name a booster, and the study's words for them.
STUDY_TERMS = (
    ("--booster-cost", "[unit_costs] pump_station, or a station's parts station_*"),
    ("--booster-nodes", "[design] booster_nodes"),
)


def in_study_terms(error: Exception) -> str:
    """The sizing's message with ``hydro size``'s booster options named as a study gives them.

    >>> in_study_terms(ValueError("a booster (--booster-cost) upstream would"))
    "a booster ([unit_costs] pump_station, or a station's parts station_*) upstream would"
    """
    text = str(error)
    for option, key in STUDY_TERMS:
        text = text.replace(option, key)
    return text


def study_boosters(run: ScenarioRun, sizing_model) -> Boosters | None:
    """The booster pumps the sizing may place: when the study prices a booster station
    (:func:`hydro.study.costing.booster_station_price`) and the network has no loop, at
    ``[design] booster_nodes`` (default every junction), each at the station's cost plus
    its energy at the study's ``energy_per_kwh`` over its ``[money]`` life and rate.

    A station costed from its parts is priced for a nominal duty (the sizing demand's peak
    hour lifted :data:`NOMINAL_BOOSTER_HEAD_M`), said in a note when one is placed; the bill of
    quantities costs each placed station from its parts at its own duty. None: no price, no
    demand, or a network with loops and no ``booster_nodes`` (the program places boosters
    in trees).
    """
    study, d = run.study, run.study.design
    flow = float(run.p_sizing.totals()["peak_hour_l_per_s"]) / 1000
    if flow <= 0 or (d.booster_nodes is None and topology(sizing_model).n_loops > 0):
        return None
    head = NOMINAL_BOOSTER_HEAD_M
    cost = booster_station_price(study, flow, head, pump_efficiency_for_size(flow, head))
    if cost is None:
        return None
    return Boosters(
        cost, d.booster_nodes, energy_price_per_kwh=study.prices.value("energy_per_kwh"),
        life_years=study.money.life_years, discount_rate=study.money.discount_rate,
    )  # fmt: skip


def booster_rows(model, study: Study) -> pd.DataFrame:
    """The booster pumps of the written design (:func:`hydro.sizing.boosters.booster_table`)
    at the study's prices: each station's capital at its own duty
    (:func:`hydro.study.costing.booster_station_price`), its energy at the study's
    ``energy_per_kwh``, discounted over the ``[money]`` life in ``whole_life_cost``; with its
    energy per m3 through it (``energy_kwh_per_m3``, at the design year's average demand)
    and its share of the network's average demand (``demand_share``).
    """
    money = study.money
    energy = Boosters(
        0.0, energy_price_per_kwh=study.prices.value("energy_per_kwh"),
        life_years=money.life_years, discount_rate=money.discount_rate,
    )  # fmt: skip
    table = booster_table(model, energy)
    if table.empty:
        return table
    capital = [
        booster_station_price(study, r["flow_l_per_s"] / 1000, r["head_m"], r["efficiency"])
        for r in table.to_dict("records")
    ]
    table["whole_life_cost"] += capital
    table["capital"] = capital
    total = sum(average_demand(model).values())
    seconds = DAYS_PER_YEAR * 24 * SECONDS_PER_HOUR
    m3 = table["average_flow_l_per_s"] / 1000 * seconds
    return table.assign(
        energy_kwh_per_m3=table["energy_kwh_per_year"] / m3.where(m3 > 0),
        demand_share=table["average_flow_l_per_s"] / 1000 / total if total > 0 else 0.0,
    )


def serving(model, boosters: pd.DataFrame, projection: DemandProjection) -> pd.DataFrame:
    """Per village: ``served_by`` (``gravity``, or the booster pump that feeds one of its nodes)
    and ``node`` (the junction of that booster, empty on gravity).
    """
    fed = fed_by(model, boosters["pump"]) if "pump" in boosters else {}
    rows = []
    for village, nodes in projection.nodes.groupby("village", sort=False):
        pumps = sorted({fed[n] for n in nodes["node"] if n in fed})
        by = pumps[0] if pumps else "gravity"
        node = model.get_link(by).start_node_name if pumps else ""
        rows.append({"village": village, "served_by": by, "node": node})
    return pd.DataFrame(rows, columns=["village", "served_by", "node"])


def step_write(run: ScenarioRun) -> None:
    """Write the design and read it back: what is reported comes from the file."""
    with tempfile.TemporaryDirectory(prefix="hydro-study-") as tmp:
        written = write_network(run.sized, Path(tmp) / "sized.inp")
        run.inp_text = written.read_text()
        run.checked = read_network(written)


def step_checks(run: ScenarioRun) -> None:
    """Days of operation of the design and the opening year, and the water delivered
    (pressure-driven) per village.
    """
    rules, hours = run.study.rules, run.study.design.simulation_hours
    p_design, p_open = run.p_design, run.p_open
    run.log(f"checking {hours:g} h of operation (design and opening year)")
    node_village = dict(zip(p_design.nodes["node"], p_design.nodes["village"], strict=True))
    run.compliance_design = check_compliance(
        run.checked, rules, p_design.node_classes(), duration_h=hours
    )
    run.compliance_open = check_compliance(
        apply_demand(run.checked, p_open), rules, p_open.node_classes(), duration_h=hours
    )
    run.service = delivered_service(
        run.checked, hours, rules.required_pressure_m(p_design.node_classes().values()), 0.0,
        villages=p_design.villages, node_village=node_village,
    )  # fmt: skip


def step_energy(run: ScenarioRun) -> None:
    """The pump's energy over the design year's days of operation."""
    energy = pump_energy(
        run.compliance_design.results, run.checked, run.study.design.pump,
        run.study.prices.value("energy_per_kwh"),
    )  # fmt: skip
    run.energy_kwh_per_day, run.energy_kwh_per_m3 = energy.kwh_per_day, energy.kwh_per_m3


def step_surge(run: ScenarioRun) -> None:
    """The rising main's pressure class at pump shut-off and water hammer (Joukowsky)."""
    shutoff = shutoff_head(run.pump.curve)  # 133% of the duty head for a fitted pump
    run.surge = check_rising_main(
        run.checked, run.compliance_design.results, run.study.design.pump, run.main,
        run.data.catalog.table, shutoff,
    )  # fmt: skip
    run.surge_vessel = not run.surge["surge_ok"].all()


def step_taps(run: ScenarioRun) -> None:
    """The study's ``[taps]`` draws on the design (the scenario itself, by default, not its
    sensitivity or stress runs, which change ``overrides`` or ``sizing_year``).
    """
    wanted = run.random_taps
    if wanted is None:
        wanted = run.overrides is None and run.sizing_year is None
    if wanted and run.study.taps.draws:
        run.taps = run_random_taps(
            run.study.taps, run.study.rules, run.checked, run.p_design, run.log
        )


def step_costs(run: ScenarioRun) -> None:
    """The street pipes to the houses, the booster station from its parts when the study
    prices them (:func:`hydro.stations.station_parts`: the pump's duty, efficiency and
    price), and the bill of quantities of the written design.
    """
    run.tertiary = tertiary_network(run.study, run.data.catalog, run.p_open, run.p_design)
    prices = _station_prices(run.study)
    if run.study.design.pump and prices is not None and run.pump is not None:
        run.station = station_parts(
            run.pump.flow_m3_per_s, run.pump.head_m, run.pump.efficiency, prices,
            pump_price=run.pump.price,
        )  # fmt: skip
    run.boosters = booster_rows(run.checked, run.study)
    run.serving = serving(run.checked, run.boosters, run.p_design)
    run.boq, run.standpipes, run.connections = bill_of_quantities(
        run.study, run.checked, run.data.catalog, run.p_open, run.tank_m3, run.tertiary,
        run.spec.break_tank, run.surge_vessel, run.station, run.boosters,
    )  # fmt: skip


#: The steps of a scenario, in order: (name, function of a :class:`ScenarioRun`).
SCENARIO_STEPS = (
    ("demand", step_demand),
    ("branches", step_branches),
    ("break_tank", step_break_tank),
    ("storage", step_storage),
    ("main", step_main),
    ("pump", step_pump),
    ("pipes", step_pipes),
    ("write", step_write),
    ("checks", step_checks),
    ("energy", step_energy),
    ("surge", step_surge),
    ("taps", step_taps),
    ("costs", step_costs),
)
#: Steps a study without a pump has not.
PUMP_STEPS = ("pump", "energy", "surge")


def chain(steps, changes: dict | None, where: str = "") -> list:
    """``steps`` ((name, function), ...) with ``changes`` (name -> a function that replaces
    the step, or None to leave it out); a name not in ``steps`` is an error naming them.
    """
    changes = dict(changes or {})
    names = [name for name, _ in steps]
    unknown = [n for n in changes if n not in names]
    if unknown:
        raise InputError(
            f"{where}: no step {unknown[0]!r}; the steps: {', '.join(names)}"
            + did_you_mean(unknown[0], names)
        )
    return [(n, changes.get(n, f)) for n, f in steps if changes.get(n, f) is not None]


def scenario_steps(study: Study) -> list:
    """The scenario's chain for ``study``: :data:`SCENARIO_STEPS`, without the pump's steps
    when the study has no pump, with the study's own changes (``study.steps``).
    """
    steps = [s for s in SCENARIO_STEPS if study.design.pump or s[0] not in PUMP_STEPS]
    mine = {k: v for k, v in study.steps.items() if k in dict(SCENARIO_STEPS)}
    return chain(steps, {k: v for k, v in mine.items() if k in dict(steps)}, str(study.path))


def run_scenario(
    study: Study,
    spec: ScenarioSpec,
    data: StudyData,
    overrides: dict | None = None,
    log=lambda message: None,
    sizing_year: int | None = None,
    random_taps: bool | None = None,
    levels: dict | None = None,
    trunk: Trunk | None = None,
) -> ScenarioResult:
    """Run one scenario's steps (:func:`scenario_steps`): demand, storage, main, pump,
    pipes, the written file and its checks, costs.

    ``data``: the loaded inputs (:func:`hydro.study.config.load_inputs`; a plan of the
    budget passes its cut network and village rows). ``overrides``: demand scenario values
    changed (the sensitivity). ``sizing_year``: size pipes, storage and pump for this year's
    demand instead of the governing one (the stress case of a design made for the opening
    year); the checks still run the opening and the design year. ``random_taps``: run the
    study's ``[taps]`` draws on the design (default: for the scenario itself, not for its
    sensitivity or stress runs). ``levels``: village -> :class:`ScenarioSpec`, each village at its
    own service level (:func:`project_levels`; the design-to-budget mode). ``trunk``: the
    tank, main and pump of the whole scheme this design is a phase of (:class:`Trunk`).
    """
    run = ScenarioRun(
        study=study, spec=spec, data=data, overrides=overrides, sizing_year=sizing_year,
        random_taps=random_taps, levels=levels, trunk=trunk, log=log,
        source_model=data.network,
    )  # fmt: skip
    for _, step in scenario_steps(study):
        step(run)
    return run.result()


def with_break_tank(wn, study: Study):
    """A copy of ``wn`` whose booster draws from a break tank at the tap-off: the reservoirs
    upstream of the pump stand at the pump inlet's ground plus :data:`BREAK_TANK_LEVEL_M`
    (the main's pressure is broken, so the pump sees none of it).
    """
    if not study.design.pump:
        raise InputError(f"{study.path}: break_tank = true needs a [design] pump")
    model = copy_network(wn)
    inlet = model.get_node(model.get_link(study.design.pump).start_node_name)
    for name in model.reservoir_name_list:
        model.get_node(name).base_head = inlet.elevation + BREAK_TANK_LEVEL_M
    return model


def run_random_taps(
    spec: TapsSpec, rules: Rules, model, projection: DemandProjection, log=lambda m: None
):
    """The study's ``[taps]`` draws on a design with ``projection``'s demand and taps, each
    tap at ``rules``' pressure at the tap (the study's value: a study file without one gets
    its default where it is read, :func:`hydro.study.config.load_study`).
    """
    if rules.tap_min_pressure_m is None:
        raise InputError(
            "random tap opening needs the pressure at which a tap gives its full flow: "
            "[rules] tap_min_pressure_m, 0 m or more"
        )
    tap_model = build_tap_model(
        model,
        projection.taps(),
        rules.tap_min_pressure_m,
        spec.probability,
        rules.tank_reserve_share,
    )
    with executor_for(spec.workers, spec.scheduler) as executor:  # the run's executor
        log(f"random tap opening: {spec.draws:,} draws ({executor.description})")
        run = run_taps(tap_model, spec.draws, spec.seed, executor, spec.useful_share)
    check_run(run)
    return run
