"""Sensitivity: every uncertain input one at a time over its documented range.

Prices, the exchange rate, bulk water and the water actually used change only the bill and the
accounts of a design: the base scenario's design is re-priced. Growth, the per-capita demand,
the pipe prices and the share of households on connections change the design: the scenario is
run again end to end (sizing, EPANET check of the written file, costs). Each row gives the
capital, the donors' share and the cost per beneficiary, the O&M recovery and the verdict.

Switch points: the value of one parameter at which the donors' capital equals the budget, the
others at their base values. The donors' capital is linear in every price and uplift (the design
does not change), in EUR it is capital in the study's currency / rate, so those switch points
are exact; for the parameters that change the design the point is interpolated between the
runs (marked so).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from hydro.parallel import executor_for
from hydro.study.config import with_source_head
from hydro.study.costing import bill_of_quantities, feasibility_row
from hydro.study.parts import Cost, Study, StudyData
from hydro.study.scenario import ScenarioResult, demand_scenario, run_scenario


@dataclass(frozen=True)
class Parameter:
    """A sensitivity parameter: its key, label, unit and how it acts."""

    key: str  # the [sensitivity] key
    label: str  # human label (English; the report translates it)
    unit: str
    redesign: bool  # True: run the scenario again; False: re-price the design
    household: bool = False  # acts on a household-connection scenario


#: Every parameter the study may vary, in the order of the tables.
PARAMETERS = (
    Parameter("pump_station_cost", "booster station cost", "{currency}", False),
    Parameter("tank_cost_factor", "tank cost", "x", False),
    Parameter("standpipe_cost", "standpipe cost", "{currency}", False),
    Parameter("household_connection_cost", "household connection cost", "{currency}", False, True),
    Parameter("pipe_price_factor", "pipe prices", "x", True),
    Parameter("rock_excavation_uplift", "rock excavation uplift", "share of pipe works", False),
    Parameter("currency_per_eur", "exchange rate", "{currency}/EUR", False),
    Parameter(
        "connection_share_factor",
        "share of households connected, as a factor of the village table's (at most 100%)",
        "x",
        True,
        True,
    ),
    Parameter("per_capita_demand_factor", "per-capita demand", "x", True),
    Parameter("growth_rate", "population growth", "1/year", True),
    Parameter("source_head_m", "head at the source", "m", True),
    Parameter("bulk_water_per_m3", "bulk water price", "{currency}/m3", False),
    Parameter("standpipe_use_l_per_person_day", "water used at standpipes", "l/person/day", False),
)


def base_value(study: Study, key: str) -> float:
    """The study's own value of a sensitivity parameter (factors: 1)."""
    c = study.prices.costs
    values = {
        "pump_station_cost": c["pump_station"].value if "pump_station" in c else float("nan"),
        "standpipe_cost": c["standpipe"].value,
        "household_connection_cost": c["household_connection"].value,
        "rock_excavation_uplift": c["rock_excavation_uplift"].value
        if "rock_excavation_uplift" in c
        else 0.0,
        "currency_per_eur": study.money.currency_per_eur.value,
        "bulk_water_per_m3": c["bulk_water_per_m3"].value,
        "standpipe_use_l_per_person_day": study.prices.economics["standpipe_use_l_per_person_day"],
        "growth_rate": float("nan"),  # each village's own
        "source_head_m": study.design.source_head_m
        if study.design.source_head_m is not None
        else float("nan"),
    }
    return values.get(key, 1.0)


