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
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hydro.compliance import check_design_condition
from hydro.defaults import TAP_MIN_PRESSURE_M
from hydro.errors import InputError
from hydro.gis import link_table, network_layers, node_table, write_geojson
from hydro.outputs import Outputs, file_name_problem, output_name
from hydro.parallel import Executor, executor_for, make_executor, using
from hydro.study import report
from hydro.study.budget import BudgetResult, budget_covers, design_to_budget
from hydro.study.calibration import run_calibration
from hydro.study.config import Study, load_inputs, load_study
from hydro.study.costing import assumptions_table, feasibility_row, operation_table
from hydro.study.intermittent import (
    IntermittentStudy,
    IntermittentStudyResult,
    run_intermittent_study,
)
from hydro.study.intermittent_report import write_intermittent_outputs
from hydro.study.parts import StudyData
from hydro.study.scenario import SCENARIO_STEPS, ScenarioResult, chain, run_scenario
from hydro.study.sensitivity import run_sensitivity, switch_points
from hydro.study.solar import SolarStudy, run_solar_study, write_solar_outputs
from hydro.study.stress import stress_table
from hydro.taps import all_taps_open

__all__ = ["STUDY_STEPS", "StudyResult", "load_study", "output_folders", "run_studies",
           "run_study", "study_inputs", "write_outputs"]  # fmt: skip


# --------------------------------------------------------------------------- the run
@dataclass(kw_only=True)
class StudyResult:
    """What :func:`run_study` found: one result per scenario and the donors' tables.

    A table whose step the study leaves out (``Study.steps``) is empty; ``budget`` is then
    None.
    """

    study: Study
    outcomes: list[ScenarioResult] = field(default_factory=list)
    feasibility: pd.DataFrame = field(default_factory=pd.DataFrame)
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    switch_points: pd.DataFrame = field(default_factory=pd.DataFrame)
    budget: BudgetResult | None = None
    assumptions: pd.DataFrame = field(default_factory=pd.DataFrame)
    stress: pd.DataFrame = field(default_factory=pd.DataFrame)
    operation: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: scenario -> the designed network as GIS layers (:func:`hydro.gis.network_layers`)
    gis: dict = field(default_factory=dict)
    #: hydro's estimate of a documented scheme against its cost (hydro.study.calibration)
    calibration: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: scenario -> its all-taps-open case (:func:`hydro.taps.all_taps_open`), governing tap first
    taps_open: dict = field(default_factory=dict)
    seconds: float = 0.0
    #: the inputs, loaded once; the progress callback
    data: StudyData | None = field(default=None, repr=False)
    log: object = field(default=None, repr=False)

    def base(self) -> ScenarioResult:
        """The scenario the sensitivity and the stress cases vary (default: the first)."""
        name = self.study.sensitivity.get("scenario", self.study.scenarios[0].name)
        return next(o for o in self.outcomes if o.spec.name == name)


def step_scenarios(r: StudyResult) -> None:
    """Every scenario end to end (:func:`hydro.study.scenario.run_scenario`)."""
    specs = r.study.scenarios
    for k, spec in enumerate(specs, start=1):
        r.log(f"scenario {k}/{len(specs)}: {spec.label}")
        r.outcomes.append(run_scenario(r.study, spec, r.data, log=r.log))


def step_feasibility(r: StudyResult) -> None:
    """The donors' feasibility table: one row per scenario."""
    villages = r.data.villages
    r.feasibility = pd.DataFrame([feasibility_row(r.study, o, villages) for o in r.outcomes])


def step_sensitivity(r: StudyResult) -> None:
    """Every [sensitivity] parameter at both ends of its range, and the switch points."""
    r.sensitivity = run_sensitivity(r.study, r.outcomes, r.data, r.log)
    r.switch_points = switch_points(r.study, r.sensitivity)


def step_budget(r: StudyResult) -> None:
    """What the budget buys (:func:`hydro.study.budget.design_to_budget`); the feasibility
    table's ``beneficiaries_budget_covers`` becomes the people its chosen plan serves.
    """
    r.budget = design_to_budget(r.study, r.data, r.log)
    if not r.feasibility.empty:
        r.feasibility["beneficiaries_budget_covers"] = budget_covers(r.budget)


def step_calibration(r: StudyResult) -> None:
    """The documented scheme designed and costed by hydro (:mod:`hydro.study.calibration`)."""
    r.calibration = run_calibration(r.study, r.data, r.log)


