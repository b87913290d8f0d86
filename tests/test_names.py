"""Names: every legal EPANET ID works everywhere; names that become file names are checked."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT, inp_text, run_hydro

import hydro
from hydro.errors import InputError
from hydro.network import topology
from hydro.outputs import check_file_name
from hydro.study.config import load_study
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
    assert topology(wn).kind == "branched"
    pipe_zone, node_zone = zones(wn)
    assert set(node_zone) == {"J@1", "J@2", "J3", "J@4"}
    assert set(pipe_zone.values()) == {"distribution"}
    result = hydro.size_network(
        wn, hydro.read_catalog(CATALOG), hydro.Targets(10.0), output=tmp_path / "sized.inp"
    )
    assert result.method.startswith("exact 0-1 program"), result.method
    assert result.verification.ok
    assert (tmp_path / "sized.inp").is_file()


STUDY = ROOT / "studies" / "oujda" / "study.toml"


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("../pwned", "holds '/'"),
        ("a/b", "holds '/'"),
        ("/abs", "holds '/'"),
        ("a\\\\b", "holds '\\\\'"),
        ("nul\\u0000byte", "holds the control character 0x00"),
        ("x" * 300, "is 300 characters long"),
        ("..", "is '..'"),
        ("", "is ''"),
        (" padded", "is ' padded'"),
    ],
)
def test_a_scenario_name_that_is_no_file_name_is_refused_before_computing(tmp_path, name, rule):
    text = STUDY.read_text().replace("../../", str(ROOT) + "/")
    study = tmp_path / "study.toml"
    study.write_text(text.replace('name = "standpipes"\n', f'name = "{name}"\n', 1))
    with pytest.raises(InputError, match=r"\[scenarios\[0\]\] name = .*: " + re.escape(rule)):
        load_study(study)
    assert listing(tmp_path) == ["study.toml"]


def test_a_study_name_that_is_no_file_name_is_refused_by_hydro_run(tmp_path):
    text = STUDY.read_text().replace("../../", str(ROOT) + "/")
    study = tmp_path / "study.toml"
    study.write_text(text.replace('name = "oujda"', 'name = "../../escaped"', 1))
    done = run_hydro("run", study, cwd=tmp_path, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "error: " in done.stderr and "name = '../../escaped': holds '/'" in done.stderr
    assert "Traceback" not in done.stderr and "unexpected" not in done.stderr
    assert listing(tmp_path) == ["study.toml"]


def test_file_name_rule_accepts_real_names():
    for name in ("standpipes", "household_connections", "Aïn Béni Mathar 2030", "a.b-c (2)"):
        assert check_file_name(name, "name") == name
    with pytest.raises(InputError, match=r"^name = 'a/b': holds '/'; a name that becomes"):
        check_file_name("a/b", "name")


def listing(folder) -> list[str]:
    """Every file and folder under ``folder``, relative."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _size_hand_worked_tree(folder, middle: str, standpipe: str):
    """Size the hand-worked tree of test_condition.py with these junction IDs."""
    folder.mkdir()
    (folder / "tree.inp").write_text(
        "[TITLE]\nhand-worked tree\n[JUNCTIONS]\n"
        f" {middle}   0  0\n {standpipe}   0  0.2  standpipe\n"
        "[RESERVOIRS]\n R   20\n[PIPES]\n"
        f" TRUNK   R  {middle}  150  50  140  0  Open\n"
        f" BRANCH  {middle}  {standpipe}  250  50  140  0  Open\n"
        "[PATTERNS]\n standpipe  1 1 1 1 1 1 1 1 1 1 1 1\n"
        " standpipe  1 1 1 1 1 1 1 1 1 1 1 1\n"
        "[OPTIONS]\n Units LPS\n Headloss H-W\n[TIMES]\n Duration 0\n Pattern Timestep 1:00\n"
        "[END]\n"
    )
    (folder / "cat.csv").write_text(
        "material,inner_diameter_mm,cost_per_m,roughness\n"
        "PE,20.4,35,140\nPE,26.0,40,140\nPE,32.6,45,140\nPE,40.8,55,140\n"
    )
    return hydro.size_network(
        hydro.read_network(folder / "tree.inp"),
        hydro.read_catalog(folder / "cat.csv"),
        hydro.Targets(10.0, tap_min_pressure_m=5.0),
    )


def test_ids_like_hydros_own_copies_and_of_31_characters_size_both_cases(tmp_path):
    # A standpipe of two taps at the end of a trunk and a branch (the hand-worked tree of
    # test_condition.py), sized for the peak hour and the tap flows together. The middle
    # junction is named as hydro once named its copy of the standpipe for the tap-flow case,
    # and the standpipe's ID has EPANET's 31 characters: the copies took those names (an
    # infeasible program) or were too long for WNTR (a crash). The IDs change nothing.
    plain = _size_hand_worked_tree(tmp_path / "plain", "J", "S")
    standpipe = "S" * 31
    named = _size_hand_worked_tree(tmp_path / "named", f"{standpipe[:19]}@tap-flows", standpipe)
    for result in (plain, named):
        assert result.method.startswith("exact 0-1 program"), result.method
        assert result.verification.ok
    assert named.cost == pytest.approx(plain.cost)
    diameters = [
        {r["pipe"]: r["inner_diameter_mm"] for r in result.table.to_dict("records")}
        for result in (plain, named)
    ]
    assert diameters[0] == diameters[1]


@pytest.mark.parametrize("kind_folder", ["kasese", "plus"])
def test_every_kind_of_study_has_its_name_checked_before_it_becomes_a_folder(tmp_path, kind_folder):
    """A solar or intermittent study named '../pwned' wrote its pack beside the output
    folder in a run of several studies; now refused before any run.
    """
    import re
    import shutil

    from hydro.errors import InputError
    from hydro.study import load_study
    from hydro.study.run import output_folders

    folder = tmp_path / "studies" / kind_folder
    shutil.copytree(ROOT / "studies" / kind_folder, folder)
    for name in ("networks", "demand_profiles"):
        (tmp_path / name).symlink_to(ROOT / name)
    toml = folder / "study.toml"
    toml.write_text(re.sub(r'(?m)^name = ".*"$', 'name = "../pwned"', toml.read_text(), count=1))
    study = load_study(folder)
    with pytest.raises(InputError, match="name holds '/'"):
        output_folders([study, study], tmp_path / "out")
    assert not (tmp_path / "pwned").exists()
