"""Random tap opening on the Oujda model: draws per second in-process, on 2 local processes,
on a 2-worker Dask LocalCluster, and with a loop of WNTR's pressure-driven EpanetSimulator.

Usage: python benchmarks/taps.py [--draws 2000] [--wntr-draws 200] [--seed 1] [--repeat 21]
                                [--chunk DRAWS]

Model: networks/oujda_rural.inp with the village table's 2030 household-connections demand
(284 taps at 16 nodes: standpipes and connections), tanks at their reserve level, each tap
open with its share of the peak hour. Every executor evaluates the same draws (same seed) and
must give the same flows; the WNTR loop runs the first ``--wntr-draws`` of them (a file-based
EPANET run each, as WNTR does) and is checked against the in-process flows.

Rates: draws / seconds. The machine is shared: each core's speed jumps between states about
1.5x apart from one tenth of a second to the next, each core on its own (measured with a
pinned pure-Python loop). Each 2-worker executor is therefore timed in ``--repeat`` rounds
of (in-process, executor, in-process), so that both sides sample the same spell of the
machine, and its rate is compared with the in-process rate at the median time of each side:
``speedup_2_workers``. Also printed: the median over the rounds of the faster in-process
run of a round over the executor's run (which leans against the pool: the faster of two
runs alone catches a fast state more often than one run on two cores does) and the best
rate of each side, with their ratio (the pool's best needs both cores in a fast state at
once). The 2-worker rates are measured with the pool started inside the timing ("cold")
and already started ("warm"). The warm pool's rounds also time a control: the same pool on
a pure-Python loop as long as the draws, cut in two, with nothing to send or gather, which
shows what 2 processes give on the machine in the same rounds. The last line is
``speedup_2_workers=X speedup_vs_wntr_loop=Y``: X is the warm local pool's rate over the
in-process rate; Y is the in-process best rate against the WNTR loop's rate.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import wntr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hydro.demand import apply_demand, get_scenario, project_demand, read_villages  # noqa: E402
from hydro.network import read_network  # noqa: E402
from hydro.parallel import DaskCluster, InProcess, LocalPool  # noqa: E402
from hydro.taps import all_open_model, build_tap_model, draw_open_taps, run_taps  # noqa: E402

FLOW_TOL_L_PER_S = 1e-4


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def spin(count: int) -> int:
    """Pure-Python work with no data to send or gather: the control for what 2 processes
    can give on this machine at the moment of the measurement.
    """
    total = 0
    for i in range(count):
        total += i & 7
    return total


def wntr_loop(tap_model, open_taps: np.ndarray) -> np.ndarray:
    """Each draw as WNTR users run it: set the demands and the tap nodes' elevations raised
    by the standpipes' local loss, EpanetSimulator PDA, read the demand.
    """
    base = all_open_model(tap_model)  # the same network; demands set per draw below
    asked, loss = tap_model.asked(open_taps), tap_model.local_loss_m(open_taps)
    node = tap_model.taps["node_index"].to_numpy()
    flows = np.full(open_taps.shape, np.nan)
    with tempfile.TemporaryDirectory(prefix="bench-taps-") as tmp:
        for d in range(len(open_taps)):
            for j, name in enumerate(tap_model.tap_nodes):
                junction = base.get_node(name)
                junction.demand_timeseries_list[0].base_value = asked[d, j] / 1000.0
                junction.elevation = tap_model.elevation_m[j] + loss[d, j]
            sim = wntr.sim.EpanetSimulator(base)
            results = sim.run_sim(file_prefix=str(Path(tmp) / "run"))
            delivered = results.node["demand"].iloc[0][tap_model.tap_nodes].to_numpy() * 1000
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(asked[d] > 0, np.clip(delivered / asked[d], 0, 1), 1.0)
            flows[d] = np.where(open_taps[d], ratio[node] * tap_model.flow_l_per_s, np.nan)
    return flows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--wntr-draws", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument(
        "--chunk", type=int, default=None, help="draws per task (default: run_taps's own)"
    )
    args = parser.parse_args()
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{os.cpu_count()} cores")  # fmt: skip
    wn = read_network(ROOT / "networks" / "oujda_rural.inp")
    villages = read_villages(ROOT / "demand_profiles" / "oujda_villages.csv")
    projection = project_demand(villages, 2030, get_scenario("household_connections"))
    tap_model = build_tap_model(apply_demand(wn, projection), projection.taps())
    n = args.draws
    print(f"Oujda 2030 household connections: {len(tap_model.taps)} taps at "
          f"{len(tap_model.tap_nodes)} nodes, {n:,} draws, seed {args.seed}")  # fmt: skip

    reference = run_taps(tap_model, n, args.seed, InProcess())

    def in_process():
        return run_taps(tap_model, n, args.seed, InProcess())

    def paired(pairs) -> tuple[np.ndarray, np.ndarray]:
        """``--repeat`` rounds; in each, every ``(alone, pool, check)`` of ``pairs`` runs as
        (alone, pool, alone). Returns the times alone (rounds x pairs x 2) and the pool's
        times (rounds x pairs).
        """
        t_in = np.empty((args.repeat, len(pairs), 2))
        t_ex = np.empty((args.repeat, len(pairs)))
        for k in range(args.repeat):
            for j, (alone, pool, check) in enumerate(pairs):
                t_in[k, j, 0] = timed(alone)[0]
                t_ex[k, j], got = timed(pool)
                t_in[k, j, 1] = timed(alone)[0]
                if check is not None:
                    check(got)
        return t_in, t_ex

    def same_flows(got):
        assert np.array_equal(got.flows_l_per_s, reference.flows_l_per_s, equal_nan=True)

    def report(name, t_in, t_ex, amount=n, unit="draws/s"):
        """Rates at the median time of each side over the same rounds, the rounds' ratios
        (the faster run alone of a round over the pool's) and the best rates.
        """
        rate_in, rate_ex = amount / np.median(t_in), amount / np.median(t_ex)
        rounds = t_in.min(axis=1) / t_ex
        best = t_in.min() / t_ex.min()
        print(f"{name:27s} median rates {rate_ex:8,.0f} against in-process {rate_in:8,.0f} "
              f"{unit}: {rate_ex / rate_in:.2f}; rounds (faster in-process run of each) "
              f"{np.median(rounds):.2f} (quartiles {np.percentile(rounds, 25):.2f}-"
              f"{np.percentile(rounds, 75):.2f}); best over best {best:.2f}")  # fmt: skip
        return rate_ex / rate_in, amount / t_in.min(), amount / t_ex.min()

    def against_in_process(name, executor_run):
        """The executor against in-process runs, in paired rounds."""
        t_in, t_ex = paired([(in_process, executor_run, same_flows)])
        return report(name, t_in[:, 0], t_ex[:, 0])

    def cold_pool():
        with LocalPool(2) as pool:
            return run_taps(tap_model, n, args.seed, pool, chunk=args.chunk)

    against_in_process("2 local processes, cold:", cold_pool)
    # the control: a loop as long as the draws, cut in two, with nothing to send or gather
    seconds_draws = min(timed(in_process)[0] for _ in range(3))
    count = 200_000
    seconds, _ = timed(lambda: spin(count))
    count = int(count * seconds_draws / seconds / 2)
    with LocalPool(2) as pool:
        run_taps(
            tap_model, n, args.seed, pool, chunk=args.chunk
        )  # start the workers, open their projects
        t_in, t_ex = paired(
            [
                (
                    in_process,
                    lambda: run_taps(tap_model, n, args.seed, pool, chunk=args.chunk),
                    same_flows,
                ),
                (
                    lambda: list(InProcess().run(spin, [(count,), (count,)])),
                    lambda: list(pool.run(spin, [(count,), (count,)])),
                    None,
                ),
            ]
        )
    speedup, rate_in, rate_pool = report("2 local processes, warm:", t_in[:, 0], t_ex[:, 0])
    control, _, _ = report("control, same rounds:", t_in[:, 1], t_ex[:, 1], 1, "loops/s")
    print(f"control: the same pool on a pure-Python loop as long as the draws, cut in two, "
          f"with nothing to send or gather; the draws get {speedup / control:.2f} of its "
          f"speedup")  # fmt: skip

    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster:  # fmt: skip
        with DaskCluster(cluster.scheduler_address) as dask:
            run_taps(tap_model, n, args.seed, dask, chunk=args.chunk)
            against_in_process(
                "2-worker Dask LocalCluster:",
                lambda: run_taps(tap_model, n, args.seed, dask, chunk=args.chunk),
            )

    m = min(args.wntr_draws, n)
    open_taps = draw_open_taps(tap_model, n, args.seed)[:m]
    started = time.perf_counter()
    flows = wntr_loop(tap_model, open_taps)
    rate_wntr = m / (time.perf_counter() - started)
    diff = np.nanmax(np.abs(flows - reference.flows_l_per_s[:m]))
    assert diff < FLOW_TOL_L_PER_S, diff
    print(f"WNTR EpanetSimulator loop:  {rate_wntr:10,.1f} draws/s (first {m} draws; "
          f"largest flow difference {diff:.1e} l/s)")  # fmt: skip
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"2 local processes, warm, best over best: {rate_pool / rate_in:.2f}")
    print(f"speedup_2_workers={speedup:.2f} speedup_vs_wntr_loop={rate_in / rate_wntr:.1f}")


if __name__ == "__main__":
    main()
