"""Service levels from the map and kiosk finances, worked by hand (issue 27, points 3-4)."""

import math

import pandas as pd
import pytest

from hydro.errors import InputError
from hydro.kiosk import kiosk_finances
from hydro.service_levels import (
    jmp_level,
    nearest_tap,
    queue_minutes,
    round_trip_minutes,
    village_service,
)

MINUTES = 1e-6  # tolerance on minutes
METRES = 1e-9


def test_nearest_tap_is_the_closest_and_walk_is_straight_line_times_route_factor():
    clusters = pd.DataFrame({"cluster": ["a", "b"], "x_m": [300.0, 900.0], "y_m": [400.0, 0.0]})
    taps = pd.DataFrame({"tap": ["S1", "S2"], "x_m": [0.0, 1000.0], "y_m": [0.0, 0.0]})
    out = nearest_tap(clusters, taps, route_factor=1.3)
    assert out["tap"].tolist() == ["S1", "S2"]
    # a: 3-4-5 triangle, 500 m; b: 100 m from S2
    assert out["walk_m"].tolist() == pytest.approx([650.0, 130.0], abs=METRES)


def test_route_factor_below_one_is_refused():
    taps = pd.DataFrame({"tap": ["S"], "x_m": [0.0], "y_m": [0.0]})
    with pytest.raises(InputError, match="route factor"):
        nearest_tap(taps.rename(columns={"tap": "cluster"}), taps, route_factor=0.9)


def test_queue_mdl_by_hand_and_fluid_backlog_when_the_tap_cannot_keep_up():
    # 250 people x 20 l = 250 jerrycans a day; PHF 2: 20.83 an hour; 0.125 l/s: 160 s each
    rho = 250 * 2 / 24 * 160 / 3600
    by_hand = rho * 160 / (2 * (1 - rho)) / 60
    assert queue_minutes(250, 1, 20.0, 0.125, 2.0) == pytest.approx(by_hand, abs=MINUTES)
    # two taps halve the load: rho/2, the wait falls well below
    assert queue_minutes(250, 2, 20.0, 0.125, 2.0) < by_hand / 5
    # 1,000 people at one tap: rho = 3.7 > 1, backlog (rho - 1) x 30 min on average
    rho4 = 1000 * 2 / 24 * 160 / 3600
    edge = 0.95 * 160 / (2 * 0.05) / 60
    assert queue_minutes(1000, 1, 20.0, 0.125, 2.0) == pytest.approx(
        edge + (rho4 - 1) * 30, abs=MINUTES
    )
    assert math.isinf(queue_minutes(100, 0, 20.0, 0.125, 2.0))


def test_round_trip_and_jmp_level():
    # 400 m at 50 m/min: 8 min each way; 10 min queue; 20 l at 0.2 l/s: 100 s
    trip = round_trip_minutes(400.0, 10.0, 0.2)
    assert trip == pytest.approx(16 + 10 + 100 / 60, abs=MINUTES)
    assert jmp_level(trip) == "basic"
    assert jmp_level(30.0) == "basic" and jmp_level(30.01) == "limited"
    assert jmp_level(45.0, on_premises=True) == "basic"


def test_village_service_flags_crowded_taps_and_long_walks():
    # village A: 600 people in one cluster 200 m from one standpipe of 2 taps (300 per tap)
    # village B: 100 people 900 m from their standpipe
    clusters = pd.DataFrame({
        "village": ["A", "B"], "cluster": ["a", "b"], "x_m": [200.0, 3900.0],
        "y_m": [0.0, 0.0], "people": [600.0, 100.0],
    })  # fmt: skip
    taps = pd.DataFrame({"tap": ["SA", "SB"], "x_m": [0.0, 3000.0], "y_m": [0.0, 0.0],
                         "taps": [2, 2], "tap_flow_l_per_s": [0.15, 0.15]})  # fmt: skip
    table = village_service(clusters, taps, 20.0, 12.0, 2.0, route_factor=1.0).set_index("village")
    assert table.at["A", "people_per_tap"] == pytest.approx(300.0)
    assert bool(table.at["A", "over_sphere"]) and not bool(table.at["B", "over_sphere"])
    assert table.at["A", "share_within_500_m"] == pytest.approx(1.0)
    assert table.at["B", "share_within_500_m"] == pytest.approx(0.0)
    # B: 900 m each way at 50 m/min = 36 min, beyond JMP's 30 min
    assert table.at["B", "jmp_level"] == "limited" and table.at["A", "jmp_level"] == "basic"
    assert bool(table.at["A", "below_sphere_15"])  # 12 l delivered


def test_kiosk_break_even_price_pays_om_and_replacements():
    # 1,000 people x 10 l x 365 = 3,650 m3 = 182,500 jerrycans; costs 9.125 M + 9.125 M
    k = kiosk_finances(1000, 10.0, 80.0, 9_125_000.0, 9_125_000.0)
    assert k.sold_m3_per_year == pytest.approx(3650.0)
    assert k.break_even_price_per_jerrycan == pytest.approx(100.0)
    assert not k.covers_repairs and k.balance == pytest.approx(-3_650_000.0)
    # paying share: only 90% paid, the break-even price rises by 1/0.9
    half = kiosk_finances(1000, 10.0, 80.0, 9_125_000.0, 9_125_000.0, paying_share=0.9)
    assert half.break_even_price_per_jerrycan == pytest.approx(100.0 / 0.9)
    with pytest.raises(InputError, match="kiosk"):
        kiosk_finances(1000, float("nan"), 80.0, 1.0, 1.0)
