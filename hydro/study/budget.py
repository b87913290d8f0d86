"""What the budget buys: the most people served within the donors' budget.

A **plan** gives each village one option: not served; served by standpipes, all of them or a
subset (people served = the village's population x the shares of the standpipes kept, as the
village table's ``standpipe_nodes`` give them: the people of a standpipe left out are not
served); or any other service level of the study's ``[budget] scenarios`` (household
connections: the village in full, at that scenario's definitions). Villages at different levels
are mixed in one plan (:func:`hydro.study.scenario.project_levels`). For each plan the network
is cut back to the nodes it serves (branches that lead only to nodes left out are removed) and
the scheme runs end to end (:func:`run_scenario`): storage, rising main, pump, pipes at least
cost by the exact 0-1 program of a branched network, then the independent EPANET check of the
written file and the bill of quantities recomputed from its catalogue labels.

The best plan: the most people served (opening year) within the budget, then the most people
on household connections, then the least capital. The cost-people curve: the plans that no
cheaper plan beats in people served.

**Exact search.** Every plan is enumerated and gets a lower bound of its donors' capital
(:func:`capital_lower_bound`). A plan whose bound is within the budget is always run, so the
best plan is that of a full enumeration. A plan whose bound exceeds the budget is run unless
its bound also exceeds the curve's reach (``[budget] curve_up_to_eur``, default
:data:`CURVE_REACH` x the budget) or a plan already run serves at least as many people for
less than that bound (it is then strictly dominated: off the curve). So the cost-people curve
is exact up to the reach, and stops there: beyond it some plans were not run.

The lower bound counts what does not depend on the sizing, exactly as the bill of quantities
will (tap-off, station, break tank, the tank's fixed part, the standpipes, connections and
street pipes of the plan's projection, pressure-reducing valves), the tank at the least
volume its storage rule allows (:func:`tank_lower_bound_m3`), every kept pipe at the
cheapest catalogue price it may take (DN minimum included), plus engineering and
contingencies. Every cost it leaves out (larger pipes and tank, surge vessel) is positive, so
it never exceeds the capital of the plan's design; the search checks this on every plan run.
Plans are taken in order of their bound and run in batches of :data:`BATCH` on the run's
executor (:func:`hydro.parallel.current`; outside a run, :func:`hydro.parallel.make_executor`).
``budget_candidates.csv`` lists the plans run; ``enumerated`` and ``skipped`` say how many
there were and how many were not run.

**Phasing**: a scheme is phased on its trunk. Every plan is phase 1 of a complete scheme
(every village in full, at its plan level when that is a household level, else at the first
``[budget]`` scenario's level; :func:`complete_plan`). Each complete scheme is designed once, in
one go (:func:`complete_schemes`), and its trunk (tank volume, transmission main, pump:
:class:`hydro.study.scenario.Trunk`) is the one every plan of it is built on: the tap-off, main,
tank and any station are sized for the whole once, then the villages the plan serves are sized
on them. Phase 2 is the complete scheme less phase 1, plus the phase-1 pipes the complete
scheme needs larger (:func:`reinforcement_eur`: built in phase 1, replaced in phase 2). The
lower bound then counts the trunk's main at its prices and the tank at least at its volume.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from hydro.catalog import entry_tag
from hydro.demand import PATTERN_MEAN_TOLERANCE
from hydro.errors import InputError
from hydro.mains import rising_main
from hydro.network import copy_network
from hydro.parallel import InProcess, current, make_executor
from hydro.study.costing import DONORS, financing, station_costed_from_parts, tertiary_network
from hydro.study.parts import Design, ScenarioSpec, Study, StudyData
from hydro.study.scenario import (
    ScenarioResult,
    Trunk,
    project_levels,
    run_scenario,
    trunk_of,
)
from hydro.topology import served_junctions

#: The curve is exact up to this multiple of the budget unless the study gives
#: ``[budget] curve_up_to_eur`` (plans whose lower bound is above it are not run).
CURVE_REACH = 1.2
#: Most plans the exhaustive search enumerates (each run is a full design and EPANET check).
MAX_PLANS = 5000
#: Village-table columns that count people or animals: scaled with the standpipes kept.
COUNTED = ("sheep_goat", "cattle", "equid", "pupils", "outpatients_per_day", "beds",
           "mosque_worshippers_per_day")  # fmt: skip
#: Plans run at once between two pruning decisions. A constant, not a multiple of the
#: executor's workers: which plans are run and skipped, and so the tables, are the same
#: whichever executor runs them (an executor runs at most this many plans at once here).
BATCH = 8


@dataclass(frozen=True)
class Option:
    """One village's option in a plan: a ``[budget]`` scenario and the standpipe nodes kept."""

    level: str
    standpipes: tuple[str, ...]


