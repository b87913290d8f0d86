"""A study of intermittent supply and shared bulk water (a study file of ``kind = "intermittent"``).

Several municipalities buy bulk water at metered connections and supply their zones on a
schedule (a few hours or days a week); households fill roof tanks while their zone is open.
The study asks who gets how much water today, what makes it fairer, what each investment
buys and costs, and how the consortium shares the costs. ``hydro run STUDY`` runs these named
steps (each a short function below):

1. :func:`load_intermittent_study`: the study file, every key checked (an ``error:`` names the
   file, the key and what is allowed);
2. :func:`load_inputs`: the network and the households table, checked against each other;
3. :func:`calibrate_leakage`: physical losses as EPANET emitters (:func:`hydro.leakage.add_leakage`)
   scaled so that today's run loses the study's physical share of its non-revenue water;
4. :func:`run_today`: today's schedule (:func:`hydro.intermittent.simulate_intermittent`);
5. :func:`run_option`: each investment option: a schedule redesign
   (:func:`hydro.intermittent.optimise_schedule`), bigger pipes on given links, zoning with
   pressure-reducing valves on given links, or leakage reduction (emitter coefficients times
   a factor), each costed from the study's unit prices;
6. :func:`verify_option`: each option's network written as ``.inp``, read back by EPANET's
   parser and run again (the intermittent run and a steady state with every valve open);
7. :func:`equity_table`, :func:`options_table`, :func:`cost_sharing_table`,
   :func:`bulk_table`: the tables;
8. :func:`write_intermittent_outputs`: CSV tables, networks and ``report.html``
   (:mod:`hydro.study.intermittent_report`).

Nothing here is specific to one place: towns, valves, prices and schedules live in the study
folder (``studies/plus/`` is the reference case). Money is entered in the study's local
currency (``[money] currency``) and reported also in USD and EUR.
"""

from __future__ import annotations

import fnmatch
import math
import re
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import wntr

from hydro._csv import read_table
from hydro.errors import InputError, did_you_mean
from hydro.intermittent import (
    METHODS,
    BulkPoint,
    IntermittentResult,
    IntermittentSettings,
    ZoneSchedule,
    build_model,
    optimise_schedule,
    parse_days,
    parse_hours,
    simulate_intermittent,
)
from hydro.leakage import LEAKAGE_EXPONENT, add_leakage
from hydro.network import copy_network, read_network, write_network
from hydro.simulation import run_simulation
from hydro.units import LITRES_PER_M3

__all__ = [
    "IntermittentStudy",
    "IntermittentStudyResult",
    "OptionOutcome",
    "load_intermittent_study",
    "run_intermittent_study",
]

#: An option's name (it names its network file).
NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: Kinds of investment option.
OPTION_KINDS = ("schedule", "pipes", "prv", "leakage")
#: Calibration of the leakage: runs at most, and the tolerance on the physical loss share.
CALIBRATION_RUNS, CALIBRATION_TOLERANCE = 6, 0.002

# --------------------------------------------------------------------------- the study file
#: Every key of the study file: section -> key -> (kind, low, high, required). Kinds: number,
#: integer, string, strings (list of text), numbers (list), pair (two increasing numbers),
#: table, tables (list of tables), cost (a table of value, unit, source).
SCHEMA: dict[str, dict[str, tuple]] = {
    "": {
        "kind": ("string", None, None, True),
        "name": ("string", None, None, True),
        "title": ("string", None, None, True),
        "inputs": ("table", None, None, True),
        "simulation": ("table", None, None, False),
        "zones": ("tables", None, None, True),
        "bulk": ("tables", None, None, True),
        "leakage": ("table", None, None, True),
        "money": ("table", None, None, True),
        "unit_costs": ("table", None, None, True),
        "options": ("tables", None, None, True),
        "sharing": ("table", None, None, False),
        "assumptions": ("tables", None, None, False),
    },
    "inputs": {
        "network": ("string", None, None, True),
        "households": ("string", None, None, True),
    },
    "simulation": {
        "method": ("string", None, None, False),
        "days": ("integer", 1, 28, False),
        "step_min": ("number", 1, 60, False),
        "first_weekday": ("integer", 0, 6, False),
        "roof_height_m": ("number", 0.5, 50, False),
        "initial_fill_share": ("number", 0, 1, False),
        "min_pressure_m": ("number", 0, 100, False),
        "max_pressure_m": ("number", 1, 500, False),
    },
    "zones": {
        "name": ("string", None, None, True),
        "label": ("string", None, None, False),
        "valve": ("string", None, None, True),
        "hours": ("string", None, None, True),
        "days": ("string", None, None, True),
        "source": ("string", None, None, False),
    },
    "bulk": {
        "reservoir": ("string", None, None, True),
        "label": ("string", None, None, False),
        "price_per_m3": ("number", 0, 1000, True),
        "max_flow_l_per_s": ("number", 0.01, 100_000, False),
        "contracted_m3_per_week": ("number", 0.01, 1e9, False),
        "source": ("string", None, None, False),
    },
    "leakage": {
        "nrw_share": ("number", 0, 0.9, True),
        "physical_share": ("number", 0, 1, True),
        "exponent": ("number", 0.3, 2.5, False),
        "nrw_source": ("string", None, None, False),
        "physical_source": ("string", None, None, False),
    },
    "money": {
        "currency": ("string", None, None, True),
        "per_usd": ("number", 1e-6, 1e6, True),
        "per_eur": ("number", 1e-6, 1e6, True),
        "benchmark_usd_per_person": ("pair", 0, 1e6, False),
        "tariff_per_m3": ("number", 0, 1e6, False),
        "tariff_source": ("string", None, None, False),
        "per_usd_source": ("string", None, None, False),
        "per_eur_source": ("string", None, None, False),
        "benchmark_source": ("string", None, None, False),
    },
    "unit_costs": {"*": ("cost", None, None, False)},
    "cost": {
        "value": ("number", 0, 1e12, True),
        "unit": ("string", None, None, True),
        "source": ("string", None, None, True),
    },
    "options": {
        "name": ("string", None, None, True),
        "label": ("string", None, None, False),
        "kind": ("string", None, None, True),
        "unit_cost": ("string", None, None, True),
        "quantity": ("number", 0, 1e9, False),
        "links": ("strings", None, None, False),
        "diameter_mm": ("number", 10, 3000, False),
        "setting_m": ("number", 0, 300, False),
        "factor": ("number", 0, 1, False),
        "slots": ("tables", None, None, False),
        "max_evaluations": ("integer", 1, 1000, False),
        "source": ("string", None, None, False),
    },
    "slots": {
        "hours": ("string", None, None, True),
        "days": ("string", None, None, True),
    },
    "sharing": {"common_links": ("strings", None, None, False)},
    "assumptions": {
        "item": ("string", None, None, True),
        "value": ("string", None, None, True),
        "source": ("string", None, None, True),
    },
}


