"""Break-pressure tanks placed by the exact tree program (issue 24, points 1, 4 and 8)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import wntr
from conftest import inp_text, run_hydro

from hydro.catalog import Catalog, entry_tag, read_catalog, stored_rating_m
from hydro.compliance import check_compliance
from hydro.errors import InfeasibleDesignError, InputError
from hydro.network import read_network
from hydro.sizing import Targets, size_network
from hydro.sizing.break_tanks import BreakTanks
from hydro.sizing.random_networks import CLASS_CATALOG, relief_tree
from hydro.units import M_PER_BAR

COST_TOL = 1e-6  # relative
PRESSURE_TOL_M = 1e-3  # EPANET's steady state against the program's heads

#: Reservoir head 300 m; J1 at 200 m, J2 at 100 m, 1 l/s each; 500 m pipes.
MOUNTAIN = inp_text(
    " J1 200 1\n J2 100 1", " R1 300", " P1 R1 J1 500 100 140\n P2 J1 J2 500 100 140"
)
#: DN90 PE100 in PN10 (holds 102.0 m), PN16 (163.2 m) and PN20 (203.9 m).
MOUNTAIN_CATALOG = pd.DataFrame(
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
    return dict(zip(result.table["pipe"], result.table["pressure_class_bar"], strict=True))


# --------------------------------------------------------------------------- worked by hand
@pytest.mark.parametrize(
    "tank_cost,residual_m,expected_cost,tanks,p2_class",
    [
        # no tank: P2 sees 300 - 100 = 200 m static, PN20 only: 500 x 100 + 500 x 200
        (60_000.0, 0.0, 150_000.0, [], 20),
        # a tank at J1 (cheaper than the 50,000 PN20 costs more than PN10): P2 sees
        # 200 - 100 = 100 m (PN10 holds 102.0 m): 500 x 100 x 2 + 12,000
        (12_000.0, 0.0, 112_000.0, ["BPT_J1"], 10),
        # 5 m kept in the tank: P2 sees 105 m, above PN10: PN16, 500 x 100 + 500 x 125 + 12,000
        (12_000.0, 5.0, 124_500.0, ["BPT_J1"], 16),
    ],
)
def test_mountain_tree_worked_by_hand(
    tank_cost, residual_m, expected_cost, tanks, p2_class, tmp_path, write_inp
):
    """P1 sees 100 m static (PN10) either way; P2 sees 200 m without a tank at J1 (PN20 at
    100 more per metre than PN10 over 500 m: 50,000), 100 m + residual with one. A tank at
    J2 is never a candidate (nothing below it)."""
    catalog = catalog_from(MOUNTAIN_CATALOG, tmp_path)
    result = size_network(
        read_network(write_inp(MOUNTAIN)),
        catalog,
        Targets(10.0),
        break_tanks=BreakTanks(tank_cost, residual_m=residual_m),
        output=tmp_path / "sized.inp",
    )
    assert result.verification.ok
    assert result.cost == pytest.approx(expected_cost, rel=COST_TOL)
    assert result.optimiser_cost == pytest.approx(expected_cost, rel=COST_TOL)
    assert result.verification.break_tanks == tanks
    assert classes_of(result)["P1"] == 10
    assert classes_of(result)["P2"] == p2_class
    tank_rows = result.table[result.table["material"] == "break-pressure tank"]
    assert list(tank_rows["pipe"]) == tanks
    assert tank_rows["cost"].sum() == pytest.approx(tank_cost * len(tanks))


def test_written_tank_verified_by_an_independent_epanet_run(tmp_path, write_inp):
    """The written file, run by WNTR's EpanetSimulator: the valve BPT_J1 (a PRV set at the
    residual) from J1 to J1_BPT at J1's elevation carries P2; heads below it restart at
    200 + 2 m, every consumer keeps 10 m, and the static pressure (every demand at zero)
    below the tank is within each pipe's class."""
    out = tmp_path / "sized.inp"
    size_network(
        read_network(write_inp(MOUNTAIN)),
        catalog_from(MOUNTAIN_CATALOG, tmp_path),
        Targets(10.0),
        break_tanks=BreakTanks(12_000.0, residual_m=2.0),
        output=out,
    )
    wn = wntr.network.WaterNetworkModel(str(out))
    valve = wn.get_link("BPT_J1")
    assert valve.valve_type == "PRV"
    assert (valve.start_node_name, valve.end_node_name) == ("J1", "J1_BPT")
    assert valve.initial_setting == pytest.approx(2.0)
    assert wn.get_node("J1_BPT").elevation == pytest.approx(200.0)
    p2 = wn.get_link("P2")
    assert {p2.start_node_name, p2.end_node_name} == {"J1_BPT", "J2"}
    run = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(tmp_path / "run"))
    head, pressure = run.node["head"].iloc[0], run.node["pressure"].iloc[0]
    assert head["J1_BPT"] == pytest.approx(202.0, abs=PRESSURE_TOL_M)
    assert pressure[["J1", "J2"]].min() >= 10.0 - PRESSURE_TOL_M
    for _, junction in wn.junctions():
        junction.demand_timeseries_list[0].base_value = 0.0
    static = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(tmp_path / "static"))
    static_pressure = static.node["pressure"].iloc[0]
    assert static_pressure["J2"] == pytest.approx(102.0, abs=PRESSURE_TOL_M)
    for name, pipe in wn.pipes():
        rating_m = stored_rating_m(pipe.tag)  # the rating the file stores, as data
        assert rating_m == pytest.approx(float(entry_tag(pipe.tag).split("PN")[1]) * M_PER_BAR)
        seen = max(static_pressure.get(n, 0.0) for n in (pipe.start_node_name, pipe.end_node_name))
        assert seen <= rating_m, name


