"""Booster pumps placed by the exact tree program: gravity where the source allows it
(issue 24, point 5)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import wntr
from conftest import ROOT, inp_text, run_hydro
from scipy.optimize import Bounds, LinearConstraint, milp

from hydro.catalog import Catalog, entry_tag, read_catalog
from hydro.compliance import check_compliance
from hydro.errors import InfeasibleDesignError, InputError
from hydro.hydraulics import headloss_hazen_williams
from hydro.lifecycle import capital_recovery_factor
from hydro.network import read_network
from hydro.pumps import pump_efficiency_for_size
from hydro.sizing import Targets, size_network
from hydro.sizing.boosters import Boosters
from hydro.sizing.problem import DESIGN_MARGIN_M
from hydro.sizing.random_networks import CLASS_CATALOG
from hydro.units import RHO_G

COST_TOL = 1e-6  # relative
HEAD_TOL_M = 2e-3  # the program's heads against a hand calculation (design margin 1 mm)
SHUTOFF = 4 / 3  # EPANET's single-point curve: shut-off at 133% of the duty head
HOURS_PER_YEAR = 8760.0

#: Reservoir at 150 m. J0 (100 m) forks: a low branch J1 (105 m) and a high one J3 (120 m)
#: -> J4 (145 m) -> J5 (148 m); 1 l/s each, 500 m pipes. At 10 m, J4 and J5 need 155 m and
#: 158 m of head, above the reservoir: only a booster can serve them.
FORK = inp_text(
    " J0 100 1\n J1 105 1\n J3 120 1\n J4 145 1\n J5 148 1",
    " R1 150",
    " P1 R1 J0 500 100 140\n P2 J0 J1 500 100 140\n P3 J0 J3 500 100 140\n"
    " P4 J3 J4 500 100 140\n P5 J4 J5 500 100 140",
)
#: PE100 PN10 in three diameters.
FORK_CATALOG = pd.DataFrame(
    {
        "material": ["PE100"] * 3,
        "nominal_diameter_mm": [63, 90, 110],
        "pressure_class_bar": [10, 10, 10],
        "inner_diameter_mm": [55.4, 79.2, 96.8],
        "cost_per_m": [50.0, 100.0, 150.0],
    }
)


def catalog_from(frame: pd.DataFrame, tmp_path, name: str = "cat.csv") -> Catalog:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return read_catalog(path)


def annuity(years: float = 25.0, rate: float = 0.06) -> float:
    return 1.0 / capital_recovery_factor(rate, years)


def hw_loss(flow: float, length: float, inner_mm: float) -> float:
    return float(headloss_hazen_williams(flow, length, inner_mm / 1000.0, 140.0))


# --------------------------------------------------------------------------- worked by hand
def test_one_booster_at_the_head_of_the_high_branch_the_low_branch_on_gravity(tmp_path, write_inp):
    """A booster at J0 would lift the low branch too, one at J4 leaves J4 short: the least
    cost puts one at J3, the head of the high branch, and J1 stays on gravity. Its head is
    what J5 needs (158 m + 1 mm) less J3's head, plus the loss of P4 and P5 as chosen; its
    cost, the station plus rho g Q h / eta x 8760 h x price x annuity, by hand."""
    out = tmp_path / "sized.inp"
    result = size_network(
        read_network(write_inp(FORK)),
        catalog_from(FORK_CATALOG, tmp_path),
        Targets(10.0),
        break_tanks=Boosters(20_000.0, energy_price_per_kwh=1.0),
        output=out,
    )
    v = result.verification
    assert v.ok
    assert list(v.boosters["pump"]) == ["PMP_J3"]
    assert list(v.boosters["serves"].iloc[0]) == ["J4", "J5"]
    wn = wntr.network.WaterNetworkModel(str(out))
    assert [name for name, _ in wn.pumps()] == ["PMP_J3"]  # none in the low branch
    pump = wn.get_link("PMP_J3")
    assert (pump.start_node_name, pump.end_node_name) == ("J3", "J3_PMP")
    assert {wn.get_link(p).start_node_name for p in ("P1", "P2", "P3")} == {"R1", "J0"}
    assert wn.get_link("P4").start_node_name == "J3_PMP"
    served = dict(zip(result.table["pipe"], result.table["served_by"], strict=True))
    assert served["P2"] == served["P1"] == served["P3"] == "gravity"
    assert served["P4"] == served["P5"] == "PMP_J3"
    inner = {p: float(d) for p, d in zip(result.table["pipe"], result.table["inner_diameter_mm"],
                                         strict=True)}  # fmt: skip
    head_j3 = 150.0 - hw_loss(0.005, 500, inner["P1"]) - hw_loss(0.003, 500, inner["P3"])
    below = hw_loss(0.002, 500, inner["P4"]) + hw_loss(0.001, 500, inner["P5"])
    duty_head = 158.0 + DESIGN_MARGIN_M - head_j3 + below
    rec = v.boosters.iloc[0]
    assert rec["head_m"] == pytest.approx(duty_head, abs=HEAD_TOL_M)
    assert rec["flow_l_per_s"] == pytest.approx(2.0)
    # the usual efficiency of a set of its size, at its duty point (about 46%, 0.9 kW)
    at_duty = pump_efficiency_for_size(0.002, rec["head_m"])
    assert rec["efficiency"] == pytest.approx(at_duty, abs=1e-3)
    energy = RHO_G * 0.002 * rec["head_m"] / rec["efficiency"] / 1000 * HOURS_PER_YEAR
    assert rec["energy_kwh_per_year"] == pytest.approx(energy, rel=1e-9)
    whole_life = 20_000.0 + energy * 1.0 * annuity()
    assert rec["whole_life_cost"] == pytest.approx(whole_life, rel=1e-9)
    pipes = sum(FORK_CATALOG.set_index("inner_diameter_mm")["cost_per_m"][inner[p]] * 500
                for p in ("P1", "P2", "P3", "P4", "P5"))  # fmt: skip
    assert result.cost == pytest.approx(pipes + whole_life, rel=COST_TOL)
    assert result.optimiser_cost == pytest.approx(result.cost, rel=COST_TOL)
    run = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(tmp_path / "run"))
    pressure = run.node["pressure"].iloc[0]
    assert pressure[["J0", "J1", "J3", "J4", "J5"]].min() >= 10.0 - 1e-3
    assert pressure["J5"] == pytest.approx(10.0 + DESIGN_MARGIN_M, abs=HEAD_TOL_M)


# --------------------------------------------------------------------------- brute force
def booster_tree(n: int, seed: int) -> str:
    """A random tree below a reservoir at 200 m whose junctions lie between 120 and 212 m:
    some above the source's reach. J0 (150 m) feeds the rest."""
    rng = np.random.default_rng(seed)
    parent = [-1] + [int(rng.integers(0, k)) for k in range(1, n)]
    length = rng.uniform(200, 800, n)
    elevation = np.r_[150.0, rng.uniform(120, 212, n - 1)]
    demand = rng.uniform(0.5, 1.5, n)
    junctions = "\n".join(f" J{k} {elevation[k]:.2f} {demand[k]:.4f}" for k in range(n))
    pipes = "\n".join(
        f" P{k} {'R1' if parent[k] < 0 else f'J{parent[k]}'} J{k} {length[k]:.1f} 100 140"
        for k in range(n)
    )
    return inp_text(junctions, " R1 200", pipes)


