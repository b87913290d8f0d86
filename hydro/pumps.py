"""Pump sizing: duty point from the design, choice from a pump catalogue, energy and its cost.

Duty flow: the peak-day volume the pump must lift, spread over its pumping hours (default 20 h
a day [E]: four hours of slack for maintenance and power cuts). Duty head: from the suction
(the source's head, less the friction up to the pump) to the delivery (the tank's top water
level), plus Hazen-Williams friction along the rising main at the duty flow and minor losses
taken as 10% of the friction [E].

Catalogue (CSV, one row per curve point): ``pump, flow_l_per_s, head_m, efficiency,
price``; one point (EPANET's single-point curve) or three (shut-off, best efficiency,
run-out). ``price`` is one pump set's price in the catalogue's currency (the study's: its
header comment says which); a catalogue written before the column was currency-neutral, with
``price_mad``, is read as ``price`` with a warning.

A pump qualifies when, against the system curve (static lift from the tank's lowest to its
top level, plus friction), it delivers at least the duty flow and always runs within the
efficient range of its curve; :func:`select_pump` takes the cheapest qualifying pump (a
study chooses the pump with its rising main: :func:`hydro.mains.choose_pump_and_main`). When
none qualifies, a curve is fitted through the duty point (EPANET's single-point rule: shut-off at
133% of the duty head, run-out at twice the duty flow) with the wire-to-water efficiency
usual for its size (:func:`pump_efficiency_for_size`, about 55% for a 3 kW pump).
A pump's shut-off head (its head at zero flow, what the rising main's pressure class must
hold) comes from :func:`shutoff_head` for every kind of curve.

The chosen pump is put in the model with level controls on the tank it fills: on below a
low level, off near the top (defaults: 40% and 95% of the usable depth [E]).
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import wntr

from hydro import defaults
from hydro._csv import read_table
from hydro.errors import InputError
from hydro.hydraulics import headloss_hazen_williams
from hydro.network import copy_network
from hydro.simulation import SimulationResults
from hydro.topology import shortest_path_links
from hydro.units import J_PER_KWH, RHO_G, SECONDS_PER_DAY, SECONDS_PER_HOUR

log = logging.getLogger(__name__)

MINOR_LOSS_SHARE = 0.10
PUMP_COLUMNS = ["pump", "flow_l_per_s", "head_m", "efficiency", "price"]
#: Former names of the catalogue's columns, read under their present name (old -> new).
PUMP_COLUMN_ALIASES = {"price_mad": "price"}
#: Shut-off head of EPANET's single-point curve over its duty head [-]: 133% (4/3), the rule
#: of the EPANET 2.2 manual, section 3.1 "Pump Curve" (run-out at twice the duty flow).
SHUTOFF_HEAD_RATIO = 4 / 3


@dataclass(kw_only=True)
class Duty:
    """Duty point of a pump [SI] and the system curve it works against.

    System curve: H(Q) = static lift + friction_m x (Q / flow)^1.852, with the static lift
    between the tank's lowest level (``delivery_low_m``) and its top (``delivery_head_m``).
    """

    flow_m3_per_s: float
    head_m: float
    suction_head_m: float
    delivery_head_m: float
    friction_m: float
    pumping_hours: float
    delivery_low_m: float | None = None

    @property
    def static_lift_m(self) -> float:
        """Static lift from suction to delivery head [m]."""
        return self.delivery_head_m - self.suction_head_m

    def system_head(self, flow: float, delivery: float | None = None) -> float:
        """Head the pump must give at ``flow`` [m3/s] [m]."""
        delivery = self.delivery_head_m if delivery is None else delivery
        ratio = flow / self.flow_m3_per_s if self.flow_m3_per_s else 0.0
        return delivery - self.suction_head_m + self.friction_m * ratio**1.852

    def describe(self) -> str:
        """The duty as a sentence."""
        return (
            f"duty {1000 * self.flow_m3_per_s:.2f} l/s at {self.head_m:.1f} m (static lift "
            f"{self.static_lift_m:.1f} m from head {self.suction_head_m:.1f} m to "
            f"{self.delivery_head_m:.1f} m, friction and minor losses {self.friction_m:.1f} m; "
            f"{self.pumping_hours:g} h of pumping a day)"
        )


def operating_flow(curve, duty: Duty, delivery: float | None = None) -> float:
    """Flow where the pump curve meets the system curve [m3/s] (0 if the pump cannot lift)."""
    if head_at(curve, 0.0) <= duty.system_head(0.0, delivery):
        return 0.0
    low, high = 0.0, max(q for q, _ in curve) * 3 + 1e-6
    while head_at(curve, high) > duty.system_head(high, delivery):
        high *= 2
    for _ in range(60):
        mid = (low + high) / 2
        if head_at(curve, mid) > duty.system_head(mid, delivery):
            low = mid
        else:
            high = mid
    return (low + high) / 2


@dataclass(kw_only=True)
class PumpChoice:
    """A pump for the duty: its curve, efficiency curve, price and where it came from.

    ``price`` is one pump set's price in the catalogue's currency (None: a fitted pump, not
    priced).
    """

    name: str
    curve: list[tuple[float, float]]  # (flow m3/s, head m)
    efficiency_curve: list[tuple[float, float]]  # (flow m3/s, efficiency 0-1)
    price: float | None
    flow_m3_per_s: float  # operating point against the full tank
    head_m: float
    efficiency: float
    source: str


def read_pump_catalog(path: str | os.PathLike) -> pd.DataFrame:
    """Read a pump catalogue; errors name the file, the pump and what is allowed.

    A former column name (:data:`PUMP_COLUMN_ALIASES`: ``price_mad``) is read under its
    present name (``price``, the catalogue's currency), with a warning; both at once are refused.
    """
    path = Path(path)
    table = _renamed_columns(read_table(path, "pump catalogue"), path)
    missing = [c for c in PUMP_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; expected: {', '.join(PUMP_COLUMNS)}"
        )
    for column in PUMP_COLUMNS[1:]:
        values = pd.to_numeric(table[column], errors="coerce")
        bad = table["pump"][values.isna() | (values < 0) | (values == np.inf)]
        if not bad.empty:
            raise InputError(
                f"{path}: pump {bad.iloc[0]}: {column} must be a non-negative finite number"
            )
        table[column] = values
    if table.empty:
        raise InputError(f"{path}: the pump catalogue has no rows")
    table["pump"] = table["pump"].astype(str).str.strip()
    for name, points in table.groupby("pump", sort=False):
        if len(points) not in (1, 3):
            raise InputError(f"{path}: pump {name}: give 1 or 3 curve points, not {len(points)}")
        flows = np.sort(points["flow_l_per_s"].to_numpy())
        if (np.diff(flows) <= 0).any() or flows[-1] <= 0:
            raise InputError(
                f"{path}: pump {name}: the curve points need distinct flows, the last above 0 "
                f"(got {', '.join(f'{q:g}' for q in flows)} l/s)"
            )
        heads = points.sort_values("flow_l_per_s")["head_m"].to_numpy()
        if (np.diff(heads) >= 0).any():
            raise InputError(f"{path}: pump {name}: head must fall as the flow rises")
        if (points["efficiency"] > 1).any():
            raise InputError(f"{path}: pump {name}: efficiency is a fraction (0-1)")
    return table


def _renamed_columns(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``table`` with its former column names (:data:`PUMP_COLUMN_ALIASES`) made present."""
    for old, new in PUMP_COLUMN_ALIASES.items():
        if old not in table.columns:
            continue
        if new in table.columns:
            raise InputError(
                f"{path}: columns {old} and {new} are the same column under its former and its "
                f"present name: keep {new} (the price in the catalogue's currency)"
            )
        log.warning(
            "%s: column %s read as %s (one pump set's price in the catalogue's currency): "
            "rename it", path, old, new,
        )  # fmt: skip
        table = table.rename(columns={old: new})
    return table


def head_at(curve: list[tuple[float, float]], flow: float) -> float:
    """Head of a pump curve at ``flow``, as EPANET fits it (H = A - B Q^C)."""
    if len(curve) == 1:
        q1, h1 = curve[0]
        a, c = SHUTOFF_HEAD_RATIO * h1, 2.0  # through (0, 1.33 H1), (Q1, H1), (2 Q1, 0)
        b = (a - h1) / q1**c
    else:
        (q0, a), (q1, h1), (q2, h2) = sorted(curve)
        c = math.log((a - h2) / (a - h1)) / math.log(q2 / q1)
        b = (a - h1) / q1**c
    return a - b * flow**c


def shutoff_head(curve: list[tuple[float, float]]) -> float:
    """Head of a pump at zero flow (shut-off) [m], from its curve as EPANET reads it.

    A single-point curve (Q1, H1) is EPANET's fitted curve: shut-off at 133% of H1 (4/3 H1,
    the rule of the EPANET 2.2 manual, section 3.1 "Pump Curve"); a three-point curve starts at
    its shut-off head. The duty head of a fitted pump is not its shut-off.

    Parameters
    ----------
    curve : list of (float, float)
        Curve points (flow [m3/s], head [m]).

    Returns
    -------
    float
        Shut-off head [m].

    Examples
    --------
    >>> shutoff_head([(0.002, 150.0)])
    200.0
    >>> shutoff_head([(0.0, 120.0), (0.002, 100.0), (0.0032, 72.0)])
    120.0
    """
    return float(head_at(curve, 0.0))


#: Wire-to-water efficiency of a small centrifugal pump set by motor input power [kW]:
#: IE2 motor (IEC 60034-30-1, 2-pole, 50 Hz) times a usual pump hydraulic efficiency [E]
#: (docs/sources.md, section 7).
PUMP_SET_EFFICIENCY_BY_KW = (
    (0.75, 0.774 * 0.58),
    (3.0, 0.846 * 0.65),
    (7.5, 0.881 * 0.70),
    (15.0, 0.903 * 0.73),
    (37.0, 0.925 * 0.77),
)


def pump_efficiency_for_size(flow: float, head: float) -> float:
    """Usual wire-to-water efficiency [-] of a pump set delivering ``flow`` at ``head``.

    Interpolated in the logarithm of the motor input power P = rho g Q H / efficiency
    (solved by fixed point) in :data:`PUMP_SET_EFFICIENCY_BY_KW`; held at the ends of the
    table. A default for a pump fitted through its duty point, not a catalogue value.

    Parameters
    ----------
    flow : float
        Duty flow [m3/s].
    head : float
        Duty head [m].

    Returns
    -------
    float
        Efficiency [-].

    Examples
    --------
    A 3 kW set (3.0 l/s at 55.9 m): about 55%.

    >>> round(pump_efficiency_for_size(0.003, 55.9), 2)
    0.55
    """
    kw, eff = (np.array(c) for c in zip(*PUMP_SET_EFFICIENCY_BY_KW, strict=True))
    efficiency = float(eff[1])
    for _ in range(50):
        power_kw = max(RHO_G * flow * max(head, 0.0) / efficiency / 1000, 1e-6)
        new = float(np.interp(math.log(power_kw), np.log(kw), eff))
        if abs(new - efficiency) < 1e-9:
            break
        efficiency = new
    return efficiency


def efficiency_curve(points: list[tuple[float, float]], samples: int = 13) -> list:
    """Efficiency curve to hand to EPANET, which interpolates linearly between points.

    Three catalogue points (shut-off, best efficiency, run-out) are joined by two half
    parabolas that peak at the best-efficiency point (the usual shape of a centrifugal pump's
    efficiency), sampled at ``samples`` flows plus the best point itself. Other point counts
    are kept as given.
    """
    points = sorted(points)
    if len(points) != 3:
        return points
    (q0, _), (qb, eb), (qr, er) = points

    def eff(q: float) -> float:
        if q <= qb:
            return eb * (1 - ((q - qb) / (qb - q0)) ** 2)
        return eb - (eb - er) * ((q - qb) / (qr - qb)) ** 2

    grid = sorted(set(np.linspace(q0, qr, samples).tolist()) | {qb})
    return [(float(q), float(max(eff(q), 0.0))) for q in grid]


def efficiency_at(points: list[tuple[float, float]], flow: float) -> float:
    """Efficiency [-] at ``flow`` [m3/s], interpolated between curve points."""
    flows, effs = zip(*sorted(points), strict=True)
    return float(np.interp(flow, flows, effs))


def _friction(wn, links: list[str], flow: float) -> float:
    total = 0.0
    for name in links:
        link = wn.get_link(name)
        if link.link_type == "Pipe":
            total += float(
                headloss_hazen_williams(flow, link.length, link.diameter, link.roughness)
            )
    return total


def pump_duty(
    wn: wntr.network.WaterNetworkModel,
    pump: str,
    tank: str,
    peak_day_m3: float,
    pumping_hours: float = defaults.PUMPING_HOURS,
) -> Duty:
    """Duty point of ``pump`` filling ``tank`` with the peak day in ``pumping_hours``."""
    if not 0 < pumping_hours <= 24:
        raise InputError(f"pumping hours must be in (0, 24], got {pumping_hours}")
    link = wn.get_link(pump)
    flow = peak_day_m3 / (pumping_hours * SECONDS_PER_HOUR)
    if not wn.reservoir_name_list:
        raise InputError("pump sizing needs a reservoir (the source) upstream of the pump")
    paths = {s: shortest_path_links(wn, s, link.start_node_name) for s in wn.reservoir_name_list}
    source = min(paths, key=lambda s: len(paths[s]))
    factor = 1 + MINOR_LOSS_SHARE
    friction_up = factor * _friction(wn, paths[source], flow)
    friction_down = factor * _friction(wn, shortest_path_links(wn, link.end_node_name, tank), flow)
    suction = wn.get_node(source).base_head - friction_up
    node = wn.get_node(tank)
    delivery = node.elevation + node.max_level
    head = delivery - suction + friction_down
    low = node.elevation + node.min_level
    return Duty(
        flow_m3_per_s=flow,
        head_m=head,
        suction_head_m=suction,
        delivery_head_m=delivery,
        friction_m=friction_down,
        pumping_hours=pumping_hours,
        delivery_low_m=low,
    )


def qualifying_pumps(
    catalog: pd.DataFrame | None,
    duty: Duty,
    efficient_range: tuple[float, float] = (0.7, 1.2),
) -> list[PumpChoice]:
    """Every catalogue pump that covers ``duty`` within its efficient range, cheapest first.

    A pump qualifies when, against the system curve, it delivers at least the duty flow with
    the tank full and runs between ``efficient_range`` times its best-efficiency flow from the
    full tank (least flow) to the low tank (most flow). Ties in price: the more efficient first.
    """
    chosen = []
    if catalog is None:
        return chosen
    for name, points in catalog.groupby("pump", sort=False):
        points = points.sort_values("flow_l_per_s")
        curve = [
            (q / 1000, h) for q, h in zip(points["flow_l_per_s"], points["head_m"], strict=True)
        ]
        eff = efficiency_curve(
            [
                (q / 1000, e)
                for q, e in zip(points["flow_l_per_s"], points["efficiency"], strict=True)
            ]
        )
        best = max(eff, key=lambda p: p[1])[0]
        low, high = (best * r for r in efficient_range)
        # where it runs: against the full tank (least flow) and the low tank (most flow)
        q_full = operating_flow(curve, duty)
        q_low = operating_flow(curve, duty, duty.delivery_low_m)
        if q_full < duty.flow_m3_per_s or not low <= q_full <= q_low <= high:
            continue
        chosen.append(
            PumpChoice(
                name=str(name),
                curve=curve,
                efficiency_curve=eff,
                price=float(points["price"].iloc[0]),
                flow_m3_per_s=q_full,
                head_m=head_at(curve, q_full),
                efficiency=efficiency_at(eff, q_full),
                source="catalogue",
            )
        )
    return sorted(chosen, key=lambda c: (c.price, -c.efficiency, c.name))


def fitted_pump(duty: Duty, efficiency: float | None = None) -> PumpChoice:
    """A pump fitted through the duty point (EPANET's single-point curve).

    Its efficiency is ``efficiency`` when given, else the usual one for its size
    (:func:`pump_efficiency_for_size`); it has no price. Its shut-off head is 133% of the duty
    head (:func:`shutoff_head`).
    """
    q, h = duty.flow_m3_per_s, duty.head_m
    if efficiency is None:
        efficiency = pump_efficiency_for_size(q, h)
    return PumpChoice(
        name="fitted",
        curve=[(q, h)],
        efficiency_curve=[(0.0, efficiency), (2 * q, efficiency)],
        price=None,
        flow_m3_per_s=q,
        head_m=h,
        efficiency=efficiency,
        source="fitted through the duty point (no catalogue pump qualifies)",
    )


def select_pump(
    catalog: pd.DataFrame | None,
    duty: Duty,
    efficient_range: tuple[float, float] = (0.7, 1.2),
    fallback_efficiency: float | None = None,
) -> PumpChoice:
    """Cheapest catalogue pump covering the duty in its efficient range, else a fitted curve.

    The fitted curve's efficiency is ``fallback_efficiency`` when given, else the usual one
    for its size (:func:`pump_efficiency_for_size`).
    """
    candidates = qualifying_pumps(catalog, duty, efficient_range)
    return candidates[0] if candidates else fitted_pump(duty, fallback_efficiency)


def install_pump(
    wn: wntr.network.WaterNetworkModel,
    pump: str,
    choice: PumpChoice,
    tank: str,
    on_share: float = 0.4,
    off_share: float = 0.95,
) -> wntr.network.WaterNetworkModel:
    """A copy of ``wn`` with ``choice`` as the pump's curve and level controls on ``tank``."""
    model = copy_network(wn)
    link = model.get_link(pump)
    name = f"C_{pump}"
    if name in model.curve_name_list:
        model.remove_curve(name)
    model.add_curve(name, "HEAD", choice.curve)
    old = link.pump_curve_name
    link.pump_curve_name = name
    in_use = {p.pump_curve_name for _, p in model.pumps() if p.pump_type == "HEAD"}
    if old != name and old not in in_use:
        model.remove_curve(old)
    eff_name = f"E_{pump}"
    if eff_name in model.curve_name_list:
        model.remove_curve(eff_name)
    model.add_curve(eff_name, "EFFICIENCY", [(q, 100 * e) for q, e in choice.efficiency_curve])
    link.efficiency_curve_name = eff_name
    for control_name, control in list(model.controls()):
        if any(a.target()[0] is link for a in control.actions()):
            model.remove_control(control_name)
    node = model.get_node(tank)
    usable = node.max_level - node.min_level
    on_level = node.min_level + on_share * usable
    off_level = node.min_level + off_share * usable
    from wntr.network.controls import Control, ControlAction, ValueCondition

    model.add_control(
        f"{pump}_ON",
        Control(ValueCondition(node, "level", "<", on_level), ControlAction(link, "status", 1)),
    )
    model.add_control(
        f"{pump}_OFF",
        Control(ValueCondition(node, "level", ">", off_level), ControlAction(link, "status", 0)),
    )
    return model


@dataclass(kw_only=True)
class Energy:
    """A pump's energy use over a run."""

    kwh_per_day: float
    m3_per_day: float
    cost_per_day: float
    hours_running_per_day: float

    @property
    def kwh_per_m3(self) -> float:
        """Specific energy [kWh/m3]."""
        return self.kwh_per_day / self.m3_per_day if self.m3_per_day else float("nan")


def pump_energy(
    results: SimulationResults,
    wn: wntr.network.WaterNetworkModel,
    pump: str,
    price_per_kwh: float,
) -> Energy:
    """Energy of ``pump`` over a run (per day): rho g Q H / efficiency, hour by hour."""
    link = wn.get_link(pump)
    flow = results.flow[pump].clip(lower=0).to_numpy()
    head = (
        results.head[link.end_node_name].to_numpy() - results.head[link.start_node_name].to_numpy()
    )
    curve = link.efficiency_curve
    if curve is not None and getattr(curve, "points", None):
        eff = np.array([efficiency_at([(q, e / 100) for q, e in curve.points], f) for f in flow])
    else:
        eff = np.full(len(flow), wn.options.energy.global_efficiency / 100)
    times = results.flow.index.to_numpy(dtype=float)
    if len(times) < 2:
        raise InputError("pump energy needs an extended-period run (at least two time steps)")
    # rectangle rule on the step starts; the last report time closes the run
    steps = np.diff(times)
    flow, head, eff = flow[:-1], head[:-1], eff[:-1]
    running = flow > 1e-7
    power_w = np.where(running, RHO_G * flow * np.maximum(head, 0) / np.maximum(eff, 0.05), 0)
    days = max(steps.sum() / SECONDS_PER_DAY, 1e-9)
    kwh = float((power_w * steps).sum() / J_PER_KWH) / days
    m3 = float((flow * steps).sum()) / days
    hours = float((running * steps).sum() / SECONDS_PER_HOUR) / days
    return Energy(
        kwh_per_day=kwh,
        m3_per_day=m3,
        cost_per_day=kwh * price_per_kwh,
        hours_running_per_day=hours,
    )
