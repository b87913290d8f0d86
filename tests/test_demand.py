"""Demand engine: formulas by hand, invariants, bad village data (Oujda model issue)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, run_hydro
from hypothesis import given, settings
from hypothesis import strategies as st

from hydro.demand import (
    HOUSEHOLD_PATTERN,
    SCENARIOS,
    STANDPIPE_PATTERN,
    VILLAGE_RANGES,
    DemandScenario,
    apply_demand,
    check_villages_against_network,
    demand_gross,
    population_projected,
    project_demand,
    read_pattern_csv,
    read_villages,
    taps_needed,
)
from hydro.errors import InputError
from hydro.network import read_network

VILLAGES = ROOT / "tests" / "data" / "booster_villages.csv"
NETWORK = ROOT / "tests" / "data" / "booster_aqueduct.inp"
REL = 1e-9  # relative tolerance of exact arithmetic


def one_village(**overrides) -> pd.DataFrame:
    row = {
        "village": "D",
        "standpipe_nodes": "BF",
        "household_nodes": "N",
        "population": 1000,
        "population_year": 2020,
        "growth_rate": 0.0,
        "household_share": 0.5,
        "standpipes": 2,
        "sheep_goat": 0,
        "cattle": 0,
        "equid": 0,
        "pupils": 0,
        "outpatients_per_day": 0,
        "beds": 0,
        "mosque_worshippers_per_day": 0,
    }
    row.update(overrides)
    table = pd.DataFrame([row])
    table["standpipe_shares"] = [{"BF": 1.0}]
    table["household_shares"] = [{"N": 1.0}]
    return table


def test_compound_growth_by_hand():
    # P = P0 (1 + r)^n: 1,000 x 1.02^10 = 1,218.99 (compound interest formula)
    assert population_projected(1000, 2020, 2030, 0.02) == pytest.approx(1218.994, rel=1e-6)
    assert population_projected(1000, 2020, 2020, 0.05) == pytest.approx(1000)


def test_losses_gross_up_by_both_efficiencies():
    # 25 l/p/d consumed, 95% transmission, 80% distribution: 25 / 0.76 = 32.8947 l/p/d
    assert demand_gross(25, 0.95, 0.80) == pytest.approx(32.894737, rel=1e-6)


def test_standpipe_demand_by_hand():
    """1,000 people on standpipes at 25 l/p/d, +5% public uses, eta_d 0.8, Cpj 1.3, BF peak 2.25."""
    s = SCENARIOS["standpipes"]
    p = project_demand(one_village(), 2020, s)
    d = p.villages.iloc[0]
    consumption_l = 1000 * 25 * 1.05
    assert d["consumption_m3_per_day"] == pytest.approx(consumption_l / 1000, rel=REL)
    assert d["average_day_l_per_s"] == pytest.approx(consumption_l / 0.8 / 86400, rel=REL)
    assert d["source_average_day_l_per_s"] == pytest.approx(consumption_l / 0.76 / 86400, rel=REL)
    assert d["peak_day_l_per_s"] == pytest.approx(consumption_l / 0.8 * 1.3 / 86400, rel=REL)
    assert d["peak_hour_l_per_s"] == pytest.approx(
        consumption_l / 0.8 * 1.3 * 2.25 / 86400, rel=REL
    )
    assert d["l_per_person_day_gross"] == pytest.approx(25 / 0.76, rel=REL)
    # Sphere: 1,000 people / 250 per tap = 4 taps; peak hour 1.111 l/s / 0.25 l/s = 4.4 -> 5 taps
    assert d["taps_needed"] == 5
    assert d["people_per_tap"] == pytest.approx(1000 / 4)


def test_household_scenario_with_institutions_and_livestock_by_hand():
    s = SCENARIOS["household_connections"]
    v = one_village(
        household_share=0.8,
        pupils=100,
        mosque_worshippers_per_day=50,
        sheep_goat=200,
        cattle=10,
        outpatients_per_day=20,
        beds=2,
    )
    d = project_demand(v, 2020, s).villages.iloc[0]
    domestic = 200 * 25 + 800 * 50  # 45,000 l/d
    institutions = 100 * 25 + 50 * 5 + 20 * 10 + 2 * 50  # DCOM and Sphere rates
    livestock = 0.5 * (200 * 5 + 10 * 40)
    total = domestic * 1.10 + institutions + livestock
    assert d["consumption_m3_per_day"] == pytest.approx(total / 1000, rel=REL)
    assert d["institutional_m3_per_day"] == pytest.approx(institutions / 1000, rel=REL)
    assert d["livestock_m3_per_day"] == pytest.approx(livestock / 1000, rel=REL)


def test_peak_hour_from_factor_replaces_the_pattern():
    s = SCENARIOS["standpipes"].with_changes(peak_hour_factor=3.0)
    d = project_demand(one_village(), 2020, s).villages.iloc[0]
    assert d["peak_hour_l_per_s"] == pytest.approx(d["peak_day_l_per_s"] * 3.0, rel=REL)


def test_taps_needed_takes_the_stricter_rule():
    assert taps_needed(1000, 0.1, 250, 0.25) == 4  # people rule
    assert taps_needed(100, 2.0, 250, 0.25) == 8  # flow rule


def test_patterns_average_one():
    assert np.mean(STANDPIPE_PATTERN) == pytest.approx(1.0, abs=1e-12)
    assert np.mean(HOUSEHOLD_PATTERN) == pytest.approx(1.0, abs=1e-12)
    patterns = read_pattern_csv(ROOT / "demand_profiles" / "patterns.csv")
    for values in patterns.values():
        assert len(values) == 24 and np.mean(values) == pytest.approx(1.0, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    pop=st.floats(10, 5000),
    extra=st.floats(0, 5000),
    rate=st.floats(-0.02, 0.05),
    share=st.floats(0, 1),
)
def test_demand_never_falls_when_population_rises(pop, extra, rate, share):
    for s in SCENARIOS.values():
        low = project_demand(
            one_village(population=pop, growth_rate=rate, household_share=share), 2030, s
        ).villages.iloc[0]
        high = project_demand(
            one_village(population=pop + extra, growth_rate=rate, household_share=share), 2030, s
        ).villages.iloc[0]
        for column in ["consumption_m3_per_day", "peak_day_l_per_s", "peak_hour_l_per_s"]:
            assert high[column] >= low[column] - 1e-12


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("year", [2012, 2030])
def test_allocated_total_equals_total_demand(scenario, year):
    villages = read_villages(VILLAGES)
    p = project_demand(villages, year, SCENARIOS[scenario])
    assert p.nodes["peak_day_l_per_s"].sum() == pytest.approx(
        p.villages["peak_day_l_per_s"].sum(), rel=1e-9
    )
    wn = apply_demand(read_network(NETWORK), p)
    base = sum(d.base_value for _, j in wn.junctions() for d in j.demand_timeseries_list)
    assert base * 1000 == pytest.approx(p.villages["peak_day_l_per_s"].sum(), rel=1e-9)
    assert p.table().iloc[-1]["population"] == pytest.approx(p.villages["population"].sum())


def test_apply_demand_does_not_modify_the_network():
    wn = read_network(NETWORK)
    before = {n: j.base_demand for n, j in wn.junctions()}
    apply_demand(wn, project_demand(read_villages(VILLAGES), 2012, SCENARIOS["standpipes"]))
    assert {n: j.base_demand for n, j in wn.junctions()} == before


BAD_VILLAGES = {
    "negative population": ("population", "-5", ["Douba", "population", ">= 0"]),
    "shares not adding up": (
        "standpipe_nodes",
        "DB_BF1:0.5; DB_BF2:0.4",
        ["Douba", "standpipe_nodes", "add up to 0.9"],
    ),
    "not a number": ("pupils", "many", ["Douba", "pupils", "not a number"]),
    "a node of another douar": (
        "standpipe_nodes",
        "DB_BF1:0.5; OM_BF1:0.5",
        ["node 'OM_BF1' is named by village Douba", "Oulad Mimoun", "one village"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_VILLAGES))
def test_bad_village_data_names_douar_and_field(case, tmp_path):
    column, value, fragments = BAD_VILLAGES[case]
    table = pd.read_csv(VILLAGES, comment="#")
    table[column] = table[column].astype(object)
    table.loc[0, column] = value
    path = tmp_path / "villages.csv"
    table.to_csv(path, index=False)
    with pytest.raises(InputError) as info:
        read_villages(path)
    for fragment in [str(path), *fragments]:
        assert fragment in str(info.value)


def test_the_former_column_douar_reads_as_village_with_a_note(tmp_path, caplog):
    text = VILLAGES.read_text(encoding="utf-8")
    assert "\nvillage," in text
    path = tmp_path / "villages.csv"
    path.write_text(text.replace("\nvillage,", "\ndouar,"), encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="hydro.demand"):
        former = read_villages(path)
    pd.testing.assert_frame_equal(former, read_villages(VILLAGES))
    assert "column 'douar' read as 'village'" in caplog.text
    both = pd.read_csv(VILLAGES, comment="#").assign(douar="x")
    both.to_csv(path, index=False)
    with pytest.raises(InputError, match="columns 'douar' and 'village' both given"):
        read_villages(path)


def test_missing_column_is_named(tmp_path):
    table = pd.read_csv(VILLAGES, comment="#").drop(columns=["population"])
    path = tmp_path / "villages.csv"
    table.to_csv(path, index=False)
    with pytest.raises(InputError, match="missing column.*population"):
        read_villages(path)


def test_unknown_node_names_douar_and_node(tmp_path):
    table = pd.read_csv(VILLAGES, comment="#")
    table.loc[1, "household_nodes"] = "OM_N1:0.5; NOWHERE:0.5"
    path = tmp_path / "villages.csv"
    table.to_csv(path, index=False)
    with pytest.raises(InputError, match="Oulad Mimoun.*NOWHERE"):
        check_villages_against_network(read_villages(path), read_network(NETWORK))


def test_scenario_rejects_impossible_values():
    with pytest.raises(InputError, match="distribution_efficiency"):
        DemandScenario(distribution_efficiency=1.5)


def test_hydro_demand_command_adds_up(tmp_path):
    out = tmp_path / "demand.csv"
    done = run_hydro(
        "demand",
        VILLAGES,
        "--network",
        NETWORK,
        "--year",
        "2030",
        "--scenario",
        "standpipes",
        "--out",
        out,
    )
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out)
    villages, total = table.iloc[:-1], table.iloc[-1]
    assert total["village"] == "TOTAL"
    for column in ["population", "peak_day_l_per_s", "consumption_m3_per_day"]:
        assert total[column] == pytest.approx(villages[column].sum(), rel=1e-4)  # CSV rounding
    assert total["l_per_person_day_gross"] == pytest.approx(25 * 1.0 / 0.76, rel=1e-3)


def test_hydro_demand_unknown_scenario_fails_cleanly():
    done = run_hydro(
        "demand",
        VILLAGES,
        "--network",
        NETWORK,
        "--year",
        "2030",
        "--scenario",
        "piped_to_the_moon",
    )
    assert done.returncode == 1 and "unknown scenario" in done.stderr
    assert "Traceback" not in done.stderr


def test_oujda_model_simulates_72_hours_and_opens_in_epanet():
    from hydro._toolkit import Project
    from hydro.simulation import run_simulation

    with Project(NETWORK) as project:  # EPANET's own parser
        assert project.solve_snapshot() < 100
    results = run_simulation(read_network(NETWORK), duration_h=72)
    assert results.pressure.index[-1] == 72 * 3600
    # the booster refills the tank from 1.0 m (its control): it never falls to its reserve
    tank = read_network(NETWORK).get_node("T_HILL")
    reserve_m = tank.min_level + 0.2 * (tank.max_level - tank.min_level)  # 0.96 m
    assert results.tank_level["T_HILL"].min() >= reserve_m
    assert results.tank_level["T_HILL"].max() <= tank.max_level


# --------------------------------------------------------------------------- village numbers
def village_table_with(column: str, value: str, douar: int = 0) -> str:
    """The Oujda village table (3 comment lines, header on line 4) with one cell set."""
    table = pd.read_csv(VILLAGES, comment="#", dtype=str, keep_default_na=False)
    if column not in table.columns:
        table[column] = ""
    table.loc[douar, column] = value
    comments = [line for line in VILLAGES.read_text().splitlines() if line.startswith("#")]
    return "\n".join(comments) + "\n" + table.to_csv(index=False)


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-inf", "NA"])
@pytest.mark.parametrize("column", sorted(VILLAGE_RANGES))
def test_village_table_refuses_a_number_that_is_not_finite(tmp_path, column, value):
    # A literal nan in an optional column used to read as a blank cell (its default), and inf
    # was refused without its row and range (issue 28, point 2).
    path = tmp_path / "villages.csv"
    path.write_text(village_table_with(column, value, douar=1))
    with pytest.raises(InputError) as caught:
        read_villages(path)
    message = str(caught.value)
    rule = VILLAGE_RANGES[column]
    for fragment in (str(path), "row 6", "Oulad Mimoun", column, value, rule.interval):
        assert fragment in message


@pytest.mark.parametrize("column", sorted(VILLAGE_RANGES))
def test_village_table_refuses_a_number_outside_its_range(tmp_path, column):
    rule = VILLAGE_RANGES[column]
    for value in (rule.low - 1, rule.high * 2 + 1, 1e308):
        path = tmp_path / "villages.csv"
        path.write_text(village_table_with(column, f"{value:g}"))
        with pytest.raises(InputError) as caught:
            read_villages(path)
        message = str(caught.value)
        for fragment in (str(path), "row 5", "Douba", column, f"{value:g}", rule.interval):
            assert fragment in message


@pytest.mark.parametrize("column", sorted(VILLAGE_RANGES))
def test_village_table_takes_each_end_of_a_range(tmp_path, column):
    rule = VILLAGE_RANGES[column]
    ends = [rule.high] if rule.open_low else [rule.low, rule.high]
    if column == "population_year":
        ends = [2012]  # the design year must follow it
    for value in ends:
        path = tmp_path / "villages.csv"
        path.write_text(village_table_with(column, f"{value:.17g}"))
        assert read_villages(path)[column].iloc[0] == pytest.approx(value, rel=REL)


def test_village_row_is_the_line_of_the_file(tmp_path):
    lines = village_table_with("cattle", "-1", douar=2).splitlines()
    lines.insert(5, "# a comment between douars")
    lines.insert(6, "")
    path = tmp_path / "villages.csv"
    path.write_text("\n".join(lines) + "\n")
    assert lines[8].startswith("Oulad Chlihe")  # line 9 of the file
    with pytest.raises(InputError, match=r"row 9: village Oulad Chlihe: cattle must be >= 0"):
        read_villages(path)
