"""The design condition: peak hour and tap flows, tanks at their reserve, for size and check."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from conftest import ROOT, run_hydro

from hydro.cli._format import format_condition
from hydro.compliance import Rules, check_network
from hydro.condition import TAP_FLOWS, design_cases, peak_hour_snapshot, reserve_level
from hydro.demand import open_probability, simultaneous_taps, tap_design, taps_from_model
from hydro.network import read_network
from hydro.sizing import Targets, size_network

PRESSURE_TOL_M = 0.01
OUJDA = ROOT / "tests" / "data" / "booster_aqueduct.inp"
OUJDA_CATALOG = ROOT / "networks" / "catalogs" / "oujda_pipes.csv"

# A standpipe at the end of a trunk and a branch, fed by a reservoir 20 m above every node.
# Hazen-Williams C 140; a flat hourly pattern named "standpipe", so the peak hour asks 0.2 l/s.
TREE_INP = """[TITLE]
hand-worked tree
[JUNCTIONS]
 J   0  0
 S   0  0.2  standpipe
[RESERVOIRS]
 R   20
[PIPES]
 TRUNK   R  J  150  50  140  0  Open
 BRANCH  J  S  250  50  140  0  Open
[PATTERNS]
 standpipe  1 1 1 1 1 1 1 1 1 1 1 1
 standpipe  1 1 1 1 1 1 1 1 1 1 1 1
[OPTIONS]
 Units LPS
 Headloss H-W
[TIMES]
 Duration 0
 Pattern Timestep 1:00
[END]
"""
TREE_CATALOG = """material,inner_diameter_mm,cost_per_m,roughness
PE,20.4,35,140
PE,26.0,40,140
PE,32.6,45,140
PE,40.8,55,140
"""


def _hw_loss_m(flow_l_per_s: float, length_m: float, diameter_mm: float) -> float:
    """EPANET's Hazen-Williams head loss, C = 140 [m]."""
    q, d = flow_l_per_s / 1000, diameter_mm / 1000
    return 10.667 * length_m * q**1.852 / (140**1.852 * d**4.871)


def _size_tree(tmp_path, tap_min):
    from hydro.catalog import read_catalog

    (tmp_path / "tree.inp").write_text(TREE_INP)
    (tmp_path / "cat.csv").write_text(TREE_CATALOG)
    wn = read_network(tmp_path / "tree.inp")
    targets = Targets(10.0, tap_min_pressure_m=tap_min)
    result = size_network(wn, read_catalog(tmp_path / "cat.csv"), targets)
    return {r["pipe"]: r["inner_diameter_mm"] for r in result.table.to_dict("records")}, result


