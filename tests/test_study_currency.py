"""Issue 23, point 2: the design-study engine is currency-neutral.

A copy of the small study (tests/test_study.py, the Oujda study file) in West African CFA
francs runs end to end; its outputs carry XOF and never MAD (every "MAD" of the study file was
replaced, so any left would come from hydro itself), its money columns are named in XOF.
"""

from __future__ import annotations

import re

import openpyxl
import pandas as pd
import pytest
from conftest import run_hydro
from test_study import write_small_study

from hydro.errors import InputError
from hydro.study.config import load_study

#: XOF per EUR: the CFA franc's fixed parity [S: BCEAO, 655.957 XOF = 1 EUR]
XOF_PER_EUR = 655.957


def xof_study(folder):
    """The small study with its money in XOF (its own prices, units and notes say XOF)."""
    path = write_small_study(folder)
    text = path.read_text().replace("MAD", "XOF")
    text = re.sub(r"currency_per_eur = \{ value = 11\.1", f"currency_per_eur = {{ value = "
                  f"{XOF_PER_EUR}", text)  # fmt: skip
    text = re.sub(r"currency_per_eur = \[[^]]*\]", "currency_per_eur = [600, 700]", text)
    assert 'currency = "XOF"' in text and "MAD" not in text
    path.write_text(text)
    return path


def test_a_study_in_another_currency_runs_with_no_mad_in_its_outputs(tmp_path):
    path = xof_study(tmp_path)
    out = tmp_path / "out"
    done = run_hydro("-q", "run", path, "--out", out)
    assert done.returncode == 0, done.stderr
    feasibility = pd.read_csv(out / "feasibility.csv")
    assert {"capital_xof", "om_xof_per_year", "capital_xof_per_m3_expected_use"} <= set(
        feasibility.columns
    )
    row = feasibility.iloc[0]
    assert row["capital_eur"] == pytest.approx(row["capital_xof"] / XOF_PER_EUR)
    assert "total_xof" in pd.read_csv(out / "boq_standpipes.csv").columns
    found = []
    for file in out.iterdir():
        if file.suffix in (".csv", ".html", ".inp"):
            text = re.sub(r'src="data:[^"]*"', "", file.read_text(encoding="utf-8"))  # figures
            mad = re.finditer(r".{0,30}\bMAD\b.{0,30}", text)
            found += [f"{file.name}: {m.group(0)}" for m in mad]
            found += [f"{file.name}: lcu" for _ in re.finditer(r"(?<![a-z])lcu(?![a-z])", text)]
    book = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    for sheet in book.worksheets:
        for line in sheet.iter_rows(values_only=True):
            found += [f"{sheet.title}: {v}" for v in line
                      if isinstance(v, str) and re.search(r"\bMAD\b", v)]  # fmt: skip
    assert found == []
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "[XOF]" in html


def test_a_currency_is_three_capital_letters(tmp_path):
    path = write_small_study(tmp_path)
    path.write_text(path.read_text().replace('currency = "MAD"', 'currency = "dirham"'))
    with pytest.raises(InputError, match="currency = 'dirham': an ISO 4217 code"):
        load_study(path)
