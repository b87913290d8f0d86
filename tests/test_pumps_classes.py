"""Pressure class from the worst head: the pump's shut-off, the up-surge on the static head,
and the pump chosen together with its rising main (issue 24, points 2 and 3).

Every expected value is worked by hand in the test from the network's numbers.
"""

from __future__ import annotations

import math

import pytest
from conftest import ROOT

from hydro.catalog import read_catalog
from hydro.errors import InputError
from hydro.mains import choose_pump_and_main
from hydro.network import read_network
from hydro.pumps import (
    Duty,
    pump_efficiency_for_size,
    read_pump_catalog,
    select_pump,
    shutoff_head,
)
from hydro.simulation import run_simulation
from hydro.stations import StationPrices
from hydro.surge import check_rising_main

HEAD_TOL_M = 1e-6
COST_TOL_LCU = 1e-6
GRAVITY = 9.80665


def booster_inp(tank_bottom_m: float, diameter_mm: float = 79.2, tag: str = "") -> str:
    """Reservoir at 10 m -> pump -> J1 (elevation 0) -> 1,000 m main -> tank (4 m deep)."""
    tags = f"[TAGS]\n LINK RM {tag}\n" if tag else ""
    return (
        "[TITLE]\nbooster\n[JUNCTIONS]\n J1 0 0\n[RESERVOIRS]\n R1 10\n"
        f"[TANKS]\n T1 {tank_bottom_m} 2 0 4 10 0\n"
        f"[PIPES]\n RM J1 T1 1000 {diameter_mm} 140\n[PUMPS]\n PU R1 J1 HEAD C1\n"
        f"[CURVES]\n C1 0 110\n C1 2.2 50\n C1 3.0 20\n{tags}"
        "[OPTIONS]\n Units LPS\n Headloss H-W\n[TIMES]\n Duration 2:00\n"
        " Hydraulic Timestep 1:00\n[END]\n"
    )


PIPES = (
    "material,nominal_diameter_mm,pressure_class_bar,inner_diameter_mm,cost_per_m,roughness\n"
    "PE100,90,10,79.2,100,140\nPE100,90,16,73.6,125,140\nPE100,90,20,69.8,140,140\n"
)


def pumps_csv(low_price: float) -> str:
    """HIGH: shut-off 110 m, 20,000; LOW: shut-off 80 m, ``low_price``."""
    return (
        "pump,flow_l_per_s,head_m,efficiency,price\n"
        "HIGH,0,110,0,20000\nHIGH,2.2,50,0.6,20000\nHIGH,3.0,20,0.5,20000\n"
        f"LOW,0,80,0,{low_price}\nLOW,2.2,50,0.6,{low_price}\nLOW,3.0,35,0.5,{low_price}\n"
    )


def test_a_fitted_pump_shuts_off_at_133_percent_of_its_duty_head():
    duty = Duty(flow_m3_per_s=0.003, head_m=150.0, suction_head_m=10.0, delivery_head_m=150.0,
                friction_m=10.0, pumping_hours=20.0, delivery_low_m=146.0)  # fmt: skip
    fitted = select_pump(None, duty)
    assert fitted.name == "fitted"
    # EPANET's single-point curve: (0, 4/3 H1), (Q1, H1), (2 Q1, 0)
    assert shutoff_head(fitted.curve) == pytest.approx(200.0, abs=HEAD_TOL_M)
    assert max(h for _, h in fitted.curve) == pytest.approx(150.0)  # what the study took
    three = [(0.0, 120.0), (0.002, 100.0), (0.0032, 72.0)]
    assert shutoff_head(three) == pytest.approx(120.0, abs=HEAD_TOL_M)


def test_a_fitted_pump_has_the_efficiency_usual_for_its_size():
    # 3 l/s at 56 m: rho g Q H = 1.65 kW of water, about 3 kW of motor input at 55%
    eff = pump_efficiency_for_size(0.003, 56.0)
    assert eff == pytest.approx(0.55, abs=0.01)
    duty = Duty(flow_m3_per_s=0.003, head_m=56.0, suction_head_m=0.0, delivery_head_m=50.0,
                friction_m=6.0, pumping_hours=20.0, delivery_low_m=46.0)  # fmt: skip
    assert select_pump(None, duty).efficiency == pytest.approx(eff)
    # larger sets are more efficient
    assert pump_efficiency_for_size(0.05, 100.0) > eff > pump_efficiency_for_size(0.001, 30.0)


