"""Build ``networks/plus_north_jerusalem.inp`` and ``demand_profiles/plus_households.csv``.

The PLUS reference network: the six municipalities of the North Jerusalem enclave that the
PLUS consortium (2006-2008) brought together, as a water engineer would sketch them before a
survey. Run from the repository root: ``python networks/build_plus.py``.

What is documented (docs/sources.md, section 8, with the page of each figure):

- the towns' positions (their published coordinates) and, where published, elevations:
  Bir Nabala 759 m, al-Jib 739 m, Rafat 753 m (highest quarter 800 m), Beit Hanina 780 m;
- their populations: 2017 census (Beit Hanina al-Balad: 2007), not projected (a study that
  needs a later year scales the households table).

What is assumed [E], each a default a study can change:

- the elevations of al-Judeira and Qalandiya (not published: taken between their neighbours);
- each town as a centre and four quarters 350 m away, the quarters 15-25 m above or below
  the centre (Rafat: its published 753-800 m);
- the bulk connections (not documented: which utility supplies the enclave is not known):
  one on the Ramallah road at Qalandiya (the Jerusalem Water Undertaking's system) and one at
  Beit Hanina (the Jerusalem side), each a fixed head with a bulk meter;
- the people of each town split equally between its four quarters, 5.5 persons per household,
  2 m3 of roof tank per household, a desired use of 100 l/person/day (the WHO reference);
- the existing mains (steel DN150, Hazen-Williams C 120, the value an An-Najah village study
  used) and town networks (HDPE DN100, C 140), routed 1.2 times the straight distance.

Every node is a consumer node of its town except the centres, where each town's supply valve
(``V_<town>``) opens and closes: the zones of an intermittent schedule.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import wntr

from hydro.network import write_network

ROOT = Path(__file__).resolve().parents[1]
ROUTE_FACTOR = 1.2  # pipe length / straight distance on hill roads [E]
LAT0, LON0 = 31.85, 35.20  # origin of the local grid (metres east, north)

# town: (latitude, longitude, centre elevation m, quarter relief m, people, census year);
# positions, people and years [S] (docs/sources.md 8.2); quarter relief 15-25 m [E] except
# Rafat's (its published 753-800 m)
TOWNS = {
    "bir_nabala": (31.85167, 35.20083, 759, 20, 6004, 2017),  # coordinates, elevation [S]
    "al_jib": (31.85139, 35.18444, 739, 20, 3862, 2017),  # coordinates, elevation [S]
    "al_judeira": (31.85833, 35.19778, 765, 20, 2634, 2017),  # elevation [E]
    "beit_hanina_balad": (31.83056, 35.21611, 780, 25, 1107, 2007),  # Beit Hanina's [S]
    "qalandiya": (31.86306, 35.20750, 775, 15, 572, 2017),  # elevation [E]
    "rafat": (31.87056, 35.19222, 776, 24, 2941, 2017),  # 753-800 m [S]: centre midway [E]
}
QUARTER_M = 350.0  # distance of each quarter from its centre [E]
# quarters: name suffix, direction (dx, dy), elevation offset in units of the town's relief [E]
QUARTERS = (("n", (0, 1), 1.0), ("e", (1, 0), 0.3), ("s", (0, -1), -1.0), ("w", (-1, 0), -0.3))
# bulk connection points: (name, near town, head m, offset east m, offset north m) [E]
BULK = (("BULK_JWU", "qalandiya", 830.0, 600.0, 300.0), ("BULK_JER", "beit_hanina_balad",
        825.0, 500.0, -300.0))  # fmt: skip
MAINS = (  # existing mains between town centres and from the bulk points [E]
    ("BULK_JWU", "qalandiya"), ("qalandiya", "al_judeira"), ("al_judeira", "rafat"),
    ("qalandiya", "bir_nabala"), ("bir_nabala", "al_jib"), ("al_judeira", "al_jib"),
    ("BULK_JER", "beit_hanina_balad"), ("beit_hanina_balad", "bir_nabala"),
)  # fmt: skip
MAIN_DIAMETER_M, MAIN_C = 0.150, 120.0  # steel DN150 [E]; C 120 (An-Najah study [S])
TOWN_DIAMETER_M, TOWN_C = 0.100, 140.0  # HDPE DN100 [E]; C 140 new HDPE [E]
PERSONS_PER_HOUSEHOLD = 5.5  # plus brief 9 [E] (5.1 Jerusalem governorate 2004 [S])
ROOF_TANK_M3 = 2.0  # plus brief 5 and 9 [E]: 2 m3 per household (1-4)
DEMAND_L_PER_PERSON_DAY = 100.0  # WHO reference (plus brief 4 [S]) as the desired use [E]
VALVE_LENGTH_M = 10.0  # the town's supply valve: a short pipe the schedule opens and closes [E]


def xy(lat: float, lon: float) -> tuple[float, float]:
    """Local metres east and north of (LAT0, LON0) (equirectangular: a few km only)."""
    return (
        (lon - LON0) * 111_320.0 * math.cos(math.radians(LAT0)),
        (lat - LAT0) * 110_574.0,
    )


def build() -> tuple[wntr.network.WaterNetworkModel, pd.DataFrame]:
    """The network and its households table (one row per consumer node)."""
    wn = wntr.network.WaterNetworkModel()
    wn.options.hydraulic.inpfile_units = "LPS"
    wn.options.hydraulic.headloss = "H-W"
    centre = {}
    rows = []
    for town, (lat, lon, elevation, relief, people, _year) in TOWNS.items():
        x, y = xy(lat, lon)
        hub, mid = f"{town}_c", f"{town}_m"
        wn.add_junction(mid, elevation=elevation, coordinates=(x - 30, y - 30))
        wn.add_junction(hub, elevation=elevation, coordinates=(x, y))
        wn.add_pipe(f"V_{town}", mid, hub, VALVE_LENGTH_M, MAIN_DIAMETER_M, MAIN_C)
        centre[town] = mid
        quarters = []
        for suffix, (dx, dy), rise in QUARTERS:
            name = f"{town}_{suffix}"
            wn.add_junction(name, elevation=elevation + rise * relief,
                            coordinates=(x + dx * QUARTER_M, y + dy * QUARTER_M))  # fmt: skip
            wn.add_pipe(f"P_{name}", hub, name, QUARTER_M * ROUTE_FACTOR, TOWN_DIAMETER_M, TOWN_C)
            quarters.append(name)
            rows.append({"node": name, "municipality": town, "people": people / len(QUARTERS)})
        for a, b in zip(quarters, quarters[1:] + quarters[:1], strict=True):  # a ring
            length = QUARTER_M * math.sqrt(2) * ROUTE_FACTOR
            wn.add_pipe(f"R_{a}_{b.rsplit('_', 1)[1]}", a, b, length, TOWN_DIAMETER_M, TOWN_C)
    for name, town, head, dx, dy in BULK:
        x, y = wn.get_node(centre[town]).coordinates
        wn.add_reservoir(name, base_head=head, coordinates=(x + dx, y + dy))
    for a, b in MAINS:
        na, nb = centre.get(a, a), centre.get(b, b)
        (xa, ya), (xb, yb) = wn.get_node(na).coordinates, wn.get_node(nb).coordinates
        length = max(math.hypot(xb - xa, yb - ya), 50.0) * ROUTE_FACTOR
        wn.add_pipe(f"M_{a}_{b}", na, nb, round(length, 1), MAIN_DIAMETER_M, MAIN_C)
    households = pd.DataFrame(rows)
    households["people"] = households["people"].round().astype(int)
    households["households"] = (households["people"] / PERSONS_PER_HOUSEHOLD).round().astype(int)
    households["roof_tank_m3"] = ROOF_TANK_M3
    households["demand_l_per_person_day"] = DEMAND_L_PER_PERSON_DAY
    return wn, households


def main() -> None:
    """Write the network and the households table."""
    wn, households = build()
    write_network(wn, ROOT / "networks" / "plus_north_jerusalem.inp")
    households.to_csv(ROOT / "demand_profiles" / "plus_households.csv", index=False)
    print(
        f"wrote networks/plus_north_jerusalem.inp ({len(wn.node_name_list)} nodes) and "
        f"demand_profiles/plus_households.csv ({int(households['people'].sum())} people)"
    )


if __name__ == "__main__":
    main()
