"""Transmission mains of a study: the pipes from the source to the tank.

A pumped main is sized at least whole-life cost (pipe plus the present value of the energy its
friction costs); a gravity main takes the cheapest pipe that carries the flow within the head
available. Both keep within the pressure class and 2.0 m/s (Oujda brief 5.1).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from hydro.catalog import Catalog
from hydro.errors import InputError
from hydro.hydraulics import headloss_hazen_williams
from hydro.study.config import Study
from hydro.topology import shortest_path_links
from hydro.units import DAYS_PER_YEAR, M_PER_BAR, RHO_G, SECONDS_PER_HOUR


def _losses(wn, pipes: list[str], entry: pd.Series, flow: float) -> dict[str, float]:
    """Hazen-Williams head loss [m] of each pipe at ``flow`` as the catalogue ``entry``."""
    d = entry["inner_diameter_mm"] / 1000
    out = {}
    for name in pipes:
        pipe = wn.get_link(name)
        c = entry["roughness"] if not np.isnan(entry["roughness"]) else pipe.roughness
        out[name] = float(headloss_hazen_williams(flow, pipe.length, d, c))
    return out


def size_pumped_main(
    wn, pipes: list[str], catalog: Catalog, flow: float, hours_per_day: float, study: Study
) -> pd.DataFrame:
    """Rising-main pipe at least whole-life cost.

    Rising-main pipe at least whole-life cost: pipe cost plus the present value of the energy
    its friction costs at the duty flow (``hours_per_day`` of pumping, pump efficiency 0.6 [E]).

    One catalogue entry for the main below the pump, whose pressure class must hold the
    pressure at the pump outlet (lift to the full tank plus this entry's friction, plus 10% for
    surges [E]); one for the pipes above the pump, holding the source's static pressure. Both
    at most 2.0 m/s (brief 5.1).
    """
    table = catalog.table
    energy_price = study.costs["energy_per_kwh"].value
    annuity = 1 / study.crf
    tank = wn.get_node(study.tank)
    delivery = tank.elevation + tank.max_level
    pump = wn.get_link(study.pump)
    below = [p for p in shortest_path_links(wn, pump.end_node_name, study.tank) if p in pipes]
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
            if v > 2.0:
                continue
            losses = _losses(wn, group, entry, flow)
            friction = sum(losses.values())
            if downstream:
                pressure = 1.1 * (delivery + friction - lowest)
            else:
                pressure = source_head - lowest
            if entry["pressure_class_bar"] * M_PER_BAR < pressure:
                continue
            kwh_year = (
                RHO_G * flow * friction / 0.6 * hours_per_day * SECONDS_PER_HOUR * DAYS_PER_YEAR
            )
            kwh_year /= 3.6e6
            length = sum(wn.get_link(p).length for p in group)
            whole_life = entry["cost_per_m"] * length + kwh_year * energy_price * annuity
            if best is None or whole_life < best[0]:
                best = (whole_life, k, losses, v, kwh_year, pressure)
        if best is None:
            raise InputError(
                f"{study.path}: rising main {', '.join(group)}: no catalogue pipe holds the "
                "pressure at under 2 m/s; a higher pressure class or a second pump is needed"
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


def rising_main(wn, study: Study) -> list[str]:
    """Pipes from the source to the tank.

    Pipes from the source to the tank: through the pump when there is one, else the
    shortest path from the nearest reservoir (a gravity main).
    """
    if study.pump:
        link = wn.get_link(study.pump)
        down = shortest_path_links(wn, link.end_node_name, study.tank)
        up = min(
            (shortest_path_links(wn, r, link.start_node_name) for r in wn.reservoir_name_list),
            key=len,
        )
        path = up + down
    else:
        path = min(
            (shortest_path_links(wn, r, study.tank) for r in wn.reservoir_name_list), key=len
        )
    return [p for p in path if wn.get_link(p).link_type == "Pipe"]


def size_gravity_main(
    wn, pipes: list[str], catalog: Catalog, flow: float, study: Study
) -> pd.DataFrame:
    """Cheapest catalogue entry for a gravity main.

    Cheapest single catalogue entry that carries ``flow`` from the source to the top of the
    tank by gravity (friction plus 10% for minor losses within the head available), within
    its pressure class (the source's static head) and 2.0 m/s (brief 5.1).
    """
    table = catalog.table
    tank = wn.get_node(study.tank)
    top = tank.elevation + tank.max_level
    source = max(wn.get_node(r).base_head for r in wn.reservoir_name_list)
    available = source - top
    if available <= 0:
        raise InputError(
            f"{study.path}: the source's head {source:.1f} m is below the top of tank "
            f"{study.tank} ({top:.1f} m): a pump is needed ([design] pump)"
        )
    lowest = min(_elevation(wn.get_node(n)) for p in pipes for n in _ends(wn, p))
    rows = None
    for k, entry in table.iterrows():  # sorted by cost: the first that works is the cheapest
        d = entry["inner_diameter_mm"] / 1000
        if flow / (math.pi * d**2 / 4) > 2.0 or entry["pressure_class_bar"] * M_PER_BAR < (
            source - lowest
        ):
            continue
        losses = _losses(wn, pipes, entry, flow)
        if 1.1 * sum(losses.values()) <= available:
            v = flow / (math.pi * d**2 / 4)
            rows = [
                {"pipe": name, "label": entry["label"], "row": k,
                 "inner_diameter_mm": entry["inner_diameter_mm"], "velocity_m_per_s": v,
                 "friction_m": losses[name], "design_pressure_m": source - lowest}
                for name in pipes
            ]  # fmt: skip
            break
    if rows is None:
        raise InputError(
            f"{study.path}: no catalogue pipe carries {1000 * flow:.2f} l/s from the source to "
            f"tank {study.tank} with {available:.1f} m of head: a pump is needed"
        )
    return pd.DataFrame(rows)
