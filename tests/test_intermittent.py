"""Intermittent supply (issue 26, point 1): schedules, stores, delivered water, equity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from hydro.errors import InputError
from hydro.intermittent import (
    IntermittentSettings,
    ZoneSchedule,
    christiansen_uniformity,
    parse_days,
    parse_hours,
    simulate_intermittent,
    weighted_quantile,
    zone_of_nodes,
)
from hydro.network import read_network
from hydro.simulation import run_simulation

#: A reservoir 50 m above two zones, each behind its own valve (large pipes: no loss).
TWO_ZONES = """[TITLE]
two zones, one schedule
[JUNCTIONS]
 J0  50  0
 A1  50  0
 B1  50  0
[RESERVOIRS]
 R  100
[PIPES]
 P0  R  J0  10  300  140  0  Open
 VA  J0 A1  10  300  140  0  Open
 VB  J0 B1  10  300  140  0  Open
[OPTIONS]
 UNITS LPS
 HEADLOSS H-W
[END]
"""


@pytest.fixture
def two_zones(tmp_path):
    path = tmp_path / "two.inp"
    path.write_text(TWO_ZONES)
    return read_network(path)


def households(**extra):
    """10 people at each node, 100 l each a day (1 m3 a day a node), two households each."""
    table = {
        "node": ["A1", "B1"],
        "people": [10, 10],
        "demand_l_per_person_day": [100, 100],
        "households": [2, 2],
        "municipality": ["A", "B"],
    }
    table.update(extra)
    return pd.DataFrame(table)


def test_two_zones_worked_by_hand(two_zones):
    """Zone A: 0-2 h every day; zone B: 0-2 h on Mondays only. Roof tanks 2 x 0.5 m3 = 1 m3
    a node, half full at the start; use 1 m3 a day, flat.

    By hand: A fills to 1 m3 each morning and uses 22/24 m3 before the next opening, so it
    never runs dry: 7 m3 in the week, satisfaction 1. B starts at 0.5 m3, tops up to 1 m3
    within minutes on Monday morning, then lasts 24 h: B gets 0.5 m3 (start) + 0.5 m3
    (filled) + the use while filling, about 1.003 m3 in the week (satisfaction
    1.003 / 7 = 0.143, 14.3 l a person a day). Christiansen over the 20 people: values
    100 and 14.3, mean 57.2: CU = 1 - 85.7 / 114.3 = 0.25.
    """
    schedules = [ZoneSchedule("A", "VA", ((0, 2),)), ZoneSchedule("B", "VB", ((0, 2),), (0,))]
    result = simulate_intermittent(
        two_zones, households(roof_tank_m3=[0.5, 0.5]), schedules, IntermittentSettings(step_min=1)
    )
    nodes = result.nodes.set_index("node")
    assert nodes.at["A1", "delivered_m3"] == pytest.approx(7.0, abs=1e-9)
    assert nodes.at["A1", "satisfaction"] == pytest.approx(1.0, abs=1e-9)
    assert 1.0 <= nodes.at["B1", "delivered_m3"] <= 1.01
    assert nodes.at["B1", "delivered_l_per_person_day"] == pytest.approx(14.3, abs=0.2)
    # mass balance of each store: delivered = at the start + taken in - left at the end
    for node in ("A1", "B1"):
        assert nodes.at[node, "withdrawn_m3"] + 0.5 >= nodes.at[node, "delivered_m3"] - 1e-9
    assert result.indicators["christiansen_cu"] == pytest.approx(0.25, abs=0.01)
    assert result.indicators["share_under_50_l"] == pytest.approx(0.5)
    assert result.indicators["p10_satisfaction"] == pytest.approx(nodes.at["B1", "satisfaction"])
    by_town = result.municipalities.set_index("municipality")
    assert by_town.at["A", "satisfaction"] == pytest.approx(1.0)
    assert by_town.at["B", "delivered_m3"] == pytest.approx(nodes.at["B1", "delivered_m3"])
    # zone B's tap runs only on Monday morning, A's a few minutes each morning (tank full)
    assert nodes.at["B1", "hours_with_water_per_day"] < nodes.at["A1", "hours_with_water_per_day"]
    # what entered the network is what the stores took (no leaks here)
    assert result.indicators["bulk_m3"] == pytest.approx(nodes["withdrawn_m3"].sum(), rel=1e-6)


def test_volume_method_matches_a_pressure_driven_run_where_every_store_fills(two_zones):
    """Supplied all day, every store stays full: each household gets its whole demand, as a
    long pressure-driven EPANET run of the same demands gives it.
    """
    always = [ZoneSchedule("A", "VA", ((0, 24),)), ZoneSchedule("B", "VB", ((0, 24),))]
    result = simulate_intermittent(
        two_zones, households(roof_tank_m3=[1.0, 1.0]), always, IntermittentSettings(days=3)
    )
    model = two_zones
    for node in ("A1", "B1"):
        model.get_node(node).demand_timeseries_list[0].base_value = 1.0 / 86400
    pda = run_simulation(model, duration_h=72, pressure_driven=True, required_pressure_m=10.0)
    served_m3 = pda.demand[["A1", "B1"]].iloc[:-1].sum() * 3600  # hourly steps, 72 h
    delivered = result.nodes.set_index("node")["delivered_m3"]
    for node in ("A1", "B1"):
        assert delivered[node] == pytest.approx(served_m3[node], rel=0.01)
        assert delivered[node] == pytest.approx(3.0, rel=1e-9)


def test_high_nodes_get_less_than_low_nodes(tmp_path):
    """Elevation drives inequity: one zone, a small main, a low and a high node."""
    text = TWO_ZONES.replace(" B1  50  0", " B1  88  0").replace(
        " VB  J0 B1  10  300  140  0  Open", " VB  A1 B1  2000  50  140  0  Open"
    )
    path = tmp_path / "hill.inp"
    path.write_text(text)
    wn = read_network(path)
    schedule = [ZoneSchedule("Z", "VA", ((6, 7),))]
    table = households(roof_tank_m3=[2.0, 2.0], people=[60, 60])
    result = simulate_intermittent(wn, table, schedule, IntermittentSettings(days=2))
    nodes = result.nodes.set_index("node")
    assert nodes.at["B1", "satisfaction"] < nodes.at["A1", "satisfaction"]
    assert nodes.at["A1", "zone"] == nodes.at["B1", "zone"] == "Z"
    assert result.indicators["christiansen_cu"] < 1.0


def test_methods_differ_as_the_paper_says(two_zones):
    """Unrestricted withdrawal over-states what a well-placed node takes; flow-restricted caps
    it at the desired volume over the supply hours; volume-restricted at the desired volume.
    """
    schedules = [ZoneSchedule("A", "VA", ((0, 2),)), ZoneSchedule("B", "VB", ((0, 2),))]
    got = {}
    for method in ("volume", "flow", "unrestricted"):
        result = simulate_intermittent(
            two_zones,
            households(roof_tank_m3=[0.5, 0.5]),
            schedules,
            IntermittentSettings(method=method, days=2),
        )
        got[method] = result.nodes.set_index("node").at["A1", "delivered_m3"]
    assert got["volume"] == pytest.approx(2.0, rel=1e-6)
    assert got["flow"] == pytest.approx(2.0, rel=0.02)
    assert got["unrestricted"] > 5 * got["flow"]


def test_schedule_text_and_errors():
    assert parse_hours("6-9, 18-20") == ((6.0, 9.0), (18.0, 20.0))
    assert parse_days("mon, Thu") == (0, 3)
    assert parse_days("all") == tuple(range(7))
    with pytest.raises(InputError, match="windows"):
        parse_hours("six to nine")
    with pytest.raises(InputError, match="mon"):
        parse_days("mon,funday")
    with pytest.raises(InputError, match="within a day"):
        ZoneSchedule("Z", "V", ((20, 26),))
    spans = ZoneSchedule("Z", "V", ((0, 2), (2, 4)), (0, 3)).open_intervals(7)
    assert spans == [(0.0, 4 * 3600.0), (72 * 3600.0, 76 * 3600.0)]


def test_bad_inputs_name_the_element(two_zones):
    with pytest.raises(InputError, match="not a junction"):
        simulate_intermittent(two_zones, households(node=["A1", "Q9"]), [])
    with pytest.raises(InputError, match="B1: people"):
        simulate_intermittent(two_zones, households(people=[10, np.nan]), [])
    with pytest.raises(InputError, match="valve 'NOPE'"):
        simulate_intermittent(two_zones, households(), [ZoneSchedule("Z", "NOPE", ((0, 1),))])
    with pytest.raises(InputError, match="method"):
        IntermittentSettings(method="magic")


def test_zones_are_the_nodes_behind_each_valve(two_zones):
    zones = zone_of_nodes(two_zones, [ZoneSchedule("A", "VA", ((0, 1),))])
    assert zones == {"A1": "A"}


def test_equity_indicators_by_hand():
    assert christiansen_uniformity([50, 150]) == pytest.approx(0.5)
    # 30 people at 50 l, 10 at 150 l: mean 75; mean deviation (30 x 25 + 10 x 75) / 40 = 37.5
    assert christiansen_uniformity([50, 150], [30, 10]) == pytest.approx(0.5)
    assert weighted_quantile([0.1, 0.5, 1.0], [5, 5, 90], 0.10) == pytest.approx(0.5)


def test_a_zone_valve_that_is_a_prv_opens_at_its_setting(tmp_path):
    """A zone behind a pressure-reducing valve: open, the valve still reduces the pressure,
    so the zone's households fill more slowly than behind an open pipe.
    """
    text = TWO_ZONES.replace(" VB  J0 B1  10  300  140  0  Open\n", "").replace(
        "[OPTIONS]", "[VALVES]\n VB  J0 B1  300  PRV  10  0\n[OPTIONS]"
    )
    path = tmp_path / "prv.inp"
    path.write_text(text)
    wn = read_network(path)
    schedules = [ZoneSchedule("A", "VA", ((0, 1),)), ZoneSchedule("B", "VB", ((0, 1),))]
    table = households(roof_tank_m3=[20.0, 20.0], people=[400, 400])
    result = simulate_intermittent(wn, table, schedules, IntermittentSettings(days=1))
    nodes = result.nodes.set_index("node")
    assert 0 < nodes.at["B1", "withdrawn_m3"] < nodes.at["A1", "withdrawn_m3"]


def test_leakage_falls_with_fewer_supply_hours(two_zones):
    """Leaks as emitters: a network supplied 2 h a day leaks about 2/24 of one supplied all
    day at the same pressures (what continuity costs in losses).
    """
    from hydro.leakage import add_leakage

    leaky = add_leakage(two_zones, 24.0, pd.Series(50.0, index=two_zones.junction_name_list))
    table = households(roof_tank_m3=[0.5, 0.5])
    always = [ZoneSchedule("A", "VA", ((0, 24),)), ZoneSchedule("B", "VB", ((0, 24),))]
    short = [ZoneSchedule("A", "VA", ((0, 2),)), ZoneSchedule("B", "VB", ((0, 2),))]
    settings = IntermittentSettings(days=2)
    full = simulate_intermittent(leaky, table, always, settings).indicators["leakage_m3"]
    brief = simulate_intermittent(leaky, table, short, settings).indicators["leakage_m3"]
    # J0 (upstream of the valves) leaks all day; A1 and B1 only while their zone is open
    weights = {"J0": 15.0, "A1": 5.0, "B1": 5.0}  # half of the 10 m pipes meeting each
    expected_full = 24.0 * 2
    expected_brief = 24.0 * 2 * (weights["J0"] + (weights["A1"] + weights["B1"]) * 2 / 24) / 25
    assert full == pytest.approx(expected_full, rel=0.01)
    assert brief == pytest.approx(expected_brief, rel=0.02)


def test_a_bulk_limit_shares_scarce_water_and_is_costed(two_zones):
    """A bulk meter limited to 0.1 l/s (8.64 m3 a day) for two zones asking 2 m3 a day each,
    supplied 1 h a day: the limit, not the pipes, sets what they get; the bulk table counts
    what the stores took and prices it.
    """
    from hydro.intermittent import BulkPoint

    schedules = [ZoneSchedule("A", "VA", ((0, 1),)), ZoneSchedule("B", "VB", ((0, 1),))]
    table = households(roof_tank_m3=[2.0, 2.0], people=[20, 20])
    settings = IntermittentSettings(days=2, initial_fill_share=0.0)
    free = simulate_intermittent(two_zones, table, schedules, settings)
    point = BulkPoint(source="R", max_flow_l_per_s=0.1, price_per_m3=2.6)
    limited = simulate_intermittent(two_zones, table, schedules, settings, bulk=[point])
    # 1 h a day at 0.1 l/s: 0.36 m3 a day for both zones, 0.72 m3 over the two days
    assert limited.bulk.at[0, "volume_m3"] == pytest.approx(0.72, rel=0.01)
    assert limited.bulk.at[0, "cost"] == pytest.approx(0.72 * 2.6, rel=0.01)
    assert limited.nodes["withdrawn_m3"].sum() == pytest.approx(0.72, rel=0.01)
    assert limited.indicators["satisfaction"] < free.indicators["satisfaction"]
    with pytest.raises(InputError, match="not a reservoir"):
        simulate_intermittent(two_zones, table, schedules, settings, bulk=[BulkPoint(source="J0")])


def test_the_schedule_design_staggers_a_high_and_a_low_zone(tmp_path):
    """A low zone and a high one sharing a limited bulk connection: opened together the low
    one takes the water first; the search gives them different slots, and equity rises.
    """
    from hydro.intermittent import BulkPoint, optimise_schedule

    text = TWO_ZONES.replace(" B1  50  0", " B1  90  0")
    path = tmp_path / "hill.inp"
    path.write_text(text)
    wn = read_network(path)
    table = households(roof_tank_m3=[0.5, 0.5], people=[40, 40], households=[8, 8])
    slots = [(((6.0, 8.0),), tuple(range(7))), (((18.0, 20.0),), tuple(range(7)))]
    bulk = [BulkPoint(source="R", max_flow_l_per_s=0.8)]
    settings = IntermittentSettings(days=3, initial_fill_share=0.0)
    choice = optimise_schedule(
        wn, table, {"A": "VA", "B": "VB"}, slots, settings, bulk, start={"A": 0, "B": 0}
    )
    first = choice.history.iloc[0]["objective"]
    assert choice.history["objective"].max() > first
    assert choice.schedules[0].hours != choice.schedules[1].hours
    together = simulate_intermittent(
        wn, table, [ZoneSchedule(z, v, *slots[0]) for z, v in (("A", "VA"), ("B", "VB"))],
        settings, bulk=bulk,
    )  # fmt: skip
    got = choice.result.indicators["christiansen_cu"]
    assert got > together.indicators["christiansen_cu"] + 0.05


#: Zone B is a ring at three elevations: cut off from the source, EPANET still "solves" it
#: and reports flows there that are not water.
RING_ZONE = TWO_ZONES.replace(" B1  50  0\n", " B1  50  0\n B2  40  0\n B3  60  0\n").replace(
    " VB  J0 B1  10  300  140  0  Open\n",
    " VB  J0 B1  10  300  140  0  Open\n B12 B1 B2  200  100  140  0  Open\n"
    " B23 B2 B3  200  100  140  0  Open\n B31 B3 B1  200  100  140  0  Open\n",
)


def test_a_closed_zone_takes_nothing_and_leaks_nothing(tmp_path):
    """Zone B closed the whole run (supplied on Tuesdays, the run is a Monday): its stores
    take nothing and its emitters leak nothing; what the network takes in is what the
    source gives (to EPANET's trickle through closed links).
    """
    from hydro.leakage import add_leakage

    path = tmp_path / "ring.inp"
    path.write_text(RING_ZONE)
    wn = read_network(path)
    leaky = add_leakage(wn, 10.0, pd.Series(50.0, index=wn.junction_name_list))
    table = pd.DataFrame(
        {
            "node": ["A1", "B1", "B2", "B3"],
            "people": [10] * 4,
            "demand_l_per_person_day": [100] * 4,
            "households": [2] * 4,
            "roof_tank_m3": [0.5] * 4,
            "municipality": ["A", "B", "B", "B"],
        }
    )
    schedules = [ZoneSchedule("A", "VA", ((0, 2),)), ZoneSchedule("B", "VB", ((0, 2),), (1,))]
    settings = IntermittentSettings(days=1, initial_fill_share=0.0)
    result = simulate_intermittent(leaky, table, schedules, settings)
    taken = result.nodes.set_index("node")["withdrawn_m3"]
    assert taken[["B1", "B2", "B3"]].sum() == 0.0
    assert taken["A1"] > 0.9
    assert result.indicators["bulk_m3"] == pytest.approx(result.bulk["volume_m3"].sum(), rel=0.01)


def test_sizing_for_the_schedule_gives_every_node_its_water(tmp_path):
    """Two zones 2 km down a main, each open 2 h a day; 300 people at 100 l (30 m3) each.
    With DN32 pipes the far zone gets little; sized by JalTantra's rule (the day's volume in
    the 2 h: 4.17 l/s a node) for 15 m at the nodes, every store fills in its window.
    """
    from hydro.catalog import read_catalog
    from hydro.intermittent import schedule_design_flows, size_for_schedule
    from hydro.sizing.problem import Targets

    text = (
        TWO_ZONES.replace(" P0  R  J0  10  300", " P0  R  J0  2000  32")
        .replace(" VA  J0 A1  10  300", " VA  J0 A1  500  32")
        .replace(" VB  J0 B1  10  300", " VB  J0 B1  500  32")
    )
    path = tmp_path / "far.inp"
    path.write_text(text)
    wn = read_network(path)
    table = households(roof_tank_m3=[1.0, 1.0], people=[300, 300], households=[60, 60])
    schedules = [ZoneSchedule("A", "VA", ((6, 8),)), ZoneSchedule("B", "VB", ((6, 8),))]
    flows = schedule_design_flows(wn, table, schedules)
    assert flows["A1"] == pytest.approx(30.0 / 7200, rel=1e-9)
    settings = IntermittentSettings(days=3, initial_fill_share=1.0)
    before = simulate_intermittent(wn, table, schedules, settings)
    assert before.indicators["satisfaction"] < 0.9
    catalog = read_catalog(ROOT / "networks" / "catalogs" / "oujda_pipes.csv")
    design = size_for_schedule(wn, table, schedules, catalog, Targets(min_pressure_m=15.0),
                               output=tmp_path / "sized.inp")  # fmt: skip
    assert design.verification.ok
    after = simulate_intermittent(read_network(tmp_path / "sized.inp"), table, schedules, settings)
    assert after.indicators["satisfaction"] == pytest.approx(1.0, abs=1e-6)
