"""Least-cost sizing of looped networks: a hydraulic start, differential evolution and local
search over catalogue indices, in independent parallel runs.

Method
------
1. Start: every pipe at its largest allowed entry. When that design misses the minimum
   pressure and nothing else can do better (no velocity limit, no pressure cap, no pump or
   valve: a larger pipe then never lowers a pressure), the junctions that stay short are named
   and the search stops. Otherwise infeasibility is never claimed from this design: with a
   velocity limit, a smaller neighbour can move flow away from a pipe that is too fast.
2. Networks of more than :data:`LARGE_PIPES` decision pipes, or whose largest design is not
   feasible, get a start from hydraulic knowledge (:mod:`hydro.sizing.start`): the
   unit-headloss design, then the fixed-flow linear program of Alperovits & Shamir (1977)
   from that design's flows, re-solved with updated flows; then a greedy descent that
   downsizes pipes, largest saving first, while the design stays feasible. Large networks
   also get tree restarts: the same program on flows that follow a spanning tree of
   shortest paths from the sources (least-cost looped designs are nearly branched: big
   mains, loops closed by small pipes), improved by coordinated moves chosen by a linear
   program over every pipe's measured response (:mod:`hydro.sizing.linearized`). Measured
   with ``benchmarks/large_loops.py``: on its 481- and 745-pipe networks the median of 5
   seeds after 30 s was below what the earlier search (kicks only) reached in 20 minutes.
3. Up to :data:`LARGE_PIPES` pipes: differential evolution (DE/rand/1/bin with dithered F in
   [0.5, 0.9] and crossover rate in [0.7, 1.0]; Storn & Price 1997) over continuous vectors
   floored to catalogue indices, as in Suribabu (2010, J. Hydroinformatics 12(1)) for pipe
   networks. Selection by feasibility rules (Deb 2000): a feasible design beats an
   infeasible one; two infeasible ones compare deficits (pressure and velocity); two feasible
   ones, costs. Each DE run starts from a random population and ends after ``patience``
   generations without a better leader; its best design is polished by single downsizing
   moves, then pair moves (downsize one pipe and upsize another) while they save money.
4. An iterated local search (Lourenco et al. 2003) kicks the best design (one to three pipes
   moved by one or two catalogue steps; on large networks one pipe and up to two of its
   neighbours, with pair moves among neighbours within two nodes), repairs it by greedy
   upsizing (largest deficit reduction per unit of cost) and descends again. This finds
   designs several coordinated moves away that the population misses (GoYang's 177,009.56
   from 177,010.36). On large networks rounds of kicks (a quarter as many as decision
   pipes) alternate with tree restarts from trees drawn at random (each link's length
   multiplied by 1 + a u, with a drawn in [0.2, 1] per restart and u in [0, 1] per link),
   until the time limit.
5. Parallel runs: on large networks one independent run per worker of the executor
   (:func:`optimise`, ``workers``; small ones by default run once, as a second process costs
   more to start than it gains there), each with its own EPANET project and random stream;
   the cheapest design wins. Run 0 goes on in this process; the others run on the run's
   executor (:func:`hydro.parallel.current`: local processes or a Dask cluster), or on local
   processes of their own outside a run.

If no run finds a feasible design, :class:`InfeasibleDesignError` names the constraints no
evaluated design met (each junction's best pressure, each pipe's lowest velocity) and what the
least-bad design misses by. No input is ever derived from a known best design.

The settings (crossover rate, patience, independent runs polished at their end, the kicks)
were chosen by measuring the benchmarks with ``benchmarks/literature.py``: a low crossover
rate, or polishing every new best during a run, made the population converge early above $6.1M
on Hanoi; without the kicks GoYang stalled at 177,010.36. The large-network settings were
measured with ``benchmarks/large_loops.py``.

Stopping: the evaluation budget (per run), the time limit, or (up to :data:`LARGE_PIPES`
pipes) 8 DE runs in a row that found nothing better. With the same seed and without hitting
the time limit, the result is identical.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from dataclasses import dataclass, field

import numpy as np

from hydro.errors import InfeasibleDesignError, some_of
from hydro.parallel import Executor, InProcess, LocalPool, capped, current
from hydro.sizing.evaluator import Evaluator
from hydro.sizing.linearized import linearized_descent
from hydro.sizing.problem import Problem
from hydro.sizing.start import FixedFlowProgram, lp_start, tree_flows, unit_headloss_start

log = logging.getLogger(__name__)

#: Decision pipes above which the search is the fixed-flow program's start followed by an
#: iterated local search among neighbouring pipes (differential evolution over hundreds of
#: integer variables does not converge in minutes).
LARGE_PIPES = 100


@dataclass(kw_only=True)
class LoopedResult:
    """What the looped-network optimiser found."""

    method: str
    choice: np.ndarray  # catalogue row per decision pipe
    cost: float
    evaluations: int
    seconds: float
    history: list[tuple[int, float, float]]  # (evaluations, seconds, best cost)
    notes: list[str] = field(default_factory=list)


class _BudgetSpentError(Exception):
    pass


class _Search:
    def __init__(
        self,
        problem: Problem,
        evaluator: Evaluator,
        seed: int,
        time_limit_s: float,
        max_evaluations: int | None,
        progress,
    ):
        self.problem, self.ev = problem, evaluator
        self.rng = np.random.default_rng(seed)
        self.deadline = time.perf_counter() + time_limit_s
        self.started = time.perf_counter()
        self.max_evaluations = max_evaluations
        self.progress = progress
        # options per pipe sorted by cost (catalogue rows are sorted by cost already)
        self.options = [problem.allowed[p] for p in problem.pipes]
        self.n_options = np.array([len(o) for o in self.options])
        # catalogue row of (pipe, position), padded with each pipe's last option
        self._option_rows = np.array(
            [np.pad(o, (0, self.n_options.max() - len(o)), mode="edge") for o in self.options]
        )
        self._pipe_range = np.arange(len(self.options))
        self.cost_per_option = [
            problem.catalog.costs[o] * problem.lengths[i] for i, o in enumerate(self.options)
        ]
        self.best_pos: np.ndarray | None = None
        self.best_cost = np.inf
        self.history: list[tuple[int, float, float]] = []
        self.calls = 0
        self.restarts = 8  # DE restarts in a row without a better design before stopping
        # Measured on Hanoi (see benchmarks/literature.py): a high crossover rate suits this
        # non-separable problem; independent runs, polished at their end, keep the diversity.
        self.f_range, self.cr_range = (0.5, 0.9), (0.7, 1.0)
        self.kicks = 5 * len(self.options)  # iterated-local-search kicks after each DE run
        #: above this many decision pipes: a start from the fixed-flow program and an iterated
        #: local search with moves among neighbouring pipes, no differential evolution
        self.large = len(self.options) > LARGE_PIPES
        self.near = neighbourhoods(problem) if self.large else None
        self.least_deficit, self.least_pos = np.inf, None  # the least-bad design seen
        self.program = None  # the fixed-flow program, built at the first tree restart
        self.run_index = 0  # which of the parallel runs this is
        #: on large networks: kicks around the best design between two tree restarts, as a
        #: share of the decision pipes
        self.kick_share = 0.25

    # positions: index into each pipe's own allowed options
    def rows(self, pos: np.ndarray) -> np.ndarray:
        return self._option_rows[self._pipe_range, pos]

    def cost(self, pos: np.ndarray) -> float:
        return float(sum(c[k] for c, k in zip(self.cost_per_option, pos, strict=True)))

    def check_budget(self) -> None:
        if self.max_evaluations is not None and self.ev.evaluations >= self.max_evaluations:
            raise _BudgetSpentError
        if time.perf_counter() > self.deadline:
            raise _BudgetSpentError
        self.calls += 1
        if self.progress and self.calls % 1024 == 0:  # best_cost inf: none feasible yet
            self.progress(self.best_cost, self.ev.evaluations)  # rate-limited by the caller

    def deficit(self, pos: np.ndarray) -> float:
        self.check_budget()
        value = self.ev.evaluate(self.rows(pos)).deficit_m
        if value < self.least_deficit:
            self.least_deficit, self.least_pos = value, pos.copy()
        return value

    def offer(self, pos: np.ndarray, cost: float) -> None:
        if cost < self.best_cost - 1e-9:
            self.best_cost, self.best_pos = cost, pos.copy()
            elapsed = time.perf_counter() - self.started
            self.history.append((self.ev.evaluations, elapsed, cost))
            if self.progress:
                self.progress(cost, self.ev.evaluations)

    def descend(self, pos: np.ndarray, pairs: bool = True, region=None) -> np.ndarray:
        """Downsize single pipes (largest saving first) and then swap pairs while feasible.

        ``region``: the pipes that may be downsized (default: all); pair moves then take
        their partner among each one's neighbours.
        """
        pos = pos.copy()
        everywhere = region is None
        region = range(len(pos)) if everywhere else region
        improved = True
        while improved:
            improved = False
            savings = [
                (self.cost_per_option[i][pos[i]] - self.cost_per_option[i][pos[i] - 1], i)
                for i in region
                if pos[i] > 0
            ]
            for _, i in sorted(savings, reverse=True):
                pos[i] -= 1
                if self.deficit(pos) <= 0:
                    improved = True
                    self.offer(pos, self.cost(pos))
                else:
                    pos[i] += 1
            if improved or not pairs:
                continue
            # pair moves: downsize i, upsize j, when it saves money
            n = len(pos)
            order = self.rng.permutation(n) if everywhere else self.rng.permutation(region)
            for i in order:
                if pos[i] == 0:
                    continue
                save = self.cost_per_option[i][pos[i]] - self.cost_per_option[i][pos[i] - 1]
                partners = self.near[i] if self.large else range(n)
                for j in self.rng.permutation(partners):
                    if j == i or pos[j] >= self.n_options[j] - 1:
                        continue
                    extra = self.cost_per_option[j][pos[j] + 1] - self.cost_per_option[j][pos[j]]
                    if extra >= save - 1e-9:
                        continue
                    pos[i] -= 1
                    pos[j] += 1
                    if self.deficit(pos) <= 0:
                        improved = True
                        self.offer(pos, self.cost(pos))
                        break
                    pos[i] += 1
                    pos[j] -= 1
                if improved:
                    break
        return pos

    def repair(self, pos: np.ndarray, candidates=None) -> np.ndarray | None:
        """Upsize pipes greedily (largest deficit reduction per unit of cost) until feasible;
        ``candidates``: the pipes that may be upsized (default: all).
        """
        pos = pos.copy()
        deficit = self.deficit(pos)
        candidates = range(len(pos)) if candidates is None else candidates
        while deficit > 0:
            best = None
            for i in candidates:
                if pos[i] >= self.n_options[i] - 1:
                    continue
                extra = self.cost_per_option[i][pos[i] + 1] - self.cost_per_option[i][pos[i]]
                pos[i] += 1
                gain = deficit - self.deficit(pos)
                pos[i] -= 1
                if gain > 0 and (best is None or gain / max(extra, 1e-9) > best[0]):
                    best = (gain / max(extra, 1e-9), i)
            if best is None:
                return None
            pos[best[1]] += 1
            deficit = self.deficit(pos)
        return pos

    def shake(self, kicks: int) -> None:
        """Iterated local search around the best design.

        Iterated local search around the best design: move one to three pipes by one or
        two catalogue steps, repair greedily, descend; full pair moves only for designs within
        1% of the best.
        """
        n = len(self.options)
        for _ in range(kicks):
            pos = self.best_pos.copy()
            if self.large:  # one pipe and up to two of its neighbours; repair nearby
                first = int(self.rng.integers(n))
                others = self.near[first]
                count = min(len(others), int(self.rng.integers(0, 3)))
                kicked = [first, *self.rng.choice(others, count, replace=False)]
                candidates = sorted({j for i in kicked for j in self.near[i]} | set(kicked))
            else:
                kicked = self.rng.choice(n, int(self.rng.integers(1, 4)), replace=False)
                candidates = None
            for i in kicked:
                step = int(self.rng.choice([-2, -1, 1, 2]))
                pos[i] = min(max(pos[i] + step, 0), self.n_options[i] - 1)
            pos = self.repair(pos, candidates)
            if pos is None:
                continue
            self.offer(pos, self.cost(pos))
            # on large networks the descent stays where the kick moved pipes: a descent over
            # every pipe costs hundreds of evaluations, nearly all of them failures far from
            # the kick (measured on benchmarks/large_loops.py's grid16: 5% cheaper designs
            # at 120 s); :meth:`run` descends over every pipe after each round of kicks
            pos = self.descend(pos, pairs=False, region=candidates)
            if self.cost(pos) < 1.01 * self.best_cost:
                self.descend(pos, region=candidates)

    def run(self, population: int, patience: int) -> None:
        top = self.n_options - 1
        start = top.copy()
        feasible_top = self.deficit(start) <= 0
        if not feasible_top and self.largest_proves_infeasible():
            raise InfeasibleDesignError(self.unreachable_message(start))
        if feasible_top:
            self.offer(start, self.cost(start))
        if self.large or not feasible_top:
            first = unit_headloss_start(self.problem, self.ev, self.rows, self.deficit)
            if first is not None:
                self.offer(first, self.cost(first))
            lp = lp_start(self.problem, self.ev, start if first is None else first,
                          self.rows, self.deficit)  # fmt: skip
            if lp is not None:
                self.offer(lp, self.cost(lp))
        if self.large:  # the first tree restart: the shortest-path tree itself in run 0
            self.tree_restart(0.0 if self.run_index == 0 else None)
        if self.best_pos is not None:
            self.descend(self.best_pos, pairs=not self.large)
        if self.large and self.best_pos is not None:
            while True:  # restarts from other trees, and kicks, until the budget ends
                self.shake(int(self.kick_share * len(self.options)))
                self.tree_restart(None)
        quiet_runs = 0
        while quiet_runs < self.restarts:
            best_before = self.best_cost
            self.evolve(population, patience)
            if self.best_pos is not None:
                self.shake(self.kicks)
            quiet_runs = 0 if self.best_cost < best_before - 1e-9 else quiet_runs + 1

    def tree_restart(self, noise: float | None) -> None:
        """A design from the fixed-flow program on the flows of a random shortest-path tree
        (:func:`hydro.sizing.start.tree_flows`; ``noise`` None: drawn in [0.2, 1]), improved
        by coordinated moves (:mod:`hydro.sizing.linearized`).
        """
        if self.program is None:
            self.program = FixedFlowProgram(self.problem, self.ev)
        noise = float(self.rng.uniform(0.2, 1.0)) if noise is None else noise

        def flows() -> np.ndarray:  # after the run of the largest design: its demands
            return tree_flows(self.problem, self.ev, self.program, self.rng, noise)

        top = self.n_options - 1
        pos = lp_start(self.problem, self.ev, top, self.rows, self.deficit,
                       first_flows=flows, program=self.program)  # fmt: skip
        if pos is None:
            return
        self.offer(pos, self.cost(pos))
        linearized_descent(self, pos)

    def largest_proves_infeasible(self) -> bool:
        """Whether "the largest pipe everywhere misses the minimum pressure" proves that no
        design can meet it: only without a velocity limit or a pressure cap, and without
        pumps or valves, where a larger pipe never lowers a pressure.
        """
        t = self.problem.targets
        snapshot = self.problem.snapshot
        return (
            t.max_velocity_m_per_s is None
            and t.max_pressure_m is None
            and not snapshot.pump_name_list
            and not snapshot.valve_name_list
        )

    def unreachable_message(self, pos: np.ndarray) -> str:
        self.ev.set_design(self.rows(pos))
        self.ev.solve()
        pressure = self.ev.pressures()
        target = self.ev.p_min - 1e-3  # the targets without the evaluator's margin
        target = np.broadcast_to(target, pressure.shape)
        short = np.flatnonzero(pressure < target + 1e-3)
        order = short[np.argsort(pressure[short] - target[short])]
        listed = some_of(
            [f"{self.ev.junction_names[k]} at {pressure[k]:.2f} m (target {target[k]:g} m)"
             for k in order]
        )  # fmt: skip
        return (
            f"even with the largest allowed pipe everywhere, junction(s) {listed} stay "
            "below their minimum pressure: the source is too low (a pump or a higher tank is "
            "needed)"
        )

    def evolve(self, population: int, patience: int) -> None:
        """One DE run from a fresh random population; its best design is polished at the end."""
        n = len(self.options)
        top = self.n_options - 1
        pop = self.rng.uniform(0, top + 1, size=(population, n)).clip(0, top + 0.999)
        pos = np.floor(pop).astype(int)
        costs = np.array([self.cost(p) for p in pos])
        deficits = np.array([self.deficit(p) for p in pos])
        for k in np.flatnonzero(deficits <= 0):
            self.offer(pos[k], costs[k])

        def leader() -> tuple[float, float]:
            """Population's best by the feasibility rules: (0, cost) or (deficit, inf)."""
            feasible = deficits <= 0
            if feasible.any():
                return (0.0, float(costs[feasible].min()))
            return (float(deficits.min()), np.inf)

        others = [np.delete(np.arange(population), k) for k in range(population)]
        stale = 0
        while stale < patience:  # generations without a better leader
            best_before = leader()
            for k in range(population):
                a, b, c = self.rng.choice(others[k], 3, replace=False)
                f = self.rng.uniform(*self.f_range)
                cr = self.rng.uniform(*self.cr_range)
                mutant = pop[a] + f * (pop[b] - pop[c])
                cross = self.rng.random(n) < cr
                cross[self.rng.integers(n)] = True
                trial = np.where(cross, mutant, pop[k])
                # reflect into [0, top + 1)
                trial = np.where(trial < 0, -trial, trial)
                trial = np.where(trial >= top + 1, 2 * (top + 1) - trial - 1e-9, trial)
                trial = trial.clip(0, top + 0.999)
                t_pos = np.floor(trial).astype(int)
                t_cost = self.cost(t_pos)
                # a feasible parent cheaper than the trial cannot lose: skip the hydraulics
                if deficits[k] <= 0 and t_cost >= costs[k]:
                    continue
                t_def = self.deficit(t_pos)
                better = (t_def <= 0 and (deficits[k] > 0 or t_cost < costs[k])) or (
                    t_def > 0 and deficits[k] > 0 and t_def < deficits[k]
                )
                if better:
                    pop[k], costs[k], deficits[k] = trial, t_cost, t_def
                    if t_def <= 0:
                        self.offer(t_pos, t_cost)
            now = leader()
            improved = now[0] < best_before[0] - 1e-9 or now[1] < best_before[1] - 1e-9
            stale = 0 if improved else stale + 1
        feasible = np.flatnonzero(deficits <= 0)
        if len(feasible):
            self.descend(pos_of(pop[feasible[np.argmin(costs[feasible])]]))