def _kind_error(value, kind: str, low, high) -> str | None:
    """What is wrong with ``value`` for a key of ``kind`` and range [low, high], or None."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind in ("number", "integer"):
        if not is_number or not math.isfinite(value):
            return "a finite number" + (f" in [{low:g}, {high:g}]" if low is not None else "")
        if kind == "integer" and not float(value).is_integer():
            return f"a whole number in [{low:g}, {high:g}]"
        if low is not None and not (low <= value <= high):
            return f"a number in [{low:g}, {high:g}]"
        return None
    if kind == "pair":
        ok = (
            isinstance(value, list)
            and len(value) == 2
            and all(
                isinstance(v, int | float)
                and not isinstance(v, bool)
                and math.isfinite(v)
                and low <= v <= high
                for v in value
            )
            and value[0] <= value[1]
        )
        return None if ok else f"two increasing numbers in [{low:g}, {high:g}]"
    expected = {"string": str, "table": dict, "tables": list, "strings": list, "cost": dict}
    if not isinstance(value, expected[kind]):
        return {
            "string": "text",
            "table": "a table",
            "tables": "a list of tables",
            "strings": "a list of text",
            "cost": "a table of value, unit, source",
        }[kind]
    if kind == "string" and not value.strip():
        return "non-empty text"
    if kind == "tables" and not all(isinstance(v, dict) for v in value):
        return "a list of tables"
    if kind == "strings" and not all(isinstance(v, str) and v for v in value):
        return "a list of non-empty text"
    return None


def _check_section(table: dict, section: str, where: str, path: Path) -> None:
    """Check every key of ``table`` (the part ``where`` of section ``section``), recursively."""
    spec = SCHEMA[section]
    for key, value in table.items():
        rule = spec.get(key, spec.get("*"))
        if rule is None:
            allowed = ", ".join(sorted(spec))
            raise InputError(
                f"{path}: [{where}] unknown key {key!r}{did_you_mean(key, spec)}; allowed: "
                f"{allowed}"
            )
        kind, low, high, _ = rule
        problem = _kind_error(value, kind, low, high)
        if problem:
            raise InputError(f"{path}: [{where}] {key} = {value!r}: expected {problem}")
        inner = f"{where}.{key}" if where else key
        if kind == "table" and key in SCHEMA:
            _check_section(value, key, inner, path)
        elif kind == "cost":
            _check_section(value, "cost", inner, path)
        elif kind == "tables" and key in SCHEMA:
            for k, item in enumerate(value):
                _check_section(item, key, f"{inner}[{k}]", path)
    for key, (_, _, _, required) in spec.items():
        if required and key not in table:
            raise InputError(f"{path}: [{where or 'study'}] the key {key!r} is required")


@dataclass(frozen=True)
class Cost:
    """A unit price in the study's currency, with its unit and source."""

    value: float
    unit: str
    source: str


@dataclass(frozen=True, kw_only=True)
class OptionSpec:
    """One investment option of the study file.

    Attributes
    ----------
    name, label : str
        Identifier and title.
    kind : str
        ``schedule`` (which zone when, :func:`hydro.intermittent.optimise_schedule` over
        ``slots``), ``pipes`` (the ``links`` at ``diameter_mm``), ``prv`` (the ``links``
        become pressure-reducing valves at ``setting_m``: zoning) or ``leakage`` (every
        emitter times ``factor``; on the ``links``' junctions when given).
    unit_cost : str
        The key of its unit price in ``[unit_costs]``.
    quantity : float, optional
        Quantity of the unit price; default: the links' length (in the price's unit: per m
        or per km) for ``pipes`` and ``leakage``, the number of valves for ``prv``, 1
        otherwise.
    """

    name: str
    label: str
    kind: str
    unit_cost: str
    quantity: float | None = None
    links: tuple[str, ...] = ()
    diameter_mm: float | None = None
    setting_m: float | None = None
    factor: float = 1.0
    slots: tuple = ()
    max_evaluations: int = 40
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class IntermittentStudy:
    """A study file of ``kind = "intermittent"``, read and checked.

    Attributes
    ----------
    path : Path
        The study file.
    name, title : str
        Output folder name and report title.
    network, households : Path
        The EPANET network and its households table (resolved against the study's folder).
    zones : list of dict
        Today's schedule: name, label, valve, hours, days, source per zone.
    bulk : list of BulkPoint
        The bulk connections (price in the study's currency per m3).
    settings : IntermittentSettings
        How the intermittent runs are modelled.
    leakage, money : dict
        ``[leakage]`` and ``[money]`` as given (with defaults).
    unit_costs : dict of Cost
        Unit prices by key.
    options : list of OptionSpec
        The investment options.
    common_links : tuple of str
        Link names or patterns (``M_*``) of the mains the municipalities share.
    min_pressure_m, max_pressure_m : float
        Pressure limits at the consumer nodes in continuous supply, for the checks [m].
    raw : dict
        The study file as read (for the assumptions table).
    """

    path: Path
    name: str
    title: str
    network: Path
    households: Path
    zones: list
    bulk: list
    settings: IntermittentSettings
    leakage: dict
    money: dict
    unit_costs: dict
    options: list
    common_links: tuple = ()
    min_pressure_m: float = 10.0
    max_pressure_m: float = 80.0
    raw: dict = field(default_factory=dict)

    def inputs(self) -> list[Path]:
        """Every file the study reads: no output may replace one."""
        return [self.path, self.network, self.households]


