"""Random tap opening: in-memory toolkit draws against EPANET itself, and the executors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, assert_png_drawn, local_cluster, run_hydro

from hydro.demand import tap_design
from hydro.network import read_network
from hydro.parallel import InProcess, LocalPool, make_executor, using
from hydro.simulation import run_simulation
from hydro.taps import all_open_model, build_tap_model, run_taps

FLOW_TOL_L_PER_S = 1e-4
OUJDA = ROOT / "tests" / "data" / "booster_aqueduct.inp"

# Two standpipes on small pipes, 12 m below a tank: with every tap open they starve.
STARVED_INP = """[TITLE]
starved standpipes
[JUNCTIONS]
 J    0   0
 S1   0   0.2  standpipe
 S2   2   0.2  standpipe
[TANKS]
 T   10  2.0  0.5  3.0  5  0
[PIPES]
 P1  T  J   200  32.6  140  0  Open
 P2  J  S1  150  20.4  140  0  Open
 P3  J  S2  300  20.4  140  0  Open
[PATTERNS]
 standpipe  1
[OPTIONS]
 Units LPS
 Headloss H-W
[TIMES]
 Duration 0
[END]
"""


@pytest.fixture
def starved(tmp_path):
    path = tmp_path / "starved.inp"
    path.write_text(STARVED_INP)
    wn = read_network(path)
    taps = tap_design(
        pd.DataFrame(
            {
                "node": ["S1", "S2"],
                "service": "standpipe",
                "village": ["Up", "Down"],
                "taps": 2,
                "tap_flow_l_per_s": 0.25,
                "peak_hour_l_per_s": 0.2,
            }
        )
    )
    return wn, taps


def test_every_tap_always_open_equals_the_deterministic_all_open_run(starved):
    wn, taps = starved
    model = build_tap_model(wn, taps, required_pressure_m=5.0, probability=1.0)
    run = run_taps(model, draws=3, seed=7)
    assert run.open_taps.all()
    # EPANET itself through WNTR's EpanetSimulator, pressure-driven, every tap asking 0.25 l/s
    reference = run_simulation(all_open_model(model), pressure_driven=True, required_pressure_m=5.0)
    delivered = reference.demand.iloc[0][["S1", "S1", "S2", "S2"]].to_numpy() * 1000 / 2
    assert delivered.max() < 0.25 - 0.01  # the taps do starve: a meaningful comparison
    for draw in run.flows_l_per_s:
        np.testing.assert_allclose(draw, delivered, atol=FLOW_TOL_L_PER_S)
    # the tank is at its reserve: 0.5 + 0.2 x 2.5 = 1.0 m, not its 2 m start
    assert reference.tank_level["T"].iloc[0] == pytest.approx(1.0)


def test_percentiles_and_starved_share_follow_the_draws(starved):
    wn, taps = starved
    run = run_taps(build_tap_model(wn, taps), draws=400, seed=3)
    # each tap open with its share of the peak hour: 0.2 / (2 x 0.25) = 0.4
    assert run.open_taps.mean() == pytest.approx(0.4, abs=0.04)
    for k, rec in enumerate(run.taps.to_dict("records")):
        flows = run.flows_l_per_s[:, k]
        open_flows = flows[~np.isnan(flows)]
        assert rec["open_draws"] == len(open_flows)
        assert rec["p50_l_per_s"] == pytest.approx(np.median(open_flows))
        assert rec["p5_l_per_s"] == pytest.approx(np.percentile(open_flows, 5))
        assert rec["p95_l_per_s"] == pytest.approx(np.percentile(open_flows, 95))
        assert rec["share_under_useful"] == pytest.approx(np.mean(open_flows < 0.2))
    assert set(run.villages["village"]) == {"Up", "Down"}
    for rec in run.villages.to_dict("records"):  # a village pools the open draws of its taps
        columns = np.flatnonzero(run.tap_model.taps["village"].to_numpy() == rec["village"])
        pooled = run.flows_l_per_s[:, columns]
        pooled = pooled[~np.isnan(pooled)]
        assert rec["open_draws"] == pooled.size
        assert rec["p5_l_per_s"] == pytest.approx(np.percentile(pooled, 5))
        assert rec["p95_l_per_s"] == pytest.approx(np.percentile(pooled, 95))
        assert rec["share_under_useful"] == pytest.approx(np.mean(pooled < 0.2))
    # the far, higher standpipe starves more often than the near one
    by_node = run.taps.groupby("node")["share_under_useful"].mean()
    assert by_node["S2"] > by_node["S1"]


def test_same_seed_same_numbers_with_one_and_two_workers():
    from hydro.condition import default_taps

    wn = read_network(OUJDA)
    model = build_tap_model(wn, default_taps(wn), probability=0.7)
    one = run_taps(model, draws=120, seed=11, executor=InProcess())
    with LocalPool(2) as pool:
        two = run_taps(model, draws=120, seed=11, executor=pool, chunk=25)
        shrinking = run_taps(model, draws=230, seed=11, executor=pool)  # the pool's own cut
    np.testing.assert_array_equal(one.open_taps, two.open_taps)
    np.testing.assert_array_equal(one.flows_l_per_s, two.flows_l_per_s)
    pd.testing.assert_frame_equal(one.taps, two.taps)
    pd.testing.assert_frame_equal(one.villages, two.villages)
    alone = run_taps(model, draws=230, seed=11)
    np.testing.assert_array_equal(alone.flows_l_per_s, shrinking.flows_l_per_s)
    pd.testing.assert_frame_equal(alone.taps, shrinking.taps)
    other = run_taps(model, draws=120, seed=12)
    assert not np.array_equal(one.open_taps, other.open_taps)


def test_dask_local_cluster_gives_the_in_process_numbers(starved):
    distributed = pytest.importorskip("dask.distributed")
    wn, taps = starved
    model = build_tap_model(wn, taps, probability=0.6)
    expected = run_taps(model, draws=60, seed=5)
    with local_cluster(distributed) as cluster:
        with make_executor(scheduler=cluster.scheduler_address) as executor:
            assert executor.workers == 2
            got = run_taps(model, draws=60, seed=5, executor=executor, chunk=10)
    np.testing.assert_array_equal(expected.flows_l_per_s, got.flows_l_per_s)


def test_draws_inside_a_run_go_to_the_runs_executor(starved):
    wn, taps = starved
    model = build_tap_model(wn, taps, probability=0.6)
    expected = run_taps(model, draws=40, seed=5)
    with LocalPool(2) as pool, using(pool):
        got = run_taps(model, draws=40, seed=5)
    assert (expected.executor, got.executor) == ("in-process", pool.description)
    np.testing.assert_array_equal(expected.flows_l_per_s, got.flows_l_per_s)


def test_taps_command_writes_tables_and_figure(tmp_path):
    out = tmp_path / "taps"
    done = run_hydro(
        "taps", OUJDA, "--villages", ROOT / "tests" / "data" / "booster_villages.csv",
        "--scenario", "household_connections", "--draws", "200", "--workers", "1",
        "--out", out,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "200 draws (seed 1)" in done.stdout and "per village" in done.stdout
    table = pd.read_csv(out / "taps.csv")
    assert {"node", "tap", "p5_l_per_s", "p50_l_per_s", "p95_l_per_s", "share_under_useful"} <= set(
        table.columns
    )
    assert_png_drawn(out / "taps.png")
    assert len(pd.read_csv(out / "taps_draws.csv")) == 200


def test_taps_command_refuses_bad_options(tmp_path):
    done = run_hydro("taps", OUJDA, "--probability", "1.5")
    assert done.returncode == 2 and "at most 1" in done.stderr
    done = run_hydro("taps", OUJDA, "--draws", "0")
    assert done.returncode == 2
    done = run_hydro("taps", OUJDA, "--year", "2030")
    assert done.returncode == 1 and "error: --year needs a village table" in done.stderr
    plain = tmp_path / "no_taps.inp"
    plain.write_text(
        "[JUNCTIONS]\n J1 0 1\n[RESERVOIRS]\n R 50\n[PIPES]\n P1 R J1 100 100 130\n"
        "[OPTIONS]\n Units LPS\n[END]\n"
    )
    done = run_hydro("taps", plain, "--out", tmp_path / "out")
    assert done.returncode == 1 and f"error: {plain}: no taps" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_study_reports_random_taps_and_its_designs_pass_hydro_check(tmp_path):
    from test_study import write_small_study

    study = write_small_study(tmp_path)
    text = study.read_text().replace("draws = 2000", "draws = 300")
    study.write_text(text + "\n")
    out = tmp_path / "out"
    done = run_hydro("run", study, "--out", out)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "random tap opening: 300 draws" in done.stderr
    html = (out / "report.html").read_text()
    assert "Random tap opening" in html and "300 draws per scenario" in html
    for scenario in ("standpipes", "household_connections", "standpipes_pipes_for_connections"):
        table = pd.read_csv(out / f"taps_{scenario}.csv")
        assert (table["open_draws"] > 0).any()
        assert_png_drawn(out / f"taps_{scenario}.png")
        # the design the study wrote passes hydro check with the same rules, tap flows included
        checked = run_hydro("check", out / f"sized_{scenario}.inp")
        assert checked.returncode == 0, checked.stdout
        assert "tap flows: least margin +" in checked.stdout


def test_a_block_of_draws_is_the_same_rows_of_the_whole_run(starved):
    from hydro.taps import draw_open_taps

    wn, taps = starved
    model = build_tap_model(wn, taps, probability=0.5)
    whole = draw_open_taps(model, 40, seed=9)
    np.testing.assert_array_equal(draw_open_taps(model, 13, seed=9, first=17), whole[17:30])
    # cut into blocks of 7 draws or run whole: the same draws and flows
    one = run_taps(model, draws=40, seed=9)
    cut = run_taps(model, draws=40, seed=9, chunk=7)
    np.testing.assert_array_equal(one.open_taps, whole)
    np.testing.assert_array_equal(cut.flows_l_per_s, one.flows_l_per_s)


# A standpipe 6 m below a reservoir on a short, wide pipe: 6 m at the junction whatever the
# flow, above the tap's 5 m; at the tap, after the riser, valve and meter (3.5 m at 0.5 l/s),
# 2.5 m.
AT_THE_TAP_INP = """[TITLE]
passes at the junction, fails at the tap
[JUNCTIONS]
 S   0   0.2  standpipe
