"""Build ``networks/oujda_rural.inp``: the documented Tuscany / Ahl Angad scheme, by gravity.

Run from the repository root: ``python networks/build_oujda_rural.py``. The model rebuilds the
scheme of the Tuscany / Ahl Angad convention (docs/sources.md 3, [S]): a tap-off on the
existing ONEE regional line, a new main of about 15 km, standpipes first, for the douars
Douba, Oulad Mimoun and Oulad Chlihe (more than 1,500 people, about 2,000 in 2030), with
Ouled Ayyad (the douar where the ONEP Ahl Angad project was launched, docs/sources.md 3 [S])
as an extension at the end of the trunk. Every figure below says where it comes from:
[S] read in a source, [D] derived, [E] estimate (docs/sources.md, 0). **Positions and
elevations are illustrative [E]**: the douars were not located or surveyed; the layout keeps
to the documented facts (lengths, the plain's elevations) and nothing else.

Gravity is the whole scheme: the ONEE line's pressure at the tap-off fills a reservoir on a
low rise of the plain, which feeds the douars. No douar needs a pump: they all lie on the
Angad plain, below the reservoir (docs/sources.md 3: the plain about 459 m, Oujda 470 m).

Demands in the file are the 2030 peak-day demands of the ``standpipes`` scenario, projected
by hydro's demand engine from ``demand_profiles/oujda_villages.csv``.
"""

from __future__ import annotations

import math
from pathlib import Path

import wntr

from hydro.demand import apply_demand, get_scenario, project_demand, read_villages
from hydro.network import write_network

ROOT = Path(__file__).resolve().parents[1]
ROUTE_FACTOR = 1.1  # pipe length / straight distance: roads and field edges [E]
C_HW = 140.0  # PE and PVC, docs/sources.md 5.1 [E]

#: Ground at the tap-off [m]: between Oujda (about 470 m) and the plain (459 m) [S, 3]; [E].
TAPOFF_GROUND_M = 468.0
#: Pressure in the ONEE regional line at the tap-off [m] [E]: no figure was found
#: (docs/sources.md 6); a regional transmission main runs at a few bar. The Oujda study
#: states it as ``[design] source_head_m`` and varies it (30-55 m).
ONEE_PRESSURE_M = 40.0

# name: (x_m, y_m, ground elevation_m). Local grid in metres, origin at the tap-off [E].
# The new main crosses the Angad plain (mean 459 m [S, 3]) from the tap-off (468 m) to a
# reservoir among the three douars, as a designer places it: at the head of a short
# distribution, so the 14 km main carries the day's average flow and only the douars' own
# pipes the peak hour and the open taps. The douars lie on the plain at 455-463 m: a few
# metres of relief, as the plain has [S, 3]. The reservoir's floor is set as a designer sets
# it, not from a survey: the highest served node (462 m) + 15 m for a household connection
# (docs/sources.md 5.1 [E]) + about 5 m of friction at the peak hour = 482 m [E]: a knoll some
# 20 m above the plain (where there is none, an elevated tank of the same height does the
# same work).
NODES = {
    "J_MAIN": (3, 0, 468), "J_TAPOFF": (6, 0, 468),
    "J_M1": (3500, -900, 465), "J_M2": (7000, -1900, 462), "J_M3": (10000, -3000, 466),
    "J_T0": (12350, -3950, 466),  # the foot of the knoll
    "J_A": (11600, -3300, 463), "DB_N1": (11300, -3000, 461), "DB_N2": (11000, -2700, 462),
    "DB_BF1": (11350, -2900, 461), "DB_BF2": (10900, -2600, 462),
    "J_B": (12300, -4700, 460), "OM_N1": (12200, -5000, 459), "OM_N2": (12100, -5400, 458),
    "OM_BF1": (12300, -5100, 459), "OM_BF2": (12000, -5500, 458),
    "J_C": (13300, -4100, 459), "OC_N1": (13600, -4000, 458), "OC_N2": (13900, -3800, 459),
    "OC_BF1": (13650, -4100, 458), "OC_BF2": (14000, -3700, 459),
    "J_D": (15000, -4600, 457), "OA_N1": (16000, -5000, 456), "OA_N2": (16400, -5300, 455),
    "OA_BF1": (16150, -4900, 456), "OA_BF2": (16550, -5400, 455),
}  # fmt: skip
TANK = ("T_ANGAD", (12300, -3900), 482.0)  # name, position, ground = bottom [E]
#: The float valve at the reservoir's inlet [E]: it shuts the main above this level and opens
#: it again below the next [m above the floor] (modelled, as EPANET users do, as level
#: controls on the main's last pipe).
FLOAT_VALVE_M = (3.4, 3.1)