def fixed_sites_cost(wn, catalog: Catalog, sites: tuple[str, ...], boosters: Boosters) -> float:
    """The least cost with boosters at ``sites`` exactly: an independent 0-1 program over
    paths (each junction's head: the reservoir's, less the losses along its path, plus the
    head of every booster strictly above it; each pipe's class holds the reservoir's head
    plus 4/3 of every booster at or above its upper end, less its lower end's elevation).
    Returns inf when no design exists."""
    table = catalog.table
    inner, price = table["inner_diameter_mm"].to_numpy(), table["cost_per_m"].to_numpy()
    rating = table["pressure_rating_m"].to_numpy()
    up = {wn.get_link(p).end_node_name: (p, wn.get_link(p).start_node_name)
          for p in wn.pipe_name_list}  # fmt: skip
    demand = {n: j.base_demand for n, j in wn.junctions()}

    def ancestors(n):  # the junctions above n, nearest first
        out = []
        while up[n][1] in up:
            n = up[n][1]
            out.append(n)
        return out

    flow = {up[n][0]: demand[n] + sum(demand[m] for m in demand if n in ancestors(m))
            for n in demand}  # fmt: skip
    pipes, k = wn.pipe_name_list, len(table)
    n_x, n_h = len(pipes) * k, len(sites)
    col = {(p, j): i * k + j for i, p in enumerate(pipes) for j in range(k)}
    site = {s: n_x + i for i, s in enumerate(sites)}
    through = {s: sum(flow[p] for p, u in up.values() if u == s) for s in sites}
    eff = boosters.efficiency
    energy = [RHO_G * through[s] / eff / 1000 * HOURS_PER_YEAR * boosters.energy_cost_per_kwh_year()
              for s in sites]  # fmt: skip
    cost = np.r_[[price[j] * wn.get_link(p).length for p in pipes for j in range(k)], energy]
    rows, lower, upper = [], [], []
    for p in pipes:
        row = np.zeros(n_x + n_h)
        row[[col[p, j] for j in range(k)]] = 1
        rows.append(row), lower.append(1), upper.append(1)
    for n in demand:
        row = np.zeros(n_x + n_h)
        for m in [n, *ancestors(n)]:
            p = up[m][0]
            length = wn.get_link(p).length
            for j in range(k):
                row[col[p, j]] = -hw_loss(flow[p], length, inner[j])
        for s in ancestors(n):
            if s in site:
                row[site[s]] = 1
        z = wn.get_node(n).elevation
        rows.append(row), lower.append(z + 10 + DESIGN_MARGIN_M - 200.0), upper.append(np.inf)
    for n in demand:  # the pipe into n
        p, u = up[n]
        row = np.zeros(n_x + n_h)
        row[[col[p, j] for j in range(k)]] = rating
        for s in [u, *ancestors(u)] if u in up else []:
            if s in site:
                row[site[s]] = -SHUTOFF
        low = min(wn.get_node(n).elevation, wn.get_node(u).elevation if u in up else np.inf)
        rows.append(row), lower.append(200.0 - low), upper.append(np.inf)
    result = milp(
        cost,
        constraints=LinearConstraint(np.array(rows), lower, upper),
        integrality=np.r_[np.ones(n_x), np.zeros(n_h)],
        bounds=Bounds(np.zeros(n_x + n_h), np.r_[np.ones(n_x), np.full(n_h, np.inf)]),
        options={"mip_rel_gap": 1e-9},
    )
    return result.fun + boosters.cost * len(sites) if result.x is not None else np.inf


