"""``hydro run``: whole design studies, each into its own output folder, on one executor."""

from __future__ import annotations

import argparse
import logging
import time

from hydro.cli._common import EXIT_OK, Steps, count, force_option

#: Most local processes ``--workers`` takes (more are capped at the machine's cores anyway).
MAX_WORKERS = 1024
#: The feasibility summary's columns printed for each study.
SUMMARY = ["scenario", "capital_donors_eur", "headroom_eur", "cost_per_beneficiary_eur",
           "delivered_l_per_person_day", "lowest_pressure_m", "verdict"]  # fmt: skip


def cmd_run(args: argparse.Namespace) -> int:
    """Run the studies, write each one's outputs, print each one's feasibility summary."""
    from hydro.study import load_study
    from hydro.study.run import output_folders, run_studies

    studies = [load_study(path) for path in args.study]
    folders = output_folders(studies, args.out, args.lang, args.force)  # before any run
    steps = Steps(getattr(args, "quiet", False))
    if not getattr(args, "verbose", False):  # the study reports its own steps
        logging.getLogger("hydro.sizing").setLevel(logging.WARNING)
    runs = run_studies(studies, folders, args.lang, args.workers, args.scheduler, steps,
                       force=args.force)  # fmt: skip
    started = steps.started
    for folder, (result, paths) in zip(folders, runs, strict=True):
        total, started = time.perf_counter() - started, time.perf_counter()
        print(
            f"study: {result.study.title} ({result.seconds:.0f} s to compute, {total:.0f} s "
            "with the tables, figures and reports)"
        )
        summary = getattr(result, "summary", None)  # a solar or intermittent study's own table
        frame = result.feasibility[SUMMARY] if summary is None else summary
        print(frame.to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
        print(f"wrote {len(paths)} files into {folder}/ (open {folder / 'report.html'})")
    return EXIT_OK


def _workers(text: str) -> int:
    value = count(text)
    if value > MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"at most {MAX_WORKERS:,}, got {value:,}")
    return value


def add_parser(sub, parents) -> None:
    """Register ``hydro run``."""
    p = sub.add_parser(
        "run",
        parents=parents,
        help="run design studies: scenarios, sizing, checks, costs, donor report",
        description="Run each study file: for each scenario project the demand, size the pipes, "
        "storage and pump, check the written design over days of operation and cost it; write "
        "the feasibility tables, figures, report.xlsx and report.html. Several studies run one "
        "after another on one executor, each into its own folder. Tap draws, sensitivity "
        "designs, the budget's plans and looped sizing runs go to that executor: this "
        "process (--workers 1), local processes (--workers K) or a Dask cluster "
        "(--scheduler); the same seeds give the same results whichever runs them.",
    )
    p.add_argument(
        "study",
        nargs="+",
        metavar="STUDY",
        help="study file (TOML), or the folder that holds it as study.toml (see studies/oujda/); "
        "several may be given",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="one study: its output folder (default out/<study name>/, out/<study name>_fr/ "
        "in French); several: the parent folder of theirs, DIR/<study name>/ each "
        "(default out/)",
    )
    p.add_argument("--lang", choices=["en", "fr"], default="en", help="report language")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=_workers,
        metavar="K",
        help="local processes (default: the study's [taps] workers, else one per core, at "
        "most one per core; 1: in this process)",
    )
    where.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run on this Dask distributed scheduler's workers (they need hydro and the "
        "studies' files at the same paths)",
    )
    force_option(p)
    p.set_defaults(func=cmd_run)
