"""Simulation against hand calculations, isolation of runs, and no leaked files."""

from __future__ import annotations

import os
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import wntr
from conftest import NET3, PRESSURE_TOL_M

from hydro.hydraulics import headloss_hazen_williams
from hydro.network import read_network
from hydro.simulation import run_simulation, summarize


def test_single_pipe_pressure_matches_hazen_williams_hand_calculation(single_pipe_inp):
    """p = H_reservoir - z - h_f, h_f = 10.667 L Q^1.852 / (C^1.852 D^4.871) (EPANET manual)."""
    results = run_simulation(read_network(single_pipe_inp))
    hf = float(headloss_hazen_williams(0.010, 1000.0, 0.150, 130.0))  # about 3.8 m
    expected = 50.0 - 10.0 - hf
    assert results.pressure["J1"].iloc[0] == pytest.approx(expected, abs=PRESSURE_TOL_M)
    assert results.flow["P1"].iloc[0] == pytest.approx(0.010, rel=1e-6)


def test_branched_network_flows_and_heads_by_hand(branched_inp):
    """In a tree each pipe carries the demand downstream of it; heads fall pipe by pipe."""
    results = run_simulation(read_network(branched_inp))
    q = {"P1": 0.014, "P2": 0.003, "P3": 0.006, "P4": 0.002}
    geometry = {"P1": (800, 0.2), "P2": (500, 0.1), "P3": (600, 0.15), "P4": (400, 0.08)}
    for pipe, flow in q.items():
        assert results.flow[pipe].iloc[0] == pytest.approx(flow, rel=1e-6)
    hf = {p: float(headloss_hazen_williams(q[p], *geometry[p], 130.0)) for p in q}
    head = {"J1": 80 - hf["P1"]}
    head["J2"] = head["J1"] - hf["P2"]
    head["J3"] = head["J1"] - hf["P3"]
    head["J4"] = head["J3"] - hf["P4"]
    elevation = {"J1": 20, "J2": 25, "J3": 15, "J4": 18}
    for node, h in head.items():
        assert results.pressure[node].iloc[0] == pytest.approx(
            h - elevation[node], abs=PRESSURE_TOL_M
        )
    # the per-link head loss column agrees with the formula
    assert results.headloss["P4"].iloc[0] == pytest.approx(hf["P4"], abs=PRESSURE_TOL_M)


def test_extended_period_summary_on_net3():
    wn = read_network(NET3)
    results = run_simulation(wn, duration_h=24)
    s = summarize(results)
    assert s["duration_h"] == pytest.approx(24)
    assert s["min_pressure_m"] < s["max_pressure_m"]
    assert s["min_pressure_m"] == pytest.approx(results.pressure[results.junctions].min().min())
    assert set(s["tank_levels_m"]) == {"1", "2", "3"}
    # the volume drawn: the demands the model asks (WNTR's expected demand, base x pattern),
    # hour by hour over the 25 reported steps, each standing for one hour (rectangle rule)
    asked = wntr.metrics.expected_demand(wn, start_time=0, end_time=24 * 3600, timestep=3600)
    assert s["total_demand_m3"] == pytest.approx(asked.sum(axis=1).sum() * 3600, rel=1e-5)
    assert s["peak_demand_l_per_s"] == pytest.approx(asked.sum(axis=1).max() * 1000, rel=1e-5)


def _simulate_min_pressure(path: str) -> float:
    return float(run_simulation(read_network(path), duration_h=6).pressure.min().min())


def test_parallel_runs_do_not_collide():
    serial = _simulate_min_pressure(str(NET3))
    with ProcessPoolExecutor(max_workers=2) as pool:
        parallel = list(pool.map(_simulate_min_pressure, [str(NET3)] * 4))
    assert np.allclose(parallel, serial, atol=1e-9)


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc to count open files")
def test_two_thousand_runs_leak_no_files_or_handles(single_pipe_inp, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # anything written to the working folder would show up here
    wn = read_network(single_pipe_inp)
    run_simulation(wn)
    before = _open_files()
    for _ in range(2000):
        run_simulation(wn)
    assert _open_files() <= before
    assert list(work.iterdir()) == []


@pytest.mark.parametrize("units", ["KPA", "PSI"])
def test_pressure_is_in_metres_whatever_the_file_states(tmp_path, units):
    """A file with PRESSURE KPA or PSI gives the same pressures [m] as one in metres.

    EPANET reports pressure in the file's units and WNTR's reader does not convert them; the
    results gave 431 "m" for 44 m in a KPA file.
    """
    # the file's own PRESSURE line (hydro writes METERS) replaced by the one tried
    text = re.sub(r"^ *PRESSURE .*\n", "", Path("networks/oujda_rural.inp").read_text(), flags=re.M)
    assert "[OPTIONS]\n" in text
    other = tmp_path / "units.inp"
    other.write_text(text.replace("[OPTIONS]\n", f"[OPTIONS]\n PRESSURE {units}\n", 1))
    in_m = run_simulation(read_network("networks/oujda_rural.inp"), duration_h=2).pressure
    stated = run_simulation(read_network(other), duration_h=2).pressure
    np.testing.assert_allclose(stated.to_numpy(), in_m.to_numpy(), atol=PRESSURE_TOL_M)


def test_the_toolkit_reads_metres_from_a_file_in_kpa(tmp_path):
    """The files hydro hands the EPANET toolkit state pressures in metres (a KPA file kept KPA)."""
    from hydro.network import write_network

    text = re.sub(r"^ *PRESSURE .*\n", "", Path("networks/oujda_rural.inp").read_text(), flags=re.M)
    other = tmp_path / "units.inp"
    other.write_text(text.replace("[OPTIONS]\n", "[OPTIONS]\n PRESSURE KPA\n", 1))
    wn = read_network(other)
    written = write_network(wn, tmp_path / "lps.inp", units="LPS").read_text()
    assert re.search(r"^PRESSURE\s+METERS", written, re.MULTILINE)
    assert wn.options.hydraulic.inpfile_pressure_units.upper() == "KPA"  # not modified
