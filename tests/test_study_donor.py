"""Issue 14: what the budget buys, the sensitivity, the French report, escaping, the workbook."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import replace

import openpyxl
import pandas as pd
import pytest
import wntr
from conftest import run_hydro
from test_study import small_network, write_small_study

from hydro.catalog import read_catalog
from hydro.demand import read_villages
from hydro.network import read_network
from hydro.pumps import read_pump_catalog
from hydro.study.budget import design_to_budget
from hydro.study.config import load_study
from hydro.study.costing import financing, household_bill_mad_per_month, tank_cost_mad
from hydro.study.scenario import run_scenario

MONEY_TOLERANCE_MAD = 0.5
#: EPANET's heads from two runs of the same file, written with 10 significant digits
HEAD_TOLERANCE_M = 1e-3


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("donor")
    path = write_small_study(folder)
    study = load_study(path)
    return (
        folder,
        path,
        study,
        read_network(study.network),
        read_villages(study.villages),
        read_catalog(study.pipe_catalog),
        read_pump_catalog(study.pump_catalog),
    )


# --------------------------------------------------------------------------- budget
def brute_force(folder, study, villages, catalog, pumps, specs):
    """Every choice of douars and service level built by hand (the network drawn again
    without the branch of the douar left out), run end to end: people served and the donors'
    capital."""
    branches = {"Alpha": ["A1", "A2"], "Beta": ["B1", "B2"]}
    leaves = {"Alpha": ["A_N1", "A_BF1"], "Beta": ["B_N1", "B_BF1"]}
    rows = []
    choices = [(spec, douars) for spec in specs
               for douars in (("Alpha",), ("Beta",), ("Alpha", "Beta"))]  # fmt: skip
    for spec, chosen in choices:
        small_network(folder / "bf.inp")
        wn = wntr.network.WaterNetworkModel(str(folder / "bf.inp"))
        for douar in {"Alpha", "Beta"} - set(chosen):
            for pipe in branches[douar]:
                wn.remove_link(pipe)
            for node in leaves[douar]:
                wn.remove_node(node)
        wntr.network.write_inpfile(wn, str(folder / "bf.inp"), units="LPS")
        part = villages[villages["douar"].isin(chosen)].reset_index(drop=True)
        o = run_scenario(study, spec, read_network(folder / "bf.inp"), part, catalog, pumps)
        rows.append(
            (
                (spec.name, chosen),
                float(o.projection_open.totals()["population"]),
                financing(study, o)["capital_donors_eur"],
            )
        )
    return rows


def test_design_to_budget_equals_brute_force_over_every_choice(small):
    folder, _, study, wn, villages, catalog, pumps = small
    specs = [s for s in study.scenarios if s.name in ("standpipes", "household_connections")]
    study = replace(study, budget_scenarios=[s.name for s in specs])
    truth = brute_force(folder, study, villages, catalog, pumps, specs)
    costs = sorted(c for _, _, c in truth)
    # budgets below everything, between each pair of choices, and above everything
    budgets = (
        [costs[0] * 0.9]
        + [(a + b) / 2 for a, b in zip(costs, costs[1:], strict=False)]
        + [costs[-1] * 1.1]
    )
    for budget in budgets:
        s = replace(study, budget_eur=budget)
        result = design_to_budget(s, wn, villages, catalog, pumps)
        fits = [(people, -cost, chosen) for chosen, people, cost in truth if cost <= budget]
        chosen = result.candidates[result.candidates["chosen"]]
        if not fits:
            assert chosen.empty and result.best is None
            continue
        people, minus_cost, (scenario, douars) = max(fits)
        assert len(chosen) == 1
        assert chosen["scenario"].iloc[0] == scenario
        assert chosen["douars"].iloc[0] == "; ".join(douars)
        assert chosen["people_served"].iloc[0] == round(people)
        assert chosen["capital_donors_eur"].iloc[0] == pytest.approx(
            -minus_cost, abs=MONEY_TOLERANCE_MAD / 11.1
        )
    # every choice was evaluated, and each matches its hand-built twin
    assert len(result.candidates) == 2 * (2**2 - 1)
    for (scenario, chosen), _, cost in truth:
        c = result.candidates
        row = c[(c["scenario"] == scenario) & (c["douars"] == "; ".join(chosen))].iloc[0]
        assert row["capital_donors_eur"] == pytest.approx(cost, abs=MONEY_TOLERANCE_MAD / 11.1)


def test_budget_curve_is_the_frontier_of_verified_designs(small_run):
    _, out = small_run
    curve = pd.read_csv(out / "budget.csv")
    candidates = pd.read_csv(out / "budget_candidates.csv")
    assert {"people_served", "capital_eur", "within_budget"} <= set(curve.columns)
    assert curve["capital_donors_eur"].is_monotonic_increasing
    assert curve["people_served"].is_monotonic_increasing
    for row in candidates.itertuples():  # nothing off the curve beats a point of it
        cheaper = curve[curve["capital_donors_eur"] <= row.capital_donors_eur + 1e-6]
        assert cheaper.empty or cheaper["people_served"].max() >= row.people_served
    assert curve["compliant"].all()  # each point: its own EPANET run met the rules
    assert (curve["within_budget"] == (curve["capital_donors_eur"] <= 218000)).all()


# --------------------------------------------------------------------------- sensitivity
@pytest.fixture(scope="module")
def small_run(small):
    folder, path, *_ = small
    out = folder / "out"
    done = run_hydro("-q", "run", path, "--out", out)
    assert done.returncode == 0, done.stderr
    return path, out


#: parameter -> (figure it moves, +1 when a higher value raises it, -1 when it lowers it)
DIRECTIONS = {
    "pump_station_mad": ("capital_donors_eur", +1),
    "tank_cost_factor": ("capital_donors_eur", +1),
    "standpipe_mad": ("capital_donors_eur", +1),
    "household_connection_mad": ("capital_eur", +1),  # the households pay them
    "pipe_price_factor": ("capital_donors_eur", +1),
    "rock_excavation_uplift": ("capital_donors_eur", +1),
    "mad_per_eur": ("capital_donors_eur", -1),
    "connection_share_factor": ("capital_eur", +1),
    "per_capita_demand_factor": ("capital_donors_eur", +1),
    "growth_rate": ("capital_donors_eur", +1),
    "bulk_water_per_m3": ("om_recovery_ratio", -1),
    "standpipe_use_l_per_person_day": ("om_recovery_ratio", +1),
}


def test_every_sensitivity_parameter_moves_its_figure_the_right_way(small_run):
    _, out = small_run
    table = pd.read_csv(out / "sensitivity.csv")
    varied = set(table["parameter"]) - {"base"}
    assert varied == set(DIRECTIONS)
    for key, (figure, sign) in DIRECTIONS.items():
        part = table[table["parameter"] == key].set_index("end")
        assert part.at["low", "value"] < part.at["high", "value"]
        change = part.at["high", figure] - part.at["low", figure]
        assert sign * change > 0, f"{key}: {figure} moved by {change}"
    switch = pd.read_csv(out / "switch_points.csv").set_index("parameter")
    # the exchange rate: capital in EUR = capital in MAD / rate, so the switch is exact
    base = table[(table["parameter"] == "base") & (table["scenario"] == "standpipes")].iloc[0]
    rate = switch.at["mad_per_eur", "switch_value"]
    assert rate == pytest.approx(base["capital_donors_eur"] * 11.1 / 218000)


# --------------------------------------------------------------------------- money
def test_tank_cost_is_continuous_and_tariff_blocks_bill_each_block(small):
    _, _, study, *_ = small
    step = tank_cost_mad(study, 150.0 + 1e-6) - tank_cost_mad(study, 150.0)
    assert 0 <= step < 0.01  # no jump between the size bands
    # 8.4 m3 a month: 6 m3 at 2.37, 2.4 m3 at 7.39, plus the 6 MAD fee (hand calculation)
    assert household_bill_mad_per_month(study, 8.4) == pytest.approx(6 * 2.37 + 2.4 * 7.39 + 6)
    assert household_bill_mad_per_month(study, 4.0) == pytest.approx(4 * 2.37 + 6)


def test_om_counts_bulk_water_and_the_keeper_once(small_run):
    _, out = small_run
    f = pd.read_csv(out / "feasibility.csv").set_index("scenario")
    row = f.loc["standpipes"]
    # keepers live on their margin: no salary; bulk water bought with the network's losses
    assert row["om_keepers_mad_per_year"] == 0
    assert row["bulk_water_m3_per_year"] == pytest.approx(
        row["expected_consumption_m3_per_year"] / (0.95 * 0.80)
    )
    assert row["om_bulk_water_mad_per_year"] == pytest.approx(4.0 * row["bulk_water_m3_per_year"])
    parts = (
        "om_maintenance_mad_per_year",
        "om_energy_mad_per_year",
        "om_keepers_mad_per_year",
        "om_bulk_water_mad_per_year",
    )
    assert sum(row[p] for p in parts) == pytest.approx(row["om_mad_per_year"])
    assert row["om_recovery_ratio"] == pytest.approx(
        row["tariff_revenue_mad_per_year"] / row["om_mad_per_year"]
    )


# --------------------------------------------------------------------------- French
#: English words and phrases of the report's labels; none may be left in the French page.
ENGLISH_LABELS = [
    "Feasibility report",
    "Executive summary",
    "Summary",
    "Scenario",
    "scenarios",
    "Bill of quantities",
    "Sensitivity",
    "Assumptions",
    "Beneficiaries",
    "standpipe",
    "Standpipes",
    "household",
    "connection",
    "within",
    "above",
    "below",
    "over budget",
    "Capital",
    "Headroom",
    "Pipe",
    "pipes",
    "tank",
    "pump",
    "People",
    "Delivered",
    "Lowest pressure",
    "yes",
    "contingencies",
    "engineering",
    "ground reservoir",
    "booster",
    "tap-off",
    "break tank",
    "surge",
    "donors",
    "households",
    "operator",
    "as designed",
    "out of service",
    "unsized",
    "Paid by",
    "budget buys",
    "Quantity",
    "Unit price",
    "Amount",
    "Item",
    "Category",
    "Verdict line",
    "Douars served",
    "Within budget",
    "Schedule",
    "Management",
    "Indicators",
    "Risks",
    "To be completed",
    "level [m]",
    "time [h]",
    "per beneficiary",
    "recovery",
    "rock excavation",
    "exchange rate",
    "growth",
    "bulk water",
    "Switch",
    "Attainable",
    "n/a",
    "l/person/day",
    "FEASIBLE",
]


def visible_text(page: str, without_section: str) -> str:
    """The page's text as a reader sees it, without tags, styles, image data and one section."""
    page = re.sub(r"<style.*?</style>", "", page, flags=re.S)
    page = re.sub(rf'<section id="{without_section}">.*?</section>', "", page, flags=re.S)
    page = re.sub(r'src="data:[^"]*"', "", page)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", page))


