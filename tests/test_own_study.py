"""A new user's own study (issue 25 point 8): what the guide (docs/study_guide.md) tells them
holds, and the mistakes a copied study makes are named plainly.
"""

from __future__ import annotations

from conftest import run_hydro
from test_study import write_small_study


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
