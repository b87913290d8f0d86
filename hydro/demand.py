"""Village demand: projection to a design year, service levels, losses, peaks, allocation.

Pure functions first (population, per-capita and peak formulas), then the :class:`DemandScenario`
that holds every parameter with its source, the village table reader, and the adapter that
writes node demands and patterns into a copy of a network.

Conventions (as in docs/sources.md, 5.2):

- consumption = domestic + other public uses + institutions + livestock [l/day];
- node demand = consumption / distribution efficiency (distribution losses leave at the nodes);
- withdrawal at the source = node demand / transmission efficiency;
- peak day = average day x peak-day factor; the hourly pattern (mean 1) then shapes the day,
  so node demand at hour t = peak-day demand x pattern(t). The peak hour comes from the
  pattern's maximum, or from a peak-hour factor when one is given, never both.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import wntr

from hydro import defaults, validate
from hydro._csv import read_table
from hydro.classes import parse_node_tag, tag_node_classes
from hydro.errors import InputError, did_you_mean
from hydro.network import copy_network
from hydro.units import LITRES_PER_M3, SECONDS_PER_DAY

log = logging.getLogger(__name__)

SERVICES = ("standpipe", "household")
#: How far from 1 the mean of an hourly pattern may be [-].
PATTERN_MEAN_TOLERANCE = 1e-3

#: Hourly patterns of docs/sources.md, 5.2 (24 multipliers, mean exactly 1) [D/E].
STANDPIPE_PATTERN = (
    0.10, 0.10, 0.10, 0.10, 0.15, 0.39, 1.17, 1.96, 2.15, 1.76, 1.27, 1.08,
    0.95, 0.88, 0.98, 1.37, 1.86, 2.25, 2.15, 1.56, 0.88, 0.49, 0.20, 0.10,
)  # fmt: skip
HOUSEHOLD_PATTERN = (
    0.34, 0.29, 0.29, 0.29, 0.39, 0.68, 1.26, 1.65, 1.74, 1.45, 1.16, 1.16,
    1.24, 1.16, 0.97, 0.87, 0.97, 1.26, 1.55, 1.65, 1.45, 1.06, 0.68, 0.44,
)  # fmt: skip


#: Flow of one household connection's tap [l/s]: NF DTU 60.11 P1-1 (2013) base flow of a
#: kitchen-sink tap, 0.20 l/s [S*: the standard's table is recalled, not read here]; a yard tap
#: is the usual rural connection. docs/sources.md, 5.1.
CONNECTION_FLOW_L_PER_S = 0.20
#: Household connections: the number open at once is the 99th percentile of a binomial
#: distribution (Hunter 1940, NBS BMS65, "Methods of estimating loads in plumbing systems":
#: the design load is exceeded 1% of the time) [S*].
SIMULTANEITY_PERCENTILE = 0.99
TAP_SOURCES = {
    "standpipe": "docs/sources.md, 5.1 [E]: 2 taps x 0.25 l/s per standpipe (0.5 l/s design flow)",
    "household": "NF DTU 60.11 P1-1 (2013) [S*]: 0.20 l/s per connection (kitchen-sink tap); "
    "simultaneous connections: binomial 99th percentile (Hunter 1940, NBS BMS65) [S*]",
}


# --------------------------------------------------------------------------- pure formulas
def population_projected(population, base_year, year, growth_rate):
    """Population in ``year`` by compound growth.

    .. math:: P(t) = P_0 (1 + r)^{t - t_0}

    Parameters
    ----------
    population : float or array
        Population in the base year [persons].
    base_year, year : int
        Census year and target year [year].
    growth_rate : float or array
        Annual growth rate [1/year], e.g. 0.01 for +1 %/yr.

    Examples
    --------
    >>> round(float(population_projected(1000, 2012, 2030, 0.01)), 1)
    1196.1
    """
    return population * (1.0 + growth_rate) ** (year - base_year)


def demand_gross(consumption, transmission_efficiency, distribution_efficiency):
    r"""Withdrawal at the source needed for a consumption, after network losses.

    .. math:: Q_{source} = Q_{consumed} / (\eta_t \eta_d)

    >>> round(demand_gross(25.0, 0.95, 0.8), 3)
    32.895
    """
    return consumption / (transmission_efficiency * distribution_efficiency)


def taps_needed(people_on_standpipes, peak_hour_flow_l_per_s, max_people_per_tap, tap_flow_l_per_s):
    """Taps needed so that neither the Sphere people-per-tap limit nor the tap flow is exceeded.

    Parameters
    ----------
    people_on_standpipes : float
        People served by standpipes [persons].
    peak_hour_flow_l_per_s : float
        Peak-hour flow drawn at the standpipes [l/s].
    max_people_per_tap : float
        Sphere: 250 people per tap (at 7.5 l/min).
    tap_flow_l_per_s : float
        Flow of one tap [l/s].

    >>> taps_needed(600, 0.8, 250, 0.25)
    4
    """
    by_people = math.ceil(people_on_standpipes / max_people_per_tap - 1e-9)
    by_flow = math.ceil(peak_hour_flow_l_per_s / tap_flow_l_per_s - 1e-9)
    return max(by_people, by_flow, 0)


def open_probability(peak_hour_l_per_s, taps, tap_flow_l_per_s):
    r"""Share of the peak hour a tap is open: the peak-hour flow over the taps' full flow.

    .. math:: p = Q_{peak\,hour} / (n \, q_{tap}), \quad 0 \le p \le 1

    >>> round(open_probability(0.3, 2, 0.25), 2)
    0.6
    """
    capacity = taps * tap_flow_l_per_s
    return float(min(max(peak_hour_l_per_s / capacity, 0.0), 1.0)) if capacity > 0 else 0.0


def simultaneous_taps(taps, probability, percentile=SIMULTANEITY_PERCENTILE):
    """Taps open at once that a design must serve: the ``percentile`` of Binomial(n, p).

    Hunter (1940, NBS BMS65): with ``taps`` independent taps each open a share ``probability``
    of the peak hour, the design number is exceeded only ``1 - percentile`` of the time.
    At least one tap (a connection must deliver its own tap flow).

    >>> simultaneous_taps(30, 0.045)
    5
    >>> simultaneous_taps(1, 0.01)
    1
    """
    from scipy.stats import binom

    if taps <= 0:
        return 0
    n = int(binom.ppf(percentile, int(taps), min(max(probability, 0.0), 1.0)))
    return int(min(max(n, 1), taps))


# --------------------------------------------------------------------------- scenario
@dataclass(frozen=True)
class DemandScenario:
    """Every parameter of a demand projection. Defaults: docs/sources.md, 5.1.

    Sources are in :data:`SCENARIO_SOURCES`. Units are in the names; rates are fractions.
    """

    name: str = "standpipes"
    domestic_l_per_person_day: dict = field(
        default_factory=lambda: {"standpipe": 25.0, "household": 50.0}
    )
    #: Share of the population on household connections; None = each village's own share.
    household_share: float | None = 0.0
    other_public_share: float = 0.05
    school_l_per_pupil_day: float = 10.0
    health_l_per_outpatient_day: float = 10.0
    health_l_per_bed_day: float = 50.0
    mosque_l_per_worshipper_day: float = 5.0
    livestock_enabled: bool = False
    livestock_fraction_of_herd: float = 0.5
    livestock_l_per_head_day: dict = field(
        default_factory=lambda: {"sheep_goat": 5.0, "cattle": 40.0, "equid": 25.0}
    )
    transmission_efficiency: float = 0.95
    distribution_efficiency: float = 0.80
    peak_day_factor: float = defaults.PEAK_DAY_FACTOR
    #: None: the peak hour comes from the pattern's maximum; a number: from this factor.
    peak_hour_factor: float | None = None
    standpipe_pattern: tuple = STANDPIPE_PATTERN
    household_pattern: tuple = HOUSEHOLD_PATTERN
    max_people_per_tap: float = 250.0
    taps_per_standpipe: int = defaults.TAPS_PER_STANDPIPE
    tap_flow_l_per_s: float = 0.25
    #: Flow of one household connection's tap [l/s] (:data:`CONNECTION_FLOW_L_PER_S`).
    connection_flow_l_per_s: float = CONNECTION_FLOW_L_PER_S
    persons_per_household: float = defaults.PERSONS_PER_HOUSEHOLD
    growth_rate: float | None = None  # None: each village's own rate

    def __post_init__(self):
        for name in ("transmission_efficiency", "distribution_efficiency"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise InputError(f"scenario {self.name}: {name} must be in (0, 1], got {value}")
        if self.peak_day_factor < 1:
            raise InputError(
                f"scenario {self.name}: peak_day_factor must be >= 1, got {self.peak_day_factor}"
            )
        for label, pattern in (
            ("standpipe", self.standpipe_pattern),
            ("household", self.household_pattern),
        ):
            if (
                len(pattern) != 24
                or abs(np.mean(pattern) - 1) > PATTERN_MEAN_TOLERANCE
                or min(pattern) < 0
            ):
                raise InputError(
                    f"scenario {self.name}: the {label} pattern must have 24 non-negative "
                    f"multipliers of mean 1 (mean is {np.mean(pattern):.4f})"
                )
        if self.household_share is not None and not 0 <= self.household_share <= 1:
            raise InputError(f"scenario {self.name}: household_share must be in [0, 1]")

    def pattern(self, service: str) -> tuple:
        """Hourly pattern (24 multipliers) of ``service``."""
        return self.standpipe_pattern if service == "standpipe" else self.household_pattern

    def peak_hour_multiplier(self, service: str) -> float:
        """Peak-hour over peak-day ratio for a service: the factor, or the pattern's maximum."""
        if self.peak_hour_factor is not None:
            return float(self.peak_hour_factor)
        return float(max(self.pattern(service)))

    def with_changes(self, **changes) -> DemandScenario:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def as_table(self) -> pd.DataFrame:
        """parameter, value, unit, source: for the assumptions table of a study."""
        rows = []
        for key, value in asdict(self).items():
            if key in ("standpipe_pattern", "household_pattern"):
                value = " ".join(f"{v:g}" for v in value)
            elif isinstance(value, dict):
                value = "; ".join(f"{k}={v:g}" for k, v in value.items())
            rows.append(
                (key, value, SCENARIO_UNITS.get(key, "-"), SCENARIO_SOURCES.get(key, "estimate"))
            )
        return pd.DataFrame(rows, columns=["parameter", "value", "unit", "source"])


