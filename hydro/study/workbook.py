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

from hydro.demand import read_villages
from hydro.study.calibration import calibration_of
from hydro.study.funding import chosen_plan, funding_options, funding_plan, recommend
from hydro.study.labels import (
    SHEET_CONTENTS,
    SHEETS,
    TEXT,
    TRANSLATED_COLUMNS,
    Verbatim,
    assumptions_in,
    column,
    french_typography,
    level_words,
    plan_words,
    tap_class,
    translate,
    village_words,
)
from hydro.study.tables import cited, pipe_table, village_table

#: Characters Excel refuses in a sheet name, and its length limit.
_BAD_SHEET = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_MAX = 31
#: A number as :func:`numbers_as_numbers` turns it from text (no leading zero, no exponent).
_PLAIN_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?")


#: Words a shortened sheet name does not end on (English and French).
_SMALL_WORDS = {"a", "an", "the", "and", "or", "of", "for", "to", "in", "on", "with", "by", "at",
                "de", "des", "du", "la", "le", "les", "et", "ou", "pour", "à", "au",
                "aux", "en", "sur", "par", "avec", "d'un", "d'une"}  # fmt: skip


#: What ends a shortened name (one character).
ELLIPSIS = "\u2026"


def shorten(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters: when longer, cut between words (never after a
    small word or a punctuation mark) and ended by an ellipsis, so that a reader sees it goes
    on; cut within a word only when its first words leave nothing to keep.

    >>> shorten("BoQ - Standpipes now, pipes for future connections", 31)
    'BoQ - Standpipes now, pipes…'
    >>> shorten("devis Bornes-fontaines maintenant, conduites", 31)
    'devis Bornes-fontaines…'
    >>> shorten("BoQ - standpipes_pipes_for_connections", 31)
    'BoQ - standpipes_pipes_for_con…'
    """
    if len(text) <= limit:
        return text
    kept: list[str] = []
    for word in text.split(" "):  # the words that fit with the ellipsis
        if len(" ".join([*kept, word]).rstrip(" ,;:-")) > limit - 1:
            break
        kept.append(word)
    while kept and (not kept[-1].strip(",;:-") or kept[-1].strip(",;:").lower() in _SMALL_WORDS):
        kept.pop()
    short = " ".join(kept).rstrip(" ,;:-")
    if len(short) < limit // 2:  # a word as long as the name: cut it, as nothing else can be
        short = text[: limit - 1].rstrip(" ,;:-")
    return short + ELLIPSIS


def sheet_name(name: str, used: set[str]) -> str:
    """A valid sheet name, unique in ``used`` (compared without case, as Excel does), shortened
    between words (:func:`shorten`).

    >>> used = set()
    >>> sheet_name("BoQ - Standpipes only, phase one", used), sheet_name("BoQ - Standpipes only, "
    ...                                                                  "phase two", used)
    ('BoQ - Standpipes only, phase…', 'BoQ - Standpipes only… (2)')
    >>> sheet_name("a/b: c?", used)
    'a-b- c'
    >>> sheet_name("devis Branchements individuels (part de chaque village)", used)
    'devis Branchements individuels…'
    """
    base = _BAD_SHEET.sub("-", str(name)).strip("'").strip() or "sheet"
    candidate = shorten(base, SHEET_NAME_MAX).rstrip(" ,;:-") or "sheet"
    k = 1
    while candidate.lower() in used:
        k += 1
        suffix = f" ({k})"
        candidate = shorten(base, SHEET_NAME_MAX - len(suffix)) + suffix
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
        "share",  # a funder's share of the capital
    ):
        return "0.0%"
    if name.endswith(("_lcu", "_eur", "_per_year")) or name in ("people_served", "population"):
        return "#,##0"
    if name == "pump_efficiency" or name.endswith(("_per_s", "_per_m3")):
        return "0.00"
    return "#,##0.0##"


def _write_sheet(
    wb: Workbook, title: str, frame: pd.DataFrame, lang: str, used: set, total_of=None
) -> str | None:
    """Write ``frame`` as a sheet named after ``title`` (its name returned; None and no
    sheet when the table has no column).
    """
    if frame.columns.empty:  # a table whose step the study leaves out (Study.steps)
        return None
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
                text = cited(text)  # the sources document as delivered beside the workbook
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
    return ws.title


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
    """A sheet's title in the report's language (:data:`SHEETS`); a scenario's sheet
    (``boq_NAME``) by its prefix and the scenario's label (:func:`sheet_name` shortens it).

    >>> sheet_title("boq_standpipes", "fr", {"standpipes": "Bornes-fontaines seules"})
    'devis Bornes-fontaines seules'
    >>> sheet_title("sensitivity", "fr"), sheet_title("switch_points", "en")
    ('sensibilité', 'Switch points')
    """
    french = lang == "fr"
    if name in SHEETS:
        return village_words(SHEETS[name][french], lang)
    for prefix, words in SHEETS.items():
        if prefix.endswith("_") and name.startswith(prefix):
            scenario = name[len(prefix) :]
            return words[french] + (labels or {}).get(scenario, scenario)
    return name


def sheet_contents(name: str, lang: str, labels: dict | None = None, label: str = "") -> str:
    """What a sheet holds, in words, for the contents sheet (:data:`SHEET_CONTENTS`).

    >>> sheet_contents("boq_standpipes", "en", {"standpipes": "Standpipes only"})
    'Bill of quantities: Standpipes only'
    """
    french = lang == "fr"
    for key, words in SHEET_CONTENTS.items():
        if name == key or (key.endswith("_") and name.startswith(key)):
            scenario = label or (labels or {}).get(name[len(key) :], name[len(key) :])
            text = village_words(words[french], lang).format(label=scenario)
            return french_typography(text) if french else text
    return name


def _scenarios_in_words(frame: pd.DataFrame, labels: dict) -> pd.DataFrame:
    """The table with its ``scenario`` column in the scenarios' labels."""
    if "scenario" not in frame:
        return frame
    return frame.assign(scenario=[labels.get(n, n) for n in frame["scenario"]])


#: The storage rule's last clause (hydro.storage.Storage.describe): the rule of thumb.
_RULE_OF_THUMB = re.compile(r"; brief rule of thumb .*$")


def _operation_in_words(frame: pd.DataFrame, labels: dict) -> pd.DataFrame:
    """The operation table with its scenarios' labels and each storage rule's rule of thumb
    said only where it holds (a value in ``brief_rule_m3``: a pumped or intermittent main),
    as a rule of thumb (not "brief").
    """
    out = _scenarios_in_words(frame, labels)
    if "storage_rule" not in out or "brief_rule_m3" not in out:
        return out
    out["storage_rule"] = [
        text if not isinstance(text, str) else
        _RULE_OF_THUMB.sub("", text) if pd.isna(rule) else
        text.replace("brief rule of thumb", "rule of thumb")
        for text, rule in zip(out["storage_rule"], out["brief_rule_m3"], strict=True)
    ]  # fmt: skip
    return out


def _parameters_in_words(frame: pd.DataFrame) -> pd.DataFrame:
    """A sensitivity table with its parameters in words only (its ``label``; the CSV keeps
    the keys).
    """
    if "label" not in frame:
        return frame
    return frame.drop(columns="parameter").rename(columns={"label": "parameter_label"})


def _surge_in_words(frame: pd.DataFrame) -> pd.DataFrame:
    """A rising main's table with each pipe's catalogue entry as the bills write it."""
    if "label" not in frame:
        return frame
    items = [v.replace("_", " ") if isinstance(v, str) else v for v in frame["label"]]
    return frame.assign(label=items).rename(columns={"label": "item"})


def _plans_in_words(frame: pd.DataFrame, services: dict, lang: str) -> pd.DataFrame:
    """A budget table with its plans and each village's level in words (:func:`plan_words`)."""
    out = frame.copy()
    if "plan" in out:
        out["plan"] = [plan_words(r, services, lang) for r in frame.to_dict("records")]
    for name in [c for c in out.columns if c.startswith("level_")]:
        out[name] = [level_words(v, services, lang) if isinstance(v, str) and v else v
                     for v in out[name]]  # fmt: skip
    return out


def _villages_of(result) -> pd.DataFrame:
    """The study's village table (as read for the run)."""
    data = getattr(result, "data", None)
    return data.villages if data is not None else read_villages(result.study.inputs.villages)


def _calibration_in_words(result, lang: str) -> pd.DataFrame:
    """The calibration table with each scheme's label and source in the report's language
    (the study's ``label``/``source`` or their French), the scheme's key left to the CSV.
    """
    table = getattr(result, "calibration", pd.DataFrame())
    if table.empty:
        return table
    schemes = {s.name: s for s in calibration_of(result.study, _villages_of(result)).schemes}
    found = [schemes[n] for n in table["scheme"]]
    french = lang == "fr"
    return table.assign(
        scheme=[(s.label_fr or s.label) if french else s.label for s in found],
        source=[(s.source_fr or s.source) if french else s.source for s in found],
    ).drop(columns="label")


#: The phases of funding.csv, in French.
PHASES_FR = {"one go": "en une seule fois", "phase 1": "tranche 1", "phase 2": "tranche 2"}


def _funding_in_words(result, lang: str, labels: dict) -> tuple[pd.DataFrame, str]:
    """The funding table of the recommended scheme (funding.csv: its whole capital by each
    funding option) in the report's language, and the scheme's label (an empty table when none
    is recommended).
    """
    study = result.study
    recommended = recommend(study.money, result.feasibility)
    if recommended is None:
        return pd.DataFrame(), ""
    table = funding_plan(study.money, recommended, chosen_plan(result.budget))
    if lang == "fr":
        table["phase"] = table["phase"].map(PHASES_FR)
        words = {o.name: o.label.get("fr") or o.label.get("en", o.name)
                 for o in funding_options(study.money)}  # fmt: skip
        table["option_label"] = [french_typography(words.get(n, n)) for n in table["option"]]
        table["funder"] = table["funder_fr"]
    label = labels.get(recommended.scenario, recommended.scenario)
    return table.drop(columns=["option", "funder_fr"]), label


def write_workbook(result, path: Path, lang: str, labels: dict) -> Path:
    """Every table of the study in one formatted workbook, its sheets named and its text
    written in the report's language, a contents sheet first.
    """
    wb = Workbook()
    wb.remove(wb.active)
    used: set[str] = {sheet_title("contents", lang).lower()}
    contents = []

    def sheet(name: str, frame: pd.DataFrame, total_of=None, label: str = "") -> None:
        written = _write_sheet(wb, sheet_title(name, lang, labels), frame, lang, used, total_of)
        if written is not None:
            contents.append((written, sheet_contents(name, lang, labels, label)))

    services = {spec.name: spec.service for spec in result.study.scenarios}
    feasibility = result.feasibility.drop(columns="label", errors="ignore")  # the scenario's
    sheet("feasibility", _scenarios_in_words(feasibility, labels))
    funding, recommended = _funding_in_words(result, lang, labels)
    sheet("funding", funding, label=recommended)
    for o in result.outcomes:
        sheet(f"boq_{o.spec.name}", o.boq, total_of="total_lcu")
    if result.budget is not None:
        sheet("budget", _plans_in_words(result.budget.curve, services, lang))
        sheet("budget_candidates", _plans_in_words(result.budget.candidates, services, lang))
    sheet("operation", _operation_in_words(result.operation, labels))
    for name in ("sensitivity", "switch_points"):
        sheet(name, _parameters_in_words(_scenarios_in_words(getattr(result, name), labels)))
    for o in result.outcomes:
        if o.surge is not None and not o.surge.empty:
            sheet(f"surge_{o.spec.name}", _surge_in_words(o.surge))
    sheet("stress", _scenarios_in_words(result.stress, labels))
    base = result.base()  # the scenario of villages.csv and pipes.csv
    pph = result.study.design.persons_per_household
    sheet("villages", village_table(base, _villages_of(result), pph), label=labels[base.spec.name])
    sheet("pipes", pipe_table(base), label=labels[base.spec.name])
    sheet("calibration", _calibration_in_words(result, lang))
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
    used.discard(sheet_title("contents", lang).lower())
    index = pd.DataFrame(contents, columns=["sheet", "contents"])
    first = _write_sheet(wb, sheet_title("contents", lang), index, lang, used)
    wb.move_sheet(first, offset=-wb.sheetnames.index(first))
    wb.save(path)
    return Path(path)