@dataclass(kw_only=True)
class BudgetResult:
    """``candidates``: every plan run (one row each); ``curve``: the cost-people curve (each
    point a design checked by its own EPANET run); ``best``: the outcome of the most people
    within the budget (None when nothing fits); ``complete``: the complete scheme of the best
    plan (phase 1 + phase 2); ``enumerated`` and ``skipped``: plans in all, plans not run.
    """

    candidates: pd.DataFrame
    curve: pd.DataFrame
    best: ScenarioResult | None
    complete: ScenarioResult | None
    enumerated: int
    skipped: int
    #: the curve is exact up to this donors' capital [EUR]
    curve_up_to_eur: float


# --------------------------------------------------------------------------- plans
def village_options(villages: pd.DataFrame, specs: list[ScenarioSpec]) -> dict[str, list]:
    """Each village's options: None (not served), then each scenario's (standpipe subsets for
    a standpipe service, largest first; the village in full for the others).
    """
    out = {}
    for v in villages.to_dict("records"):
        nodes = tuple(v["standpipe_shares"])
        options = [None]
        for spec in specs:
            if spec.service == "standpipes":
                for size in range(len(nodes), 0, -1):
                    for kept in itertools.combinations(nodes, size):
                        options.append(Option(spec.name, kept))
            else:
                options.append(Option(spec.name, nodes))
        out[v["village"]] = options
    return out


def plan_villages(villages: pd.DataFrame, plan: dict[str, Option]) -> pd.DataFrame:
    """The village table of a plan: its villages only; a village keeping some of its standpipes
    counts that share of its people (and animals, pupils...) on the standpipes kept.
    """
    rows = []
    for v in villages.to_dict("records"):
        option = plan.get(v["village"])
        if option is None:
            continue
        shares = v["standpipe_shares"]
        kept = sum(shares[n] for n in option.standpipes)
        if len(option.standpipes) < len(shares):
            v = dict(v)
            v["population"] = v["population"] * kept
            for column in COUNTED:
                v[column] = v[column] * kept
            if not np.isnan(v["standpipes"]):
                v["standpipes"] = max(round(v["standpipes"] * kept), 1)
            v["standpipe_shares"] = {n: shares[n] / kept for n in option.standpipes}
        rows.append(v)
    table = pd.DataFrame(rows)
    table.attrs = dict(villages.attrs)
    return table


def served_nodes(villages: pd.DataFrame, plan: dict[str, Option], specs: dict) -> set[str]:
    """The nodes a plan draws water at: standpipes kept, and distribution nodes of the villages
    at a household level.
    """
    used = set()
    for v in villages.to_dict("records"):
        option = plan.get(v["village"])
        if option is None:
            continue
        used |= set(option.standpipes)
        if specs[option.level].service != "standpipes":
            used |= set(v["household_shares"])
    return used


def kept_links(wn, used: set[str]) -> tuple[set[str], set[str]]:
    """Links and junctions left when junctions of degree one outside ``used`` are removed
    with their link, again and again (a branch goes up to where it leaves the network).
    """
    links = {name: (link.start_node_name, link.end_node_name) for name, link in wn.links()}
    degree: dict[str, int] = {}
    touching: dict[str, set[str]] = {}
    for name, ends in links.items():
        for node in ends:
            degree[node] = degree.get(node, 0) + 1
            touching.setdefault(node, set()).add(name)
    junctions = set(wn.junction_name_list)
    removed_links, removed_nodes = set(), set()
    stack = [n for n in junctions if n not in used and degree.get(n, 0) == 1]
    while stack:
        node = stack.pop()
        if node in removed_nodes or degree.get(node, 0) != 1:
            continue
        (link,) = touching[node] - removed_links
        removed_links.add(link)
        removed_nodes.add(node)
        for other in links[link]:
            degree[other] -= 1
            if other in junctions and other not in used and other not in removed_nodes:
                if degree[other] == 1:
                    stack.append(other)
    return set(links) - removed_links, junctions - removed_nodes


