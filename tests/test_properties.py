"""Property tests (issue 15): random and mutated study files, village tables and catalogues
either load or raise hydro's own error; never another exception, never a file written."""

from __future__ import annotations

import json
import math
import tomllib

import numpy as np
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hydro.catalog import read_catalog
from hydro.demand import read_villages
from hydro.errors import HydroError
from hydro.outputs import MARKER, Outputs
from hydro.pumps import read_pump_catalog
from hydro.study import load_study

STUDY = ROOT / "studies" / "oujda" / "study.toml"
VILLAGES = ROOT / "demand_profiles" / "oujda_villages.csv"
PIPES = ROOT / "networks" / "catalogs" / "oujda_pipes.csv"
PUMPS = ROOT / "networks" / "catalogs" / "oujda_pumps.csv"

FAST = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# --------------------------------------------------------------------------- a TOML writer
def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def toml_text(data: dict) -> str:
    """A TOML document holding ``data`` (top-level scalars, then tables and arrays of tables)."""
    lines = [f"{json.dumps(k)} = {toml_value(v)}" for k, v in data.items()
             if not isinstance(v, dict) and not _array_of_tables(v)]  # fmt: skip
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"[{json.dumps(key)}]")
            lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()]
        elif _array_of_tables(value):
            for item in value:
                lines.append(f"[[{json.dumps(key)}]]")
                lines += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def _array_of_tables(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def base_study() -> dict:
    text = STUDY.read_text().replace('"../../', f'"{ROOT}/')
    return tomllib.loads(text)


def test_the_toml_writer_round_trips_the_study():
    data = base_study()
    assert tomllib.loads(toml_text(data)) == data


# --------------------------------------------------------------------------- strategies
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
values = st.recursive(
    scalars.filter(lambda v: v is not None),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),  # fmt: skip
    max_leaves=6,
)