def neighbourhoods(problem: Problem) -> list[np.ndarray]:
    """Per decision pipe: the decision pipes within two nodes of it (itself excluded)."""
    snapshot = problem.snapshot
    at_node: dict[str, list[int]] = {}
    ends = []
    for i, p in enumerate(problem.pipes):
        link = snapshot.get_link(p)
        ends.append((link.start_node_name, link.end_node_name))
        for n in ends[-1]:
            at_node.setdefault(n, []).append(i)
    first = [{j for n in ends[i] for j in at_node[n]} for i in range(len(ends))]
    near = []
    for i in range(len(ends)):
        two = set(first[i])
        for j in first[i]:
            two |= first[j]
        two.discard(i)
        near.append(np.array(sorted(two), dtype=int))
    return near


def pos_of(vector: np.ndarray) -> np.ndarray:
    """Catalogue positions of a continuous DE vector (each coordinate floored)."""
    return np.floor(vector).astype(int)


def optimise(
    problem: Problem,
    seed: int = 0,
    time_limit_s: float = 60.0,
    max_evaluations: int | None = None,
    progress=None,
    population: int | None = None,
    patience: int | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
) -> LoopedResult:
    """Least-cost design of a looped network (see the module docstring for the method).

    ``workers`` independent runs search at once, each with its own EPANET project and its
    own random stream (run 0 uses ``seed`` itself, run k the stream of ``[seed, k]``); the
    cheapest design wins, so with the same seed and no time limit reached the result is the
    same whichever executor runs them. Run 0 goes on in this process; runs 1 to
    ``workers - 1`` on ``executor`` (default: the run's, :func:`hydro.parallel.current`;
    outside a run, ``workers - 1`` local processes of their own, at most one per core). An
    in-process executor runs them after run 0, within what is left of the time limit.
    Default ``workers``: above :data:`LARGE_PIPES` decision pipes, the executor's workers
    (outside a run: one per usable core); else one. ``max_evaluations`` bounds each run.
    ``progress(best_cost, evaluations)`` follows run 0; the others report at their end.
    """
    started = time.perf_counter()
    executor = executor or current()
    if workers is None:  # measured: small problems end by their own rule within seconds,
        # and a second process costs more to start than it gains (Two-loop: 5 s -> 11-19 s)
        large = len(problem.pipes) > LARGE_PIPES
        workers = (executor.workers if executor else usable_cores()) if large else 1
    workers = max(1, workers if executor else capped(workers))
    options = dict(
        seed=seed,
        deadline_wall=time.time() + time_limit_s,
        max_evaluations=max_evaluations,
        population=population,
        patience=patience,
    )
    own = LocalPool(workers - 1) if workers > 1 and executor is None else None
    try:
        others = _Others(own or executor, problem, workers, options) if workers > 1 else None
        main = _one_run(problem, 0, progress=progress, **options)
        runs = [main, *(others.results() if others else [])]
    except BaseException:
        if own:  # an error or Ctrl-C: the other runs would go on to the time limit
            own.terminate()
        raise
    if own:
        own.close()
    return _best_of(problem, runs, time.perf_counter() - started)


