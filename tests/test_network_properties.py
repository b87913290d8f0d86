"""Property test (issue 28, point 9): networks with non-finite and extreme numbers either read
and simulate to finite heads, or are refused with hydro's own error; never another exception."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hydro.errors import HydroError
from hydro.network import read_network
from hydro.simulation import run_simulation
from hydro.sizing import Targets
from hydro.validate import number

#: Numbers a careless or hostile file may hold, beside ordinary ones.
HOSTILE = st.sampled_from(
    ["nan", "inf", "-inf", "1e308", "-1e308", "0", "-1", "1e-300", "-0", "1e20", "NaN", "+inf"]
)


def value(ordinary: st.SearchStrategy) -> st.SearchStrategy:
    """An ordinary number as text most of the time, a hostile one otherwise."""
    return st.one_of(ordinary.map(lambda v: f"{v:g}"), HOSTILE)


@st.composite
def networks(draw) -> str:
    """A reservoir feeding a chain of 1-4 junctions, every number possibly hostile."""
    n = draw(st.integers(1, 4))
    junctions, pipes = [], []
    for k in range(1, n + 1):
        elevation = draw(value(st.floats(0, 100)))
        demand = draw(value(st.floats(0, 5)))
        pattern = " PAT" if draw(st.booleans()) else ""
        junctions.append(f" J{k} {elevation} {demand}{pattern}")
        length = draw(value(st.floats(1, 5000)))
        diameter = draw(value(st.floats(20, 500)))
        roughness = draw(value(st.floats(50, 150)))
        start = "R1" if k == 1 else f"J{k - 1}"
        pipes.append(f" P{k} {start} J{k} {length} {diameter} {roughness}")
    head = draw(value(st.floats(50, 300)))
    multipliers = " ".join(draw(st.lists(value(st.floats(0, 3)), min_size=1, max_size=4)))
    return (
        "[TITLE]\nproperty\n\n[JUNCTIONS]\n"
        + "\n".join(junctions)
        + f"\n\n[RESERVOIRS]\n R1 {head}"
        "\n\n[PIPES]\n" + "\n".join(pipes) + f"\n\n[PATTERNS]\n PAT {multipliers}\n\n"
        "[OPTIONS]\n Units LPS\n Headloss H-W\n\n[TIMES]\n Duration 0\n\n[END]\n"
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_a_network_with_any_numbers_reads_to_finite_heads_or_is_refused_cleanly(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "net.inp"
        path.write_text(text)
        try:
            wn = read_network(path)
            results = run_simulation(wn)
        except HydroError:
            return  # a clean refusal: what every hostile number must get
        # Accepted: every number of the model is finite, and so is every head computed.
        for _, pipe in wn.pipes():
            assert all(map(math.isfinite, (pipe.length, pipe.diameter, pipe.roughness)))
        for _, junction in wn.junctions():
            assert math.isfinite(junction.elevation) and junction.base_demand >= 0
        assert np.isfinite(results.head.to_numpy()).all()


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**400), 10**400),
                 st.text(max_size=5), st.none(), st.booleans()))  # fmt: skip
def test_targets_take_a_pressure_in_range_or_raise_hydros_error(pressure):
    try:
        targets = Targets(pressure)
    except HydroError:
        return
    assert number(targets.min_pressure_m, "min_pressure_m") == targets.min_pressure_m
    assert 0 <= targets.min_pressure_m <= 200
