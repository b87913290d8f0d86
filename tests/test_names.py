"""Names: every legal EPANET ID works everywhere; names that become file names are checked."""

from __future__ import annotations

from conftest import ROOT, inp_text

import hydro
from hydro.network import topology
from hydro.topology import zones

CATALOG = ROOT / "networks" / "catalogs" / "oujda_pipes.csv"


def test_an_id_with_an_at_sign_keeps_a_branched_network_branched(write_inp, tmp_path):
    # '@' is legal in EPANET IDs; hydro once used it for its own copies of sources, and a
    # node named 'J@1' then made this tree look looped (the heuristic instead of the exact
    # program, a dearer design that failed its verification).
    network = write_inp(
        inp_text(
            " J@1 20 5\n J@2 25 3\n J3 15 4\n J@4 18 2",
            " R@1 80",
            " P@1 R@1 J@1 800 200 130\n P2 J@1 J@2 500 100 130\n P@3 J@1 J3 600 150 130\n"
            " P4 J3 J@4 400 80 130",
        ),
        name="at.inp",
    )
    wn = hydro.read_network(network)
    assert topology(wn).is_branched
    pipe_zone, node_zone = zones(wn)
    assert set(node_zone) == {"J@1", "J@2", "J3", "J@4"}
    assert set(pipe_zone.values()) == {"distribution"}
    result = hydro.size_network(
        wn, hydro.read_catalog(CATALOG), hydro.Targets(10.0), output=tmp_path / "sized.inp"
    )
    assert result.method.startswith("exact 0-1 program"), result.method
    assert result.verification.ok
    assert (tmp_path / "sized.inp").is_file()
