"""Bounds (issue 28, point 8): a network too large for the memory left is refused up front,
with its size, the memory it would take (a factor measured by benchmarks/inp_memory.py)
and the memory available; a Balerma-size network (443 junctions, 454 pipes, zero timesteps
as its published steady-state file has) goes through ``hydro check``."""

from __future__ import annotations

import re

import pytest
from conftest import run_hydro

from hydro import network
from hydro.cli import main
from hydro.errors import InputError
from hydro.network import read_network
from hydro.sizing.random_networks import rural_mesh


def test_the_memory_a_run_needs_is_counted_and_refused_with_the_size(monkeypatch, tmp_path):
    path = tmp_path / "mesh.inp"
    path.write_text(rural_mesh(200, seed=3, loop_share=0.05))
    size = path.stat().st_size
    # enough to read the network, not to read it and run it for 72 hours
    between = size * (network.MEMORY_PER_FILE_BYTE + network.SIMULATED_MEMORY_PER_FILE_BYTE) / 2
    monkeypatch.setattr(network, "available_memory", lambda: between)
    assert len(read_network(path).junction_name_list) == 200
    with pytest.raises(InputError) as refused:
        read_network(path, sized=True)
    message = str(refused.value)
    assert f"a network of {size / 1e6:,.1f} MB" in message
    assert "to read and run for 72 h" in message and "GB is available" in message
    assert f"{network.SIMULATED_MEMORY_PER_FILE_BYTE:g} bytes per byte of its file" in message


def test_check_refuses_a_network_too_large_before_reading_it(monkeypatch, tmp_path, capsys):
    path = tmp_path / "mesh.inp"
    path.write_text(rural_mesh(50, seed=3))
    monkeypatch.setattr(network, "available_memory", lambda: 1000)
    read = []
    monkeypatch.setattr(network, "_epanet_parse_errors", lambda p: read.append(p) or [])
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert re.search(
        r"^error: .*mesh\.inp: a network of .* MB would take about .* GB of "
        r"memory to read and run for 72 h .*; 0\.00 GB is available",
        err,
        re.M,
    )
    assert read == []  # refused before EPANET's parser


def test_a_balerma_size_steady_state_network_goes_through_check(tmp_path):
    text = rural_mesh(443, seed=1, loop_share=0.013).replace(
        "[TIMES]\n Duration 0", "[TIMES]\n Duration 0\n Hydraulic Timestep 0:00\n"
        " Pattern Timestep 0:00"
    )  # fmt: skip
    path = tmp_path / "balerma_size.inp"
    path.write_text(text)
    wn = read_network(path)
    assert (wn.num_junctions, wn.num_pipes) == (443, 454)
    done = run_hydro("check", path, "--duration", 24, "--no-tap-flows")
    assert done.returncode in (0, 1), done.stderr  # 1: a rule broken, not an error
    assert "error:" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert "verdict" in done.stdout
