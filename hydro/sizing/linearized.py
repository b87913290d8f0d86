"""Coordinated moves for large looped networks: a linear program over one-step changes of
every pipe, on the network's response to each change measured around the current design.

A descent that downsizes one pipe at a time needs one EPANET run per pipe tried and keeps
only the few that stay feasible; on a network of hundreds of pipes it also misses the moves
that only pay together (downsize a dozen pipes, upsize the one that feeds them). Here each
round:

1. runs EPANET once per pipe moved one catalogue step down, and once per pipe moved one step
   up, from the current design, and keeps every junction's pressure change (and, with the
   targets that need them, each sized pipe's velocity change): the exact response to each
   single move, flow redistribution in the loops included;
2. chooses the cheapest set of moves (at most ``k``, at most one per pipe) whose summed
   responses keep every junction above its minimum plus a margin (and below the cap, and
   every velocity under the limit): the linear relaxation of that 0-1 program, solved by
   HiGHS, rounded to a set whose summed responses still keep every target (:func:`_rounded`);
3. runs EPANET on the moved design. Feasible: it becomes the current design, ``k`` doubles
   and the responses are measured again. Otherwise the responses did not add up (the loops
   are not linear): each junction found short has its margin raised by 1.5 times its
   shortfall, ``k`` falls to half the moves tried, and the program is solved again with the
   same responses; when the raised margins leave no saving, they are dropped and the
   program is solved once more with the smaller ``k``.

It stops when the program finds no saving without margins, ``k`` reaches zero, or the budget
ends. This is sequential linear programming with a trust region (the move limit), in the
line of Alperovits & Shamir's linear programming gradient method (1977); the responses are
computed by EPANET rather than by a formula, so pumps, valves and pressure-driven demands are
linearised like pipes. Measured on ``benchmarks/large_loops.py``'s grid16 and mesh500 (one
60 s run each, one core): the linear relaxation reached cheaper designs than the 0-1 program
solved by HiGHS' branch and bound (limited to 1 s and a 1% gap, which it took per program).
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix, vstack

log = logging.getLogger(__name__)

#: Pressure changes smaller than this are left out of the program [m].
NEGLIGIBLE_M = 1e-4
#: Velocity changes smaller than this are left out of the program [m/s].
NEGLIGIBLE_M_PER_S = 1e-6


def state(search, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Junction pressures [m] and sized pipes' velocities [m/s] (None without a velocity
    limit) of design ``pos``, by an EPANET run counted in the search's budget.
    """
    search.check_budget()
    ev = search.ev
    ev.set_design(search.rows(pos))
    ev.solve()
    ev.evaluations += 1
    pressure = ev.pressures().copy()
    velocity = ev.velocities().copy() if ev.v_max is not None else None
    return pressure, velocity


def responses(search, pos: np.ndarray, base_p, base_v):
    """Every single one-step move from ``pos``: (pipe, step, cost change, pressure change,
    velocity change or None).
    """
    moves = []
    for i in range(len(pos)):
        for step in (-1, 1):
            k = pos[i] + step
            if k < 0 or k >= search.n_options[i]:
                continue
            pos[i] = k
            p, v = state(search, pos)
            pos[i] -= step
            d_cost = search.cost_per_option[i][k] - search.cost_per_option[i][k - step]
            moves.append((i, step, d_cost, p - base_p, None if v is None else v - base_v))
    return moves


def choose(search, moves, base_p, base_v, margin, k: int) -> list[int] | None:
    """The cheapest set of at most ``k`` moves predicted to keep every target (indices into
    ``moves``; the linear relaxation, rounded), or None when no set saves money.
    """
    ev = search.ev
    n_moves = len(moves)
    cost = np.array([m[2] for m in moves])
    rows, cols, vals, lower, upper = [], [], [], [], []

    def bound(change: np.ndarray, targets, negligible: float, low, high) -> None:
        """One row per target t: ``low[t] <= sum of the chosen moves' change[:, t] <= high[t]``."""
        for t in targets:
            col = np.flatnonzero(np.abs(change[:, t]) > negligible)
            rows.extend([len(lower)] * len(col))
            cols.extend(col.tolist())
            vals.extend(change[col, t].tolist())
            lower.append(low[t])
            upper.append(high[t])

    p_min = np.broadcast_to(ev.p_min, base_p.shape) + margin
    slack = base_p - p_min
    dp = np.array([m[3] for m in moves])  # moves x junctions
    never = np.full(len(base_p), np.inf)
    # rows only for the targets that some set of moves could break
    short = np.flatnonzero(slack + np.minimum(dp, 0).sum(axis=0) < 0)
    bound(dp, short, NEGLIGIBLE_M, -slack, never)
    if ev.p_max is not None:
        room = ev.p_max - base_p
        bound(dp, np.flatnonzero(np.maximum(dp, 0).sum(axis=0) > room), NEGLIGIBLE_M, -never, room)
    dv = None if base_v is None else np.array([m[4] for m in moves])  # moves x sized pipes
    if base_v is not None:
        room = ev.v_max - base_v
        fast = np.flatnonzero(np.maximum(dv, 0).sum(axis=0) > room)
        bound(dv, fast, NEGLIGIBLE_M_PER_S, np.full(len(room), -np.inf), room)
    # at most one move per pipe, at most k moves
    pipe_of = np.array([m[0] for m in moves])
    for i in np.unique(pipe_of):
        col = np.flatnonzero(pipe_of == i)
        if len(col) > 1:
            rows.extend([len(lower)] * len(col))
            cols.extend(col.tolist())
            vals.extend([1.0] * len(col))
            lower.append(0.0)
            upper.append(1.0)
    rows.extend([len(lower)] * n_moves)
    cols.extend(range(n_moves))
    vals.extend([1.0] * n_moves)
    lower.append(0.0)
    upper.append(float(k))
    a = csr_matrix((vals, (rows, cols)), shape=(len(lower), n_moves))
    result = linprog(cost, bounds=(0, 1), method="highs",
                     **_as_inequalities(a, np.array(lower), np.array(upper)))  # fmt: skip
    if result.status != 0 or result.fun > -1e-6:
        return None
    return _rounded(result.x, moves, k, fits=_predicted_fit(ev, base_p, base_v, dp, dv, p_min))


