"""Outputs never destroy what hydro did not write (issue 15): inputs, users' files, folders;
runs are all or nothing, also when interrupted; permissions follow the umask."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import time

import pandas as pd
import pytest
from conftest import ROOT, hydro_command, run_hydro

from hydro.errors import InputError
from hydro.outputs import MARKER, Outputs, atomic_file

NETWORK = ROOT / "networks" / "oujda_rural.inp"
VILLAGES = ROOT / "demand_profiles" / "oujda_villages.csv"
CATALOG = ROOT / "networks" / "catalogs" / "oujda_pipes.csv"


def listing(folder) -> list[str]:
    """Every file and folder under ``folder``, hidden ones included, relative."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


# --------------------------------------------------------------------------- the module
def test_an_output_equal_to_an_input_is_refused(tmp_path):
    data = tmp_path / "v.csv"
    data.write_text("x\n")
    outputs = Outputs(inputs=[data])
    with pytest.raises(InputError, match="--out would overwrite an input file"):
        outputs.file(tmp_path / "." / "v.csv", "--out")
    with pytest.raises(InputError, match="is a file, not a folder"):
        outputs.folder(data, "--out")


def test_two_outputs_with_the_same_path_are_refused(tmp_path):
    outputs = Outputs()
    outputs.file(tmp_path / "s.inp", "--output")
    with pytest.raises(InputError, match="--report and --output name the same output"):
        outputs.file(tmp_path / "s.inp", "--report")


