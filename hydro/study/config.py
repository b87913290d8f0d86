"""The study file (TOML): inputs, design choices, money, unit costs, scenarios, sensitivity.

:func:`load_study` reads and checks it; every error names the file and the key. Paths are
relative to the study file. See ``studies/oujda/study.toml`` for a commented example.

Before anything else, :func:`validate_study` checks the whole file in one pass against
``STUDY_KEYS``, one table of every key with its kind, range and the reason for the range: an
unknown key is an error with a "did you mean". A new key needs one line in ``STUDY_KEYS``
(and a new section one entry in ``STUDY_KEYS[""]`` plus its own table).
"""

from __future__ import annotations

import logging
import math
import os
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from hydro import defaults
from hydro.catalog import read_catalog
from hydro.compliance import NODE_CLASSES, PIPE_CLASSES, Rules
from hydro.demand import check_villages_against_network, read_villages
from hydro.errors import InputError, did_you_mean
from hydro.gis import LOCAL, check_crs
from hydro.network import copy_network, read_network
from hydro.outputs import file_name_problem
from hydro.pumps import read_pump_catalog
from hydro.stations import STATION_COSTS
from hydro.storage import parse_hours
from hydro.study.intermittent import IntermittentStudy, load_intermittent_study
from hydro.study.labels import DEFAULT_VILLAGE_WORD
from hydro.study.parts import (
    BudgetSettings,
    Cost,
    Design,
    FundingOption,
    Inputs,
    Money,
    Prices,
    ReportSettings,
    ScenarioSpec,
    Study,
    StudyData,
    TapsSpec,
)
from hydro.study.requirements import check_network_roles
from hydro.study.solar import KIND as SOLAR_KIND
from hydro.study.solar import load_solar_study

log = logging.getLogger(__name__)

__all__ = ["STUDY_KEYS", "Cost", "ScenarioSpec", "Study", "TapsSpec", "load_inputs",
           "load_study", "validate_study"]  # fmt: skip

#: Unit costs every study must give (value, unit, source).
REQUIRED_COSTS = (
    "standpipe",
    "household_connection",
    "tank_fixed",
    "tank_per_m3",
    "tap_off",
    "engineering_share",
    "contingency_share",
    "energy_per_kwh",
    "keeper_per_standpipe_per_year",
    "tariff_standpipe_per_m3",
    "fixed_fee_per_connection_per_month",
    "bulk_water_per_m3",
    "keeper_margin_per_m3",
)
#: Unit costs needed only when the network has the element (checked when the study runs).
OPTIONAL_COSTS = ("pressure_reducing_valve", "surge_vessel", "break_tank", "rock_excavation_uplift",
                  "maintenance_share_per_year", "minimum_wage_per_month", "vat_works_share",
                  "vat_water_share", "pump_station", *STATION_COSTS)  # fmt: skip
#: Maintenance a year by asset class, each a share of its works (docs/sources.md, 7): class ->
#: its [unit_costs] key. A class not given takes ``maintenance_share_per_year``; a study gives
#: one or the other (:func:`_maintenance`).
MAINTENANCE_KEYS = {
    "pipes": "maintenance_pipes_share_per_year",
    "civil": "maintenance_civil_share_per_year",
    "mechanical": "maintenance_mechanical_share_per_year",
}
#: [economics]: who pays what and what is really consumed (docs/sources.md, 7); key ->
#: (default, allowed values or (low, high)): the one source of these ranges (STUDY_KEYS).
#: The household tariff has no default: a study with household connections gives its
#: operator's (:data:`TARIFF_KEYS`).
ECONOMICS = {
    "standpipe_use_l_per_person_day": (8.5, (0.0, 200.0)),
    "household_use_l_per_person_day": (50.0, (0.0, 500.0)),
    "keeper_pay": ("margin", ("margin", "salary")),
    "connections_paid_by": ("households", ("donors", "households", "operator")),
    "household_tariff_blocks_m3_per_month": ([], (0.0, 1e4)),
    "household_tariff_per_m3": ([0.0], (0.0, 1e3)),
    "house_spacing_m": (25.0, (1.0, 1000.0)),
    "household_use_max_m3_per_month": (math.inf, (0.0, 1e3)),
}
#: [economics] texts of the management model ({en, fr}): who owns the scheme, who runs it,
#: whom the bulk water is bought from and who covers an O&M deficit (one coherent model).
MANAGEMENT_KEYS = ("owner", "operator", "bulk_water_from", "deficit_covered_by")
#: [economics] keys a study with household connections must give (its operator's tariff).
TARIFF_KEYS = ("household_tariff_blocks_m3_per_month", "household_tariff_per_m3")
#: Why each [economics] number has its range (the reason shown with an error).
_ECONOMICS_REASONS = {
    "standpipe_use_l_per_person_day": "litres per person per day (measured standpipe use: 8.5)",
    "household_use_l_per_person_day": "litres per person per day (household allowance: 50)",
    "household_tariff_blocks_m3_per_month": "upper limits of the tariff blocks in m3 a month",
    "household_tariff_per_m3": "prices per m3 in the study's currency",
    "house_spacing_m": "metres of street per house, 1 to 1,000",
    "household_use_max_m3_per_month": "m3 a connection uses a month at most (expected use)",
}
#: [report]: the donor file's sections the study writes (each "en" text, or {en, fr}).
REPORT_KEYS = ("context", "authorisation", "management", "schedule", "risks", "indicators")
#: [sensitivity] parameters one at a time, each [low, high] (docs/sources.md, 7): the one
#: source of their ranges, key -> (low, high, low excluded, reason).
SENSITIVITY_RANGES = {
    "growth_rate": (-0.1, 0.1, False, "a fraction per year, -0.1 to 0.1 (0.01 for +1 %/yr)"),
    "per_capita_demand_factor": (0.1, 5.0, False, "a factor of the allowances, 0.1 to 5"),
    "pipe_price_factor": (0.1, 5.0, False, "a factor of the catalogue prices, 0.1 to 5"),
    "pump_station_cost": (0.0, 1e8, False, ""),
    "tank_cost_factor": (0.1, 5.0, False, ""),
    "standpipe_cost": (0.0, 1e7, False, ""),
    "household_connection_cost": (0.0, 1e7, False, ""),
    "rock_excavation_uplift": (0.0, 2.0, False, ""),
    "currency_per_eur": (0.0, 1e6, True, "the study's currency per EUR, above 0"),
    "connection_share_factor": (0.0, 5.0, False, ""),
    "bulk_water_per_m3": (0.0, 100.0, False, ""),
    "standpipe_use_l_per_person_day": (0.0, 200.0, False, ""),
    "source_head_m": (-500.0, 9000.0, False, "a hydraulic grade in m, -500 to 9000"),
}