def test_french_report_has_no_english_label(small_run, tmp_path):
    path, _ = small_run
    done = run_hydro("-q", "run", path, "--out", tmp_path / "fr", "--lang", "fr")
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "fr" / "report.html").read_text()
    # the assumptions table quotes the study file's keys and sources as written: left out
    text = visible_text(page, "assumptions")
    found = [w for w in ENGLISH_LABELS if re.search(rf"(?<![\w/_-]){re.escape(w)}(?![\w_-])", text)]
    assert found == []
    # the check can fail: the English page has them
    english = visible_text((small_run[1] / "report.html").read_text(), "assumptions")
    assert "Bill of quantities" in english and "standpipe" in english.lower()
    # French number format: thousands with a narrow no-break space, decimal comma
    assert re.search(r"\d\u202f\d{3}", text) and re.search(r"\d,\d", text)
    # no English thousands (3,602,694): French decimals of numbers from 1 up have 2 digits
    assert not re.search(r"(?<![\d,.\u202f])[1-9]\d{0,2},\d{3}(?!\d)", text)


# --------------------------------------------------------------------------- escaping
def test_user_text_is_escaped_in_the_page_and_never_a_formula_in_the_workbook(tmp_path):
    path = write_small_study(tmp_path)
    text = path.read_text()
    text = text.replace(
        'title = "Rural aqueduct', 'title = "<script>alert(1)</script> Rural aqueduct'
    )
    text = text.replace('label = "Standpipes only"', "label = '\"><script>alert(2)</script>'")
    text = text.replace(
        'source = "docs/sources.md, 5.4 [E]: 20,000',
        'source = "=1+1 docs/sources.md, 5.4 [E]: 20,000',
    )
    # two scenarios whose names share their first 31 characters
    text = text.replace(
        'name = "standpipes_pipes_for_connections"',
        'name = "standpipes_pipes_for_connections_sized_later_a"',
    )
    text = text.replace(
        'name = "standpipes_break_tank"', 'name = "standpipes_pipes_for_connections_sized_later_b"'
    )
    path.write_text(text)
    villages = (tmp_path / "villages.csv").read_text().replace("\nAlpha,", "\n=HYPERLINK(1),")
    (tmp_path / "villages.csv").write_text(villages)
    done = run_hydro("-q", "run", path, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "out" / "report.html").read_text()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'alt="&#34;&gt;&lt;script&gt;alert(2)' in page or 'alt="&quot;&gt;&lt;script&gt;' in page
    book = openpyxl.load_workbook(tmp_path / "out" / "report.xlsx")
    texts = 0
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":  # our own totals only
                    assert re.fullmatch(r"=SUM\([A-Z]+2:[A-Z]+\d+\)", c.value), (ws.title, c.value)
                elif isinstance(c.value, str) and c.value.startswith("="):
                    texts += 1
    assert texts >= 2  # the douar and the source, kept as text
    names = book.sheetnames
    assert len(names) == len({n.lower() for n in names})
    boq = [n for n in names if n.startswith("boq_standpipes_pipes_for_co")]
    assert len(boq) == 2
    for sheet, scenario in zip(boq, ("a", "b"), strict=True):
        csv = pd.read_csv(
            tmp_path / "out" / f"boq_standpipes_pipes_for_connections_sized_later_{scenario}.csv"
        )
        assert book[sheet].max_row == len(csv) + 2  # header, the bill, the total


