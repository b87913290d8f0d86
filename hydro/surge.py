"""Pressure class against the pump's shut-off head, and water hammer at pump trip (Joukowsky).

A pipe's pressure class must hold the worst head it sees: the static head from the last free
surface above it (the tank the main fills, full), the pump's shut-off head on top of the
suction head (a booster pushing against a closed valve), and the up-surge at a pump trip.
When the pump trips, the flow in the main stops within a few seconds: the head at the pump end
falls by the Joukowsky amount below the steady head and, when the column comes back against
the closed check valve, rises by as much above the static head: the friction head has
vanished with the flow, so the up-surge acts on the static head, not on the steady pressure
(Joukowsky 1898; Wylie & Streeter, *Fluid Transients in Systems*, 1993, ch. 1)::

    dH = a dV / g,    a = sqrt(K / rho) / sqrt(1 + K D / (E e))      (Korteweg)

with K the bulk modulus of water, D the inner diameter, e the wall and E the pipe's short-term
modulus of elasticity. An instantaneous stop is the upper bound of a real pump trip (the pump
runs down over a fraction of the main's return time 2L/a for a small booster). A transient
solver (method of characteristics) would be less conservative: TSNet, the maintained one built
on WNTR, does not run with numpy 2 (checked with tsnet 0.3.1, WNTR 1.5, numpy 2.4: its
discretisation fails with "only 0-dimensional arrays can be converted to Python scalars").

Moduli: docs/sources.md, 7 [E].
"""

from __future__ import annotations

import math

import pandas as pd

from hydro.catalog import entry_tag
from hydro.units import GRAVITY_M_PER_S2

#: Bulk modulus of water at 15 C [Pa] and its density [kg/m3].
WATER_BULK_MODULUS_PA = 2.15e9
WATER_DENSITY_KG_PER_M3 = 999.0
#: Short-term modulus of elasticity [Pa] by material (docs/sources.md, 7 [E]).
PIPE_MODULUS_PA = {
    "PE100": 1.1e9,
    "PE80": 0.8e9,
    "PVC": 3.0e9,
    "PVC-U": 3.0e9,
    "steel": 2.0e11,
    "DI": 1.7e11,
}
#: Lowest pressure allowed in a main during a transient [m]: vapour pressure is about -10 m
#: (gauge); a margin of 2 m against column separation.
MIN_TRANSIENT_PRESSURE_M = -8.0


def wave_speed(inner_diameter: float, wall: float, modulus_pa: float) -> float:
    """Pressure-wave speed in a water-filled pipe [m/s] (Korteweg, thin wall).

    Parameters
    ----------
    inner_diameter : float
        Inner diameter [m].
    wall : float
        Wall thickness [m].
    modulus_pa : float
        Pipe material's modulus of elasticity [Pa].

    Examples
    --------
    PE100 SDR11 DN110 (inner 90 mm, wall 10 mm): 1467 / sqrt(1 + 17.6) = 340 m/s.

    >>> round(wave_speed(0.090, 0.010, 1.1e9))
    340
    """
    k, rho = WATER_BULK_MODULUS_PA, WATER_DENSITY_KG_PER_M3
    return math.sqrt(k / rho) / math.sqrt(1 + k * inner_diameter / (modulus_pa * wall))


def joukowsky_head(wave_speed_m_per_s: float, velocity_change_m_per_s: float) -> float:
    """Head change of an instantaneous flow stop [m]: a dV / g.

    >>> round(joukowsky_head(340.0, 0.5), 1)
    17.3
    """
    return wave_speed_m_per_s * abs(velocity_change_m_per_s) / GRAVITY_M_PER_S2


def ductile_iron_wall(nominal_diameter_mm: float) -> float:
    """Iron wall of a ductile-iron pipe [m]: ISO 2531 / EN 545 class K9, e = 9 (0.5 + 0.001 DN).

    At least 6 mm. A ductile-iron catalogue row gives the nominal diameter (DN, about the bore)
    and the inner diameter inside the cement lining, so the wall cannot be read from their
    difference; K9 is the thickest usual class, the upper bound of the wave speed [E].

    >>> round(ductile_iron_wall(150) * 1000, 2)
    6.0
    >>> round(ductile_iron_wall(300) * 1000, 2)
    7.2
    """
    return max(9 * (0.5 + 0.001 * nominal_diameter_mm), 6.0) / 1000


def _wall(entry, pipe) -> float:
    """Wall thickness [m] of a main's pipe from its catalogue row (a tenth of D without one)."""
    if entry is None:
        return pipe.diameter / 20
    if str(entry["material"]) == "DI":
        return ductile_iron_wall(float(entry["nominal_diameter_mm"]))
    return (float(entry["nominal_diameter_mm"]) - float(entry["inner_diameter_mm"])) / 2000


