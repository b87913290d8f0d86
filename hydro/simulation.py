"""Simulation adapter: full EPANET runs through WNTR's EpanetSimulator.

A run never modifies the model (a run that changes an option works on a copy; any other
writes the model as it is), and happens in its own temporary directory that is removed
afterwards, so parallel runs never collide and thousands of runs leave no files or handles
behind. Results come back in SI with the unit in each name.
"""

from __future__ import annotations

import logging
import re
import tempfile
import warnings as warnings_module
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import wntr

from hydro import _toolkit as tk
from hydro import validate
from hydro._toolkit import epanet_scratch
from hydro.errors import SimulationError
from hydro.network import copy_network
from hydro.outputs import write_csv
from hydro.units import SECONDS_PER_HOUR

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class SimulationResults:
    """Time series of one EPANET run; index = time [s], columns = element names.

    Attributes
    ----------
    pressure, head : DataFrame
        Node pressure and hydraulic head [m].
    demand : DataFrame
        Node demand [m3/s]; negative at reservoirs and emptying tanks (supply).
    flow, velocity, headloss : DataFrame
        Link flow [m3/s], velocity [m/s] and head loss [m] (per link, not per km).
    junctions, tanks, reservoirs, pipes : list of str
        Element names by kind.
    elevation : Series
        Node elevation [m] (tank bottom for tanks).
    """

    pressure: pd.DataFrame
    head: pd.DataFrame
    demand: pd.DataFrame
    flow: pd.DataFrame
    velocity: pd.DataFrame
    headloss: pd.DataFrame
    junctions: list[str]
    tanks: list[str]
    reservoirs: list[str]
    pipes: list[str]
    elevation: pd.Series
    pressure_driven: bool = False
    #: EPANET's warnings: time_h, element (empty when the warning names none), message
    warnings: pd.DataFrame = field(default_factory=lambda: _warning_table([]))

    @property
    def converged(self) -> bool:
        """False when EPANET reports unbalanced hydraulics at some step."""
        unsolved = self.warnings["message"].str.contains(
            "unbalanced|could not be solved", case=False
        )
        return not unsolved.any()

    @property
    def negative_pressures(self) -> bool:
        """True when EPANET reports negative pressures at some step."""
        return bool(self.warnings["message"].str.contains("negative pressures", case=False).any())

    def non_finite(self) -> pd.DataFrame:
        """Every element with a result that is not a number (NaN or infinite), once per quantity.

        A comparison with NaN is false, so a check written as "is the pressure below its
        minimum?" passes a NaN pressure: the checks take these rows as violations instead.

        Returns
        -------
        DataFrame
            element, kind (junction, tank, reservoir, link), quantity (pressure_m, head_m,
            flow_m3_per_s, velocity_m_per_s), time_h (the first time step it is not finite),
            steps (how many time steps).
        """
        kinds = {n: "junction" for n in self.junctions}
        kinds.update({n: "tank" for n in self.tanks})
        kinds.update({n: "reservoir" for n in self.reservoirs})
        rows = []
        for quantity, frame, node in (
            ("pressure_m", self.pressure, True),
            ("head_m", self.head, True),
            ("flow_m3_per_s", self.flow, False),
            ("velocity_m_per_s", self.velocity, False),
        ):
            values = frame.to_numpy(dtype=float)
            bad = ~np.isfinite(values)
            for j in np.flatnonzero(bad.any(axis=0)):
                element = str(frame.columns[j])
                first = int(np.argmax(bad[:, j]))
                rows.append(
                    (
                        element,
                        kinds.get(element, "junction") if node else "link",
                        quantity,
                        float(frame.index[first]) / SECONDS_PER_HOUR,
                        int(bad[:, j].sum()),
                    )
                )
        return pd.DataFrame(rows, columns=["element", "kind", "quantity", "time_h", "steps"])

    @property
    def tank_level(self) -> pd.DataFrame:
        """Water level above each tank's bottom [m]."""
        return self.head[self.tanks] - self.elevation[self.tanks]


