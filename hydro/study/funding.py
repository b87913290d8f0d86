"""Who pays the scheme: the funding options side by side, and the scheme a study recommends.

A **funding option** shares the capital to finance (the donors' capital of a scheme: works,
engineering and contingencies, less what the households pay for their own connections) among
funders by fixed shares: the study's own funders (``[money] funders``, with the commitments
they made) and each ``[[money.funding_options]]`` (for example PAGER practice: the national
operator 80%, the rural commune 15%, the households 5%). Each funder's amount is its share x
the capital; what a funder has not committed (all of it when the study gives no commitment)
is still to find.

**The recommendation** follows one stated rule (:data:`RULE`): among the study's scenarios
that meet every design rule (pressures, velocities, tanks, delivery, pressure class), the
cheapest for the donors whose capital per beneficiary is within (or below) the benchmark
range; when none is, the cheapest that meets every rule, said to be above the range. It is
funded by the option that leaves the least capital without a commitment (ties: the study's
order). Its O&M deficit, if any, is covered by whom the study's management model says
(``[economics] deficit_covered_by``).

**Over the budget** (:func:`phases`): when the recommended scheme costs the donors more than
the budget and the budget mode found a plan within it, the recommendation is to build it in two
phases: phase 1 the plan the budget buys (on the trunk of the complete scheme,
:mod:`hydro.study.budget`), funded by the option that leaves the least of it without a
commitment; phase 2 the rest, funded by the first other funding option of the study (the
commitments went to phase 1), or by the study's funders, uncommitted, when it has no other.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from hydro.study.parts import FundingOption, Money

#: The rule the recommendation follows, stated in the report.
RULE = (
    "the cheapest scheme for the donors that meets every design rule, serves every village and "
    "costs per beneficiary no more than the documented range; funded by the option that "
    "leaves the least capital without a commitment; over the budget, in two phases: first the "
    "plan the budget buys, then the rest, funded by the next funding option"
)
#: The name of the option made of the study's own funders.
STUDY_FUNDERS = "study_funders"
#: The columns of the funding table.
FUNDING_COLUMNS = ["option", "option_label", "funder", "funder_fr", "share", "amount_eur",
                   "commitment_eur", "uncommitted_eur"]  # fmt: skip


def funding_options(money: Money) -> list[FundingOption]:
    """The study's own funders first, then each ``[[money.funding_options]]``."""
    shares = [(name, round(100 * share)) for name, share in money.funders]
    own = FundingOption(
        name=STUDY_FUNDERS,
        label={
            "en": " / ".join(f"{name} {pc}%" for name, pc in shares),
            "fr": " / ".join(f"{name} {pc}\u00a0%" for name, pc in shares),
        },
        source="study file",
        funders=list(money.funders),
    )
    return [own, *money.funding_options]


def whole_euro_split(total_eur: float, shares: list[float]) -> list[float]:
    """``total_eur`` rounded to the euro, split by ``shares`` in whole euros that add up to it.

    Each part is its share of the rounded total, rounded down; the euros left go one each to
    the parts with the largest remainders (Hamilton's method), so the rows of a funding plan
    add up to the total it prints. Shares that do not add up to 1 split their own sum.

    >>> whole_euro_split(276_937.0, [0.5, 0.5])
    [138469.0, 138468.0]
    >>> whole_euro_split(100.0, [0.8, 0.15, 0.05])
    [80.0, 15.0, 5.0]
    """
    total = round(sum(shares) * round(total_eur))
    exact = [share * round(total_eur) for share in shares]
    parts = [math.floor(x + 1e-9) for x in exact]
    order = sorted(range(len(parts)), key=lambda i: (parts[i] - exact[i], i))
    for i in order[: max(total - sum(parts), 0)]:
        parts[i] += 1
    return [float(x) for x in parts]


def funding_table(money: Money, capital_eur: float) -> pd.DataFrame:
    """Each option's funders with their amount of ``capital_eur`` [EUR] (one row each), in
    whole euros that add up to the rounded capital (:func:`whole_euro_split`).

    >>> money = Money(currency="XOF", currency_per_eur=None, budget_eur=100.0,
    ...               funders=[("A", 0.5), ("B", 0.5)],
    ...               life_years=25, discount_rate=0.06, commitments_eur={"A": 40.0})
    >>> funding_table(money, 100.0)[["funder", "amount_eur", "uncommitted_eur"]].values.tolist()
    [['A', 50.0, 10.0], ['B', 50.0, 50.0]]
    """
    rows = []
    for option in funding_options(money):
        own = option.name == STUDY_FUNDERS
        amounts = whole_euro_split(capital_eur, [share for _, share in option.funders])
        for (funder, share), amount in zip(option.funders, amounts, strict=True):
            committed = money.commitments_eur.get(funder) if own else None
            rows.append(
                {
                    "option": option.name,
                    "option_label": option.label.get("en", option.name),
                    "funder": funder,
                    "funder_fr": option.funders_fr.get(funder, funder),
                    "share": share,
                    "amount_eur": amount,
                    "commitment_eur": float("nan") if committed is None else committed,
                    "uncommitted_eur": amount if committed is None else max(amount - committed, 0),
                }
            )
    return pd.DataFrame(rows, columns=FUNDING_COLUMNS)


