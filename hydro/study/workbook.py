"""``report.xlsx``: one formatted sheet per table.

Headers are the report's labels with units, frozen; columns are sized to their content;
numbers carry number formats; bills of quantities end with totals written as formulas. Every
text cell is written as text, never as a formula (a village named ``=HYPERLINK(...)`` stays that
text), and sheet names are unique and readable whatever the scenario names.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from hydro.study.labels import (
    SHEETS_FR,
    TEXT,
    TRANSLATED_COLUMNS,
    Verbatim,
    assumptions_in,
    column,
    tap_class,
    translate,
)

#: Characters Excel refuses in a sheet name, and its length limit.
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_MAX = 31
#: A number as :func:`numbers_as_numbers` turns it from text (no leading zero, no exponent).
_PLAIN_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?")


def sheet_name(name: str, used: set[str]) -> str:
    """A valid sheet name, unique in ``used`` (compared without case, as Excel does).

    >>> used = set()
    >>> sheet_name("boq_" + "a" * 40 + "_one", used), sheet_name("boq_" + "a" * 40 + "_two", used)
    ('boq_aaaaaaaaaaaaaaaaaaaaaaaaaaa', 'boq_aaaaaaaaaaaaaaaaaaaaaaa (2)')
    >>> sheet_name("a/b: c?", used)
    'a-b- c'
    >>> sheet_name("devis Branchements individuels (part de chaque village)", used)
    'devis Branchements individuels'
    """
    base = _BAD_SHEET.sub("-", str(name)).strip("'").strip() or "sheet"
    candidate = base[:SHEET_NAME_MAX].rstrip(" ,;-")  # no name cut after a comma or a space
    k = 1
    while candidate.lower() in used:
        k += 1
        suffix = f" ({k})"
        candidate = base[: SHEET_NAME_MAX - len(suffix)] + suffix
    used.add(candidate.lower())
    return candidate


def number_format(name: str) -> str:
    """Excel number format of a column, from its name."""
    if name in (
        "share_within_500_m",
        "compliance_share",
        "headroom_share",
        "change_from_base",
        "delivered_share",
        "om_recovery_ratio",
    ):
        return "0.0%"
    if name.endswith(("_lcu", "_eur", "_per_year")) or name in ("people_served", "population"):
        return "#,##0"
    if name == "pump_efficiency" or name.endswith(("_per_s", "_per_m3")):
        return "0.00"
    return "#,##0.0##"


def _write_sheet(
    wb: Workbook, title: str, frame: pd.DataFrame, lang: str, used: set, total_of=None
) -> None:
    if frame.columns.empty:  # a table whose step the study leaves out (Study.steps)
        return
    frame = numbers_as_numbers(frame)
    ws = wb.create_sheet(sheet_name(title, used))
    header_fill = PatternFill("solid", fgColor="DDE4EE")
    for j, name in enumerate(frame.columns, start=1):
        c = ws.cell(row=1, column=j, value=column(name, lang))
        c.data_type = "s"
        c.font = Font(bold=True)
        c.fill = header_fill
        c.alignment = Alignment(wrap_text=True, vertical="top")
    widths = [min(max(len(column(n, lang)) * 0.6, 8), 30) for n in frame.columns]
    for i, rec in enumerate(frame.itertuples(index=False), start=2):
        for j, (name, value) in enumerate(zip(frame.columns, rec, strict=True), start=1):
            c = ws.cell(row=i, column=j)
            if name == "value" and isinstance(value, str) and not isinstance(value, Verbatim):
                # the assumptions keep numbers as text
                try:
                    value = float(value)
                except ValueError:
                    pass
            if isinstance(value, bool | np.bool_):
                c.value = TEXT[lang]["yes"] if value else TEXT[lang]["no"]
                c.data_type = "s"
            elif isinstance(value, Verbatim) and value.isdigit():  # a year
                c.value = int(value)
                c.number_format = "0"
            elif isinstance(value, int | float | np.integer | np.floating):
                if math.isfinite(float(value)):
                    c.value = float(value) if isinstance(value, float | np.floating) else int(value)
                    whole = isinstance(value, int | np.integer) or name.endswith(
                        ("_year", "year", "_mm", "_bar", "standpipes", "connections", "taps")
                    )
                    # whole numbers (years, counts, DN, PN) without separators or decimals
                    c.number_format = (
                        "0"
                        if whole and "year" in name
                        else ("#,##0" if whole else number_format(name))
                    )
            elif value is not None and not (pd.api.types.is_scalar(value) and pd.isna(value)):
                text = translate(str(value), lang) if name in TRANSLATED_COLUMNS else str(value)
                c.value = text
                c.data_type = "s"  # text, never a formula, whatever it starts with
                widths[j - 1] = max(widths[j - 1], min(len(text), 60))
            if c.data_type == "n" and c.value is not None:
                widths[j - 1] = max(widths[j - 1], 12)
    if total_of is not None and len(frame):
        row = len(frame) + 2
        c = ws.cell(row=row, column=1, value=TEXT[lang]["total"])
        c.data_type = "s"
        c.font = Font(bold=True)
        j = list(frame.columns).index(total_of) + 1
        letter = get_column_letter(j)
        c = ws.cell(row=row, column=j, value=f"=SUM({letter}2:{letter}{row - 1})")
        c.number_format = "#,##0"
        c.font = Font(bold=True)
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = width + 2
    ws.freeze_panes = "B2"
    # a filter on every column's header (over the rows of the table, not its total)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{len(frame) + 1}"


def numbers_as_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with each column of numbers written as text (``"1"``) turned into numbers.

    >>> out = numbers_as_numbers(pd.DataFrame({"phase": ["1", "2"], "village": ["1a", "2"]}))
    >>> [pd.api.types.is_numeric_dtype(t) for t in out.dtypes]
    [True, False]
    """
    out = frame.copy()
    for name in out.columns:
        values = out[name]
        given = values.dropna()
        if (
            given.empty
            or pd.api.types.is_numeric_dtype(values)
            or not all(isinstance(v, str) for v in given)
        ):
            continue
        if any(isinstance(v, Verbatim) for v in given):
            continue
        # plain numbers only: a name such as "007" or "1e3" stays text
        if all(_PLAIN_NUMBER.fullmatch(v) for v in given):
            out[name] = pd.to_numeric(values, errors="coerce")
    return out