def _predicted_fit(ev, base_p, base_v, dp, dv, p_min):
    """Whether a set of moves keeps every target by their summed responses ``dp`` (moves x
    junctions) and ``dv`` (moves x sized pipes, or None); a function of the moves' indices.
    """

    def fits(selected: list[int]) -> bool:
        p = base_p + dp[selected].sum(axis=0)
        if np.any(p < p_min - 1e-9):
            return False
        if ev.p_max is not None and np.any(p > ev.p_max + 1e-9):
            return False
        return dv is None or not np.any(base_v + dv[selected].sum(axis=0) > ev.v_max + 1e-9)

    return fits


def _rounded(x: np.ndarray, moves, k: int, fits) -> list[int] | None:
    """The program's solution ``x`` rounded to a set of moves predicted to keep every target:
    its whole moves; then its fractional upsizes, most wanted first, while the set misses a
    target; then its fractional downsizes, most wanted first, while the set still fits. If
    that saves nothing, the single move that saves most and fits. None: no saving.

    Taking every fractional upsize and no fractional downsize, as this did at first, stopped
    descents early: where the move limit binds the vertex spreads its saving over many
    fractional moves, and the upsizes taken whole cost more than the downsizes saved (on
    ``benchmarks/large_loops.py``'s grid22, 44 single downsizes still fitted by their measured
    responses when it stopped).
    """
    cost = np.array([m[2] for m in moves])
    pipe_of = np.array([m[0] for m in moves])
    up = np.array([m[1] > 0 for m in moves])
    chosen = np.flatnonzero(x > 1 - 1e-6).tolist()
    fractional = [m for m in np.argsort(-x) if 1e-6 < x[m] <= 1 - 1e-6]
    for m in (m for m in fractional if up[m]):
        if fits(chosen):
            break
        if pipe_of[m] not in pipe_of[chosen]:
            chosen.append(m)
    if not fits(chosen):
        chosen = []
    for m in (m for m in fractional if not up[m]):
        if len(chosen) < k and pipe_of[m] not in pipe_of[chosen] and fits([*chosen, m]):
            chosen.append(m)
    if cost[chosen].sum() > -1e-6:
        chosen = [m for m in np.argsort(cost) if cost[m] < -1e-6 and fits([m])][:1]
    return [int(m) for m in chosen] or None


def _as_inequalities(a, lower, upper) -> dict:
    """``lower <= a x <= upper`` as linprog's ``A_ub x <= b_ub``."""
    hi = np.isfinite(upper)
    lo = np.isfinite(lower)
    return {
        "A_ub": vstack([a[hi], -a[lo]]).tocsr(),
        "b_ub": np.concatenate([upper[hi], -lower[lo]]),
    }


def linearized_descent(search, pos: np.ndarray) -> np.ndarray:
    """Improve the feasible design ``pos`` by rounds of coordinated moves (module docstring);
    every feasible design found is offered to the search. Returns the last design.
    """
    pos = pos.copy()
    k = max(4, len(pos) // 8)
    moves = None
    while k >= 1:
        if moves is None:  # linearise around the current design
            base_p, base_v = state(search, pos)
            moves = responses(search, pos, base_p, base_v)
            margin = np.zeros_like(base_p)
        chosen = choose(search, moves, base_p, base_v, margin, k)
        if chosen is None:
            if not margin.any():
                return pos
            # the margins raised by failures may be what blocks every saving: drop them and
            # go on with the smaller move limit (k only falls between two measurements, and a
            # single move's response is exact, so this ends)
            margin[:] = 0.0
            continue
        new = pos.copy()
        for m in chosen:
            new[moves[m][0]] += moves[m][1]
        if search.deficit(new) <= 0:
            pos = new
            search.offer(pos, search.cost(pos))
            log.debug("linearised round: %d moves, cost %.2f", len(chosen), search.cost(pos))
            k = min(len(pos), 2 * k)
            moves = None
            continue
        # the responses did not add up: raise the margin where junctions fell short
        p, _ = state(search, new)
        p_min = np.broadcast_to(search.ev.p_min, p.shape)
        margin += np.maximum(p_min - p, 0.0) * 1.5 + 1e-3 * (p < p_min)
        k = len(chosen) // 2
    return pos
