"""Issue 25, point 4: the funding options, the recommendation and the risks within their range."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest
from conftest import ROOT

from hydro.study.config import load_study
from hydro.study.funding import STUDY_FUNDERS, funding_table, recommend
from hydro.study.labels import TEXT
from hydro.study.report import risk_items

STUDY = ROOT / "studies" / "oujda" / "study.toml"


@pytest.fixture(scope="module")
def money():
    return load_study(STUDY).money


def test_each_funding_option_shares_the_whole_capital(money):
    capital = 337_937.84
    table = funding_table(money, capital)
    options = table.groupby("option", sort=False)
    assert list(options.groups) == [STUDY_FUNDERS, "pager"]
    for _, part in options:
        # whole euros that add up to the capital as printed (rounded to the euro)
        assert part["amount_eur"].sum() == round(capital)
        assert (part["amount_eur"] == part["amount_eur"].round()).all()
        assert part["share"].sum() == pytest.approx(1.0)
    # the foundation and the Wilaya: half each, each against its commitment of EUR 109,000
    own = table[table["option"] == STUDY_FUNDERS].set_index("funder")
    assert own.at["Water Right Foundation", "amount_eur"] == pytest.approx(capital / 2, abs=1)
    assert own.at["Water Right Foundation", "uncommitted_eur"] == pytest.approx(
        own.at["Water Right Foundation", "amount_eur"] - 109_000
    )
    # PAGER practice (docs/sources.md 1.1): ONEE 80%, the commune 15%, households 5%
    pager = table[table["option"] == "pager"].set_index("funder")["amount_eur"]
    assert pager.tolist() == pytest.approx([0.80 * capital, 0.15 * capital, 0.05 * capital], abs=1)


def _row(scenario, capital, against, meets_rules=True):
    return {"scenario": scenario, "capital_donors_eur": capital, "against_range": against,
            "meets_rules": meets_rules}  # fmt: skip


def test_the_recommendation_follows_its_stated_rule(money):
    feasibility = pd.DataFrame(
        [
            _row("cheap_but_failing", 100_000, "within", meets_rules=False),
            _row("above_range", 150_000, "above"),
            _row("within_range", 200_000, "within"),
            _row("dearer_within", 250_000, "within"),
        ]
    )
    rec = recommend(money, feasibility)
    # every rule met, within the range, then the cheapest
    assert rec.scenario == "within_range" and rec.within_range
    # funded by the option leaving the least capital without a commitment: the study's
    # funders (EUR 218,000 committed) rather than PAGER (no commitment given)
    assert rec.option == STUDY_FUNDERS
    assert rec.funding["amount_eur"].sum() == pytest.approx(2 * 200_000)
    # none within the range: the cheapest meeting every rule, said to be above it
    rec = recommend(money, feasibility[feasibility["against_range"] != "within"])
    assert rec.scenario == "above_range" and not rec.within_range
    # nothing meets every rule: no recommendation
    assert recommend(money, feasibility.iloc[:1]) is None


def _ctx(switch_value: float, within: bool):
    """A report context with one parameter varied from 0.8 to 1.2, over budget at both ends."""
    sensitivity = pd.DataFrame(
        {
            "scenario": ["s", "s"],
            "parameter": ["pipe_price_factor"] * 2,
            "label": ["pipe prices"] * 2,
            "value": [0.8, 1.2],
            "capital_donors_eur": [300_000.0, 330_000.0],
            "within_budget": [False, False],
        }
    )
    switch = pd.DataFrame(
        [
            {
                "parameter": "pipe_price_factor",
                "label": "pipe prices",
                "unit": "x",
                "switch_value": switch_value,
                "attainable": True,
                "fits_budget_when": "below",
                "within_range": within,
            }
        ]  # fmt: skip
    )
    feasibility = pd.DataFrame({"scenario": ["s"], "om_recovery_ratio": [1.5]})
    result = SimpleNamespace(
        sensitivity=sensitivity, switch_points=switch, outcomes=[], feasibility=feasibility
    )
    return SimpleNamespace(t=TEXT["en"], lang="en", result=result, labels={"s": "S"})


def test_the_recommended_schemes_funding_is_written(tmp_path):
    """funding.csv: each option's funders for the recommended scheme, adding up to its capital
    (the small study of tests/test_study.py, its recommendation by the stated rule)."""
    from conftest import run_hydro
    from test_study import write_small_study

    path = write_small_study(tmp_path)
    done = run_hydro("-q", "run", path, "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    funding = pd.read_csv(tmp_path / "out" / "funding.csv")
    feasibility = pd.read_csv(tmp_path / "out" / "feasibility.csv").set_index("scenario")
    (scenario,) = set(funding["scenario"])
    capital = feasibility.at[scenario, "capital_donors_eur"]
    whole = funding[funding["phase"] == "one go"]
    for _, part in whole.groupby("option"):
        assert part["amount_eur"].sum() == round(capital)
    # phased when over the budget: phase 1 the plan the budget buys, within it
    if capital > 218_000 + 0.5 and (funding["phase"] == "phase 1").any():
        assert funding.loc[funding["phase"] == "phase 1", "amount_eur"].sum() <= 218_000
    assert feasibility.at[scenario, "meets_rules"]


def test_a_switch_point_outside_its_range_is_not_a_risk():
    items = risk_items(_ctx(0.225, within=False))
    assert len(items) == 1
    assert "0.225" not in items[0]
    assert "stays over budget over the whole range" in items[0]
    # within the range, the switch point is the risk
    items = risk_items(_ctx(0.9, within=True))
    assert "fits the budget if the pipe prices is under 0.900" in items[0]


def test_a_risk_varied_on_another_scenario_names_it():
    """A parameter the sensitivity varies on another scenario than the base one (the share of
    households connected, on the connections scenario) names that scenario in the risks."""
    ctx = _ctx(0.225, within=False)
    other = ctx.result.sensitivity.assign(scenario="h", parameter="household_share",
                                          label="share of households connected")  # fmt: skip
    other["capital_donors_eur"] = [300_000.0, 400_000.0]
    ctx.result.sensitivity = pd.concat([ctx.result.sensitivity, other], ignore_index=True)
    ctx.labels["h"] = "Connections"
    items = risk_items(ctx)
    assert items[0].startswith("share of households connected (scenario Connections): ")
    assert items[1].startswith("pipe prices: ")


def test_over_the_budget_the_recommendation_is_phased(money):
    """Review item 1 (s5): phase 1 the plan the budget buys, by the study's funders within their
    commitments; phase 2 by the next funding option (PAGER), nobody committed yet."""
    from hydro.study.funding import Recommendation, phases

    rec = Recommendation("standpipes", True, STUDY_FUNDERS, pd.DataFrame(),
                         {"capital_donors_eur": 276_936.0})  # fmt: skip
    one, two = phases(money, rec, 217_747.0, 67_786.0)
    assert one.option == STUDY_FUNDERS and one.funding["uncommitted_eur"].sum() == 0
    assert one.funding["amount_eur"].sum() == 217_747
    assert two.option == "pager" and list(two.funding["share"]) == [0.80, 0.15, 0.05]
    assert two.funding["amount_eur"].sum() == 67_786
    assert two.funding["uncommitted_eur"].sum() == 67_786
    # within the budget: no phases
    within = Recommendation("standpipes", True, STUDY_FUNDERS, pd.DataFrame(),
                            {"capital_donors_eur": 200_000.0})  # fmt: skip
    assert phases(money, within, 150_000.0, 50_000.0) is None
    # funding.csv: the one-go table, then phase 1 and phase 2
    from hydro.study.funding import funding_plan

    rec = Recommendation("standpipes", True, STUDY_FUNDERS, funding_table(money, 276_936.0),
                         {"capital_donors_eur": 276_936.0})  # fmt: skip
    plan = pd.Series({"capital_donors_eur": 217_747.0, "phase_2_capital_donors_eur": 67_786.0})
    table = funding_plan(money, rec, plan)
    assert list(dict.fromkeys(table["phase"])) == ["one go", "phase 1", "phase 2"]
    assert table.loc[table["phase"] == "phase 2", "option"].unique().tolist() == ["pager"]


def test_the_keepers_top_up_to_the_minimum_wage_is_costed():
    """Review item 2 (s5): the keepers' shortfall under the minimum wage, a year, and the
    deficit it would make."""
    from hydro.study.report import Section, _operation_lines

    study = load_study(STUDY)
    ctx = SimpleNamespace(t=TEXT["en"], lang="en", study=study)
    f = {
        "om_deficit_lcu_per_year": 31_030.0,
        "om_recovery_ratio": 0.54,
        "keeper_below_minimum_wage": True,
        "keeper_income_lcu_per_month": 228.0,
        "minimum_wage_lcu_per_month": 1648.0,
        "standpipes": 8,
        "vat_works_rate": float("nan"),
    }
    s = Section("x", "x")
    _operation_lines(ctx, s, f)
    keeper = next(b[1] for b in s.blocks if "keeper" in b[1])
    topup = 12 * 8 * (1648 - 228)  # 136,320 MAD a year
    assert f"{topup:,}" in keeper and f"{topup + 31_030:,}" in keeper
    assert "for the rural commune of Ahl Angad to cover" in keeper  # who pays it (s5 review 2)