# --------------------------------------------------------------------------- schema
@dataclass(frozen=True)
class Key:
    """One key of the study file: its kind, its range and why the range is what it is.

    ``kind``: ``number``, ``integer``, ``string``, ``table``, ``tables`` (an array of tables),
    ``numbers`` (an array of numbers), ``pair`` (``[low, high]``, low below high), ``cost``
    (``{ value, unit, source }``). ``low``/``high`` bound numbers (and each number of
    ``numbers`` and ``pair``); ``open_low`` excludes ``low`` itself.
    """

    kind: str
    low: float | None = None
    high: float | None = None
    reason: str = ""
    required: bool = False
    open_low: bool = False
    choices: tuple = ()


_YEAR = Key("integer", 1900, 2200, "a calendar year", required=True)
_PRESSURE = Key("number", 0, 200, "metres of head: 0 (no negative pressure) to 200 m")
_VELOCITY = Key("pair", 0, 10, "[low, high] in m/s, 0 to 10 m/s")
_HEAD = Key("number", -500, 9000, "a hydraulic grade in m, -500 (the Dead Sea shore) to 9000")
_SERVICES = ("standpipes", "household_connections")
#: [design] unused_branches: what a scenario does with branches no village uses (the default
#: first; hydro.study.scenario.step_branches)
UNUSED_BRANCHES = ("warn", "prune")
_COST = Key("cost", 0, 1e12, "a unit cost: zero or more")
_SHARE_COST = Key("cost", 0, 1, "a share: 0 to 1 (0.1 for 10 %)")