def network_for(wn, used: set[str]):
    """A copy of ``wn`` without the branches that serve no node of ``used`` (:func:`kept_links`)."""
    links, junctions = kept_links(wn, used)
    model = copy_network(wn)
    for name in set(model.link_name_list) - links:
        model.remove_link(name)
    for name in set(model.junction_name_list) - junctions:
        model.remove_node(name)
    return model


def describe(plan: dict[str, Option], villages: pd.DataFrame) -> str:
    """``village: level (standpipes kept); ...`` in the village table's order."""
    parts = []
    for v in villages.to_dict("records"):
        option = plan.get(v["village"])
        if option is not None:
            parts.append(f"{v['village']}: {option.level} ({', '.join(option.standpipes)})")
    return "; ".join(parts)


# --------------------------------------------------------------------------- lower bound
@dataclass(frozen=True)
class VillagePart:
    """What one village at one option adds to a plan's lower bound (the projection is made
    village by village, so a plan's figures are the sums of its villages').
    """

    people: float  # served at the opening [persons]
    works_lcu: float  # standpipes, and connections when the donors pay them [currency]
    street_lcu: float  # tertiary network [currency]
    day_m3: tuple[float, float]  # peak day at the tank's nodes, opening and design year [m3]
    peak_day_factor: float


def village_part(study, spec, row: pd.DataFrame, level, catalog, tank_served) -> VillagePart:
    """:class:`VillagePart` of the one-village village table ``row`` at ``level``, counted as
    :func:`hydro.study.costing.bill_of_quantities` counts it.
    """
    c = study.prices.costs
    levels = {row["village"].iloc[0]: level}
    p_open = project_levels(study, spec, row, study.design.base_year, "service", levels=levels)
    p_design = project_levels(study, spec, row, study.design.horizon_year, "service", levels=levels)
    d = p_open.villages.iloc[0]
    works = 0.0
    if d["people_standpipe"] > 0:
        taps_each = p_open.scenario.taps_per_standpipe
        works += max(int(d["standpipes"]), math.ceil(d["taps_needed"] / taps_each)) * (
            c["standpipe"].value
        )
    if study.prices.economics["connections_paid_by"] == DONORS:
        connections = math.ceil(d["people_household"] / study.design.persons_per_household - 1e-9)
        works += connections * c["household_connection"].value
    tertiary = tertiary_network(study, catalog, p_open, p_design)
    street = float((tertiary["length_m"] * tertiary["cost_per_m"]).sum()) if len(tertiary) else 0
    days = []
    for p in (p_open, p_design):
        nodes = p.nodes[p.nodes["node"].isin(tank_served)]
        days.append(float(nodes["peak_day_l_per_s"].sum()) * 86.4)
    return VillagePart(
        people=float(d["population"]),
        works_lcu=works,
        street_lcu=street,
        day_m3=(days[0], days[1]),
        peak_day_factor=p_open.scenario.peak_day_factor,
    )


def tank_lower_bound_m3(design: Design, parts: list[VillagePart]) -> float:
    """The least tank volume a plan can get [m3]: with a pump or an intermittent tap-off the
    tank holds at least the storage rule max(50% peak day, 1 average day) of the governing
    year (:func:`run_scenario`), here the smaller of the two years; each node's day is its
    peak-day demand x 24 h x the pattern's mean, which the pattern reader holds at 1 within
    :data:`hydro.demand.PATTERN_MEAN_TOLERANCE`. 0 otherwise.
    """
    if not (design.pump or len(design.supply_hours) < 24):
        return 0.0
    factor = parts[0].peak_day_factor
    volumes = []
    for year in (0, 1):
        day = sum(p.day_m3[year] for p in parts) * (1 - PATTERN_MEAN_TOLERANCE)
        volumes.append(max(0.5 * day, day / factor))
    return min(volumes)