def _file(inputs: dict, key: str, path: Path) -> Path:
    """An input file named in ``[inputs]``, resolved against the study's folder."""
    target = (path.parent / inputs[key]).resolve()
    if not target.is_file():
        raise InputError(f"{path}: [inputs] {key} = {inputs[key]!r}: no such file ({target})")
    return target


def _zones(data: dict, path: Path) -> list[dict]:
    """Today's schedule, each zone's hours and days parsed (errors name the zone)."""
    zones, seen = [], set()
    for k, z in enumerate(data["zones"]):
        where = f"{path}: [zones[{k}]] ({z['name']})"
        if z["name"] in seen:
            raise InputError(f"{where}: the zone name is used twice")
        seen.add(z["name"])
        try:
            hours, days = parse_hours(z["hours"]), parse_days(z["days"])
            ZoneSchedule(z["name"], z["valve"], hours, days)
        except InputError as exc:
            raise InputError(f"{where}: {exc}") from exc
        zones.append(
            {
                **z,
                "label": z.get("label", z["name"]),
                "hours_parsed": hours,
                "days_parsed": days,
                "source": z.get("source", ""),
            }
        )
    return zones


def _options(data: dict, costs: dict, path: Path) -> list[OptionSpec]:
    """The investment options, each checked for its kind's keys."""
    options, seen = [], set()
    for k, o in enumerate(data["options"]):
        where = f"{path}: [options[{k}]] ({o['name']})"
        if not NAME.fullmatch(o["name"]):
            raise InputError(f"{where}: name: letters, digits, '_' and '-' only (it names files)")
        if o["name"] in seen or o["name"] == "today":
            raise InputError(f"{where}: the name is used twice (or is 'today', which is reserved)")
        seen.add(o["name"])
        if o["kind"] not in OPTION_KINDS:
            raise InputError(f"{where}: kind = {o['kind']!r}; allowed: {', '.join(OPTION_KINDS)}")
        if o["unit_cost"] not in costs:
            raise InputError(
                f"{where}: unit_cost = {o['unit_cost']!r} is not in [unit_costs]"
                f"{did_you_mean(o['unit_cost'], costs)}; there: {', '.join(sorted(costs))}"
            )
        needs = {"schedule": "slots", "pipes": "diameter_mm", "prv": "setting_m",
                 "leakage": "factor"}[o["kind"]]  # fmt: skip
        with_links = o["kind"] in ("pipes", "prv")
        if needs not in o or (with_links and not o.get("links")):
            missing = f"links and {needs}" if with_links else needs
            raise InputError(f"{where}: a {o['kind']} option needs {missing}")
        slots = []
        for s in o.get("slots", []):
            try:
                slots.append((parse_hours(s["hours"]), parse_days(s["days"])))
            except InputError as exc:
                raise InputError(f"{where}: slots: {exc}") from exc
        options.append(
            OptionSpec(
                name=o["name"],
                label=o.get("label", o["name"]),
                kind=o["kind"],
                unit_cost=o["unit_cost"],
                quantity=o.get("quantity"),
                links=tuple(o.get("links", ())),
                diameter_mm=o.get("diameter_mm"),
                setting_m=o.get("setting_m"),
                factor=float(o.get("factor", 1.0)),
                slots=tuple(slots),
                max_evaluations=int(o.get("max_evaluations", 40)),
                source=o.get("source", ""),
            )
        )
    return options


def _settings(data: dict, path: Path) -> IntermittentSettings:
    """``[simulation]``: the intermittent run's settings (the method among :data:`METHODS`)."""
    sim = dict(data.get("simulation", {}))
    sim.pop("min_pressure_m", None)
    sim.pop("max_pressure_m", None)
    if sim.get("method", "volume") not in METHODS:
        raise InputError(
            f"{path}: [simulation] method = {sim['method']!r}; allowed: {', '.join(METHODS)}"
        )
    if "days" in sim:
        sim["days"] = int(sim["days"])
    if "first_weekday" in sim:
        sim["first_weekday"] = int(sim["first_weekday"])
    return IntermittentSettings(**sim)


