"""``hydro size``: least-cost pipe sizing from a catalogue, verified by EPANET."""

from __future__ import annotations

import argparse
from pathlib import Path

from hydro.cli._common import EXIT_FAIL, EXIT_OK, Progress, number, positive


def above_zero(text: str) -> float:
    """A number greater than zero."""
    value = number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than zero, got {value:g}")
    return value


def at_least_one(text: str) -> int:
    """A whole number of at least one."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def cmd_size(args: argparse.Namespace) -> int:
    from hydro.catalog import read_catalog
    from hydro.errors import InputError
    from hydro.network import read_network
    from hydro.sizing import Targets, format_result, size_network

    if args.max_pressure is not None and args.max_pressure <= args.min_pressure:
        raise InputError(
            f"--max-pressure {args.max_pressure:g} m must be above --min-pressure "
            f"{args.min_pressure:g} m"
        )
    wn = read_network(args.network)
    catalog = read_catalog(args.catalog)
    targets = Targets(args.min_pressure, args.max_pressure, args.max_velocity)
    fixed = tuple(p.strip() for p in args.fixed.split(",") if p.strip()) if args.fixed else ()
    for out in (args.output, args.report, args.history):
        if out and Path(out).resolve() in (
            Path(args.network).resolve(),
            Path(args.catalog).resolve(),
        ):
            raise InputError(f"{out}: refusing to overwrite an input file; choose another output")
    result = size_network(
        wn,
        catalog,
        targets,
        fixed=fixed,
        split=args.split,
        output=args.output,
        protect=(args.network,),
        seed=args.seed,
        time_limit_s=args.time_limit,
        max_evaluations=args.max_evaluations,
        method=args.method,
        source=str(args.network),
        progress=Progress(quiet=getattr(args, "quiet", False)),
        workers=args.workers,
    )
    print(f"network: {args.network}  catalogue: {args.catalog}  pipes sized: {len(result.table)}")
    print(format_result(result))
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        result.table.to_csv(args.report, index=False, float_format="%.4f")
        print(f"wrote {args.report}")
    if args.history and result.history:
        import pandas as pd

        Path(args.history).parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(result.history, columns=["evaluations", "seconds", "best_cost"]).to_csv(
            args.history, index=False
        )
        print(f"wrote {args.history}")
    if args.output:
        print(f"wrote {args.output}")
    return EXIT_OK if result.verification.ok else EXIT_FAIL


def add_parser(sub, parents) -> None:
    """Register ``hydro size``."""
    p = sub.add_parser(
        "size",
        parents=parents,
        help="least-cost pipe sizing from a catalogue, verified by EPANET",
    )
    p.add_argument("network", metavar="NETWORK.inp")
    p.add_argument(
        "--catalog",
        required=True,
        metavar="CATALOG.csv",
        help="pipe catalogue: inner_diameter_mm (or diameter_mm), cost_per_m, ...",
    )
    p.add_argument(
        "--min-pressure",
        required=True,
        type=positive,
        metavar="M",
        help="lowest junction pressure at the design condition [m], zero or more",
    )
    p.add_argument(
        "--max-velocity",
        type=above_zero,
        metavar="V",
        help="highest velocity in a sized pipe [m/s], above zero; only when given",
    )
    p.add_argument(
        "--max-pressure",
        type=positive,
        metavar="M",
        help="highest junction pressure [m], above --min-pressure; only when given",
    )
    p.add_argument("--fixed", metavar="PIPE,PIPE", help="pipes that keep their diameter")
    p.add_argument("--output", metavar="SIZED.inp", help="write the verified design")
    p.add_argument("--report", metavar="PIPES.csv", help="write the per-pipe table")
    p.add_argument(
        "--history",
        metavar="HISTORY.csv",
        help="looped optimiser: write each improvement (evaluations, seconds, best cost)",
    )
    p.add_argument(
        "--split",
        action="store_true",
        help="split-pipe design (two diameters per link; branched networks)",
    )
    p.add_argument(
        "--method",
        choices=["auto", "tree", "looped"],
        default="auto",
        help="auto (default): exact for branched networks, optimiser for looped",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed of the looped optimiser: the same seed and --max-evaluations give "
        "the same design (a --time-limit stop depends on the machine's speed)",
    )
    p.add_argument(
        "--time-limit",
        type=above_zero,
        default=60.0,
        metavar="SECONDS",
        help="looped optimiser time limit (default 60 s). Networks of up to 100 decision "
        "pipes usually stop earlier, when repeated runs find nothing better. Larger ones use "
        "all of it and keep improving: on random looped networks of 481 and 745 pipes "
        "(benchmarks/README.md) the median design after 30 s cost 2.4-3.0%% more than after "
        "120 s, and after 60 s 1.2-2.3%% more; give large networks minutes when cost matters",
    )
    p.add_argument(
        "--max-evaluations",
        type=at_least_one,
        metavar="N",
        help="looped optimiser: stop each independent run after N hydraulic evaluations",
    )
    p.add_argument(
        "--workers",
        type=at_least_one,
        metavar="N",
        help="looped optimiser: independent runs in parallel, one process each (default: "
        "one per core for networks of more than 100 decision pipes, else 1); the cheapest "
        "design wins",
    )
    p.set_defaults(func=cmd_size)
