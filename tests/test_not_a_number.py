"""No verdict on NaN (issue 28, point 4): a result that is not a number is a violation.

A comparison with NaN is false, so a rule written as "pressure below its minimum?" passes a
NaN pressure. Every computed check (the extended-period check, the design condition, the
independent verification of a design) must report it instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import ROOT, run_hydro

from hydro.catalog import read_catalog
from hydro.compliance import check_compliance, condition_violations
from hydro.network import read_network
from hydro.simulation import run_simulation
from hydro.sizing import size as size_module
from hydro.sizing import size_network
from hydro.sizing.problem import Targets, build_problem

OUJDA = ROOT / "tests" / "data" / "booster_aqueduct.inp"
CATALOG = ROOT / "networks" / "catalogs" / "oujda_pipes.csv"


def _with_nan(results, frame: str, row: int, column: str):
    """A copy of ``results`` with one value of ``frame`` set to NaN."""
    table = getattr(results, frame).copy()
    table.iloc[row, table.columns.get_loc(column)] = np.nan
    setattr(results, frame, table)
    return results


def test_non_finite_lists_each_element_once_with_its_first_step():
    results = run_simulation(read_network(OUJDA), duration_h=3)
    assert results.non_finite().empty
    results = _with_nan(results, "pressure", 2, "DB_BF1")
    bad = results.non_finite()
    assert bad[["element", "kind", "quantity"]].values.tolist() == [
        ["DB_BF1", "junction", "pressure_m"]
    ]
    assert bad["time_h"].tolist() == [2.0]
    assert bad["steps"].tolist() == [1]


def test_a_nan_pressure_makes_the_check_not_compliant():
    wn = read_network(OUJDA)
    results = run_simulation(wn, duration_h=3)
    clean = check_compliance(wn, results=results)
    nan = check_compliance(wn, results=_with_nan(results, "pressure", 1, "DB_BF1"))
    assert not nan.compliant
    assert not nan.summary["compliant"]
    rows = nan.violations[nan.violations["check"] == "not_a_number"]
    assert rows["element"].tolist() == ["DB_BF1"]
    assert rows["severity"].tolist() == ["violation"]
    # sorted first: a result that is not a number is worse than any excess
    assert nan.violations.iloc[0]["check"] == "not_a_number"
    assert np.isnan(nan.summary["min_pressure_by_class_m"]["standpipe"])
    assert nan.summary["worst_node"] == "DB_BF1"
    assert nan.summary["violations"] == clean.summary["violations"] + 1


def test_a_nan_tank_level_or_flow_is_a_violation():
    wn = read_network(OUJDA)
    results = run_simulation(wn, duration_h=3)
    results = _with_nan(results, "head", 3, "T_HILL")
    results = _with_nan(results, "flow", 0, "RM1")
    report = check_compliance(wn, results=results)
    rows = report.violations[report.violations["check"] == "not_a_number"]
    assert set(zip(rows["element"], rows["kind"], strict=True)) == {
        ("T_HILL", "tank"),
        ("RM1", "link"),
    }
    assert not report.compliant


def test_a_nan_margin_of_the_design_condition_is_a_violation():
    table = pd.DataFrame(
        {
            "condition": ["peak hour", "tap flows"],
            "node": ["A", "B"],
            "demand_l_per_s": [0.1, 0.5],
            "pressure_m": [np.nan, 12.0],
            "min_pressure_m": [10.0, 5.0],
            "margin_m": [np.nan, 7.0],
        }
    )
    rows = condition_violations(table)
    assert rows["element"].tolist() == ["A"]
    assert rows["check"].tolist() == ["design_peak_hour"]


def test_the_verification_of_a_design_fails_on_a_nan_pressure(monkeypatch, tmp_path):
    """An EPANET run whose pressures are not numbers never verifies a design."""
    catalog = read_catalog(CATALOG)
    targets = Targets(min_pressure_m=10.0)
    design = size_network(read_network(OUJDA), catalog, targets, output=tmp_path / "s.inp")
    assert design.verification.ok
    problem = build_problem(read_network(OUJDA), catalog, targets)
    sized = design.table["pipe"].tolist()
    real = size_module.run_simulation

    def nan_pressures(model, *args, **kwargs):
        results = real(model, *args, **kwargs)
        return _with_nan(results, "pressure", 0, "DB_BF1")

    monkeypatch.setattr(size_module, "run_simulation", nan_pressures)
    verification = size_module.verify_design(tmp_path / "s.inp", problem, sized)
    assert not verification.ok
    rows = verification.violations
    assert ((rows["element"] == "DB_BF1") & (rows["quantity"] == "pressure_m")).any()
    assert np.isnan(verification.min_pressure_m)
    assert verification.min_pressure_node == "DB_BF1"


def test_hydro_check_exits_1_on_an_infinite_pipe_length(tmp_path):
    """The probe's case: a pipe length of inf in the Oujda model was COMPLIANT with exit 0."""
    text = OUJDA.read_text().splitlines()
    out = []
    for line in text:
        fields = line.split()
        if fields and fields[0] == "RM2" and len(fields) >= 6:
            fields[3] = "inf"
            line = " " + "  ".join(fields)
        out.append(line)
    path = tmp_path / "inf_length.inp"
    path.write_text("\n".join(out) + "\n")
    result = run_hydro("check", str(path), "--duration", "4")
    assert result.returncode != 0
    assert "verdict: COMPLIANT" not in result.stdout
    assert "Traceback" not in result.stderr
    simulated = run_hydro("simulate", str(path), "--duration", "2")
    assert simulated.returncode == 1
    # read_network now refuses the number before any run (issue 28, point 2), naming it
    assert "pipe RM2: length = inf: must be a finite number" in simulated.stderr
    assert "pipe RM2: length = inf" in result.stderr


def test_the_verification_of_a_design_fails_on_a_cost_that_is_not_finite(monkeypatch, tmp_path):
    """A written design whose cost from the tags is not finite is never verified."""
    catalog = read_catalog(CATALOG)
    targets = Targets(min_pressure_m=10.0)
    design = size_network(read_network(OUJDA), catalog, targets, output=tmp_path / "s.inp")
    problem = build_problem(read_network(OUJDA), catalog, targets)
    monkeypatch.setattr(size_module, "_tag_cost", lambda *args: np.inf)
    verification = size_module.verify_design(
        tmp_path / "s.inp", problem, list(design.table["pipe"])
    )
    assert not verification.ok
    rows = verification.violations
    assert rows[rows["quantity"] == "cost"]["element"].tolist() == ["network"]
