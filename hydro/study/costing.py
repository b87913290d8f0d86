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

from hydro.catalog import Catalog, entry_tag
from hydro.demand import DemandProjection
from hydro.errors import InputError
from hydro.hydraulics import headloss_hazen_williams, velocity
from hydro.stations import station_cost, station_parts, station_prices
from hydro.study.parts import Design, Money, Prices, Study
from hydro.units import DAYS_PER_YEAR, LITRES_PER_M3

if TYPE_CHECKING:
    from hydro.study.scenario import ScenarioResult


#: Who finances a bill-of-quantities line: the donors, unless the study says otherwise.
DONORS = "donors"
#: The columns of a bill of quantities (:func:`bill_of_quantities`).
BOQ_COLUMNS = ["category", "item", "material", "nominal_diameter_mm", "pressure_class_bar",
               "quantity", "unit", "unit_cost_lcu", "total_lcu", "paid_by"]  # fmt: skip
#: Head loss allowed along a village's tertiary network at peak hour [m] (docs/sources.md, 7 [E]).
TERTIARY_HEADLOSS_M = 5.0


def tertiary_network(
    study: Study, catalog: Catalog, p_open: DemandProjection, p_design: DemandProjection
) -> pd.DataFrame:
    """The street pipes from each village's distribution nodes to its houses.

    Length: one house spacing per household connection of the opening year
    (``[economics] house_spacing_m``). Diameter: the cheapest catalogue pipe of at least the
    distribution minimum (DN63) whose velocity at the design year's peak hour stays within the
    distribution limit and whose head loss, with the flow drawn evenly along its length (the
    loss of the full flow over L / (n + 1), n = 1.852), stays within
    :data:`TERTIARY_HEADLOSS_M`. Each village's network starts at its distribution nodes, which
    the sizing holds at the household minimum pressure.
    """
    spacing = study.prices.economics["house_spacing_m"]
    table = catalog.table
    if study.design.min_distribution_dn_mm is not None:
        table = table[table["nominal_diameter_mm"] >= study.design.min_distribution_dn_mm]
    v_max = study.rules.velocity_m_per_s.get("distribution", (0.0, 1.5))[1]
    design = p_design.villages.set_index("village")
    rows = []
    for d in p_open.villages.to_dict("records"):
        houses = math.ceil(d["people_household"] / study.design.persons_per_household - 1e-9)
        if houses <= 0:
            continue
        length = houses * spacing
        # the household share of the village's peak hour, design year [m3/s]
        share = design.at[d["village"], "people_household"] / max(
            design.at[d["village"], "population"], 1e-9
        )
        flow = share * design.at[d["village"], "peak_hour_l_per_s"] / LITRES_PER_M3
        for e in table.sort_values("cost_per_m").to_dict("records"):
            diameter = e["inner_diameter_mm"] / 1000
            c = e["roughness"] if np.isfinite(e["roughness"]) else 140.0
            loss = headloss_hazen_williams(flow, length, diameter, c) / 2.852
            if velocity(flow, diameter) <= v_max and loss <= TERTIARY_HEADLOSS_M:
                break
        else:
            raise InputError(
                f"{study.inputs.pipe_catalog}: no catalogue pipe carries "
                f"{study.report.village_word['en'][0]} {d['village']}'s "
                f"household peak of {1000 * flow:.2f} l/s along {length:.0f} m"
            )
        rows.append(
            {"village": d["village"], "houses": houses, "length_m": length, "label": e["label"],
             "material": e["material"], "nominal_diameter_mm": e["nominal_diameter_mm"],
             "pressure_class_bar": e["pressure_class_bar"], "cost_per_m": e["cost_per_m"],
             "peak_flow_l_per_s": 1000 * flow, "headloss_m": loss}
        )  # fmt: skip
    return pd.DataFrame(rows)


def tank_cost(prices: Prices, volume_m3: float) -> float:
    """Ground reservoir: fixed part + volume x rate, a straight line (docs/sources.md, 7)."""
    return prices.value("tank_fixed") + volume_m3 * prices.value("tank_per_m3")