def _best_of(problem: Problem, runs: list[dict], seconds: float) -> LoopedResult:
    """The cheapest design of the runs (ties: the lowest run), or why none was feasible."""
    evaluations = sum(r["evaluations"] for r in runs)
    feasible = [r for r in runs if r["best_pos"] is not None]
    if not feasible:
        raise InfeasibleDesignError(_never_met(problem, runs, evaluations))
    best = min(feasible, key=lambda r: (r["best_cost"], r["run"]))
    log.info(
        "looped optimiser: best %.2f after %d evaluations in %d run(s), %.1f s",
        best["best_cost"],
        evaluations,
        len(runs),
        seconds,
    )
    method = (
        "fixed-flow LP starts on shortest-path trees (Alperovits & Shamir 1977) + "
        "coordinated moves + iterated local search"
        if len(problem.pipes) > LARGE_PIPES
        else "differential evolution + local search"
    )
    notes = []
    if len(runs) > 1:
        costs = ", ".join(format(r["best_cost"], ",.2f") for r in runs)
        notes.append(
            f"{len(runs)} independent runs in parallel; best from run {best['run']} ({costs})"
        )
    return LoopedResult(
        method=f"{method} (in-memory EPANET {best['engine']}, {len(runs)} run(s))",
        choice=best["choice"],
        cost=best["best_cost"],
        evaluations=evaluations,
        seconds=seconds,
        history=_merged_history(runs),
        notes=notes,
    )


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _one_run(
    problem: Problem,
    run: int,
    seed: int,
    deadline_wall: float,
    max_evaluations: int | None,
    population: int | None,
    patience: int | None,
    progress=None,
) -> dict:
    """One independent search; a plain dict so that it crosses process boundaries."""
    rng_seed = seed if run == 0 else [seed, run]
    with Evaluator(problem) as evaluator:
        time_left = max(0.0, deadline_wall - time.time())
        search = _Search(problem, evaluator, 0, time_left, max_evaluations, progress)
        search.rng = np.random.default_rng(rng_seed)
        search.run_index = run
        n = len(problem.pipes)
        size = population or int(min(100, max(40, 3 * n)))
        # generations without progress before a run ends: 300 for Hanoi-sized problems (as
        # measured), fewer for small ones, which converge in a few dozen
        patience = patience or int(min(300, max(50, 10 * n)))
        try:
            search.run(size, patience)
        except _BudgetSpentError:
            pass
        least = search.least_pos
        violations = _violations(search, least) if least is not None else []
        return {
            "run": run,
            "best_pos": search.best_pos,
            "best_cost": search.best_cost,
            "choice": search.rows(search.best_pos) if search.best_pos is not None else None,
            "evaluations": evaluator.evaluations,
            "engine": evaluator.engine,
            "history": search.history,
            "best_pressure_m": evaluator.best_pressure_m.copy(),
            "lowest_velocity_m_per_s": evaluator.lowest_velocity_m_per_s.copy(),
            "junction_names": evaluator.junction_names,
            "p_min": np.broadcast_to(evaluator.p_min, evaluator.best_pressure_m.shape) - 1e-3,
            "least_deficit": search.least_deficit,
            "violations": violations,
        }


