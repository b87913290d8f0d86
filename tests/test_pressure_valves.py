"""Pressure-reducing valves placed by the exact tree program (issue 24, point 1)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import wntr
from conftest import inp_text, run_hydro

from hydro.catalog import Catalog, read_catalog
from hydro.errors import InfeasibleDesignError, InputError
from hydro.hydraulics import headloss_hazen_williams
from hydro.network import read_network
from hydro.sizing import Targets, size_network
from hydro.sizing.break_tanks import BreakTanks, PressureValves
from hydro.sizing.random_networks import CLASS_CATALOG, relief_tree
from hydro.units import M_PER_BAR

COST_TOL = 1e-6  # relative
PRESSURE_TOL_M = 1e-3  # EPANET's steady state against the program's heads
DESIGN_MARGIN_M = 1e-3  # hydro.sizing.problem.DESIGN_MARGIN_M, kept by the brute force too

#: Reservoir head 300 m; J1 at 180 m, then down to J2 at 100 m and up again to J3 at 185 m,
#: 1 l/s each; 500 m pipes.
VALLEY = inp_text(
    " J1 180 1\n J2 100 1\n J3 185 1",
    " R1 300",
    " P1 R1 J1 500 100 140\n P2 J1 J2 500 100 140\n P3 J2 J3 500 100 140",
)
#: DN90 PE100 in PN10 (holds 102.0 m), PN16 (163.2 m) and PN20 (203.9 m).
VALLEY_CATALOG = pd.DataFrame(
    {
        "material": ["PE100"] * 3,
        "nominal_diameter_mm": [90, 90, 90],
        "pressure_class_bar": [10, 16, 20],
        "inner_diameter_mm": [79.2, 73.6, 69.6],
        "cost_per_m": [100.0, 125.0, 200.0],
    }
)


def catalog_from(frame: pd.DataFrame, tmp_path, name: str = "cat.csv") -> Catalog:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return read_catalog(path)


def classes_of(result) -> dict[str, float]:
    pipes = result.table[result.table["material"] == "PE100"]
    return dict(zip(pipes["pipe"], pipes["pressure_class_bar"], strict=True))


# --------------------------------------------------------------------------- worked by hand
def test_valley_tree_worked_by_hand(tmp_path, write_inp):
    """Without a device P2 and P3 see 300 - 100 = 200 m static at J2: PN20 (200/m). A break
    tank cannot help: below a tank at J1 (180 m) or J2 (100 m) the head never reaches J3 at
    185 m + 10 m. A valve at J1 keeps the grade up to its setting s: J3 needs 195 m plus the
    losses of P2 (2 l/s) and P3 (1 l/s), so s >= 15 m + losses; below it P2 and P3 see
    80 + s at J2, within PN10's 102.0 m for s <= 22.0 m. So pipes 62,500 (P1, 120 m static
    at J1: PN16) + 2 x 50,000 (PN10) + the valve, 20,000: 182,500 against 262,500 with the
    class upgrade, and against the tank (5,000) that would be cheaper but cannot serve J3.
    """
    catalog = catalog_from(VALLEY_CATALOG, tmp_path)
    wn = read_network(write_inp(VALLEY))
    upgrade = size_network(wn, catalog, Targets(10.0), break_tanks=BreakTanks(5_000.0))
    assert upgrade.cost == pytest.approx(262_500.0, rel=COST_TOL)
    assert upgrade.verification.break_tanks == []
    assert classes_of(upgrade) == {"P1": 16, "P2": 20, "P3": 20}
    out = tmp_path / "sized.inp"
    result = size_network(
        wn,
        catalog,
        Targets(10.0),
        break_tanks=(BreakTanks(5_000.0), PressureValves(20_000.0)),
        output=out,
    )
    assert result.verification.ok
    assert result.cost == pytest.approx(182_500.0, rel=COST_TOL)
    assert result.optimiser_cost == pytest.approx(182_500.0, rel=COST_TOL)
    assert result.verification.break_tanks == []
    assert result.verification.pressure_valves == ["PRV_J1"]
    assert result.verification.pressure_valve_cost == pytest.approx(20_000.0)
    assert classes_of(result) == {"P1": 16, "P2": 10, "P3": 10}
    row = result.table.set_index("pipe").loc["PRV_J1"]
    assert row["material"] == "pressure-reducing valve" and row["cost"] == pytest.approx(20_000)
    # the setting, by hand: 15 m + the losses below J1 at the least, 22.0 m at the most
    d = 0.0792
    losses = headloss_hazen_williams(0.002, 500, d, 140) + headloss_hazen_williams(
        0.001, 500, d, 140
    )
    pn10 = 10 * M_PER_BAR
    setting = row["setting_m"]
    assert 15.0 + losses - PRESSURE_TOL_M <= setting <= pn10 - 80.0 + PRESSURE_TOL_M
    # the written file, run by WNTR's EpanetSimulator
    written = wntr.network.WaterNetworkModel(str(out))
    valve = written.get_link("PRV_J1")
    assert valve.valve_type == "PRV"
    assert (valve.start_node_name, valve.end_node_name) == ("J1", "J1_PRV")
    assert valve.initial_setting == pytest.approx(setting)
    assert written.get_node("J1_PRV").elevation == pytest.approx(180.0)
    run = wntr.sim.EpanetSimulator(written).run_sim(file_prefix=str(tmp_path / "run"))
    pressure = run.node["pressure"].iloc[0]
    assert pressure[["J1", "J2", "J3"]].min() >= 10.0 - PRESSURE_TOL_M
    assert run.node["head"].iloc[0]["J1_PRV"] == pytest.approx(180.0 + setting, abs=0.01)
    for _, junction in written.junctions():
        junction.demand_timeseries_list[0].base_value = 0.0
    static = wntr.sim.EpanetSimulator(written).run_sim(file_prefix=str(tmp_path / "static"))
    # the static head below the valve starts at its setting, not at the reservoir's 300 m
    assert static.node["pressure"].iloc[0]["J2"] == pytest.approx(80.0 + setting, abs=0.01)
    assert static.node["pressure"].iloc[0]["J2"] <= pn10 + PRESSURE_TOL_M


def test_valve_against_tank_when_both_work(tmp_path, write_inp):
    """The mountain of test_break_tanks (J1 at 200 m, J2 at 100 m below): a tank (residual
    0 m) and a valve (setting up to 2.0 m) at J1 both let P2 take PN10; the cheaper device
    wins."""
    text = inp_text(
        " J1 200 1\n J2 100 1", " R1 300", " P1 R1 J1 500 100 140\n P2 J1 J2 500 100 140"
    )
    catalog = catalog_from(VALLEY_CATALOG, tmp_path)
    wn = read_network(write_inp(text))
    for tank, valve, placed in ((12_000.0, 8_000.0, "PRV_J1"), (8_000.0, 12_000.0, "BPT_J1")):
        result = size_network(
            wn, catalog, Targets(10.0), break_tanks=(BreakTanks(tank), PressureValves(valve))
        )
        assert result.verification.ok
        assert result.cost == pytest.approx(100_000.0 + min(tank, valve), rel=COST_TOL)
        assert [*result.verification.break_tanks, *result.verification.pressure_valves] == [placed]


def test_valve_holds_with_a_maximum_pressure(tmp_path, write_inp):
    """--max-pressure 60 m on a gentler slope: reservoir at 230 m, J1 at 180 m (50 m), J2 at
    150 m, J3 at 120 m. Without a valve J3 sits near 110 m (the DN90 pipes lose 1-2 m at
    these flows), above 60 m whatever the class; a valve at J1 set at s keeps J2 and J3
    within 60 m for s up to the losses to J3 (180 + s - losses - 120 <= 60). With a
    maximum pressure the program holds every valve regulating in every case, so the heads
    below it are the setting's, and the written file meets the maximum in EPANET's run."""
    text = VALLEY.replace(" R1 300", " R1 230").replace(" J2 100 1", " J2 150 1")
    text = text.replace(" J3 185 1", " J3 120 1")
    catalog = catalog_from(VALLEY_CATALOG, tmp_path)
    wn = read_network(write_inp(text))
    with pytest.raises(InfeasibleDesignError) as error:
        size_network(wn, catalog, Targets(10.0, max_pressure_m=60.0))
    # issue 24, point 5: which junctions, by how much, and what would fix it
    message = str(error.value)
    assert "junction(s) J3 by 4" in message and ", J2 by 1" in message
    assert "maximum pressure of 60 m even with the smallest pipes" in message
    assert "--prv-cost" in message and "--break-tank-cost" in message
    result = size_network(
        wn, catalog, Targets(10.0, max_pressure_m=60.0), break_tanks=PressureValves(1_000.0)
    )
    assert result.verification.ok
    assert result.verification.max_pressure_m <= 60.0 + PRESSURE_TOL_M
    assert result.verification.pressure_valves == ["PRV_J1"]


# --------------------------------------------------------------------------- brute force
def least_cost_by_brute_force(wn, catalog: Catalog, valve_cost: float, min_pressure_m: float):
    """Every choice of catalogue entry per pipe and every set of valves, each valve at the
    least setting that keeps every junction below it at its minimum, 0 m at the least (a
    higher one only raises the static head): the least pipes plus valves cost, and where
    the valves are.
    Written apart from hydro's program: heads worked up the tree, static heads down it."""
    table = catalog.table
    pipes = list(wn.pipe_name_list)
    up = {p: wn.get_link(p).start_node_name for p in pipes}
    down = {p: wn.get_link(p).end_node_name for p in pipes}
    pipe_to = {down[p]: p for p in pipes}
    children = {n: [down[p] for p in pipes if up[p] == n] for n in wn.node_name_list}
    z = {n: wn.get_node(n).elevation for n in wn.junction_name_list}
    demand = {n: wn.get_node(n).demand_timeseries_list[0].base_value for n in z}
    order = []  # junctions from the source down
    stack = list(children["R1"])
    while stack:
        n = stack.pop()
        order.append(n)
        stack.extend(children[n])
    below = {}
    for n in reversed(order):
        below[n] = demand[n] + sum(below[c] for c in children[n])
    loss = {
        p: headloss_hazen_williams(
            below[down[p]], wn.get_link(p).length, table["inner_diameter_mm"].to_numpy() / 1000,
            140.0,
        )
        for p in pipes
    }  # fmt: skip
    rating = table["pressure_rating_m"].to_numpy()
    price = table["cost_per_m"].to_numpy()
    source = wn.get_node("R1").base_head
    candidates = [n for n in order if children[n]]
    best, where = np.inf, None
    for k in range(len(candidates) + 1):
        for valves in itertools.combinations(candidates, k):
            for choice in itertools.product(range(len(table)), repeat=len(pipes)):
                x = dict(zip(pipes, choice, strict=True))
                need, setting = {}, {}
                for n in reversed(order):  # the head each junction needs
                    out = max((need[c] + loss[pipe_to[c]][x[pipe_to[c]]] for c in children[n]),
                              default=-np.inf)  # fmt: skip
                    if n in valves:  # the least setting, and 0 m at the least
                        setting[n] = max(out, z[n])
                    need[n] = max(z[n] + min_pressure_m + DESIGN_MARGIN_M, out)
                first = children["R1"][0]
                if source - loss[pipe_to[first]][x[pipe_to[first]]] < need[first]:
                    continue
                static, ok = {first: source}, True  # static heads, from the source down
                for n in order:
                    head = min(static[n], setting[n]) if n in valves else static[n]
                    for c in children[n]:
                        static[c] = head
                        if head - min(z[n], z[c]) > rating[x[pipe_to[c]]]:
                            ok = False
                p0 = pipe_to[first]
                if static[first] - z[first] > rating[x[p0]]:
                    ok = False
                if not ok:
                    continue
                cost = sum(price[x[p]] * wn.get_link(p).length for p in pipes)
                cost += valve_cost * len(valves)
                if cost < best - 1e-6:
                    best, where = cost, valves
    return best, where


