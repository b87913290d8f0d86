"""The study's tap minimum is the one the draws use: 0 m is drawn at 0 m, not at the default.

The default (5 m, docs/sources.md 5.1 [E]) is applied once, where the study's [rules] are read.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_study import write_small_study

from hydro import defaults
from hydro.study.config import load_inputs, load_study
from hydro.study.scenario import run_scenario
from hydro.taps import PDA_LEAST_SPAN_M

PRESSURE_TOL_M = 1e-9


def study_with_tap_minimum(folder, line: str | None):
    """The small pumped study with its [rules] tap_min_pressure_m line replaced (None: none)."""
    path = write_small_study(folder)
    text = path.read_text()
    old = next(x for x in text.splitlines() if x.startswith("tap_min_pressure_m"))
    path.write_text(text.replace(old + "\n", "" if line is None else line + "\n"))
    return load_study(path)


def drawn_at(study) -> float:
    """The pressure at which the study's draws give a tap its full flow [m]."""
    study = replace(study, taps=replace(study.taps, draws=20, workers=1))
    o = run_scenario(study, study.scenario("standpipes"), load_inputs(study), random_taps=True)
    return o.taps.tap_model.required_pressure_m


@pytest.mark.parametrize(
    ("line", "rule_m", "drawn_m"),
    [
        ("tap_min_pressure_m = 0", 0.0, PDA_LEAST_SPAN_M),  # EPANET's least span, not 5 m
        ("tap_min_pressure_m = 3", 3.0, 3.0),
        (None, defaults.TAP_MIN_PRESSURE_M, defaults.TAP_MIN_PRESSURE_M),
    ],
)
def test_the_draws_use_the_study_s_tap_minimum(tmp_path, line, rule_m, drawn_m):
    study = study_with_tap_minimum(tmp_path, line)
    assert study.rules.tap_min_pressure_m == pytest.approx(rule_m, abs=PRESSURE_TOL_M)
    assert drawn_at(study) == pytest.approx(drawn_m, abs=PRESSURE_TOL_M)