SCENARIO_UNITS = {
    "domestic_l_per_person_day": "l/person/day",
    "household_share": "fraction",
    "other_public_share": "fraction of domestic",
    "school_l_per_pupil_day": "l/pupil/day",
    "health_l_per_outpatient_day": "l/outpatient/day",
    "health_l_per_bed_day": "l/bed/day",
    "mosque_l_per_worshipper_day": "l/worshipper/day",
    "livestock_fraction_of_herd": "fraction",
    "livestock_l_per_head_day": "l/head/day",
    "transmission_efficiency": "fraction",
    "distribution_efficiency": "fraction",
    "peak_day_factor": "-",
    "peak_hour_factor": "-",
    "max_people_per_tap": "persons/tap",
    "tap_flow_l_per_s": "l/s",
    "connection_flow_l_per_s": "l/s",
    "persons_per_household": "persons",
    "growth_rate": "1/year",
}

SCENARIO_SOURCES = {
    "domestic_l_per_person_day": "docs/sources.md, 5.1 [E]: BF 25 (Sphere >= 15, WHO basic ~20, "
    "Cameroon 25 [S]); BI 50 (WHO yard tap ~50 [S])",
    "household_share": "docs/sources.md, 5.1 [E]: 80% BI + 20% BF; rural BI rate ~22% in 2004 [S]",
    "other_public_share": "docs/sources.md, 5.1 [E]: +5% (BF), +10% (BI)",
    "school_l_per_pupil_day": "Tanzania DCOM manual ch. 4 [S]: 10 (pit latrine), 25 (WC)",
    "health_l_per_outpatient_day": "Tanzania DCOM manual ch. 4 [S]",
    "health_l_per_bed_day": "Tanzania DCOM manual ch. 4 [S]",
    "mosque_l_per_worshipper_day": "Sphere 2011 App. 2, 2-5 l [S*] + estimate",
    "livestock_enabled": "docs/sources.md, 5.1 [E]: off for BF (herds watered from wells), "
    "on for BI",
    "livestock_fraction_of_herd": "docs/sources.md, 5.1 [E]",
    "livestock_l_per_head_day": "docs/sources.md, section 2 livestock sources [S]",
    "transmission_efficiency": "docs/sources.md, 5.1 [E]",
    "distribution_efficiency": "docs/sources.md, 5.1 [E]",
    "peak_day_factor": "docs/sources.md, 5.1: DCOM 1.1-1.3 [S]; Maghreb practice [E]",
    "peak_hour_factor": "docs/sources.md, 5.2: from the pattern (2.25 BF, 1.74 BI) [D/E]",
    "standpipe_pattern": "docs/sources.md, 5.2 [D/E]",
    "household_pattern": "docs/sources.md, 5.2 [D/E]",
    "max_people_per_tap": "Sphere: 250 per tap at 7.5 l/min [S]",
    "taps_per_standpipe": "docs/sources.md, 5.1 [E]",
    "tap_flow_l_per_s": "docs/sources.md, 5.1 [E]",
    "connection_flow_l_per_s": TAP_SOURCES["household"],
    "persons_per_household": "docs/sources.md, 5.1 [E]",
    "growth_rate": "village table (docs/sources.md, 5.1: +1.0%/yr default, Ahl Angad +1.2% [D])",
}

