"""``hydro size``: least-cost pipe sizing from a catalogue, verified by EPANET."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from hydro import defaults
from hydro.cli._common import (
    EXIT_FAIL,
    EXIT_OK,
    Progress,
    above_zero,
    cost,
    count,
    diameter_mm,
    force_option,
    max_pressure,
    pressure,
    seconds,
    seed,
    share,
    tank_reserve,
    velocity,
)
from hydro.errors import InputError

if TYPE_CHECKING:
    from hydro.catalog import Catalog
    from hydro.sizing import SizingResult, Targets


def cmd_size(args: argparse.Namespace) -> int:
    """Size the network, print the design and its verification, write what is asked."""
    from hydro.cli._format import format_result
    from hydro.network import read_network
    from hydro.outputs import Outputs
    from hydro.sizing import size_network

    outputs = Outputs(inputs=[args.network, args.catalog], force=args.force)
    output = outputs.file(args.output, "--output")
    report = outputs.file(args.report, "--report")
    history = outputs.file(args.history, "--history")
    targets = _targets(args)
    wn = read_network(args.network, inflows=args.inflows)
    catalog = _catalog(args)
    catalog.check_roughness(wn.options.hydraulic.headloss, str(args.network))
    result = size_network(
        wn,
        catalog,
        targets,
        fixed=tuple(p.strip() for p in (args.fixed or "").split(",") if p.strip()),
        split=args.split,
        output=output,
        protect=(args.network,),
        seed=args.seed,
        time_limit_s=args.time_limit,
        max_evaluations=args.max_evaluations,
        method=args.method,
        source=str(args.network),
        progress=Progress(quiet=getattr(args, "quiet", False)),
        taps=_taps(args, wn),
        workers=args.workers,
        operation_h=defaults.CHECK_DURATION_H,  # the hours hydro check runs
        break_tanks=(*_break_tanks(args), *_boosters(args)) or None,
    )
    print(f"network: {args.network}  catalogue: {args.catalog}  pipes sized: "
          f"{len(result.verification.pipes)}")  # fmt: skip
    print(format_result(result))
    _write_tables(outputs, result, report, history, output)
    return EXIT_OK if result.verification.ok else EXIT_FAIL


def _taps(args: argparse.Namespace, wn):
    """The tap table of ``--classes`` (None: the sizing takes the node classes' defaults)."""
    from hydro.classes import read_classes, read_tap_table
    from hydro.condition import default_taps

    if not args.classes:
        return None
    return default_taps(wn, read_classes(args.classes, wn), read_tap_table(args.classes))


def _catalog(args: argparse.Namespace) -> Catalog:
    """The catalogue of ``--catalog``, from the nominal diameter of ``--min-diameter`` up."""
    from hydro.catalog import read_catalog

    catalog = read_catalog(args.catalog)
    return catalog if args.min_diameter is None else catalog.at_least(args.min_diameter)


def _targets(args: argparse.Namespace) -> Targets:
    """The sizing targets the options give; a maximum pressure not above the minimum refused."""
    from hydro.condition import check_pressure_targets
    from hydro.sizing import Targets

    check_pressure_targets(
        args.min_pressure, args.max_pressure, maximum_name="--max-pressure",
        minimum_note=" (--min-pressure)",
    )  # fmt: skip
    return Targets(
        args.min_pressure,
        args.max_pressure,
        args.max_velocity,
        tap_min_pressure_m=None if args.no_tap_flows else args.tap_pressure,
        tank_reserve_share=args.tank_reserve,
    )


def _write_tables(outputs, result: SizingResult, report, history, output) -> None:
    """Write the per-pipe table (``--report``) and the optimiser's improvements (``--history``).

    The design itself (``--output``) is written and verified by ``size_network``: only said.
    """
    import pandas as pd

    from hydro.outputs import write_csv

    if report is not None:
        with outputs.write(report) as tmp:
            write_csv(result.table, tmp, index=False, float_format="%.4f")
        print(f"wrote {report}")
    if history is not None and result.history:
        with outputs.write(history) as tmp:
            pd.DataFrame(result.history, columns=["evaluations", "seconds", "best_cost"]).to_csv(
                tmp, index=False
            )
        print(f"wrote {history}")
    if output is not None:
        outputs.record(output)
        print(f"wrote {output}")


def _break_tanks(args: argparse.Namespace) -> tuple:
    """The break-pressure tanks and pressure-reducing valves the tree program may place
    (an empty tuple: neither --break-tank-cost nor --prv-cost).
    """
    from hydro.sizing.break_tanks import BreakTanks, PressureValves

    if args.prv_cost is None and args.prv_nodes:
        raise InputError("--prv-nodes needs --prv-cost")
    valves = ()
    if args.prv_cost is not None:
        valves = (PressureValves(args.prv_cost, _node_list(args.prv_nodes)),)
    if args.break_tank_cost is None:
        if args.break_tank_nodes or args.break_tank_residual:
            raise InputError("--break-tank-nodes and --break-tank-residual need --break-tank-cost")
        return valves
    nodes = _node_list(args.break_tank_nodes)
    return (BreakTanks(args.break_tank_cost, nodes, args.break_tank_residual or 0.0), *valves)


def _boosters(args: argparse.Namespace) -> tuple:
    """The booster pumps the tree program may place (an empty tuple: no --booster-cost)."""
    from hydro.sizing.boosters import Boosters

    if args.booster_cost is None:
        options = (
            ("--booster-nodes", args.booster_nodes),
            ("--energy-price", args.energy_price),
            ("--life-years", args.life_years),
            ("--discount-rate", args.discount_rate),
            ("--booster-efficiency", args.booster_efficiency),
        )
        given = [o for o, v in options if v is not None]
        if given:
            raise InputError(f"{' and '.join(given)} need(s) --booster-cost")
        return ()
    chosen = {
        "energy_price_per_kwh": args.energy_price,
        "life_years": args.life_years,
        "discount_rate": args.discount_rate,
        "efficiency": args.booster_efficiency,
    }
    given = {k: v for k, v in chosen.items() if v is not None}
    return (Boosters(args.booster_cost, _node_list(args.booster_nodes), **given),)


def _node_list(text: str | None) -> tuple[str, ...] | None:
    """``N1,N2`` as a tuple of names (None: not given)."""
    if not text:
        return None
    return tuple(n.strip() for n in text.split(",") if n.strip())


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
        "--min-diameter",
        type=diameter_mm,
        metavar="MM",
        help="smallest nominal diameter a sized pipe may get [mm] (a utility's minimum, "
        "e.g. 63; default: the catalogue's smallest)",
    )
    p.add_argument(
        "--min-pressure",
        required=True,
        type=pressure,
        metavar="M",
        help="lowest junction pressure at the design condition's peak hour [m], zero or more; "
        "the design condition: peak hour and tap flows, tanks at their reserve level",
    )
    p.add_argument(
        "--max-velocity",
        type=velocity,
        metavar="V",
        help="highest velocity in a sized pipe at the peak hour [m/s], above zero; only when given",
    )
    p.add_argument(
        "--max-pressure",
        type=max_pressure,
        metavar="M",
        help="highest junction pressure [m], above --min-pressure; only when given",
    )
    p.add_argument(
        "--tap-pressure",
        type=pressure,
        default=defaults.TAP_MIN_PRESSURE_M,
        metavar="M",
        help="lowest pressure at a tap node while its taps draw their flow [m] (default 5, "
        "docs/sources.md, 5.1)",
    )
    p.add_argument(
        "--no-tap-flows",
        action="store_true",
        help="size for the peak hour only (no tap-flow case: not the brief's design condition)",
    )
    p.add_argument(
        "--tank-reserve",
        type=tank_reserve,
        default=defaults.TANK_RESERVE_SHARE,
        metavar="SHARE",
        help="tanks at their reserve level in the design condition: this share of the usable "
        "depth above the minimum level (default 0.2)",
    )
    p.add_argument(
        "--classes",
        metavar="CLASSES.csv",
        help="node-class table: element,class[,taps,tap_flow_l_per_s,taps_per_standpipe] "
        "(default: classes from the demand patterns, 2 taps x 0.25 l/s per standpipe)",
    )
    p.add_argument("--fixed", metavar="PIPE,PIPE", help="pipes that keep their diameter")
    p.add_argument(
        "--break-tank-cost",
        type=cost,
        metavar="COST",
        help="let the sizing place break-pressure tanks, each at this cost (the catalogue's "
        "currency): branched networks, the exact program (pipes plus tanks at least cost); "
        "looped networks, at the --break-tank-nodes sites (a heuristic); each tank written as "
        "a PRV BPT_<node> to a node <node>_BPT",
    )
    p.add_argument(
        "--break-tank-nodes",
        metavar="NODE,NODE",
        help="junctions where a break-pressure tank may go (default: every junction; "
        "required for a looped network)",
    )
    p.add_argument(
        "--break-tank-residual",
        type=pressure,
        metavar="M",
        help="head a break-pressure tank keeps above its junction's elevation [m] (default 0)",
    )
    p.add_argument(
        "--prv-cost",
        type=cost,
        metavar="COST",
        help="let the sizing place pressure-reducing valves, each at this cost, at settings "
        "it chooses (the grade stays continuous up to the setting; the static head below "
        "starts at it): branched networks, the exact program; looped networks, at the "
        "--prv-nodes sites (a heuristic); written as a PRV PRV_<node> to a node <node>_PRV",
    )
    p.add_argument(
        "--prv-nodes",
        metavar="NODE,NODE",
        help="junctions where a pressure-reducing valve may go (default: every junction; "
        "required for a looped network)",
    )
    p.add_argument(
        "--booster-cost",
        type=cost,
        metavar="COST",
        help="let the exact tree program place booster pumps where the source's head does not "
        "reach, each at this fixed cost (the catalogue's currency) plus its energy over the life, "
        "discounted; the rest stays on gravity; each written as a pump PMP_<node> to a node "
        "<node>_PMP (branched networks)",
    )
    p.add_argument(
        "--booster-nodes",
        metavar="NODE,NODE",
        help="junctions where a booster may go (default: every junction with a pipe below it)",
    )
    p.add_argument(
        "--energy-price",
        type=cost,
        metavar="PRICE",
        help="a booster's energy price per kWh, in the catalogue's currency (default "
        f"{defaults.ENERGY_PRICE_EUR_PER_KWH:g} EUR: 1.0 MAD/kWh, docs/sources.md 5.4, at 11.1 "
        "MAD/EUR, 1.3; a catalogue in MAD wants 1.0)",
    )
    p.add_argument(
        "--life-years",
        type=above_zero,
        metavar="YEARS",
        help=f"years a booster's energy is discounted over (default "
        f"{defaults.DESIGN_LIFE_YEARS:g}, docs/sources.md 4.3)",
    )
    p.add_argument(
        "--discount-rate",
        type=share,
        metavar="RATE",
        help=f"discount rate a year, below 1 (default {defaults.DISCOUNT_RATE:g}, "
        "docs/sources.md 4.3)",
    )
    p.add_argument(
        "--booster-efficiency",
        type=share,
        metavar="SHARE",
        help="wire-to-water efficiency of every booster (default: the usual for its size, "
        "docs/sources.md 7)",
    )
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
        type=seed,
        default=0,
        help="random seed of the looped optimiser: the same seed and --max-evaluations give "
        "the same design (a --time-limit stop depends on the machine's speed)",
    )
    p.add_argument(
        "--time-limit",
        type=seconds,
        default=60.0,
        metavar="SECONDS",
        help="time limit of the search, exact (trees) or looped (default 60 s). Looped "
        "networks of up to 100 decision pipes usually stop earlier, when repeated runs find "
        "nothing better. Larger ones use "
        "all of it: on random looped networks of 481-925 pipes (benchmarks/README.md) the "
        "median design after 120 s cost 0.7-2.0%% more than the best of a 20-minute run; "
        "give large networks 2-5 minutes when cost matters",
    )
    p.add_argument(
        "--max-evaluations",
        type=count,
        metavar="N",
        help="looped optimiser: stop each independent run after N hydraulic evaluations",
    )
    p.add_argument(
        "--workers",
        type=count,
        metavar="N",
        help="looped optimiser: independent runs in parallel, one process each (default: "
        "one per core for networks of more than 100 decision pipes, else 1); the cheapest "
        "design wins",
    )
    force_option(p)
    p.set_defaults(func=cmd_size)
