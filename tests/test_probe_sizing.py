"""Defects a hostile probe found in sizing and checking (session 4, sizing brief)."""

from __future__ import annotations

from pathlib import Path

import pytest
import wntr
from conftest import inp_text, run_hydro

from hydro.catalog import read_catalog
from hydro.compliance import check_compliance
from hydro.errors import InfeasibleDesignError, InputError, SimulationError
from hydro.network import read_network
from hydro.simulation import run_simulation
from hydro.sizing import Targets, size_network
from hydro.sizing.boosters import Boosters
from hydro.sizing.break_tanks import BreakTanks, PressureValves
from hydro.sizing.problem import build_problem

OUJDA_CATALOG = "networks/catalogs/oujda_pipes.csv"

#: Reservoir head 100 m; J1 at 70 m, J2 at 25 m (75 m of static pressure), 2 l/s each at
#: the peak (hours 0-12), 1% of it at night (hours 12-24).
NIGHT = inp_text(
    " J1 70 2 D\n J2 25 2 D",
    " R1 100",
    " P1 R1 J1 1000 100 140\n P2 J1 J2 1000 100 140",
    extra="[PATTERNS]\n D 1.0 1.0 1.0 0.01 0.01 0.01\n",
).replace("Duration 0", "Duration 24:00\n Pattern Timestep 4:00")


@pytest.fixture
def night(write_inp):
    return read_network(write_inp(NIGHT, "night.inp"))


# ------------------------------------------------- 1. the maximum pressure with no demand
@pytest.mark.parametrize(
    "device", [PressureValves(1_000.0), BreakTanks(1_000.0, residual_m=15.0)], ids=str
)
def test_max_pressure_holds_at_night_with_devices(night, device):
    """At the peak hour the pipes' losses keep J2 under 60 m, at night it sees nearly its
    75 m of static pressure: the program must place a device above it, so that the 24 h run
    meets the maximum (before: no device, J2 at 75.0 m at t = 12 h, nothing written).
    """
    result = size_network(
        night,
        read_catalog(OUJDA_CATALOG),
        Targets(10.0, max_pressure_m=60.0),
        break_tanks=device,
        operation_h=24,
    )
    assert result.verification.violations.empty, result.verification.violations
    assert any("placed" in n for n in result.notes)


def test_max_pressure_at_night_refused_before_solving_when_no_candidate_can(night):
    """A valve allowed only where it cannot help (J2 has no pipe below): the refusal names
    J2 and by how much its static head exceeds the maximum (100 - 25 - 60 = 15 m).
    """
    with pytest.raises(InfeasibleDesignError, match=r"at zero \(at night\).*J2 by 15\.00 m"):
        size_network(
            night,
            read_catalog(OUJDA_CATALOG),
            Targets(10.0, max_pressure_m=60.0),
            break_tanks=PressureValves(1_000.0, ("J2",)),
            operation_h=24,
        )


# ---------------------------------------------- 2. devices at nodes with long names
LONG = "Node_with_a_long_name_12345678"  # 30 characters: PRV_ + it is 34, over EPANET's 31

#: Reservoir head 100 m; the long-named junction at 60 m, J2 at 140 m: a booster is needed.
CLIMB = inp_text(
    f" {LONG} 60 1\n J2 140 1", " R1 100", f" P1 R1 {LONG} 500 100 140\n P2 {LONG} J2 500 100 140"
)


