"""Exact tree sizing: brute force, split-pipe bound, pressure classes, random trees."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from conftest import PRESSURE_TOL_M, ROOT, inp_text, run_hydro
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hydro.catalog import Catalog, read_catalog
from hydro.errors import InfeasibleDesignError, InputError
from hydro.network import read_network
from hydro.simulation import run_simulation
from hydro.sizing import size_network
from hydro.sizing.problem import Targets, build_problem

COST_TOL = 1e-6  # relative
SMALL_CATALOG = pd.DataFrame(
    {"inner_diameter_mm": [50, 80, 100, 150, 200], "cost_per_m": [10.0, 18.0, 25.0, 40.0, 62.0]}
)


def catalog_from(frame: pd.DataFrame, tmp_path, name="cat.csv") -> Catalog:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return read_catalog(path)


def tree_inp(n_pipes: int, rng: np.random.Generator, head: float = 60.0) -> str:
    """A random tree: node k+1 hangs below a random earlier node."""
    junctions, pipes = [], []
    for k in range(1, n_pipes + 1):
        parent = "R1" if k == 1 else (f"J{rng.integers(1, k)}" if rng.random() < 0.8 else "R1")
        junctions.append(f" J{k} {rng.uniform(0, 15):.2f} {rng.uniform(0.5, 6):.3f}")
        pipes.append(f" P{k} {parent} J{k} {rng.uniform(200, 1200):.1f} 100 130")
    return inp_text("\n".join(junctions), f" R1 {head}", "\n".join(pipes))


def cheapest_feasible(wn, catalog: Catalog, feasible) -> float:
    """Every combination, each simulated by EPANET: the cheapest cost that ``feasible``
    (a function of the simulation results) accepts."""
    pipes = list(wn.pipe_name_list)
    best = np.inf
    lengths = np.array([wn.get_link(p).length for p in pipes])
    for combo in itertools.product(range(len(catalog)), repeat=len(pipes)):
        cost = float(np.dot(lengths, catalog.costs[list(combo)]))
        if cost >= best:
            continue
        for p, k in zip(pipes, combo, strict=True):
            wn.get_link(p).diameter = catalog.diameters[k]
        if feasible(run_simulation(wn)):
            best = cost
    return best


def brute_force(wn, catalog: Catalog, min_pressure: float):
    """The cheapest design with every junction at ``min_pressure`` or more."""
    return cheapest_feasible(
        wn,
        catalog,
        lambda run: run.pressure.iloc[0][wn.junction_name_list].min() >= min_pressure + 1e-3,
    )


@pytest.mark.parametrize("n_pipes,seed", [(3, 1), (4, 2), (5, 3), (6, 4)])
def test_tree_solver_matches_brute_force(n_pipes, seed, tmp_path, write_inp):
    rng = np.random.default_rng(seed)
    catalog = catalog_from(SMALL_CATALOG.iloc[:4] if n_pipes >= 5 else SMALL_CATALOG, tmp_path)
    if n_pipes == 6:
        catalog = catalog_from(SMALL_CATALOG.iloc[1:4], tmp_path)
    path = write_inp(tree_inp(n_pipes, rng), name=f"tree{n_pipes}.inp")
    wn = read_network(path)
    result = size_network(wn, catalog, Targets(20.0))
    expected = brute_force(read_network(path), catalog, 20.0)
    assert result.verification.ok
    assert result.cost == pytest.approx(expected, rel=COST_TOL)


def test_split_pipe_cost_is_a_lower_bound(tmp_path, write_inp):
    path = write_inp(tree_inp(8, np.random.default_rng(7)))
    catalog = catalog_from(SMALL_CATALOG, tmp_path)
    single = size_network(read_network(path), catalog, Targets(20.0))
    split = size_network(
        read_network(path), catalog, Targets(20.0), split=True, output=tmp_path / "split.inp"
    )
    assert split.cost <= single.cost * (1 + COST_TOL)
    assert split.verification.ok
    written = read_network(tmp_path / "split.inp")
    assert len(written.pipe_name_list) >= len(read_network(path).pipe_name_list)


def test_pressure_class_follows_static_head(tmp_path, write_inp):
    """A 150 m drop: the low pipe sees 14.7 bar static, so it must be PN16, the top one PN10."""
    text = inp_text(" J1 60 1\n J2 5 1", " R1 155", " P1 R1 J1 500 100 140\n P2 J1 J2 500 100 140")
    path = write_inp(text)
    frame = pd.DataFrame(
        {
            "material": ["PE100"] * 4,
            "nominal_diameter_mm": [63, 63, 90, 90],
            "pressure_class_bar": [10, 16, 10, 16],
            "inner_diameter_mm": [55.4, 51.4, 79.2, 73.6],
            "cost_per_m": [70, 85, 100, 125],
        }
    )
    result = size_network(read_network(path), catalog_from(frame, tmp_path), Targets(10.0))
    classes = dict(zip(result.table["pipe"], result.table["pressure_class_bar"], strict=True))
    assert classes["P1"] == 10  # ends see 0 and 95 m (9.3 bar)
    assert classes["P2"] == 16  # J2 sees 150 m static (14.7 bar)
    assert result.verification.ok


def test_no_class_high_enough_asks_for_a_break_pressure_tank(tmp_path, write_inp):
    path = write_inp(inp_text(" J1 5 1", " R1 250", " P1 R1 J1 500 100 140"))
    frame = pd.DataFrame(
        {"inner_diameter_mm": [55.4], "cost_per_m": [70], "pressure_class_bar": [16]}
    )
    with pytest.raises(InputError, match="break-pressure"):
        build_problem(read_network(path), catalog_from(frame, tmp_path), Targets(10.0))


def test_unreachable_pressure_names_junctions_and_writes_nothing(tmp_path, write_inp):
    path = write_inp(tree_inp(4, np.random.default_rng(3), head=30.0))
    out = tmp_path / "sized.inp"
    with pytest.raises(InfeasibleDesignError, match=r"J\d+ by \d+\.\d\d m"):
        size_network(
            read_network(path), catalog_from(SMALL_CATALOG, tmp_path), Targets(25.0), output=out
        )
    assert not out.exists()


def test_max_velocity_and_fixed_pipes_are_respected(tmp_path, write_inp):
    path = write_inp(tree_inp(6, np.random.default_rng(11), head=100.0))
    wn = read_network(path)
    result = size_network(
        wn, catalog_from(SMALL_CATALOG, tmp_path), Targets(20.0, None, 0.8), fixed=("P1",)
    )
    assert "P1" not in set(result.table["pipe"])
    assert result.table["velocity_m_per_s"].max() <= 0.8 + 1e-9


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 9))
def test_random_trees_are_feasible_and_locally_minimal(seed, n, tmp_path_factory):
    """No single pipe can be made cheaper without breaking a constraint."""
    folder = tmp_path_factory.mktemp("tree")
    path = folder / "t.inp"
    path.write_text(tree_inp(n, np.random.default_rng(seed), head=80.0))
    catalog = catalog_from(SMALL_CATALOG, folder)
    try:
        result = size_network(read_network(path), catalog, Targets(15.0))
    except InfeasibleDesignError:
        return
    assert result.verification.ok
    wn = read_network(path)
    chosen = dict(zip(result.table["pipe"], result.table["inner_diameter_mm"], strict=True))
    for p, d in chosen.items():
        wn.get_link(p).diameter = d / 1000
    for p, d in chosen.items():
        cheaper = [
            x
            for x in catalog.table["inner_diameter_mm"]
            if catalog.table.set_index("inner_diameter_mm").at[x, "cost_per_m"]
            < catalog.table.set_index("inner_diameter_mm").at[d, "cost_per_m"]
        ]
        for x in cheaper:
            wn.get_link(p).diameter = x / 1000
            low = run_simulation(wn).pressure.iloc[0][wn.junction_name_list].min()
            assert low < 15.0 + 1e-3, (p, d, x, low)
        wn.get_link(p).diameter = d / 1000


def test_catalog_with_missing_column_is_rejected(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("diameter_mm,price\n100,10\n")
    with pytest.raises(InputError, match="cost_per_m"):
        read_catalog(path)


def test_catalog_with_bad_value_names_row_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("inner_diameter_mm,cost_per_m\n100,10\n-5,12\n")
    with pytest.raises(InputError, match="row 2, column inner_diameter_mm"):
        read_catalog(path)


def test_oujda_catalogue_reads_with_classes():
    catalog = read_catalog(ROOT / "networks" / "catalogs" / "oujda_pipes.csv")
    assert len(catalog) == 48 and catalog.has_pressure_classes
    # PE100 PN10/16/20/25, PVC-U PN10, ductile iron C40 for rising mains (issue 24)
    assert set(catalog.table["pressure_class_bar"]) == {10, 16, 20, 25, 40}


def test_hydro_size_command_on_oujda_writes_verified_design(tmp_path):
    out, report = tmp_path / "sized.inp", tmp_path / "pipes.csv"
    done = run_hydro(
        "size",
        ROOT / "tests" / "data" / "booster_aqueduct.inp",
        "--catalog",
        ROOT / "networks" / "catalogs" / "oujda_pipes.csv",
        "--min-pressure",
        "10",
        "--output",
        out,
        "--report",
        report,
    )
    assert done.returncode == 0, done.stderr
    assert "exact 0-1 program" in done.stdout and "every target met" in done.stdout
    table = pd.read_csv(report)
    assert {
        "pipe",
        "length_m",
        "material",
        "nominal_diameter_mm",
        "inner_diameter_mm",
        "pressure_class_bar",
        "cost",
        "flow_l_per_s",
        "velocity_m_per_s",
        "headloss_m",
    } <= set(table.columns)
    printed = float(done.stdout.split("total pipe cost: ")[1].split()[0].replace(",", ""))
    assert printed == pytest.approx(table["cost"].sum(), rel=1e-6)
    wn = read_network(out)  # EPANET's parser accepts it
    assert wn.get_link(table["pipe"][0]).tag


def test_hydro_size_infeasible_exits_1_and_writes_nothing(tmp_path, write_inp):
    path = write_inp(inp_text(" J1 10 5", " R1 20", " P1 R1 J1 1000 100 130"))
    out = tmp_path / "sized.inp"
    done = run_hydro(
        "size",
        path,
        "--catalog",
        ROOT / "networks" / "benchmarks" / "two_loop_catalog.csv",
        "--min-pressure",
        "15",
        "--output",
        out,
    )
    assert done.returncode == 1
    assert "J1 by" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def brute_force_by_node(wn, catalog: Catalog, minimum: dict[str, float]) -> float:
    """The cheapest design with each junction at its own minimum or more."""
    return cheapest_feasible(
        wn,
        catalog,
        lambda run: all(
            run.pressure.iloc[0][n] >= minimum[n] + 1e-3 for n in wn.junction_name_list
        ),
    )


def test_per_node_minimum_pressures_match_brute_force(tmp_path, write_inp):
    # A standpipe node (10 m), a household node (15 m) and a plain junction (0 m).
    path = write_inp(tree_inp(4, np.random.default_rng(7), head=45.0))
    wn = read_network(path)
    catalog = catalog_from(SMALL_CATALOG, tmp_path)
    minimum = {"J1": 0.0, "J2": 10.0, "J3": 15.0, "J4": 10.0}
    targets = Targets(0.0, node_min_pressure_m={k: v for k, v in minimum.items() if v})
    result = size_network(wn, catalog, targets)
    assert result.verification.ok
    assert result.cost == pytest.approx(brute_force_by_node(wn, catalog, minimum), rel=COST_TOL)
    uniform = size_network(wn, catalog, Targets(15.0))
    assert result.cost <= uniform.cost + 1e-6


PRV_NETWORK = """[TITLE]
tree with a pressure-reducing valve

