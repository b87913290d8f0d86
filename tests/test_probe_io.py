"""What a hostile probe of hydro's commands and inputs found (closed pipes, tables, outputs)."""

from __future__ import annotations

import os
import subprocess

from conftest import ROOT, hydro_command, inp_text

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