def paths_of(data, prefix=()):
    """Every (path, value) in a nested dict/list."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield (*prefix, k), v
            yield from paths_of(v, (*prefix, k))
    elif isinstance(data, list):
        for k, v in enumerate(data):
            yield (*prefix, k), v
            yield from paths_of(v, (*prefix, k))


def mutate(data, path, how, new, new_key):
    parent = data
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if how == "delete":
        del parent[last]
    elif how == "replace":
        parent[last] = new
    elif how == "add" and isinstance(parent, dict):
        parent[new_key] = new


#: Numbers that break naive code: not finite, zero, negative, huge, fractional, boolean.
EDGES = [math.nan, math.inf, -math.inf, 0, 0.0, -1, -1e-9, 1e12, 50, 2.7, True, "10"]


@st.composite
def mutated_studies(draw):
    data = base_study()
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = [p for p, _ in paths_of(data)]
        if not paths:
            break
        numeric = [p for p, v in paths_of(data) if isinstance(v, int | float)]
        if numeric and draw(st.booleans()):  # half the time: a number becomes an edge case
            mutate(data, draw(st.sampled_from(numeric)), "replace", draw(st.sampled_from(EDGES)),
                   None)  # fmt: skip
            continue
        path = draw(st.sampled_from(paths))
        how = draw(st.sampled_from(["delete", "replace", "replace", "add"]))
        new = draw(values)
        if new is None:
            how = "delete"
        mutate(data, path, how, new, draw(st.text(min_size=1, max_size=10)))
    return data


def no_new_files(folder, before: set[str]) -> bool:
    return {p.name for p in folder.iterdir()} == before


# --------------------------------------------------------------------------- study files
@FAST
@given(data=mutated_studies())
def test_mutated_study_files_load_or_raise_hydros_error(tmp_path, data):
    path = tmp_path / "study.toml"
    path.write_text(toml_text(data))
    try:
        study = load_study(path)
    except HydroError:
        return
    # what loads is finite and within bounds where it matters
    assert study.money.budget_eur > 0 and math.isfinite(study.money.budget_eur)
    assert 0 < study.money.life_years <= 100 and 0 <= study.money.discount_rate <= 0.3
    assert study.money.currency_per_eur.value > 0
    assert study.design.base_year <= study.design.horizon_year
    assert all(math.isfinite(c.value) and c.value >= 0 for c in study.prices.costs.values())
    assert no_new_files(tmp_path, {"study.toml"})


@FAST
@given(text=st.text(max_size=400))
def test_random_text_as_a_study_file_raises_hydros_error(tmp_path, text):
    path = tmp_path / "study.toml"
    path.write_bytes(text.encode("utf-8", errors="replace"))
    try:
        load_study(path)
    except HydroError:
        pass
    assert no_new_files(tmp_path, {"study.toml"})


# --------------------------------------------------------------------------- CSV tables
@st.composite
def mutated_text(draw, original: str):
    """A text with a few characters or cells changed, lines dropped or duplicated."""
    text = original
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        how = draw(st.sampled_from(["char", "cell", "drop", "dup", "sep"]))
        lines = text.splitlines()
        if not lines:
            break
        k = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        if how == "char" and text:
            i = draw(st.integers(min_value=0, max_value=len(text) - 1))
            text = text[:i] + draw(st.sampled_from(list(';,#"\n.-e0 x:'))) + text[i + 1 :]
            continue
        if how == "cell":
            cells = lines[k].split(",")
            j = draw(st.integers(min_value=0, max_value=len(cells) - 1))
            cells[j] = draw(st.sampled_from(["", "nan", "inf", "-1", "1e12", "2.7", "0,5", "x",
                                             "#", "=1+1", '"a,b"']))  # fmt: skip
            lines[k] = ",".join(cells)
        elif how == "drop":
            del lines[k]
        elif how == "dup":
            lines.insert(k, lines[k])
        elif how == "sep":
            lines[k] = lines[k].replace(",", ";")
        text = "\n".join(lines) + "\n"
    return text


@FAST
@given(text=mutated_text(VILLAGES.read_text()))
def test_mutated_village_tables_load_or_raise_hydros_error(tmp_path, text):
    path = tmp_path / "villages.csv"
    path.write_text(text)
    try:
        table = read_villages(path)
    except HydroError:
        return
    assert table["population"].between(0, 1e6).all()
    assert table["population_year"].between(1900, 2200).all()
    assert no_new_files(tmp_path, {"villages.csv"})


@FAST
@given(text=mutated_text(PIPES.read_text()))
def test_mutated_pipe_catalogues_load_or_raise_hydros_error(tmp_path, text):
    path = tmp_path / "pipes.csv"
    path.write_text(text)
    try:
        catalog = read_catalog(path)
    except HydroError:
        return
    assert catalog.table["label"].is_unique
    assert (catalog.costs > 0).all() and (catalog.diameters > 0).all()
    assert all(math.isfinite(v) for v in [*catalog.costs, *catalog.diameters])


@FAST
@given(text=mutated_text(PUMPS.read_text()))
def test_mutated_pump_catalogues_load_or_raise_hydros_error(tmp_path, text):
    path = tmp_path / "pumps.csv"
    path.write_text(text)
    try:
        table = read_pump_catalog(path)
    except HydroError:
        return
    # what loads is what a pump curve needs (hydro.pumps.read_pump_catalog's rules)
    numbers = table[["flow_l_per_s", "head_m", "efficiency", "price"]].to_numpy(float)
    assert np.isfinite(numbers).all() and (numbers >= 0).all()
    assert (table["efficiency"] <= 1).all()
    for _, points in table.groupby("pump"):
        assert len(points) in (1, 3)
        points = points.sort_values("flow_l_per_s")
        assert (np.diff(points["flow_l_per_s"]) > 0).all() and points["flow_l_per_s"].iloc[-1] > 0
        assert (np.diff(points["head_m"]) < 0).all()
    assert no_new_files(tmp_path, {"pumps.csv"})


@FAST
@given(text=st.binary(max_size=300))
def test_random_bytes_as_tables_raise_hydros_error_or_load(tmp_path, text):
    path = tmp_path / "table.csv"
    path.write_bytes(text)
    for reader in (read_villages, read_catalog, read_pump_catalog):
        try:
            reader(path)
        except HydroError:
            pass
    assert no_new_files(tmp_path, {"table.csv"})


# --------------------------------------------------------------------------- outputs
names = st.text(alphabet="abc./_-", min_size=1, max_size=12)


@FAST
@given(written=st.lists(names, max_size=5), previous=st.lists(names, max_size=5))
def test_publishing_never_touches_a_file_outside_the_output(tmp_path_factory, written, previous):
    root = tmp_path_factory.mktemp("publish")
    outside = root / "outside.txt"
    outside.write_text("keep")
    folder = root / "out"
    folder.mkdir()
    (folder / MARKER).write_text("# hydro\n" + "\n".join([*previous, "../outside.txt"]) + "\n")
    outputs = Outputs()
    try:
        with outputs.assemble(outputs.folder(folder)) as staging:
            for name in written:
                target = (staging / name).resolve()
                if target.is_relative_to(staging.resolve()) and target != staging.resolve():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if not target.is_dir():
                        target.write_text("x")
    except (HydroError, OSError):
        pass
    assert outside.read_text() == "keep"
    assert sorted(p.name for p in root.iterdir()) == ["out", "outside.txt"]
