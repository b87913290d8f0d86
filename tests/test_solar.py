"""Solar pumping and life-cycle costs (issue 27, points 1 and 2): worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hydro.errors import InputError
from hydro.lifecycle import Asset, Option, capital_recovery_factor, handpump_option, life_cycle
from hydro.solar import (
    Borehole,
    diesel_option,
    hourly_shape,
    hydraulic_energy_kwh,
    size_solar_pumping,
)

PUMPS = pd.DataFrame(
    {
        "pump": ["P1", "P2", "P3"],
        "power_kw": [1.0, 3.0, 2.0],
        "max_head_m": [100.0, 120.0, 50.0],
        "flow_m3_per_h": [3.0, 6.0, 8.0],
        "cost": [2000.0, 3500.0, 1500.0],
    }
)
#: 40 m to the water at rest, 5 m drawdown, tank inlet 15 m up: 60 m of lift.
BOREHOLE = Borehole(static_level_m=40.0, drawdown_m=5.0, tank_inlet_m=15.0)


def test_the_brief_sizing_example():
    """Subsaharan brief 9: 30 m3/d lifted 60 m is 4.9 kWh/d hydraulic; at 45% wire to water,
    10.9 kWh/d; at 5.0 kWh/kWp/d, about 2.2 kWp (no derate).
    """
    assert hydraulic_energy_kwh(30, 60) == pytest.approx(4.905, abs=0.001)
    design = size_solar_pumping(30.0, BOREHOLE, [5.0] * 12, PUMPS, derate=1.0)
    assert design.kwp == pytest.approx(30 * 60 / 367 / 0.45 / 5.0, rel=1e-9)
    assert design.kwp == pytest.approx(2.18, abs=0.01)
    # P3 cannot lift 60 m; P1 cannot take 1.7 kW: P2 is the cheapest that can
    assert design.pump == "P2"
    assert design.tank_m3 == pytest.approx(30.0)
    assert design.shortfall_days == 0
    assert design.year["pumped_m3"].sum() == pytest.approx(30.0 * 365, rel=0.01)


def test_the_worst_month_sets_the_array_and_an_undersized_one_runs_short():
    yields = [5.5] * 12
    yields[6] = 4.0  # July: the worst month
    design = size_solar_pumping(30.0, BOREHOLE, yields, PUMPS, derate=1.0)
    assert design.worst_month == 7
    assert design.kwp == pytest.approx(30 * 60 / 367 / 0.45 / 4.0, rel=1e-9)
    assert design.shortfall_days == 0
    small = design
    small.kwp = design.kwp * 0.8
    from hydro.solar import simulate_year

    year = simulate_year(small, np.full(12, 30.0), np.array(yields), derate=1.0)
    short = year[year["shortfall_m3"] > 1e-6]
    # July runs short, and August while the tank refills (5.5 x 0.8 = 4.4 > 4.0 elsewhere)
    assert 7 in set(short["month"]) and set(short["month"]) <= {7, 8}
    assert (short["month"] == 7).sum() > 20


def test_hourly_shape_and_refusals():
    shape = hourly_shape(6, 18)
    assert shape[:6].sum() == 0 and shape[18:].sum() == 0
    assert shape.sum() == pytest.approx(1.0)
    assert shape[11] == pytest.approx(shape[12])  # symmetric about noon
    with pytest.raises(InputError, match="12 monthly"):
        size_solar_pumping(30.0, BOREHOLE, [5.0] * 11, PUMPS)
    with pytest.raises(InputError, match="no pump"):
        size_solar_pumping(300.0, BOREHOLE, [5.0] * 12, PUMPS)


def test_life_cycle_by_hand():
    """10,000 of capital, 500 a year of O&M, 20 years at 5%: PV of O&M = 500 x 12.4622 =
    6,231.1; total 16,231.1; a year: x 0.080243 = 1,302.4; 100 people: 13.02 a person.
    """
    works = Asset(name="all", cost=10_000.0, life_years=50)
    option = Option(
        name="x",
        technology="t",
        people=100,
        l_per_person_day=20,
        assets=(works,),
        om_per_year=500.0,
    )
    lc = life_cycle(option, horizon_years=20, discount_rate=0.05)
    assert lc.present_value["om"] == pytest.approx(6231.1, abs=0.1)
    assert lc.present_value["total"] == pytest.approx(16231.1, abs=0.1)
    assert lc.per_person_year == pytest.approx(13.02, abs=0.01)
    assert capital_recovery_factor(0.05, 20) == pytest.approx(0.080243, abs=1e-6)


def test_replacements_fall_at_the_end_of_each_life():
    pump = Asset(name="pump", cost=1000.0, life_years=7)
    option = Option(name="x", technology="t", people=10, l_per_person_day=20, assets=(pump,))
    lc = life_cycle(option, horizon_years=20, discount_rate=0.0)
    renewals = lc.cash.loc[lc.cash["capital_maintenance"] > 0, "year"].tolist()
    assert renewals == [7, 14]


def test_handpumps_at_500_people_each_deliver_three_quarters():
    option = handpump_option(3000, borehole_cost=6000.0, handpump_cost=1500.0)
    assert option.name == "handpumps (6)"
    assert option.capital == pytest.approx(6 * 7500.0)
    lc = life_cycle(option)
    assert lc.expected_l_per_person_day == pytest.approx(15 * 0.75)


def test_diesel_costs_fuel_every_day():
    option = diesel_option(10.0, genset_cost=3000.0, fuel_price_per_l=1.2, litres_per_kwh=0.4)
    assert option.running_per_year == pytest.approx(10 * 0.4 * 1.2 * 365)
