"""``hydro simulate``: an extended-period run and its summary."""

from __future__ import annotations

import argparse

from hydro.cli._common import EXIT_OK, positive


def cmd_simulate(args: argparse.Namespace) -> int:
    """Simulate the network and print its summary."""
    from hydro.network import read_network
    from hydro.simulation import format_summary, run_simulation, summarize, write_results

    wn = read_network(args.network)
    results = run_simulation(wn, duration_h=args.duration, pressure_driven=args.pressure_driven)
    print(f"network: {args.network}")
    print(format_summary(summarize(results)))
    if args.out:
        for path in write_results(results, args.out):
            print(f"wrote {path}")
    return EXIT_OK


def add_parser(sub, parents) -> None:
    """Register ``hydro simulate``."""
    p = sub.add_parser("simulate", parents=parents, help="extended-period simulation and a summary")
    p.add_argument("network", metavar="NETWORK.inp", help="EPANET input file")
    p.add_argument(
        "--duration",
        type=positive,
        metavar="HOURS",
        help="simulated duration [h]; default: the model's own (0: steady state)",
    )
    p.add_argument(
        "--pressure-driven",
        action="store_true",
        help="pressure-driven demand (EPANET 2.2 PDA) instead of demand-driven",
    )
    p.add_argument("--out", metavar="DIR", help="write nodes.csv and links.csv into DIR")
    p.set_defaults(func=cmd_simulate)
