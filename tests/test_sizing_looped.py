"""Looped sizing: the in-memory evaluator against EpanetSimulator, and the optimiser."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BENCHMARKS, EVALUATOR_TOL_M

from hydro.catalog import read_catalog
from hydro.network import read_network
from hydro.simulation import run_simulation
from hydro.sizing import apply_design, size_network
from hydro.sizing.evaluator import Evaluator
from hydro.sizing.problem import Targets, build_problem, design_snapshot

TWO_LOOP_BEST_USD = 419_000.0


def problem_for(name: str, min_pressure: float):
    wn = read_network(BENCHMARKS / f"{name}.inp")
    catalog = read_catalog(BENCHMARKS / f"{name}_catalog.csv")
    return build_problem(wn, catalog, Targets(min_pressure))


@pytest.mark.parametrize(
    "name,min_pressure", [("hanoi", 30.0), ("goyang", 15.0), ("two_loop", 30.0)]
)
def test_evaluator_equals_epanet_simulator(name, min_pressure):
    problem = problem_for(name, min_pressure)
    rng = np.random.default_rng(5)
    n_options = len(problem.catalog)
    with Evaluator(problem) as evaluator:
        for _ in range(3):
            choice = rng.integers(n_options // 2, n_options, len(problem.pipes))
            evaluator.evaluate(choice)
            fast = evaluator.pressures()
            segments = {
                p: [(int(k), float(problem.lengths[i]))]
                for i, (p, k) in enumerate(zip(problem.pipes, choice, strict=True))
            }
            snapshot, _ = design_snapshot(apply_design(problem, segments))
            slow = run_simulation(snapshot).pressure.iloc[0][evaluator.junction_names]
            assert np.abs(fast - slow.to_numpy()).max() < EVALUATOR_TOL_M


def test_evaluator_memo_is_bounded_and_counts_solves():
    problem = problem_for("two_loop", 30.0)
    with Evaluator(problem, memo_size=10) as evaluator:
        rng = np.random.default_rng(0)
        designs = rng.integers(0, len(problem.catalog), (50, len(problem.pipes)))
        for d in designs:
            evaluator.evaluate(d)
        evaluator.evaluate(designs[-1])
        assert len(evaluator.memo) == 10
        assert evaluator.evaluations == len({d.tobytes() for d in designs})


def test_two_loop_reaches_best_known_cost_with_fixed_seed():
    wn = read_network(BENCHMARKS / "two_loop.inp")
    catalog = read_catalog(BENCHMARKS / "two_loop_catalog.csv")
    result = size_network(wn, catalog, Targets(30.0), seed=2, time_limit_s=60)
    assert result.verification.ok
    assert result.cost == pytest.approx(TWO_LOOP_BEST_USD, rel=1e-9)


def test_same_seed_same_design():
    wn = read_network(BENCHMARKS / "two_loop.inp")
    catalog = read_catalog(BENCHMARKS / "two_loop_catalog.csv")
    runs = [
        size_network(wn, catalog, Targets(30.0), seed=7, max_evaluations=1500, time_limit_s=600)
        for _ in range(2)
    ]
    assert list(runs[0].table["inner_diameter_mm"]) == list(runs[1].table["inner_diameter_mm"])
    assert runs[0].cost == runs[1].cost


def _evaluate_designs(seed: int) -> list[float]:
    """Worker: open an evaluator in this process and return each design's lowest pressure."""
    problem = problem_for("hanoi", 30.0)
    designs = np.random.default_rng(seed).integers(0, len(problem.catalog), (300, 34))
    with Evaluator(problem, memo_size=0) as evaluator:
        return [evaluator.evaluate(d).min_pressure_m for d in designs]


def test_evaluators_in_parallel_processes_agree_with_one_process():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    alone = _evaluate_designs(11)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        together = list(pool.map(_evaluate_designs, [11, 11]))
    assert together[0] == alone and together[1] == alone


def test_goyang_reaches_its_best_known_cost_with_fixed_seed():
    # The iterated local search finds 177,009.56 (thousand KRW) several coordinated moves
    # away from the 177,010.36 where the population alone stalls; deterministic under an
    # evaluation budget.
    wn = read_network(BENCHMARKS / "goyang.inp")
    catalog = read_catalog(BENCHMARKS / "goyang_catalog.csv")
    result = size_network(
        wn, catalog, Targets(15.0), seed=3, max_evaluations=20_000, time_limit_s=600
    )
    assert result.verification.ok
    assert result.cost <= 177_010.0


def test_looped_sizing_honours_per_node_minimum_pressures():
    wn = read_network(BENCHMARKS / "two_loop.inp")
    catalog = read_catalog(BENCHMARKS / "two_loop_catalog.csv")
    targets = Targets(30.0, node_min_pressure_m={"6": 40.0})
    result = size_network(wn, catalog, targets, seed=1, max_evaluations=3000, time_limit_s=600)
    assert result.verification.ok  # the independent EPANET run holds node 6 to 40 m
    snapshot, _ = design_snapshot(result.model)
    pressure = run_simulation(snapshot).pressure.iloc[0]
    assert pressure["6"] >= 40.0 - 1e-4
    assert result.cost > TWO_LOOP_BEST_USD  # a stricter target costs more
