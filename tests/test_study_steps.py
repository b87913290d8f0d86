"""The study as named steps (issue 23): a step replaced or left out without touching the others."""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_study import write_small_study

from hydro.errors import InputError
from hydro.study.config import load_inputs, load_study
from hydro.study.run import STUDY_STEPS, run_study, write_outputs
from hydro.study.scenario import (
    PUMP_STEPS,
    SCENARIO_STEPS,
    chain,
    run_scenario,
    scenario_steps,
    step_storage,
)

#: Tank volume the replaced storage step builds [m3]: far from what the balance gives
FIXED_TANK_M3 = 123.4
MONEY_TOLERANCE_MAD = 0.5


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("steps")
    study = load_study(write_small_study(folder))
    study = replace(study, taps=replace(study.taps, draws=0))  # no random taps: faster
    return study, load_inputs(study)


@pytest.fixture(scope="module")
def reference(small):
    study, data = small
    return run_scenario(study, study.scenarios[0], data)


def test_chain_replaces_and_leaves_out_steps_by_name():
    def mine(run):
        return None

    steps = chain(SCENARIO_STEPS, {"taps": None, "storage": mine})
    names = [n for n, _ in steps]
    assert "taps" not in names
    assert dict(steps)["storage"] is mine
    assert names == [n for n, _ in SCENARIO_STEPS if n != "taps"]  # the others, in order
    with pytest.raises(InputError, match=r"study.toml: no step 'storag'.*did you mean 'storage'"):
        chain(SCENARIO_STEPS, {"storag": None}, "study.toml")


def test_a_study_without_a_pump_has_no_pump_steps(tmp_path):
    (tmp_path / "pumped").mkdir()
    (tmp_path / "gravity").mkdir()
    pumped = load_study(write_small_study(tmp_path / "pumped"))
    gravity = load_study(write_small_study(tmp_path / "gravity", pump=False))
    assert set(PUMP_STEPS) <= {n for n, _ in scenario_steps(pumped)}
    assert not set(PUMP_STEPS) & {n for n, _ in scenario_steps(gravity)}


def test_a_replaced_step_changes_only_what_it_computes(small, reference):
    """Storage replaced by a fixed volume: the tank and its cost line change by exactly
    that volume's price; demand, main, pump and pipes are those of the default chain.
    """
    study, data = small

    def fixed_tank(run):
        step_storage(run)  # the default step, then another volume
        run.tank_m3 = FIXED_TANK_M3

    mine = replace(study, steps={"storage": fixed_tank})
    o = run_scenario(mine, study.scenarios[0], data)
    assert o.tank_m3 == FIXED_TANK_M3 != pytest.approx(reference.tank_m3)
    volume = o.boq[o.boq["item"].str.endswith(": volume")]
    assert float(volume["quantity"].iloc[0]) == pytest.approx(FIXED_TANK_M3)
    assert list(o.rising_main["label"]) == list(reference.rising_main["label"])
    assert o.pump.name == reference.pump.name
    pipes = o.boq[o.boq["category"] == "pipes"].reset_index(drop=True)
    assert pipes.equals(reference.boq[reference.boq["category"] == "pipes"].reset_index(drop=True))
    works = o.capital_before_margins_lcu - reference.capital_before_margins_lcu
    expected = (round(FIXED_TANK_M3, 1) - round(reference.tank_m3, 1)) * study.prices.value(
        "tank_per_m3"
    )
    assert works == pytest.approx(expected, abs=MONEY_TOLERANCE_MAD)


def test_a_skipped_step_leaves_its_result_empty_and_the_others_unchanged(small, reference):
    study, data = small
    mine = replace(study, steps={"surge": None})
    o = run_scenario(mine, study.scenarios[0], data)
    assert reference.surge is not None and o.surge is None and not o.surge_vessel
    margins = 1 + study.prices.value("engineering_share") + study.prices.value("contingency_share")
    vessel = study.prices.value("surge_vessel") * margins if reference.surge_vessel else 0.0
    assert o.capital_lcu == pytest.approx(reference.capital_lcu - vessel, abs=MONEY_TOLERANCE_MAD)
    assert o.energy_kwh_per_day == pytest.approx(reference.energy_kwh_per_day)


def test_a_study_leaves_out_its_budget_sensitivity_and_stress(small, tmp_path):
    """...and still writes its pack, without those tables; a study without a benchmark is
    compared with nothing.
    """
    study, _ = small
    skipped = {"budget": None, "sensitivity": None, "stress": None}
    money = replace(study.money, benchmark_per_beneficiary=None, benchmark_label={})
    mine = replace(study, scenarios=study.scenarios[:1], steps=skipped, money=money)
    result = run_study(mine)
    assert result.budget is None and result.sensitivity.empty and result.stress.empty
    assert len(result.outcomes) == 1 and len(result.feasibility) == 1
    assert not result.assumptions.empty and not result.operation.empty
    assert result.feasibility["against_range"].tolist() == [""]
    assert "benchmark_per_beneficiary" not in set(result.assumptions["parameter"])
    names = {p.name for p in write_outputs(result, tmp_path / "out", "fr")}
    assert {"report.html", "report.xlsx", "feasibility.csv", "boq_standpipes.csv"} <= names
    assert not names & {"sensitivity.csv", "stress.csv", "budget.csv", "tornado.png"}
    page = (tmp_path / "out" / "report.html").read_text()
    assert "ONEP douar" not in page and "projets de douars de l'ONEP" not in page
    assert [n for n, _ in STUDY_STEPS] == [
        "scenarios", "feasibility", "sensitivity", "budget", "calibration", "stress",
        "assumptions", "operation", "gis", "taps_open",
    ]  # fmt: skip


def test_an_unknown_step_is_refused_naming_the_study_file_and_the_steps(small):
    study, _ = small
    with pytest.raises(InputError, match=r"study\.toml: no step 'sensitivty'.*scenarios, "):
        run_study(replace(study, steps={"sensitivty": None}))
