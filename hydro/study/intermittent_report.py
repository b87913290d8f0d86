"""The outputs of an intermittent-supply study: CSV tables, networks and ``report.html``.

The page is self-contained (no script, no external file), in English, and prints on A4 (a
print stylesheet; wide tables shrink). Every text from the study file or the inputs (title,
town names, sources) is escaped with :func:`html.escape`. Each section is one short function
of :data:`SECTIONS`, returning its title and HTML.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from hydro.outputs import write_csv
from hydro.study.intermittent import IntermittentStudyResult

#: The CSV tables: file name -> attribute of the result.
TABLES = {
    "equity.csv": "equity",
    "options.csv": "options",
    "cost_sharing.csv": "sharing",
    "bulk.csv": "bulk",
    "schedule.csv": "schedule",
    "verification.csv": "verification",
    "assumptions.csv": "assumptions",
}

STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; max-width: 190mm; margin: 1em auto;
       padding: 0 1em; font-size: 10.5pt; line-height: 1.35; color: #111; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #999;
     margin-top: 1.4em; } h3 { font-size: 1em; }
table { border-collapse: collapse; margin: 0.4em 0 1em; font-size: 0.85em; width: 100%; }
th, td { border: 1px solid #bbb; padding: 2px 4px; text-align: right; vertical-align: top; }
th { background: #eee; } td.text, th.text { text-align: left; }
td.text { overflow-wrap: anywhere; }
.note { color: #444; font-size: 0.9em; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 9.5pt; }
  table { font-size: 7.5pt; }
  h2, h3 { break-after: avoid; }
  tr { break-inside: avoid; }
}
"""


def esc(value) -> str:
    """Any value as escaped HTML text."""
    return html.escape(str(value), quote=True)


