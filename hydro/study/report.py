"""The study's outputs: CSV tables, figures (PNG), ``report.xlsx`` and ``report.html``.

The HTML page is self-contained (figures embedded as PNG data, no script, no external file),
rendered by Jinja2 with autoescaping on (whatever a study title, a scenario label or a village
name holds is shown as text), in English or French, and prints to A4 (print stylesheet). CSV
tables keep machine column names with units, so scripts read them the same way in both
languages; the workbook and the page carry human labels.

The page is a list of sections: each is built by one function of :data:`SECTIONS` (returning
a :class:`Section`: paragraphs, bullet items, tables, figures) and drawn by the template's
``section`` block. To add a section, write its function and add it to :data:`SECTIONS` (and a
block to the template only when the generic one does not fit).
"""

from __future__ import annotations

import base64
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader
from markupsafe import Markup, escape

from hydro import __version__
from hydro.demand import read_villages
from hydro.outputs import write_csv
from hydro.study import figures as fig
from hydro.study.calibration import section_text as calibration_text
from hydro.study.funding import chosen_plan, funding_options, funding_plan, phases_of, recommend
from hydro.study.labels import (
    TAP_WORDS,
    TEXT,
    TRANSLATED_COLUMNS,
    Verbatim,
    assumptions_in,
    column,
    needed_decimals,
    number,
    paid_by,
    tap_class,
    texts,
    translate,
    using_currency,
    using_village_word,
)
from hydro.study.layout import Grid, arrange, equal_columns
from hydro.study.tables import (
    SOURCES_DOCUMENT,
    SOURCES_NAME,
    cited,
    pipe_table,
    village_table,
)
from hydro.study.workbook import write_workbook
from hydro.taps import plot_taps

#: Rows of the scenarios table (scenarios as columns).
SUMMARY_ROWS = (
    "beneficiaries_opening",
    "beneficiaries_design",
    "service_level",
    "standpipes",
    "household_connections",
    "people_per_tap",
    "share_within_500_m",
    "delivered_l_per_person_day",
    "lowest_pressure_m",
    "compliance_share",
    "tank_m3",
    "capital_lcu",
    "capital_eur",
    "capital_donors_eur",
    "capital_households_eur",
    "budget_eur",
    "headroom_eur",
    "financing_gap_eur",
    "cost_per_beneficiary_eur",
    "against_range",
    "vat_on_donors_works_eur",
    "om_lcu_per_year",
    "om_maintenance_lcu_per_year",
    "om_energy_lcu_per_year",
    "om_bulk_water_lcu_per_year",
    "household_connections_billed",
    "household_m3_per_month",
    "tariff_revenue_lcu_per_year",
    "om_recovery_ratio",
    "om_deficit_lcu_per_year",
    "keeper_income_lcu_per_month",
    "keeper_below_minimum_wage",
    "capital_lcu_per_m3_expected_use",
    "capital_lcu_per_m3_design_volume",
    "verdict",
)
#: What a table shows where a cell has no value (a parameter without a unit, a pipe item
#: without a DN): an en dash.
NOT_APPLICABLE = "\u2013"
#: A number as the report writes it, in either language (a cell of a table of text).
NUMBER = r"[-\u2212]?\d[\d,.\u202f]*(\u00a0?%)?"
#: Columns shown as percentages.
PERCENT = {
    "share",
    "om_recovery_ratio",
    "share_under_useful",
    "share_within_500_m",
    "compliance_share",
    "headroom_share",
    "change_from_base",
    "delivered_share",
}


@dataclass
class Section:
    """One section of the page: a heading, then blocks in order: ``("p", text)``,
    ``("ul", [text, ...])``, ``("table", caption, Markup)``, ``("figure", caption, name)``
    (the figure's name in the PNGs; replaced by its base64 data when the page is written).
    """

    id: str
    title: str
    blocks: list = field(default_factory=list)

    def p(self, text: str) -> None:
        """Add a paragraph."""
        self.blocks.append(("p", text))

    def ul(self, items: list) -> None:
        """Add a bullet list (nothing when empty)."""
        if items:
            self.blocks.append(("ul", list(items)))

    def table(self, caption: str, html: Markup) -> None:
        """Add a table with its caption."""
        self.blocks.append(("table", caption, html))

    def figure(self, caption: str, name: str) -> None:
        """Add a figure by its name among the PNGs."""
        self.blocks.append(("figure", caption, name))


@dataclass
class Context:
    """What every section function reads."""

    result: object
    lang: str
    t: dict
    labels: dict  # scenario name -> label in the report's language
    pngs: dict  # figure name -> PNG bytes
    villages: pd.DataFrame  # the village table (homes of each village)

    @property
    def study(self):
        """The study of the result."""
        return self.result.study

    def base(self):
        """The base scenario's result (the sensitivity's)."""
        name = self.study.sensitivity.get("scenario", self.study.scenarios[0].name)
        return next(o for o in self.result.outcomes if o.spec.name == name)


def currency_of(study) -> str:
    """The study's currency (ISO 4217 code)."""
    return study.money.currency


def currency_columns(frame: pd.DataFrame, currency: str) -> pd.DataFrame:
    """The table with each ``lcu`` (the study's currency unit, as the engine names it) in a
    column name replaced by the currency's code in lower case.

    >>> frame = pd.DataFrame(columns=["capital_lcu", "om_lcu_per_year"])
    >>> currency_columns(frame, "XOF").columns.tolist()
    ['capital_xof', 'om_xof_per_year']
    """
    code = currency.lower()
    return frame.rename(columns=lambda c: re.sub(r"(?<![a-z])lcu(?![a-z])", code, str(c)))


# --------------------------------------------------------------------------- cells and tables
def decimals_for(name: str) -> int:
    """Decimals shown for a column, from its name and unit."""
    if name in ("om_recovery_ratio", "pump_efficiency", "unit_cost_ratio"):
        return 2
    if name.endswith(("_lcu", "_eur", "_per_year", "_mm", "_bar")) or name in (
        "quantity",
        "people_served",
        "people_served_design",
        "population",
        "length_m",
    ):
        return 0
    if name.endswith(("_per_s", "_per_m3")):
        return 2
    return 1


def is_year(name: str) -> bool:
    """True for a column of years (``year``, ``opening_year``; not ``om_lcu_per_year``).

    >>> is_year("opening_year"), is_year("year"), is_year("om_lcu_per_year")
    (True, True, False)
    """
    return (name == "year" or name.endswith("_year")) and not name.endswith("per_year")