#: The named scenarios of docs/sources.md, 5.1.
SCENARIOS = {
    "standpipes": DemandScenario(name="standpipes"),
    "household_connections": DemandScenario(
        name="household_connections",
        household_share=None,
        other_public_share=0.10,
        school_l_per_pupil_day=25.0,
        livestock_enabled=True,
    ),
}


def get_scenario(
    name: str,
    patterns: str | os.PathLike | None = None,
    overrides: dict | None = None,
) -> DemandScenario:
    """A demand scenario by name, with hourly patterns from a file and some values changed.

    Parameters
    ----------
    name : str
        ``standpipes`` or ``household_connections`` (see :data:`SCENARIOS`).
    patterns : path, optional
        Hourly pattern table (:func:`read_pattern_csv`); its ``standpipe`` and ``household``
        columns replace the brief's patterns.
    overrides : dict, optional
        Fields of :class:`DemandScenario` to change.

    Examples
    --------
    >>> get_scenario("standpipes").name
    'standpipes'
    """
    try:
        scenario = SCENARIOS[name]
    except KeyError:
        raise InputError(
            f"unknown scenario '{name}'; allowed: {', '.join(sorted(SCENARIOS))}"
        ) from None
    if patterns:
        table = read_pattern_csv(patterns)
        scenario = scenario.with_changes(
            standpipe_pattern=table.get("standpipe", scenario.standpipe_pattern),
            household_pattern=table.get("household", scenario.household_pattern),
        )
    if overrides:
        scenario = scenario.with_changes(**overrides)
    return scenario


def default_years(villages: pd.DataFrame) -> list[int]:
    """Opening year (the village table's data year) and design year.

    The design year is 2030, or 20 years after the data year when the data are later
    (docs/sources.md, 5.1).
    """
    opening = int(villages["population_year"].max())
    design = (
        defaults.DESIGN_YEAR
        if opening < defaults.DESIGN_YEAR
        else opening + defaults.DESIGN_PERIOD_YEARS
    )
    return [opening, design]


# --------------------------------------------------------------------------- village table
#: Required columns of the village table (``village``: each village's name, the column
#: ``village`` of the tables hydro builds; ``douar``, its former name, is read too).
VILLAGE_REQUIRED = ["village", "population", "population_year", "standpipe_nodes"]
#: Former names of the village table's columns: former -> current.
VILLAGE_ALIASES = {"douar": "village"}
VILLAGE_OPTIONAL_NUMERIC = {
    "growth_rate": 0.01,
    "household_share": 0.8,
    "standpipes": np.nan,
    "sheep_goat": 0.0,
    "cattle": 0.0,
    "equid": 0.0,
    "pupils": 0.0,
    "outpatients_per_day": 0.0,
    "beds": 0.0,
    "mosque_worshippers_per_day": 0.0,
    # taps: blank = the scenario's (2 taps x 0.25 l/s per standpipe, docs/sources.md, 5.1)
    "taps_per_standpipe": np.nan,
    "tap_flow_l_per_s": np.nan,
}


@dataclass(frozen=True)
class VillageRange:
    """The values a number of the village table may take: ``low`` to ``high``, with a reason.

    ``open_low``: the lower end is excluded; ``whole``: whole numbers only (things counted).
    """

    low: float
    high: float
    reason: str
    open_low: bool = False
    whole: bool = False

    @property
    def interval(self) -> str:
        """The range as written in messages, e.g. ``[0, 1e+06]`` or ``(-1, 0.2]``."""
        return f"{'(' if self.open_low else '['}{self.low:g}, {self.high:g}]"

    def holds(self, value: float) -> bool:
        """True when ``value`` is within the range."""
        above_low = value > self.low if self.open_low else value >= self.low
        return above_low and value <= self.high


#: Every number of the village table: its range and the reason for it.
VILLAGE_RANGES = {
    "population": VillageRange(0, 1e6, "people in one village: 0 to 1,000,000"),
    "population_year": VillageRange(
        1900, 2200, "a census or survey year, 1900 to 2200", whole=True
    ),
    "growth_rate": VillageRange(
        -1, 0.2, "a fraction per year, e.g. 0.01 for +1 %/yr", open_low=True
    ),
    "household_share": VillageRange(0, 1, "a share of the village's population"),
    "standpipes": VillageRange(0, 1000, "standpipes in one village: 0 to 1,000", whole=True),
    "sheep_goat": VillageRange(0, 1e6, "head of sheep and goats in one village", whole=True),
    "cattle": VillageRange(0, 1e5, "head of cattle in one village", whole=True),
    "equid": VillageRange(0, 1e5, "horses, mules and donkeys in one village", whole=True),
    "pupils": VillageRange(0, 1e5, "pupils at the village's schools", whole=True),
    "outpatients_per_day": VillageRange(0, 1e5, "outpatients a day at its health centre"),
    "beds": VillageRange(0, 1e4, "beds at its health centre", whole=True),
    "mosque_worshippers_per_day": VillageRange(0, 1e6, "worshippers a day at its mosques"),
    "taps_per_standpipe": VillageRange(1, 100, "taps on one standpipe, 1 to 100", whole=True),
    "tap_flow_l_per_s": VillageRange(
        0, 10, "l/s from one tap, above 0 (standpipe taps: 0.1-0.5)", open_low=True
    ),
}
#: Columns that count things: whole numbers only.
VILLAGE_WHOLE_NUMBERS = tuple(c for c, r in VILLAGE_RANGES.items() if r.whole)


def _parse_nodes(text, place: str, column: str, decimal_comma: bool = False) -> dict[str, float]:
    """``"N1:0.6; N2:0.4"`` (or a single ``"N1"``) -> {node: share}, shares adding up to 1.

    Items are separated by semicolons (and by commas in a comma-separated table, as earlier
    versions wrote them); each is ``node`` or ``node:share``, the share after the item's last
    colon (``A:1:0.5`` is node ``A:1``). Any legal EPANET ID can be written: in double quotes
    when it holds ``;``, ``,``, ``:`` or starts with a quote (``"A,1":0.5; "B;2":0.5``, a
    quote inside doubled). In a semicolon-separated table (``decimal_comma``) shares use a
    decimal comma (``"N1:0,6; N2:0,4"``). ``place``: the file, row and village, for messages
    (:func:`_village_rows`).
    """
    if text is None or (isinstance(text, float) and math.isnan(text)) or not str(text).strip():
        return {}
    shares: dict[str, float] = {}
    for node, share in _node_items(str(text), ";" if decimal_comma else ";,", place, column):
        if not node:
            raise InputError(f"{place}: {column}: an item without a node ID in '{text}'")
        value = share.replace(",", ".") if decimal_comma else share
        try:
            shares[node] = float(value) if value.strip() else 1.0
            if not math.isfinite(shares[node]):
                raise ValueError(value)
        except ValueError:
            raise InputError(
                f"{place}: {column} has a share that is not a number in '{node}:{share}' "
                "(write node:share; node:share, and a node ID holding ':', ';' or ',' in "
                'double quotes: "A:1":0.5)'
            ) from None
    if len(shares) > 1 or any(v != 1.0 for v in shares.values()):
        total = sum(shares.values())
        if abs(total - 1) > 1e-6 or any(v < 0 for v in shares.values()):
            raise InputError(
                f"{place}: {column} shares add up to {total:g}; "
                "they must be non-negative and add up to 1"
            )
    return shares