@pytest.mark.parametrize(
    ("text", "device", "prefix", "suffix"),
    [
        (NIGHT.replace("J1", LONG), PressureValves(1_000.0), "PRV_", "_PRV"),
        (NIGHT.replace("J1", LONG), BreakTanks(1_000.0, residual_m=15.0), "BPT_", "_BPT"),
        (CLIMB, Boosters(10_000.0, nodes=(LONG,)), "PMP_", "_PMP"),
    ],
    ids=["valve", "tank", "booster"],
)
def test_devices_at_a_long_named_junction_get_names_within_31_characters(
    tmp_path, write_inp, text, device, prefix, suffix
):
    """Before: ``<node>_PRV`` (34 characters) crashed the writing after the solve with an
    AssertionError. Now the device is written under a shortened name that keeps its prefix
    and suffix, and its link starts at the long-named junction itself.
    """
    out = tmp_path / "sized.inp"
    result = size_network(
        read_network(write_inp(text)),
        read_catalog(OUJDA_CATALOG),
        Targets(10.0, max_pressure_m=60.0 if prefix != "PMP_" else None),
        break_tanks=device,
        output=out,
        operation_h=24 if prefix != "PMP_" else None,
    )
    assert result.verification.violations.empty, result.verification.violations
    wn = read_network(out)
    links = [n for n in wn.link_name_list if n.startswith(prefix)]
    assert len(links) == 1
    link = wn.get_link(links[0])
    assert link.start_node_name == LONG
    assert link.end_node_name.endswith(suffix)
    assert max(len(links[0]), len(link.end_node_name)) <= 31
    assert links[0] in " ".join(result.notes) or prefix == "PMP_"


# --------------------------------- 3. the source too low, or the catalogue's pipes too small
def small_catalog(tmp_path):
    """Only PE100 DN25 and DN63 (inner 20.4 mm and 55.4 mm)."""
    path = tmp_path / "small.csv"
    path.write_text(
        "material,nominal_diameter_mm,pressure_class_bar,inner_diameter_mm,cost_per_m\n"
        "PE100,25,16,20.4,35\nPE100,63,10,55.4,70\n"
    )
    return read_catalog(path)


def test_unreachable_junction_blamed_on_the_catalogue_when_friction_is_the_cause(
    tmp_path, write_inp
):
    """50 m of head above J1's target, 5 l/s over 2 km: DN63 loses about 122 m, a pipe of
    about 70 mm inner would do. Before: "the source is too low", which it is not.
    """
    wn = read_network(write_inp(inp_text(" J1 40 5", " R1 100", " P1 R1 J1 2000 100 140")))
    with pytest.raises(InfeasibleDesignError) as caught:
        size_network(wn, small_catalog(tmp_path), Targets(10.0))
    message = str(caught.value)
    assert "add larger diameters" in message
    assert "source is too low" not in message
    needed_mm = float(message.split("about ")[1].split(" mm")[0])
    assert 60 < needed_mm < 80


def test_unreachable_junction_blamed_on_the_source_when_its_head_is_too_low(tmp_path, write_inp):
    wn = read_network(write_inp(inp_text(" J1 95 0.1", " R1 100", " P1 R1 J1 200 100 140")))
    with pytest.raises(InfeasibleDesignError, match="the source is too low for J1"):
        size_network(wn, small_catalog(tmp_path), Targets(10.0))


# ------------------------------- 4. the ranges of --max-pressure, a catalogue with no classes
def test_size_and_check_take_the_same_max_pressure_range(tmp_path, single_pipe_inp):
    """Before: 0 to 200 m in both, though sizing writes 300 m transmission mains."""
    for command in (
        ["check", single_pipe_inp, "--max-pressure", "350", "--duration", "1"],
        ["size", single_pipe_inp, "--catalog", OUJDA_CATALOG, "--min-pressure", "10",
         "--max-pressure", "350", "--output", tmp_path / "s.inp"],
    ):  # fmt: skip
        done = run_hydro(*command)
        assert "outside" not in done.stderr, done.stderr
    assert "outside [0, 1000]" in run_hydro(*command[:-3], "1001").stderr