def cell(value, name: str, lang: str) -> str:
    """One table cell as text in the report's language."""
    t = TEXT[lang]
    if isinstance(value, bool | np.bool_):
        return t["yes"] if value else t["no"]
    if isinstance(value, Verbatim):  # a year in the assumptions
        return str(value)
    if is_year(name) and isinstance(value, int | float | np.integer | np.floating):
        return f"{value:.0f}" if math.isfinite(value) else ""  # 2012, not 2,012
    if isinstance(value, str):
        if name == "value":  # the assumptions table keeps numbers as text
            try:
                value = float(value)
            except ValueError:
                return value
        else:
            if name not in TRANSLATED_COLUMNS:
                return value
            value = translate(value, lang)
            # French typography: a no-break space before % ("100 %", as the numbers have), ; and :
            if lang == "fr":
                return french_punctuation(re.sub(r"(?<=\d)%", "\u00a0%", value))
            return value
    if value is None:
        return ""
    if isinstance(value, int | np.integer):
        return number(int(value), 0, lang)
    if isinstance(value, float | np.floating):
        if not math.isfinite(value):
            return "" if np.isnan(value) else t["n/a"]
        if name in PERCENT:
            return number(value, 1 if name == "change_from_base" else 0, lang, percent=True)
        digits = decimals_for(name)
        if name == "quantity" and not float(value).is_integer():
            digits = 2 if abs(value) < 1 else 1
        if name == "value":  # the decimals it needs: 25 years, 0.83, 1.2
            return number(value, needed_decimals(value), lang)
        return number(value, digits, lang)
    return str(value)


def as_written(value: float, lang: str) -> str:
    """A number with the decimals it needs, at most 3 (0, 0.5, 1.2, 10.9, 15,000).

    >>> [as_written(v, "en") for v in (0.0, 0.5, 15000.0)], as_written(1.2, "fr")
    (['0', '0.5', '15,000'], '1,2')
    """
    digits = next(d for d in range(4) if round(value, d) == round(value, 3))
    return number(value, digits, lang)


def _is_text(values: pd.Series) -> bool:
    """True when every value given is a string (and there is one)."""
    given = [v for v in values if not (pd.api.types.is_scalar(v) and pd.isna(v))]
    return bool(given) and all(isinstance(v, str) for v in given)


def html_table(
    frame: pd.DataFrame,
    lang: str,
    table_id: str,
    totals: list | None = None,
    header=True,
    keys: int = 1,
    numbers_right: tuple = (),
) -> Markup:
    """A table with human headers (units in brackets), cells in the report's language, every
    text escaped; ``totals``: rows of (label, {column: value}) drawn in bold at the end.

    The table is laid out for A4 (:func:`hydro.study.layout.arrange`): when it is wider than
    the page it is transposed (few rows) or split into parts that repeat its ``keys`` first
    columns; the parts' ids end in ``-2``, ``-3`` ...; in the columns ``numbers_right`` (text
    and numbers mixed, as the assumptions' values), a number reads from the right.
    """
    # columns of text (names, plans, verdicts) read from the left, numbers from the right
    left = [_is_text(frame[c]) for c in frame.columns]
    # a blank cell reads as "not applicable" (a dash), not as a value left out by mistake
    rows = [[cell(rec[c], c, lang) or NOT_APPLICABLE for c in frame.columns]
            for rec in frame.to_dict("records")]  # fmt: skip
    total_rows = [
        [label if k == 0 else cell(values.get(c), c, lang) if c in values else ""
         for k, c in enumerate(frame.columns)]
        for label, values in totals or []
    ]  # fmt: skip
    grid = Grid([column(c, lang) for c in frame.columns], rows, left, total_rows)
    parts = arrange(grid, keys) if header else [grid]
    mixed = {column(c, lang) for c in numbers_right}
    html = [
        _grid_html(part, table_id if k == 0 else f"{table_id}-{k + 1}", header, mixed)
        for k, part in enumerate(parts)
    ]
    return Markup("".join(html))


def _header_html(text: str) -> Markup:
    """A header with a break opportunity after each ``/`` (``[l/person/day]``)."""
    return Markup("/<wbr>").join(escape(p) for p in text.split("/"))


def _width(points: float | None) -> str:
    """A ``style`` asking for a column width on paper (nothing when None)."""
    return "" if points is None else f' style="width: {points:.0f}pt"'


def _grid_html(grid: Grid, table_id: str, header: bool, mixed: set = frozenset()) -> str:
    """One ``<table>`` of a laid-out grid (``table-`` before its id: the sections take the
    plain names as theirs).
    """
    cls = "data turned" if grid.transposed else "data"
    out = [f'<table class="{cls}" id="table-{escape(table_id)}">']
    text = [' class="text"' if left else "" for left in grid.left]
    # in a column of text and numbers (``mixed``), a number still reads from the right
    per_cell = [h in mixed and not grid.transposed for h in grid.header]
    if header:
        out.append("<thead><tr>")
        wide = grid.text_widths_pt()
        out += [
            f"<th{text[j]}{_width(wide.get(j))}>{_header_html(h)}</th>"
            for j, h in enumerate(grid.header)
        ]
        out.append("</tr></thead>")
    out.append("<tbody>")
    for row in grid.rows:
        first = f'<th class="text" scope="row">{escape(row[0])}</th>' if grid.transposed else ""
        rest = row[1:] if grid.transposed else row
        skip = 1 if grid.transposed else 0
        # a number in a column of text (the assumptions' values) still reads from the right
        cells = "".join(
            f"<td{'' if per_cell[j + skip] and _number(v) else text[j + skip]}>{escape(v)}</td>"
            for j, v in enumerate(rest)
        )
        out.append(f"<tr>{first}{cells}</tr>")
    for row in grid.totals:
        out.append(f'<tr class="total">{"".join(f"<td>{escape(v)}</td>" for v in row)}</tr>')
    out.append("</tbody></table>")
    return "".join(out)


def boq_totals(boq: pd.DataFrame, t: dict, lang: str) -> list:
    """Subtotal per payer, then the total."""
    rows = []
    payers = list(dict.fromkeys(boq["paid_by"]))
    if len(payers) > 1:
        for payer in payers:
            amount = float(boq.loc[boq["paid_by"] == payer, "total_lcu"].sum())
            rows.append(
                (
                    f"{t['subtotal']}, {paid_by(payer, lang)}",
                    {"total_lcu": amount},
                )
            )
    rows.append((t["total"], {"total_lcu": float(boq["total_lcu"].sum())}))
    return rows


def summary_frame(result, ctx: Context) -> pd.DataFrame:
    """The feasibility table turned: one row per figure, one column per scenario."""
    f = result.feasibility.set_index("scenario")
    rows = [c for c in SUMMARY_ROWS if c in f.columns]
    funders = [c for c in f.columns if c.startswith(("funder_", "commitment_"))]
    at = rows.index("financing_gap_eur") if "financing_gap_eur" in rows else len(rows)
    rows[at:at] = funders
    data = {"": [column(c, ctx.lang) for c in rows]}
    for name in f.index:
        data[ctx.labels[name]] = [cell(f.at[name, c], c, ctx.lang) for c in rows]
    return pd.DataFrame(data)


def _capitalized(header: str) -> str:
    """A header with a capital first letter, as every other table's (hydro's name stays as
    it is written).
    """
    header = str(header)
    return header if header.startswith("hydro") else header[:1].upper() + header[1:]