def capital_lower_bound(
    study: Study, wn, catalog, parts, links, spec, main, trunk: Trunk | None = None
) -> float:
    """A lower bound of a plan's donors' capital [EUR] (module docstring): what does not
    depend on the sizing, counted as :func:`bill_of_quantities` counts it (``parts``: the
    plan's villages, :class:`VillagePart`), each kept pipe at the cheapest catalogue price it may
    take, and the tank at its least volume (:func:`tank_lower_bound_m3`). With the whole
    scheme's ``trunk``, the main at its labels' prices and the tank at least its volume.
    """
    c = study.prices.costs
    table = catalog.table
    cheapest = float(table["cost_per_m"].min())
    floor = cheapest
    if (
        study.design.min_distribution_dn_mm is not None
    ):  # any reading of the DN minimum allows these
        allowed = table[table["nominal_diameter_mm"] >= study.design.min_distribution_dn_mm]
        floor = float(allowed["cost_per_m"].min()) if len(allowed) else cheapest
    trunk_prices: dict[str, float] = {}  # a split gravity main: its segments' cheapest
    for r in trunk.main_table.to_dict("records") if trunk is not None else []:
        name, price = r.get("main_pipe", r["pipe"]), float(table.at[r["row"], "cost_per_m"])
        trunk_prices[name] = min(price, trunk_prices.get(name, math.inf))
    degree: dict[str, int] = {}
    for name in links:
        link = wn.get_link(name)
        for node in (link.start_node_name, link.end_node_name):
            degree[node] = degree.get(node, 0) + 1
    pipes = 0.0
    for name, pipe in wn.pipes():
        if name not in links:
            continue
        # the DN minimum spares the main and a pipe that ends a branch (it may feed a
        # standpipe: scenario._min_diameters); the bound spares both
        leaf = min(degree[pipe.start_node_name], degree[pipe.end_node_name]) == 1
        price = cheapest if name in main or leaf else floor
        if trunk is not None and name in trunk_prices:
            price = trunk_prices[name]
        pipes += pipe.length * price
    street = sum(p.street_lcu for p in parts)
    uplift = c["rock_excavation_uplift"].value if "rock_excavation_uplift" in c else 0.0
    works = (pipes + street) * (1 + uplift) + sum(p.works_lcu for p in parts)
    prvs = [n for n, valve in wn.valves() if valve.valve_type == "PRV" and n in links]
    if prvs and "pressure_reducing_valve" in c:
        works += len(prvs) * c["pressure_reducing_valve"].value
    works += c["tank_fixed"].value + c["tap_off"].value
    volume = tank_lower_bound_m3(study.design, parts)
    if trunk is not None:
        volume = max(volume, trunk.tank_m3)
    works += round(volume, 1) * c["tank_per_m3"].value
    if spec.break_tank:
        works += c["break_tank"].value
    if study.design.pump and "pump_station" in c and not station_costed_from_parts(study):
        works += c["pump_station"].value
    margins = 1 + c["engineering_share"].value + c["contingency_share"].value
    return works * margins / study.money.currency_per_eur.value


# --------------------------------------------------------------------------- one plan
def _row(study: Study, o: ScenarioResult) -> dict:
    money = financing(study.money, o)
    t_open = o.projection_open.totals()
    return {
        "people_served": round(float(t_open["population"])),
        "people_household": round(float(t_open["people_household"])),
        "people_served_design": round(float(o.projection_design.totals()["population"])),
        "standpipes": o.standpipes,
        "connections": o.connections,
        "capital_lcu": o.capital_lcu,
        "capital_eur": o.capital_lcu / study.money.currency_per_eur.value,
        "capital_donors_eur": money["capital_donors_eur"],
        "within_budget": money["capital_donors_eur"] <= study.money.budget_eur,
        "compliant": bool(o.compliance_design.compliant and o.compliance_open.compliant),
        # the rising main's class at pump shut-off (hydro.surge), as the feasibility verdict
        "pressure_class_ok": bool(o.surge is None or o.surge.empty or o.surge["class_ok"].all()),
        "pipe_sizing": "heuristic"
        if any("heuristic" in n for n in o.notes)
        else "exact (0-1 program, HiGHS)",
    }