# --------------------------------------------------------------------------- surge
def test_rising_main_check_against_a_hand_calculation(small_run):
    """Each surge row from the written design's own 72 h run: Korteweg wave speed from the
    pipe wall, Joukowsky a v / g, and the shut-off head on top of the highest suction head."""
    from hydro.simulation import run_simulation

    _, out = small_run
    surge = pd.read_csv(out / "surge_standpipes.csv")
    model = read_network(out / "sized_standpipes.inp")
    results = run_simulation(model, duration_h=72)
    when = results.flow["PU"].idxmax()
    suction = results.head["J_IN"].max()
    curve = model.get_curve(model.get_link("PU").pump_curve_name).points
    shutoff_head = max(head for _, head in curve)
    assert list(surge["pipe"]) == ["RM1", "RM2"]  # downstream of the pump, in flow order
    for row in surge.itertuples():
        pipe = model.get_link(row.pipe)
        dn = float(re.search(r"DN(\d+)", pipe.tag).group(1))
        wall = (dn / 1000 - pipe.diameter) / 2
        k, rho, e = 2.15e9, 999.0, 1.1e9  # water; PE100 short-term modulus
        a = (k / rho) ** 0.5 / (1 + k * pipe.diameter / (e * wall)) ** 0.5
        v = abs(results.velocity.at[when, row.pipe])
        assert row.wave_speed_m_per_s == pytest.approx(a, rel=1e-6)
        assert row.surge_head_m == pytest.approx(a * v / 9.80665, rel=1e-3)
        low = min((pipe.start_node_name, pipe.end_node_name),
                  key=lambda n: model.get_node(n).elevation if n in model.junction_name_list
                  else 1e9)  # fmt: skip
        z = model.get_node(low).elevation
        assert row.shutoff_pressure_m == pytest.approx(
            suction + shutoff_head - z, abs=HEAD_TOLERANCE_M
        )
        assert row.class_ok == (row.shutoff_pressure_m <= row.pressure_class_m)
