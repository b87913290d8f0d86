"""What the budget buys: the most people served within the donors' budget.

The choices are which douars to serve and at which service level (the study's ``[budget]
scenarios``). For each choice the network is cut back to the douars served (branches that lead
only to douars left out are removed) and the scenario runs end to end (:func:`run_scenario`):
storage, rising main, pump, pipes at least cost by the exact 0-1 program of a branched network,
then the independent EPANET check of the written file and the bill of quantities recomputed
from its catalogue labels. Every choice is evaluated (2^n - 1 douar sets per service level), so
the best one is optimal by exhaustion, given the exact sizing inside each choice; the
cost-people curve is the set of choices that no cheaper choice beats in people served.

Douars are the unit of choice; the number of standpipes in a douar and the phasing of the
works are not (a douar is served in full, in one phase).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pandas as pd

from hydro.errors import InputError
from hydro.network import copy_network
from hydro.study.config import Study
from hydro.study.costing import financing
from hydro.study.scenario import ScenarioResult, run_scenario

#: Most douars the exhaustive search takes (2^12 - 1 = 4,095 choices per service level).
MAX_DOUARS = 12


@dataclass(kw_only=True)
class BudgetResult:
    """``candidates``: every choice (one row each); ``curve``: the cost-people curve (each
    point a design checked by its own EPANET run); ``best``: the outcome of the most people
    within the budget (None when nothing fits).
    """

    candidates: pd.DataFrame
    curve: pd.DataFrame
    best: ScenarioResult | None
    outcomes: dict


def network_for(wn, villages: pd.DataFrame, keep: set[str]):
    """A copy of ``wn`` without the branches that serve only douars outside ``keep``.

    Junctions of degree one that no kept douar uses are removed with their link, again and
    again, so a branch disappears up to the junction where it leaves the rest of the network.
    """
    used = set()
    for row in villages.to_dict("records"):
        if row["douar"] in keep:
            used |= set(row["standpipe_shares"]) | set(row["household_shares"])
    model = copy_network(wn)
    removed = True
    while removed:
        removed = False
        for name in list(model.junction_name_list):
            links = model.get_links_for_node(name)
            if name not in used and len(links) == 1:
                model.remove_link(links[0])
                model.remove_node(name)
                removed = True
    return model


def curve_of(candidates: pd.DataFrame) -> pd.Series:
    """True for the choices on the cost-people curve: more people than every cheaper choice
    (ties in cost: the one with more people).
    """
    order = candidates.sort_values(["capital_donors_eur", "people_served"], ascending=[True, False])
    best, on = -1.0, {}
    for index, row in order.iterrows():
        on[index] = row["people_served"] > best
        best = max(best, row["people_served"])
    return pd.Series(on).reindex(candidates.index)


def design_to_budget(
    study: Study, wn, villages: pd.DataFrame, catalog, pumps, log=lambda m: None
) -> BudgetResult:
    """Evaluate every choice of douars and service level; the most people within the budget.

    Raises
    ------
    InputError
        More than :data:`MAX_DOUARS` douars.
    """
    names = list(villages["douar"])
    if len(names) > MAX_DOUARS:
        raise InputError(
            f"{study.path}: [budget] the exhaustive search takes at most {MAX_DOUARS} douars; "
            f"the village table has {len(names)}"
        )
    wanted = study.budget_scenarios or [study.scenarios[0].name]
    specs = [s for s in study.scenarios if s.name in wanted]
    rows, outcomes = [], {}
    total = len(specs) * (2 ** len(names) - 1)
    k = 0
    for spec in specs:
        for size in range(1, len(names) + 1):
            for chosen in itertools.combinations(names, size):
                k += 1
                keep = set(chosen)
                log(f"budget {k}/{total}: {spec.name}, {', '.join(chosen)}")
                part = villages[villages["douar"].isin(keep)].reset_index(drop=True)
                o = run_scenario(study, spec, network_for(wn, villages, keep), part, catalog, pumps)
                money = financing(study, o)
                key = (spec.name, chosen)
                outcomes[key] = o
                rows.append(
                    {
                        "scenario": spec.name,
                        "douars": "; ".join(chosen),
                        "douar_count": len(chosen),
                        "people_served": round(float(o.projection_open.totals()["population"])),
                        "people_served_design": round(
                            float(o.projection_design.totals()["population"])
                        ),
                        "capital_mad": o.capital_mad,
                        "capital_eur": o.capital_mad / study.mad_per_eur.value,
                        "capital_donors_eur": money["capital_donors_eur"],
                        "within_budget": money["capital_donors_eur"] <= study.budget_eur,
                        "compliant": o.compliance_design.compliant and o.compliance_open.compliant,
                        "pipe_sizing": "exact (0-1 program, HiGHS)"
                        if not any("heuristic" in n for n in o.notes)
                        else "heuristic",
                    }
                )
    candidates = pd.DataFrame(rows)
    candidates["cost_per_person_eur"] = candidates["capital_donors_eur"] / candidates[
        "people_served"
    ].clip(lower=1)
    candidates["on_curve"] = curve_of(candidates)
    fits = candidates[candidates["within_budget"] & candidates["compliant"]]
    best = None
    candidates["chosen"] = False
    if not fits.empty:
        top = fits.sort_values(["people_served", "capital_donors_eur"], ascending=[False, True])
        index = top.index[0]
        candidates.loc[index, "chosen"] = True
        row = candidates.loc[index]
        best = outcomes[(row["scenario"], tuple(row["douars"].split("; ")))]
    curve = candidates[candidates["on_curve"]].sort_values("capital_donors_eur")
    return BudgetResult(
        candidates=candidates, curve=curve.reset_index(drop=True), best=best, outcomes=outcomes
    )
