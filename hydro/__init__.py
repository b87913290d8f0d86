"""hydro: size and simulate rural drinking-water supply networks.

Layers, from the bottom up:

- pure engineering functions (head loss, demand projection, costs);
- adapters around WNTR/EPANET that never modify the model they are given;
- orchestration (sizing, checks, the design study) that the ``hydro`` command line calls.

Everything inside is SI, as in WNTR (m, s, m3/s, m of head); any other unit is in the name.
"""

from hydro.errors import HydroError, InfeasibleDesignError, InputError, SimulationError

__version__ = "0.1.0"

__all__ = [
    "HydroError",
    "InfeasibleDesignError",
    "InputError",
    "SimulationError",
    "__version__",
]
