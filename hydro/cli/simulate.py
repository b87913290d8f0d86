"""``hydro simulate``: an extended-period run and its summary."""

from __future__ import annotations

import argparse

from hydro.cli._common import EXIT_FAIL, EXIT_OK, force_option, hours, pressure


def cmd_simulate(args: argparse.Namespace) -> int:
    """Simulate the network and print its summary; exit 1 when EPANET did not converge or
    gave results that are not numbers.
    """
    from hydro.cli._format import format_summary, format_warnings
    from hydro.compliance import Rules
    from hydro.network import read_network
    from hydro.outputs import Outputs
    from hydro.simulation import run_simulation, summarize, write_results

    outputs = Outputs(inputs=[args.network], force=args.force)
    folder = outputs.folder(args.out, "--out") if args.out is not None else None
    wn = read_network(args.network, sized=True, inflows=args.inflows)
    required = args.required_pressure
    required = Rules().min_pressure_m["standpipe"] if required is None else required
    run = {"pressure_driven": True, "required_pressure_m": required} if args.pressure_driven else {}
    results = run_simulation(wn, duration_h=args.duration, **run)
    if args.pressure_driven:
        print(f"pressure-driven: full delivery at {required:g} m, none below 0 m")
    print(f"network: {args.network}")
    print(format_summary(summarize(results)))
    print(format_warnings(results.warnings))
    if results.negative_pressures:
        print("negative pressures: EPANET reports them (see the warnings above)")
    if folder is not None:
        with outputs.assemble(folder) as staging:
            write_results(results, staging)
        for name in ("nodes.csv", "links.csv"):
            print(f"wrote {folder / name}")
    if not results.converged:
        print("not converged: EPANET could not balance the hydraulics at some step")
        return EXIT_FAIL
    bad = results.non_finite()
    if not bad.empty:
        print(
            f"not a number: {len(bad)} result(s) (e.g. {bad.iloc[0]['quantity']} at "
            f"{bad.iloc[0]['element']}): EPANET gave no usable result there"
        )
        return EXIT_FAIL
    return EXIT_OK


def add_parser(sub, parents) -> None:
    """Register ``hydro simulate``."""
    p = sub.add_parser("simulate", parents=parents, help="extended-period simulation and a summary")
    p.add_argument("network", metavar="NETWORK.inp", help="EPANET input file")
    p.add_argument(
        "--duration",
        type=hours,
        metavar="HOURS",
        help="simulated duration [h], at most 8760 (one year); default: the model's own "
        "(0: steady state)",
    )
    p.add_argument(
        "--pressure-driven",
        action="store_true",
        help="pressure-driven demand (EPANET 2.2 PDA) instead of demand-driven",
    )
    p.add_argument(
        "--required-pressure",
        type=pressure,
        metavar="M",
        help="pressure-driven: full delivery at this pressure [m] (default 10, the standpipe "
        "minimum of hydro check; none below 0 m)",
    )
    p.add_argument("--out", metavar="DIR", help="write nodes.csv and links.csv into DIR")
    force_option(p)
    p.set_defaults(func=cmd_simulate)
