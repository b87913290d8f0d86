"""Every legal EPANET ID works everywhere (issue 28, point 3): node IDs holding ``:``, ``,``,
``;``, ``@``, a double quote or letters outside ASCII are written in a village table's
``node:share`` cells (quoted where needed, the share after the last colon) and go through
``hydro demand``, ``hydro check`` and a small study."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from conftest import run_hydro
from test_study import VILLAGES, write_small_study

from hydro.demand import read_villages
from hydro.errors import InputError

HEADER = VILLAGES.splitlines()[0]
#: The small study's nodes, renamed to IDs that use the cell's own characters.
RENAMED = {"A_BF1": "A:BF,1", "A_N1": "A@N1", "B_BF1": "Bé:1", "B_N1": 'B,N"1'}
#: The small study's village rows with those IDs: quoted (a CSV cell holds the quotes
#: doubled), or not where the last colon is enough.
ROWS = (
    'Alpha,"""A:BF,1"":1",A@N1:1,220,2012,0.01,0.8,1,100,5,3,40,0,0,40\n'
    'Beta,Bé:1:1,"""B,N""""1"":1",160,2012,0.01,0.7,1,80,4,2,0,0,0,30\n'
)


def test_a_cell_takes_any_id_quoted_or_after_the_last_colon(tmp_path):
    table = tmp_path / "villages.csv"
    cell = '"""a;b"":0.25; ""c,d"":0.25; e:f:0.25; g@h:0.25"'
    table.write_text(f"{HEADER}\nAlpha,{cell},Aïn_1,220,2012,0.01,0.8,1,0,0,0,0,0,0,0\n")
    villages = read_villages(table)
    assert villages.at[0, "standpipe_shares"] == {"a;b": 0.25, "c,d": 0.25, "e:f": 0.25,
                                                  "g@h": 0.25}  # fmt: skip
    assert villages.at[0, "household_shares"] == {"Aïn_1": 1.0}


def test_a_semicolon_table_with_decimal_commas_keeps_the_commas_of_ids(tmp_path):
    table = tmp_path / "villages.csv"
    header = "village;standpipe_nodes;population;population_year"
    table.write_text(f'{header}\nAlpha;"""a,b"":0,5; c:d:0,5";220;2012\n')
    assert read_villages(table).at[0, "standpipe_shares"] == {"a,b": 0.5, "c:d": 0.5}


def test_the_old_forms_still_read(tmp_path):
    table = tmp_path / "villages.csv"
    table.write_text(f'{HEADER}\nAlpha,"N1:0.6, N2:0.4",N3,220,2012,0.01,0.8,1,0,0,0,0,0,0,0\n')
    assert read_villages(table).at[0, "standpipe_shares"] == {"N1": 0.6, "N2": 0.4}


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("a:b", "in double quotes"),
        ('"""abc"', "not closed"),
        ('"""a"" x"', "after the quoted node ID"),
        (":1", "without a node ID"),
    ],
)
def test_a_bad_cell_is_refused_with_the_row_and_the_form(tmp_path, cell, message):
    table = tmp_path / "villages.csv"
    table.write_text(f"{HEADER}\nAlpha,{cell},,220,2012,0.01,0.8,1,0,0,0,0,0,0,0\n")
    with pytest.raises(InputError, match=re.escape(message)) as error:
        read_villages(table)
    assert "row 2: village Alpha" in str(error.value)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """The small study (tests/test_study.py) with its douars' nodes renamed, one scenario."""
    folder = tmp_path_factory.mktemp("ids")
    path = write_small_study(folder)
    network = folder / "net.inp"
    text = network.read_text()
    for old, new in RENAMED.items():
        text = re.sub(rf"(?<!\w){old}(?!\w)", new, text)
    network.write_text(text, encoding="utf-8")
    (folder / "villages.csv").write_text(f"{HEADER}\n{ROWS}", encoding="utf-8")
    text = path.read_text()
    for section in ("budget", "sensitivity", "taps"):  # what this test does not need
        text = re.sub(rf"\n\[{section}\].*?(?=\n\[|\Z)", "\n", text, flags=re.S)
    head, first, *_, last = text.split("\n[[scenarios]]")  # keep the first scenario only
    path.write_text(f"{head}\n[[scenarios]]{first}\n[{last.split(chr(10) + '[', 1)[1]}")
    return folder


def test_demand_and_check_on_ids_with_the_cells_characters(study):
    demand = run_hydro(
        "demand", study / "villages.csv", "--network", study / "net.inp", "--year", 2030,
        "--scenario", "household_connections", "--out", study / "demand.csv",
        "--write-network", study / "demand.inp",
    )  # fmt: skip
    assert demand.returncode == 0, demand.stderr
    nodes = pd.read_csv(study / "demand_nodes.csv")["node"].tolist()
    assert sorted(nodes) == sorted(RENAMED.values())
    checked = run_hydro("check", study / "demand.inp", "--duration", 24)
    assert "Traceback" not in checked.stderr and "error:" not in checked.stderr, checked.stderr
    for node in ("A:BF,1", "Bé:1"):  # the standpipes, checked as standpipes from their tags
        assert re.search(rf"{re.escape(node)}\s+standpipe", checked.stdout), checked.stdout
    with_table = run_hydro(
        "check", study / "net.inp", "--villages", study / "villages.csv", "--duration", 24
    )
    assert "Traceback" not in with_table.stderr and "error:" not in with_table.stderr


def test_a_study_runs_on_ids_with_the_cells_characters(study):
    out = study / "out"
    done = run_hydro("run", study / "study.toml", "--out", out)
    assert done.returncode == 0, done.stdout + done.stderr
    pipes = pd.read_csv(out / "pipes.csv")
    assert set(RENAMED.values()) <= set(pipes["from"]) | set(pipes["to"])
