"""The real ``hydro`` command: exit statuses and messages (foundation, point 4)."""

from __future__ import annotations

import ctypes
import re

import pytest
from conftest import NET3, ROOT, inp_text, run_hydro

#: The commands the README documents, in the order ``hydro --help`` lists them.
README_COMMANDS = ["simulate", "check", "demand", "size", "storage", "taps", "run"]


def test_hydro_help_lists_exactly_the_documented_commands():
    done = run_hydro("--help")
    assert done.returncode == 0, done.stderr
    listed = re.findall(r"^    (\w+) ", done.stdout, flags=re.MULTILINE)
    assert listed == README_COMMANDS
    readme = (ROOT / "README.md").read_text()
    assert [c for c in README_COMMANDS if f"\nhydro {c} " not in readme] == []


@pytest.mark.parametrize("command", README_COMMANDS)
def test_every_subcommand_has_help(command):
    done = run_hydro(command, "--help")
    assert done.returncode == 0, (command, done.stderr)
    assert done.stdout.startswith(f"usage: hydro {command} ")
    assert "-q, --quiet" in done.stdout and not done.stderr


def test_simulate_net3_prints_summary_and_writes_tables(tmp_path):
    done = run_hydro("simulate", NET3, "--duration", "24", "--out", tmp_path / "res")
    assert done.returncode == 0, done.stderr
    for fragment in ["minimum pressure", "maximum velocity", "tank 1: level", "demand: peak"]:
        assert fragment in done.stdout
    header = (tmp_path / "res" / "nodes.csv").read_text().splitlines()[0]
    assert header == "time_s,time_h,node,pressure_m,head_m,demand_l_per_s"
    links = (tmp_path / "res" / "links.csv").read_text().splitlines()
    assert links[0] == "time_s,time_h,link,flow_l_per_s,velocity_m_per_s,headloss_m"
    assert len(links) == 1 + 25 * 119  # hours 0 to 24, Net3's 117 pipes and 2 pumps


def test_check_exit_status_gates_scripts(single_pipe_inp, tmp_path):
    ok = run_hydro("check", single_pipe_inp, "--min-pressure", "30")
    assert ok.returncode == 0, ok.stderr
    assert "verdict: COMPLIANT" in ok.stdout
    bad = run_hydro(
        "check",
        single_pipe_inp,
        "--min-pressure",
        "40",
        "--max-velocity",
        "0.1",
        "--out",
        tmp_path / "v.csv",
    )
    assert bad.returncode == 1
    assert "NOT COMPLIANT" in bad.stdout
    table = (tmp_path / "v.csv").read_text()
    assert table.startswith("element,kind,check,severity,quantity,time_h,value,limit,excess")
    assert "J1,junction,min_pressure,violation,pressure_m" in table
    assert "P1,pipe,max_velocity_distribution,violation,velocity_m_per_s" in table


def test_bad_input_is_one_line_error_without_traceback(write_inp):
    path = write_inp(inp_text(" J1 10 5", " R1 50", " P1 R1 J9 100 100 130"), name="bad.inp")
    done = run_hydro("simulate", path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "undefined node J9" in lines[0] and "bad.inp" in lines[0]


def test_usage_error_exits_2():
    done = run_hydro("check", NET3, "--min-pressure", "ten")
    assert done.returncode == 2
    assert "--min-pressure" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_file_exits_1(tmp_path):
    done = run_hydro("simulate", tmp_path / "nowhere.inp")
    assert done.returncode == 1
    assert "no such network file" in done.stderr


def test_an_error_after_a_progress_bar_cut_short_is_on_its_own_line(capsys, monkeypatch):
    from hydro.cli._common import Bar, write_error

    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    bar = Bar("draws", after_s=0.0)
    bar(5, 20)
    write_error("error: interrupted")
    lines = capsys.readouterr().err.split("\r")[-1].splitlines()
    assert lines[0].startswith("  draws 5/20 [") and lines[1] == "error: interrupted"
    bar(20, 20)  # a finished bar ends its line itself
    write_error("error: next")
    assert capsys.readouterr().err.endswith("s\nerror: next\n")


@pytest.mark.parametrize(
    ("raised", "status", "line"),
    [
        # Ctrl-C while ctypes converts an EPANET call's arguments comes wrapped by ctypes
        (ctypes.ArgumentError("argument 3: KeyboardInterrupt: "), 130, "error: interrupted"),
        (ctypes.ArgumentError("argument 2: TypeError: wrong type"), 1, "error: unexpected"),
    ],
)
def test_ctrl_c_inside_an_epanet_call_is_an_interruption(monkeypatch, capsys, raised, status, line):
    import hydro.cli.simulate
    from hydro.cli import main

    def interrupted(args):
        raise raised

    monkeypatch.setattr(hydro.cli.simulate, "cmd_simulate", interrupted)
    assert main(["simulate", str(NET3)]) == status
    err = capsys.readouterr().err
    assert err.startswith(line) and "Traceback" not in err


def test_progress_into_a_log_is_a_line_per_tenth(capsys):
    from hydro.cli._common import Bar

    bar = Bar("draws", after_s=0.0)  # stderr captured: not a terminal
    for done in range(0, 1001, 25):
        bar(done, 1000)
    lines = capsys.readouterr().err.splitlines()
    assert "\r" not in "".join(lines)
    assert [line.split()[1] for line in lines] == [f"{k * 100:,}/1,000" for k in range(11)]