def load_intermittent_study(path: str | Path, data: dict | None = None) -> IntermittentStudy:
    """Read and check a study file of ``kind = "intermittent"``.

    Parameters
    ----------
    path : path-like
        The study file, or the folder that holds it as ``study.toml``.
    data : dict, optional
        The file's content when already read (by :func:`hydro.study.load_study`).

    Returns
    -------
    IntermittentStudy
        Every key checked (unknown keys, kinds, ranges, cross-references); paths resolved
        against the study file's folder.

    Examples
    --------
    >>> study = load_intermittent_study("studies/plus")
    >>> [z["name"] for z in study.zones][:2]
    ['bir_nabala', 'al_jib']
    """
    path = Path(path)
    path = path / "study.toml" if path.is_dir() else path
    if data is None:
        if not path.is_file():
            raise InputError(f"{path}: no such study file")
        try:
            data = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not a valid TOML study file: {exc}") from exc
    _check_section(data, "", "", path)
    if data["kind"] != "intermittent":
        raise InputError(f"{path}: kind = {data['kind']!r}; this reader takes 'intermittent'")
    costs = {
        k: Cost(float(v["value"]), v["unit"], v["source"]) for k, v in data["unit_costs"].items()
    }
    bulk = [
        BulkPoint(
            source=b["reservoir"],
            max_flow_l_per_s=b.get("max_flow_l_per_s"),
            price_per_m3=float(b["price_per_m3"]),
            contracted_m3_per_week=b.get("contracted_m3_per_week"),
        )
        for b in data["bulk"]
    ]
    money = {"benchmark_usd_per_person": None, **data["money"]}
    return IntermittentStudy(
        path=path,
        name=data["name"],
        title=data["title"],
        network=_file(data["inputs"], "network", path),
        households=_file(data["inputs"], "households", path),
        zones=_zones(data, path),
        bulk=bulk,
        settings=_settings(data, path),
        leakage={"exponent": LEAKAGE_EXPONENT, **data["leakage"]},
        money=money,
        unit_costs=costs,
        options=_options(data, costs, path),
        common_links=tuple(data.get("sharing", {}).get("common_links", ())),
        min_pressure_m=float(data.get("simulation", {}).get("min_pressure_m", 10.0)),
        max_pressure_m=float(data.get("simulation", {}).get("max_pressure_m", 80.0)),
        raw=data,
    )


# --------------------------------------------------------------------------- the run
@dataclass(kw_only=True)
class OptionOutcome:
    """One option's (or today's) run, network, cost and independent check.

    Attributes
    ----------
    name, label, kind : str
        ``today`` for today's schedule.
    schedules : list of ZoneSchedule
        The schedule of the run.
    network : WaterNetworkModel
        The network of the run (with its emitters).
    result : IntermittentResult
        What each node and municipality gets.
    capital : float
        Capital cost in the study's currency.
    quantity : float
        Quantity of the unit price.
    cost : Cost or None
        The unit price.
    nrw_share : float
        Non-revenue water: (leakage + commercial losses) / water bought.
    check : dict
        The independent EPANET check of the written network (:func:`verify_option`).
    inp_text : str
        The network as written for that check (an output of the study).
    """

    name: str
    label: str
    kind: str
    schedules: list
    network: wntr.network.WaterNetworkModel
    result: IntermittentResult
    capital: float = 0.0
    quantity: float = 0.0
    cost: Cost | None = None
    nrw_share: float = float("nan")
    check: dict = field(default_factory=dict)
    inp_text: str = ""


@dataclass(kw_only=True)
class IntermittentStudyResult:
    """What :func:`run_intermittent_study` found.

    Attributes
    ----------
    study : IntermittentStudy
    outcomes : list of OptionOutcome
        Today first, then each option.
    equity, options, sharing, bulk, schedule, verification, assumptions : DataFrame
        The study's tables (see :func:`write_intermittent_outputs`).
    leak_m3_per_day : float
        The calibrated leakage at the reference condition.
    commercial_share : float
        Commercial losses as a share of the water households take.
    summary : DataFrame
        What ``hydro run`` prints.
    seconds : float
        Time to compute.
    """

    study: IntermittentStudy
    outcomes: list
    equity: pd.DataFrame
    options: pd.DataFrame
    sharing: pd.DataFrame
    bulk: pd.DataFrame
    schedule: pd.DataFrame
    verification: pd.DataFrame
    assumptions: pd.DataFrame
    leak_m3_per_day: float
    commercial_share: float
    summary: pd.DataFrame
    seconds: float


def load_inputs(study: IntermittentStudy) -> tuple[wntr.network.WaterNetworkModel, pd.DataFrame]:
    """Step 2: the network and the households table, checked against each other and the zones."""
    wn = read_network(study.network)
    households = read_table(study.households, "households table")
    for column in ("node", "people", "demand_l_per_person_day", "municipality"):
        if column not in households:
            raise InputError(f"{study.households}: the households table needs a {column} column")
    households["node"] = households["node"].astype(str)
    for z in study.zones:
        if z["valve"] not in wn.link_name_list:
            raise InputError(
                f"{study.path}: [zones] {z['name']}: valve {z['valve']!r} is not a link of "
                f"{study.network}{did_you_mean(z['valve'], wn.link_name_list)}"
            )
    for b in study.bulk:
        if b.source not in wn.reservoir_name_list:
            raise InputError(
                f"{study.path}: [bulk] reservoir {b.source!r} is not a reservoir of "
                f"{study.network}; there: {', '.join(wn.reservoir_name_list)}"
            )
    for o in study.options:
        _links_of(o.links, wn, f"{study.path}: [options] {o.name}")
    _links_of(study.common_links, wn, f"{study.path}: [sharing] common_links")
    try:  # the engine's own checks of the table (nodes, numbers), naming the file
        build_model(wn, households, schedules_of(study), study.settings, study.bulk)
    except InputError as exc:
        raise InputError(f"{study.households}: {exc}") from exc
    return wn, households


def _links_of(patterns, wn, where: str) -> list[str]:
    """The pipes named or matched by ``patterns`` (``M_*``); an error when one matches none."""
    names = []
    for pattern in patterns:
        found = [n for n in wn.pipe_name_list if fnmatch.fnmatchcase(n, pattern)]
        if not found:
            raise InputError(f"{where}: link {pattern!r} matches no pipe of the network")
        names += [n for n in found if n not in names]
    return names


def schedules_of(study: IntermittentStudy) -> list[ZoneSchedule]:
    """Today's schedule as :class:`hydro.intermittent.ZoneSchedule` objects."""
    return [
        ZoneSchedule(z["name"], z["valve"], z["hours_parsed"], z["days_parsed"])
        for z in study.zones
    ]


