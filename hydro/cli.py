"""The ``hydro`` command line.

Each subcommand parses its options and makes one library call. Library errors become
``error: ...`` on stderr with exit status 1 (2 for usage errors), never a traceback unless
``--debug`` is given. ``hydro check`` exits 1 when the network is not compliant.
"""

from __future__ import annotations

import argparse
import logging
import sys

from hydro import __version__
from hydro.errors import HydroError

log = logging.getLogger("hydro")

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors: one line, exit 2
        self.print_usage(sys.stderr)
        sys.stderr.write(f"error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, got {value:g}")
    return value


# --------------------------------------------------------------------------- simulate / check
def cmd_simulate(args: argparse.Namespace) -> int:
    from hydro.network import read_network
    from hydro.simulation import format_summary, run_simulation, summarize, write_results

    wn = read_network(args.network)
    log.info("simulating %s (%s h)", args.network, args.duration if args.duration else "model")
    results = run_simulation(wn, duration_h=args.duration, pressure_driven=args.pressure_driven)
    print(f"network: {args.network}")
    print(format_summary(summarize(results)))
    if args.out:
        for path in write_results(results, args.out):
            print(f"wrote {path}")
    return EXIT_OK


# --------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hydro",
        description="Size and simulate rural drinking-water supply networks (EPANET/WNTR).",
    )
    parser.add_argument("--version", action="version", version=f"hydro {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("-q", "--quiet", action="store_true", help="only results and errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("simulate", help="extended-period simulation and a summary")
    p.add_argument("network", metavar="NETWORK.inp", help="EPANET input file")
    p.add_argument(
        "--duration",
        type=_positive,
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

    from hydro import cli_check

    cli_check.add_command(sub, _positive)
    cli_check.add_storage_command(sub, _positive)

    _add_later_commands(sub)
    return parser


def _add_later_commands(sub) -> None:
    """Subcommands defined in their own modules (demand, size, run)."""
    from hydro import cli_design

    cli_design.add_commands(sub)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )
    # WNTR logs every EPANET warning (e.g. a flow-control valve that cannot deliver its setting
    # while the pump is off); hydro reports what matters in its own summaries.
    logging.getLogger("wntr").setLevel(logging.ERROR)
    try:
        return args.func(args)
    except HydroError as exc:
        if args.debug:
            raise
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_FAIL
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return EXIT_FAIL
    except Exception as exc:  # an unexpected failure is still reported in one line
        if args.debug:
            raise
        sys.stderr.write(f"error: unexpected {type(exc).__name__}: {exc} (run with --debug)\n")
        return EXIT_FAIL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