def _node_items(text: str, separators: str, place: str, column: str) -> list[tuple[str, str]]:
    """The ``(node, share text)`` items of a node-share cell (:func:`_parse_nodes`).

    An item that starts with a double quote holds its node ID up to the closing quote (two
    quotes in a row: one quote of the ID); any other item ends at the next separator, its
    share after its last colon ('' when it has none).

    >>> _node_items('"A:1,2":0.5; B:C:0.5', ";,", "here", "standpipe_nodes")
    [('A:1,2', '0.5'), ('B:C', '0.5')]
    """
    items, k, n = [], 0, len(text)
    while k < n:
        while k < n and (text[k].isspace() or text[k] in separators):
            k += 1
        if k >= n:
            break
        if text[k] == '"':
            node, k = _quoted_id(text, k, place, column)
            end = _next_separator(text, k, separators)
            rest = text[k:end].strip()
            if rest and not rest.startswith(":"):
                raise InputError(
                    f"{place}: {column}: '{rest}' after the quoted node ID \"{node}\" "
                    '(write "ID":share)'
                )
            items.append((node, rest[1:].strip()))
        else:
            end = _next_separator(text, k, separators)
            node, colon, share = text[k:end].strip().rpartition(":")
            items.append((node.strip(), share.strip()) if colon else (share.strip(), ""))
        k = end
    return items


def _quoted_id(text: str, start: int, place: str, column: str) -> tuple[str, int]:
    """The node ID quoted from ``text[start]`` (a double quote) and where it ends."""
    chars, k = [], start + 1
    while k < len(text):
        if text[k] == '"':
            if text[k + 1 : k + 2] == '"':
                chars.append('"')
                k += 2
                continue
            return "".join(chars), k + 1
        chars.append(text[k])
        k += 1
    raise InputError(f"{place}: {column}: a node ID opened with a double quote is not closed")


def _next_separator(text: str, start: int, separators: str) -> int:
    """Where the item starting at ``start`` ends: the next separator, or the end."""
    k = start
    while k < len(text) and text[k] not in separators:
        k += 1
    return k


def read_villages(path: str | os.PathLike) -> pd.DataFrame:
    """Read and check a village table (CSV). See ``demand_profiles/README.md`` for the columns.

    Parameters
    ----------
    path : path-like
        The village table: one row per village with ``village``, ``population``,
        ``population_year``, ``standpipe_nodes`` and optional columns (growth, household share,
        livestock, institutions).

    Returns
    -------
    pandas.DataFrame
        One row per village, optional columns filled with their defaults.

    Raises
    ------
    InputError
        Missing column, a number that is not a number, not finite or outside its range
        (:data:`VILLAGE_RANGES`), shares that do not add up to 1, a node named twice; the
        message names the file, the row (line of the file), the village, the column, the value
        and what is allowed.

    Examples
    --------
    >>> villages = read_villages("demand_profiles/oujda_villages.csv")
    >>> int(villages["population_year"].max())
    2012
    """
    path = Path(path)
    table = _village_columns(path, read_table(path, "village table", only_blank_missing=True))
    table["village"] = table["village"].astype(str).str.strip()
    duplicated = table["village"][table["village"].duplicated()].tolist()
    if duplicated:
        raise InputError(f"{path}: village {duplicated[0]} appears more than once")
    where = _village_rows(path, table)
    for column in ["population", "population_year", *VILLAGE_OPTIONAL_NUMERIC]:
        values = pd.to_numeric(table[column], errors="coerce")
        for place, raw, value in zip(where, table[column], values, strict=True):
            _check_village_number(place, column, raw, value)
        table[column] = values.fillna(VILLAGE_OPTIONAL_NUMERIC.get(column, np.nan))
    _village_nodes(path, table, where)
    table.attrs["source"] = str(path)
    return table


def _village_columns(path: Path, table: pd.DataFrame) -> pd.DataFrame:
    """The table with every required column checked and every optional column filled.

    Raises
    ------
    InputError
        An unknown column that looks like a misspelt known one (named with the closest
        known column: a required column misspelt is missing, an optional one would silently
        take its default), a required column missing (with any unknown columns), or no rows.
    """
    table = _village_aliases(path, table)
    known = [*VILLAGE_REQUIRED, "household_nodes", *VILLAGE_OPTIONAL_NUMERIC]
    missing = [c for c in VILLAGE_REQUIRED if c not in table.columns]
    unknown = [str(c) for c in table.columns if c not in known]
    hints = {c: did_you_mean(c, known) for c in unknown}
    misspelt = [c for c in unknown if hints[c]]
    if misspelt:  # a required column misspelt is missing; an optional one takes its default
        what = (
            f"unknown column '{misspelt[0]}'{hints[misspelt[0]]}"
            if len(misspelt) == 1
            else "unknown columns " + ", ".join(f"'{c}' ({hints[c][2:]})" for c in misspelt)
        )
        why = (
            f"required column(s) missing: {', '.join(missing)}"
            if missing
            else "an optional column with a typo would silently take its default"
        )
        raise InputError(f"{path}: {what} ({why})")
    if missing:
        hint = (
            " (the separator is taken from the header line: commas, or semicolons with "
            "decimal commas)"
            if len(table.columns) == 1
            else ""
        )
        others = f"; unknown column(s): {', '.join(unknown)}" if unknown and not hint else ""
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; required: "
            f"{', '.join(VILLAGE_REQUIRED)}{hint}{others}"
        )
    if table.empty:
        raise InputError(f"{path}: the village table has no rows")
    if "household_nodes" not in table.columns:
        table["household_nodes"] = ""
    for column, default in VILLAGE_OPTIONAL_NUMERIC.items():
        if column not in table.columns:
            table[column] = default
    return table


def _village_aliases(path: Path, table: pd.DataFrame) -> pd.DataFrame:
    """The table with each column of a former name (:data:`VILLAGE_ALIASES`) renamed, with a
    note; a column given under both names is an error.
    """
    for former, current in VILLAGE_ALIASES.items():
        if former not in table.columns:
            continue
        if current in table.columns:
            raise InputError(
                f"{path}: columns '{former}' and '{current}' both given: '{former}' is the "
                f"former name of '{current}'; keep one"
            )
        log.info("%s: column '%s' read as '%s' (its former name)", path, former, current)
        table = table.rename(columns={former: current})
    return table


