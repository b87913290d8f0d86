"""Inputs refused up front, one message per rule (issue 15): study file, village tables,
catalogues, pump catalogues, networks and command options."""

from __future__ import annotations

import math
import os
import re

import pandas as pd
import pytest
from conftest import ROOT, inp_text, run_hydro

from hydro.catalog import read_catalog
from hydro.compliance import Rules
from hydro.demand import read_villages
from hydro.errors import InputError
from hydro.network import read_network
from hydro.pumps import read_pump_catalog
from hydro.sizing import Targets
from hydro.study import load_study

STUDY = ROOT / "studies" / "oujda" / "study.toml"
VILLAGES = ROOT / "demand_profiles" / "oujda_villages.csv"
PIPES = ROOT / "networks" / "catalogs" / "oujda_pipes.csv"
PUMPS = ROOT / "networks" / "catalogs" / "oujda_pumps.csv"


def study_text() -> str:
    """The Oujda study with its input paths made absolute (so it loads from anywhere)."""
    return STUDY.read_text().replace('"../../', f'"{ROOT}/')


# --------------------------------------------------------------------------- study file
STUDY_RULES = [
    # (what the file says, what it says instead, the message expected)
    ("discount_rate = 0.06", "discount_rate = 50",
     "[money] discount_rate = 50: outside [0, 0.3]: a fraction per year"),
    ("discount_rate = 0.06", "discount_rate = -0.01", "[money] discount_rate = -0.01: outside"),
    ("budget_eur = 218000", "budget_eur = 0", "[money] budget_eur = 0: outside (0, "),
    ("life_years = 25", "life_years = 0", "[money] life_years = 0: outside (0, 100]"),
    ("life_years = 25", "life_years = nan", "[money] life_years = nan: must be a finite number"),
    ("value = 11.1", "value = 0", "[money.currency_per_eur] value = 0: outside (0, 1e+06]"),
    ("engineering_share = { value = 0.10", "engineering_share = { value = 10",
     "[unit_costs.engineering_share] value = 10: outside [0, 1]: a share"),
    ("standpipe = { value = 20000", "standpipe = { value = nan",
     "[unit_costs.standpipe] value = nan: must be a finite number"),
    ("standpipe = { value = 20000", "standpipe = { value = -1",
     "[unit_costs.standpipe] value = -1: outside [0, "),
    ("standpipe = { value = 20000", "standpipe = { valeu = 20000",
     "[unit_costs.standpipe] unknown key 'valeu'; did you mean 'value'?"),
    ("tap_off = {", "tapoff = {", "[unit_costs] unknown key 'tapoff'; did you mean 'tap_off'?"),
    (", source_fr = \"docs/sources.md, 5.4 [E] : vanne",
     ", source_rf = \"docs/sources.md, 5.4 [E] : vanne",
     "[unit_costs.tap_off] unknown key 'source_rf'; did you mean 'source_fr'?"),
    ("source_fr = \"docs/sources.md, 1.3 : 11,1 MAD/EUR recommandé pour 2010-2013 [E]\"",
     "source_fr = 3",
     "[money.currency_per_eur] source_fr = 3: must be a text in quotes"),
    ("[sources_fr]", "[sources_rf]", "unknown key 'sources_rf'; did you mean 'sources_fr'?"),
    ("\nlife = \"docs/sources.md, 4.3 [D] : 25 ans",
     "\nlifetime = \"docs/sources.md, 4.3 [D] : 25 ans",
     "[sources_fr] lifetime has no English note in [sources]"),
    ("curve_up_to_eur = 260000", "curve_up_to_eur = 100000",
     "[budget] curve_up_to_eur = 100000 is below the budget"),
    ("min_distribution_dn_mm = 63", "min_distribution_dn_mm = -63",
     "[design] min_distribution_dn_mm = -63: outside (0, 2000]: a pipe diameter"),
    ("max_pressure_m = 60", "max_pressure_m = nan",
     "[rules] max_pressure_m = nan: must be a finite number"),
    ("base_year = 2012", "base_year = 0", "[design] base_year = 0: outside [1900, 2200]"),
    ("base_year = 2012", "base_year = 2031",
     "[design] horizon_year 2030 is before base_year 2031"),
    ("base_year = 2012", "base_year = 1920", "a design period is at most 100 years"),
    ("base_year = 2012", "base_year = 2012.5", "[design] base_year = 2012.5: must be a whole"),
    ("simulation_hours = 72", "simulation_hours = 1e9",
     "[design] simulation_hours = 1000000000.0: outside (0, 8760]"),
    ('tank = "T_ANGAD"', 'tank = "T_ANGAD"\npumping_hours = 25',
     "[design] pumping_hours = 25: outside (0, 24]"),
    ('tank = "T_ANGAD"', 'tank = "T_ANGAD"\npumpin_hours = 20',
     "[design] unknown key 'pumpin_hours'; did you mean 'pumping_hours'?"),
    ('tank = "T_ANGAD"', "tank = 3", "[design] tank = 3: must be a text in quotes"),
    ("seed = 1", "seed = true", "[design] seed = True: must be a whole number"),
    ("pipe_price_factor = [0.8, 1.2]", "pipe_price_factor = [-1, 0]",
     "[sensitivity] pipe_price_factor = [-1, 0]: -1 is outside [0.1, 5]: a factor"),
    ("growth_rate = [-0.01, 0.03]", "growth_rate = [-0.01, 3]",
     "[sensitivity] growth_rate = [-0.01, 3]: 3 is outside [-0.1, 0.1]: a fraction per year"),
    # one range per key (issue 23): the schema's, not a wider one checked again narrower later
    ("growth_rate = [-0.01, 0.03]", "growth_rate = [-0.01, 0.15]",
     "[sensitivity] growth_rate = [-0.01, 0.15]: 0.15 is outside [-0.1, 0.1]"),
    ("pipe_price_factor = [0.8, 1.2]", "pipe_price_factor = [0.05, 1.2]",
     "[sensitivity] pipe_price_factor = [0.05, 1.2]: 0.05 is outside [0.1, 5]"),
    ('[sensitivity]\nscenario = "standpipes"', '[sensitivity]\nscenario = "standpipe"',
     "[sensitivity] scenario: 'standpipe' is not a scenario of the study"),
    ('scenarios = ["standpipes", "household_connections"]',
     'scenarios = ["standpipes", "household_connection"]',
     "[budget] scenarios: 'household_connection' is not a scenario of the study; one of "),
    ("distribution_velocity_m_per_s = [0.3, 1.5]", "distribution_velocity_m_per_s = [1.5, 0.3]",
     "[rules] distribution_velocity_m_per_s = [1.5, 0.3]: must be [low, high] with low below"),
    ("tank_reserve_share = 0.2", "tank_reserve_share = 2",
     "[rules] tank_reserve_share = 2: outside [0, 1]"),
    ("standpipe_min_pressure_m = 10", "standpipe_min_pressure_m = -5",
     "[rules] standpipe_min_pressure_m = -5: outside [0, 200]"),
    ('{ name = "Water Right Foundation", share = 0.5,',
     '{ name = "Water Right Foundation", share = 0.7,',
     "[money] the funders' shares add up to 1.2, not 1"),
    ('service = "standpipes"', 'service = "standpipe"',
     "[scenarios[0]] service = 'standpipe': must be one of standpipes, household_connections; "
     "did you mean 'standpipes'?"),
    ('name = "household_connections"', 'name = "standpipes"',
     "scenario names must be unique: standpipes repeated"),
    ("[sensitivity]", "[sensitivty]", "unknown key 'sensitivty'; did you mean 'sensitivity'?"),
    ("persons_per_household = 5.5", "persons_per_household = inf",
     "[design] persons_per_household = inf: must be a finite number"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "message"), STUDY_RULES)
