"""Random tap opening (Monte Carlo): which taps starve when taps open at random, tank low.

Method (as NeatWork does for gravity village networks, here on EPANET with pressure-driven
demand). Each tap is open with a probability: the share of the peak hour it runs
(:func:`hydro.demand.open_probability`: peak-hour flow over the taps' full flow), or one given
for all taps. A draw opens each tap independently; the network then runs in steady state with
every tank at its reserve level and the pumps as operated (the design condition's setting,
:mod:`hydro.condition`); each open tap asks its flow, other junctions their peak-hour
demand. Pressure-driven demand (EPANET 2.2+, Wagner et al. 1988): a node receives its full
demand at or above the tap's minimum pressure (5 m, docs/sources.md, 5.1), nothing at or below 0 m,
and (p / p_req)^0.5 of it in between, as an orifice does; the taps open at a node share its
delivery in proportion to their flows.

The pressure is the tap's, not the junction's: as in the design condition
(:mod:`hydro.condition`, the rule of ``hydro size`` and ``hydro check``), each standpipe's
riser, valve and meter lose :func:`hydro.condition.standpipe_local_loss_m` between the
junction and its taps (3.5 m at 0.5 l/s [E], docs/sources.md 7), at the flow the open taps of
that standpipe ask in the draw (a node's taps fill standpipes of ``taps_per_standpipe`` taps in
turn, :func:`hydro.condition.standpipe_of_tap`; the fullest standpipe of the node governs it).
Each draw raises the tap node's elevation by that loss, so the pressure that EPANET's
pressure-driven demand sees is the pressure at the tap (the heads are unchanged). The loss is
taken at the flow asked, not the flow got: a starved tap's riser loses less, so a starved tap
is judged a little severely, never leniently.

The draws are evaluated in memory with the EPANET 2.3 toolkit (one project per worker, kept
open between its tasks; demands set through the toolkit, no file per draw), in tasks that any
:mod:`hydro.parallel` executor runs. A task is a block of draws: it draws which taps are open
in its rows of the seed's random stream (PCG64 advanced to its first row, so draw ``d`` is the
same whatever block it falls in), solves them and returns only the open taps' flows. The same
seed therefore gives the same numbers whatever runs the tasks and however the draws are cut,
and all the work but the final statistics (sorts of the open flows) runs in the workers.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import os
import pickle
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import wntr

from hydro import defaults
from hydro.classes import node_classes
from hydro.condition import (
    TAPS_OPEN_COLUMNS,
    check_cases,
    default_taps,
    design_cases,
    flat_pattern,
    peak_hour_snapshot,
    standpipe_local_loss_m,
    standpipe_of_tap,
    taps_open_table,
    taps_per_standpipe_or_default,
)
from hydro.errors import InputError, SimulationError
from hydro.network import copy_network, write_network
from hydro.outputs import write_csv
from hydro.units import LITRES_PER_M3

#: Share of a tap's flow below which a draw counts as a starved tap (default 80%) [-].
USEFUL_SHARE = 0.8
#: EPANET's pressure exponent of pressure-driven demand (an orifice) [-].
PRESSURE_EXPONENT = 0.5
#: The least span EPANET 2.2 takes between the pressure at which a pressure-driven demand
#: is met in full and the one at which it stops (its MINPDIFF; less is error 208) [m].
PDA_LEAST_SPAN_M = 0.1


@dataclass(frozen=True, kw_only=True)
class TapModel:
    """What every task needs: the steady-state network and the taps, picklable.

    inp_text : the network in LPS, tanks at their reserve, pumps as operated, demands fixed;
    tap_nodes : the junctions with taps; taps : one row per tap (node, service, village, tap,
    tap_flow_l_per_s, open_probability, node_index into tap_nodes, standpipe: the tap's
    standpipe, numbered over the network, -1 for a household connection);
    elevation_m : each tap node's elevation [m]; standpipe_loss_m : a standpipe's local loss
    at 0.5 l/s [m] (:func:`hydro.condition.standpipe_local_loss_m`).
    """

    inp_text: str
    tap_nodes: list
    taps: pd.DataFrame
    required_pressure_m: float
    minimum_pressure_m: float = 0.0
    elevation_m: tuple = ()
    standpipe_loss_m: float = defaults.STANDPIPE_LOCAL_LOSS_M

    @functools.cached_property
    def flow_l_per_s(self) -> np.ndarray:
        """Each tap's flow when fully open [l/s]."""
        return self.taps["tap_flow_l_per_s"].to_numpy(dtype=float)

    @functools.cached_property
    def node_index(self) -> np.ndarray:
        """Each tap's node: its index in ``tap_nodes``."""
        return self.taps["node_index"].to_numpy()

    @functools.cached_property
    def open_probability(self) -> np.ndarray:
        """Each tap's probability of being open [-]."""
        return self.taps["open_probability"].to_numpy(dtype=float)

    @functools.cached_property
    def _by_node(self) -> tuple:
        """The taps in node order, the flows in that order, the first tap of each node
        that has taps, and which nodes have taps (for :meth:`asked`).
        """
        order = np.argsort(self.node_index, kind="stable")
        count = np.bincount(self.node_index, minlength=len(self.tap_nodes))
        starts = np.concatenate(([0], np.cumsum(count)[:-1]))
        has = count > 0  # a node without taps asks nothing
        return order, self.flow_l_per_s[order][None, :], starts[has], has

    def asked(self, open_taps: np.ndarray) -> np.ndarray:
        """Draws x tap nodes: the flow the open taps ask at each node [l/s].

        Summed per node without a matrix product: a product (open taps x a taps-by-nodes
        matrix of flows) would start BLAS threads in every worker process, and two processes
        each spinning two BLAS threads on two cores ran the draws at half speed (measured
        with ``benchmarks/taps.py``).
        """
        order, flows, starts, has = self._by_node
        weighted = np.where(open_taps[:, order], flows, 0.0)
        sums = np.zeros((len(weighted), len(self.tap_nodes)))
        sums[:, has] = np.add.reduceat(weighted, starts, axis=1)
        return sums

    @functools.cached_property
    def _by_standpipe(self) -> tuple:
        """The standpipe taps in (node, standpipe) order, the first tap of each standpipe,
        the first standpipe of each node that has standpipes, and those nodes' indices.
        """
        if "standpipe" not in self.taps.columns:  # no standpipe numbering: no local loss
            standpipe = np.full(len(self.taps), -1)
        else:
            standpipe = self.taps["standpipe"].to_numpy()
        on = np.flatnonzero(standpipe >= 0)
        order = on[np.lexsort((standpipe[on], self.node_index[on]))]
        groups = standpipe[order]
        starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]]) if order.size else order
        node_of = self.node_index[order[starts]]
        firsts = np.flatnonzero(np.r_[True, node_of[1:] != node_of[:-1]]) if starts.size else starts
        return order, starts, firsts, node_of[firsts]

    def local_loss_m(self, open_taps: np.ndarray) -> np.ndarray:
        """Draws x tap nodes: the loss between each node and its taps in each draw [m].

        Each standpipe's riser, valve and meter at the flow its open taps ask
        (:func:`hydro.condition.standpipe_local_loss_m`), the node's fullest standpipe; 0 at
        a node without standpipes or without an open standpipe tap.
        """
        out = np.zeros((len(open_taps), len(self.tap_nodes)))
        order, starts, firsts, nodes = self._by_standpipe
        if not order.size or self.standpipe_loss_m <= 0:
            return out
        flows = np.where(open_taps[:, order], self.flow_l_per_s[order][None, :], 0.0)
        loss = standpipe_local_loss_m(np.add.reduceat(flows, starts, axis=1), self.standpipe_loss_m)
        out[:, nodes] = np.maximum.reduceat(loss, firsts, axis=1)
        return out