def _pipe_rows(study: Study, wn, catalog: Catalog, tertiary: pd.DataFrame | None) -> list:
    """The pipes by catalogue label (from the file's tags), street pipes, rock uplift."""
    by_tag = catalog.by_tag
    lengths: dict[str, float] = {}
    for name, pipe in wn.pipes():
        tag = entry_tag(pipe.tag)
        if tag not in by_tag.index:
            raise InputError(
                f"{study.inputs.network}: pipe {name} carries no catalogue label after sizing; "
                "cannot cost it"
            )
        lengths[tag] = lengths.get(tag, 0.0) + pipe.length
    rows = []
    for tag, length in sorted(
        lengths.items(), key=lambda kv: by_tag.at[kv[0], "inner_diameter_mm"]
    ):
        e = by_tag.loc[tag]
        rows.append(
            ("pipes", f"pipe {e['label']}", e["material"], e["nominal_diameter_mm"],
             e["pressure_class_bar"], length, "m", e["cost_per_m"])
        )  # fmt: skip
    for t in tertiary.to_dict("records") if tertiary is not None else []:
        rows.append(
            ("tertiary network", f"street pipes {t['village']}: {t['label']}", t["material"],
             t["nominal_diameter_mm"], t["pressure_class_bar"], t["length_m"], "m",
             t["cost_per_m"])
        )  # fmt: skip
    uplift = study.prices.value("rock_excavation_uplift", 0.0)
    if uplift > 0:
        pipe_works = sum(r[5] * r[7] for r in rows)
        rows.append(("pipes", "rock excavation uplift", "", np.nan, np.nan, uplift,
                     "share of pipe works", pipe_works))  # fmt: skip
    return rows


def count_taps(design: Design, p_open: DemandProjection) -> tuple[int, int]:
    """Standpipes (the village table's, or enough for the taps needed) and household
    connections (one per household) of the opening year.
    """
    table = p_open.villages
    taps_each = p_open.scenario.taps_per_standpipe
    standpipes = 0
    for d in table.to_dict("records"):
        if d["people_standpipe"] > 0:
            standpipes += max(int(d["standpipes"]), math.ceil(d["taps_needed"] / taps_each))
    households = table["people_household"] / design.persons_per_household - 1e-9
    return standpipes, int(np.ceil(households).sum())


def _needs(study: Study, key: str, what: str) -> float:
    """An optional unit cost the design needs, or an error saying which to give."""
    if key not in study.prices.costs:
        raise InputError(
            f"{study.path}: {what}: give [unit_costs] {key} (value, unit, source) to cost it"
        )
    return study.prices.costs[key].value


def station_costed_from_parts(study: Study) -> bool:
    """True when the study prices a booster station's parts (:mod:`hydro.stations`)."""
    return station_prices({k: c.value for k, c in study.prices.costs.items()}) is not None


def _station_rows(study, station: pd.DataFrame | None) -> list:
    """The booster station: its parts (:mod:`hydro.stations`), else the study's lump sum."""
    pump = study.design.pump
    if station is not None:
        parts = station.to_dict("records")
        return [("pumping", f"booster station {pump}: {p['part']}", "", np.nan, np.nan,
                 p["quantity"], p["unit"], p["unit_cost"]) for p in parts]  # fmt: skip
    cost = _needs(study, "pump_station", f"booster station {pump} (or its parts, station_*)")
    return [("pumping", f"booster station {pump}", "", np.nan, np.nan, 1, "unit", cost)]


def booster_station_price(study: Study, flow: float, head: float, efficiency: float):
    """One booster station's capital [the study's currency] at a duty (``flow`` [m3/s],
    ``head`` [m], ``efficiency`` [-]): from its parts when the study prices them
    (:func:`hydro.stations.station_cost`), else the study's ``pump_station`` lump sum; None
    when the study prices neither (it places no booster).
    """
    prices = station_prices(
        {k: c.value for k, c in study.prices.costs.items()}, str(study.path)
    )  # fmt: skip
    if prices is not None:
        return station_cost(flow, head, efficiency, prices)
    if "pump_station" in study.prices.costs:
        return study.prices.costs["pump_station"].value
    return None


def _booster_rows(study: Study, boosters: pd.DataFrame | None) -> list:
    """A station per booster pump the sizing placed (``PMP_<node>``, :mod:`hydro.sizing.boosters`):
    its parts at its duty (:func:`hydro.stations.station_parts`), else the ``pump_station``
    lump sum.
    """
    if boosters is None or boosters.empty:
        return []
    prices = station_prices(
        {k: c.value for k, c in study.prices.costs.items()}, str(study.path)
    )  # fmt: skip
    rows = []
    for b in boosters.to_dict("records"):
        item = f"booster station {b['pump']}"
        if prices is None:
            cost = _needs(study, "pump_station", f"{item} (or its parts, station_*)")
            rows.append(("pumping", item, "", np.nan, np.nan, 1, "unit", cost))
            continue
        parts = station_parts(b["flow_l_per_s"] / 1000, b["head_m"], b["efficiency"], prices)
        rows += [("pumping", f"{item}: {p['part']}", "", np.nan, np.nan, p["quantity"],
                  p["unit"], p["unit_cost"]) for p in parts.to_dict("records")]  # fmt: skip
    return rows


