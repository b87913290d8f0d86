"""Every tree the program solves is written verified (issue 24, point 7).

A large random tree is sized, written and verified, with the extended-period check; when
EPANET's run of the written file fails, the file is written again with more TRIALS or a
looser ACCURACY and verified again, and the result says so; never an internal exception.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hydro.sizing.size as size_module
from hydro.catalog import read_catalog
from hydro.errors import SimulationError
from hydro.network import read_network
from hydro.sizing import size_network
from hydro.sizing.problem import Targets

CATALOG = pd.DataFrame(
    {
        "inner_diameter_mm": [40.8, 55.4, 66.0, 79.2, 96.8, 110.2, 141.0, 176.2, 220.4, 277.6],
        "cost_per_m": [55, 70, 85, 100, 130, 155, 210, 300, 420, 610],
    }
)
MIN_PRESSURE_M = 15.0


def random_tree(n_pipes: int, seed: int) -> str:
    """A random recursive tree (as benchmarks/size_trees.py): about 24 l/s, reservoir 110 m."""
    rng = np.random.default_rng(seed)
    junctions, pipes, coords = [], [], [" R1 0 0"]
    for k in range(1, n_pipes + 1):
        parent = "R1" if k == 1 else f"J{rng.integers(1, k)}"
        junctions.append(
            f" J{k} {rng.uniform(0, 30):.2f} {rng.uniform(0.2, 1.0) * 40 / n_pipes:.5f}"
        )
        pipes.append(f" P{k} {parent} J{k} {rng.uniform(100, 800):.1f} 100 130")
        coords.append(f" J{k} {k} {k}")
    return (
        "[JUNCTIONS]\n" + "\n".join(junctions) + "\n[RESERVOIRS]\n R1 110\n[PIPES]\n"
        + "\n".join(pipes) + "\n[OPTIONS]\n Units LPS\n Headloss H-W\n[COORDINATES]\n"
        + "\n".join(coords) + "\n[END]\n"
    )  # fmt: skip


@pytest.fixture
def catalog(tmp_path):
    CATALOG.to_csv(tmp_path / "catalog.csv", index=False)
    return read_catalog(tmp_path / "catalog.csv")


def test_a_tree_of_a_thousand_pipes_is_sized_and_verified(tmp_path, write_inp, catalog):
    wn = read_network(write_inp(random_tree(1000, seed=1)))
    result = size_network(wn, catalog, Targets(MIN_PRESSURE_M), operation_h=24)
    v = result.verification
    assert v.ok, v.violations.head()
    assert v.min_pressure_m >= MIN_PRESSURE_M - size_module.VERIFY_TOL_M
    assert result.gap == pytest.approx(0.0, abs=1e-9)
    assert len(result.table) == 1000


def test_a_failed_run_of_the_written_file_is_retried_with_more_trials(
    write_inp, catalog, monkeypatch
):
    """EPANET's extended run of the written file fails once (as the tightened ACCURACY did on
    trees of 1,000-2,000 pipes): the file is written again with TRIALS raised and verified."""
    real = size_module.check_operation
    calls = []

    def fails_first(text, *args):
        calls.append(text)
        if len(calls) == 1:
            raise SimulationError("EPANET could not run the network: did not converge at 01:00")
        return real(text, *args)

    monkeypatch.setattr(size_module, "check_operation", fails_first)
    wn = read_network(write_inp(random_tree(30, seed=2)))
    result = size_network(wn, catalog, Targets(MIN_PRESSURE_M), operation_h=4)
    assert result.verification.ok
    assert len(calls) == 2
    assert b"1000" in calls[1].upper().split(b"TRIALS", 1)[1][:30]  # written with more trials
    assert any("TRIALS 1000, verified again" in note for note in result.notes)
    assert result.model.options.hydraulic.trials == size_module.TIGHT_TRIALS


def test_a_written_file_epanet_cannot_run_at_all_is_a_named_error(write_inp, catalog, monkeypatch):
    def always_fails(*args):
        raise SimulationError("EPANET could not run the network: did not converge at 01:00")

    monkeypatch.setattr(size_module, "check_operation", always_fails)
    wn = read_network(write_inp(random_tree(30, seed=2)))
    with pytest.raises(SimulationError, match=r"tried TRIALS 1000 with ACCURACY"):
        size_network(wn, catalog, Targets(MIN_PRESSURE_M), operation_h=4)