# name: (from, to, inner diameter_mm from the catalogue). Initial sizes; `hydro size` and the
# study optimise them.
PIPES = {
    # tap-off chamber on the ONEE line (10 m), then the new main, PE100 PN10 DN90 (ID 79.2),
    # 14.3 km to the reservoir: "a new 15 km main" [S, 3]
    "TAP0": ("R_ONEE", "J_MAIN", 79.2),
    "M1": ("J_TAPOFF", "J_M1", 79.2), "M2": ("J_M1", "J_M2", 79.2),
    "M3": ("J_M2", "J_M3", 79.2), "M4": ("J_M3", "T_ANGAD", 79.2),
    # distribution from the reservoir, PE100 PN10 DN90 then DN63 (ID 55.4)
    "TR0": ("T_ANGAD", "J_T0", 79.2),
    "DA": ("J_T0", "J_A", 55.4), "DB1": ("J_A", "DB_N1", 55.4), "DB2": ("DB_N1", "DB_N2", 55.4),
    "DM": ("J_T0", "J_B", 55.4), "OM1": ("J_B", "OM_N1", 55.4), "OM2": ("OM_N1", "OM_N2", 55.4),
    "DC": ("J_T0", "J_C", 55.4), "OC1": ("J_C", "OC_N1", 55.4), "OC2": ("OC_N1", "OC_N2", 55.4),
    # extension to Ouled Ayyad [E]
    "TR4": ("J_C", "J_D", 55.4), "OA1": ("J_D", "OA_N1", 55.4), "OA2": ("OA_N1", "OA_N2", 55.4),
    # standpipe connections, PE100 PN16 DN40 (ID 32.6)
    "DB_S1": ("DB_N1", "DB_BF1", 32.6), "DB_S2": ("DB_N2", "DB_BF2", 32.6),
    "OM_S1": ("OM_N1", "OM_BF1", 32.6), "OM_S2": ("OM_N2", "OM_BF2", 32.6),
    "OC_S1": ("OC_N1", "OC_BF1", 32.6), "OC_S2": ("OC_N2", "OC_BF2", 32.6),
    "OA_S1": ("OA_N1", "OA_BF1", 32.6), "OA_S2": ("OA_N2", "OA_BF2", 32.6),
}  # fmt: skip

TITLE = """Tuscany / Ahl Angad scheme (ILLUSTRATIVE POSITIONS, NOT SURVEYED): tap-off on the ONEE
regional line, 14 km new main by gravity to a reservoir on a rise among the douars,
standpipes in Douba, Oulad Mimoun, Oulad Chlihe (+ Ouled Ayyad, extension). docs/sources.md 3.
Demands: 2030 peak-day, standpipes scenario (hydro demand engine). Coordinates: local grid, m."""


def build() -> wntr.network.WaterNetworkModel:
    """The network without demands (:func:`main` adds them)."""
    wn = wntr.network.WaterNetworkModel()
    wn.options.hydraulic.headloss = "H-W"
    wn.options.hydraulic.inpfile_units = "LPS"
    wn.options.time.duration = 72 * 3600
    wn.options.time.hydraulic_timestep = 3600
    wn.options.time.pattern_timestep = 3600
    wn.options.time.report_timestep = 3600
    # The tap-off: the ONEE line's hydraulic grade, ground plus its pressure [E].
    wn.add_reservoir("R_ONEE", base_head=TAPOFF_GROUND_M + ONEE_PRESSURE_M, coordinates=(0, 0))
    for name, (x, y, z) in NODES.items():
        wn.add_junction(name, base_demand=0.0, elevation=z, coordinates=(x, y))
    # Ground reservoir on the rise: 3.3 m useful depth, 6 m across (93 m3); the study
    # resizes it from the hourly balance and reserve [E].
    name, xy, ground = TANK
    wn.add_tank(
        name, elevation=ground, init_level=2.0, min_level=0.3, max_level=3.6, diameter=6.0,
        coordinates=xy,
    )  # fmt: skip
    # Authorised withdrawal at the tap-off: a flow-control valve at 4 l/s [E].
    wn.add_valve(
        "V_TAPOFF", "J_MAIN", "J_TAPOFF", diameter=0.1, valve_type="FCV", initial_setting=0.004
    )
    coords = {n: (x, y) for n, (x, y, _) in NODES.items()}
    coords[name] = xy
    coords["R_ONEE"] = (0, 0)
    for pipe, (a, b, d_mm) in PIPES.items():
        (xa, ya), (xb, yb) = coords[a], coords[b]
        length = round(ROUTE_FACTOR * math.hypot(xb - xa, yb - ya))
        wn.add_pipe(pipe, a, b, length=length, diameter=d_mm / 1000, roughness=C_HW)
    add_float_valve(wn, "M4", name)
    return wn


def add_float_valve(wn, pipe: str, tank: str) -> None:
    """The float valve at ``tank``'s inlet: ``pipe`` shut above, open below (FLOAT_VALVE_M)."""
    link, node = wn.get_link(pipe), wn.get_node(tank)
    ctl = wntr.network.controls
    for name, (level, above, status) in {
        "FLOAT_SHUT": (FLOAT_VALVE_M[0], ">", 0),
        "FLOAT_OPEN": (FLOAT_VALVE_M[1], "<", 1),
    }.items():
        condition = ctl.ValueCondition(node, "level", above, level)
        wn.add_control(name, ctl.Control(condition, ctl.ControlAction(link, "status", status)))


def main() -> None:
    """Build, add the 2030 standpipe demands and write ``networks/oujda_rural.inp``."""
    wn = build()
    villages = read_villages(ROOT / "demand_profiles" / "oujda_villages.csv")
    projection = project_demand(villages, 2030, get_scenario("standpipes"))
    wn = apply_demand(wn, projection)
    wn.title = TITLE.splitlines()
    out = write_network(wn, ROOT / "networks" / "oujda_rural.inp", units="LPS")
    total_km = sum(p.length for _, p in wn.pipes()) / 1000
    main_km = sum(wn.get_link(p).length for p in ("TAP0", "M1", "M2", "M3", "M4")) / 1000
    print(
        f"wrote {out}: {len(wn.junction_name_list)} junctions, {total_km:.1f} km of pipe, "
        f"{main_km:.1f} km of main"
    )


if __name__ == "__main__":
    main()
