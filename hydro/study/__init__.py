"""A design study: from a network, village data and a budget to the donors' feasibility pack.

- :mod:`hydro.study.config`: the study file (TOML), read and checked;
- :mod:`hydro.study.scenario`: one scenario end to end (demand, storage, main, pump, sizing,
  independent check of the written design, costs);
- :mod:`hydro.study.costing`: bill of quantities and the donors' tables;
- :mod:`hydro.study.run`: every scenario, the sensitivity and stress cases;
- :mod:`hydro.study.report`: figures, ``report.xlsx`` and ``report.html``.
"""

from hydro.study.config import Study, load_study
from hydro.study.run import StudyResult, run_study, write_outputs

__all__ = ["Study", "StudyResult", "load_study", "run_study", "write_outputs"]