def test_a_catalogue_without_classes_is_pointed_out_above_ten_bar(tmp_path, write_inp):
    wn = read_network(write_inp(inp_text(" J1 0 1", " R1 150", " P1 R1 J1 500 100 140")))
    path = tmp_path / "bare.csv"
    path.write_text("inner_diameter_mm,cost_per_m\n55.4,10\n96.8,20\n")
    result = size_network(wn, read_catalog(path), Targets(10.0))
    assert any("has no pressure_class_bar" in n and "150.0 m" in n for n in result.notes)


# --------------------------------------------------------------- 5. networks with pumps
#: R1 (head 100 m) -> pump (10 l/s at 60 m: shut-off 80 m) -> J0 (50 m) -> J1 (40 m) -> tank
#: T1 (bottom 120 m, level 5 m). With no demand the pump still fills the tank (J1 at about
#: 85 m); with the tank full, at shut-off: 100 + 80 - 40 = 140 m at J1, over PN10 (102 m).
PUMPED = inp_text(
    " J0 50 0\n J1 40 1",
    " R1 100\n\n[TANKS]\n T1 120 5 0 10 10 0",
    " P1 J0 J1 500 150 140\n P2 J1 T1 500 150 140",
    extra="[PUMPS]\n PU1 R1 J0 HEAD C1\n\n[CURVES]\n C1 10 60\n",
)


def test_pipes_on_a_pumps_discharge_hold_its_shut_off(write_inp):
    """Before: the classes came from the zero-demand run alone (the pump filling the tank),
    so PN10 was allowed on P1, and Net1's looped design failed its verification ("pipe 10
    pressure_class_m 129.03 > 101.97").
    """
    wn = read_network(write_inp(PUMPED))
    catalog = read_catalog(OUJDA_CATALOG)
    problem = build_problem(wn, catalog, Targets(10.0))
    shut_off_m = 100.0 + 4 / 3 * 60.0 - 40.0  # at J1, the lower end of both pipes
    rating = catalog.table["pressure_rating_m"].to_numpy()
    for pipe in ("P1", "P2"):
        assert problem.max_pressure_seen_m[pipe] == pytest.approx(shut_off_m, abs=1e-6)
        assert (rating[problem.allowed[pipe]] >= shut_off_m).all()


#: R1 (head 0 m) -> pump (10 l/s at 60 m) -> PS (0 m) -> J1 (20 m, 2 l/s) -> J2 (10 m, 2 l/s).
PUMP_TREE = inp_text(
    " PS 0 0\n J1 20 2\n J2 10 2",
    " R1 0",
    " P1 PS J1 800 150 140\n P2 J1 J2 800 150 140",
    extra="[PUMPS]\n PU1 R1 PS HEAD C1\n\n[CURVES]\n C1 10 60\n",
)


def test_a_branched_network_fed_by_a_pump_is_sized_by_the_tree_method(write_inp):
    """Before: --method tree refused it as "looped". The pump adds its head at the flow
    below it (4 l/s: 80 - 20 x 0.4^2 = 76.8 m of its fitted curve), a fixed link of the tree.
    """
    wn = read_network(write_inp(PUMP_TREE))
    result = size_network(wn, read_catalog(OUJDA_CATALOG), Targets(10.0), method="tree")
    assert result.verification.ok, result.verification.violations
    assert "0-1 program" in result.method
    assert result.verification.min_pressure_m >= 10.0 - 1e-4


def test_the_tree_method_says_why_it_refuses_a_network(write_inp):
    looped = inp_text(
        " J1 20 1\n J2 20 1",
        " R1 60",
        " P1 R1 J1 100 100 140\n P2 J1 J2 100 100 140\n P3 R1 J2 100 100 140",
    )
    catalog = read_catalog(OUJDA_CATALOG)
    with pytest.raises(InputError, match=r"is looped \(1 independent loop"):
        size_network(read_network(write_inp(looped)), catalog, Targets(10.0), method="tree")
    backwards = PUMP_TREE.replace("PU1 R1 PS", "PU1 PS R1")
    with pytest.raises(InputError, match="branched but the tree method cannot take it"):
        size_network(read_network(write_inp(backwards)), catalog, Targets(10.0), method="tree")