def run_plan(study, spec, data: StudyData, plan, specs, trunk=None) -> ScenarioResult:
    """One plan end to end: the cut network, its villages at their levels, checked and costed;
    on the ``trunk`` (tank, main, pump) of the whole scheme when given.
    """
    levels = {d: specs[o.level] for d, o in plan.items() if o is not None}
    cut = replace(
        data,
        network=network_for(data.network, served_nodes(data.villages, plan, specs)),
        villages=plan_villages(data.villages, plan),
    )
    return run_scenario(study, spec, cut, random_taps=False, levels=levels, trunk=trunk)


def pipes_of(o: ScenarioResult) -> dict[str, tuple[str, float]]:
    """Each pipe of a written design: its catalogue tag and length [m]."""
    return {name: (pipe.tag, pipe.length) for name, pipe in o.model.pipes()}


def _plan_row(study, spec, data: StudyData, plan, specs, trunk) -> tuple[dict, dict]:
    """The candidates row of one plan and its pipes (a task for the executor)."""
    o = run_plan(study, spec, data, plan, specs, trunk)
    return _row(study, o), pipes_of(o)


@dataclass(frozen=True)
class Complete:
    """A complete scheme, designed in one go: its trunk, donors' capital and pipes."""

    trunk: Trunk
    capital_donors_eur: float
    pipes: dict


def _complete_task(study, spec, data: StudyData, whole, specs) -> Complete:
    """The complete scheme ``whole`` designed in one go (a task for the executor)."""
    o = run_plan(study, spec, data, whole, specs)
    return Complete(trunk_of(o), financing(study.money, o)["capital_donors_eur"], pipes_of(o))


def complete_schemes(study, data, options, specs, executor, log) -> dict[str, Complete]:
    """Every complete scheme a plan may be a phase of (each village in full at the first
    ``[budget]`` level or at a household level it may take), designed once each.
    """
    first, villages = next(iter(specs)), data.villages
    levels = {
        d: list(dict.fromkeys([first, *(o.level for o in options[d] if o is not None
                                        and specs[o.level].service != "standpipes")]))
        for d in villages["village"]
    }  # fmt: skip
    wholes = {}
    for combo in itertools.product(*levels.values()):
        fake = {d: Option(level, ()) for d, level in zip(levels, combo, strict=True)}
        whole = complete_plan(fake, villages, options, first, specs)
        wholes[describe(whole, villages)] = whole
    log(f"budget: {len(wholes)} complete schemes, each trunk sized once for the whole")
    tasks = [(study, specs[first], data, whole, specs) for whole in wholes.values()]
    results = dict(executor.run(_complete_task, tasks))
    return {key: results[k] for k, key in enumerate(wholes)}


def whole_key(plan, data: StudyData, options, specs) -> str:
    """The complete scheme a plan is phase 1 of (:func:`complete_plan`), by its description."""
    whole = complete_plan(plan, data.villages, options, next(iter(specs)), specs)
    return describe(whole, data.villages)


def reinforcement_eur(study: Study, catalog, phase_1: dict, whole: dict) -> float:
    """Phase-1 pipes the complete scheme needs larger [EUR, donors]: built in phase 1 and
    replaced in phase 2, their phase-1 cost is paid twice (with the rock uplift and margins).
    """
    by_tag, c = catalog.by_tag, study.prices.costs
    works = 0.0
    for name, (written, length) in phase_1.items():
        if name not in whole:
            continue
        # a sized pipe's tag carries its rating (PE100_DN90_PN10|rating_m=...): the entry's
        tag, bigger = entry_tag(written), entry_tag(whole[name][0])
        if bigger == tag:
            continue
        if by_tag.at[bigger, "inner_diameter_mm"] > by_tag.at[tag, "inner_diameter_mm"]:
            works += length * float(by_tag.at[tag, "cost_per_m"])
    uplift = c["rock_excavation_uplift"].value if "rock_excavation_uplift" in c else 0.0
    margins = 1 + c["engineering_share"].value + c["contingency_share"].value
    return works * (1 + uplift) * margins / study.money.currency_per_eur.value