def _works_rows(study, wn, standpipes, connections, tank_m3, break_tank, surge_vessel,
                station=None) -> list:  # fmt: skip
    """Valves, standpipes, connections, tank, break tank, surge vessel, station, tap-off."""
    c, tank = study.prices.costs, study.design.tank
    rows = []
    prvs = [name for name, valve in wn.valves() if valve.valve_type == "PRV"]
    if prvs:
        cost = _needs(study, "pressure_reducing_valve",
                      f"the network has pressure-reducing valve(s) {', '.join(prvs)}")  # fmt: skip
        rows.append(("valves", "pressure-reducing valve with chamber", "", np.nan, np.nan,
                     len(prvs), "unit", cost))  # fmt: skip
    if standpipes:
        rows.append(("standpipes", "standpipe, complete (2 taps)", "", np.nan, np.nan,
                     standpipes, "unit", c["standpipe"].value))  # fmt: skip
    if connections:
        rows.append(("connections", "household connection with meter", "", np.nan, np.nan,
                     connections, "unit", c["household_connection"].value))  # fmt: skip
    rows.append(("storage", f"ground reservoir {tank}: fixed part", "reinforced concrete",
                 np.nan, np.nan, 1, "unit", c["tank_fixed"].value))  # fmt: skip
    rows.append(("storage", f"ground reservoir {tank}: volume", "reinforced concrete",
                 np.nan, np.nan, round(tank_m3, 1), "m3", c["tank_per_m3"].value))  # fmt: skip
    for flag, key, category, item in (
        (break_tank, "break_tank", "source", "break tank at the tap-off (float valve)"),
        (surge_vessel, "surge_vessel", "pumping", "surge vessel on the rising main"),
    ):
        if flag:
            cost = _needs(study, key, f"the design needs a {item}")
            rows.append((category, item, "", np.nan, np.nan, 1, "unit", cost))
    if study.design.pump:
        rows += _station_rows(study, station)
    rows.append(("source", "tap-off on the main (valve, meter, chamber)", "", np.nan, np.nan, 1,
                 "unit", c["tap_off"].value))  # fmt: skip
    return rows


#: The margins on the works: the ``[unit_costs]`` share and the bill's line it makes.
MARGINS = {"engineering_share": "engineering and supervision", "contingency_share": "contingencies"}


def margin_lcu(boq: pd.DataFrame, key: str) -> float:
    """What the bill ``boq`` carries for the margin ``key`` of :data:`MARGINS`, every payer's."""
    lines = boq[(boq["category"] == "margin") & boq["item"].str.startswith(MARGINS[key])]
    return float(lines["total_lcu"].sum())


def _with_margins(prices: Prices, rows: list) -> pd.DataFrame:
    """The lines with who pays each, then engineering and contingencies per payer."""
    columns = BOQ_COLUMNS[:-2]
    payer = prices.economics["connections_paid_by"]
    rows = [(*r, payer if r[0] == "connections" else DONORS) for r in rows]
    boq = pd.DataFrame(rows, columns=[*columns, "paid_by"])
    boq["total_lcu"] = boq["quantity"] * boq["unit_cost_lcu"]
    margins = []
    for p in dict.fromkeys(boq["paid_by"]):
        works = float(boq.loc[boq["paid_by"] == p, "total_lcu"].sum())
        suffix = "" if p == DONORS else f" ({p}' share)"
        for key, item in MARGINS.items():
            margins.append(("margin", item + suffix, "", np.nan, np.nan,
                            prices.value(key), "share of works", works, p))  # fmt: skip
    extra = pd.DataFrame(margins, columns=[*columns, "paid_by"])
    extra["total_lcu"] = extra["quantity"] * extra["unit_cost_lcu"]
    boq = pd.concat([boq, extra], ignore_index=True)
    return boq[BOQ_COLUMNS]


def bill_of_quantities(
    study: Study,
    wn,
    catalog: Catalog,
    p_open: DemandProjection,
    tank_m3: float,
    tertiary: pd.DataFrame | None = None,
    break_tank: bool = False,
    surge_vessel: bool = False,
    station: pd.DataFrame | None = None,
    boosters: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, int, int]:
    """Bill of quantities of a written design.

    Pipes by material, DN, PN and length (priced from the labels in the file); rock
    excavation uplift; tertiary networks; pressure-reducing valves; standpipes; household
    connections; tank; break tank; booster station and surge vessel; tap-off; then engineering
    and contingencies. Column ``paid_by``: donors, or whoever the study says pays the
    household connections. ``station``: the booster station's parts
    (:func:`hydro.stations.station_parts`), else the study's ``pump_station`` lump sum.
    ``boosters``: the booster pumps the sizing placed
    (:func:`hydro.sizing.boosters.booster_table`), a station each (:func:`_booster_rows`).
    Returns the table, the standpipes and the connections.
    """
    standpipes, connections = count_taps(study.design, p_open)
    rows = _pipe_rows(study, wn, catalog, tertiary)
    rows += _works_rows(
        study, wn, standpipes, connections, tank_m3, break_tank, surge_vessel, station
    )
    rows += _booster_rows(study, boosters)
    return _with_margins(study.prices, rows), standpipes, connections


