"""Shared helpers: small networks written on the fly, and the real ``hydro`` command."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
import wntr

ROOT = Path(__file__).resolve().parents[1]
NET3 = Path(wntr.__file__).parent / "library" / "networks" / "Net3.inp"
BENCHMARKS = ROOT / "networks" / "benchmarks"

#: Tolerances, named with their units.
PRESSURE_TOL_M = 0.01
EVALUATOR_TOL_M = 0.001


def hydro_command() -> list[str]:
    """The installed console script (falls back to ``python -m hydro.cli``)."""
    script = Path(sys.executable).parent / "hydro"
    return [str(script)] if script.exists() else [sys.executable, "-m", "hydro.cli"]


def run_hydro(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*hydro_command(), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


def assert_png_drawn(image: Path | bytes, min_side_px: int = 200) -> None:
    """``image`` (a file or its bytes) is a PNG that decodes, at least ``min_side_px`` a side,
    with something drawn on it (not one flat colour).
    """
    import matplotlib.image  # only the tests that read figures pay for matplotlib

    data = image if isinstance(image, bytes) else Path(image).read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n"), "not a PNG"
    pixels = matplotlib.image.imread(io.BytesIO(data), format="png")
    assert min(pixels.shape[:2]) >= min_side_px, pixels.shape
    assert pixels.reshape(-1, pixels.shape[-1]).std(axis=0).max() > 0.01, "a blank image"


def inp_text(
    junctions: str, reservoirs: str, pipes: str, extra: str = "", units: str = "LPS"
) -> str:
    """A minimal EPANET input file (Hazen-Williams) from its main sections."""
    return (
        f"[TITLE]\ntest network\n\n[JUNCTIONS]\n{junctions}\n\n[RESERVOIRS]\n{reservoirs}\n\n"
        f"[PIPES]\n{pipes}\n\n{extra}\n[OPTIONS]\n Units {units}\n Headloss H-W\n\n"
        "[TIMES]\n Duration 0\n\n[END]\n"
    )


@pytest.fixture
def write_inp(tmp_path):
    """Write an ``.inp`` text into the test's folder and return its path."""

    def _write(text: str, name: str = "net.inp") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return _write


@pytest.fixture
def single_pipe_inp(write_inp):
    """Reservoir at 50 m head, 1,000 m of 150 mm pipe (C = 130), junction at 10 m drawing 10 l/s."""
    return write_inp(
        inp_text(" J1 10 10", " R1 50", " P1 R1 J1 1000 150 130"), name="single_pipe.inp"
    )


@pytest.fixture
def branched_inp(write_inp):
    """A small tree: R1 -> J1 -> (J2, J3 -> J4)."""
    return write_inp(
        inp_text(
            " J1 20 5\n J2 25 3\n J3 15 4\n J4 18 2",
            " R1 80",
            " P1 R1 J1 800 200 130\n P2 J1 J2 500 100 130\n P3 J1 J3 600 150 130\n"
            " P4 J3 J4 400 80 130",
        ),
        name="branched.inp",
    )


def local_cluster(distributed):
    """A small Dask cluster on loopback, its workers threads of this process."""
    return distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    )


@pytest.fixture
def drawn(monkeypatch):
    """The figures saved while the test runs, in order (each kept as the Figure object)."""
    import matplotlib.figure  # the figure tests set the Agg backend before pyplot

    saved = []
    save = matplotlib.figure.Figure.savefig

    def keep(fig, *args, **kwargs):
        saved.append(fig)
        return save(fig, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", keep)
    return saved


def only_figure(drawn: list, png: bytes):
    """The one figure drawn, after checking its PNG bytes decode to a drawn image."""
    assert len(drawn) == 1
    assert_png_drawn(png)
    return drawn[0]