def test_the_fitted_pumps_shutoff_needs_pn20_where_its_duty_head_fits_pn16(write_inp, tmp_path):
    # lift from 10 m to the full tank at 130 m: 120 m, plus the main's friction
    wn = read_network(write_inp(booster_inp(126.0)))
    (tmp_path / "pipes.csv").write_text(PIPES)
    catalog = read_catalog(tmp_path / "pipes.csv")
    chosen = choose_pump_and_main(wn, catalog, None, 0.002, tank="T1", pump="PU",
                                  hours_per_day=20, energy_price_per_kwh=1.0,
                                  annuity_factor=10.0)  # fmt: skip
    rows = chosen.candidates.set_index("label")
    for label, row in rows.iterrows():
        d = catalog.table.set_index("label").at[label, "inner_diameter_mm"] / 1000
        friction = 1.1 * 10.67 * 1000 * 0.002**1.852 / (140**1.852 * d**4.87)
        duty_head = 130.0 - 10.0 + friction
        # shut-off pressure at J1 (elevation 0): suction 10 m + 4/3 of the duty head
        assert row["shutoff_pressure_m"] == pytest.approx(10 + 4 / 3 * duty_head, rel=1e-3)
        # the duty head alone (the old shut-off) fits PN16's 163.2 m
        assert 10 + duty_head < 163.0
    assert not rows.at["PE100 DN90 PN16", "class_ok"]  # about 176 m > 163.2 m
    assert not rows.at["PE100 DN90 PN10", "class_ok"]
    assert chosen.main["label"].tolist() == ["PE100 DN90 PN20"]
    assert chosen.pump.name == "fitted"


@pytest.mark.parametrize(
    ("low_price", "pump", "label"),
    [(30000, "LOW", "PE100 DN90 PN10"), (50000, "HIGH", "PE100 DN90 PN16")],
)
def test_the_pump_and_its_main_are_chosen_together(write_inp, tmp_path, low_price, pump, label):
    """Worked by hand, energy at no price: capital = pump + 1,000 m of pipe.

    HIGH shuts off at 110 m: 10 + 110 = 120 m at J1, above PN10 (101.97 m), so HIGH needs PN16;
    LOW shuts off at 80 m: 90 m, PN10 holds. LOW at 30,000: LOW + PN10 = 130,000 against
    HIGH + PN16 = 145,000 (HIGH + PN10 at 120,000 is refused). LOW at 50,000: 150,000 against
    145,000, so HIGH + PN16. PN20 is dearer with either pump.
    """
    wn = read_network(write_inp(booster_inp(50.0)))
    (tmp_path / "pipes.csv").write_text(PIPES)
    (tmp_path / "pumps.csv").write_text(pumps_csv(low_price))
    chosen = choose_pump_and_main(
        wn, read_catalog(tmp_path / "pipes.csv"), read_pump_catalog(tmp_path / "pumps.csv"),
        0.002, tank="T1", pump="PU", hours_per_day=20, energy_price_per_kwh=0.0,
        annuity_factor=10.0,
    )  # fmt: skip
    rows = chosen.candidates.set_index(["pump", "label"])
    assert rows.at[("HIGH", "PE100 DN90 PN10"), "shutoff_pressure_m"] == pytest.approx(120.0)
    assert not rows.at[("HIGH", "PE100 DN90 PN10"), "class_ok"]
    assert rows.at[("LOW", "PE100 DN90 PN10"), "shutoff_pressure_m"] == pytest.approx(90.0)
    assert (chosen.pump.name, chosen.main["label"].iloc[0]) == (pump, label)
    expected = {"LOW": low_price + 100_000, "HIGH": 20_000 + 125_000}[pump]
    best = chosen.candidates[chosen.candidates["chosen"]].iloc[0]
    assert best["whole_life_cost_lcu"] == pytest.approx(expected, abs=COST_TOL_LCU)


def test_energy_enters_the_choice_at_its_present_value(write_inp, tmp_path):
    wn = read_network(write_inp(booster_inp(50.0)))
    (tmp_path / "pipes.csv").write_text(PIPES)
    (tmp_path / "pumps.csv").write_text(pumps_csv(30000))
    chosen = choose_pump_and_main(
        wn, read_catalog(tmp_path / "pipes.csv"), read_pump_catalog(tmp_path / "pumps.csv"),
        0.002, tank="T1", pump="PU", hours_per_day=20, energy_price_per_kwh=1.0,
        annuity_factor=10.0,
    )  # fmt: skip
    best = chosen.candidates[chosen.candidates["chosen"]].iloc[0]
    # rho g H / efficiency per m3 at the operating point, 2 l/s x 20 h every day
    m3_per_year = 0.002 * 20 * 3600 * 365
    kwh = 999.0 * GRAVITY * chosen.pump.head_m / chosen.pump.efficiency * m3_per_year / 3.6e6
    assert best["energy_kwh_per_year"] == pytest.approx(kwh, rel=2e-3)  # RHO_G's density
    assert best["whole_life_cost_lcu"] == pytest.approx(
        best["capital_lcu"] + 10.0 * best["energy_kwh_per_year"], abs=COST_TOL_LCU
    )
    cheaper = chosen.candidates[chosen.candidates["class_ok"]]["whole_life_cost_lcu"].min()
    assert best["whole_life_cost_lcu"] == pytest.approx(cheaper)