def curve_of(candidates: pd.DataFrame) -> pd.Series:
    """True for the plans on the cost-people curve: more people than every cheaper plan
    (ties in cost: the one with more people).
    """
    order = candidates.sort_values(["capital_donors_eur", "people_served"], ascending=[True, False])
    best, on = -1.0, {}
    for index, row in order.iterrows():
        on[index] = row["people_served"] > best
        best = max(best, row["people_served"])
    return pd.Series(on).reindex(candidates.index)


def complete_plan(plan: dict, villages: pd.DataFrame, options: dict, first: str, specs) -> dict:
    """Phase 1 + phase 2: every village in full, at its phase-1 level when that is not a
    standpipe level, else at the first ``[budget]`` scenario's level.
    """
    out = {}
    for v in villages.to_dict("records"):
        option = plan.get(v["village"])
        level = first
        if option is not None and specs[option.level].service != "standpipes":
            level = option.level
        full = [o for o in options[v["village"]] if o is not None and o.level == level]
        out[v["village"]] = max(full, key=lambda o: len(o.standpipes))
    return out


# --------------------------------------------------------------------------- the search
def budget_levels(study: Study) -> list[ScenarioSpec]:
    """The ``[budget]`` scenarios in their order (default: the study's first scenario).

    Raises
    ------
    InputError
        Scenarios that differ in their break tank (one plan has one source arrangement).
    """
    wanted = study.budget.scenarios or [study.scenarios[0].name]
    chosen = sorted((s for s in study.scenarios if s.name in wanted),
                    key=lambda s: wanted.index(s.name))  # fmt: skip
    if len({s.break_tank for s in chosen}) > 1:
        raise InputError(
            f"{study.path}: [budget] scenarios {', '.join(wanted)} differ in break_tank: one "
            "plan has one source arrangement"
        )
    return chosen


def enumerate_plans(
    study: Study, data: StudyData, options: dict, specs: dict, completes: dict | None = None
) -> list[tuple]:
    """Every plan with its lower bound: (bound, -people, index, plan, people), in order
    (``completes``: :func:`complete_schemes`, whose trunks the bounds count).
    """
    spec = next(iter(specs.values()))
    wn, villages, names = data.network, data.villages, list(data.villages["village"])
    main = rising_main(wn, study.design.tank, study.design.pump)
    tank_served = served_junctions(wn, study.design.tank)
    parts = {  # each village at each option, projected once
        (d, o): village_part(study, spec, plan_villages(villages, {d: o}), specs[o.level],
                           data.catalog, tank_served)
        for d in names for o in options[d] if o is not None
    }  # fmt: skip
    plans = []
    for combo in itertools.product(*(options[d] for d in names)):
        plan = {d: o for d, o in zip(names, combo, strict=True) if o is not None}
        if not plan:
            continue
        mine = [parts[(d, o)] for d, o in plan.items()]
        links, _ = kept_links(wn, served_nodes(villages, plan, specs))
        trunk = completes[whole_key(plan, data, options, specs)].trunk if completes else None
        bound = capital_lower_bound(study, wn, data.catalog, mine, links, spec, main, trunk)
        people = round(sum(p.people for p in mine))
        plans.append((bound, -people, len(plans), plan, people))
    plans.sort(key=lambda p: p[:3])
    return plans


@dataclass
class _Search:
    """The exact search's state: the plans run (rows and plans) and how many were skipped."""

    rows: list
    plans: list
    done: list  # (capital_donors_eur, people) of the plans run
    skipped: int = 0
    pipes: list = field(default_factory=list)  # each plan run's pipes (pipes_of)

    def prunes(self, bound: float, people: int, budget: float, reach: float) -> bool:
        """A plan over the budget, beyond the reach or beaten by a cheaper plan run."""
        return bound > budget and (
            bound > reach or any(c < bound and n >= people for c, n in self.done)
        )


