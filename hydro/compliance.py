"""Compliance checks on simulation results: pressure, velocity, tanks and pumps over days.

A failed check is a result, not an exception: the checks return a table of violations (one row
per element, check and time step) that the command line prints and saves, and a summary.

Entry points: :func:`check_compliance` runs a model (or takes its results) and checks it
against :class:`Rules`, the design rules of a rural scheme by node class (standpipe,
household connection, other junction) and pipe class (distribution, transmission), with tank
and pump checks (defaults: docs/sources.md, 5.1, except where a rule says otherwise);
:func:`check_network` does so for the model's own demand or each projected year, with
pressure-driven delivery when asked (``hydro check``).

Node classes come from :func:`hydro.classes.node_classes` (the tags hydro writes, the demand
pattern names ``standpipe`` and ``household``), from the village table, or from a CSV file
(``element,class``, :func:`hydro.classes.read_classes`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import wntr

from hydro import defaults, validate
from hydro.catalog import pipe_ratings_m
from hydro.classes import NODE_CLASSES, PIPE_CLASSES, node_classes
from hydro.condition import (
    check_cases,
    check_pressure_targets,
    default_taps,
    design_cases,
    taps_open_table,
)
from hydro.errors import InputError
from hydro.simulation import SimulationResults, run_simulation, static_pressure
from hydro.sizing.boosters import booster_outlets, booster_pumps, nodes_below
from hydro.sizing.break_tanks import break_tank_outlets, pump_suctions
from hydro.topology import zones
from hydro.units import SECONDS_PER_DAY, SECONDS_PER_HOUR

RULE_VIOLATION_COLUMNS = [
    "element",
    "kind",
    "check",
    "severity",
    "quantity",
    "time_h",
    "value",
    "limit",
    "excess",
]

#: Where each default rule comes from (shown in reports and assumption tables).
RULE_SOURCES = {
    "min_pressure_m": "docs/sources.md, 5.1 [E]: 10 m at the standpipe node, 15 m at a household "
    "connection node; other junctions: no negative pressure [E]",
    "max_pressure_m": "docs/sources.md, 5.1 [E]: maximum static pressure 60 m in a PN10 network "
    "(distribution nodes)",
    "pressure_class": "each node below the pressure class of its pipes (PN in bar x 10.197 m)",
    "velocity_m_per_s": "docs/sources.md, 5.1 [E]: distribution 0.3-1.5 m/s, transmission "
    "0.5-2.0 m/s at peak hour",
    "tank_reserve_share": "estimate [E]: a fifth of the usable volume kept for emergencies",
    "pump_efficient_range": "estimate [E]: 70-120% of the best-efficiency flow (the preferred "
    "operating region of Hydraulic Institute practice)",
    "tap_min_pressure_m": "docs/sources.md, 5.1 [E]: 5 m at the tap while it draws (2 taps x "
    "0.25 l/s per standpipe)",
}


def _rows(frame: pd.DataFrame, kind: str, quantity: str, limit, below: bool) -> pd.DataFrame:
    """One row per (time, element) where ``frame`` breaks ``limit`` (a number or a Series)."""
    excess = (limit - frame) if below else (frame - limit)
    stacked = excess.stack()
    stacked = stacked[stacked > 1e-9]
    if stacked.empty:
        return pd.DataFrame(
            columns=[c for c in RULE_VIOLATION_COLUMNS if c not in ("check", "severity")]
        )
    times, elements = zip(*stacked.index, strict=True)
    values = [frame.at[t, e] for t, e in stacked.index]
    limits = [float(limit[e]) for e in elements] if isinstance(limit, pd.Series) else float(limit)
    return pd.DataFrame(
        {
            "element": elements,
            "kind": kind,
            "quantity": quantity,
            "time_h": [t / SECONDS_PER_HOUR for t in times],
            "value": values,
            "limit": limits,
            "excess": stacked.to_numpy(),
        }
    )


def _concat(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=columns)
    table = pd.concat(parts, ignore_index=True)
    return table.sort_values(["excess", "element"], ascending=[False, True], ignore_index=True)


# --------------------------------------------------------------------------- design rules
def _default_min_pressure() -> dict:
    return {"standpipe": 10.0, "household": 15.0, "junction": 0.0}


def _default_velocity() -> dict:
    return {"distribution": (0.3, 1.5), "transmission": (0.5, 2.0)}


@dataclass(frozen=True)
class Rules:
    """Design rules checked over an extended-period run. Sources: :data:`RULE_SOURCES`.

    Attributes
    ----------
    min_pressure_m : mapping
        Lowest pressure by node class [m] (``standpipe``, ``household``, ``junction``).
    max_pressure_m : float, optional
        Highest pressure at distribution nodes [m]; ``None``: off.
    pressure_class : bool
        Also keep every node below the pressure class of its pipes, read from the catalogue
        labels that ``hydro size`` writes in ``[TAGS]`` (``PN10`` = 10 bar = 102 m).
    velocity_m_per_s : mapping
        (lowest peak velocity, highest velocity) by pipe class [m/s]. A pipe whose highest
        velocity over the run stays below the lower bound is reported as a warning (stagnant
        water), not as a violation: small branches to standpipes rarely reach 0.3 m/s.
    tank_reserve_share : float
        Share of each tank's usable volume (between its minimum and maximum levels) that must
        stay in it at all times.
    pump_efficient_range : (float, float)
        Allowed running flow as a share of the pump's best-efficiency flow.
    tap_min_pressure_m : float, optional
        Lowest pressure at a standpipe or household-connection node while its taps draw their
        design flow, tanks at their reserve (the design condition's tap-flow case) [m].
    """

    min_pressure_m: Mapping = field(default_factory=_default_min_pressure)
    max_pressure_m: float | None = defaults.MAX_PRESSURE_M
    pressure_class: bool = True
    velocity_m_per_s: Mapping = field(default_factory=_default_velocity)
    tank_reserve_share: float = defaults.TANK_RESERVE_SHARE
    pump_efficient_range: tuple = (0.7, 1.2)
    #: Lowest pressure at a tap node while its taps draw their flow [m]; None: no tap-flow
    #: check (:mod:`hydro.condition`).
    tap_min_pressure_m: float | None = defaults.TAP_MIN_PRESSURE_M

    def __post_init__(self):
        self._check_numbers()
        unknown = set(self.min_pressure_m) - set(NODE_CLASSES)
        if unknown:
            raise InputError(
                f"unknown node class(es) {sorted(unknown)} in the pressure rules; "
                f"allowed: {', '.join(NODE_CLASSES)}"
            )
        for cls, (low, high) in self.velocity_m_per_s.items():
            if cls not in PIPE_CLASSES or not 0 <= low < high:
                raise InputError(
                    f"velocity rule for {cls!r}: need a class in {PIPE_CLASSES} and "
                    f"0 <= low < high, got ({low}, {high})"
                )
        if self.min_pressure_m:
            strictest = max(self.min_pressure_m, key=self.min_pressure_m.get)
            check_pressure_targets(
                self.min_pressure_m.values(),
                self.max_pressure_m,
                minimum_note=f" ({strictest} nodes)",
            )

    def _check_numbers(self) -> None:
        """Every number finite and in its range (:mod:`hydro.validate`, as the options are)."""
        for cls, value in validate.mapping(self.min_pressure_m, "Rules: min_pressure_m").items():
            validate.number(value, f"Rules: min_pressure_m[{cls!r}]", validate.PRESSURE_M)
        validate.optional_number(
            self.max_pressure_m, "Rules: max_pressure_m", validate.MAX_PRESSURE_M
        )
        for cls, pair in validate.mapping(self.velocity_m_per_s, "Rules: velocity_m_per_s").items():
            for value in validate.pair(pair, f"Rules: velocity_m_per_s[{cls!r}]"):
                validate.number(value, f"Rules: velocity_m_per_s[{cls!r}]", validate.VELOCITY_RANGE)
        validate.number(
            self.tank_reserve_share, "Rules: tank_reserve_share", validate.TANK_RESERVE_SHARE
        )
        for value in validate.pair(self.pump_efficient_range, "Rules: pump_efficient_range"):
            validate.number(value, "Rules: pump_efficient_range", validate.PUMP_FLOW_SHARE)
        validate.optional_number(
            self.tap_min_pressure_m, "Rules: tap_min_pressure_m", validate.PRESSURE_M
        )

    @classmethod
    def from_options(
        cls,
        *,
        min_pressure_m: float | None = None,
        class_min_pressure_m: Mapping[str, float] | None = None,
        max_pressure_m: float | None = defaults.MAX_PRESSURE_M,
        max_velocity_m_per_s: float | None = None,
        velocity_m_per_s: Mapping | None = None,
        tank_reserve_share: float | None = None,
        tap_min_pressure_m: float | None = defaults.TAP_MIN_PRESSURE_M,
    ) -> Rules:
        """The default rules with some changed, as the command line and the study give them.

        ``min_pressure_m`` sets every node class; ``class_min_pressure_m`` then sets some
        classes ([m]). ``max_velocity_m_per_s`` caps every pipe class (its lower bound at most
        half of it); ``velocity_m_per_s`` gives (low, high) by pipe class ([m/s]).
        ``tap_min_pressure_m``: at a tap while it draws [m] (None: no tap-flow check).
        """
        defaults = cls()
        minimum = dict(defaults.min_pressure_m)
        if min_pressure_m is not None:
            minimum = dict.fromkeys(NODE_CLASSES, min_pressure_m)
        minimum.update(class_min_pressure_m or {})
        velocity = dict(defaults.velocity_m_per_s)
        if max_velocity_m_per_s is not None:
            velocity = {
                c: (min(low, max_velocity_m_per_s / 2), max_velocity_m_per_s)
                for c, (low, _) in velocity.items()
            }
        velocity.update(velocity_m_per_s or {})
        return cls(
            min_pressure_m=minimum,
            max_pressure_m=max_pressure_m,
            velocity_m_per_s=velocity,
            tank_reserve_share=(
                defaults.tank_reserve_share if tank_reserve_share is None else tank_reserve_share
            ),
            tap_min_pressure_m=tap_min_pressure_m,
        )

    def required_pressure_m(self, classes) -> float:
        """Pressure for full delivery [m].

        Pressure for full delivery [m]: the highest minimum of the served classes present
        (standpipe, household connection), else the standpipe minimum.
        """
        served = set(classes) & {"standpipe", "household"}
        return max(
            (self.min_pressure_m[c] for c in served), default=self.min_pressure_m["standpipe"]
        )

    def as_table(self) -> pd.DataFrame:
        """parameter, value, unit, source: for assumption tables."""
        rows = [
            (
                f"min_pressure_{cls}_m",
                value,
                "m",
                RULE_SOURCES["min_pressure_m"],
            )
            for cls, value in self.min_pressure_m.items()
        ]
        rows.append(("max_pressure_m", self.max_pressure_m, "m", RULE_SOURCES["max_pressure_m"]))
        for cls, (low, high) in self.velocity_m_per_s.items():
            rows.append(
                (
                    f"velocity_{cls}_m_per_s",
                    f"{low:g}-{high:g}",
                    "m/s",
                    RULE_SOURCES["velocity_m_per_s"],
                )
            )
        rows.append(
            (
                "tank_reserve_share",
                self.tank_reserve_share,
                "fraction",
                RULE_SOURCES["tank_reserve_share"],
            )
        )
        rows.append(
            (
                "tap_min_pressure_m",
                self.tap_min_pressure_m,
                "m",
                RULE_SOURCES["tap_min_pressure_m"],
            )
        )
        low, high = self.pump_efficient_range
        rows.append(
            (
                "pump_efficient_range",
                f"{low:g}-{high:g}",
                "x best-efficiency flow",
                RULE_SOURCES["pump_efficient_range"],
            )
        )
        return pd.DataFrame(rows, columns=["parameter", "value", "unit", "source"])


def node_pressure_ratings(wn: wntr.network.WaterNetworkModel) -> pd.Series:
    """Highest pressure each junction may see [m]: the lowest class of its tagged pipes."""
    rating: dict[str, float] = {}
    for name, limit in pipe_ratings_m(wn).items():
        pipe = wn.get_link(name)
        for node in (pipe.start_node_name, pipe.end_node_name):
            rating[node] = min(rating.get(node, np.inf), limit)
    return pd.Series(rating, dtype=float)


def best_efficiency_flow(pump) -> float | None:
    """Best-efficiency flow of a HEAD pump [m3/s].

    Best-efficiency flow of a HEAD pump [m3/s]: the peak of its efficiency curve, else the
    design point of its head curve (the single point, or the middle of three points).
    """
    if pump.pump_type != "HEAD":
        return None
    curve = pump.efficiency_curve
    if curve is not None and getattr(curve, "points", None):
        flows, effs = zip(*curve.points, strict=True)
        if max(effs) > min(effs):  # a flat efficiency curve says nothing about the best point
            return float(flows[int(np.argmax(effs))])
    points = pump.get_pump_curve().points
    if len(points) == 1:
        return float(points[0][0])
    if len(points) == 3:
        return float(points[1][0])
    flows = [q for q, _ in points if q > 0]
    return float(np.median(flows)) if flows else None


@dataclass(kw_only=True)
class ComplianceReport:
    """Violations of the design rules in one run, and what they add up to."""

    results: SimulationResults
    violations: pd.DataFrame
    summary: dict
    node_classes: dict
    pipe_classes: dict

    @property
    def compliant(self) -> bool:
        """True when no rule is broken (warnings do not count)."""
        return bool((self.violations["severity"] == "violation").sum() == 0)


def check_compliance(
    wn: wntr.network.WaterNetworkModel,
    rules: Rules | None = None,
    classes: Mapping[str, str] | None = None,
    duration_h: float | None = defaults.CHECK_DURATION_H,
    pressure_driven: bool = False,
    results: SimulationResults | None = None,
) -> ComplianceReport:
    """Run ``wn`` over ``duration_h`` (or use ``results``) and check it against ``rules``.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (never modified).
    rules : Rules, optional
        Design rules; default :class:`Rules` (docs/sources.md, 5.1).
    classes : mapping, optional
        Classes that override those found in the model (node -> standpipe / household /
        junction; pipe -> distribution / transmission).
    duration_h : float, optional
        Simulated duration [h].
    pressure_driven : bool
        Run pressure-driven demand instead of demand-driven.
    results : SimulationResults, optional
        Results of a run already made (then ``wn`` is not run again).

    Returns
    -------
    ComplianceReport
        The violations table (element, check, severity, time, value, limit, excess) and a
        summary (share of node-hours compliant, worst node and hour). A result that is not a
        number is a violation (``not_a_number``), never a pass.

    Examples
    --------
    >>> from hydro.network import read_network
    >>> report = check_compliance(read_network("networks/oujda_rural.inp"), duration_h=24)
    >>> 0 <= report.summary["node_hours_compliant_share"] <= 1
    True
    """
    rules = rules or Rules()
    if results is None:
        results = run_simulation(wn, duration_h=duration_h, pressure_driven=pressure_driven)
    pipe_zone, node_zone = zones(wn)
    node_class = node_classes(wn, classes)
    pipe_zone.update({e: c for e, c in (classes or {}).items() if c in PIPE_CLASSES})
    pressure = results.pressure[results.junctions]
    # a break-pressure tank's free surface, a pump's suction: no minimum
    outlets = break_tank_outlets(wn) | pump_suctions(wn)
    minimum = pd.Series(
        {
            j: -np.inf
            if j in outlets
            else rules.min_pressure_m.get(node_class.get(j, "junction"), 0.0)
            for j in results.junctions
        },
        dtype=float,
    )
    parts, ok = _pressure_violations(wn, rules, pressure, minimum, node_zone)
    parts += _velocity_violations(results, rules, pipe_zone)
    parts += _tank_violations(wn, results, rules)
    parts += _pump_violations(wn, results, rules)
    parts += _booster_shutoff_violations(wn, rules)
    parts += _epanet_violations(results)
    parts.append(non_finite_violations(results))
    violations = _worst_first(_concat(parts, RULE_VIOLATION_COLUMNS)[RULE_VIOLATION_COLUMNS])
    summary = _summary(results, pressure, minimum, ok, violations, node_class)
    return ComplianceReport(
        results=results,
        violations=violations,
        summary=summary,
        node_classes=node_class,
        pipe_classes=pipe_zone,
    )


def _pressure_violations(
    wn: wntr.network.WaterNetworkModel,
    rules: Rules,
    pressure: pd.DataFrame,
    minimum: pd.Series,
    node_zone: Mapping[str, str],
) -> tuple[list[pd.DataFrame], pd.DataFrame]:
    """Pressures below each junction's minimum, above the service maximum or the pipes' class.

    ``pressure``: junction pressures [m] by time; ``minimum``: each junction's minimum [m],
    by its class. The service maximum applies at distribution nodes (not at the outlet of a
    booster placed by ``hydro size``, ``<node>_PMP``: its discharge, in the station, no
    consumer), the pressure class of the pipes (:func:`node_pressure_ratings`) everywhere.
    Returns the violation tables and
    which node-steps keep every pressure rule (True/False by time and junction).
    """
    junctions = list(pressure.columns)
    low = _rows(pressure, "junction", "pressure_m", minimum, below=True)
    parts = [low.assign(check="min_pressure", severity="violation")]
    ok = pressure.ge(minimum - 1e-9, axis=1)
    if rules.max_pressure_m is not None:
        pumped = booster_outlets(wn)
        dist = [j for j in junctions if node_zone.get(j) == "distribution" and j not in pumped]
        high = _rows(pressure[dist], "junction", "pressure_m", rules.max_pressure_m, False)
        parts.append(high.assign(check="max_pressure", severity="violation"))
        ok[dist] &= pressure[dist] <= rules.max_pressure_m + 1e-9
    if rules.pressure_class:
        rating = node_pressure_ratings(wn).reindex(junctions).dropna()
        if not rating.empty:
            rated = pressure[list(rating.index)]
            over = _rows(rated, "junction", "pressure_m", rating, below=False)
            parts.append(over.assign(check="pressure_class", severity="violation"))
            ok[list(rating.index)] &= rated.le(rating + 1e-9, axis=1)
    return parts, ok


def _velocity_violations(
    results: SimulationResults, rules: Rules, pipe_zone: Mapping[str, str]
) -> list[pd.DataFrame]:
    """Velocities above each pipe class's maximum; a warning where a pipe's peak stays below
    the class's lowest velocity (stagnant water), at the time of that peak.
    """
    parts = []
    velocity = results.velocity[results.pipes]
    for cls, (v_low, v_high) in rules.velocity_m_per_s.items():
        pipes = [p for p in results.pipes if pipe_zone.get(p, "distribution") == cls]
        if not pipes:
            continue
        fast = _rows(velocity[pipes], "pipe", "velocity_m_per_s", v_high, below=False)
        parts.append(fast.assign(check=f"max_velocity_{cls}", severity="violation"))
        peak = velocity[pipes].max()
        slow = peak[peak < v_low - 1e-9]
        if not slow.empty:
            when = velocity[list(slow.index)].idxmax() / SECONDS_PER_HOUR
            parts.append(
                pd.DataFrame(
                    {
                        "element": slow.index,
                        "kind": "pipe",
                        "check": f"low_velocity_{cls}",
                        "severity": "warning",
                        "quantity": "peak_velocity_m_per_s",
                        "time_h": when.to_numpy(),
                        "value": slow.to_numpy(),
                        "limit": v_low,
                        "excess": v_low - slow.to_numpy(),
                    }
                )
            )
    return parts


def _tank_violations(
    wn: wntr.network.WaterNetworkModel, results: SimulationResults, rules: Rules
) -> list[pd.DataFrame]:
    """Tanks never empty, never overflowing, and a reserve kept [m of level].

    A tank reported empty is not reported again below its reserve at the same step. At its
    maximum level EPANET closes a tank's inlet, as a float or altitude valve would: reaching
    it is no overflow. Only a tank EPANET lets spill (2.2's ``overflow`` option: its level
    then stays at the maximum while the excess leaves) overflows, a violation at every step
    at its maximum (within :data:`TANK_LEVEL_TOL_M`). A tank without that option held at
    its maximum over two report steps or more (its inlet closed by EPANET, the supply
    throttled) is a warning, ``tank_full``: without a float or altitude valve it would spill.
    """
    parts = []
    for tank_name in results.tanks:
        tank = wn.get_node(tank_name)
        level = results.tank_level[[tank_name]]
        usable = tank.max_level - tank.min_level
        checks = (
            ("tank_empty", tank.min_level + TANK_LEVEL_TOL_M, True),
            ("tank_reserve", tank.min_level + rules.tank_reserve_share * usable, True),
        )
        for check, limit, below in checks:
            rows = _rows(level, "tank", "level_m", limit, below=below)
            if check == "tank_reserve" and not rows.empty:
                rows = rows[rows["value"] > tank.min_level + TANK_LEVEL_TOL_M]  # reported empty
            parts.append(rows.assign(check=check, severity="violation"))
        top = _rows(level, "tank", "level_m", tank.max_level - TANK_LEVEL_TOL_M, below=False)
        if getattr(tank, "overflow", False):
            parts.append(top.assign(check="tank_overflow", severity="violation"))
        elif not top.empty:
            at_top = level[tank_name] >= tank.max_level - TANK_LEVEL_TOL_M
            held = at_top & at_top.shift(1, fill_value=False)
            times = set(held[held].index / SECONDS_PER_HOUR)
            top = top[top["time_h"].isin(times)]
            parts.append(top.assign(check="tank_full", severity="warning"))
    return parts


#: How close to its bottom or top a tank's level counts as there [m].
TANK_LEVEL_TOL_M = 0.01


def _pump_violations(
    wn: wntr.network.WaterNetworkModel, results: SimulationResults, rules: Rules
) -> list[pd.DataFrame]:
    """Running pump flows outside the efficient range of the curve [l/s].

    The range is :attr:`Rules.pump_efficient_range` times the best-efficiency flow
    (:func:`best_efficiency_flow`); a pump without a usable curve is not checked. A booster
    that ``hydro size`` placed (``PMP_<node>`` to ``<node>_PMP``) feeds the distribution
    directly, so its flow follows the demand over the day: there it is a warning, not a
    violation (its duty point is the design condition's largest flow; a variable-speed
    drive or a small pressure vessel keeps such a booster in range [E]).
    """
    parts = []
    boosters = set(booster_pumps(wn))
    flow = results.flow
    for pump_name, pump in wn.pumps():
        best = best_efficiency_flow(pump)
        if best is None or pump_name not in flow.columns:
            continue
        q = flow[[pump_name]]
        running = q[q[pump_name] > 1e-6]
        lo, hi = (best * r for r in rules.pump_efficient_range)
        for check, limit, below in (("pump_range_low", lo, True), ("pump_range_high", hi, False)):
            rows = _rows(running * 1000, "pump", "flow_l_per_s", limit * 1000, below=below)
            severity = "warning" if pump_name in boosters else "violation"
            parts.append(rows.assign(check=check, severity=severity))
    return parts


def _booster_shutoff_violations(
    wn: wntr.network.WaterNetworkModel, rules: Rules
) -> list[pd.DataFrame]:
    """Junctions below a booster placed by ``hydro size`` (``PMP_<node>``) whose static
    pressure with the booster at shut-off is above the class of their pipes [m].

    The static pressure is EPANET's run with every demand at zero
    (:func:`hydro.simulation.static_pressure`): a pump then passes no flow and gives its
    shut-off head (4/3 of the duty head of a single-point curve), which is what the pipes
    below it must hold whenever the taps close. Checked when :attr:`Rules.pressure_class`.
    """
    pumps = booster_pumps(wn)
    if not pumps or not rules.pressure_class:
        return []
    below: set[str] = set()
    for name in pumps:
        link = wn.get_link(name)
        below.update(
            [link.end_node_name, *nodes_below(wn, link.end_node_name, link.start_node_name)]
        )
    rating = node_pressure_ratings(wn)
    nodes = [n for n in rating.index if n in below and n in wn.junction_name_list]
    if not nodes:
        return []
    static = static_pressure(wn)
    frame = pd.DataFrame([static[nodes].to_numpy()], index=[0.0], columns=nodes)
    rows = _rows(frame, "junction", "pressure_m", rating[nodes], below=False)
    return [rows.assign(check="pressure_class_shutoff", severity="violation")]


def _epanet_violations(results: SimulationResults) -> list[pd.DataFrame]:
    """EPANET's own verdicts: hydraulics not balanced, negative pressures (one row per step)."""
    parts = []
    warned = results.warnings
    for check, pattern in (
        ("epanet_not_converged", "unbalanced|could not be solved"),
        ("epanet_negative_pressures", "negative pressures"),
    ):
        hit = warned[warned["message"].str.contains(pattern, case=False)]
        if not hit.empty:
            parts.append(
                pd.DataFrame(
                    {
                        "element": hit["element"].replace("", "network").to_numpy(),
                        "kind": "network",
                        "check": check,
                        "severity": "violation",
                        "quantity": "epanet_warning",
                        "time_h": hit["time_h"].to_numpy(),
                        "value": np.nan,
                        "limit": np.nan,
                        "excess": np.nan,
                    }
                )
            )
    return parts


def _worst_first(violations: pd.DataFrame) -> pd.DataFrame:
    """Violations before warnings, each by relative excess (excess over the limit, the limit
    taken as at least 1); a result that is not a number first of all.
    """
    if violations.empty:
        return violations
    relative = violations["excess"] / violations["limit"].abs().clip(lower=1.0)
    relative = relative.fillna(np.inf)  # a result that is not a number is the worst
    order = np.lexsort((-relative.to_numpy(), violations["severity"] != "violation"))
    return violations.iloc[order].reset_index(drop=True)


def non_finite_violations(results: SimulationResults) -> pd.DataFrame:
    """Violation rows for every result that is not a number (:meth:`SimulationResults.non_finite`).

    A NaN pressure compares false with every limit, so without these rows a run whose
    results are not numbers would pass every rule. One row per element and quantity, at the
    first time step; value, limit and excess are NaN (the worst of all, sorted first).
    """
    bad = results.non_finite()
    return pd.DataFrame(
        {
            "element": bad["element"].to_numpy(),
            "kind": bad["kind"].to_numpy(),
            "check": "not_a_number",
            "severity": "violation",
            "quantity": bad["quantity"].to_numpy(),
            "time_h": bad["time_h"].to_numpy(),
            "value": np.nan,
            "limit": np.nan,
            "excess": np.nan,
        },
        columns=RULE_VIOLATION_COLUMNS,
    )


def _summary(results, pressure, minimum, ok, violations, node_class) -> dict:
    margin = pressure - minimum
    values = margin.to_numpy(dtype=float)
    # the worst node: a pressure that is not a number first, else the least margin (a node
    # held to no minimum, below a break-pressure tank, has an infinite one: never the worst)
    values = np.where(np.isnan(values), -np.inf, values)
    i, j = np.unravel_index(int(np.argmin(values)), values.shape) if values.size else (0, 0)
    worst = str(pressure.columns[j]) if values.size else ""
    counts = (
        violations.groupby(["check", "severity"]).size().to_dict() if not violations.empty else {}
    )
    errors = violations[violations["severity"] == "violation"]
    by_class = {}
    for cls in NODE_CLASSES:
        members = [
            n
            for n in pressure.columns
            if node_class.get(n, "junction") == cls and minimum[n] > -np.inf
        ]
        if members:  # NaN when any pressure of the class is not a number
            by_class[cls] = float(pressure[members].min(skipna=False).min(skipna=False))
    return {
        "node_hours_compliant_share": float(ok.to_numpy().mean()) if ok.size else 1.0,
        "worst_node": worst,
        "worst_node_class": node_class.get(worst, "junction"),
        "worst_time_h": float(pressure.index[i]) / SECONDS_PER_HOUR if values.size else np.nan,
        "worst_pressure_m": float(pressure.iat[i, j]) if values.size else np.nan,
        "worst_margin_m": float(margin.iat[i, j]) if values.size else np.nan,
        "min_pressure_by_class_m": by_class,
        "violations": int(len(errors)),
        "elements_violating": int(len(errors[["kind", "element"]].drop_duplicates())),
        "warnings": int((violations["severity"] == "warning").sum()),
        "counts": {f"{c} ({s})": int(n) for (c, s), n in counts.items()},
        "compliant": bool(errors.empty),
    }


# --------------------------------------------------------------------------- design condition
#: Check names of the design condition's rows, by case (hydro.condition).
CONDITION_CHECKS = {"peak hour": "design_peak_hour", "tap flows": "tap_flow"}


def check_design_condition(
    wn: wntr.network.WaterNetworkModel,
    rules: Rules,
    node_class: Mapping[str, str],
    taps: pd.DataFrame | None,
) -> pd.DataFrame:
    """The design condition of ``wn`` run by EPANET: one row per case and node with a minimum.

    Cases (:func:`hydro.condition.design_cases`): the peak hour and the tap flows, tanks
    at their reserve level (``rules.tank_reserve_share``) and pumps as their level controls run
    them. Columns: condition, node, class, demand_l_per_s (flow asked), pressure_m (pressure
    got), min_pressure_m (the node's minimum at the peak hour; at a tap node drawing, the
    tap's), margin_m.
    """
    tap_min = rules.tap_min_pressure_m
    # a break-pressure tank's free surface, a pump's suction: no minimum
    outlets = break_tank_outlets(wn) | pump_suctions(wn)
    cases = design_cases(
        wn,
        lambda n: (
            -np.inf
            if n in outlets
            else rules.min_pressure_m.get(node_class.get(n, "junction"), 0.0)
        ),
        taps if tap_min is not None else None,
        tap_min if tap_min is not None else 0.0,
        rules.tank_reserve_share,
    )
    table = check_cases(cases)
    table.insert(2, "class", [node_class.get(n, "junction") for n in table["node"]])
    return table


def condition_violations(table: pd.DataFrame) -> pd.DataFrame:
    """Rows of :func:`check_design_condition` below their minimum, as violation rows."""
    low = table[~(table["margin_m"] >= -1e-9)]  # a margin that is not a number fails
    return pd.DataFrame(
        {
            "element": low["node"].to_numpy(),
            "kind": "junction",
            "check": [CONDITION_CHECKS.get(c, c) for c in low["condition"]],
            "severity": "violation",
            "quantity": "pressure_m",
            "time_h": np.nan,
            "value": low["pressure_m"].to_numpy(),
            "limit": low["min_pressure_m"].to_numpy(),
            "excess": -low["margin_m"].to_numpy(),
        },
        columns=RULE_VIOLATION_COLUMNS,
    )


def _with_rows(report: ComplianceReport, rows: pd.DataFrame) -> ComplianceReport:
    """The report with more violation rows (worst first) and its counts brought up to date."""
    if rows.empty:
        return report
    violations = pd.concat(
        [rows, report.violations] if not report.violations.empty else [rows], ignore_index=True
    )
    errors = violations[violations["severity"] == "violation"]
    counts = violations.groupby(["check", "severity"]).size().to_dict()
    summary = dict(report.summary)
    summary.update(
        violations=int(len(errors)),
        elements_violating=int(len(errors[["kind", "element"]].drop_duplicates())),
        counts={f"{c} ({sv})": int(n) for (c, sv), n in counts.items()},
        compliant=bool(errors.empty),
    )
    return replace(report, violations=violations, summary=summary)


def operation_summary(
    wn: wntr.network.WaterNetworkModel, results: SimulationResults
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How the tanks and pumps operate over a run, compliant or not.

    Returns (tanks, pumps). tanks: tank, lowest_level_m, highest_level_m, min_level_m,
    max_level_m (the overflow level). pumps: pump, hours_on_per_day, starts (switch-ons
    seen at the report steps), energy_kwh_per_day (rho g Q H / efficiency,
    :func:`hydro.pumps.pump_energy`).
    """
    from hydro.pumps import pump_energy

    levels = results.tank_level
    tanks = pd.DataFrame(
        [
            {
                "tank": name,
                "lowest_level_m": float(levels[name].min()),
                "highest_level_m": float(levels[name].max()),
                "min_level_m": float(wn.get_node(name).min_level),
                "max_level_m": float(wn.get_node(name).max_level),
            }
            for name in results.tanks
        ],
        columns=["tank", "lowest_level_m", "highest_level_m", "min_level_m", "max_level_m"],
    )
    rows = []
    for name, _ in wn.pumps():
        if name not in results.flow.columns or len(results.flow.index) < 2:
            continue
        running = (results.flow[name] > 1e-7).to_numpy()
        starts = int(np.sum(running[1:] & ~running[:-1]) + (1 if running[0] else 0))
        energy = pump_energy(results, wn, name, 0.0)
        days = max(float(results.flow.index[-1]) / SECONDS_PER_DAY, 1e-9)
        rows.append(
            {
                "pump": name,
                "hours_on_per_day": energy.hours_running_per_day,
                "starts_per_day": starts / days,
                "energy_kwh_per_day": energy.kwh_per_day,
                "m3_per_day": energy.m3_per_day,
            }
        )
    pumps = pd.DataFrame(
        rows,
        columns=["pump", "hours_on_per_day", "starts_per_day", "energy_kwh_per_day", "m3_per_day"],
    )
    return tanks, pumps


# --------------------------------------------------------------------------- whole check
@dataclass(frozen=True, kw_only=True)
class CheckCase:
    """One run of :func:`check_network`: the model's own demand, or one year's projection."""

    year: int | None  # None: the demand written in the model
    report: ComplianceReport
    service: object | None = None  # hydro.service.Service of the pressure-driven run
    #: the design condition's rows (check_design_condition), empty when not checked
    condition: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: the tap table of the design condition's tap-flow case (hydro.demand.tap_design)
    taps: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: tank levels and pump operation over the run (operation_summary)
    tanks: pd.DataFrame = field(default_factory=pd.DataFrame)
    pumps: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass(frozen=True, kw_only=True)
class NetworkCheck:
    """What :func:`check_network` found, case by case."""

    cases: list[CheckCase]
    rules: Rules
    years_defaulted: bool = False

    @property
    def compliant(self) -> bool:
        """True when no case breaks a rule (warnings do not count)."""
        return all(case.report.compliant for case in self.cases)

    @property
    def violations(self) -> pd.DataFrame:
        """Every case's violations, with a ``year`` column (empty for the model's demand)."""
        return pd.concat(
            [c.report.violations.assign(year=c.year) for c in self.cases], ignore_index=True
        )

    @property
    def taps_open(self) -> pd.DataFrame:
        """The all-taps-open case of every case, one row per tap node
        (:func:`hydro.condition.taps_open_table`), with ``year``; empty when not checked.
        """
        parts = [
            taps_open_table(c.condition, c.taps).assign(year=c.year)
            for c in self.cases
            if not c.condition.empty and not c.taps.empty
        ]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    @property
    def service(self) -> pd.DataFrame:
        """Delivered water per village (or node) of the pressure-driven runs, with ``year``."""
        parts = []
        for c in self.cases:
            if c.service is not None:
                table = c.service.villages if not c.service.villages.empty else c.service.nodes
                parts.append(table.assign(year=c.year))
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def check_network(
    wn: wntr.network.WaterNetworkModel,
    rules: Rules | None = None,
    *,
    villages: pd.DataFrame | None = None,
    years: list[int] | None = None,
    scenario: str = "standpipes",
    classes: Mapping[str, str] | None = None,
    duration_h: float = defaults.CHECK_DURATION_H,
    pressure_driven: bool = False,
    required_pressure_m: float | None = None,
    source: str = "network",
    taps: pd.DataFrame | None = None,
    design_condition: bool = True,
) -> NetworkCheck:
    """Check a network over days of operation, with its own demand or projected years.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (never modified).
    rules : Rules, optional
        Design rules; default :class:`Rules` (docs/sources.md, 5.1).
    villages : pandas.DataFrame, optional
        Village table (:func:`hydro.demand.read_villages`): node classes and, with ``years``,
        the demand projected to each year. Without ``years``, the opening and the design year
        (:func:`hydro.demand.default_years`).
    years : list of int, optional
        Years whose projected demand is checked (needs ``villages``).
    scenario : str
        Demand scenario of the projection (``standpipes`` or ``household_connections``).
    classes : mapping, optional
        Classes that override those found (node -> standpipe / household / junction, pipe ->
        distribution / transmission).
    duration_h : float
        Simulated duration [h].
    pressure_driven : bool
        Also run pressure-driven demand and report the water delivered.
    required_pressure_m : float, optional
        Pressure-driven runs: full delivery at this pressure [m]; default
        :meth:`Rules.required_pressure_m`.
    source : str
        The network's file name, for messages.
    taps : DataFrame, optional
        Tap table (:func:`hydro.demand.taps_from_model` columns) for the model's own demand;
        with ``villages``, the projection's taps are used.
    design_condition : bool
        Also check the design condition (:func:`check_design_condition`): peak hour and tap
        flows with the tanks at their reserve level, as their own rows.

    Returns
    -------
    NetworkCheck
        One case per year (or one for the model's own demand).

    Examples
    --------
    >>> from hydro.demand import read_villages
    >>> from hydro.network import read_network
    >>> result = check_network(
    ...     read_network("networks/oujda_rural.inp"),
    ...     villages=read_villages("demand_profiles/oujda_villages.csv"),
    ...     years=[2030],
    ...     duration_h=24,
    ... )
    >>> [case.year for case in result.cases]
    [2030]
    """
    from hydro.demand import (
        apply_demand,
        check_villages_against_network,
        default_years,
        get_scenario,
        project_demand,
        tap_design,
    )
    from hydro.service import delivered_service

    rules = rules or Rules()
    classes = dict(classes or {})
    runs = []  # (year, model, classes, village table, node -> village)
    defaulted = False
    if villages is None:
        if years:
            raise InputError("checking projected years needs a village table (--villages)")
        runs.append((None, wn, classes, None, None, taps))
    else:
        check_villages_against_network(villages, wn, source)
        if not years:
            years, defaulted = default_years(villages), True
        demand_scenario = get_scenario(scenario)
        for year in years:
            projection = project_demand(villages, year, demand_scenario)
            nodes = projection.nodes
            node_village = dict(zip(nodes["node"], nodes["village"], strict=True))
            found = projection.node_classes()
            runs.append(
                (year, apply_demand(wn, projection), {**found, **classes}, projection.villages,
                 node_village, projection.nodes)
            )  # fmt: skip
    cases = []
    for year, model, found, projected, node_village, tap_rows in runs:
        report = check_compliance(model, rules, found, duration_h=duration_h)
        condition, tap_table = pd.DataFrame(), pd.DataFrame()
        if design_condition:
            if tap_rows is None:
                # the tags' taps and taps per standpipe, as the sizing wrote them
                tap_rows = default_taps(model, report.node_classes)
            tap_table = tap_design(tap_rows)
            condition = check_design_condition(model, rules, report.node_classes, tap_table)
            report = _with_rows(report, condition_violations(condition))
        tanks, pumps = operation_summary(model, report.results)
        service = None
        if pressure_driven:
            required = required_pressure_m
            if required is None:
                required = rules.required_pressure_m(report.node_classes.values())
            service = delivered_service(
                model, duration_h, required, 0.0, villages=projected, node_village=node_village
            )
        cases.append(
            CheckCase(
                year=year,
                report=report,
                service=service,
                condition=condition,
                taps=tap_table if rules.tap_min_pressure_m is not None else pd.DataFrame(),
                tanks=tanks,
                pumps=pumps,
            )
        )
    return NetworkCheck(cases=cases, rules=rules, years_defaulted=defaulted)
