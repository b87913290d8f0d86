"""A study serves by gravity what the tank reaches and pumps only the rest (issue 24, point 5).

A small gravity scheme (tests/test_study.py's, the source at 600 m) whose douar Alpha sits
on a rise above the tank's reach and Beta below it: priced, the study places one booster
above Alpha, costs its station in the bill of quantities and its energy in the O&M, and
says which douars are on gravity and which pumped; not priced, it is refused, naming the fix.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pandas as pd
import pytest
import wntr
from conftest import run_hydro
from test_study import small_network, write_small_study

from hydro.errors import InputError
from hydro.network import read_network
from hydro.stations import StationPrices, station_cost
from hydro.study.config import load_inputs, load_study
from hydro.study.labels import texts, translate
from hydro.study.report import serving_text
from hydro.study.scenario import run_scenario

#: Tolerance on a cost [MAD]
MAD_TOL = 0.01

#: Alpha's standpipe and household node on a rise: 562 m and 560 m, above the tank's
#: reserve level (560.94 m), so no pipe serves them by gravity.
ALPHA_ELEVATIONS_M = {"A_N1": 562.0, "A_BF1": 560.0}
#: A booster station from its parts ([unit_costs] station_*, docs/sources.md 7 [E]).
STATION_COSTS = """\
station_pump_set_fixed = { value = 18000, unit = "MAD/set", source = "docs/sources.md, 7 [E]" }
station_pump_set_per_kw = { value = 4500, unit = "MAD/kW", source = "docs/sources.md, 7 [E]" }
station_building = { value = 100000, unit = "MAD", source = "docs/sources.md, 7 [E]" }
station_electrics_fixed = { value = 40000, unit = "MAD", source = "docs/sources.md, 7 [E]" }
station_electrics_per_kw = { value = 6000, unit = "MAD/kW", source = "docs/sources.md, 7 [E]" }
station_power_connection = { value = 150000, unit = "MAD", source = "docs/sources.md, 7 [E]" }
"""
#: The study's tables a booster test needs not (each costs runs of the whole scheme).
LEFT_OUT = ("budget", "calibration", "sensitivity", "taps")


def booster_network(path) -> None:
    """The small gravity scheme with Alpha's branch behind a junction ``J_A`` (no demand),
    Alpha on a rise, and a float valve on the main into the tank."""
    small_network(path, 600.0, pump=False)
    wn = wntr.network.WaterNetworkModel(str(path))
    wn.add_junction("J_A", elevation=545.0, coordinates=(1500, 800))
    wn.get_link("A1").start_node = wn.get_node("J_A")
    wn.add_pipe("A0", "J_T", "J_A", length=100, diameter=0.1, roughness=140)
    for name, z in ALPHA_ELEVATIONS_M.items():
        wn.get_node(name).elevation = z
    # the tank's float valve on the main, as the Oujda network's (networks/oujda_rural.inp)
    tank, main = wn.get_node("T"), wn.get_link("RM2")
    for name, above, level, status in (("float_shut", True, 3.4, 0), ("float_open", False, 3.1, 1)):
        condition = wntr.network.controls.ValueCondition(
            tank, "level", ">" if above else "<", level
        )
        action = wntr.network.controls.ControlAction(main, "status", status)
        wn.add_control(name, wntr.network.controls.Control(condition, action))
    wntr.network.write_inpfile(wn, str(path), units="LPS")


def without_tables(text: str, names) -> str:
    """A TOML text without its top-level tables ``names`` (each to the next header)."""
    kept, skipping = [], False
    for line in text.splitlines(keepends=True):
        header = re.match(r"\[\[?([a-z_.]+)\]", line)
        if header:
            skipping = header.group(1) in names
        if not skipping:
            kept.append(line)
    return "".join(kept)


def write_booster_study(folder, priced: bool = True, nodes: str | None = None):
    """The study file (the small gravity study, its slow tables left out), with a booster
    station priced from its parts when ``priced``; ``nodes``: ``[design] booster_nodes``."""
    study = write_small_study(folder, pump=False)
    booster_network(folder / "net.inp")
    text = study.read_text()
    text = without_tables(text, LEFT_OUT)
    if priced:
        text = text.replace("[unit_costs]\n", "[unit_costs]\n" + STATION_COSTS, 1)
    if nodes is not None:
        text = text.replace('tank = "T"', f'tank = "T"\nbooster_nodes = {nodes}', 1)
    study.write_text(text)
    return study


@pytest.fixture(scope="module")
def booster_study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("booster_study")
    study = write_booster_study(folder)
    out = folder / "out"
    done = run_hydro("run", study, "--out", out)
    assert done.returncode == 0, done.stdout + done.stderr
    return study, out


def test_the_tank_serves_beta_by_gravity_and_a_booster_pumps_alpha(booster_study):
    _, out = booster_study
    for scenario in ("standpipes", "household_connections"):
        served = pd.read_csv(out / f"served_{scenario}.csv").set_index("village")
        assert served.at["Alpha", "served_by"] == "PMP_J_A"
        assert served.at["Alpha", "node"] == "J_A"
        assert served.at["Beta", "served_by"] == "gravity"
        # the written file has one booster, from J_A to its outlet, and Alpha's pipes below
        model = read_network(out / f"sized_{scenario}.inp")
        assert [p for p in model.pump_name_list if p.startswith("PMP_")] == ["PMP_J_A"]
        pump = model.get_link("PMP_J_A")
        assert (pump.start_node_name, pump.end_node_name) == ("J_A", "J_A_PMP")
        assert model.get_link("A1").start_node_name == "J_A_PMP"
    html = (out / "report.html").read_text()
    assert (
        "Douar Beta is served by gravity from the tank T; douar Alpha is pumped by a booster "
        "at node J_A ("
    ) in html


def test_hydro_check_finds_the_written_booster_design_compliant(booster_study):
    _, out = booster_study
    done = run_hydro("check", out / "sized_standpipes.inp")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verdict: COMPLIANT" in done.stdout
    assert "pump PMP_J_A" in done.stdout


def test_the_capital_holds_the_station_and_the_om_its_energy(booster_study):
    _, out = booster_study
    feasibility = pd.read_csv(out / "feasibility.csv").set_index("scenario")
    operation = pd.read_csv(out / "operation.csv").set_index("scenario")
    prices = StationPrices(pump_set_fixed=18_000, pump_set_per_kw=4_500, building=100_000,
                           electrics_fixed=40_000, electrics_per_kw=6_000,
                           power_connection=150_000)  # fmt: skip
    for scenario in ("standpipes", "household_connections"):
        booster = pd.read_csv(out / f"boosters_{scenario}.csv").iloc[0]
        boq = pd.read_csv(out / f"boq_{scenario}.csv")
        station = boq[boq["item"].str.startswith("booster station PMP_J_A: ")]
        # the station from its parts at the booster's own duty (flow, head, efficiency)
        expected = station_cost(booster["flow_l_per_s"] / 1000, booster["head_m"],
                                booster["efficiency"], prices)  # fmt: skip
        assert station["total_mad"].sum() == pytest.approx(expected, abs=MAD_TOL)
        assert booster["capital_mad"] == pytest.approx(expected, abs=MAD_TOL)
        works = boq.loc[boq["category"] != "margin", "total_mad"].sum()
        assert works == pytest.approx(feasibility.at[scenario, "capital_before_margins_mad"])
        # energy: 1 MAD/kWh (the study's energy_per_kwh); the sizing's basis (the design
        # year's average demand all year) in the operation table, the expected use in O&M
        assert operation.at[scenario, "booster_energy_design_average_kwh_per_year"] == (
            pytest.approx(booster["energy_kwh_per_year"])
        )
        bought = feasibility.at[scenario, "bulk_water_m3_per_year"]
        om = booster["energy_kwh_per_m3"] * booster["demand_share"] * bought * 1.0
        assert om > 0
        assert feasibility.at[scenario, "om_booster_energy_mad_per_year"] == pytest.approx(om)
        assert feasibility.at[scenario, "om_energy_mad_per_year"] == pytest.approx(om)


def test_without_a_booster_price_the_study_is_refused_naming_the_fix(tmp_path):
    study = write_booster_study(tmp_path, priced=False)
    done = run_hydro("run", study, "--out", tmp_path / "out")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "error: " in done.stderr and "A_BF1" in done.stderr
    assert "[unit_costs] pump_station, or a station's parts station_*" in done.stderr
    assert "--booster-cost" not in done.stderr


def test_booster_nodes_restrict_the_sites(tmp_path):
    """A booster allowed only at J_T, where the douars' branches part: it pumps Beta too."""
    study = load_study(write_booster_study(tmp_path, nodes='["J_T"]'))
    study = replace(study, taps=replace(study.taps, draws=0))
    o = run_scenario(study, study.scenario("standpipes"), load_inputs(study), random_taps=False)
    assert list(o.boosters["pump"]) == ["PMP_J_T"]
    assert set(o.serving["served_by"]) == {"PMP_J_T"}
    # the note says the sizing's station price; the sizing's own booster notes give way to
    # the study's (the sentence below and boosters_<scenario>.csv)
    assert any("from its parts for a nominal duty of" in n for n in o.notes)
    assert not any(n.startswith(("served by gravity:", "booster PMP_")) for n in o.notes)
    text = serving_text(o, texts("fr"), "fr", "T")
    assert text.startswith("Les villages Alpha, Beta sont pompés par un surpresseur au nœud J_T (")


def test_an_unknown_booster_node_is_refused_naming_the_key(tmp_path):
    """Before anything is computed (:func:`hydro.study.config.load_inputs`)."""
    study = load_study(write_booster_study(tmp_path, nodes='["J_X"]'))
    with pytest.raises(InputError, match=r"\[design\] booster_nodes: 'J_X' is not a junction"):
        load_inputs(study)


def test_the_booster_price_note_reads_in_french():
    """The study's note on the stations' nominal price is in French in a French report (it
    had stayed in English), its numbers in French."""
    note = (
        "booster pumps: each station priced in the sizing at 334,250 MAD, from its parts for a "
        "nominal duty of 1.25 l/s at 30 m; the bill of quantities costs each placed station "
        "at its own duty"
    )
    french = translate(note, "fr")
    assert french.startswith("surpresseurs\u00a0: chaque station")
    assert "334\u202f250\u00a0MAD" in french and "1,25\u00a0l/s" in french
    assert not re.search(r"\b(the|each|station priced|duty)\b", french.replace("station ", ""))