def _village_rows(path: Path, table: pd.DataFrame) -> list[str]:
    """Where each row is, for messages: ``FILE, row N: village D`` (N: the line of the file).

    The row is left out when the reader could not tell the lines (``attrs["rows"]``).
    """
    lines = table.attrs.get("rows") or [None] * len(table)
    return [
        f"{path}, row {line}: village {village}" if line else f"{path}: village {village}"
        for line, village in zip(lines, table["village"], strict=True)
    ]


def _check_village_number(place: str, column: str, raw, value: float) -> None:
    """Refuse a number of the village table that is not one, not finite or out of its range.

    ``place``: the file, row and village (:func:`_village_rows`); ``raw``: the cell as read;
    ``value``: the cell as a number (NaN when it is not one). A blank optional cell passes
    (it takes its default). The range and its reason are :data:`VILLAGE_RANGES`.
    """
    rule = VILLAGE_RANGES[column]
    allowed = f"allowed: {rule.interval}, {rule.reason}"
    optional = column in VILLAGE_OPTIONAL_NUMERIC
    blank = raw is None or (isinstance(raw, float) and math.isnan(raw))
    if np.isnan(value):
        if blank and optional:
            return
        hint = (
            " (a decimal comma needs a semicolon-separated table, as a French spreadsheet writes)"
            if "," in str(raw)
            else " (leave the cell blank for the default)"
            if optional
            else ""
        )
        raise InputError(f"{place}: {column} is not a number ('{raw}'){hint}; {allowed}")
    if not np.isfinite(value):
        raise InputError(f"{place}: {column} must be finite, got {raw}; {allowed}")
    if rule.whole and not float(value).is_integer():
        raise InputError(f"{place}: {column} must be a whole number, got {value:g}; {allowed}")
    if rule.holds(value):
        return
    if value < 0 and rule.low == 0 and not rule.open_low:
        raise InputError(f"{place}: {column} must be >= 0, got {value:g}; {allowed}")
    if (rule.low, rule.high) == (0, 1):
        raise InputError(f"{place}: {column} must be in [0, 1], got {value:g} ({rule.reason})")
    raise InputError(f"{place}: {column} {value:g} is outside {rule.interval} ({rule.reason})")


def _village_nodes(path: Path, table: pd.DataFrame, where: list[str]) -> None:
    """Parse each village's node shares into ``standpipe_shares`` and ``household_shares``.

    ``where``: each row's file, row and village, for messages (:func:`_village_rows`).

    Raises
    ------
    InputError
        A village without a standpipe node, shares that are not numbers or do not add up to 1,
        or a node named by two villages or for two services.
    """
    comma = table.attrs.get("decimal_comma", False)
    table["standpipe_shares"] = [
        _parse_nodes(t, place, "standpipe_nodes", comma)
        for place, t in zip(where, table["standpipe_nodes"], strict=True)
    ]
    table["household_shares"] = [
        _parse_nodes(t, place, "household_nodes", comma)
        for place, t in zip(where, table["household_nodes"], strict=True)
    ]
    for place, shares in zip(where, table["standpipe_shares"], strict=True):
        if not shares:
            raise InputError(f"{place}: standpipe_nodes is empty (name a node)")
    owner: dict[str, tuple[str, str]] = {}
    for village, sp, hh in zip(
        table["village"], table["standpipe_shares"], table["household_shares"], strict=True
    ):
        for column, shares in (("standpipe_nodes", sp), ("household_nodes", hh)):
            for node in shares:
                if node in owner and owner[node] != (village, column):
                    first = owner[node]
                    raise InputError(
                        f"{path}: node '{node}' is named by village {first[0]} ({first[1]}) and "
                        f"by village {village} ({column}): a node serves one village and one "
                        "service (split it into two nodes, or merge the villages)"
                    )
                owner[node] = (village, column)


def check_villages_against_network(
    villages: pd.DataFrame, wn: wntr.network.WaterNetworkModel, network_name: str = "network"
) -> None:
    """Every node named in the village table must be a junction of the network."""
    source = villages.attrs.get("source", "village table")
    junctions = set(wn.junction_name_list)
    for village, sp, hh in zip(
        villages["village"], villages["standpipe_shares"], villages["household_shares"], strict=True
    ):
        for column, shares in (("standpipe_nodes", sp), ("household_nodes", hh)):
            for node in shares:
                if node not in junctions:
                    raise InputError(
                        f"{source}: village {village}: {column} names node '{node}', which is "
                        f"not a junction of {network_name}"
                    )


def network_demand(
    villages: pd.DataFrame,
    wn: wntr.network.WaterNetworkModel,
    year: int,
    scenario: DemandScenario,
    network_name: str = "network",
) -> DemandProjection:
    """The village table's demand projected to ``year``, on the junctions of ``wn``.

    What ``hydro demand`` computes: the table's nodes checked against the network
    (:func:`check_villages_against_network`), then :func:`project_demand`.

    Parameters
    ----------
    villages : pandas.DataFrame
        The village table (:func:`read_villages`).
    wn : wntr.network.WaterNetworkModel
        The network whose junctions the table names (never modified).
    year : int
        The year of the projection.
    scenario : DemandScenario
        :func:`get_scenario`.
    network_name : str
        The network's file name, for messages.

    Returns
    -------
    DemandProjection
        Per village and per node; :meth:`DemandProjection.node_table` adds the taps open at once.

    Raises
    ------
    InputError
        When the table names a node that is not a junction of ``wn``.

    Examples
    --------
    >>> from hydro.network import read_network
    >>> projection = network_demand(
    ...     read_villages("demand_profiles/oujda_villages.csv"),
    ...     read_network("networks/oujda_rural.inp"),
    ...     2030,
    ...     get_scenario("standpipes"),
    ... )
    >>> "taps_open" in projection.node_table().columns
    True
    """
    check_villages_against_network(villages, wn, network_name)
    return project_demand(villages, year, scenario)


def read_pattern_csv(path: str | os.PathLike) -> dict[str, tuple]:
    """Read hourly patterns (columns ``hour`` then one column per service, 24 rows, mean 1)."""
    path = Path(path)
    try:
        table = pd.read_csv(path, comment="#")
    except Exception as exc:
        raise InputError(f"{path}: cannot read the pattern table: {exc}") from exc
    if "hour" not in table.columns or len(table) != 24:
        raise InputError(f"{path}: a pattern table has a column 'hour' and 24 rows (0-23)")
    out = {}
    for column in table.columns:
        if column == "hour":
            continue
        values = pd.to_numeric(table[column], errors="coerce").to_numpy()
        if (
            np.isnan(values).any()
            or (values < 0).any()
            or abs(values.mean() - 1) > PATTERN_MEAN_TOLERANCE
        ):
            raise InputError(
                f"{path}: pattern '{column}' must hold 24 non-negative numbers of mean 1 "
                f"(mean is {np.nanmean(values):.4f})"
            )
        out[column] = tuple(float(v) for v in values)
    return out


