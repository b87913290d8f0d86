"""The design condition that sizing and checking share: peak hour and tap flows, tank low.

A village network fails at the instant when several taps are open and the tank is low, not at
the average hour. The design condition is therefore the worst of two steady states, each with
every tank at its lowest operating level (its reserve: the minimum level plus the reserve share
of the usable depth) and each pump as its level controls operate it at that level:

- **peak hour**: every junction at its demand of the network's design hour (patterns applied),
  each node at its own minimum pressure (10 m at a standpipe node, 15 m at a household
  connection node, Oujda brief 5.1);
- **tap flows**: every standpipe at its taps' full flow (2 taps x 0.25 l/s, Oujda brief 5.1)
  and every household-connection node at its simultaneous flow (binomial 99th percentile,
  :func:`hydro.demand.simultaneous_taps`), other junctions at their peak-hour demand; a tap
  node must then keep the tap's minimum (5 m at the tap, Oujda brief 5.1), other junctions
  their own.

``hydro size`` sizes for both cases at once (branched networks: one exact program whose head
constraints hold in each case; looped networks: the peak hour, then the tap flows with no pipe
smaller than the first design) and verifies the written file in both; ``hydro check`` runs both
and reports them as their own rows beside the extended-period run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import wntr

from hydro import defaults
from hydro.errors import InfeasibleDesignError
from hydro.hydraulics import velocity
from hydro.network import copy_network
from hydro.units import LITRES_PER_M3

#: Names of the two cases, as they appear in tables and messages.
PEAK_HOUR, TAP_FLOWS = "peak hour", "tap flows"
#: Minimum pressure at a tap while it draws its flow [m]: Oujda brief 5.1 [E].
TAP_MIN_PRESSURE_M = defaults.TAP_MIN_PRESSURE_M


@dataclass(frozen=True, kw_only=True)
class DesignCase:
    """One steady state of the design condition.

    snapshot : a steady-state copy of the network (demands fixed, tanks at their reserve
    level, pumps as operated); minimum_m : junction -> minimum pressure in this case [m];
    demand_l_per_s : junction -> demand asked [l/s]; velocity_checked : the velocity limit
    applies (peak hour only: the brief's limits are peak-hour velocities).
    """

    name: str
    description: str
    snapshot: wntr.network.WaterNetworkModel
    time_s: float
    minimum_m: dict
    demand_l_per_s: pd.Series
    velocity_checked: bool


def reserve_level(tank, reserve_share: float) -> float:
    """Lowest operating level of a tank [m above its bottom]: min level + share x usable."""
    return float(tank.min_level + reserve_share * (tank.max_level - tank.min_level))


def _operate_pumps(model: wntr.network.WaterNetworkModel) -> dict[str, str]:
    """Set each link that a tank-level control switches to the status the control gives at the
    tanks' initial levels (simple controls ``LINK x status IF TANK t ABOVE/BELOW level``);
    returns link -> status set.
    """
    done = {}
    for _, control in model.controls():
        condition = getattr(control, "condition", None)
        if not isinstance(condition, wntr.network.controls.ValueCondition):
            continue
        source = condition._source_obj
        if getattr(source, "node_type", None) != "Tank" or condition._source_attr != "level":
            continue
        if not bool(condition._relation.func(source.init_level, condition._threshold)):
            continue
        for action in control.actions():
            link, attribute = action.target()
            if attribute == "status":
                link.initial_status = wntr.network.LinkStatus(action._value)
                done[link.name] = link.initial_status.name
    return done


def peak_hour_snapshot(
    wn: wntr.network.WaterNetworkModel, tank_reserve_share: float = defaults.TANK_RESERVE_SHARE
) -> tuple[wntr.network.WaterNetworkModel, float]:
    """The network at its design hour (:func:`hydro.sizing.problem.design_snapshot`) with
    every tank at its reserve level and the pumps as their level controls then run them.
    """
    from hydro.sizing.problem import design_snapshot

    model, t = design_snapshot(wn)
    for _, tank in model.tanks():
        tank.init_level = reserve_level(tank, tank_reserve_share)
    _operate_pumps(model)
    return model, t


def design_cases(
    wn: wntr.network.WaterNetworkModel,
    minimum_m: Callable[[str], float],
    taps: pd.DataFrame | None,
    tap_min_pressure_m: float = TAP_MIN_PRESSURE_M,
    tank_reserve_share: float = defaults.TANK_RESERVE_SHARE,
) -> list[DesignCase]:
    """The cases of the design condition of ``wn`` (never modified).

    Parameters
    ----------
    minimum_m : callable
        junction -> its minimum pressure at the peak hour [m].
    taps : DataFrame, optional
        Tap table (:func:`hydro.demand.tap_design` columns: node, design_flow_l_per_s); none
        or empty: the peak hour only.
    tap_min_pressure_m : float
        Minimum pressure at a tap node while its taps draw [m].
    tank_reserve_share : float
        Share of each tank's usable depth kept as reserve [-].
    """
    peak, t = peak_hour_snapshot(wn, tank_reserve_share)
    junctions = peak.junction_name_list
    demand = pd.Series(
        {n: peak.get_node(n).demand_timeseries_list.at(0) * LITRES_PER_M3 for n in junctions},
        dtype=float,
    )
    cases = [
        DesignCase(
            name=PEAK_HOUR,
            description=f"demand at {t / 3600:g} h of the design day, tanks at their reserve",
            snapshot=peak,
            time_s=t,
            minimum_m={n: float(minimum_m(n)) for n in junctions},
            demand_l_per_s=demand,
            velocity_checked=True,
        )
    ]
    if taps is None or taps.empty:
        return cases
    flows = taps.groupby("node")["design_flow_l_per_s"].sum()
    flows = flows[flows.index.isin(junctions)]
    if flows.empty:
        return cases
    model = copy_network(peak)
    for node, q in flows.items():
        junction = model.get_node(node)
        junction.demand_timeseries_list.clear()
        junction.add_demand(float(q) / LITRES_PER_M3, None)
    tapped = set(flows.index)
    cases.append(
        DesignCase(
            name=TAP_FLOWS,
            description="standpipes at their taps' flow, household connections at their "
            "simultaneous flow, other junctions at the peak hour; tanks at their reserve",
            snapshot=model,
            time_s=t,
            minimum_m={
                n: tap_min_pressure_m if n in tapped else float(minimum_m(n)) for n in junctions
            },
            demand_l_per_s=demand.where(~demand.index.isin(tapped), flows.reindex(demand.index)),
            velocity_checked=False,
        )
    )
    return cases


def default_taps(
    wn: wntr.network.WaterNetworkModel, classes: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """The tap table of a network from its node classes (demand patterns, then ``classes``)."""
    from hydro.compliance import node_classes_from_model
    from hydro.demand import tap_design, taps_from_model

    found = node_classes_from_model(wn)
    found.update({k: v for k, v in (classes or {}).items() if k in found})
    return tap_design(taps_from_model(wn, found))


# --------------------------------------------------------------------------- checking
def check_cases(cases: list[DesignCase]) -> pd.DataFrame:
    """Run every case by a full EPANET run (WNTR's EpanetSimulator) and compare pressures.

    Returns one row per case and junction with a minimum: condition, node, demand_l_per_s
    (the flow asked), pressure_m (the pressure got), min_pressure_m, margin_m.
    """
    from hydro.simulation import run_simulation

    rows = []
    for case in cases:
        results = run_simulation(case.snapshot, duration_h=0)
        pressure = results.pressure.iloc[0]
        for node in results.junctions:
            rows.append(
                {
                    "condition": case.name,
                    "node": node,
                    "demand_l_per_s": float(case.demand_l_per_s.get(node, 0.0)),
                    "pressure_m": float(pressure[node]),
                    "min_pressure_m": case.minimum_m[node],
                    "margin_m": float(pressure[node]) - case.minimum_m[node],
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "condition", "node", "demand_l_per_s", "pressure_m", "min_pressure_m", "margin_m"
        ],
    )  # fmt: skip


# --------------------------------------------------------------------------- sizing hooks
def split_node_minimum(case: DesignCase, node: str, wn: wntr.network.WaterNetworkModel) -> float:
    """Minimum pressure [m] at ``node`` of a written design in ``case``.

    A junction that a split-pipe design adds inside pipe P (``P_split1``...) is a point of
    the pipe, not a consumer: in the tap-flow case it keeps the lower minimum of P's two end
    junctions there (at the peak hour, its own, as before). Other junctions: their own.
    """
    if node in wn.junction_name_list or case.name == PEAK_HOUR or "_split" not in node:
        return case.minimum_m[node]
    pipe = node.rsplit("_split", 1)[0]
    if pipe not in wn.link_name_list:
        return case.minimum_m[node]
    link = wn.get_link(pipe)
    ends = [case.minimum_m[n] for n in (link.start_node_name, link.end_node_name)
            if n in case.minimum_m]  # fmt: skip
    return min(ends) if ends else case.minimum_m[node]


def joint_tree_problem(problem, trees: list, cases: list[DesignCase]):
    """One tree program for every case: the problem and trees that :func:`solve_tree` takes.

    Each extra case adds a copy of its trees whose junctions are named ``node@case`` (copies
    of the node, same elevation, in a copy of the snapshot used only for their data) and
    whose pipes are the same decision pipes: the program then keeps every case's heads with
    one choice of diameters, which is the least-cost design for the whole condition. The
    velocity limit is applied to the peak-hour flows beforehand (the tap-flow case has none).
    """
    from hydro.sizing.problem import TreeComponent, tree_components

    extra = cases[1:]
    targets = problem.targets
    allowed = dict(problem.allowed)
    vmax = targets.max_velocity_m_per_s
    if vmax is not None:
        for tree in trees:
            for pipe, _, _ in tree.order:
                if pipe not in allowed:
                    continue
                options = allowed[pipe]
                v = velocity(tree.flow[pipe], problem.catalog.diameters[options])
                allowed[pipe] = options[v <= vmax + 1e-12]
                if allowed[pipe].size == 0:
                    raise InfeasibleDesignError(
                        f"pipe {pipe}: even the largest catalogue pipe runs faster than "
                        f"{vmax:g} m/s at the design flow of {abs(tree.flow[pipe]) * 1000:.2f} l/s"
                    )
    if not extra:
        return replace(
            problem, allowed=allowed, targets=replace(targets, max_velocity_m_per_s=None)
        ), trees
    snapshot = copy_network(problem.snapshot)
    minimum = {n: targets.min_at(n) for n in problem.snapshot.junction_name_list}
    combined = list(trees)
    for case in extra:
        key = case.name.replace(" ", "-")
        sub = replace(problem, snapshot=case.snapshot)
        split = tree_components(sub)
        if split is None:  # pragma: no cover - same graph as the peak hour
            raise InfeasibleDesignError(f"the {case.name} case does not split into trees")
        for tree in split[0]:
            if not any(p in allowed for p, _, _ in tree.order):
                continue
            name = {n: f"{n}@{key}" for n in tree.nodes}
            for node in tree.nodes:
                original = case.snapshot.get_node(node)
                if name[node] not in snapshot.node_name_list:
                    snapshot.add_junction(name[node], base_demand=0.0, elevation=original.elevation)
                minimum[name[node]] = case.minimum_m.get(node, targets.min_pressure_m)
            combined.append(
                TreeComponent(
                    root=tree.root,
                    root_head_m=tree.root_head_m,
                    order=[(p, name.get(u, u), name[d]) for p, u, d in tree.order],
                    flow=dict(tree.flow),
                    nodes=[name[n] for n in tree.nodes],
                    head_floor={name[n]: h for n, h in tree.head_floor.items()},
                )
            )
    joint_targets = replace(targets, max_velocity_m_per_s=None, node_min_pressure_m=minimum)
    return replace(problem, snapshot=snapshot, targets=joint_targets, allowed=allowed), combined


def stage_minimum_diameters(problem, choice: np.ndarray, min_diameter_mm: dict | None) -> dict:
    """Per decision pipe, the larger of its own minimum and the nominal diameter chosen [mm]:
    the looped optimiser's second stage keeps no pipe smaller than the first design.
    """
    table = problem.catalog.table
    nominal = table["nominal_diameter_mm"].fillna(table["inner_diameter_mm"]).to_numpy()
    out = dict(min_diameter_mm or {})
    for pipe, k in zip(problem.pipes, choice, strict=True):
        out[pipe] = max(out.get(pipe, 0.0), float(nominal[int(k)]))
    return out


def case_targets(targets, case: DesignCase):
    """The targets of one case for the looped optimiser (its minima; velocity at the peak)."""
    return replace(
        targets,
        node_min_pressure_m=dict(case.minimum_m),
        max_velocity_m_per_s=targets.max_velocity_m_per_s if case.velocity_checked else None,
    )


def looped_second_stage(problem, first, wn, catalog, targets, fixed, source, min_dn, optimise):
    """Looped networks: after the peak-hour design ``first``, optimise each other case with no
    pipe smaller than the design so far (``optimise``: problem -> LoopedResult). Not a joint
    optimum; the written design is verified in every case.
    """
    from hydro.errors import SimulationError
    from hydro.sizing.problem import build_problem

    outcome = first
    for case in problem.cases[1:]:
        stage = build_problem(
            wn,
            catalog,
            case_targets(targets, case),
            fixed,
            source,
            stage_minimum_diameters(problem, outcome.choice, min_dn),
            taps=problem.taps,
            snapshot=case.snapshot,
        )
        second = optimise(stage)
        if stage.pipes != problem.pipes:  # pragma: no cover - same fixed pipes
            raise SimulationError("the tap-flow stage sized other pipes than the peak hour")
        outcome = replace(
            second,
            cost=problem.cost_of(second.choice),
            evaluations=outcome.evaluations + second.evaluations,
            seconds=outcome.seconds + second.seconds,
            history=outcome.history + second.history,
        )
    return outcome