def text_table(frame: pd.DataFrame, table_id: str) -> Markup:
    """A table of text already in the report's language (first column as row headers), its
    columns of equal width across the page; split into parts, each repeating the first
    column, when a column would be narrower than its longest word
    (:func:`hydro.study.layout.equal_columns`).
    """
    # a blank cell reads as "not applicable" (a dash), not as a value left out by mistake
    frame = frame.map(lambda v: NOT_APPLICABLE if v is None or str(v).strip() == "" else v)
    frame.columns = [_capitalized(c) for c in frame.columns]
    html = []
    for k, columns in enumerate(equal_columns([list(frame.columns), *frame.to_numpy().tolist()])):
        part = frame.iloc[:, [0, *columns]]
        out = [f'<table class="data summary" id="table-{escape(table_id)}'
               f'{"" if k == 0 else f"-{k + 1}"}"><thead><tr>']  # fmt: skip
        # a column of numbers reads from the right, under its header; text from the left
        num = [""] + [
            ' class="num"' if _numbers(part.iloc[:, k]) else "" for k in range(1, part.shape[1])
        ]
        out += [f"<th{num[j]}>{escape(c)}</th>" for j, c in enumerate(part.columns)]
        out.append("</tr></thead><tbody>")
        for rec in part.itertuples(index=False):
            # in a column of text (a transposed table), a number alone still reads from the right
            right = ' class="num"'
            cells = "".join(
                f"<td{num[j] or (right if _number(str(v)) else '')}>{escape(v)}</td>"
                for j, v in enumerate(rec)
                if j
            )
            out.append(f"<tr><th>{escape(rec[0])}</th>{cells}</tr>")
        out.append("</tbody></table>")
        html.append("".join(out))
    return Markup("".join(html))


def _number(text: str) -> bool:
    """True when ``text`` is a number as written (a dash is not)."""
    return text != NOT_APPLICABLE and re.fullmatch(NUMBER, text) is not None


def _numbers(values: pd.Series) -> bool:
    """True when every cell is a number as written (``2012``, ``1,696``, ``1\u202f696``,
    ``0,88``, ``54 %``), a dash aside, and there is one.

    >>> _numbers(pd.Series(["2012", "1\u202f696", "\u2013", "0,88"]))
    True
    >>> _numbers(pd.Series(["Oujda 2012", "1,696"]))
    False
    """
    cells = [str(v) for v in values if str(v) != NOT_APPLICABLE]
    return bool(cells) and all(_number(v) for v in cells)


# --------------------------------------------------------------------------- sections
def section_executive(ctx: Context) -> Section:
    """Verdict, people served, cost per person, what the budget buys, main risks."""
    t, lang, study, r = ctx.t, ctx.lang, ctx.study, ctx.result
    s = Section("executive", t["executive"])
    rate = study.money.currency_per_eur.value
    benchmark = study.money.benchmark_per_beneficiary
    low, high = (v / rate for v in benchmark) if benchmark else (float("nan"),) * 2
    line = t["people_line"] if benchmark else t["people_line_alone"]
    label = study.money.benchmark_label
    benchmark_label = label.get(lang) or label.get("en") or t["benchmark_default"]
    items = []
    for f in r.feasibility.to_dict("records"):
        label = ctx.labels[f["scenario"]]
        items.append(t["verdict_line"].format(label=label, verdict=translate(f["verdict"], lang)))
        items.append(
            line.format(
                people=number(f["beneficiaries_opening"], 0, lang),
                year=study.design.base_year,
                people_h=number(f["beneficiaries_design"], 0, lang),
                horizon=study.design.horizon_year,
                capital=number(f["capital_eur"], 0, lang),
                donors=number(f["capital_donors_eur"], 0, lang),
                per=number(f["cost_per_beneficiary_eur"], 0, lang),
                low=number(low, 0, lang),
                high=number(high, 0, lang),
                recovery=number(f["om_recovery_ratio"], 0, lang, percent=True),
                benchmark=benchmark_label,
            )
        )
    phased = recommendation(ctx, s)  # what a donor decides on comes first
    s.p(t["executive_scenarios"])
    s.ul(items)
    b = r.budget
    if b is not None and not phased:  # phased: the recommendation says what the budget buys
        c = chosen_plan(b)
        if c is None:
            cheapest = b.candidates["capital_donors_eur"].min()
            s.p(
                t["budget_none"].format(
                    budget=number(study.money.budget_eur, 0, lang), cost=number(cheapest, 0, lang)
                )
            )
        else:
            whole = complete_people(b)
            s.p(
                t["budget_line_text"].format(
                    budget=number(study.money.budget_eur, 0, lang),
                    people=number(c["people_served"], 0, lang),
                    plan=plan_text(c, ctx),
                    cost=number(c["capital_donors_eur"], 0, lang),
                    complete_people=number(whole, 0, lang),
                    complete=number(c["complete_capital_donors_eur"], 0, lang),
                    phase2=number(c["phase_2_capital_donors_eur"], 0, lang),
                )
            )
            if not c["pressure_class_ok"]:
                s.p(t["budget_class"])
    s.p(t["risks_intro"])
    s.ul(risk_items(ctx))
    return s


def _management(ctx: Context, key: str) -> str:
    """A text of the study's management model in the report's language (or "not stated")."""
    text = ctx.study.prices.economics.get(key) or {}
    return text.get(ctx.lang) or text.get("en") or ctx.t["not_stated"]


def complete_people(budget) -> float:
    """The people of the complete scheme the budget's plans are phases of (at the opening)."""
    return budget.complete.projection_open.totals()["population"] if budget.complete else np.nan


def _amounts(rows: pd.DataFrame, lang: str) -> str:
    """Each funder of ``rows`` (a funding table's) with its amount, in the report's language."""
    return ", ".join(
        f"{r['funder']} EUR {number(r['amount_eur'], 0, lang)}"
        if lang == "en"
        else f"{r['funder']} {number(r['amount_eur'], 0, lang)} EUR"
        for r in rows.assign(funder=rows["funder_fr"] if lang == "fr" else rows["funder"])
        .to_dict("records")
    )  # fmt: skip


def _option_label(study, name: str, lang: str) -> str:
    option = next(o for o in funding_options(study.money) if o.name == name)
    return option.label.get(lang) or option.label.get("en", option.name)


def recommendation(ctx: Context, s: Section) -> bool:
    """The scheme recommended by the stated rule (:mod:`hydro.study.funding`), in two phases
    when it exceeds the budget, with its funding plan, who runs it and covers its O&M deficit,
    the keeper's pay, VAT; its funding table. True when phased.
    """
    t, lang, study = ctx.t, ctx.lang, ctx.study
    rec = recommend(study.money, ctx.result.feasibility)
    if rec is None:
        s.p(t["recommend_none"])
        return False
    f = rec.row
    s.p(
        t["recommend_line"].format(
            label=ctx.labels[rec.scenario],
            people=number(f["beneficiaries_opening"], 0, lang),
            donors=number(f["capital_donors_eur"], 0, lang),
            per=number(f["cost_per_beneficiary_eur"], 0, lang),
            against=t["recommend_within" if rec.within_range else "recommend_above"],
        )
    )
    plan = chosen_plan(ctx.result.budget)
    two = phases_of(study.money, rec, plan)
    if two is None:
        chosen = rec.funding[rec.funding["option"] == rec.option]
        s.p(
            t["recommend_funding"].format(
                option=_option_label(study, rec.option, lang),
                amounts=_amounts(chosen, lang),
                gap=number(float(chosen["uncommitted_eur"].sum()), 0, lang),
            )
        )
    else:
        _phase_lines(ctx, s, plan, two)
    _operation_lines(ctx, s, f)
    funding = rec.funding.copy()
    funding["funder"] = funding["funder_fr"] if lang == "fr" else funding["funder"]
    labels = {o.name: o.label.get(lang) or o.label.get("en", o.name)
              for o in funding_options(study.money)}  # fmt: skip
    funding["option_label"] = funding["option"].map(labels)
    shown = funding[["option_label", "funder", "share", "amount_eur", "commitment_eur",
                     "uncommitted_eur"]]  # fmt: skip
    title = t["funding_title" if two is None else "funding_title_whole"]
    s.table(title, html_table(shown, lang, "funding"))
    return two is not None


