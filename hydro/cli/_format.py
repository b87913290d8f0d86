"""What the commands print: the library's results as lines an engineer reads on a terminal.

The presentation of every command lives here, not in the library: a library function returns
tables and numbers (a notebook shows them as it likes), a ``format_*`` function here turns
them into text. Imported by the commands when they run (it imports pandas), so that
``hydro --help`` answers at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from hydro import defaults

if TYPE_CHECKING:
    from hydro.compliance import ComplianceReport, NetworkCheck
    from hydro.demand import DemandProjection
    from hydro.service import Service
    from hydro.sizing import SizingResult
    from hydro.storage import StorageDesign
    from hydro.taps import TapRun

#: Columns of the per-village table ``hydro demand`` prints.
DEMAND_COLUMNS = [
    "village", "population", "people_standpipe", "people_household", "consumption_m3_per_day",
    "source_average_day_l_per_s", "peak_day_l_per_s", "peak_hour_l_per_s",
    "l_per_person_day_gross", "taps", "taps_needed", "people_per_tap",
]  # fmt: skip
#: Columns of the per-village table printed as whole numbers (people and taps).
WHOLE_COLUMNS = ["population", "people_standpipe", "people_household", "people_per_tap",
                 "taps", "taps_needed"]  # fmt: skip


def format_table(frame: pd.DataFrame) -> str:
    """A table for the terminal, two decimals."""
    return frame.to_string(index=False, float_format=lambda v: f"{v:,.2f}")


# --------------------------------------------------------------------------- hydro simulate
def format_summary(summary: dict) -> str:
    """The summary of a run (:func:`hydro.simulation.summarize`) as lines for a terminal."""
    lines = [f"duration: {summary['duration_h']:g} h"]
    if "min_pressure_m" in summary:
        lines.append(
            f"minimum pressure: {summary['min_pressure_m']:.2f} m at node "
            f"{summary['min_pressure_node']}, t = {summary['min_pressure_time_h']:g} h"
        )
        lines.append(
            f"maximum pressure: {summary['max_pressure_m']:.2f} m at node "
            f"{summary['max_pressure_node']}, t = {summary['max_pressure_time_h']:g} h"
        )
    if "max_velocity_m_per_s" in summary:
        lines.append(
            f"maximum velocity: {summary['max_velocity_m_per_s']:.3f} m/s in pipe "
            f"{summary['max_velocity_pipe']}, t = {summary['max_velocity_time_h']:g} h"
        )
    for tank, (low, high) in summary["tank_levels_m"].items():
        lines.append(f"tank {tank}: level {low:.2f} - {high:.2f} m")
    if summary["duration_h"] > 0:
        lines.append(
            f"demand: peak {summary['peak_demand_l_per_s']:.2f} l/s, "
            f"total {summary['total_demand_m3']:.1f} m3; "
            f"supplied by reservoirs {summary['total_reservoir_supply_m3']:.1f} m3"
        )
    else:  # a steady state has a rate, not a volume
        lines.append(f"demand: {summary['peak_demand_l_per_s']:.2f} l/s (steady state)")
    return "\n".join(lines)


def format_warnings(warnings: pd.DataFrame, show: int = 10) -> str:
    """EPANET's warnings grouped by message and element: count, first and last time."""
    if warnings.empty:
        return "EPANET warnings: none"
    kind = [
        message.replace(f" {element} ", " ", 1) if element else message
        for message, element in zip(warnings["message"], warnings["element"], strict=True)
    ]
    groups = (
        warnings.assign(kind=kind)
        .groupby(["kind", "element"], sort=False)["time_h"]
        .agg(["count", "min", "max"])
        .reset_index()
    )
    lines = [f"EPANET warnings: {len(warnings)}"]
    for row in groups.head(show).itertuples(index=False):
        who = f"{row.element}: " if row.element else ""
        lines.append(
            f"  {who}{row.kind} ({row.count} step(s), t = {row.min:g} to {row.max:g} h)"
            if row.count > 1
            else f"  {who}{row.kind} (t = {row.min:g} h)"
        )
    if len(groups) > show:
        lines.append(f"  ... and {len(groups) - show} more kinds")
    return "\n".join(lines)