def build_tap_model(
    wn: wntr.network.WaterNetworkModel,
    taps: pd.DataFrame,
    required_pressure_m: float = defaults.TAP_MIN_PRESSURE_M,
    probability: float | None = None,
    tank_reserve_share: float = defaults.TANK_RESERVE_SHARE,
    standpipe_loss_m: float = defaults.STANDPIPE_LOCAL_LOSS_M,
) -> TapModel:
    """The Monte Carlo model of ``wn`` (never modified) and its taps.

    Parameters
    ----------
    taps : DataFrame
        Tap table (:func:`hydro.demand.tap_design`): node, service, village, taps,
        tap_flow_l_per_s, open_probability and optionally taps_per_standpipe (default
        :data:`hydro.defaults.TAPS_PER_STANDPIPE`).
    required_pressure_m : float
        Pressure at which a tap gives its full flow [m] (the tap's minimum, 5 m); below
        :data:`PDA_LEAST_SPAN_M` (a minimum of 0 m) EPANET is given that least span.
    probability : float, optional
        Probability that any tap is open; default: each tap's share of the peak hour.
    tank_reserve_share : float
        Tanks at their reserve level: this share of the usable depth above the minimum [-].
    standpipe_loss_m : float
        A standpipe's local loss (riser, valve and meter) at 0.5 l/s [m]: the pressure at
        a standpipe tap is the junction's less this loss at its open taps' flow
        (:func:`hydro.condition.standpipe_local_loss_m`, as the design condition takes it).
    """
    if taps is None or taps.empty:
        raise InputError("no taps: the network has no standpipe or household-connection node")
    if probability is not None and not 0 <= probability <= 1:
        raise InputError(f"the probability that a tap is open must be in [0, 1], got {probability}")
    missing = sorted(set(taps["node"]) - set(wn.junction_name_list))
    if missing:
        raise InputError(f"taps at node(s) that are not junctions: {', '.join(missing[:5])}")
    model, _ = peak_hour_snapshot(wn, tank_reserve_share)
    nodes = list(dict.fromkeys(taps["node"]))
    for node in nodes:  # tap nodes: set per draw
        junction = model.get_node(node)
        junction.demand_timeseries_list.clear()
        junction.add_demand(0.0, flat_pattern(model))
    rows = _tap_rows(taps, nodes, probability)
    required_pressure_m = max(required_pressure_m, PDA_LEAST_SPAN_M)  # 0 m: EPANET's least
    model.options.hydraulic.demand_model = "PDA"
    model.options.hydraulic.required_pressure = required_pressure_m
    model.options.hydraulic.minimum_pressure = 0.0
    model.options.hydraulic.pressure_exponent = PRESSURE_EXPONENT
    with tempfile.TemporaryDirectory(prefix="hydro-taps-") as tmp:
        text = write_network(model, Path(tmp) / "taps.inp", units="LPS").read_text()
    return TapModel(
        inp_text=text,
        tap_nodes=nodes,
        taps=pd.DataFrame(rows),
        required_pressure_m=required_pressure_m,
        elevation_m=tuple(float(model.get_node(n).elevation) for n in nodes),
        standpipe_loss_m=standpipe_loss_m,
    )


