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

Every parallel piece of a study (tap draws, the sensitivity's designs, the budget's plans, a
looped network's independent sizing runs) runs on one executor (:mod:`hydro.parallel`), made
once for the run; :func:`run_studies` runs several studies on one executor, each into its own
output folder (:func:`output_folders`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hydro.catalog import read_catalog
from hydro.demand import check_villages_against_network, read_villages
from hydro.errors import InputError
from hydro.network import read_network
from hydro.outputs import Outputs, output_name
from hydro.parallel import Executor, executor_for, make_executor, using
from hydro.pumps import read_pump_catalog
from hydro.study.budget import BudgetResult, design_to_budget
from hydro.study.config import Study, load_study
from hydro.study.costing import assumptions_table, feasibility_row, operation_table
from hydro.study.intermittent import (
    IntermittentStudy,
    IntermittentStudyResult,
    run_intermittent_study,
)
from hydro.study.intermittent_report import write_intermittent_outputs
from hydro.study.scenario import ScenarioResult, run_scenario, stress_table
from hydro.study.sensitivity import run_sensitivity, switch_points
from hydro.study.solar import SolarStudy, run_solar_study, write_solar_outputs

__all__ = [
    "StudyResult",
    "load_study",
    "output_folders",
    "run_studies",
    "run_study",
    "study_inputs",
    "write_outputs",
]


# --------------------------------------------------------------------------- the run
@dataclass(kw_only=True)
class StudyResult:
    """What :func:`run_study` found: one result per scenario and the donors' tables."""

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


def run_study(study: Study, log=lambda m: None, executor: Executor | None = None) -> StudyResult:
    """Run every scenario of a study, then its sensitivity and stress cases.

    Each scenario projects the demand of the opening and design years, sizes storage, main,
    pump and pipes, writes the design and checks the written file by an independent
    extended-period EPANET run, and costs it.

    Parameters
    ----------
    study : Study
        :func:`hydro.study.load_study`.
    log : callable
        Receives a line for each step (progress).
    executor : hydro.parallel.Executor, optional
        Runs the tap draws, the sensitivity's designs, the budget's plans and a looped
        network's sizing runs. Default: the run's executor (:func:`hydro.parallel.current`),
        else one made from the study's ``[taps] workers`` and ``scheduler`` for this study.
        The same seed gives the same results whichever executor runs them.

    Returns
    -------
    StudyResult
        Per-scenario results and the donors' tables (feasibility, sensitivity, stress,
        operation, assumptions).

    Examples
    --------
    >>> result = run_study(load_study("studies/oujda"))  # doctest: +SKIP
    >>> result.feasibility["verdict"].tolist()  # doctest: +SKIP
    """
    if isinstance(study, IntermittentStudy):  # kind = "intermittent": its own steps
        return run_intermittent_study(study, log)
    if executor is not None:
        with using(executor):
            return _run_steps(study, log)
    with executor_for(study.taps.workers, study.taps.scheduler) as running, using(running):
        return _run_steps(study, log)


def _run_steps(study: Study, log) -> StudyResult:
    """:func:`run_study`'s steps, on the run's executor."""
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


def run_studies(
    studies: Sequence[Study],
    folders: Sequence[Path],
    lang: str = "en",
    workers: int | None = None,
    scheduler=None,
    log=lambda m: None,
    force: bool = False,
) -> Iterator[tuple[StudyResult, list[Path]]]:
    """Run several studies on one executor, one after another, each into its own folder.

    One executor (:func:`hydro.parallel.make_executor`) is made for the whole call and runs
    every study's parallel pieces, so local processes start, or a cluster is reached, once.
    Each folder is written (all or nothing) as soon as its study ends.

    Parameters
    ----------
    studies : sequence of Study
        :func:`hydro.study.load_study` of each.
    folders : sequence of path-like
        The output folder of each study (:func:`output_folders`).
    lang : {"en", "fr"}
        Language of the reports.
    workers, scheduler :
        ``--workers K`` (local processes; 1: in this process) or ``--scheduler
        tcp://HOST:PORT`` (a Dask cluster). Neither: the first study's ``[taps] workers`` or
        ``scheduler``, else one local process per core.
    log : callable
        Receives a line for each step.
    force : bool
        Reuse existing folders that hydro did not write (:func:`write_outputs`).

    Yields
    ------
    (StudyResult, list of pathlib.Path)
        Each study's result and the files written, in the order given.

    Examples
    --------
    >>> studies = [load_study("studies/oujda"), load_study("studies/other")]  # doctest: +SKIP
    >>> folders = output_folders(studies, "out")  # doctest: +SKIP
    >>> for result, paths in run_studies(studies, folders, workers=4):  # doctest: +SKIP
    ...     print(result.study.name, len(paths))
    """
    if workers is None and scheduler is None:
        given = [s.taps for s in studies
                 if isinstance(s, Study) and (s.taps.workers or s.taps.scheduler)]  # fmt: skip
        workers, scheduler = (given[0].workers, given[0].scheduler) if given else (None, None)
    with make_executor(workers, scheduler) as executor, using(executor):
        for k, (study, folder) in enumerate(zip(studies, folders, strict=True), start=1):
            if len(studies) > 1:
                log(f"study {k}/{len(studies)}: {study.name} ({executor.description})")
            if isinstance(study, SolarStudy):  # kind = "solar" (hydro.study.solar)
                result = run_solar_study(study, log)
                yield result, write_solar_outputs(result, folder, lang, log, force=force)
                continue
            result = run_study(study, log)
            yield result, write_outputs(result, folder, lang, log, force=force)


def output_folders(
    studies: Sequence[Study], out=None, lang: str = "en", force: bool = False
) -> list[Path]:
    """Each study's output folder, checked before any run (:class:`hydro.outputs.Outputs`).

    One study: ``out``, by default ``out/<study name>`` (``out/<study name>_fr`` in
    French). Several: ``<out>/<study name>`` each, ``out`` being their parent folder
    (default ``out``). No folder may replace a study's input, nor two studies share one.
    """
    suffix = "" if lang == "en" else f"_{lang}"
    out = None if out is None else output_name(out, "--out")  # "" is not "."
    if len(studies) == 1 and out is not None:
        folders, options = [Path(out)], ["--out"]
    else:
        parent = Path("out") if out is None else Path(out)
        folders = [parent / f"{s.name}{suffix}" for s in studies]
        options = [f"output folder of {s.path}" for s in studies]
    outputs = Outputs(inputs=[p for s in studies for p in study_inputs(s)], force=force)
    for folder, option in zip(folders, options, strict=True):
        outputs.folder(folder, option)
    return folders


def study_inputs(study: Study) -> list[Path]:
    """Every file a study reads: no output may replace one."""
    if isinstance(study, SolarStudy | IntermittentStudy):
        return study.inputs()
    files = (study.path, study.network, study.villages, study.patterns, study.pipe_catalog,
             study.pump_catalog)  # fmt: skip
    return [p for p in files if p is not None]


def write_outputs(
    result: StudyResult, out: Path, lang: str, log=lambda m: None, force: bool = False
) -> list[Path]:
    """Write every table, figure and report into ``out``, all or nothing.

    The folder is assembled beside (or inside) ``out`` and moved into place at the end; an
    existing ``out`` is reused only when hydro wrote it, or with ``force`` (a user's own files
    in it are kept either way). See :mod:`hydro.outputs`.

    Parameters
    ----------
    result : StudyResult
        :func:`run_study`.
    out : path-like
        The output folder.
    lang : {"en", "fr"}
        Language of the report.
    log : callable
        Receives a line for each step.
    force : bool
        Reuse an existing folder that hydro did not write (its other files are kept).

    Returns
    -------
    list of pathlib.Path
        The files written.

    Examples
    --------
    >>> result = run_study(load_study("studies/oujda"))  # doctest: +SKIP
    >>> paths = write_outputs(result, "out/oujda", "fr")  # doctest: +SKIP
    """
    from hydro.study import report

    outputs = Outputs(inputs=study_inputs(result.study), force=force)
    folder = outputs.folder(out, "output folder")
    with outputs.assemble(folder) as staging:
        if isinstance(result, IntermittentStudyResult):  # English only
            written = write_intermittent_outputs(result, staging, log)
        else:
            written = report.write_all(result, staging, lang, log)
    return [folder / p.relative_to(staging) for p in written]