def reference_pressures(wn, households: pd.DataFrame) -> pd.Series:
    """Junction pressures [m] of continuous supply at the households' desired use (every
    valve open, a steady state): where the leaks are spread (:func:`hydro.leakage.add_leakage`).
    """
    results = run_simulation(_with_demand(wn, households), duration_h=0)
    return results.pressure.iloc[0].reindex(wn.junction_name_list).fillna(0.0)


def _simulate(study, wn, households, schedules, settings=None) -> IntermittentResult:
    return simulate_intermittent(
        wn, households, schedules, settings or study.settings, bulk=study.bulk
    )


def calibrate_leakage(study, wn, households, log=lambda m: None):
    """Step 3: emitters whose leakage today is the study's physical share of its NRW.

    The leak at the reference condition (continuous supply) is scaled until today's
    intermittent run loses ``nrw_share x physical_share`` of the water bought (fewer supply
    hours leak less, so the reference leak is larger than today's).

    Returns
    -------
    (WaterNetworkModel, float)
        The network with its emitters and the leak at the reference condition [m3/day].
    """
    target = study.leakage["nrw_share"] * study.leakage["physical_share"]
    desired = float((households["people"] * households["demand_l_per_person_day"]).sum())
    leak = desired / LITRES_PER_M3 * target / max(1.0 - target, 1e-9)
    pressure = reference_pressures(wn, households)
    model = wn
    for k in range(CALIBRATION_RUNS):
        model = add_leakage(wn, leak, pressure, study.leakage["exponent"])
        if target <= 0:
            return model, 0.0
        result = _simulate(study, model, households, schedules_of(study))
        share = result.indicators["leakage_m3"] / max(result.indicators["bulk_m3"], 1e-12)
        log(f"leakage calibration {k + 1}: {leak:,.0f} m3/day at reference, {share:.1%} lost")
        if abs(share - target) < CALIBRATION_TOLERANCE or share <= 0:
            break
        leak *= target / share
    return model, leak


def commercial_share(study: IntermittentStudy) -> float:
    """Commercial losses per m3 households take: NRW x (1 - physical) / (1 - NRW x physical)."""
    nrw, physical = study.leakage["nrw_share"], study.leakage["physical_share"]
    return nrw * (1.0 - physical) / max(1.0 - nrw * physical, 1e-9)


def nrw_of(result: IntermittentResult, commercial: float) -> float:
    """Non-revenue water of a run: (leakage + commercial losses) / water bought."""
    taken = float(result.nodes["withdrawn_m3"].sum())
    leak = float(result.indicators["leakage_m3"])
    bought = taken + leak
    return (leak + commercial * taken) / bought if bought > 0 else float("nan")


def run_today(study, wn, households) -> OptionOutcome:
    """Step 4: today's schedule on today's network."""
    schedules = schedules_of(study)
    return OptionOutcome(
        name="today",
        label="Today",
        kind="today",
        schedules=schedules,
        network=wn,
        result=_simulate(study, wn, households, schedules),
    )


def _link_length(names, wn) -> float:
    return float(sum(wn.get_link(n).length for n in names))


def _per_km(cost: Cost) -> bool:
    return "km" in cost.unit.lower()


def _quantity(spec: OptionSpec, cost: Cost, links: list[str], wn) -> float:
    """The quantity of an option's unit price: given, else its links' length (m or km)."""
    if spec.quantity is not None:
        return float(spec.quantity)
    if spec.kind == "prv":
        return float(len(links))
    if spec.kind in ("pipes", "leakage"):
        metres = _link_length(links or wn.pipe_name_list, wn)
        return metres / 1000.0 if _per_km(cost) else metres
    return 1.0


def _resized(wn, links: list[str], diameter_mm: float):
    model = copy_network(wn)
    for name in links:
        model.get_link(name).diameter = diameter_mm / 1000.0
    return model


def _with_prvs(wn, links: list[str], setting_m: float):
    """A copy of ``wn`` whose ``links`` are pressure-reducing valves of the pipe's diameter,
    holding ``setting_m`` of pressure downstream (a zone valve that becomes one still opens
    and closes on the schedule, and reduces while open).
    """
    model = copy_network(wn)
    for name in links:
        pipe = model.get_link(name)
        start, end, diameter = pipe.start_node_name, pipe.end_node_name, pipe.diameter
        model.remove_link(name)
        model.add_valve(name, start, end, diameter, "PRV", 0.0, setting_m)
    return model


def _less_leaky(wn, links: list[str], factor: float):
    """A copy of ``wn`` whose emitters (at the ends of ``links``; all when none) leak
    ``factor`` times as much.
    """
    model = copy_network(wn)
    ends = (
        (
            {model.get_link(n).start_node_name for n in links}
            | {model.get_link(n).end_node_name for n in links}
        )
        if links
        else None
    )
    for name, junction in model.junctions():
        if ends is None or name in ends:
            junction.emitter_coefficient = (junction.emitter_coefficient or 0.0) * factor
    return model