def _with(study: Study, key: str, value: float) -> Study:
    """A copy of the study with one price, rate or use changed."""
    costs, cur = dict(study.prices.costs), study.money.currency

    def cost(name: str, v: float, unit: str) -> None:
        old = costs.get(name)
        costs[name] = Cost(v, old.unit if old else unit, f"sensitivity: {key} = {value:g}")

    if key == "pump_station_cost":
        cost("pump_station", value, f"{cur}/station")
    elif key == "tank_cost_factor":
        cost("tank_fixed", study.prices.costs["tank_fixed"].value * value, cur)
        cost("tank_per_m3", study.prices.costs["tank_per_m3"].value * value, f"{cur}/m3")
    elif key == "standpipe_cost":
        cost("standpipe", value, f"{cur}/standpipe")
    elif key == "household_connection_cost":
        cost("household_connection", value, f"{cur}/connection")
    elif key == "rock_excavation_uplift":
        cost("rock_excavation_uplift", value, "share of pipe works")
    elif key == "bulk_water_per_m3":
        cost("bulk_water_per_m3", value, f"{cur}/m3")
    elif key == "currency_per_eur":
        rate = Cost(value, f"{cur}/EUR", "sensitivity")
        return replace(study, money=replace(study.money, currency_per_eur=rate))
    elif key == "standpipe_use_l_per_person_day":
        economics = {**study.prices.economics, "standpipe_use_l_per_person_day": value}
        return replace(study, prices=replace(study.prices, economics=economics))
    return replace(study, prices=replace(study.prices, costs=costs))


def reprice(study: Study, o: ScenarioResult, catalog) -> ScenarioResult:
    """The same design with the study's (changed) prices: the bill of quantities again."""
    boq, _, _ = bill_of_quantities(
        study, o.model, catalog, o.projection_open, o.tank_m3, o.tertiary,
        o.spec.break_tank, o.surge_vessel, o.station,
    )  # fmt: skip
    before = float(boq.loc[boq["category"] != "margin", "total_lcu"].sum())
    return replace(
        o, boq=boq, capital_before_margins_lcu=before, capital_lcu=float(boq["total_lcu"].sum())
    )


def run_sensitivity(
    study: Study, outcomes: list[ScenarioResult], data: StudyData, log=lambda m: None
) -> pd.DataFrame:
    """One row per parameter and end of its range (``parameter``, ``end``, ``value``) with
    the figures the donors read, and the base row of each scenario used.
    """
    s, villages, catalog = study.sensitivity, data.villages, data.catalog
    base_name = s.get("scenario", study.scenarios[0].name)
    base = next(o for o in outcomes if o.spec.name == base_name)
    household = next(
        (o for o in outcomes if o.projection_open.totals()["people_household"] > 0), None
    )
    bases = {base.spec.name: _row(base, study, villages, None, "base", np.nan)}
    if household is not None:
        bases[household.spec.name] = _row(household, study, villages, None, "base", np.nan)
    rows, tasks, slots = [], [], []
    for p in PARAMETERS:
        if p.key not in s:
            continue
        o0 = household if p.household else base
        if o0 is None:
            continue
        for end, value in zip(("low", "high"), s[p.key], strict=True):
            value = float(value)
            if not p.redesign:  # the same design re-priced: at once
                st = _with(study, p.key, value)
                rows.append(_row(reprice(st, o0, catalog), st, villages, p, end, value))
            else:  # a new design: a task for the executor (hydro.parallel)
                slots.append(len(rows))
                rows.append(None)
                tasks.append((study, o0.spec, p, end, value, data))
    if tasks:
        with executor_for(study.taps.workers, study.taps.scheduler) as executor:  # the run's
            log(f"sensitivity: {len(tasks)} re-designs ({executor.description})")
            for k, result in executor.run(_redesign_row, tasks):
                rows[slots[k]] = result
                log(f"sensitivity: {tasks[k][2].label} = {tasks[k][4]:g}")
    table = pd.DataFrame([*bases.values(), *rows])
    base_capital = table.set_index(["scenario", "parameter"])["capital_donors_eur"]
    table["change_from_base"] = [
        r.capital_donors_eur / base_capital[(r.scenario, "base")] - 1 for r in table.itertuples()
    ]
    return table


