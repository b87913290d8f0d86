"""A design study: from a network, village data and a budget to the donors' feasibility pack.

``hydro run STUDY.toml`` reads the study file (:mod:`hydro.study_config`), then for each
scenario (:mod:`hydro.scenario`): projects the demand of the opening and the design year, sizes
the storage, the transmission main (:mod:`hydro.mains`) and the pump, then every other pipe at
least cost; writes the design and checks the written file independently (a full
extended-period EPANET run of the file read back, costs recomputed from the catalogue labels
in its ``[TAGS]``); and costs it (:mod:`hydro.costing`). Then the sensitivity runs and the
stress cases. The tables and the report (:mod:`hydro.report`) carry what those checks found;
:func:`write_outputs` publishes them all or nothing.
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hydro.catalog import Catalog, read_catalog
from hydro.costing import assumptions_table, feasibility_row, operation_table
from hydro.demand import check_villages_against_network, read_villages
from hydro.errors import InputError
from hydro.network import read_network
from hydro.pumps import read_pump_catalog
from hydro.scenario import Outcome, demand_scenario, run_scenario, stress_table
from hydro.study_config import Study, load_study

__all__ = ["StudyResult", "load_study", "run_study", "write_outputs"]


# --------------------------------------------------------------------------- sensitivity
def sensitivity_cases(study: Study) -> list[tuple[str, str, dict, float]]:
    """(parameter, value shown, demand overrides, pipe price factor)."""
    s = study.sensitivity
    cases = []
    for g in s.get("growth_rate", []):
        cases.append(("population growth", f"{100 * g:+.1f}%/yr", {"growth_rate": float(g)}, 1.0))
    for f in s.get("per_capita_demand_factor", []):
        cases.append(("per-capita demand", f"x{f:g}", {"_demand_factor": float(f)}, 1.0))
    for f in s.get("pipe_price_factor", []):
        cases.append(("pipe prices", f"{100 * (f - 1):+.0f}%", {}, float(f)))
    return cases


# --------------------------------------------------------------------------- the run
@dataclass
class StudyResult:
    study: Study
    outcomes: list[Outcome]
    feasibility: pd.DataFrame
    sensitivity: pd.DataFrame
    assumptions: pd.DataFrame
    stress: pd.DataFrame
    operation: pd.DataFrame
    seconds: float


class _Steps:
    def __init__(self, quiet: bool):
        self.started = time.perf_counter()
        self.quiet = quiet

    def __call__(self, message: str) -> None:
        if not self.quiet:
            sys.stderr.write(f"[{time.perf_counter() - self.started:5.1f} s] {message}\n")
            sys.stderr.flush()


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
    rows = []
    base_name = study.sensitivity.get("scenario", study.scenarios[0].name)
    base = next(o for o in outcomes if o.spec.name == base_name)
    for k, (parameter, shown, overrides, price) in enumerate(sensitivity_cases(study), start=1):
        log(f"sensitivity {k}: {parameter} {shown}")
        demand = dict(overrides)
        factor = demand.pop("_demand_factor", None)
        if factor is not None:
            sc = demand_scenario(study, base.spec.service)
            demand["domestic_l_per_person_day"] = {
                key: v * factor for key, v in sc.domestic_l_per_person_day.items()
            }
        cat = (
            catalog
            if price == 1.0
            else Catalog(
                catalog.table.assign(cost_per_m=catalog.table["cost_per_m"] * price), catalog.source
            )
        )
        o = run_scenario(study, base.spec, wn, villages, cat, pumps, demand)
        rows.append(
            {
                "scenario": base.spec.name,
                "parameter": parameter,
                "value": shown,
                "capital_mad": o.capital_mad,
                "capital_eur": o.capital_mad / study.mad_per_eur.value,
                "change_from_base": o.capital_mad / base.capital_mad - 1,
                "headroom_eur": study.budget_eur - o.capital_mad / study.mad_per_eur.value,
                "lowest_pressure_m": o.compliance_design.summary["min_pressure_by_class_m"].get(
                    "standpipe", np.nan
                ),
                "compliance_share": o.compliance_design.summary["node_hours_compliant_share"],
                "compliant": o.compliance_design.compliant and o.compliance_open.compliant,
                f"beneficiaries_{study.horizon_year}": round(
                    o.projection_design.totals()["population"]
                ),
            }
        )
    sensitivity = pd.DataFrame(rows)
    stress = stress_table(study, base, wn, villages, catalog, pumps, log)
    assumptions = assumptions_table(study, outcomes)
    return StudyResult(
        study,
        outcomes,
        feasibility,
        sensitivity,
        assumptions,
        stress,
        operation_table(study, outcomes),
        time.perf_counter() - started,
    )


def write_outputs(result: StudyResult, out: Path, lang: str, log=lambda m: None) -> list[Path]:
    """Write every table, figure and report into ``out``, all or nothing."""
    from hydro import report

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


# --------------------------------------------------------------------------- command
def cmd_run(args) -> int:
    study = load_study(args.study)
    out = Path(args.out) if args.out else Path("out") / study.name
    protected = {
        p.resolve() for p in (study.network, study.villages, study.pipe_catalog, study.path)
    }
    if out.resolve() in protected or any(p.is_relative_to(out.resolve()) for p in protected):
        raise InputError(f"{out}: the output folder would hold or replace an input; choose another")
    steps = _Steps(args.quiet)
    for name in ("hydro.sizing", "hydro.sizing_tree", "hydro.sizing_looped"):
        logging.getLogger(name).setLevel(logging.WARNING)  # the study reports its own steps
    result = run_study(study, steps)
    steps("writing tables, figures and reports")
    paths = write_outputs(result, out, args.lang, steps)
    print(f"study: {study.title} ({result.seconds:.0f} s)")
    cols = ["scenario", "capital_eur", "headroom_eur", "cost_per_beneficiary_eur",
            "delivered_l_per_person_day", "lowest_pressure_m", "verdict"]  # fmt: skip
    print(result.feasibility[cols].to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
    print(f"wrote {len(paths)} files into {out}/ (open {out / 'report.html'})")
    return 0


def add_command(sub) -> None:
    p = sub.add_parser(
        "run",
        help="run a design study: scenarios, sizing, checks, costs, donor report",
        description="Run the study file: for each scenario project the demand, size the pipes, "
        "storage and pump, check the written design over days of operation and cost it; write "
        "the feasibility tables, figures, report.xlsx and report.html.",
    )
    p.add_argument("study", metavar="STUDY.toml", help="study file (see studies/oujda/)")
    p.add_argument("--out", metavar="DIR", help="output folder (default out/<study name>/)")
    p.add_argument("--lang", choices=["en", "fr"], default="en", help="report language")
    p.set_defaults(func=cmd_run)
