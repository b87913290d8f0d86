"""What a design study needs of its network, checked before anything is computed.

:func:`hydro.study.config.load_inputs` reads the network and the village table and checks the
elements the study file names (the ``[design]`` tank and pump are elements of the network, the
village table's nodes are junctions of it); :func:`check_network_roles` then checks the roles
the study gives them, each a rule the design relies on (``docs/study_guide.md``):

- the network has a **reservoir**: the source (a tap-off on a main, a spring, a borehole at
  its pumping level), from which the main to the tank is designed;
- the **tank** is reached from a reservoir (through the pump when there is one);
- the **pump**, when the study names one, lies between a reservoir and the tank: the booster
  of the main that fills the tank, with nothing else (no other tank or reservoir) between;
- every **village node** (``standpipe_nodes``, ``household_nodes``) is fed through the tank:
  it lies in a part of the network, cut at its reservoirs and tanks, that holds the tank, so
  that the tank's storage and the main carry its demand;
- a scenario with ``break_tank = true`` has a ``[design] pump`` (the break tank feeds it);
- the unit cost of each element the design will hold is given: ``[unit_costs]
  pressure_reducing_valve`` when the network has pressure-reducing valves, ``break_tank``
  when a scenario has one. (A surge vessel is costed only when the surge check of a pumped
  main asks for one, which only the run finds: give ``surge_vessel`` with a pump.);
- what the budget buys can be searched: its ``[budget] scenarios`` agree on the break tank
  and give at most :data:`hydro.study.budget.MAX_PLANS` plans (unless the study leaves the
  budget step out).

Each error names the study file, the element and the rule.
"""

from __future__ import annotations

import networkx as nx
import pandas as pd
import wntr

from hydro.errors import InputError
from hydro.study.budget import budget_levels, plan_options
from hydro.study.calibration import calibration_of
from hydro.study.parts import Study
from hydro.topology import cut_at_sources, is_source_copy

__all__ = ["check_network_roles"]


def _pieces(wn: wntr.network.WaterNetworkModel) -> list[set]:
    """The parts of the network cut at its reservoirs and tanks (:func:`cut_at_sources`)."""
    return [set(c) for c in nx.connected_components(cut_at_sources(wn))]


def _sources_in(piece: set) -> set[str]:
    return {n[0] for n in piece if is_source_copy(n)}


def _reached_from_reservoirs(wn: wntr.network.WaterNetworkModel) -> set[str]:
    """Every node a reservoir reaches, through the links of the network (tanks included)."""
    graph = nx.Graph()
    graph.add_nodes_from(wn.node_name_list)
    graph.add_edges_from((link.start_node_name, link.end_node_name) for _, link in wn.links())
    reached = set()
    for name in wn.reservoir_name_list:
        reached |= nx.node_connected_component(graph, name)
    return reached


def check_network_roles(study: Study, wn: wntr.network.WaterNetworkModel, villages: pd.DataFrame):
    """Refuse a network whose elements cannot play the roles the study gives them.

    Parameters
    ----------
    study : Study
        :func:`hydro.study.load_study` (its ``[design]`` tank and pump, its scenarios).
    wn : wntr.network.WaterNetworkModel
        The study's network (not modified); its tank and pump are known to exist.
    villages : pandas.DataFrame
        The village table (:func:`hydro.demand.read_villages`); its nodes are junctions of
        ``wn``.

    Raises
    ------
    InputError
        Naming the study file, the network, the element and the rule it breaks.
    """
    where = f"{study.path}: network {study.inputs.network}"
    tank, pump = study.design.tank, study.design.pump
    if not wn.reservoir_name_list:
        raise InputError(
            f"{where} has no reservoir: a study needs its source (a tap-off on a main, a spring, "
            "a borehole) as a reservoir, from which the main to the tank is designed"
        )
    if tank not in _reached_from_reservoirs(wn):
        raise InputError(
            f"{where}: no reservoir reaches the [design] tank {tank!r} through the network's "
            "links: the main from the source to the tank must be in the network"
        )
    pieces = _pieces(wn)
    if pump:
        _check_pump(where, wn, pieces, tank, pump)
    _check_village_nodes(where, pieces, tank, villages, study.report.village_word["en"][0])
    fed = [s.name for s in study.scenarios if s.break_tank]
    if fed and not pump:
        raise InputError(
            f"{study.path}: scenario {fed[0]} has break_tank = true, which needs a [design] "
            "pump (the break tank at the tap-off feeds the booster)"
        )
    prvs = [name for name, valve in wn.valves() if valve.valve_type == "PRV"]
    for key, needed_by in (
        ("pressure_reducing_valve", f"the network's pressure-reducing valve(s) {', '.join(prvs)}"),
        ("break_tank", f"scenario {fed[0] if fed else ''}'s break tank at the tap-off"),
    ):
        wanted = prvs if key == "pressure_reducing_valve" else fed
        if wanted and key not in study.prices.costs:
            raise InputError(
                f"{study.path}: give [unit_costs] {key} (value, unit, source) to cost {needed_by}"
            )
    _check_budget(study, villages)
    calibration_of(study, villages)  # its villages and scenario, before any computing


def _check_pump(where: str, wn, pieces: list[set], tank: str, pump: str) -> None:
    """The pump lies in a part of the network between a reservoir and the tank."""
    link = wn.get_link(pump)
    ends = {link.start_node_name, link.end_node_name}
    piece = next(
        p for p in pieces if ends & p or any(is_source_copy(n) and n[1] == pump for n in p)
    )
    sources = _sources_in(piece)
    reservoirs = sources & set(wn.reservoir_name_list)
    if tank not in sources or not reservoirs:
        found = ", ".join(sorted(sources)) or "none"
        raise InputError(
            f"{where}: the [design] pump {pump!r} is not on the main from a reservoir to the "
            f"tank {tank!r} (the reservoirs and tanks next to it: {found}); the pump is the "
            "booster of the main that fills the tank"
        )


def _check_village_nodes(
    where: str, pieces: list[set], tank: str, villages: pd.DataFrame, word: str = "village"
):
    """Every village node lies in a part of the network that holds the tank (``word``: the
    study's word for a village, in messages).
    """
    fed = set().union(*(p for p in pieces if tank in _sources_in(p)))
    source = villages.attrs.get("source", "village table")
    for village, sp, hh in zip(
        villages["village"], villages["standpipe_shares"], villages["household_shares"], strict=True
    ):
        for column, shares in (("standpipe_nodes", sp), ("household_nodes", hh)):
            for node in shares:
                if node not in fed:
                    raise InputError(
                        f"{where}: {source}: {word} {village}: {column} names node {node!r}, which "
                        f"the [design] tank {tank!r} does not feed (another tank or reservoir "
                        "lies between them, or none of them does): every village node is fed "
                        "through the study's tank, whose storage and main carry its demand"
                    )


def _check_budget(study: Study, villages: pd.DataFrame) -> None:
    """The budget's plans can be enumerated (as :func:`hydro.study.budget.design_to_budget`
    will), unless the study leaves the budget step out.
    """
    if "budget" in study.steps and study.steps["budget"] is None:
        return
    plan_options(study, villages, budget_levels(study))  # break_tank differing: refused
