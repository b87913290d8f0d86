"""Looped sizing: the in-memory evaluator against EpanetSimulator, and the optimiser."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BENCHMARKS, EVALUATOR_TOL_M

from hydro.catalog import read_catalog
from hydro.condition import design_snapshot
from hydro.network import read_network
from hydro.simulation import run_simulation
from hydro.sizing import apply_design, size_network
from hydro.sizing.evaluator import Evaluator
from hydro.sizing.problem import Targets, build_problem

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


# --------------------------------------------------------------------------- velocity limits
TWO_SOURCES = """[TITLE]
two reservoirs: with every pipe at its largest, the transfer from R1 to R2 runs X at 2 m/s

[JUNCTIONS]
 J1 40 20
 J2 45 5

[RESERVOIRS]
 R1 100
 R2 85

[PIPES]
 X R1 J1 1000 300 130
 Y J1 R2 1000 300 130
 Z J1 J2 500 300 130
 W J2 R2 800 300 130

[OPTIONS]
 Units LPS
 Headloss H-W

[TIMES]
 Duration 0

[END]
"""
TWO_SOURCES_CATALOG = "inner_diameter_mm,cost_per_m\n100,10\n150,18\n200,27\n300,45\n"
VELOCITY_TOL_M_PER_S = 1e-6


def test_velocity_limit_broken_by_the_largest_pipes_is_searched_not_refused(tmp_path, write_inp):
    """Velocity is not monotone in the diameters: the largest pipes everywhere run X at
    2.0 m/s, above 1.5 m/s, yet smaller pipes meet every target. The optimiser must find the
    cheapest such design (brute force over the 256 designs, each run by EPANET)."""
    import itertools

    path = write_inp(TWO_SOURCES, name="two_sources.inp")
    (tmp_path / "cat.csv").write_text(TWO_SOURCES_CATALOG)
    catalog = read_catalog(tmp_path / "cat.csv")
    targets = Targets(20.0, max_velocity_m_per_s=1.5)
    wn = read_network(path)
    largest = run_simulation(wn).velocity.iloc[0]
    assert largest["X"] > 1.5 + 0.4  # the premise: the largest design breaks the limit
    result = size_network(wn, catalog, targets, seed=1, max_evaluations=3000, time_limit_s=600)
    assert result.verification.ok
    assert result.table["velocity_m_per_s"].max() <= 1.5 + VELOCITY_TOL_M_PER_S
    problem = build_problem(wn, catalog, targets)
    best = np.inf
    with Evaluator(problem, memo_size=0) as evaluator:
        for combo in itertools.product(range(len(catalog)), repeat=len(problem.pipes)):
            choice = np.array(combo)
            if evaluator.evaluate(choice).feasible:
                best = min(best, problem.cost_of(choice))
    assert result.cost == pytest.approx(best, rel=1e-9)


def test_velocity_limit_never_met_names_the_pipe_and_its_lowest_velocity():
    # Two-loop's first pipe carries the whole demand (311 l/s): 1.07 m/s even at 24 in.
    from hydro.errors import InfeasibleDesignError

    wn = read_network(BENCHMARKS / "two_loop.inp")
    catalog = read_catalog(BENCHMARKS / "two_loop_catalog.csv")
    with pytest.raises(InfeasibleDesignError) as caught:
        size_network(
            wn,
            catalog,
            Targets(30.0, max_velocity_m_per_s=1.0),
            max_evaluations=500,
            time_limit_s=600,
            workers=1,
        )
    message = str(caught.value)
    assert "pipe 1 never ran at or below 1 m/s (lowest 1.07 m/s)" in message
    assert "the closest design misses: pipe 1 at 1.07 m/s" in message
    assert "largest allowed pipe everywhere" not in message


def test_unreachable_pressure_without_velocity_limit_names_junctions_and_pressures(
    write_inp, tmp_path
):
    # No velocity limit, no cap, no pump: the largest pipes everywhere prove infeasibility.
    from hydro.errors import InfeasibleDesignError

    path = write_inp(TWO_SOURCES.replace(" R1 100", " R1 62").replace(" R2 85", " R2 61"))
    (tmp_path / "cat.csv").write_text(TWO_SOURCES_CATALOG)
    with pytest.raises(InfeasibleDesignError, match=r"J1 at 2\d\.\d\d m \(target 30 m\)"):
        size_network(read_network(path), read_catalog(tmp_path / "cat.csv"), Targets(30.0))


# --------------------------------------------------------------------------- scale
def test_random_networks_are_deterministic_and_the_size_the_docstring_says():
    from hydro.sizing.random_networks import grid_network, rural_mesh

    assert grid_network(6, 5, seed=3) == grid_network(6, 5, seed=3)
    assert grid_network(6, 5, seed=3) != grid_network(6, 5, seed=4)
    assert grid_network(6, 5, seed=3).count("\n P") == 6 * 4 + 5 * 5 + 1
    mesh = rural_mesh(80, seed=2)
    assert mesh == rural_mesh(80, seed=2)
    pipes = mesh.count("\n P")
    assert 80 < pipes < 80 * 2  # a spanning tree (79) plus loops, plus the source pipe


def test_large_random_grid_is_sized_from_the_fixed_flow_start_and_verifies(tmp_path):
    """A 10 x 11 grid (210 decision pipes, above the differential-evolution range): the
    fixed-flow LP start and the local search give a verified design, cheaper than the
    unit-headloss start alone, in two parallel runs."""
    from hydro.sizing.looped import LARGE_PIPES
    from hydro.sizing.random_networks import CATALOG, grid_network
    from hydro.sizing.start import unit_headloss_start

    path = tmp_path / "grid.inp"
    path.write_text(grid_network(10, 11, seed=5))
    CATALOG.to_csv(tmp_path / "cat.csv", index=False)
    catalog = read_catalog(tmp_path / "cat.csv")
    wn = read_network(path)
    targets = Targets(20.0)
    problem = build_problem(wn, catalog, targets)
    assert len(problem.pipes) > LARGE_PIPES
    with Evaluator(problem) as evaluator:

        def rows(pos):
            return np.array(
                [problem.allowed[p][k] for p, k in zip(problem.pipes, pos, strict=True)]
            )

        start = unit_headloss_start(
            problem, evaluator, rows, lambda pos: evaluator.evaluate(rows(pos)).deficit_m
        )
        start_cost = problem.cost_of(rows(start))
    result = size_network(
        wn, catalog, targets, seed=1, max_evaluations=1500, time_limit_s=600, workers=2
    )
    assert result.verification.ok
    assert "fixed-flow LP starts on shortest-path trees" in result.method
    assert "2 run(s)" in result.method
    assert result.cost < start_cost


def grid_problem(tmp_path, rows: int, cols: int, seed: int, targets=None):
    from hydro.sizing.random_networks import CATALOG, grid_network

    path = tmp_path / "grid.inp"
    path.write_text(grid_network(rows, cols, seed=seed))
    CATALOG.to_csv(tmp_path / "cat.csv", index=False)
    catalog = read_catalog(tmp_path / "cat.csv")
    return build_problem(read_network(path), catalog, targets or Targets(20.0))


def test_tree_flows_carry_every_demand_along_a_spanning_tree(tmp_path):
    """Continuity at every junction, and flow on exactly one link per junction (the link
    to its parent in the tree); another draw of the noise, another tree."""
    from hydro import _toolkit as tk
    from hydro.sizing.start import FixedFlowProgram, tree_flows

    problem = grid_problem(tmp_path, 6, 7, seed=2)
    with Evaluator(problem) as ev:
        program = FixedFlowProgram(problem, ev)
        largest = np.array([problem.allowed[p][-1] for p in problem.pipes])
        ev.set_design(largest)
        ev.solve()
        demand = ev.project.node_values(tk.EN_DEMAND) * ev._m3_per_s
        junctions = program.junctions
        assert (demand[junctions] > 0).all()
        rng = np.random.default_rng(1)
        flows = tree_flows(problem, ev, program, rng, noise=0.0)
        other = tree_flows(problem, ev, program, rng, noise=1.0)
    for q in (flows, other):
        net_inflow = np.zeros(len(demand))
        for k, a, b, _ in program.links:
            net_inflow[a] -= q[k]
            net_inflow[b] += q[k]
        np.testing.assert_allclose(net_inflow[junctions], demand[junctions], rtol=1e-12)
        assert np.count_nonzero(q) == len(junctions)
    assert not np.array_equal(flows != 0, other != 0)


@pytest.mark.parametrize(
    "targets",
    [Targets(20.0), Targets(20.0, max_pressure_m=50.0, max_velocity_m_per_s=0.5)],
    ids=["minimum", "minimum-cap-velocity"],
)
def test_coordinated_moves_keep_every_design_feasible_and_save(tmp_path, targets):
    """From the largest pipes everywhere on a 7 x 7 grid: every design the linearised moves
    accept is feasible when a fresh evaluator checks it, and the last one is the cheapest."""
    from hydro.sizing.linearized import linearized_descent
    from hydro.sizing.looped import _Search

    problem = grid_problem(tmp_path, 7, 7, seed=4, targets=targets)
    with Evaluator(problem) as ev:
        search = _Search(problem, ev, 1, 600, None, None)
        accepted = []
        offer = search.offer

        def record(pos, cost):
            accepted.append((pos.copy(), cost))
            offer(pos, cost)

        search.offer = record
        top = search.n_options - 1
        assert search.deficit(top) <= 0
        last = linearized_descent(search, top)
        rows = [search.rows(pos) for pos, _ in accepted]
    assert len(accepted) >= 2
    costs = [cost for _, cost in accepted]
    assert costs == sorted(costs, reverse=True) and costs[-1] < search.cost(top)
    assert search.cost(last) == costs[-1] == search.best_cost
    with Evaluator(problem) as fresh:
        for r, (_, cost) in zip(rows, accepted, strict=True):
            assert fresh.evaluate(r).deficit_m <= 0
            assert problem.cost_of(r) == pytest.approx(cost)
        # the descent ends where no single pipe can go one entry down
        for i in np.flatnonzero(last > 0):
            down = last.copy()
            down[i] -= 1
            assert fresh.evaluate(search.rows(down)).deficit_m > 0, f"pipe {i} could go down"


def test_rounding_keeps_the_saving_of_a_fractional_vertex():
    """A vertex with a whole downsize, a fractional downsize and a fractional upsize: the
    rounded set keeps the whole downsize and leaves the upsize that it does not need (taking
    every fractional upsize, as the first rounding did, cost more than it saved)."""
    from hydro.sizing.linearized import _rounded

    # (pipe, step, cost change, pressure change at the one junction, velocity change)
    moves = [(0, -1, -10.0, None, None), (1, -1, -8.0, None, None), (2, 1, 30.0, None, None)]
    change = np.array([-1.0, -1.0, 0.5])
    slack = 1.5

    def fits(selected):
        return slack + change[selected].sum() >= 0

    assert _rounded(np.array([1.0, 0.5, 0.2]), moves, 3, fits) == [0]
    # both downsizes whole do not fit; with the upsize they fit but cost more than they
    # save: the single move that saves most
    assert _rounded(np.array([1.0, 1.0, 0.5]), moves, 3, fits) == [0]
    # nothing fits: no saving
    assert _rounded(np.array([1.0, 0.0, 0.0]), moves, 3, lambda s: not s) is None
