"""Compliance checks on simulation results.

A failed check is a result, not an exception: :func:`check_limits` returns a table of
violations (one row per element and time step) that the command line prints and saves.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from hydro.simulation import SECONDS_PER_HOUR, SimulationResults

VIOLATION_COLUMNS = ["element", "kind", "quantity", "time_h", "value", "limit", "excess"]


@dataclass(frozen=True)
class Limits:
    """Service limits; ``None`` switches a check off.

    Attributes
    ----------
    min_pressure_m : float, optional
        Lowest allowed junction pressure [m].
    max_pressure_m : float, optional
        Highest allowed junction pressure [m].
    max_velocity_m_per_s : float, optional
        Highest allowed pipe velocity [m/s].
    """

    min_pressure_m: float | None = None
    max_pressure_m: float | None = None
    max_velocity_m_per_s: float | None = None


def _rows(frame: pd.DataFrame, kind: str, quantity: str, limit: float, below: bool) -> pd.DataFrame:
    excess = (limit - frame) if below else (frame - limit)
    stacked = excess.stack()
    stacked = stacked[stacked > 1e-9]
    if stacked.empty:
        return pd.DataFrame(columns=VIOLATION_COLUMNS)
    times, elements = zip(*stacked.index, strict=True)
    values = [frame.at[t, e] for t, e in stacked.index]
    return pd.DataFrame(
        {
            "element": elements,
            "kind": kind,
            "quantity": quantity,
            "time_h": [t / SECONDS_PER_HOUR for t in times],
            "value": values,
            "limit": limit,
            "excess": stacked.to_numpy(),
        }
    )


def check_limits(results: SimulationResults, limits: Limits) -> pd.DataFrame:
    """Every (element, time) at which a limit is broken, worst first.

    Columns: element, kind (junction or pipe), quantity (pressure_m or velocity_m_per_s),
    time_h, value, limit, excess (by how much the limit is broken, in the quantity's unit).
    """
    parts = []
    pressure = results.pressure[results.junctions]
    if limits.min_pressure_m is not None:
        parts.append(_rows(pressure, "junction", "pressure_m", limits.min_pressure_m, below=True))
    if limits.max_pressure_m is not None:
        parts.append(_rows(pressure, "junction", "pressure_m", limits.max_pressure_m, below=False))
    if limits.max_velocity_m_per_s is not None:
        velocity = results.velocity[results.pipes]
        parts.append(
            _rows(velocity, "pipe", "velocity_m_per_s", limits.max_velocity_m_per_s, below=False)
        )
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=VIOLATION_COLUMNS)
    table = pd.concat(parts, ignore_index=True)
    return table.sort_values(["excess", "element"], ascending=[False, True], ignore_index=True)


def compliance_share(results: SimulationResults, limits: Limits) -> float:
    """Share of junction-hours whose pressure is within the pressure limits (0-1)."""
    pressure = results.pressure[results.junctions]
    ok = pd.DataFrame(True, index=pressure.index, columns=pressure.columns)
    if limits.min_pressure_m is not None:
        ok &= pressure >= limits.min_pressure_m - 1e-9
    if limits.max_pressure_m is not None:
        ok &= pressure <= limits.max_pressure_m + 1e-9
    return float(ok.to_numpy().mean()) if ok.size else 1.0