def _phase_lines(ctx: Context, s: Section, plan, two) -> None:
    """The two phases of a recommendation over the budget: what each builds and who pays."""
    t, lang, study = ctx.t, ctx.lang, ctx.study
    one, second = two
    whole = complete_people(ctx.result.budget)
    s.p(
        t["recommend_phases"].format(
            budget=number(study.money.budget_eur, 0, lang),
            people=number(plan["people_served"], 0, lang),
            plan=plan_text(plan, ctx),
            cost=number(one.capital_donors_eur, 0, lang),
            rest=number(whole - plan["people_served"], 0, lang),
            phase2=number(second.capital_donors_eur, 0, lang),
            complete=number(plan["complete_capital_donors_eur"], 0, lang),
            total=number(one.capital_donors_eur + second.capital_donors_eur, 0, lang),
            extra=number(
                one.capital_donors_eur
                + second.capital_donors_eur
                - plan["complete_capital_donors_eur"],
                0,
                lang,
            ),  # fmt: skip
        )
    )
    s.p(
        t["recommend_phase_funding"].format(
            option_1=_option_label(study, one.option, lang),
            amounts_1=_amounts(one.funding, lang),
            gap_1=number(float(one.funding["uncommitted_eur"].sum()), 0, lang),
            option_2=_option_label(study, second.option, lang),
            amounts_2=_amounts(second.funding, lang),
        )
    )


def _operation_lines(ctx: Context, s: Section, f: dict) -> None:
    """Who runs the recommended scheme and covers its deficit; the keeper's pay; VAT."""
    t, lang, currency = ctx.t, ctx.lang, currency_of(ctx.study)
    who = {k: _management(ctx, k) for k in ("operator", "bulk_water_from", "deficit_covered_by")}
    deficit = f["om_deficit_lcu_per_year"]
    s.p(
        t["recommend_om" if deficit > 0 else "recommend_om_covered"].format(
            operator=who["operator"],
            seller=who["bulk_water_from"],
            recovery=number(f["om_recovery_ratio"], 0, lang, percent=True),
            deficit=number(deficit, 0, lang),
            currency=currency,
            who=who["deficit_covered_by"],
        )
    )
    if f["keeper_below_minimum_wage"]:
        keepers = int(f["standpipes"])
        topup = 12 * keepers * (f["minimum_wage_lcu_per_month"] - f["keeper_income_lcu_per_month"])
        s.p(
            t["recommend_keeper"].format(
                income=number(f["keeper_income_lcu_per_month"], 0, lang),
                wage=number(f["minimum_wage_lcu_per_month"], 0, lang),
                currency=currency,
                keepers=keepers,
                topup=number(topup, 0, lang),
                total=number(max(deficit, 0) + topup, 0, lang),
                who=who["deficit_covered_by"],
            )
        )
    if np.isfinite(f["vat_works_rate"]):
        s.p(
            t["vat_line"].format(
                rate=number(f["vat_works_rate"], 0, lang, percent=True),
                vat=number(f["vat_on_donors_works_eur"], 0, lang),
            )
        )
    else:
        s.p(t["vat_line_alone"])


def risk_items(ctx: Context) -> list[str]:
    """The widest sensitivity swings with their switch points, the checks that failed, and
    the O&M recovery.
    """
    t, lang, r = ctx.t, ctx.lang, ctx.result
    items = []
    sens = r.sensitivity
    rows = sens[sens["parameter"] != "base"] if "parameter" in sens else None
    spans = []
    for key, part in rows.groupby("parameter", sort=False) if rows is not None else []:
        spans.append(
            (abs(part["capital_donors_eur"].max() - part["capital_donors_eur"].min()), key, part)
        )
    spans.sort(key=lambda x: -x[0])
    base = sens["scenario"].iloc[0] if not sens.empty else None  # the base case comes first
    switch = r.switch_points.set_index("parameter") if not r.switch_points.empty else None
    sep = "\u00a0; " if lang == "fr" else "; "
    for span, key, part in spans[:3]:
        label = translate(part["label"].iloc[0], lang)
        low, high = part["value"].min(), part["value"].max()
        scenario = part["scenario"].iloc[0]
        text = t["risk_param"].format(
            label=label,
            # a parameter varied on another scenario than the base one: that scenario named
            scenario=""
            if scenario == base
            else t["risk_scenario"].format(label=ctx.labels.get(scenario, scenario)),
            low=as_written(low, lang),
            high=as_written(high, lang),
            span=number(span, 0, lang),
        )
        if switch is not None and key in switch.index:
            sw = switch.loc[key]
            if not sw["within_range"]:  # a switch outside the range is no risk
                over = not part["within_budget"].astype(bool).any()
                text += sep + t["risk_no_switch_over" if over else "risk_no_switch_within"]
            elif sw["attainable"]:
                x = sw["switch_value"]
                text += sep + t["risk_switch"].format(
                    label=label,
                    direction=t[sw["fits_budget_when"]],
                    value=number(x, 3 if abs(x) < 1 else (2 if abs(x) < 100 else 0), lang),
                    unit=translate(sw["unit"], lang),
                )
            else:
                text += sep + t["risk_switch_none"].format(label=label)
        items.append(text)
    for o in r.outcomes:
        label = ctx.labels[o.spec.name]
        if o.surge is not None and not o.surge["class_ok"].all():
            items.append(t["risk_class"].format(label=label))
        if o.surge_vessel:
            from hydro.surge import MIN_TRANSIENT_PRESSURE_M

            items.append(t["risk_surge"].format(label=label, limit=MIN_TRANSIENT_PRESSURE_M))
    f = r.feasibility.set_index("scenario")
    study = getattr(ctx, "study", None)  # a context of tables alone has no study file
    rec = recommend(study.money, r.feasibility) if study is not None else None
    # the recommended scheme's recovery (the scheme a donor funds), else the worst scenario's
    worst = rec.scenario if rec is not None else f["om_recovery_ratio"].idxmin()
    if f.at[worst, "om_recovery_ratio"] < 1:
        items.append(
            t["risk_recovery"].format(
                recovery=number(f.at[worst, "om_recovery_ratio"], 0, lang, percent=True),
                label=ctx.labels[worst],
            )
        )
    return items