def test_a_folder_hydro_did_not_write_is_refused_and_kept(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.docx").write_text("three years of work")
    with pytest.raises(InputError, match="was not written by hydro .* --force"):
        Outputs().folder(folder, "--out")
    assert (folder / "thesis.docx").read_text() == "three years of work"


def test_a_file_where_a_folder_is_expected_is_refused(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("notes")
    with pytest.raises(InputError, match="is a file, not a folder"):
        Outputs().folder(notes, "--out")
    assert notes.read_text() == "notes"


def test_force_keeps_the_users_files_and_a_rerun_replaces_only_hydros(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "thesis.docx").write_text("mine")
    outputs = Outputs(force=True)
    with outputs.assemble(outputs.folder(folder)) as staging:
        (staging / "a.csv").write_text("1")
        (staging / "b.csv").write_text("1")
    assert (folder / "thesis.docx").read_text() == "mine"
    assert (folder / MARKER).is_file()
    # a second run (no --force needed: hydro wrote it) that no longer writes b.csv
    outputs = Outputs()
    with outputs.assemble(outputs.folder(folder)) as staging:
        (staging / "a.csv").write_text("2")
    assert listing(folder) == [MARKER, "a.csv", "thesis.docx"]
    assert (folder / "a.csv").read_text() == "2"


def test_a_hostile_marker_never_removes_a_file_outside_the_folder(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / MARKER).write_text(f"# hydro\n../victim.txt\n{victim}\n.\n")
    outputs = Outputs()
    with outputs.assemble(outputs.folder(folder)) as staging:
        (staging / "a.csv").write_text("1")
    assert victim.read_text() == "keep"


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_a_failed_run_leaves_nothing_behind(tmp_path, error):
    folder = tmp_path / "out"
    outputs = Outputs()
    with pytest.raises(error), outputs.assemble(outputs.folder(folder)) as staging:
        (staging / "half.csv").write_text("half")
        raise error()
    assert listing(tmp_path) == []
    with pytest.raises(error), atomic_file(tmp_path / "x.csv") as tmp:
        tmp.write_text("half")
        raise error()
    assert listing(tmp_path) == []


def test_a_failed_rerun_keeps_the_previous_outputs(tmp_path):
    folder = tmp_path / "out"
    outputs = Outputs()
    with outputs.assemble(outputs.folder(folder)) as staging:
        (staging / "a.csv").write_text("first")
    with pytest.raises(RuntimeError), outputs.assemble(folder) as staging:
        (staging / "a.csv").write_text("second")
        raise RuntimeError
    assert listing(folder) == [MARKER, "a.csv"] and (folder / "a.csv").read_text() == "first"


def test_stale_staging_of_a_killed_run_is_removed_by_the_next_run(tmp_path):
    stale = tmp_path / ".out.hydro-partial-999999999-abc"
    stale.mkdir()
    (stale / "sized.inp").write_text("finished-looking")
    outputs = Outputs()
    with outputs.assemble(outputs.folder(tmp_path / "out")) as staging:
        (staging / "a.csv").write_text("1")
    assert listing(tmp_path) == ["out", f"out/{MARKER}", "out/a.csv"]


def test_permissions_follow_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        outputs = Outputs()
        with outputs.assemble(outputs.folder(tmp_path / "out")) as staging:
            (staging / "sub").mkdir()
            (staging / "sub" / "a.csv").write_text("1")
        with atomic_file(tmp_path / "b.csv") as tmp:
            tmp.write_text("1")
    finally:
        os.umask(previous)
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(tmp_path / "out") == 0o750 and mode(tmp_path / "out" / "sub") == 0o750
    assert mode(tmp_path / "out" / "sub" / "a.csv") == 0o640
    assert mode(tmp_path / "b.csv") == 0o640


# --------------------------------------------------------------------------- the commands
def test_demand_refuses_to_overwrite_its_village_table(tmp_path):
    villages = tmp_path / "v.csv"
    villages.write_bytes(VILLAGES.read_bytes())
    done = run_hydro("demand", villages, "--network", NETWORK, "--year", "2030", "--out", villages)
    assert done.returncode == 1 and "would overwrite an input file" in done.stderr
    assert villages.read_bytes() == VILLAGES.read_bytes()


def test_check_refuses_to_overwrite_its_network(tmp_path):
    network = tmp_path / "n.inp"
    network.write_bytes(NETWORK.read_bytes())
    done = run_hydro("check", network, "--out", network)
    assert done.returncode == 1 and "would overwrite an input file" in done.stderr
    assert network.read_bytes() == NETWORK.read_bytes()


def test_size_refuses_two_outputs_with_one_name(tmp_path):
    s = tmp_path / "s.inp"
    done = run_hydro("size", NETWORK, "--catalog", CATALOG, "--min-pressure", "10",
                     "--output", s, "--report", s)  # fmt: skip
    assert done.returncode == 1 and "--report and --output name the same output" in done.stderr
    assert listing(tmp_path) == []


def test_simulate_keeps_a_users_file_in_out_and_refuses_out_dot(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.docx").write_text("mine")
    done = run_hydro("simulate", NETWORK, "--out", mine)
    assert done.returncode == 1 and "was not written by hydro" in done.stderr
    assert listing(mine) == ["thesis.docx"]
    done = run_hydro("simulate", NETWORK, "--out", ".", cwd=mine)
    assert (
        done.returncode == 1
        and "Traceback" not in done.stderr
        and "unexpected" not in (done.stderr)
    )
    assert listing(mine) == ["thesis.docx"]
    done = run_hydro("simulate", NETWORK, "--out", ".", "--force", cwd=mine)
    assert done.returncode == 0, done.stderr
    assert listing(mine) == [MARKER, "links.csv", "nodes.csv", "thesis.docx"]


def test_simulate_leaves_no_epanet_scratch_file_in_the_current_folder(tmp_path):
    done = run_hydro("simulate", NETWORK, "--duration", "24", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "EPANET warnings: " in done.stdout and "V_TAPOFF: FCV open but cannot" in done.stdout
    assert listing(tmp_path) == []


@pytest.mark.parametrize(
    ("signum", "status", "line"),
    [
        (signal.SIGTERM, 143, "error: terminated (SIGTERM)"),
        (signal.SIGINT, 130, "error: interrupted"),
    ],
)
def test_a_signal_stops_a_run_cleanly_and_leaves_nothing(tmp_path, signum, status, line):
    """SIGTERM or Ctrl-C in the middle of a study: one line, no traceback, no output, no
    staging folder, no temporary folder."""
    work, private_tmp = tmp_path / "work", tmp_path / "tmp"
    work.mkdir()
    private_tmp.mkdir()
    process = subprocess.Popen(
        [*hydro_command(), "run", ROOT / "studies" / "oujda", "--out", work / "out"],
        cwd=work,
        env={**os.environ, "TMPDIR": str(private_tmp)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # as from a terminal: a test run started in the background (`pytest &` in a script)
        # would pass on an ignored SIGINT, and Python then never raises KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(6)  # into the scenarios
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == status, stderr
    assert line in stderr and "Traceback" not in stderr
    assert listing(work) == []
    assert listing(private_tmp) == []


def test_an_input_inside_a_reused_folder_is_never_replaced(tmp_path):
    folder = tmp_path / "out"
    outputs = Outputs()
    with outputs.assemble(outputs.folder(folder)) as staging:
        (staging / "pumps.csv").write_text("hydro's")
    (folder / "pumps.csv").write_text("the study's pump catalogue, moved here by the user")
    outputs = Outputs(inputs=[folder / "pumps.csv"])
    with pytest.raises(InputError, match="would overwrite an input file; nothing written"):
        with outputs.assemble(outputs.folder(folder)) as staging:
            (staging / "pumps.csv").write_text("new")
    assert (folder / "pumps.csv").read_text().startswith("the study's")
    assert listing(folder) == [MARKER, "pumps.csv"]


def test_a_written_design_gets_the_umask_permissions(tmp_path, single_pipe_inp):
    from hydro.network import read_network, write_network

    previous = os.umask(0o022)
    try:
        path = write_network(read_network(single_pipe_inp), tmp_path / "design.inp")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert listing(tmp_path) == ["design.inp", "single_pipe.inp"]


def test_csv_text_that_a_spreadsheet_would_run_is_written_as_text(tmp_path):
    from hydro.outputs import write_csv

    frame = pd.DataFrame(
        {
            "=name": ["=HYPERLINK(1)", "-North", "-5", "+3", "@x", "ok", None, "-"],
            "value": [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        }
    )
    before = frame.copy()
    write_csv(frame, tmp_path / "t.csv", index=False)
    rows = (tmp_path / "t.csv").read_text().splitlines()
    assert rows[0] == "'=name,value"
    assert [r.split(",")[0] for r in rows[1:]] == [
        "'=HYPERLINK(1)", "'-North", "-5", "+3", "'@x", "ok", "", "-"
    ]  # fmt: skip
    assert rows[1].endswith(",-1.5")  # numbers untouched
    pd.testing.assert_frame_equal(frame, before)  # the caller's table unchanged
