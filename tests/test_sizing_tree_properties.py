"""Property tests of exact tree sizing: random trees across demands (0.001-20 l/s per node),
depths (chains to bushes), lengths (5 m-5 km), relief (0-300 m) and both head-loss formulas.

Every design the tree program reports must pass the independent EPANET run of its written
file without a repair; where brute force is possible (up to 4^5 designs, each run by EPANET
through the in-memory evaluator) the cost must equal the brute-force optimum.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from hydro.catalog import read_catalog
from hydro.errors import InfeasibleDesignError
from hydro.network import read_network
from hydro.simulation import run_simulation
from hydro.sizing import size_network
from hydro.sizing.evaluator import Evaluator
from hydro.sizing.problem import DESIGN_MARGIN_M, Targets, build_problem

#: A design within this much of the program's margin counts as a tie in the brute force [m].
TIE_TOL_M = 1e-5
COST_TOL = 1e-9  # relative

CATALOG = pd.DataFrame(
    {
        "inner_diameter_mm": [26.0, 44.0, 66.0, 96.8, 141.0, 220.4, 352.6, 555.0],
        "cost_per_m": [6.0, 11.0, 19.0, 33.0, 60.0, 120.0, 260.0, 560.0],
    }
)


def tree_text(data: dict) -> str:
    """An ``.inp`` tree from drawn parameters (see :func:`trees`)."""
    rng = np.random.default_rng(data["seed"])
    n, width, formula = data["n"], data["width"], data["formula"]
    junctions, pipes = [], []
    elevation = rng.uniform(0, data["relief_m"], n)
    demand = np.exp(rng.uniform(np.log(data["q_low"]), np.log(data["q_high"]), n))
    roughness = 130 if formula == "H-W" else 0.05  # C, or mm for Darcy-Weisbach
    for k in range(1, n + 1):
        parent = "R1" if k == 1 else f"J{rng.integers(max(1, k - width), k)}"
        length = float(np.exp(rng.uniform(np.log(5), np.log(5000))))
        junctions.append(f" J{k} {elevation[k - 1]:.3f} {demand[k - 1]:.6f}")
        pipes.append(f" P{k} {parent} J{k} {length:.2f} 100 {roughness}")
    head = elevation.max() + data["min_pressure_m"] + data["spare_head_m"]
    return (
        "[TITLE]\nrandom tree\n\n[JUNCTIONS]\n" + "\n".join(junctions) + "\n\n[RESERVOIRS]\n"
        f" R1 {head:.3f}\n\n[PIPES]\n" + "\n".join(pipes) + "\n\n[OPTIONS]\n Units LPS\n"
        f" Headloss {formula}\n\n[TIMES]\n Duration 0\n\n[END]\n"
    )


def trees(max_pipes: int, min_pipes: int = 1):
    q_low = st.floats(0.001, 20.0)
    return st.fixed_dictionaries(
        {
            "seed": st.integers(0, 2**31),
            "n": st.integers(min_pipes, max_pipes),
            "width": st.sampled_from([1, 2, 5, 1000]),  # 1: a chain; 1000: a bush
            "formula": st.sampled_from(["H-W", "D-W"]),
            "relief_m": st.floats(0.0, 300.0),
            "q_low": q_low,
            "q_high": st.floats(0.001, 20.0),
            "min_pressure_m": st.floats(0.0, 40.0),
            "spare_head_m": st.floats(0.5, 150.0),
        }
    ).map(lambda d: {**d, "q_high": max(d["q_low"], d["q_high"])})


def size_or_prove_infeasible(path, catalog, targets):
    """The sized result, or None after checking that even the largest pipes fail."""
    wn = read_network(path)
    try:
        return size_network(wn, catalog, targets)
    except InfeasibleDesignError:
        event("infeasible")
        for p in wn.pipe_name_list:
            wn.get_link(p).diameter = catalog.diameters.max()
        low = run_simulation(wn).pressure.iloc[0][wn.junction_name_list]
        minimum = targets.min_pressure_m + DESIGN_MARGIN_M
        assert (low < minimum + TIE_TOL_M).any(), "refused, yet the largest pipes pass"
        return None


def brute_force(problem, threshold_m: float) -> float:
    """The cheapest design whose every junction holds ``threshold_m`` above its target."""
    best = np.inf
    n_options = len(problem.catalog)
    with Evaluator(problem, memo_size=0, margin_m=threshold_m) as evaluator:
        for combo in itertools.product(range(n_options), repeat=len(problem.pipes)):
            choice = np.array(combo)
            cost = problem.cost_of(choice)
            if cost < best and evaluator.evaluate(choice).feasible:
                best = cost
    return best


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=trees(max_pipes=5))
def test_small_random_trees_verify_and_equal_brute_force(data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tree")
    path = folder / "tree.inp"
    path.write_text(tree_text(data))
    rows = np.random.default_rng(data["seed"]).choice(len(CATALOG), 4, replace=False)
    CATALOG.iloc[np.sort(rows)].to_csv(folder / "cat.csv", index=False)
    catalog = read_catalog(folder / "cat.csv")
    targets = Targets(data["min_pressure_m"])
    result = size_or_prove_infeasible(path, catalog, targets)
    if result is None:
        return
    event("sized")
    assert result.verification.ok, result.verification.violations
    assert not any("repair" in note for note in result.notes), result.notes
    problem = build_problem(read_network(path), catalog, targets)
    loose = brute_force(problem, DESIGN_MARGIN_M - TIE_TOL_M)
    strict = brute_force(problem, DESIGN_MARGIN_M + TIE_TOL_M)
    assert loose * (1 - COST_TOL) <= result.cost <= strict * (1 + COST_TOL)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=trees(max_pipes=150, min_pipes=20))
def test_larger_random_trees_verify_without_repair(data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tree")
    path = folder / "tree.inp"
    path.write_text(tree_text(data))
    CATALOG.to_csv(folder / "cat.csv", index=False)
    result = size_or_prove_infeasible(path, read_catalog(folder / "cat.csv"), Targets(10.0))
    if result is None:
        return
    event("sized")
    assert result.verification.ok, result.verification.violations
    assert not any("repair" in note for note in result.notes), result.notes


@pytest.mark.parametrize("flow_l_s", [0.1, 0.3, 0.45, 3.0])  # Re 830, 2,490, 3,740, 24,900
def test_darcy_weisbach_head_loss_equals_epanet_in_every_regime(flow_l_s, write_inp):
    from conftest import inp_text

    from hydro.hydraulics import headloss_darcy_weisbach

    text = inp_text(f" J1 0 {flow_l_s}", " R1 100", " P1 R1 J1 1000 150 0.05").replace(
        "Headloss H-W", "Headloss D-W"
    )
    run = run_simulation(read_network(write_inp(text)))
    epanet = 100.0 - float(run.head.iloc[0]["J1"])
    ours = float(headloss_darcy_weisbach(flow_l_s / 1000, 1000.0, 0.15, 0.05e-3))
    assert ours == pytest.approx(epanet, abs=1e-4)