def _row(o: ScenarioResult, st: Study, villages, parameter, end: str, value) -> dict:
    """One row of the sensitivity table: the figures the donors read."""
    f = feasibility_row(st, o, villages)
    return {
        "scenario": o.spec.name,
        "parameter": parameter.key if parameter else "base",
        "label": parameter.label if parameter else "base case",
        "unit": parameter.unit.replace("{currency}", st.money.currency) if parameter else "",
        "end": end,
        "value": value,
        "capital_lcu": f["capital_lcu"],
        "capital_eur": f["capital_eur"],
        "capital_donors_eur": f["capital_donors_eur"],
        "headroom_eur": f["headroom_eur"],
        "cost_per_beneficiary_eur": f["cost_per_beneficiary_eur"],
        "om_recovery_ratio": f["om_recovery_ratio"],
        "compliant": o.compliance_design.compliant and o.compliance_open.compliant,
        "lowest_pressure_m": f["lowest_pressure_m"],
        "within_budget": f["headroom_eur"] >= 0,
        "verdict": f["verdict"],
    }


def _redesign_row(study, spec, parameter, end, value, data: StudyData) -> dict:
    """A parameter that changes the design: the scenario run again, then its row."""
    o = _rerun(study, spec, parameter.key, value, data)
    return _row(o, study, data.villages, parameter, end, value)


def _rerun(study, spec, key, value, data: StudyData) -> ScenarioResult:
    """The scenario ``spec`` designed again with one parameter changed."""
    demand = {}
    villages, cat = data.villages, data.catalog
    if key == "growth_rate":
        demand["growth_rate"] = value
    elif key == "per_capita_demand_factor":
        sc = demand_scenario(study, spec.service)
        demand["domestic_l_per_person_day"] = {
            k: v * value for k, v in sc.domestic_l_per_person_day.items()
        }
    elif key == "pipe_price_factor":
        cat = cat.scaled(value)
    elif key == "connection_share_factor":
        villages = villages.assign(household_share=(villages["household_share"] * value).clip(0, 1))
    network = with_source_head(data.network, value) if key == "source_head_m" else data.network
    changed = replace(data, villages=villages, catalog=cat, network=network)
    return run_scenario(study, spec, changed, demand)


def switch_points(study: Study, table: pd.DataFrame) -> pd.DataFrame:
    """Per parameter: the value at which the donors' capital equals the budget."""
    rows = []
    for p in PARAMETERS:
        part = table[table["parameter"] == p.key]
        if len(part) != 2:
            continue
        scenario = part["scenario"].iloc[0]
        base = table[(table["scenario"] == scenario) & (table["parameter"] == "base")].iloc[0]
        x0 = base_value(study, p.key)
        points = [(float(r.value), float(r.capital_donors_eur)) for r in part.itertuples()]
        if np.isfinite(x0):
            points.append((x0, float(base["capital_donors_eur"])))
        points.sort()
        xs, ys = zip(*points, strict=True)
        budget = study.money.budget_eur
        if p.key == "currency_per_eur":  # capital in EUR = capital in the currency / rate
            x = float(base["capital_donors_eur"]) * x0 / budget
            exact, direction = True, "above"
        elif ys[-1] == ys[0]:
            x, exact, direction = np.nan, True, ""
        else:
            x = np.nan
            for i in range(len(xs) - 1):
                if (ys[i] - budget) * (ys[i + 1] - budget) <= 0 and ys[i] != ys[i + 1]:
                    x = xs[i] + (budget - ys[i]) * (xs[i + 1] - xs[i]) / (ys[i + 1] - ys[i])
                    break
            if np.isnan(x):  # outside the range: the line through its two ends
                x = xs[0] + (budget - ys[0]) * (xs[-1] - xs[0]) / (ys[-1] - ys[0])
            exact = not p.redesign
            direction = "below" if ys[-1] > ys[0] else "above"
        low, high = min(xs), max(xs)
        # a price, factor or rate below zero (growth below -5 %/yr) is no answer
        floor = -0.05 if p.key == "growth_rate" else 0.0
        attainable = bool(np.isfinite(x) and x >= floor)
        rows.append(
            {
                "parameter": p.key,
                "label": p.label,
                "unit": p.unit.replace("{currency}", study.money.currency),
                "scenario": scenario,
                "switch_value": x if attainable else np.nan,
                "attainable": attainable,
                "fits_budget_when": direction,
                "within_range": bool(np.isfinite(x) and low <= x <= high),
                "exact": exact,
            }
        )
    return pd.DataFrame(rows)
