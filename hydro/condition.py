"""The design condition that sizing and checking share: peak hour and tap flows, tank low.

A village network fails at the instant when several taps are open and the tank is low, not at
the average hour. The design condition is therefore the worst of two steady states, each with
every tank at its lowest operating level (its reserve: the minimum level plus the reserve share
of the usable depth) and each pump as its level controls operate it at that level:

- **peak hour**: every junction at its demand of the network's design hour (patterns applied),
  each node at its own minimum pressure (10 m at a standpipe node, 15 m at a household
  connection node, docs/sources.md, 5.1);
- **tap flows**: every standpipe at its taps' full flow (2 taps x 0.25 l/s, docs/sources.md, 5.1)
  and every household-connection node at its simultaneous flow (binomial 99th percentile,
  :func:`hydro.demand.simultaneous_taps`), other junctions at their peak-hour demand; a tap
  node must then keep the tap's minimum (5 m at the tap, docs/sources.md, 5.1), other junctions
  their own. At a standpipe the tap is not the junction: the riser, valve and meter between
  them lose :func:`standpipe_local_loss_m` at one standpipe's flow (3.5 m at 0.5 l/s [E];
  a node with two standpipes: each riser carries its own 0.5 l/s; the taps fill standpipes
  in turn, :func:`standpipe_of_tap`, and the fullest governs), so its junction must keep
  5 m plus that loss. Random tap opening (:mod:`hydro.taps`) takes the same loss between
  junction and tap in each draw. This is the all-taps-open case: every
  standpipe's taps open, tanks at their reserve; its governing tap is its node of least
  margin.

``hydro size`` sizes for both cases at once (branched networks: one exact program whose head
constraints hold in each case; looped networks: the peak hour, then the tap flows with no pipe
smaller than the first design) and verifies the written file in both; ``hydro check`` runs both
and reports them as their own rows beside the extended-period run.

This module sits below sizing (:mod:`hydro.sizing`), random tap opening (:mod:`hydro.taps`)
and compliance (:mod:`hydro.compliance`), which all build the condition here; so does the one
check of pressure targets (:func:`check_pressure_targets`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd
import wntr

from hydro import defaults
from hydro.classes import node_classes, parse_node_tag
from hydro.demand import tap_design, taps_from_model
from hydro.errors import InputError
from hydro.network import copy_network
from hydro.simulation import run_simulation
from hydro.units import HOURS_PER_DAY, LITRES_PER_M3, SECONDS_PER_HOUR

#: Names of the two cases, as they appear in tables and messages.
PEAK_HOUR, TAP_FLOWS = "peak hour", "tap flows"


def check_pressure_targets(
    minimum_m: float | Iterable[float],
    maximum_m: float | None,
    *,
    maximum_name: str = "maximum",
    maximum_note: str = "",
    minimum_note: str = "",
) -> None:
    """Refuse pressure targets no network can meet: a maximum at or below a minimum.

    The one check of the pressure targets, for ``hydro size`` (:class:`hydro.sizing.Targets`),
    ``hydro check`` and the study file (:class:`hydro.compliance.Rules`).

    Parameters
    ----------
    minimum_m : float or iterable of float
        The minimum pressure(s) [m] (per node class, per node).
    maximum_m : float, optional
        The maximum pressure [m]; None: no maximum, nothing to check.
    maximum_name : str
        How the message names the maximum (for example an option, ``--max-pressure``).
    maximum_note, minimum_note : str
        Said after the maximum and the highest minimum in the message (for example where
        each comes from).

    Raises
    ------
    InputError
        ``impossible pressure targets: maximum M m is not above the minimum N m``.

    Examples
    --------
    >>> check_pressure_targets([10.0, 15.0], 60.0)
    >>> check_pressure_targets(15.0, 12.0)
    Traceback (most recent call last):
    ...
    hydro.errors.InputError: impossible pressure targets: maximum 12 m is not above the minimum 15 m
    """
    if maximum_m is None:
        return
    values = [float(minimum_m)] if isinstance(minimum_m, int | float) else list(minimum_m)
    highest = max(values, default=0.0)
    if maximum_m <= highest:
        raise InputError(
            f"impossible pressure targets: {maximum_name} {maximum_m:g} m{maximum_note} is not "
            f"above the minimum {highest:g} m{minimum_note}"
        )


@dataclass(frozen=True, kw_only=True)
class DesignCase:
    """One steady state of the design condition.

    snapshot : a steady-state copy of the network (demands fixed, tanks at their reserve
    level, pumps as operated); minimum_m : junction -> minimum pressure in this case [m];
    demand_l_per_s : junction -> demand asked [l/s]; velocity_checked : the velocity limit
    applies (peak hour only: the brief's limits are peak-hour velocities); local_loss_m :
    standpipe junction -> loss between it and its taps [m] (the junction's minimum includes
    it).
    """

    name: str
    description: str
    snapshot: wntr.network.WaterNetworkModel
    time_s: float
    minimum_m: dict
    demand_l_per_s: pd.Series
    velocity_checked: bool
    local_loss_m: dict = field(default_factory=dict)


def standpipe_local_loss_m(
    flow_l_per_s: float,
    loss_m: float = defaults.STANDPIPE_LOCAL_LOSS_M,
    reference_l_per_s: float = defaults.STANDPIPE_LOSS_FLOW_L_PER_S,
) -> float:
    """Head lost in a standpipe's riser, valve and meter [m] at ``flow_l_per_s`` [l/s].

    A local loss, h = loss_m x (Q / reference)^2 (a loss coefficient: h = K v^2 / 2g), with
    ``loss_m`` [m] at ``reference_l_per_s`` [l/s] ([E], docs/sources.md 7).

    >>> standpipe_local_loss_m(0.5)
    3.5
    >>> round(standpipe_local_loss_m(0.25), 3)
    0.875
    """
    return loss_m * (flow_l_per_s / reference_l_per_s) ** 2


def design_hour(wn: wntr.network.WaterNetworkModel) -> float:
    """Time [s] of the network's highest total junction demand (0 for a single period)."""
    duration = wn.options.time.duration
    if duration <= 0 and not wn.pattern_name_list:
        return 0.0
    step = wn.options.time.pattern_timestep or int(SECONDS_PER_HOUR)
    end = max(duration, int(HOURS_PER_DAY * SECONDS_PER_HOUR) - step)
    demand = wntr.metrics.expected_demand(wn, start_time=0, end_time=end, timestep=step)
    return float(demand[wn.junction_name_list].sum(axis=1).idxmax())


#: Name of the constant pattern the design condition's fixed demands follow.
FLAT_PATTERN = "HYDRO_FLAT"


def flat_pattern(model: wntr.network.WaterNetworkModel) -> str:
    """The name of a pattern of 1.0 in ``model``, added if it has none (:data:`FLAT_PATTERN`).

    A demand written without a pattern follows EPANET's default pattern, the one named "1"
    when the file has one (Net1, Net3, ky4, ky10 and many files made in EPANET's interface
    do): a fixed demand must name a pattern of its own, and the default be that pattern.
    """
    name, k = FLAT_PATTERN, 1
    while name in model.pattern_name_list:
        if list(model.get_pattern(name).multipliers) == [1.0]:
            return name
        name, k = f"{FLAT_PATTERN}{k}", k + 1
    model.add_pattern(name, [1.0])
    return name


def design_snapshot(
    wn: wntr.network.WaterNetworkModel, *, in_place: bool = False
) -> tuple[wntr.network.WaterNetworkModel, float]:
    """A steady-state copy of ``wn`` at its design hour.

    Each junction's demand is fixed at its value then (patterns and multiplier applied),
    tanks at their initial levels. ``in_place``: change ``wn`` itself instead of a copy, for
    a model the caller owns and needs no more as it was (a copy of a model of 10,000 pipes
    takes about a second).

    Returns the copy (or ``wn``) and the design hour [s].
    """
    t = design_hour(wn)
    model = wn if in_place else copy_network(wn)
    multiplier = wn.options.hydraulic.demand_multiplier
    flat = flat_pattern(model)
    for _, junction in model.junctions():
        value = junction.demand_timeseries_list.at(t, multiplier=multiplier)
        junction.demand_timeseries_list.clear()
        junction.add_demand(float(value), flat)
    model.options.hydraulic.pattern = flat
    model.options.hydraulic.demand_multiplier = 1.0
    model.options.time.duration = 0
    return model, t


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
    wn: wntr.network.WaterNetworkModel,
    tank_reserve_share: float = defaults.TANK_RESERVE_SHARE,
    *,
    in_place: bool = False,
) -> tuple[wntr.network.WaterNetworkModel, float]:
    """The network at its design hour (:func:`design_snapshot`) with every tank at its
    reserve level and the pumps as their level controls then run them (``in_place``: see
    :func:`design_snapshot`).
    """
    model, t = design_snapshot(wn, in_place=in_place)
    for _, tank in model.tanks():
        tank.init_level = reserve_level(tank, tank_reserve_share)
    _operate_pumps(model)
    return model, t