# ------------------------------------------------- 6. a full tank is not an overflowing one
def test_a_tank_at_its_maximum_level_is_not_counted_as_overflowing():
    """Net2's tank reaches its maximum (21.34 m) and EPANET closes its inlet: before, a
    "tank_overflow" violation; now a tank_full warning (it has no overflow option).
    """
    path = Path(wntr.__file__).parent / "library" / "networks" / "Net2.inp"
    report = check_compliance(read_network(path, inflows=True), duration_h=72)
    checks = report.violations.set_index("check")["severity"]
    assert "tank_overflow" not in checks.index
    assert set(checks.loc[["tank_full"]]) == {"warning"}


# ----------------------------------------------- 7. a pressure-driven run of an unsized tree
TREE30 = Path(__file__).parent / "data" / "probe_tree30.inp"  # the probe's tree30.inp


def test_simulate_pressure_driven_states_its_required_pressure_and_runs():
    """Before: EPANET stopped at 20:00 (required pressure 0.07 m, WNTR's default), WNTR
    failed reading the cut output ("The truth value of an empty array is ambiguous") and two
    of its UserWarnings leaked.
    """
    done = run_hydro("simulate", TREE30, "--pressure-driven")
    assert done.returncode == 0, done.stderr
    assert "full delivery at 10 m" in done.stdout
    assert "UserWarning" not in done.stderr
    done = run_hydro("simulate", TREE30, "--pressure-driven", "--required-pressure", "15")
    assert "full delivery at 15 m" in done.stdout


def test_a_run_that_stops_at_a_step_that_does_not_converge_says_where():
    wn = read_network(TREE30)
    with pytest.raises(SimulationError, match="did not converge at time 20:00:00 .*PDA"):
        run_simulation(wn, pressure_driven=True, required_pressure_m=0.1)


def test_a_pumps_suction_junction_is_held_to_no_minimum(tmp_path, write_inp):
    """PS sits at the reservoir's level before the pump: its head is the source's, no pipe
    raises it. Before: --min-pressure 10 held it there (the probe's tankpump.inp: five
    identical repair rounds, then failure). Now size and check hold it to none, with a note.
    """
    text = inp_text(
        " PS 0 0\n PD 0 0\n J1 20 2\n J2 10 2",
        " R1 0",
        " P0 R1 PS 10 150 140\n P1 PD J1 800 150 140\n P2 J1 J2 800 150 140",
        extra="[PUMPS]\n PU1 PS PD HEAD C1\n\n[CURVES]\n C1 10 60\n",
    )
    out = tmp_path / "sized.inp"
    result = size_network(
        read_network(write_inp(text)), read_catalog(OUJDA_CATALOG), Targets(10.0), output=out
    )
    assert result.verification.ok, result.verification.violations
    assert any(n.startswith("junction(s) PS: a pump's suction") for n in result.notes)
    checked = check_compliance(read_network(out), duration_h=1)
    assert "PS" not in set(checked.violations["element"])


def test_a_sized_file_with_a_break_tank_can_be_sized_again(tmp_path, night):
    """The outlet J1_BPT of a written tank (5 m of water above J1's elevation) is held to no
    minimum by check; before, sizing the file again held it to 10 m and refused it.
    """
    first = tmp_path / "first.inp"
    size_network(
        night,
        read_catalog(OUJDA_CATALOG),
        Targets(10.0, max_pressure_m=60.0),
        break_tanks=BreakTanks(1_000.0, residual_m=5.0),
        output=first,
    )
    assert "J1_BPT" in read_network(first).junction_name_list
    again = size_network(read_network(first), read_catalog(OUJDA_CATALOG), Targets(10.0))
    assert again.verification.ok, again.verification.violations
    assert any(n.startswith("junction(s) J1_BPT: below a device") for n in again.notes)
