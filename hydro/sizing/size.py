"""Least-cost pipe sizing: choose the method, build the sized network, verify it independently.

:func:`size_network` is the one entry point. Branched networks go to the exact 0-1 program
(:mod:`hydro.sizing.tree`); looped ones to the optimiser of :mod:`hydro.sizing.looped`. Either
way the design is written as an ``.inp`` file, read back through EPANET's parser, simulated by
a full EPANET run at the design condition, and costed again from the catalogue through the
labels written in the file's ``[TAGS]``; the figures reported are that check's.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import wntr

from hydro import validate
from hydro.catalog import Catalog, entry_tag, pipe_tag
from hydro.classes import classes_from_taps, tag_node_classes
from hydro.condition import PEAK_HOUR, design_cases
from hydro.errors import InputError, SimulationError, some_of
from hydro.network import copy_network, publish_file, read_from, read_network, write_network
from hydro.simulation import run_simulation
from hydro.sizing.boosters import (
    Boosters,
    add_boosters,
    booster_outlets,
    booster_table,
    fed_by,
)
from hydro.sizing.break_tanks import (
    PRV_OUTLET_SUFFIX,
    PRV_PREFIX,
    BreakTanks,
    PressureValves,
    add_break_tanks,
    add_pressure_valves,
    break_tank_outlets,
    break_tank_valves,
    plan_break_tanks,
    pressure_valves,
    pump_suctions,
    source_classes,
    valve_name,
)
from hydro.sizing.condition import joint_tree_problem, looped_second_stage, split_node_minimum
from hydro.sizing.problem import (
    Problem,
    Targets,
    build_problem,
    static_pressure,
    tree_components,
)
from hydro.sizing.sites import looped_with_sites
from hydro.topology import case_copy, device_ids
from hydro.units import M_PER_BAR

log = logging.getLogger(__name__)
#: The stages of a sizing a user sees (the command line prints them, ``--quiet`` not).
progress = logging.getLogger("hydro.progress")

#: A verified design may miss a target by at most this much (EPANET's own accuracy) [m].
VERIFY_TOL_M = 1e-4
VERIFY_TOL_M_PER_S = 1e-6


@dataclass(kw_only=True)
class Verification:
    """What the independent EPANET run of the written file found."""

    cost: float
    min_pressure_m: float
    min_pressure_node: str
    max_pressure_m: float
    max_pressure_node: str
    violations: pd.DataFrame
    pipes: pd.DataFrame  # per decision pipe: flow, velocity, head loss, pressure seen
    #: per case of the design condition: condition, node, pressure_m, min_pressure_m, margin_m
    #: at the junction of least margin (hydro.condition)
    conditions: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: the break-pressure tanks of the written file (``BPT_*`` valves) and their cost, which
    #: ``cost`` includes [currency]
    break_tanks: list[str] = field(default_factory=list)
    break_tank_cost: float = 0.0
    #: the pressure-reducing valves placed (``PRV_*`` to ``<node>_PRV``) and their cost,
    #: which ``cost`` includes [currency]
    pressure_valves: list[str] = field(default_factory=list)
    pressure_valve_cost: float = 0.0
    #: the booster pumps placed (``PMP_*`` to ``<node>_PMP``), costed again from the file
    #: (:func:`hydro.sizing.boosters.booster_table`), their whole-life cost, which ``cost``
    #: includes [currency], and the option that priced them
    boosters: pd.DataFrame = field(default_factory=pd.DataFrame)
    booster_cost: float = 0.0
    booster_option: Boosters | None = None

    @property
    def ok(self) -> bool:
        """True when the written design meets every target."""
        return self.violations.empty


@dataclass(kw_only=True)
class SizingResult:
    """A verified design. ``table``: one row per sized pipe (or pipe segment)."""

    method: str
    optimiser_cost: float
    lower_bound: float | None
    gap: float | None
    seconds: float
    evaluations: int | None
    model: wntr.network.WaterNetworkModel
    table: pd.DataFrame
    verification: Verification
    notes: list[str] = field(default_factory=list)
    #: looped optimiser: (evaluations, seconds, best cost) at each improvement
    history: list[tuple[int, float, float]] = field(default_factory=list)
    #: The bytes of the written ``.inp`` file that the verification ran
    written_text: bytes = b""

    @property
    def cost(self) -> float:
        """Cost recomputed for the written file: pipes from the catalogue, break-pressure
        tanks and pressure-reducing valves [currency].
        """
        return self.verification.cost


# --------------------------------------------------------------------------- building a design
def apply_design(problem: Problem, segments: dict[str, list[tuple[int, float]]]):
    """A copy of the original network with each decision pipe built from catalogue entries.

    ``segments``: pipe -> [(catalogue row, length m), ...]. A pipe of one segment keeps its
    name; a split pipe becomes pipes ``<name>_a``, ``<name>_b``... in series, joined by new
    junctions at intermediate points (elevation and coordinates interpolated, no demand).
    Each junction's class and taps, those the design condition used (a tap table of
    :func:`hydro.demand.tap_design`, with its ``service``), go into its tag
    (:func:`hydro.classes.tag_node_classes`), so ``hydro check`` reads them back.
    """
    model = copy_network(problem.wn)
    if problem.taps is not None and "service" in problem.taps.columns:  # a tap_design table
        classes = classes_from_taps(model, problem.taps)
        kept = tag_node_classes(model, classes, problem.taps)
        if kept:
            log.warning(
                "junction(s) %s keep their own tags: their classes (%s) and taps are not written",
                ", ".join(kept[:5]),
                ", ".join(classes[n] for n in kept[:5]),
            )
    table = problem.catalog.table
    index = {p: i for i, p in enumerate(problem.pipes)}  # not pipes.index: O(n) per pipe
    inner_mm = table["inner_diameter_mm"].to_dict()  # not .at
    # each entry's [TAGS] word, with its rating (catalog.pipe_tag), made once
    tag = dict(zip(table.index, map(pipe_tag, table.to_dict("records")), strict=True))
    for name, parts in segments.items():
        pipe = model.get_link(name)
        i = index[name]
        if len(parts) == 1:
            k = parts[0][0]
            pipe.diameter = inner_mm[k] / 1000.0
            pipe.roughness = float(problem.roughness[i, k])
            pipe.tag = tag[k]
            continue
        start, end = model.get_node(pipe.start_node_name), model.get_node(pipe.end_node_name)
        z0 = getattr(start, "elevation", 0.0) if start.node_type != "Reservoir" else None
        z1 = getattr(end, "elevation", 0.0) if end.node_type != "Reservoir" else None
        za = z0 if z0 is not None else z1
        zb = z1 if z1 is not None else z0
        (x0, y0), (x1, y1) = start.coordinates, end.coordinates
        total = sum(length for _, length in parts)
        minor, status = pipe.minor_loss, pipe.initial_status
        model.remove_link(name)
        upstream, done = start.name, 0.0
        for j, (k, length) in enumerate(parts):
            done += length
            if j < len(parts) - 1:
                frac = done / total
                node = f"{name}_split{j + 1}"
                model.add_junction(
                    node,
                    base_demand=0.0,
                    elevation=za + frac * (zb - za),
                    coordinates=(x0 + frac * (x1 - x0), y0 + frac * (y1 - y0)),
                )
            else:
                node = end.name
            seg = f"{name}_{chr(ord('a') + j)}"
            model.add_pipe(
                seg,
                upstream,
                node,
                length=length,
                diameter=inner_mm[k] / 1000.0,
                roughness=float(problem.roughness[i, k]),
                minor_loss=minor,
                initial_status=status,
            )
            model.get_link(seg).tag = tag[k]
            upstream = node
    return model


# --------------------------------------------------------------------------- verification
def _not_a_number_rows(results, condition: str) -> list[tuple]:
    """Verification rows for every result of ``results`` that is not a number.

    A comparison with NaN is false: without these rows a NaN pressure would meet every target.
    """
    return [
        (row.element, row.kind, row.quantity, np.nan, np.nan, np.nan, condition)
        for row in results.non_finite().itertuples()
    ]


def verify_design(
    path: Path,
    problem: Problem,
    sized_pipes: list[str],
    break_tank_cost: float = 0.0,
    prv_cost: float = 0.0,
    boosters: Boosters | None = None,
) -> Verification:
    """Independent check of a written design: a full EPANET run of each case of the design
    condition (peak hour and tap flows, tanks at their reserve), cost from the tags.

    Parameters
    ----------
    path : Path
        The written ``.inp`` file.
    problem : Problem
        The sizing problem: targets, catalogue, taps.
    sized_pipes : list of str
        The pipes the design sized (split pipes: their segments).
    break_tank_cost : float
        Cost of each break-pressure tank of the file (a ``BPT_*`` valve) [currency]; the
        junction below one is a free surface, held to no minimum pressure (nor counted in
        the lowest pressure).
    prv_cost : float
        Cost of each pressure-reducing valve placed by the program (``PRV_<node>`` to
        ``<node>_PRV``; the junction below it is held to no minimum pressure either)
        [currency].
    boosters : Boosters, optional
        The price of the booster pumps of the file (``PMP_<node>`` to ``<node>_PMP``):
        each costs its station plus its energy discounted over the life, recomputed from
        its curve, its efficiency and the demand below it in the file.

    Returns
    -------
    Verification
        The cost from the catalogue tags and the tanks, the lowest and highest pressure of
        the peak hour, a row per target missed (a result that is not a number is one),
        each decision pipe's flow, velocity, head loss and highest pressure, and each
        case's least margin.

    Raises
    ------
    SimulationError
        A sized pipe of the file carries no catalogue tag.
    """
    wn = read_network(path)
    tanks, valves = break_tank_valves(wn), pressure_valves(wn)
    tank_cost, valve_cost = len(tanks) * break_tank_cost, len(valves) * prv_cost
    pumps = booster_table(wn, boosters)
    pump_cost = float(pumps["whole_life_cost"].sum()) if not pumps.empty else 0.0
    cost = _tag_cost(path, wn, problem, sized_pipes) + tank_cost + valve_cost + pump_cost
    t = problem.targets
    outlets = break_tank_outlets(wn)
    static = static_pressure(wn)  # before the peak hour changes wn (tank levels, pumps)
    cases = design_cases(
        wn,
        lambda n: -np.inf if n in outlets else t.min_at(n),
        problem.taps if t.tap_min_pressure_m is not None else None,
        t.tap_min_pressure_m or 0.0,
        t.tank_reserve_share,
        in_place=True,  # wn was read for this check alone: no copy of it
    )
    rows, worst = [], []
    for case in cases:  # every case of the design condition, peak hour first
        case_results = run_simulation(case.snapshot)
        case_rows, case_worst = _case_rows(problem, case, case_results)
        rows += case_rows
        worst.append(case_worst)
        if case is cases[0]:
            results = case_results
    pipe_rows, pipes = _pipe_rows(problem, wn, results, sized_pipes, cases[0].name, static)
    rows += pipe_rows
    if not np.isfinite(cost):
        rows.append(("network", "network", "cost", cost, np.nan, np.nan, cases[0].name))
    violations = pd.DataFrame(
        rows, columns=["element", "kind", "quantity", "value", "limit", "excess", "condition"]
    )
    pressure = results.pressure.iloc[0][[j for j in results.junctions if j not in outlets]]
    return Verification(
        cost=cost,
        min_pressure_m=float(pressure.min(skipna=False)),
        min_pressure_node=str(pressure.fillna(-np.inf).idxmin()),
        max_pressure_m=float(pressure.max(skipna=False)),
        max_pressure_node=str(pressure.fillna(np.inf).idxmax()),
        violations=violations,
        pipes=pd.DataFrame(pipes),
        conditions=pd.DataFrame(
            worst, columns=["condition", "node", "pressure_m", "min_pressure_m", "margin_m"]
        ),
        break_tanks=tanks,
        break_tank_cost=tank_cost,
        pressure_valves=valves,
        pressure_valve_cost=valve_cost,
        boosters=pumps,
        booster_cost=pump_cost,
        booster_option=boosters,
    )


def _tag_cost(path: Path, wn, problem: Problem, sized_pipes: list[str]) -> float:
    """Cost of the sized pipes of the written file from their catalogue tags [currency].

    Raises
    ------
    SimulationError
        A sized pipe carries no catalogue tag.
    """
    catalog = problem.catalog.table
    price = dict(zip(catalog["tag"], catalog["cost_per_m"], strict=True))
    cost = 0.0
    for name in sized_pipes:
        link = wn.get_link(name)
        tag = entry_tag(link.tag)
        if tag not in price:
            raise SimulationError(f"{path}: pipe {name} carries no catalogue tag; cannot cost it")
        cost += link.length * price[tag]
    return cost


def _case_rows(problem: Problem, case, case_results) -> tuple[list[tuple], tuple]:
    """Verification rows of one case of the design condition, and its junction of least margin.

    A row per result that is not a number, per junction below its minimum of the case and
    per junction above the maximum pressure (a target; not a booster's outlet, as ``hydro
    check``). The least margin: (case, node,
    pressure [m], minimum [m], margin [m]), a pressure that is not a number the worst.
    """
    t = problem.targets
    case_pressure = case_results.pressure.iloc[0][case_results.junctions]
    # only a split-pipe joint needs the look-up (a scan of the junctions: O(n) per node)
    minima = {
        n: split_node_minimum(case, n, problem.wn) if "_split" in n else case.minimum_m[n]
        for n in case_pressure.index
    }
    margin = case_pressure - pd.Series(minima)[case_pressure.index]
    node = str(margin.fillna(-np.inf).idxmin())  # a pressure not a number is the worst
    worst = (case.name, node, case_pressure[node], minima[node], margin[node])
    rows = _not_a_number_rows(case_results, case.name)
    pumped = booster_outlets(case.snapshot)  # a booster's discharge: its pipes' class holds it
    for node, p in case_pressure.items():
        minimum = minima[node]
        if p < minimum - VERIFY_TOL_M:
            rows.append((node, "junction", "pressure_m", p, minimum, minimum - p, case.name))
        if (
            t.max_pressure_m is not None
            and p > t.max_pressure_m + VERIFY_TOL_M
            and node not in pumped
        ):
            rows.append(
                (node, "junction", "pressure_m", p, t.max_pressure_m, p - t.max_pressure_m,
                 case.name)
            )  # fmt: skip
    return rows, worst


def _pipe_rows(
    problem: Problem, wn, results, sized_pipes: list[str], condition: str, static: pd.Series
) -> tuple[list[tuple], list[dict]]:
    """Verification rows of the sized pipes in the peak hour (``results``), and their table.

    A row per pipe faster than the velocity limit (a target) or whose highest pressure
    (``static`` [m], or in the run, at either end) is above its catalogue entry's pressure
    class; the table: flow [l/s], velocity [m/s], head loss [m] and that highest pressure
    [m] per pipe.
    """
    t = problem.targets
    catalog = problem.catalog.table
    rating = dict(zip(catalog["tag"], catalog["pressure_rating_m"], strict=True))
    # the first (only) report step, each as a Series once: not one per pipe
    velocity, pressure = results.velocity.iloc[0], results.pressure.iloc[0]
    flow, headloss = results.flow.iloc[0], results.headloss.iloc[0]
    rows, pipes = [], []
    for name in sized_pipes:
        link = wn.get_link(name)
        v = float(velocity[name])
        ends = [link.start_node_name, link.end_node_name]
        seen = max(max(float(static.get(n, 0.0)), float(pressure.get(n, 0.0))) for n in ends)
        vmax = t.max_velocity_m_per_s
        if vmax is not None and v > vmax + VERIFY_TOL_M_PER_S:
            rows.append((name, "pipe", "velocity_m_per_s", v, vmax, v - vmax, condition))
        limit = rating.get(entry_tag(link.tag), np.nan)
        if not np.isnan(limit) and seen > limit + VERIFY_TOL_M:
            rows.append((name, "pipe", "pressure_class_m", seen, limit, seen - limit, condition))
        pipes.append(
            {
                "pipe": name,
                "flow_l_per_s": float(flow[name]) * 1000,
                "velocity_m_per_s": v,
                "headloss_m": float(headloss[name]),
                "max_pressure_seen_m": seen,
            }
        )
    return rows, pipes


def _pipe_table(problem: Problem, model, verification: Verification) -> pd.DataFrame:
    """One row per sized pipe (catalogue entry, cost, hydraulics), then one per
    break-pressure tank (its valve, material ``break-pressure tank``, its cost).
    """
    by_tag = problem.catalog.by_tag.to_dict("index")  # one look-up table, not .loc per pipe
    rows = []
    for rec in verification.pipes.to_dict("records"):
        link = model.get_link(rec["pipe"])
        entry = by_tag[entry_tag(link.tag)]
        rows.append(
            {
                "pipe": rec["pipe"],
                "length_m": link.length,
                "material": entry["material"],
                "nominal_diameter_mm": entry["nominal_diameter_mm"],
                "inner_diameter_mm": entry["inner_diameter_mm"],
                "pressure_class_bar": entry["pressure_class_bar"],
                "cost_per_m": entry["cost_per_m"],
                "cost": entry["cost_per_m"] * link.length,
                **{k: v for k, v in rec.items() if k != "pipe"},
            }
        )
    tanks = verification.break_tanks
    for valve in tanks:
        cost = verification.break_tank_cost / len(tanks)
        rows.append({"pipe": valve, "length_m": 0.0, "material": "break-pressure tank",
                     "cost": cost})  # fmt: skip
    valves = verification.pressure_valves
    for valve in valves:
        cost = verification.pressure_valve_cost / len(valves)
        rows.append({"pipe": valve, "length_m": 0.0, "material": "pressure-reducing valve",
                     "cost": cost, "setting_m": model.get_link(valve).initial_setting})  # fmt: skip
    table = pd.DataFrame(rows)
    if verification.boosters.empty:
        return table
    return _with_boosters(table, model, verification.boosters)


#: The columns of a booster's row in the pipes report (:func:`_with_boosters`).
BOOSTER_COLUMNS = ["head_m", "shutoff_head_m", "flow_l_per_s", "efficiency", "power_kw",
                   "average_flow_l_per_s", "energy_kwh_per_year", "energy_cost_per_year",
                   "capital"]  # fmt: skip


def _with_boosters(table: pd.DataFrame, model, boosters: pd.DataFrame) -> pd.DataFrame:
    """The pipes report with a row per booster (material ``booster pump``, its whole-life
    cost, duty, power, energy and capital) and, on every pipe, ``served_by``: the booster
    that feeds it or ``gravity``.
    """
    served = fed_by(model, boosters["pump"]) if "pump" in boosters else {}
    by = []
    for name in table["pipe"]:
        link = model.get_link(name)
        ends = [served.get(n) for n in (link.start_node_name, link.end_node_name)]
        by.append(next((e for e in ends if e), "gravity"))
    table = table.assign(served_by=by)
    rows = [
        {"pipe": rec["pump"], "length_m": 0.0, "material": "booster pump",
         "cost": rec["whole_life_cost"], **{k: rec[k] for k in BOOSTER_COLUMNS},
         "served_by": rec["pump"]}
        for rec in boosters.to_dict("records")
    ]  # fmt: skip
    return pd.concat([table, pd.DataFrame(rows)], ignore_index=True)


# --------------------------------------------------------------------------- trees: repair loop
#: Re-solves of the tree program allowed when the independent run finds a junction short.
MAX_TREE_REPAIRS = 5
#: EPANET convergence criterion written into a repaired tree design (relative flow change).
TIGHT_ACCURACY = 1e-6


def _build(
    problem: Problem,
    segments,
    tanks: tuple[list[str], list, float] | None = None,
    valves: dict[str, float] | None = None,
    pumps: dict[str, tuple[float, float, float]] | None = None,
) -> tuple[wntr.network.WaterNetworkModel, list[str]]:
    """The sized model and the names of its sized pipes (split pipes: their segments).

    ``tanks``: (junctions given a break-pressure tank, the trees, the residual head [m]),
    written by :func:`hydro.sizing.break_tanks.add_break_tanks`; ``valves``: junction ->
    setting [m] of the pressure-reducing valves placed
    (:func:`hydro.sizing.break_tanks.add_pressure_valves`, below the same trees);
    ``pumps``: junction -> (duty flow [m3/s], duty head [m], efficiency) of the boosters
    placed (:func:`hydro.sizing.boosters.add_boosters`).
    """
    model = apply_design(problem, segments)
    if tanks is not None and (tanks[0] or valves or pumps):
        nodes, trees, residual_m = tanks
        placed = [*nodes, *(valves or {}), *(pumps or {})]
        downstream = {n: [p for t in trees for p, up, _ in t.order if up == n] for n in placed}
        add_break_tanks(model, nodes, downstream, residual_m)
        add_pressure_valves(model, valves or {}, downstream)
        add_boosters(model, pumps or {}, downstream)
    sized = [
        name
        for p, parts in segments.items()
        for name in (
            [p] if len(parts) == 1 else [f"{p}_{chr(ord('a') + j)}" for j in range(len(parts))]
        )
    ]
    return model, sized


def _write_and_verify(
    model,
    problem: Problem,
    sized: list[str],
    break_tank_cost: float = 0.0,
    prv_cost: float = 0.0,
    boosters: Boosters | None = None,
    step: str = "an independent EPANET run of the written file",
) -> tuple[bytes, Verification]:
    """Write ``model`` as an ``.inp`` file and check it by an independent EPANET run;
    returns the file's bytes and the verification. ``step``: what the progress line says.
    """
    progress.info(f"verifying the design: {step}")
    with tempfile.TemporaryDirectory(prefix="hydro-size-") as tmp:
        written = write_network(model, Path(tmp) / "sized.inp")
        verification = verify_design(written, problem, sized, break_tank_cost, prv_cost, boosters)
        return written.read_bytes(), verification


#: Condition name of the rows the extended-period check adds to a verification.
OPERATION = "operation"


def check_operation(
    written_text: bytes, problem: Problem, verification: Verification, duration_h: float
) -> Verification:
    """The verification with what a full extended-period run of the written file finds.

    The design condition is a steady state; the file also has to work over days of operation
    (patterns, tank levels, pump controls): every junction at or above its minimum pressure
    (and below the maximum, with the velocity limit, when those are targets), no negative
    pressure, tanks never empty nor at their overflow, EPANET's hydraulics converged. These are
    the rules ``hydro check`` applies with the same options, so what ``hydro size`` verifies,
    ``hydro check`` passes.
    """
    from hydro.compliance import PIPE_CLASSES, Rules, check_compliance
    from hydro.units import SECONDS_PER_HOUR

    targets = problem.targets
    vmax = targets.max_velocity_m_per_s
    rules = Rules.from_options(
        min_pressure_m=0.0,
        max_pressure_m=targets.max_pressure_m,
        velocity_m_per_s={c: (0.0, vmax if vmax is not None else 1e6) for c in PIPE_CLASSES},
        tank_reserve_share=0.0,
    )
    with tempfile.TemporaryDirectory(prefix="hydro-size-") as tmp:
        path = Path(tmp) / "sized.inp"
        path.write_bytes(written_text)
        wn = read_network(path, validate=False)
    report = check_compliance(wn, rules, {}, duration_h=duration_h)
    v = report.violations
    rows = [
        {"element": r.element, "kind": r.kind, "quantity": r.check, "value": r.value,
         "limit": r.limit, "excess": r.excess, "condition": f"{OPERATION} (t = {r.time_h:g} h)"}
        for r in v[v["severity"] == "violation"].itertuples()
        if not r.check.startswith("min_pressure")  # each node's own minimum: below
    ]  # fmt: skip
    pressure = report.results.pressure[report.results.junctions]
    outlets = break_tank_outlets(wn)
    for node in pressure.columns:
        if node.endswith(tuple(f"_split{k}" for k in range(1, 10))) or node in outlets:
            continue  # a split-pipe joint (its ends carry the targets), a tank's free surface
        lowest = pressure[node].min()
        limit = targets.min_at(node)
        if lowest < limit - VERIFY_TOL_M:
            when = float(pressure[node].idxmin()) / SECONDS_PER_HOUR
            rows.append(
                {"element": node, "kind": "junction", "quantity": "pressure_m", "value": lowest,
                 "limit": limit, "excess": limit - lowest,
                 "condition": f"{OPERATION} (t = {when:g} h)"}
            )  # fmt: skip
    if not rows:
        return verification
    extra = pd.DataFrame(rows).sort_values("excess", ascending=False)
    extra = extra.drop_duplicates(["element", "quantity"])  # each at its worst step
    violations = pd.concat([verification.violations, extra], ignore_index=True)
    return replace(verification, violations=violations)


def _size_tree_verified(
    problem: Problem,
    trees,
    split: bool,
    notes: list[str],
    tanks: BreakTanks | None = None,
    source: str = "network",
    time_limit_s: float = 600.0,
    valves: PressureValves | None = None,
    boosters: Boosters | None = None,
):
    """Solve the tree program, verify the written design, and repair it when EPANET disagrees.

    The program's head losses are EPANET's own formulas at the design flows (Hazen-Williams;
    Darcy-Weisbach in all three regimes with EPANET's viscosity and gravity), so a shortfall
    can only come from how EPANET solves the written file or from a model difference not yet
    known. When the written design is short, a run of the same file with EPANET's
    convergence criterion (ACCURACY) tightened to :data:`TIGHT_ACCURACY` tells whether
    convergence was the cause; if so that file is kept. Otherwise the head kept at each
    junction found short is raised by its shortfall plus 1 mm and the program solved again,
    at most :data:`MAX_TREE_REPAIRS` times. Every step is reported in ``notes``. With
    ``tanks`` and ``valves``, the program also places break-pressure tanks and
    pressure-reducing valves (:mod:`hydro.sizing.break_tanks`); with ``boosters``, booster
    pumps (:mod:`hydro.sizing.boosters`). Every solve shares ``time_limit_s`` [s]
    (``--time-limit``).
    """
    from hydro.sizing.tree import solve_tree

    plan = None
    unit_cost = (tanks.cost if tanks else 0.0, valves.cost if valves else 0.0, boosters)
    if tanks is not None or valves is not None or boosters is not None:
        plan = plan_break_tanks(problem, trees, tanks, source, valves, boosters)
        problem = replace(problem, allowed=source_classes(problem, plan, source))
    # one program for every case of the design condition (peak hour, tap flows)
    joint, joint_trees = joint_tree_problem(problem, trees, problem.cases)
    extra: dict[str, float] = {}
    deadline = time.monotonic() + time_limit_s
    for attempt in range(MAX_TREE_REPAIRS + 1):
        left = max(deadline - time.monotonic(), 1.0)
        solution = solve_tree(
            joint, joint_trees, split=split, time_limit_s=left, extra_margin_m=extra, plan=plan
        )
        placed = (solution.break_tanks, trees, plan.residual_m) if plan else None
        model, sized = _build(
            problem, solution.segments, placed, solution.pressure_valves, solution.boosters
        )
        text, verification = _write_and_verify(model, problem, sized, *unit_cost)
        short = _pressure_shortfalls(verification, problem.snapshot.node_name_list)
        if short and model.options.hydraulic.accuracy > TIGHT_ACCURACY:
            tightened = _tighten(model, problem, sized, short, notes, unit_cost)
            if tightened is not None:  # EPANET had stopped short of the steady state
                text, verification, short = *tightened, {}
        if not short or attempt == MAX_TREE_REPAIRS:
            break
        for node, missing in short.items():
            extra[node] = extra.get(node, 0.0) + missing + 1e-3
        notes.append(
            f"repair {attempt + 1}: the independent EPANET run found {len(short)} junction(s) "
            f"short (worst {max(short, key=short.get)} by {max(short.values()):.4f} m); their "
            "head margin was raised by the shortfall plus 1 mm and the program solved again"
        )
        log.warning(notes[-1])
    return solution, model, sized, text, verification


#: Iterations allowed to EPANET (TRIALS) when the tightened ACCURACY does not converge.
TIGHT_TRIALS = 1000
#: ACCURACY steps tried, tightest first, when EPANET does not converge at a tighter one.
ACCURACY_STEPS = (TIGHT_ACCURACY, 1e-5, 1e-4)


def _set_convergence(model, accuracy: float, trials: int) -> None:
    model.options.hydraulic.accuracy = accuracy
    model.options.hydraulic.trials = trials


def _tighten(
    model, problem: Problem, sized: list[str], short: dict, notes: list[str], unit_cost: tuple
):
    """Write the design with a tighter ACCURACY when EPANET left junctions short.

    Tries :data:`ACCURACY_STEPS` tighter than the model's own, TRIALS raised to at least
    :data:`TIGHT_TRIALS`; the first whose run converges with no junction short is kept
    (``model`` is left with it) and (text, verification) returned. Otherwise the model keeps
    its own ACCURACY and TRIALS and None is returned. What was tried goes to ``notes``.
    ``unit_cost``: a break-pressure tank's and a valve's [currency].
    """
    accuracy, trials = model.options.hydraulic.accuracy, model.options.hydraulic.trials
    for step in (a for a in ACCURACY_STEPS if a < accuracy):
        _set_convergence(model, step, max(trials, TIGHT_TRIALS))
        try:
            text, tight = _write_and_verify(
                model, problem, sized, *unit_cost, step=f"again, with EPANET's ACCURACY {step:g}"
            )
        except SimulationError as exc:
            notes.append(f"EPANET did not converge with ACCURACY {step:g} ({exc})")
            continue
        if _pressure_shortfalls(tight, problem.snapshot.node_name_list):
            break  # converged and still short: convergence was not the cause
        notes.append(
            f"with EPANET's ACCURACY {accuracy:g} the written design left {len(short)} "
            f"junction(s) up to {max(short.values()):.3f} m short of the steady state; it is "
            f"written with ACCURACY {step:g} and TRIALS {max(trials, TIGHT_TRIALS)}"
        )
        return text, tight
    _set_convergence(model, accuracy, trials)  # not the cause: keep the user's
    return None


def _check_operation_converged(design, problem: Problem, verification, operation_h, notes):
    """:func:`check_operation` of the design; when EPANET's run of the written file fails,
    the file is written again with TRIALS raised to :data:`TIGHT_TRIALS` and, if that is not
    enough, a looser ACCURACY (never looser than 1e-3, EPANET's default), verified again,
    and what was done goes to ``notes``. Returns the design and its verification.

    Raises
    ------
    SimulationError
        No step runs; the message says what was tried.
    """
    progress.info("checking the design over %g h of operation (EPANET)", operation_h)
    try:
        return design, check_operation(design.written_text, problem, verification, operation_h)
    except SimulationError as exc:
        first = exc
    model = copy_network(design.model)
    accuracy, trials = model.options.hydraulic.accuracy, model.options.hydraulic.trials
    done = design.verification
    tanks, valves = done.break_tanks, done.pressure_valves
    unit_cost = (
        done.break_tank_cost / len(tanks) if tanks else 0.0,
        done.pressure_valve_cost / len(valves) if valves else 0.0,
        done.booster_option,
    )
    tried = []
    for step in sorted({accuracy, *(a for a in (*ACCURACY_STEPS, 1e-3) if a > accuracy)}):
        _set_convergence(model, step, max(trials, TIGHT_TRIALS))
        tried.append(f"ACCURACY {step:g}")
        try:
            text, steady = _write_and_verify(
                model, problem, design.sized_pipes, *unit_cost, step=f"with ACCURACY {step:g}"
            )
            checked = check_operation(text, problem, steady, operation_h)
        except SimulationError:
            continue
        notes.append(
            f"EPANET's {operation_h:g} h run of the design written with ACCURACY {accuracy:g} "
            f"and TRIALS {trials} failed ({first}); it is written with ACCURACY {step:g} and "
            f"TRIALS {max(trials, TIGHT_TRIALS)}, verified again"
        )
        log.warning(notes[-1])
        return replace(design, model=model, written_text=text, verification=steady), checked
    raise SimulationError(
        f"EPANET could not run the written design over {operation_h:g} h ({first}); tried "
        f"TRIALS {max(trials, TIGHT_TRIALS)} with {', '.join(tried)}"
    ) from first


def _pressure_shortfalls(verification: Verification, taken) -> dict[str, float]:
    """Junction of the tree program -> how far below its minimum the verification found it [m].

    A shortfall in a case after the first (the tap flows) names that case's copy of the
    junction, ``node@case`` (:func:`hydro.topology.case_copy`, never a node of ``taken``, the
    network's nodes; :func:`hydro.sizing.condition.joint_tree_problem`).
    """
    v = verification.violations
    low = v[(v["kind"] == "junction") & (v["value"] < v["limit"])]
    out: dict[str, float] = {}
    for rec in low.to_dict("records"):
        case = rec.get("condition")
        key = rec["element"]
        if case and isinstance(case, str) and case != PEAK_HOUR:
            key = case_copy(key, case, taken)
        out[key] = max(out.get(key, 0.0), float(rec["excess"]))
    return out


# --------------------------------------------------------------------------- entry point
def _check_arguments(wn, catalog, targets, seed, time_limit_s, max_evaluations, method) -> None:
    """:func:`size_network`'s arguments, checked as the command line checks its options."""
    validate.model(wn, "size_network: wn")
    for value, kind, name in ((catalog, Catalog, "catalog"), (targets, Targets, "targets")):
        if not isinstance(value, kind):
            raise InputError(
                f"size_network: {name}: expected a {kind.__name__} (see hydro.{kind.__name__}), "
                f"got {type(value).__name__}"
            )
    validate.whole(seed, "size_network: seed", validate.SEED)
    validate.number(time_limit_s, "size_network: time_limit_s", validate.TIME_LIMIT_S)
    if max_evaluations is not None:
        validate.whole(max_evaluations, "size_network: max_evaluations", validate.Range(1, None))
    if method not in ("auto", "tree", "looped"):
        raise InputError(f"size_network: method = {method!r}: one of 'auto', 'tree', 'looped'")


def _exempt_pump_suctions(wn, targets: Targets) -> tuple[Targets, list[str]]:
    """``targets`` with no minimum at the pumps' suction junctions that have no demand
    (:func:`hydro.sizing.break_tanks.pump_suctions`) and at the outlets of devices an
    earlier sizing wrote (:func:`hydro.sizing.break_tanks.break_tank_outlets`), as
    ``hydro check`` holds them, unless given their own; and the notes that say so.
    """
    own = dict(targets.node_min_pressure_m or {})
    suctions = sorted(n for n in pump_suctions(wn) if n not in own)
    outlets = sorted(n for n in break_tank_outlets(wn) if n not in own)
    if not suctions and not outlets:
        return targets, []
    none = dict.fromkeys([*suctions, *outlets], -np.inf)
    notes = []
    if suctions:
        notes.append(
            f"junction(s) {', '.join(suctions)}: a pump's suction with no demand, its head set "
            "by the source above it: held to no minimum pressure (no consumer; hydro check "
            "likewise)"
        )
    if outlets:
        notes.append(
            f"junction(s) {', '.join(outlets)}: below a device already in the network (a "
            "break-pressure tank, valve or booster hydro size wrote): held to no minimum "
            "pressure, as hydro check holds them"
        )
    return replace(targets, node_min_pressure_m={**own, **none}), notes


def _not_a_tree(wn: wntr.network.WaterNetworkModel) -> str:
    """Why :func:`tree_components` found no trees: a loop, or else what the tree method
    cannot take (the message of ``--method tree``).
    """
    graph = wn.to_graph().to_undirected()
    loops = (
        graph.number_of_edges() - graph.number_of_nodes() + nx.number_connected_components(graph)
    )
    if loops > 0:
        return f"the network is looped ({loops} independent loop(s))"
    return (
        "the network is branched but the tree method cannot take it: a part fed by more "
        "than one source, a valve other than an open pressure-reducing one inside a tree, "
        "or a pump against the flow, a power pump or one whose curve has other than 1 or 3 "
        "points"
    )


#: Static pressure above which a catalogue with no pressure classes is pointed out [m]
#: (PN10, the lowest class of most distribution networks).
UNRATED_WARNING_M = 10 * M_PER_BAR


def _unrated_note(problem: Problem, catalog: Catalog) -> list[str]:
    """A warning (the result's note, which the command line prints) when the catalogue has no
    pressure classes and a sized pipe sees more than :data:`UNRATED_WARNING_M` of static
    pressure: no pipe's class was checked against it.
    """
    if catalog.has_pressure_classes or problem.max_pressure_seen_m.empty:
        return []
    pipe = str(problem.max_pressure_seen_m.idxmax())
    seen = float(problem.max_pressure_seen_m[pipe])
    if seen <= UNRATED_WARNING_M:
        return []
    note = (
        f"the catalogue {catalog.source} has no pressure_class_bar: no pipe's class was "
        f"checked against its static pressure, up to {seen:.1f} m ({seen / M_PER_BAR:.1f} bar) "
        f"on pipe {pipe}; check the pipes' ratings, or add the column"
    )
    return [note]


def size_network(
    wn: wntr.network.WaterNetworkModel,
    catalog: Catalog,
    targets: Targets,
    fixed: tuple[str, ...] = (),
    split: bool = False,
    output: str | os.PathLike | None = None,
    protect: tuple = (),
    seed: int = 0,
    time_limit_s: float = 60.0,
    max_evaluations: int | None = None,
    method: str = "auto",
    source: str = "network",
    progress=None,
    min_diameter_mm: dict | None = None,
    taps: pd.DataFrame | None = None,
    operation_h: float | None = None,
    workers: int | None = None,
    break_tanks: BreakTanks | PressureValves | Boosters | tuple | None = None,
) -> SizingResult:
    """Size every pipe of ``wn`` (but ``fixed``) at least cost, then verify the written design.

    Branched networks are sized exactly (a 0-1 program solved to proven optimality by HiGHS);
    looped ones by differential evolution with an in-memory EPANET evaluator and an iterated
    local search. The design is written, read back and checked by an independent EPANET run;
    its cost is recomputed from the catalogue labels in the file's ``[TAGS]``.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network, with its design demand (never modified).
    catalog : Catalog
        :func:`hydro.catalog.read_catalog`.
    targets : Targets
        Minimum pressure [m], and optionally maximum pressure [m] and velocity [m/s].
    fixed : tuple of str
        Pipes that keep their diameter.
    split : bool
        Split-pipe design (tree networks only): the LP's cost is a lower bound.
    taps : DataFrame, optional
        Tap table of the tap-flow case (:func:`hydro.demand.tap_design`); default: from the
        node classes (:func:`hydro.condition.default_taps`).
    output : path, optional
        Where to write the sized ``.inp``; written only when the design is verified.
    protect : tuple of path-like
        Input files that must not be overwritten.
    seed, time_limit_s, max_evaluations, progress, workers
        Options of the looped-network optimiser: random seed, time limit [s], evaluation
        budget (per parallel run), a callback ``progress(best_cost, evaluations)`` and the
        number of parallel runs (see :func:`hydro.sizing.looped.optimise`).
    method : {"auto", "tree", "looped"}
        ``auto`` uses the exact tree program when the network is branched.
    source : str
        The network's file name, for messages.
    min_diameter_mm : dict, optional
        Smallest nominal diameter [mm] by pipe.
    operation_h : float, optional
        Also run the written file over this many hours of operation and hold it to the same
        targets (:func:`check_operation`; ``hydro size`` uses 72 h, as ``hydro check``).
    break_tanks : BreakTanks, PressureValves or a tuple of both, optional
        Let the exact tree program place break-pressure tanks (branched networks, one
        diameter per pipe): the least cost of pipes plus tanks, each written as a
        pressure-reducing valve ``BPT_<node>`` (:mod:`hydro.sizing.break_tanks`); and/or
        pressure-reducing valves whose settings it chooses, each written as ``PRV_<node>``
        from the junction to ``<node>_PRV``; and/or booster pumps (:class:`Boosters`,
        branched networks only), each written as a pump ``PMP_<node>`` from the junction
        to ``<node>_PMP``: the least cost of pipes, devices and the boosters' stations and
        discounted energy.

    Returns
    -------
    SizingResult
        The design table (pipe, label, diameters, length, cost), its cost, the method, and the
        :class:`Verification` of the written file.

    Raises
    ------
    InfeasibleDesignError
        No catalogue design meets the targets; the message names the junctions and the
        metres missing.

    Examples
    --------
    >>> from hydro.catalog import read_catalog
    >>> from hydro.network import read_network
    >>> wn = read_network("networks/benchmarks/two_loop.inp")
    >>> catalog = read_catalog("networks/benchmarks/two_loop_catalog.csv")
    >>> result = size_network(wn, catalog, Targets(30.0), seed=2, max_evaluations=2000)
    ... # doctest: +SKIP
    >>> result.verification.ok  # doctest: +SKIP
    True
    """
    _check_arguments(wn, catalog, targets, seed, time_limit_s, max_evaluations, method)
    targets, exempt = _exempt_pump_suctions(wn, targets)
    break_tanks, pressure_valves, boosters = _devices(break_tanks, split, source)
    devices = break_tanks is not None or pressure_valves is not None or boosters is not None
    problem = build_problem(
        wn, catalog, targets, fixed, source, min_diameter_mm, taps=taps,
        pressure_classes=not devices,
    )  # fmt: skip
    notes: list[str] = _unrated_note(problem, catalog) + exempt
    split_out = tree_components(problem) if method in ("auto", "tree") else None
    if method == "tree" and split_out is None:
        why = _not_a_tree(problem.snapshot)
        raise InputError(f"{source}: {why}; the tree method does not apply")
    if split and split_out is None:
        raise InputError(f"{source}: --split applies to branched networks only")
    optimiser = dict(
        seed=seed, time_limit_s=time_limit_s, max_evaluations=max_evaluations, progress=progress
    )
    if boosters is not None and split_out is None:
        raise InputError(
            f"{source}: booster pumps (--booster-cost) are placed in branched networks only; "
            "this network is looped (or --method looped was asked)"
        )
    if devices and split_out is None:  # looped: the devices at their given sites
        inputs = (wn, catalog, targets, fixed, source, min_diameter_mm, taps)
        looped = functools.partial(_size_looped, optimiser=optimiser, workers=workers)
        design = looped_with_sites(inputs, (break_tanks, pressure_valves), looped, notes)
    elif split_out is not None:
        placed = (break_tanks, source, pressure_valves, boosters)
        design = _size_tree(problem, split_out, split, notes, placed, time_limit_s)
    else:
        inputs = (wn, catalog, targets, fixed, source, min_diameter_mm)
        design = _size_looped(problem, inputs, optimiser, workers, notes)
    problem, verification = design.problem, design.verification
    if operation_h:
        design, verification = _check_operation_converged(
            design, problem, verification, operation_h, notes
        )
    if output is not None:
        _publish(design.written_text, verification, output, (*protect, *read_from(wn, catalog)))
    optimiser_cost = design.optimiser_cost
    if abs(verification.cost - optimiser_cost) > 1e-6 * max(1.0, optimiser_cost) and not split:
        notes.append(f"optimiser cost {optimiser_cost:,.2f} differs from the recomputed cost")
    return SizingResult(
        method=design.method,
        optimiser_cost=optimiser_cost,
        lower_bound=design.lower_bound,
        gap=design.gap,
        seconds=design.seconds,
        evaluations=design.evaluations,
        model=design.model,
        table=_pipe_table(problem, design.model, verification),
        verification=verification,
        notes=notes,
        history=design.history,
        written_text=design.written_text,
    )


def _devices(given, split: bool, source: str) -> tuple:
    """The break-pressure tanks, pressure-reducing valves and booster pumps of
    :func:`size_network`'s ``break_tanks`` (each None when not given); refused with
    ``split``.
    """
    given = given if isinstance(given, tuple) else (given,)
    found = tuple(
        next((d for d in given if isinstance(d, kind)), None)
        for kind in (BreakTanks, PressureValves, Boosters)
    )
    if split and any(d is not None for d in found):
        raise InputError(
            f"{source}: break-pressure tanks, pressure-reducing valves or booster pumps and "
            "--split cannot be combined"
        )
    return found


@dataclass(kw_only=True)
class _Design:
    """A design written and verified, before the operation check and the report.

    ``problem``: the problem it solves (the tree method keeps the pipes set by pumps and
    tanks out of it); ``written_text``: the bytes of the written ``.inp`` file;
    ``sized_pipes``: the pipes it sized (split pipes: their segments).
    """

    problem: Problem
    method: str
    optimiser_cost: float
    lower_bound: float | None
    gap: float | None
    seconds: float
    evaluations: int | None
    history: list[tuple[int, float, float]]
    model: wntr.network.WaterNetworkModel
    written_text: bytes
    verification: Verification
    sized_pipes: list[str] = field(default_factory=list)


def _size_tree(
    problem: Problem,
    split_out,
    split: bool,
    notes: list[str],
    tanks: tuple = (None, "network", None, None),
    time_limit_s: float = 600.0,
) -> _Design:
    """The exact tree design (:func:`_size_tree_verified`) of a branched network.

    ``split_out``: the trees and the transmission pipes (:func:`tree_components`); the
    transmission pipes among the decision pipes keep their diameter (their flow is set by
    pumps and tank levels, not by demands). Notes go to ``notes``. ``tanks``: the
    break-pressure tanks allowed (:class:`BreakTanks` or None), the network's file name,
    the pressure-reducing valves allowed (:class:`PressureValves` or None) and the booster
    pumps allowed (:class:`Boosters` or None).
    """
    trees, transmission = split_out
    kept = sorted(p for p in transmission if p in problem.pipes)  # a set: print in order
    if kept:
        notes.append(
            "kept as in the model (their flow is set by pumps and tank levels, not by "
            f"demands): {', '.join(kept)}"
        )
        problem = problem.without(kept)
    solution, model, sized, written_text, verification = _size_tree_verified(
        problem,
        trees,
        split,
        notes,
        *tanks[:2],
        time_limit_s=time_limit_s,
        valves=tanks[2],
        boosters=tanks[3],
    )
    if solution.break_tanks:
        notes.append(
            f"{len(solution.break_tanks)} break-pressure tank(s) placed, at "
            f"{', '.join(solution.break_tanks)}: written as pressure-reducing valves "
            f"{', '.join(valve_name(n) for n in solution.break_tanks)}"
        )
    if solution.pressure_valves:
        notes.append(
            f"{len(solution.pressure_valves)} pressure-reducing valve(s) placed: "
            + ", ".join(
                f"{device_ids(n, PRV_PREFIX, PRV_OUTLET_SUFFIX)[0]} set at {m:.2f} m"
                for n, m in solution.pressure_valves.items()
            )
        )
    if tanks[3] is not None:
        notes.extend(booster_notes(verification.boosters, model))
    if split:
        notes.append(
            f"split-pipe LP cost {solution.cost:,.2f} is a lower bound on the single-diameter cost"
        )
    return _Design(
        problem=problem,
        method=solution.method,
        optimiser_cost=solution.cost,
        lower_bound=solution.bound,
        gap=solution.gap,
        seconds=solution.seconds,
        evaluations=None,
        history=[],
        model=model,
        written_text=written_text,
        verification=verification,
        sized_pipes=sized,
    )


def booster_notes(boosters: pd.DataFrame, model) -> list[str]:
    """What the design says of its boosters: each one's duty, power, capital, energy and
    whole-life cost and the junctions it serves; then the junctions served by gravity.
    """
    outlets = break_tank_outlets(model)
    consumers = [n for n in model.junction_name_list if n not in outlets]
    pumped = {n for served in boosters.get("serves", []) for n in served}
    gravity = [n for n in consumers if n not in pumped]
    notes = [] if boosters.empty else [f"{len(boosters)} booster pump(s) placed"]
    for rec in boosters.to_dict("records"):
        notes.append(
            f"booster {rec['pump']} at {rec['node']}: {rec['head_m']:.2f} m at "
            f"{rec['flow_l_per_s']:.2f} l/s (shut-off {rec['shutoff_head_m']:.2f} m), "
            f"efficiency {100 * rec['efficiency']:.0f}%, {rec['power_kw']:.2f} kW; capital "
            f"{rec['capital']:,.2f}, {rec['energy_kwh_per_year']:,.0f} kWh a year "
            f"costing {rec['energy_cost_per_year']:,.2f} a year, whole-life cost "
            f"{rec['whole_life_cost']:,.2f}; serves {len(rec['serves'])} junction(s): "
            + ", ".join(rec["serves"])
        )
    listed = some_of(gravity, shown=50)
    notes.append(f"served by gravity: {len(gravity)} junction(s): {listed or 'none'}")
    return notes


def _size_looped(
    problem: Problem,
    inputs: tuple,
    optimiser: dict,
    workers: int | None,
    notes: list[str],
    unit_cost: tuple = (0.0, 0.0),
) -> _Design:
    """The optimiser's design of a looped network (:func:`hydro.sizing.looped.optimise`).

    With a tap-flow case, the peak hour is sized first, then the tap flows with no pipe
    smaller than that design (:func:`hydro.sizing.condition.looped_second_stage`, which
    builds its problem again from ``inputs``: the network, catalogue, targets, fixed pipes,
    source name and smallest diameters). ``optimiser``: seed, time limit, evaluation budget
    and progress callback; ``workers``: parallel runs of the first stage. Notes go to
    ``notes``. ``unit_cost``: a break-pressure tank's and a valve's, for the devices the
    network carries (:func:`hydro.sizing.sites.looped_with_sites`).
    """
    from hydro.sizing.looped import optimise

    progress.info(
        "searching a looped network (%d decision pipes) for at most %g s",
        len(problem.pipes), optimiser["time_limit_s"],
    )  # fmt: skip
    outcome = optimise(problem, **optimiser, workers=workers)
    if len(problem.cases) > 1:  # then the tap flows, no pipe smaller than that design
        progress.info("searching again for the tap flows, no pipe smaller than that design")
        outcome = looped_second_stage(problem, outcome, *inputs, lambda p: optimise(p, **optimiser))
        notes.append(
            "looped network: sized for the peak hour, then for the tap flows with no pipe "
            "smaller than that design (each stage optimised; not a joint optimum)"
        )
    segments = {
        p: [(int(k), float(problem.lengths[i]))]
        for i, (p, k) in enumerate(zip(problem.pipes, outcome.choice, strict=True))
    }
    notes.extend(outcome.notes)
    model, sized = _build(problem, segments)
    written_text, verification = _write_and_verify(model, problem, sized, *unit_cost)
    return _Design(
        problem=problem,
        method=outcome.method,
        optimiser_cost=outcome.cost,
        lower_bound=None,
        gap=None,
        seconds=outcome.seconds,
        evaluations=outcome.evaluations,
        history=outcome.history,
        model=model,
        written_text=written_text,
        verification=verification,
        sized_pipes=sized,
    )


def _publish(written_text: bytes, verification: Verification, output, protect: tuple) -> None:
    """Write the design to ``output`` (never over a ``protect`` file), once it is verified.

    Raises
    ------
    SimulationError
        The design failed its independent verification: nothing is written.
    """
    if not verification.ok:
        raise SimulationError(
            "the design failed its independent EPANET verification; nothing written:\n"
            + verification.violations.to_string(index=False)
        )
    with tempfile.TemporaryDirectory(prefix="hydro-size-") as tmp:
        staged = Path(tmp) / "sized.inp"
        staged.write_bytes(written_text)
        publish_file(staged, output, protect=protect)
