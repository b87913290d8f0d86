"""``hydro check``: compliance over days of operation, and the water delivered."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import TYPE_CHECKING

from hydro import defaults
from hydro.cli._common import (
    EXIT_FAIL,
    EXIT_OK,
    count,
    force_option,
    hours,
    max_pressure,
    pressure,
    tank_reserve,
    velocity,
    year,
)
from hydro.errors import InputError

if TYPE_CHECKING:
    from hydro.compliance import Rules


def cmd_check(args: argparse.Namespace) -> int:
    """Check the network against the design rules.

    Exit 1 when a rule is broken, EPANET reports negative pressures or the hydraulics do not
    converge.
    """
    from hydro.classes import read_classes, read_tap_table
    from hydro.cli._format import format_check
    from hydro.compliance import check_network
    from hydro.condition import default_taps
    from hydro.demand import read_villages
    from hydro.gis import check_layers
    from hydro.network import read_network
    from hydro.outputs import Outputs

    outputs = Outputs(inputs=[args.network, args.villages, args.classes], force=args.force)
    out, service_out, taps_out, layers = _declare_outputs(outputs, args)
    rules = _rules(args)
    wn = read_network(args.network, sized=True, inflows=args.inflows)
    classes = read_classes(args.classes, wn) if args.classes else None
    taps = None
    if args.classes and not args.villages:
        taps = default_taps(wn, classes, read_tap_table(args.classes))
    result = check_network(
        wn,
        rules,
        villages=read_villages(args.villages) if args.villages else None,
        years=args.year,
        scenario=args.scenario,
        classes=classes,
        duration_h=args.duration,
        pressure_driven=args.pressure_driven,
        required_pressure_m=args.required_pressure,
        source=str(args.network),
        taps=taps,
    )
    print(f"network: {args.network}; {args.duration:g} h extended-period run")
    print(format_check(result, args.scenario, args.show))
    _write_tables(outputs, result, out, service_out, taps_out)
    if layers:
        _write_layers(outputs, layers, check_layers(wn, result, args.crs or "local"))
    return EXIT_OK if result.compliant else EXIT_FAIL


def _declare_outputs(outputs, args: argparse.Namespace) -> tuple:
    """The files ``--out`` and ``--geojson`` ask for, checked before the run: the violations,
    the service table (``--pressure-driven``), the all-taps-open table (unless
    ``--no-tap-flows``) and the layers (layer -> file).
    """
    out = outputs.file(args.out, "--out")
    if args.crs is not None and args.geojson is None:
        raise InputError("--crs states the coordinates of the --geojson layers: give --geojson")
    layers = {
        layer: outputs.file(f"{args.geojson}_{layer}.geojson", "--geojson")
        for layer in ("nodes", "links")
        if args.geojson is not None
    }
    service_out = (
        outputs.file(out.with_name(out.stem + "_service" + out.suffix), "the service table")
        if out is not None and args.pressure_driven
        else None
    )
    taps_out = (
        outputs.file(out.with_name(f"{out.stem}_taps_open{out.suffix}"), "the all-taps-open table")
        if out is not None and not args.no_tap_flows
        else None
    )
    return out, service_out, taps_out, layers


def _write_layers(outputs, paths: dict, layers: dict) -> None:
    """Write the GIS layers (``--geojson``), each file atomically."""
    from hydro.gis import geojson_text

    for layer, path in paths.items():
        with outputs.write(path) as tmp:
            tmp.write_text(geojson_text(layers[layer]), encoding="utf-8")
        print(f"wrote {path}")


def crs(text: str) -> str:
    """An option type: a coordinate reference system hydro can state (:func:`check_crs`)."""
    from hydro.gis import check_crs

    try:
        return check_crs(text, "")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _rules(args: argparse.Namespace) -> Rules:
    """The design rules the options give; impossible targets refused, naming the options."""
    from hydro.compliance import Rules
    from hydro.condition import check_pressure_targets

    if args.max_velocity is not None and args.max_velocity <= 0:
        raise InputError(f"--max-velocity {args.max_velocity:g}: a velocity above 0 m/s")
    given = (("standpipe", args.standpipe_pressure), ("household", args.household_pressure))
    rules = Rules.from_options(
        min_pressure_m=args.min_pressure,
        class_min_pressure_m={cls: value for cls, value in given if value is not None},
        max_pressure_m=None,
        max_velocity_m_per_s=args.max_velocity,
        tank_reserve_share=args.tank_reserve,
        tap_min_pressure_m=None if args.no_tap_flows else args.tap_pressure,
    )
    maximum = args.max_pressure if args.max_pressure is not None else defaults.MAX_PRESSURE_M
    check_pressure_targets(
        rules.min_pressure_m.values(),
        maximum,
        maximum_name="--max-pressure",
        maximum_note="" if args.max_pressure is not None else " (the default)",
        minimum_note=" (--min-pressure, --standpipe-pressure, --household-pressure)",
    )
    return replace(rules, max_pressure_m=maximum)


def _write_tables(outputs, result, out, service_out, taps_out=None) -> None:
    """Write the violations (and the water delivered) where ``--out`` asks, and beside them
    the all-taps-open case (``<out>_taps_open.csv``: each tap node, the governing tap first).
    """
    from hydro.outputs import write_csv

    if out is None:
        return
    with outputs.write(out) as tmp:
        write_csv(result.violations, tmp, index=False, float_format="%.4f")
    print(f"wrote {out}")
    if service_out is not None:
        with outputs.write(service_out) as tmp:
            write_csv(result.service, tmp, index=False, float_format="%.4f")
        print(f"wrote {service_out}")
    table = result.taps_open
    if taps_out is not None and not table.empty:
        with outputs.write(taps_out) as tmp:
            write_csv(table, tmp, index=False, float_format="%.4f")
        print(f"wrote {taps_out}")


def add_parser(sub, parents) -> None:
    """Register ``hydro check``."""
    p = sub.add_parser(
        "check",
        parents=parents,
        help="extended-period compliance: pressure, velocity, tanks, pumps (exit 1 if any fails)",
        description=(
            "Simulate the network over days of operation and check it against the design "
            "rules (defaults: docs/sources.md, 5.1): minimum pressure by node class (standpipe "
            "10 m, household connection 15 m, other junctions 0 m), maximum pressure 60 m in the "
            "distribution and the pipes' pressure classes, velocity 0.3-1.5 m/s (distribution) "
            "and 0.5-2.0 m/s (transmission), tanks never empty nor overflowing with a reserve, "
            "pumps within 70-120 percent of their best-efficiency flow. Then the design "
            "condition as its own rows: the peak hour and the tap flows (standpipes at 2 taps x "
            "0.25 l/s, 5 m at the tap), tanks at their reserve level; and how the tanks and "
            "pumps operate."
        ),
    )
    p.add_argument("network", metavar="NETWORK.inp", help="EPANET input file")
    p.add_argument(
        "--min-pressure",
        type=pressure,
        metavar="M",
        help="lowest pressure at every junction [m] (default: by node class)",
    )
    p.add_argument(
        "--standpipe-pressure",
        type=pressure,
        metavar="M",
        help="lowest pressure at standpipe nodes [m] (default 10, docs/sources.md, 5.1)",
    )
    p.add_argument(
        "--household-pressure",
        type=pressure,
        metavar="M",
        help="lowest pressure at household-connection nodes [m] (default 15, docs/sources.md, 5.1)",
    )
    p.add_argument(
        "--max-pressure",
        type=max_pressure,
        metavar="M",
        help="highest pressure at a junction [m], 0 to 1,000 (default 60: a service rule; a "
        "transmission main may need more)",
    )
    p.add_argument(
        "--tap-pressure",
        type=pressure,
        default=defaults.TAP_MIN_PRESSURE_M,
        metavar="M",
        help="lowest pressure at a tap node while its taps draw their flow, tanks at their "
        "reserve [m] (default 5, docs/sources.md, 5.1)",
    )
    p.add_argument(
        "--no-tap-flows",
        action="store_true",
        help="skip the tap-flow case of the design condition",
    )
    p.add_argument(
        "--max-velocity",
        type=velocity,
        metavar="V",
        help="highest velocity in every pipe [m/s] (default: by pipe class)",
    )
    p.add_argument(
        "--duration",
        type=hours,
        default=defaults.CHECK_DURATION_H,
        metavar="HOURS",
        help="simulated duration [h] (default 72: three peak days; at most 8760)",
    )
    p.add_argument(
        "--classes",
        metavar="CLASSES.csv",
        help="element,class table: standpipe / household / junction for nodes, "
        "distribution / transmission for pipes (default: from demand patterns and topology); "
        "optional columns taps, tap_flow_l_per_s (default 2 x 0.25 l/s per standpipe)",
    )
    p.add_argument(
        "--villages",
        metavar="VILLAGES.csv",
        help="village table: node classes, and the demand of each --year (default: the "
        "table's data year and the 2030 horizon)",
    )
    p.add_argument(
        "--year",
        type=year,
        action="append",
        metavar="YEAR",
        help="check with this year's projected demand (repeat: opening and design year)",
    )
    p.add_argument(
        "--scenario", default="standpipes", help="demand scenario for --year (default standpipes)"
    )
    p.add_argument(
        "--tank-reserve",
        type=tank_reserve,
        default=defaults.TANK_RESERVE_SHARE,
        metavar="SHARE",
        help="share of each tank's usable volume always kept (default 0.2)",
    )
    p.add_argument(
        "--pressure-driven",
        action="store_true",
        help="also run pressure-driven demand and report the water delivered",
    )
    p.add_argument(
        "--required-pressure",
        type=pressure,
        metavar="M",
        help="pressure-driven: full delivery at this pressure (default: the class minimum)",
    )
    p.add_argument(
        "--out",
        metavar="FILE.csv",
        help="write the violations table there, the all-taps-open case (each tap node, the "
        "governing tap first) to FILE_taps_open.csv, and with --pressure-driven the water "
        "delivered to FILE_service.csv",
    )
    p.add_argument(
        "--geojson",
        metavar="PREFIX",
        help="write the network for GIS as PREFIX_nodes.geojson (points) and "
        "PREFIX_links.geojson (lines) with what the check found (the last year checked): "
        "pressures, flows, velocities, the design condition's margin and governing tap",
    )
    p.add_argument(
        "--crs",
        type=crs,
        metavar="CRS",
        help="the network's coordinate reference system, stated in the GeoJSON: EPSG:<code> "
        "(e.g. EPSG:26191) or local (default: a local grid in metres, not georeferenced)",
    )
    p.add_argument(
        "--show", type=count, default=20, metavar="N", help="violations printed (default 20)"
    )
    force_option(p)
    p.set_defaults(func=cmd_check)
