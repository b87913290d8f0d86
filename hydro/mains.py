"""Transmission mains: the pipes from the source to the tank.

A pumped main is sized at least whole-life cost (pipe plus the present value of the energy its
friction costs); a gravity main takes the cheapest pipe that carries the flow within the head
available. Both keep within the pressure class and the transmission velocity limit (default
2.0 m/s, Oujda brief 5.1). Head losses follow the network's own formula (Hazen-Williams or
Darcy-Weisbach).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hydro.catalog import Catalog
from hydro.errors import InputError
from hydro.hydraulics import headloss
from hydro.topology import shortest_path_links
from hydro.units import DAYS_PER_YEAR, J_PER_KWH, MM_PER_M, RHO_G, SECONDS_PER_HOUR

#: Pump efficiency assumed when pricing a rising main's friction energy [-]: estimate [E].
PUMP_EFFICIENCY = 0.6
#: Allowance on the pump-outlet pressure for surges when choosing a pressure class [-] [E].
SURGE_ALLOWANCE = 1.1
#: Allowance on friction for minor losses in a gravity main [-] [E].
MINOR_LOSS_ALLOWANCE = 1.1


def _losses(wn, pipes: list[str], entry: pd.Series, flow: float) -> dict[str, float]:
    """Head loss [m] of each pipe at ``flow`` as the catalogue ``entry`` (network's formula)."""
    d = entry["inner_diameter_mm"] / 1000
    formula = wn.options.hydraulic.headloss
    out = {}
    for name in pipes:
        pipe = wn.get_link(name)
        rough = pipe.roughness  # SI, as WNTR holds it (D-W: metres)
        if not np.isnan(entry["roughness"]):  # a catalogue gives D-W roughness in mm
            rough = entry["roughness"] / (MM_PER_M if formula == "D-W" else 1.0)
        out[name] = float(headloss(flow, pipe.length, d, rough, formula))
    return out


def size_pumped_main(
    wn,
    pipes: list[str],
    catalog: Catalog,
    flow: float,
    *,
    tank: str,
    pump: str,
    hours_per_day: float,
    energy_price_per_kwh: float,
    annuity_factor: float,
    max_velocity_m_per_s: float = 2.0,
    source: str = "study",
) -> pd.DataFrame:
    """Rising-main pipe at least whole-life cost.

    Rising-main pipe at least whole-life cost: pipe cost plus the present value of the energy
    its friction costs at the duty flow (``hours_per_day`` of pumping, pump efficiency 0.6 [E]).

    One catalogue entry for the main below the pump, whose pressure class must hold the
    pressure at the pump outlet (lift to the full tank plus this entry's friction, plus 10% for
    surges [E]); one for the pipes above the pump, holding the source's static pressure. Both
    at most ``max_velocity_m_per_s``.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (not modified).
    pipes : list of str
        The main's pipes (:func:`rising_main`).
    catalog : Catalog
        Pipe catalogue.
    flow : float
        Duty flow [m3/s].
    tank, pump : str
        The tank the main fills and the pump that drives it.
    hours_per_day : float
        Hours of pumping a day [h].
    energy_price_per_kwh : float
        Energy price [currency/kWh].
    annuity_factor : float
        Present value of one currency unit a year over the life (1 / capital recovery factor).
    max_velocity_m_per_s : float
        Highest velocity in the main [m/s] (the transmission rule).
    source : str
        The study file, for messages.

    Returns
    -------
    pandas.DataFrame
        One row per pipe: label, catalogue row, inner diameter, velocity, friction, design
        pressure, the group's friction energy and whole-life cost.
    """
    table = catalog.table
    node = wn.get_node(tank)
    delivery = node.elevation + node.max_level
    link = wn.get_link(pump)
    below = [p for p in shortest_path_links(wn, link.end_node_name, tank) if p in pipes]
    above = [p for p in pipes if p not in below]
    source_head = max(wn.get_node(r).base_head for r in wn.reservoir_name_list)
    rows = []
    for group, downstream in ((below, True), (above, False)):
        if not group:
            continue
        lowest = min(_elevation(wn.get_node(n)) for p in group for n in _ends(wn, p))
        best = None
        for k, entry in table.iterrows():
            d = entry["inner_diameter_mm"] / 1000
            v = flow / (math.pi * d**2 / 4)
            if v > max_velocity_m_per_s:
                continue
            losses = _losses(wn, group, entry, flow)
            friction = sum(losses.values())
            if downstream:
                pressure = SURGE_ALLOWANCE * (delivery + friction - lowest)
            else:
                pressure = source_head - lowest
            if entry["pressure_rating_m"] < pressure:
                continue
            seconds_per_year = hours_per_day * SECONDS_PER_HOUR * DAYS_PER_YEAR
            kwh_year = RHO_G * flow * friction / PUMP_EFFICIENCY * seconds_per_year / J_PER_KWH
            length = sum(wn.get_link(p).length for p in group)
            whole_life = (
                entry["cost_per_m"] * length + kwh_year * energy_price_per_kwh * annuity_factor
            )
            if best is None or whole_life < best[0]:
                best = (whole_life, k, losses, v, kwh_year, pressure)
        if best is None:
            raise InputError(
                f"{source}: rising main {', '.join(group)}: no catalogue pipe holds the "
                f"pressure at under {max_velocity_m_per_s:g} m/s; a higher pressure class or a "
                "second pump is needed"
            )
        whole_life, k, losses, v, kwh_year, pressure = best
        for name in group:
            rows.append(
                {
                    "pipe": name,
                    "label": table.at[k, "label"],
                    "row": k,
                    "inner_diameter_mm": table.at[k, "inner_diameter_mm"],
                    "velocity_m_per_s": v,
                    "friction_m": losses[name],
                    "design_pressure_m": pressure,
                    "group_friction_energy_kwh_per_year": kwh_year,
                    "group_whole_life_cost_mad": whole_life,
                }
            )
    return pd.DataFrame(rows)


def _elevation(node) -> float:
    return node.base_head if node.node_type == "Reservoir" else node.elevation


def _ends(wn, pipe: str) -> tuple[str, str]:
    link = wn.get_link(pipe)
    return link.start_node_name, link.end_node_name


def rising_main(wn, tank: str, pump: str | None = None) -> list[str]:
    """Pipes from the source to the tank.

    Through the pump when there is one, else the shortest path from the nearest reservoir
    (a gravity main).
    """
    if pump:
        link = wn.get_link(pump)
        down = shortest_path_links(wn, link.end_node_name, tank)
        up = min(
            (shortest_path_links(wn, r, link.start_node_name) for r in wn.reservoir_name_list),
            key=len,
        )
        path = up + down
    else:
        path = min((shortest_path_links(wn, r, tank) for r in wn.reservoir_name_list), key=len)
    return [p for p in path if wn.get_link(p).link_type == "Pipe"]


def size_gravity_main(
    wn,
    pipes: list[str],
    catalog: Catalog,
    flow: float,
    *,
    tank: str,
    max_velocity_m_per_s: float = 2.0,
    source: str = "study",
) -> pd.DataFrame:
    """Cheapest catalogue entry for a gravity main.

    The cheapest single catalogue entry that carries ``flow`` [m3/s] from the source to the
    top of ``tank`` by gravity (friction plus 10% for minor losses within the head
    available), within its pressure class (the source's static head) and
    ``max_velocity_m_per_s``. Same table as :func:`size_pumped_main`, without the energy.
    """
    table = catalog.table
    node = wn.get_node(tank)
    top = node.elevation + node.max_level
    source_head = max(wn.get_node(r).base_head for r in wn.reservoir_name_list)
    available = source_head - top
    if available <= 0:
        raise InputError(
            f"{source}: the source's head {source_head:.1f} m is below the top of tank "
            f"{tank} ({top:.1f} m): a pump is needed ([design] pump)"
        )
    lowest = min(_elevation(wn.get_node(n)) for p in pipes for n in _ends(wn, p))
    rows = None
    for k, entry in table.iterrows():  # sorted by cost: the first that works is the cheapest
        d = entry["inner_diameter_mm"] / 1000
        too_fast = flow / (math.pi * d**2 / 4) > max_velocity_m_per_s
        if too_fast or entry["pressure_rating_m"] < source_head - lowest:
            continue
        losses = _losses(wn, pipes, entry, flow)
        if MINOR_LOSS_ALLOWANCE * sum(losses.values()) <= available:
            v = flow / (math.pi * d**2 / 4)
            rows = [
                {"pipe": name, "label": entry["label"], "row": k,
                 "inner_diameter_mm": entry["inner_diameter_mm"], "velocity_m_per_s": v,
                 "friction_m": losses[name], "design_pressure_m": source_head - lowest}
                for name in pipes
            ]  # fmt: skip
            break
    if rows is None:
        raise InputError(
            f"{source}: no catalogue pipe carries {1000 * flow:.2f} l/s from the source to "
            f"tank {tank} with {available:.1f} m of head: a pump is needed"
        )
    return pd.DataFrame(rows)
