"""Pure hydraulic formulas (no I/O). SI units: m, m3/s, m of head."""

from __future__ import annotations

import numpy as np

from hydro.units import GRAVITY_M_PER_S2

#: Hazen-Williams coefficient of EPANET 2 in SI units (head loss in m, flow in m3/s, D in m).
HAZEN_WILLIAMS_K_SI = 10.667
HAZEN_WILLIAMS_FLOW_EXPONENT = 1.852
HAZEN_WILLIAMS_DIAMETER_EXPONENT = 4.871


def headloss_hazen_williams(flow, length, diameter, roughness_c):
    r"""Head loss in a pipe by Hazen-Williams, as EPANET 2 computes it.

    .. math:: h_f = 10.667 \, L \, Q^{1.852} / (C^{1.852} D^{4.871})

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
    return np.abs(np.asarray(flow, dtype=float)) / (
        np.pi * np.asarray(diameter, dtype=float) ** 2 / 4
    )


#: Kinematic viscosity of water at 20 degC, EPANET's default (1.1e-5 ft2/s) [m2/s].
KINEMATIC_VISCOSITY_M2_PER_S = 1.1e-5 * 0.3048**2


def headloss_darcy_weisbach(flow, length, diameter, roughness_m):
    r"""Head loss by Darcy-Weisbach with the Swamee-Jain friction factor (64/Re when laminar).

    .. math:: h_f = f \frac{L}{D} \frac{v^2}{2g}, \quad
              f = 0.25 / [\log_{10}(\epsilon / 3.7D + 5.74 / Re^{0.9})]^2

    Parameters
    ----------
    flow : float or array
        Flow [m3/s].
    length : float or array
        Pipe length [m].
    diameter : float or array
        Inner diameter [m].
    roughness_m : float or array
        Absolute roughness [m].

    Returns
    -------
    float or array
        Head loss [m]. EPANET 2.2 interpolates in the transitional range (2000 < Re < 4000);
        this function uses Swamee-Jain there, so results differ slightly in that range.

    References
    ----------
    Swamee, P. K. and Jain, A. K. (1976). J. Hydraulics Div. ASCE 102(5), 657-664.

    Examples
    --------
    >>> round(float(headloss_darcy_weisbach(0.1, 1000.0, 0.3, 0.00015)), 3)
    6.105
    """
    q = np.abs(np.asarray(flow, dtype=float))
    d = np.asarray(diameter, dtype=float)
    v = q / (np.pi * d**2 / 4)
    re = np.maximum(v * d / KINEMATIC_VISCOSITY_M2_PER_S, 1e-12)
    turbulent = 0.25 / np.log10(np.asarray(roughness_m) / (3.7 * d) + 5.74 / re**0.9) ** 2
    f = np.where(re < 2000, 64 / re, turbulent)
    return np.sign(flow) * f * np.asarray(length) / d * v**2 / (2 * GRAVITY_M_PER_S2)


def headloss(flow, length, diameter, roughness, formula: str = "H-W"):
    """Head loss [m] by the network's head-loss formula, as EPANET's options name it.

    Parameters
    ----------
    flow : float or array
        Flow [m3/s]; the loss has its sign.
    length : float or array
        Pipe length [m].
    diameter : float or array
        Inner diameter [m].
    roughness : float or array
        Hazen-Williams C [-] for ``H-W``; Darcy-Weisbach absolute roughness [m] for ``D-W``
        (SI, as WNTR stores it; EPANET files give it in mm).
    formula : {"H-W", "D-W"}
        The network's ``wn.options.hydraulic.headloss``.

    Returns
    -------
    float or array
        Head loss [m].

    Examples
    --------
    >>> round(float(headloss(0.1, 1000.0, 0.3, 130.0, "H-W")), 3)
    6.426
    >>> round(float(headloss(0.1, 1000.0, 0.3, 0.1e-3, "D-W")), 3)
    5.728
    """
    if formula == "H-W":
        return headloss_hazen_williams(flow, length, diameter, roughness)
    if formula == "D-W":
        return headloss_darcy_weisbach(flow, length, diameter, roughness)
    raise ValueError(f"head-loss formula {formula!r}: hydro handles H-W and D-W")
