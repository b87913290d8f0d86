"""Fast in-memory evaluation of pipe designs with the EPANET 2.3 toolkit.

The design condition is written once (in LPS, so the toolkit speaks mm and m) and opened once;
each candidate sets only the diameters (and roughness) that changed since the last one, solves
the steady state, and reads every pressure with one bulk call (``EN_getnodevalues``). Results
are memoised in a bounded LRU table. Each evaluator owns its project handle: use one per
process or thread.
"""

from __future__ import annotations

import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hydro import _toolkit as tk
from hydro.network import write_network
from hydro.sizing.break_tanks import break_tank_outlets
from hydro.sizing.problem import Problem
from hydro.units import LITRES_PER_M3, SECONDS_PER_DAY, SECONDS_PER_HOUR

METRIC_FLOW_UNITS = ("LPS", "LPM", "MLD", "CMH", "CMD")
#: m3/s per unit of each metric flow unit of the toolkit
M3_PER_S = {
    "LPS": 1 / LITRES_PER_M3,
    "LPM": 1 / LITRES_PER_M3 / 60,
    "MLD": 1000 / SECONDS_PER_DAY,  # a megalitre is 1000 m3
    "CMH": 1 / SECONDS_PER_HOUR,
    "CMD": 1 / SECONDS_PER_DAY,
}


def engine_for(problem: Problem) -> str:
    """EPANET version whose hydraulics equal WNTR's EpanetSimulator (2.2) on this model.

    The 2.3 toolkit (bulk getters, fastest) gives the same results except for constant-power
    pumps, which 2.2 and 2.3 compute differently; such models use the 2.2 library.
    """
    power_pumps = [p for p, pump in problem.snapshot.pumps() if pump.pump_type == "POWER"]
    return "2.2" if power_pumps else "2.3"


@dataclass(frozen=True)
class Evaluation:
    """Hydraulics of one candidate at the design condition.

    deficit_m : sum over junctions of the pressure shortfall below the target [m] (plus the
    excess over the cap, and velocity excess x 10, when those targets are set); 0 = feasible.
    min_pressure_m : lowest junction pressure [m].
    """

    deficit_m: float
    min_pressure_m: float

    @property
    def feasible(self) -> bool:
        """True when every pressure target is met."""
        return self.deficit_m <= 0.0