def run_option(study, spec: OptionSpec, wn, households, log=lambda m: None) -> OptionOutcome:
    """Step 5: one investment option: its network or schedule, its run and its capital."""
    links = _links_of(spec.links, wn, f"{study.path}: [options] {spec.name}")
    schedules = schedules_of(study)
    network = wn
    if spec.kind == "schedule":
        valves = {z["name"]: z["valve"] for z in study.zones}
        start = {}
        for z in study.zones:  # start from today's slot where today's is among the slots
            today = (z["hours_parsed"], z["days_parsed"])
            start[z["name"]] = spec.slots.index(today) if today in spec.slots else 0
        choice = optimise_schedule(
            wn,
            households,
            valves,
            spec.slots,
            study.settings,
            bulk=study.bulk,
            start=start,
            max_evaluations=spec.max_evaluations,
        )
        log(f"option {spec.name}: {len(choice.history)} schedules tried")
        schedules, result = choice.schedules, choice.result
    else:
        if spec.kind == "pipes":
            network = _resized(wn, links, spec.diameter_mm)
        elif spec.kind == "prv":
            network = _with_prvs(wn, links, spec.setting_m)
        else:
            network = _less_leaky(wn, links, spec.factor)
        result = _simulate(study, network, households, schedules)
    cost = study.unit_costs[spec.unit_cost]
    quantity = _quantity(spec, cost, links, wn)
    return OptionOutcome(
        name=spec.name,
        label=spec.label,
        kind=spec.kind,
        schedules=schedules,
        network=network,
        result=result,
        capital=quantity * cost.value,
        quantity=quantity,
        cost=cost,
    )


def verify_option(study, outcome: OptionOutcome, households, folder: Path) -> dict:
    """Step 6: the option's network written as ``.inp``, read back through EPANET's parser and
    run again: the intermittent run (its CU and the water bought must agree with the run
    reported), every link as designed (its kind, diameter and a valve's setting), and a
    steady state of continuous supply at the desired use (pressures, fastest pipe).
    """
    path = write_network(outcome.network, folder / f"network_{outcome.name}.inp")
    back = read_network(path)
    again = _simulate(study, back, households, outcome.schedules)
    cu, cu_again = (
        outcome.result.indicators["christiansen_cu"],
        again.indicators["christiansen_cu"],
    )
    bought = outcome.result.indicators["bulk_m3"]
    steady = reference_steady(back, households)
    outcome.inp_text = path.read_text()
    agrees = abs(cu - cu_again) < 1e-6 and abs(bought - again.indicators["bulk_m3"]) < 1e-3
    return {
        "option": outcome.name,
        "network_file": path.name,
        "christiansen_cu_reported": cu,
        "christiansen_cu_rerun": cu_again,
        "bulk_m3_rerun": again.indicators["bulk_m3"],
        "rerun_agrees": bool(agrees),
        "written_as_designed": written_as_designed(outcome.network, back),
        **steady,
        "min_pressure_ok": bool(steady["min_pressure_m"] >= study.min_pressure_m),
        "max_pressure_ok": bool(steady["max_pressure_m"] <= study.max_pressure_m),
    }


def written_as_designed(designed, written) -> bool:
    """Every link of ``designed`` in ``written`` with its kind, diameter and valve setting."""
    for name, link in designed.links():
        if name not in written.link_name_list:
            return False
        other = written.get_link(name)
        if other.link_type != link.link_type:
            return False
        if link.link_type == "Pump":
            continue
        if abs(other.diameter - link.diameter) > 1e-6:
            return False
        if link.link_type == "Valve" and abs(other.initial_setting - link.initial_setting) > 1e-6:
            return False
    return True


def reference_steady(wn, households) -> dict:
    """Lowest and highest consumer pressure [m] and fastest pipe [m/s] in continuous supply."""
    results = run_simulation(_with_demand(wn, households, leaks=True), duration_h=0)
    pressure = results.pressure.iloc[0].reindex(households["node"])
    velocity = results.velocity.iloc[0].reindex(wn.pipe_name_list).abs()
    return {
        "min_pressure_m": float(pressure.min()),
        "max_pressure_m": float(pressure.max()),
        "max_velocity_m_per_s": float(velocity.max()),
        "fastest_pipe": str(velocity.idxmax()),
    }


def run_intermittent_study(
    study: IntermittentStudy, log: Callable[[str], None] = lambda m: None
) -> IntermittentStudyResult:
    """Run an intermittent-supply study: today, each option, the equity and the costs.

    Parameters
    ----------
    study : IntermittentStudy
        :func:`load_intermittent_study`.
    log : callable
        Receives a line for each step.

    Returns
    -------
    IntermittentStudyResult
        The outcomes and the tables.

    Examples
    --------
    >>> result = run_intermittent_study(load_intermittent_study("studies/plus"))  # doctest: +SKIP
    >>> result.options[["option", "christiansen_cu"]]  # doctest: +SKIP
    """
    started = time.perf_counter()
    wn, households = load_inputs(study)
    network, leak = calibrate_leakage(study, wn, households, log)
    log("today's schedule")
    outcomes = [run_today(study, network, households)]
    for spec in study.options:
        log(f"option {spec.name} ({spec.kind})")
        outcomes.append(run_option(study, spec, network, households, log))
    commercial = commercial_share(study)
    for outcome in outcomes:
        outcome.nrw_share = nrw_of(outcome.result, commercial)
    result = IntermittentStudyResult(
        study=study,
        outcomes=outcomes,
        equity=equity_table(outcomes),
        options=options_table(study, outcomes),
        sharing=cost_sharing_table(study, outcomes, households),
        bulk=bulk_table(outcomes),
        schedule=schedule_table(study, outcomes),
        verification=verification_table(study, outcomes, households, log),
        assumptions=assumptions_table(study),
        leak_m3_per_day=leak,
        commercial_share=commercial,
        summary=pd.DataFrame(),
        seconds=0.0,
    )
    result.summary = pd.DataFrame(
        {
            "option": result.options["option"],
            "capital_eur": result.options["capital_eur"],
            "capital_usd_per_person": result.options["capital_usd_per_person"],
            "christiansen_cu_percent": 100 * result.options["christiansen_cu"],
            "satisfaction_percent": 100 * result.options["satisfaction"],
            "nrw_percent": 100 * result.options["nrw_share"],
        }
    )
    result.seconds = time.perf_counter() - started
    return result