def _violations(search: _Search, pos: np.ndarray) -> list[tuple[float, str]]:
    """What design ``pos`` misses: (excess, description) per violated target, worst first."""
    ev, t = search.ev, search.problem.targets
    ev.set_design(search.rows(pos))
    ev.solve()
    pressure = ev.pressures()
    target = np.broadcast_to(ev.p_min - 1e-3, pressure.shape)
    out = []
    for k in np.flatnonzero(pressure < target):
        out.append(
            (
                float(target[k] - pressure[k]),
                f"junction {ev.junction_names[k]} at {pressure[k]:.2f} m "
                f"(minimum {target[k]:g} m, short by {target[k] - pressure[k]:.2f} m)",
            )
        )
    if t.max_pressure_m is not None:
        for k in np.flatnonzero(pressure > t.max_pressure_m):
            out.append(
                (
                    float(pressure[k] - t.max_pressure_m),
                    f"junction {ev.junction_names[k]} at {pressure[k]:.2f} m (maximum "
                    f"{t.max_pressure_m:g} m, over by {pressure[k] - t.max_pressure_m:.2f} m)",
                )
            )
    if t.max_velocity_m_per_s is not None:
        v = ev.velocities()
        for i in np.flatnonzero(v > t.max_velocity_m_per_s):
            out.append(
                (
                    float(v[i] - t.max_velocity_m_per_s),
                    f"pipe {search.problem.pipes[i]} at {v[i]:.2f} m/s (limit "
                    f"{t.max_velocity_m_per_s:g} m/s, over by "
                    f"{v[i] - t.max_velocity_m_per_s:.2f} m/s)",
                )
            )
    return sorted(out, reverse=True)


