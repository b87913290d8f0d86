"""Transmission mains: the pipes from the source to the tank.

:func:`choose_pump_and_main` chooses a booster and its rising main together (least capital
plus discounted energy, the pump's shut-off within the pipe's class).

A pumped main is sized at least whole-life cost (pipe plus the present value of the energy its
friction costs); a gravity main is split between catalogue diameters at least cost within the
head available (:func:`size_gravity_main`, a linear programme; :func:`split_main` writes the
segments into the network). Both keep within the pressure class and the transmission velocity
limit (default 2.0 m/s, docs/sources.md, 5.1). Head losses follow the network's own formula
(Hazen-Williams or Darcy-Weisbach).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from hydro.catalog import Catalog
from hydro.errors import InfeasibleDesignError, InputError
from hydro.hydraulics import headloss
from hydro.pumps import (
    MINOR_LOSS_SHARE,
    Duty,
    PumpChoice,
    fitted_pump,
    pump_duty,
    qualifying_pumps,
    shutoff_head,
)
from hydro.stations import StationPrices, station_cost
from hydro.topology import shortest_path_links
from hydro.units import DAYS_PER_YEAR, J_PER_KWH, MM_PER_M, RHO_G, SECONDS_PER_HOUR

#: Pump efficiency assumed when pricing a rising main's friction energy [-]: estimate [E].
PUMP_EFFICIENCY = 0.6
#: Allowance on the pump-outlet pressure for surges when choosing a pressure class [-] [E].
SURGE_ALLOWANCE = 1.1
#: Allowance on friction for minor losses in a gravity main [-] [E].
MINOR_LOSS_ALLOWANCE = 1.1
#: Shortest segment kept in a gravity main's split [m]: shorter lengths are the solver's zeros.
SEGMENT_MIN_M = 1e-3
#: Relative weight of the gravity-main LP's tie-breaker (smaller pipes downstream) [-].
TIE_BREAK = 1e-6


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
        pressure, the group's friction energy and whole-life cost (the catalogue's currency:
        ``_lcu``, local currency units, as the study's tables name it).
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
                    "group_whole_life_cost_lcu": whole_life,
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


def _upstream_ends(wn, pipes: list[str]) -> list[str]:
    """The upstream end of each pipe of a main listed from the source to the tank."""
    out = []
    for k, name in enumerate(pipes):
        ends = _ends(wn, name)
        before = set(_ends(wn, pipes[k - 1])) if k else set()
        after = set(_ends(wn, pipes[k + 1])) if k + 1 < len(pipes) else set()
        if before & set(ends):
            out.append(next(n for n in ends if n in before))
        elif after & set(ends):
            out.append(next(n for n in ends if n not in after))
        else:  # a main of one pipe: its reservoir end, else its start
            sources = [n for n in ends if n in wn.reservoir_name_list]
            out.append(sources[0] if sources else ends[0])
    return out


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
    r"""Least-cost split of catalogue diameters for a gravity main (a linear programme).

    The lengths :math:`L_{pe}` of each catalogue entry :math:`e` on each pipe :math:`p` of
    the main minimise :math:`\sum c_e L_{pe}` subject to :math:`\sum_e L_{pe} = L_p` and
    :math:`1.1 \sum j_{pe} L_{pe} \le H`, with :math:`j_{pe}` the friction gradient at
    ``flow`` [m3/s] (the network's formula, the pipe's roughness unless the catalogue gives
    one), 1.1 the allowance for minor losses and :math:`H` [m] the source's head less the top
    of ``tank``. Only the entries whose class holds the source's static head at the main's
    lowest point and whose velocity is within ``max_velocity_m_per_s`` take part. The
    optimum of a single path uses at most two diameters, adjacent on the lower convex hull
    of (gradient, cost) (Labye's method); a pipe may then be split in two.

    Returns
    -------
    pandas.DataFrame
        One row per segment, from the source to the tank, largest diameter first within each
        pipe: ``pipe`` (the pipe it belongs to), ``length_m``, ``label``, ``row`` (catalogue
        row), ``inner_diameter_mm``, ``velocity_m_per_s``, ``friction_m`` (of the segment, at
        ``flow``), ``design_pressure_m``, ``cost`` (of the segment).

    Raises
    ------
    InputError
        When the source is below the tank's top, or even the largest allowed pipe does not
        carry ``flow`` within the head.
    """
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
    table = catalog.table
    speed = flow / (math.pi * (table["inner_diameter_mm"] / 1000) ** 2 / 4)
    allowed = table[(speed <= max_velocity_m_per_s)
                    & (table["pressure_rating_m"] >= source_head - lowest)]  # fmt: skip
    lengths = np.array([wn.get_link(p).length for p in pipes])
    grad = (
        np.array([[_losses(wn, [p], e, flow)[p] for _, e in allowed.iterrows()] for p in pipes])
        / lengths[:, None]
    )  # [m/m], pipes x entries
    least = (grad.min(axis=1) * lengths).sum() if len(allowed) else math.inf
    if MINOR_LOSS_ALLOWANCE * least > available:
        need = (
            f"the largest pipe within the class and velocity limits needs "
            f"{MINOR_LOSS_ALLOWANCE * least:.1f} m with 10% for minor losses"
            if len(allowed)
            else "no catalogue pipe is within the class and velocity limits"
        )
        raise InputError(
            f"{source}: no catalogue pipe carries {1000 * flow:.2f} l/s in the main "
            f"{', '.join(pipes)} from the source to tank {tank} with {available:.1f} m of "
            f"head ({need}): a pump is needed ([design] pump), or a larger or higher-class "
            "pipe in the catalogue"
        )
    lengths_pe = _split_lengths(allowed["cost_per_m"].to_numpy(float), grad, lengths,
                                available / MINOR_LOSS_ALLOWANCE)  # fmt: skip
    rows = []
    for p, name in enumerate(pipes):
        for e in np.argsort(-allowed["inner_diameter_mm"].to_numpy(float), kind="stable"):
            if lengths_pe[p, e] == 0.0:
                continue
            entry = allowed.iloc[e]
            rows.append({
                "pipe": name, "length_m": lengths_pe[p, e], "label": entry["label"],
                "row": allowed.index[e], "inner_diameter_mm": entry["inner_diameter_mm"],
                "velocity_m_per_s": speed[allowed.index[e]],
                "friction_m": grad[p, e] * lengths_pe[p, e],
                "design_pressure_m": source_head - lowest,
                "cost": entry["cost_per_m"] * lengths_pe[p, e],
            })  # fmt: skip
    return pd.DataFrame(rows)


def split_main(wn, pipes: list[str], table: pd.DataFrame) -> pd.DataFrame:
    """Split the pipes of a gravity main into the segments of ``table``, in place.

    ``table`` is :func:`size_gravity_main`'s. A pipe with several segments keeps its name for
    the segment at its upstream end; the others are ``<pipe>_S1``, ``<pipe>_S2``..., joined
    by new junctions ``<pipe>_N1``... without demand, their elevation and coordinates
    interpolated along the pipe (a reservoir end counts at the other end's elevation).
    Returns ``table`` with ``pipe`` naming each segment's link and ``main_pipe`` the pipe it
    came from (a table returned before, with ``main_pipe``, splits another copy the same way).
    """
    out = table.copy()
    if "main_pipe" not in out:  # else a table split before, for another copy of the model
        out["main_pipe"] = out["pipe"]
    for name, upstream in zip(pipes, _upstream_ends(wn, pipes), strict=True):
        rows = out.index[out["main_pipe"] == name]
        if len(rows) < 2:
            continue
        pipe = wn.get_link(name)
        forward = upstream == pipe.start_node_name
        a, b = (pipe.start_node, pipe.end_node) if forward else (pipe.end_node, pipe.start_node)
        z_a = b.elevation if a.node_type == "Reservoir" else a.elevation
        z_b = a.elevation if b.node_type == "Reservoir" else b.elevation
        (x_a, y_a), (x_b, y_b) = a.coordinates, b.coordinates
        done, previous = 0.0, a.name
        for k, row in enumerate(rows):
            seg, end = (name if k == 0 else f"{name}_S{k}"), b.name
            if k < len(rows) - 1:
                done += out.at[row, "length_m"]
                t, end = done / pipe.length, f"{name}_N{k + 1}"
                xy = (x_a + t * (x_b - x_a), y_a + t * (y_b - y_a))
                wn.add_junction(
                    end, base_demand=0.0, elevation=z_a + t * (z_b - z_a), coordinates=xy
                )
            ends = (previous, end) if forward else (end, previous)
            if k == 0:
                pipe.start_node, pipe.end_node = (wn.get_node(n) for n in ends)
                pipe.vertices = []
            else:
                wn.add_pipe(seg, *ends, length=out.at[row, "length_m"], diameter=pipe.diameter,
                            roughness=pipe.roughness, minor_loss=pipe.minor_loss,
                            check_valve=pipe.check_valve)  # fmt: skip
            out.at[row, "pipe"], previous = seg, end
        pipe.length = out.at[rows[0], "length_m"]
    return out


def _split_lengths(cost_per_m, grad, lengths, head: float) -> np.ndarray:
    """Lengths [m] of each entry on each pipe at least cost (HiGHS), pipes x entries.

    ``cost_per_m`` per entry, ``grad`` [m/m] pipes x entries, ``lengths`` [m] per pipe,
    ``head`` [m] the friction allowed. Lengths below
    :data:`SEGMENT_MIN_M` (the solver's zeros) are dropped and each pipe's others scaled to
    its length.
    """
    n_pipes, n_entries = grad.shape
    # a tie-breaker far below the cost's tolerance puts the smaller pipes downstream
    rank = np.arange(n_pipes, 0, -1)[:, None] * grad
    c = np.tile(cost_per_m, n_pipes) + TIE_BREAK * cost_per_m.max() * (rank / rank.max()).ravel()
    a_eq = np.kron(np.eye(n_pipes), np.ones(n_entries))
    result = linprog(c, A_ub=grad.ravel()[None, :], b_ub=[head], A_eq=a_eq, b_eq=lengths,
                     bounds=(0, None), method="highs")  # fmt: skip
    if result.status != 0:
        raise InfeasibleDesignError(f"gravity main: the linear programme failed: {result.message}")
    x = result.x.reshape(n_pipes, n_entries)
    x[x < SEGMENT_MIN_M] = 0.0
    return x * (lengths / x.sum(axis=1))[:, None]


@dataclass(kw_only=True)
class PumpAndMain:
    """The pump and rising-main pipe chosen together (:func:`choose_pump_and_main`).

    ``pump`` is the chosen pump at its operating point against the chosen main, ``duty`` the
    duty against that main, ``main`` one row per pipe below the pump (as
    :func:`size_pumped_main`), and ``candidates`` every combination looked at, with its
    capital (``pumping_lcu``: the pump, or the station from its parts; ``main_lcu``: the
    pipe; ``capital_lcu``: both), present value of energy, whole-life cost (in the
    catalogues' currency, ``_lcu``), shut-off pressure at the main's lowest point, class and
    whether the class holds it.
    """

    pump: PumpChoice
    duty: Duty
    main: pd.DataFrame
    candidates: pd.DataFrame

    def runner_up(self) -> pd.Series | None:
        """The cheapest combination whole-life after the chosen one that its class allows
        (None: no other).
        """
        c = self.candidates
        others = c[c["class_ok"] & ~c["chosen"]]
        return None if others.empty else others.loc[others["whole_life_cost_lcu"].idxmin()]

    def describe(self, currency: str = "", life: str = "") -> str:
        """Which pump, which main and class, and why, as a sentence.

        ``currency``: the code the costs are in (the study's); ``life``: the period the
        energy is discounted over, as words ("25 years at 6%").
        """
        c = self.candidates
        best = c[c["chosen"]].iloc[0]
        pipes = ", ".join(self.main["pipe"])
        unit = f" {currency}" if currency else ""
        over = f" over {life}" if life else ""
        text = (
            f"pump {best['pump']} with its rising main ({pipes}) in {best['label']}: the least "
            f"capital plus discounted energy{over} of {int(c['class_ok'].sum())} combination(s) "
            f"whose class holds the pump's shut-off, of {len(c)} looked at: "
            f"{best['whole_life_cost_lcu']:,.0f}{unit} (capital {best['capital_lcu']:,.0f}, "
            f"energy {best['energy_present_value_lcu']:,.0f}); shut-off "
            f"{best['shutoff_pressure_m']:.1f} m at the main's lowest point, class "
            f"{best['pressure_class_m']:.1f} m"
        )
        second = self.runner_up()
        if second is None:
            return text + "; no other combination holds the shut-off"
        return text + (
            f"; the runner-up, {second['pump']} with {second['label']}: "
            f"{second['whole_life_cost_lcu']:,.0f}{unit}"
        )


def _source_head(wn, pump: str) -> float:
    """Head of the reservoir that feeds ``pump`` (the nearest upstream, as
    :func:`hydro.pumps.pump_duty` takes it): the pump inlet's head at shut-off, when nothing
    flows and no friction is lost [m].
    """
    inlet = wn.get_link(pump).start_node_name
    paths = {r: shortest_path_links(wn, r, inlet) for r in wn.reservoir_name_list}
    return float(wn.get_node(min(paths, key=lambda r: len(paths[r]))).base_head)


def _pumping_capital(choice: PumpChoice, station: StationPrices | None) -> float:
    """The pump's price (none for a fitted pump), or the station from its parts at the
    pump's operating point (:func:`hydro.stations.station_cost`, the pump's own price for its
    sets when it has one).
    """
    if station is None:
        return choice.price or 0.0
    return station_cost(
        choice.flow_m3_per_s, choice.head_m, choice.efficiency, station, pump_price=choice.price
    )


def _main_options(wn, below, catalog, pump_catalog, flow, base: Duty, max_velocity: float):
    """Each catalogue entry within the velocity limit: (row, entry, duty, losses, pumps).

    The pumps are the catalogue's qualifying ones; only when no catalogue pump qualifies with
    any entry is each entry given a pump fitted through its duty point (a fitted pump has no
    price: it must not undercut a priced one).
    """
    options = []
    for k, entry in catalog.table.iterrows():
        d = entry["inner_diameter_mm"] / 1000
        if flow / (math.pi * d**2 / 4) > max_velocity:
            continue
        losses = _losses(wn, below, entry, flow)
        duty = replace(base, friction_m=(1 + MINOR_LOSS_SHARE) * sum(losses.values()))
        duty.head_m = duty.system_head(duty.flow_m3_per_s)
        options.append((k, entry, duty, losses, qualifying_pumps(pump_catalog, duty)))
    if not any(pumps for *_, pumps in options):
        options = [(k, e, duty, losses, [fitted_pump(duty)]) for k, e, duty, losses, _ in options]
    return options


def choose_pump_and_main(
    wn,
    catalog: Catalog,
    pump_catalog: pd.DataFrame | None,
    flow: float,
    *,
    tank: str,
    pump: str,
    hours_per_day: float,
    energy_price_per_kwh: float,
    annuity_factor: float,
    max_velocity_m_per_s: float = 2.0,
    station: StationPrices | None = None,
    source: str = "study",
) -> PumpAndMain:
    """Pump and rising main at least capital plus discounted energy, the shut-off in class.

    Every pipe-catalogue entry for the main below the pump (within ``max_velocity_m_per_s``)
    with every catalogue pump that qualifies against it (:func:`hydro.pumps.qualifying_pumps`;
    pumps fitted through the duty point when no catalogue pump qualifies with any entry, at
    no price): capital = the pump's price (or, with ``station``, the station from its parts
    at the pump's operating point, :func:`hydro.stations.station_cost`) + the pipe's price x
    the main's length; energy = rho g H / efficiency per m3 at the pump's operating point
    (full tank), times the peak-day volume ``flow`` x ``hours_per_day`` every day of the
    year, at ``energy_price_per_kwh``, times ``annuity_factor`` (its present value over the
    life). A combination counts only when the class of the pipe holds the pump's shut-off
    head (:func:`hydro.pumps.shutoff_head`, 133% of the duty head for a fitted pump) on top
    of the source's static head (at shut-off nothing flows: no friction on the suction side)
    at the main's lowest point.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network with the pump and the tank (not modified); pipes above the pump as sized.
    catalog : Catalog
        Pipe catalogue (with pressure classes).
    pump_catalog : pandas.DataFrame or None
        :func:`hydro.pumps.read_pump_catalog`'s table.
    flow : float
        Duty flow [m3/s].
    tank, pump : str
        The tank the main fills and the pump that drives it.
    hours_per_day : float
        Hours of pumping a day at the duty flow [h].
    energy_price_per_kwh : float
        Energy price [currency/kWh].
    annuity_factor : float
        Present value of one currency unit a year over the life (1 / capital recovery factor).
    max_velocity_m_per_s : float
        Highest velocity in the main at the duty flow [m/s].
    station : StationPrices, optional
        The prices of a station's parts: the pumping capital is the station's, not the pump's.
    source : str
        The study file, for messages.

    Returns
    -------
    PumpAndMain

    Raises
    ------
    InputError
        No combination keeps the shut-off within a class of the catalogue.
    """
    below = [
        p
        for p in shortest_path_links(wn, wn.get_link(pump).end_node_name, tank)
        if wn.get_link(p).link_type == "Pipe"
    ]
    base = pump_duty(wn, pump, tank, flow * hours_per_day * SECONDS_PER_HOUR, hours_per_day)
    static = _source_head(wn, pump)
    lowest = min(_elevation(wn.get_node(n)) for p in below for n in _ends(wn, p))
    length = sum(wn.get_link(p).length for p in below)
    m3_per_year = flow * hours_per_day * SECONDS_PER_HOUR * DAYS_PER_YEAR
    options = _main_options(wn, below, catalog, pump_catalog, flow, base, max_velocity_m_per_s)
    rows, best = [], None
    for k, entry, duty, losses, pumps in options:
        class_m = entry["pressure_rating_m"]
        for choice in pumps:
            shutoff = static + shutoff_head(choice.curve) - lowest
            kwh_year = RHO_G * choice.head_m / choice.efficiency * m3_per_year / J_PER_KWH
            pumping = _pumping_capital(choice, station)
            capital = pumping + entry["cost_per_m"] * length
            energy_pv = kwh_year * energy_price_per_kwh * annuity_factor
            ok = not shutoff > class_m  # a catalogue without classes: no check
            rows.append(
                {"pump": choice.name, "label": entry["label"], "pumping_lcu": pumping,
                 "main_lcu": capital - pumping, "capital_lcu": capital,
                 "energy_kwh_per_year": kwh_year, "energy_present_value_lcu": energy_pv,
                 "whole_life_cost_lcu": capital + energy_pv, "shutoff_pressure_m": shutoff,
                 "pressure_class_m": class_m, "class_ok": ok, "chosen": False}
            )  # fmt: skip
            if ok and (best is None or capital + energy_pv < best[0]):
                best = (capital + energy_pv, len(rows) - 1, k, choice, duty, losses)
    candidates = pd.DataFrame(rows)
    if best is None:
        worst = candidates["shutoff_pressure_m"].min() if rows else float("nan")
        raise InputError(
            f"{source}: rising main {', '.join(below)}: no class of the catalogue holds the "
            f"pump's shut-off (at least {worst:.1f} m at the main's lowest point, elevation "
            f"{lowest:.1f} m): add a higher class (PN25, ductile iron) or a break tank"
        )
    _, row, k, choice, duty, losses = best
    candidates.loc[row, "chosen"] = True
    main = pd.DataFrame(
        [
            {"pipe": name, "label": catalog.table.at[k, "label"], "row": k,
             "inner_diameter_mm": catalog.table.at[k, "inner_diameter_mm"],
             "velocity_m_per_s": flow / (math.pi * (catalog.table.at[k, "inner_diameter_mm"]
                                                    / 1000) ** 2 / 4),
             "friction_m": losses[name],
             "design_pressure_m": candidates.at[row, "shutoff_pressure_m"]}
            for name in below
        ]
    )  # fmt: skip
    return PumpAndMain(pump=choice, duty=duty, main=main, candidates=candidates)