# --------------------------------------------------------------------------- the tables
def equity_table(outcomes: list[OptionOutcome]) -> pd.DataFrame:
    """One row per option and municipality: people, water delivered per person a day,
    satisfaction, Christiansen's CU within the municipality (and a row ``all`` over everyone).
    """
    rows = []
    for o in outcomes:
        for m in o.result.municipalities.itertuples(index=False):
            rows.append(
                {
                    "option": o.name,
                    "municipality": m.municipality,
                    "people": m.people,
                    "delivered_l_per_person_day": m.delivered_l_per_person_day,
                    "satisfaction": m.satisfaction,
                    "christiansen_cu": m.christiansen_cu,
                }
            )
        ind = o.result.indicators
        desired = float(o.result.nodes["desired_m3"].sum())
        days = o.result.settings.days
        rows.append(
            {
                "option": o.name,
                "municipality": "all",
                "people": ind["people"],
                "delivered_l_per_person_day": ind["satisfaction"]
                * desired
                * LITRES_PER_M3
                / ind["people"]
                / days,
                "satisfaction": ind["satisfaction"],
                "christiansen_cu": ind["christiansen_cu"],
            }
        )
    return pd.DataFrame(rows)


def options_table(study: IntermittentStudy, outcomes: list[OptionOutcome]) -> pd.DataFrame:
    """Per option: capital in the study's currency, USD and EUR, per person against the
    benchmark, and what it buys (CU, satisfaction, p10 satisfaction, NRW, water bought a week).
    """
    per_usd, per_eur = study.money["per_usd"], study.money["per_eur"]
    low, high = study.money["benchmark_usd_per_person"] or (np.nan, np.nan)
    rows = []
    for o in outcomes:
        ind, people = o.result.indicators, o.result.indicators["people"]
        usd_per_person = o.capital / per_usd / people if people > 0 else np.nan
        weekly = ind["bulk_m3"] / o.result.settings.days * 7.0
        rows.append(
            {
                "option": o.name,
                "label": o.label,
                "kind": o.kind,
                "capital_local": o.capital,
                "capital_usd": o.capital / per_usd,
                "capital_eur": o.capital / per_eur,
                "capital_usd_per_person": usd_per_person,
                "benchmark_usd_per_person_low": low,
                "benchmark_usd_per_person_high": high,
                "christiansen_cu": ind["christiansen_cu"],
                "satisfaction": ind["satisfaction"],
                "p10_satisfaction": ind["p10_satisfaction"],
                "share_under_50_l": ind["share_under_50_l"],
                "nrw_share": o.nrw_share,
                "bulk_cost_per_week": float(o.result.bulk["cost"].sum())
                / o.result.settings.days
                * 7.0,
                "bought_m3_per_week": weekly,
                "leak_m3_per_week": ind["leakage_m3"] / o.result.settings.days * 7.0,
                **_revenue(study, o),
            }
        )
    return pd.DataFrame(rows)


def _revenue(study: IntermittentStudy, outcome: OptionOutcome) -> dict:
    """What the households pay a week: the water they take less the commercial losses
    (unbilled and illegal use, meter errors), at the study's tariff; and the margin over the
    bulk water bought. NaN when the study gives no ``[money] tariff_per_m3``.
    """
    tariff = study.money.get("tariff_per_m3")
    days = outcome.result.settings.days
    taken = float(outcome.result.nodes["withdrawn_m3"].sum()) / days * 7.0
    billed = taken * (1.0 - commercial_share(study))
    if tariff is None:
        return {"billed_m3_per_week": billed, "revenue_per_week": np.nan,
                "margin_per_week": np.nan}  # fmt: skip
    bulk = float(outcome.result.bulk["cost"].sum()) / days * 7.0
    return {"billed_m3_per_week": billed, "revenue_per_week": billed * tariff,
            "margin_per_week": billed * tariff - bulk}  # fmt: skip


def capacity_shares(study, outcome: OptionOutcome, households) -> pd.Series:
    """Each municipality's use of the common mains' capacity: per common pipe, its share of
    the flow when it alone draws its desired use (a steady state with every valve open), each
    pipe weighted by its length x diameter (what it costs, roughly). Shares add up to 1.
    """
    wn = outcome.network
    links = _links_of(study.common_links, wn, f"{study.path}: [sharing]") or wn.pipe_name_list
    weight = pd.Series({n: wn.get_link(n).length * wn.get_link(n).diameter for n in links})
    flows = {}
    for town, group in households.groupby("municipality", sort=True):
        results = run_simulation(_with_demand(wn, group), duration_h=0)
        flows[town] = results.flow.iloc[0].reindex(links).abs().fillna(0.0)
    table = pd.DataFrame(flows)
    per_pipe = table.div(table.sum(axis=1).replace(0.0, np.nan), axis=0).fillna(0.0)
    shares = per_pipe.mul(weight, axis=0).sum() / max(float(weight.sum()), 1e-12)
    return shares / shares.sum() if shares.sum() > 0 else shares


def _with_demand(wn, households: pd.DataFrame, leaks: bool = False):
    """A copy of ``wn`` whose households draw their desired use, other junctions nothing;
    its emitters (leaks) kept or taken off.
    """
    model = copy_network(wn)
    model.options.time.duration = 0
    for _, junction in model.junctions():
        if not leaks:
            junction.emitter_coefficient = 0.0
        junction.demand_timeseries_list[0].base_value = 0.0
    for row in households.itertuples(index=False):
        rate = row.people * row.demand_l_per_person_day / LITRES_PER_M3 / 86400.0
        model.get_node(row.node).demand_timeseries_list[0].base_value = rate
    return model