def serving_text(o, t: dict, lang: str, tank: str) -> str:
    """Which villages the tank serves by gravity and which each booster pumps, in ``t``'s
    words ("Villages X, Y are served by gravity from the tank T; Z is pumped by a booster at
    node N (h m, q l/s, P kW)"); empty when the design has no booster.
    """
    if o.boosters.empty:
        return ""
    sep = "\u00a0; " if lang == "fr" else "; "
    by = o.serving.groupby("served_by", sort=False)["village"].apply(list).to_dict()
    parts = []
    if "gravity" in by:
        names = ", ".join(by["gravity"])
        key = "served_gravity_one" if len(by["gravity"]) == 1 else "served_gravity_many"
        parts.append(t[key].format(names=names, tank=tank))
    for b in o.boosters.to_dict("records"):
        villages = by.get(b["pump"], [])
        if not villages:
            continue
        key = "served_pumped_one" if len(villages) == 1 else "served_pumped_many"
        parts.append(
            t[key].format(
                names=", ".join(villages), node=b["node"], head=number(b["head_m"], 1, lang),
                flow=number(b["flow_l_per_s"], 2, lang), power=number(b["power_kw"], 2, lang),
            )
        )  # fmt: skip
    text = sep.join(parts) + "."
    return text[:1].upper() + text[1:]


def section_scenarios(ctx: Context) -> Section:
    """The scenarios side by side (scenarios as columns), which villages each booster pumps."""
    s = Section("scenarios", ctx.t["scenarios"])
    s.table("", text_table(summary_frame(ctx.result, ctx), "feasibility"))
    s.figure(ctx.t["comparison"], "comparison")
    s.figure(ctx.t["cost_breakdown"], "cost_breakdown")
    colon = "\u00a0: " if ctx.lang == "fr" else ": "
    for o in ctx.result.outcomes:
        text = serving_text(o, ctx.t, ctx.lang, ctx.study.design.tank)
        if text:
            s.p(f"{ctx.labels[o.spec.name]}{colon}{text}")
    notes = [(o.spec.name, n) for o in ctx.result.outcomes for n in o.notes]
    if notes:
        s.p(ctx.t["notes"])
        s.ul(
            [
                f"{ctx.labels[n]} : {translate(x, ctx.lang)}"
                if ctx.lang == "fr"
                else f"{ctx.labels[n]}: {x}"
                for n, x in notes
            ]
        )
    return s


def plan_text(row, ctx: Context) -> str:
    """A plan in the report's language: ``village: level (standpipes kept); ...``."""
    services = {spec.name: spec.service for spec in ctx.study.scenarios}
    colon = "\u00a0: " if ctx.lang == "fr" else ": "
    parts = []
    for village in ctx.villages["village"]:
        level = row.get(f"level_{village}", "")
        if not isinstance(level, str) or not level:
            continue
        kind = "standpipes" if services.get(level) == "standpipes" else "household"
        kept = str(row[f"standpipes_kept_{village}"]).replace(" ", ", ")
        text = ctx.t[f"level_{kind}"]
        parts.append(f"{village}{colon}{text} ({kept})" if kind == "standpipes" else
                     f"{village}{colon}{text}")  # fmt: skip
    return ("\u00a0; " if ctx.lang == "fr" else "; ").join(parts)


def section_budget(ctx: Context) -> Section:
    """What the budget buys: the plans, the cost-people curve, the best plan and phase 2."""
    b = ctx.result.budget
    s = Section("budget", ctx.t["budget"])
    if b is None:
        return s
    lang = ctx.lang
    s.p(
        ctx.t["budget_intro"].format(
            count=number(b.enumerated, 0, lang),
            run=number(len(b.candidates), 0, lang),
            skipped=number(b.skipped, 0, lang),
            reach=number(b.curve_up_to_eur, 0, lang),
        )
    )
    s.figure(ctx.t["budget_curve"], "budget")
    # the curve, and the chosen plan when it is not a point of it (same people as a curve
    # point, more of them on household connections)
    shown = pd.concat([b.curve, b.candidates[b.candidates["chosen"] & ~b.candidates["on_curve"]]])
    shown = shown.sort_values(["capital_donors_eur", "people_served"]).reset_index(drop=True)
    shown.insert(0, "plan_shown", [plan_text(r, ctx) for r in shown.to_dict("records")])
    shown["curve_point"] = [str(v) if pd.notna(v) else "" for v in shown["curve_point"]]
    shown = shown[
        [
            "curve_point",
            "plan_shown",
            "people_served",
            "people_household",
            "capital_donors_eur",
            "cost_per_person_eur",
            "within_budget",
            "compliant",
            "pressure_class_ok",
            "chosen",
            "phase_2_capital_donors_eur",
        ]
    ]
    if not ctx.study.design.pump and shown["pressure_class_ok"].astype(bool).all():
        shown = shown.drop(columns="pressure_class_ok")  # no pump: it says nothing (s5 24a)
    s.table("", html_table(shown, lang, "budget"))
    s.p(ctx.t["budget_phase"])
    return s


def section_calibration(ctx: Context) -> Section | None:
    """The estimate of the documented scheme against its cost, and per person against the
    documented schemes (None when the study has no ``[calibration]``).
    """
    table = getattr(ctx.result, "calibration", pd.DataFrame())
    if table.empty:
        return None
    words = calibration_text(ctx.study, table, ctx.villages, ctx.lang)
    s = Section("calibration", words["title"])
    for paragraph in words["paragraphs"]:
        s.p(paragraph)
    rows = words["rows"]
    s.table("", text_table(pd.DataFrame(rows[1:], columns=rows[0]), "calibration"))
    return s


def section_sensitivity(ctx: Context) -> Section | None:
    """Each parameter over its range: tornado, table and switch points (None when the study
    leaves the sensitivity out).
    """
    if ctx.result.sensitivity.columns.empty:
        return None
    s = Section("sensitivity", ctx.t["sensitivity"])
    s.figure(ctx.t["tornado"], "tornado")
    table = ctx.result.sensitivity.copy()
    table["scenario"] = [ctx.labels[n] for n in table["scenario"]]
    shown = table[
        [
            "label",
            "scenario",
            "end",
            "value",
            "unit",
            "capital_donors_eur",
            "change_from_base",
            "cost_per_beneficiary_eur",
            "om_recovery_ratio",
            "within_budget",
            "compliant",
        ]
    ].rename(columns={"label": "parameter_label"})
    # split on paper, each part keeps the row's parameter, scenario and end of range
    s.table("", html_table(shown, ctx.lang, "sensitivity", keys=3))
    if not ctx.result.switch_points.empty:
        sw = ctx.result.switch_points.copy()
        sw["fits_budget_when"] = [ctx.t.get(v, v) for v in sw["fits_budget_when"]]
        shown = sw[
            [
                "label",
                "switch_value",
                "unit",
                "fits_budget_when",
                "attainable",
                "within_range",
                "exact",
            ]
        ].rename(columns={"label": "parameter_label", "switch_value": "value"})
        s.table(ctx.t["switch_title"], html_table(shown, ctx.lang, "switch_points"))
    return s


def section_villages(ctx: Context) -> Section:
    """Per village: people, standpipes, taps, people per tap, distance."""
    o = ctx.base()
    s = Section("villages", ctx.t["villages"])
    s.p(
        ctx.t["villages_intro"].format(
            label=ctx.labels[o.spec.name], year=ctx.study.design.base_year
        )
    )
    s.table(
        "",
        html_table(
            village_table(o, ctx.villages, ctx.study.design.persons_per_household),
            ctx.lang,
            "villages",
        ),
    )
    return s