# --------------------------------------------------------------------------- brute force
def with_tanks_by_hand(text: str, tanks: tuple[str, ...], residual_m: float) -> str:
    """``text`` (a :func:`relief_tree`) with a PRV BPT_<j> from j to j_BPT at each tank,
    written into the ``.inp`` text directly (not by hydro)."""
    lines = text.splitlines()
    junctions = lines.index("[JUNCTIONS]")
    pipes = lines.index("[PIPES]")
    elevation = {}
    for line in lines[junctions + 1 :]:
        if not line.strip():
            break
        name, z, _ = line.split()
        elevation[name] = z
    end_pipes = lines.index("", pipes)
    out = []
    for k, line in enumerate(lines):
        if pipes < k < end_pipes:
            name, up, down, *rest = line.split()
            if up in tanks:
                line = " ".join([name, f"{up}_BPT", down, *rest])
        out.append(line)
        if line == "[JUNCTIONS]":
            out.extend(f" {j}_BPT {elevation[j]} 0" for j in tanks)
    end = out.index("[OPTIONS]")
    valves = [f" BPT_{j} {j} {j}_BPT 100 PRV {residual_m} 0" for j in tanks]
    return "\n".join(out[:end] + ["[VALVES]", *valves, ""] + out[end:])


def cheapest_over_tank_placements(text, catalog, tank_cost, residual_m, candidates, tmp_path):
    """Every subset of ``candidates`` written as PRVs by hand, each sized by the exact pipe
    program without tanks (classes from EPANET's static run of that file): the least pipes
    plus tanks cost, and where."""
    best, where = np.inf, None
    for size in range(len(candidates) + 1):
        for tanks in itertools.combinations(candidates, size):
            path = tmp_path / f"placed_{'_'.join(tanks) or 'none'}.inp"
            path.write_text(with_tanks_by_hand(text, tanks, residual_m))
            minimum = {f"{j}_BPT": 0.0 for j in tanks}  # a free surface, not a consumer
            try:
                result = size_network(
                    read_network(path), catalog, Targets(10.0, node_min_pressure_m=minimum)
                )
            except (InputError, InfeasibleDesignError):
                continue
            assert result.verification.ok
            cost = result.cost + tank_cost * len(tanks)
            if cost < best - 1e-6:
                best, where = cost, tanks
    return best, where


@pytest.mark.parametrize(
    "n,seed,relief_m,tank_cost",
    [
        (5, 1, 250.0, 6_000.0),
        (6, 4, 250.0, 5_000.0),
        (7, 6, 300.0, 4_000.0),
        (6, 5, 200.0, 9_000.0),
        (6, 2, 300.0, 3_000.0),  # no placement works: both say so
    ],
)
def test_break_tanks_match_brute_force_over_placements(n, seed, relief_m, tank_cost, tmp_path):
    text = relief_tree(n, seed, relief_m)
    path = tmp_path / "tree.inp"
    path.write_text(text)
    catalog = catalog_from(CLASS_CATALOG, tmp_path)
    wn = read_network(path)
    candidates = sorted({wn.get_link(p).start_node_name for p in wn.pipe_name_list} - {"R1"})
    best, where = cheapest_over_tank_placements(text, catalog, tank_cost, 2.0, candidates, tmp_path)
    tanks = BreakTanks(tank_cost, residual_m=2.0)
    if not np.isfinite(best):
        with pytest.raises(InfeasibleDesignError, match="break-pressure tanks were allowed"):
            size_network(wn, catalog, Targets(10.0), break_tanks=tanks)
        return
    result = size_network(wn, catalog, Targets(10.0), break_tanks=tanks)
    assert result.verification.ok
    assert result.cost == pytest.approx(best, rel=COST_TOL)
    assert where  # tanks pay in these cases
    assert sorted(result.verification.break_tanks) == sorted(f"BPT_{j}" for j in where)