def cost_sharing_table(study, outcomes: list[OptionOutcome], households) -> pd.DataFrame:
    """One row per option and municipality: each option's capital shared by demand share and
    by use of the common mains' capacity; the water bought (its losses shared in proportion to
    what each municipality's households take), what it would be if the water bought were
    allocated per person, and its cost a week.
    """
    desired = (
        (households["people"] * households["demand_l_per_person_day"])
        .groupby(households["municipality"])
        .sum()
    )
    demand_share = desired / desired.sum()
    people = households.groupby("municipality")["people"].sum()
    people_share = people / people.sum()
    rows = []
    for o in outcomes:
        capacity = capacity_shares(study, o, households)
        bill = o.result.bulk
        price = float(bill["cost"].sum() / bill["volume_m3"].sum()) if len(bill) else 0.0
        taken = o.result.nodes.groupby("municipality")["withdrawn_m3"].sum()
        bought = taken / max(float(taken.sum()), 1e-12) * o.result.indicators["bulk_m3"]
        week = 7.0 / o.result.settings.days
        for town in demand_share.index:
            rows.append(
                {
                    "option": o.name,
                    "municipality": town,
                    "demand_share": float(demand_share[town]),
                    "capacity_share": float(capacity.get(town, 0.0)),
                    "capital_by_demand": o.capital * float(demand_share[town]),
                    "capital_by_capacity": o.capital * float(capacity.get(town, 0.0)),
                    "bought_m3_per_week": float(bought.get(town, 0.0)) * week,
                    # the water bought, were it allocated per person, and what the town got
                    "allocated_per_person_m3_per_week": float(bought.sum())
                    * week
                    * float(people_share.get(town, 0.0)),
                    "bulk_cost_per_week": float(bought.get(town, 0.0)) * week * price,
                }
            )
    return pd.DataFrame(rows)


def bulk_table(outcomes: list[OptionOutcome]) -> pd.DataFrame:
    """Per option and bulk point: volume a week, cost a week, the contract's share used."""
    frames = []
    for o in outcomes:
        table = o.result.bulk.copy()
        week = 7.0 / o.result.settings.days
        table.insert(0, "option", o.name)
        table["m3_per_week"] = table["volume_m3"] * week
        table["cost_per_week"] = table["cost"] * week
        frames.append(table.drop(columns=["volume_m3", "cost"]))
    return pd.concat(frames, ignore_index=True)


def schedule_table(study, outcomes: list[OptionOutcome]) -> pd.DataFrame:
    """Per option and zone: its supply days and hours, and hours a week."""
    names = {z["name"]: z["label"] for z in study.zones}
    day_names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    rows = []
    for o in outcomes:
        for s in o.schedules:
            rows.append(
                {
                    "option": o.name,
                    "zone": s.zone,
                    "label": names.get(s.zone, s.zone),
                    "valve": s.valve,
                    "days": ", ".join(day_names[d] for d in s.days),
                    "hours": ", ".join(f"{a:g}-{b:g}" for a, b in s.hours),
                    "hours_per_week": s.hours_per_day * 7.0,
                }
            )
    return pd.DataFrame(rows)


def assumptions_table(study: IntermittentStudy) -> pd.DataFrame:
    """Every figure of the study file with its source or tag ([S], [D], [E])."""
    raw, cur = study.raw, study.money["currency"]
    rows = [
        {
            "item": f"schedule today: {z['label']}",
            "value": f"{z['days']}, {z['hours']} h",
            "source": z.get("source", ""),
        }
        for z in study.zones
    ]
    for b in raw["bulk"]:
        value = f"{b['price_per_m3']:g} {cur}/m3"
        value += f", at most {b['max_flow_l_per_s']:g} l/s" if "max_flow_l_per_s" in b else ""
        if "contracted_m3_per_week" in b:
            value += f", contract {b['contracted_m3_per_week']:,.0f} m3/week"
        rows.append(
            {
                "item": f"bulk point {b.get('label', b['reservoir'])}",
                "value": value,
                "source": b.get("source", ""),
            }
        )
    leak, money = study.leakage, study.money
    rows += [
        {
            "item": "non-revenue water today",
            "value": f"{leak['nrw_share']:.0%}",
            "source": leak.get("nrw_source", ""),
        },
        {
            "item": "physical share of the non-revenue water",
            "value": f"{leak['physical_share']:.0%}",
            "source": leak.get("physical_source", ""),
        },
        {
            "item": f"{cur} per USD",
            "value": f"{money['per_usd']:g}",
            "source": money.get("per_usd_source", ""),
        },
        {
            "item": f"{cur} per EUR",
            "value": f"{money['per_eur']:g}",
            "source": money.get("per_eur_source", ""),
        },
    ]
    if money.get("tariff_per_m3") is not None:
        rows.append(
            {
                "item": "tariff",
                "value": f"{money['tariff_per_m3']:g} {cur}/m3",
                "source": money.get("tariff_source", ""),
            }
        )
    if money["benchmark_usd_per_person"]:
        low, high = money["benchmark_usd_per_person"]
        rows.append(
            {
                "item": "documented capital per person",
                "value": f"US${low:g}-{high:g}",
                "source": money.get("benchmark_source", ""),
            }
        )
    for key, c in study.unit_costs.items():
        rows.append(
            {"item": f"unit cost {key}", "value": f"{c.value:,.0f} {c.unit}", "source": c.source}
        )
    rows += [dict(a) for a in raw.get("assumptions", [])]
    return pd.DataFrame(rows, columns=["item", "value", "source"])


def verification_table(study, outcomes, households, log=lambda m: None) -> pd.DataFrame:
    """Step 6 for every outcome (the written files are kept in each ``outcome.inp_text``)."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="hydro-iws-check-") as folder:
        for o in outcomes:
            o.check = verify_option(study, o, households, Path(folder))
            log(
                f"check {o.name}: {o.check['network_file']} read back, CU "
                f"{o.check['christiansen_cu_rerun']:.3f}"
            )
            rows.append(o.check)
    return pd.DataFrame(rows)