def section_figures(ctx: Context) -> Section:
    """Maps, pressure envelopes and tank levels of every scenario."""
    s = Section("figures", ctx.t["figures"])
    for o in ctx.result.outcomes:
        for key in ("map", "pressure", "tank"):
            caption = (
                f"{ctx.labels[o.spec.name]} : "
                if ctx.lang == "fr"
                else f"{ctx.labels[o.spec.name]}: "
            )
            text = ctx.t[key]
            classes = set(o.compliance_design.node_classes.values())
            if key == "pressure" and {"standpipe", "household"} <= classes:  # as its title
                text = fig.WORDS[ctx.lang]["pressure_mixed"]
            s.figure(
                caption + text.format(hours=ctx.study.design.simulation_hours),
                f"{key}_{o.spec.name}",
            )
    return s


def section_rising_main(ctx: Context) -> Section | None:
    """The rising main's profile, pressure class and surge check (None when no scenario has
    a pump).
    """
    if all(o.surge is None or o.surge.empty for o in ctx.result.outcomes):
        return None  # no pump: no rising main to check (the section would say nothing)
    s = Section("rising_main", ctx.t["rising_main"])
    s.p(ctx.t["surge_intro"])
    for o in ctx.result.outcomes:
        if o.surge is None or o.surge.empty:
            continue
        label = ctx.labels[o.spec.name]
        colon = "\u00a0: " if ctx.lang == "fr" else ": "  # French typography
        s.figure(f"{label}{colon}{ctx.t['profile']}", f"profile_{o.spec.name}")
        shown = o.surge.drop(columns=["shutoff_head_m"]).rename(columns={"label": "item"})
        shown["item"] = shown["item"].str.replace("_", " ")
        s.table(label, html_table(shown, ctx.lang, f"surge_{o.spec.name}"))
    return s


def section_pipes(ctx: Context) -> Section:
    """The pipe schedule of the base scenario."""
    o = ctx.base()
    s = Section("pipes", ctx.t["pipes"])
    s.p(ctx.t["pipes_intro"].format(label=ctx.labels[o.spec.name]))
    v = o.compliance_design.violations
    slow = v[v["check"].astype(str).str.startswith("low_velocity")] if not v.empty else v
    if not slow.empty:  # a warning of the checks, said in words (review item 8)
        least = slow.loc[slow["value"].idxmin()]
        s.p(
            ctx.t["pipes_slow"].format(
                count=slow["element"].nunique(),
                pipe=least["element"],
                velocity=number(least["value"], 2, ctx.lang),
                limit=number(least["limit"], 1, ctx.lang),
            )
        )
    s.table("", html_table(pipe_table(o), ctx.lang, "pipes"))
    return s


def section_boq(ctx: Context) -> Section:
    """Bills of quantities with their totals."""
    s = Section("boq", ctx.t["costs"])
    for o in ctx.result.outcomes:
        s.table(
            ctx.labels[o.spec.name],
            html_table(o.boq, ctx.lang, f"boq_{o.spec.name}", boq_totals(o.boq, ctx.t, ctx.lang)),
        )
    return s


def section_operation(ctx: Context) -> Section:
    """Storage, main and any pump in operation (its heading names a pump only where there is
    one: a gravity main is a transmission main, "adduction" in French).
    """
    op = ctx.result.operation.copy()
    pumped = "pump" in op and op["pump"].notna().any()
    s = Section("operation", ctx.t["operation" if pumped else "operation_gravity"])
    op["scenario"] = [ctx.labels[n] for n in op["scenario"]]
    keep = [c for c in op.columns if c not in ("storage_rule", "pump_rule", "pump_source", "main")]
    s.table("", html_table(op[keep], ctx.lang, "operation"))
    return s


def section_stress(ctx: Context) -> Section | None:
    """The stress cases: water delivered per village (None when the study leaves them out)."""
    if ctx.result.stress.columns.empty:
        return None
    s = Section("stress", ctx.t["stress"])
    # the pump-off case exists only with a pump (hydro.study.stress)
    pumped = (ctx.result.stress["case"] == "pump out of service").any()
    st = ctx.result.stress.copy()
    if (st["delivered_share"] >= 0.999).all():  # nothing to report: one sentence
        worst = st.loc[st["lowest_pressure_m"].idxmin()]
        s.p(
            ctx.t["stress_all_served"].format(
                cases=", ".join(translate(str(c), ctx.lang) for c in st["case"].unique()),
                pressure=number(worst["lowest_pressure_m"], 1, ctx.lang),
                case=translate(str(worst["case"]), ctx.lang),
                village_name=worst["village"],
            )
        )
        return s
    s.figure(ctx.t["stress_fig"], "stress")
    s.p(ctx.t["stress_intro" if pumped else "stress_intro_gravity"])
    st["scenario"] = [ctx.labels[n] for n in st["scenario"]]
    keep = [
        "case",
        "village",
        "allowance_l_per_person_day",
        "delivered_l_per_person_day",
        "delivered_share",
        "lowest_pressure_m",
    ]
    s.table("", html_table(st[[c for c in keep if c in st]], ctx.lang, "stress"))
    return s


def section_donor(ctx: Context) -> Section | None:
    """The sections a donor file carries, from the study file where it gives them; an item
    the study file leaves out is left out (a donor's document has no "to be completed").
    """
    t, lang = ctx.t, ctx.lang
    defaults = {"risks": t["default_risks"], "indicators": t["default_indicators"]}
    colon = "\u00a0:" if lang == "fr" else ":"  # French typography: no-break space before
    items = []
    for key in ("context", "authorisation", "management", "schedule", "risks", "indicators"):
        text = ctx.study.report.text.get(key, {})
        body = text.get(lang) or text.get("en") or defaults.get(key)
        if body:
            items.append(f"{t[key]}{colon} {body}")
    if not items:
        return None
    s = Section("donor", t["donor"])
    s.ul(items)
    return s


def section_taps(ctx: Context) -> Section | None:
    """Random tap opening (:mod:`hydro.taps`) on each scenario that ran draws."""
    runs = [(o, o.taps) for o in ctx.result.outcomes if getattr(o, "taps", None) is not None]
    if not runs:
        return None
    t, spec = ctx.t, ctx.study.taps
    s = Section("taps", t["taps"])
    s.p(
        t["taps_intro"].format(
            draws=number(spec.draws, 0, ctx.lang),
            useful=number(spec.useful_share, 0, ctx.lang, percent=True),
        )
    )
    worst_columns = ["node", "tap", "village", "open_draws", "p5_l_per_s", "p50_l_per_s",
                     "share_under_useful"]  # fmt: skip
    colon = "\u00a0: " if ctx.lang == "fr" else ": "  # French typography
    if all((run.taps["share_under_useful"] <= 0).all() for _, run in runs):
        taps = pd.concat([run.taps for _, run in runs])
        s.p(t["taps_none_all"].format(p5=number(taps["p5_l_per_s"].min(), 2, ctx.lang)))
        return s
    s.p(t["taps_tables"])
    for o, run in runs:
        label, name = ctx.labels[o.spec.name], o.spec.name
        starved = run.taps[run.taps["share_under_useful"] > 0]
        if starved.empty:  # one sentence, not a table of identical rows
            s.p(
                t["taps_none"].format(
                    label=label,
                    p5=number(run.taps["p5_l_per_s"].min(), 2, ctx.lang),
                    flow=number(run.taps["tap_flow_l_per_s"].max(), 2, ctx.lang),
                )
            )
            continue
        s.table(
            label + colon + t["taps_villages"], html_table(run.villages, ctx.lang, f"taps_{name}")
        )
        worst = run.worst(10)
        s.table(
            label + colon + t["taps_worst"],
            html_table(worst[worst["share_under_useful"] > 0][worst_columns], ctx.lang,
                       f"taps_worst_{name}"),
        )  # fmt: skip
        s.figure(label + colon + t["taps_figure"], f"taps_{name}")
    return s