#: Every key a study file may hold, section by section ("" is the top level; "a.b" a table
#: inside a table; a section ending in "[]" describes each table of an array). A key not
#: listed is an error with a "did you mean". To add a key, add one line here.
STUDY_KEYS: dict[str, dict[str, Key]] = {
    "": {
        "name": Key("file name"),
        "title": Key("string"),
        "title_fr": Key("string"),
        "economics": Key("table"),
        "budget": Key("table"),
        "report": Key("table"),
        "inputs": Key("table", required=True),
        "design": Key("table", required=True),
        "rules": Key("table"),
        "money": Key("table", required=True),
        "unit_costs": Key("table", required=True),
        "scenarios": Key("tables", required=True),
        "sensitivity": Key("table"),
        "taps": Key("table"),
        "sources": Key("table"),
        "sources_fr": Key("table"),
        "calibration": Key("table"),
    },
    "calibration": {  # hydro.study.calibration
        "scheme": Key("string", required=True),
        "villages": Key("strings"),
        "scenario": Key("string"),
        "tolerance": Key("number", 0, 1, "a share of the documented cost, 0 to 1 (0.25)"),
        "price_base": Key("text"),
        "schemes": Key("tables", required=True),
        # what the documented cost leaves out, of the margins hydro adds to the works
        "excluded": Key("strings", choices=("engineering_share", "contingency_share")),
        "scope": Key("text"),
    },
    "calibration.schemes[]": {
        "name": Key("file name", required=True),
        "label": Key("text"),
        "year": _YEAR,
        "cost": Key(
            "number",
            0,
            1e12,
            "a cost in the study's currency, above zero",
            required=True,
            open_low=True,
        ),
        "people": Key("number", 0, 1e9, "people served, above zero", required=True, open_low=True),
        "source": Key("string"),
        "source_fr": Key("string"),
    },
    "taps": {
        "draws": Key("integer", 0, 1_000_000, "draws per scenario, 0 (off) to a million"),
        "seed": Key("integer", 0, 2**32 - 1, "a random seed, 0 to 2^32 - 1"),
        "useful_share": Key(
            "number", 0, 1, "a share of the tap's flow, above 0 and at most 1", open_low=True
        ),
        "probability": Key("number", 0, 1, "a probability that a tap is open, 0 to 1"),
        "workers": Key("integer", 1, 1024, "local worker processes, at least 1"),
        "scheduler": Key("string"),
        "taps_per_standpipe": Key("integer", 1, 100, "taps on one standpipe, 1 to 100"),
        "tap_flow_l_per_s": Key(
            "number", 0, 10, "l/s from one tap, above 0 (standpipe taps: 0.1-0.5)", open_low=True
        ),
        "connection_flow_l_per_s": Key(
            "number", 0, 10, "l/s at one household connection, above 0", open_low=True
        ),
    },
    "inputs": {
        "network": Key("string", required=True),
        "villages": Key("string", required=True),
        "patterns": Key("string"),
        "pipe_catalog": Key("string", required=True),
        "pump_catalog": Key("string"),
        "crs": Key("string"),  # the network's coordinates (hydro.gis.check_crs)
    },
    "design": {
        "base_year": _YEAR,
        "horizon_year": _YEAR,
        "tank": Key("string", required=True),
        "pump": Key("string"),
        "pumping_hours": Key("number", 0, 24, "hours a day", open_low=True),
        "storage_reserve_hours": Key("number", 0, 168, "at most a week of average demand"),
        "source_supply_hours": Key("string"),
        "min_distribution_dn_mm": Key(
            "number",
            0,
            2000,
            "a pipe diameter above 0 mm (rural networks: 20-500 mm)",
            open_low=True,
        ),
        "simulation_hours": Key(
            "number",
            0,
            defaults.MAX_SIMULATION_HOURS,
            "above 0 and at most one year (8760 h): "
            "longer than any check needs, and EPANET's scratch files grow with it",
            open_low=True,
        ),
        "looped_time_limit_s": Key(
            "number", 0, 86400, "seconds per sizing run, at most a day", open_low=True
        ),
        "seed": Key("integer", 0, 2**32 - 1, "a random seed, 0 to 2^32 - 1"),
        "persons_per_household": Key("number", 1, 30, "persons per household, 1 to 30"),
        "unused_branches": Key("string", choices=UNUSED_BRANCHES),  # hydro.study.scenario
        "booster_nodes": Key("strings"),  # hydro.study.scenario.study_boosters
        "source_head_m": _HEAD,
    },
    "rules": {
        **{f"{cls}_min_pressure_m": _PRESSURE for cls in NODE_CLASSES},
        "max_pressure_m": Key("number", 0, 1000, "metres of head above 0", open_low=True),
        **{f"{cls}_velocity_m_per_s": _VELOCITY for cls in PIPE_CLASSES},
        "tank_reserve_share": Key("number", 0, 1, "a share of the usable volume, below 1"),
        "tap_min_pressure_m": _PRESSURE,
    },
    "money": {
        "budget_eur": Key("number", 0, 1e10, "a budget above zero", required=True, open_low=True),
        "life_years": Key(
            "number",
            0,
            100,
            "years of service above 0, at most 100",
            required=True,
            open_low=True,
        ),
        "discount_rate": Key(
            "number",
            0,
            0.3,
            "a fraction per year (0.06 for 6 %): donor appraisals use 3-12 %; "
            "above 0.3 is a percentage written as a fraction",
            required=True,
        ),
        "currency": Key("string", required=True),
        "currency_per_eur": Key("table", required=True),
        "funders": Key("tables", required=True),
        "benchmark_per_beneficiary": Key(
            "pair",
            0,
            1e6,
            "[low, high] per beneficiary, study currency, above 0",
            open_low=True,
        ),
        "benchmark_label": Key("text"),
        "funding_options": Key("tables"),
    },
    "money.funding_options[]": {  # another way to share the capital (hydro.study.funding)
        "name": Key("file name", required=True),
        "label": Key("text"),
        "source": Key("string"),
        "funders": Key("strings", required=True),
        "funders_fr": Key("strings"),
        "shares": Key("numbers", 0, 1, "each funder's share of the capital, 0 to 1", required=True),
    },
    "money.currency_per_eur": {
        "value": Key(
            "number",
            0,
            1e6,
            "the study's currency per EUR, above 0 (MAD about 11, XOF 655.957)",
            required=True,
            open_low=True,
        ),
        "source": Key("string"),
        "source_fr": Key("string"),
        "unit": Key("string"),
    },
    "money.funders[]": {
        "name": Key("string", required=True),
        "share": Key("number", 0, 1, "a share of the budget: 0 to 1", required=True),
        "commitment_eur": Key("number", 0, 1e10, "a commitment in EUR, zero or more"),
    },
    "economics": {
        key: (
            Key("string", choices=allowed)
            if isinstance(allowed[0], str)
            else Key(
                "numbers" if isinstance(default, list) else "number",
                *allowed,
                _ECONOMICS_REASONS[key],
            )
        )
        for key, (default, allowed) in ECONOMICS.items()
    }
    | {key: Key("text") for key in MANAGEMENT_KEYS},
    "budget": {
        "scenarios": Key("strings"),
        "curve_up_to_eur": Key("number", 0, 1e10, "a capital in EUR above zero", open_low=True),
    },
    "report": {key: Key("text") for key in REPORT_KEYS} | {"village_word": Key("words")},
    "unit_costs": {
        **{
            key: replace(_SHARE_COST if "share" in key else _COST, required=True)
            for key in REQUIRED_COSTS
        },
        **{
            key: _SHARE_COST if "share" in key else _COST
            for key in (*OPTIONAL_COSTS, *MAINTENANCE_KEYS.values())
        },
    },
    "unit_costs.*": {  # each unit cost
        "value": Key("number", required=True),
        "unit": Key("string"),
        "source": Key("string"),
        "source_fr": Key("string"),  # the note in the French report (default: source)
    },
    "scenarios[]": {
        "name": Key("file name", required=True),
        "label": Key("string"),
        "service": Key("string", required=True, choices=_SERVICES),
        "sizing": Key("string", choices=_SERVICES),
        "label_fr": Key("string"),
        "break_tank": Key("boolean"),
    },
    "sensitivity": {
        "scenario": Key("string"),
        **{
            key: Key(
                "numbers",
                low,
                high,
                reason or f"each end of the range within [{low:g}, {high:g}]",
                open_low=open_low,
            )
            for key, (low, high, open_low, reason) in SENSITIVITY_RANGES.items()
        },
    },
}
#: Tables whose keys are free (each value of the kind given).
FREE_TABLES = {"sources": Key("string"), "sources_fr": Key("string")}

_KINDS = {
    "number": "a number",
    "integer": "a whole number",
    "string": "a text in quotes",
    "table": "a table",
    "tables": "an array of tables",
    "numbers": "an array of numbers",
    "pair": "[low, high]",
    "cost": "{ value = ..., unit = ..., source = ... }",
    "boolean": "true or false",
    "strings": "an array of texts",
    "file name": "a text in quotes",
    "text": 'a text, or { en = "...", fr = "..." }',
    "words": 'a word ("town"), ["singular", "plural"], or { en = ..., fr = ... } of those '
    "(each word 1 to 40 characters, no braces)",
}


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_range(value: float, key: Key) -> str | None:
    """Why ``value`` is outside ``key``'s range, or None."""
    if not math.isfinite(value):
        return "must be a finite number"
    low_ok = key.low is None or (value > key.low if key.open_low else value >= key.low)
    high_ok = key.high is None or value <= key.high
    if low_ok and high_ok:
        return None
    bracket = "(" if key.open_low else "["
    return f"outside {bracket}{key.low:g}, {key.high:g}]" + (
        f": {key.reason}" if key.reason else ""
    )


def _is_word(value) -> bool:
    """A word the report can say: a text of 1 to 40 characters, no braces, no line break."""
    return (
        isinstance(value, str)
        and 0 < len(value.strip()) <= 40
        and not any(c in value for c in "{}\n\r")
    )


