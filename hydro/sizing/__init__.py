"""Least-cost pipe sizing from a commercial catalogue.

- :mod:`hydro.sizing.condition`: the cases of the design condition (:mod:`hydro.condition`,
  shared with ``hydro check`` and ``hydro taps``) in the sizing programs;
- :mod:`hydro.sizing.problem`: the sizing problem (targets, catalogue options per pipe, tree
  components cut at sources and pressure-reducing valves);
- :mod:`hydro.sizing.tree`: exact sizing of branched networks (a 0-1 program solved by HiGHS,
  and the split-pipe LP bound), with :mod:`hydro.sizing.break_tanks`: break-pressure tanks
  and pressure-reducing valves placed by that program and written as ``BPT_<node>`` and
  ``PRV_<node>`` pressure-reducing valves; :mod:`hydro.sizing.sites`: the same devices at
  given sites of a looped network (a heuristic);
- :mod:`hydro.sizing.evaluator` and :mod:`hydro.sizing.looped`: the in-memory EPANET evaluator
  and the optimiser for looped networks, with its start from hydraulic knowledge in
  :mod:`hydro.sizing.start` (unit-headloss design; Alperovits & Shamir's fixed-flow LP);
- :mod:`hydro.sizing.random_networks`: random looped networks (grids, rural meshes) for tests
  and benchmarks;
- :mod:`hydro.sizing.size`: :func:`size_network`, which chooses the method, writes the design
  and checks the written file by an independent EPANET run.
"""

from hydro.sizing.problem import Targets
from hydro.sizing.size import (
    SizingResult,
    Verification,
    apply_design,
    size_network,
    verify_design,
)

__all__ = [
    "SizingResult",
    "Targets",
    "Verification",
    "apply_design",
    "size_network",
    "verify_design",
]