def design_cases(
    wn: wntr.network.WaterNetworkModel,
    minimum_m: Callable[[str], float],
    taps: pd.DataFrame | None,
    tap_min_pressure_m: float = defaults.TAP_MIN_PRESSURE_M,
    tank_reserve_share: float = defaults.TANK_RESERVE_SHARE,
    standpipe_loss_m: float = defaults.STANDPIPE_LOCAL_LOSS_M,
    *,
    in_place: bool = False,
) -> list[DesignCase]:
    """The cases of the design condition of ``wn`` (never modified, unless ``in_place``).

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
    standpipe_loss_m : float
        Local loss of a standpipe (riser, valve, meter) at 0.5 l/s [m]
        (:func:`standpipe_local_loss_m`): a standpipe junction keeps the tap's minimum plus
        this loss at its flow. Rows of ``taps`` whose ``service`` is ``standpipe`` are
        standpipes.
    in_place : bool
        The peak hour's snapshot is ``wn`` itself, changed, not a copy: for a model the
        caller owns and needs no more as it was (:func:`design_snapshot`).
    """
    peak, t = peak_hour_snapshot(wn, tank_reserve_share, in_place=in_place)
    junctions = peak.junction_name_list
    demand = pd.Series(
        {n: peak.get_node(n).demand_timeseries_list.at(0) * LITRES_PER_M3 for n in junctions},
        dtype=float,
    )
    cases = [
        DesignCase(
            name=PEAK_HOUR,
            description=f"demand at {t / SECONDS_PER_HOUR:g} h of the design day, tanks at "
            "their reserve",
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
        junction.add_demand(float(q) / LITRES_PER_M3, flat_pattern(model))
    tapped = set(flows.index)
    loss = _standpipe_losses(taps, tapped, standpipe_loss_m)
    cases.append(
        DesignCase(
            name=TAP_FLOWS,
            description="standpipes at their taps' flow, household connections at their "
            "simultaneous flow, other junctions at the peak hour; tanks at their reserve",
            snapshot=model,
            time_s=t,
            minimum_m={
                n: tap_min_pressure_m + loss.get(n, 0.0) if n in tapped else float(minimum_m(n))
                for n in junctions
            },
            demand_l_per_s=demand.where(~demand.index.isin(tapped), flows.reindex(demand.index)),
            velocity_checked=False,
            local_loss_m=loss,
        )
    )
    return cases


def taps_per_standpipe_or_default(value) -> int:
    """Taps on one standpipe: ``value`` when it is a number of 1 or more (whole part), else
    :data:`hydro.defaults.TAPS_PER_STANDPIPE` (missing, NaN or 0).

    >>> taps_per_standpipe_or_default(3.0), taps_per_standpipe_or_default(float("nan"))
    (3, 2)
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        return defaults.TAPS_PER_STANDPIPE
    if not math.isfinite(number) or number < 1:
        return defaults.TAPS_PER_STANDPIPE
    return int(number)


def standpipes_at(taps: float, taps_per_standpipe: float = defaults.TAPS_PER_STANDPIPE) -> int:
    """Standpipes at a node of ``taps`` taps, each of ``taps_per_standpipe`` taps (at least one).

    >>> standpipes_at(4)
    2
    >>> standpipes_at(2, 4)
    1
    """
    per = taps_per_standpipe_or_default(taps_per_standpipe)
    return max(math.ceil(taps / per - 1e-9), 1)


def standpipe_of_tap(tap: int, taps_per_standpipe: float = defaults.TAPS_PER_STANDPIPE) -> int:
    """The standpipe (from 0) of a node's tap ``tap`` (from 0).

    The taps fill standpipes of ``taps_per_standpipe`` taps in turn, the rest on one more
    (3 taps, 2 per standpipe: 2 + 1). The one rule of which taps share a riser, for the
    design condition and for random tap opening (:mod:`hydro.taps`).

    >>> [standpipe_of_tap(k, 2) for k in range(5)]
    [0, 0, 1, 1, 2]
    """
    return int(tap) // taps_per_standpipe_or_default(taps_per_standpipe)


def _standpipe_losses(taps: pd.DataFrame, tapped: set, loss_m: float) -> dict[str, float]:
    """Standpipe junction -> local loss [m] between it and its taps (none without a service).

    Each standpipe has its own riser, valve and meter: the loss is that of the node's
    fullest standpipe (:func:`standpipe_of_tap`: ``taps_per_standpipe`` taps from the table,
    else :data:`hydro.defaults.TAPS_PER_STANDPIPE`, or all the node's taps when fewer) at
    its taps' flow, not at the node's total (two standpipes of 2 x 0.25 l/s: 3.5 m each, not
    14 m through one riser). Several standpipe rows at one node: the highest of their losses.
    """
    if "service" not in taps.columns or loss_m <= 0:
        return {}
    rows = taps[(taps["service"] == "standpipe") & taps["node"].isin(tapped)]
    per = rows["taps_per_standpipe"] if "taps_per_standpipe" in rows.columns else None
    out: dict[str, float] = {}
    for k, (node, n, q) in enumerate(
        zip(rows["node"], rows["taps"], rows["design_flow_l_per_s"], strict=True)
    ):
        n = float(n)
        each = taps_per_standpipe_or_default(per.iloc[k] if per is not None else None)
        fullest = min(n, each) / n * float(q) if n > 0 else 0.0
        loss = standpipe_local_loss_m(fullest, loss_m)
        out[str(node)] = max(out.get(str(node), 0.0), loss)
    return out


def default_taps(
    wn: wntr.network.WaterNetworkModel,
    classes: Mapping[str, str] | None = None,
    tap_table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The tap table (:func:`hydro.demand.tap_design`) of a network without a village table.

    Node classes from :func:`hydro.classes.node_classes` (tags, then demand patterns, then
    ``classes``); taps from :func:`hydro.demand.taps_from_model` (tags, then the class
    defaults, then ``tap_table``, :func:`hydro.classes.read_tap_table`). Each standpipe row's
    ``taps_per_standpipe``: ``tap_table``'s, else the node tag's (``standpipe:N@Q/K``; 2 for
    a tag without ``/K``), else :data:`hydro.defaults.TAPS_PER_STANDPIPE`; NaN for other rows.
    """
    taps = taps_from_model(wn, node_classes(wn, classes), tap_table)
    per = []
    for node, service in zip(taps["node"], taps["service"], strict=True):
        value = math.nan
        if service == "standpipe":
            tagged = parse_node_tag(wn.get_node(node).tag)
            if tagged is not None and tagged.taps_per_standpipe is not None:
                value = tagged.taps_per_standpipe
            if tap_table is not None and "taps_per_standpipe" in tap_table.columns:
                given = tap_table["taps_per_standpipe"].get(node, math.nan)
                value = value if pd.isna(given) else given
            value = float(taps_per_standpipe_or_default(value))
        per.append(value)
    return tap_design(taps.assign(taps_per_standpipe=per))


# --------------------------------------------------------------------------- checking
def check_cases(cases: list[DesignCase]) -> pd.DataFrame:
    """Run every case by a full EPANET run (WNTR's EpanetSimulator) and compare pressures.

    Returns one row per case and junction with a minimum: condition, node, demand_l_per_s
    (the flow asked), pressure_m (the pressure got at the junction), min_pressure_m (at the
    junction: at a standpipe drawing, the tap's minimum plus its local loss), margin_m,
    local_loss_m (riser, valve and meter of a standpipe drawing, else 0) and tap_pressure_m
    (the junction's pressure less that loss: the pressure at the tap).
    """
    rows = []
    for case in cases:
        results = run_simulation(case.snapshot, duration_h=0)
        pressure = results.pressure.iloc[0]
        for node in results.junctions:
            loss = case.local_loss_m.get(node, 0.0)
            rows.append(
                {
                    "condition": case.name,
                    "node": node,
                    "demand_l_per_s": float(case.demand_l_per_s.get(node, 0.0)),
                    "pressure_m": float(pressure[node]),
                    "min_pressure_m": case.minimum_m[node],
                    "margin_m": float(pressure[node]) - case.minimum_m[node],
                    "local_loss_m": loss,
                    "tap_pressure_m": float(pressure[node]) - loss,
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "condition", "node", "demand_l_per_s", "pressure_m", "min_pressure_m", "margin_m",
            "local_loss_m", "tap_pressure_m",
        ],
    )  # fmt: skip


#: Columns of :func:`taps_open_table`.
TAPS_OPEN_COLUMNS = [
    "node", "class", "village", "flow_l_per_s", "junction_pressure_m", "local_loss_m",
    "tap_pressure_m", "tap_min_pressure_m", "margin_m", "governing",
]  # fmt: skip


def taps_open_table(
    table: pd.DataFrame, taps: pd.DataFrame, node_class: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """The all-taps-open case, one row per tap node, from :func:`check_cases`' ``table``.

    The tap-flow case's rows (every standpipe's taps open, each household-connection node at
    its simultaneous flow, tanks at their reserve) at the nodes of ``taps``
    (:func:`hydro.demand.tap_design`): node, class, village, flow_l_per_s (the flow asked),
    junction_pressure_m, local_loss_m (riser, valve and meter of a standpipe),
    tap_pressure_m (at the tap: the junction's pressure less that loss), tap_min_pressure_m,
    margin_m and governing (True on the tap of least margin, the first row). Sorted by
    margin, a pressure that is not a number first. ``node_class``: node -> class (default:
    the table's ``class`` column, else the tap table's service).
    """
    rows = table[(table["condition"] == TAP_FLOWS) & table["node"].isin(set(taps["node"]))]
    if rows.empty:
        return pd.DataFrame(columns=TAPS_OPEN_COLUMNS)
    first = taps.drop_duplicates("node").set_index("node")
    service = first["service"] if "service" in first.columns else pd.Series(dtype=object)
    village = first["village"] if "village" in first.columns else pd.Series(dtype=object)
    if node_class is not None:
        classes = [node_class.get(n, service.get(n, "")) for n in rows["node"]]
    elif "class" in rows.columns:
        classes = rows["class"].tolist()
    else:
        classes = [service.get(n, "") for n in rows["node"]]
    loss = rows["local_loss_m"] if "local_loss_m" in rows.columns else 0.0 * rows["pressure_m"]
    out = pd.DataFrame(
        {
            "node": rows["node"].to_numpy(),
            "class": classes,
            "village": [village.get(n, "") for n in rows["node"]],
            "flow_l_per_s": rows["demand_l_per_s"].to_numpy(),
            "junction_pressure_m": rows["pressure_m"].to_numpy(),
            "local_loss_m": loss.to_numpy(),
            "tap_pressure_m": (rows["pressure_m"] - loss).to_numpy(),
            "tap_min_pressure_m": (rows["min_pressure_m"] - loss).to_numpy(),
            "margin_m": rows["margin_m"].to_numpy(),
        }
    )
    out = out.sort_values("margin_m", na_position="first", kind="stable").reset_index(drop=True)
    out["governing"] = out.index == 0
    return out[TAPS_OPEN_COLUMNS]
