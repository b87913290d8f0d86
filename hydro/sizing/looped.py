"""Least-cost sizing of looped networks: differential evolution over catalogue indices.

Method
------
1. Start: every pipe at its largest allowed entry (must be feasible, else the junctions that
   cannot reach the target even then are named), then a greedy descent that downsizes pipes,
   largest saving first, while the design stays feasible.
2. Differential evolution (DE/rand/1/bin with dithered F in [0.5, 0.9] and crossover rate in
   [0.7, 1.0]; Storn & Price 1997) over continuous vectors floored to catalogue indices, as in
   Suribabu (2010, J. Hydroinformatics 12(1)) for pipe networks. Selection by feasibility
   rules (Deb 2000): a feasible design beats an infeasible one; two infeasible ones compare
   pressure deficits; two feasible ones, costs. Each run starts from a random population and
   ends after ``patience`` generations without a better leader; runs are independent, which
   keeps the search diverse. No input is ever derived from a known best design.
3. The best design of each run is polished by a local search: single downsizing moves, then
   pair moves (downsize one pipe and upsize another) while they save money and stay feasible.
4. After each run, an iterated local search (Lourenco et al. 2003) kicks the best design
   (one to three pipes moved by one or two catalogue steps), repairs it by greedy upsizing
   (largest deficit reduction per unit of cost) and descends again. This finds designs several
   coordinated moves away that the population misses (GoYang's 177,009.56 from 177,010.36).

The settings (crossover rate, patience, independent runs polished at their end, the kicks)
were chosen by measuring the benchmarks with ``benchmarks/literature.py``: a low crossover
rate, or polishing every new best during a run, made the population converge early above $6.1M
on Hanoi; without the kicks GoYang stalled at 177,010.36.

Stopping: the evaluation budget, the time limit, or 8 runs in a row that found nothing better.
With the same seed and without hitting the time limit, the result is identical.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from hydro.errors import InfeasibleDesignError
from hydro.sizing.evaluator import Evaluator
from hydro.sizing.problem import Problem

log = logging.getLogger(__name__)


@dataclass(kw_only=True)
class LoopedResult:
    """What the looped-network optimiser found."""

    method: str
    choice: np.ndarray  # catalogue row per decision pipe
    cost: float
    evaluations: int
    seconds: float
    history: list[tuple[int, float, float]]  # (evaluations, seconds, best cost)


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

    # positions: index into each pipe's own allowed options
    def rows(self, pos: np.ndarray) -> np.ndarray:
        return np.array([self.options[i][k] for i, k in enumerate(pos)])

    def cost(self, pos: np.ndarray) -> float:
        return float(sum(c[k] for c, k in zip(self.cost_per_option, pos, strict=True)))

    def check_budget(self) -> None:
        if self.max_evaluations is not None and self.ev.evaluations >= self.max_evaluations:
            raise _BudgetSpentError
        if time.perf_counter() > self.deadline:
            raise _BudgetSpentError
        self.calls += 1
        if self.progress and self.calls % 1024 == 0 and self.best_pos is not None:
            self.progress(self.best_cost, self.ev.evaluations)  # rate-limited by the caller

    def deficit(self, pos: np.ndarray) -> float:
        self.check_budget()
        return self.ev.evaluate(self.rows(pos)).deficit_m

    def offer(self, pos: np.ndarray, cost: float) -> None:
        if cost < self.best_cost - 1e-9:
            self.best_cost, self.best_pos = cost, pos.copy()
            elapsed = time.perf_counter() - self.started
            self.history.append((self.ev.evaluations, elapsed, cost))
            if self.progress:
                self.progress(cost, self.ev.evaluations)

    def descend(self, pos: np.ndarray, pairs: bool = True) -> np.ndarray:
        """Downsize single pipes (largest saving first) and then swap pairs while feasible."""
        pos = pos.copy()
        improved = True
        while improved:
            improved = False
            savings = [
                (self.cost_per_option[i][pos[i]] - self.cost_per_option[i][pos[i] - 1], i)
                for i in range(len(pos))
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
            for i in self.rng.permutation(n):
                if pos[i] == 0:
                    continue
                save = self.cost_per_option[i][pos[i]] - self.cost_per_option[i][pos[i] - 1]
                for j in self.rng.permutation(n):
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

    def repair(self, pos: np.ndarray) -> np.ndarray | None:
        """Upsize pipes greedily (largest deficit reduction per unit of cost) until feasible."""
        pos = pos.copy()
        deficit = self.deficit(pos)
        while deficit > 0:
            best = None
            for i in range(len(pos)):
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
            for i in self.rng.choice(n, int(self.rng.integers(1, 4)), replace=False):
                step = int(self.rng.choice([-2, -1, 1, 2]))
                pos[i] = min(max(pos[i] + step, 0), self.n_options[i] - 1)
            pos = self.repair(pos)
            if pos is None:
                continue
            self.offer(pos, self.cost(pos))
            pos = self.descend(pos, pairs=False)
            if self.cost(pos) < 1.01 * self.best_cost:
                self.descend(pos)

    def run(self, population: int, patience: int) -> None:
        top = self.n_options - 1
        start = top.copy()
        if self.deficit(start) > 0:
            low = self.ev.evaluate(self.rows(start))
            raise InfeasibleDesignError(
                f"even with the largest allowed pipe everywhere the lowest pressure is "
                f"{low.min_pressure_m:.2f} m, below the target of "
                f"{self.problem.targets.min_pressure_m:g} m: the source is too low (a pump or a "
                "higher tank is needed)"
            )
        self.offer(start, self.cost(start))
        self.descend(start)
        quiet_runs = 0
        while quiet_runs < self.restarts:
            best_before = self.best_cost
            self.evolve(population, patience)
            self.shake(self.kicks)
            quiet_runs = 0 if self.best_cost < best_before - 1e-9 else quiet_runs + 1

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
) -> LoopedResult:
    """Least-cost design of a looped network (see the module docstring for the method)."""
    started = time.perf_counter()
    with Evaluator(problem) as evaluator:
        search = _Search(problem, evaluator, seed, time_limit_s, max_evaluations, progress)
        n = len(problem.pipes)
        size = population or int(min(100, max(40, 3 * n)))
        # generations without progress before a run ends: 300 for Hanoi-sized problems (as
        # measured), fewer for small ones, which converge in a few dozen
        patience = patience or int(min(300, max(50, 10 * n)))
        try:
            search.run(size, patience)
        except _BudgetSpentError:
            pass
        evaluations, engine = evaluator.evaluations, evaluator.engine
    if search.best_pos is None:  # pragma: no cover - the start is feasible or raised
        raise InfeasibleDesignError("no feasible design found")
    choice = search.rows(search.best_pos)
    seconds = time.perf_counter() - started
    log.info(
        "differential evolution: best %.2f after %d evaluations, %.1f s",
        search.best_cost,
        evaluations,
        seconds,
    )
    return LoopedResult(
        method=f"differential evolution + local search (in-memory EPANET {engine})",
        choice=choice,
        cost=search.best_cost,
        evaluations=evaluations,
        seconds=seconds,
        history=search.history,
    )
