"""Transmission mains: the network's head-loss formula and the velocity limit given."""

from __future__ import annotations

import math

import pytest
from conftest import ROOT

from hydro.catalog import read_catalog
from hydro.hydraulics import headloss_darcy_weisbach, headloss_hazen_williams
from hydro.mains import rising_main, size_gravity_main
from hydro.network import read_network

FRICTION_TOL_M = 1e-9


def gravity_main(write_inp, formula: str, roughness: float):
    """Reservoir at 120 m -> 2,000 m of pipe -> tank (bottom 60 m, top 65 m)."""
    text = (
        "[TITLE]\ngravity main\n\n[RESERVOIRS]\n R1 120\n\n[TANKS]\n T1 60 2 0 5 10 0\n\n"
        f"[PIPES]\n P1 R1 T1 2000 150 {roughness}\n\n[OPTIONS]\n Units LPS\n Headloss {formula}"
        "\n\n[TIMES]\n Duration 0\n\n[END]\n"
    )
    return read_network(write_inp(text))


def test_gravity_main_uses_darcy_weisbach_when_the_network_does(tmp_path, write_inp):
    wn = gravity_main(write_inp, "D-W", 0.05)  # roughness 0.05 mm
    # the catalogue's Hazen-Williams C would be wrong here: drop it, keep the pipe's own
    catalog = read_catalog(ROOT / "networks" / "catalogs" / "oujda_pipes.csv")
    catalog.table["roughness"] = float("nan")
    pipes = rising_main(wn, "T1")
    table = size_gravity_main(wn, pipes, catalog, 0.004, tank="T1")
    row = table.iloc[0]
    d = row["inner_diameter_mm"] / 1000
    # the segment's own length (the main may be split between two diameters)
    expected = float(headloss_darcy_weisbach(0.004, row["length_m"], d, 0.05e-3))
    assert row["friction_m"] == pytest.approx(expected, abs=FRICTION_TOL_M)
    assert row["friction_m"] != pytest.approx(
        float(headloss_hazen_williams(0.004, row["length_m"], d, 0.05)), abs=1.0
    )


def test_gravity_main_keeps_within_the_velocity_limit_given(write_inp):
    wn = gravity_main(write_inp, "H-W", 140)
    catalog = read_catalog(ROOT / "networks" / "catalogs" / "oujda_pipes.csv")
    pipes = rising_main(wn, "T1")
    fast = size_gravity_main(wn, pipes, catalog, 0.004, tank="T1", max_velocity_m_per_s=2.0)
    slow = size_gravity_main(wn, pipes, catalog, 0.004, tank="T1", max_velocity_m_per_s=0.5)
    for table, limit in ((fast, 2.0), (slow, 0.5)):
        d = table.iloc[0]["inner_diameter_mm"] / 1000
        assert 0.004 / (math.pi * d**2 / 4) <= limit
    assert slow.iloc[0]["inner_diameter_mm"] > fast.iloc[0]["inner_diameter_mm"]