def taps_open_frame(ctx: Context) -> pd.DataFrame:
    """One row per scenario: its governing tap with all taps open
    (:func:`hydro.taps.all_taps_open`) and how many tap nodes are below the minimum.
    """
    rows = []
    for o in ctx.result.outcomes:
        table = ctx.result.taps_open.get(o.spec.name)
        if table is None or table.empty:
            continue
        first = table.iloc[0]  # the governing tap: least margin first
        rows.append({
            "scenario": ctx.labels[o.spec.name],
            "governing_tap": first["node"],
            "village": first["village"],
            "tap_class": tap_class(first["class"], ctx.lang),
            "flow_l_per_s": first["flow_l_per_s"],
            "junction_pressure_m": first["junction_pressure_m"],
            "local_loss_m": first["local_loss_m"],
            "tap_pressure_m": first["tap_pressure_m"],
            "tap_min_pressure_m": first["tap_min_pressure_m"],
            "margin_m": first["margin_m"],
            "taps_below": int((~(table["margin_m"] >= 0)).sum()),
        })  # fmt: skip
    return pd.DataFrame(rows)


def section_taps_open(ctx: Context) -> Section | None:
    """The all-taps-open case of each scenario: its governing tap (None when no scenario has
    a tap node or the study leaves the step out).
    """
    frame = taps_open_frame(ctx)
    if frame.empty:
        return None
    t, lang = ctx.t, ctx.lang
    least = number(float(frame["tap_min_pressure_m"].min()), 1, lang)
    s = Section("taps_open", t["taps_open"])
    s.p(t["taps_open_intro"].format(min=least))
    s.table("", html_table(frame, lang, "taps_open"))
    low = frame[frame["taps_below"] > 0]
    if low.empty:
        s.p(t["taps_open_ok"].format(min=least))
    for r in low.to_dict("records"):
        s.p(t["taps_open_low"].format(label=r["scenario"], count=r["taps_below"],
                                      min=number(r["tap_min_pressure_m"], 1, lang)))  # fmt: skip
    return s


#: Settings of the computation, not assumptions of the design: in the workbook and
#: assumptions.csv, not in the donors' page.
COMPUTING_SETTINGS = ("looped_time_limit_s",)


def section_assumptions(ctx: Context) -> Section:
    """Every assumption with its value, unit and source, after what the source tags mean."""
    s = Section("assumptions", ctx.t["assumptions"])
    s.p(ctx.t["assumptions_tags"])
    table = ctx.result.assumptions
    table = table[~table["parameter"].isin(COMPUTING_SETTINGS)]
    s.table("", html_table(assumptions_in(table, ctx.lang), ctx.lang, "assumptions",
                           numbers_right=("value",)))  # fmt: skip
    return s


#: The page, in order. Each function takes the :class:`Context` and returns a :class:`Section`.
SECTIONS = [
    section_executive,
    section_scenarios,
    section_budget,
    section_calibration,
    section_sensitivity,
    section_villages,
    section_figures,
    section_rising_main,
    section_pipes,
    section_boq,
    section_operation,
    section_stress,
    section_taps,
    section_taps_open,
    section_donor,
    section_assumptions,
]


# --------------------------------------------------------------------------- writing
def draw_figures(result, lang: str, labels: dict) -> dict:
    """Every figure of the study, PNG bytes by name."""
    t = texts(lang)
    study = result.study
    hours = study.design.simulation_hours
    pngs = {}
    lows = [float(o.compliance_design.results.pressure.min().min()) for o in result.outcomes]
    highs = [float(o.compliance_design.results.pressure.max().max()) for o in result.outcomes]
    lowest = [o.compliance_design.results.pressure.min() for o in result.outcomes]
    scale = (
        (
            max(min(float(s.min()) for s in lowest), 0.0),
            max(float(s.quantile(0.9)) for s in lowest),
        )
        if lows and highs
        else None
    )
    for o in result.outcomes:
        name, title = o.spec.name, labels[o.spec.name]
        pngs[f"map_{name}"] = fig.figure_map(o, t, hours, title, scale, lang)
        pngs[f"pressure_{name}"] = fig.figure_pressure(o, study.rules, t, hours, title)
        pngs[f"tank_{name}"] = fig.figure_tank(
            o, study.design.tank, t, hours, study.rules.tank_reserve_share, title
        )
        if o.surge is not None and not o.surge.empty:
            pngs[f"profile_{name}"] = fig.figure_profile(o, study.design.pump, t, lang, title)
    rate = study.money.currency_per_eur.value
    pngs["cost_breakdown"] = fig.figure_costs(result.outcomes, rate, t, lang, labels)
    pngs["comparison"] = fig.figure_comparison(
        result.feasibility, study.money.budget_eur, t, lang, labels
    )
    for o in result.outcomes:
        if getattr(o, "taps", None) is not None:
            buffer = io.BytesIO()
            title = f"{labels[o.spec.name]}\n{t['taps_figure']}"
            plot_taps(o.taps, buffer, title=title, words=TAP_WORDS[lang])
            pngs[f"taps_{o.spec.name}"] = buffer.getvalue()
    if not result.stress.columns.empty:  # a step the study may leave out
        base = result.base()
        pngs["stress"] = fig.figure_stress(result.stress, t, lang, labels[base.spec.name])
    if not result.sensitivity.columns.empty:
        pngs["tornado"] = fig.figure_tornado(result.sensitivity, study.money.budget_eur, t, lang)
    if result.budget is not None:
        pngs["budget"] = fig.figure_budget(
            result.budget.candidates, study.money.budget_eur, t, lang
        )
    return pngs


def scenario_labels(study, lang: str) -> dict:
    """Scenario name -> its label in the report's language."""
    return {s.name: (s.label_fr or s.label) if lang == "fr" else s.label for s in study.scenarios}


@dataclass
class _Folder:
    """The output folder being filled, and every file written into it."""

    path: Path
    written: list = field(default_factory=list)
    #: the study's currency: the token ``lcu`` of a column name becomes its code (capital_mad)
    currency: str = "lcu"

    def save(self, name: str, data: bytes | str) -> Path:
        """Write bytes or text (UTF-8) as ``name``."""
        path = self.path / name
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
        self.written.append(path)
        return path

    def csv(self, name: str, frame: pd.DataFrame) -> None:
        """Write a table (formula-like text neutralised, 10 significant digits), its money
        columns named in the study's currency (:func:`currency_columns`).
        """
        frame = currency_columns(frame, self.currency)
        write_csv(frame, self.path / name, index=False, float_format="%.10g")
        self.written.append(self.path / name)


