"""``hydro taps``: random tap opening (Monte Carlo), pressure-driven, tanks at their reserve."""

from __future__ import annotations

import argparse

from hydro import defaults
from hydro.cli._common import (
    EXIT_OK,
    Bar,
    count,
    force_option,
    positive,
    pressure,
    seed,
    tank_reserve,
    year,
)


def cmd_taps(args: argparse.Namespace) -> int:
    """Open taps at random N times; print the villages and the worst taps; write CSV and a
    figure.
    """
    from hydro.classes import read_classes, read_tap_table
    from hydro.cli._format import format_taps
    from hydro.demand import read_villages
    from hydro.network import read_network
    from hydro.outputs import Outputs
    from hydro.taps import plot_taps, random_taps, write_tap_tables

    outputs = Outputs(inputs=[args.network, args.villages, args.classes], force=args.force)
    out = outputs.folder(args.out, "--out")  # checked before any draw
    wn = read_network(args.network, sized=True, inflows=args.inflows)
    run = random_taps(
        wn,
        villages=read_villages(args.villages) if args.villages else None,
        year=args.year,
        scenario=args.scenario,
        classes=read_classes(args.classes, wn) if args.classes else None,
        tap_table=read_tap_table(args.classes) if args.classes else None,
        draws=args.draws,
        seed=args.seed,
        probability=args.probability,
        useful_share=args.useful_share,
        tap_pressure_m=args.tap_pressure,
        tank_reserve_share=args.tank_reserve,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=Bar("draws", quiet=getattr(args, "quiet", False)),
        source=str(args.network),
    )
    print(f"network: {args.network}")
    print(format_taps(run, show=args.show))
    if out is not None:
        with outputs.assemble(out) as staging:
            written = write_tap_tables(run, staging)
            written.append(plot_taps(run, staging / "taps.png"))
        print("wrote " + ", ".join(str(out / p.name) for p in written))
    return EXIT_OK


#: Most draws one run takes: a million (the flows of every tap in every draw are kept).
MAX_DRAWS = 1_000_000
#: Most local worker processes.
MAX_WORKERS = 1024


def _probability(text: str) -> float:
    value = positive(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(
            f"a probability above 0 and at most 1 (0: no tap would ever open), got {value:g}"
        )
    return value


def _bounded(high: int):
    def parse(text: str) -> int:
        value = count(text)
        if value > high:
            raise argparse.ArgumentTypeError(f"at most {high:,}, got {value:,}")
        return value

    return parse


def add_parser(sub, parents) -> None:
    """Register ``hydro taps``."""
    p = sub.add_parser(
        "taps",
        parents=parents,
        help="random tap opening (Monte Carlo): which taps starve, tanks at their reserve",
        description=(
            "Open the taps at random N times (each tap open with its share of the peak hour, or "
            "--probability), run each draw pressure-driven with the tanks at their reserve "
            "level, each tap at the tap's pressure (the junction's less its standpipe's "
            "riser, valve and meter at the flow of its open taps, as hydro size and hydro "
            "check take it), and report per tap and per village the 5th/50th/95th percentile "
            "of an open tap's flow and the share of draws under the useful flow. Runs in this "
            "process, on local processes (--workers) or on a Dask cluster (--scheduler); the "
            "same --seed gives the same numbers whatever runs it."
        ),
    )
    p.add_argument("network", metavar="NETWORK.inp", help="EPANET input file")
    p.add_argument(
        "--draws",
        type=_bounded(MAX_DRAWS),
        default=1000,
        metavar="N",
        help=f"draws (default 1000, at most {MAX_DRAWS:,})",
    )
    p.add_argument("--seed", type=seed, default=1, help="random seed (default 1)")
    p.add_argument(
        "--probability",
        type=_probability,
        metavar="P",
        help="probability that a tap is open (default: its share of the peak hour)",
    )
    p.add_argument(
        "--useful-share",
        type=_probability,
        default=0.8,
        metavar="SHARE",
        help="a tap giving less than this share of its flow is starved (default 0.8)",
    )
    p.add_argument(
        "--tap-pressure",
        type=pressure,
        default=defaults.TAP_MIN_PRESSURE_M,
        metavar="M",
        help="pressure at which a tap gives its full flow [m] (default 5, docs/sources.md, 5.1)",
    )
    p.add_argument(
        "--tank-reserve",
        type=tank_reserve,
        default=defaults.TANK_RESERVE_SHARE,
        metavar="SHARE",
        help="tanks at this share of their usable depth above the minimum (default 0.2)",
    )
    p.add_argument(
        "--villages", metavar="VILLAGES.csv", help="village table: the taps and demand of --year"
    )
    p.add_argument("--year", type=year, help="year of the projection (default: the horizon)")
    p.add_argument(
        "--scenario", default="standpipes", help="demand scenario with --villages (standpipes)"
    )
    p.add_argument(
        "--classes",
        metavar="CLASSES.csv",
        help="node-class table: element,class[,taps,tap_flow_l_per_s,taps_per_standpipe]",
    )
    p.add_argument(
        "--workers",
        type=_bounded(MAX_WORKERS),
        metavar="K",
        help="local processes (default: one per core; 1: in this process)",
    )
    p.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run the draws on this Dask distributed scheduler's workers",
    )
    p.add_argument("--out", metavar="DIR", help="write taps.csv, taps_villages.csv, ... taps.png")
    p.add_argument("--show", type=count, default=10, metavar="N", help="worst taps printed")
    force_option(p)
    p.set_defaults(func=cmd_taps)
