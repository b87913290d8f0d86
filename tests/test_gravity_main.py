"""The gravity main's least-cost split between catalogue diameters (a linear programme).

A single path at one flow: minimise sum(c_e L_e) with sum(L_e) = L and 1.1 sum(j_e L_e) <= H.
With two diameters the optimum is closed form, L_1 = (H/1.1 - j_2 L) / (j_1 - j_2); with more,
a fine grid of lengths bounds it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from conftest import ROOT

from hydro.catalog import read_catalog
from hydro.errors import InputError
from hydro.hydraulics import headloss_hazen_williams
from hydro.mains import rising_main, size_gravity_main, split_main
from hydro.network import read_network

CATALOG = ROOT / "networks" / "catalogs" / "oujda_pipes.csv"
FLOW = 0.002  # [m3/s]
TOP = 65.0  # the tank's top [m]: bottom 60 + max level 5
LENGTH_TOL_M = 1e-3
COST_TOL = 1e-4  # relative: the LP's tie-breaker moves the cost by 1e-6 at most


def catalogue(*labels: str):
    """The Oujda catalogue cut to ``labels`` (PE100 PN10, Hazen-Williams C in the table)."""
    catalog = read_catalog(CATALOG)
    catalog = replace(catalog, table=catalog.table[catalog.table["label"].isin(labels)])
    assert len(catalog.table) == len(labels)
    return catalog


def friction_per_m(catalog, label: str) -> float:
    """Hazen-Williams gradient [m/m] of a catalogue entry at FLOW, by WNTR's formula."""
    entry = catalog.table.set_index("label").loc[label]
    d, c = entry["inner_diameter_mm"] / 1000, entry["roughness"]
    return float(headloss_hazen_williams(FLOW, 1.0, d, c))


def network(write_inp, head: float, reverse: bool = False):
    """Reservoir at ``head`` -> 500 m -> J1 (100 m) -> 1,500 m -> tank T1 (60 m, top 65 m).

    ``reverse`` draws the second pipe from the tank to J1 (against the flow).
    """
    p2 = " P2 T1 J1 1500 150 140" if reverse else " P2 J1 T1 1500 150 140"
    text = (
        f"[TITLE]\ngravity main\n\n[RESERVOIRS]\n R1 {head}\n\n[JUNCTIONS]\n J1 100 0\n\n"
        "[TANKS]\n T1 60 2 0 5 10 0\n\n"
        f"[PIPES]\n P1 R1 J1 500 150 140\n{p2}\n\n"
        "[COORDINATES]\n R1 0 0\n J1 500 0\n T1 2000 0\n\n"
        "[OPTIONS]\n Units LPS\n Headloss H-W\n\n[TIMES]\n Duration 0\n\n[END]\n"
    )
    return read_network(write_inp(text))


def test_two_diameters_split_as_the_closed_form(write_inp):
    catalog = catalogue("PE100 DN90 PN10", "PE100 DN75 PN10")
    j90, j75 = (friction_per_m(catalog, f"PE100 DN{d} PN10") for d in (90, 75))
    length = 2000.0
    head = TOP + 1.1 * length * (0.7 * j90 + 0.3 * j75)  # neither alone: DN75 too small
    wn = network(write_inp, head)
    table = size_gravity_main(wn, rising_main(wn, "T1"), catalog, FLOW, tank="T1")
    by_hand_75 = ((head - TOP) / 1.1 - j90 * length) / (j75 - j90)
    assert by_hand_75 == pytest.approx(0.3 * length)
    dn75 = table.loc[table["label"] == "PE100 DN75 PN10", "length_m"].sum()
    assert dn75 == pytest.approx(by_hand_75, abs=LENGTH_TOL_M)
    assert table["length_m"].sum() == pytest.approx(length, abs=LENGTH_TOL_M)
    assert 1.1 * table["friction_m"].sum() == pytest.approx(head - TOP, rel=1e-6)
    prices = catalog.table.set_index("label")["cost_per_m"]
    expected = prices["PE100 DN90 PN10"] * (length - by_hand_75) + prices["PE100 DN75 PN10"] * (
        by_hand_75
    )
    assert table["cost"].sum() == pytest.approx(expected, rel=COST_TOL)
    # the small pipe downstream: the whole of DN75 in P2 (1,500 m), at its tank end
    assert list(table["pipe"]) == ["P1", "P2", "P2"]
    assert table["label"].iloc[-1] == "PE100 DN75 PN10"


