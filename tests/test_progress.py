"""Long solves show progress (issue 28, point 8): ``hydro size`` prints its stages and, every
few seconds of a HiGHS solve, the elapsed time, then the cost, bound and gap, on stderr with
the time since the command started; ``--quiet`` silences it."""

from __future__ import annotations

import re
import time

import pytest
from conftest import ROOT

from hydro.cli import main
from hydro.sizing import tree

CATALOG = ROOT / "networks" / "catalogs" / "oujda_pipes.csv"


@pytest.fixture
def slow_milp(monkeypatch):
    """HiGHS made to last a little longer than the heartbeat, which is made short."""
    real = tree.milp

    def slow(*args, **kwargs):
        time.sleep(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(tree, "milp", slow)
    monkeypatch.setattr(tree, "HEARTBEAT_S", 0.05)


def size(branched_inp, tmp_path, *options):
    return main([*options, "size", str(branched_inp), "--catalog", str(CATALOG),
                 "--min-pressure", "10", "--output", str(tmp_path / "sized.inp")])  # fmt: skip


def test_a_tree_sizing_shows_its_solve_and_stages_on_stderr(slow_milp, branched_inp, tmp_path,
                                                            capsys):  # fmt: skip
    assert size(branched_inp, tmp_path) == 0
    err = capsys.readouterr().err
    assert re.search(r"\[\s*[\d.]+ s\] solving the 0-1 program \(4 decision pipes\): \d+ s of at "
                     r"most \d+ s", err), err  # fmt: skip
    assert re.search(r"0-1 program: .* solved in [\d.]+ s: cost [\d,.]+, bound [\d,.]+, gap", err)
    assert "verifying the design" in err and "checking the design over 72 h" in err


def test_quiet_silences_the_progress(slow_milp, branched_inp, tmp_path, capsys):
    assert size(branched_inp, tmp_path, "--quiet") == 0
    err = capsys.readouterr().err
    assert "solving" not in err and "verifying" not in err and "bound" not in err, err


def test_progress_stamps_share_one_clock_and_never_go_back(capsys):
    """The steps' lines and the library channel's lines use one clock (a newcomer saw
    ``[    2 s] verifying`` then ``[  0.4 s] checking``).
    """
    import logging
    import time

    from hydro.cli._common import PROGRESS_LOGGER, Steps, show_progress

    show_progress(quiet=False)
    time.sleep(0.3)
    steps = Steps(quiet=False)
    logging.getLogger(PROGRESS_LOGGER).info("from the library")
    steps("from a step")
    stamps = [float(m) for m in re.findall(r"\[\s*([\d.]+) s\]", capsys.readouterr().err)]
    assert len(stamps) == 2 and stamps[0] >= 0.3 and stamps[1] >= stamps[0]


def test_the_looped_search_reports_before_any_design_is_feasible(capsys):
    """A looped search that finds no feasible design still shows it is working (a newcomer
    saw one line, then nothing for 60 s, on Net3 with a catalogue too small for it).
    """
    from hydro.cli._common import Progress

    Progress(every_s=0.0)(float("inf"), 2048)
    assert "no design yet  evaluations 2,048" in capsys.readouterr().err