# --------------------------------------------------------------------------- projection
NODE_COLUMNS = [
    "node", "service", "village", "peak_day_l_per_s", "peak_hour_l_per_s", "taps",
    "tap_flow_l_per_s",
]  # fmt: skip


@dataclass(kw_only=True)
class DemandProjection:
    """The result of :func:`project_demand`: one table per village and one per node.

    ``villages`` columns (flows in l/s, volumes per day in m3): population, people_standpipe,
    people_household, domestic_m3_per_day, other_public_m3_per_day, institutional_m3_per_day,
    livestock_m3_per_day, consumption_m3_per_day, average_day_l_per_s (at the nodes, after
    distribution losses), source_average_day_l_per_s (withdrawal, after transmission losses),
    peak_day_l_per_s, peak_hour_l_per_s, l_per_person_day_gross (domestic allowance at the
    source), standpipes, taps, taps_needed, people_per_tap.

    ``nodes`` columns: node, service, village, peak_day_l_per_s, peak_hour_l_per_s, taps (a
    standpipe's taps, or one per household connection), tap_flow_l_per_s and
    taps_per_standpipe (a standpipe row: the taps on each of its standpipes; else NaN).
    """

    scenario: DemandScenario
    year: int
    villages: pd.DataFrame
    nodes: pd.DataFrame

    def totals(self) -> pd.Series:
        """Sum of every numeric column over the villages."""
        numeric = self.villages.select_dtypes("number").sum()
        population = numeric["population"]
        numeric["l_per_person_day_gross"] = (
            self.villages["domestic_m3_per_day"].sum()
            * LITRES_PER_M3
            / population
            / (self.scenario.transmission_efficiency * self.scenario.distribution_efficiency)
            if population
            else 0.0
        )
        taps = numeric["taps"]
        numeric["people_per_tap"] = numeric["people_standpipe"] / taps if taps else np.nan
        return numeric

    def node_classes(self) -> dict[str, str]:
        """Class of each node of the projection.

        Node -> ``standpipe`` or ``household`` (a node serving both is a household node):
        the node classes of the compliance rules.
        """
        out: dict[str, str] = {}
        for node, service in zip(self.nodes["node"], self.nodes["service"], strict=True):
            if out.get(node) != "household":
                out[node] = service
        return out

    def taps(self) -> pd.DataFrame:
        """The tap table of the projection (:func:`tap_design`): taps per node and service."""
        return tap_design(self.nodes)

    def node_table(self) -> pd.DataFrame:
        """The node table with its taps open at once: what ``hydro demand`` prints per node.

        ``nodes`` and, from :meth:`taps`, taps_open (the taps open at once in the design
        condition's tap-flow case) and design_flow_l_per_s (their flow).
        """
        taps = self.taps()[["node", "service", "taps_open", "design_flow_l_per_s"]]
        return self.nodes[NODE_COLUMNS].merge(taps, on=["node", "service"], how="left")

    def table(self) -> pd.DataFrame:
        """Villages, then a TOTAL row: what ``hydro demand`` prints and writes."""
        total = self.totals().to_frame().T
        total.insert(0, "village", "TOTAL")
        return pd.concat([self.villages, total], ignore_index=True)


@dataclass(kw_only=True)
class _VillageDemand:
    """One village's demand in the projection year, before it is tabled and allocated.

    ``people`` by service [persons]; ``domestic``, ``other``, ``institutional`` and
    ``livestock`` [l/day]; ``by_service``: the consumption drawn at each service's nodes
    [l/day]; ``peak_day_l_s`` and ``peak_hour_l_s`` by service, at the nodes [l/s];
    ``standpipes``: the village's standpipes (its standpipe nodes when the table leaves it
    blank).
    """

    population: float
    people: dict[str, float]
    domestic: float
    other: float
    institutional: float
    livestock: float
    by_service: dict[str, float]
    peak_day_l_s: dict[str, float]
    peak_hour_l_s: dict[str, float]
    standpipes: float


def _village_demand(v: dict, year: int, s: DemandScenario) -> _VillageDemand:
    """Project one village (a record of the village table) to ``year`` under scenario ``s``.

    Consumption = domestic by service + other public uses + institutions + livestock; the part
    other than domestic is drawn with the village's main service (household connections when it
    has any). Peak day = consumption / distribution efficiency x peak-day factor; peak hour =
    peak day x the service's peak-hour multiplier.
    """
    rate = s.growth_rate if s.growth_rate is not None else v["growth_rate"]
    pop = float(population_projected(v["population"], v["population_year"], year, rate))
    share_hh = s.household_share if s.household_share is not None else v["household_share"]
    if not v["household_shares"]:
        share_hh = 0.0  # a village without distribution nodes stays on standpipes
    people = {"standpipe": pop * (1 - share_hh), "household": pop * share_hh}
    domestic = {k: people[k] * s.domestic_l_per_person_day[k] for k in SERVICES}
    domestic_total = sum(domestic.values())
    other = s.other_public_share * domestic_total
    institutional = (
        v["pupils"] * s.school_l_per_pupil_day
        + v["outpatients_per_day"] * s.health_l_per_outpatient_day
        + v["beds"] * s.health_l_per_bed_day
        + v["mosque_worshippers_per_day"] * s.mosque_l_per_worshipper_day
    )
    livestock = 0.0
    if s.livestock_enabled:
        livestock = s.livestock_fraction_of_herd * sum(
            v[kind] * rate_l for kind, rate_l in s.livestock_l_per_head_day.items()
        )
    # Where the consumption is drawn: domestic by service; the rest with the main service.
    main = "household" if share_hh > 0 else "standpipe"
    by_service = dict(domestic)
    by_service[main] += other + institutional + livestock
    eta_d = s.distribution_efficiency
    peak_day_l_s = {
        k: by_service[k] / eta_d * s.peak_day_factor / SECONDS_PER_DAY for k in SERVICES
    }
    standpipes = v["standpipes"]
    if np.isnan(standpipes):
        standpipes = len(v["standpipe_shares"])
    return _VillageDemand(
        population=pop,
        people=people,
        domestic=domestic_total,
        other=other,
        institutional=institutional,
        livestock=livestock,
        by_service=by_service,
        peak_day_l_s=peak_day_l_s,
        peak_hour_l_s={k: peak_day_l_s[k] * s.peak_hour_multiplier(k) for k in SERVICES},
        standpipes=standpipes,
    )


