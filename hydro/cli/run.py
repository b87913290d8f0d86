"""``hydro run``: a whole design study into an output folder."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from hydro.cli._common import EXIT_OK, Steps, force_option


def cmd_run(args: argparse.Namespace) -> int:
    """Run the study, write its outputs, print the feasibility summary."""
    from hydro.outputs import Outputs
    from hydro.study import load_study, run_study, write_outputs
    from hydro.study.run import study_inputs

    study = load_study(args.study)
    # the French pack beside the English one, not over it
    default = study.name if args.lang == "en" else f"{study.name}_{args.lang}"
    out = Path(args.out) if args.out else Path("out") / default
    Outputs(inputs=study_inputs(study), force=args.force).folder(out, "--out")  # before the run
    steps = Steps(getattr(args, "quiet", False))
    if not getattr(args, "verbose", False):  # the study reports its own steps
        logging.getLogger("hydro.sizing").setLevel(logging.WARNING)
    result = run_study(study, steps)
    steps("writing tables, figures and reports")
    paths = write_outputs(result, out, args.lang, steps, force=args.force)
    total = time.perf_counter() - steps.started
    print(
        f"study: {study.title} ({result.seconds:.0f} s to compute, {total:.0f} s with the "
        "tables, figures and reports)"
    )
    cols = ["scenario", "capital_donors_eur", "headroom_eur", "cost_per_beneficiary_eur",
            "delivered_l_per_person_day", "lowest_pressure_m", "verdict"]  # fmt: skip
    print(result.feasibility[cols].to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
    print(f"wrote {len(paths)} files into {out}/ (open {out / 'report.html'})")
    return EXIT_OK


def add_parser(sub, parents) -> None:
    """Register ``hydro run``."""
    p = sub.add_parser(
        "run",
        parents=parents,
        help="run a design study: scenarios, sizing, checks, costs, donor report",
        description="Run the study file: for each scenario project the demand, size the pipes, "
        "storage and pump, check the written design over days of operation and cost it; write "
        "the feasibility tables, figures, report.xlsx and report.html.",
    )
    p.add_argument(
        "study",
        metavar="STUDY",
        help="study file (TOML), or the folder that holds it as study.toml (see studies/oujda/)",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        help="output folder (default out/<study name>/, out/<study name>_fr/ in French)",
    )
    p.add_argument("--lang", choices=["en", "fr"], default="en", help="report language")
    force_option(p)
    p.set_defaults(func=cmd_run)