def fmt(value, decimals: int = 0) -> str:
    """A number with thousands separators (text as it is; missing as a dash)."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:,.{decimals}f}"


def pct(value) -> str:
    """A share as a percentage."""
    return "-" if value is None or not math.isfinite(value) else f"{100 * value:.1f}%"


def table(frame: pd.DataFrame, columns: Sequence[tuple[str, str, Callable]]) -> str:
    """An HTML table of ``frame``: (column, header, formatter) each; text cells escaped."""
    head = "".join(f'<th class="{"text" if f is str else ""}">{esc(h)}</th>' for _, h, f in columns)
    rows = []
    for _, row in frame.iterrows():
        cells = []
        for name, _, f in columns:
            kind = "text" if f is str else ""
            cells.append(f'<td class="{kind}">{esc(f(row[name]))}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _labels(result: IntermittentStudyResult) -> dict:
    """Zone and option names -> their labels."""
    names = {z["name"]: z["label"] for z in result.study.zones}
    names.update({o.name: o.label for o in result.outcomes})
    names["all"] = "All towns"
    return names


def _currency(result) -> str:
    return result.study.money["currency"]


def section_summary(result: IntermittentStudyResult) -> tuple[str, str]:
    """Key figures: today and what each option buys."""
    options = result.options.set_index("option")
    today = options.loc["today"]
    people = result.outcomes[0].result.indicators["people"]
    items = [
        f"{fmt(people)} people in {len(result.study.zones)} towns; today they receive "
        f"{pct(today['satisfaction'])} of the water they want (100 l/person/day asked), "
        f"Christiansen's uniformity {today['christiansen_cu']:.2f}; "
        f"{pct(today['share_under_50_l'])} of the people get under 50 l/person/day.",
        f"Non-revenue water today {pct(today['nrw_share'])} of the water bought "
        f"({fmt(today['bought_m3_per_week'])} m3 a week).",
    ]
    for _, row in options.drop(index="today").iterrows():
        items.append(
            f"{row['label']}: uniformity {row['christiansen_cu']:.2f} (today "
            f"{today['christiansen_cu']:.2f}), satisfaction {pct(row['satisfaction'])}, NRW "
            f"{pct(row['nrw_share'])}; capital {fmt(row['capital_local'])} {_currency(result)}"
            f" = US${fmt(row['capital_usd'])} = EUR {fmt(row['capital_eur'])} "
            f"(US${fmt(row['capital_usd_per_person'], 1)} per person)."
        )
    body = "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"
    return "Summary", body


def section_schedule(result: IntermittentStudyResult) -> tuple[str, str]:
    """Which town is supplied when, today and under each option."""
    frame = result.schedule.assign(when=lambda f: f["days"] + ", " + f["hours"] + " h")
    wide = frame.pivot(index="label", columns="option", values="when")
    order = [o.name for o in result.outcomes]
    wide = wide[order].reset_index()
    labels = _labels(result)
    columns = [("label", "Town", str)] + [(o, labels[o], str) for o in order]
    note = (
        "<p>Each town's valve opens at these hours on these days; between supplies the "
        "households draw on their roof tanks. Hours a week are the same in every option.</p>"
    )
    return "Supply schedule", note + table(wide, columns)


def section_delivered(result: IntermittentStudyResult) -> tuple[str, str]:
    """Water delivered per municipality and per person today."""
    today = result.outcomes[0].result.municipalities.copy()
    labels = _labels(result)
    today["town"] = today["municipality"].map(lambda m: labels.get(m, m))
    days = result.outcomes[0].result.settings.days
    today["desired_m3_per_week"] = today["desired_m3"] / days * 7
    today["delivered_m3_per_week"] = today["delivered_m3"] / days * 7
    columns = [
        ("town", "Town", str),
        ("people", "People", fmt),
        ("desired_m3_per_week", "Wanted m3/week", fmt),
        ("delivered_m3_per_week", "Delivered m3/week", fmt),
        ("delivered_l_per_person_day", "l/person/day", lambda v: fmt(v, 1)),
        ("satisfaction", "Satisfaction", pct),
        ("christiansen_cu", "Uniformity in town", lambda v: fmt(v, 2)),
    ]
    return "Water delivered today", table(today, columns)


def section_equity(result: IntermittentStudyResult) -> tuple[str, str]:
    """Litres per person a day and uniformity per town, before and after each option."""
    labels = _labels(result)
    order = [o.name for o in result.outcomes]
    parts = []
    for value, title, f in (
        ("delivered_l_per_person_day", "Water delivered, l/person/day", lambda v: fmt(v, 1)),
        ("christiansen_cu", "Christiansen's uniformity coefficient", lambda v: fmt(v, 2)),
    ):
        wide = result.equity.pivot(index="municipality", columns="option", values=value)
        wide = wide[order].reset_index()
        wide = wide.sort_values("municipality", key=lambda m: m == "all", kind="stable")
        wide["town"] = wide["municipality"].map(lambda m: labels.get(m, m))
        columns = [("town", "Town", str)] + [(o, labels[o], f) for o in order]
        parts.append(f"<h3>{esc(title)}</h3>" + table(wide, columns))
    note = (
        "<p>Uniformity is 1 when everyone gets the same water per person; the row 'All "
        "towns' is over every person of the six towns.</p>"
    )
    return "Equity before and after each option", note + "".join(parts)


def section_water(result: IntermittentStudyResult) -> tuple[str, str]:
    """Non-revenue water and bulk water per option and per bulk point."""
    labels = _labels(result)
    options = result.options.assign(name=lambda f: f["option"].map(labels))
    cur = _currency(result)
    columns = [
        ("name", "Option", str),
        ("bought_m3_per_week", "Bought m3/week", fmt),
        ("leak_m3_per_week", "Leaked m3/week", fmt),
        ("nrw_share", "Non-revenue water", pct),
        ("bulk_cost_per_week", f"Bulk cost {cur}/week", fmt),
        ("billed_m3_per_week", "Billed m3/week", fmt),
        ("revenue_per_week", f"Revenue {cur}/week", fmt),
        ("margin_per_week", f"Revenue less bulk {cur}/week", fmt),
    ]
    bulk = result.bulk.assign(name=lambda f: f["option"].map(labels))
    bulk_columns = [
        ("name", "Option", str),
        ("source", "Bulk point", str),
        ("m3_per_week", "m3/week", fmt),
        ("max_flow_l_per_s", "Limit l/s", fmt),
        ("cost_per_week", f"{cur}/week", fmt),
        ("contract_share", "Share of contract", pct),
    ]
    note = (
        f"<p>Physical losses are EPANET emitters calibrated so that today's run loses "
        f"{pct(result.study.leakage['physical_share'])} of a non-revenue water of "
        f"{pct(result.study.leakage['nrw_share'])} (the rest: commercial losses, "
        f"{pct(result.commercial_share)} of what households take). Fewer hours under "
        "pressure leak less.</p>"
    )
    return "Non-revenue water and bulk water", (
        note + table(options, columns) + "<h3>Per bulk point</h3>" + table(bulk, bulk_columns)
    )


def section_costs(result: IntermittentStudyResult) -> tuple[str, str]:
    """Each option's capital in the local currency, USD and EUR; per person vs benchmark."""
    labels = _labels(result)
    cur = _currency(result)
    frame = result.options[result.options["option"] != "today"].copy()
    frame["name"] = frame["option"].map(labels)
    low, high = result.study.money["benchmark_usd_per_person"] or (math.nan, math.nan)
    frame["against"] = frame["capital_usd_per_person"].map(
        lambda v: "below" if v < low else ("above" if v > high else "within")
    )
    units = {
        o.name: f"{fmt(o.quantity, 1)} x {fmt(o.cost.value)} {o.cost.unit}"
        for o in result.outcomes
        if o.cost
    }
    frame["quantity"] = frame["option"].map(units)
    columns = [
        ("name", "Option", str),
        ("quantity", "Quantity x unit price", str),
        ("capital_local", cur, fmt),
        ("capital_usd", "USD", fmt),
        ("capital_eur", "EUR", fmt),
        ("capital_usd_per_person", "USD/person", lambda v: fmt(v, 1)),
        ("against", "Against the documented range", str),
    ]
    note = (
        f"<p>Rates: {fmt(result.study.money['per_usd'], 2)} {esc(cur)} per USD, "
        f"{fmt(result.study.money['per_eur'], 2)} {esc(cur)} per EUR. Documented West Bank "
        f"projects cost US${fmt(low)}-{fmt(high)} per person "
        f"({esc(result.study.money.get('benchmark_source', ''))}).</p>"
    )
    return "Cost of each option", note + table(frame, columns)