def test_study_file_rule_has_its_message(tmp_path, old, new, message):
    text = study_text()
    assert old in text, old
    path = tmp_path / "study.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(InputError) as caught:
        load_study(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_study_file_lists_every_problem_at_once(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(
        study_text()
        .replace("discount_rate = 0.06", "discount_rate = 6")
        .replace("life_years = 25", "life_years = 0")
    )
    with pytest.raises(InputError) as caught:
        load_study(path)
    assert "discount_rate = 6" in str(caught.value) and "life_years = 0" in str(caught.value)


def test_problems_in_different_sections_are_listed_together(tmp_path):
    """A range, a scenario named in [sensitivity] and one in [budget]: one message for all
    (the [budget] scenarios were checked only after the rest had loaded)."""
    path = tmp_path / "study.toml"
    path.write_text(
        study_text()
        .replace("growth_rate = [-0.01, 0.03]", "growth_rate = [0.5, 0.03]")
        .replace('[sensitivity]\nscenario = "standpipes"', '[sensitivity]\nscenario = "nosuch"')
        .replace('scenarios = ["standpipes", "household_connections"]', 'scenarios = ["other"]')
        .replace("curve_up_to_eur = 260000", "curve_up_to_eur = 100000")
    )
    with pytest.raises(InputError) as caught:
        load_study(path)
    message = str(caught.value)
    for part in ("growth_rate = [0.5, 0.03]", "[sensitivity] scenario: 'nosuch'",
                 "[budget] scenarios: 'other'", "curve_up_to_eur = 100000"):  # fmt: skip
        assert part in message, part


def test_zero_budget_is_refused_before_any_computation(tmp_path):
    path = tmp_path / "study.toml"
    path.write_text(study_text().replace("budget_eur = 218000", "budget_eur = 0"))
    done = run_hydro("run", path, "--out", tmp_path / "out", timeout=60)
    assert done.returncode == 1
    assert "budget_eur = 0: outside (0, " in done.stderr
    assert "scenario" not in done.stderr  # nothing was computed
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()


def test_the_oujda_study_passes_validation():
    study = load_study(STUDY)
    assert study.money.discount_rate == pytest.approx(0.06)


# --------------------------------------------------------------------------- village tables
def villages_text() -> str:
    return VILLAGES.read_text()


def write(tmp_path, text: str, name: str = "villages.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def replace_cell(text: str, column: str, row: int, value: str) -> str:
    """The village table with one cell replaced (row counts data rows from 0)."""
    lines = text.splitlines()
    data = [k for k, line in enumerate(lines) if line and not line.startswith("#")]
    header = lines[data[0]].split(",")
    target = data[1 + row]
    cells = re.split(r",(?![^\"]*\"(?:(?:[^\"]*\"){2})*[^\"]*$)", lines[target])
    cells[header.index(column)] = value
    lines[target] = ",".join(cells)
    return "\n".join(lines) + "\n"


VILLAGE_RULES = [
    ("population", "1e12", "population 1e+12 is outside [0, 1e+06]"),
    ("population_year", "0", "population_year 0 is outside [1900, 2200]"),
    ("population_year", "1800", "population_year 1800 is outside [1900, 2200]"),
    ("standpipes", "2.7", "standpipes must be a whole number, got 2.7"),
    ("sheep_goat", "10.5", "sheep_goat must be a whole number"),
    ("household_share", "1.5", "household_share must be in [0, 1]"),
    ("growth_rate", "0.5", "growth_rate 0.5 is outside (-1, 0.2]"),
    ("population", "inf", "population must be finite"),
    ("population", '"0,5"', "(a decimal comma needs a semicolon-separated table"),
    ("cattle", "-3", "cattle must be >= 0"),
]


@pytest.mark.parametrize(("column", "value", "message"), VILLAGE_RULES)
def test_village_table_rule_has_its_message(tmp_path, column, value, message):
    path = write(tmp_path, replace_cell(villages_text(), column, 0, value))
    with pytest.raises(InputError) as caught:
        read_villages(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value) and "Douba" in str(caught.value)


def test_misspelt_optional_column_gets_a_did_you_mean(tmp_path):
    path = write(tmp_path, villages_text().replace(",household_share,", ",houshold_share,"))
    with pytest.raises(InputError, match="unknown column 'houshold_share'; did you mean "):
        read_villages(path)


def test_an_unrelated_extra_column_is_kept_out_of_the_way(tmp_path):
    text = villages_text().replace("mosque_worshippers_per_day\n", "mosque_worshippers_per_day,x\n")
    lines = [line + ",note" if line and line[0].isalpha() and not line.startswith("village")
             else line for line in text.splitlines()]  # fmt: skip
    path = write(tmp_path, "\n".join(lines) + "\n")
    assert sum(line.endswith(",note") for line in lines) == 4  # each douar's row
    original = read_villages(VILLAGES)
    table = read_villages(path)
    # every value read as without the column; the extra column, if kept, is only beside them
    pd.testing.assert_frame_equal(table[list(original.columns)], original)


def test_semicolon_table_with_decimal_commas_reads_like_the_comma_table(tmp_path):
    import csv
    import io

    rows = list(csv.reader(line for line in villages_text().splitlines() if line[:1] != "#"))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL)
    for row in rows:
        writer.writerow([cell.replace(".", ",") for cell in row])
    path = write(tmp_path, out.getvalue())
    french, english = read_villages(path), read_villages(VILLAGES)
    for column in ("population", "growth_rate", "household_share", "standpipes"):
        assert french[column].tolist() == pytest.approx(english[column].tolist())
    assert french["standpipe_shares"].tolist() == english["standpipe_shares"].tolist()


def test_semicolon_table_that_cannot_be_read_says_why(tmp_path):
    path = write(tmp_path, "village;population\nA;1;2;3\n")
    with pytest.raises(InputError, match="cannot read the village table as a semicolon-separated"):
        read_villages(path)


def test_hash_inside_a_douar_name_is_data_not_a_comment(tmp_path):
    text = villages_text()
    first = next(line for line in text.splitlines() if line.startswith("Douba"))
    path = write(tmp_path, text.replace(first, first.replace("Douba", "Douba #2")))
    assert "Douba #2" in read_villages(path)["village"].tolist()


# --------------------------------------------------------------------------- catalogues
def test_duplicate_catalogue_label_at_two_prices_is_refused(tmp_path):
    text = PIPES.read_text().rstrip("\n").splitlines()
    last = text[-1].split(",")
    last[6] = str(float(last[6]) * 2)
    path = write(tmp_path, "\n".join([*text, ",".join(last)]) + "\n", "pipes.csv")
    with pytest.raises(InputError, match=r"describe the same pipe .* at prices .*each label"):
        read_catalog(path)


@pytest.mark.parametrize("value", ["nan", "inf", "-5", "0", "abc", "1e308"])
def test_catalogue_cost_must_be_positive_and_finite(tmp_path, value):
    path = write(tmp_path, "material,inner_diameter_mm,cost_per_m\nPE,50,10\nPE,60," + value + "\n",
                 "pipes.csv")  # fmt: skip
    with pytest.raises(InputError, match="row 2, column cost_per_m: .* positive finite number"):
        read_catalog(path)


def test_catalogue_diameter_must_be_positive_and_finite(tmp_path):
    path = write(tmp_path, "inner_diameter_mm,cost_per_m\ninf,10\n", "pipes.csv")
    with pytest.raises(InputError, match="row 1, column inner_diameter_mm"):
        read_catalog(path)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("MS-X,inf,50,0.6,1000", "flow_l_per_s must be a non-negative finite number"),
        ("MS-X,2,nan,0.6,1000", "head_m must be a non-negative finite number"),
        ("MS-X,0,50,0.6,1000", "need distinct flows, the last above 0"),
        ("MS-X,2,50,1.6,1000", "efficiency is a fraction"),
    ],
)
def test_pump_catalogue_rules(tmp_path, line, message):
    path = write(tmp_path, "pump,flow_l_per_s,head_m,efficiency,price\n" + line + "\n",
                 "pumps.csv")  # fmt: skip
    with pytest.raises(InputError, match=message):
        read_pump_catalog(path)


