"""A design study: from a network, village data and a budget to the donors' feasibility pack.

``hydro run STUDY.toml`` reads the study file (:mod:`hydro.study.config`), then for each
scenario (:mod:`hydro.study.scenario`): projects the demand of the opening and the design
year, sizes the storage, the transmission main (:mod:`hydro.mains`) and the pump, then every
other pipe at least cost; writes the design and checks the written file independently (a full
extended-period EPANET run of the file read back, costs recomputed from the catalogue labels
in its ``[TAGS]``); and costs it (:mod:`hydro.study.costing`). Then the sensitivity
(:mod:`hydro.study.sensitivity`), the stress cases and what the budget buys
(:mod:`hydro.study.budget`). The tables and the report (:mod:`hydro.study.report`) carry what
those checks found; :func:`write_outputs` publishes them all or nothing.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hydro.catalog import read_catalog
from hydro.demand import check_villages_against_network, read_villages
from hydro.errors import InputError
from hydro.network import read_network
from hydro.pumps import read_pump_catalog
from hydro.study.budget import BudgetResult, design_to_budget
from hydro.study.config import Study, load_study
from hydro.study.costing import assumptions_table, feasibility_row, operation_table
from hydro.study.scenario import ScenarioResult, run_scenario, stress_table
from hydro.study.sensitivity import run_sensitivity, switch_points

__all__ = ["StudyResult", "load_study", "run_study", "write_outputs"]


# --------------------------------------------------------------------------- the run
@dataclass(kw_only=True)
class StudyResult:
    study: Study
    outcomes: list[ScenarioResult]
    feasibility: pd.DataFrame
    sensitivity: pd.DataFrame
    switch_points: pd.DataFrame
    budget: BudgetResult | None
    assumptions: pd.DataFrame
    stress: pd.DataFrame
    operation: pd.DataFrame
    seconds: float


def run_study(study: Study, log=lambda m: None) -> StudyResult:
    started = time.perf_counter()
    wn = read_network(study.network)
    villages = read_villages(study.villages)
    check_villages_against_network(villages, wn, str(study.network))
    if study.tank not in wn.tank_name_list:
        raise InputError(
            f"{study.path}: [design] tank {study.tank!r} is not a tank of {study.network}"
        )
    if study.pump and study.pump not in wn.pump_name_list:
        raise InputError(
            f"{study.path}: [design] pump {study.pump!r} is not a pump of {study.network}"
        )
    catalog = read_catalog(study.pipe_catalog)
    pumps = read_pump_catalog(study.pump_catalog) if study.pump_catalog else None
    outcomes = []
    for k, spec in enumerate(study.scenarios, start=1):
        log(f"scenario {k}/{len(study.scenarios)}: {spec.label}")
        outcomes.append(run_scenario(study, spec, wn, villages, catalog, pumps, log=log))
    feasibility = pd.DataFrame([feasibility_row(study, o, villages) for o in outcomes])
    sensitivity = run_sensitivity(study, outcomes, wn, villages, catalog, pumps, log)
    base_name = study.sensitivity.get("scenario", study.scenarios[0].name)
    base = next(o for o in outcomes if o.spec.name == base_name)
    budget = design_to_budget(study, wn, villages, catalog, pumps, log)
    stress = stress_table(study, base, wn, villages, catalog, pumps, log)
    assumptions = assumptions_table(study, outcomes)
    return StudyResult(
        study=study,
        outcomes=outcomes,
        feasibility=feasibility,
        sensitivity=sensitivity,
        switch_points=switch_points(study, sensitivity),
        budget=budget,
        assumptions=assumptions,
        stress=stress,
        operation=operation_table(study, outcomes),
        seconds=time.perf_counter() - started,
    )


def write_outputs(result: StudyResult, out: Path, lang: str, log=lambda m: None) -> list[Path]:
    """Write every table, figure and report into ``out``, all or nothing."""
    from hydro.study import report

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        written = report.write_all(result, staging, lang, log)
        if out.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
            out.rename(trash / out.name)
            staging.rename(out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [out / p.relative_to(staging) for p in written]
