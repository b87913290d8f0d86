"""Hostile structures and sizes in a network (issue 28, points 5 and 8): each is a clear
``error:`` naming the element, never a traceback, a recursion or a runaway."""

from __future__ import annotations

import pytest
from conftest import ROOT, inp_text, run_hydro

from hydro import network
from hydro.errors import InputError
from hydro.network import read_network
from hydro.sizing import Targets, size_network

CATALOG = ROOT / "networks" / "catalogs" / "oujda_pipes.csv"

VALVES = """[TITLE]
valves
[JUNCTIONS]
 J1 10 1
 J2 5 1
 J3 4 1
[RESERVOIRS]
 R1 80
[PIPES]
 P1 R1 J1 1000 150 130
{pipes}
[VALVES]
{valves}
[OPTIONS]
 Units LPS
 Headloss H-W
[TIMES]
 Duration {duration}
{times}
[END]
"""

PUMP = """[TITLE]
pump
[JUNCTIONS]
 J1 10 1
 J2 10 1
[RESERVOIRS]
 R1 50
[PIPES]
 P1 R1 J1 1000 150 130
[PUMPS]
 PU1 J1 J2 HEAD C1
[CURVES]
{curve}
[OPTIONS]
 Units LPS
 Headloss H-W
[TIMES]
 Duration 0
[END]
"""


def test_a_utf8_byte_order_mark_before_the_title_is_accepted(write_inp):
    text = inp_text(" J1 10 10", " R1 50", " P1 R1 J1 1000 150 130")
    path = write_inp("\ufeff" + text)  # as Notepad saves it
    assert read_network(path).get_link("P1").length == pytest.approx(1000)


def test_units_in_backdrop_do_not_stand_for_the_missing_flow_units(write_inp):
    path = write_inp(
        "[TITLE]\nt\n[JUNCTIONS]\n J1 10 1\n[RESERVOIRS]\n R1 50\n[PIPES]\n P1 R1 J1 1000 150 130\n"
        "[BACKDROP]\n UNITS NONE\n[END]\n"
    )
    with pytest.raises(InputError, match=r"no flow units: add a line such as 'Units LPS'"):
        read_network(path)


def test_a_symlink_loop_as_the_network_is_refused(tmp_path):
    (tmp_path / "a.inp").symlink_to(tmp_path / "b.inp")
    (tmp_path / "b.inp").symlink_to(tmp_path / "a.inp")
    with pytest.raises(InputError, match="a loop of symbolic links"):
        read_network(tmp_path / "a.inp")


@pytest.mark.parametrize(
    ("curve", "message"),
    [
        (" C1 0 50", "pump PU1: curve 'C1' has one point (0 m3/s, 50 m)"),
        (" C1 10 50\n C1 5 40\n C1 20 10", "pump PU1: curve 'C1' must have flows rising"),
    ],
)
def test_a_pump_curve_epanet_cannot_use_is_named_with_the_reason(write_inp, curve, message):
    path = write_inp(PUMP.format(curve=curve))
    done = run_hydro("check", path, "--duration", "1")
    assert done.returncode == 1 and message in done.stderr
    assert "%s" not in done.stderr and "Traceback" not in done.stderr


def test_prvs_in_series_are_named_not_epanets_error_200(write_inp):
    path = write_inp(
        VALVES.format(
            pipes="", valves=" V1 J1 J2 150 PRV 30 0\n V2 J2 J3 150 PRV 20 0", duration=0, times=""
        )  # fmt: skip
    )
    done = run_hydro("check", path, "--duration", "1")
    assert done.returncode == 1
    assert "valves V1 and V2: two PRVs in series (node J2)" in done.stderr
    assert "%s" not in done.stderr


def test_a_prv_in_parallel_with_a_pipe_is_sized_without_recursion(write_inp):
    path = write_inp(
        VALVES.format(
            pipes=" P2 J1 J2 100 150 130\n P3 J2 J3 100 150 130",
            valves=" V1 J1 J2 150 PRV 30 0",
            duration=0,
            times="",
        )  # fmt: skip
    )
    from hydro.catalog import read_catalog

    result = size_network(read_network(path), read_catalog(CATALOG), Targets(10.0), seed=1,
                          time_limit_s=5)  # fmt: skip
    assert result.verification.ok


def test_a_zero_timestep_is_a_steady_state_or_refused(write_inp):
    steps = " Hydraulic Timestep 0:00\n Pattern Timestep 0:00"
    steady = write_inp(VALVES.format(pipes=" P2 J1 J2 100 150 130\n P3 J2 J3 100 150 130",
                                     valves="", duration=0, times=steps))  # fmt: skip
    times = read_network(steady).options.time
    assert times.hydraulic_timestep == 3600 and times.pattern_timestep == 3600
    extended = write_inp(VALVES.format(pipes=" P2 J1 J2 100 150 130\n P3 J2 J3 100 150 130",
                                       valves="", duration=24, times=steps), "ext.inp")  # fmt: skip
    with pytest.raises(InputError, match=r"\[TIMES\] hydraulic timestep 1 s.*at least 60 s"):
        read_network(extended)