def _tap_rows(taps: pd.DataFrame, nodes: list, probability: float | None) -> list[dict]:
    """One row per tap of the tap table: node, service, village, tap (from 1), its flow and
    probability, node_index into ``nodes`` and standpipe (numbered over the network, the
    taps of a standpipe row filling standpipes in turn, :func:`standpipe_of_tap`; -1 for a
    household connection).
    """
    rows, standpipes = [], 0
    index = {n: i for i, n in enumerate(nodes)}
    for rec in taps.to_dict("records"):
        p = rec["open_probability"] if probability is None else probability
        standpipe = rec["service"] == "standpipe"
        per = taps_per_standpipe_or_default(rec.get("taps_per_standpipe"))
        count = int(rec["taps"])
        for k in range(count):
            rows.append(
                {
                    "node": rec["node"],
                    "service": rec["service"],
                    "village": rec.get("village", "") or "",
                    "tap": k + 1,
                    "tap_flow_l_per_s": float(rec["tap_flow_l_per_s"]),
                    "open_probability": float(p),
                    "node_index": index[rec["node"]],
                    "standpipe": standpipes + standpipe_of_tap(k, per) if standpipe else -1,
                }
            )
        if standpipe and count:
            standpipes += standpipe_of_tap(count - 1, per) + 1
    return rows


def draw_open_taps(tap_model: TapModel, draws: int, seed: int, first: int = 0) -> np.ndarray:
    """Draws x taps booleans: which taps are open in draws ``first`` to ``first + draws - 1``.

    Draw ``d`` uses numbers ``d * taps`` to ``(d + 1) * taps - 1`` of numpy's PCG64 stream from
    ``seed`` (one 64-bit number per uniform), so a block of draws is the same rows of the whole
    run's draws, whichever task draws it.
    """
    if draws < 1:
        raise InputError(f"the number of draws must be 1 or more, got {draws}")
    rng = np.random.default_rng(seed)
    p = tap_model.open_probability
    if first:
        rng.bit_generator.advance(int(first) * len(p))
    return rng.random((draws, len(p))) < p[None, :]


# --------------------------------------------------------------------------- one task
#: The project each worker thread keeps open for the model it evaluates last (opening it costs
#: about as much as a hundred draws): (pid, thread) -> (model key, project, node indices).
_PROJECTS: dict = {}


def _open_project(tap_model: TapModel):
    """The EPANET project of this thread for ``tap_model`` (opened once, pressure-driven)."""
    from hydro import _toolkit as tk

    where = (os.getpid(), threading.get_ident())
    key = hash((tap_model.inp_text, tuple(tap_model.tap_nodes), tap_model.required_pressure_m))
    cached = _PROJECTS.get(where)
    if cached is not None and cached[0] == key:
        return cached[1], cached[2]
    if cached is not None:
        _close(cached)
    # EPANET reads the whole file when it opens it: the file goes at once, the project stays
    with tempfile.TemporaryDirectory(prefix="hydro-taps-") as folder:
        path = Path(folder) / "taps.inp"
        path.write_text(tap_model.inp_text)
        project = tk.Project(path)
    try:
        lib, handle = project.lib, project.handle
        lib.EN_setstatusreport(handle, 0)
        ids = project.node_ids()
        index = [ids.index(n) + 1 for n in tap_model.tap_nodes]
        project._check(
            lib.EN_setdemandmodel(
                handle,
                tk.EN_PDA,
                tap_model.minimum_pressure_m,
                tap_model.required_pressure_m,
                PRESSURE_EXPONENT,
            ),
            "demand model",
        )
        project.open_hydraulics()
    except BaseException:
        project.close()
        raise
    _PROJECTS[where] = (key, project, index)
    return project, index


