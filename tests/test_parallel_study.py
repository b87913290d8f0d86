"""Issue 23, point 6: one executor for a study's parallel pieces and for several studies.

The budget's tables are the same in this process, on local processes and on a Dask cluster;
``hydro run A B --scheduler`` runs two studies on one cluster into their own folders, with
the tables an in-process run writes.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pandas as pd
import pytest
from conftest import local_cluster, run_hydro
from test_study import write_small_study
from test_study_donor import budget_case

from hydro.catalog import read_catalog
from hydro.errors import InputError
from hydro.network import read_network
from hydro.parallel import InProcess, LocalPool, make_executor
from hydro.pumps import read_pump_catalog
from hydro.study.budget import design_to_budget
from hydro.study.config import load_study
from hydro.study.parts import StudyData
from hydro.study.run import output_folders

#: A budget between the cheapest plans of the budget case: some plans fit, and plans over it
#: are left out by the pruning; with batches as large as the executor's workers times four
#: (before), in-process and two workers ran different plans here.
BUDGET_EUR = 165_000  # each plan on the trunk of its whole scheme (issue 25)


def reduced_study(folder, name: str):
    """The small scheme as a quick study: one scenario, 60 tap draws, two sensitivity
    parameters (one re-designs), the budget over standpipes only (3 plans)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = write_small_study(folder)
    text = path.read_text()
    others = "household_connections|standpipes_pipes_for_connections|standpipes_break_tank"
    text = re.sub(rf'\n\[\[scenarios\]\]\nname = "({others})".*?(?=\n\[)', "\n", text,
                  flags=re.S)  # fmt: skip
    text = re.sub(r"\[budget\].*?\n\n", '[budget]\nscenarios = ["standpipes"]\n\n', text,
                  flags=re.S)  # fmt: skip
    text = re.sub(r"\[sensitivity\].*?\n\n", '[sensitivity]\nscenario = "standpipes"\n'
                  "growth_rate = [-0.01, 0.03]\nstandpipe_cost = [15000, 30000]\n\n", text,
                  flags=re.S)  # fmt: skip
    text = re.sub(r"draws = \d+", "draws = 60", text)
    path.write_text(text.replace('name = "small"', f'name = "{name}"'))
    return path


def test_budget_tables_are_the_same_in_process_on_local_processes_and_on_a_dask_cluster(
    tmp_path,
):
    distributed = pytest.importorskip("dask.distributed")
    study = load_study(write_small_study(tmp_path))
    inp, villages = budget_case(tmp_path)  # 14 plans
    study = replace(
        study,
        money=replace(study.money, budget_eur=BUDGET_EUR),
        budget=replace(study.budget, scenarios=["standpipes", "household_connections"]),
    )
    inputs = (StudyData(read_network(inp), villages, read_catalog(study.inputs.pipe_catalog),
                        read_pump_catalog(study.inputs.pump_catalog)),)  # fmt: skip
    expected = design_to_budget(study, *inputs, executor=InProcess())
    assert expected.skipped > 0 and expected.best is not None  # the pruning is at work
    with LocalPool(2) as pool:
        results = [design_to_budget(study, *inputs, executor=pool)]
    with (
        local_cluster(distributed) as cluster,
        make_executor(scheduler=cluster.scheduler_address) as dask,
    ):
        assert dask.workers == 2
        results.append(design_to_budget(study, *inputs, executor=dask))
    for got in results:
        assert (got.enumerated, got.skipped) == (expected.enumerated, expected.skipped)
        pd.testing.assert_frame_equal(got.candidates, expected.candidates, check_exact=True)
        pd.testing.assert_frame_equal(got.curve, expected.curve, check_exact=True)
        for part in ("best", "complete"):  # phase 1 and the complete scheme
            pd.testing.assert_frame_equal(getattr(got, part).boq, getattr(expected, part).boq)


@pytest.mark.slow
def test_two_studies_in_one_run_on_a_dask_cluster_write_the_in_process_tables(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    paths = [reduced_study(tmp_path / n, f"small_{n}") for n in ("a", "b")]
    out = tmp_path / "out"
    with local_cluster(distributed) as cluster:
        done = run_hydro("run", paths[0], paths[1].parent, "--out", out,
                         "--scheduler", cluster.scheduler_address)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"study 2/2: small_b (Dask cluster at {cluster.scheduler_address}" in done.stderr
    for name in ("small_a", "small_b"):
        # 33 tables (funding.csv, calibration.csv and taps_open_<scenario>.csv among them),
        # figures and reports, its one scenario's two GIS layers, and the sources document
        assert f"wrote 36 files into {out / name}/" in done.stdout
    # the second study again, alone and in this process: the same tables, byte for byte
    alone = tmp_path / "alone"
    done = run_hydro("run", paths[1], "--out", alone, "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert "(in-process)" in done.stderr
    tables = sorted(p.name for p in [*alone.glob("*.csv"), *alone.glob("*.inp")])
    assert {"budget.csv", "budget_candidates.csv", "sensitivity.csv", "taps_standpipes.csv",
            "sized_standpipes.inp", "sized_budget.inp"} <= set(tables)  # fmt: skip
    for name in tables:  # the .inp files differ only in their time of writing

        def text(folder, name=name):
            lines = (folder / name).read_text().splitlines()
            return [line for line in lines if not line.startswith("; Created:")]

        assert text(out / "small_b") == text(alone), name


def test_output_folders_one_study_several_and_refusals(tmp_path):
    a = load_study(reduced_study(tmp_path / "a", "small_a"))
    b = load_study(reduced_study(tmp_path / "b", "small_b"))
    assert output_folders([a], tmp_path / "mine") == [tmp_path / "mine"]
    assert output_folders([a], lang="fr") == [tmp_path.__class__("out") / "small_a_fr"]
    assert output_folders([a, b], tmp_path / "all") == [tmp_path / "all" / "small_a",
                                                        tmp_path / "all" / "small_b"]  # fmt: skip
    assert output_folders([a, b]) == [tmp_path.__class__("out") / n for n in ("small_a", "small_b")]
    with pytest.raises(InputError) as caught:  # one name twice: one folder for both
        output_folders([a, a], tmp_path / "all")
    message = str(caught.value)
    assert f"output folder of {a.path}" in message and "name the same output" in message
    with pytest.raises(InputError, match="--out is a file"):  # the study file as --out
        output_folders([a], a.path)


def test_run_command_refuses_two_studies_of_one_name_before_running(tmp_path):
    a = reduced_study(tmp_path / "a", "same")
    b = reduced_study(tmp_path / "b", "same")
    done = run_hydro("run", a, b, "--out", tmp_path / "out", "--workers", "1")
    assert done.returncode == 1
    assert "error:" in done.stderr and "name the same output" in done.stderr
    assert "scenario 1/1" not in done.stderr  # refused before any run
    assert not (tmp_path / "out").exists()
    done = run_hydro("run", a, "--workers", "2", "--scheduler", "tcp://127.0.0.1:1")
    assert done.returncode == 2 and "not allowed with argument" in done.stderr