def sheet_title(name: str, lang: str, labels: dict | None = None) -> str:
    """A sheet's title in the report's language: the table's name in English; in French from
    :data:`SHEETS_FR`, a scenario's sheet (``boq_NAME``) by its prefix and the scenario's label.

    >>> sheet_title("boq_standpipes", "fr", {"standpipes": "Bornes-fontaines seules"})
    'devis Bornes-fontaines seules'
    >>> sheet_title("sensitivity", "fr"), sheet_title("sensitivity", "en")
    ('sensibilité', 'sensitivity')
    """
    if lang != "fr":
        return name
    if name in SHEETS_FR:
        return SHEETS_FR[name]
    for prefix, french in SHEETS_FR.items():
        if prefix.endswith("_") and name.startswith(prefix):
            scenario = name[len(prefix) :]
            return french + (labels or {}).get(scenario, scenario)
    return name


def write_workbook(result, path: Path, lang: str, labels: dict) -> Path:
    """Every table of the study in one formatted workbook (sheet names in its language)."""
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = set()

    def sheet(name: str, frame: pd.DataFrame, total_of=None) -> None:
        _write_sheet(wb, sheet_title(name, lang, labels), frame, lang, used, total_of)

    feasibility = result.feasibility.copy()
    feasibility["label"] = [labels[n] for n in feasibility["scenario"]]
    sheet("feasibility", feasibility)
    for o in result.outcomes:
        sheet(f"boq_{o.spec.name}", o.boq, total_of="total_lcu")
    if result.budget is not None:
        sheet("budget", result.budget.curve)
        sheet("budget_candidates", result.budget.candidates)
    sheet("operation", result.operation)
    sheet("sensitivity", result.sensitivity)
    sheet("switch_points", result.switch_points)
    for o in result.outcomes:
        if o.surge is not None and not o.surge.empty:
            sheet(f"surge_{o.spec.name}", o.surge)
    sheet("stress", result.stress)
    sheet("calibration", getattr(result, "calibration", pd.DataFrame()))
    opened = [
        table.assign(
            scenario=labels[name], **{"class": [tap_class(c, lang) for c in table["class"]]}
        )
        for name, table in getattr(result, "taps_open", {}).items()
        if not table.empty
    ]
    if opened:
        opened = pd.concat(opened).rename(columns={"class": "tap_class"})
        sheet("taps_open", opened[["scenario", *opened.columns.drop("scenario")]])
    sheet("assumptions", assumptions_in(result.assumptions, lang))
    wb.save(path)
    return Path(path)