class Evaluator:
    """Evaluate designs (arrays of catalogue rows, one per decision pipe) in memory."""

    def __init__(
        self,
        problem: Problem,
        memo_size: int = 200_000,
        margin_m: float = 1e-3,
        engine: str | None = None,
    ):
        self.problem = problem
        self.memo: OrderedDict[bytes, Evaluation] = OrderedDict()
        self.memo_size = memo_size
        self.evaluations = 0  # hydraulic solves (memo hits excluded)
        self._tmp = tempfile.TemporaryDirectory(prefix="hydro-eval-")
        # Metric flow units keep m and mm in the toolkit; keep the model's own when metric, so
        # the file matches what EpanetSimulator writes (US units are rewritten in LPS).
        units = problem.snapshot.options.hydraulic.inpfile_units
        units = units if units in METRIC_FLOW_UNITS else "LPS"
        path = write_network(problem.snapshot, Path(self._tmp.name) / "design.inp", units=units)
        self._m3_per_s = M3_PER_S[units]
        self.engine = engine or engine_for(problem)
        self.project = tk.Project(path, version=self.engine)
        self.project.lib.EN_setstatusreport(self.project.handle, 0)
        ids = self.project.link_ids()
        self.link_index = np.array([ids.index(p) + 1 for p in problem.pipes], dtype=np.intc)
        node_ids = self.project.node_ids()
        types = self.project.node_types()
        self.junctions = np.array([k for k, t in enumerate(types) if t == tk.EN_JUNCTION])
        self.junction_names = [node_ids[k] for k in self.junctions]
        self.diameter_mm = problem.catalog.table["inner_diameter_mm"].to_numpy(dtype=float)
        # the toolkit reads the file's metric units: Darcy-Weisbach roughness in mm
        to_file = 1000.0 if problem.headloss_formula == "D-W" else 1.0
        self.roughness = problem.roughness * to_file
        # Roughness needs setting only when the catalogue gives one different from the pipe's.
        self._own_roughness = bool(np.all(problem.roughness == problem.roughness[:, :1]))
        self._current = [-1] * len(problem.pipes)
        c_int, c_double = tk.ctypes.c_int, tk.ctypes.c_double
        self._c_link = [c_int(int(k)) for k in self.link_index]
        self._c_diameter = [c_double(float(d)) for d in self.diameter_mm]
        self._c_roughness = (
            None
            if self._own_roughness
            else [[c_double(float(r)) for r in row] for row in self.roughness]
        )
        self._c_prop_diameter = c_int(tk.EN_DIAMETER)
        self._c_prop_roughness = c_int(tk.EN_ROUGHNESS)
        self._pressure = np.empty(self.project.count(tk.EN_NODECOUNT))
        self._velocity = np.empty(self.project.count(tk.EN_LINKCOUNT))
        targets = problem.targets
        self.p_min = (
            np.array([targets.min_at(n) for n in self.junction_names]) + margin_m
            if targets.node_min_pressure_m
            else targets.min_pressure_m + margin_m
        )
        outlets = break_tank_outlets(problem.wn)  # below a device: not consumers
        if outlets:
            self.p_min = np.array(
                [-np.inf if n in outlets else p for n, p in
                 zip(self.junction_names, np.broadcast_to(self.p_min, len(self.junction_names)),
                     strict=True)]
            )  # fmt: skip
        self.p_max = targets.max_pressure_m
        self.v_max = targets.max_velocity_m_per_s
        #: over every design evaluated: each junction's highest pressure [m] and each decision
        #: pipe's lowest velocity [m/s] (velocity only with a velocity limit); they name the
        #: constraint that no design met when the search finds nothing feasible
        self.best_pressure_m = np.full(len(self.junctions), -np.inf)
        self.lowest_velocity_m_per_s = np.full(len(problem.pipes), np.inf)
        self.project.open_hydraulics()
        # A private copy of the setter without argument checks: every argument below is
        # already a ctypes object of the right type.
        self._set = self.project.lib["EN_setlinkvalue"]
        self._init = self.project.lib.EN_initH
        self._run = self.project.lib.EN_runH
        self._handle = self.project.handle
        self._t = tk.ctypes.c_long()
        self._t_ref = tk.ctypes.byref(self._t)
        self._get_nodes = None
        if self.project.bulk:  # a private copy of the bulk getter taking a raw address
            self._get_nodes = self.project.lib["EN_getnodevalues"]
            self._get_nodes.argtypes = [tk.ctypes.c_void_p, tk.ctypes.c_int, tk.ctypes.c_void_p]
            self._pressure_address = self._pressure.ctypes.data

    def close(self) -> None:
        """Release the EPANET project."""
        self.project.close()
        self._tmp.cleanup()

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def set_design(self, choice: np.ndarray) -> None:
        """Set the diameters (and roughness) of the pipes whose choice changed.

        The ctypes arguments are built once (one ``c_double`` per catalogue row, one ``c_int``
        per pipe): converting Python numbers on every call costs more than EPANET's own work.
        """
        h, setter, diameter = self._handle, self._set, self._c_diameter
        current = self._current
        for i, k in enumerate(choice.tolist()):
            if current[i] != k:
                link = self._c_link[i]
                setter(h, link, self._c_prop_diameter, diameter[k])
                if self._c_roughness is not None:
                    setter(h, link, self._c_prop_roughness, self._c_roughness[i][k])
                current[i] = k

    def solve(self) -> int:
        """Solve the design condition for the current design; EPANET's warning code."""
        self._init(self._handle, 10)  # re-initialise flows: results independent of history
        return self._run(self._handle, self._t_ref)

    def pressures(self) -> np.ndarray:
        """Junction pressures [m] of the last solve (order of ``junction_names``)."""
        if self._get_nodes is not None:  # one bulk call, no error check: the solve succeeded
            self._get_nodes(self._handle, tk.EN_PRESSURE, self._pressure_address)
            return self._pressure[self.junctions]
        return self.project.node_values(tk.EN_PRESSURE, self._pressure)[self.junctions]

    def velocities(self) -> np.ndarray:
        """Velocities [m/s] of the decision pipes in the last solve."""
        return self.project.link_values(tk.EN_VELOCITY, self._velocity)[self.link_index - 1]

    def flows(self) -> np.ndarray:
        """Flows [m3/s] of every link in the last solve (toolkit order; sign: start to end)."""
        return self.project.link_values(tk.EN_FLOW) * self._m3_per_s

    def heads(self) -> np.ndarray:
        """Heads [m] of every node in the last solve (toolkit order)."""
        return self.project.node_values(tk.EN_HEAD).copy()

    def evaluate(self, choice: np.ndarray) -> Evaluation:
        """Deficit and lowest pressure of a design (memoised)."""
        key = choice.astype(np.int16).tobytes()
        hit = self.memo.get(key)
        if hit is not None:
            self.memo.move_to_end(key)
            return hit
        self.set_design(choice)
        code = self.solve()
        self.evaluations += 1
        p = self.pressures()
        np.maximum(self.best_pressure_m, p, out=self.best_pressure_m)
        deficit = float(np.maximum(self.p_min - p, 0.0).sum())
        if self.p_max is not None:
            deficit += float(np.maximum(p - self.p_max, 0.0).sum())
        if self.v_max is not None:
            v = self.velocities()
            np.minimum(self.lowest_velocity_m_per_s, v, out=self.lowest_velocity_m_per_s)
            deficit += 10.0 * float(np.maximum(v - self.v_max, 0.0).sum())
        if code > 100 or not np.isfinite(deficit):
            deficit = 1e9
        result = Evaluation(deficit, float(p.min()))
        self.memo[key] = result
        if len(self.memo) > self.memo_size:
            self.memo.popitem(last=False)
        return result
