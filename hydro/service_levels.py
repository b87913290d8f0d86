"""Service levels from the map: people per tap, walking distance, queue, litres and JMP level.

The questions an engineer asks of a standpipe scheme once the taps are on the map
(subsaharan brief 2):

- people per tap against Sphere's 250 (7.5 l/min, about 8 h of access a day) [S];
- the walk from each household cluster to its nearest tap against Sphere's 500 m [S]:
  straight-line distance times a route factor (paths are not straight; 1.3 [E]);
- the queue at the peak hour: jerrycans arriving against taps x their flow, each tap an
  M/D/1 queue while it keeps up, a growing backlog (fluid queue) when it does not;
- the round trip (walk there and back, queue, filling) and the JMP level it gives
  (basic: improved source, round trip including the queue at most 30 min; limited: more)
  [S, washdata.org].

Everything is a pure function of tables (no network, no I/O); :func:`village_service` puts
them together per village.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hydro.errors import InputError

#: Sphere: at most 250 people per tap [S] (indikit indicator 56).
SPHERE_PEOPLE_PER_TAP = 250
#: Sphere: at most 500 people per handpump [S] (indikit indicator 56).
SPHERE_PEOPLE_PER_HANDPUMP = 500
#: Sphere: at most 500 m from any household to the water point [S].
SPHERE_DISTANCE_M = 500.0
#: Sphere: at least 15 l per person per day [S].
SPHERE_L_PER_PERSON_DAY = 15.0
#: JMP: a round trip (walk and queue) of at most 30 min is a basic service [S].
JMP_BASIC_MINUTES = 30.0
#: Path length / straight-line distance on village paths [E].
ROUTE_FACTOR = 1.3
#: Walking speed carrying water, 3 km/h [E].
WALK_M_PER_MIN = 50.0
#: A jerrycan [l] (subsaharan brief 3, 6).
JERRYCAN_L = 20.0


def nearest_tap(
    clusters: pd.DataFrame, taps: pd.DataFrame, route_factor: float = ROUTE_FACTOR
) -> pd.DataFrame:
    """Each household cluster's nearest tap and the walk to it.

    Parameters
    ----------
    clusters : DataFrame
        Columns ``cluster``, ``x_m``, ``y_m`` (and any others, kept).
    taps : DataFrame
        Columns ``tap``, ``x_m``, ``y_m``: the water points (standpipes).
    route_factor : float
        Walking path / straight-line distance (1.3 [E]).

    Returns
    -------
    DataFrame
        ``clusters`` with ``tap``, ``straight_m`` and ``walk_m`` (= straight x route factor).

    Examples
    --------
    >>> c = pd.DataFrame({"cluster": ["a"], "x_m": [300.0], "y_m": [400.0]})
    >>> t = pd.DataFrame({"tap": ["S1", "S2"], "x_m": [0.0, 1000.0], "y_m": [0.0, 0.0]})
    >>> row = nearest_tap(c, t, route_factor=1.2).iloc[0]
    >>> row["tap"], float(row["straight_m"]), float(row["walk_m"])
    ('S1', 500.0, 600.0)
    """
    if taps.empty:
        raise InputError("service levels: no tap to walk to")
    if not route_factor >= 1.0:
        raise InputError(f"route factor {route_factor!r}: >= 1 (a path is never shorter)")
    dx = clusters["x_m"].to_numpy(float)[:, None] - taps["x_m"].to_numpy(float)[None, :]
    dy = clusters["y_m"].to_numpy(float)[:, None] - taps["y_m"].to_numpy(float)[None, :]
    distance = np.hypot(dx, dy)
    best = distance.argmin(axis=1)
    out = clusters.copy()
    out["tap"] = taps["tap"].to_numpy()[best]
    out["straight_m"] = distance[np.arange(len(clusters)), best]
    out["walk_m"] = out["straight_m"] * route_factor
    return out


def queue_minutes(
    people: float,
    taps: int,
    l_per_person_day: float,
    tap_flow_l_per_s: float,
    peak_hour_factor: float,
) -> float:
    """Mean wait at a tap in the peak hour [min].

    Jerrycans arrive at ``lambda = people x l / 20 l x PHF / 24`` an hour, shared equally by
    the taps; each tap fills one in ``s = 20 / q`` seconds. The load of a tap is
    ``rho = lambda s / taps``. While ``rho < 1`` the tap is an M/D/1 queue (random arrivals,
    fixed filling time; Pollaczek-Khinchine): ``Wq = rho s / (2 (1 - rho))``. When
    ``rho >= 1`` the backlog grows all hour (a fluid queue): the wait of an arrival at minute
    t is ``(rho - 1) t``, on average ``(rho - 1) x 30 min`` over the hour, plus the M/D/1
    wait at the edge (taken at ``rho = 0.95``) so the two pieces join.

    Parameters
    ----------
    people : float
        People who fetch at these taps.
    taps : int
        Taps (a standpipe usually has 2).
    l_per_person_day : float
        What each takes a day [l/person/day].
    tap_flow_l_per_s : float
        Flow of one open tap [l/s].
    peak_hour_factor : float
        Peak hour / mean hour of the day (24 / hours of access: 12 h gives 2.0 [D]).

    Examples
    --------
    >>> # 250 people x 20 l = 250 jerrycans, PHF 2: 20.8 an hour; 1 tap at 0.125 l/s fills
    >>> # one in 160 s: rho = 20.8 x 160 / 3600 = 0.926, Wq = 0.926 x 160 / (2 x 0.074) s
    >>> round(queue_minutes(250, 1, 20.0, 0.125, 2.0), 1)
    16.7
    """
    if taps < 1:
        return float("inf")
    arrivals_per_s = people * l_per_person_day / JERRYCAN_L * peak_hour_factor / 86400.0
    fill_s = JERRYCAN_L / tap_flow_l_per_s
    rho = arrivals_per_s * fill_s / taps
    if rho < 0.95:
        return rho * fill_s / (2.0 * (1.0 - rho)) / 60.0
    edge = 0.95 * fill_s / (2.0 * 0.05) / 60.0
    return edge + max(rho - 1.0, 0.0) * 30.0


def round_trip_minutes(
    walk_m: float, queue_min: float, tap_flow_l_per_s: float, speed_m_per_min=WALK_M_PER_MIN
) -> float:
    """Round trip to the tap [min]: walk there and back, queue, fill a jerrycan.

    Examples
    --------
    >>> round_trip_minutes(250.0, 5.0, 0.2)  # 10 min walking, 5 queueing, 100 s filling
    16.666666666666668
    """
    return 2.0 * walk_m / speed_m_per_min + queue_min + JERRYCAN_L / tap_flow_l_per_s / 60.0


def jmp_level(round_trip_min: float, on_premises: bool = False) -> str:
    """The JMP drinking-water ladder rung of an improved source [S, washdata.org].

    On premises: ``basic`` at least (``safely managed`` also asks for water available when
    needed and free of contamination, which a design cannot show); otherwise ``basic`` when
    the round trip including the queue is at most 30 min, else ``limited``.

    Examples
    --------
    >>> jmp_level(29.0), jmp_level(31.0), jmp_level(90.0, on_premises=True)
    ('basic', 'limited', 'basic')
    """
    if on_premises or round_trip_min <= JMP_BASIC_MINUTES:
        return "basic"
    return "limited"


def village_service(
    clusters: pd.DataFrame,
    taps: pd.DataFrame,
    l_per_person_day: float,
    delivered_l_per_person_day: float,
    peak_hour_factor: float,
    route_factor: float = ROUTE_FACTOR,
    max_people_per_tap: float = SPHERE_PEOPLE_PER_TAP,
) -> pd.DataFrame:
    """Service level of each village: the table of issue 27, point 3.

    Each cluster walks to its nearest tap; each tap serves the clusters that chose it, its
    queue from their people.

    Parameters
    ----------
    clusters : DataFrame
        ``village``, ``cluster``, ``x_m``, ``y_m``, ``people``.
    taps : DataFrame
        ``tap``, ``x_m``, ``y_m``, ``taps`` (taps at the point), ``tap_flow_l_per_s``.
    l_per_person_day : float
        What people fetch a day (the design allowance) [l/person/day].
    delivered_l_per_person_day : float
        What the scheme delivers on average [l/person/day].
    peak_hour_factor : float
        Peak hour / mean hour at the taps.
    route_factor : float
        Walking path / straight-line distance [E].
    max_people_per_tap : float
        Sphere's limit: 250 per tap, 500 per handpump [S].

    Returns
    -------
    DataFrame
        One row per village: people, water_points, taps, people_per_tap, over_sphere (more
        than ``max_people_per_tap``),
        max_walk_m, share_within_500_m, queue_min (worst tap), round_trip_min (worst
        cluster), delivered_l_per_person_day, below_sphere_15, jmp_level.
    """
    walks = nearest_tap(clusters, taps, route_factor)
    load = walks.groupby("tap")["people"].sum()
    info = taps.set_index("tap")
    queue = {
        t: queue_minutes(load[t], int(info.at[t, "taps"]), l_per_person_day,
                         float(info.at[t, "tap_flow_l_per_s"]), peak_hour_factor)
        for t in load.index
    }  # fmt: skip
    walks["queue_min"] = walks["tap"].map(queue)
    walks["round_trip_min"] = [
        round_trip_minutes(w, q, float(info.at[t, "tap_flow_l_per_s"]))
        for w, q, t in zip(walks["walk_m"], walks["queue_min"], walks["tap"], strict=True)
    ]
    rows = []
    for village, part in walks.groupby("village", sort=False):
        used = info.loc[part["tap"].unique()]
        people = float(part["people"].sum())
        n_taps = int(used["taps"].sum())
        # people per tap: everyone who fetches at the village's taps, whatever their village
        per_tap = float(load[used.index].sum()) / max(n_taps, 1)
        within = float(part.loc[part["walk_m"] <= SPHERE_DISTANCE_M, "people"].sum()) / people
        trip = float(part["round_trip_min"].max())
        rows.append({
            "village": village, "people": people, "water_points": len(used), "taps": n_taps,
            "people_per_tap": per_tap, "over_sphere": per_tap > max_people_per_tap,
            "max_walk_m": float(part["walk_m"].max()), "share_within_500_m": within,
            "queue_min": float(part["queue_min"].max()), "round_trip_min": trip,
            "delivered_l_per_person_day": delivered_l_per_person_day,
            "below_sphere_15": delivered_l_per_person_day < SPHERE_L_PER_PERSON_DAY,
            "jmp_level": jmp_level(trip),
        })  # fmt: skip
    return pd.DataFrame(rows)
