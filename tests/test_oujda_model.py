"""The Oujda reference model (issue 25): the documented scheme by gravity, its calibration, and a
pumping station costed from its parts."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from dataclasses import replace

import pytest
import wntr
from conftest import ROOT
from test_study import write_small_study

from hydro.errors import InputError
from hydro.network import read_network
from hydro.stations import StationPrices, motor_kw, station_cost, station_parts
from hydro.study.budget import reinforcement_eur
from hydro.study.calibration import (
    COLUMNS,
    Calibration,
    Documented,
    calibration_of,
    calibration_table,
    run_calibration,
    section_text,
)
from hydro.study.config import load_inputs, load_study
from hydro.study.parts import Cost
from hydro.study.scenario import run_scenario

NETWORK = ROOT / "networks" / "oujda_rural.inp"
STUDY = ROOT / "studies" / "oujda" / "study.toml"
#: Money compared in MAD to the unit [MAD].
MAD_TOL = 0.5


def test_the_build_script_writes_the_committed_network(tmp_path):
    """Rebuilding gives the file in the repository, byte for byte."""
    before = NETWORK.read_bytes()
    try:
        done = subprocess.run(
            [sys.executable, str(ROOT / "networks" / "build_oujda_rural.py")],
            capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)}, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert NETWORK.read_bytes() == before
    finally:
        NETWORK.write_bytes(before)


def test_the_gravity_base_case_has_no_pump_and_follows_the_documented_facts():
    wn = read_network(NETWORK)
    assert wn.pump_name_list == []  # gravity: the tap-off's head feeds the reservoir
    study = load_study(STUDY)
    assert study.design.pump is None and study.design.tank == "T_ANGAD"
    source = wn.get_node("R_ONEE").base_head
    tank = wn.get_node("T_ANGAD")
    assert source > tank.elevation + tank.max_level  # the main fills the tank by gravity
    main = sum(wn.get_link(p).length for p in ("TAP0", "M1", "M2", "M3", "M4"))
    assert 13_000 <= main <= 16_000  # "a new 15 km main" (docs/sources.md 3)
    douar_nodes = [n for n in wn.junction_name_list if re.match(r"(DB|OM|OC|OA)_", n)]
    elevations = [wn.get_node(n).elevation for n in douar_nodes]
    assert 450 <= min(elevations) and max(elevations) <= 470  # the Angad plain, about 459 m
    villages = load_inputs(study).villages
    documented = villages[villages["village"] != "Ouled Ayyad"]
    assert list(documented["village"]) == ["Douba", "Oulad Mimoun", "Oulad Chlihe"]
    people = documented["population"].sum()
    assert people > 1500  # "more than 1,500 people"
    in_2030 = (documented["population"] * (1 + documented["growth_rate"])
               ** (2030 - documented["population_year"])).sum()  # fmt: skip
    assert 1900 <= in_2030 <= 2100  # "about 2,000 in 2030"


def test_calibration_table_has_the_contract_columns_and_the_reference_row():
    study = load_study(STUDY)
    data = load_inputs(study)
    table = run_calibration(study, data)
    # calibration.csv names the columns in the study's currency: documented_mad, hydro_mad
    assert list(table.columns[:4]) == ["scheme", "documented_lcu", "hydro_lcu", "ratio"]
    assert list(table.columns) == list(COLUMNS)
    ref = table.set_index("scheme").loc["tuscany_angad"]
    assert ref["documented_lcu"] == pytest.approx(2_000_000)
    assert ref["ratio"] == pytest.approx(ref["hydro_lcu"] / 2_000_000)
    assert bool(ref["within_tolerance"]) == (abs(ref["ratio"] - 1) <= 0.25)
    # every other documented scheme is compared per person, with no estimate of its own
    others = table[table["scheme"] != "tuscany_angad"]
    assert others["hydro_lcu"].isna().all() and len(others) == 6
    # the others' scope is not documented: they are compared with the estimate all in
    per_person = ref["hydro_all_in_lcu"] / 1500
    assert (others["per_person_ratio"] * others["documented_lcu_per_person"]).tolist() == (
        pytest.approx([per_person] * 6)
    )
    assert ref["hydro_lcu_per_person"] == pytest.approx(ref["hydro_lcu"] / 1500)


def test_calibration_is_the_plan_of_the_documented_douars_alone():
    """hydro's estimate is the three douars' plan: less than the scheme with the extension."""
    study = load_study(STUDY)
    data = load_inputs(study)
    estimate = run_calibration(study, data).set_index("scheme").at["tuscany_angad", "hydro_lcu"]
    everything = run_scenario(study, study.scenario("standpipes"), data, random_taps=False)
    assert estimate < everything.capital_lcu


def test_calibration_on_the_documented_scope_leaves_out_only_what_it_names():
    """[calibration] excluded: the estimate compared is the plan's whole capital less its
    engineering line (ONEP supervises, docs/sources.md 3); the whole capital is kept beside it.
    """
    study = load_study(STUDY)
    data = load_inputs(study)
    assert study.calibration["excluded"] == ["engineering_share"]
    ref = run_calibration(study, data).set_index("scheme").loc["tuscany_angad"]
    plain = replace(study, calibration={k: v for k, v in study.calibration.items()
                                        if k not in ("excluded", "scope")})  # fmt: skip
    whole = run_calibration(plain, data).set_index("scheme").loc["tuscany_angad"]
    # without a scope the estimate is the whole capital, and the two columns agree
    assert whole["hydro_lcu"] == pytest.approx(whole["hydro_all_in_lcu"])
    assert ref["hydro_all_in_lcu"] == pytest.approx(whole["hydro_lcu"])
    # the engineering line is 10% of the works; the capital is the works x 1.2
    works = whole["hydro_lcu"] / (1 + 0.10 + 0.10)
    assert ref["hydro_lcu"] == pytest.approx(works * 1.10, abs=MAD_TOL)
    assert ref["ratio"] == pytest.approx(ref["hydro_lcu"] / 2_000_000)
    assert ref["all_in_ratio"] == pytest.approx(whole["hydro_lcu"] / 2_000_000)
    assert bool(ref["within_tolerance"]) == (abs(ref["ratio"] - 1) <= 0.25)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_report_says_the_scope_and_the_estimate_with_every_margin(lang):
    study = load_study(STUDY)
    data = load_inputs(study)
    table = run_calibration(study, data)
    ref = table.set_index("scheme").loc["tuscany_angad"]
    paragraphs = section_text(study, table, data.villages, lang)["paragraphs"]
    scope = paragraphs[1]
    all_in = f"{ref['hydro_all_in_lcu']:,.0f}"
    if lang == "fr":
        all_in = all_in.replace(",", "\u202f")
        assert scope.startswith("Périmètre") and "études et contrôle" in scope
        assert "sur le périmètre du coût documenté" in paragraphs[0]
    else:
        assert scope.startswith("Scope") and "engineering and supervision" in scope
        assert "on the documented cost's scope" in paragraphs[0]
    assert all_in in scope


def test_calibration_excluded_takes_only_margins(tmp_path):
    text = STUDY.read_text().replace('"../../', f'"{ROOT}/')
    text = text.replace('excluded = ["engineering_share"]', 'excluded = ["engineering"]')
    (tmp_path / "study.toml").write_text(text)
    with pytest.raises(InputError, match=r"excluded.*'engineering' is not allowed.*"
                       r"engineering_share, contingency_share"):  # fmt: skip
        load_study(tmp_path / "study.toml")


def test_calibration_names_what_is_wrong(tmp_path):
    study = load_study(STUDY)
    villages = load_inputs(study).villages
    bad = dict(study.calibration, villages=["Douba", "Oulad Mimon"])
    with pytest.raises(InputError, match=r"\[calibration\] douar 'Oulad Mimon'.*Oulad Mimoun"):
        calibration_of(replace(study, calibration=bad), villages)
    bad = dict(study.calibration, scheme="tuscany")
    with pytest.raises(InputError, match=r"scheme = 'tuscany' is none of"):
        calibration_of(replace(study, calibration=bad), villages)
    text = STUDY.read_text().replace('"../../', f'"{ROOT}/')
    text = text.replace("cost = 2000000", "cost = -2")
    (tmp_path / "study.toml").write_text(text)
    with pytest.raises(InputError, match=r"calibration.schemes\[0\]\] cost = -2"):
        load_study(tmp_path / "study.toml")


def test_calibration_table_by_hand():
    ref = Documented("ref", "Ref", 2008, 2_000_000, 1500, "s")
    other = Documented("big", "Big", 2009, 38_500_000, 13_500, "s")
    table = calibration_table(Calibration("ref", ("A",), "standpipes", 0.25, {}, (ref, other)),
                              2_600_000)  # fmt: skip
    assert table.loc[0, "ratio"] == pytest.approx(1.3)
    assert not table.loc[0, "within_tolerance"]  # 30% over: outside +-25%
    # 2,600,000 / 1,500 = 1,733.3 MAD a person against 38.5 M / 13,500 = 2,851.9
    assert table.loc[1, "per_person_ratio"] == pytest.approx(1733.333 / 2851.852, rel=1e-5)


# --------------------------------------------------------------------------- the station
PRICES = StationPrices(pump_set_fixed=22_000, pump_set_per_kw=4_200, building=100_000,
                       electrics_fixed=40_000, electrics_per_kw=6_000, power_connection=150_000,
                       surge_protection=60_000, pv_per_wp=25.0, drive_per_kw=3_000)  # fmt: skip


def test_station_from_its_parts_by_hand():
    """A booster of 1.25 l/s at 100 m, 55% wire to water (issue 25's example).

    Input power 9.80665 x 1.25 x 100 / 0.55 = 2,229 W; x 1.1 margin = 2.45 kW: a 3 kW motor.
    Pump sets 2 x (22,000 + 3 x 4,200) = 69,200; house 100,000; electrics 40,000 + 3 x 6,000 =
    58,000; grid connection 150,000: 377,200 MAD, within the brief's 0.3-0.6 MDH (5.3 [E]).
    """
    assert motor_kw(0.00125, 100.0, 0.55) == pytest.approx(3.0)
    parts = station_parts(0.00125, 100.0, 0.55, PRICES)
    assert parts["part"].tolist() == ["duty and standby pump sets", "pump house",
                                      "electrics and controls", "power connection"]  # fmt: skip
    assert station_cost(0.00125, 100.0, 0.55, PRICES) == pytest.approx(377_200, abs=MAD_TOL)
    # the catalogue pump's own price replaces the price by power; surge protection added
    priced = station_cost(0.00125, 100.0, 0.55, PRICES, pump_price=41_000, surge=True)
    assert priced == pytest.approx(2 * 41_000 + 100_000 + 58_000 + 150_000 + 60_000, abs=MAD_TOL)


def test_station_solar_option_by_hand():
    """20 h at 2.229 kW = 44.6 kWh a day; / (5.0 kWh/kWp x 0.85) = 10.49 kWp = 10,491 Wp at
    25 MAD; drive 3 kW x 3,000; no grid connection."""
    day_kwh = 9.80665 * 1.25 * 100 / 0.55 / 1000 * 20
    parts = station_parts(0.00125, 100.0, 0.55, PRICES, solar_kwh_per_day=day_kwh)
    by_part = parts.set_index("part")
    assert "power connection" not in by_part.index
    wp = by_part.at["PV array", "quantity"]
    assert wp == pytest.approx(day_kwh / (5.0 * 0.85) * 1000, abs=1.0)
    assert by_part.at["PV array", "total"] == pytest.approx(wp * 25.0)
    assert by_part.at["solar pump drive", "total"] == pytest.approx(9_000)


def test_station_refuses_a_duty_it_cannot_price():
    with pytest.raises(InputError, match="flow and head must be above 0"):
        motor_kw(0.0, 100.0, 0.55)
    no_solar = StationPrices(pump_set_fixed=1, pump_set_per_kw=1, building=1, electrics_fixed=1,
                             electrics_per_kw=1, power_connection=1)  # fmt: skip
    with pytest.raises(InputError, match="solar option"):
        station_parts(0.001, 50.0, 0.5, no_solar, solar_kwh_per_day=10.0)


def test_the_tap_off_head_is_the_study_s_stated_assumption(tmp_path):
    """[design] source_head_m sets the tap-off's grade; at the low end of its range (30 m of
    pressure) gravity still fills the reservoir, through a larger main."""
    study = load_study(STUDY)
    assert study.design.source_head_m == pytest.approx(508.0)
    assert study.sensitivity["source_head_m"] == [498, 523]
    diameters = {}
    for head in (508, 498):
        text = STUDY.read_text().replace('"../../', f'"{ROOT}/')
        (tmp_path / "study.toml").write_text(
            text.replace("source_head_m = 508", f"source_head_m = {head}", 1)
        )
        low = load_study(tmp_path / "study.toml")
        data = load_inputs(low)
        assert data.network.get_node("R_ONEE").base_head == pytest.approx(head)
        o = run_scenario(low, low.scenario("standpipes"), data, random_taps=False)
        assert o.pump is None and o.compliance_design.compliant
        diameters[head] = o.rising_main["inner_diameter_mm"].max()
    assert diameters[498] > diameters[508]


def test_a_pumped_study_costs_its_station_from_its_parts(tmp_path):
    """The small pumped study with station_* prices instead of the pump_station lump: the bill
    of quantities lists the station's parts for the chosen pump, priced by hydro.stations."""
    study = load_study(write_small_study(tmp_path))
    costs = {k: v for k, v in study.prices.costs.items() if k != "pump_station"}
    for key, value in (("station_pump_set_fixed", 18_000), ("station_pump_set_per_kw", 4_500),
                       ("station_building", 100_000), ("station_electrics_fixed", 40_000),
                       ("station_electrics_per_kw", 6_000),
                       ("station_power_connection", 150_000)):  # fmt: skip
        costs[key] = Cost(float(value), "MAD", "docs/sources.md, 7 [E]")
    study = replace(study, prices=replace(study.prices, costs=costs),
                    taps=replace(study.taps, draws=0))  # fmt: skip
    o = run_scenario(study, study.scenario("standpipes"), load_inputs(study), random_taps=False)
    station = o.boq[o.boq["item"].str.startswith("booster station PU: ")]
    assert station["item"].str.removeprefix("booster station PU: ").tolist()[:4] == [
        "duty and standby pump sets", "pump house", "electrics and controls", "power connection"
    ]  # fmt: skip
    prices = StationPrices(pump_set_fixed=18_000, pump_set_per_kw=4_500, building=100_000,
                           electrics_fixed=40_000, electrics_per_kw=6_000,
                           power_connection=150_000)  # fmt: skip
    expected = station_cost(o.pump.flow_m3_per_s, o.pump.head_m, o.pump.efficiency, prices,
                            pump_price=o.pump.price)  # fmt: skip
    assert station["total_lcu"].sum() == pytest.approx(expected, abs=MAD_TOL)
    assert 200_000 < expected < 600_000  # a village booster: far below the 1.2 MDH lump


