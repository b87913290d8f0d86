"""The designed network for GIS (issue 25, point 7) and branches no village uses (point 8).

The GeoJSON layers are read back by GDAL (through pyogrio, the reader QGIS's own OGR provider
uses): geometry types, feature counts, attribute names, the CRS and the values.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

import numpy as np
import pytest
import wntr
from conftest import run_hydro
from test_study import write_small_study

from hydro.catalog import entry_tag
from hydro.errors import InputError
from hydro.gis import LOCAL_GRID_WKT, check_crs, network_layers, write_geojson
from hydro.network import read_network
from hydro.study.config import load_study
from hydro.study.run import run_study, write_outputs
from hydro.topology import unused_branches

pyogrio = pytest.importorskip("pyogrio")
from pyogrio.raw import read as read_raw  # noqa: E402

#: The scenarios of the small study (tests/test_study.py)
SCENARIOS = ("standpipes", "household_connections", "standpipes_pipes_for_connections",
             "standpipes_break_tank")  # fmt: skip
#: The study's steps left out here: only the scenarios and their GIS layers matter
LEFT_OUT = {"sensitivity": None, "budget": None, "stress": None}
NODE_FIELDS = {"name", "element", "class", "village", "elevation_m", "base_demand_l_per_s", "taps",
               "tap_flow_l_per_s", "pressure_min_m", "pressure_max_m", "design_case",
               "design_min_pressure_m", "design_pressure_m", "design_margin_m", "tap_pressure_m",
               "governing_tap", "tank_volume_m3", "reservoir_head_m"}  # fmt: skip
LINK_FIELDS = {"name", "element", "from_node", "to_node", "zone", "length_m", "inner_diameter_mm",
               "item", "material", "nominal_diameter_mm", "pressure_class_bar",
               "flow_max_l_per_s", "velocity_max_m_per_s", "headloss_max_m_per_km"}  # fmt: skip
#: The note on the small study's dead end DEAD, kept (the study's village word: douar)
KEPT_NOTE = "1 pipe (DEAD) leads to no douar served in this scenario; it is still sized and costed"
#: Pressures and flows are written as the run gave them (float32 in EPANET's results) [m]
PRESSURE_TOLERANCE_M = 1e-6


def small_study(folder, crs: str | None = None, dead_end: bool = False, prune: bool = False):
    """The small study of tests/test_study.py; ``dead_end``: a pipe DEAD from B_N1 to a
    junction X_END that no douar uses."""
    path = write_small_study(folder)
    text = path.read_text()
    if crs is not None:  # in place of the study's own
        text = re.sub(r"^crs = .*\n", "", text, flags=re.M)
        text = text.replace("[inputs]\n", f'[inputs]\ncrs = "{crs}"\n')
    if prune:
        text = text.replace("[design]\n", '[design]\nunused_branches = "prune"\n')
    path.write_text(text)
    if dead_end:
        wn = wntr.network.WaterNetworkModel(str(folder / "net.inp"))
        wn.add_junction("X_END", elevation=515, coordinates=(1650, 100))
        wn.add_pipe("DEAD", "B_N1", "X_END", length=300, diameter=0.1, roughness=140)
        wntr.network.write_inpfile(wn, str(folder / "net.inp"), units="LPS")
    study = load_study(path)
    return replace(study, taps=replace(study.taps, draws=0), steps=LEFT_OUT)


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gis_local")
    result = run_study(small_study(folder))
    write_outputs(result, folder / "out", "en")
    return result, folder / "out"


def test_every_scenario_has_its_layers_that_gdal_reads_with_the_local_grid(local):
    result, out = local
    for scenario in SCENARIOS:
        model = read_network(out / f"sized_{scenario}.inp")
        for layer, geometry, count, fields in (
            ("nodes", "Point", len(model.node_name_list), NODE_FIELDS),
            ("links", "LineString", len(model.link_name_list), LINK_FIELDS),
        ):
            info = pyogrio.read_info(out / f"sized_{scenario}_{layer}.geojson")
            assert info["geometry_type"] == geometry
            assert info["features"] == count
            assert fields <= set(info["fields"])
            # a local grid in metres, not degrees of WGS 84 (GDAL's default without a crs)
            assert info["crs"].startswith("LOCAL_CS[") and 'UNIT["metre",1]' in info["crs"]
    marker = (out / ".hydro-output").read_text()
    assert "sized_standpipes_nodes.geojson" in marker  # hydro's own files, replaced next run


def test_the_layers_carry_the_design_and_what_the_checks_found(local):
    result, out = local
    o = result.outcomes[0]
    meta, _, geometry, values = read_raw(out / f"sized_{o.spec.name}_nodes.geojson")
    nodes = dict(zip(meta["fields"], values, strict=True))
    names = list(nodes["name"])
    pressure = o.compliance_design.results.pressure
    for k, name in enumerate(names):
        assert abs(nodes["pressure_min_m"][k] - pressure[name].min()) < PRESSURE_TOLERANCE_M
        assert abs(nodes["pressure_max_m"][k] - pressure[name].max()) < PRESSURE_TOLERANCE_M
    classes = dict(zip(names, nodes["class"], strict=True))
    assert classes["A_BF1"] == "standpipe" and classes["T"] == "tank"
    assert classes["R_SRC"] == "reservoir" and classes["J_T"] == "junction"
    village = dict(zip(names, nodes["village"], strict=True))
    assert village["A_BF1"] == "Alpha" and village["B_BF1"] == "Beta"
    # the governing tap: one node, the tap node of least margin in the all-taps-open case
    governing = [n for n, g in zip(names, nodes["governing_tap"], strict=True) if g]
    assert len(governing) == 1
    margins = {n: m for n, m, c in zip(names, nodes["design_margin_m"], nodes["class"],
                                       strict=True) if c == "standpipe"}  # fmt: skip
    assert governing[0] == min(margins, key=margins.get)
    meta, _, _, values = read_raw(out / f"sized_{o.spec.name}_links.geojson")
    links = dict(zip(meta["fields"], values, strict=True))
    for k, name in enumerate(links["name"]):
        pipe = o.model.get_link(name)
        assert links["element"][k] == pipe.link_type.lower()
        if name not in o.model.pipe_name_list:
            continue
        assert links["inner_diameter_mm"][k] == pytest.approx(pipe.diameter * 1000)
        assert links["item"][k] == entry_tag(pipe.tag).replace("_", " ")  # the label
        velocity = o.compliance_design.results.velocity[name].abs().max()
        assert abs(links["velocity_max_m_per_s"][k] - velocity) < PRESSURE_TOLERANCE_M
    assert "PU" in set(links["name"])  # the pump as a line too
    zone = dict(zip(links["name"], links["zone"], strict=True))
    assert zone["RM1"] == "transmission" and zone["A1"] == "distribution"


def test_hydro_check_writes_the_layers_of_what_it_checked(local, tmp_path):
    _, out = local
    done = run_hydro("check", out / "sized_standpipes.inp", "--geojson", tmp_path / "design",
                     "--crs", "EPSG:32630")  # fmt: skip
    assert done.returncode == 0, done.stderr
    model = read_network(out / "sized_standpipes.inp")
    for layer, count in (
        ("nodes", len(model.node_name_list)),
        ("links", len(model.link_name_list)),
    ):
        info = pyogrio.read_info(tmp_path / f"design_{layer}.geojson")
        assert info["crs"] == "EPSG:32630" and info["features"] == count
        assert f"wrote {tmp_path / f'design_{layer}.geojson'}" in done.stdout
    nodes = json.loads((tmp_path / "design_nodes.geojson").read_text())["features"]
    assert sum(f["properties"]["governing_tap"] for f in nodes) == 1  # the design condition
    done = run_hydro("check", out / "sized_standpipes.inp", "--geojson", tmp_path / "x",
                     "--crs", "WGS84")  # fmt: skip
    assert done.returncode == 2 and "--crs: 'WGS84': the coordinate reference system" in done.stderr
    done = run_hydro("check", out / "sized_standpipes.inp", "--crs", "local")
    assert done.returncode == 1 and "give --geojson" in done.stderr
    assert not list(tmp_path.glob("x_*"))


def test_a_study_in_epsg_writes_that_crs(tmp_path):
    study = small_study(tmp_path, crs="epsg:26191")
    assert study.inputs.crs == "EPSG:26191"
    result = run_study(replace(study, scenarios=study.scenarios[:1]))
    write_outputs(result, tmp_path / "out", "en")
    path = tmp_path / "out" / "sized_standpipes_links.geojson"
    assert pyogrio.read_info(path)["crs"] == "EPSG:26191"
    text = json.loads(path.read_text())
    assert text["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::26191"
    assert pyogrio.read_info(path)["features"] == len(result.outcomes[0].model.link_name_list)


def test_a_crs_hydro_cannot_state_is_refused_naming_the_file_and_key(tmp_path):
    with pytest.raises(InputError, match=r"study.toml: \[inputs\] crs = 'WGS84'.*EPSG:<code>"):
        small_study(tmp_path, crs="WGS84")
    assert check_crs(" EPSG : 32630 ") == "EPSG:32630"
    with pytest.raises(InputError, match="local"):
        check_crs("EPSG:")


def test_names_are_escaped_and_read_back_as_written(tmp_path):
    wn = wntr.network.WaterNetworkModel()
    odd = ['J"1', "J\\2", "Douar_é<3>", "J;4"]
    wn.add_reservoir("R", base_head=100, coordinates=(0, 0))
    previous = "R"
    for k, name in enumerate(odd):
        wn.add_junction(name, elevation=10, coordinates=(100.0 * (k + 1), 0))
        wn.add_pipe(f"P{name}", previous, name, length=100, diameter=0.1, roughness=140)
        previous = name
    wn.get_link('PJ"1').vertices = [(50.0, 20.0)]
    written = write_geojson(network_layers(wn, "EPSG:32630"), tmp_path, "odd")
    meta, _, _, values = read_raw(written[0])
    assert set(dict(zip(meta["fields"], values, strict=True))["name"]) == {"R", *odd}
    meta, _, _, values = read_raw(written[1])
    assert set(dict(zip(meta["fields"], values, strict=True))["name"]) == {f"P{n}" for n in odd}
    line = json.loads(written[1].read_text())["features"][0]["geometry"]["coordinates"]
    assert line == [[0.0, 0.0], [50.0, 20.0], [100.0, 0.0]]  # through the link's vertex
    assert "NaN" not in written[0].read_text()  # not finite: null, valid JSON


def test_the_local_grid_is_written_as_gdal_reads_it(tmp_path):
    wn = wntr.network.WaterNetworkModel()
    wn.add_reservoir("R", base_head=100, coordinates=(3000, 5000))
    written = write_geojson(network_layers(wn, "local"), tmp_path, "grid")
    assert json.loads(written[0].read_text())["crs"]["properties"]["name"] == LOCAL_GRID_WKT
    _, _, geometry, _ = read_raw(written[0])
    assert len(geometry) == 1


# --------------------------------------------------------------------------- unused branches
def test_unused_branches_are_the_dead_ends_without_demand_not_the_loops():
    wn = wntr.network.WaterNetworkModel()
    wn.add_reservoir("R", base_head=100)
    for n in "ABCDEFG":
        wn.add_junction(n)
    links = [("P1", "R", "A"), ("P2", "A", "B"), ("P3", "A", "C"), ("P4", "C", "D"),
             ("P5", "B", "E"), ("P6", "E", "F"), ("P7", "F", "B"), ("P8", "F", "G")]  # fmt: skip
    for name, a, b in links:
        wn.add_pipe(name, a, b)
    # B draws; C-D is a dead branch of two pipes; the loop B-E-F stays, F-G is a dead end
    assert unused_branches(wn, {"B"}) == (["C", "D", "G"], ["P3", "P4", "P8"])
    assert unused_branches(wn, {"B", "D", "G"}) == ([], [])


def test_a_branch_no_village_uses_is_named_or_pruned(tmp_path):
    (tmp_path / "warn").mkdir()
    (tmp_path / "prune").mkdir()
    warned = small_study(tmp_path / "warn", dead_end=True)
    pruned = small_study(tmp_path / "prune", dead_end=True, prune=True)
    lines = []
    first = replace(warned, scenarios=warned.scenarios[:1])
    result = run_study(first, lines.append)
    kept = result.outcomes[0]
    # the report's note in plain words, in English and French, with the study's word
    # ("douar"); the setting's name only on the console, for the engineer (review item 4)
    assert KEPT_NOTE in kept.notes
    note = kept.notes[kept.notes.index(KEPT_NOTE)]
    assert note.fr == (
        "1 conduite (DEAD) ne mène à aucun point de desserte des douars dans ce "
        "scénario\u00a0; elle est tout de même dimensionnée et chiffrée"
    )
    warning = [line for line in lines if line.startswith("warning: scenario standpipes:")]
    assert len(warning) == 1 and KEPT_NOTE in warning[0]
    assert '[design] unused_branches = "prune"' in warning[0]
    assert "DEAD" in kept.model.link_name_list  # piped, as the note says
    for lang in ("en", "fr"):
        write_outputs(result, tmp_path / lang, lang)
        html = (tmp_path / lang / "report.html").read_text(encoding="utf-8")
        assert "DEAD" in html
        for developer in ("unused_branches", "[design]", "link(s)", "village node"):
            assert developer not in html, (lang, developer)
    assert KEPT_NOTE in (tmp_path / "en" / "report.html").read_text(encoding="utf-8")
    # the French report shows the note's own French (labels.translate reads Note.fr)
    french = (tmp_path / "fr" / "report.html").read_text(encoding="utf-8")
    assert "ne mène à aucun point de desserte des douars" in french
    assert "leads to no douar" not in french
    cut = run_study(replace(pruned, scenarios=pruned.scenarios[:1])).outcomes[0]
    assert "DEAD" not in cut.model.link_name_list
    assert "X_END" not in cut.model.node_name_list
    assert (
        "1 pipe (DEAD) leads to no douar served in this scenario and is left out of the design"
        in cut.notes
    )
    assert cut.capital_lcu < kept.capital_lcu  # 300 m of pipe fewer
    assert np.isclose(  # the same douars served either way
        cut.projection_design.totals()["peak_day_l_per_s"],
        kept.projection_design.totals()["peak_day_l_per_s"],
    )


def test_a_bad_unused_branches_value_is_refused(tmp_path):
    path = write_small_study(tmp_path)
    path.write_text(path.read_text().replace("[design]\n", '[design]\nunused_branches = "cut"\n'))
    with pytest.raises(InputError, match=r"\[design\] unused_branches = 'cut': must be one of"):
        load_study(path)