def _is_words(value) -> bool:
    """A word, or ``[singular, plural]``."""
    if isinstance(value, list):
        return len(value) == 2 and all(_is_word(v) for v in value)
    return _is_word(value)


def village_word(value) -> dict:
    """``[report] village_word`` as {lang: (singular, plural)} (checked by
    :func:`validate_study`); a single word's plural adds an "s"; a language not given says
    "village" (:data:`hydro.study.labels.DEFAULT_VILLAGE_WORD`).

    >>> village_word("douar")
    {'en': ('douar', 'douars'), 'fr': ('douar', 'douars')}
    >>> village_word({"en": ["town", "towns"]})["fr"]
    ('village', 'villages')
    """
    if value is None:
        return dict(DEFAULT_VILLAGE_WORD)

    def pair(words) -> tuple[str, str]:
        if isinstance(words, list):
            return (words[0].strip(), words[1].strip())
        return (words.strip(), words.strip() + "s")

    if not isinstance(value, dict):
        value = {"en": value, "fr": value}
    return {**DEFAULT_VILLAGE_WORD, **{lang: pair(words) for lang, words in value.items()}}


def _check_choices(values: list, key: Key) -> str | None:
    """What is wrong with a list of strings for ``key``'s choices (any when it has none)."""
    wrong = [v for v in values if key.choices and v not in key.choices]
    if not wrong:
        return None
    return f"{wrong[0]!r} is not allowed: each must be one of {', '.join(key.choices)}" + (
        did_you_mean(wrong[0], key.choices)
    )


def _check_value(value, key: Key) -> str | None:
    """What is wrong with ``value`` for ``key`` (kind, finiteness, range), or None."""
    expected = _KINDS[key.kind]
    if key.kind in ("number", "integer"):
        if not _is_number(value):
            return f"must be {expected}"
        if key.kind == "integer" and not (isinstance(value, int) or float(value).is_integer()):
            return f"must be {expected}"
        return _check_range(float(value), key)
    if key.kind == "string":
        if not isinstance(value, str):
            return f"must be {expected}"
        if key.choices and value not in key.choices:
            return f"must be one of {', '.join(key.choices)}" + did_you_mean(value, key.choices)
        return None
    if key.kind == "file name":  # a name that becomes part of the output files' names
        return file_name_problem(value)
    if key.kind == "table":
        return None if isinstance(value, dict) else f"must be {expected}"
    if key.kind == "tables":
        ok = isinstance(value, list) and all(isinstance(v, dict) for v in value)
        return None if ok else f"must be {expected}"
    if key.kind in ("numbers", "pair"):
        if not isinstance(value, list) or not all(_is_number(v) for v in value):
            return f"must be {expected}"
        if key.kind == "pair" and (len(value) != 2 or not value[0] < value[1]):
            return f"must be {expected} with low below high"
        for v in value:
            problem = _check_range(float(v), key)
            if problem:
                return f"{v!r} is {problem}"
        return None
    if key.kind == "cost":
        if not isinstance(value, dict):
            return f"must be {expected}"
        return None  # checked as its own table
    if key.kind == "boolean":
        return None if isinstance(value, bool) else f"must be {expected}"
    if key.kind == "strings":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return _check_choices(value, key) if ok else f"must be {expected}"
    if key.kind in ("text", "words"):
        one = _is_words if key.kind == "words" else (lambda v: isinstance(v, str))
        ok = one(value) or (
            isinstance(value, dict)
            and value
            and set(value) <= {"en", "fr"}
            and all(one(v) for v in value.values())
        )
        return None if ok else f"must be {expected}"
    raise AssertionError(key.kind)  # pragma: no cover - a kind missing above


def _check_table(table: dict, section: str, where: str, problems: list[str]) -> None:
    """Check one table against ``STUDY_KEYS[section]``; recurse into its tables."""
    keys = STUDY_KEYS[section]
    label = f"[{where}] " if where else ""
    for name in table:
        if name not in keys:
            hint = did_you_mean(name, keys) or f"; allowed: {', '.join(keys)}"
            problems.append(f"{label}unknown key '{name}'{hint}")
    for name, key in keys.items():
        if name not in table:
            if key.required:
                problems.append(f"{label}needs '{name}'")
            continue
        value = table[name]
        problem = _check_value(value, key)
        if problem:
            problems.append(f"{label}{name} = {value!r}: {problem}")
            continue
        inner = f"{where}.{name}" if where else name
        if key.kind == "table" and inner in STUDY_KEYS:
            _check_table(value, inner, inner, problems)
        elif key.kind == "tables" and f"{inner}[]" in STUDY_KEYS:
            for k, item in enumerate(value):
                _check_table(item, f"{inner}[]", f"{inner}[{k}]", problems)
        elif key.kind == "cost":
            before = len(problems)
            _check_table(value, f"{section}.*", inner, problems)
            if len(problems) == before:
                amount = value["value"]
                problem = _check_range(float(amount), key)
                if problem:
                    problems.append(f"[{inner}] value = {amount!r}: {problem}")
        elif key.kind == "table" and name in FREE_TABLES:
            for entry, item in value.items():
                problem = _check_value(item, FREE_TABLES[name])
                if problem:
                    problems.append(f"[{name}] {entry} = {item!r}: {problem}")


def _check_scenario_names(data: dict, names: list, problems: list[str]) -> None:
    """Every scenario that ``[sensitivity]``, ``[budget]`` and ``[calibration]`` name is one
    of the study's ``names``; a problem appended for each that is not.
    """
    for section, key in (("sensitivity", "scenario"), ("budget", "scenarios"),
                         ("calibration", "scenario")):  # fmt: skip
        table = data.get(section)
        if not isinstance(table, dict) or key not in table:
            continue
        given = table[key] if isinstance(table[key], list) else [table[key]]
        for name in given:
            if isinstance(name, str) and name not in names:
                problems.append(
                    f"[{section}] {key}: {name!r} is not a scenario of the study; one of "
                    f"{', '.join(map(str, names))}" + did_you_mean(name, names)
                )