def _village_demand_row(v: dict, d: _VillageDemand, s: DemandScenario) -> dict:
    """The village's row of :attr:`DemandProjection.villages` (volumes in m3/day, flows in l/s)."""
    eta_t, eta_d = s.transmission_efficiency, s.distribution_efficiency
    pop, people = d.population, d.people
    consumption = sum(d.by_service.values())
    taps = int(d.standpipes) * int(
        s.taps_per_standpipe
        if np.isnan(v.get("taps_per_standpipe", np.nan))
        else v["taps_per_standpipe"]
    )
    return {
        "village": v["village"],
        "population": pop,
        "people_standpipe": people["standpipe"],
        "people_household": people["household"],
        "domestic_m3_per_day": d.domestic / LITRES_PER_M3,
        "other_public_m3_per_day": d.other / LITRES_PER_M3,
        "institutional_m3_per_day": d.institutional / LITRES_PER_M3,
        "livestock_m3_per_day": d.livestock / LITRES_PER_M3,
        "consumption_m3_per_day": consumption / LITRES_PER_M3,
        "average_day_l_per_s": consumption / eta_d / SECONDS_PER_DAY,
        "source_average_day_l_per_s": consumption / (eta_d * eta_t) / SECONDS_PER_DAY,
        "peak_day_l_per_s": sum(d.peak_day_l_s.values()),
        "peak_hour_l_per_s": sum(d.peak_hour_l_s.values()),
        "l_per_person_day_gross": demand_gross(d.domestic / pop, eta_t, eta_d) if pop else 0.0,
        "standpipes": int(d.standpipes),
        "taps": taps,
        "taps_needed": taps_needed(
            people["standpipe"],
            d.peak_hour_l_s["standpipe"],
            s.max_people_per_tap,
            s.tap_flow_l_per_s,
        ),
        "people_per_tap": people["standpipe"] / taps if taps else np.nan,
    }


def _village_node_rows(v: dict, d: _VillageDemand, s: DemandScenario) -> list[dict]:
    """The village's rows of :attr:`DemandProjection.nodes`: its demand shared out over nodes.

    A standpipe node gets its share of the village's standpipes (at least one) with their taps;
    a household node one tap per connection (its share of the people on connections over the
    persons per household, at least one). A service with no demand gets no rows.
    """
    per_standpipe = v.get("taps_per_standpipe", np.nan)
    per_standpipe = s.taps_per_standpipe if np.isnan(per_standpipe) else per_standpipe
    tap_flow = v.get("tap_flow_l_per_s", np.nan)
    tap_flow = s.tap_flow_l_per_s if np.isnan(tap_flow) else tap_flow
    rows = []
    for service, shares_key in (
        ("standpipe", "standpipe_shares"),
        ("household", "household_shares"),
    ):
        if d.peak_day_l_s[service] <= 0:
            continue
        for node, share in v[shares_key].items():
            if service == "standpipe":  # the village's standpipes shared out over its nodes
                taps = max(round(d.standpipes * share), 1) * int(per_standpipe)
                flow = tap_flow
            else:  # one tap per household connection
                taps = max(round(d.people["household"] * share / s.persons_per_household), 1)
                flow = s.connection_flow_l_per_s
            rows.append(
                {
                    "node": node,
                    "service": service,
                    "village": v["village"],
                    "peak_day_l_per_s": d.peak_day_l_s[service] * share,
                    "peak_hour_l_per_s": d.peak_hour_l_s[service] * share,
                    "taps": int(taps),
                    "tap_flow_l_per_s": float(flow),
                    "taps_per_standpipe": float(per_standpipe)
                    if service == "standpipe"
                    else np.nan,
                }
            )
    return rows


def project_demand(villages: pd.DataFrame, year: int, scenario: DemandScenario) -> DemandProjection:
    """Project every village's demand to ``year`` under ``scenario`` and allocate it to nodes.

    Parameters
    ----------
    villages : pandas.DataFrame
        The village table (:func:`read_villages`).
    year : int
        The year of the projection (opening or design year).
    scenario : DemandScenario
        Service level and allowances (:func:`get_scenario`).

    Returns
    -------
    DemandProjection
        ``villages``: one row per village (population, consumption [m3/day], average, peak-day and
        peak-hour flows [l/s], taps); ``nodes``: one row per node and service (peak-day demand
        [l/s]).

    Examples
    --------
    >>> villages = read_villages("demand_profiles/oujda_villages.csv")
    >>> p = project_demand(villages, 2030, get_scenario("standpipes"))
    >>> bool(p.totals()["population"] > villages["population"].sum())
    True
    """
    year = validate.whole(year, "project_demand: year", validate.YEAR)
    rows, node_rows = [], []
    for v in villages.to_dict("records"):
        d = _village_demand(v, year, scenario)
        rows.append(_village_demand_row(v, d, scenario))
        node_rows.extend(_village_node_rows(v, d, scenario))
    nodes = pd.DataFrame(node_rows, columns=[*NODE_COLUMNS, "taps_per_standpipe"])
    return DemandProjection(scenario=scenario, year=year, villages=pd.DataFrame(rows), nodes=nodes)


def apply_demand(
    wn: wntr.network.WaterNetworkModel,
    projection: DemandProjection,
    clear_other_demands: bool = True,
) -> wntr.network.WaterNetworkModel:
    """A copy of ``wn`` whose junctions carry the projection's peak-day demands and patterns.

    Each node gets one demand per service (base = peak-day demand [m3/s], pattern
    ``standpipe`` or ``household``), so the extended-period run follows the brief's rule
    demand(t) = peak-day demand x pattern(t). Each node carries its class and taps in its tag
    (:func:`hydro.classes.tag_node_classes`), so a file written from the copy keeps them.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (never modified).
    projection : DemandProjection
        :func:`project_demand`.
    clear_other_demands : bool
        Set the demand of junctions not in the projection to zero (default), else keep it.

    Returns
    -------
    wntr.network.WaterNetworkModel
        The copy with the demands.

    Examples
    --------
    >>> from hydro.network import read_network
    >>> wn = read_network("networks/oujda_rural.inp")
    >>> villages = read_villages("demand_profiles/oujda_villages.csv")
    >>> model = apply_demand(wn, project_demand(villages, 2030, get_scenario("standpipes")))
    >>> model is wn
    False
    """
    model = copy_network(wn)
    touched = set(projection.nodes["node"])
    for name, junction in model.junctions():
        if clear_other_demands or name in touched:
            junction.demand_timeseries_list.clear()
    for service in SERVICES:
        if service in model.pattern_name_list:
            model.get_pattern(service).multipliers = list(projection.scenario.pattern(service))
        else:
            model.add_pattern(service, list(projection.scenario.pattern(service)))
    model.options.time.pattern_timestep = 3600
    for row in projection.nodes.itertuples():
        junction = model.get_node(row.node)
        junction.add_demand(row.peak_day_l_per_s / LITRES_PER_M3, row.service, category=row.village)
    for _, junction in model.junctions():
        if not junction.demand_timeseries_list:
            junction.add_demand(0.0, None)
    classes = {n: "junction" for n, _ in model.junctions() if clear_other_demands}
    classes.update(projection.node_classes())
    tag_node_classes(model, classes, projection.nodes)
    return model


