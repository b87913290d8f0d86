"""``hydro demand``: village demand projected to a year and allocated to nodes."""

from __future__ import annotations

import argparse

from hydro.cli._common import EXIT_OK, fmt, year


# --------------------------------------------------------------------------- demand
def cmd_demand(args: argparse.Namespace) -> int:
    """Project the demand, print it per douar and per node, write it when asked."""
    from hydro.demand import (
        check_villages_against_network,
        get_scenario,
        project_demand,
        read_villages,
    )
    from hydro.network import read_network
    from hydro.outputs import Outputs, write_csv

    outputs = Outputs(inputs=[args.villages, args.network, args.patterns])
    out = outputs.file(args.out, "--out")
    nodes_out = (
        outputs.file(out.with_name(out.stem + "_nodes" + out.suffix), "the node table")
        if out
        else None
    )
    network_out = outputs.file(args.write_network, "--write-network")
    scenario = get_scenario(args.scenario, args.patterns)
    villages = read_villages(args.villages)
    wn = read_network(args.network)
    check_villages_against_network(villages, wn, str(args.network))
    projection = project_demand(villages, args.year, scenario)
    table = projection.table()
    print(
        f"demand in {args.year}, scenario {scenario.name} "
        f"(efficiency: transmission {scenario.transmission_efficiency:g}, "
        f"distribution {scenario.distribution_efficiency:g}; "
        f"peak day x{scenario.peak_day_factor:g}; peak hour from "
        f"{'the pattern' if scenario.peak_hour_factor is None else 'a factor'})"
    )
    shown = table[
        [
            "douar",
            "population",
            "people_standpipe",
            "people_household",
            "consumption_m3_per_day",
            "source_average_day_l_per_s",
            "peak_day_l_per_s",
            "peak_hour_l_per_s",
            "l_per_person_day_gross",
            "taps",
            "taps_needed",
            "people_per_tap",
        ]
    ]
    shown = shown.copy()
    for column in ("population", "people_standpipe", "people_household", "people_per_tap"):
        shown[column] = shown[column].round().astype("Int64")  # whole people on screen
    for column in ("taps", "taps_needed"):
        shown[column] = shown[column].round().astype("Int64")
    print(fmt(shown))
    taps = projection.taps()[["node", "service", "taps_open", "design_flow_l_per_s"]]
    nodes = projection.nodes.merge(taps, on=["node", "service"], how="left")
    print(
        "\nper node: peak day and peak hour; taps (a standpipe's, or one per household "
        "connection), each tap's flow, and the taps open at once in the design condition's "
        "tap-flow case with their flow (Oujda brief 5.1; Hunter's binomial 99th percentile for "
        "connections):"
    )
    print(fmt(nodes))
    if out is not None:
        with outputs.write(out) as tmp:
            write_csv(table, tmp, index=False, float_format="%.4f")
        with outputs.write(nodes_out) as tmp:
            write_csv(nodes, tmp, index=False, float_format="%.5f")
        print(f"wrote {out} and {nodes_out}")
    if network_out is not None:
        from hydro.demand import apply_demand
        from hydro.network import write_network

        path = write_network(apply_demand(wn, projection), network_out, protect=(args.network,))
        print(f"wrote {path} (peak-day demands with hourly patterns)")
    return EXIT_OK


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
        "--out", metavar="FILE.csv", help="write the per-douar table (and FILE_nodes.csv per node)"
    )
    p.add_argument(
        "--write-network",
        metavar="OUT.inp",
        help="write a copy of the network with these demands and patterns",
    )
    p.set_defaults(func=cmd_demand)