# --------------------------------------------------------------------------- what fixes it
def test_no_class_and_no_candidate_upstream_says_by_how_much_and_what_fixes_it(tmp_path, write_inp):
    """--break-tank-nodes J2 (a leaf): P2 still sees 200 m, 36.8 m above PN16 (163.2 m)."""
    catalog = catalog_from(MOUNTAIN_CATALOG.iloc[:2], tmp_path)
    with pytest.raises(InputError) as error:
        size_network(
            read_network(write_inp(MOUNTAIN)),
            catalog,
            Targets(10.0),
            break_tanks=BreakTanks(12_000.0, nodes=("J2",)),
        )
    message = str(error.value)
    assert "pipe P2 sees a static pressure of 200.0 m" in message
    assert "36.8 m above the highest pressure class" in message
    assert "PN20" in message and "--break-tank-nodes" in message
    assert "no class of the catalogue holds 200.0 m" in message and "--prv-nodes" in message


def test_without_tanks_the_message_names_the_class_and_the_option(tmp_path, write_inp):
    catalog = catalog_from(MOUNTAIN_CATALOG.iloc[:2], tmp_path)
    with pytest.raises(InputError, match=r"pipe P2 .* PN20 .*--break-tank-cost") as error:
        size_network(read_network(write_inp(MOUNTAIN)), catalog, Targets(10.0))
    # issue 24, point 5: by how much, and every device that would fix it
    message = str(error.value)
    assert "36.8 m above the highest pressure class" in message
    assert "no class of the catalogue holds 200.0 m" in message
    assert "--prv-cost" in message


def test_tanks_that_cannot_fix_it_say_so(tmp_path, write_inp):
    """PN10 and PN16 only: without a tank P2 sees 200 m, above both; a tank at J1 keeping
    150 m would need 350 m of head at J1, which the 300 m reservoir cannot give."""
    catalog = catalog_from(MOUNTAIN_CATALOG.iloc[:2], tmp_path)
    with pytest.raises(InfeasibleDesignError, match="break-pressure tanks were allowed at 1"):
        size_network(
            read_network(write_inp(MOUNTAIN)),
            catalog,
            Targets(10.0),
            break_tanks=BreakTanks(12_000.0, residual_m=150.0),
        )


def test_break_tanks_refuse_split_and_unknown_nodes(tmp_path, write_inp):
    catalog = catalog_from(MOUNTAIN_CATALOG, tmp_path)
    wn = read_network(write_inp(MOUNTAIN))
    with pytest.raises(InputError, match="--split"):
        size_network(wn, catalog, Targets(10.0), split=True, break_tanks=BreakTanks(1.0))
    with pytest.raises(InputError, match="J9"):
        size_network(wn, catalog, Targets(10.0), break_tanks=BreakTanks(1.0, nodes=("J9",)))
    with pytest.raises(InputError, match="--break-tank-cost"):
        BreakTanks(-1.0)


# --------------------------------------------------------------------------- commands
def test_hydro_size_places_a_tank_and_hydro_check_passes_it(tmp_path, write_inp):
    network = write_inp(MOUNTAIN)
    MOUNTAIN_CATALOG.to_csv(tmp_path / "cat.csv", index=False)
    out, report = tmp_path / "sized.inp", tmp_path / "pipes.csv"
    done = run_hydro(
        "size", network, "--catalog", tmp_path / "cat.csv", "--min-pressure", "10",
        "--break-tank-cost", "12000", "--output", out, "--report", report,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 break-pressure tank(s) 12,000.00" in done.stdout
    assert "total cost: 112,000.00" in done.stdout
    assert "BPT_J1" in pd.read_csv(report)["pipe"].tolist()
    checked = run_hydro("check", out, "--max-pressure", "120")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "J1_BPT" not in checked.stdout  # the tank's free surface is no consumer


def test_check_holds_a_break_tank_outlet_to_no_minimum(tmp_path, write_inp):
    """Before: the outlet of a tank set at 0 m sat at -0.000 m, a min_pressure violation."""
    text = with_tanks_by_hand(MOUNTAIN, ("J1",), 0.0)
    report = check_compliance(read_network(write_inp(text)), duration_h=1)
    assert "J1_BPT" not in set(report.violations["element"])
    assert report.summary["worst_node"] != "J1_BPT"


def test_tanks_hold_for_the_tap_flows_too(tmp_path, write_inp):
    """Standpipes: one program keeps the peak hour and the tap flows (5 m at the tap) with
    one placement of tanks; the written design meets both."""
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
        break_tanks=BreakTanks(3_000.0, residual_m=1.0),
    )
    assert result.verification.ok
    assert len(result.verification.conditions) == 2  # peak hour and tap flows
    assert result.verification.break_tanks  # 240 m of relief: PN16 alone cannot hold it