#: Former names of the study file's keys: table -> {former: current}. A former name is read
#: as the current one, with a note; both given is an error.
FORMER_KEYS = {"calibration": {"douars": "villages"}}


def with_current_keys(data: dict, path: Path) -> dict:
    """The study file's content with each key of a former name (:data:`FORMER_KEYS`) renamed.

    Raises
    ------
    InputError
        A key given under both its former and its current name.

    Examples
    --------
    >>> with_current_keys({"calibration": {"douars": ["A"]}}, Path("study.toml"))
    {'calibration': {'villages': ['A']}}
    """
    out = dict(data)
    for section, names in FORMER_KEYS.items():
        table = out.get(section)
        if not isinstance(table, dict):
            continue
        table = dict(table)
        for former, current in names.items():
            if former not in table:
                continue
            if current in table:
                raise InputError(
                    f"{path}: [{section}] {former} and {current} both given: {former} is the "
                    f"former name of {current}; keep one"
                )
            log.info("%s: [%s] %s read as %s (its former name)", path, section, former, current)
            table = {current if k == former else k: v for k, v in table.items()}
        out[section] = table
    return out


def validate_study(data: dict, path: Path) -> None:
    """One pass over the whole study file before anything is computed.

    Every key known (or an error with a "did you mean"), every value of its kind, finite and
    within its range (with the reason), years in order, scenario names unique, funders' shares
    adding up to 1. Raises one :class:`InputError` that lists every problem found.
    """
    problems: list[str] = []
    _check_table(data, "", "", problems)
    design, money = data.get("design"), data.get("money")
    if isinstance(design, dict):
        base, horizon = design.get("base_year"), design.get("horizon_year")
        years = [y for y in (base, horizon) if _is_number(y) and _check_value(y, _YEAR) is None]
        if len(years) == 2:
            if horizon < base:
                problems.append(f"[design] horizon_year {horizon} is before base_year {base}")
            elif horizon - base > 100:
                problems.append(
                    f"[design] horizon_year {horizon} is {horizon - base} years after base_year "
                    f"{base}: a design period is at most 100 years"
                )
    if isinstance(money, dict) and isinstance(money.get("funders"), list):
        shares = [f.get("share") for f in money["funders"] if isinstance(f, dict)]
        if shares and all(_is_number(s) and math.isfinite(s) for s in shares):
            if abs(sum(shares) - 1) > 1e-9:
                problems.append(f"[money] the funders' shares add up to {sum(shares):g}, not 1")
    scenarios = data.get("scenarios")
    if isinstance(scenarios, list):
        names = [s.get("name") for s in scenarios if isinstance(s, dict)]
        if not scenarios:
            problems.append("the study needs at least one [[scenarios]]")
        duplicated = sorted({str(n) for n in names if names.count(n) > 1})
        if duplicated:
            problems.append(f"scenario names must be unique: {', '.join(duplicated)} repeated")
        _check_scenario_names(data, names, problems)
    budget = data.get("budget")
    if isinstance(budget, dict) and isinstance(money, dict):
        reach, amount = budget.get("curve_up_to_eur"), money.get("budget_eur")
        if _is_number(reach) and _is_number(amount) and reach < amount:
            problems.append(
                f"[budget] curve_up_to_eur = {reach:g} is below the budget ({amount:g} EUR): "
                "the curve reaches at least the budget"
            )
    if problems:
        shown = problems[:20] + (
            [f"... and {len(problems) - 20} more"] if len(problems) > 20 else []
        )
        raise InputError(
            f"{path}: "
            + ("\n  ".join(["invalid study file:", *shown]) if len(shown) > 1 else shown[0])
        )


def _get(table: dict, key: str, where: str, path: Path, kind=None):
    if key not in table:
        raise InputError(f"{path}: [{where}] needs '{key}'")
    value = table[key]
    if kind is not None and not isinstance(value, kind):
        raise InputError(f"{path}: [{where}] {key} = {value!r} is not a {kind.__name__}")
    return value


def _number(table: dict, key: str, where: str, path: Path, positive=True) -> float:
    value = _get(table, key, where, path)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{path}: [{where}] {key} = {value!r}: a number is required")
    if positive and value < 0:
        raise InputError(f"{path}: [{where}] {key} = {value!r}: must not be negative")
    return float(value)


def _supply_hours(text, path: Path) -> tuple[int, ...]:
    """``[design] source_supply_hours``, an error naming the study file and the key."""
    try:
        return parse_hours(text)
    except InputError as exc:
        raise InputError(f"{path}: [design] source_supply_hours: {exc}") from exc


def _file(table: dict, key: str, path: Path, required=True) -> Path | None:
    if key not in table:
        if required:
            raise InputError(f"{path}: [inputs] needs '{key}'")
        return None
    file = (path.parent / str(table[key])).resolve()
    if not file.is_file():
        raise InputError(f"{path}: [inputs] {key}: no such file {file}")
    return file