def _never_met(problem: Problem, runs: list[dict], evaluations: int) -> str:
    """The message when no run found a feasible design: the constraints that no evaluated
    design met, and what the least-bad design misses.
    """
    if evaluations == 0:
        return (
            "the time limit ended before any design was evaluated (reading the network and "
            "preparing the search took it all): allow more time with --time-limit"
        )
    t = problem.targets
    best_p = np.max([r["best_pressure_m"] for r in runs], axis=0)
    low_v = np.min([r["lowest_velocity_m_per_s"] for r in runs], axis=0)
    names, p_min = runs[0]["junction_names"], runs[0]["p_min"]
    never = []
    for k in np.argsort(best_p - p_min):
        if best_p[k] >= p_min[k]:
            break
        never.append(
            f"junction {names[k]} never reached its minimum of {p_min[k]:g} m "
            f"(best {best_p[k]:.2f} m)"
        )
    if t.max_velocity_m_per_s is not None:
        for i in np.argsort(-low_v):
            if low_v[i] <= t.max_velocity_m_per_s:
                break
            never.append(
                f"pipe {problem.pipes[i]} never ran at or below {t.max_velocity_m_per_s:g} m/s "
                f"(lowest {low_v[i]:.2f} m/s)"
            )
    least = min(runs, key=lambda r: r["least_deficit"])
    missed = "; ".join(d for _, d in least["violations"][:5])
    more = len(least["violations"]) - 5
    head = f"no feasible design found in {evaluations:,} hydraulic evaluations"
    parts = [head]
    if never:
        parts.append(
            "never met by any design evaluated: "
            + "; ".join(never[:5])
            + (f" and {len(never) - 5} more" if len(never) > 5 else "")
        )
    if missed:
        parts.append(
            "the closest design misses: " + missed + (f" and {more} more" if more > 0 else "")
        )
    return ". ".join(parts)