def run_simulation(
    wn: wntr.network.WaterNetworkModel,
    duration_h: float | None = None,
    pressure_driven: bool = False,
    required_pressure_m: float | None = None,
    minimum_pressure_m: float = 0.0,
) -> SimulationResults:
    """Run an extended-period (or steady-state) EPANET simulation of ``wn``.

    ``wn`` is written to a private ``.inp`` file as it is; a copy is made only when an option
    changes (``duration_h``, ``pressure_driven``): copying a model of 10,000 pipes takes
    about a second.

    Parameters
    ----------
    wn : WaterNetworkModel
        The model; never modified.
    duration_h : float, optional
        Simulated duration [h]; default: the model's own (0 gives a steady state).
    pressure_driven : bool
        Use EPANET 2.2's pressure-driven demand (PDA) instead of demand-driven analysis.
    required_pressure_m, minimum_pressure_m : float
        PDA pressures [m]: full demand at or above the required pressure, none below the minimum.

    Returns
    -------
    SimulationResults
        Pressures [m], flows [m3/s], velocities [m/s], tank levels [m] and demands [m3/s] by
        time [s].

    Raises
    ------
    SimulationError
        EPANET could not solve the network.

    Examples
    --------
    >>> from hydro.network import read_network
    >>> results = run_simulation(read_network("networks/oujda_rural.inp"), duration_h=24)
    >>> float(results.pressure.index[-1]) / 3600
    24.0
    """
    changed = duration_h is not None or pressure_driven
    model = copy_network(wn) if changed else validate.model(wn, "the network (wn)")
    if duration_h is not None:
        check_duration(duration_h)
        model.options.time.duration = int(round(duration_h * SECONDS_PER_HOUR))
    else:
        check_duration(model.options.time.duration / SECONDS_PER_HOUR, "the model's duration")
    if pressure_driven:
        model.options.hydraulic.demand_model = "PDA"
        if required_pressure_m is not None:
            model.options.hydraulic.required_pressure = required_pressure_m
        model.options.hydraulic.minimum_pressure = minimum_pressure_m
    with tempfile.TemporaryDirectory(prefix="hydro-sim-") as tmp, epanet_scratch():
        raw = _run_epanet(model, Path(tmp).resolve() / "run")
        warnings = read_warnings(Path(tmp) / "run.rpt")
    node, link = raw.node, raw.link
    elevation = pd.Series(
        {name: getattr(n, "elevation", np.nan) for name, n in model.nodes()}, dtype=float
    )
    for name, reservoir in model.reservoirs():
        elevation[name] = reservoir.base_head
    return SimulationResults(
        pressure=_pressure_m(node["pressure"], node["head"], elevation, model),
        head=node["head"],
        demand=node["demand"],
        flow=link["flowrate"],
        velocity=link["velocity"].abs(),
        headloss=_link_headloss(model, node["head"]),
        junctions=list(model.junction_name_list),
        tanks=list(model.tank_name_list),
        reservoirs=list(model.reservoir_name_list),
        pipes=list(model.pipe_name_list),
        elevation=elevation,
        pressure_driven=pressure_driven,
        warnings=warnings,
    )


def _run_epanet(model: wntr.network.WaterNetworkModel, prefix: Path):
    """WNTR's EpanetSimulator on ``model``, its Python warnings logged, not printed.

    When EPANET stops short (a step that does not converge, as a pressure-driven run of a
    network far below its required pressure may), its binary output is cut and WNTR fails
    reading it; the error then says where EPANET stopped.

    Raises
    ------
    SimulationError
        EPANET could not run the network, or stopped at a step that did not converge.
    """
    with warnings_module.catch_warnings(record=True) as caught:
        warnings_module.simplefilter("always")
        try:
            raw = wntr.sim.EpanetSimulator(model).run_sim(file_prefix=str(prefix))
        except Exception as exc:
            stopped = [str(w.message) for w in caught if "did not converge" in str(w.message)]
            if stopped:
                analysis = model.options.hydraulic.demand_model
                raise SimulationError(
                    f"EPANET could not run the network: {stopped[0].rstrip('.')} and stopped "
                    f"there ({analysis} analysis"
                    + (
                        f", required pressure {model.options.hydraulic.required_pressure:g} m"
                        if analysis in ("PDA", "PDD")
                        else ""
                    )
                    + "); no results"
                ) from exc
            raise SimulationError(f"EPANET could not run the network: {exc}") from exc
    for w in caught:
        log.warning("EPANET (through WNTR): %s", w.message)
    return raw