# --------------------------------------------------------------------------- hydro check
def format_compliance(report: ComplianceReport, show: int = 20) -> str:
    """The compliance report as lines: shares, worst node, worst element-checks, verdict."""
    s = report.summary
    lines = [
        f"node-hours within the pressure rules: {100 * s['node_hours_compliant_share']:.1f}%",
        f"worst node: {s['worst_node']} ({s['worst_node_class']}) at t = {s['worst_time_h']:g} h:"
        f" {s['worst_pressure_m']:.2f} m ({s['worst_margin_m']:+.2f} m against its minimum)",
    ]
    for cls, value in s["min_pressure_by_class_m"].items():
        lines.append(f"lowest pressure, {cls} nodes: {value:.2f} m")
    for key, n in s["counts"].items():
        lines.append(f"  {key}: {n} element-times")
    v = report.violations
    if not v.empty:
        # each element and check once, at its worst time step (the table has every step)
        worst = v.drop_duplicates(["element", "check"])
        shown = pd.concat(
            [
                worst[worst["severity"] == "violation"].head(show),
                worst[worst["severity"] == "warning"].head(5),
            ]
        )
        lines.append(
            f"worst {len(shown)} of {len(worst)} element-checks (each at its worst time step, "
            f"'-' for the steady design condition; {len(v)} element-times in all):"
        )
        lines.append(
            shown.drop(columns=["quantity"]).to_string(
                index=False, float_format=lambda x: f"{x:.3f}", na_rep="-"
            )
        )
    if s["compliant"]:
        verdict = "COMPLIANT: every rule met at every time step"
        if s["warnings"]:
            verdict += f" ({s['warnings']} warning(s): see above)"
    else:
        verdict = (
            f"NOT COMPLIANT: {s['violations']} violations at {s['elements_violating']} element(s)"
        )
    lines.append(f"verdict: {verdict}")
    return "\n".join(lines)


def format_condition(table: pd.DataFrame, show: int = 20) -> str:
    """The design condition's rows as lines: per case its least margin, then the tap flows."""
    lines = ["design condition (steady states, tanks at their reserve level, pumps as operated):"]
    for name, group in table.groupby("condition", sort=False):
        worst = group.loc[group["margin_m"].idxmin()]
        failing = int((group["margin_m"] < -1e-9).sum())
        lines.append(
            f"  {name}: least margin {worst['margin_m']:+.2f} m at {worst['node']} "
            f"({worst['pressure_m']:.2f} m against {worst['min_pressure_m']:g} m)"
            + (f"; {failing} node(s) below their minimum" if failing else "")
        )
    taps = table[(table["condition"] == "tap flows") & table["class"].isin(["standpipe",
                 "household"])]  # fmt: skip
    if not taps.empty:
        taps = taps.sort_values("margin_m", na_position="first").head(show)
        lines.append(_governing_tap(taps.iloc[0]))
        lines.append(f"  tap flow at each tap node (the {len(taps)} of least margin):")
        columns = ["node", "class", "demand_l_per_s", "pressure_m", "min_pressure_m", "margin_m"]
        columns += [c for c in ("local_loss_m", "tap_pressure_m") if c in taps.columns]
        shown = taps[columns].rename(columns={"demand_l_per_s": "flow_asked_l_per_s"})
        lines.append(
            "  "
            + shown.to_string(index=False, float_format=lambda x: f"{x:.3f}").replace("\n", "\n  ")
        )
    return "\n".join(lines)


def _governing_tap(row: pd.Series) -> str:
    """The all-taps-open case's governing tap (least margin) as a line."""
    loss = float(row.get("local_loss_m", 0.0))
    at_tap = float(row.get("tap_pressure_m", row["pressure_m"]))
    needed = float(row["min_pressure_m"]) - loss
    return (
        f"  all taps open (every standpipe's taps, tanks at their reserve): governing tap at "
        f"{row['node']} ({row['class']}): {at_tap:.2f} m at the tap against {needed:g} m"
        + (f", after {loss:.2f} m of riser, valve and meter" if loss else "")
    )


def format_operation(tanks: pd.DataFrame, pumps: pd.DataFrame, reserve_share: float) -> list[str]:
    """Lines on how tanks and pumps operate: levels against reserve and overflow; pumps."""
    lines = []
    for rec in tanks.to_dict("records"):
        reserve = rec["min_level_m"] + reserve_share * (rec["max_level_m"] - rec["min_level_m"])
        lines.append(
            f"tank {rec['tank']}: level {rec['lowest_level_m']:.2f} - "
            f"{rec['highest_level_m']:.2f} m; reserve {reserve:.2f} m "
            f"({rec['lowest_level_m'] - reserve:+.2f} m at the lowest), overflow "
            f"{rec['max_level_m']:.2f} m ({rec['highest_level_m'] - rec['max_level_m']:+.2f} m "
            "at the highest)"
        )
    for rec in pumps.to_dict("records"):
        hours = rec["hours_on_per_day"]
        if hours >= HOURS_PER_DAY - ALWAYS_ON_TOL_H:  # started once, at the start of the run
            how = "runs all the time (24 h a day, never stopped)"
        elif hours <= ALWAYS_ON_TOL_H:
            how = "never runs"
        else:
            how = (
                f"on {hours:.1f} h a day, {rec['starts_per_day']:.1f} starts a day "
                "(at the report steps)"
            )
        lines.append(
            f"pump {rec['pump']}: {how}, "
            f"{rec['energy_kwh_per_day']:.1f} kWh a day for {rec['m3_per_day']:.1f} m3"
        )
    return lines