def household_bill_per_month(prices: Prices, m3_per_month: float) -> float:
    """A household's monthly bill: each block at its price (docs/sources.md, 1.2), plus the
    fixed fee.

    >>> from types import SimpleNamespace as S
    >>> prices = S(economics={"household_tariff_blocks_m3_per_month": [6.0, 20.0],
    ...                       "household_tariff_per_m3": [2.37, 7.39, 10.98]},
    ...            costs={"fixed_fee_per_connection_per_month": S(value=6.0)})
    >>> round(household_bill_per_month(prices, 8.4), 2)  # 6 x 2.37 + 2.4 x 7.39 + 6
    37.96
    """
    limits = prices.economics["household_tariff_blocks_m3_per_month"]
    rates = prices.economics["household_tariff_per_m3"]
    bill, lower = 0.0, 0.0
    for upper, price in zip([*limits, math.inf], rates, strict=True):
        bill += max(min(m3_per_month, upper) - lower, 0.0) * price
        lower = upper
    return bill + prices.costs["fixed_fee_per_connection_per_month"].value


# --------------------------------------------------------------------------- tables
def _within_500_m(wn, villages: pd.DataFrame, projection: DemandProjection) -> float:
    """Share of people within 500 m (straight line) of a standpipe or served at home.

    Where people live: the village's household-connection nodes with their shares (the
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
    projected = projection.villages.set_index("village")
    for row in villages.to_dict("records"):
        d = projected.loc[row["village"]]
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


def _per_person(villages: pd.DataFrame, column: str) -> float:
    """Population-weighted mean of a per-person column over the villages (NaN when empty)."""
    if villages.empty:
        return float("nan")
    return float((villages[column] * villages["population"]).sum() / villages["population"].sum())


#: Bill-of-quantities categories maintained as pipes, and as pumps and electrics (a category
#: whose name says pump, electric, power or solar); every other category of works is civil
#: works. Margins and connections the households pay carry no maintenance of the scheme.
PIPE_CATEGORIES = ("pipes", "tertiary network", "valves")
MECHANICAL_WORDS = ("pump", "electric", "power", "solar")


def maintenance_class(category: str) -> str:
    """The asset class of a bill-of-quantities category: pipes, civil or mechanical.

    >>> maintenance_class("tertiary network"), maintenance_class("pumping")
    ('pipes', 'mechanical')
    >>> maintenance_class("storage")
    'civil'
    """
    if category in PIPE_CATEGORIES:
        return "pipes"
    if any(word in category.lower() for word in MECHANICAL_WORDS):
        return "mechanical"
    return "civil"


def maintenance_by_class(prices: Prices, boq: pd.DataFrame) -> dict[str, float]:
    """Maintenance a year [currency/year] by asset class: each class's works x its rate.

    On the works only: not on engineering and contingencies (``margin``) nor on the lines the
    households pay (their connections). Rates: ``maintenance_<class>_share_per_year``, else
    ``maintenance_share_per_year`` (:data:`hydro.study.config.MAINTENANCE_KEYS`).
    """
    works = boq[(boq["category"] != "margin") & (boq["paid_by"] != "households")]
    by_class = works.groupby(works["category"].map(maintenance_class))["total_lcu"].sum()
    out = {}
    for cls in ("pipes", "civil", "mechanical"):
        rate = prices.value(
            f"maintenance_{cls}_share_per_year", prices.value("maintenance_share_per_year", 0.0)
        )
        out[cls] = rate * float(by_class.get(cls, 0.0))
    return out


def household_use_m3_per_month(design: Design, economics: dict) -> float:
    """Expected use of one household connection [m3/month]: the household's allowance
    (persons x ``household_use_l_per_person_day``), at most ``household_use_max_m3_per_month``
    (the operator's measured use, e.g. docs/sources.md 1.2: at most 4 m3 a month).

    >>> from types import SimpleNamespace as S
    >>> econ = {"household_use_l_per_person_day": 50.0, "household_use_max_m3_per_month": 4.0}
    >>> household_use_m3_per_month(S(persons_per_household=5.5), econ)
    4.0
    """
    allowance = (
        design.persons_per_household * economics["household_use_l_per_person_day"] / LITRES_PER_M3
        * DAYS_PER_YEAR / 12
    )  # fmt: skip
    return min(allowance, economics["household_use_max_m3_per_month"])


def keeper_income(study: Study, standpipe_m3_per_day: float, standpipes: int) -> dict:
    """A standpipe keeper's monthly income [currency/month] against the minimum wage.

    ``keeper_pay = "margin"``: his margin x the water he sells a month at his standpipe;
    ``"salary"``: ``keeper_per_standpipe_per_year`` / 12. Flagged when below the study's
    ``minimum_wage_per_month`` (not compared when the study gives none).
    """
    c, econ = study.prices.costs, study.prices.economics
    if not standpipes:
        income = float("nan")
    elif econ["keeper_pay"] == "salary":
        income = c["keeper_per_standpipe_per_year"].value / 12
    else:
        sold = standpipe_m3_per_day * DAYS_PER_YEAR / 12 / standpipes
        income = c["keeper_margin_per_m3"].value * sold
    wage = study.prices.value("minimum_wage_per_month", float("nan"))
    return {
        "keeper_income_lcu_per_month": income,
        "minimum_wage_lcu_per_month": wage,
        "keeper_below_minimum_wage": bool(income < wage),  # False when either is unknown
    }


def _expected_use(study: Study, o: ScenarioResult) -> dict:
    """The water expected to be used in the design year [m3/day] by standpipes (measured
    use), by the connections costed (their expected use) and by the other uses projected.
    """
    econ, t = study.prices.economics, o.projection_design.totals()
    monthly = household_use_m3_per_month(study.design, econ) if o.connections else 0.0
    return {
        "standpipes": float(t["people_standpipe"]) * econ["standpipe_use_l_per_person_day"]
        / LITRES_PER_M3,
        "households": o.connections * monthly * 12 / DAYS_PER_YEAR,
        "other": float(t["other_public_m3_per_day"] + t["institutional_m3_per_day"]
                       + t["livestock_m3_per_day"]),
        "household_m3_per_month": monthly if o.connections else float("nan"),
    }  # fmt: skip


def has_boosters(o: ScenarioResult) -> bool:
    """True when the design has booster pumps the sizing placed (``PMP_<node>``)."""
    return getattr(o, "boosters", None) is not None and not o.boosters.empty


def booster_energy_kwh(o: ScenarioResult, bought_m3_per_year: float) -> float:
    """The boosters' energy a year [kWh] on ``bought_m3_per_year`` of water: each booster's
    energy per m3 through it (at the design year's average demand,
    :func:`hydro.sizing.boosters.booster_table`) x its share of the network's demand x that
    water.
    """
    if not has_boosters(o):
        return 0.0
    b = o.boosters
    return float((b["energy_kwh_per_m3"] * b["demand_share"]).sum() * bought_m3_per_year)


def operating_account(study: Study, o: ScenarioResult) -> dict:
    """O&M and tariff revenue of the design year [currency/year], on the water expected.

    Use (:func:`_expected_use`): standpipe users at ``standpipe_use_l_per_person_day``
    (measured 8.5 l, docs/sources.md 1.1); each household connection costed at its expected
    use (:func:`household_use_m3_per_month`); the villages' other uses as projected. Bulk water:
    that use plus the network's losses, bought at the source. Standpipe revenue: with
    ``keeper_pay = "margin"`` the keeper buys at the resale price less his margin; with
    ``"salary"`` the scheme keeps the resale price and pays him. Households: the connections
    costed, each billed its expected use by the tariff blocks plus the fixed fee; other uses
    are not billed (conservative). Maintenance by asset class (:func:`maintenance_by_class`);
    energy: the pump's energy per m3 (the design-year run) x the bulk water of expected use,
    and each booster's (:func:`booster_energy_kwh`) on the same water.
    """
    c, econ = study.prices.costs, study.prices.economics
    sc = o.projection_design.scenario
    use = _expected_use(study, o)
    consumed = (use["standpipes"] + use["households"] + use["other"]) * DAYS_PER_YEAR
    bought = consumed / (sc.transmission_efficiency * sc.distribution_efficiency)
    bill = household_bill_per_month(study.prices, use["household_m3_per_month"])
    household_revenue = o.connections * 12 * bill if o.connections else 0.0
    salary = econ["keeper_pay"] == "salary"
    bf_price = c["tariff_standpipe_per_m3"].value - (
        0 if salary else c["keeper_margin_per_m3"].value
    )
    standpipe_revenue = use["standpipes"] * DAYS_PER_YEAR * bf_price
    maintenance = maintenance_by_class(study.prices, o.boq)
    energy = o.energy_kwh_per_m3 * bought * c["energy_per_kwh"].value
    boosted = booster_energy_kwh(o, bought)
    energy += boosted * c["energy_per_kwh"].value
    keepers = o.standpipes * c["keeper_per_standpipe_per_year"].value if salary else 0.0
    bulk = bought * c["bulk_water_per_m3"].value
    om = sum(maintenance.values()) + energy + keepers + bulk
    revenue = standpipe_revenue + household_revenue
    population = float(o.projection_design.totals()["population"])
    return {
        "expected_consumption_m3_per_year": consumed,
        "bulk_water_m3_per_year": bought,
        "household_connections_billed": o.connections,
        "household_m3_per_month": use["household_m3_per_month"],
        "om_maintenance_lcu_per_year": sum(maintenance.values()),
        **{f"om_maintenance_{k}_lcu_per_year": v for k, v in maintenance.items()},
        "om_energy_lcu_per_year": energy,
        **(
            {"om_booster_energy_lcu_per_year": boosted * c["energy_per_kwh"].value}
            if has_boosters(o)
            else {}
        ),  # fmt: skip
        "om_keepers_lcu_per_year": keepers,
        "om_bulk_water_lcu_per_year": bulk,
        "om_lcu_per_year": om,
        "om_lcu_per_m3": om / consumed if consumed else float("nan"),
        "om_lcu_per_person_year": om / population,
        "revenue_standpipes_lcu_per_year": standpipe_revenue,
        "revenue_households_lcu_per_year": household_revenue,
        "tariff_revenue_lcu_per_year": revenue,
        "tariff_revenue_lcu_per_m3": revenue / consumed if consumed else float("nan"),
        "om_recovery_ratio": revenue / om if om else float("nan"),
        "om_deficit_lcu_per_year": max(om - revenue, 0.0),
        **keeper_income(study, use["standpipes"], o.standpipes),
    }


def financing(money: Money, o: ScenarioResult) -> dict:
    """Who pays the capital [EUR]: the donors (each funder's share, commitment and the gap)
    and whoever pays the household connections.
    """
    by_payer = o.boq.groupby("paid_by")["total_lcu"].sum() / money.currency_per_eur.value
    donors = float(by_payer.get(DONORS, 0.0))
    out = {"capital_donors_eur": donors}
    for payer in ("households", "operator"):
        out[f"capital_{payer}_eur"] = float(by_payer.get(payer, 0.0))
    for name, share in money.funders:
        out[f"funder_{name}_eur"] = share * donors
        if name in money.commitments_eur:
            out[f"commitment_{name}_eur"] = money.commitments_eur[name]
    committed = sum(money.commitments_eur.values()) if money.commitments_eur else money.budget_eur
    out["financing_gap_eur"] = max(donors - committed, 0.0)
    return out


def _verdict(o: ScenarioResult, headroom: float, lpd: float, allowance: float) -> str:
    """FEASIBLE; OVER BUDGET when it meets every rule and only the budget stops it (a design
    choice, phasing or fewer villages, fixes that: the budget mode says which); else NOT
    FEASIBLE with every reason: rules, delivery, pressure class, budget.
    """
    budget = [f"over budget by EUR {-headroom:,.0f}"] if headroom < 0 else []
    failures = rule_failures(o, lpd, allowance)
    if not failures and not budget:
        return "FEASIBLE: within budget and compliant"
    if not failures:
        return f"OVER BUDGET by EUR {-headroom:,.0f}: meets every design rule"
    return "NOT FEASIBLE: " + "; ".join(failures + budget)


def rule_failures(o: ScenarioResult, lpd: float, allowance: float) -> list[str]:
    """What a design fails besides the budget: rules, delivery, pressure class (empty: none)."""
    failures = []
    for label, report in (
        ("design year", o.compliance_design),
        ("opening year", o.compliance_open),
    ):
        if not report.compliant:
            count = report.summary["violations"]
            failures.append(f"{count} rule violation{'' if count == 1 else 's'} ({label})")
    if lpd < allowance * 0.99:
        failures.append("delivers less than the allowance")
    if o.surge is not None and not o.surge.empty and not o.surge["class_ok"].all():
        failures.append("pressure class exceeded at pump shut-off")
    return failures


def _service_columns(o: ScenarioResult, villages: pd.DataFrame) -> dict:
    """The feasibility row's service columns: level, water delivered, taps, pressures."""
    t_open = o.projection_open.totals()
    delivered = o.service.villages
    within = _within_500_m(o.model, villages, o.projection_open)
    taps = o.standpipes * o.projection_open.scenario.taps_per_standpipe
    s = o.compliance_design.summary
    return {
        "service_level": _ladder(o.projection_open, within),
        "allowance_l_per_person_day": _per_person(delivered, "allowance_l_per_person_day"),
        "delivered_l_per_person_day": _per_person(delivered, "delivered_l_per_person_day"),
        "standpipes": o.standpipes,
        "household_connections": o.connections,
        "people_per_tap": float(t_open["people_standpipe"] / taps) if taps else float("nan"),
        "share_within_500_m": within,
        "lowest_pressure_m": min(
            s["min_pressure_by_class_m"].get(k, np.inf) for k in ("standpipe", "household")
        ),
        "compliance_share": s["node_hours_compliant_share"],
    }


def _benchmark_columns(money, per_eur: float) -> dict:
    """The capital per beneficiary against the study's benchmark range (when it gives one)."""
    if money.benchmark_per_beneficiary is None:
        return {"benchmark_range_eur": "", "against_range": ""}
    low, high = (v / money.currency_per_eur.value for v in money.benchmark_per_beneficiary)
    return {
        "benchmark_range_eur": f"{low:.0f}-{high:.0f}",
        "against_range": "below" if per_eur < low else ("above" if per_eur > high else "within"),
    }


def vat_columns(prices: Prices, o: ScenarioResult, money: Money) -> dict:
    """VAT, stated: every price excludes it; the rate on works and on water where the study
    gives them, and the VAT the donors' works would carry unless the financing exempts them.
    """
    vat_rate = prices.value("vat_works_share", float("nan"))
    donors = o.boq.loc[o.boq["paid_by"] == DONORS, "total_lcu"].sum()
    works = vat_rate * float(donors) / money.currency_per_eur.value
    return {
        "prices_exclude_vat": True,
        "vat_works_rate": vat_rate,
        "vat_water_rate": prices.value("vat_water_share", float("nan")),
        "vat_on_donors_works_eur": works,
    }


def feasibility_row(study: Study, o: ScenarioResult, villages: pd.DataFrame) -> dict:
    """One scenario's row of the donors' feasibility table."""
    money = study.money
    t_open, t_design = o.projection_open.totals(), o.projection_design.totals()
    beneficiaries_open = float(t_open["population"])
    beneficiaries_design = float(t_design["population"])
    capital_eur = o.capital_lcu / money.currency_per_eur.value
    paid = financing(study.money, o)
    headroom = money.budget_eur - paid["capital_donors_eur"]
    service = _service_columns(o, villages)
    account = operating_account(study, o)
    # the water the scheme is designed to deliver, mean of the two years [m3/year]
    designed = (
        (float(t_open["consumption_m3_per_day"]) + float(t_design["consumption_m3_per_day"]))
        / 2
        * DAYS_PER_YEAR
    )
    expected = account["expected_consumption_m3_per_year"]
    annual = money.crf * o.capital_lcu
    per = capital_eur / beneficiaries_open
    return {
        "scenario": o.spec.name,
        "label": o.spec.label,
        "opening_year": study.design.base_year,
        "beneficiaries_opening": round(beneficiaries_open),
        "design_year": study.design.horizon_year,
        "beneficiaries_design": round(beneficiaries_design),
        **service,
        "tank_m3": o.tank_m3,
        "pump": o.pump.name if o.pump else "",
        "surge_protection": bool(o.surge_vessel),
        "capital_before_margins_lcu": o.capital_before_margins_lcu,
        "capital_lcu": o.capital_lcu,
        "capital_eur": capital_eur,
        **paid,
        "budget_eur": money.budget_eur,
        "headroom_eur": headroom,
        "headroom_share": headroom / money.budget_eur,
        "cost_per_beneficiary_eur": per,
        "cost_per_beneficiary_lcu": o.capital_lcu / beneficiaries_open,
        "cost_per_beneficiary_horizon_eur": capital_eur / beneficiaries_design,
        **_benchmark_columns(money, per),
        # at this scenario's cost per person; what the budget buys replaces it by the
        # people its chosen plan serves (hydro.study.budget.budget_covers)
        "beneficiaries_budget_covers": round(money.budget_eur / per),
        **vat_columns(study.prices, o, money),
        **account,
        "energy_kwh_per_m3": o.energy_kwh_per_m3,
        "capital_lcu_per_m3_expected_use": annual / expected if expected else float("nan"),
        "capital_lcu_per_m3_design_volume": annual / designed if designed else float("nan"),
        "meets_rules": not rule_failures(
            o, service["delivered_l_per_person_day"], service["allowance_l_per_person_day"]
        ),
        "verdict": _verdict(
            o,
            headroom,
            service["delivered_l_per_person_day"],
            service["allowance_l_per_person_day"],
        ),  # fmt: skip
    }


#: Where a figure of the study file has no note in [sources]: what the assumptions say.
_STUDY_FILE = "study file"


def _study_rows(study: Study) -> list[tuple]:
    """The assumptions of the study file: years, money, design settings, unit costs."""
    d, m, notes = study.design, study.money, study.report.sources
    rows = [
        ("base_year", d.base_year, "year", notes.get("base_year", _STUDY_FILE)),
        ("horizon_year", d.horizon_year, "year", notes.get("horizon_year", _STUDY_FILE)),
        (
            "currency_per_eur",
            m.currency_per_eur.value,
            f"{m.currency}/EUR",
            m.currency_per_eur.source,
        ),
        ("budget_eur", m.budget_eur, "EUR", notes.get("budget", _STUDY_FILE)),
    ]
    for name, share in m.funders:
        rows.append((f"funder_share: {name}", share, "fraction", notes.get("funders", _STUDY_FILE)))
    rows += [
        ("life_years", m.life_years, "years", notes.get("life", _STUDY_FILE)),
        ("discount_rate", m.discount_rate, "1/year", notes.get("life", _STUDY_FILE)),
        ("capital_recovery_factor", round(m.crf, 4), "1/year", "derived: i(1+i)^n/((1+i)^n-1)"),
        ("persons_per_household", d.persons_per_household, "persons",
         notes.get("persons_per_household", _STUDY_FILE)),
        ("storage_reserve_hours", d.reserve_hours, "h of average day",
         "estimate [E]: see hydro.storage"),
        ("source_supply_hours", len(d.supply_hours), "h/day", "study file"),
        ("pumping_hours", d.pumping_hours, "h/day", "estimate [E]: see hydro.pumps"),
        ("min_distribution_dn_mm", d.min_distribution_dn_mm, "mm",
         notes.get("min_distribution_dn_mm", _STUDY_FILE)),
        ("simulation_hours", d.simulation_hours, "h", "three peak days"),
        ("looped_time_limit_s", d.looped_time_limit_s, "s", "study file (looped networks)"),
    ]  # fmt: skip
    for key, cost in study.prices.costs.items():
        rows.append((key, cost.value, cost.unit, cost.source))
    if m.benchmark_per_beneficiary is not None:
        low, high = m.benchmark_per_beneficiary
        rows.append(("benchmark_per_beneficiary", f"{low:g}-{high:g}", f"{m.currency}/beneficiary",
                     notes.get("benchmark", _STUDY_FILE)))  # fmt: skip
    return rows


def _french_notes(study: Study) -> dict:
    """The study file's French notes by parameter (the report translates the others)."""
    fr, m = study.report.sources_fr, study.money
    return {
        "base_year": fr.get("base_year", ""),
        "horizon_year": fr.get("horizon_year", ""),
        "currency_per_eur": m.currency_per_eur.source_fr,
        "budget_eur": fr.get("budget", ""),
        "life_years": fr.get("life", ""),
        "discount_rate": fr.get("life", ""),
        "persons_per_household": fr.get("persons_per_household", ""),
        "min_distribution_dn_mm": fr.get("min_distribution_dn_mm", ""),
        "benchmark_per_beneficiary": fr.get("benchmark", ""),
        **{key: cost.source_fr for key, cost in study.prices.costs.items()},
        **{f"funder_share: {name}": fr.get("funders", "") for name, _ in m.funders},
    }


def assumptions_table(study: Study, outcomes: list[ScenarioResult]) -> pd.DataFrame:
    """Every assumption of the study with its value, unit and source (and French note)."""
    table = pd.DataFrame(
        _study_rows(study), columns=["parameter", "value", "unit", "source"]
    ).assign(scenario="all")
    parts = [table, study.rules.as_table().assign(scenario="all")]
    seen = set()
    for o in outcomes:
        sc = o.projection_design.scenario
        if sc.name not in seen:
            seen.add(sc.name)
            parts.append(sc.as_table().assign(scenario=f"demand: {sc.name}"))
    out = pd.concat(parts, ignore_index=True)
    out["value"] = out["value"].astype(str)
    out["source"] = out["source"].astype(str)
    fr = _french_notes(study)
    out["source_fr"] = [
        fr.get(parameter, "") if scenario == "all" else ""
        for scenario, parameter in zip(out["scenario"], out["parameter"], strict=True)
    ]
    return out[["scenario", "parameter", "value", "unit", "source", "source_fr"]]


def storage_rule_applies(study: Study, storage) -> bool:
    """Whether the storage rule of thumb (docs/sources.md 5.1) holds: a pumped main or a
    source that supplies only some hours of the day.
    """
    return bool(study.design.pump) or len(storage.supply_hours) < 24


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
            "tank_m3": o.tank_m3,
            # the rule of thumb of docs/sources.md 5.1 holds for a pumped or intermittent
            # main only (hydro.study.scenario.step_storage applies it there)
            "brief_rule_m3": st.brief_rule_m3 if storage_rule_applies(study, st) else np.nan,
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
                    # the design year's peak days (the extended-period run) all year: the
                    # pump's largest bill; the O&M counts the energy of the expected use
                    "energy_design_peak_lcu_per_year": o.energy_kwh_per_day
                    * DAYS_PER_YEAR
                    * study.prices.costs["energy_per_kwh"].value,
                    "pump_rule": o.duty.describe(),
                }
            )
        if has_boosters(o):
            row.update(_booster_operation(study, o))
        rows.append(row)
    return pd.DataFrame(rows)


def _booster_operation(study: Study, o: ScenarioResult) -> dict:
    """The boosters' columns of the operation table: which, and their energy a year at the
    design year's average demand all year (the basis the sizing priced them on; the O&M
    counts the energy of the expected use, :func:`operating_account`).
    """
    b = o.boosters
    kwh = float(b["energy_kwh_per_year"].sum())
    return {
        "boosters": "; ".join(
            f"{r['pump']} {r['head_m']:.1f} m, {r['flow_l_per_s']:.2f} l/s, {r['power_kw']:.2f} kW"
            for r in b.to_dict("records")
        ),
        "booster_energy_design_average_kwh_per_year": kwh,
        "booster_energy_design_average_lcu_per_year": kwh
        * study.prices.costs["energy_per_kwh"].value,
    }