def section_sharing(result: IntermittentStudyResult) -> tuple[str, str]:
    """The consortium's cost sharing: capital by demand and by use of the common mains."""
    labels = _labels(result)
    cur = _currency(result)
    frame = result.sharing.assign(
        name=lambda f: f["option"].map(labels), town=lambda f: f["municipality"].map(labels)
    )
    with_capital = frame[frame["capital_by_demand"] + frame["capital_by_capacity"] > 0]
    columns = [
        ("name", "Option", str),
        ("town", "Town", str),
        ("demand_share", "Demand share", pct),
        ("capacity_share", "Use of common mains", pct),
        ("capital_by_demand", f"{cur} by demand", fmt),
        ("capital_by_capacity", f"{cur} by use", fmt),
    ]
    today = frame[frame["option"] == "today"]
    bulk_columns = [
        ("town", "Town", str),
        ("bought_m3_per_week", "Bought m3/week", fmt),
        ("allocated_per_person_m3_per_week", "Per person share m3/week", fmt),
        ("bulk_cost_per_week", f"{cur}/week", fmt),
    ]
    note = (
        "<p>Demand share: the town's share of the water wanted. Use of the common mains: its "
        "share of the flow in each common main when it alone draws its demand, each main "
        "weighted by length x diameter. The water bought is shared in proportion to what "
        "each town's households take (losses included).</p>"
    )
    return "Cost sharing in the consortium", (
        note
        + table(with_capital, columns)
        + "<h3>Bulk water bought today, per town</h3>"
        + table(today, bulk_columns)
    )


