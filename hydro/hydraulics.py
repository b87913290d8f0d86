"""Pure hydraulic formulas (no I/O). SI units: m, m3/s, m of head."""

from __future__ import annotations

import numpy as np

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


#: Gravity as EPANET computes with it (32.2 ft/s2) in its Darcy-Weisbach and minor-loss
#: resistances [m/s2]; 0.05% above the standard 9.81, which is what a head-loss model must
#: match to agree with EPANET to the millimetre on long mains.
EPANET_GRAVITY_M_PER_S2 = 32.2 * 0.3048

#: Kinematic viscosity of water at 20 degC, EPANET's default (1.1e-5 ft2/s) [m2/s].
KINEMATIC_VISCOSITY_M2_PER_S = 1.1e-5 * 0.3048**2


def friction_factor_epanet(reynolds, relative_roughness):
    """Darcy friction factor as EPANET 2.2 computes it, in all three flow regimes.

    64/Re when laminar (Re <= 2000); Swamee-Jain when turbulent (Re >= 4000); in between,
    Dunlop's cubic interpolation, which EPANET uses so that the head loss is smooth.

    Parameters
    ----------
    reynolds : float or array
        Reynolds number [-].
    relative_roughness : float or array
        Absolute roughness / inner diameter [-].

    References
    ----------
    Rossman, L. A. et al. (2020). EPANET 2.2 User Manual, EPA/600/R-20/133, section 12.1
    (hydcoeffs.c, ``frictionFactor``). Swamee, P. K. and Jain, A. K. (1976). J. Hydraulics
    Div. ASCE 102(5), 657-664.

    Examples
    --------
    >>> round(float(friction_factor_epanet(1000.0, 0.001)), 4)
    0.064
    >>> round(float(friction_factor_epanet(3000.0, 0.001)), 4)
    0.0336
    """
    re = np.maximum(np.asarray(reynolds, dtype=float), 1e-12)
    e = np.asarray(relative_roughness, dtype=float)
    laminar = 64.0 / re
    turbulent = 0.25 / np.log10(e / 3.7 + 5.74 / np.maximum(re, 4000.0) ** 0.9) ** 2
    # Dunlop: cubic in r = Re / 2000 through f(2000) = 0.032 and the Swamee-Jain value and
    # slope at Re = 4000 (the constants of EPANET's hydcoeffs.c).
    y2 = e / 3.7 + 5.74 / 4000.0**0.9
    y3 = -2.0 / np.log(10.0) * np.log(y2)
    fa = 1.0 / y3**2
    fb = (2.0 + (-2.0 * 0.9 * 2.0 / np.log(10.0)) * (5.74 / 4000.0**0.9) / (y2 * y3)) * fa
    r = re / 2000.0
    x1 = 7.0 * fa - fb
    x2 = 0.128 - 17.0 * fa + 2.5 * fb
    x3 = -0.128 + 13.0 * fa - 2.0 * fb
    x4 = 0.032 - 3.0 * fa + 0.5 * fb
    transition = x1 + r * (x2 + r * (x3 + r * x4))
    return np.where(re <= 2000.0, laminar, np.where(re < 4000.0, transition, turbulent))


def headloss_darcy_weisbach(flow, length, diameter, roughness_m):
    r"""Head loss by Darcy-Weisbach with EPANET 2.2's friction factor.

    .. math:: h_f = f \frac{L}{D} \frac{v^2}{2g}

    with :func:`friction_factor_epanet` (64/Re laminar, Dunlop's interpolation for
    2000 < Re < 4000, Swamee-Jain turbulent), EPANET's viscosity and its gravity
    (:data:`EPANET_GRAVITY_M_PER_S2`), so that the result is EPANET's own.

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
        Head loss [m], with the sign of the flow.

    References
    ----------
    Swamee, P. K. and Jain, A. K. (1976). J. Hydraulics Div. ASCE 102(5), 657-664.

    Examples
    --------
    >>> round(float(headloss_darcy_weisbach(0.1, 1000.0, 0.3, 0.00015)), 3)
    6.102
    """
    q = np.abs(np.asarray(flow, dtype=float))
    d = np.asarray(diameter, dtype=float)
    v = q / (np.pi * d**2 / 4)
    re = v * d / KINEMATIC_VISCOSITY_M2_PER_S
    f = friction_factor_epanet(re, np.asarray(roughness_m) / d)
    return np.sign(flow) * f * np.asarray(length) / d * v**2 / (2 * EPANET_GRAVITY_M_PER_S2)


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
    5.725
    """
    if formula == "H-W":
        return headloss_hazen_williams(flow, length, diameter, roughness)
    if formula == "D-W":
        return headloss_darcy_weisbach(flow, length, diameter, roughness)
    raise ValueError(f"head-loss formula {formula!r}: hydro handles H-W and D-W")