def test_hand_worked_tree_tap_flows_need_larger_pipes_than_the_peak_hour(tmp_path):
    # Hand calculation (head loss in m, H-W C 140; trunk 150 m, branch 250 m, 20 m of head):
    # Peak hour, 0.2 l/s, 10 m at J and S: losses must add up to <= 10 m.
    #   20.4/20.4: 4.10 + 6.83 = 10.93 (fails); 26.0/20.4: 1.26 + 6.83 = 8.09 (14,750, the
    #   cheapest that holds; 20.4/26.0 holds too at 15,250).
    # Tap flows, 2 taps x 0.25 = 0.5 l/s, 5 m at the tap S after the standpipe's riser,
    # valve and meter (3.5 m at 0.5 l/s [E]): 8.5 m at the junction S, 10 m at J: trunk <= 10,
    # sum <= 11.5.
    #   trunk 20.4 loses 22.4 (fails); 26.0/26.0: 6.87 + 11.44 = 18.31 (fails);
    #   32.6/26.0: 2.28 + 11.44 = 13.72 (fails: it held with 5 m at the junction);
    #   26.0/32.6: 6.87 + 3.80 = 10.67 (17,250, the cheapest that holds; 32.6/32.6: 18,000).
    assert _hw_loss_m(0.2, 150, 20.4) + _hw_loss_m(0.2, 250, 20.4) > 10.5
    assert _hw_loss_m(0.2, 150, 26.0) + _hw_loss_m(0.2, 250, 20.4) == pytest.approx(8.09, abs=0.01)
    assert _hw_loss_m(0.5, 150, 26.0) + _hw_loss_m(0.5, 250, 26.0) > 18
    assert _hw_loss_m(0.5, 150, 32.6) + _hw_loss_m(0.5, 250, 26.0) == pytest.approx(13.72, abs=0.01)

    hourly, hourly_result = _size_tree(tmp_path, tap_min=None)
    assert hourly == {"TRUNK": 26.0, "BRANCH": 20.4}
    assert hourly_result.verification.ok and hourly_result.cost == pytest.approx(14_750)

    taps, taps_result = _size_tree(tmp_path, tap_min=5.0)
    assert taps == {"TRUNK": 26.0, "BRANCH": 32.6}
    assert taps_result.cost == pytest.approx(17_250)
    assert taps_result.verification.ok
    rows = taps_result.verification.conditions.set_index("condition")
    # the tap case governs: the junction S at 20 - 10.67 = 9.33 m against 8.5 m (5.83 m at
    # the tap against 5 m)
    assert rows.loc[TAP_FLOWS, "node"] == "S"
    assert rows.loc[TAP_FLOWS, "pressure_m"] == pytest.approx(20 - 10.67, abs=0.02)
    assert rows.loc[TAP_FLOWS, "min_pressure_m"] == pytest.approx(5.0 + 3.5)

    # the hourly design, checked at the tap flows: the tap gets far below 5 m
    wn = read_network(tmp_path / "tree.inp")
    for pipe, d in hourly.items():
        wn.get_link(pipe).diameter = d / 1000
    rules = Rules.from_options(min_pressure_m=10.0)
    checked = check_network(wn, rules, duration_h=0)
    condition = checked.cases[0].condition.set_index(["condition", "node"])
    expected = 20 - _hw_loss_m(0.5, 150, 26.0) - _hw_loss_m(0.5, 250, 20.4)
    assert condition.loc[(TAP_FLOWS, "S"), "pressure_m"] == pytest.approx(expected, abs=0.05)
    assert condition.loc[(TAP_FLOWS, "S"), "demand_l_per_s"] == pytest.approx(0.5)
    assert not checked.compliant
    tap_rows = checked.violations[checked.violations["check"] == "tap_flow"]
    assert list(tap_rows["element"]) == ["S"]
    # the tap, not the junction: 3.5 m of riser, valve and meter below the junction S
    row = condition.loc[(TAP_FLOWS, "S")]
    assert row["local_loss_m"] == pytest.approx(3.5)
    assert row["tap_pressure_m"] == pytest.approx(expected - 3.5, abs=0.05)
    assert row["min_pressure_m"] == pytest.approx(8.5)
    text = format_condition(checked.cases[0].condition)
    assert "governing tap at S (standpipe): " in text and "against 5 m, after 3.50 m" in text


def test_simultaneous_household_flow_is_the_binomial_percentile():
    # Binomial(30, 0.045): P(X <= 4) = 0.9859 < 0.99 <= P(X <= 5) = 0.9962
    p = 0.045
    cdf = [sum(math.comb(30, k) * p**k * (1 - p) ** (30 - k) for k in range(n + 1)) for n in (4, 5)]
    assert cdf[0] < 0.99 <= cdf[1]
    assert simultaneous_taps(30, p) == 5
    assert simultaneous_taps(10, 1.0) == 10
    assert open_probability(0.3, 2, 0.25) == pytest.approx(0.6)