def step_stress(r: StudyResult) -> None:
    """The base scenario's design under stress (:func:`hydro.study.stress.stress_table`)."""
    r.stress = stress_table(r.study, r.base(), r.data, r.log)


def step_assumptions(r: StudyResult) -> None:
    """Every assumption with its value, unit and source."""
    r.assumptions = assumptions_table(r.study, r.outcomes)


def step_operation(r: StudyResult) -> None:
    """Storage, main, pump and energy per scenario."""
    r.operation = operation_table(r.study, r.outcomes)


def step_gis(r: StudyResult) -> None:
    """Each scenario's designed network as GeoJSON layers with its results (:mod:`hydro.gis`):
    the pressures of the design year's days of operation, each pipe's highest flow and
    velocity, and the design condition (governing case per node, governing tap).
    """
    study = r.study
    for o in r.outcomes:
        classes = o.compliance_design.node_classes
        condition = check_design_condition(
            o.model, study.rules, classes, o.projection_design.taps()
        )
        nodes = node_table(o.model, o.compliance_design.results, classes, condition)
        served = o.projection_design.nodes.groupby("node")["village"].agg(
            lambda d: "; ".join(dict.fromkeys(map(str, d)))
        )
        nodes.insert(2, "village", served.reindex(nodes.index).fillna(""))
        links = link_table(o.model, o.compliance_design.results, r.data.catalog)
        r.gis[o.spec.name] = network_layers(o.model, study.inputs.crs, nodes, links)


def step_taps_open(r: StudyResult) -> None:
    """Each scenario's all-taps-open case (:func:`hydro.taps.all_taps_open`): every standpipe's
    taps open at once, tanks at their reserve, one EPANET steady state of the written design.
    """
    rules = r.study.rules
    for o in r.outcomes:
        r.taps_open[o.spec.name] = all_taps_open(
            o.model, o.projection_design.taps(), o.compliance_design.node_classes,
            rules.tap_min_pressure_m or TAP_MIN_PRESSURE_M, rules.tank_reserve_share,
        )  # fmt: skip


#: The steps of a study, in order: (name, function of a :class:`StudyResult`). The report is
#: written by :func:`write_outputs` from what they found.
STUDY_STEPS = (
    ("scenarios", step_scenarios),
    ("feasibility", step_feasibility),
    ("sensitivity", step_sensitivity),
    ("budget", step_budget),
    ("calibration", step_calibration),
    ("stress", step_stress),
    ("assumptions", step_assumptions),
    ("operation", step_operation),
    ("gis", step_gis),
    ("taps_open", step_taps_open),
)


def run_study(study: Study, log=lambda m: None, executor: Executor | None = None) -> StudyResult:
    """Run a study's steps (:data:`STUDY_STEPS`): every scenario, the feasibility table, the
    sensitivity, what the budget buys, the stress cases, assumptions and operation.

    Each scenario projects the demand of the opening and design years, sizes storage, main,
    pump and pipes, writes the design and checks the written file by an independent
    extended-period EPANET run, and costs it (:data:`hydro.study.scenario.SCENARIO_STEPS`).
    A study replaces or leaves out a step by its name (``Study.steps``).

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
    """:func:`run_study`'s steps (:data:`STUDY_STEPS`), on the run's executor."""
    started = time.perf_counter()
    chain((*STUDY_STEPS, *SCENARIO_STEPS), study.steps, str(study.path))  # names known
    mine = {k: v for k, v in study.steps.items() if k in dict(STUDY_STEPS)}
    steps = chain(STUDY_STEPS, mine, str(study.path))
    result = StudyResult(study=study, data=load_inputs(study), log=log)
    for _, step in steps:
        step(result)
    result.seconds = time.perf_counter() - started
    return result


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
        for s in studies:  # the name becomes a folder: every kind of study is held to it
            problem = file_name_problem(s.name)
            if problem:
                raise InputError(f"{s.path}: name {problem}")
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
    return [study.path, *study.inputs.files()]


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
    outputs = Outputs(inputs=study_inputs(result.study), force=force)
    folder = outputs.folder(out, "output folder")
    with outputs.assemble(folder) as staging:
        if isinstance(result, IntermittentStudyResult):  # English only
            written = write_intermittent_outputs(result, staging, log)
        else:
            written = report.write_all(result, staging, lang, log)
            for name, layers in getattr(result, "gis", {}).items():
                written += write_geojson(layers, staging, f"sized_{name}")
    return [folder / p.relative_to(staging) for p in written]