@pytest.mark.parametrize(
    "n,seed,relief_m,valve_cost",
    [
        (4, 1, 250.0, 2_000.0),
        (5, 4, 250.0, 1_500.0),
        (5, 6, 300.0, 1_000.0),
        (5, 2, 220.0, 3_000.0),
    ],
)
def test_valves_match_brute_force(n, seed, relief_m, valve_cost, tmp_path):
    """Small relief trees, DN75 and DN90 in PN6/10/16: hydro's program against every
    choice of entries and valves (least settings) worked out apart."""
    path = tmp_path / "tree.inp"
    path.write_text(relief_tree(n, seed, relief_m, total_demand_l_per_s=3.0))
    frame = CLASS_CATALOG[CLASS_CATALOG["nominal_diameter_mm"].isin([75, 90])]
    catalog = catalog_from(frame, tmp_path)
    wn = read_network(path)
    best, where = least_cost_by_brute_force(wn, catalog, valve_cost, 10.0)
    valves = PressureValves(valve_cost)
    if not np.isfinite(best):
        with pytest.raises((InfeasibleDesignError, InputError)):
            size_network(wn, catalog, Targets(10.0), break_tanks=valves)
        return
    result = size_network(wn, catalog, Targets(10.0), break_tanks=valves)
    assert result.verification.ok
    assert result.cost == pytest.approx(best, rel=COST_TOL)
    assert len(result.verification.pressure_valves) == len(where)


