"""Issue 25, point 3: the economics of a design study on the water expected and the assets built.

Household revenue on expected use and on the connections costed; maintenance by asset class
on the works only; the keeper's income against the minimum wage; capital per m3 on the
expected use; VAT stated. On the small scheme of tests/test_study.py (the Oujda study file).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_study import write_small_study

from hydro.errors import InputError
from hydro.study.config import load_inputs, load_study
from hydro.study.costing import (
    feasibility_row,
    household_bill_per_month,
    maintenance_class,
    operating_account,
)
from hydro.study.parts import Cost
from hydro.study.scenario import run_scenario
from hydro.units import DAYS_PER_YEAR

MONEY_TOLERANCE = 0.01  # [currency]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The small study and its standpipe and household-connection designs."""
    folder = tmp_path_factory.mktemp("economics")
    study = load_study(write_small_study(folder))
    data = load_inputs(study)
    outcomes = {
        name: run_scenario(study, study.scenario(name), data, random_taps=False)
        for name in ("standpipes", "household_connections")
    }
    return study, data, outcomes


def _with_cost(study, key, value, unit=""):
    costs = {**study.prices.costs, key: Cost(value, unit, "test")}
    return replace(study, prices=replace(study.prices, costs=costs))


def test_household_revenue_is_on_expected_use_and_the_connections_costed(small):
    study, _, outcomes = small
    o = outcomes["household_connections"]
    account = operating_account(study, o)
    costed = o.boq.loc[o.boq["category"] == "connections", "quantity"].sum()
    assert costed > 0
    # the connections billed are those costed (not the design year's households)
    assert account["household_connections_billed"] == costed
    # 5.5 persons x 50 l is 8.4 m3 a month; expected use is at most 4 m3 (docs/sources.md 1.2)
    assert account["household_m3_per_month"] == pytest.approx(4.0)
    bill = 4.0 * 2.37 + 6.0  # first tier, plus the fixed fee
    assert account["revenue_households_lcu_per_year"] == pytest.approx(costed * 12 * bill)
    assert household_bill_per_month(study.prices, 4.0) == pytest.approx(bill)
    # the water counted is the same expected use
    households_m3 = costed * 4.0 * 12
    standpipes_m3 = (
        float(o.projection_design.totals()["people_standpipe"]) * 8.5 / 1000 * DAYS_PER_YEAR
    )
    assert account["expected_consumption_m3_per_year"] >= households_m3 + standpipes_m3 - 1e-6


def test_maintenance_is_by_asset_class_on_the_works_only(small):
    study, _, outcomes = small
    o = outcomes["household_connections"]
    account = operating_account(study, o)
    works = o.boq[(o.boq["category"] != "margin") & (o.boq["paid_by"] != "households")]
    rates = {"pipes": 0.005, "civil": 0.01, "mechanical": 0.03}  # the study file's
    for cls, rate in rates.items():
        amount = works.loc[works["category"].map(maintenance_class) == cls, "total_lcu"].sum()
        assert amount > 0, cls
        assert account[f"om_maintenance_{cls}_lcu_per_year"] == pytest.approx(rate * amount)
    assert account["om_maintenance_lcu_per_year"] == pytest.approx(
        sum(account[f"om_maintenance_{c}_lcu_per_year"] for c in rates)
    )
    # the booster is maintained as pumps and electrics, the tank as civil works
    assert maintenance_class("pumping") == "mechanical"
    assert maintenance_class("storage") == "civil"
    # not on engineering and contingencies: doubling them leaves maintenance unchanged
    margins = o.boq.copy()
    margins.loc[margins["category"] == "margin", "total_lcu"] *= 2
    again = operating_account(study, replace(o, boq=margins))
    assert again["om_maintenance_lcu_per_year"] == pytest.approx(
        account["om_maintenance_lcu_per_year"]
    )
    # not 2% of the whole capital (the old rule): less than that here
    assert account["om_maintenance_lcu_per_year"] < 0.02 * o.capital_lcu


def test_a_study_without_maintenance_rates_is_refused_naming_the_keys(tmp_path):
    path = write_small_study(tmp_path)
    text = "\n".join(
        line for line in path.read_text().splitlines() if not line.startswith("maintenance_")
    )
    path.write_text(text)
    with pytest.raises(InputError, match="maintenance_pipes_share_per_year"):
        load_study(path)


def test_keeper_income_is_flagged_below_the_minimum_wage(small):
    study, _, outcomes = small
    o = outcomes["standpipes"]
    account = operating_account(study, o)
    people = float(o.projection_design.totals()["people_standpipe"])
    sold = people * 8.5 / 1000 * DAYS_PER_YEAR / 12 / o.standpipes  # m3 a month per standpipe
    assert account["keeper_income_lcu_per_month"] == pytest.approx(3.0 * sold)
    assert account["minimum_wage_lcu_per_month"] == pytest.approx(1648)
    assert account["keeper_below_minimum_wage"]  # a few hundred MAD a month
    # paid a salary above the minimum wage: not flagged
    economics = {**study.prices.economics, "keeper_pay": "salary"}
    paid = _with_cost(study, "keeper_per_standpipe_per_year", 24000.0)
    paid = replace(paid, prices=replace(paid.prices, economics=economics))
    salaried = operating_account(paid, o)
    assert salaried["keeper_income_lcu_per_month"] == pytest.approx(2000.0)
    assert not salaried["keeper_below_minimum_wage"]
    assert salaried["om_keepers_lcu_per_year"] == pytest.approx(24000.0 * o.standpipes)


def test_capital_per_m3_on_expected_use_and_design_volume_and_vat_stated(small):
    study, data, outcomes = small
    o = outcomes["standpipes"]
    row = feasibility_row(study, o, data.villages)
    annual = study.money.crf * o.capital_lcu
    assert row["capital_lcu_per_m3_expected_use"] == pytest.approx(
        annual / row["expected_consumption_m3_per_year"]
    )
    # 8.5 l used at the standpipes against 25 l designed: capital per m3 used is higher
    assert row["capital_lcu_per_m3_expected_use"] > 2 * row["capital_lcu_per_m3_design_volume"]
    assert row["prices_exclude_vat"]
    assert row["vat_works_rate"] == pytest.approx(0.20)
    assert row["vat_water_rate"] == pytest.approx(0.07)
    assert row["vat_on_donors_works_eur"] == pytest.approx(0.20 * row["capital_donors_eur"])
    # one energy figure per basis, each named by it
    assert "om_energy_lcu_per_year" in row and "energy_lcu_per_year" not in row