HOURS_PER_DAY = 24.0
#: Hours a day within which a pump counts as always on, or never on [h].
ALWAYS_ON_TOL_H = 1e-6


def format_check(result: NetworkCheck, scenario: str, show: int = 20) -> str:
    """What ``hydro check`` prints after its header: the years, then every case in turn.

    Per case (the model's own demand, or a projected year under ``scenario``): the compliance
    report, EPANET's warnings, the design condition, how tanks and pumps operate, and the
    water delivered when a pressure-driven run was asked. ``show``: violations printed.
    """
    lines = []
    if result.years_defaulted:
        first, last = result.cases[0].year, result.cases[-1].year
        lines.append(
            f"years: {first} (opening: the village table's data year) and {last} (design "
            "horizon, docs/sources.md, 5.1); choose others with --year"
        )
    for case in result.cases:
        if case.year is not None:
            lines.append(f"\n== demand of {case.year} ({scenario}) ==")
        lines.append(format_compliance(case.report, show=show))
        lines.append(format_warnings(case.report.results.warnings))
        if not case.condition.empty:
            lines.append(format_condition(case.condition, show=show))
        lines += format_operation(case.tanks, case.pumps, result.rules.tank_reserve_share)
        if case.service is not None:
            lines.append(format_service(case.service))
    return "\n".join(lines)


