"""A sized file carries each pipe's pressure rating in metres as data (issue 23, point 3):
``hydro check`` reads the rating the file stores, not a ``PN`` in the label; a file with
only a label (an earlier hydro, or tagged by hand) is read in one place, with a note."""

from __future__ import annotations

import logging

import pytest
import wntr
from conftest import ROOT, run_hydro
from test_compliance import checks_of, tank_fed

import hydro
from hydro.catalog import entry_tag, pipe_ratings_m, read_catalog, stored_rating_m
from hydro.compliance import check_compliance

OUJDA = ROOT / "networks" / "oujda_rural.inp"
CATALOG = ROOT / "networks" / "catalogs" / "oujda_pipes.csv"
#: How far a stored rating may be from the catalogue's column [m] (10 significant digits).
RATING_TOL_M = 1e-6


def test_a_sized_file_stores_each_pipes_rating_from_the_catalogue_column(tmp_path):
    out = tmp_path / "sized.inp"
    catalog = read_catalog(CATALOG)
    design = hydro.size_network(
        hydro.read_network(OUJDA), catalog, hydro.Targets(min_pressure_m=10.0), output=out
    )
    wn = hydro.read_network(out)  # EPANET's own parser reads the tags too
    by_tag = catalog.by_tag
    for name in design.table["pipe"]:
        tag = wn.get_link(name).tag
        assert stored_rating_m(tag) == pytest.approx(
            by_tag.at[entry_tag(tag), "pressure_rating_m"], abs=RATING_TOL_M
        ), tag
    assert set(pipe_ratings_m(wn)) >= set(design.table["pipe"])
    checked = run_hydro("check", out, "--duration", 24)
    assert "Traceback" not in checked.stderr
    assert "read from the PN" not in checked.stderr  # no label was parsed


def test_check_holds_a_pipe_to_the_rating_stored_not_to_the_pn_in_its_label(caplog):
    # about 40 m on the distribution pipe; its label says PN16 (163 m), the file stores 30 m
    wn = tank_fed(junction_elevation_m=20.0)
    wn.get_link("P_DIST").tag = "PE100_DN110_PN16|rating_m=30"
    assert "pressure_class" in checks_of(check_compliance(wn))
    wn.get_link("P_DIST").tag = "PE100_DN110_PN4|rating_m=163.2"  # the other way round
    with caplog.at_level(logging.WARNING, logger="hydro.catalog"):
        assert "pressure_class" not in checks_of(check_compliance(wn))
    assert "read from the PN" not in caplog.text


def test_a_label_without_a_stored_rating_is_read_once_with_a_note(caplog):
    wn = tank_fed(junction_elevation_m=20.0)
    wn.get_link("P_DIST").tag = "PE100_PN4_DN110"  # a file tagged by hand, or an older hydro
    with caplog.at_level(logging.WARNING, logger="hydro.catalog"):
        assert "pressure_class" in checks_of(check_compliance(wn))
    assert "P_DIST" in caplog.text and "read from the PN of their tag" in caplog.text


def test_the_rating_survives_a_write_and_a_read(tmp_path):
    wn = tank_fed()
    wn.get_link("P_DIST").tag = "PE100_DN110_PN10|rating_m=101.9716213"
    path = tmp_path / "net.inp"
    wntr.network.write_inpfile(wn, str(path), units="LPS")
    back = hydro.read_network(path)
    assert pipe_ratings_m(back) == {"P_DIST": pytest.approx(101.9716213)}
