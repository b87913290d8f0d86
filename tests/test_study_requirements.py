"""What docs/study_guide.md says a study needs of its network, checked before any computing.

Each case breaks one rule in the small study of tests/test_study.py and expects
:func:`hydro.study.config.load_inputs` (the first thing a run does) to refuse it, naming the
study file, the element and the rule.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
import wntr
from test_study import write_small_study

from hydro.errors import InputError
from hydro.study.config import load_inputs, load_study


def study_with(folder, change_network=None, pump: bool = True, villages_extra: str = ""):
    """The small study, its network changed by ``change_network(wn)``."""
    path = write_small_study(folder, pump=pump)
    if change_network is not None:
        wn = wntr.network.WaterNetworkModel(str(folder / "net.inp"))
        change_network(wn)
        wntr.network.write_inpfile(wn, str(folder / "net.inp"), units="LPS")
    if villages_extra:
        table = folder / "villages.csv"
        table.write_text(table.read_text() + villages_extra)
    return load_study(path)


def test_the_small_study_meets_every_rule(tmp_path):
    (tmp_path / "pumped").mkdir()
    (tmp_path / "gravity").mkdir()
    load_inputs(study_with(tmp_path / "pumped"))
    load_inputs(study_with(tmp_path / "gravity", pump=False))


def test_a_network_without_a_reservoir_is_refused(tmp_path):
    def no_source(wn):
        wn.remove_link("P0")
        wn.remove_node("R_SRC")

    study = study_with(tmp_path, no_source)
    with pytest.raises(InputError, match=r"study.toml: network .*net.inp has no reservoir"):
        load_inputs(study)


def test_a_tank_no_reservoir_reaches_is_refused(tmp_path):
    def cut_main(wn):
        wn.remove_link("RM2")  # J_M to the tank: the tank and the douars stand alone

    study = study_with(tmp_path, cut_main)
    with pytest.raises(InputError, match=r"no reservoir reaches the \[design\] tank 'T'"):
        load_inputs(study)


def test_a_pump_off_the_main_is_refused(tmp_path):
    def pump_in_the_village(wn):
        wn.add_junction("B_UP", elevation=520, coordinates=(1650, 280))
        wn.add_pipe("B3", "B_N1", "B_UP", length=10, diameter=0.1, roughness=140)
        wn.add_curve("C_V", "HEAD", [(0.0, 30.0), (0.001, 25.0), (0.002, 15.0)])
        wn.add_pump("PU_V", "B_UP", "B_BF1", pump_type="HEAD", pump_parameter="C_V")

    path = write_small_study(tmp_path, pump=False)
    wn = wntr.network.WaterNetworkModel(str(tmp_path / "net.inp"))
    pump_in_the_village(wn)
    wntr.network.write_inpfile(wn, str(tmp_path / "net.inp"), units="LPS")
    path.write_text(re.sub(r"\[design\]\n", '[design]\npump = "PU_V"\n', path.read_text()))
    with pytest.raises(InputError, match=r"\[design\] pump 'PU_V' is not on the main .* tank 'T'"):
        load_inputs(load_study(path))


def test_a_village_node_another_source_feeds_is_refused(tmp_path):
    def second_source(wn):
        wn.add_reservoir("R_WELL", base_head=560, coordinates=(2500, 0))
        wn.add_junction("C_BF1", elevation=520, coordinates=(2500, 100))
        wn.add_pipe("C1", "R_WELL", "C_BF1", length=100, diameter=0.1, roughness=140)

    gamma = "Gamma,C_BF1:1,,90,2012,0.01,0.5,1,0,0,0,0,0,0,0\n"
    study = study_with(tmp_path, second_source, villages_extra=gamma)
    with pytest.raises(
        InputError,
        match=r"douar Gamma: standpipe_nodes names node 'C_BF1', which the \[design\] tank 'T' "
        "does not feed",
    ):
        load_inputs(study)


def test_a_break_tank_without_a_pump_is_refused_before_any_scenario_runs(tmp_path):
    path = write_small_study(tmp_path, pump=False)
    path.write_text(
        path.read_text()
        + '\n[[scenarios]]\nname = "bt"\nservice = "standpipes"\nbreak_tank = true\n'
    )
    with pytest.raises(InputError, match=r"scenario bt has break_tank = true, which needs"):
        load_inputs(load_study(path))


def test_the_unit_cost_of_an_element_the_design_holds_is_asked_for_up_front(tmp_path):
    (tmp_path / "prv").mkdir()
    (tmp_path / "bt").mkdir()
    path = write_small_study(tmp_path / "prv", prv=True)  # no pressure_reducing_valve cost
    with pytest.raises(InputError, match=r"give \[unit_costs\] pressure_reducing_valve .* PRV_B"):
        load_inputs(load_study(path))
    path = write_small_study(tmp_path / "bt")
    path.write_text(re.sub(r"\nbreak_tank = \{.*\}\n", "\n", path.read_text()))
    with pytest.raises(
        InputError, match=r"give \[unit_costs\] break_tank .* scenario standpipes_break_tank's"
    ):
        load_inputs(load_study(path))


def test_a_budget_that_cannot_be_searched_is_refused_before_any_scenario_runs(tmp_path):
    (tmp_path / "mixed").mkdir()
    (tmp_path / "many").mkdir()
    path = write_small_study(tmp_path / "mixed")
    path.write_text(
        path.read_text().replace(
            'scenarios = ["standpipes", "household_connections"]',
            'scenarios = ["standpipes", "standpipes_break_tank"]',
        )
    )
    with pytest.raises(InputError, match=r"\[budget\] scenarios .* differ in break_tank"):
        load_inputs(load_study(path))

    def douars(wn):  # 7 more douars, each with a standpipe off J_T
        for k in range(7):
            wn.add_junction(f"D{k}_BF", elevation=530, coordinates=(1400 + 20 * k, 800))
            wn.add_pipe(f"D{k}", "J_T", f"D{k}_BF", length=100, diameter=0.1, roughness=140)

    rows = "".join(f"D{k},D{k}_BF:1,,50,2012,0.01,0.5,1,0,0,0,0,0,0,0\n" for k in range(7))
    study = study_with(tmp_path / "many", douars, villages_extra=rows)
    # 9 douars, 3 options each (not served, standpipes, household connections): 3^9 - 1
    with pytest.raises(InputError, match=r"at most 5,000 plans; .* gives 19,682 \(9 douars"):
        load_inputs(study)
    load_inputs(replace(study, steps={"budget": None}))  # no budget step: nothing to search
