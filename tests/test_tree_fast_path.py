"""The faster path of the exact tree sizing gives the design of the slower one (issue 24, point 7).

What made a tree of 10,000 pipes faster to size and verify must not change a design: the
static pressure solved in memory through the EPANET toolkit (it was a demand-free copy of the
model run by WNTR's EpanetSimulator, read back from its single-precision output), runs without
a copy of the model, the verification's peak hour built on the model it read from the written
file instead of a copy of it, and the 0-1 solution read with ``argmax``. Each small random tree
(:mod:`hydro.sizing.random_networks`) is sized twice, as hydro does now and with the slower
reference put back, and the two designs must be the same pipe for pipe, at the same cost,
both verified.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT

import hydro.sizing.problem as problem_module
import hydro.sizing.size as size_module
import hydro.sizing.tree as tree_module
from hydro.catalog import read_catalog
from hydro.network import copy_network, read_network
from hydro.simulation import run_simulation, static_pressure
from hydro.sizing import Targets, size_network
from hydro.sizing.break_tanks import BreakTanks
from hydro.sizing.random_networks import (
    CLASS_CATALOG,
    FLAT_TREE_CATALOG,
    flat_tree,
    relief_tree,
)

#: EPANET's binary output (the reference's static pressure) is single precision: 2^-24 of
#: up to 500 m of static head is 3e-5 m [m].
FLOAT32_TOL_M = 1e-4
COST_TOL = 1e-9  # relative: the same pipes, costed from the same tags


def reference_static_pressure(wn):
    """The static pressure as it was computed before: a demand-free copy of ``wn``, copied
    again and run by WNTR's EpanetSimulator (``duration_h`` forces run_simulation's copy)."""
    model = copy_network(wn)
    for _, junction in model.junctions():
        junction.demand_timeseries_list.clear()
        junction.add_demand(0.0, None)
    return run_simulation(model, duration_h=0).pressure.iloc[0]


def reference_read_design(problem, columns, x, split):
    """The 0-1 solution read as before: the first option of largest value, by ``max``."""
    index = {p: i for i, p in enumerate(problem.pipes)}
    choice, segments = {}, {}
    for p, span in columns.spans.items():
        assert not split
        best = max(span, key=lambda c: x[c])
        choice[p] = int(columns.option[best])
        segments[p] = [(choice[p], float(problem.lengths[index[p]]))]
    return choice, segments


def slower_reference(monkeypatch) -> None:
    real_cases = size_module.design_cases
    monkeypatch.setattr(problem_module, "static_pressure", reference_static_pressure)
    monkeypatch.setattr(size_module, "static_pressure", reference_static_pressure)
    monkeypatch.setattr(
        size_module, "design_cases", lambda *a, **k: real_cases(*a, **{**k, "in_place": False})
    )
    monkeypatch.setattr(tree_module, "_read_design", reference_read_design)


def with_standpipes(text: str, nodes: list[str]) -> str:
    """``text`` with ``nodes`` tagged as standpipes of 2 taps at 0.25 l/s (a tap-flow case)."""
    tags = "\n".join(f" NODE {n} standpipe:2@0.25" for n in nodes)
    return text.replace("[END]", f"[TAGS]\n{tags}\n[END]")


CASES = {
    "flat 12 pipes": (flat_tree(12, 1), "flat", 15.0, None),
    "flat 40 pipes": (flat_tree(40, 2), "flat", 15.0, None),
    "flat 80 pipes, standpipes": (
        with_standpipes(flat_tree(80, 3), ["J5", "J17"]),
        "flat",
        15.0,
        None,
    ),
    "relief 25 junctions, classes": (relief_tree(25, 3, 120.0), "classes", 10.0, None),
    "relief 40 junctions, classes": (relief_tree(40, 7, 130.0), "classes", 10.0, None),
    "relief 8 junctions, tanks": (relief_tree(8, 4, 250.0), "classes", 10.0, 5_000.0),
}


def size_case(key: str, tmp_path):
    text, catalog_name, min_pressure_m, tank_cost = CASES[key]
    path = tmp_path / "tree.inp"
    path.write_text(text)
    frame = FLAT_TREE_CATALOG if catalog_name == "flat" else CLASS_CATALOG
    frame.to_csv(tmp_path / "catalog.csv", index=False)
    tanks = BreakTanks(tank_cost, residual_m=2.0) if tank_cost else None
    return size_network(
        read_network(path),
        read_catalog(tmp_path / "catalog.csv"),
        Targets(min_pressure_m),
        break_tanks=tanks,
    )


def design_of(result) -> dict[str, str]:
    model = result.model
    return {p: model.get_link(p).tag for p in model.pipe_name_list}


@pytest.mark.parametrize("key", list(CASES))
def test_the_faster_path_gives_the_slower_reference_design(key, tmp_path, monkeypatch):
    fast = size_case(key, tmp_path)
    slower_reference(monkeypatch)
    slow = size_case(key, tmp_path)
    assert fast.verification.ok and slow.verification.ok
    if CASES[key][1] == "classes":  # the static pressure chose among the classes
        assert fast.table["pressure_class_bar"].nunique() > 1
    assert design_of(fast) == design_of(slow)
    assert fast.verification.break_tanks == slow.verification.break_tanks
    assert fast.cost == pytest.approx(slow.cost, rel=COST_TOL)
    assert fast.gap == pytest.approx(0.0, abs=1e-9) and slow.gap == pytest.approx(0.0, abs=1e-9)
    # the standpipe tree has the tap-flow case too (built on the peak hour that is now the
    # model the verification read from the file, not a copy of it)
    cases = 2 if "standpipes" in key else 1
    assert len(fast.verification.conditions) == len(slow.verification.conditions) == cases
    assert fast.verification.min_pressure_m == slow.verification.min_pressure_m  # same run
    seen = [r.verification.pipes["max_pressure_seen_m"].to_numpy() for r in (fast, slow)]
    np.testing.assert_allclose(seen[0], seen[1], rtol=0, atol=FLOAT32_TOL_M)


@pytest.mark.parametrize("key", ["relief 40 junctions, classes", "flat 40 pipes"])
def test_static_pressure_matches_the_reference_within_single_precision(key, tmp_path):
    path = tmp_path / "tree.inp"
    path.write_text(CASES[key][0])
    wn = read_network(path)
    ours, reference = static_pressure(wn), reference_static_pressure(wn)
    assert list(ours.index) == list(reference.index)
    np.testing.assert_allclose(ours.to_numpy(), reference.to_numpy(), rtol=0, atol=FLOAT32_TOL_M)
    assert float(ours.max()) > 100.0  # a real static head, not zeros


def test_static_pressure_with_tanks_pumps_and_patterns_matches_the_reference():
    wn = read_network(ROOT / "tests" / "data" / "booster_aqueduct.inp")  # a pumped network
    ours, reference = static_pressure(wn), reference_static_pressure(wn)
    assert wn.tank_name_list and wn.pump_name_list and wn.pattern_name_list
    np.testing.assert_allclose(
        ours[reference.index].to_numpy(), reference.to_numpy(), rtol=0, atol=FLOAT32_TOL_M
    )


def test_static_pressure_is_in_metres_whatever_pressure_units_the_file_states(tmp_path):
    """A file that states ``PRESSURE KPA``: the static pressure is still in m, that of the same
    file without the option (EPANET's own pressure, and the reference read from WNTR's
    binary results, which does not convert it, would be in kPa: 9.8 times as much)."""
    text = CASES["relief 25 junctions, classes"][0]
    (tmp_path / "m.inp").write_text(text)
    (tmp_path / "kpa.inp").write_text(text.replace(" Headloss H-W", " Headloss H-W\n Pressure KPA"))
    wn = read_network(tmp_path / "kpa.inp")
    assert str(wn.options.hydraulic.inpfile_pressure_units).upper() == "KPA"
    metres = reference_static_pressure(read_network(tmp_path / "m.inp"))
    np.testing.assert_allclose(
        static_pressure(wn).to_numpy(), metres.to_numpy(), rtol=0, atol=FLOAT32_TOL_M
    )
