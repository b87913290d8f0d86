"""Booster pumps placed by the exact tree program, and written as EPANET users model them.

Where the source's head serves some villages by gravity and not the others, the tree program
(:mod:`hydro.sizing.tree`) may place a booster at a candidate junction ``j``: the junction's
own demand is drawn upstream of it, and below it the working head is ``H_j`` plus the
pump's head at the flow it passes, and the static head (every tap closed, the pump at
shut-off) is the one above it plus the shut-off head, which the pipes below must hold.

A booster is EPANET's single-point pump (EPANET 2.2 manual, section 3.1 "Pump Curve"):
through its duty point (``Q_d``, ``h``) the curve is ``H(Q) = h (4/3 - (Q / Q_d)^2 / 3)``,
shut-off at 4/3 ``h`` (:data:`hydro.pumps.SHUTOFF_HEAD_RATIO`), run-out at 2 ``Q_d``. Its duty
flow is the largest flow through it over the design condition's cases, so in every case it
gives at least ``h``, and the program holds each case's head exactly (``H(Q_c)`` is linear in
``h`` once the flows are known, as in a tree they are).

Its cost is the station's fixed cost plus the energy over the life, discounted: at the
average flow ``Q_avg`` (the demand below it, averaged over the model's demand patterns) the
pump gives ``H(Q_avg)``, so per metre of duty head

    c = rho g Q_avg (H(Q_avg) / h) / eta / 1000 [kW/m] x 8760 h x price x annuity factor

with ``eta`` the usual wire-to-water efficiency of a set of its size
(:func:`hydro.pumps.pump_efficiency_for_size` at its duty point: the tree program takes it
first at the largest head it may give, then solves again with each placed booster's at its
duty point, :func:`hydro.sizing.tree.solve_tree`) and the annuity factor
``(1 - (1 + r)^-n) / r`` (no capital per kW: the station's cost is one figure). Written as
a pump ``PMP_<node>`` from the junction to a new junction ``<node>_PMP`` at the same
elevation, beside it, which carries the pipes below (:func:`add_boosters`);
:func:`booster_table` costs the boosters of a written file again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import wntr

from hydro import defaults
from hydro.errors import InputError
from hydro.lifecycle import capital_recovery_factor
from hydro.pumps import SHUTOFF_HEAD_RATIO
from hydro.topology import device_ids
from hydro.units import DAYS_PER_YEAR, J_PER_KWH, RHO_G, SECONDS_PER_HOUR

#: Name of a booster placed by the program: ``PMP_<node>``.
PUMP_PREFIX = "PMP_"
#: Suffix of the junction below it: ``<node>_PMP``.
PUMP_OUTLET_SUFFIX = "_PMP"
#: Suffixes of the junctions below a placed device (not consumers).
OUTLET_SUFFIXES = ("_BPT", "_PRV", PUMP_OUTLET_SUFFIX)
#: Hours in a year [h].
HOURS_PER_YEAR = 24.0 * DAYS_PER_YEAR
#: How far beside its junction a booster's outlet is drawn [the network's coordinate units].
OUTLET_OFFSET = 1.0


@dataclass(frozen=True)
class Boosters:
    """Booster pumps the tree program may place.

    Parameters
    ----------
    cost : float
        Fixed cost of one booster station [the catalogue's currency].
    nodes : tuple of str, optional
        Junctions where a booster may go; None: every junction with a pipe below it.
    energy_price_per_kwh : float
        Price of energy [currency/kWh], in the catalogue's currency (default
        :data:`hydro.defaults.ENERGY_PRICE_EUR_PER_KWH`, 0.09 EUR: 1.0 MAD/kWh of
        docs/sources.md 5.4 at 11.1 MAD/EUR; a catalogue in MAD wants 1.0).
    life_years : float
        Years over which the energy is discounted [years] (default 25, docs/sources.md 4.3).
    discount_rate : float
        Discount rate [1/year] (default 0.06, docs/sources.md 4.3).
    efficiency : float, optional
        Wire-to-water efficiency of every booster [-]; None: the usual for its size
        (:func:`hydro.pumps.pump_efficiency_for_size` at its duty point,
        :func:`hydro.sizing.tree.solve_tree`).

    Examples
    --------
    >>> round(Boosters(50000.0).annuity_factor, 2)
    12.78
    """

    cost: float
    nodes: tuple[str, ...] | None = None
    energy_price_per_kwh: float = defaults.ENERGY_PRICE_EUR_PER_KWH
    life_years: float = defaults.DESIGN_LIFE_YEARS
    discount_rate: float = defaults.DISCOUNT_RATE
    efficiency: float | None = None

    def __post_init__(self):
        for value, option, rule in (
            (self.cost, "--booster-cost", "a finite cost >= 0"),
            (self.energy_price_per_kwh, "--energy-price", "a finite price >= 0"),
        ):
            if not (math.isfinite(value) and value >= 0):
                raise InputError(f"{option}: {value:g} is not allowed; give {rule}")
        if not (math.isfinite(self.life_years) and self.life_years > 0):
            raise InputError(
                f"--life-years: {self.life_years:g} is not allowed; give a finite life > 0 years"
            )
        if not (math.isfinite(self.discount_rate) and 0 <= self.discount_rate < 1):
            raise InputError(
                f"--discount-rate: {self.discount_rate:g} is not allowed; give a rate in [0, 1)"
            )
        if self.efficiency is not None and not (0 < self.efficiency <= 1):
            raise InputError(
                f"--booster-efficiency: {self.efficiency:g} is not allowed; give a share in (0, 1]"
            )

    @property
    def annuity_factor(self) -> float:
        """Present value of 1 a year over the life at the discount rate [years]."""
        return 1.0 / capital_recovery_factor(self.discount_rate, self.life_years)

    def energy_cost_per_kwh_year(self) -> float:
        """Present value of 1 kWh a year over the life [currency per (kWh/year)]."""
        return self.energy_price_per_kwh * self.annuity_factor


def head_factor(flow: float, design_flow: float) -> float:
    """Head of EPANET's single-point curve at ``flow`` over its duty head [-].

    ``4/3 - (Q / Q_d)^2 / 3``: 4/3 at shut-off, 1 at the duty flow, 0 at twice it.

    >>> head_factor(0.0, 0.002), head_factor(0.002, 0.002)
    (1.3333333333333333, 1.0)
    """
    ratio = flow / design_flow if design_flow > 0 else 0.0
    return SHUTOFF_HEAD_RATIO - (SHUTOFF_HEAD_RATIO - 1.0) * ratio**2


def energy_kwh_per_year(
    average_flow: float, design_flow: float, head: float, efficiency: float
) -> float:
    """Energy a booster draws in a year [kWh], running at the average flow all year.

    ``rho g Q_avg H(Q_avg) / eta x 8760 h``, ``H`` the single-point curve through the duty
    point (``design_flow`` [m3/s], ``head`` [m]); ``average_flow`` [m3/s].

    >>> round(energy_kwh_per_year(0.001, 0.002, 30.0, 0.5), 1)
    6445.2
    """
    power_w = RHO_G * average_flow * head_factor(average_flow, design_flow) * head / efficiency
    return power_w * HOURS_PER_YEAR * SECONDS_PER_HOUR / J_PER_KWH


def average_demand(wn: wntr.network.WaterNetworkModel) -> dict[str, float]:
    """Junction -> its demand averaged over its patterns [m3/s] (the demand multiplier in)."""
    default = wn.options.hydraulic.pattern
    default_pattern = wn.get_pattern(default) if default in wn.pattern_name_list else None
    out = {}
    for name, junction in wn.junctions():
        total = 0.0
        for demand in junction.demand_timeseries_list:
            pattern = demand.pattern if demand.pattern is not None else default_pattern
            mean = float(np.mean(pattern.multipliers)) if pattern is not None else 1.0
            total += demand.base_value * mean
        out[name] = total * wn.options.hydraulic.demand_multiplier
    return out


def nodes_below(wn: wntr.network.WaterNetworkModel, start: str, upstream: str) -> list[str]:
    """The nodes reached from ``start`` without passing ``upstream`` (in a tree: the part
    below ``start``), ``start`` excluded.
    """
    links: dict[str, list[str]] = {}
    for _, link in wn.links():
        a, b = link.start_node_name, link.end_node_name
        links.setdefault(a, []).append(b)
        links.setdefault(b, []).append(a)
    seen, stack = {start, upstream}, [start]
    while stack:
        for n in links.get(stack.pop(), []):
            if n not in seen:
                seen.add(n)
                stack.append(n)
    return [n for n in seen if n not in (start, upstream)]


def fed_by(wn: wntr.network.WaterNetworkModel, pumps) -> dict[str, str]:
    """Node -> the booster of ``pumps`` (names) that feeds it: the nodes below each pump's
    outlet (:func:`nodes_below`); nodes no booster feeds are left out (gravity).
    """
    fed = {}
    for name in pumps:
        pump = wn.get_link(name)
        for n in nodes_below(wn, pump.end_node_name, pump.start_node_name):
            fed[n] = name
    return fed


def booster_pumps(wn: wntr.network.WaterNetworkModel) -> list[str]:
    """The pumps of ``wn`` placed as boosters: ``PMP_<node>`` to ``<node>_PMP``."""
    return [
        name
        for name, link in wn.pumps()
        if name.startswith(PUMP_PREFIX) and link.end_node_name.endswith(PUMP_OUTLET_SUFFIX)
    ]


def booster_outlets(wn: wntr.network.WaterNetworkModel) -> set[str]:
    """Junctions just below a placed booster (``<node>_PMP``): not consumers."""
    return {wn.get_link(p).end_node_name for p in booster_pumps(wn)}


def add_boosters(
    model: wntr.network.WaterNetworkModel, duty: dict[str, tuple[float, float, float]],
    downstream: dict,
) -> None:  # fmt: skip
    """Write a booster at each junction of ``duty`` into ``model`` (changed in place).

    ``duty``: junction -> (duty flow [m3/s], duty head [m], efficiency [-]). The pipes of
    ``downstream[node]`` move to a new junction ``<node>_PMP`` at the junction's elevation,
    beside it; a pump ``PMP_<node>`` joins them, its head curve ``C_PMP_<node>`` the single
    point (duty flow, duty head), its efficiency curve ``E_PMP_<node>`` the efficiency at it.

    Raises
    ------
    InputError
        The names ``PMP_<node>``, ``<node>_PMP`` or its curves are already in the network.
    """
    for node, (flow, head, efficiency) in duty.items():
        pump, outlet = device_ids(node, PUMP_PREFIX, PUMP_OUTLET_SUFFIX, room=len("C_"))
        curves = (f"C_{pump}", f"E_{pump}")
        if (outlet in model.node_name_list or pump in model.link_name_list
                or any(c in model.curve_name_list for c in curves)):  # fmt: skip
            raise InputError(
                f"cannot write a booster at {node}: the network already has a node {outlet}, "
                f"a link {pump} or a curve {curves[0]} or {curves[1]}"
            )
        junction = model.get_node(node)
        x, y = junction.coordinates or (0.0, 0.0)
        model.add_junction(outlet, base_demand=0.0, elevation=junction.elevation,
                           coordinates=(x + OUTLET_OFFSET, y))  # fmt: skip
        for name in downstream[node]:
            pipe = model.get_link(name)
            if pipe.start_node_name == node:
                pipe.start_node = model.get_node(outlet)
            else:
                pipe.end_node = model.get_node(outlet)
        model.add_curve(curves[0], "HEAD", [(flow, head)])
        model.add_curve(curves[1], "EFFICIENCY", [(flow, 100.0 * efficiency)])
        model.add_pump(pump, node, outlet, pump_type="HEAD", pump_parameter=curves[0])
        model.get_link(pump).efficiency_curve_name = curves[1]


#: The columns of :func:`booster_table`.
BOOSTER_TABLE_COLUMNS = [
    "pump", "node", "flow_l_per_s", "head_m", "shutoff_head_m", "efficiency", "power_kw",
    "average_flow_l_per_s", "energy_kwh_per_year", "energy_cost_per_year", "capital",
    "whole_life_cost", "serves",
]  # fmt: skip


def booster_table(wn: wntr.network.WaterNetworkModel, boosters: Boosters | None) -> pd.DataFrame:
    """Each booster of a written file, costed again from it.

    Per pump: the junction, the duty flow [l/s] and head [m] of its curve, its efficiency
    [-], the shut-off head [m], the motor input power at the duty point [kW], the average
    flow below it [l/s], the energy a year [kWh] and its cost, the capital and the
    whole-life cost (capital plus the energy discounted over the life), and the junctions it
    serves (those below it).
    """
    rows = []
    average = average_demand(wn)
    for name in booster_pumps(wn):
        pump = wn.get_link(name)
        (flow, head), *_ = pump.get_pump_curve().points
        curve = pump.efficiency_curve
        efficiency = curve.points[0][1] / 100.0 if curve is not None else 1.0
        served = sorted(
            n for n in nodes_below(wn, pump.end_node_name, pump.start_node_name)
            if n in average
        )  # fmt: skip
        q_avg = sum(average[n] for n in served)
        kwh = energy_kwh_per_year(q_avg, flow, head, efficiency)
        capital = boosters.cost if boosters is not None else 0.0
        per_kwh_year = boosters.energy_cost_per_kwh_year() if boosters is not None else 0.0
        rows.append(
            {
                "pump": name, "node": pump.start_node_name, "flow_l_per_s": flow * 1000,
                "head_m": head, "shutoff_head_m": SHUTOFF_HEAD_RATIO * head,
                "efficiency": efficiency, "power_kw": RHO_G * flow * head / efficiency / 1000,
                "average_flow_l_per_s": q_avg * 1000, "energy_kwh_per_year": kwh,
                "energy_cost_per_year": kwh * (boosters.energy_price_per_kwh if boosters else 0),
                "capital": capital, "whole_life_cost": capital + kwh * per_kwh_year,
                "serves": [n for n in served if not n.endswith(OUTLET_SUFFIXES)],
            }
        )  # fmt: skip
    return pd.DataFrame(rows, columns=BOOSTER_TABLE_COLUMNS)


def lift_cost_per_m(
    boosters: Boosters, average_flow: float, design_flow: float, efficiency: float
) -> float:
    """Whole-life energy cost of one metre of a booster's duty head [currency/m].

    The energy a year per metre (:func:`energy_kwh_per_year` at a head of 1 m) times its
    present value over the life (:meth:`Boosters.energy_cost_per_kwh_year`).

    >>> round(lift_cost_per_m(Boosters(0.0, energy_price_per_kwh=1.0), 0.001, 0.002, 0.5), 1)
    2746.4
    """
    per_m = energy_kwh_per_year(average_flow, design_flow, 1.0, efficiency)
    return per_m * boosters.energy_cost_per_kwh_year()
