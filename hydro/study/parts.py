"""The typed parts of a study, each loaded and checked once by :func:`hydro.study.load_study`.

A :class:`Study` is a few parts, not one flat record: the files it reads (:class:`Inputs`),
the design choices (:class:`Design`), the design rules (:class:`hydro.compliance.Rules`), the
money (:class:`Money`: exchange rate, budget, funders, discounting), the prices and the
economics of operation (:class:`Prices`), the scenarios (:class:`ScenarioSpec`), the budget
mode (:class:`BudgetSettings`), the random tap opening (:class:`TapsSpec`) and what the report
says (:class:`ReportSettings`). A step of a scenario (:mod:`hydro.study.scenario`) reads the
parts it needs; a part is never patched after it is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from hydro.compliance import Rules
from hydro.study.labels import DEFAULT_VILLAGE_WORD

if TYPE_CHECKING:
    import pandas as pd
    import wntr

    from hydro.catalog import Catalog


@dataclass(frozen=True)
class Cost:
    """A unit cost with its unit and source."""

    value: float
    unit: str
    source: str
    #: the note in the French report ("": the source as written)
    source_fr: str = ""


@dataclass(frozen=True)
class ScenarioSpec:
    """A scenario of the study file: the service served and the demand sized for."""

    name: str
    label: str
    service: str  # demand scenario served (standpipes / household_connections)
    sizing: str  # demand scenario the pipes are sized for (design year)
    break_tank: bool = False  # a break tank between the main and the booster
    label_fr: str = ""  # the label in the French report (default: label)


@dataclass(frozen=True)
class TapsSpec:
    """[taps]: random tap opening on each scenario's design (:mod:`hydro.taps`); 0 draws: off.

    useful_share : a tap giving less than this share of its flow is starved [-];
    probability : that a tap is open (None: its share of the peak hour); workers, scheduler :
    what runs the draws and the sensitivity cases (:func:`hydro.parallel.make_executor`;
    on a Dask cluster the workers need the study's files at the same paths).
    """

    draws: int = 0
    seed: int = 1
    useful_share: float = 0.8
    probability: float | None = None
    workers: int | None = None
    scheduler: str | None = None
    #: Taps of a standpipe, flow of a standpipe tap and of a household connection [l/s]: the
    #: defaults of the study's demand scenarios (a village-table column, when given, still
    #: sets its village's; None: 2 taps x 0.25 l/s and 0.20 l/s, hydro.demand)
    taps_per_standpipe: int | None = None
    tap_flow_l_per_s: float | None = None
    connection_flow_l_per_s: float | None = None

    def demand_changes(self) -> dict:
        """The fields of :class:`hydro.demand.DemandScenario` this table sets."""
        keys = ("taps_per_standpipe", "tap_flow_l_per_s", "connection_flow_l_per_s")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


@dataclass(frozen=True)
class Inputs:
    """[inputs]: the files a study reads, resolved against the study file's folder."""

    network: Path
    villages: Path
    pipe_catalog: Path
    patterns: Path | None = None
    pump_catalog: Path | None = None
    #: The coordinate reference system of the network's coordinates, as the GeoJSON layers
    #: state it (:func:`hydro.gis.check_crs`: "EPSG:<code>" or "local", a local grid in m)
    crs: str = "local"

    def files(self) -> list[Path]:
        """Every file given (no output may replace one)."""
        files = (self.network, self.villages, self.patterns, self.pipe_catalog,
                 self.pump_catalog)  # fmt: skip
        return [p for p in files if p is not None]


@dataclass(frozen=True)
class Design:
    """[design]: years, the tank and the pump, operating hours and the sizing's settings."""

    base_year: int
    horizon_year: int
    tank: str
    pump: str | None
    #: Hours a day the pump runs [h] and the tank's reserve [h of the average day]
    pumping_hours: float
    reserve_hours: float
    #: Hours of the day the source supplies (0-23)
    supply_hours: tuple[int, ...]
    #: Smallest nominal diameter of a distribution pipe [mm] (None: the catalogue's)
    min_distribution_dn_mm: float | None
    simulation_hours: float
    persons_per_household: float
    #: Looped networks only: the optimiser's time limit per sizing run [s] and its seed
    looped_time_limit_s: float
    seed: int = 1
    #: Pipes and junctions no village's demand reaches (:func:`hydro.topology.unused_branches`):
    #: "warn" (sized, costed and named in a note) or "prune" (left out of the design)
    unused_branches: str = "warn"
    #: Hydraulic grade of the source(s) [m]: the study's stated head, which replaces the
    #: reservoirs' head in the network (None: the network's)
    source_head_m: float | None = None
    #: Junctions where a booster pump may go when the study prices a booster station
    #: (:func:`hydro.study.scenario.study_boosters`; None: every junction)
    booster_nodes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class FundingOption:
    """A way to share a scheme's capital among funders ([[money.funding_options]])."""

    name: str
    #: {en, fr}
    label: dict
    source: str
    #: (funder, share of the capital to finance)
    funders: list[tuple[str, float]]
    #: funder -> its name in the French report (default: as given)
    funders_fr: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Money:
    """[money]: exchange rate, budget, funders, service life and discount rate."""

    #: The study's currency (ISO 4217: MAD, XOF ...): every unit cost and the O&M are in it;
    #: the budget and the donors' figures are in EUR
    currency: str
    currency_per_eur: Cost
    budget_eur: float
    #: (funder, share of the donors' capital)
    funders: list[tuple[str, float]]
    life_years: float
    discount_rate: float
    #: Each funder's commitment [EUR] (empty when the study gives shares only)
    commitments_eur: dict = field(default_factory=dict)
    #: Capital per beneficiary of comparable schemes, low and high [currency] (None: not compared)
    benchmark_per_beneficiary: tuple[float, float] | None = None
    #: What the benchmark is, {en, fr} (the report says "comparable schemes" without it)
    benchmark_label: dict = field(default_factory=dict)
    #: Other ways to share the capital, beside the study's own funders
    funding_options: list[FundingOption] = field(default_factory=list)

    @property
    def crf(self) -> float:
        """Capital recovery factor i(1+i)^n / ((1+i)^n - 1)."""
        i, n = self.discount_rate, self.life_years
        return i * (1 + i) ** n / ((1 + i) ** n - 1) if i > 0 else 1 / n


@dataclass(frozen=True)
class Prices:
    """[unit_costs] and [economics]: what is built and run costs, who pays, what is used."""

    #: key -> :class:`Cost` (hydro.study.config.REQUIRED_COSTS and those given)
    costs: dict[str, Cost]
    #: [economics]: see hydro.study.config.ECONOMICS
    economics: dict

    def value(self, key: str, default: float | None = None) -> float:
        """A unit cost's value, or ``default`` when the study does not give it."""
        if key in self.costs:
            return self.costs[key].value
        if default is None:
            raise KeyError(key)
        return default


@dataclass(frozen=True)
class BudgetSettings:
    """[budget]: the scenarios the design-to-budget mode may choose from, and its reach."""

    scenarios: list[str] = field(default_factory=list)
    #: the cost-people curve is exact up to this donors' capital [EUR] (None: the default
    #: reach of hydro.study.budget)
    curve_up_to_eur: float | None = None


@dataclass(frozen=True)
class ReportSettings:
    """What the report says besides the results: titles, the donor file's sections, sources."""

    title: str
    title_fr: str = ""
    #: the donor file's sections ([report]: hydro.study.config.REPORT_KEYS), each {en, fr}
    text: dict = field(default_factory=dict)
    #: [sources] and [sources_fr]: notes on the study's own figures
    sources: dict = field(default_factory=dict)
    sources_fr: dict = field(default_factory=dict)
    #: [report] village_word: the study's word for a village, {lang: (singular, plural)}
    village_word: dict = field(default_factory=lambda: dict(DEFAULT_VILLAGE_WORD))


@dataclass(frozen=True)
class Study:
    """A study file, read and checked by :func:`hydro.study.load_study`: its typed parts."""

    path: Path
    name: str
    inputs: Inputs
    design: Design
    money: Money
    prices: Prices
    scenarios: list[ScenarioSpec]
    report: ReportSettings
    #: Design rules checked over days of operation (defaults: docs/sources.md 5.1)
    rules: Rules = field(default_factory=Rules)
    #: [sensitivity]: scenario and each parameter's [low, high]
    sensitivity: dict = field(default_factory=dict)
    budget: BudgetSettings = field(default_factory=BudgetSettings)
    #: Random tap opening on each scenario's design
    taps: TapsSpec = field(default_factory=TapsSpec)
    #: [calibration]: a documented scheme hydro rebuilds and costs (hydro.study.calibration),
    #: as validated (empty: none)
    calibration: dict = field(default_factory=dict)
    #: A study's own chain: step name -> the function that replaces it, or None to leave it
    #: out (the steps of hydro.study.scenario.SCENARIO_STEPS and hydro.study.run.STUDY_STEPS)
    steps: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The study's title (:class:`ReportSettings`)."""
        return self.report.title

    def scenario(self, name: str) -> ScenarioSpec:
        """The scenario called ``name``."""
        return next(s for s in self.scenarios if s.name == name)


@dataclass(frozen=True)
class StudyData:
    """The study's inputs, read and checked once (:func:`hydro.study.config.load_inputs`)."""

    #: the network as given (never modified: each step works on a copy)
    network: wntr.network.WaterNetworkModel
    #: the village table (hydro.demand.read_villages)
    villages: pd.DataFrame
    catalog: Catalog
    #: the pump catalogue (None: a curve is fitted to the duty)
    pumps: pd.DataFrame | None = None