def _rules(table: dict, path: Path) -> Rules:
    """Read the study's ``[rules]`` table.

    [rules]: standpipe_min_pressure_m, household_min_pressure_m, junction_min_pressure_m,
    max_pressure_m, distribution_velocity_m_per_s and transmission_velocity_m_per_s ([low,
    high]), tank_reserve_share, tap_min_pressure_m; anything not given keeps its default.
    """
    known = {
        "standpipe_min_pressure_m", "household_min_pressure_m", "junction_min_pressure_m",
        "max_pressure_m", "distribution_velocity_m_per_s", "transmission_velocity_m_per_s",
        "tank_reserve_share", "tap_min_pressure_m",
    }  # fmt: skip
    unknown = set(table) - known
    if unknown:
        raise InputError(
            f"{path}: [rules] unknown key(s) {', '.join(sorted(unknown))}; allowed: "
            f"{', '.join(sorted(known))}"
        )
    minimum = {
        cls: _number(table, f"{cls}_min_pressure_m", "rules", path)
        for cls in NODE_CLASSES
        if f"{cls}_min_pressure_m" in table
    }
    velocity = {}
    for cls in PIPE_CLASSES:
        key = f"{cls}_velocity_m_per_s"
        if key in table:
            pair = table[key]
            if not (isinstance(pair, list) and len(pair) == 2):
                raise InputError(f"{path}: [rules] {key} must be [low, high] in m/s")
            velocity[cls] = (float(pair[0]), float(pair[1]))
    max_pressure = (
        _number(table, "max_pressure_m", "rules", path)
        if "max_pressure_m" in table
        else Rules().max_pressure_m
    )
    try:
        rules = Rules.from_options(
            class_min_pressure_m=minimum,
            max_pressure_m=max_pressure,
            velocity_m_per_s=velocity,
            tank_reserve_share=(
                float(table["tank_reserve_share"]) if "tank_reserve_share" in table else None
            ),
            # the study's value, 0 m included; else the default, once, here (its source:
            # hydro.compliance.RULE_SOURCES["tap_min_pressure_m"], docs/sources.md 5.1 [E])
            tap_min_pressure_m=(
                _number(table, "tap_min_pressure_m", "rules", path)
                if "tap_min_pressure_m" in table
                else defaults.TAP_MIN_PRESSURE_M
            ),
        )
    except InputError as exc:  # among them impossible pressure targets (Rules checks them)
        raise InputError(f"{path}: [rules] {exc}") from exc
    return rules


def _taps(table: dict, path: Path) -> TapsSpec:
    """[taps]: draws, seed, useful_share, probability, workers, scheduler, and the taps:
    taps_per_standpipe, tap_flow_l_per_s, connection_flow_l_per_s.
    """
    values = {}  # keys, kinds and ranges checked by validate_study (STUDY_KEYS["taps"])
    lowest = {"draws": 0, "seed": None, "workers": 1, "taps_per_standpipe": 1}
    for key, low in lowest.items():
        if key not in table:
            continue
        value = table[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or (low is not None and value < low)
        ):
            need = "a whole number" + (f" >= {low}" if low is not None else "")
            raise InputError(f"{path}: [taps] {key} = {value!r}: {need}")
        values[key] = value
    for key in ("useful_share", "probability"):
        if key in table:
            value = _number(table, key, "taps", path)
            if not 0 < value <= 1 and not (key == "probability" and value == 0):
                raise InputError(f"{path}: [taps] {key} = {value!r}: must be in (0, 1]")
            values[key] = value
    for key in ("tap_flow_l_per_s", "connection_flow_l_per_s"):
        if key in table:
            value = _number(table, key, "taps", path)
            if value <= 0:
                raise InputError(f"{path}: [taps] {key} = {value!r}: must be above 0 l/s")
            values[key] = value
    if "scheduler" in table:
        values["scheduler"] = str(table["scheduler"]) or None
    return TapsSpec(**values)


def load_study(path: str | os.PathLike) -> Study | IntermittentStudy:
    """Read and check a study file into its typed parts; every error names the file and key.

    The whole file is checked first against :data:`STUDY_KEYS` (:func:`validate_study`), then
    each part is built once (:mod:`hydro.study.parts`): inputs, design, rules, money, prices,
    scenarios, budget, taps and report settings.

    Parameters
    ----------
    path : path
        The study file (TOML), or the folder that holds it as ``study.toml``.

    Returns
    -------
    Study or IntermittentStudy
        The study, with paths resolved against the study file's folder; a file with
        ``kind = "intermittent"`` is read by
        :func:`hydro.study.intermittent.load_intermittent_study`.

    Examples
    --------
    >>> study = load_study("studies/oujda")  # doctest: +SKIP
    >>> study.design.horizon_year  # doctest: +SKIP
    2030
    """
    path, data = _read_toml(Path(path))
    if "kind" in data:  # another kind of study: its own module reads it
        if data["kind"] == SOLAR_KIND:
            return load_solar_study(path, data)
        if data["kind"] == "intermittent":
            return load_intermittent_study(path, data)
        raise InputError(
            f"{path}: kind = {data['kind']!r}; allowed: {SOLAR_KIND!r}, 'intermittent' "
            "(no kind: a design study)"
        )
    data = with_current_keys(data, path)
    validate_study(data, path)  # every key, kind and range, before anything else
    money = _money(_get(data, "money", "study", path, dict), path)
    scenarios = _scenarios(data, path)
    names = [s.name for s in scenarios]
    return Study(
        path=path,
        name=str(data.get("name", path.parent.name)),
        inputs=_inputs(_get(data, "inputs", "study", path, dict), path),
        design=_design(_get(data, "design", "study", path, dict), path),
        money=money,
        prices=_prices(data, scenarios, path),
        scenarios=scenarios,
        report=_report(data, path),
        rules=_rules(data["rules"], path) if "rules" in data else Rules(),
        sensitivity=_sensitivity(data, names, path),
        budget=_budget(data, names, money, path),
        taps=_taps(_get(data, "taps", "study", path, dict), path) if "taps" in data else TapsSpec(),
        calibration=dict(data.get("calibration", {})),  # checked by validate_study
    )


def _read_toml(path: Path) -> tuple[Path, dict]:
    """The study file (``study.toml`` in a folder) and its TOML content."""
    if path.is_dir():  # a study's folder holds its study.toml
        path = path / "study.toml"
    if not path.is_file():
        raise InputError(f"{path}: no such study file")
    try:
        return path, tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a valid TOML study file: {exc}") from exc
    except RecursionError:  # tomllib recurses once per level of nesting
        raise InputError(
            f"{path}: arrays or tables nested too deep (a study file nests a few levels)"
        ) from None


def _inputs(table: dict, path: Path) -> Inputs:
    """[inputs]: every file resolved against the study file's folder and found."""
    return Inputs(
        network=_file(table, "network", path),
        villages=_file(table, "villages", path),
        pipe_catalog=_file(table, "pipe_catalog", path),
        patterns=_file(table, "patterns", path, required=False),
        pump_catalog=_file(table, "pump_catalog", path, required=False),
        crs=check_crs(table.get("crs", LOCAL), f"{path}: [inputs] crs"),
    )