def test_phase_two_reinforcement_reads_tags_that_carry_their_rating():
    """A sized pipe's tag carries its rating (PE100_DN63_PN10|rating_m=...): the reinforcement
    of a phase-1 DN63 the complete scheme needs as DN90 is its DN63 cost paid twice,
    100 m x 70 MAD x 1.2 (engineering and contingencies) / 11.1 MAD/EUR (the Oujda study's
    budget failed with a KeyError on such a tag)."""
    study = load_study(STUDY)
    catalog = load_inputs(study).catalog
    rated = "|rating_m=101.9716213"
    phase_1 = {"P": ("PE100_DN63_PN10" + rated, 100.0), "Q": ("PE100_DN63_PN10", 50.0)}
    whole = {"P": ("PE100_DN90_PN10" + rated, 100.0), "Q": ("PE100_DN63_PN10" + rated, 50.0)}
    assert reinforcement_eur(study, catalog, phase_1, whole) == pytest.approx(100 * 70 * 1.2 / 11.1)


# --------------------------------------------------------------------------- the main's flow
def _hazen_williams_m(flow_m3_s: float, length_m: float, inner_diameter_m: float) -> float:
    """Friction [m] by Hazen-Williams, C 140 (the catalogue's PE), SI form."""
    return 10.67 * length_m * flow_m3_s**1.852 / (140**1.852 * inner_diameter_m**4.87)