@pytest.mark.parametrize(
    "n,seed",
    [
        (6, 1),  # gravity can serve all, a booster at J1 costs less
        (6, 4),  # two boosters
        (6, 9),  # none pays
        (7, 8),  # one, deep in the tree
        (7, 9),  # three
    ],
)
def test_boosters_match_brute_force_over_sites(n, seed, tmp_path):
    """Every set of booster sites, each sized by its own program: the cheapest, and hydro's
    placement at the same cost (efficiency 60%, no demand pattern: average = peak flow)."""
    path = tmp_path / "tree.inp"
    path.write_text(booster_tree(n, seed))
    wn = read_network(path)
    catalog = catalog_from(CLASS_CATALOG, tmp_path)
    boosters = Boosters(15_000.0, efficiency=0.6)
    candidates = sorted({wn.get_link(p).start_node_name for p in wn.pipe_name_list} - {"R1"})
    costs = {
        sites: fixed_sites_cost(wn, catalog, sites, boosters)
        for size in range(len(candidates) + 1)
        for sites in itertools.combinations(candidates, size)
    }
    best = min(costs, key=costs.get)
    assert np.isfinite(costs[best])
    result = size_network(wn, catalog, Targets(10.0), break_tanks=boosters)
    assert result.verification.ok
    assert result.cost == pytest.approx(costs[best], rel=COST_TOL)
    placed = tuple(sorted(result.verification.boosters["node"]))
    assert costs[placed] == pytest.approx(costs[best], rel=COST_TOL)


# --------------------------------------------------------------------------- shut-off
#: Reservoir at 100 m; J1 at 60 m; J2 at 140 m needs 150 m: a booster at J1 of about 55 m.
#: P2 then sees 40 + 55 = 95 m at the duty point (PN10 holds 102.0 m) but 40 + 4/3 x 55 =
#: 113 m at shut-off: PN16.
CLIMB = inp_text(" J1 60 1\n J2 140 1", " R1 100", " P1 R1 J1 500 100 140\n P2 J1 J2 500 100 140")
CLIMB_CATALOG = pd.DataFrame(
    {
        "material": ["PE100"] * 3,
        "nominal_diameter_mm": [90, 90, 90],
        "pressure_class_bar": [6, 10, 16],
        "inner_diameter_mm": [83.0, 79.2, 73.6],
        "cost_per_m": [80.0, 100.0, 125.0],
    }
)


