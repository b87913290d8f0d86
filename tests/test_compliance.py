"""Compliance and operation (issue 6): extended-period checks, storage, pumps, delivered water."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
import wntr
from conftest import ROOT, run_hydro

from hydro.classes import read_classes
from hydro.compliance import Rules, check_compliance
from hydro.errors import InputError
from hydro.pumps import (
    Duty,
    PumpChoice,
    head_at,
    install_pump,
    operating_flow,
    pump_duty,
    pump_energy,
    read_pump_catalog,
    select_pump,
)
from hydro.service import delivered_service
from hydro.simulation import run_simulation
from hydro.storage import parse_hours, resize_tank, size_storage, tank_demand_day, tank_volume_m3
from hydro.topology import zones

OUJDA = ROOT / "tests" / "data" / "booster_aqueduct.inp"
VILLAGES = ROOT / "tests" / "data" / "booster_villages.csv"
PUMPS = ROOT / "networks" / "catalogs" / "oujda_pumps.csv"

#: A day of demand drawn only in daylight: nothing for 6 h, double for 12 h, nothing for 6 h.
DAYLIGHT = [0.0] * 6 + [2.0] * 12 + [0.0] * 6


def tank_fed(
    inflow_l_per_s: float | None = 1.0,
    demand_l_per_s: float = 1.0,
    tank_diameter_m: float = 6.0,
    pattern=DAYLIGHT,
    junction_elevation_m: float = 20.0,
    init_level_m: float = 2.0,
) -> wntr.network.WaterNetworkModel:
    """Source -> (flow-control valve) -> tank -> pipe -> one village node with a pattern."""
    wn = wntr.network.WaterNetworkModel()
    wn.options.time.duration = 72 * 3600
    wn.options.time.hydraulic_timestep = 3600
    wn.options.time.pattern_timestep = 3600
    wn.options.time.report_timestep = 3600
    wn.add_pattern("standpipe", list(pattern))
    wn.add_reservoir("SRC", base_head=100.0)
    wn.add_junction("J_IN", elevation=0.0)
    wn.add_junction("J_OUT", elevation=0.0)
    wn.add_tank("T", elevation=60.0, init_level=init_level_m, min_level=0.5, max_level=4.0,
                diameter=tank_diameter_m)  # fmt: skip
    wn.add_junction("V1", base_demand=demand_l_per_s / 1000, demand_pattern="standpipe",
                    elevation=junction_elevation_m)  # fmt: skip
    wn.add_pipe("P_IN", "SRC", "J_IN", length=10, diameter=0.1, roughness=140)
    if inflow_l_per_s is None:
        wn.add_pipe("P_VALVE", "J_IN", "J_OUT", length=10, diameter=0.1, roughness=140)
    else:
        wn.add_valve("FCV1", "J_IN", "J_OUT", diameter=0.1, valve_type="FCV",
                     initial_setting=inflow_l_per_s / 1000)  # fmt: skip
    wn.add_pipe("P_TANK", "J_OUT", "T", length=100, diameter=0.1, roughness=140)
    wn.add_pipe("P_DIST", "T", "V1", length=1000, diameter=0.1, roughness=140)
    return wn


# --------------------------------------------------------------------------- storage
def test_balancing_volume_by_hand():
    # Peak day 24 m3: inflow 1 m3/h all day; demand 0 (6 h), 2 m3/h (12 h), 0 (6 h).
    # Stored: +6 by 06:00, then -1 per hour for 12 h down to -6 at 18:00, back to 0 at 24:00.
    # Balancing = 6 - (-6) = 12 m3. Reserve: 12 h of an average day of 24 / 1.3 m3.
    sizing = size_storage(24.0, DAYLIGHT, average_day_m3=24.0 / 1.3, reserve_hours=12)
    assert sizing.balancing_m3 == pytest.approx(12.0)
    assert sizing.reserve_m3 == pytest.approx(12 * 24.0 / 1.3 / 24)
    assert sizing.volume_m3 == pytest.approx(12.0 + 12 / 1.3)
    assert sizing.hourly["stored_m3"].min() == pytest.approx(0.0)
    assert "balancing volume 12.0 m3" in sizing.describe()
    # Supplied only while people draw (06-18, at 2 m3/h): nothing to balance.
    daylight = size_storage(24.0, DAYLIGHT, reserve_hours=0, supply_hours=parse_hours("6-18"))
    assert daylight.balancing_m3 == pytest.approx(0.0)
    # Supplied only at night (18-06): the whole day's demand must be stored.
    night = size_storage(24.0, DAYLIGHT, reserve_hours=0, supply_hours=parse_hours("18-6"))
    assert night.balancing_m3 == pytest.approx(24.0)


def test_tank_fed_network_balancing_volume_by_hand_and_in_simulation():
    wn = tank_fed(inflow_l_per_s=1.0, demand_l_per_s=1.0)
    # The village draws 1 l/s x pattern: 86.4 m3 a day, 7.2 m3/h for 12 daylight hours.
    day = tank_demand_day(wn, "T")
    assert day.sum() == pytest.approx(86.4)
    assert day[6] == pytest.approx(7.2) and day[0] == pytest.approx(0.0)
    sizing = size_storage(day.sum(), day, reserve_hours=0)
    # By hand: +3.6 m3/h for 6 h = 21.6, then -3.6 m3/h for 12 h: swing 2 x 21.6 = 43.2 m3.
    assert sizing.balancing_m3 == pytest.approx(43.2)
    resized = resize_tank(wn, "T", sizing.balancing_m3 * 1.05)
    assert tank_volume_m3(resized, "T") == pytest.approx(43.2 * 1.05)
    assert wn.get_node("T").diameter == pytest.approx(6.0)  # the input model is untouched
    # Start half full: the tank swings by the balancing volume and never runs dry.
    node = resized.get_node("T")
    node.init_level = node.min_level + 0.5 * (node.max_level - node.min_level)
    results = run_simulation(resized, duration_h=72)
    level = results.tank_level["T"]
    swing_m3 = (level.max() - level.min()) * math.pi * node.diameter**2 / 4
    assert swing_m3 == pytest.approx(43.2, rel=0.05)
    assert level.min() > node.min_level


def test_bad_supply_hours_are_refused():
    with pytest.raises(InputError, match="START-END"):
        parse_hours("morning")
    with pytest.raises(InputError, match="within 0-24"):
        parse_hours("6-30")


# --------------------------------------------------------------------------- checks
def checks_of(report) -> set[str]:
    return set(report.violations["check"])


def test_each_check_is_violated_by_a_case_built_for_it():
    # Low pressure at a standpipe: the node sits 55 m above the tank bottom's 60 m.
    low = check_compliance(tank_fed(junction_elevation_m=55.0))
    assert "min_pressure" in checks_of(low)
    row = low.violations[low.violations["check"] == "min_pressure"].iloc[0]
    assert row["element"] == "V1" and row["limit"] == pytest.approx(10.0)  # standpipe minimum
    # V1 at 55 m under water at most 64 m high (tank bottom 60 m + 4 m): 9 m at most
    assert row["excess"] == pytest.approx(10.0 - row["value"]) and row["excess"] >= 1.0
    assert not low.compliant

    # High pressure in the distribution: the node 61+ m below the tank.
    high = check_compliance(tank_fed(junction_elevation_m=-5.0))
    assert "max_pressure" in checks_of(high)

    # Pressure class: tag the distribution pipe PN4 (40.8 m) with about 42-44 m on it.
    wn = tank_fed(junction_elevation_m=20.0)
    wn.get_link("P_DIST").tag = "PE100_PN4_DN110"
    rated = check_compliance(wn)
    assert "pressure_class" in checks_of(rated)

    # Velocity: a 30 mm pipe carrying 2 l/s at the peak.
    wn = tank_fed(demand_l_per_s=1.0)
    wn.get_link("P_DIST").diameter = 0.03
    wn.get_node("V1").elevation = 0.0
    fast = check_compliance(wn)
    assert "max_velocity_distribution" in checks_of(fast)

    # Stagnation: a 300 mm pipe never reaches 0.3 m/s: a warning, not a violation.
    wn = tank_fed()
    wn.get_link("P_DIST").diameter = 0.3
    slow = check_compliance(wn)
    warning = slow.violations[slow.violations["check"] == "low_velocity_distribution"]
    assert set(warning["severity"]) == {"warning"} and "P_DIST" in set(warning["element"])

    # The tank runs dry: inflow 0.5 l/s against a 1 l/s average day.
    dry = check_compliance(tank_fed(inflow_l_per_s=0.5))
    assert {"tank_empty", "tank_reserve"} <= checks_of(dry)

    # An open pipe from a source 40 m above the tank top: EPANET closes the inlet at the top
    # (a float valve), a warning that without one it would spill; a tank EPANET lets spill
    # (2.2's overflow option) overflows.
    full = check_compliance(tank_fed(inflow_l_per_s=None))
    held = full.violations[full.violations["check"] == "tank_full"]
    assert "tank_overflow" not in checks_of(full)
    assert not held.empty and set(held["severity"]) == {"warning"}
    spilling = tank_fed(inflow_l_per_s=None)
    spilling.get_node("T").overflow = True
    assert "tank_overflow" in checks_of(check_compliance(spilling))

    # A compliant case: inflow equal to the average day, 68.7 m3 usable holding the 43.2 m3
    # swing between 20% and 100%: 40 m3 above the low level at midnight (2.54 m).
    good = check_compliance(tank_fed(inflow_l_per_s=1.0, tank_diameter_m=5.0, init_level_m=2.54))
    assert good.compliant, good.violations
    assert good.summary["node_hours_compliant_share"] == pytest.approx(1.0)


def test_pump_outside_its_efficient_range_is_reported():
    wn = wntr.network.WaterNetworkModel()
    wn.options.time.duration = 6 * 3600
    wn.add_reservoir("R", base_head=0.0)
    wn.add_junction("A", elevation=0.0)
    wn.add_tank("T", elevation=10.0, init_level=2.0, min_level=0.5, max_level=5.0, diameter=30)
    # Best efficiency at 10 l/s, but the 10 m lift through a large pipe runs it near 17 l/s.
    wn.add_curve("C", "HEAD", [(0.0, 30.0), (0.010, 25.0), (0.020, 5.0)])
    wn.add_pump("PU", "R", "A", pump_type="HEAD", pump_parameter="C")
    wn.add_pipe("P", "A", "T", length=100, diameter=0.3, roughness=140)
    report = check_compliance(wn)
    assert "pump_range_high" in checks_of(report)
    row = report.violations[report.violations["check"] == "pump_range_high"].iloc[0]
    assert row["limit"] == pytest.approx(12.0)  # 120% of 10 l/s
    assert row["value"] > 12.0


def test_transmission_and_distribution_zones_from_the_topology():
    pipe_zone, node_zone = zones(tank_fed())
    assert pipe_zone["P_IN"] == pipe_zone["P_TANK"] == pipe_zone["FCV1"] == "transmission"
    assert pipe_zone["P_DIST"] == "distribution"
    assert node_zone["V1"] == "distribution"


def test_class_file_errors_name_the_file_row_and_allowed_values(tmp_path):
    wn = tank_fed()
    path = tmp_path / "classes.csv"
    path.write_text("element,class\nV1,household\nP_DIST,transmission\n")
    assert read_classes(path, wn) == {"V1": "household", "P_DIST": "transmission"}
    path.write_text("element,class\nV1,hospital\n")
    with pytest.raises(InputError, match=r"classes.csv, row 2: class 'hospital'.*standpipe"):
        read_classes(path, wn)
    path.write_text("element,class\nNOPE,standpipe\n")
    with pytest.raises(InputError, match="'NOPE' is not in the network"):
        read_classes(path, wn)
    path.write_text("node,kind\nV1,standpipe\n")
    with pytest.raises(InputError, match="missing column"):
        read_classes(path, wn)


def test_rules_refuse_unknown_classes():
    with pytest.raises(InputError, match="unknown node class"):
        Rules(min_pressure_m={"school": 5.0})


# --------------------------------------------------------------------------- pressure-driven
def test_pressure_driven_delivers_less_where_pressure_is_short_and_all_where_not():
    # Two villages off one tank: V_HIGH sits 55 m up (about 5 m of pressure), V_LOW at 20 m.
    wn = tank_fed(inflow_l_per_s=2.5, demand_l_per_s=1.0, tank_diameter_m=8.0)
    wn.add_junction("V_HIGH", base_demand=0.001, demand_pattern="standpipe", elevation=55.0)
    wn.add_pipe("P_HIGH", "T", "V_HIGH", length=1000, diameter=0.1, roughness=140)
    for name in ("V1", "V_HIGH"):
        wn.get_node(name).demand_timeseries_list[0].category = name
    service = delivered_service(wn, duration_h=48, required_pressure_m=10.0)
    nodes = service.nodes.set_index("node")
    assert nodes.at["V1", "delivered_share"] == pytest.approx(1.0, abs=1e-6)
    assert 0.0 < nodes.at["V_HIGH", "delivered_share"] < 0.9
    villages = pd.DataFrame(
        {"village": ["V1", "V_HIGH"], "population": [2000.0, 2000.0],
         "domestic_m3_per_day": [50.0, 50.0]}
    )  # fmt: skip
    with_people = delivered_service(wn, 48, 10.0, villages=villages).villages.set_index("village")
    assert with_people.at["V1", "delivered_l_per_person_day"] == pytest.approx(25.0, rel=1e-6)
    assert with_people.at["V_HIGH", "delivered_l_per_person_day"] < 25.0 * 0.9


def test_pump_out_of_service_cuts_delivery_on_oujda():
    wn = wntr.network.WaterNetworkModel(str(OUJDA))
    normal = delivered_service(wn, duration_h=72, required_pressure_m=10.0)
    assert normal.delivered_share > 0.999
    wn.get_link("PU_BOOST").initial_status = wntr.network.LinkStatus.Closed
    for name in list(wn.control_name_list):
        wn.remove_control(name)
    failed = delivered_service(wn, duration_h=72, required_pressure_m=10.0)
    assert failed.delivered_share < 0.5


# --------------------------------------------------------------------------- pumps
def test_pump_catalogue_choice_duty_and_energy():
    catalog = read_pump_catalog(PUMPS)
    wn = wntr.network.WaterNetworkModel(str(OUJDA))
    day = tank_demand_day(wn, "T_HILL")
    duty = pump_duty(wn, "PU_BOOST", "T_HILL", day.sum(), pumping_hours=20)
    assert duty.flow_m3_per_s == pytest.approx(day.sum() / (20 * 3600))
    assert duty.static_lift_m == pytest.approx(590 + 3.6 - 512, abs=0.01)
    assert duty.head_m > duty.static_lift_m
    choice = select_pump(catalog, duty)
    assert choice.source == "catalogue"
    # Installed, the chosen pump runs within 70-120% of its best-efficiency flow all the time
    # (an independent EPANET run); every cheaper pump either leaves that range in the same run
    # or lifts less than the duty flow (20 h of pumping a day) against the full tank.
    for name, points in catalog.groupby("pump"):
        if points["price"].iloc[0] >= choice.price:
            continue
        cheaper = select_pump(points, duty)
        assert cheaper.source.startswith("fitted"), name
        curve = list(zip(points["flow_l_per_s"] / 1000, points["head_m"], strict=True))
        eff = list(zip(points["flow_l_per_s"] / 1000, points["efficiency"], strict=True))
        trial = PumpChoice(
            name=name,
            curve=curve,
            efficiency_curve=eff,
            price=0.0,
            flow_m3_per_s=0.0,
            head_m=0.0,
            efficiency=0.0,
            source="test",
        )
        report = check_compliance(install_pump(wn, "PU_BOOST", trial, "T_HILL"))
        out_of_range = report.violations["check"].str.startswith("pump_range").any()
        assert out_of_range or operating_flow(curve, duty) < duty.flow_m3_per_s, name
    model = install_pump(wn, "PU_BOOST", choice, "T_HILL")
    results = run_simulation(model, duration_h=72)
    chosen = check_compliance(model, results=results)
    assert not chosen.violations["check"].str.startswith("pump_range").any()
    energy = pump_energy(results, model, "PU_BOOST", price_per_kwh=1.0)
    # lifting about 85 m: at least rho g H / 3.6e6 = 0.23 kWh/m3, at most twice that
    assert 0.23 < energy.kwh_per_m3 < 0.6
    assert 0 < energy.hours_running_per_day < 24
    # the tank-level controls cycle the pump: it stops and starts again
    assert (results.flow["PU_BOOST"] < 1e-6).any() and (results.flow["PU_BOOST"] > 1e-4).any()


def test_fitted_pump_when_no_catalogue_pump_fits():
    duty = Duty(
        flow_m3_per_s=0.050,
        head_m=300.0,
        suction_head_m=0.0,
        delivery_head_m=280.0,
        friction_m=20.0,
        pumping_hours=20.0,
    )
    choice = select_pump(read_pump_catalog(PUMPS), duty)
    assert choice.source.startswith("fitted")
    assert head_at(choice.curve, 0.050) == pytest.approx(300.0)


def test_bad_pump_catalogue_is_refused(tmp_path):
    path = tmp_path / "pumps.csv"
    path.write_text("pump,flow_l_per_s,head_m,price\nA,1,10,100\n")
    with pytest.raises(InputError, match="missing column.*efficiency"):
        read_pump_catalog(path)
    path.write_text(
        "pump,flow_l_per_s,head_m,efficiency,price\nA,0,10,0,1\nA,1,12,0.6,1\nA,2,5,0.5,1\n"
    )
    with pytest.raises(InputError, match="pump A: head must fall"):
        read_pump_catalog(path)


# --------------------------------------------------------------------------- command
def test_hydro_check_opening_and_design_year_with_delivered_water(tmp_path):
    out = tmp_path / "check.csv"
    done = run_hydro(
        "check", OUJDA, "--villages", VILLAGES, "--year", "2012", "--year", "2030",
        "--pressure-driven", "--out", out,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "== demand of 2012" in done.stdout and "== demand of 2030" in done.stdout
    assert "node-hours within the pressure rules: 100.0%" in done.stdout
    service = pd.read_csv(out.with_name("check_service.csv"))
    assert set(service["year"]) == {2012, 2030}
    assert np.allclose(service["delivered_share"], 1.0, atol=1e-6)


def test_hydro_check_defaults_to_the_opening_and_design_years():
    done = run_hydro("check", OUJDA, "--villages", VILLAGES, "--duration", "24")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "years: 2012" in done.stdout and "and 2030" in done.stdout
    assert "== demand of 2012" in done.stdout and "== demand of 2030" in done.stdout


def test_hydro_check_fails_on_an_impossible_target():
    done = run_hydro("check", OUJDA, "--min-pressure", "55", "--duration", "24")
    assert done.returncode == 1
    assert "NOT COMPLIANT" in done.stdout and "min_pressure" in done.stdout
    # a minimum above the (default) maximum is refused before any run
    done = run_hydro("check", OUJDA, "--min-pressure", "80", "--duration", "24")
    assert done.returncode == 1 and "verdict" not in done.stdout
    assert "--max-pressure 60 m (the default) is not above the minimum 80 m" in done.stderr


def test_class_pressures_from_the_command_line():
    done = run_hydro(
        "check", OUJDA, "--duration", "24", "--standpipe-pressure", "30", "--show", "3"
    )
    assert done.returncode == 1
    assert "min_pressure" in done.stdout and "30.000" in done.stdout


def test_storage_for_a_village_table_stores_for_its_projected_demand():
    from hydro.demand import apply_demand, get_scenario, project_demand, read_villages
    from hydro.network import read_network
    from hydro.storage import design_storage

    wn, villages = read_network(OUJDA), read_villages(VILLAGES)
    projected = apply_demand(wn, project_demand(villages, 2012, get_scenario("standpipes")))
    expected = design_storage(projected, "T_HILL").sizing
    got = design_storage(wn, "T_HILL", villages=villages, year=2012).sizing
    assert got.peak_day_m3 == pytest.approx(expected.peak_day_m3, rel=1e-12)
    assert got.volume_m3 == pytest.approx(expected.volume_m3, rel=1e-12)
    # the model's own demand is the 2030 horizon's: 2012 stores for less
    assert got.peak_day_m3 < 0.99 * design_storage(wn, "T_HILL").sizing.peak_day_m3
    with pytest.raises(InputError, match="both a village table and a year"):
        design_storage(wn, "T_HILL", villages=villages)


def test_hydro_storage_resizes_the_tank_and_installs_the_pump(tmp_path):
    out = tmp_path / "operated.inp"
    before = OUJDA.read_bytes()
    done = run_hydro(
        "storage", OUJDA, "--tank", "T_HILL", "--pump", "PU_BOOST",
        "--pump-catalog", PUMPS, "--output", out,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "storage rule: balancing volume" in done.stdout and "pump rule: duty" in done.stdout
    assert OUJDA.read_bytes() == before  # the input is never modified
    volume = float(re.search(r"= ([\d.]+) m3; brief", done.stdout).group(1))
    model = wntr.network.WaterNetworkModel(str(out))
    assert tank_volume_m3(model, "T_HILL") == pytest.approx(volume, rel=1e-3)
    controls = [str(c) for _, c in model.controls()]
    assert any("PU_BOOST" in c and "T_HILL" in c for c in controls)
    report = check_compliance(model)
    assert report.compliant, report.violations