def test_the_upsurge_at_a_trip_acts_on_the_static_head_not_the_steady_pressure(write_inp):
    # DN63 PN10 (inner 55.4 mm, wall 3.8 mm): about 15 m of friction at 2 l/s
    wn = read_network(write_inp(booster_inp(50.0, 55.4, "PE100_DN63_PN10")))
    catalog = read_catalog(ROOT / "networks" / "catalogs" / "oujda_pipes.csv")
    results = run_simulation(wn, duration_h=2)
    table = check_rising_main(wn, results, "PU", ["RM"], catalog.table, 110.0)
    row = table.iloc[0]
    k, rho, e = 2.15e9, 999.0, 1.1e9
    a = math.sqrt(k / rho) / math.sqrt(1 + k * 0.0554 / (e * 0.0038))
    when = results.flow["PU"].idxmax()
    v = results.flow.at[when, "RM"] / (math.pi * 0.0554**2 / 4)
    surge = a * v / GRAVITY
    static = 54.0 - 0.0  # the full tank's level over J1
    steady = results.head.at[when, "J1"] - 0.0
    assert steady > static + 5.0  # friction: the two differ
    assert row["static_pressure_m"] == pytest.approx(static, abs=HEAD_TOL_M)
    assert row["surge_head_m"] == pytest.approx(surge, rel=1e-3)
    assert row["upsurge_pressure_m"] == pytest.approx(static + surge, rel=1e-3)
    assert row["downsurge_pressure_m"] == pytest.approx(steady - surge, rel=1e-3)
    assert row["shutoff_pressure_m"] == pytest.approx(results.head["R1"].max() + 110.0)
    assert row["worst_pressure_m"] == pytest.approx(
        max(static, static + surge, row["shutoff_pressure_m"])
    )


def test_the_station_from_its_parts_enters_the_pumping_capital(write_inp, tmp_path):
    """With a station's prices, the pumping capital is the station's (two pump sets at the
    pump's price, house, electrics, power), not one pump's price: it can turn the choice.

    LOW at 38,000: one pump, LOW + PN10 = 138,000 against HIGH + PN16 = 145,000, so LOW; with
    the station (two sets; electrics not by power here, so the rest, 90,000, is the same for
    both), LOW + PN10 = 2 x 38,000 + 100,000 + 90,000 = 266,000 against 2 x 20,000 + 125,000
    + 90,000 = 255,000: HIGH (HIGH + PN20: 270,000).
    """
    wn = read_network(write_inp(booster_inp(50.0)))
    (tmp_path / "pipes.csv").write_text(PIPES)
    (tmp_path / "pumps.csv").write_text(pumps_csv(38000))
    args = (wn, read_catalog(tmp_path / "pipes.csv"), read_pump_catalog(tmp_path / "pumps.csv"),
            0.002)  # fmt: skip
    kwargs = dict(tank="T1", pump="PU", hours_per_day=20, energy_price_per_kwh=0.0,
                  annuity_factor=10.0)  # fmt: skip
    assert choose_pump_and_main(*args, **kwargs).pump.name == "LOW"
    prices = StationPrices(pump_set_fixed=9e9, pump_set_per_kw=9e9, building=30_000,
                           electrics_fixed=10_000, electrics_per_kw=0.0,
                           power_connection=50_000)  # fmt: skip
    chosen = choose_pump_and_main(*args, station=prices, **kwargs)
    assert (chosen.pump.name, chosen.main["label"].iloc[0]) == ("HIGH", "PE100 DN90 PN16")
    best = chosen.candidates[chosen.candidates["chosen"]].iloc[0]
    assert best["pumping_lcu"] == pytest.approx(2 * 20_000 + 30_000 + 10_000 + 50_000)
    assert best["capital_lcu"] == pytest.approx(best["pumping_lcu"] + 125_000, abs=COST_TOL_LCU)
    assert "the runner-up, LOW with PE100 DN90 PN10: 266,000" in chosen.describe()


def test_a_pump_catalogue_with_the_former_price_mad_column_is_read_as_price(tmp_path, caplog):
    (tmp_path / "pumps.csv").write_text(pumps_csv(30000).replace(",price\n", ",price_mad\n"))
    with caplog.at_level("WARNING"):
        table = read_pump_catalog(tmp_path / "pumps.csv")
    assert "price_mad" not in table.columns
    assert table.groupby("pump")["price"].first().to_dict() == {"HIGH": 20000, "LOW": 30000}
    assert "column price_mad read as price" in caplog.text
    both = pumps_csv(30000).replace(",price\n", ",price,price_mad\n").replace("000\n", "000,1\n")
    (tmp_path / "both.csv").write_text(both)
    with pytest.raises(InputError, match="columns price_mad and price are the same column"):
        read_pump_catalog(tmp_path / "both.csv")