def test_a_network_too_large_for_the_memory_left_is_refused_with_its_size(
    monkeypatch, single_pipe_inp
):
    monkeypatch.setattr(network, "available_memory", lambda: 1000)
    with pytest.raises(InputError, match=r"would take about .* GB of memory .* is available"):
        read_network(single_pipe_inp)


@pytest.mark.parametrize("given", [None, 3, "tests/data/booster_aqueduct.inp"])
def test_the_library_says_what_it_expected_instead_of_an_attribute_error(given):
    with pytest.raises(InputError, match="expected a network model"):
        network.validate_network(given)


def test_the_time_limit_bounds_the_tree_program_too(monkeypatch, branched_inp):
    from hydro.catalog import read_catalog
    from hydro.sizing import tree

    limits = []

    def recording_milp(*args, options, **kwargs):
        limits.append(options["time_limit"])
        return real_milp(*args, options=options, **kwargs)

    real_milp = tree.milp
    monkeypatch.setattr(tree, "milp", recording_milp)
    result = size_network(read_network(branched_inp), read_catalog(CATALOG), Targets(10.0),
                          time_limit_s=30)  # fmt: skip
    assert result.verification.ok
    assert limits and all(0 < limit <= 30 for limit in limits)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"wn": None}, "size_network: wn: expected a network model"),
        ({"wn": "tests/data/booster_aqueduct.inp"}, "read the file first: hydro.read_network("),
        ({"targets": 10}, "size_network: targets: expected a Targets"),
        ({"seed": -1}, "size_network: seed = -1: outside [0, 4294967295]"),
        ({"time_limit_s": float("inf")}, "size_network: time_limit_s = inf: must be a finite"),
    ],
)
def test_size_network_checks_its_arguments_as_the_command_line_does(change, message, branched_inp):
    from hydro.catalog import read_catalog

    arguments = {"wn": read_network(branched_inp), "catalog": read_catalog(CATALOG),
                 "targets": Targets(10.0)} | change  # fmt: skip
    with pytest.raises(InputError) as caught:
        size_network(**arguments)
    assert message in str(caught.value)


def test_a_pipe_given_as_the_pump_is_named_as_a_pipe():
    booster = ROOT / "tests" / "data" / "booster_aqueduct.inp"
    done = run_hydro("storage", booster, "--tank", "T_HILL", "--pump", "RM1")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "'RM1' is a pipe, not a pump (the network's pumps: PU_BOOST)" in done.stderr


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda hydro: hydro.check_network(None), "the network (wn): expected a network model"),
        (lambda hydro: hydro.run_simulation("net.inp"), "read the file first: hydro.read_network("),
        (lambda hydro: hydro.write_network(3, "x.inp"), "write_network: wn: expected a network"),
        (lambda hydro: hydro.project_demand(
            hydro.read_villages(ROOT / "tests" / "data" / "booster_villages.csv"), 2030.7,
            hydro.get_scenario("standpipes")),
         "project_demand: year = 2030.7: must be a whole number in [1900, 2200]"),
        (lambda hydro: hydro.run_simulation(read_network(ROOT / "tests/data/booster_aqueduct.inp"),
                                            duration_h=float("nan")),
         "duration = nan: must be a finite number in [0, 8760]"),
    ],
)  # fmt: skip
def test_the_public_functions_check_their_arguments(call, message, tmp_path, monkeypatch):
    import hydro

    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as caught:
        call(hydro)
    assert message in str(caught.value)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "nested", ["[" * 100_000 + "]" * 100_000, "{b = " * 50_000 + "1" + "}" * 50_000]
)
def test_a_study_file_nested_100000_deep_is_a_clear_error(tmp_path, nested):
    from hydro.study import load_study

    path = tmp_path / "study.toml"
    path.write_text(f"a = {nested}\n")
    with pytest.raises(InputError, match="nested too deep"):
        load_study(path)


def test_a_scheduler_address_that_answers_http_is_refused_as_not_a_scheduler():
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def answer_as_a_web_server() -> None:
        while True:
            try:
                client, _ = server.accept()
                client.recv(65536)
                client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                client.close()
            except OSError:
                return

    threading.Thread(target=answer_as_a_web_server, daemon=True).start()
    try:
        done = run_hydro("taps", ROOT / "tests" / "data" / "booster_aqueduct.inp", "--draws", "5",
                         "--scheduler", f"tcp://127.0.0.1:{server.getsockname()[1]}",
                         timeout=120)  # fmt: skip
    finally:
        server.close()
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "something answers there, but not a Dask scheduler" in done.stderr
    assert "EiB" not in done.stderr


def test_a_long_tree_program_shows_progress(monkeypatch, caplog, branched_inp):
    import logging
    import time

    from hydro.catalog import read_catalog
    from hydro.sizing import tree

    real_milp = tree.milp

    def slow_milp(*args, **kwargs):
        time.sleep(0.2)
        return real_milp(*args, **kwargs)

    monkeypatch.setattr(tree, "milp", slow_milp)
    monkeypatch.setattr(tree, "HEARTBEAT_S", 0.05)
    with caplog.at_level(logging.INFO, logger="hydro.progress"):  # the progress channel
        size_network(read_network(branched_inp), read_catalog(CATALOG), Targets(10.0),
                     time_limit_s=30)  # fmt: skip
    assert "solving the 0-1 program (4 decision pipes)" in caplog.text
    assert "of at most 30 s" in caplog.text