def test_the_main_carries_the_peak_day_over_the_supply_hours_not_the_peak_hour(tmp_path):
    """Issue 25's calibration miss, point by point (brief 5.1: the tank balances the hours).

    The 14,208 m main fills T_ANGAD (top 482 + 3.6 = 485.6 m) from the tap-off's 508 m grade:
    22.4 m of head, 20.36 m of friction after the 10% minor-loss allowance. It carries the
    2030 peak day (107.3 m3 at the tank) / 0.95 transmission efficiency over 24 h = 1.307 l/s.
    By hand at that flow: DN90 PN10 (ID 79.2 mm) loses 16.9 m (18.6 m with the allowance):
    it fits; DN75 PN10 (ID 66.0) loses 41.2 m: it does not, so DN90 is the smallest single
    catalogue pipe, and the least-cost main lays DN75 over the last (20.36 - 16.9) / (41.2 -
    16.9) x 14,208 = 2.0 km. Sized for the douars' peak hour instead (the pattern's 2.25 x the peak
    day), DN90 would lose 76 m and the main would be larger. The 72 h EPANET run of the written
    file, with the float valve's controls, draws more than the main carries at the peak hour:
    the tank covers the difference.
    """
    study = load_study(STUDY)
    o = run_scenario(study, study.scenario("standpipes"), load_inputs(study), random_taps=False)
    wn = read_network(NETWORK)
    main = ["TAP0", "M1", "M2", "M3", "M4"]
    length = sum(wn.get_link(p).length for p in main)
    tank = wn.get_node("T_ANGAD")
    available = 508.0 - (tank.elevation + tank.max_level)
    assert length == pytest.approx(14_208) and available == pytest.approx(22.4)
    fill = o.storage.peak_day_m3 / 0.95 / 86_400  # peak day over the 24 supply hours
    assert o.storage.peak_day_m3 == pytest.approx(107.3, abs=0.05)
    table = o.rising_main
    assert list(dict.fromkeys(table["main_pipe"])) == main
    assert table["length_m"].sum() == pytest.approx(length, rel=1e-9)
    assert set(table["label"]) == {"PE100 DN90 PN10", "PE100 DN75 PN10"}
    area = math.pi * (table["inner_diameter_mm"] / 1000) ** 2 / 4
    assert (table["velocity_m_per_s"] * area).tolist() == pytest.approx([fill] * len(table))
    dn90, dn75 = (_hazen_williams_m(fill, length, d) for d in (0.0792, 0.0660))
    assert 1.1 * dn90 <= available < 1.1 * dn75  # DN90 fits alone, DN75 does not
    # least cost: DN75 downstream for as long as the head allows, L75 = (H - j90 L)/(j75 - j90)
    by_hand = (available / 1.1 - dn90) / (dn75 - dn90) * length
    dn75_m = table.loc[table["label"] == "PE100 DN75 PN10", "length_m"].sum()
    assert dn75_m == pytest.approx(by_hand, rel=0.03)  # EPANET's H-W constant, not 10.67
    assert 1.1 * table["friction_m"].sum() == pytest.approx(available, rel=1e-6)
    assert table["label"].iloc[-1] == "PE100 DN75 PN10"  # the small pipe at the tank's end
    peak_hour = 2.25 * fill  # the standpipe pattern's maximum (docs/sources.md 5.2)
    assert 1.1 * _hazen_williams_m(peak_hour, length, 0.0792) > available
    # the written design over the study's 72 h, float valve and all
    path = tmp_path / "sized.inp"
    path.write_text(o.inp_text)
    model = wntr.network.WaterNetworkModel(str(path))
    flows = wntr.sim.EpanetSimulator(model).run_sim(str(tmp_path / "run")).link["flowrate"]
    inflow, outflow = flows["M4"], flows["TR0"]
    assert model.options.time.duration == 72 * 3600
    assert inflow.max() < outflow.max()  # the peak hour is drawn from the tank
    assert inflow.max() < 1.5 * fill  # the main runs near its fill flow, not at the peak


def test_calibration_douars_are_checked_before_any_computing(monkeypatch):
    """A copied study whose villages are renamed is refused when its inputs are read (a
    newcomer's copy ran 65 s of design before the calibration step named the douar).
    """
    study = load_study(STUDY)
    bad = dict(study.calibration, villages=["Douba", "Tafza"])
    with pytest.raises(InputError, match=r"\[calibration\] douar 'Tafza' is not in the village"):
        load_inputs(replace(study, calibration=bad))
