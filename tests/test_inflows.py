"""A negative demand is an error unless the user says it is an inflow (issue 28, point 2)."""

from __future__ import annotations

from conftest import ROOT, run_hydro

OUJDA = ROOT / "tests" / "data" / "booster_aqueduct.inp"


def negative_demand(tmp_path):
    lines = []
    section = ""
    for line in OUJDA.read_text().splitlines():
        if line.startswith("["):
            section = line.strip()
        fields = line.split()
        if section == "[JUNCTIONS]" and fields and fields[0] == "J_T0":
            line = f" J_T0 {fields[1]} -0.1 ;"
        lines.append(line)
    path = tmp_path / "inflow.inp"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_negative_demand_is_refused_unless_given_as_an_inflow(tmp_path):
    path = negative_demand(tmp_path)
    refused = run_hydro("simulate", str(path), "--duration", "2")
    assert refused.returncode == 1
    assert "junction J_T0: demand" in refused.stderr and "--inflows" in refused.stderr
    assert "Traceback" not in refused.stderr
    for where in (("simulate", str(path), "--inflows"), ("--inflows", "simulate", str(path))):
        accepted = run_hydro(*where, "--duration", "2")
        assert accepted.returncode == 0, accepted.stderr


def test_break_tank_options_have_a_range(tmp_path):
    for option, value in (("--break-tank-cost", "1e308"), ("--break-tank-residual", "-1")):
        done = run_hydro("size", str(OUJDA), "--catalog",
                         str(ROOT / "networks" / "catalogs" / "oujda_pipes.csv"),
                         "--min-pressure", "10", option, value)  # fmt: skip
        assert done.returncode == 2
        assert f"argument {option}" in done.stderr and "outside" in done.stderr
