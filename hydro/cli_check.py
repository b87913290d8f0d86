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
    for cls in ("standpipe", "household"):
        value = getattr(args, f"{cls}_pressure")
        if value is not None:
            minimum[cls] = value
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
        found = projection.node_classes()
        model = apply_demand(wn, projection)
        out.append((str(year), model, {**found, **classes}, projection.douars, node_douar))
    return out


def default_years(villages_path) -> list[int]:
    """Opening year (the village table's data year) and design year (2030, or 20 years on
    when the data are later: Oujda brief 5.1)."""
    from hydro.demand import read_villages

    opening = int(read_villages(villages_path)["population_year"].max())
    return [opening, 2030 if opening < 2030 else opening + 20]


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
    if args.villages and not args.year:
        args.year = default_years(args.villages)
        print(
            f"years: {args.year[0]} (opening: the village table's data year) and "
            f"{args.year[1]} (design horizon, Oujda brief 5.1); choose others with --year"
        )
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
        "--standpipe-pressure",
        type=positive,
        metavar="M",
        help="lowest pressure at standpipe nodes [m] (default 10, Oujda brief 5.1)",
    )
    p.add_argument(
        "--household-pressure",
        type=positive,
        metavar="M",
        help="lowest pressure at household-connection nodes [m] (default 15, Oujda brief 5.1)",
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
        help="village table: node classes, and the demand of each --year (default: the "
        "table's data year and the 2030 horizon)",
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


# --------------------------------------------------------------------------- storage and pump
def cmd_storage(args: argparse.Namespace) -> int:
    from hydro.network import read_network, write_network
    from hydro.pumps import install_pump, pump_duty, pump_energy, read_pump_catalog, select_pump
    from hydro.simulation import run_simulation
    from hydro.storage import parse_hours, resize_tank, size_tank

    wn = read_network(args.network)
    if args.villages:
        cases = _cases(args, wn)
        if len(cases) != 1 or cases[0][0] == "model":
            raise_usage("--villages needs exactly one --year here")
        wn = cases[0][1]
    sizing = size_tank(
        wn, args.tank, args.peak_day_factor, args.reserve_hours, parse_hours(args.supply_hours)
    )
    print(f"network: {args.network}; tank {args.tank}")
    print(f"storage rule: {sizing.describe()}")
    print(sizing.hourly.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    model = resize_tank(wn, args.tank, sizing.volume_m3)
    if args.pump:
        catalog = read_pump_catalog(args.pump_catalog) if args.pump_catalog else None
        duty = pump_duty(model, args.pump, args.tank, sizing.peak_day_m3, args.pumping_hours)
        choice = select_pump(catalog, duty)
        model = install_pump(model, args.pump, choice, args.tank)
        results = run_simulation(model, duration_h=72)
        energy = pump_energy(results, model, args.pump, args.energy_price)
        print(f"pump rule: {duty.describe()}")
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
    if args.output:
        path = write_network(model, args.output, protect=(args.network,))
        print(f"wrote {path}")
    return EXIT_OK


def add_storage_command(sub, positive) -> None:
    p = sub.add_parser(
        "storage",
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
    p.add_argument("--year", type=int, action="append", metavar="YEAR", help="with --villages")
    p.add_argument("--scenario", default="standpipes", help="demand scenario (with --villages)")
    p.add_argument("--classes", help=argparse.SUPPRESS)
    p.add_argument(
        "--reserve-hours",
        type=float,
        default=12.0,
        metavar="H",
        help="emergency reserve in hours of average demand (default 12 [E])",
    )
    p.add_argument(
        "--supply-hours",
        default="0-24",
        metavar="START-END",
        help="hours the source supplies, e.g. 6-22 (default 0-24)",
    )
    p.add_argument(
        "--peak-day-factor",
        type=positive,
        default=1.3,
        metavar="F",
        help="peak day over average day (default 1.3, Oujda brief 5.1)",
    )
    p.add_argument("--pump", help="also size this pump, which fills the tank")
    p.add_argument("--pump-catalog", metavar="PUMPS.csv", help="pump catalogue (else fitted)")
    p.add_argument(
        "--pumping-hours",
        type=positive,
        default=20.0,
        metavar="H",
        help="hours of pumping a day at the duty flow (default 20 [E])",
    )
    p.add_argument(
        "--energy-price",
        type=float,
        default=1.0,
        metavar="PER_KWH",
        help="energy price per kWh (default 1.0 MAD, Oujda brief 5.4)",
    )
    p.add_argument("--output", metavar="OUT.inp", help="write the model with the tank (and pump)")
    p.set_defaults(func=cmd_storage)