def _close(cached) -> None:
    cached[1].close()


@atexit.register
def close_projects() -> None:
    """Close every project this process keeps open (at exit, or when asked)."""
    while _PROJECTS:
        _close(_PROJECTS.popitem()[1])


def deliver(
    tap_model: TapModel, asked: np.ndarray, local_loss_m: np.ndarray | None = None
) -> np.ndarray:
    """Flow delivered at each tap node in each draw [l/s], for the flows ``asked`` there
    (draws x tap nodes), in this process (:func:`evaluate_block` calls it in the workers).

    Each draw sets the tap nodes' demands through the toolkit, and their elevations raised by
    ``local_loss_m`` (draws x tap nodes [m], :meth:`TapModel.local_loss_m`; default none), so
    that the pressure-driven demand sees the pressure at the tap; it re-initialises the flows
    (so a draw's result does not depend on the draws before it) and solves the steady state.
    The project stays open in the worker for the next task on the same model.
    """
    from hydro import _toolkit as tk

    asked = np.asarray(asked, dtype=float)
    delivered = np.empty_like(asked)
    lifted = None  # set in every draw: the project may be one an earlier task lifted
    if len(tap_model.elevation_m):
        loss = np.zeros_like(asked) if local_loss_m is None else local_loss_m
        lifted = np.asarray(tap_model.elevation_m)[None, :] + loss
    project, index = _open_project(tap_model)
    lib, handle = project.lib, project.handle
    values = np.empty(project.count(tk.EN_NODECOUNT))
    rows = np.asarray(index) - 1
    c_index = [ctypes.c_int(k) for k in index]
    prop = ctypes.c_int(tk.EN_BASEDEMAND)
    elevation = ctypes.c_int(tk.EN_ELEVATION)
    t = ctypes.c_long()
    for d in range(len(asked)):
        for j, k in enumerate(c_index):
            lib.EN_setnodevalue(handle, k, prop, ctypes.c_double(asked[d, j]))
            if lifted is not None:
                lib.EN_setnodevalue(handle, k, elevation, ctypes.c_double(lifted[d, j]))
        project._check(lib.EN_initH(handle, 10), "init hydraulics")  # flows re-initialised
        code = lib.EN_runH(handle, ctypes.byref(t))
        if code > 100:
            project._check(code, f"draw {d}")
        project.node_values(tk.EN_DEMAND, values)
        delivered[d] = values[rows]
    return delivered


def tap_flows(
    tap_model: TapModel,
    open_taps: np.ndarray,
    delivered: np.ndarray,
    asked: np.ndarray | None = None,
) -> np.ndarray:
    """Flow of every tap [l/s] (NaN where closed): the taps open at a node share what it
    receives in proportion to their flows. ``asked``: ``tap_model.asked(open_taps)``, when
    already computed.
    """
    if asked is None:
        asked = tap_model.asked(open_taps)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(asked > 0, np.clip(delivered / asked, 0.0, 1.0), 1.0)
    flows = ratio[:, tap_model.node_index] * tap_model.flow_l_per_s[None, :]
    return np.where(open_taps, flows, np.nan)


def evaluate_draws(tap_model: TapModel, open_taps: np.ndarray) -> np.ndarray:
    """Flow of every tap in each draw [l/s] (NaN where closed), in this process."""
    open_taps = np.asarray(open_taps, dtype=bool)
    asked = tap_model.asked(open_taps)
    delivered = deliver(tap_model, asked, tap_model.local_loss_m(open_taps))
    return tap_flows(tap_model, open_taps, delivered, asked)


#: The model each worker process unpickled last: (its pickle, the model).
_SENT: list = [None, None]


def _model_of(tap_model: TapModel | bytes) -> TapModel:
    """The model a task names: itself, or the model whose pickle it carries (unpickled once
    per process for all the tasks of a run).
    """
    if not isinstance(tap_model, bytes):
        return tap_model
    if _SENT[0] != tap_model:
        _SENT[:] = [tap_model, pickle.loads(tap_model)]
    return _SENT[1]