def _pressure_m(pressure, head, elevation, model) -> pd.DataFrame:
    """Pressure [m] at every node: head less elevation at junctions and tanks.

    EPANET reports pressure in the units the file's ``PRESSURE`` option states (kPa, psi or
    m) and WNTR's binary reader does not convert it, while heads are in metres for SI flow
    units (and converted from feet otherwise). Head less elevation is metres whatever the
    file says; reservoirs keep EPANET's pressure, which is zero in any unit.
    """
    nodes = [*model.junction_name_list, *model.tank_name_list]
    out = pressure.copy()
    out[nodes] = (head[nodes] - elevation[nodes]).astype(pressure[nodes].dtypes.iloc[0])
    return out


def static_pressure(wn: wntr.network.WaterNetworkModel) -> pd.Series:
    """Pressure at every node with every demand at zero [m]: the static pressure of the classes.

    ``wn`` (never modified) is written to a private ``.inp`` file in LPS (pressures in m) and
    EPANET 2.2, the engine of WNTR's EpanetSimulator, solves its first step in memory with
    the demand multiplier at zero (every demand, with its pattern, times zero); tanks at
    their initial levels, the controls as at time 0; the pressure is each node's head less
    its elevation [m], whatever pressure units the model states. No copy of the model is
    made (a demand-free copy of a model of 10,000 pipes takes about a second to build).

    Returns
    -------
    Series
        Pressure [m] by node name (junctions, reservoirs at 0, tanks at their level).

    Raises
    ------
    SimulationError
        EPANET could not open or solve the network.

    Examples
    --------
    >>> from hydro.network import read_network
    >>> static = static_pressure(read_network("networks/oujda_rural.inp"))
    >>> bool((static >= -1e-6).all())
    True
    """
    validate.model(wn, "the network (wn)")
    with tempfile.TemporaryDirectory(prefix="hydro-static-") as tmp:
        path = Path(tmp).resolve() / "static.inp"
        try:
            wntr.network.write_inpfile(wn, str(path), units="LPS", version=2.2)
        except Exception as exc:
            raise SimulationError(f"EPANET could not run the network: {exc}") from exc
        with tk.Project(path, version="2.2") as project:
            project.set_option(tk.EN_DEMANDMULT, 0.0)
            project.set_time_parameter(tk.EN_DURATION, 0)
            project.solve_snapshot()  # a warning (unbalanced...) is not an error here
            # head less elevation, in m whatever PRESSURE units the file states (a file in
            # LPS has heads and elevations in m; EPANET's pressure would follow its option)
            static = project.node_values(tk.EN_HEAD) - project.node_values(tk.EN_ELEVATION)
            return pd.Series(static, index=project.node_ids())


def check_duration(duration_h: float, what: str = "duration") -> float:
    """Refuse a simulated duration that is not finite, negative or above the cap [h].

    The check of ``--duration`` too (:data:`hydro.validate.DURATION_H`).
    """
    return validate.number(duration_h, what, validate.DURATION_H)


_WARNING = re.compile(r"WARNING:\s*(.*?)\s+at\s+(\d+):(\d\d):(\d\d)\s*hrs", re.IGNORECASE)
_ELEMENT = re.compile(r"^(?:Pump|Valve|FCV|PRV|PSV|PBV|TCV|GPV|PCV|Node|Link|Tank)\s+(\S+)\s")
#: Warnings kept from one run (a pathological run can report one every step).
MAX_WARNINGS = 10_000


def _warning_table(rows: list) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["time_h", "element", "message"]).astype(
        {"time_h": float, "element": str, "message": str}
    )


