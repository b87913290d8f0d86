"""A design study: from a network, village data and a budget to the donors' feasibility pack.

- :mod:`hydro.study.config`: the study file (TOML), read and checked;
- :mod:`hydro.study.scenario`: one scenario end to end (demand, storage, main, pump, sizing,
  independent check of the written design, costs);
- :mod:`hydro.study.costing`: bill of quantities and the donors' tables;
- :mod:`hydro.study.budget`: what the budget buys (every choice of douars, exact sizing inside);
- :mod:`hydro.study.sensitivity`: every uncertain input over its range, and the switch points;
- :mod:`hydro.study.run`: every scenario, the sensitivity, stress cases and the budget mode;
- :mod:`hydro.study.report` (sections of the page), :mod:`hydro.study.figures`,
  :mod:`hydro.study.workbook` (``report.xlsx``) and :mod:`hydro.study.labels` (English and
  French words, number formats).
"""

from hydro.study.config import Study, load_study
from hydro.study.run import StudyResult, run_study, write_outputs

__all__ = ["Study", "StudyResult", "load_study", "run_study", "write_outputs"]
