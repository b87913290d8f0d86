"""Costs and the donors' tables of a study.

Costs and the donors' tables of a study: bill of quantities, feasibility, operation,
assumptions.

Capital: the bill of quantities priced from the catalogue labels written in the design file and
the study's unit costs, then engineering and contingencies. Running: maintenance as a share of
capital, pump energy from the extended-period run, standpipe keepers; revenue from the tariffs.
Capital per m3: capital recovery factor x capital / yearly volume consumed.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hydro.catalog import Catalog
from hydro.demand import DemandProjection
from hydro.errors import InputError
from hydro.study.config import BENCHMARK_MAD_PER_BENEFICIARY, BENCHMARK_SOURCE, Study
from hydro.units import DAYS_PER_YEAR, LITRES_PER_M3

if TYPE_CHECKING:
    from hydro.study.scenario import ScenarioResult


#: Tanks up to this volume take the small-tank rate (brief 5.4: 50-100 m3 vs 250-500 m3).
SMALL_TANK_LIMIT_M3 = 150.0


def bill_of_quantities(
    study: Study, wn, catalog: Catalog, p_open: DemandProjection, tank_m3: float
) -> tuple[pd.DataFrame, int, int]:
    """Bill of quantities of a written design.

    Pipes by material, DN, PN and length (priced from the labels in the file);
    pressure-reducing valves; standpipes; household connections; tank; pump station; tap-off;
    then engineering and contingencies.
    """
    by_tag = catalog.by_tag
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
    prvs = [name for name, valve in wn.valves() if valve.valve_type == "PRV"]
    if prvs:
        if "pressure_reducing_valve" not in c:
            raise InputError(
                f"{study.path}: the network has pressure-reducing valve(s) "
                f"{', '.join(prvs)}: give [unit_costs] pressure_reducing_valve (value, unit, "
                "source) to cost them"
            )
        rows.append(("valves", "pressure-reducing valve with chamber", "", np.nan, np.nan,
                     len(prvs), "unit", c["pressure_reducing_valve"].value))  # fmt: skip
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
    standpipes = [n for n, c in projection.node_classes().items() if c == "standpipe"]
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


def feasibility_row(study: Study, o: ScenarioResult, villages: pd.DataFrame) -> dict:
    """One scenario's row of the donors' feasibility table."""
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
        "opening_year": study.base_year,
        "beneficiaries_opening": round(beneficiaries_open),
        "design_year": study.horizon_year,
        "beneficiaries_design": round(beneficiaries_design),
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
            "beneficiaries_budget_covers": round(study.budget_eur / per),
            "om_mad_per_year": om,
            "om_mad_per_m3": om / all_m3 if all_m3 else float("nan"),
            "om_mad_per_person_year": om / beneficiaries_design,
            "om_maintenance_mad_per_year": maintenance,
            "om_energy_mad_per_year": energy,
            "om_keepers_mad_per_year": keepers,
            "energy_kwh_per_m3": o.energy_kwh_per_m3,
            "tariff_revenue_mad_per_year": revenue,
            "tariff_revenue_mad_per_m3": revenue / all_m3 if all_m3 else float("nan"),
            "om_recovery_ratio": revenue / om if om else float("nan"),
            "capital_mad_per_m3": study.crf * o.capital_mad / consumed
            if consumed
            else float("nan"),
            "verdict": verdict,
        }
    )
    return row


def assumptions_table(study: Study, outcomes: list[ScenarioResult]) -> pd.DataFrame:
    """Every assumption of the study with its value, unit and source."""
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
        ("looped_time_limit_s", study.looped_time_limit_s, "s", "study file (looped networks)"),
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
    parts = [table, study.rules.as_table().assign(scenario="all")]
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


def operation_table(study: Study, outcomes: list[ScenarioResult]) -> pd.DataFrame:
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