def section_checks(result: IntermittentStudyResult) -> tuple[str, str]:
    """The independent EPANET check of every written network."""
    labels = _labels(result)
    frame = result.verification.assign(name=lambda f: f["option"].map(labels))
    yes = lambda v: "yes" if v else "NO"  # noqa: E731
    columns = [
        ("name", "Option", str),
        ("christiansen_cu_reported", "Uniformity reported", lambda v: fmt(v, 3)),
        ("christiansen_cu_rerun", "Uniformity from the file", lambda v: fmt(v, 3)),
        ("rerun_agrees", "Agrees", yes),
        ("written_as_designed", "Links as designed", yes),
        ("min_pressure_m", "Lowest pressure m", lambda v: fmt(v, 1)),
        ("max_pressure_m", "Highest pressure m", lambda v: fmt(v, 1)),
        ("max_velocity_m_per_s", "Fastest m/s", lambda v: fmt(v, 2)),
        ("min_pressure_ok", f"Lowest >= {fmt(result.study.min_pressure_m)} m", yes),
        ("max_pressure_ok", f"Highest <= {fmt(result.study.max_pressure_m)} m", yes),
    ]
    note = (
        "<p>Each option's network is written as an EPANET file, read back through EPANET's "
        "parser and run again: the intermittent week (its uniformity and water bought must "
        "agree with the run reported), every link as designed (kind, diameter, a valve's "
        "setting) and a steady state of continuous supply at the water "
        "wanted, every valve open (pressures at the consumer nodes, the fastest pipe).</p>"
    )
    return "Independent checks", note + table(frame, columns)


def section_assumptions(result: IntermittentStudyResult) -> tuple[str, str]:
    """Every figure of the study with its source or tag."""
    columns = [("item", "Item", str), ("value", "Value", str), ("source", "Source", str)]
    note = (
        "<p>[S] read in the cited source; [D] derived from sourced figures; [E] engineering "
        "estimate, a default to change. Sources: docs/sources.md, section 8.</p>"
    )
    return "Assumptions and sources", note + table(result.assumptions, columns)


def section_method(result: IntermittentStudyResult) -> tuple[str, str]:
    """How the water was counted and what the model leaves out."""
    s = result.outcomes[0].result.settings
    items = [
        f"{s.days} days at {s.step_min:g}-minute steps, each a steady state of EPANET 2.2; "
        f"withdrawal method '{s.method}' (Abdelazeem & Meyer 2024): each node fills its roof "
        "tanks as fast as the pressure allows until they are full, and households draw "
        "their use from them all day.",
        "EPANET keeps every pipe full: the filling of emptied pipes at each opening is not "
        "modelled, so the far and high ends get an upper bound of their water.",
        "The schedule option is a coordinate search over the slots given (each town tries "
        "each slot, the others fixed) for the highest uniformity, then satisfaction.",
        "Use of the common mains is computed for each town alone (superposition, an "
        "approximation where mains form loops).",
        f"Computed in {result.seconds:.0f} s.",
    ]
    return "Method and limits", "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"


#: The report's sections, in order.
SECTIONS = (
    section_summary,
    section_schedule,
    section_delivered,
    section_equity,
    section_water,
    section_costs,
    section_sharing,
    section_checks,
    section_assumptions,
    section_method,
)


def report_html(result: IntermittentStudyResult) -> str:
    """The whole page."""
    parts = [section(result) for section in SECTIONS]
    nav = "".join(f"<li>{esc(title)}</li>" for title, _ in parts)
    body = "".join(f"<section><h2>{esc(title)}</h2>{content}</section>" for title, content in parts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(result.study.title)}</title><style>{STYLE}</style></head><body>"
        f'<h1>{esc(result.study.title)}</h1><p class="note">Intermittent supply: who gets '
        f"how much water under the supply schedule, and what each option changes.</p>"
        f"<ol>{nav}</ol>{body}"
        "</body></html>\n"
    )


def write_intermittent_outputs(
    result: IntermittentStudyResult, folder: Path, log: Callable[[str], None] = lambda m: None
) -> list[Path]:
    """Write the tables (CSV), the checked networks (``.inp``) and ``report.html`` into
    ``folder`` (a staging folder of :class:`hydro.outputs.Outputs`).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    folder = Path(folder)
    written = []
    for name, attribute in TABLES.items():
        path = folder / name
        write_csv(getattr(result, attribute), path, index=False)
        written.append(path)
    for outcome in result.outcomes:
        if outcome.inp_text:  # the network each option was checked on
            path = folder / f"network_{outcome.name}.inp"
            path.write_text(outcome.inp_text)
            written.append(path)
    path = folder / "report.html"
    path.write_text(report_html(result), encoding="utf-8")
    written.append(path)
    log(f"wrote {len(written)} files")
    return written
