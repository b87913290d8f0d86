"""Build ``networks/kasese.inp`` and ``studies/kasese/clusters.csv``: the Katholhu scheme.

Run from the repository root: ``python networks/build_kasese.py``. The scheme is the one
documented in Katholhu parish, Nyakiyumbu sub-county, Kasese, Uganda (handed over Dec 2024;
independent.co.ug, subsaharan brief 3 and 11 [S]): a solar-pumped borehole, 20 m3 of
reserve tanks, standpipes in four villages (Katholhu, Bwengo, Kitaturwa, Kathikali), more
than 3,000 people. Its layout was not published: every position, elevation, length, the
borehole's levels and the number of standpipes below are ESTIMATES [E], on a local grid in
metres with the tank at the origin.

The model: the borehole (a reservoir at its pumping water level) and the solar pump (one
operating point, switched by the tank's level) lift water through a short rising main to an
elevated tank (6 m tower [E]); the tank feeds by gravity a branched PE network and 16
standpipes of 2 taps (tag ``standpipe:2@0.15``: 2 taps of 0.15 l/s, subsaharan brief 12
[E]). Demands are left at zero: the study sets them for each option.

The clusters table gives each household cluster its village, position and people
(six clusters a village [E]); the study walks them to their nearest standpipe.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import wntr

from hydro.network import write_network
from hydro.outputs import write_csv

ROOT = Path(__file__).resolve().parents[1]
ROUTE_FACTOR = 1.15  # pipe length / straight distance along paths [E]
C_HW = 140.0  # PE, Hazen-Williams [E]
TAP_TAG = "standpipe:2@0.15"  # 2 taps of 0.15 l/s (9 l/min, subsaharan brief 12 [E])
GROUND_TANK_M = 1055.0  # tank site on the spur above Katholhu [E]
TOWER_M = 6.0  # steel tower under the reserve tanks [E]
BOREHOLE_GROUND_M = 1050.0  # [E]
PUMPING_LEVEL_M = 40.0  # static 30 m + drawdown 10 m below ground [E] (= study.toml)

# village: (x_m, y_m, ground elevation_m, people) [E]; people add up to 3,000 (> 3,000 [S]).
VILLAGES = {
    "Katholhu": (300, 250, 1040, 950),
    "Bwengo": (1400, 600, 1030, 750),
    "Kitaturwa": (900, -900, 1025, 700),
    "Kathikali": (2200, -300, 1015, 600),
}
CODES = {"Katholhu": "KAT", "Bwengo": "BWE", "Kitaturwa": "KIT", "Kathikali": "KAK"}
# Standpipes around each village centre (dx, dy, dz) [E]; the documented option uses the
# first three of each village (12 standpipes [E]).
STANDPIPES = ((-200, 160, 3), (220, 150, -2), (0, -230, -5), (260, -200, -6))
# Household clusters around each village centre: (dx, dy, share of the village) [E].
CLUSTERS = ((-320, 250, 0.15), (-100, 60, 0.2), (180, 320, 0.15),
            (350, 40, 0.15), (120, -380, 0.2), (420, -420, 0.15))  # fmt: skip
# Trunk junctions (x_m, y_m, elevation_m) [E].
JUNCTIONS = {"J0": (150, 0, 1050), "J1": (900, 0, 1035), "J2": (1700, -200, 1022)}
TRUNK = (("TR0", "T_ELEV", "J0"), ("TR1", "J0", "J1"), ("TR2", "J1", "J2"),
         ("BR_KAT", "J0", "KAT_N"), ("BR_BWE", "J1", "BWE_N"), ("BR_KIT", "J1", "KIT_N"),
         ("BR_KAK", "J2", "KAK_N"))  # fmt: skip

TITLE = """Katholhu solar-pumped standpipe scheme, Kasese, Uganda (REBUILT, NOT SURVEYED).
Documented: > 3,000 people in 4 villages, > 4,000 l/h, 20 m3 of reserve tanks, UGX 400 M
(independent.co.ug, 2024). Positions, elevations, lengths, borehole levels: estimates [E].
See networks/build_kasese.py and studies/kasese/README.md. Coordinates: local grid, m."""


def _nodes(wn) -> dict[str, tuple[float, float]]:
    """Junctions: trunk, village centres and standpipes; returns every node's position."""
    coords = {"T_ELEV": (0.0, 0.0), "R_BH": (-150.0, 50.0), "J_BH": (-150.0, 50.0)}
    for name, (x, y, z) in JUNCTIONS.items():
        wn.add_junction(name, elevation=z, coordinates=(x, y))
        coords[name] = (x, y)
    for village, (x, y, z, _) in VILLAGES.items():
        code = CODES[village]
        wn.add_junction(f"{code}_N", elevation=z, coordinates=(x, y))
        coords[f"{code}_N"] = (x, y)
        for k, (dx, dy, dz) in enumerate(STANDPIPES, start=1):
            name = f"{code}_SP{k}"
            wn.add_junction(name, elevation=z + dz, coordinates=(x + dx, y + dy))
            wn.get_node(name).tag = TAP_TAG
            coords[name] = (x + dx, y + dy)
    return coords


