"""Issue 14: what the budget buys, the sensitivity, the French report, escaping, the workbook."""

from __future__ import annotations

import csv as csv_lib
import html as html_lib
import itertools
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
from hydro.errors import InputError
from hydro.network import read_network
from hydro.pumps import read_pump_catalog, shutoff_head
from hydro.study.budget import design_to_budget
from hydro.study.config import load_study
from hydro.study.costing import financing, household_bill_per_month, tank_cost
from hydro.study.parts import StudyData
from hydro.study.scenario import run_scenario, trunk_of

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
        read_network(study.inputs.network),
        read_villages(study.inputs.villages),
        read_catalog(study.inputs.pipe_catalog),
        read_pump_catalog(study.inputs.pump_catalog),
    )


# --------------------------------------------------------------------------- budget
#: Alpha gets a second standpipe (A_BF2, 40% of its people) for the budget tests
TWO_STANDPIPES = {"A_BF1": 0.6, "A_BF2": 0.4}


def budget_case(folder):
    """The small scheme with a second standpipe in Alpha: network file and village table."""
    small_network(folder / "two.inp")
    wn = wntr.network.WaterNetworkModel(str(folder / "two.inp"))
    wn.add_junction("A_BF2", elevation=529, coordinates=(1750, 1050))
    wn.add_pipe("A3", "A_N1", "A_BF2", length=150, diameter=0.1, roughness=140)
    wntr.network.write_inpfile(wn, str(folder / "two.inp"), units="LPS")
    text = (folder / "villages.csv").read_text().replace("A_BF1:1,", "A_BF1:0.6; A_BF2:0.4,")
    text = text.replace(",0.8,1,100,", ",0.8,2,100,")  # Alpha: 2 standpipes
    (folder / "two.csv").write_text(text)
    return folder / "two.inp", read_villages(folder / "two.csv")


def brute_force(folder, study, villages, catalog, pumps, specs):
    """Every plan built by hand: each douar not served, on standpipes (Alpha: either or both
    of its two), or on household connections; the network drawn again without the branches
    left out, the village rows cut to the people of the standpipes kept; run end to end.
    Each plan is built on the trunk of its complete scheme.
    Returns (plan, people served, people on connections, donors' capital [EUR])."""
    sp, hh = specs
    # the trunk (tank, main, pump) of each complete scheme, sized once for the whole: every
    # douar in full, on household connections where the plan puts it so, else on standpipes
    full = StudyData(read_network(folder / "two.inp"), villages, catalog, pumps)
    trunks = {
        (la, lb): trunk_of(run_scenario(study, sp, full, random_taps=False,
                                        levels={"Alpha": la, "Beta": lb}))
        for la in (sp, hh) for lb in (sp, hh)
    }  # fmt: skip
    # option -> (level, standpipes kept, pipes and nodes removed)
    alpha = {
        None: (None, (), ["A1", "A2", "A3"], ["A_N1", "A_BF1", "A_BF2"]),
        "BF1": (sp, ("A_BF1",), ["A3"], ["A_BF2"]),
        "BF2": (sp, ("A_BF2",), ["A2"], ["A_BF1"]),
        "both": (sp, ("A_BF1", "A_BF2"), [], []),
        "hh": (hh, ("A_BF1", "A_BF2"), [], []),
    }
    beta = {
        None: (None, (), ["B1", "B2"], ["B_N1", "B_BF1"]),
        "sp": (sp, ("B_BF1",), [], []),
        "hh": (hh, ("B_BF1",), [], []),
    }
    rows = []
    for a, b in itertools.product(alpha, beta):
        if a is None and b is None:
            continue
        wn = wntr.network.WaterNetworkModel(str(folder / "two.inp"))
        part, levels = [], {}
        for douar, (spec, kept, pipes, nodes) in (("Alpha", alpha[a]), ("Beta", beta[b])):
            for pipe in pipes:
                wn.remove_link(pipe)
            for node in nodes:
                wn.remove_node(node)
            if spec is None:
                continue
            row = villages[villages["village"] == douar].iloc[0].to_dict()
            if douar == "Alpha" and len(kept) == 1:
                share = TWO_STANDPIPES[kept[0]]
                row["population"] *= share
                for column in ("sheep_goat", "cattle", "equid", "pupils", "beds",
                               "outpatients_per_day", "mosque_worshippers_per_day"):  # fmt: skip
                    row[column] *= share
                row["standpipes"] = 1
                row["standpipe_shares"] = {kept[0]: 1.0}
            part.append(row)
            levels[douar] = spec
        wntr.network.write_inpfile(wn, str(folder / "bf.inp"), units="LPS")
        table = pd.DataFrame(part)
        data = StudyData(read_network(folder / "bf.inp"), table, catalog, pumps)
        trunk = trunks[(hh if a == "hh" else sp, hh if b == "hh" else sp)]
        o = run_scenario(study, sp, data, random_taps=False, levels=levels, trunk=trunk)
        t = o.projection_open.totals()
        rows.append(((a, b), round(float(t["population"])), round(float(t["people_household"])),
                     financing(study.money, o)["capital_donors_eur"]))  # fmt: skip
    return rows