def booster_csv(boosters: pd.DataFrame) -> pd.DataFrame:
    """The boosters' table as written: money columns named in the study's currency, the
    junctions each serves as one text.
    """
    return boosters.assign(serves=boosters["serves"].map(" ".join)).rename(
        columns={"capital": "capital_lcu", "energy_cost_per_year": "energy_lcu_per_year",
                 "whole_life_cost": "whole_life_cost_lcu"}
    )  # fmt: skip


def write_tables(result, out: _Folder, villages: pd.DataFrame) -> None:
    """Every table (machine column names, English values) and every written design."""
    study = result.study
    for name, frame in {
        "feasibility": result.feasibility,
        "sensitivity": result.sensitivity,
        "switch_points": result.switch_points,
        "assumptions": result.assumptions,
        "stress": result.stress,
        "operation": result.operation,
        "calibration": getattr(result, "calibration", pd.DataFrame()),
    }.items():
        if not frame.columns.empty:  # empty: the study leaves its step out (Study.steps)
            out.csv(f"{name}.csv", frame)
    recommended = recommend(study.money, result.feasibility)
    if recommended is not None:  # the recommended scheme's capital by funding option, phased
        plan = funding_plan(study.money, recommended, chosen_plan(result.budget))
        out.csv("funding.csv", plan.assign(scenario=recommended.scenario))
    if result.budget is not None:
        out.csv("budget.csv", result.budget.curve)
        out.csv("budget_candidates.csv", result.budget.candidates)
        if result.budget.best is not None:
            out.save("sized_budget.inp", result.budget.best.inp_text)
    base = result.base()
    out.csv("villages.csv", village_table(base, villages, study.design.persons_per_household))
    out.csv("pipes.csv", pipe_table(base))
    for o in result.outcomes:
        out.csv(f"boq_{o.spec.name}.csv", o.boq)
        out.save(f"sized_{o.spec.name}.inp", o.inp_text)
        out.csv(
            f"violations_{o.spec.name}.csv",
            pd.concat(
                [
                    o.compliance_design.violations.assign(year=study.design.horizon_year),
                    o.compliance_open.violations.assign(year=study.design.base_year),
                ]
            ),
        )
        out.csv(f"service_{o.spec.name}.csv", o.service.villages)
        if not o.boosters.empty:  # the boosters the sizing placed, and whom each serves
            out.csv(f"boosters_{o.spec.name}.csv", booster_csv(o.boosters))
            out.csv(f"served_{o.spec.name}.csv", o.serving)
        if o.surge is not None:
            out.csv(f"surge_{o.spec.name}.csv", o.surge)
        if o.spec.name in getattr(result, "taps_open", {}):
            out.csv(f"taps_open_{o.spec.name}.csv", result.taps_open[o.spec.name])
        if getattr(o, "taps", None) is not None:
            out.csv(f"taps_{o.spec.name}.csv", o.taps.taps)
            out.csv(f"taps_villages_{o.spec.name}.csv", o.taps.villages)


def french_punctuation(text):
    """French typography: a no-break space before ``:``, ``;``, ``!`` and ``?`` (a plain space
    before one becomes a no-break space, none gets one), so that no line starts with it. In
    HTML (``Markup``: a table) only a space already there is replaced (``&#39;`` is safe).

    >>> french_punctuation("documentés : 1 696 MAD ; 80 %; élémentaire") == (
    ...     "documentés\u00a0: 1 696 MAD\u00a0; 80 %\u00a0; élémentaire")
    True
    >>> french_punctuation("à 12:00, https://a.b") == "à 12:00, https://a.b"
    True
    """
    if isinstance(text, Markup):
        return Markup(re.sub(r" ([:;!?])(?=[\s<])", "\u00a0\\1", str(text)))
    return re.sub(r"(?<=[^\s\u00a0\u202f]) ?([:;!?])(?=\s|$)", "\u00a0\\1", text)


def french_spacing(section: Section) -> Section:
    """The section with :func:`french_punctuation` in its title, paragraphs, lists and
    captions, and in its tables' cells.
    """
    blocks = []
    for b in section.blocks:
        if b[0] == "p":
            blocks.append(("p", french_punctuation(b[1])))
        elif b[0] == "ul":
            blocks.append(("ul", [french_punctuation(i) for i in b[1]]))
        elif b[0] == "table":
            blocks.append(("table", french_punctuation(b[1]), french_punctuation(b[2])))
        else:  # a figure: its caption (its data has no space)
            blocks.append((b[0], french_punctuation(b[1]), b[2]))
    return Section(section.id, french_punctuation(section.title), blocks)


def render_page(ctx: Context) -> str:
    """report.html: every section with something to show, figures embedded."""
    study, t, pngs = ctx.study, ctx.t, ctx.pngs
    sections = []
    for build in SECTIONS:
        section = build(ctx)
        if section is None:  # nothing to show (e.g. no random tap opening)
            continue
        section.blocks = [
            ("figure", b[1], base64.b64encode(pngs[b[2]]).decode()) if b[0] == "figure" else b
            for b in section.blocks
            if b[0] != "figure" or b[2] in pngs
        ]
        if ctx.lang == "fr":
            section = french_spacing(section)
        sections.append(section)
    env = Environment(loader=PackageLoader("hydro.study", "templates"), autoescape=True)
    title = study.report.title
    delivered = SOURCES_DOCUMENT.is_file()  # write_all puts it beside the report
    checked = t["checked"].format(
        hours=study.design.simulation_hours,
        sources=t["sources_delivered" if delivered else "sources_repository"],
    )
    if ctx.lang == "fr":
        title = french_punctuation(study.report.title_fr or title)
        checked = french_punctuation(checked)
    page = env.get_template("report.html.j2").render(
        lang=ctx.lang, t=t, title=title, version=__version__, checked=checked, sections=sections
    )
    # the citations name the sources document delivered beside the report (write_all)
    return cited(page)


def write_all(result, folder: Path, lang: str, log=lambda m: None) -> list[Path]:
    """Every output of a study into ``folder`` (the caller publishes it): the tables and
    designs, the figures, report.xlsx and report.html.
    """
    study = result.study
    with using_currency(currency_of(study)), using_village_word(study.report.village_word):
        return _write_all(result, folder, lang, log)


def _write_all(result, folder: Path, lang: str, log) -> list[Path]:
    """:func:`write_all`, its columns labelled in the study's currency and word for a
    village.
    """
    study = result.study
    out = _Folder(Path(folder), currency=currency_of(study))
    data = getattr(result, "data", None)
    villages = data.villages if data is not None else read_villages(study.inputs.villages)
    write_tables(result, out, villages)
    log("drawing figures")
    labels = scenario_labels(study, lang)
    pngs = draw_figures(result, lang, labels)
    for name, png in pngs.items():
        out.save(f"{name}.png", png)
    log("writing report.xlsx")
    out.written.append(write_workbook(result, out.path / "report.xlsx", lang, labels))
    log(f"writing report.html ({lang})")
    ctx = Context(result=result, lang=lang, t=texts(lang), labels=labels, pngs=pngs,
                  villages=villages)  # fmt: skip
    if SOURCES_DOCUMENT.is_file():  # the document the report cites, beside it
        out.save(SOURCES_NAME, SOURCES_DOCUMENT.read_text(encoding="utf-8"))
    out.save("report.html", render_page(ctx))
    return out.written