def _merged_history(runs: list[dict]) -> list[tuple[int, float, float]]:
    """Improvements of the best cost over all runs, by time (evaluations: of that run)."""
    events = sorted((s, c, e) for r in runs for e, s, c in r["history"])
    merged, best = [], np.inf
    for s, c, e in events:
        if c < best - 1e-9:
            best = c
            merged.append((e, s, c))
    return merged


def _other_run(problem: Problem, run: int, options: dict) -> tuple[str, object]:
    """Run ``run`` as an executor's task: ``("done", result)``, or why it has none."""
    try:
        return "done", _one_run(problem, run, **options)
    except InfeasibleDesignError as exc:
        return "infeasible", str(exc)
    except Exception:  # reported by the parent; the other runs still count
        return "error", traceback.format_exc()


class _Others:
    """Runs 1 to ``workers - 1`` on an executor while run 0 goes on in this thread.

    A thread hands the runs to the executor and collects their results; with an in-process
    executor they run when :meth:`results` is called, after run 0.
    """

    def __init__(self, executor: Executor, problem: Problem, workers: int, options: dict):
        self.tasks = [(problem, k, options) for k in range(1, workers)]
        self.executor = executor
        self.outcomes: list[tuple[str, object]] = []
        self.error: BaseException | None = None
        self.thread = None
        if not isinstance(executor, InProcess):
            self.thread = threading.Thread(target=self._collect, daemon=True)
            self.thread.start()

    def _collect(self) -> None:
        try:
            for _, outcome in self.executor.run(_other_run, self.tasks):
                self.outcomes.append(outcome)
        except BaseException as exc:  # raised again in the caller's thread
            self.error = exc

    def results(self) -> list[dict]:
        """Wait for every run (they stop by the same deadline) and return their results."""
        if self.thread is None:
            self._collect()
        else:
            self.thread.join()
        if self.error is not None:
            raise self.error
        done = []
        for kind, value in self.outcomes:
            if kind == "done":
                done.append(value)
            else:
                log.warning("a parallel run ended without a result (%s): %s", kind, value)
        return sorted(done, key=lambda r: r["run"])
