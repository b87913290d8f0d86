"""``hydro check``: extended-period compliance, and the water delivered when pressure is short."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

EXIT_OK, EXIT_FAIL = 0, 1


def _rules(args):
    from hydro.compliance import NODE_CLASSES, Rules

    defaults = Rules()
    minimum = dict(defaults.min_pressure_m)
    if args.min_pressure is not None:
        minimum = {cls: args.min_pressure for cls in NODE_CLASSES}
    velocity = dict(defaults.velocity_m_per_s)
    if args.max_velocity is not None:
        velocity = {
            cls: (min(low, args.max_velocity / 2), args.max_velocity)
            for cls, (low, _) in velocity.items()
        }
    return Rules(
        min_pressure_m=minimum,
        max_pressure_m=args.max_pressure if args.max_pressure is not None else 60.0,
        velocity_m_per_s=velocity,
        tank_reserve_share=args.tank_reserve,
    )


def _cases(args, wn):
    """(label, model, classes, douar table, node -> douar) for each year asked, or the model."""
    from hydro.compliance import node_classes_from_villages, read_classes

    classes = read_classes(args.classes, wn) if args.classes else {}
    if not args.villages:
        if args.year:
            raise_usage("--year needs --villages (the village table to project)")
        return [("model", wn, classes, None, None)]
    from hydro.demand import (
        apply_demand,
        check_villages_against_network,
        get_scenario,
        project_demand,
        read_villages,
    )

    villages = read_villages(args.villages)
    check_villages_against_network(villages, wn, str(args.network))
    if not args.year:
        loaded = {
            n for n, j in wn.junctions() if any(d.base_value for d in j.demand_timeseries_list)
        }
        found = {n: c for n, c in node_classes_from_villages(villages).items() if n in loaded}
        return [("model", wn, {**found, **classes}, None, None)]
    scenario = get_scenario(args.scenario)
    out = []
    for year in args.year:
        projection = project_demand(villages, year, scenario)
        nodes = projection.nodes
        node_douar = dict(zip(nodes["node"], nodes["douar"], strict=True))
        # a node is a household node when it serves households this year, else a standpipe
        found = {}
        for node, service in zip(nodes["node"], nodes["service"], strict=True):
            if found.get(node) != "household":
                found[node] = service
        model = apply_demand(wn, projection)
        out.append((str(year), model, {**found, **classes}, projection.douars, node_douar))
    return out


def raise_usage(message: str):
    from hydro.errors import InputError

    raise InputError(message)


def cmd_check(args: argparse.Namespace) -> int:
    from hydro.compliance import check_compliance, format_compliance
    from hydro.network import read_network
    from hydro.service import delivered_service, format_service

    wn = read_network(args.network)
    rules = _rules(args)
    all_violations, all_service, compliant = [], [], True
    print(f"network: {args.network}; {args.duration:g} h extended-period run")
    for label, model, classes, douars, node_douar in _cases(args, wn):
        if label != "model":
            print(f"\n== demand of {label} ({args.scenario}) ==")
        report = check_compliance(model, rules, classes, duration_h=args.duration)
        print(format_compliance(report, show=args.show))
        compliant &= report.compliant
        all_violations.append(report.violations.assign(case=label))
        if args.pressure_driven:
            required = args.required_pressure
            if required is None:
                present = set(report.node_classes.values()) & {"standpipe", "household"}
                required = max((rules.min_pressure_m[c] for c in present), default=10.0)
            service = delivered_service(
                model, args.duration, required, 0.0, douars=douars, node_douar=node_douar
            )
            print(format_service(service))
            table = service.douars if not service.douars.empty else service.nodes
            all_service.append(table.assign(case=label))
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        pd.concat(all_violations, ignore_index=True).to_csv(out, index=False, float_format="%.4f")
        print(f"wrote {out}")
        if all_service:
            service_out = out.with_name(out.stem + "_service" + out.suffix)
            pd.concat(all_service, ignore_index=True).to_csv(
                service_out, index=False, float_format="%.4f"
            )
            print(f"wrote {service_out}")
    return EXIT_OK if compliant else EXIT_FAIL


def add_command(sub, positive) -> None:
    p = sub.add_parser(
        "check",
        help="extended-period compliance: pressure, velocity, tanks, pumps (exit 1 if any fails)",
        description=(
            "Simulate the network over days of operation and check it against the design "
            "rules (defaults: Oujda brief 5.1): minimum pressure by node class (standpipe 10 m, "
            "household connection 15 m, other junctions 0 m), maximum pressure 60 m in the "
            "distribution and the pipes' pressure classes, velocity 0.3-1.5 m/s (distribution) "
            "and 0.5-2.0 m/s (transmission), tanks never empty nor overflowing with a reserve, "
            "pumps within 70-120%% of their best-efficiency flow."
        ),
    )
    p.add_argument("network", metavar="NETWORK.inp", help="EPANET input file")
    p.add_argument(
        "--min-pressure",
        type=positive,
        metavar="M",
        help="lowest pressure at every junction [m] (default: by node class)",
    )
    p.add_argument(
        "--max-pressure", type=positive, metavar="M", help="highest pressure [m] (default 60)"
    )
    p.add_argument(
        "--max-velocity",
        type=positive,
        metavar="V",
        help="highest velocity in every pipe [m/s] (default: by pipe class)",
    )
    p.add_argument(
        "--duration",
        type=positive,
        default=72.0,
        metavar="HOURS",
        help="simulated duration [h] (default 72: three peak days)",
    )
    p.add_argument(
        "--classes",
        metavar="CLASSES.csv",
        help="element,class table: standpipe / household / junction for nodes, "
        "distribution / transmission for pipes (default: from demand patterns and topology)",
    )
    p.add_argument(
        "--villages",
        metavar="VILLAGES.csv",
        help="village table: node classes, and the demand of each --year",
    )
    p.add_argument(
        "--year",
        type=int,
        action="append",
        metavar="YEAR",
        help="check with this year's projected demand (repeat: opening and design year)",
    )
    p.add_argument(
        "--scenario", default="standpipes", help="demand scenario for --year (default standpipes)"
    )
    p.add_argument(
        "--tank-reserve",
        type=float,
        default=0.2,
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
        type=positive,
        metavar="M",
        help="pressure-driven: full delivery at this pressure (default: the class minimum)",
    )
    p.add_argument("--out", metavar="FILE.csv", help="write the violations (and service) tables")
    p.add_argument(
        "--show", type=int, default=20, metavar="N", help="violations printed (default 20)"
    )
    p.set_defaults(func=cmd_check)