def _design(design: dict, path: Path) -> Design:
    """[design]: years in order, the tank and pump named, hours and sizing settings."""
    base = int(_number(design, "base_year", "design", path))
    horizon = int(_number(design, "horizon_year", "design", path))
    if horizon < base:
        raise InputError(f"{path}: [design] horizon_year {horizon} is before base_year {base}")
    dn = design.get("min_distribution_dn_mm")
    return Design(
        base_year=base,
        horizon_year=horizon,
        tank=str(_get(design, "tank", "design", path)),
        pump=str(design["pump"]) if design.get("pump") else None,
        pumping_hours=float(design.get("pumping_hours", defaults.PUMPING_HOURS)),
        reserve_hours=float(design.get("storage_reserve_hours", defaults.RESERVE_HOURS)),
        supply_hours=_supply_hours(design.get("source_supply_hours"), path),
        min_distribution_dn_mm=float(dn) if dn is not None else None,
        simulation_hours=float(design.get("simulation_hours", defaults.CHECK_DURATION_H)),
        persons_per_household=float(
            design.get("persons_per_household", defaults.PERSONS_PER_HOUSEHOLD)
        ),
        looped_time_limit_s=float(design.get("looped_time_limit_s", defaults.LOOPED_TIME_LIMIT_S)),
        seed=int(design.get("seed", 1)),
        unused_branches=str(design.get("unused_branches", UNUSED_BRANCHES[0])),
        source_head_m=float(design["source_head_m"]) if "source_head_m" in design else None,
        booster_nodes=(
            tuple(str(n) for n in design["booster_nodes"]) if "booster_nodes" in design else None
        ),
    )


def _money(money: dict, path: Path) -> Money:
    """[money]: exchange rate with its source, budget, funders and their commitments."""
    rate = _get(money, "currency_per_eur", "money", path, dict)
    funders, commitments = [], {}
    for k, f in enumerate(_get(money, "funders", "money", path, list)):
        where = f"money.funders[{k}]"
        name = str(_get(f, "name", where, path))
        funders.append((name, _number(f, "share", where, path)))
        if "commitment_eur" in f:
            commitments[name] = float(f["commitment_eur"])
    total_share = sum(s for _, s in funders)
    if abs(total_share - 1) > 1e-9:
        raise InputError(f"{path}: [money] the funders' shares add up to {total_share:g}, not 1")
    benchmark = money.get("benchmark_per_beneficiary")
    options = [_funding_option(o, k, path) for k, o in enumerate(money.get("funding_options", []))]
    currency = str(money["currency"])
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise InputError(
            f"{path}: [money] currency = {currency!r}: an ISO 4217 code of three capital "
            "letters (MAD, XOF, EUR ...)"
        )
    return Money(
        currency=currency,
        currency_per_eur=Cost(
            _number(rate, "value", "money.currency_per_eur", path),
            f"{currency}/EUR",
            str(rate.get("source", "estimate")),
            str(rate.get("source_fr", "")),
        ),
        budget_eur=_number(money, "budget_eur", "money", path),
        funders=funders,
        life_years=_number(money, "life_years", "money", path),
        discount_rate=_number(money, "discount_rate", "money", path),
        commitments_eur=commitments,
        benchmark_per_beneficiary=(
            (float(benchmark[0]), float(benchmark[1])) if benchmark is not None else None
        ),
        benchmark_label=_text(money.get("benchmark_label", {})),
        funding_options=options,
    )


def _funding_option(option: dict, k: int, path: Path) -> FundingOption:
    """One [[money.funding_options]]: a funder per share, the shares adding up to 1."""
    funders, shares = list(option["funders"]), [float(s) for s in option["shares"]]
    where = f"{path}: [money.funding_options[{k}]] {option['name']}"
    if len(funders) != len(shares):
        raise InputError(f"{where}: {len(funders)} funders but {len(shares)} shares")
    if abs(sum(shares) - 1) > 1e-9:
        raise InputError(f"{where}: the shares add up to {sum(shares):g}, not 1")
    french = list(option.get("funders_fr", funders))
    if len(french) != len(funders):
        raise InputError(f"{where}: {len(funders)} funders but {len(french)} funders_fr")
    return FundingOption(
        name=str(option["name"]),
        label=_text(option.get("label", option["name"])),
        source=str(option.get("source", "study file")),
        funders=list(zip(funders, shares, strict=True)),
        funders_fr=dict(zip(funders, french, strict=True)),
    )


def _prices(data: dict, scenarios: list[ScenarioSpec], path: Path) -> Prices:
    """[unit_costs] (each with its unit and sources) and [economics] (over its defaults)."""
    costs_raw = _get(data, "unit_costs", "study", path, dict)
    costs = {}
    optional = (*OPTIONAL_COSTS, *MAINTENANCE_KEYS.values())
    for key in REQUIRED_COSTS + tuple(k for k in optional if k in costs_raw):
        entry = _get(costs_raw, key, "unit_costs", path, dict)
        costs[key] = Cost(
            _number(entry, "value", f"unit_costs.{key}", path),
            str(entry.get("unit", "")),
            str(entry.get("source", "estimate")),
            str(entry.get("source_fr", "")),
        )
    given = dict(data.get("economics", {}))  # keys and ranges: validate_study (ECONOMICS)
    households = any("household_connections" in (s.service, s.sizing) for s in scenarios)
    for key in TARIFF_KEYS:
        if households and key not in given:
            raise InputError(
                f"{path}: [economics] needs {key}: a scenario serves household connections, "
                "and their bills follow the operator's tariff (no tariff is assumed)"
            )
    _maintenance(costs, path)
    economics = {k: v for k, (v, _) in ECONOMICS.items()}
    for key, value in given.items():
        if isinstance(value, list):
            value = [float(x) for x in value]
        elif key in MANAGEMENT_KEYS:
            value = _text(value)
        economics[key] = float(value) if isinstance(value, int | float) else value
    blocks = economics["household_tariff_blocks_m3_per_month"]
    prices = economics["household_tariff_per_m3"]
    if len(prices) != len(blocks) + 1 or blocks != sorted(blocks):
        raise InputError(
            f"{path}: [economics] household_tariff_per_m3 needs one price per block of "
            "household_tariff_blocks_m3_per_month (increasing upper limits) plus one above"
        )
    return Prices(costs=costs, economics=economics)


