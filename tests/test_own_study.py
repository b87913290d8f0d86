"""A new user's own study (issue 25 point 8): what the guide (docs/study_guide.md) tells them
holds, and the mistakes a copied study makes are named plainly.
"""

from __future__ import annotations

import math
import re
import subprocess
import tomllib

from conftest import ROOT, run_hydro
from test_study import write_small_study

from hydro.study.config import ECONOMICS, SENSITIVITY_RANGES, STUDY_KEYS, load_study

GUIDE = ROOT / "docs" / "study_guide.md"


def test_a_misspelt_village_column_is_named_with_the_closest_one_by_hydro_run(tmp_path):
    """``populaton`` for ``population``: one ``error:`` line naming the file, the unknown
    column and the allowed one, exit 1, no traceback, nothing written."""
    study = write_small_study(tmp_path)
    villages = tmp_path / "villages.csv"
    villages.write_text(villages.read_text().replace(",population,", ",populaton,", 1))
    done = run_hydro("run", study, "--out", tmp_path / "out")
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert str(villages) in errors[0]
    assert "unknown column 'populaton'; did you mean 'population'?" in errors[0]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def _guide_section(title: str) -> str:
    """The text of the guide's section whose heading starts with ``title``."""
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index(f"\n### {title}")
    end = text.find("\n#", start + 1)
    return text[start:end]


def _row(section: str, key: str) -> str:
    """The table row of ``key`` (its first cell) in a section of the guide."""
    rows = [line for line in section.splitlines() if line.startswith(f"| `{key}` |")]
    assert len(rows) == 1, f"the guide has {len(rows)} rows for {key}"
    return rows[0]


def test_the_guide_lists_every_economics_key_with_its_default_and_values():
    """Every [economics] key config.py knows has a row in the guide, with its default and,
    for a choice, every allowed value (so the guide cannot fall behind the code)."""
    section = _guide_section("`[economics]`")
    for key, spec in STUDY_KEYS["economics"].items():
        row = _row(section, key)
        for choice in spec.choices:
            assert f'`"{choice}"`' in row, (key, choice)
    for key, (default, _) in ECONOMICS.items():
        cells = _row(section, key).split(" | ")
        if isinstance(default, str):
            assert cells[1] == f'`"{default}"`', key
        elif isinstance(default, float) and math.isfinite(default):
            assert cells[1] == f"{default:g}", key
        else:  # no cap, no tariff
            assert cells[1].startswith("none"), key
    assert "hydro/study/config.py" not in section


def test_the_guide_lists_every_sensitivity_parameter_with_its_range():
    section = _guide_section("`[sensitivity]`")
    for key in STUDY_KEYS["sensitivity"]:
        _row(section, key)
    for key, (low, high, _, _) in SENSITIVITY_RANGES.items():
        row = _row(section, key).replace(",", "")
        assert f"{high:g}" in row or f"{high:.0f}" in row, key
        assert low == 0 or f"{low:g}" in row, key
    assert "hydro/study/config.py" not in section


def test_the_guide_quick_start_keeps_the_demo_and_names_the_study_after_its_folder(tmp_path):
    """The guide's commands that copy the Oujda study leave out its name, so the copy writes
    into out/myvillages/, not over the demo's out/oujda/ (review item 6); a study without
    ``name`` is named after its folder."""
    text = GUIDE.read_text(encoding="utf-8")
    quick = text[text.index("## Quick start") : text.index("## What a study is made of")]
    commands = [
        line.split("  #")[0]
        for line in quick.splitlines()
        if line.startswith(("mkdir ", "cp ", "grep ", "sed "))
    ]
    assert commands, "the guide's quick start copies no study"
    (tmp_path / "studies" / "oujda").mkdir(parents=True)
    (tmp_path / "studies" / "oujda" / "study.toml").write_text(
        (ROOT / "studies" / "oujda" / "study.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    for command in commands:
        subprocess.run(command, shell=True, cwd=tmp_path, check=True)
    copied = tomllib.loads((tmp_path / "studies" / "myvillages" / "study.toml").read_text())
    assert copied.get("name", "myvillages") == "myvillages"
    oujda = tomllib.loads((ROOT / "studies" / "oujda" / "study.toml").read_text())
    assert copied["scenarios"] == oujda["scenarios"]  # only the study's own name changed
    (tmp_path / "small").mkdir()
    study = write_small_study(tmp_path / "small")
    study.write_text(re.sub(r'^name = ".*"\n', "", study.read_text(), count=1, flags=re.M))
    assert load_study(study).name == "small"
