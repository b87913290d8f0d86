"""The study's pumped path: the pump and its rising main chosen together (issue 24 point 3).

The booster fixture (the former pumped Oujda layout, tests/data/booster_aqueduct.inp and
booster_villages.csv) under the Oujda study file: every combination of a catalogue pump and a
pipe-catalogue entry for the main below the pump is enumerated here by brute force, with its
whole-life cost worked from the catalogues' numbers, and the study's choice must be the
cheapest whose class holds the pump's shut-off.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

import pytest
from conftest import ROOT
from test_study import PUMPED_COSTS

from hydro.pumps import Duty, qualifying_pumps
from hydro.study.config import load_inputs, load_study
from hydro.study.labels import translate
from hydro.study.scenario import run_scenario
from hydro.units import RHO_G

STUDY = ROOT / "studies" / "oujda" / "study.toml"
#: Whole-life costs compared to a part in ten thousand (the study's head losses and the
#: brute force's agree to rounding) [-].
COST_REL_TOL = 1e-4
MAIN = ("RM1", "RM2", "RM3")  # below the pump PU_BOOST, to the tank T_HILL
SOURCE_HEAD_M = 512.0  # R_ONEE
LOWEST_M = 468.0  # J_BOOST, the main's lowest point
TANK_BOTTOM_M, TANK_MIN_M, TANK_MAX_M = 590.0, 0.3, 3.6
PUMPING_HOURS = 20.0
MAX_VELOCITY_M_PER_S = 2.0  # the Oujda study's transmission rule


def booster_study(folder):
    """The Oujda study file on the booster fixture: a booster PU_BOOST, 20 h a day, to T_HILL."""
    text = STUDY.read_text().replace('"../../', f'"{ROOT}/')
    data = ROOT / "tests" / "data"
    text = re.sub(r'network = ".*"', f'network = "{data / "booster_aqueduct.inp"}"', text)
    text = re.sub(r'villages = ".*"', f'villages = "{data / "booster_villages.csv"}"', text)
    text = text.replace(
        'tank = "T_ANGAD"', f'tank = "T_HILL"\npump = "PU_BOOST"\npumping_hours = {PUMPING_HOURS}'
    )
    text = re.sub(r"\nsource_head_m = .*", "", text)  # the fixture's own R_ONEE head
    text = text.replace("[unit_costs]\n", "[unit_costs]\n" + PUMPED_COSTS, 1)
    (folder / "study.toml").write_text(text)
    study = load_study(folder / "study.toml")
    return replace(study, taps=replace(study.taps, draws=0))


def hazen_williams_m(flow, length, diameter, c):
    """Head loss [m], Hazen-Williams in SI (10.667 L Q^1.852 / (C^1.852 D^4.871))."""
    return 10.667 * length * flow**1.852 / (c**1.852 * diameter**4.871)


def brute_force(study, data, flow, suction_pipe):
    """Every (pump, entry) the class allows, with its whole-life cost, cheapest first."""
    wn, table = data.network, data.catalog.table
    length = sum(wn.get_link(p).length for p in MAIN)
    tap0 = wn.get_link("TAP0")
    up = 1.1 * hazen_williams_m(flow, tap0.length, suction_pipe["inner_diameter_mm"] / 1000, 140)
    suction, delivery = SOURCE_HEAD_M - up, TANK_BOTTOM_M + TANK_MAX_M
    i, n = study.money.discount_rate, study.money.life_years
    present_value = ((1 + i) ** n - 1) / (i * (1 + i) ** n)  # of 1 a year over the life
    m3_per_year = flow * PUMPING_HOURS * 3600 * 365
    price_kwh = study.prices.value("energy_per_kwh")
    combos = []
    for _, entry in table.iterrows():
        d = entry["inner_diameter_mm"] / 1000
        if flow / (math.pi * d**2 / 4) > MAX_VELOCITY_M_PER_S:
            continue
        friction = 1.1 * sum(
            hazen_williams_m(flow, wn.get_link(p).length, d, entry["roughness"]) for p in MAIN
        )
        duty = Duty(flow_m3_per_s=flow, head_m=delivery - suction + friction,
                    suction_head_m=suction, delivery_head_m=delivery, friction_m=friction,
                    pumping_hours=PUMPING_HOURS,
                    delivery_low_m=TANK_BOTTOM_M + TANK_MIN_M)  # fmt: skip
        for name, points in data.pumps.groupby("pump"):
            serves = qualifying_pumps(points, duty)  # the pump rule: flow and efficient range
            if not serves:
                continue
            pump = serves[0]
            # at shut-off nothing flows: the source's head plus the curve's zero-flow head
            shutoff = SOURCE_HEAD_M + points["head_m"].max() - LOWEST_M
            if shutoff > entry["pressure_rating_m"]:
                continue
            capital = points["price"].iloc[0] + entry["cost_per_m"] * length
            kwh = RHO_G * pump.head_m / pump.efficiency * m3_per_year / 3.6e6
            combos.append((capital + kwh * price_kwh * present_value, name, entry["label"]))
    return sorted(combos)


@pytest.fixture(scope="module")
def booster(tmp_path_factory):
    study = booster_study(tmp_path_factory.mktemp("booster"))
    data = load_inputs(study)
    outcome = run_scenario(study, study.scenario("standpipes"), data, random_taps=False)
    return study, data, outcome


def test_the_booster_study_takes_the_cheapest_pump_and_main_whole_life(booster):
    study, data, o = booster
    rows = o.rising_main.set_index("pipe")
    combos = brute_force(study, data, o.duty.flow_m3_per_s, rows.loc["TAP0"])
    assert len(combos) > 10  # a real choice: several pumps and classes hold
    cost, pump, label = combos[0]
    assert (o.pump.name, *set(rows.loc[list(MAIN), "label"])) == (pump, label)
    note = next(n for n in o.notes if n.startswith(f"pump {pump} "))
    whole_life = float(re.search(r"looked at: ([\d,]+) MAD", note).group(1).replace(",", ""))
    assert whole_life == pytest.approx(cost, rel=COST_REL_TOL)
    # the runner-up named, at its whole-life cost
    runner_up = re.search(r"the runner-up, (\S+) with (.+): ([\d,]+) MAD", note)
    assert runner_up.group(1, 2) == combos[1][1:]
    assert float(runner_up.group(3).replace(",", "")) == pytest.approx(
        combos[1][0], rel=COST_REL_TOL
    )
    assert f"of {len(combos)} combination(s) whose class holds" in note


def test_the_chosen_pump_and_main_hold_in_the_epanet_run(booster):
    """Verified on the written file as before: the design condition and days of operation
    hold, and the main's class holds the pump's shut-off (before the joint choice: MS-2/110
    on DN75 PN16, 164.0 m at shut-off over PN16's 163.2 m)."""
    _, _, o = booster
    assert o.compliance_design.compliant
    assert o.surge["class_ok"].all()
    written = o.model.get_link("PU_BOOST")
    points = o.model.get_curve(written.pump_curve_name).points
    assert [v for p in points for v in p] == pytest.approx([v for p in o.pump.curve for v in p])


def test_the_choice_s_note_reads_in_french(booster):
    _, _, o = booster
    note = next(n for n in o.notes if n.startswith("pump "))
    french = translate(note, "fr")
    assert french.startswith(f"pompe {o.pump.name} et sa conduite de refoulement")
    assert "la suivante" in french and "pump" not in french.replace(o.pump.name, "")
    assert not re.search(r"\d,\d{3}", french)  # French thousands, not English