def test_the_class_below_a_booster_holds_its_shut_off(tmp_path, write_inp):
    out = tmp_path / "sized.inp"
    result = size_network(
        read_network(write_inp(CLIMB)),
        catalog_from(CLIMB_CATALOG, tmp_path),
        Targets(10.0),
        break_tanks=Boosters(10_000.0, nodes=("J1",)),
        output=out,
    )
    assert result.verification.ok
    head = float(result.verification.boosters["head_m"].iloc[0])
    duty, shutoff = 40.0 + head, 40.0 + SHUTOFF * head
    assert duty < 102.0 < shutoff < 163.2  # the shut-off decides the class
    classes = dict(zip(result.table["pipe"], result.table["pressure_class_bar"], strict=True))
    assert (classes["P1"], classes["P2"]) == (6, 16)
    wn = read_network(out)
    for _, junction in wn.junctions():
        junction.demand_timeseries_list[0].base_value = 0.0
    static = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(tmp_path / "static"))
    assert static.node["pressure"].iloc[0]["J1_PMP"] == pytest.approx(shutoff, abs=1e-2)
    # hydro check holds the pipe below a booster to its shut-off: PN10 there is refused
    wn = read_network(out)
    pn10 = CLIMB_CATALOG.iloc[1]
    wn.get_link("P2").tag = wn.get_link("P2").tag.replace("PN16", "PN10").split("|")[0]
    wn.get_link("P2").diameter = pn10["inner_diameter_mm"] / 1000
    violations = check_compliance(wn, duration_h=1).violations
    shut = violations[violations["check"] == "pressure_class_shutoff"]
    assert set(shut["element"]) >= {"J1_PMP"}
    assert entry_tag(wn.get_link("P2").tag).endswith("PN10")


# --------------------------------------------------------------------------- refused
def test_unreachable_without_a_booster_candidate_above_is_refused_with_the_fix(tmp_path, write_inp):
    """J4 and J5 lie above the source's reach. A candidate in the low branch only (J0 is
    above them: left out) cannot reach them; nor can no booster at all."""
    wn = read_network(write_inp(FORK))
    catalog = catalog_from(FORK_CATALOG, tmp_path)
    for devices in (None, Boosters(20_000.0, nodes=("J1",))):
        with pytest.raises(InfeasibleDesignError) as error:
            size_network(wn, catalog, Targets(10.0), break_tanks=devices)
        message = str(error.value)
        assert "J5 by" in message and "J4 by" in message
        assert "a booster (--booster-cost) upstream of them would" in message
    with pytest.raises(InputError, match="--split"):
        size_network(wn, catalog, Targets(10.0), split=True, break_tanks=Boosters(1.0))
    with pytest.raises(InputError, match="--discount-rate"):
        Boosters(1.0, discount_rate=1.0)
    with pytest.raises(InputError, match="J9"):
        size_network(wn, catalog, Targets(10.0), break_tanks=Boosters(1.0, nodes=("J9",)))
    looped = read_network(ROOT / "networks" / "benchmarks" / "two_loop.inp")
    with pytest.raises(InputError, match="branched networks only"):
        size_network(looped, catalog, Targets(10.0), break_tanks=Boosters(1.0))


