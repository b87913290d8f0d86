"""Physical losses as pressure-dependent leakage (EPANET emitters).

A share of the water put into a network never reaches a meter: physical losses (leaks and
bursts, which grow with pressure) and commercial losses (unbilled and illegal use, meter
errors, which do not). Modelling the physical part as EPANET emitters, q = C p^N at every
junction, lets pressure management and continuity of supply change the losses, as they do.

:func:`add_leakage` spreads a given volume of leakage at a reference condition over the
junctions in proportion to the pipe length each one stands for (half of every pipe that
meets it), at the pressures of that condition. The exponent N (FAVAD's N1) is 0.5 for
rigid pipes with fixed-area holes and up to about 1.5 for plastic pipes whose cracks open
with pressure; 1.15 is the usual value for mixed-material systems (Thornton & Lambert 2005,
the FAVAD concept; docs/sources.md, section 8 [E]).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import wntr

from hydro.errors import InputError
from hydro.network import copy_network

#: FAVAD leakage exponent N1 for mixed-material systems [E] (module docstring).
LEAKAGE_EXPONENT = 1.15
#: Pressure below which a junction is taken to leak nothing at the reference [m].
MIN_LEAK_PRESSURE_M = 1.0


def junction_pipe_length_m(wn: wntr.network.WaterNetworkModel) -> pd.Series:
    """Half the length of every pipe meeting each junction [m] (what the junction stands for)."""
    length = pd.Series(0.0, index=wn.junction_name_list)
    for _, pipe in wn.pipes():
        for end in (pipe.start_node_name, pipe.end_node_name):
            if end in length.index:
                length[end] += pipe.length / 2.0
    return length


def add_leakage(
    wn: wntr.network.WaterNetworkModel,
    leak_m3_per_day: float,
    pressure_m: pd.Series,
    exponent: float = LEAKAGE_EXPONENT,
) -> wntr.network.WaterNetworkModel:
    """A copy of ``wn`` whose junctions leak ``leak_m3_per_day`` at the pressures given.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (never modified).
    leak_m3_per_day : float
        Leakage at the reference condition [m3/day] (for example the physical share of the
        non-revenue water times the water put in).
    pressure_m : Series
        Junction -> pressure at the reference condition [m] (for example the mean of a
        continuous-supply run). Junctions below :data:`MIN_LEAK_PRESSURE_M` get no emitter.
    exponent : float
        The emitter exponent N (EPANET's, global to the model).

    Returns
    -------
    wntr.network.WaterNetworkModel
        The copy with an emitter coefficient C at each junction: C_j = w_j Q / sum(w p^N),
        w the pipe length of each junction, so that sum(C_j p_j^N) = Q.

    Examples
    --------
    >>> from hydro.network import read_network
    >>> wn = read_network("networks/oujda_rural.inp")
    >>> pressures = pd.Series(30.0, index=wn.junction_name_list)
    >>> leaky = add_leakage(wn, 8.64, pressures)
    >>> total = sum(j.emitter_coefficient * 30.0**1.15 for _, j in leaky.junctions())
    >>> round(total * 86400, 6)
    8.64
    """
    if not (np.isfinite(leak_m3_per_day) and leak_m3_per_day >= 0):
        raise InputError(f"leakage {leak_m3_per_day!r} m3/day: a finite number >= 0 is required")
    if not (np.isfinite(exponent) and 0.3 <= exponent <= 2.5):
        raise InputError(f"leakage exponent {exponent!r}: a number in [0.3, 2.5] (FAVAD N1)")
    weight = junction_pipe_length_m(wn)
    pressure = pd.Series(pressure_m, dtype=float).reindex(weight.index)
    if pressure.isna().any():
        missing = pressure[pressure.isna()].index[0]
        raise InputError(f"leakage: no reference pressure for junction {missing}")
    weight[pressure < MIN_LEAK_PRESSURE_M] = 0.0
    scale = float((weight * pressure.clip(lower=0.0) ** exponent).sum())
    if leak_m3_per_day > 0 and scale <= 0:
        raise InputError("leakage: no junction is pressurised at the reference condition")
    model = copy_network(wn)
    model.options.hydraulic.emitter_exponent = exponent
    q = leak_m3_per_day / 86400.0
    for name, junction in model.junctions():
        junction.emitter_coefficient = float(weight[name] * q / scale) if scale > 0 else 0.0
    return model