def test_pump_catalogue_reads_every_row_of_the_file_as_written():
    """Each CSV row (read here by the standard library) is a row of the catalogue, unchanged."""
    import csv

    lines = [line for line in PUMPS.read_text().splitlines() if line and line[0] != "#"]
    rows = list(csv.DictReader(lines))
    table = read_pump_catalog(PUMPS)
    assert len(table) == len(rows) == 21 and table["pump"].nunique() == 7  # 3 points each
    assert table["pump"].tolist() == [row["pump"] for row in rows]
    for column in ("flow_l_per_s", "head_m", "efficiency", "price"):
        assert table[column].tolist() == pytest.approx([float(row[column]) for row in rows])
    best = table[(table["pump"] == "MS-3/100") & (table["efficiency"] > 0.6)].iloc[0]
    assert (best["flow_l_per_s"], best["head_m"], best["price"]) == pytest.approx(
        (3.0, 98.0, 48000.0)
    )


# --------------------------------------------------------------------------- networks
def test_a_file_that_is_not_a_network_is_refused_without_echoing_it(tmp_path):
    secret = tmp_path / "secret.inp"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\nalice:TOPSECRET:1000\n")
    with pytest.raises(InputError) as caught:
        read_network(secret)
    assert "not an EPANET input file" in str(caught.value)
    assert "TOPSECRET" not in str(caught.value) and "root:x" not in str(caught.value)