def run_plans(study, data, plans, specs, reach: float, executor, log, trunks=None) -> _Search:
    """Run the plans in order of their bound, in batches, unless pruned (module docstring);
    each on its whole scheme's trunk (``trunks``: plan -> :class:`Trunk`, a function).
    """
    spec, villages = next(iter(specs.values())), data.villages
    search = _Search([], [], [])
    batch, k = BATCH, 0
    while k < len(plans):
        tasks, meta = [], []
        while k < len(plans) and len(tasks) < batch:
            bound, _, _, plan, people = plans[k]
            k += 1
            if search.prunes(bound, people, study.money.budget_eur, reach):
                search.skipped += 1
                continue
            tasks.append((study, spec, data, plan, specs, trunks(plan) if trunks else None))
            meta.append((bound, plan))
        if not tasks:
            continue
        log(f"budget: {len(search.rows) + len(tasks):,} plans run, {search.skipped:,} skipped "
            f"({executor.description})")  # fmt: skip
        results = dict(executor.run(_plan_row, tasks))
        for i, (bound, plan) in enumerate(meta):
            row, pipes = results[i]
            if row["capital_donors_eur"] < bound - 1e-6:
                raise RuntimeError(  # the bound is a theorem: fail loudly if it is not
                    f"budget: lower bound EUR {bound:,.0f} above the capital "
                    f"EUR {row['capital_donors_eur']:,.0f} of {describe(plan, villages)}"
                )
            search.done.append((row["capital_donors_eur"], row["people_served"]))
            search.rows.append(_describe_row(plan, villages, specs, bound, row))
            search.plans.append(plan)
            search.pipes.append(pipes)
    return search


def _candidates(search: _Search, reach: float) -> pd.DataFrame:
    """The plans run, with their cost per person, the curve (up to ``reach``) marked."""
    candidates = pd.DataFrame(search.rows)
    candidates["cost_per_person_eur"] = candidates["capital_donors_eur"] / candidates[
        "people_served"
    ].clip(lower=1)
    # beyond the reach, plans may not have been run: the curve stops there
    candidates["on_curve"] = curve_of(candidates) & (candidates["capital_donors_eur"] <= reach)
    candidates["chosen"] = False
    return candidates


def choose_best(study, data, candidates, plan_of, specs, log, trunks=None) -> ScenarioResult | None:
    """The most people within the budget, then on connections, then the least capital: run
    again in process (the same capital, or an error); marked ``chosen``.
    """
    fits = candidates[candidates["within_budget"] & candidates["compliant"]]
    if fits.empty:
        return None
    top = fits.sort_values(
        ["people_served", "people_household", "capital_donors_eur"],
        ascending=[False, False, True],
    )
    index = top.index[0]
    candidates.loc[index, "chosen"] = True
    plan = plan_of[index]
    log(f"budget: the best plan again, in process: {describe(plan, data.villages)}")
    trunk = trunks(plan) if trunks else None
    best = run_plan(study, next(iter(specs.values())), data, plan, specs, trunk)
    again = financing(study.money, best)["capital_donors_eur"]
    if abs(again - candidates.loc[index, "capital_donors_eur"]) > 0.01:
        raise RuntimeError(f"budget: the best plan costs EUR {again:,.2f} when run again")
    return best


def phase_two(study, data, candidates, search, completes, options, specs, log):
    """Phase 2 of each point of the curve and of the chosen plan: the complete scheme (its
    trunk already built in phase 1) less phase 1, plus the phase-1 pipes it reinforces
    (:func:`reinforcement_eur`); returns the chosen plan's complete scheme, run in process.
    """
    first = next(iter(specs))
    candidates["phase"] = 1
    columns = ("complete_capital_donors_eur", "phase_2_reinforcement_donors_eur",
               "phase_2_capital_donors_eur")  # fmt: skip
    for column in columns:
        candidates[column] = np.nan
    complete = None
    for index in candidates.index[candidates["on_curve"] | candidates["chosen"]]:
        plan = search.plans[index]
        whole = completes[whole_key(plan, data, options, specs)]
        reinforce = reinforcement_eur(study, data.catalog, search.pipes[index], whole.pipes)
        phase_1 = candidates.loc[index, "capital_donors_eur"]
        candidates.loc[index, list(columns)] = [
            whole.capital_donors_eur, reinforce,
            max(whole.capital_donors_eur - phase_1, 0.0) + reinforce,
        ]  # fmt: skip
        if candidates.loc[index, "chosen"]:
            whole_plan = complete_plan(plan, data.villages, options, first, specs)
            log(f"budget: complete scheme {describe(whole_plan, data.villages)}")
            complete = run_plan(study, specs[first], data, whole_plan, specs)
    return complete


