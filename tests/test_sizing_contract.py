"""The contract every sizer passes (issue 23, point 7), tree and looped alike.

Whichever method sizes a network, ``hydro.size_network``:

- returns the same result type (:class:`hydro.sizing.SizingResult`), with the same pipe table;
- writes a file that meets the targets when EPANET runs it, here run by this test through
  WNTR's reader and EPANET simulator (not hydro's), at the design condition: the peak hour
  with every tank at its reserve level, then the standpipes at their taps' flow;
- reports as its cost the cost recomputed here from the file: each pipe's length times the
  catalogue price of the label written in its ``[TAGS]`` line.

Cases: the Oujda model (tree program), the Two-loop benchmark (looped optimiser, a short
run), and one random tree (:mod:`hydro.sizing.random_networks`) sized by both methods.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wntr
from conftest import BENCHMARKS, ROOT

import hydro
from hydro.catalog import entry_tag, stored_rating_m
from hydro.sizing import SizingResult
from hydro.sizing.random_networks import CATALOG, rural_mesh

#: A written design may miss a target by at most this much in this test's EPANET run [m].
PRESSURE_TOL_M = 1e-3
#: ... and a velocity limit by this much [m/s].
VELOCITY_TOL_M_PER_S = 1e-4
#: The cost recomputed from the file and the cost reported agree to this share [-].
COST_REL_TOL = 1e-9
#: Share of each tank's usable depth held as its reserve at the design condition [-].
RESERVE_SHARE = 0.2
#: Bar to metres of water (10^5 Pa / (1000 kg/m3 x 9.80665 m/s2)).
M_PER_BAR = 1e5 / (1000.0 * 9.80665)

#: The columns of the pipe table every sizer returns.
TABLE_COLUMNS = [
    "pipe", "length_m", "material", "nominal_diameter_mm", "inner_diameter_mm",
    "pressure_class_bar", "cost_per_m", "cost", "flow_l_per_s", "velocity_m_per_s",
    "headloss_m", "max_pressure_seen_m",
]  # fmt: skip

OUJDA = ROOT / "tests" / "data" / "booster_aqueduct.inp"
OUJDA_PIPES = ROOT / "networks" / "catalogs" / "oujda_pipes.csv"
#: The Oujda model's standpipes, each with 2 taps of 0.25 l/s open at once (brief 5.1).
OUJDA_TAPS = pd.DataFrame(
    {
        "node": [f"{douar}_BF{k}" for douar in ("DB", "OM", "OC", "OA") for k in (1, 2)],
        "design_flow_l_per_s": 0.5,
    }
)


@dataclass(frozen=True)
class Case:
    """One network, its catalogue, its targets and the method asked."""

    network: str  # a path, or "random tree"
    catalog: str  # a path, or "random"
    targets: hydro.Targets
    method: str
    options: dict = field(default_factory=dict)
    taps: pd.DataFrame | None = None


CASES = {
    "oujda-tree": Case(
        str(OUJDA),
        str(OUJDA_PIPES),
        hydro.Targets(10.0, max_velocity_m_per_s=1.5, tank_reserve_share=RESERVE_SHARE),
        "tree",
        taps=OUJDA_TAPS,
    ),
    "two_loop-looped": Case(
        str(BENCHMARKS / "two_loop.inp"),
        str(BENCHMARKS / "two_loop_catalog.csv"),
        hydro.Targets(30.0),
        "looped",
        {"seed": 2, "time_limit_s": 10.0, "max_evaluations": 3000},
    ),
    "random_tree-tree": Case("random tree", "random", hydro.Targets(15.0), "tree"),
    "random_tree-looped": Case(
        "random tree",
        "random",
        hydro.Targets(15.0),
        "looped",
        {"seed": 1, "time_limit_s": 10.0, "max_evaluations": 2000},
    ),
}


@pytest.fixture(scope="module")
def designs(tmp_path_factory):
    """name -> (case, result, written file, catalogue file), each sized once per module."""
    folder = tmp_path_factory.mktemp("contract")
    (folder / "random_tree.inp").write_text(rural_mesh(30, seed=7, loop_share=0.0))
    CATALOG.to_csv(folder / "random_catalog.csv", index=False)
    done = {}

    def design(name: str):
        if name not in done:
            case = CASES[name]
            network = folder / "random_tree.inp" if case.network == "random tree" else case.network
            catalog = folder / "random_catalog.csv" if case.catalog == "random" else case.catalog
            written = folder / f"{name}.inp"
            result = hydro.size_network(
                hydro.read_network(network),
                hydro.read_catalog(catalog),
                case.targets,
                method=case.method,
                output=written,
                taps=case.taps,
                **case.options,
            )
            done[name] = (case, result, written, Path(catalog))
        return done[name]

    return design


# --------------------------------------------------------------------------- the file, read here
def tags_in(path: Path) -> dict[str, str]:
    """Link -> tag, from the ``[TAGS]`` section of an ``.inp`` file (read as text)."""
    section = re.search(r"^\[TAGS\]\s*\n(.*?)^\[", path.read_text(), re.M | re.S)
    tags = {}
    for line in (section.group(1) if section else "").splitlines():
        words = line.split(";")[0].split()
        if len(words) == 3 and words[0].upper() == "LINK":
            tags[words[1]] = words[2]
    return tags


def peak_hour_s(wn: wntr.network.WaterNetworkModel) -> int:
    """The hour of the day [s] when the junctions ask the most (patterns applied)."""
    step = int(wn.options.time.pattern_timestep or 3600)
    asked = wntr.metrics.expected_demand(wn, start_time=0, end_time=24 * 3600 - step, timestep=step)
    return int(asked[wn.junction_name_list].sum(axis=1).idxmax())


def epanet_at_design_condition(path: Path, taps: pd.DataFrame | None, prefix: Path):
    """EPANET's steady state of the written file at the peak hour with every tank at its
    reserve level (its level controls then set the pumps, as EPANET applies them at time 0),
    and, with ``taps``, the same with each tap node drawing its taps' flow instead.

    Returns the list of (case, model, results).
    """
    runs = []
    for case in ("peak hour", "tap flows") if taps is not None else ("peak hour",):
        wn = wntr.network.WaterNetworkModel(str(path))  # WNTR's reader, not hydro's
        peak = peak_hour_s(wn)
        asked = wntr.metrics.expected_demand(wn, start_time=peak, end_time=peak, timestep=3600)
        for _, tank in wn.tanks():
            tank.init_level = tank.min_level + RESERVE_SHARE * (tank.max_level - tank.min_level)
        wn.options.time.duration = 0
        wn.options.time.pattern_start = peak
        if case == "tap flows":
            for node, flow in taps.groupby("node")["design_flow_l_per_s"].sum().items():
                junction = wn.get_node(node)
                junction.demand_timeseries_list.clear()
                junction.add_demand(flow / 1000.0, None)
                asked.loc[:, node] = flow / 1000.0
        results = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(prefix / "contract"))
        drawn = results.node["demand"].loc[0, wn.junction_name_list]
        assert drawn.to_numpy() == pytest.approx(asked.iloc[0][drawn.index].to_numpy(), abs=1e-7)
        runs.append((case, wn, results))
    return runs


# --------------------------------------------------------------------------- the contract
@pytest.mark.parametrize("name", list(CASES))
def test_every_sizer_returns_the_same_result_type_with_its_method(designs, name):
    case, result, written, _ = designs(name)
    assert type(result) is SizingResult
    assert result.verification.ok, result.verification.violations
    assert list(result.table.columns) == TABLE_COLUMNS
    kind = "0-1 program" if case.method == "tree" else "local search"
    assert kind in result.method, result.method
    assert result.optimiser_cost == pytest.approx(result.cost, rel=COST_REL_TOL)
    assert result.table["cost"].sum() == pytest.approx(result.cost, rel=COST_REL_TOL)
    assert result.seconds >= 0 and result.model.pipe_name_list  # the model that was written


@pytest.mark.parametrize("name", list(CASES))
def test_the_written_design_meets_its_targets_in_an_independent_epanet_run(designs, name, tmp_path):
    case, result, written, _ = designs(name)
    targets = case.targets
    sized = list(result.table["pipe"])
    tapped = set(case.taps["node"]) if case.taps is not None else set()
    runs = epanet_at_design_condition(written, case.taps, tmp_path)
    for condition, wn, results in runs:
        pressure = results.node["pressure"].loc[0, wn.junction_name_list]
        minimum = pd.Series(
            {
                n: targets.tap_min_pressure_m
                if condition == "tap flows" and n in tapped
                else targets.min_at(n)
                for n in pressure.index
            }
        )
        short = (minimum - pressure)[pressure < minimum - PRESSURE_TOL_M]
        assert short.empty, f"{name}, {condition}: below the minimum by\n{short}"
        if targets.max_pressure_m is not None:
            assert pressure.max() <= targets.max_pressure_m + PRESSURE_TOL_M
    _, wn, results = runs[0]  # velocity and pressure class: the peak hour
    velocity = results.link["velocity"].loc[0, sized].abs()
    if targets.max_velocity_m_per_s is not None:
        fast = velocity[velocity > targets.max_velocity_m_per_s + VELOCITY_TOL_M_PER_S]
        assert fast.empty, f"{name}: over the velocity limit\n{fast}"
    pressure = results.node["pressure"].loc[0]
    for row in result.table.itertuples():
        if pd.notna(row.pressure_class_bar):
            link = wn.get_link(row.pipe)
            seen = max(pressure[link.start_node_name], pressure[link.end_node_name])
            assert seen <= row.pressure_class_bar * M_PER_BAR + PRESSURE_TOL_M, row.pipe


@pytest.mark.parametrize("name", list(CASES))
def test_the_reported_cost_is_the_cost_of_the_labels_written_in_the_file(designs, name):
    _, result, written, catalog_path = designs(name)
    catalog = hydro.read_catalog(catalog_path).table.set_index("tag")
    wn = wntr.network.WaterNetworkModel(str(written))
    written_tags = tags_in(written)
    priced = {link: entry_tag(tag) for link, tag in written_tags.items()}
    priced = {link: tag for link, tag in priced.items() if tag in catalog.index}
    # every sized pipe, and only they, carries a catalogue label
    assert sorted(priced) == sorted(result.table["pipe"])
    recomputed = 0.0
    for link, tag in priced.items():
        pipe = wn.get_link(link)
        # and the rating of its entry (the catalogue column), as data
        rating = catalog.at[tag, "pressure_rating_m"]
        stored = stored_rating_m(written_tags[link])
        assert stored is None if np.isnan(rating) else stored == pytest.approx(rating)
        # the label tells the truth: EPANET ran the pipe the price is for
        assert pipe.diameter * 1000 == pytest.approx(catalog.at[tag, "inner_diameter_mm"])
        recomputed += pipe.length * catalog.at[tag, "cost_per_m"]
    assert result.cost == pytest.approx(recomputed, rel=COST_REL_TOL)


def test_on_a_tree_the_looped_optimiser_costs_no_less_than_the_exact_program(designs):
    """The tree program is exact: no other sizer finds a cheaper verified design."""
    _, exact, _, _ = designs("random_tree-tree")
    _, searched, _, _ = designs("random_tree-looped")
    assert searched.cost >= exact.cost * (1 - COST_REL_TOL)