def test_placeholder_diameters_are_flagged_before_a_run():
    two_loop = ROOT / "networks" / "benchmarks" / "two_loop.inp"
    read_network(two_loop)  # sizing replaces them
    with pytest.raises(InputError, match=r"diameter below 1 mm \(8 pipes\), a placeholder"):
        read_network(two_loop, sized=True)
    done = run_hydro("simulate", two_loop)
    assert done.returncode == 1 and "placeholder" in done.stderr
    assert "e+33" not in done.stdout


def test_rejected_networks_leak_no_file_descriptors(tmp_path):
    """2,000 rejected reads in one process: the descriptor count does not grow."""
    bad = tmp_path / "bad.inp"
    bad.write_text(inp_text(" J1 10 x", " R1 50", " P1 R1 J1 1000 150 130"))
    not_inp = tmp_path / "notes.inp"
    not_inp.write_text("some notes\n")
    before = len(os.listdir("/proc/self/fd"))
    for k in range(2000):
        with pytest.raises(InputError):
            read_network(bad if k % 4 else not_inp)
    assert len(os.listdir("/proc/self/fd")) <= before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.inp", "notes.inp"]


# --------------------------------------------------------------------------- options
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("simulate", "NET", "--duration", "1e12"), "1e+12: outside [0, 8760]: hours"),
        (("simulate", "NET", "--duration", "nan"), "nan: must be a finite number"),
        (("check", "NET", "--tank-reserve", "5"), "--tank-reserve: 5: outside [0, 1)"),
        (("check", "NET", "--year", "0"), "--year: 0: outside [1900, 2200]: a calendar year"),
        (("size", "NET", "--catalog", "C", "--min-pressure", "nan"), "must be a finite number"),
        (("size", "NET", "--catalog", "C", "--min-pressure", "10", "--time-limit", "1e9"),
         "1e+09: outside (0, 86400]: seconds"),
        # issue 28: every option names itself, a short figure, its range; no OverflowError
        (("size", "NET", "--catalog", "C", "--min-pressure", "1e308"),
         "--min-pressure: 1e+308: outside [0, 200]: metres of head"),
        (("size", "NET", "--catalog", "C", "--min-pressure", "10", "--seed", "-1"),
         "--seed: -1: outside [0, 4294967295]"),
        (("taps", "NET", "--year", "99999"), "--year: 99999: outside [1900, 2200]"),
        (("taps", "NET", "--tank-reserve", "nan"), "--tank-reserve: nan: must be a finite"),
        (("taps", "NET", "--tank-reserve", "-1"), "--tank-reserve: -1: outside [0, 1)"),
        (("taps", "NET", "--tank-reserve", "inf"), "--tank-reserve: inf: must be a finite"),
        (("check", "NET", "--tank-reserve", "1"), "--tank-reserve: 1: outside [0, 1)"),
        (("check", "NET", "--year", "1e400"), "--year: expected a year such as 2030"),
    ],
)  # fmt: skip
def test_options_are_bounded(args, message):
    net = str(ROOT / "tests" / "data" / "booster_aqueduct.inp")
    done = run_hydro(*[net if a == "NET" else a for a in args], timeout=60)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()[-1]) < 300  # no 300-digit figure