[JUNCTIONS]
 J1 40 1
 J2 30 0
 J3 10 2
 J4 5 1.5

[RESERVOIRS]
 R1 100

[PIPES]
 P1 R1 J1 800 150 130
 P2 J2 J3 600 150 130
 P3 J3 J4 500 150 130

[VALVES]
 V1 J1 J2 150 PRV 25 0

[OPTIONS]
 Units LPS
 Headloss H-W

[TIMES]
 Duration 0

[END]
"""


def test_pressure_reducing_valve_splits_the_tree_and_matches_brute_force(tmp_path, write_inp):
    from hydro.sizing.problem import PRV_INLET_MARGIN_M

    wn = read_network(write_inp(PRV_NETWORK, name="prv.inp"))
    catalog = catalog_from(SMALL_CATALOG, tmp_path)
    result = size_network(wn, catalog, Targets(10.0))
    assert result.method.startswith("exact")
    assert result.verification.ok
    # brute force: every combination simulated by EPANET; pressures >= 10 m and the valve's
    # inlet at least its outlet setting plus the margin, so that it regulates
    inlet_head = 30.0 + 25.0 + PRV_INLET_MARGIN_M

    def feasible(run) -> bool:
        pressure, head = run.pressure.iloc[0], run.head.iloc[0]
        return bool((pressure[wn.junction_name_list] >= 10.0 + 1e-3).all()) and (
            head["J1"] >= inlet_head
        )

    best = cheapest_feasible(wn, catalog, feasible)
    assert result.cost == pytest.approx(best, rel=COST_TOL)
    # in the sized network the valve regulates: the head below it is its setting, 30 + 25 m
    head = run_simulation(result.model).head.iloc[0]
    assert head["J2"] == pytest.approx(55.0, abs=PRESSURE_TOL_M)


@pytest.mark.parametrize(
    "options,status,fragment",
    [
        (["--min-pressure", "-5"], 2, "argument --min-pressure: -5: outside [0, 200]"),
        (["--min-pressure", "20", "--max-velocity", "0"], 2, "argument --max-velocity"),
        (["--min-pressure", "20", "--max-velocity", "-1"], 2, "argument --max-velocity"),
        (
            ["--min-pressure", "20", "--max-pressure", "15"],
            1,
            "impossible pressure targets: --max-pressure 15 m is not above the minimum 20 m",
        ),
        (["--min-pressure", "20", "--max-pressure", "20"], 1, "the minimum 20 m (--min-pressure)"),
    ],
)
def test_hydro_size_refuses_meaningless_targets(options, status, fragment, tmp_path, branched_inp):
    out = tmp_path / "sized.inp"
    done = run_hydro(
        "size",
        branched_inp,
        "--catalog",
        ROOT / "networks" / "benchmarks" / "two_loop_catalog.csv",
        *options,
        "--output",
        out,
    )
    assert done.returncode == status
    assert "error:" in done.stderr and fragment in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_repair_loop_recovers_from_a_head_loss_model_that_disagrees_with_epanet(
    tmp_path, write_inp, monkeypatch
):
    """With the program's head losses 20% too low, the first design leaves junctions short in
    the independent EPANET run; the bounded repair loop raises their margins, solves again
    and ends verified, and says what it did."""
    import hydro.sizing.tree as tree

    path = write_inp(tree_inp(8, np.random.default_rng(21), head=70.0))
    catalog = catalog_from(SMALL_CATALOG, tmp_path)
    exact = size_network(read_network(path), catalog, Targets(20.0))
    assert exact.verification.ok and not exact.notes
    original = tree.unit_headloss
    monkeypatch.setattr(tree, "unit_headloss", lambda *args: 0.8 * original(*args))
    out = tmp_path / "sized.inp"
    repaired = size_network(read_network(path), catalog, Targets(20.0), output=out)
    assert any(note.startswith("repair 1:") for note in repaired.notes), repaired.notes
    assert repaired.verification.ok
    assert out.exists()
    assert repaired.cost >= exact.cost * (1 - COST_TOL)