def base_demands_l_per_s(wn: wntr.network.WaterNetworkModel) -> pd.Series:
    """Each junction's base demand, summed over its demands [l/s] (patterns not applied)."""
    return pd.Series(
        {
            name: sum(d.base_value for d in junction.demand_timeseries_list) * LITRES_PER_M3
            for name, junction in wn.junctions()
        },
        dtype=float,
    )


class DemandChange(NamedTuple):
    """What :func:`apply_demand` did to a network's demands (base demands, in l/s)."""

    before_l_per_s: float  # the network's base demands, all junctions
    after_l_per_s: float  # the written model's (the projection's peak day)
    replaced: list[str]  # the projection's nodes that had a demand of their own
    cleared: list[str]  # other junctions whose demand was set to zero
    cleared_l_per_s: float  # their base demands


def demand_change(
    wn: wntr.network.WaterNetworkModel, model: wntr.network.WaterNetworkModel, projection
) -> DemandChange:
    """Compare the base demands of ``wn`` and of ``model = apply_demand(wn, projection)``.

    Examples
    --------
    >>> from hydro.network import read_network
    >>> wn = read_network("networks/oujda_rural.inp")
    >>> projection = project_demand(
    ...     read_villages("demand_profiles/oujda_villages.csv"), 2030, get_scenario("standpipes")
    ... )
    >>> change = demand_change(wn, apply_demand(wn, projection), projection)
    >>> change.after_l_per_s > 0
    True
    """
    before, after = base_demands_l_per_s(wn), base_demands_l_per_s(model)
    touched = set(projection.nodes["node"])
    cleared = [n for n in before.index if n not in touched and before[n] != 0 and after[n] == 0]
    return DemandChange(
        before_l_per_s=float(before.sum()),
        after_l_per_s=float(after.sum()),
        replaced=[n for n in before.index if n in touched and before[n] != 0],
        cleared=cleared,
        cleared_l_per_s=float(before[cleared].sum()),
    )


# --------------------------------------------------------------------------- taps
TAP_COLUMNS = ["node", "service", "village", "taps", "tap_flow_l_per_s", "peak_hour_l_per_s"]


def tap_design(taps: pd.DataFrame, percentile: float = SIMULTANEITY_PERCENTILE) -> pd.DataFrame:
    """Add what the design condition draws at each tap node.

    ``taps``: one row per node and service with columns :data:`TAP_COLUMNS`. Added columns:
    ``open_probability`` (:func:`open_probability`), ``taps_open`` (a standpipe: all its taps,
    docs/sources.md, 5.1; household connections: :func:`simultaneous_taps`) and
    ``design_flow_l_per_s`` = taps_open x tap_flow_l_per_s. An optional column
    ``taps_per_standpipe`` (the taps on one standpipe of a standpipe row) is kept: a node's
    taps beyond it are more standpipes, each with its own riser
    (:func:`hydro.condition.design_cases`).
    """
    kept = [*TAP_COLUMNS, "taps_per_standpipe"]
    out = taps[[c for c in kept if c in taps.columns]].copy().reset_index(drop=True)
    if "village" not in out.columns:
        out["village"] = ""
    out["open_probability"] = [
        open_probability(q, n, f)
        for q, n, f in zip(
            out["peak_hour_l_per_s"], out["taps"], out["tap_flow_l_per_s"], strict=True
        )
    ]
    out["taps_open"] = [
        int(n) if service == "standpipe" else simultaneous_taps(n, p, percentile)
        for service, n, p in zip(out["service"], out["taps"], out["open_probability"], strict=True)
    ]
    out["design_flow_l_per_s"] = out["taps_open"] * out["tap_flow_l_per_s"]
    extra = ["taps_per_standpipe"] if "taps_per_standpipe" in out.columns else []
    return out[[*TAP_COLUMNS, "open_probability", "taps_open", "design_flow_l_per_s", *extra]]


def taps_from_model(
    wn: wntr.network.WaterNetworkModel,
    classes: dict[str, str],
    table: pd.DataFrame | None = None,
    scenario: DemandScenario | None = None,
) -> pd.DataFrame:
    """Taps of a network without a village table: one row per standpipe or household node.

    A standpipe node has the scenario's taps (2 x 0.25 l/s, docs/sources.md, 5.1); a household node
    one tap per connection, the connections estimated from its demand (the model's demand is
    the peak day, as ``hydro demand`` writes it: peak-day factor x household allowance x
    persons per household / distribution efficiency per connection, defaults of the
    ``household_connections`` scenario). A node's tag ``class:N@Q`` (:func:`hydro.classes.node_tag`,
    written by ``hydro demand``, ``hydro size``, ``hydro run``) gives its taps instead;
    ``table`` (:func:`hydro.classes.read_tap_table`) overrides both.
    The peak-hour flow is each node's highest hourly demand over the first day.
    """
    s = scenario or SCENARIOS["standpipes"]
    hh = SCENARIOS["household_connections"]
    nodes = [n for n in wn.junction_name_list if classes.get(n) in ("standpipe", "household")]
    if not nodes:
        return pd.DataFrame(columns=TAP_COLUMNS)
    model = copy_network(wn)
    step = 3600
    model.options.time.duration = 23 * step
    model.options.time.report_timestep = step
    model.options.time.hydraulic_timestep = step
    model.options.time.pattern_timestep = model.options.time.pattern_timestep or step
    expected = wntr.metrics.expected_demand(model)[nodes] * LITRES_PER_M3
    peak = expected.max()
    day_l = expected.mean() * SECONDS_PER_DAY
    per_connection_day_l = (
        hh.domestic_l_per_person_day["household"]
        * s.persons_per_household
        * hh.peak_day_factor
        / hh.distribution_efficiency
    )
    rows = []
    for node in nodes:
        service = classes[node]
        if service == "standpipe":
            taps, flow = s.taps_per_standpipe, s.tap_flow_l_per_s
        else:
            taps = max(round(day_l[node] / per_connection_day_l), 1)
            flow = s.connection_flow_l_per_s
        tagged = parse_node_tag(wn.get_node(node).tag)
        if tagged is not None and tagged.taps is not None:
            taps, flow = tagged.taps, tagged.tap_flow_l_per_s
        if table is not None and node in table.index:
            given = table.loc[node]
            taps = taps if np.isnan(given["taps"]) else given["taps"]
            flow = flow if np.isnan(given["tap_flow_l_per_s"]) else given["tap_flow_l_per_s"]
        categories = [d.category for d in wn.get_node(node).demand_timeseries_list]
        village = next((c for c in categories if c), "")  # hydro demand writes the village there
        rows.append((node, service, village, int(taps), float(flow), float(peak[node])))
    return pd.DataFrame(rows, columns=TAP_COLUMNS)