def frontier(points):
    """Brute-force cost-people curve: (cost, people) of the points no cheaper point matches."""
    out, best = [], -1
    for cost, people in sorted(points, key=lambda p: (p[0], -p[1])):
        if people > best:
            out.append((cost, people))
            best = people
    return out


def test_design_to_budget_equals_brute_force_over_every_plan(small):
    folder, _, study, _, _, catalog, pumps = small
    inp, villages = budget_case(folder)
    wn = read_network(inp)
    specs = [next(s for s in study.scenarios if s.name == n)
             for n in ("standpipes", "household_connections")]  # fmt: skip
    study = replace(study, budget=replace(study.budget, scenarios=[s.name for s in specs]))
    truth = brute_force(folder, study, villages, catalog, pumps, specs)
    assert len(truth) == 5 * 3 - 1
    tolerance = MONEY_TOLERANCE_MAD / study.money.currency_per_eur.value
    skipped = 0
    costs = sorted(c for *_, c in truth)
    # below everything, three budgets between plans, above everything
    between = [(a + b) / 2 for a, b in zip(costs, costs[1:], strict=False)]
    budgets = [costs[0] * 0.9, between[1], between[len(between) // 2], between[-2],
               costs[-1] * 1.1]  # fmt: skip
    for budget in budgets:
        # the curve's reach: everything (a full curve) at the first budgets, the default after
        reach = 1e9 if budget < costs[-1] else None
        s = replace(
            study,
            money=replace(study.money, budget_eur=budget),
            budget=replace(study.budget, curve_up_to_eur=reach),
        )
        result = design_to_budget(s, StudyData(wn, villages, catalog, pumps))
        c = result.candidates
        chosen = c[c["chosen"]]
        fits = [(people, household, -cost, plan) for plan, people, household, cost in truth
                if cost <= budget]  # fmt: skip
        if not fits:
            assert chosen.empty and result.best is None
        else:
            people, household, minus_cost, _ = max(fits)
            assert len(chosen) == 1
            row = chosen.iloc[0]
            assert (row["people_served"], row["people_household"]) == (people, household)
            assert row["capital_donors_eur"] == pytest.approx(-minus_cost, abs=tolerance)
            assert financing(s.money, result.best)["capital_donors_eur"] == pytest.approx(
                -minus_cost, abs=tolerance
            )
        # the curve up to its reach is the brute-force frontier, point for point
        expected = [(cost, people) for cost, people in frontier([(c_, p) for _, p, _, c_ in truth])
                    if cost <= result.curve_up_to_eur]  # fmt: skip
        got = list(zip(result.curve["capital_donors_eur"], result.curve["people_served"],
                       strict=True))  # fmt: skip
        assert len(got) == len(expected)
        for (cost, people), (want_cost, want_people) in zip(got, expected, strict=True):
            assert people == want_people
            assert cost == pytest.approx(want_cost, abs=tolerance)
        # every plan run matches its hand-built twin; plans not run were counted
        assert result.enumerated == len(truth)
        assert len(c) + result.skipped == len(truth)
        skipped += result.skipped
        twins = {plan: cost for plan, _, _, cost in truth}
        for row in c.to_dict("records"):
            kept = row["standpipes_kept_Alpha"]
            a = {"": None, "A_BF1": "BF1", "A_BF2": "BF2", "A_BF1 A_BF2": "both"}[kept]
            if row["level_Alpha"] == "household_connections":
                a = "hh"
            b = {"": None, "standpipes": "sp", "household_connections": "hh"}[row["level_Beta"]]
            assert row["capital_donors_eur"] == pytest.approx(twins[(a, b)], abs=tolerance)
            assert row["capital_lower_bound_donors_eur"] <= row["capital_donors_eur"] + tolerance
    assert skipped > 0  # the pruning was used, and the results above still match brute force


def test_design_to_budget_refuses_too_many_plans_naming_the_file_and_the_limit(small, monkeypatch):
    from hydro.study import budget

    _, _, study, wn, villages, catalog, pumps = small
    monkeypatch.setattr(budget, "MAX_PLANS", 5)  # the small case has 3 x 3 - 1 = 8 plans
    with pytest.raises(InputError) as caught:
        design_to_budget(study, StudyData(wn, villages, catalog, pumps))
    message = str(caught.value)
    assert str(study.path) in message and "at most 5 plans" in message and "gives 8" in message


def test_budget_curve_is_the_frontier_of_verified_designs(small_run):
    _, out = small_run
    curve = pd.read_csv(out / "budget.csv")
    candidates = pd.read_csv(out / "budget_candidates.csv")
    assert {"people_served", "capital_eur", "within_budget", "plan", "phase",
            "level_Alpha", "standpipes_kept_Alpha", "level_Beta", "standpipes_kept_Beta",
            "phase_2_capital_donors_eur", "pressure_class_ok"} <= set(curve.columns)  # fmt: skip
    # phase 2 = the complete scheme less phase 1, plus the phase-1 pipes it reinforces
    phase_2 = (curve["complete_capital_donors_eur"] - curve["capital_donors_eur"]).clip(
        lower=0
    ) + curve["phase_2_reinforcement_donors_eur"]
    assert list(curve["phase_2_capital_donors_eur"]) == pytest.approx(list(phase_2), abs=0.01)
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
    "pump_station_cost": ("capital_donors_eur", +1),
    "tank_cost_factor": ("capital_donors_eur", +1),
    "standpipe_cost": ("capital_donors_eur", +1),
    "household_connection_cost": ("capital_eur", +1),  # the households pay them
    "pipe_price_factor": ("capital_donors_eur", +1),
    "rock_excavation_uplift": ("capital_donors_eur", +1),
    "currency_per_eur": ("capital_donors_eur", -1),
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
    # the source's head re-designs a pumped scheme's main and pump: no one direction
    assert varied == set(DIRECTIONS) | {"source_head_m"}
    head = table[table["parameter"] == "source_head_m"].set_index("end")
    assert head.at["low", "value"] < head.at["high", "value"] and head["compliant"].all()
    for key, (figure, sign) in DIRECTIONS.items():
        part = table[table["parameter"] == key].set_index("end")
        assert part.at["low", "value"] < part.at["high", "value"]
        change = part.at["high", figure] - part.at["low", figure]
        assert sign * change > 0, f"{key}: {figure} moved by {change}"
    switch = pd.read_csv(out / "switch_points.csv").set_index("parameter")
    # the exchange rate: capital in EUR = capital in MAD / rate, so the switch is exact
    base = table[(table["parameter"] == "base") & (table["scenario"] == "standpipes")].iloc[0]
    rate = switch.at["currency_per_eur", "switch_value"]
    assert rate == pytest.approx(base["capital_donors_eur"] * 11.1 / 218000)


# --------------------------------------------------------------------------- money
def test_tank_cost_is_continuous_and_tariff_blocks_bill_each_block(small):
    _, _, study, *_ = small
    step = tank_cost(study.prices, 150.0 + 1e-6) - tank_cost(study.prices, 150.0)
    assert 0 <= step < 0.01  # no jump between the size bands
    # 8.4 m3 a month: 6 m3 at 2.37, 2.4 m3 at 7.39, plus the 6 MAD fee (hand calculation)
    prices = study.prices
    assert household_bill_per_month(prices, 8.4) == pytest.approx(6 * 2.37 + 2.4 * 7.39 + 6)
    assert household_bill_per_month(prices, 4.0) == pytest.approx(4 * 2.37 + 6)


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


def visible_text(page: str, without_section: str | None = None) -> str:
    """The page's text as a reader sees it, without tags, styles, image data (and a section)."""
    page = re.sub(r"<style.*?</style>", "", page, flags=re.S)
    if without_section:
        page = re.sub(rf'<section id="{without_section}">.*?</section>', "", page, flags=re.S)
    page = re.sub(r'src="data:[^"]*"', "", page)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", page))


def test_french_report_has_no_english_label(small_run, tmp_path):
    path, _ = small_run
    done = run_hydro("-q", "run", path, "--out", tmp_path / "fr", "--lang", "fr")
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "fr" / "report.html").read_text()
    # the whole page, the assumptions table included: its notes come from the study file's
    # French notes (source_fr, [sources_fr]) and hydro's own notes in French
    text = visible_text(page)
    assert "construit par l'ONEP/ONEE" in text  # [sources_fr] base_year
    assert "dalle, 2 robinets, compteur, regard" in text  # [unit_costs] standpipe source_fr
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
    # two scenarios whose names and labels share their first 31 characters
    text = text.replace(
        'name = "standpipes_pipes_for_connections"',
        'name = "standpipes_pipes_for_connections_sized_later_a"',
    )
    text = text.replace(
        'name = "standpipes_break_tank"', 'name = "standpipes_pipes_for_connections_sized_later_b"'
    )
    text = text.replace(
        'label = "Standpipes only, break tank between the ONEE main and the booster"',
        'label = "Standpipes now, pipes sized for household connections later, break tank"',
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
                assert c.value not in ("<NA>", "nan", "NaN", "None", "NaT"), (
                    ws.title,
                    c.coordinate,
                )
    assert texts >= 2  # the douar and the source, kept as text
    # every CSV: no text cell that a spreadsheet would run as a formula
    quoted = 0
    for table in (tmp_path / "out").glob("*.csv"):
        with table.open(newline="") as handle:
            for row in csv_lib.reader(handle):
                for cell in row:
                    assert not cell.startswith(("=", "+", "@")), (table.name, cell)
                    quoted += cell.startswith("'=")
    assert quoted >= 2  # the douar, in the demand and feasibility tables at least
    names = book.sheetnames
    assert len(names) == len({n.lower() for n in names})
    boq = [n for n in names if n.startswith("BoQ - Standpipes now")]
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
    shutoff = shutoff_head(curve)  # 133% of the duty head for a fitted single-point curve
    ends = [model.get_node(n) for p in surge["pipe"] for n in
            (model.get_link(p).start_node_name, model.get_link(p).end_node_name)]  # fmt: skip
    static_head = max(n.elevation + n.max_level for n in ends if n.node_type == "Tank")
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
        assert row.shutoff_pressure_m == pytest.approx(suction + shutoff - z, abs=HEAD_TOLERANCE_M)
        # the up-surge at a trip acts on the static head of the full tank, not the steady one
        assert row.upsurge_pressure_m == pytest.approx(
            static_head - z + row.surge_head_m, abs=HEAD_TOLERANCE_M
        )
        assert row.class_ok == (row.shutoff_pressure_m <= row.pressure_class_m)


def test_missing_values_are_empty_cells_in_the_workbook():
    from openpyxl import Workbook

    from hydro.study.workbook import _write_sheet

    frame = pd.DataFrame(
        {
            "curve_point": pd.array([1, pd.NA], dtype="Int64"),
            "capital_donors_eur": [1.5, float("nan")],
            "plan": ["Alpha", None],
        }
    )
    wb = Workbook()
    _write_sheet(wb, "budget", frame, "en", set())
    ws = wb["budget"]
    assert [c.value for c in ws[2]] == [1, 1.5, "Alpha"]
    assert [c.value for c in ws[3]] == [None, None, None]


def test_report_tables_align_text_left_and_numbers_right():
    from hydro.study.report import html_table

    frame = pd.DataFrame(
        {
            "curve_point": ["1", ""],
            "plan_shown": ["Alpha: standpipes (A1)", "<b>Beta</b>"],
            "capital_donors_eur": [190123.2, float("nan")],
        }
    )
    page = str(html_table(frame, "en", "budget"))
    assert page.count('<td class="text">') == 4 and page.count('<th class="text"') == 2
    assert "<td>190,123</td>" in page and "&lt;b&gt;Beta&lt;/b&gt;" in page


def test_beneficiaries_the_budget_covers_are_those_of_the_chosen_plan(small_run):
    _, out = small_run
    feasibility = pd.read_csv(out / "feasibility.csv")
    candidates = pd.read_csv(out / "budget_candidates.csv")
    chosen = candidates[candidates["chosen"]]
    assert len(chosen) == 1
    assert (feasibility["beneficiaries_budget_covers"] == chosen["people_served"].iloc[0]).all()


def test_phase_1_builds_the_trunk_of_the_whole_scheme_once(small):
    """Phase 1 (one douar, within EUR 165,000) is built on the tank, main and pump of the
    complete scheme: phase 2 adds no trunk (no duplicated main), only douars and any
    reinforcement (issue 25, point 4)."""
    folder, _, study, _, _, catalog, pumps = small
    inp, villages = budget_case(folder)
    study = replace(
        study,
        money=replace(study.money, budget_eur=165_000),
        budget=replace(study.budget, scenarios=["standpipes", "household_connections"]),
    )
    result = design_to_budget(study, StudyData(read_network(inp), villages, catalog, pumps))
    phase_1, whole = result.best, result.complete
    assert (
        phase_1.projection_open.totals()["population"]
        < whole.projection_open.totals()["population"]
    )
    assert phase_1.tank_m3 == pytest.approx(whole.tank_m3)
    labels = ["pipe", "label"]
    assert phase_1.rising_main[labels].values.tolist() == whole.rising_main[labels].values.tolist()
    assert phase_1.pump.name == whole.pump.name
    trunk = ["storage", "pumping", "source"]
    lines = ["item", "quantity", "total_lcu"]
    assert (
        phase_1.boq[phase_1.boq["category"].isin(trunk)][lines].values.tolist()
        == whole.boq[whole.boq["category"].isin(trunk)][lines].values.tolist()
    )
    row = result.candidates[result.candidates["chosen"]].iloc[0]
    assert row["phase_2_capital_donors_eur"] == pytest.approx(
        row["complete_capital_donors_eur"]
        - row["capital_donors_eur"]
        + row["phase_2_reinforcement_donors_eur"]
    )
