"""The design condition's fixed demands do not pick up a pattern named "1" (EPANET's
default pattern for a demand written without one; Net1, Net3, ky4 and ky10 all use it)."""

from __future__ import annotations

import wntr

from hydro.compliance import Rules, check_design_condition
from hydro.condition import design_snapshot


def _tree(pattern: str) -> wntr.network.WaterNetworkModel:
    wn = wntr.network.WaterNetworkModel()
    wn.add_pattern(pattern, [0.5, 1.0, 2.0, 1.0])
    wn.add_reservoir("R", base_head=60.0, coordinates=(0, 0))
    for k, z in enumerate([20.0, 25.0, 30.0], start=1):
        wn.add_junction(f"J{k}", base_demand=0.002, demand_pattern=pattern, elevation=z,
                        coordinates=(100 * k, 0))  # fmt: skip
    for k in range(1, 4):
        wn.add_pipe(f"P{k}", "R" if k == 1 else f"J{k - 1}", f"J{k}", length=500,
                    diameter=0.075, roughness=140)  # fmt: skip
    wn.options.time.duration = 24 * 3600
    wn.options.time.hydraulic_timestep = 3600
    wn.options.time.pattern_timestep = 3600
    return wn


def _snapshot_pressures(pattern: str, folder):
    model, hour = design_snapshot(_tree(pattern))
    results = wntr.sim.EpanetSimulator(model).run_sim(file_prefix=str(folder / pattern))
    return hour, results.node["pressure"].iloc[0][["J1", "J2", "J3"]]


def test_the_design_hour_demands_are_the_same_whatever_the_pattern_is_called(tmp_path):
    hour_p, named = _snapshot_pressures("P", tmp_path)
    hour_1, default = _snapshot_pressures("1", tmp_path)
    assert hour_p == hour_1 == 2 * 3600  # the pattern's peak, 2.0
    # on the old code the "1" snapshot ran at the pattern's first value, 0.5: 10 m higher
    assert (abs(named - default) < 1e-6).all(), (named, default)


def test_check_gives_the_same_peak_hour_margin_whatever_the_pattern_is_called():
    margins = []
    for name in ("P", "1"):
        table = check_design_condition(_tree(name), Rules(), {}, None)
        margins.append(table["margin_m"].to_numpy())
    assert (abs(margins[0] - margins[1]) < 1e-6).all(), margins