def _static_head(model, main: list[str]) -> float | None:
    """Head of the last free surface of the main [m]: its tanks' top water level, or None."""
    heads = [
        node.elevation + node.max_level
        for name in main
        for node in (model.get_node(n) for n in _ends(model, name))
        if node.node_type == "Tank"
    ]
    return max(heads) if heads else None


def _ends(model, name: str) -> tuple[str, str]:
    link = model.get_link(name)
    return link.start_node_name, link.end_node_name


def check_rising_main(
    model, results, pump: str, main: list[str], catalog_table: pd.DataFrame, shutoff_head_m: float
) -> pd.DataFrame:
    """Pressure class and pump-trip surge of every rising-main pipe downstream of ``pump``.

    Parameters
    ----------
    model : wntr.network.WaterNetworkModel
        The design as written (pipes tagged with their catalogue labels).
    results : hydro.simulation.SimulationResults
        Its extended-period run: steady heads and velocities at the hour of highest pumped
        flow; the suction head at shut-off is the highest of the run.
    pump : str
        The booster.
    main : list of str
        The rising main's pipes in flow order (the pipes upstream of the pump are skipped).
    catalog_table : pandas.DataFrame
        ``Catalog.table`` (material, nominal and inner diameter by tag).
    shutoff_head_m : float
        The pump's head at zero flow [m].

    Returns
    -------
    pandas.DataFrame
        One row per pipe: class [m]; steady, static (from the main's tank, full), shut-off
        and up-surge (static plus Joukowsky) pressures [m] at its lowest junction, down-surge
        pressure (steady less Joukowsky) at its junction of least steady pressure (a tank
        holds its head); wave speed, surge head, the worst of static, shut-off and up-surge,
        and ``class_ok`` (shut-off within the class) and ``surge_ok`` (up-surge within the
        class, down-surge above :data:`MIN_TRANSIENT_PRESSURE_M`).
    """
    link = model.get_link(pump)
    t = results.flow[pump].idxmax()
    # at shut-off nothing flows: the suction side stands at its highest head of the run
    suction_head = float(results.head[link.start_node_name].max())
    static_head = _static_head(model, main)
    by_tag = catalog_table.set_index("tag")
    downstream = False
    rows = []
    for name in main:
        pipe = model.get_link(name)
        if pipe.start_node_name == link.end_node_name:
            downstream = True
        if not downstream:
            continue
        tag = entry_tag(pipe.tag)
        entry = by_tag.loc[tag] if tag in by_tag.index else None
        material = str(entry["material"]) if entry is not None else ""
        wall = _wall(entry, pipe)
        a = wave_speed(pipe.diameter, max(wall, 1e-4), PIPE_MODULUS_PA.get(material, 1.1e9))
        velocity = abs(float(results.velocity.at[t, name]))
        surge = joukowsky_head(a, velocity)
        ends = []
        for node_name in _ends(model, name):
            node = model.get_node(node_name)
            if node.node_type != "Junction":  # a tank holds its head: no surge there
                continue
            steady = float(results.head.at[t, node_name]) - node.elevation
            ends.append((node_name, node.elevation, steady))
        # the lower end carries the highest static and shut-off pressures
        low_end = min(ends, key=lambda r: r[1])
        high_end = min(ends, key=lambda r: r[2])
        shutoff = suction_head + shutoff_head_m - low_end[1]
        # after the trip the column rests on the last free surface: no friction head
        static = (static_head if static_head is not None else suction_head) - low_end[1]
        limit = float(entry["pressure_rating_m"]) if entry is not None else math.nan
        limit = None if math.isnan(limit) else limit  # no class: no class check
        up = static + surge
        down = high_end[2] - surge
        worst = max(static, shutoff, up)
        rows.append(
            {
                "pipe": name,
                "label": tag,
                "pressure_class_m": limit if limit is not None else float("nan"),
                "steady_pressure_m": max(r[2] for r in ends),
                "static_pressure_m": static,
                "shutoff_pressure_m": shutoff,
                "shutoff_head_m": suction_head + shutoff_head_m,
                "wave_speed_m_per_s": a,
                "velocity_m_per_s": velocity,
                "surge_head_m": surge,
                "upsurge_pressure_m": up,
                "downsurge_pressure_m": down,
                "worst_pressure_m": worst,
                "class_ok": limit is None or shutoff <= limit,
                "surge_ok": down >= MIN_TRANSIENT_PRESSURE_M and (limit is None or up <= limit),
            }
        )
    return pd.DataFrame(rows)