def build() -> wntr.network.WaterNetworkModel:
    """The network, demands at zero."""
    wn = wntr.network.WaterNetworkModel()
    wn.options.hydraulic.headloss = "H-W"
    wn.options.hydraulic.inpfile_units = "LPS"
    wn.options.time.duration = 24 * 3600
    for key in ("hydraulic_timestep", "pattern_timestep", "report_timestep"):
        setattr(wn.options.time, key, 3600)
    coords = _nodes(wn)
    wn.add_reservoir("R_BH", base_head=BOREHOLE_GROUND_M - PUMPING_LEVEL_M, coordinates=(-150, 50))
    wn.add_junction("J_BH", elevation=BOREHOLE_GROUND_M, coordinates=(-150, 50))
    # Two 10 m3 tanks on the tower, modelled as one: 2.5 m usable, 3.2 m across (20 m3) [E].
    wn.add_tank("T_ELEV", elevation=GROUND_TANK_M + TOWER_M, init_level=2.0, min_level=0.0,
                max_level=2.5, diameter=3.2, coordinates=(0, 0))  # fmt: skip
    # Solar pump: 4 m3/h (1.11 l/s, > 4,000 l/h [S]) at 58 m of head (lift 40 + 11 + 2.5 m,
    # rising main and margin) [E]: one-point curve.
    wn.add_curve("C_SOLAR", "HEAD", [(4.0 / 3600.0, 58.0)])
    wn.add_pump("P_SOLAR", "R_BH", "J_BH", pump_type="HEAD", pump_parameter="C_SOLAR")
    wn.add_pipe("RM", "J_BH", "T_ELEV", length=180.0, diameter=0.0406, roughness=C_HW)
    for name, a, b in TRUNK:
        _pipe(wn, name, a, b, coords, 0.0554)
    for code in CODES.values():
        for k in range(1, len(STANDPIPES) + 1):
            _pipe(wn, f"{code}_S{k}", f"{code}_N", f"{code}_SP{k}", coords, 0.0326)
    _controls(wn)
    wn.title = TITLE.splitlines()
    return wn


def _pipe(wn, name, a, b, coords, diameter):
    (xa, ya), (xb, yb) = coords[a], coords[b]
    length = round(ROUTE_FACTOR * math.hypot(xb - xa, yb - ya))
    wn.add_pipe(name, a, b, length=length, diameter=diameter, roughness=C_HW)


def _controls(wn):
    """The pump runs while the tank is below 2.3 m and stops when it is full [E]."""
    pump, tank = wn.get_link("P_SOLAR"), wn.get_node("T_ELEV")
    ctl = wntr.network.controls
    for name, sign, level, status in (("PUMP_ON", "<", 1.0, 1), ("PUMP_OFF", ">", 2.3, 0)):
        action = ctl.ControlAction(pump, "status", status)
        wn.add_control(name, ctl.Control(ctl.ValueCondition(tank, "level", sign, level), action))


def clusters() -> pd.DataFrame:
    """Household clusters: village, cluster, x_m, y_m, people [E]."""
    rows = []
    for village, (x, y, _, people) in VILLAGES.items():
        left = people
        for k, (dx, dy, share) in enumerate(CLUSTERS, start=1):
            count = left if k == len(CLUSTERS) else round(people * share)
            left -= count
            rows.append({"village": village, "cluster": f"{CODES[village]}_H{k}",
                         "x_m": x + dx, "y_m": y + dy, "people": count})  # fmt: skip
    return pd.DataFrame(rows)


def main() -> None:
    """Write the network and the clusters table."""
    wn = build()
    out = write_network(wn, ROOT / "networks" / "kasese.inp", units="LPS")
    table = clusters()
    write_csv(table, ROOT / "studies" / "kasese" / "clusters.csv", index=False)
    km = sum(p.length for _, p in wn.pipes()) / 1000
    print(f"wrote {out}: {len(wn.junction_name_list)} junctions, {km:.1f} km of pipe; "
          f"{len(table)} clusters, {table['people'].sum()} people")  # fmt: skip


if __name__ == "__main__":
    main()
