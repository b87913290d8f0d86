"""Build ``networks/oujda_rural.inp``: an illustrative Oujda-style rural aqueduct.

Run from the repository root: ``python networks/build_oujda_rural.py``. The model follows the
facts of ``docs/sources.md`` (see ``networks/README.md``); it is illustrative,
not surveyed. Demands are the 2030 peak-day demands of the ``standpipes`` scenario, projected
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
C_HW = 140.0  # PE and PVC, brief 5.1 [E]

# name: (x_m, y_m, ground elevation_m). Local grid in metres, origin at the tap-off. The douars
# sit on the foothill slope between 534 and 563 m, so that the static pressure below the full
# hilltop tank (593.6 m) stays within the brief's 60 m for PN10 networks (brief 5.1 [E]); lower
# douars would need break-pressure tanks, which this model does not have.
NODES = {
    "J_MAIN": (3, 0, 468), "J_TAPOFF": (6, 0, 468), "J_BOOST": (10, 0, 468),
    "J_RM1": (900, 1400, 520), "J_RM2": (1700, 2600, 558),
    "J_T0": (2400, 3450, 574), "J_A": (3300, 4300, 560), "J_B": (4300, 5000, 552),
    "J_C": (5600, 5600, 545), "J_D": (7000, 5900, 540),
    "DB_N1": (2900, 5000, 552), "DB_N2": (2700, 5500, 560),
    "DB_BF1": (3050, 5150, 550), "DB_BF2": (2600, 5650, 563),
    "OM_N1": (4600, 5900, 548), "OM_N2": (5000, 6400, 545),
    "OM_BF1": (4700, 6100, 547), "OM_BF2": (5150, 6550, 544),
    "OC_N1": (5500, 4700, 541), "OC_N2": (5800, 4300, 539),
    "OC_BF1": (5650, 4550, 540), "OC_BF2": (5950, 4150, 538),
    "OA_N1": (7600, 6300, 537), "OA_N2": (8100, 6000, 535),
    "OA_BF1": (7750, 6450, 536), "OA_BF2": (8250, 5900, 534),
}  # fmt: skip

# name: (from, to, inner diameter_mm from the catalogue). Initial sizes; `hydro size` optimises.
PIPES = {
    # tap-off chamber on the ONEE main (10 m), then the rising main, PE100 PN16 DN110 (ID 90.0)
    "TAP0": ("R_ONEE", "J_MAIN", 90.0),
    "RM1": ("J_BOOST", "J_RM1", 90.0), "RM2": ("J_RM1", "J_RM2", 90.0),
    "RM3": ("J_RM2", "T_HILL", 90.0),
    # gravity trunk, PE100 PN10 DN110 (ID 96.8)
    "TR0": ("T_HILL", "J_T0", 96.8), "TR1": ("J_T0", "J_A", 96.8), "TR2": ("J_A", "J_B", 96.8),
    "TR3": ("J_B", "J_C", 96.8), "TR4": ("J_C", "J_D", 96.8),
    # douar branches, PE100 PN10 DN63 (ID 55.4)
    "DB1": ("J_A", "DB_N1", 55.4), "DB2": ("DB_N1", "DB_N2", 55.4),
    "OM1": ("J_B", "OM_N1", 55.4), "OM2": ("OM_N1", "OM_N2", 55.4),
    "OC1": ("J_C", "OC_N1", 55.4), "OC2": ("OC_N1", "OC_N2", 55.4),
    "OA1": ("J_D", "OA_N1", 55.4), "OA2": ("OA_N1", "OA_N2", 55.4),
    # standpipe connections, PE100 PN16 DN40 (ID 32.6)
    "DB_S1": ("DB_N1", "DB_BF1", 32.6), "DB_S2": ("DB_N2", "DB_BF2", 32.6),
    "OM_S1": ("OM_N1", "OM_BF1", 32.6), "OM_S2": ("OM_N2", "OM_BF2", 32.6),
    "OC_S1": ("OC_N1", "OC_BF1", 32.6), "OC_S2": ("OC_N2", "OC_BF2", 32.6),
    "OA_S1": ("OA_N1", "OA_BF1", 32.6), "OA_S2": ("OA_N2", "OA_BF2", 32.6),
}  # fmt: skip

TITLE = """Oujda-style rural aqueduct (ILLUSTRATIVE, NOT SURVEYED): tap-off on the ONEE main,
booster pump, 4 km PE rising main to a 65 m3 hilltop reservoir, gravity distribution to 4 douars
(Ahl Angad type) with standpipes. Facts: docs/sources.md; see networks/README.md.
Demands: 2030 peak-day, standpipes scenario (hydro demand engine). Coordinates: local grid, m."""


def build() -> wntr.network.WaterNetworkModel:
    wn = wntr.network.WaterNetworkModel()
    wn.options.hydraulic.headloss = "H-W"
    wn.options.hydraulic.inpfile_units = "LPS"
    wn.options.time.duration = 72 * 3600
    wn.options.time.hydraulic_timestep = 3600
    wn.options.time.pattern_timestep = 3600
    wn.options.time.report_timestep = 3600
    wn.options.energy.global_efficiency = 70.0
    wn.options.energy.global_price = 1.0 / 3.6e6  # 1 MAD/kWh (brief 5.4 [E]) per joule
    # Tap-off on the ONEE main: hydraulic grade 512 m (ground 468 m, about 44 m of pressure) [E].
    wn.add_reservoir("R_ONEE", base_head=512.0, coordinates=(0, 0))
    for name, (x, y, z) in NODES.items():
        wn.add_junction(name, base_demand=0.0, elevation=z, coordinates=(x, y))
    # Hilltop ground reservoir: bottom 590 m, 3.3 m useful depth, 5 m across (65 m3) [E].
    wn.add_tank(
        "T_HILL",
        elevation=590.0,
        init_level=2.0,
        min_level=0.3,
        max_level=3.6,
        diameter=5.0,
        coordinates=(2300, 3300),
    )
    # Authorised withdrawal at the tap-off: a flow-control valve at 4 l/s [E].
    wn.add_valve(
        "V_TAPOFF", "J_MAIN", "J_TAPOFF", diameter=0.1, valve_type="FCV", initial_setting=0.004
    )
    # Booster: a multistage centrifugal pump, 3-point curve (flow m3/s, head m) [E].
    wn.add_curve("C_BOOST", "HEAD", [(0.0, 120.0), (0.0035, 98.0), (0.0055, 70.0)])
    wn.add_pump("PU_BOOST", "J_TAPOFF", "J_BOOST", pump_type="HEAD", pump_parameter="C_BOOST")
    coords = {name: (x, y) for name, (x, y, _) in NODES.items()}
    coords["T_HILL"] = (2300, 3300)
    coords["R_ONEE"] = (0, 0)
    for name, (a, b, d_mm) in PIPES.items():
        (xa, ya), (xb, yb) = coords[a], coords[b]
        length = round(ROUTE_FACTOR * math.hypot(xb - xa, yb - ya))
        wn.add_pipe(name, a, b, length=length, diameter=d_mm / 1000, roughness=C_HW)
    # Tank-level control of the booster.
    pump, tank = wn.get_link("PU_BOOST"), wn.get_node("T_HILL")
    on = wntr.network.controls.ControlAction(pump, "status", 1)
    off = wntr.network.controls.ControlAction(pump, "status", 0)
    wn.add_control(
        "BOOST_ON",
        wntr.network.controls.Control(
            wntr.network.controls.ValueCondition(tank, "level", "<", 1.0), on
        ),
    )
    wn.add_control(
        "BOOST_OFF",
        wntr.network.controls.Control(
            wntr.network.controls.ValueCondition(tank, "level", ">", 3.4), off
        ),
    )
    return wn


def main() -> None:
    wn = build()
    villages = read_villages(ROOT / "demand_profiles" / "oujda_villages.csv")
    projection = project_demand(villages, 2030, get_scenario("standpipes"))
    wn = apply_demand(wn, projection)
    wn.title = TITLE.splitlines()
    out = write_network(wn, ROOT / "networks" / "oujda_rural.inp", units="LPS")
    total_km = sum(p.length for _, p in wn.pipes()) / 1000
    print(f"wrote {out}: {len(wn.junction_name_list)} junctions, {total_km:.1f} km of pipe")


if __name__ == "__main__":
    main()