def test_the_lp_matches_a_brute_force_over_a_grid_of_lengths(write_inp):
    labels = ["PE100 DN110 PN10", "PE100 DN90 PN10", "PE100 DN75 PN10", "PE100 DN63 PN10"]
    catalog = catalogue(*labels)
    grads = np.array([friction_per_m(catalog, lab) for lab in labels])
    prices = catalog.table.set_index("label")["cost_per_m"].loc[labels].to_numpy()
    rng = np.random.default_rng(7)
    length, step = 2000.0, 20.0
    share = rng.uniform(0.2, 0.8)
    head = TOP + 1.1 * length * (share * grads[1] + (1 - share) * grads[2])
    wn = network(write_inp, head)
    table = size_gravity_main(wn, rising_main(wn, "T1"), catalog, FLOW, tank="T1")
    grid = np.arange(0.0, length + step / 2, step)
    a, b, c = (x.ravel() for x in np.meshgrid(grid, grid, grid, indexing="ij"))
    lengths = np.stack([a, b, c, length - a - b - c])
    ok = (lengths[3] >= -1e-9) & (1.1 * grads @ lengths <= head - TOP + 1e-9)
    best = (prices @ lengths[:, ok]).min()
    lp = table["cost"].sum()
    assert 1.1 * table["friction_m"].sum() <= (head - TOP) * (1 + 1e-6)
    assert lp <= best * (1 + COST_TOL)  # never worse than the grid
    # and the grid is within one step of the optimum: moving a step to the next larger pipe
    assert best - lp <= step * np.max(np.abs(np.diff(prices)))
    assert table["label"].nunique() <= 2  # Labye: at most two diameters on one path


def test_a_single_pipe_when_it_fits_exactly(write_inp):
    catalog = catalogue("PE100 DN90 PN10", "PE100 DN75 PN10")
    j90 = friction_per_m(catalog, "PE100 DN90 PN10")
    wn = network(write_inp, TOP + 1.1 * 2000.0 * j90)
    table = size_gravity_main(wn, rising_main(wn, "T1"), catalog, FLOW, tank="T1")
    assert set(table["label"]) == {"PE100 DN90 PN10"}
    assert list(table["pipe"]) == ["P1", "P2"]
    assert table["length_m"].tolist() == pytest.approx([500.0, 1500.0], abs=LENGTH_TOL_M)


def test_infeasible_when_even_the_largest_does_not_fit(write_inp):
    catalog = catalogue("PE100 DN90 PN10", "PE100 DN75 PN10")
    j90 = friction_per_m(catalog, "PE100 DN90 PN10")
    wn = network(write_inp, TOP + 0.9 * 2000.0 * j90)
    with pytest.raises(InputError, match=r"main P1, P2 .* tank T1 .* a pump is needed") as exc:
        size_gravity_main(wn, rising_main(wn, "T1"), catalog, FLOW, tank="T1", source="s.toml")
    assert str(exc.value).startswith("s.toml: ")
    assert "larger or higher-class pipe" in str(exc.value)


@pytest.mark.parametrize("reverse", [False, True])
def test_the_split_main_is_written_into_the_network(write_inp, reverse):
    catalog = catalogue("PE100 DN90 PN10", "PE100 DN75 PN10")
    j90, j75 = (friction_per_m(catalog, f"PE100 DN{d} PN10") for d in (90, 75))
    head = TOP + 1.1 * 2000.0 * (0.7 * j90 + 0.3 * j75)  # 600 m of DN75 at the tank's end
    wn = network(write_inp, head, reverse=reverse)
    pipes = rising_main(wn, "T1")
    table = split_main(wn, pipes, size_gravity_main(wn, pipes, catalog, FLOW, tank="T1"))
    assert list(table["pipe"]) == ["P1", "P2", "P2_S1"]
    assert list(table["main_pipe"]) == ["P1", "P2", "P2"]
    first, second = wn.get_link("P2"), wn.get_link("P2_S1")
    assert first.length == pytest.approx(900.0, abs=LENGTH_TOL_M)
    assert second.length == pytest.approx(600.0, abs=LENGTH_TOL_M)
    node = wn.get_node("P2_N1")  # 900 m down P2's 1,500 m: from J1 (100 m) to T1 (60 m)
    assert node.elevation == pytest.approx(100.0 - 0.6 * 40.0)
    assert node.coordinates == pytest.approx((1400.0, 0.0))
    assert node.base_demand == 0.0
    # the drawing's direction is kept: P2 still starts at T1 when it did
    ends = [(link.start_node_name, link.end_node_name) for link in (first, second)]
    if reverse:
        assert ends == [("P2_N1", "J1"), ("T1", "P2_N1")]
    else:
        assert ends == [("J1", "P2_N1"), ("P2_N1", "T1")]
    assert sum(wn.get_link(p).length for p in table["pipe"]) == pytest.approx(2000.0)