@dataclass(frozen=True)
class Recommendation:
    """The scheme recommended (:data:`RULE`), its funding and who covers its O&M deficit."""

    scenario: str
    #: True when its capital per beneficiary is within or below the benchmark range
    within_range: bool
    #: the option that funds it, and every option's amounts for its capital
    option: str
    funding: pd.DataFrame
    #: the feasibility row of the scenario
    row: dict


def recommend(money: Money, feasibility: pd.DataFrame) -> Recommendation | None:
    """The scheme a study recommends (:data:`RULE`), or None when no scenario meets every rule."""
    if feasibility.empty or "meets_rules" not in feasibility:
        return None
    good = feasibility[feasibility["meets_rules"].astype(bool)]
    if good.empty:
        return None
    in_range = good[good["against_range"].isin(["within", "below", ""])]
    pool = in_range if not in_range.empty else good
    row = pool.sort_values("capital_donors_eur", kind="stable").iloc[0].to_dict()
    table = funding_table(money, float(row["capital_donors_eur"]))
    gaps = table.groupby("option", sort=False)["uncommitted_eur"].sum()
    return Recommendation(
        scenario=row["scenario"],
        within_range=not in_range.empty,
        option=str(gaps.idxmin()),
        funding=table,
        row=row,
    )


@dataclass(frozen=True)
class Phase:
    """One phase of a phased recommendation: its donors' capital and the option that pays it."""

    capital_donors_eur: float
    option: str
    #: that option's funders for this capital (rows of :func:`funding_table`)
    funding: pd.DataFrame


def phases(money: Money, rec: Recommendation, phase_1_eur: float, phase_2_eur: float):
    """Phase 1 and phase 2 of the recommended scheme when it exceeds the budget (module
    docstring), or None when it fits: phase 1 costs the donors ``phase_1_eur`` (the plan the
    budget buys), phase 2 ``phase_2_eur`` more.

    >>> money = Money(currency="MAD", currency_per_eur=None, budget_eur=100.0,
    ...               funders=[("A", 0.5), ("B", 0.5)], life_years=25, discount_rate=0.06,
    ...               commitments_eur={"A": 50.0, "B": 50.0})
    >>> rec = Recommendation("s", True, STUDY_FUNDERS, pd.DataFrame(),
    ...                      {"capital_donors_eur": 130.0})
    >>> one, two = phases(money, rec, 98.0, 40.0)
    >>> one.option, float(one.funding["uncommitted_eur"].sum()), two.option
    ('study_funders', 0.0, 'study_funders')
    >>> float(two.funding["uncommitted_eur"].sum())  # nobody has committed to phase 2
    40.0
    """
    if rec.row["capital_donors_eur"] <= money.budget_eur + 0.5:
        return None
    first = funding_table(money, phase_1_eur)
    gaps = first.groupby("option", sort=False)["uncommitted_eur"].sum()
    option_1 = str(gaps.idxmin())
    others = [o.name for o in funding_options(money) if o.name != option_1]
    option_2 = others[0] if others else option_1
    second = funding_table(money, phase_2_eur)
    second = second[second["option"] == option_2].copy()
    second["commitment_eur"] = float("nan")  # what was committed went to phase 1
    second["uncommitted_eur"] = second["amount_eur"]
    return (
        Phase(phase_1_eur, option_1, first[first["option"] == option_1]),
        Phase(phase_2_eur, option_2, second),
    )


def chosen_plan(budget):
    """The plan the budget buys (its row of the budget's candidates), or None (no budget mode,
    or no plan within the budget).
    """
    if budget is None:
        return None
    chosen = budget.candidates[budget.candidates["chosen"]]
    return None if chosen.empty else chosen.iloc[0]


def phases_of(money: Money, rec: Recommendation, plan):
    """:func:`phases` of the recommended scheme with ``plan`` (the plan the budget buys, a
    row of the budget's candidates, or None) as phase 1; None when it is not phased.
    """
    if plan is None:
        return None
    return phases(money, rec, float(plan["capital_donors_eur"]),
                  float(plan["phase_2_capital_donors_eur"]))  # fmt: skip


def funding_plan(money: Money, rec: Recommendation, plan) -> pd.DataFrame:
    """``funding.csv``: the recommended scheme's capital by each funding option in one go
    (``phase`` "one go"), then, when it is phased (:func:`phases`; ``plan`` the plan the budget
    buys), phase 1 and phase 2 with the options that fund them ("phase 1", "phase 2").
    """
    rows = [rec.funding.assign(phase="one go")]
    two = phases_of(money, rec, plan)
    if two is not None:
        rows += [p.funding.assign(phase=f"phase {k}") for k, p in enumerate(two, start=1)]
    table = pd.concat(rows, ignore_index=True)
    return table[["phase", *FUNDING_COLUMNS]]