def _maintenance(costs: dict, path: Path) -> None:
    """Every asset class has its maintenance rate: its own key or ``maintenance_share_per_year``."""
    missing = [k for k in MAINTENANCE_KEYS.values() if k not in costs]
    if missing and "maintenance_share_per_year" not in costs:
        raise InputError(
            f"{path}: [unit_costs] needs {', '.join(missing)} (a share of each class's works "
            "a year, with its source), or maintenance_share_per_year for every class"
        )


def _scenarios(data: dict, path: Path) -> list[ScenarioSpec]:
    """[[scenarios]]: at least one, names unique (service levels: validate_study)."""
    scenarios = []
    for k, s in enumerate(_get(data, "scenarios", "study", path, list)):
        where = f"scenarios[{k}]"
        scenarios.append(
            ScenarioSpec(
                str(_get(s, "name", where, path)),
                str(s.get("label", s.get("name"))),
                str(_get(s, "service", where, path)),
                str(s.get("sizing", s.get("service"))),
                break_tank=_get(s, "break_tank", where, path, bool) if "break_tank" in s else False,
                label_fr=str(s.get("label_fr", "")),
            )
        )
    names = [s.name for s in scenarios]
    if not scenarios:
        raise InputError(f"{path}: the study needs at least one [[scenarios]]")
    if len(set(names)) != len(names):
        raise InputError(f"{path}: scenario names must be unique: {names}")
    return scenarios


def _report(data: dict, path: Path) -> ReportSettings:
    """Titles, [report] sections ({en, fr}) and the [sources] notes with their French."""
    sources, sources_fr = dict(data.get("sources", {})), dict(data.get("sources_fr", {}))
    unknown = sorted(set(sources_fr) - set(sources))
    if unknown:
        raise InputError(
            f"{path}: [sources_fr] {unknown[0]} has no English note in [sources] "
            f"(notes: {', '.join(sources) or 'none'})"
        )
    report = dict(data.get("report", {}))  # checked by validate_study
    words = village_word(report.pop("village_word", None))
    text = {k: _text(v) for k, v in report.items()}
    return ReportSettings(
        title=str(data.get("title", path.parent.name)),
        title_fr=str(data.get("title_fr", "")),
        text=text,
        village_word=words,
        sources=sources,
        sources_fr=sources_fr,
    )


def _text(value) -> dict:
    """A text of the study file ("..." or { en = "...", fr = "..." }) as {en, fr}."""
    return dict(value) if isinstance(value, dict) else {"en": value}


def _sensitivity(data: dict, names: list[str], path: Path) -> dict:
    """[sensitivity]: the scenario it varies and each parameter's [low, high].

    Keys and each end's range: :data:`SENSITIVITY_RANGES` through :data:`STUDY_KEYS`.
    """
    sensitivity = dict(data.get("sensitivity", {}))
    if sensitivity and sensitivity.get("scenario", names[0]) not in names:
        raise InputError(f"{path}: [sensitivity] scenario must be one of {names}")
    for key, value in sensitivity.items():
        if key != "scenario" and len(value) != 2:
            raise InputError(f"{path}: [sensitivity] {key} must be [low, high]")
    return sensitivity


def _budget(data: dict, names: list[str], money: Money, path: Path) -> BudgetSettings:
    """[budget]: scenarios of the study, and a curve that reaches at least the budget."""
    budget = dict(data.get("budget", {}))
    scenarios = [str(n) for n in budget.get("scenarios", [])]
    if set(scenarios) - set(names):
        raise InputError(
            f"{path}: [budget] takes scenarios = a list of {names} and curve_up_to_eur"
        )
    reach = float(budget["curve_up_to_eur"]) if "curve_up_to_eur" in budget else None
    if reach is not None and reach < money.budget_eur:
        raise InputError(
            f"{path}: [budget] curve_up_to_eur = {reach:g} is below the budget "
            f"({money.budget_eur:g} EUR): the curve reaches at least the budget"
        )
    return BudgetSettings(scenarios=scenarios, curve_up_to_eur=reach)


def with_source_head(wn, head_m: float):
    """A copy of ``wn`` whose reservoirs stand at ``head_m`` (``[design] source_head_m``)."""
    model = copy_network(wn)
    for name in model.reservoir_name_list:
        model.get_node(name).base_head = head_m
    return model


def load_inputs(study: Study) -> StudyData:
    """Read the study's network, village table and catalogues once, and check them together.

    Every village node is a junction of the network; the ``[design]`` tank and pump are
    elements of it (its ``booster_nodes`` junctions of it), and play their roles
    (:func:`hydro.study.requirements.check_network_roles`).
    Raises :class:`hydro.errors.InputError` naming the file and the element.
    """
    inputs, design = study.inputs, study.design
    wn = read_network(inputs.network)
    villages = read_villages(inputs.villages)
    check_villages_against_network(villages, wn, str(inputs.network))
    if design.tank not in wn.tank_name_list:
        raise InputError(
            f"{study.path}: [design] tank {design.tank!r} is not a tank of {inputs.network}"
        )
    if design.pump and design.pump not in wn.pump_name_list:
        raise InputError(
            f"{study.path}: [design] pump {design.pump!r} is not a pump of {inputs.network}"
        )
    unknown = [n for n in design.booster_nodes or () if n not in wn.junction_name_list]
    if unknown:
        raise InputError(
            f"{study.path}: [design] booster_nodes: {unknown[0]!r} is not a junction of "
            f"{inputs.network}; give junctions where a booster may go"
            + did_you_mean(unknown[0], wn.junction_name_list)
        )
    if design.source_head_m is not None:  # the study's stated head at its source(s)
        wn = with_source_head(wn, design.source_head_m)
    check_network_roles(study, wn, villages)  # source, tank, pump, village nodes fed
    return StudyData(
        network=wn,
        villages=villages,
        catalog=read_catalog(inputs.pipe_catalog),
        pumps=read_pump_catalog(inputs.pump_catalog) if inputs.pump_catalog else None,
    )
