"""``hydro storage``: size a tank (and the pump that fills it) from the hourly balance."""

from __future__ import annotations

import argparse

from hydro import defaults
from hydro.cli._common import (
    EXIT_OK,
    factor,
    force_option,
    hours,
    hours_per_day,
    positive,
    year,
)


def cmd_storage(args: argparse.Namespace) -> int:
    """Size the tank (and pump), print the balance, write the model when asked."""
    from hydro.cli._format import format_storage
    from hydro.demand import read_villages
    from hydro.errors import InputError
    from hydro.network import read_network, write_network
    from hydro.outputs import Outputs
    from hydro.pumps import read_pump_catalog
    from hydro.storage import design_storage, parse_hours

    outputs = Outputs(inputs=[args.network, args.villages, args.pump_catalog], force=args.force)
    output = outputs.file(args.output, "--output")
    wn = read_network(args.network, sized=True, inflows=args.inflows)
    if args.villages and (not args.year or len(args.year) != 1):
        raise InputError("--villages needs exactly one --year here")
    if args.year and not args.villages:
        raise InputError("--year needs --villages (the village table to project)")
    villages = read_villages(args.villages) if args.villages else None
    design = design_storage(
        wn,
        args.tank,
        peak_day_factor=args.peak_day_factor,
        reserve_hours=args.reserve_hours,
        supply_hours=parse_hours(args.supply_hours),
        pump=args.pump,
        pump_catalog=read_pump_catalog(args.pump_catalog) if args.pump_catalog else None,
        pumping_hours=args.pumping_hours,
        energy_price_per_kwh=args.energy_price,
        villages=villages,
        year=args.year[0] if villages is not None else None,
        scenario=args.scenario,
        source=str(args.network),
    )
    print(f"network: {args.network}; tank {args.tank}")
    for line in format_storage(design, args.tank, args.energy_price):
        print(line)
    if output is not None:
        path = write_network(design.model, output, protect=(args.network,))
        outputs.record(path)
        print(f"wrote {path}")
    return EXIT_OK


def add_parser(sub, parents) -> None:
    """Register ``hydro storage``."""
    p = sub.add_parser(
        "storage",
        parents=parents,
        help="size a tank (and its pump) from the hourly demand balance",
        description=(
            "Balancing volume of the peak day drawn by the hourly pattern against the source's "
            "inflow, plus an emergency reserve in hours of average demand; optionally the pump "
            "that fills the tank (duty point, catalogue choice or fitted curve, tank-level "
            "controls, energy over 72 h). The demand is the model's own, or a village table's "
            "for one --year."
        ),
    )
    p.add_argument("network", metavar="NETWORK.inp", help="EPANET input file")
    p.add_argument("--tank", required=True, help="the tank to size")
    p.add_argument("--villages", metavar="VILLAGES.csv", help="project the demand of --year")
    p.add_argument("--year", type=year, action="append", metavar="YEAR", help="with --villages")
    p.add_argument("--scenario", default="standpipes", help="demand scenario (with --villages)")
    p.add_argument(
        "--reserve-hours",
        type=hours,
        default=defaults.RESERVE_HOURS,
        metavar="H",
        help=f"emergency reserve in hours of average demand (default {defaults.RESERVE_HOURS:g} "
        "[E])",
    )
    p.add_argument(
        "--supply-hours",
        default="0-24",
        metavar="START-END",
        help="hours the source supplies, e.g. 6-22 (default 0-24)",
    )
    p.add_argument(
        "--peak-day-factor",
        type=factor,
        default=defaults.PEAK_DAY_FACTOR,
        metavar="F",
        help=f"peak day over average day (default {defaults.PEAK_DAY_FACTOR:g}, "
        "docs/sources.md, 5.1)",
    )
    p.add_argument("--pump", help="also size this pump, which fills the tank")
    p.add_argument("--pump-catalog", metavar="PUMPS.csv", help="pump catalogue (else fitted)")
    p.add_argument(
        "--pumping-hours",
        type=hours_per_day,
        default=defaults.PUMPING_HOURS,
        metavar="H",
        help=f"hours of pumping a day at the duty flow (default {defaults.PUMPING_HOURS:g} [E])",
    )
    p.add_argument(
        "--energy-price",
        type=positive,
        default=defaults.ENERGY_PRICE_EUR_PER_KWH,
        metavar="PER_KWH",
        help="energy price per kWh, in the currency the energy cost is wanted in (default "
        f"{defaults.ENERGY_PRICE_EUR_PER_KWH:g} EUR: 1.0 MAD/kWh, docs/sources.md 5.4, at 11.1 "
        "MAD/EUR, 1.3)",
    )
    p.add_argument("--output", metavar="OUT.inp", help="write the model with the tank (and pump)")
    force_option(p)
    p.set_defaults(func=cmd_storage)