def format_service(service: Service) -> str:
    """The water a pressure-driven run delivered, as lines for a terminal."""
    lines = [
        f"pressure-driven run: full demand at >= {service.required_pressure_m:g} m, none below "
        f"{service.minimum_pressure_m:g} m; delivered {100 * service.delivered_share:.1f}% of "
        "the water requested"
    ]
    table = service.villages if not service.villages.empty else service.nodes
    lines.append(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return "\n".join(lines)


# --------------------------------------------------------------------------- hydro demand
def format_demand(projection: DemandProjection, nodes: pd.DataFrame) -> str:
    """The projection as ``hydro demand`` prints it: the scenario, per village, per node.

    ``nodes`` is the node table with the taps open at once
    (:meth:`hydro.demand.DemandProjection.node_table`).
    """
    scenario = projection.scenario
    shown = projection.table()[DEMAND_COLUMNS].copy()
    for column in WHOLE_COLUMNS:
        shown[column] = shown[column].round().astype("Int64")  # whole people and taps
    return "\n".join(
        [
            f"demand in {projection.year}, scenario {scenario.name} "
            f"(efficiency: transmission {scenario.transmission_efficiency:g}, "
            f"distribution {scenario.distribution_efficiency:g}; "
            f"peak day x{scenario.peak_day_factor:g}; peak hour from "
            f"{'the pattern' if scenario.peak_hour_factor is None else 'a factor'})",
            format_table(shown),
            "\nper node: peak day and peak hour; taps (a standpipe's, or one per household "
            "connection), each tap's flow, and the taps open at once in the design condition's "
            "tap-flow case with their flow (docs/sources.md, 5.1; Hunter's binomial 99th "
            "percentile for connections):",
            format_table(nodes),
        ]
    )


# --------------------------------------------------------------------------- hydro storage
def format_storage(design: StorageDesign, tank: str, energy_price_per_kwh: float) -> list[str]:
    """Lines on a sized tank: its rule and hourly balance; the pump's duty, choice and energy."""
    sizing = design.sizing
    lines = [
        f"storage rule: {sizing.describe()}",
        sizing.hourly.to_string(index=False, float_format=lambda v: f"{v:.2f}"),
    ]
    if design.pump is not None:
        choice, energy = design.pump, design.energy
        lines += [
            f"pump rule: {design.duty.describe()}",
            f"pump: {choice.name} ({choice.source}); runs at {1000 * choice.flow_m3_per_s:.2f} "
            f"l/s, {choice.head_m:.1f} m, efficiency {choice.efficiency:.2f} against the full "
            f"tank; level controls on {tank}",
            f"energy over {defaults.CHECK_DURATION_H:g} h: {energy.kwh_per_day:.1f} kWh/day, "
            f"{energy.kwh_per_m3:.3f} kWh/m3, {energy.cost_per_day:.1f} per day at "
            f"{energy_price_per_kwh:g} per kWh; running {energy.hours_running_per_day:.1f} h/day",
        ]
    return lines


# --------------------------------------------------------------------------- hydro size
def _cost_line(v, unit: str) -> str:
    """The total cost, and its parts when break-pressure tanks or valves were placed."""
    if not v.break_tanks and not v.pressure_valves and v.boosters.empty:
        return (
            f"total pipe cost: {v.cost:,.2f}{unit} (recomputed from the catalogue for the "
            "written file)"
        )
    pipes = v.cost - v.break_tank_cost - v.pressure_valve_cost - v.booster_cost
    parts = [f"pipes {pipes:,.2f}{unit} (recomputed from the catalogue for the written file)"]
    if v.break_tanks:
        parts.append(f"{len(v.break_tanks)} break-pressure tank(s) {v.break_tank_cost:,.2f}{unit}")
    if v.pressure_valves:
        parts.append(
            f"{len(v.pressure_valves)} pressure-reducing valve(s) "
            f"{v.pressure_valve_cost:,.2f}{unit}"
        )
    if not v.boosters.empty:
        parts.append(
            f"{len(v.boosters)} booster pump(s) {v.booster_cost:,.2f}{unit} (stations and "
            "energy over the life, discounted)"
        )
    return f"total cost: {v.cost:,.2f}{unit}: " + ", ".join(parts)


def format_result(result: SizingResult, currency: str = "") -> str:
    """The sizing result as lines: method, cost, pressures, design condition, verification."""
    v = result.verification
    unit = f" {currency}" if currency else ""
    lines = [
        f"method: {result.method}"
        + (f", optimality gap {result.gap:.2e}" if result.gap is not None else "")
        + (f", {result.evaluations:,} hydraulic evaluations" if result.evaluations else "")
        + f", {result.seconds:.2f} s",
        _cost_line(v, unit),
        f"lowest pressure: {v.min_pressure_m:.3f} m at junction {v.min_pressure_node}; "
        f"highest {v.max_pressure_m:.3f} m at {v.max_pressure_node} (independent EPANET run "
        "of the design condition's peak hour; with less demand, at night, pressures are "
        "higher: hydro check runs the days)",
    ]
    for rec in v.conditions.to_dict("records"):
        lines.append(
            f"design condition, {rec['condition']} (tanks at their reserve level): least margin "
            f"{rec['margin_m']:+.3f} m at {rec['node']} ({rec['pressure_m']:.3f} m against "
            f"{rec['min_pressure_m']:g} m)"
        )
    if result.lower_bound is not None and "split" not in result.method:
        lines.append(f"proven lower bound: {result.lower_bound:,.2f}{unit}")
    lines.extend(f"note: {n}" for n in result.notes)
    if v.ok:
        lines.append("verification: every target met")
    else:
        lines.append(f"verification: {len(v.violations)} violation(s)")
        lines.append(v.violations.to_string(index=False))
    return "\n".join(lines)


# --------------------------------------------------------------------------- hydro taps
def format_taps(run: TapRun, show: int = 10) -> str:
    """Lines for the terminal: the run, the villages, the worst taps."""
    rate = run.draws / run.seconds if run.seconds > 0 else float("inf")
    lines = [
        f"{run.draws:,} draws (seed {run.seed}) of {len(run.taps)} taps at "
        f"{len(run.tap_model.tap_nodes)} nodes, pressure-driven, tanks at their reserve; "
        f"{run.seconds:.2f} s ({rate:,.0f} draws/s, {run.executor})",
        f"starved: an open tap giving less than {100 * run.useful_share:g}% of its flow",
    ]
    fmt = lambda v: f"{v:.3f}"  # noqa: E731
    if not run.villages.empty and (run.villages["village"] != "").any():
        lines.append("per village (open draws of all its taps):")
        lines.append(run.villages.to_string(index=False, float_format=fmt))
    lines.append(f"worst {min(show, len(run.taps))} taps:")
    worst = run.worst(show)[
        ["node", "tap", "village", "open_draws", "p5_l_per_s", "p50_l_per_s", "p95_l_per_s",
         "share_under_useful"]
    ]  # fmt: skip
    lines.append(worst.to_string(index=False, float_format=fmt))
    return "\n".join(lines)
