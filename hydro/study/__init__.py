"""A design study: from a network, village data and a budget to the donors' feasibility pack.

- :mod:`hydro.study.config`: the study file (TOML), read and checked once into the typed parts
  of :mod:`hydro.study.parts` (inputs, design, rules, money, prices, scenarios, budget, taps,
  report settings); :func:`hydro.study.config.load_inputs` reads its files once;
- :mod:`hydro.study.scenario`: one scenario end to end as a chain of named steps (demand,
  break tank, storage, main, pump, pipes, write, checks, energy, surge, taps, costs), each
  replaceable or left out by name (``Study.steps``);
- :mod:`hydro.study.costing`: bill of quantities and the donors' tables;
- :mod:`hydro.study.budget`: what the budget buys (every choice of villages, exact sizing inside);
- :mod:`hydro.study.sensitivity`: every uncertain input over its range, and the switch points;
- :mod:`hydro.study.stress`: the design under stress (unsized, opening-year design, pump out);
- :mod:`hydro.study.run`: the study's named steps: every scenario, the feasibility table, the
  sensitivity, the budget mode, stress cases, assumptions and operation;
- :mod:`hydro.study.report` (sections of the page), :mod:`hydro.study.figures`,
  :mod:`hydro.study.workbook` (``report.xlsx``) and :mod:`hydro.study.labels` (English and
  French words, number formats).
"""

from hydro.study.config import Study, load_inputs, load_study
from hydro.study.parts import StudyData
from hydro.study.run import StudyResult, run_study, write_outputs

__all__ = ["Study", "StudyData", "StudyResult", "load_inputs", "load_study", "run_study",
           "write_outputs"]  # fmt: skip