def test_tank_at_its_reserve_and_pump_as_its_level_control_runs_it():
    wn = read_network(OUJDA)
    wn.get_link("PU_BOOST").initial_status = 0  # closed at the start of the run
    model, t = peak_hour_snapshot(wn, 0.2)
    tank = model.get_node("T_HILL")
    assert tank.init_level == pytest.approx(0.3 + 0.2 * (3.6 - 0.3))
    assert reserve_level(tank, 0.2) == pytest.approx(0.96)
    # "Pump PU_BOOST Open IF Tank T_HILL below 1.0": at 0.96 m the pump runs
    assert model.get_link("PU_BOOST").initial_status.name == "Open"
    assert t == pytest.approx(17 * 3600)  # the standpipe pattern's peak (2.25 at 17:00)
    assert wn.get_node("T_HILL").init_level == pytest.approx(2.0)  # the input is untouched


def test_tap_case_asks_each_standpipe_its_taps_flow_and_the_tap_minimum():
    wn = read_network(OUJDA)
    classes = {n: "standpipe" for n in wn.junction_name_list if "_BF" in n}
    taps = tap_design(taps_from_model(wn, classes))
    assert taps["design_flow_l_per_s"].tolist() == pytest.approx([0.5] * 8)  # 8 standpipes
    cases = design_cases(wn, lambda n: 10.0, taps, 5.0, 0.2)
    tap_case = cases[1]
    assert tap_case.demand_l_per_s["OA_BF1"] == pytest.approx(0.5)
    # 5 m at the tap plus the standpipe's riser, valve and meter: 3.5 m at 0.5 l/s [E]
    assert tap_case.minimum_m["OA_BF1"] == pytest.approx(5.0 + 3.5)
    assert tap_case.local_loss_m["OA_BF1"] == pytest.approx(3.5)
    assert "J_A" not in tap_case.local_loss_m
    assert tap_case.minimum_m["J_A"] == pytest.approx(10.0)
    # peak hour: the model's own demand at 17:00 (base x 2.25)
    assert cases[0].demand_l_per_s["OA_BF1"] == pytest.approx(0.099292861027 * 2.25, rel=1e-6)


