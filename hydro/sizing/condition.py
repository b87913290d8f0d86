"""Sizing for the design condition (:mod:`hydro.condition`): its cases in the sizing programs.

- branched networks: one tree program for every case (:func:`joint_tree_problem`), each
  extra case's junctions as copies ``node@case`` sharing the same decision pipes;
- looped networks: the peak hour, then each other case with no pipe smaller than the design
  so far (:func:`looped_second_stage`);
- the minimum kept at a junction that a split-pipe design adds (:func:`split_node_minimum`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import wntr

from hydro.condition import PEAK_HOUR, DesignCase
from hydro.errors import InfeasibleDesignError, SimulationError
from hydro.hydraulics import velocity
from hydro.network import copy_network
from hydro.sizing.problem import TreeComponent, build_problem, tree_components
from hydro.topology import case_copy


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

    Each extra case adds a copy of its trees whose junctions are named ``node@case`` (or a
    hash when that is a node's ID: :func:`hydro.topology.case_copy`; copies of the node, same
    elevation, in a copy of the snapshot used only for their data) and whose pipes are the
    same decision pipes: the program then keeps every case's heads with one choice of
    diameters, which is the least-cost design for the whole condition. The velocity limit
    is applied to the peak-hour flows beforehand (the tap-flow case has none).
    """
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
    taken = set(problem.snapshot.node_name_list)
    for case in extra:
        sub = replace(problem, snapshot=case.snapshot)
        split = tree_components(sub)
        if split is None:  # pragma: no cover - same graph as the peak hour
            raise InfeasibleDesignError(f"the {case.name} case does not split into trees")
        for tree in split[0]:
            if not any(p in allowed for p, _, _ in tree.order):
                continue
            name = {n: case_copy(n, case.name, taken) for n in tree.nodes}
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