# --------------------------------------------------------------------------- commands
def test_hydro_size_writes_a_booster_and_hydro_check_passes_it(tmp_path, write_inp):
    network = write_inp(FORK)
    FORK_CATALOG.to_csv(tmp_path / "cat.csv", index=False)
    out, report = tmp_path / "sized.inp", tmp_path / "pipes.csv"
    done = run_hydro(
        "size", network, "--catalog", tmp_path / "cat.csv", "--min-pressure", "10",
        "--booster-cost", "20000", "--energy-price", "1.2", "--output", out, "--report", report,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 booster pump(s)" in done.stdout
    assert "booster PMP_J3 at J3" in done.stdout and "serves 2 junction(s): J4, J5" in done.stdout
    assert "served by gravity: 3 junction(s): J0, J1, J3" in done.stdout
    pipes = pd.read_csv(report)
    assert pipes.loc[pipes["pipe"] == "PMP_J3", "material"].item() == "booster pump"
    assert set(pipes.loc[pipes["pipe"].isin(["P4", "P5"]), "served_by"]) == {"PMP_J3"}
    text = out.read_text()
    assert "PMP_J3" in text and "J3_PMP" in text
    checked = run_hydro("check", out)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "COMPLIANT" in checked.stdout
    refused = run_hydro("size", network, "--catalog", tmp_path / "cat.csv", "--min-pressure",
                        "10", "--energy-price", "1.2")  # fmt: skip
    assert refused.returncode == 1 and "--booster-cost" in refused.stderr


def test_a_booster_following_the_daily_demand_is_compliant(tmp_path, write_inp):
    """With a daily pattern the booster runs at its duty flow at the peak hour only: below
    it at night, outside its efficient range (a warning: a direct-feed booster follows the
    demand), and its outlet, the discharge in the station, rises above the 60 m service
    maximum (held to its pipes' class, not to the service maximum): hydro check passes."""
    pattern = (
        "0.3 0.3 0.5 1.0 1.5 1.8 1.6 1.2 1.0 0.9 0.8 0.6 0.5 0.5 0.6 0.8 1.2 1.6 1.8 1.5 1.0 "
        "0.6 0.4 0.3"
    )
    text = FORK.replace(" 1\n", " 1 D\n")
    text = text.replace("[OPTIONS]", f"[PATTERNS]\n D {pattern}\n\n[OPTIONS]")
    text = text.replace(
        "Duration 0", "Duration 24\n Hydraulic Timestep 1:00\n Pattern Timestep 1:00"
    )
    out = tmp_path / "sized.inp"
    result = size_network(
        read_network(write_inp(text)),
        catalog_from(FORK_CATALOG, tmp_path),
        Targets(10.0),
        break_tanks=Boosters(20_000.0, energy_price_per_kwh=1.0),
        output=out,
    )
    rec = result.verification.boosters.iloc[0]
    assert rec["flow_l_per_s"] == pytest.approx(2.0 * 1.8)  # the peak hour's flow
    mean = np.mean([float(m) for m in pattern.split()])
    assert rec["average_flow_l_per_s"] == pytest.approx(2.0 * mean)
    report = check_compliance(read_network(out), duration_h=48)
    v = report.violations
    assert report.compliant, v.to_string()
    assert set(v.loc[v["check"].str.startswith("pump_range"), "severity"]) == {"warning"}
    night = report.results.pressure["J3_PMP"].max()
    assert night > 60.0  # above the service maximum, where no one draws


def test_a_booster_holds_the_tap_flows_too(tmp_path, write_inp):
    """Standpipes: the tap flows (2 taps x 0.25 l/s at each of the four below J1: 2.0 l/s)
    pass more than the peak hour (0.9 l/s), so the duty point is the tap flows' and at the
    peak hour the pump gives more than its duty head (its curve); one program keeps both
    cases, and the written design meets both. J3 (230 m) lies above the reach of the 240 m
    reservoir at 10 m: the booster at J1 serves it."""
    text = inp_text(
        " J1 200 0.3 standpipe\n J2 150 0.2 standpipe\n J3 230 0.3 standpipe\n"
        " J4 90 0.2 standpipe\n J5 80 0.2 standpipe",
        " R1 240",
        " P1 R1 J1 800 100 140\n P2 J1 J2 900 100 140\n P3 J1 J3 700 100 140\n"
        " P4 J2 J4 600 100 140\n P5 J4 J5 600 100 140",
        extra="[PATTERNS]\n standpipe 1\n",
    )
    result = size_network(
        read_network(write_inp(text)),
        catalog_from(CLASS_CATALOG, tmp_path),
        Targets(10.0),
        break_tanks=Boosters(10_000.0),
    )
    v = result.verification
    assert v.ok, v.violations.to_string()
    assert list(v.conditions["condition"]) == ["peak hour", "tap flows"]
    assert list(v.boosters["pump"]) == ["PMP_J1"]
    assert v.boosters["flow_l_per_s"].iloc[0] == pytest.approx(2.0)
    assert v.conditions["margin_m"].min() == pytest.approx(DESIGN_MARGIN_M, abs=HEAD_TOL_M)
    assert result.optimiser_cost == pytest.approx(result.cost, rel=COST_TOL)


def test_a_booster_outlet_is_held_to_its_class_not_the_service_maximum(tmp_path, write_inp):
    """With a 60 m maximum: J1 (40 m) and J2 (10 m) keep it; the booster's outlet at J1's
    elevation, its discharge (about 90 m), is no consumer: hydro size and hydro check hold
    it to its pipes' class (PN16 here), not to the maximum."""
    out = tmp_path / "sized.inp"
    result = size_network(
        read_network(write_inp(CLIMB)),
        catalog_from(CLIMB_CATALOG, tmp_path),
        Targets(10.0, max_pressure_m=60.0),
        break_tanks=Boosters(10_000.0, nodes=("J1",)),
        output=out,
    )
    assert result.verification.ok, result.verification.violations.to_string()
    wn = read_network(out)
    run = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(tmp_path / "run"))
    pressure = run.node["pressure"].iloc[0]
    assert pressure["J1_PMP"] > 60.0 >= pressure[["J1", "J2"]].max() - 1e-3
    assert check_compliance(wn, duration_h=1).compliant