def evaluate_block(tap_model: TapModel | bytes, seed: int, first: int, draws: int) -> tuple:
    """The task the executors run: draws ``first`` to ``first + draws - 1`` of ``seed``.

    ``tap_model``: the model, or its pickle (what :func:`run_taps` sends to other processes:
    pickled once per run, unpickled once per worker).

    Returns
    -------
    tuple of numpy.ndarray
        ``(draw, tap, flow_l_per_s)`` of every open tap, in draw then tap order: the draw
        counted from ``first``, the tap's column and its flow [l/s] (a few percent of the
        draws x taps table: small to return).
    """
    tap_model = _model_of(tap_model)
    open_taps = draw_open_taps(tap_model, draws, seed, first)
    flows = evaluate_draws(tap_model, open_taps)
    draw, tap = np.nonzero(open_taps)
    return draw.astype(np.int32), tap.astype(np.int32), flows[draw, tap]


# --------------------------------------------------------------------------- the whole run
#: Most draws in one task by default (about 0.2 s on the Oujda model).
TASK_DRAWS = 5000
#: Fewest draws in one task by default (about 2 ms on the Oujda model, against about
#: 0.2 ms a task costs besides its draws).
TASK_MIN_DRAWS = 50


@dataclass(kw_only=True)
class TapRun:
    """The draws and what they add up to.

    draw, tap, open_flow_l_per_s : one entry per open tap in a draw: the draw (from 0), the tap's
    row in ``tap_model.taps`` and its flow [l/s], in draw then tap order; taps : per tap
    p5/p50/p95 of its flow when open, share of its open draws under the useful flow; villages :
    the same per village (all its taps' open draws pooled); seconds : evaluation time;
    executor : what ran it. The draws x taps tables (``open_taps``, ``flows_l_per_s``) are
    built when first asked for.
    """

    tap_model: TapModel
    draws: int
    draw: np.ndarray
    tap: np.ndarray
    open_flow_l_per_s: np.ndarray
    useful_share: float
    seed: int
    seconds: float
    executor: str
    taps: pd.DataFrame = field(default_factory=pd.DataFrame)
    villages: pd.DataFrame = field(default_factory=pd.DataFrame)

    @functools.cached_property
    def flows_l_per_s(self) -> np.ndarray:
        """Draws x taps: every tap's flow in every draw [l/s], NaN where closed."""
        flows = np.full((self.draws, len(self.tap_model.taps)), np.nan)
        flows[self.draw, self.tap] = self.open_flow_l_per_s
        return flows

    @functools.cached_property
    def open_taps(self) -> np.ndarray:
        """Draws x taps: which taps are open in each draw."""
        open_taps = np.zeros((self.draws, len(self.tap_model.taps)), dtype=bool)
        open_taps[self.draw, self.tap] = True
        return open_taps

    def worst(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` taps most often under the useful flow (then lowest 5th percentile)."""
        return self.taps.sort_values(
            ["share_under_useful", "p5_l_per_s"], ascending=[False, True]
        ).head(n)


def flow_ranks(flows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``flows``, increasing, and each flow's index among them."""
    distinct = np.unique(flows)
    return distinct, np.searchsorted(distinct, flows)


def grouped_stats(
    group: np.ndarray,
    flows: np.ndarray,
    useful: np.ndarray,
    groups: int,
    ranks: tuple | None = None,
) -> dict:
    """Percentiles and starved share of the open-tap flows of each group, vectorised.

    Parameters
    ----------
    group : numpy.ndarray
        Group of each open-tap flow (a tap, or a village): integers in ``[0, groups)``.
    flows : numpy.ndarray
        The open-tap flows [l/s].
    useful : numpy.ndarray
        The useful flow of each open-tap flow's tap [l/s].
    groups : int
        Number of groups.
    ranks : tuple, optional
        ``flow_ranks(flows)``, when already computed (the taps and the villages of one run
        share it).

    Returns
    -------
    dict
        ``open_draws``, ``p5_l_per_s``, ``p50_l_per_s``, ``p95_l_per_s`` and
        ``share_under_useful``, arrays of ``groups`` values: the 5th, 50th and 95th percentiles
        interpolate linearly between the sorted flows, as ``np.percentile`` does; a group
        without open draws has NaN statistics and 0 open draws.
    """
    distinct, rank = flow_ranks(flows) if ranks is None else ranks
    # the flows by group, then by flow, exactly: one sort of integers (group, rank of the
    # flow among the distinct flows), about a fifth of the cost of an argsort of the flows
    # and a stable sort of their groups; the flows are read back from the distinct values
    n = max(len(distinct), 1)
    ordered = distinct[np.sort(group.astype(np.int64) * n + rank) % n] if flows.size else flows
    count = np.bincount(group, minlength=groups)
    first = np.concatenate(([0], np.cumsum(count)[:-1]))
    last = np.maximum(count - 1, 0)
    out = {"open_draws": count.astype(int)}
    for q, name in ((5, "p5_l_per_s"), (50, "p50_l_per_s"), (95, "p95_l_per_s")):
        position = q / 100 * last
        low = np.floor(position).astype(int)
        high = np.minimum(low + 1, last)
        if ordered.size:
            a = ordered[np.minimum(first + low, ordered.size - 1)]
            b = ordered[np.minimum(first + high, ordered.size - 1)]
        else:
            a = b = np.zeros(groups)
        out[name] = np.where(count > 0, a + (b - a) * (position - low), np.nan)
    under = np.bincount(group, weights=flows < useful - 1e-12, minlength=groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_under_useful"] = np.where(count > 0, under / count, np.nan)
    return out


def summarize(run: TapRun) -> TapRun:
    """Fill ``run.taps`` and ``run.villages`` from its open-tap flows."""
    taps = run.tap_model.taps
    useful = taps["tap_flow_l_per_s"].to_numpy() * run.useful_share
    tap, flows = run.tap, run.open_flow_l_per_s
    ranks = flow_ranks(flows)
    per_tap = grouped_stats(tap, flows, useful[tap], len(taps), ranks)
    described = ["node", "tap", "service", "village", "tap_flow_l_per_s"]
    run.taps = pd.DataFrame(
        {c: taps[c].to_numpy() for c in described}
        | {
            "useful_flow_l_per_s": useful,
            "open_probability": taps["open_probability"].to_numpy(),
        }
        | per_tap
    )
    code, names = pd.factorize(taps["village"], sort=False)
    per_village = grouped_stats(code[tap], flows, useful[tap], len(names), ranks)
    run.villages = pd.DataFrame(
        {"village": names, "taps": np.bincount(code, minlength=len(names))} | per_village
    )
    return run


def run_taps(
    tap_model: TapModel,
    draws: int = 1000,
    seed: int = 1,
    executor=None,
    useful_share: float = USEFUL_SHARE,
    chunk: int | None = None,
    progress=None,
) -> TapRun:
    """Draw ``draws`` tap openings from ``seed`` and evaluate them on ``executor``.

    Parameters
    ----------
    executor : hydro.parallel.Executor, optional
        What runs the tasks (default: the run's, :func:`hydro.parallel.current`, else in this
        process).
    useful_share : float
        A tap is starved in a draw when it gives less than this share of its flow [-].
    chunk : int, optional
        Draws per task (default: the executor's cut, :meth:`hydro.parallel.Executor.cut`,
        in tasks of :data:`TASK_MIN_DRAWS` to :data:`TASK_DRAWS` draws: on local processes,
        tasks that shrink as the draws left do, so that a worker on a faster core takes
        more of them and both finish within a small task of each other).
    progress : callable, optional
        ``progress(done, total)`` after each task [draws].
    """
    from hydro.parallel import InProcess, current

    if not 0 < useful_share <= 1:
        raise InputError(f"the useful share of a tap's flow must be in (0, 1], got {useful_share}")
    executor = executor or current() or InProcess()
    if draws < 1:
        raise InputError(f"the number of draws must be 1 or more, got {draws}")
    if chunk is None:
        sizes = executor.cut(draws, TASK_MIN_DRAWS, TASK_DRAWS)
    else:
        sizes = [min(chunk, draws - s) for s in range(0, draws, chunk)]
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).tolist()
    started = time.perf_counter()
    # other processes get the model's pickle, made once here, instead of pickling the model
    # again for every task
    sent = tap_model if isinstance(executor, InProcess) else pickle.dumps(tap_model)
    tasks = [(sent, seed, s, n) for s, n in zip(starts, sizes, strict=True)]
    blocks: list = [None] * len(tasks)
    done = 0
    for i, (draw, tap, values) in executor.run(evaluate_block, tasks):
        blocks[i] = (draw + starts[i], tap, values)
        done += tasks[i][3]
        if progress is not None:
            progress(done, draws)
    seconds = time.perf_counter() - started
    run = TapRun(
        tap_model=tap_model,
        draws=draws,
        draw=np.concatenate([b[0] for b in blocks]),
        tap=np.concatenate([b[1] for b in blocks]),
        open_flow_l_per_s=np.concatenate([b[2] for b in blocks]),
        useful_share=useful_share,
        seed=seed,
        seconds=seconds,
        executor=executor.description,
    )
    return summarize(run)


def all_taps_open(
    wn: wntr.network.WaterNetworkModel,
    taps: pd.DataFrame | None = None,
    classes: dict[str, str] | None = None,
    tap_min_pressure_m: float = defaults.TAP_MIN_PRESSURE_M,
    tank_reserve_share: float = defaults.TANK_RESERVE_SHARE,
) -> pd.DataFrame:
    """The all-taps-open case of ``wn`` (never modified), one row per tap node, by EPANET.

    Every standpipe's taps open at once (each household-connection node at its simultaneous
    flow, other junctions at their peak-hour demand), every tank at its reserve level
    (``tank_reserve_share`` of its usable depth above its minimum) and the pumps as their
    level controls then run them: the design condition's tap-flow case
    (:func:`hydro.condition.design_cases`), run by a full EPANET steady state. Each tap is
    checked at the tap, the junction's pressure less the standpipe's riser, valve and meter
    (3.5 m at 0.5 l/s per standpipe [E], docs/sources.md 7), against ``tap_min_pressure_m``.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network with its design demand.
    taps : DataFrame, optional
        Tap table (:func:`hydro.demand.tap_design`); default: from the node classes and tags
        (:func:`hydro.condition.default_taps`).
    classes : dict, optional
        Node -> class (``standpipe``, ``household``, ``junction``) over the tags and patterns.
    tap_min_pressure_m : float
        Pressure at the tap while its taps draw [m] (5 m, docs/sources.md, 5.1).
    tank_reserve_share : float
        Share of each tank's usable depth kept as reserve [-] (0.2).

    Returns
    -------
    DataFrame
        :func:`hydro.condition.taps_open_table`: node, class, village, flow_l_per_s,
        junction_pressure_m, local_loss_m, tap_pressure_m, tap_min_pressure_m, margin_m,
        governing; the governing tap (least margin) first. Empty when no node has taps.

    Examples
    --------
    >>> from hydro.network import read_network
    >>> table = all_taps_open(read_network("networks/oujda_rural.inp"))
    >>> bool(table["governing"].iloc[0]), len(table)
    (True, 8)
    """
    if taps is None:
        taps = default_taps(wn, classes)
    cases = design_cases(wn, lambda n: 0.0, taps, tap_min_pressure_m, tank_reserve_share)
    if len(cases) < 2:
        return pd.DataFrame(columns=TAPS_OPEN_COLUMNS)
    return taps_open_table(check_cases(cases[1:]), taps, node_classes(wn, classes))


def all_open_model(tap_model: TapModel) -> wntr.network.WaterNetworkModel:
    """The Monte Carlo network with every tap open (a WNTR model, pressure-driven options set):
    the deterministic run that a draw with every tap open must reproduce.

    Each tap node's elevation is raised by its standpipes' local loss with every tap open
    (:meth:`TapModel.local_loss_m`), as the draws raise it: its pressure is the tap's.
    """
    with tempfile.TemporaryDirectory(prefix="hydro-taps-") as tmp:
        path = Path(tmp) / "taps.inp"
        path.write_text(tap_model.inp_text)
        model = wntr.network.WaterNetworkModel(str(path))
    every = np.ones((1, len(tap_model.taps)), dtype=bool)
    asked, loss = tap_model.asked(every), tap_model.local_loss_m(every)
    for j, (node, q) in enumerate(zip(tap_model.tap_nodes, asked[0], strict=True)):
        junction = model.get_node(node)
        junction.demand_timeseries_list.clear()
        junction.add_demand(float(q) / LITRES_PER_M3, flat_pattern(model))
        junction.elevation += float(loss[0, j])
    return copy_network(model)


# --------------------------------------------------------------------------- outputs
def write_tap_tables(run: TapRun, folder: str | Path, prefix: str = "taps") -> list[Path]:
    """``<prefix>.csv`` (per tap), ``<prefix>_villages.csv`` and ``<prefix>_draws.csv`` (the
    flow of every tap in every draw, l/s, empty where closed).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{prefix}.csv", folder / f"{prefix}_villages.csv"]
    write_csv(run.taps, paths[0], index=False, float_format="%.5f")
    write_csv(run.villages, paths[1], index=False, float_format="%.5f")
    names = [f"{n}#{t}" for n, t in zip(run.taps["node"], run.taps["tap"], strict=True)]
    draws = pd.DataFrame(run.flows_l_per_s, columns=names)
    draws.insert(0, "draw", np.arange(1, run.draws + 1))
    paths.append(folder / f"{prefix}_draws.csv")
    write_csv(draws, paths[2], index=False, float_format="%.5f")
    return paths


#: The words of :func:`plot_taps`'s figure (a report passes them in its language).
PLOT_WORDS = {
    "band": "5th-95th percentile",
    "median": "median",
    "tap_flow": "tap flow",
    "useful_flow": "useful flow",
    "starved": "{share} starved",
    "percent": "{:.0f}%",
    "axis": "flow of an open tap [l/s]",
}


def plot_taps(run: TapRun, path, title: str = "", words: dict | None = None):
    """Per tap node: the 5th-95th percentile of a tap's flow (bar), the median (dot), the tap
    flow and the useful flow (marks); taps most often starved at the top. ``path``: a file
    name or a binary file object; ``words``: the figure's words (keys of :data:`PLOT_WORDS`;
    ``starved`` with a ``{share}`` field), English by default; the legend sits under the plot.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    words = {**PLOT_WORDS, **(words or {})}
    per_node = (
        run.taps.groupby(["node", "service"], sort=False)
        .agg(
            p5=("p5_l_per_s", "min"),
            p50=("p50_l_per_s", "median"),
            p95=("p95_l_per_s", "max"),
            under=("share_under_useful", "max"),
            flow=("tap_flow_l_per_s", "max"),
            useful=("useful_flow_l_per_s", "max"),
        )
        .reset_index()
        .sort_values(["under", "p5"], ascending=[True, False])
    )
    fig, ax = plt.subplots(figsize=(7.5, 0.35 * len(per_node) + 2.0), layout="constrained")
    y = np.arange(len(per_node))
    ax.hlines(y, per_node["p5"], per_node["p95"], color="#4477aa", lw=5, label=words["band"])
    ax.plot(per_node["p50"], y, "o", color="#222222", ms=4, label=words["median"])
    ax.plot(per_node["flow"], y, "|", color="#228833", ms=12, mew=2, label=words["tap_flow"])
    ax.plot(per_node["useful"], y, "|", color="#cc3311", ms=12, mew=2, label=words["useful_flow"])
    labels = [
        f"{n} ({words['starved'].format(share=words['percent'].format(100 * u))})"
        for n, u in zip(per_node["node"], per_node["under"], strict=True)
    ]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel(words["axis"])
    ax.set_title(title or f"Random tap opening: {run.draws:,} draws, seed {run.seed}", fontsize=10)
    fig.legend(fontsize=8, loc="outside lower center", ncol=4, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    if isinstance(path, str | Path):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, format="png", bbox_inches="tight")
    plt.close(fig)
    return path


def check_run(run: TapRun) -> None:
    """Raise when a draw's flows are not finite where a tap is open (EPANET failed silently)."""
    bad = ~np.isfinite(run.open_flow_l_per_s)
    if bad.any():
        draws = len(np.unique(run.draw[bad]))
        raise SimulationError(f"{draws} draw(s) gave no flow at open taps")


def random_taps(
    wn: wntr.network.WaterNetworkModel,
    *,
    villages: pd.DataFrame | None = None,
    year: int | None = None,
    scenario: str = "standpipes",
    classes: dict | None = None,
    tap_table: pd.DataFrame | None = None,
    draws: int = 1000,
    seed: int = 1,
    probability: float | None = None,
    useful_share: float = USEFUL_SHARE,
    tap_pressure_m: float = defaults.TAP_MIN_PRESSURE_M,
    tank_reserve_share: float = defaults.TANK_RESERVE_SHARE,
    workers: int | None = None,
    scheduler=None,
    progress=None,
    source: str = "network",
) -> TapRun:
    """Random tap opening on a network, end to end: the taps, the model, the draws.

    Taps come from the village table's projection of ``year`` (its demand is applied to the
    network), else from the node classes and taps of the model and ``classes`` and
    ``tap_table`` (:func:`hydro.condition.default_taps`). The draws run on the run's executor
    (:func:`hydro.parallel.current`), else on :func:`hydro.parallel.make_executor`
    (``workers``, ``scheduler``).
    """
    from hydro.demand import (
        apply_demand,
        check_villages_against_network,
        default_years,
        get_scenario,
        project_demand,
    )
    from hydro.parallel import executor_for

    if villages is not None:
        check_villages_against_network(villages, wn, source)
        year = year or default_years(villages)[-1]
        projection = project_demand(villages, year, get_scenario(scenario))
        wn = apply_demand(wn, projection)
        taps = projection.taps()
    else:
        if year is not None:
            raise InputError("--year needs a village table (--villages)")
        taps = default_taps(wn, classes, tap_table)
    if taps is None or taps.empty:
        raise InputError(
            f"{source}: no taps: the network has no standpipe or household-connection node "
            "(a node's class comes from its demand pattern's name, or give a village table "
            "with --villages or node classes with --classes)"
        )
    tap_model = build_tap_model(wn, taps, tap_pressure_m, probability, tank_reserve_share)
    with executor_for(workers, scheduler) as executor:
        run = run_taps(
            tap_model, draws, seed, executor, useful_share=useful_share, progress=progress
        )
    check_run(run)
    return run