def read_warnings(report: Path) -> pd.DataFrame:
    """EPANET's warnings from its report file: time [h], element, message."""
    rows = []
    if report.exists():
        with open(report, errors="replace") as lines:
            for line in lines:
                m = _WARNING.search(line)
                if not m:
                    continue
                message = m.group(1).strip()
                element = _ELEMENT.match(message + " ")
                time_h = int(m.group(2)) + int(m.group(3)) / 60 + int(m.group(4)) / 3600
                rows.append((time_h, element.group(1) if element else "", message))
                if len(rows) >= MAX_WARNINGS:
                    break
    return _warning_table(rows)


def _link_headloss(model: wntr.network.WaterNetworkModel, head: pd.DataFrame) -> pd.DataFrame:
    """Head at the start node minus head at the end node of every link [m]."""
    names = list(model.link_name_list)
    start = [model.get_link(n).start_node_name for n in names]
    end = [model.get_link(n).end_node_name for n in names]
    values = head[start].to_numpy() - head[end].to_numpy()
    return pd.DataFrame(values, index=head.index, columns=names)


def _extreme(frame: pd.DataFrame, how: str) -> tuple[float, str, float]:
    """(value, element, time [h]) of the min or max of a time x element table."""
    values = frame.to_numpy()
    flat = np.nanargmin(values) if how == "min" else np.nanargmax(values)
    i, j = np.unravel_index(flat, values.shape)
    return float(values[i, j]), str(frame.columns[j]), float(frame.index[i]) / SECONDS_PER_HOUR


def summarize(results: SimulationResults) -> dict:
    """Headline figures of a run: pressure extremes, velocity, tank levels, demand and supply.

    Volumes are integrated over the reporting steps (rectangle rule on the step starts).
    """
    out: dict = {}
    junction_pressure = results.pressure[results.junctions]
    if results.junctions:
        out["min_pressure_m"], out["min_pressure_node"], out["min_pressure_time_h"] = _extreme(
            junction_pressure, "min"
        )
        out["max_pressure_m"], out["max_pressure_node"], out["max_pressure_time_h"] = _extreme(
            junction_pressure, "max"
        )
    if results.pipes:
        out["max_velocity_m_per_s"], out["max_velocity_pipe"], out["max_velocity_time_h"] = (
            _extreme(results.velocity[results.pipes], "max")
        )
    levels = results.tank_level
    out["tank_levels_m"] = {
        t: (float(levels[t].min()), float(levels[t].max())) for t in results.tanks
    }
    times = results.demand.index.to_numpy(dtype=float)
    steps = np.diff(times) if len(times) > 1 else np.array([SECONDS_PER_HOUR])
    weights = np.append(steps, steps[-1]) if len(times) > 1 else steps
    demand = results.demand[results.junctions].clip(lower=0).sum(axis=1).to_numpy()
    supply = -results.demand[results.reservoirs].sum(axis=1).to_numpy()
    out["peak_demand_l_per_s"] = float(demand.max() * 1000) if len(demand) else 0.0
    out["total_demand_m3"] = float((demand * weights).sum())
    out["total_reservoir_supply_m3"] = float((supply * weights).sum())
    out["duration_h"] = float(times[-1] / SECONDS_PER_HOUR) if len(times) else 0.0
    return out


def write_results(results: SimulationResults, folder: str | Path) -> list[Path]:
    """Write per-node and per-link tables (long format, SI units in the headers) as CSV."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    def long(frames: dict[str, pd.DataFrame], key: str) -> pd.DataFrame:
        parts = []
        for column, frame in frames.items():
            s = frame.stack()
            s.name = column
            parts.append(s)
        table = pd.concat(parts, axis=1).reset_index()
        table.columns = ["time_s", key, *frames]
        table.insert(1, "time_h", table["time_s"] / SECONDS_PER_HOUR)
        return table

    nodes = long(
        {
            "pressure_m": results.pressure,
            "head_m": results.head,
            "demand_l_per_s": results.demand * 1000,
        },
        "node",
    )
    links = long(
        {
            "flow_l_per_s": results.flow * 1000,
            "velocity_m_per_s": results.velocity,
            "headloss_m": results.headloss,
        },
        "link",
    )
    paths = [folder / "nodes.csv", folder / "links.csv"]
    write_csv(nodes, paths[0], index=False, float_format="%.6g")
    write_csv(links, paths[1], index=False, float_format="%.6g")
    return paths