# --------------------------------------------------------------------------- commands
def test_hydro_size_places_a_valve_and_hydro_check_passes_it(tmp_path, write_inp):
    network = write_inp(VALLEY)
    VALLEY_CATALOG.to_csv(tmp_path / "cat.csv", index=False)
    out, report = tmp_path / "sized.inp", tmp_path / "pipes.csv"
    done = run_hydro(
        "size", network, "--catalog", tmp_path / "cat.csv", "--min-pressure", "10",
        "--prv-cost", "20000", "--output", out, "--report", report,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 pressure-reducing valve(s) 20,000.00" in done.stdout
    assert "pipes sized: 3" in done.stdout  # the valve is no pipe (the table counted it: 4)
    assert "total cost: 182,500.00" in done.stdout
    table = pd.read_csv(report).set_index("pipe")
    assert table.loc["PRV_J1", "material"] == "pressure-reducing valve"
    checked = run_hydro("check", out, "--max-pressure", "120")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "J1_PRV" not in checked.stdout  # a point of the pipe, not a consumer


def test_valve_options_are_checked(tmp_path, write_inp):
    VALLEY_CATALOG.to_csv(tmp_path / "cat.csv", index=False)
    network = write_inp(VALLEY)
    done = run_hydro(
        "size", network, "--catalog", tmp_path / "cat.csv", "--min-pressure", "10",
        "--prv-nodes", "J1",
    )  # fmt: skip
    assert done.returncode == 1 and "--prv-nodes needs --prv-cost" in done.stderr
    with pytest.raises(InputError, match="--prv-cost"):
        PressureValves(-1.0)
    catalog = catalog_from(VALLEY_CATALOG, tmp_path)
    with pytest.raises(InputError, match="--prv-nodes .* J9"):
        size_network(
            read_network(network), catalog, Targets(10.0), break_tanks=PressureValves(1.0, ("J9",))
        )


# --------------------------------------------------------------------------- looped networks
#: A loop J1-J2-J3 fed at J1 (200 m) from a reservoir at 300 m, J4 at 90 m below J3.
MESH = inp_text(
    " J1 200 1\n J2 100 1\n J3 110 1\n J4 90 1",
    " R1 300",
    " P0 R1 J1 500 100 140\n P1 J1 J2 600 100 140\n P2 J1 J3 500 100 140\n"
    " P3 J2 J3 400 100 140\n P4 J3 J4 500 100 140",
)
#: DN75 and DN90 PE100 in PN10 and PN16.
MESH_CATALOG = pd.DataFrame(
    {
        "material": ["PE100"] * 4,
        "nominal_diameter_mm": [75, 75, 90, 90],
        "pressure_class_bar": [10, 16, 10, 16],
        "inner_diameter_mm": [66.0, 61.4, 79.2, 73.6],
        "cost_per_m": [80.0, 100.0, 100.0, 125.0],
    }
)


@pytest.mark.parametrize(
    "devices,expected,placed",
    [
        # a tank at J1 (0 m kept): J2, J3 and the loop see 100 m or less (PN10), J4 110 m
        # (PN16): DN75 everywhere, 80 x 2,000 m + 100 x 500 m + 10,000
        (BreakTanks(10_000.0, ("J1",)), 220_000.0, ["BPT_J1"]),
        # a valve at J1: its lowest class threshold, 102.0 - 100 - 0.1 = 1.87 m, keeps the
        # loop in PN10 (J4 in PN16): the same pipes + 8,000
        (PressureValves(8_000.0, ("J1", "J3")), 218_000.0, ["PRV_J1"]),
        ((BreakTanks(10_000.0, ("J1",)), PressureValves(8_000.0, ("J1",))), 218_000.0, ["PRV_J1"]),
    ],
)
def test_looped_mesh_with_devices_at_given_sites(devices, expected, placed, tmp_path, write_inp):
    """Issue 24, point 2: in a looped network the devices go at the given sites (a heuristic:
    each site and setting tried with the looped optimiser, verified by EPANET). Without a
    device P1 sees 200 m static, above PN16; with one at J1 the design is the cheapest the
    classes allow (each pipe DN75 in the lowest class its static pressure fits), worked by
    hand."""
    catalog = catalog_from(MESH_CATALOG, tmp_path)
    wn = read_network(write_inp(MESH))
    with pytest.raises(InputError, match="no class of the catalogue holds 200.0 m"):
        size_network(wn, catalog, Targets(10.0), max_evaluations=300)
    out = tmp_path / "sized.inp"
    result = size_network(
        wn, catalog, Targets(10.0), break_tanks=devices, max_evaluations=300, output=out
    )
    assert result.verification.ok
    assert result.cost == pytest.approx(expected, rel=COST_TOL)
    assert result.optimiser_cost == pytest.approx(expected, rel=COST_TOL)
    assert [*result.verification.break_tanks, *result.verification.pressure_valves] == placed
    assert any("heuristic, not a proven optimum" in note for note in result.notes)
    assert classes_of(result) == {"P0": 10, "P1": 10, "P2": 10, "P3": 10, "P4": 16}
    written = read_network(out)
    assert written.get_link(placed[0]).end_node_name == f"J1_{placed[0][:3]}"
    assert result.method != "exact 0-1 program (HiGHS)"


def test_looped_devices_need_their_sites(tmp_path, write_inp):
    catalog = catalog_from(MESH_CATALOG, tmp_path)
    wn = read_network(write_inp(MESH))
    with pytest.raises(InputError, match="looped network .* --prv-nodes"):
        size_network(wn, catalog, Targets(10.0), break_tanks=PressureValves(8_000.0))
    with pytest.raises(InputError, match="--break-tank-nodes"):
        size_network(wn, catalog, Targets(10.0), break_tanks=BreakTanks(8_000.0))
    # a site with no pipe below it would relieve nothing
    with pytest.raises(InputError, match="candidate site J4: no pipe of it leads away"):
        size_network(
            wn, catalog, Targets(10.0), break_tanks=BreakTanks(1.0, ("J4",)), max_evaluations=300
        )


def test_valves_hold_for_the_tap_flows_too(tmp_path, write_inp):
    """Standpipes: one setting per valve serves both cases of the design condition (the
    peak hour and all taps open, 5 m at the tap), and the written design meets both."""
    text = inp_text(
        " J1 200 0.3 standpipe\n J2 150 0.2 standpipe\n J3 90 0.3 standpipe\n J4 60 0.2 standpipe",
        " R1 300",
        " P1 R1 J1 800 100 140\n P2 J1 J2 900 100 140\n P3 J2 J3 700 100 140\n"
        " P4 J3 J4 600 100 140",
        extra="[PATTERNS]\n standpipe 1\n",
    )
    result = size_network(
        read_network(write_inp(text)),
        catalog_from(CLASS_CATALOG, tmp_path),
        Targets(10.0),
        break_tanks=PressureValves(3_000.0),
    )
    assert result.verification.ok
    assert len(result.verification.conditions) == 2  # peak hour and tap flows
    assert result.verification.pressure_valves  # 240 m of relief: PN16 alone cannot hold it
    settings = result.table.set_index("pipe")["setting_m"].dropna()
    assert (settings >= 0).all() and len(settings) == len(result.verification.pressure_valves)
