"""``hydro demand``: village demand projected to a year and allocated to nodes."""

from __future__ import annotations

import argparse

from hydro.cli._common import EXIT_OK, force_option, year


def cmd_demand(args: argparse.Namespace) -> int:
    """Project the demand, print it per village and per node, write it when asked."""
    from hydro.cli._format import format_demand
    from hydro.demand import (
        apply_demand,
        demand_change,
        get_scenario,
        network_demand,
        read_villages,
    )
    from hydro.network import read_network, write_network
    from hydro.outputs import Outputs, write_csv

    outputs = Outputs(inputs=[args.villages, args.network, args.patterns], force=args.force)
    out = outputs.file(args.out, "--out")
    nodes_out = (
        outputs.file(out.with_name(out.stem + "_nodes" + out.suffix), "the node table")
        if out
        else None
    )
    network_out = outputs.file(args.write_network, "--write-network")
    scenario = get_scenario(args.scenario, args.patterns)
    villages = read_villages(args.villages)
    wn = read_network(args.network, inflows=args.inflows)
    projection = network_demand(villages, wn, args.year, scenario, str(args.network))
    nodes = projection.node_table()
    print(format_demand(projection, nodes))
    if out is not None:
        with outputs.write(out) as tmp:
            write_csv(projection.table(), tmp, index=False, float_format="%.4f")
        with outputs.write(nodes_out) as tmp:
            write_csv(nodes, tmp, index=False, float_format="%.5f")
        print(f"wrote {out} and {nodes_out}")
    if network_out is not None:
        model = apply_demand(wn, projection)
        path = write_network(model, network_out, protect=(args.network,))
        outputs.record(path)
        print(f"wrote {path} (peak-day demands with hourly patterns)")
        print(_said(demand_change(wn, model, projection), args.network))
    return EXIT_OK


def _said(change, network) -> str:
    """What ``--write-network`` did to the network's demands, in one line."""
    line = (
        f"demands: the network's base demands, {change.before_l_per_s:.2f} l/s in "
        f"{network}, are replaced by the village table's, {change.after_l_per_s:.2f} l/s "
        "(peak day)"
    )
    if change.replaced:
        line += f"; {len(change.replaced)} of its nodes had a demand of their own"
    if change.cleared:
        shown = ", ".join(change.cleared[:5]) + (" ..." if len(change.cleared) > 5 else "")
        line += (
            f"; {len(change.cleared)} other junction(s) set to 0 "
            f"({change.cleared_l_per_s:.2f} l/s: {shown})"
        )
    return line


def add_parser(sub, parents) -> None:
    """Register ``hydro demand``."""
    p = sub.add_parser(
        "demand",
        parents=parents,
        help="project village demand to a year and allocate it to nodes",
    )
    p.add_argument("villages", metavar="VILLAGES.csv", help="village table")
    p.add_argument(
        "--network",
        required=True,
        metavar="NETWORK.inp",
        help="network whose junctions the village table names",
    )
    p.add_argument("--year", required=True, type=year, help="design or opening year")
    p.add_argument(
        "--scenario", default="standpipes", help="standpipes (default) or household_connections"
    )
    p.add_argument(
        "--patterns",
        metavar="PATTERNS.csv",
        help="hourly patterns (hour, standpipe, household); default: the brief's",
    )
    p.add_argument(
        "--out",
        metavar="FILE.csv",
        help="write the per-village table (and FILE_nodes.csv per node)",
    )
    p.add_argument(
        "--write-network",
        metavar="OUT.inp",
        help="write a copy of the network with these demands and patterns, which replace "
        "its own (other junctions' demands set to 0; the totals are printed)",
    )
    force_option(p)
    p.set_defaults(func=cmd_demand)
