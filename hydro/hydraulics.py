"""Pure hydraulic formulas (no I/O). SI units: m, m3/s, m of head."""

from __future__ import annotations

import numpy as np

#: Hazen-Williams coefficient of EPANET 2 in SI units (head loss in m, flow in m3/s, D in m).
HAZEN_WILLIAMS_K_SI = 10.667
HAZEN_WILLIAMS_FLOW_EXPONENT = 1.852
HAZEN_WILLIAMS_DIAMETER_EXPONENT = 4.871

#: Metres of water per bar (at 4 degC, g = 9.80665 m/s2): 1e5 Pa / (1000 kg/m3 x 9.80665).
M_PER_BAR = 10.197


def headloss_hazen_williams(flow, length, diameter, roughness_c):
    """Head loss in a pipe by Hazen-Williams, as EPANET 2 computes it.

    .. math:: h_f = 10.667 \\, L \\, Q^{1.852} / (C^{1.852} D^{4.871})

    Parameters
    ----------
    flow : float or array
        Flow [m3/s]; the sign is kept (the loss has the sign of the flow).
    length : float or array
        Pipe length [m].
    diameter : float or array
        Inner diameter [m].
    roughness_c : float or array
        Hazen-Williams coefficient C [-].

    Returns
    -------
    float or array
        Head loss [m].

    References
    ----------
    Rossman, L. A. (2000). EPANET 2 Users Manual, EPA/600/R-00/057, Table 3.1.

    Examples
    --------
    1,000 m of 300 mm pipe, C = 130, carrying 100 l/s:

    >>> round(float(headloss_hazen_williams(0.1, 1000.0, 0.3, 130.0)), 3)
    6.426
    """
    flow = np.asarray(flow, dtype=float)
    return (
        HAZEN_WILLIAMS_K_SI
        * np.asarray(length, dtype=float)
        * np.sign(flow)
        * np.abs(flow) ** HAZEN_WILLIAMS_FLOW_EXPONENT
        / (
            np.asarray(roughness_c, dtype=float) ** HAZEN_WILLIAMS_FLOW_EXPONENT
            * np.asarray(diameter, dtype=float) ** HAZEN_WILLIAMS_DIAMETER_EXPONENT
        )
    )


def velocity(flow, diameter):
    """Mean velocity [m/s] of ``flow`` [m3/s] in a pipe of inner ``diameter`` [m].

    >>> round(float(velocity(0.1, 0.3)), 4)
    1.4147
    """
    return np.abs(np.asarray(flow, dtype=float)) / (np.pi * np.asarray(diameter, dtype=float) ** 2 / 4)