[RESERVOIRS]
 R   6
[PIPES]
 P   R  S   10  100  140  0  Open
[PATTERNS]
 standpipe  1
[OPTIONS]
 Units LPS
 Headloss H-W
[TIMES]
 Duration 0
[END]
"""


def _one_standpipe(tmp_path, taps=2, per=2):
    path = tmp_path / "tap.inp"
    path.write_text(AT_THE_TAP_INP)
    wn = read_network(path)
    table = tap_design(
        pd.DataFrame(
            {
                "node": ["S"],
                "service": "standpipe",
                "village": ["D"],
                "taps": taps,
                "tap_flow_l_per_s": 0.25,
                "peak_hour_l_per_s": 0.2,
                "taps_per_standpipe": float(per),
            }
        )
    )
    return wn, table


def test_a_tap_that_passes_at_the_junction_but_fails_at_the_tap_is_starved(tmp_path):
    """Issue 24, point 6: hydro taps judges the tap, as hydro size and hydro check do.

    Both taps open: 6 m at the junction (5 m held there), 6 - 3.5 = 2.5 m at the tap, so each
    tap gives 0.25 x (2.5 / 5)^0.5 = 0.177 l/s, under the useful 0.2 l/s (80%): starved. At
    the junction (no local loss) they gave their full 0.25 l/s. The design condition says
    the same: the tap's margin is 2.5 - 5 = -2.5 m.
    """
    from hydro.taps import all_taps_open

    wn, taps = _one_standpipe(tmp_path)
    run = run_taps(build_tap_model(wn, taps, probability=1.0), draws=3, seed=1)
    expected = 0.25 * (2.5 / 5.0) ** 0.5
    np.testing.assert_allclose(run.flows_l_per_s, expected, atol=2e-3)
    assert (run.taps["share_under_useful"] == 1.0).all()
    at_junction = run_taps(
        build_tap_model(wn, taps, probability=1.0, standpipe_loss_m=0.0), draws=3, seed=1
    )
    np.testing.assert_allclose(at_junction.flows_l_per_s, 0.25, atol=FLOW_TOL_L_PER_S)
    assert (at_junction.taps["share_under_useful"] == 0.0).all()
    table = all_taps_open(wn, taps)
    assert table["margin_m"].iloc[0] == pytest.approx(-2.5, abs=0.01)
    # one tap open: its standpipe carries 0.25 l/s, 0.875 m of loss, 5.1 m at the tap: full
    one = run_taps(build_tap_model(wn, taps.assign(taps=1), probability=1.0), draws=2, seed=1)
    np.testing.assert_allclose(one.flows_l_per_s, 0.25, atol=FLOW_TOL_L_PER_S)


def test_each_standpipe_loses_at_its_own_open_taps_flow(tmp_path):
    """4 taps on standpipes of 2 (taps 1-2 and 3-4, as the design condition fills them): the
    node's loss is its fullest standpipe's at the flow of that standpipe's open taps."""
    wn, taps = _one_standpipe(tmp_path, taps=4, per=2)
    model = build_tap_model(wn, taps)
    assert list(model.taps["standpipe"]) == [0, 0, 1, 1]
    open_taps = np.array([[1, 1, 0, 1], [1, 0, 1, 0], [0, 0, 0, 0], [1, 1, 1, 1]], dtype=bool)
    np.testing.assert_allclose(model.local_loss_m(open_taps)[:, 0], [3.5, 0.875, 0.0, 3.5])
    one_riser = build_tap_model(wn, taps.assign(taps_per_standpipe=4.0))
    np.testing.assert_allclose(one_riser.local_loss_m(open_taps)[:, 0], [7.875, 3.5, 0.0, 14.0])
