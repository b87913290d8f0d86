"""What a hostile probe of the commands found, each kept from coming back."""

from __future__ import annotations

import socket
import threading
import time

from conftest import ROOT, run_hydro

OUJDA = ROOT / "tests" / "data" / "booster_aqueduct.inp"


def test_an_output_folder_under_a_regular_file_is_refused_before_the_run(tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine")
    for args in (
        ("simulate", OUJDA, "--duration", "1", "--out", blocker / "sub"),
        ("taps", OUJDA, "--draws", "5", "--out", blocker / "sub"),
    ):
        done = run_hydro(*args)
        assert done.returncode == 1, done.stderr
        assert "is a file, not a folder" in done.stderr
        assert "network:" not in done.stdout  # refused before any computation
    assert blocker.read_text() == "mine"


def test_a_users_file_in_a_folder_hydro_wrote_is_never_replaced_without_force(tmp_path):
    out = tmp_path / "out"
    done = run_hydro("simulate", OUJDA, "--duration", "1", "--out", out)
    assert done.returncode == 0, done.stderr
    (out / "taps.csv").write_text("my own table")
    done = run_hydro("taps", OUJDA, "--draws", "5", "--out", out)
    assert done.returncode == 1
    assert "which hydro did not write there" in done.stderr
    assert (out / "taps.csv").read_text() == "my own table"
    done = run_hydro("taps", OUJDA, "--draws", "5", "--out", out, "--force")
    assert done.returncode == 0, done.stderr
    assert (out / "taps.csv").read_text() != "my own table"


def test_tap_options_are_bounded():
    for args, message in (
        (("--draws", "3000000000"), "at most 1,000,000"),
        (("--seed", "-1"), "-1: outside [0, 4294967295]: a random seed"),
        (("--probability", "0"), "a probability above 0"),
        (("--workers", "0"), "0: outside [1, inf): 1 or more"),
    ):
        done = run_hydro("taps", OUJDA, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)


def test_a_scheduler_address_is_checked_and_a_silent_listener_does_not_hang():
    done = run_hydro("taps", OUJDA, "--draws", "5", "--scheduler", "127.0.0.1")
    assert done.returncode == 1
    assert "tcp://HOST:PORT" in done.stderr
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    started = time.perf_counter()
    try:
        done = run_hydro("taps", OUJDA, "--draws", "5", "--scheduler", f"tcp://127.0.0.1:{port}")
    finally:
        server.close()
    assert done.returncode == 1, done.stderr
    assert "cannot reach a Dask scheduler" in done.stderr
    assert time.perf_counter() - started < 60


def test_check_refuses_impossible_targets_before_running():
    done = run_hydro("check", OUJDA, "--min-pressure", "10", "--max-pressure", "5")
    assert done.returncode == 1
    assert "impossible pressure targets" in done.stderr and "verdict" not in done.stdout
    done = run_hydro("check", OUJDA, "--max-velocity", "0")
    assert done.returncode == 2  # a usage error: the option's own range (hydro.validate)
    assert "--max-velocity: 0: outside (0, 10]: metres per second, above 0" in done.stderr


def test_size_holds_its_design_to_days_of_operation_as_check_does(tmp_path, write_inp):
    # A tank with no inflow: fine at the design instant, empty after about 14 h of demand.
    network = write_inp(
        "[TITLE]\ndraining tank\n\n[JUNCTIONS]\n J1 50 2\n\n[TANKS]\n T1 100 5 0 6 5 0\n\n"
        "[PIPES]\n P1 T1 J1 500 100 130\n\n[OPTIONS]\n Units LPS\n Headloss H-W\n\n"
        "[TIMES]\n Duration 72:00\n Hydraulic Timestep 1:00\n\n[END]\n",
        name="draining.inp",
    )
    catalog = ROOT / "networks" / "catalogs" / "oujda_pipes.csv"
    sized = tmp_path / "sized.inp"
    done = run_hydro("size", network, "--catalog", catalog, "--min-pressure", "10",
                     "--output", sized)  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "operation (t =" in done.stderr and "tank_empty" in done.stderr
    assert not sized.exists()
    check = run_hydro("check", network, "--min-pressure", "10")
    assert check.returncode == 1  # check agrees: the network fails in operation
