"""Reading, validating, classifying and writing networks (issue: foundation, point 5)."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest
from conftest import NET3, PRESSURE_TOL_M, inp_text

from hydro._toolkit import EN_JUNCTION, EN_PRESSURE, Project
from hydro.errors import InputError
from hydro.network import read_network, topology, write_network
from hydro.simulation import run_simulation

#: Net3's links and nodes, read from the file's sections by hand (not by hydro or WNTR).
_NET3_SECTIONS = re.findall(r"^\[(\w+)\]\n(.*?)(?=^\[)", NET3.read_text(), re.M | re.S)
_NET3_ROWS = {
    name: [line for line in body.splitlines() if line.strip() and not line.lstrip().startswith(";")]
    for name, body in _NET3_SECTIONS
}
NET3_LINKS = _NET3_ROWS["PIPES"] + _NET3_ROWS["PUMPS"] + _NET3_ROWS["VALVES"]
NET3_NODES = _NET3_ROWS["JUNCTIONS"] + _NET3_ROWS["RESERVOIRS"] + _NET3_ROWS["TANKS"]


def test_branched_network_is_classified_branched(branched_inp):
    assert topology(read_network(branched_inp)).kind == "branched"


def test_net3_is_looped():
    topo = topology(read_network(NET3))
    assert topo.kind == "looped"
    # 119 links (117 pipes, 2 pumps) between 97 nodes in one piece: 119 - 97 + 1 = 23 loops
    assert (len(NET3_LINKS), len(NET3_NODES)) == (119, 97)
    assert topo.n_loops == 23


def test_loop_added_to_tree_makes_it_looped(write_inp):
    path = write_inp(
        inp_text(
            " J1 20 5\n J2 25 3\n J3 15 4",
            " R1 80",
            " P1 R1 J1 800 200 130\n P2 J1 J2 500 100 130\n P3 J1 J3 600 150 130\n"
            " P4 J2 J3 400 80 130",
        )
    )
    topo = topology(read_network(path))
    assert topo.kind == "looped" and topo.n_loops == 1  # 4 pipes between 4 nodes


def test_a_tree_has_no_loop(branched_inp):
    assert topology(read_network(branched_inp)).n_loops == 0


def test_written_file_opens_in_epanet_toolkit_with_same_pressures(tmp_path):
    """Round trip: WNTR writes, EPANET's own parser and solver read it, pressures agree."""
    wn = read_network(NET3)
    wn.options.time.duration = 0
    expected = run_simulation(wn).pressure.iloc[0]
    out = write_network(wn, tmp_path / "net3_written.inp")
    with Project(out) as project:
        project.solve_snapshot()
        ids = project.node_ids()
        types = project.node_types()
        pressure = project.node_values(EN_PRESSURE)
    # Net3 is in GPM: EPANET reports psi, with its own constant 0.4333 psi per ft of water.
    junctions = [i for i, t in zip(ids, types, strict=True) if t == EN_JUNCTION]
    got = {i: p / 0.4333 * 0.3048 for i, p in zip(ids, pressure, strict=True)}
    diff = np.array([got[j] - expected[j] for j in junctions])
    assert np.abs(diff).max() < PRESSURE_TOL_M


def test_reading_and_simulating_never_modify_the_input(branched_inp):
    before = hashlib.sha256(branched_inp.read_bytes()).hexdigest()
    wn = read_network(branched_inp)
    run_simulation(wn, duration_h=2)
    assert hashlib.sha256(branched_inp.read_bytes()).hexdigest() == before


def test_write_refuses_to_overwrite_an_input(branched_inp):
    wn = read_network(branched_inp)
    with pytest.raises(InputError, match="refusing to overwrite"):
        write_network(wn, branched_inp, protect=(branched_inp,))


BAD_CASES = {
    "malformed number": (
        inp_text(" J1 10 5\n J2 abc 5", " R1 50", " P1 R1 J1 100 100 130\n P2 J1 J2 100 100 130"),
        ["line 6", "J2 abc 5", "illegal numeric value"],
    ),
    "undefined node": (
        inp_text(" J1 10 5", " R1 50", " P1 R1 J1 100 100 130\n P2 J1 J9 100 100 130"),
        ["undefined node J9", "line"],
    ),
    "undefined pattern": (
        inp_text(" J1 10 5 PAT9", " R1 50", " P1 R1 J1 100 100 130"),
        ["undefined time pattern PAT9"],
    ),
    "duplicate id": (
        inp_text(" J1 10 5\n J1 11 5", " R1 50", " P1 R1 J1 100 100 130"),
        ["duplicate ID label J1", "line 6"],
    ),
    "no source": (
        inp_text(" J1 10 5\n J2 10 5", "", " P1 J2 J1 100 100 130"),
        ["no source", "reservoir or a tank"],
    ),
    "unconnected junction": (
        inp_text(
            " J1 10 5\n J2 10 5\n J3 10 1", " R1 50", " P1 R1 J1 100 100 130\n P2 J2 J3 100 100 130"
        ),
        ["J2", "J3"],
    ),
    "zero diameter": (inp_text(" J1 10 5", " R1 50", " P1 R1 J1 100 0 130"), ["P1"]),
    "negative length": (inp_text(" J1 10 5", " R1 50", " P1 R1 J1 -100 100 130"), ["P1"]),
    "zero roughness": (inp_text(" J1 10 5", " R1 50", " P1 R1 J1 100 100 0"), ["P1"]),
    "undefined curve": (
        inp_text(
            " J1 10 5\n J0 0 0",
            " R1 50",
            " P1 J0 J1 100 100 130",
            extra="[PUMPS]\n PU1 R1 J0 HEAD C9\n",
        ),
        ["C9"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_network_gives_clear_error_naming_the_element(case, write_inp):
    text, expected = BAD_CASES[case]
    path = write_inp(text, name="bad.inp")
    with pytest.raises(InputError) as info:
        read_network(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in expected:
        assert fragment in message, message


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such network file"):
        read_network(tmp_path / "absent.inp")


def test_a_folder_given_as_the_network_is_named_as_a_folder(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        read_network(tmp_path)


def test_a_file_without_flow_units_says_which_line_to_add(tmp_path):
    path = tmp_path / "nounits.inp"
    path.write_text("[JUNCTIONS]\nJ1 10 0.1\n[RESERVOIRS]\nR 50\n[PIPES]\nP1 R J1 100 100 130\n")
    with pytest.raises(InputError, match=r"nounits.inp: no flow units: .*\[OPTIONS\]"):
        read_network(path)


def test_a_windows_1252_file_from_the_epanet_program_is_read_and_left_untouched(tmp_path):
    text = (
        "[TITLE]\nRéseau du douar Aïn\n[JUNCTIONS]\nJé1 10 0.1\n[RESERVOIRS]\nR 50\n"
        "[PIPES]\nP1 R Jé1 100 100 130\n[OPTIONS]\nUnits LPS\n[END]\n"
    )
    path = tmp_path / "ansi.inp"
    path.write_bytes(text.encode("cp1252"))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    wn = read_network(path)
    assert wn.junction_name_list == ["Jé1"]
    results = run_simulation(wn)
    assert results.pressure["Jé1"].iloc[0] == pytest.approx(40.0, abs=PRESSURE_TOL_M)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