def _number_curve(candidates: pd.DataFrame) -> pd.DataFrame:
    """The curve's points numbered by capital (the figure labels them, the table says
    which); returns the curve.
    """
    curve = candidates[candidates["on_curve"]].sort_values("capital_donors_eur", kind="stable")
    candidates["curve_point"] = pd.array([pd.NA] * len(candidates), dtype="Int64")
    candidates.loc[curve.index, "curve_point"] = np.arange(1, len(curve) + 1)
    return candidates.loc[curve.index].reset_index(drop=True)


def plan_options(study: Study, villages: pd.DataFrame, specs: list) -> tuple[dict, int]:
    """Each village's options (:func:`village_options`) and the number of plans to search.

    Raises
    ------
    InputError
        More than :data:`MAX_PLANS` plans.
    """
    options = village_options(villages, specs)
    total = math.prod(len(o) for o in options.values()) - 1
    if total > MAX_PLANS:
        words = study.report.village_word["en"][1]
        raise InputError(
            f"{study.path}: [budget] the exhaustive search takes at most {MAX_PLANS:,} plans; "
            f"{study.inputs.villages} gives {total:,} ({len(options)} {words}, their standpipes "
            f"and {len(specs)} service levels): list fewer [budget] scenarios or {words}"
        )
    return options, total


def design_to_budget(
    study: Study, data: StudyData, log=lambda m: None, executor=None
) -> BudgetResult:
    """Every plan (villages, standpipes kept, service level per village), run unless provably
    neither the best nor on the curve; the most people within the budget; phase 2.

    Raises
    ------
    InputError
        More than :data:`MAX_PLANS` plans, or ``[budget]`` scenarios that differ in their
        break tank.
    """
    chosen_specs = budget_levels(study)
    specs = {s.name: s for s in chosen_specs}
    options, total = plan_options(study, data.villages, chosen_specs)
    reach = study.budget.curve_up_to_eur or CURVE_REACH * study.money.budget_eur
    own = executor is None and current() is None  # else the run's executor (hydro.parallel)
    executor = (
        executor
        or current()
        or (make_executor(study.taps.workers, study.taps.scheduler) if total > 1 else InProcess())
    )
    try:
        completes = complete_schemes(study, data, options, specs, executor, log)

        def trunks(plan) -> Trunk:
            return completes[whole_key(plan, data, options, specs)].trunk

        plans = enumerate_plans(study, data, options, specs, completes)
        log(f"budget: {total:,} plans, taken in order of their capital's lower bound")
        search = run_plans(study, data, plans, specs, reach, executor, log, trunks)
    finally:
        if own:
            executor.close()
    candidates = _candidates(search, reach)
    plan_of = dict(enumerate(search.plans))  # candidates' index is the order of the rows
    best = choose_best(study, data, candidates, plan_of, specs, log, trunks)
    complete = phase_two(study, data, candidates, search, completes, options, specs, log)
    return BudgetResult(
        candidates=candidates,
        curve=_number_curve(candidates),
        best=best,
        complete=complete,
        enumerated=total,
        skipped=search.skipped,
        curve_up_to_eur=reach,
    )


def budget_covers(result: BudgetResult) -> int:
    """The people (opening year) the chosen plan serves within the budget; 0 when none fits."""
    chosen = result.candidates[result.candidates["chosen"]]
    return int(chosen["people_served"].iloc[0]) if len(chosen) else 0


def _describe_row(plan, villages, specs, bound, row) -> dict:
    out = {
        "plan": describe(plan, villages),
        "villages": "; ".join(d for d in villages["village"] if d in plan),
        "village_count": len(plan),
        **row,
        "capital_lower_bound_donors_eur": bound,
    }
    for v in villages.to_dict("records"):
        option = plan.get(v["village"])
        out[f"level_{v['village']}"] = "" if option is None else option.level
        out[f"standpipes_kept_{v['village']}"] = (
            "" if option is None else " ".join(option.standpipes)
        )
    return out