@pytest.mark.slow
def test_readme_workflow_size_then_check_exits_0(tmp_path):
    out = tmp_path / "oujda_sized.inp"
    done = run_hydro(
        "size", OUJDA, "--catalog", OUJDA_CATALOG, "--min-pressure", "10",
        "--max-velocity", "1.5", "--output", out,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verification: every target met" in done.stdout
    assert "design condition, tap flows" in done.stdout
    checked = run_hydro("check", out)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "COMPLIANT" in checked.stdout
    assert "tap flows: least margin +" in checked.stdout
    assert "tank T_HILL: level" in checked.stdout and "pump PU_BOOST: on" in checked.stdout
    # every standpipe keeps 5 m at its taps' 0.5 l/s, as hydro size said
    sized = read_network(out)
    for name in ("OA_S1", "OM_S2", "DB_S2"):
        assert sized.get_link(name).diameter > 0.0204 + 1e-6  # larger than DN25's 20.4 mm


@pytest.mark.slow
def test_a_smallest_diameter_holds_on_every_sized_pipe_and_the_check_agrees(tmp_path):
    out, report = tmp_path / "sized.inp", tmp_path / "pipes.csv"
    done = run_hydro(
        "size", OUJDA, "--catalog", OUJDA_CATALOG, "--min-pressure", "10",
        "--min-diameter", "63", "--output", out, "--report", report,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    table = pd.read_csv(report)
    assert table["nominal_diameter_mm"].min() == 63  # DN 63 is in the catalogue
    assert run_hydro("check", out).returncode == 0
    done = run_hydro(
        "size", OUJDA, "--catalog", OUJDA_CATALOG, "--min-pressure", "10",
        "--min-diameter", "400", "--output", tmp_path / "none.inp",
    )  # fmt: skip
    assert done.returncode == 1 and "--min-diameter 400: no pipe of" in done.stderr
    assert "largest nominal diameter is 200 mm" in done.stderr
    assert not (tmp_path / "none.inp").exists()


TANK_FED_INP = """[TITLE]
tank-fed village
[JUNCTIONS]
 A    40  0
 B    35  0.15  standpipe
 C    30  0.12  standpipe
 D    36  0.10  standpipe
[TANKS]
 T    55  3.0  0.5  4.0  15  0
[PIPES]
 P1   T  A  400  100  140  0  Open
 P2   A  B  300  100  140  0  Open
 P3   A  C  500  100  140  0  Open
 P4   C  D  250  100  140  0  Open
[PATTERNS]
 standpipe  0.10 0.10 0.10 0.10 0.15 0.39 1.17 1.96 2.15 1.76 1.27 1.08
 standpipe  0.95 0.88 0.98 1.37 1.86 2.25 2.15 1.56 0.88 0.49 0.20 0.10
[OPTIONS]
 Units LPS
 Headloss H-W
[TIMES]
 Duration 72:00
 Hydraulic Timestep 1:00
 Pattern Timestep 1:00
 Report Timestep 1:00
[END]
"""


@pytest.mark.slow
def test_size_then_check_agree_on_a_tank_fed_network(tmp_path):
    net = tmp_path / "tank.inp"
    net.write_text(TANK_FED_INP)
    out = tmp_path / "tank_sized.inp"
    done = run_hydro(
        "size", net, "--catalog", OUJDA_CATALOG, "--min-pressure", "10", "--output", out
    )
    assert done.returncode == 0, done.stdout + done.stderr
    checked = run_hydro("check", out)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # sized with the tank at its reserve (0.5 + 0.2 x 3.5 = 1.2 m), not at its 3 m start
    assert "reserve 1.20 m" in checked.stdout
    # without the reserve, the same sizing at the initial level would be cheaper or equal
    wn = read_network(net)
    from hydro.catalog import read_catalog

    catalog = read_catalog(OUJDA_CATALOG)
    at_reserve = size_network(wn, catalog, Targets(10.0))
    at_start = size_network(wn, catalog, Targets(10.0, tank_reserve_share=(3.0 - 0.5) / 3.5))
    assert at_start.cost <= at_reserve.cost + 1e-6


LOOP_INP = """[TITLE]
small loop with two standpipes
[JUNCTIONS]
 A    0  0
 B    0  0.15  standpipe
 C    0  0.15  standpipe
 D    0  0
[RESERVOIRS]
 R   22
[PIPES]
 P0  R  A  100  50  140  0  Open
 P1  A  B  200  50  140  0  Open
 P2  B  C  200  50  140  0  Open
 P3  C  D  200  50  140  0  Open
 P4  D  A  200  50  140  0  Open
[PATTERNS]
 standpipe  1
[OPTIONS]
 Units LPS
 Headloss H-W
[TIMES]
 Duration 0
[END]
"""


def test_looped_network_is_sized_for_both_cases_and_verified(tmp_path):
    from hydro.catalog import read_catalog

    (tmp_path / "loop.inp").write_text(LOOP_INP)
    (tmp_path / "cat.csv").write_text(TREE_CATALOG)
    wn = read_network(tmp_path / "loop.inp")
    catalog = read_catalog(tmp_path / "cat.csv")
    kwargs = dict(method="looped", seed=1, max_evaluations=3000, time_limit_s=60)
    hourly = size_network(wn, catalog, Targets(10.0, tap_min_pressure_m=None), **kwargs)
    both = size_network(wn, catalog, Targets(10.0), **kwargs)
    assert hourly.verification.ok and both.verification.ok
    rows = both.verification.conditions.set_index("condition")
    assert rows.loc[TAP_FLOWS, "margin_m"] >= -1e-4
    assert both.cost >= hourly.cost  # the tap flows never make a design cheaper
    assert any("then for the tap flows" in note for note in both.notes)


def test_study_file_taps_table_sets_the_taps_of_every_scenario(tmp_path):
    from hydro.demand import project_demand, read_villages
    from hydro.errors import InputError
    from hydro.study.config import load_study
    from hydro.study.scenario import demand_scenario

    text = (ROOT / "studies" / "oujda" / "study.toml").read_text()
    for key in ("network", "villages", "patterns", "pipe_catalog", "pump_catalog"):
        text = text.replace(f'{key} = "../../', f'{key} = "{ROOT}/')
    study_file = tmp_path / "study.toml"
    study_file.write_text(
        text.replace("draws = 2000", "draws = 10\ntaps_per_standpipe = 3\ntap_flow_l_per_s = 0.2")
    )
    study = load_study(study_file)
    scenario = demand_scenario(study, "standpipes")
    assert (scenario.taps_per_standpipe, scenario.tap_flow_l_per_s) == (3, 0.2)
    villages = read_villages(study.inputs.villages)
    taps = project_demand(villages, 2030, scenario).taps()
    assert taps["design_flow_l_per_s"].to_list() == pytest.approx([0.6] * len(taps))
    study_file.write_text(text.replace("draws = 2000", "draws = -1"))
    with pytest.raises(InputError, match=r"\[taps\] draws = -1"):
        load_study(study_file)


def test_node_class_table_gives_taps_and_bad_rows_are_named(tmp_path):
    from hydro.classes import read_tap_table
    from hydro.errors import InputError

    table = tmp_path / "classes.csv"
    table.write_text("element,class,taps,tap_flow_l_per_s\nOA_BF1,standpipe,4,\nJ_A,junction,,\n")
    done = run_hydro("check", OUJDA, "--classes", table)
    assert "OA_BF1 standpipe               1.000" in done.stdout  # 4 taps x 0.25 l/s
    taps = read_tap_table(table)
    assert taps.loc["OA_BF1", "taps"] == 4 and math.isnan(taps.loc["OA_BF1", "tap_flow_l_per_s"])
    table.write_text("element,class,taps\nOA_BF1,standpipe,many\n")
    with pytest.raises(InputError, match=r"row 2: taps of OA_BF1 must be a whole number of taps"):
        read_tap_table(table)


def test_demand_command_lists_taps_per_node():
    done = run_hydro(
        "demand", ROOT / "tests" / "data" / "booster_villages.csv", "--network", OUJDA,
        "--year", "2030", "--scenario", "household_connections",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "taps_open" in done.stdout and "design_flow_l_per_s" in done.stdout
    row = next(line for line in done.stdout.splitlines() if line.strip().startswith("OA_BF1"))
    assert row.split()[-4:] == ["2", "0.25", "2", "0.50"]


def test_split_pipe_design_holds_both_cases_and_bounds_the_single_diameter_cost(tmp_path):
    from hydro.catalog import read_catalog

    (tmp_path / "tree.inp").write_text(TREE_INP)
    (tmp_path / "cat.csv").write_text(TREE_CATALOG)
    wn = read_network(tmp_path / "tree.inp")
    result = size_network(wn, read_catalog(tmp_path / "cat.csv"), Targets(10.0), split=True)
    assert result.verification.ok
    assert result.cost <= 17_250 + 1e-6  # the LP bound is at most the 0-1 optimum (hand-worked)
    rows = result.verification.conditions.set_index("condition")
    assert rows.loc[TAP_FLOWS, "margin_m"] >= -1e-4


def test_classes_and_taps_survive_sizing_so_check_needs_no_options(tmp_path):
    """Size with a class table, then ``hydro check`` on the sized file with no option: the
    standpipe is checked as a standpipe (its minimum, its taps' flow), as with the table.
    """
    from hydro._toolkit import Project

    # the standpipe's pattern is not named "standpipe": only the class table says what S is
    (tmp_path / "tree.inp").write_text(TREE_INP.replace("standpipe", "flat"))
    (tmp_path / "cat.csv").write_text(TREE_CATALOG)
    classes = tmp_path / "classes.csv"
    classes.write_text("element,class,taps,tap_flow_l_per_s\nS,standpipe,3,0.2\n")
    sized = tmp_path / "sized.inp"
    done = run_hydro(
        "size", tmp_path / "tree.inp", "--catalog", tmp_path / "cat.csv", "--min-pressure", "10",
        "--classes", classes, "--output", sized,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    wn = read_network(sized)  # EPANET's parser, then WNTR
    assert wn.get_node("S").tag == "standpipe:3@0.2"
    with Project(sized) as project:  # the EPANET toolkit opens and solves it
        assert project.solve_snapshot() < 100
    plain = run_hydro("check", sized, "--duration", "24")
    tabled = run_hydro("check", sized, "--duration", "24", "--classes", classes)
    assert plain.stdout == tabled.stdout and plain.returncode == tabled.returncode
    assert "S standpipe" in plain.stdout  # the tap flow row: 3 taps x 0.2 l/s
    row = next(line for line in plain.stdout.splitlines() if line.strip().startswith("S "))
    assert row.split()[2] == "0.600"
    # and the library reads the same per-node minimums back
    wn = read_network(sized)
    with_table = check_network(wn, classes={"S": "standpipe"}, duration_h=24)
    without = check_network(wn, duration_h=24)
    columns = ["condition", "node", "class", "demand_l_per_s", "min_pressure_m"]
    pd.testing.assert_frame_equal(
        without.cases[0].condition[columns], with_table.cases[0].condition[columns]
    )
    assert without.cases[0].report.node_classes["S"] == "standpipe"


def test_a_misspelt_class_table_column_is_refused(tmp_path):
    """A newcomer wrote 'tap' for 'taps': the default taps were used without a word."""
    from hydro.classes import read_classes
    from hydro.errors import InputError
    from hydro.network import read_network

    path = tmp_path / "classes.csv"
    path.write_text("element,class,tap,tap_flow_l_per_s\nDB_N1,standpipe,6,0.3\n")
    wn = read_network(ROOT / "tests" / "data" / "booster_aqueduct.inp")
    with pytest.raises(InputError, match="unknown column 'tap'; did you mean 'taps'"):
        read_classes(path, wn)


def test_two_standpipes_at_a_node_each_lose_at_their_own_flow():
    """Issue 24, point 4: 4 taps of 0.25 l/s at one node are two standpipes of 2 taps, each
    with its own riser, valve and meter at 0.5 l/s: 3.5 m, not 3.5 x (1.0 / 0.5)^2 = 14 m
    (the node's whole flow through one riser, as before)."""
    wn = read_network(OUJDA)
    classes = {n: "standpipe" for n in wn.junction_name_list if "_BF" in n}
    taps = tap_design(taps_from_model(wn, classes))
    taps.loc[taps["node"] == "OA_BF1", "taps"] = 4
    taps["design_flow_l_per_s"] = taps["taps"] * taps["tap_flow_l_per_s"]
    tap_case = design_cases(wn, lambda n: 10.0, taps, 5.0, 0.2)[1]
    assert tap_case.demand_l_per_s["OA_BF1"] == pytest.approx(1.0)
    assert tap_case.local_loss_m["OA_BF1"] == pytest.approx(3.5)
    # one standpipe of 4 taps (taps_per_standpipe 4): the 1 l/s through one riser
    taps["taps_per_standpipe"] = 4.0
    tap_case = design_cases(wn, lambda n: 10.0, taps, 5.0, 0.2)[1]
    assert tap_case.local_loss_m["OA_BF1"] == pytest.approx(14.0)
    assert tap_case.local_loss_m["OA_BF2"] == pytest.approx(3.5)  # 2 taps open: 0.5 l/s


def test_village_table_carries_the_taps_per_standpipe_to_the_tap_table():
    from hydro.demand import get_scenario, project_demand, read_villages

    villages = read_villages(ROOT / "demand_profiles" / "oujda_villages.csv")
    taps = project_demand(villages, 2030, get_scenario("standpipes")).taps()
    standpipe = taps[taps["service"] == "standpipe"]
    assert (standpipe["taps_per_standpipe"] == 2).all()
    assert (standpipe["taps"] % 2 == 0).all()


def test_all_taps_open_table_and_hydro_check_writes_it(tmp_path):
    """Issue 24, point 3: the all-taps-open case as a table the study can use, checked at
    the tap (the junction less 3.5 m of riser, valve and meter), worked by hand on the tree:
    0.5 l/s through TRUNK (DN 26.0, 150 m) and BRANCH (DN 20.4, 250 m) from 20 m of head."""
    from hydro.taps import all_taps_open

    path = tmp_path / "tree.inp"
    path.write_text(TREE_INP)
    wn = read_network(path)
    wn.get_link("TRUNK").diameter, wn.get_link("BRANCH").diameter = 0.026, 0.0204
    table = all_taps_open(wn)
    junction = 20 - _hw_loss_m(0.5, 150, 26.0) - _hw_loss_m(0.5, 250, 20.4)
    assert list(table["node"]) == ["S"]
    row = table.iloc[0]
    assert row["governing"] and row["class"] == "standpipe"
    assert row["flow_l_per_s"] == pytest.approx(0.5)
    assert row["junction_pressure_m"] == pytest.approx(junction, abs=0.05)
    assert row["tap_pressure_m"] == pytest.approx(junction - 3.5, abs=0.05)
    assert row["tap_min_pressure_m"] == pytest.approx(5.0)
    assert row["margin_m"] == pytest.approx(junction - 3.5 - 5.0, abs=0.05)
    sized = tmp_path / "sized.inp"
    from hydro.network import write_network

    write_network(wn, sized)
    out = tmp_path / "violations.csv"
    done = run_hydro("check", sized, "--duration", "1", "--out", out)
    assert "all taps open (every standpipe's taps, tanks at their reserve): governing tap at S" in (
        done.stdout
    )
    written = pd.read_csv(tmp_path / "violations_taps_open.csv")
    assert list(written["node"]) == ["S"] and bool(written["governing"].iloc[0])
    assert written["tap_pressure_m"].iloc[0] == pytest.approx(junction - 3.5, abs=0.05)


def test_taps_per_standpipe_survive_sizing_so_check_needs_no_options(tmp_path):
    """Issue 24, point 6: size with a class table of 6 taps at S on standpipes of 3 taps
    (each riser 3 x 0.2 = 0.6 l/s: 3.5 x (0.6 / 0.5)^2 = 5.04 m), then ``hydro check`` on
    the sized file with no option: the same taps per standpipe, the same per-tap result.
    Before, the tag kept 6 taps only and the check took 2 per standpipe (three risers of
    0.4 l/s: 2.24 m), passing a tap that the sizing held to 5.04 m.
    """
    (tmp_path / "tree.inp").write_text(TREE_INP.replace("standpipe", "flat"))
    (tmp_path / "cat.csv").write_text(TREE_CATALOG.replace("PE,40.8,55,140", "PE,40.8,55,140\n"
                                                            "PE,51.4,70,140"))  # fmt: skip
    classes = tmp_path / "classes.csv"
    classes.write_text(
        "element,class,taps,tap_flow_l_per_s,taps_per_standpipe\nS,standpipe,6,0.2,3\n"
    )
    sized = tmp_path / "sized.inp"
    done = run_hydro(
        "size", tmp_path / "tree.inp", "--catalog", tmp_path / "cat.csv", "--min-pressure", "10",
        "--classes", classes, "--output", sized,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert read_network(sized).get_node("S").tag == "standpipe:6@0.2/3"
    plain = run_hydro("check", sized, "--duration", "24")
    tabled = run_hydro("check", sized, "--duration", "24", "--classes", classes)
    assert plain.stdout == tabled.stdout and plain.returncode == tabled.returncode == 0
    wn = read_network(sized)
    table = check_network(wn, duration_h=24).cases[0].condition
    tap_row = table[(table["condition"] == TAP_FLOWS) & (table["node"] == "S")].iloc[0]
    assert tap_row["local_loss_m"] == pytest.approx(3.5 * (0.6 / 0.5) ** 2)
    assert tap_row["min_pressure_m"] == pytest.approx(5.0 + 3.5 * (0.6 / 0.5) ** 2)
    # an old tag (no /3) reads as 2 taps per standpipe, as documented
    wn.get_node("S").tag = "standpipe:6@0.2"
    old = check_network(wn, duration_h=24).cases[0].condition
    old_row = old[(old["condition"] == TAP_FLOWS) & (old["node"] == "S")].iloc[0]
    assert old_row["local_loss_m"] == pytest.approx(3.5 * (0.4 / 0.5) ** 2)


def test_the_fullest_standpipe_sets_the_local_loss():
    """3 taps of 0.25 l/s on standpipes of 2: one standpipe of 2 taps and one of 1; the
    fuller riser carries 0.5 l/s (3.5 m), not the mean 0.375 l/s (1.97 m)."""
    wn = read_network(OUJDA)
    classes = {n: "standpipe" for n in wn.junction_name_list if "_BF" in n}
    taps = tap_design(taps_from_model(wn, classes))
    taps.loc[taps["node"] == "OA_BF1", "taps"] = 3
    taps["design_flow_l_per_s"] = taps["taps"] * taps["tap_flow_l_per_s"]
    tap_case = design_cases(wn, lambda n: 10.0, taps, 5.0, 0.2)[1]
    assert tap_case.local_loss_m["OA_BF1"] == pytest.approx(3.5)


def test_two_douars_standpipes_at_one_node_keep_their_taps_in_the_tag(tmp_path):
    """Two douars with a standpipe of 2 taps each at S: the sizing held S to 4 taps (1 l/s);
    the tag said ``standpipe`` alone, so ``hydro check`` took 2 taps (0.5 l/s) there. Now the
    rows are merged (same tap flow, same taps per standpipe, whole standpipes) and the check
    reads the sizing's tap-flow case back; rows of different tap flows keep the class alone.
    """
    from hydro.classes import tag_node_classes
    from hydro.condition import default_taps

    (tmp_path / "tree.inp").write_text(TREE_INP)
    wn = read_network(tmp_path / "tree.inp")
    rows = pd.DataFrame(
        {
            "node": ["S", "S"],
            "service": "standpipe",
            "village": ["A", "B"],
            "taps": 2,
            "tap_flow_l_per_s": 0.25,
            "peak_hour_l_per_s": 0.1,
            "taps_per_standpipe": 2.0,
        }
    )
    sized = tap_design(rows)
    tag_node_classes(wn, {"S": "standpipe"}, sized)
    assert wn.get_node("S").tag == "standpipe:4@0.25"
    size_case = design_cases(wn, lambda n: 10.0, sized, 5.0, 0.2)[1]
    check_case = design_cases(wn, lambda n: 10.0, default_taps(wn), 5.0, 0.2)[1]
    assert check_case.demand_l_per_s["S"] == pytest.approx(size_case.demand_l_per_s["S"])
    assert check_case.minimum_m["S"] == pytest.approx(size_case.minimum_m["S"])
    rows.loc[1, "tap_flow_l_per_s"] = 0.2
    tag_node_classes(wn, {"S": "standpipe"}, tap_design(rows))
    assert wn.get_node("S").tag == "standpipe"
