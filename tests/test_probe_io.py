"""What a hostile probe of hydro's commands and inputs found (closed pipes, tables, outputs)."""

from __future__ import annotations

import os
import subprocess

import pandas as pd
import pytest
from conftest import ROOT, hydro_command, inp_text, run_hydro

from hydro.catalog import read_catalog
from hydro.classes import read_tap_table
from hydro.cli._format import format_operation
from hydro.errors import InputError

CATALOG = ROOT / "networks" / "catalogs" / "oujda_pipes.csv"


def _run_into_closed_pipe(*args, cwd) -> subprocess.CompletedProcess:
    """Run hydro with its standard output a pipe whose reader is already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [*hydro_command(), *map(str, args)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            timeout=300,
        )
    finally:
        os.close(write_end)


def test_a_closed_stdout_keeps_the_exit_status_and_the_files_asked(tmp_path):
    low = tmp_path / "low.inp"
    low.write_text(inp_text(" J1 10 10", " R1 11", " P1 R1 J1 1000 150 130"))
    done = _run_into_closed_pipe("check", low, cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # not compliant, whoever reads the output
    assert "Traceback" not in done.stderr
    net = tmp_path / "net.inp"
    net.write_text(inp_text(" J1 10 10", " R1 50", " P1 R1 J1 1000 150 130"))
    done = _run_into_closed_pipe(
        "size", net, "--catalog", CATALOG, "--min-pressure", "10",
        "--output", "sized.inp", "--report", "pipes.csv", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert (tmp_path / "sized.inp").is_file()
    assert "P1" in (tmp_path / "pipes.csv").read_text()


def test_a_node_on_two_rows_of_a_class_table_is_refused_unless_the_rows_are_the_same(
    branched_inp, tmp_path
):
    conflicting = tmp_path / "conflicting.csv"
    conflicting.write_text("element,class\nJ3,standpipe\nJ3,household\n")
    done = run_hydro("check", branched_inp, "--classes", conflicting)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == (
        f"error: {conflicting}: J3 is given on rows 2, 3, which differ; give each element "
        "once (one class and one set of taps per node)"
    )
    repeated = tmp_path / "repeated.csv"
    repeated.write_text("element,class,taps\nJ3,standpipe,4\nJ3 , Standpipe,4\n")
    done = run_hydro("check", branched_inp, "--classes", repeated)
    assert "Traceback" not in done.stderr and "unexpected" not in done.stderr, done.stderr
    assert f"note: {repeated}: J3 is given twice, on rows 2, 3 (the same row)" in done.stderr
    assert "J3" in read_tap_table(repeated).index
    assert len(read_tap_table(repeated)) == 1


def test_a_fractional_or_negative_number_of_taps_is_refused(tmp_path):
    for cell, column in (("2.5", "taps"), ("-2", "taps"), ("1.5", "taps_per_standpipe")):
        table = tmp_path / "classes.csv"
        table.write_text(f"element,class,{column}\nJ4,standpipe,{cell}\n")
        with pytest.raises(InputError) as error:
            read_tap_table(table)
        rule = (
            "a whole number of taps, 0 to 100,000"
            if column == "taps"
            else "a whole number of taps on one standpipe, 1 to 100"
        )
        assert str(error.value) == f"{table}, row 2: {column} of J4 must be {rule}, got '{cell}'"
    table.write_text("element,class,taps,taps_per_standpipe\nJ4,standpipe,100000,100\n")
    assert read_tap_table(table).loc["J4", "taps"] == 100_000


def test_an_unwritable_matplotlib_folder_gives_no_traceback_and_leaves_nothing(
    single_pipe_inp, tmp_path
):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {**os.environ, "MPLCONFIGDIR": "/proc/nope", "TMPDIR": str(scratch)}
    done = subprocess.run(
        [*hydro_command(), "simulate", str(single_pipe_inp), "--duration", "1"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert list(scratch.iterdir()) == []  # the run's folder and Matplotlib's, removed


def test_a_file_hydro_did_not_write_is_replaced_only_with_force(single_pipe_inp, tmp_path):
    mine = tmp_path / "mine.inp"
    mine.write_text("precious\n")
    done = run_hydro(
        "size", single_pipe_inp, "--catalog", CATALOG, "--min-pressure", "10", "--output", mine
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: {mine}: --output exists and hydro did not write it")
    assert "add --force to replace it" in done.stderr
    assert "network:" not in done.stdout  # refused before the run
    assert mine.read_text() == "precious\n"
    table = tmp_path / "check.csv"
    table.write_text("user,table\n")
    done = run_hydro("check", single_pipe_inp, "--out", table)
    assert done.returncode == 1 and "--out exists and hydro did not write it" in done.stderr
    assert table.read_text() == "user,table\n"
    done = run_hydro("check", single_pipe_inp, "--out", table, "--force")
    assert done.returncode == 0, done.stderr
    assert table.read_text() != "user,table\n"
    done = run_hydro("check", single_pipe_inp, "--out", table)  # hydro's own: replaced
    assert done.returncode == 0, done.stderr
    with table.open("a") as file:
        file.write("my note\n")  # changed since hydro wrote it: the user's now
    done = run_hydro("check", single_pipe_inp, "--out", table)
    assert done.returncode == 1 and "or it was changed since" in done.stderr
    assert table.read_text().endswith("my note\n")


def test_write_network_says_which_demands_it_replaced(branched_inp, tmp_path):
    villages = tmp_path / "villages.csv"
    villages.write_text(
        "douar,standpipe_nodes,household_nodes,population,population_year,growth_rate,"
        "household_share,standpipes\nA,J4,,300,2020,0.01,0,1\n"
    )
    out = tmp_path / "demand.inp"
    done = run_hydro(
        "demand", villages, "--network", branched_inp, "--year", "2030", "--write-network", out
    )
    assert done.returncode == 0, done.stderr
    # J1-J4 draw 5 + 3 + 4 + 2 = 14 l/s; J4 gets the village's demand, J1-J3 are set to 0
    line = next(x for x in done.stdout.splitlines() if x.startswith("demands:"))
    assert f"the network's base demands, 14.00 l/s in {branched_inp}" in line
    assert "1 of its nodes had a demand of their own" in line
    assert "3 other junction(s) set to 0 (12.00 l/s: J1, J2, J3)" in line


def test_a_catalogue_roughness_that_does_not_fit_the_head_loss_formula_is_refused(tmp_path):
    net = tmp_path / "dw.inp"
    net.write_text(inp_text(" J1 10 1", " R1 60", " P1 R1 J1 1000 150 0.05").replace("H-W", "D-W"))
    done = run_hydro("size", net, "--catalog", CATALOG, "--min-pressure", "10")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].startswith(
        f"error: {CATALOG}: roughness 140 of PE100 DN25 PN16"
    )
    assert f"does not fit the head-loss formula D-W of {net}" in done.stderr
    assert "a Darcy-Weisbach roughness height in mm, 0.001 to 10" in done.stderr
    assert "140 looks like a Hazen-Williams C" in done.stderr
    catalog = read_catalog(CATALOG)
    catalog.check_roughness("H-W")  # the catalogue's own formula
    with pytest.raises(InputError, match="a Manning n, 0.009 to 0.03"):
        catalog.roughness_in("C-M")


def test_a_darcy_weisbach_network_is_sized_without_wntrs_warning(tmp_path):
    net = tmp_path / "dw.inp"
    net.write_text(inp_text(" J1 10 1", " R1 60", " P1 R1 J1 1000 150 0.05").replace("H-W", "D-W"))
    catalog = tmp_path / "dw_pipes.csv"
    catalog.write_text(
        "inner_diameter_mm,cost_per_m,roughness\n44,10,0.007\n66,20,0.007\n96.8,30,0.007\n"
    )
    done = run_hydro("size", net, "--catalog", catalog, "--min-pressure", "10")
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr


def test_a_pump_that_never_stops_is_said_to_run_all_the_time():
    pumps = pd.DataFrame(
        {
            "pump": ["P1", "P2", "P3"],
            "hours_on_per_day": [24.0, 20.0, 0.0],
            "starts_per_day": [1 / 3, 1.0, 0.0],
            "energy_kwh_per_day": [12.0, 10.0, 0.0],
            "m3_per_day": [100.0, 80.0, 0.0],
        }
    )
    lines = format_operation(pd.DataFrame(columns=["tank"]), pumps, 0.2)
    assert lines == [
        "pump P1: runs all the time (24 h a day, never stopped), 12.0 kWh a day for 100.0 m3",
        "pump P2: on 20.0 h a day, 1.0 starts a day (at the report steps), 10.0 kWh a day "
        "for 80.0 m3",
        "pump P3: never runs, 0.0 kWh a day for 0.0 m3",
    ]
