"""Water actually delivered: pressure-driven analysis (EPANET 2.2 PDA through WNTR).

Demand-driven runs deliver every litre asked for, whatever the pressure; a pressure-driven run
delivers the full demand only where the pressure reaches the required pressure, part of it
between the minimum and the required pressure, and nothing below the minimum (Wagner et al.
1988, as in EPANET 2.2). Delivered against requested volumes are reported per node and per
village, and as litres per person per day against the service level's allowance.

Requested volume: the demand-driven demand of the same model (base demand x pattern), summed
over the run; delivered: the pressure-driven run's demand. A village's litres per person per day
delivered are its domestic allowance times its delivered share (every use is cut in the same
proportion at a node).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import wntr

from hydro import defaults
from hydro.network import copy_network
from hydro.simulation import SimulationResults, run_simulation
from hydro.units import LITRES_PER_M3, SECONDS_PER_HOUR


@dataclass(kw_only=True)
class Service:
    """Delivered against requested water in one pressure-driven run."""

    nodes: pd.DataFrame  # node, village, requested_m3, delivered_m3, delivered_share
    villages: pd.DataFrame  # village, requested_m3, delivered_m3, delivered_share (+ l/p/d)
    results: SimulationResults
    required_pressure_m: float
    minimum_pressure_m: float

    @property
    def delivered_share(self) -> float:
        """Delivered over requested volume, all nodes [-]."""
        requested = self.nodes["requested_m3"].sum()
        return float(self.nodes["delivered_m3"].sum() / requested) if requested else 1.0


def _weights(index: pd.Index) -> np.ndarray:
    """Duration [s] of each reporting step (rectangle rule; the last time closes the run)."""
    times = index.to_numpy(dtype=float)
    if len(times) < 2:
        return np.array([SECONDS_PER_HOUR])
    return np.append(np.diff(times), 0.0)


def delivered_service(
    wn: wntr.network.WaterNetworkModel,
    duration_h: float = defaults.CHECK_DURATION_H,
    required_pressure_m: float = 10.0,
    minimum_pressure_m: float = 0.0,
    villages: pd.DataFrame | None = None,
    node_village: dict[str, str] | None = None,
) -> Service:
    """Pressure-driven run of ``wn``: water delivered per node and per village.

    Nodes are grouped by ``node_village`` (node -> village), else by the village named in their
    demand category (which :func:`hydro.demand.apply_demand` sets in memory).

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network with its demand (never modified).
    duration_h : float
        Simulated duration [h].
    required_pressure_m : float
        Full delivery at or above this pressure [m].
    minimum_pressure_m : float
        No delivery below this pressure [m].
    villages : pandas.DataFrame, optional
        A projection's village table (:class:`hydro.demand.DemandProjection`) with population
        and domestic_m3_per_day, to express the delivery in l/person/day.
    node_village : dict, optional
        Node -> village.

    Returns
    -------
    Service
        Requested and delivered volumes [m3] and shares per node and per village.

    Examples
    --------
    >>> from hydro.network import read_network
    >>> service = delivered_service(read_network("networks/oujda_rural.inp"), duration_h=24)
    >>> 0 < service.delivered_share <= 1
    True
    """
    model = copy_network(wn)
    model.options.time.duration = int(round(duration_h * SECONDS_PER_HOUR))
    expected = wntr.metrics.expected_demand(model)
    results = run_simulation(
        model,
        pressure_driven=True,
        required_pressure_m=required_pressure_m,
        minimum_pressure_m=minimum_pressure_m,
    )
    junctions = [j for j in results.junctions if j in expected.columns]
    delivered = results.demand[junctions].clip(lower=0)
    expected = expected.reindex(index=delivered.index, columns=junctions).fillna(0.0)
    # EPANET's PDA may exceed the full demand by its solver tolerance (about 0.02%): a node
    # never receives more than it asks for.
    delivered = delivered.clip(upper=expected)
    w = _weights(delivered.index)
    requested_m3 = (expected.to_numpy() * w[:, None]).sum(axis=0)
    delivered_m3 = (delivered.to_numpy() * w[:, None]).sum(axis=0)
    village_of = dict(node_village or {})
    for name in junctions:
        if name not in village_of:
            categories = [d.category for d in model.get_node(name).demand_timeseries_list]
            village_of[name] = next((c for c in categories if c), "")
    nodes = pd.DataFrame(
        {
            "node": junctions,
            "village": [village_of[n] for n in junctions],
            "requested_m3": requested_m3,
            "delivered_m3": delivered_m3,
        }
    )
    nodes = nodes[nodes["requested_m3"] > 0].reset_index(drop=True)
    nodes["delivered_share"] = nodes["delivered_m3"] / nodes["requested_m3"]
    nodes["min_pressure_m"] = [float(results.pressure[n].min()) for n in nodes["node"]]
    grouped = (
        nodes[nodes["village"] != ""]
        .groupby("village", sort=False)[["requested_m3", "delivered_m3"]]
        .sum()
        .reset_index()
    )
    grouped["delivered_share"] = grouped["delivered_m3"] / grouped["requested_m3"]
    if villages is not None and not grouped.empty:
        info = villages.set_index("village")
        population = grouped["village"].map(info["population"])
        allowance = grouped["village"].map(info["domestic_m3_per_day"]) * LITRES_PER_M3
        allowance = allowance / population
        grouped["population"] = population
        grouped["allowance_l_per_person_day"] = allowance
        grouped["delivered_l_per_person_day"] = allowance * grouped["delivered_share"]
    return Service(
        nodes=nodes,
        villages=grouped,
        results=results,
        required_pressure_m=required_pressure_m,
        minimum_pressure_m=minimum_pressure_m,
    )
