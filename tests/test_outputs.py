"""Outputs never destroy what hydro did not write (issue 15): inputs, users' files, folders;
runs are all or nothing, also when interrupted; permissions follow the umask."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, hydro_command, run_hydro

from hydro.errors import InputError, OutputError
from hydro.outputs import MARKER, Outputs, atomic_file

NETWORK = ROOT / "tests" / "data" / "booster_aqueduct.inp"
VILLAGES = ROOT / "tests" / "data" / "booster_villages.csv"
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
    # as a killed run leaves it: hydro's exact name (pid, then mkdtemp's 8 characters), its mark
    stale = tmp_path / ".out.hydro-partial-999999999-abcd_123"
    stale.mkdir()
    (stale / ".hydro-staging").write_text("hydro staging folder of process 999999999\n")
    (stale / "sized.inp").write_text("finished-looking")
    # a user's folders that only look like one: another name, or no mark
    mine = tmp_path / ".out.hydro-partial-999999-mine"
    unmarked = tmp_path / ".out.hydro-partial-999999999-abcdefgh"
    for folder in (mine, unmarked):
        folder.mkdir()
        (folder / "notes.txt").write_text("mine")
    outputs = Outputs()
    with outputs.assemble(outputs.folder(tmp_path / "out")) as staging:
        (staging / "a.csv").write_text("1")
    assert listing(tmp_path) == sorted([
        unmarked.name, f"{unmarked.name}/notes.txt", mine.name, f"{mine.name}/notes.txt",
        "out", f"out/{MARKER}", "out/a.csv",
    ])  # fmt: skip


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


# --------------------------------------------------------------------------- issue 28, point 1
@pytest.mark.parametrize("name", ["", "-", "sub/-"])
def test_an_empty_name_or_a_dash_is_refused(tmp_path, name):
    with pytest.raises(InputError, match="--out"):
        Outputs().file(name, "--out")
    with pytest.raises(InputError, match="--out"):
        Outputs().folder(name, "--out")
    with pytest.raises(InputError):
        with atomic_file(name):
            pass


def test_special_files_and_links_are_never_written(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    target = tmp_path / "target.csv"
    target.write_text("the user's")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    stdout = tmp_path / "stdout"
    stdout.symlink_to("/proc/self/fd/1")
    folder_link = tmp_path / "folder-link"
    folder_link.symlink_to(tmp_path)
    for path, kind in [
        (fifo, "a FIFO"), ("/dev/null", "a device"), (link, "a symbolic link"),
        (stdout, "a symbolic link"), ("/dev/stdout", "a symbolic link"),
    ]:  # fmt: skip
        with pytest.raises(InputError, match=f"is {kind}.*; hydro writes only regular files"):
            Outputs().file(path, "--report")
        with pytest.raises(InputError, match=kind):
            with atomic_file(path) as tmp:
                tmp.write_text("x")
    with pytest.raises(InputError, match="is a symbolic link"):
        Outputs().folder(folder_link, "--out")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and link.is_symlink() and stdout.is_symlink()
    assert target.read_text() == "the user's"


def test_a_listed_file_replaced_by_a_link_is_neither_followed_nor_removed(tmp_path):
    folder, victim = tmp_path / "out", tmp_path / "victim.csv"
    victim.write_text("keep")
    outputs = Outputs()
    with outputs.assemble(outputs.folder(folder)) as staging:
        (staging / "a.csv").write_text("1")
        (staging / "b.csv").write_text("1")
    for name in ("a.csv", "b.csv"):  # a.csv is written again, b.csv would be removed
        (folder / name).unlink()
        (folder / name).symlink_to(victim)
    with pytest.raises(InputError, match="a symbolic link .*neither follows nor replaces"):
        Outputs().folder(folder, "--out")
    with pytest.raises(InputError, match="neither follows nor replaces"):
        with Outputs().assemble(folder) as staging:  # a link made during the run
            (staging / "a.csv").write_text("2")
    assert (folder / "a.csv").is_symlink() and (folder / "b.csv").is_symlink()
    assert victim.read_text() == "keep"
    # a sub-folder of hydro's replaced by a link to elsewhere is not written through either
    (folder / "a.csv").unlink()
    (folder / "b.csv").unlink()
    (folder / "sub").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(InputError, match="sub: is a symbolic link where hydro writes a folder"):
        with Outputs().assemble(folder) as staging:
            (staging / "sub").mkdir()
            (staging / "sub" / "c.csv").write_text("3")
    assert listing(tmp_path / "elsewhere") == []


def test_a_read_only_folder_is_refused_before_the_run_and_a_full_disk_keeps_the_old_output(
    tmp_path, monkeypatch
):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.geteuid() == 0:  # root writes into a read-only folder: the check is what is tested
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, m: real(p, m) and Path(p) != locked)
    try:
        with pytest.raises(InputError, match="cannot write into .*locked"):
            Outputs().file(locked / "r.csv", "--report")
        with pytest.raises(InputError, match="cannot write into .*locked"):
            Outputs().folder(locked / "out", "--out")
    finally:
        locked.chmod(0o755)
        monkeypatch.undo()
    folder = tmp_path / "out"
    outputs = Outputs()
    with outputs.assemble(outputs.folder(folder)) as staging:
        (staging / "a.csv").write_text("first")
    with atomic_file(tmp_path / "r.csv") as tmp:
        tmp.write_text("first")
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    with pytest.raises(OutputError, match="No space left on device; nothing was replaced"):
        with Outputs().assemble(folder) as staging:
            (staging / "a.csv").write_text("second")
            raise full
    with pytest.raises(OutputError, match="r.csv: cannot write the output: No space left"):
        with atomic_file(tmp_path / "r.csv") as tmp:
            raise full
    assert listing(folder) == [MARKER, "a.csv"] and (folder / "a.csv").read_text() == "first"
    assert (tmp_path / "r.csv").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["locked", "out", "r.csv"]


def test_the_commands_refuse_a_dash_an_empty_name_and_a_device(tmp_path):
    for args in (
        ("demand", VILLAGES, "--network", NETWORK, "--year", "2030", "--out", "-"),
        ("demand", VILLAGES, "--network", NETWORK, "--year", "2030", "--out", ""),
        ("simulate", NETWORK, "--duration", "1", "--out", ""),
        ("run", ROOT / "studies" / "oujda", "--out", ""),
        ("check", NETWORK, "--out", "/dev/null"),
    ):
        done = run_hydro(*args, cwd=tmp_path)
        assert done.returncode == 1, (args, done.stderr)
        assert done.stderr.startswith("error: ") and "--out" in done.stderr, done.stderr
        assert "verdict" not in done.stdout  # refused before any computing
    assert listing(tmp_path) == []


def test_the_library_never_writes_a_design_over_the_network_it_was_read_from(tmp_path):
    import hydro

    network = tmp_path / "two_loop.inp"
    network.write_bytes((ROOT / "networks" / "benchmarks" / "two_loop.inp").read_bytes())
    before = network.read_bytes()
    wn = hydro.read_network(network)
    catalog = hydro.read_catalog(ROOT / "networks" / "benchmarks" / "two_loop_catalog.csv")
    with pytest.raises(InputError, match="refusing to overwrite an input file"):
        hydro.write_network(wn, network)
    with pytest.raises(InputError, match="refusing to overwrite an input file"):
        hydro.size_network(wn, catalog, hydro.Targets(30.0), output=tmp_path / "." / network.name)
    assert network.read_bytes() == before


def test_a_disk_full_from_the_start_leaves_no_staging_folder(tmp_path, monkeypatch):
    folder = tmp_path / "out"
    outputs = Outputs()
    with outputs.assemble(outputs.folder(folder)) as staging:
        (staging / "a.csv").write_text("first")
    real = Path.write_text

    def full(self, *args, **kwargs):
        if self.parent != folder and self.parent.parent in (folder, tmp_path):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    for target in (folder, tmp_path / "new"):
        with pytest.raises(OutputError, match="No space left on device"):
            with Outputs().assemble(target) as staging:
                (staging / "a.csv").write_text("second")
    monkeypatch.undo()
    assert listing(tmp_path) == ["out", f"out/{MARKER}", "out/a.csv"]
    assert (folder / "a.csv").read_text() == "first"
