"""``hydro storage``: size a tank (and the pump that fills it) from the hourly balance."""

from __future__ import annotations

import argparse

from hydro import defaults
from hydro.cli._common import EXIT_OK, factor, hours, hours_per_day, positive, year


def cmd_storage(args: argparse.Namespace) -> int:
    """Size the tank (and pump), print the balance, write the model when asked."""
    from hydro.demand import apply_demand, get_scenario, project_demand, read_villages
    from hydro.errors import InputError
    from hydro.network import read_network, write_network
    from hydro.outputs import Outputs
    from hydro.pumps import read_pump_catalog
    from hydro.storage import design_storage, parse_hours

    outputs = Outputs(inputs=[args.network, args.villages, args.pump_catalog])
    output = outputs.file(args.output, "--output")
    wn = read_network(args.network, sized=True)
    if args.villages:
        if not args.year or len(args.year) != 1:
            raise InputError("--villages needs exactly one --year here")
        from hydro.demand import check_villages_against_network

        villages = read_villages(args.villages)
        check_villages_against_network(villages, wn, str(args.network))
        wn = apply_demand(wn, project_demand(villages, args.year[0], get_scenario(args.scenario)))
    elif args.year:
        raise InputError("--year needs --villages (the village table to project)")
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
    )
    sizing = design.sizing
    print(f"network: {args.network}; tank {args.tank}")
    print(f"storage rule: {sizing.describe()}")
    print(sizing.hourly.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if design.pump is not None:
        choice, energy = design.pump, design.energy
        print(f"pump rule: {design.duty.describe()}")
        print(
            f"pump: {choice.name} ({choice.source}); runs at {1000 * choice.flow_m3_per_s:.2f} "
            f"l/s, {choice.head_m:.1f} m, efficiency {choice.efficiency:.2f} against the full "
            f"tank; level controls on {args.tank}"
        )
        print(
            f"energy over 72 h: {energy.kwh_per_day:.1f} kWh/day, {energy.kwh_per_m3:.3f} "
            f"kWh/m3, {energy.cost_per_day:.1f} per day at {args.energy_price:g} per kWh; "
            f"running {energy.hours_running_per_day:.1f} h/day"
        )
    if output is not None:
        path = write_network(design.model, output, protect=(args.network,))
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
        help=f"peak day over average day (default {defaults.PEAK_DAY_FACTOR:g}, Oujda brief 5.1)",
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
        default=defaults.ENERGY_PRICE_PER_KWH,
        metavar="PER_KWH",
        help=f"energy price per kWh (default {defaults.ENERGY_PRICE_PER_KWH:g} MAD, Oujda brief "
        "5.4)",
    )
    p.add_argument("--output", metavar="OUT.inp", help="write the model with the tank (and pump)")
    p.set_defaults(func=cmd_storage)
