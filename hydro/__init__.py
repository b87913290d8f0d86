"""hydro: size and simulate rural drinking-water supply networks.

Layers, from the bottom up:

- pure engineering functions (:mod:`hydro.hydraulics`, :mod:`hydro.units`, demand projection);
- adapters around WNTR/EPANET that never modify the model they are given (:mod:`hydro.network`,
  :mod:`hydro.simulation`, :mod:`hydro.compliance`, :mod:`hydro.storage`, :mod:`hydro.pumps`);
- sizing (:mod:`hydro.sizing`) and the design study (:mod:`hydro.study`), which the ``hydro``
  command line (:mod:`hydro.cli`) calls.

Everything inside is SI, as in WNTR (m, s, m3/s, m of head); any other unit is in the name.

The engineer's verbs are here, imported on first use (so ``import hydro`` is fast):

>>> import hydro
>>> wn = hydro.read_network("networks/oujda_rural.inp")
>>> sorted(wn.tank_name_list)
['T_ANGAD']
"""

from __future__ import annotations

import importlib

from hydro.errors import HydroError, InfeasibleDesignError, InputError, SimulationError

__version__ = "0.1.0"

#: Public name -> module that defines it.
_API = {
    "read_network": "hydro.network",
    "write_network": "hydro.network",
    "validate_network": "hydro.network",
    "read_catalog": "hydro.catalog",
    "read_villages": "hydro.demand",
    "get_scenario": "hydro.demand",
    "project_demand": "hydro.demand",
    "apply_demand": "hydro.demand",
    "Targets": "hydro.sizing",
    "size_network": "hydro.sizing",
    "run_simulation": "hydro.simulation",
    "Rules": "hydro.compliance",
    "check_compliance": "hydro.compliance",
    "check_network": "hydro.compliance",
    "design_storage": "hydro.storage",
    "delivered_service": "hydro.service",
    "random_taps": "hydro.taps",
    "make_executor": "hydro.parallel",
    "load_study": "hydro.study",
    "run_study": "hydro.study",
    "write_outputs": "hydro.study",
}

__all__ = [
    "HydroError",
    "InfeasibleDesignError",
    "InputError",
    "SimulationError",
    "__version__",
    *_API,
]


def __getattr__(name: str):
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hydro' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