# --------------------------------------------------------------------------- EPANET's verdicts
NEGATIVE = inp_text(" J1 10 10", " R1 50", " P1 R1 J1 1000 50 130").replace(
    "Duration 0", "Duration 2"
)  # 10 l/s through 1 km of 50 mm: far below zero at J1
UNBALANCED = inp_text(
    " J1 10 10\n J2 12 5\n J3 11 3",
    " R1 60",
    " P1 R1 J1 1000 150 130\n P2 J1 J2 500 100 130\n P3 J2 J3 500 100 130\n P4 J3 J1 500 100 130",
).replace("Headloss H-W", "Headloss H-W\n Trials 1\n Unbalanced CONTINUE")  # one trial: no balance


def test_negative_pressures_are_reported_and_fail_the_check(write_inp):
    path = write_inp(NEGATIVE)
    done = run_hydro("simulate", path)
    assert "Negative pressures (3 step(s), t = 0 to 2 h)" in done.stdout
    assert "negative pressures: EPANET reports them" in done.stdout
    done = run_hydro("check", path, "--duration", "2")
    assert done.returncode == 1
    assert "epanet_negative_pressures (violation)" in done.stdout


def test_non_convergence_is_reported_and_exits_1(write_inp):
    path = write_inp(UNBALANCED)
    done = run_hydro("simulate", path)
    assert done.returncode == 1
    assert "System unbalanced" in done.stdout and "not converged" in done.stdout
    done = run_hydro("check", path, "--duration", "1")
    assert done.returncode == 1 and "epanet_not_converged (violation)" in done.stdout


