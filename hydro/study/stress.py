"""Stress cases: the water each village gets when the scheme is stressed (pressure-driven runs).

Cases, all with the design year's demand: the scheme as designed (reference); the network as
given in the input model, before sizing; the design made for the opening year's demand; the
design with its pump out of service for the whole run.
"""

from __future__ import annotations

import pandas as pd
import wntr

from hydro.demand import apply_demand
from hydro.network import copy_network
from hydro.service import delivered_service
from hydro.study.parts import Study, StudyData
from hydro.study.scenario import ScenarioResult, run_scenario


def stress_cases(study: Study, base: ScenarioResult, data: StudyData, log) -> list[tuple]:
    """(case, description, model) of each stress case, the design itself first."""
    d, p = study.design, base.projection_design
    cases = [("as designed", "the design, design-year demand", base.model)]
    cases.append(("unsized model", "the input network as given", apply_demand(data.network, p)))
    if d.base_year != d.horizon_year:
        log(f"stress: the design made for {d.base_year}, run with {d.horizon_year}")
        early = run_scenario(study, base.spec, data, sizing_year=d.base_year)
        cases.append(
            (f"designed for {d.base_year}", f"sized for the {d.base_year} demand", early.model)
        )
    if d.pump:
        stopped = copy_network(base.model)
        link = stopped.get_link(d.pump)
        for name, control in list(stopped.controls()):
            if any(a.target()[0] is link for a in control.actions()):
                stopped.remove_control(name)
        link.initial_status = wntr.network.LinkStatus.Closed
        cases.append(("pump out of service", f"{d.pump} stopped for the whole run", stopped))
    return cases


def stress_table(
    study: Study, base: ScenarioResult, data: StudyData, log=lambda m: None
) -> pd.DataFrame:
    """Water delivered (pressure-driven runs) in each stress case (:func:`stress_cases`),
    per village, with the lowest pressure of its nodes.
    """
    hours = study.design.simulation_hours
    p = base.projection_design
    required = study.rules.required_pressure_m(p.node_classes().values())
    node_village = dict(zip(p.nodes["node"], p.nodes["village"], strict=True))
    rows = []
    for case, description, model in stress_cases(study, base, data, log):
        if model is base.model:  # the scenario's own pressure-driven run, same settings
            service = base.service
        else:
            log(f"stress: {case} (pressure-driven, {hours:g} h)")
            service = delivered_service(
                model, hours, required, 0.0, villages=p.villages, node_village=node_village
            )
        pressure = service.results.pressure
        for rec in service.villages.to_dict("records"):
            nodes = [n for n, d in node_village.items() if d == rec["village"]]
            rows.append(
                {
                    "scenario": base.spec.name,
                    "case": case,
                    "description": description,
                    **rec,
                    # EPANET gives a dry, cut-off node a negative pressure: shown as 0
                    "lowest_pressure_m": max(float(pressure[nodes].min().min()), 0.0),
                }
            )
    return pd.DataFrame(rows)
