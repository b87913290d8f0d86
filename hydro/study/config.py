"""The study file (TOML): inputs, design choices, money, unit costs, scenarios, sensitivity.

:func:`load_study` reads and checks it; every error names the file and the key. Paths are
relative to the study file. See ``studies/oujda/study.toml`` for a commented example.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from hydro import defaults
from hydro.compliance import NODE_CLASSES, PIPE_CLASSES, Rules
from hydro.errors import InputError

#: Unit costs every study must give (value, unit, source).
REQUIRED_COSTS = (
    "standpipe",
    "household_connection",
    "tank_fixed",
    "tank_per_m3",
    "pump_station",
    "tap_off",
    "engineering_share",
    "contingency_share",
    "energy_per_kwh",
    "maintenance_share_per_year",
    "keeper_per_standpipe_per_year",
    "tariff_standpipe_per_m3",
    "fixed_fee_per_connection_per_month",
    "bulk_water_per_m3",
    "keeper_margin_per_m3",
)
#: Unit costs needed only when the network has the element (checked when the study runs).
OPTIONAL_COSTS = ("pressure_reducing_valve", "surge_vessel", "break_tank", "rock_excavation_uplift")
#: [economics]: who pays what and what is really consumed (docs/sources.md, 7); key ->
#: (default, allowed values or (low, high)).
ECONOMICS = {
    "standpipe_use_l_per_person_day": (8.5, (0.0, 200.0)),
    "household_use_l_per_person_day": (50.0, (0.0, 500.0)),
    "keeper_pay": ("margin", ("margin", "salary")),
    "connections_paid_by": ("households", ("donors", "households", "operator")),
    "household_tariff_blocks_m3_per_month": ([6.0, 20.0, 35.0], (0.0, 1e4)),
    "household_tariff_mad_per_m3": ([2.37, 7.39, 10.98, 11.03], (0.0, 1e3)),
    "house_spacing_m": (25.0, (1.0, 1000.0)),
}
#: [report]: the donor file's sections the study writes (each "en" text, or {en, fr}).
REPORT_KEYS = ("context", "authorisation", "management", "schedule", "risks", "indicators")
#: [sensitivity] parameters one at a time, each [low, high] (docs/sources.md, 7).
SENSITIVITY_KEYS = {
    "growth_rate": (-0.1, 0.1), "per_capita_demand_factor": (0.1, 5.0),
    "pipe_price_factor": (0.1, 5.0), "pump_station_mad": (0.0, 1e8),
    "tank_cost_factor": (0.1, 5.0), "standpipe_mad": (0.0, 1e7),
    "household_connection_mad": (0.0, 1e7), "rock_excavation_uplift": (0.0, 2.0),
    "mad_per_eur": (1.0, 100.0), "connection_share_factor": (0.0, 5.0),
    "bulk_water_per_m3": (0.0, 100.0), "standpipe_use_l_per_person_day": (0.0, 200.0),
}  # fmt: skip
#: ONEP douar projects, 1,300 (Tuscany-Angad, PAGER) to 2,850 MAD (Ahl Angad) per beneficiary:
#: Oujda brief 4.1 and 5.5 [D]. A study may give its own ([money] benchmark_mad_per_beneficiary).
BENCHMARK_MAD_PER_BENEFICIARY = (1300.0, 2850.0)
BENCHMARK_SOURCE = "Oujda brief 4.1/5.5 [D]: ONEP douar projects 1,300-2,850 MAD per beneficiary"


# --------------------------------------------------------------------------- study file
@dataclass
class Cost:
    value: float
    unit: str
    source: str


@dataclass
class ScenarioSpec:
    name: str
    label: str
    service: str  # demand scenario served (standpipes / household_connections)
    sizing: str  # demand scenario the pipes are sized for (design year)
    break_tank: bool = False  # a break tank between the main and the booster
    label_fr: str = ""  # the label in the French report (default: label)


@dataclass
class Study:
    path: Path
    name: str
    title: str
    network: Path
    villages: Path
    patterns: Path | None
    pipe_catalog: Path
    pump_catalog: Path | None
    base_year: int
    horizon_year: int
    tank: str
    pump: str | None
    pumping_hours: float
    reserve_hours: float
    supply_hours: tuple[int, ...]
    min_distribution_dn_mm: float | None
    simulation_hours: float
    persons_per_household: float
    mad_per_eur: Cost
    budget_eur: float
    funders: list[tuple[str, float]]
    life_years: float
    discount_rate: float
    costs: dict[str, Cost]
    scenarios: list[ScenarioSpec]
    sensitivity: dict
    sources: dict = field(default_factory=dict)
    #: Looped networks only: the optimiser's time limit per sizing run [s] and its seed
    looped_time_limit_s: float = defaults.LOOPED_TIME_LIMIT_S
    seed: int = 1
    #: Design rules checked over days of operation (defaults: Oujda brief 5.1)
    rules: Rules = field(default_factory=Rules)
    #: Capital cost per beneficiary of Moroccan rural projects, low and high [MAD]
    benchmark_mad_per_beneficiary: tuple[float, float] = BENCHMARK_MAD_PER_BENEFICIARY
    #: [economics]: see :data:`ECONOMICS`
    economics: dict = field(default_factory=lambda: {k: v for k, (v, _) in ECONOMICS.items()})
    #: Each funder's commitment [EUR] (None when the study gives shares only)
    commitments_eur: dict = field(default_factory=dict)
    #: [budget]: the scenarios (service levels) the design-to-budget mode may choose from
    budget_scenarios: list = field(default_factory=list)
    #: The title in the French report, and the donor file's sections ([report]: REPORT_KEYS)
    title_fr: str = ""
    report_text: dict = field(default_factory=dict)

    @property
    def crf(self) -> float:
        """Capital recovery factor i(1+i)^n / ((1+i)^n - 1)."""
        i, n = self.discount_rate, self.life_years
        return i * (1 + i) ** n / ((1 + i) ** n - 1) if i > 0 else 1 / n


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
    """[rules]: standpipe_min_pressure_m, household_min_pressure_m, junction_min_pressure_m,
    max_pressure_m, distribution_velocity_m_per_s and transmission_velocity_m_per_s ([low,
    high]), tank_reserve_share; anything not given keeps its default."""
    known = {
        "standpipe_min_pressure_m", "household_min_pressure_m", "junction_min_pressure_m",
        "max_pressure_m", "distribution_velocity_m_per_s", "transmission_velocity_m_per_s",
        "tank_reserve_share",
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
        )
    except InputError as exc:
        raise InputError(f"{path}: [rules] {exc}") from exc
    highest_minimum = max(rules.min_pressure_m.values())
    if max_pressure is not None and max_pressure <= highest_minimum:
        raise InputError(
            f"{path}: [rules] impossible pressure targets: maximum {max_pressure:g} m is not "
            f"above the minimum {highest_minimum:g} m"
        )
    return rules


def load_study(path: str | os.PathLike) -> Study:
    """Read and check a study file; every error names the file and the key.

    Parameters
    ----------
    path : path
        The study file (TOML), or the folder that holds it as ``study.toml``.

    Returns
    -------
    Study
        The study, with paths resolved against the study file's folder.

    Examples
    --------
    >>> study = load_study("studies/oujda")  # doctest: +SKIP
    >>> study.horizon_year  # doctest: +SKIP
    2030
    """
    from hydro.storage import parse_hours

    path = Path(path)
    if path.is_dir():  # a study's folder holds its study.toml
        path = path / "study.toml"
    if not path.is_file():
        raise InputError(f"{path}: no such study file")
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a valid TOML study file: {exc}") from exc
    inputs = _get(data, "inputs", "study", path, dict)
    design = _get(data, "design", "study", path, dict)
    money = _get(data, "money", "study", path, dict)
    costs_raw = _get(data, "unit_costs", "study", path, dict)
    costs = {}
    for key in REQUIRED_COSTS + tuple(k for k in OPTIONAL_COSTS if k in costs_raw):
        entry = _get(costs_raw, key, "unit_costs", path, dict)
        costs[key] = Cost(
            _number(entry, "value", f"unit_costs.{key}", path),
            str(entry.get("unit", "")),
            str(entry.get("source", "estimate")),
        )
    rate = _get(money, "mad_per_eur", "money", path, dict)
    funders = []
    for k, f in enumerate(_get(money, "funders", "money", path, list)):
        funders.append(
            (str(_get(f, "name", f"money.funders[{k}]", path)),
             _number(f, "share", f"money.funders[{k}]", path))
        )  # fmt: skip
    total_share = sum(s for _, s in funders)
    if abs(total_share - 1) > 1e-9:
        raise InputError(f"{path}: [money] the funders' shares add up to {total_share:g}, not 1")
    scenarios = []
    allowed = ("standpipes", "household_connections")
    for k, s in enumerate(_get(data, "scenarios", "study", path, list)):
        where = f"scenarios[{k}]"
        spec = ScenarioSpec(
            str(_get(s, "name", where, path)),
            str(s.get("label", s.get("name"))),
            str(_get(s, "service", where, path)),
            str(s.get("sizing", s.get("service"))),
            break_tank=_get(s, "break_tank", where, path, bool) if "break_tank" in s else False,
            label_fr=str(s.get("label_fr", "")),
        )
        for key in ("service", "sizing"):
            if getattr(spec, key) not in allowed:
                raise InputError(
                    f"{path}: [{where}] {key} = {getattr(spec, key)!r}; allowed: "
                    f"{', '.join(allowed)}"
                )
        scenarios.append(spec)
    if not scenarios:
        raise InputError(f"{path}: the study needs at least one [[scenarios]]")
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise InputError(f"{path}: scenario names must be unique: {names}")
    sensitivity = dict(data.get("sensitivity", {}))
    if sensitivity and sensitivity.get("scenario", names[0]) not in names:
        raise InputError(f"{path}: [sensitivity] scenario must be one of {names}")
    base, horizon = (
        int(_number(design, "base_year", "design", path)),
        int(_number(design, "horizon_year", "design", path)),
    )
    if horizon < base:
        raise InputError(f"{path}: [design] horizon_year {horizon} is before base_year {base}")
    study = Study(
        path=path,
        name=str(data.get("name", path.parent.name)),
        title=str(data.get("title", path.parent.name)),
        network=_file(inputs, "network", path),
        villages=_file(inputs, "villages", path),
        patterns=_file(inputs, "patterns", path, required=False),
        pipe_catalog=_file(inputs, "pipe_catalog", path),
        pump_catalog=_file(inputs, "pump_catalog", path, required=False),
        base_year=base,
        horizon_year=horizon,
        tank=str(_get(design, "tank", "design", path)),
        pump=str(design["pump"]) if design.get("pump") else None,
        pumping_hours=float(design.get("pumping_hours", defaults.PUMPING_HOURS)),
        reserve_hours=float(design.get("storage_reserve_hours", defaults.RESERVE_HOURS)),
        supply_hours=parse_hours(design.get("source_supply_hours")),
        min_distribution_dn_mm=(
            float(design["min_distribution_dn_mm"]) if "min_distribution_dn_mm" in design else None
        ),
        simulation_hours=float(design.get("simulation_hours", 72.0)),
        looped_time_limit_s=float(design.get("looped_time_limit_s", defaults.LOOPED_TIME_LIMIT_S)),
        seed=int(design.get("seed", 1)),
        persons_per_household=float(
            design.get("persons_per_household", defaults.PERSONS_PER_HOUSEHOLD)
        ),
        mad_per_eur=Cost(
            _number(rate, "value", "money.mad_per_eur", path),
            "MAD/EUR",
            str(rate.get("source", "estimate")),
        ),
        budget_eur=_number(money, "budget_eur", "money", path),
        funders=funders,
        life_years=_number(money, "life_years", "money", path),
        discount_rate=_number(money, "discount_rate", "money", path),
        costs=costs,
        scenarios=scenarios,
        sensitivity=sensitivity,
        sources=dict(data.get("sources", {})),
    )
    if "rules" in data:
        study.rules = _rules(data["rules"], path)
    if "benchmark_mad_per_beneficiary" in money:
        pair = money["benchmark_mad_per_beneficiary"]
        if not (isinstance(pair, list) and len(pair) == 2 and 0 < pair[0] < pair[1]):
            raise InputError(
                f"{path}: [money] benchmark_mad_per_beneficiary must be [low, high] in MAD"
            )
        study.benchmark_mad_per_beneficiary = (float(pair[0]), float(pair[1]))
    _issue14_keys(study, data, money, names, path)
    return study


def _in_range(value, allowed, where: str, key: str, path: Path):
    """``value`` checked against a (low, high) range (each item of a list) or allowed words."""
    if isinstance(allowed[0], str):
        if value not in allowed:
            raise InputError(f"{path}: [{where}] {key} = {value!r}; allowed: {', '.join(allowed)}")
        return value
    items = value if isinstance(value, list) else [value]
    for v in items:
        if (
            isinstance(v, bool)
            or not isinstance(v, int | float)
            or not allowed[0] <= v <= allowed[1]
        ):
            raise InputError(
                f"{path}: [{where}] {key} = {value!r}: numbers in [{allowed[0]:g}, {allowed[1]:g}] "
                "are required"
            )
    return [float(v) for v in items] if isinstance(value, list) else float(value)


def _issue14_keys(study: Study, data: dict, money: dict, names: list, path: Path) -> None:
    """[economics], funders' commitment_eur, [budget] and the [sensitivity] ranges."""
    economics = dict(data.get("economics", {}))
    unknown = set(economics) - set(ECONOMICS)
    if unknown:
        raise InputError(
            f"{path}: [economics] unknown key(s) {', '.join(sorted(unknown))}; allowed: "
            f"{', '.join(ECONOMICS)}"
        )
    for key, value in economics.items():
        study.economics[key] = _in_range(value, ECONOMICS[key][1], "economics", key, path)
    blocks = study.economics["household_tariff_blocks_m3_per_month"]
    prices = study.economics["household_tariff_mad_per_m3"]
    if len(prices) != len(blocks) + 1 or blocks != sorted(blocks):
        raise InputError(
            f"{path}: [economics] household_tariff_mad_per_m3 needs one price per block of "
            "household_tariff_blocks_m3_per_month (increasing upper limits) plus one above"
        )
    for k, f in enumerate(money.get("funders", [])):
        if "commitment_eur" in f:
            study.commitments_eur[study.funders[k][0]] = _in_range(
                f["commitment_eur"], (0.0, 1e10), f"money.funders[{k}]", "commitment_eur", path
            )
    study.title_fr = str(data.get("title_fr", ""))
    report = dict(data.get("report", {}))
    for key, value in report.items():
        if key not in REPORT_KEYS:
            raise InputError(
                f"{path}: [report] unknown key {key}; allowed: {', '.join(REPORT_KEYS)}"
            )
        text = value if isinstance(value, dict) else {"en": value}
        if set(text) - {"en", "fr"} or not all(isinstance(v, str) for v in text.values()):
            raise InputError(f"{path}: [report] {key} must be a text or {{ en = ..., fr = ... }}")
        study.report_text[key] = text
    budget = dict(data.get("budget", {}))
    study.budget_scenarios = [str(n) for n in budget.get("scenarios", [])]
    if set(budget) - {"scenarios"} or set(study.budget_scenarios) - set(names):
        raise InputError(f"{path}: [budget] takes scenarios = a list of {names}")
    for key, value in study.sensitivity.items():
        if key == "scenario":
            continue
        if key not in SENSITIVITY_KEYS:
            raise InputError(
                f"{path}: [sensitivity] unknown key {key}; allowed: scenario, "
                f"{', '.join(SENSITIVITY_KEYS)}"
            )
        if not (isinstance(value, list) and len(value) == 2):
            raise InputError(f"{path}: [sensitivity] {key} must be [low, high]")
        _in_range(value, SENSITIVITY_KEYS[key], "sensitivity", key, path)