def test_epanet_warnings_name_the_element_and_the_time():
    from hydro.cli._format import format_warnings
    from hydro.simulation import run_simulation

    results = run_simulation(read_network(ROOT / "tests/data/booster_aqueduct.inp"), duration_h=24)
    warnings = results.warnings
    assert not warnings.empty and set(warnings["element"]) == {"V_TAPOFF"}
    assert warnings["time_h"].between(0, 24).all()
    assert "V_TAPOFF: FCV open but cannot deliver flow" in format_warnings(warnings)
    assert results.converged and not results.negative_pressures


# ----------------------------------------------------------------- the library (issue 28)
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Targets(min_pressure_m=-5), "Targets: min_pressure_m = -5: outside [0, 200]"),
        (lambda: Targets(min_pressure_m=math.nan), "min_pressure_m = nan: must be a finite"),
        (lambda: Targets("10"), "min_pressure_m = '10': must be a number, not a str"),
        (lambda: Targets(10, tank_reserve_share=2), "tank_reserve_share = 2: outside [0, 1)"),
        (lambda: Targets(10, max_velocity_m_per_s=0), "max_velocity_m_per_s = 0: outside (0, 10]"),
        (lambda: Targets(10, node_min_pressure_m={"J1": math.inf}),
         "node_min_pressure_m['J1'] = inf: must be a finite"),
        (lambda: Rules(max_pressure_m="x"), "Rules: max_pressure_m = 'x': must be a number"),
        (lambda: Rules(tank_reserve_share=-0.1), "Rules: tank_reserve_share = -0.1: outside"),
        (lambda: Rules(min_pressure_m={"standpipe": 1e308}),
         "min_pressure_m['standpipe'] = 1e+308: outside [0, 200]"),
        (lambda: Rules(velocity_m_per_s={"distribution": (0.3, 1e308)}),
         "1e+308: outside [0, 1000000]"),
        (lambda: Rules(velocity_m_per_s={"distribution": (0.3, math.nan)}),
         "velocity_m_per_s['distribution'] = nan: must be a finite"),
        (lambda: Rules(velocity_m_per_s={"distribution": 1.5}), "must be a pair (low, high)"),
        (lambda: Rules(pump_efficient_range=(0.7, math.inf)), "pump_efficient_range = inf"),
    ],
)  # fmt: skip
def test_library_targets_and_rules_validate_their_arguments(make, message):
    with pytest.raises(InputError) as caught:
        make()
    assert message in str(caught.value)


def test_library_defaults_still_construct():
    assert Targets(10.0).min_pressure_m == 10.0 and Rules().max_pressure_m == 60.0


# ------------------------------------------------------------- network numbers (issue 28)
NET_NUMBERS = [
    # (junctions, reservoirs, pipes, extra, the message expected)
    (" J1 10 10", " R1 50", " P1 R1 J1 inf 150 130", "",
     "pipe P1: length = inf: must be a finite number in (0, 1000000]"),
    (" J1 10 10", " R1 50", " P1 R1 J1 1e308 150 130", "", "pipe P1: length = 1e+308: outside"),
    (" J1 10 10", " R1 50", " P1 R1 J1 1000 inf 130", "", "pipe P1: diameter = inf"),
    (" J1 10 10", " R1 50", " P1 R1 J1 1000 150 1e308", "",
     "pipe P1: roughness = 1e+308: outside (0, 1000]: a Hazen-Williams C"),
    (" J1 nan 10", " R1 50", " P1 R1 J1 1000 150 130", "", "junction J1: elevation = nan"),
    (" J1 10 nan", " R1 50", " P1 R1 J1 1000 150 130", "", "junction J1: demand = nan"),
    (" J1 10 -5", " R1 50", " P1 R1 J1 1000 150 130", "",
     "junction J1: demand = -0.005: outside [0, 100]: m3/s, 0 to 100 m3/s (a negative demand "
     "is an inflow"),
    (" J1 10 10", " R1 inf", " P1 R1 J1 1000 150 130", "", "reservoir R1: head = inf"),
    (" J1 10 10 PAT", " R1 50", " P1 R1 J1 1000 150 130", "[PATTERNS]\n PAT 1 nan 1\n",
     "pattern PAT: multiplier 2 = nan"),
]  # fmt: skip


@pytest.mark.parametrize(("junctions", "reservoirs", "pipes", "extra", "message"),
                         NET_NUMBERS)  # fmt: skip
def test_every_number_of_a_network_is_finite_and_in_its_range(
    write_inp, junctions, reservoirs, pipes, extra, message
):
    path = write_inp(inp_text(junctions, reservoirs, pipes, extra))
    with pytest.raises(InputError) as caught:
        read_network(path)
    assert message in str(caught.value) and str(path) in str(caught.value)
    done = run_hydro("check", path, "--duration", "1")
    assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr


def test_a_negative_demand_is_accepted_as_an_inflow_when_the_caller_says_so(write_inp):
    path = write_inp(inp_text(" J1 10 10\n J2 10 -2", " R1 50",
                              " P1 R1 J1 1000 150 130\n P2 J1 J2 100 100 130"))  # fmt: skip
    with pytest.raises(InputError, match="junction J2: demand = -0.002"):
        read_network(path)
    assert read_network(path, inflows=True).get_node("J2").base_demand == pytest.approx(-0.002)


TANK_NET = """[TITLE]
tank
[JUNCTIONS]
 J1 10 1
[RESERVOIRS]
 R1 50
[TANKS]
 T1 20 2 1 5 {diameter} 0
[PIPES]
 P1 R1 J1 1000 150 130
 P2 J1 T1 100 100 130
{extra}
[OPTIONS]
 Units LPS
 Headloss H-W
[TIMES]
 Duration 0
{times}
[END]
"""


@pytest.mark.parametrize(
    ("diameter", "message"),
    [("0", "tank T1: diameter = 0: outside (0, 1000]"), ("nan", "tank T1: diameter = nan")],
)
def test_a_tank_needs_a_finite_positive_diameter(write_inp, diameter, message):
    path = write_inp(TANK_NET.format(diameter=diameter, extra="", times=""))
    with pytest.raises(InputError, match=re.escape(message)):
        read_network(path)


def test_a_network_whose_pipes_are_all_closed_names_the_junctions_and_the_closed_links(write_inp):
    path = write_inp(TANK_NET.format(diameter=10, extra="[STATUS]\n P1 Closed\n P2 Closed\n",
                                     times=""))  # fmt: skip
    with pytest.raises(
        InputError, match=r"junction\(s\) J1 not connected .* closed link\(s\): P1, P2"
    ):
        read_network(path)
