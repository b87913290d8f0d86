"""The designed network for GIS: GeoJSON layers that QGIS opens, with the design's results.

A network becomes two layers, each one GeoJSON FeatureCollection of one geometry type (QGIS
loads each as one layer): **nodes** (junctions, tanks and reservoirs as points) and **links**
(pipes, pumps and valves as lines from the start node through the link's vertices to the end
node). Each feature carries the element's name and kind, its design (elevation, class and taps
of a node; length, inner diameter, catalogue item, material and pressure class of a pipe) and,
when the results of a run are given, what the run found (minimum and maximum pressure of a node
over the run, the highest flow, velocity and head loss of a link) and the design condition
(:mod:`hydro.condition`: the pressure a node asks and gets in its governing case, the
governing tap). Column names carry their unit (``pressure_min_m``, ``flow_max_l_per_s``).

**Coordinate reference system.** GeoJSON (RFC 7946) assumes WGS 84 longitude and latitude.
EPANET coordinates are usually projected metres, so each layer states its CRS in the
``crs`` member of GeoJSON 2008, which GDAL, and so QGIS, read:

- ``"EPSG:<code>"``: the coordinates are in that CRS (``EPSG:26191``, Merchich / Nord Maroc;
  ``EPSG:32630``, UTM zone 30N); written as ``urn:ogc:def:crs:EPSG::<code>``, except WGS 84
  (``EPSG:4326``), RFC 7946's own, written without a ``crs`` member;
- ``"local"``: a local engineering grid in metres, not tied to the Earth (an illustrative
  model drawn to scale, a sketch with its origin at the source). Written as a ``LOCAL_CS``
  WKT in the ``crs`` member, which GDAL reads as an engineering CRS in metres: QGIS draws the
  network to scale, does not place it on a world map, and will not reproject it. (Without a
  ``crs`` member GDAL would take the metres for degrees of WGS 84.)

A reader that ignores the ``crs`` member (most web tools) assumes WGS 84: give such a tool a
copy reprojected by QGIS or ``ogr2ogr``.

Text from the network (element names, catalogue items) is written by :mod:`json`, which
escapes it; numbers that are not finite are written as ``null``.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import wntr

from hydro.catalog import entry_tag, rating_of_tag
from hydro.classes import parse_node_tag
from hydro.errors import InputError
from hydro.topology import zones
from hydro.units import LITRES_PER_M3, M_PER_BAR

__all__ = ["LOCAL", "check_crs", "check_layers", "crs_member", "geojson_text", "link_table",
           "network_layers", "node_table", "write_geojson"]  # fmt: skip

#: The CRS of a local engineering grid in metres (not georeferenced).
LOCAL = "local"
#: How a local grid is written in the ``crs`` member: a WKT that GDAL reads as an
#: engineering CRS in metres (easting, northing).
LOCAL_GRID_WKT = (
    'LOCAL_CS["local engineering grid (m), not georeferenced",LOCAL_DATUM["local",32767],'
    'UNIT["metre",1],AXIS["Easting",EAST],AXIS["Northing",NORTH]]'
)
#: What ``crs`` may be, for messages.
CRS_RULE = "'EPSG:<code>' (e.g. 'EPSG:26191', 'EPSG:4326') or 'local' (a local grid in metres)"
_EPSG = re.compile(r"\s*EPSG\s*:\s*(\d{4,6})\s*", re.IGNORECASE)
#: The layers of a network, in the order they are written.
LAYERS = ("nodes", "links")


def check_crs(crs: str, where: str = "crs") -> str:
    """``crs`` as hydro writes it (``"EPSG:<code>"`` or ``"local"``), or an error.

    Parameters
    ----------
    crs : str
        ``"EPSG:<code>"`` (any case, spaces around the colon allowed) or ``"local"``.
    where : str
        What gave it (the file and key), for the message.

    Examples
    --------
    >>> check_crs("epsg: 26191")
    'EPSG:26191'
    >>> check_crs("local")
    'local'
    """
    if isinstance(crs, str):
        if crs.strip().lower() == LOCAL:
            return LOCAL
        match = _EPSG.fullmatch(crs)
        if match:
            return f"EPSG:{int(match.group(1))}"
    given = f"{where} = {crs!r}" if where else repr(crs)
    raise InputError(f"{given}: the coordinate reference system must be {CRS_RULE}")


def crs_member(crs: str) -> dict | None:
    """The GeoJSON 2008 ``crs`` member for ``crs`` (:func:`check_crs`); None for WGS 84.

    Examples
    --------
    >>> crs_member("EPSG:26191")["properties"]["name"]
    'urn:ogc:def:crs:EPSG::26191'
    >>> crs_member("EPSG:4326") is None
    True
    """
    crs = check_crs(crs)
    if crs == "EPSG:4326":
        return None  # RFC 7946's own: longitude, latitude on WGS 84
    name = LOCAL_GRID_WKT if crs == LOCAL else f"urn:ogc:def:crs:EPSG::{crs.split(':')[1]}"
    return {"type": "name", "properties": {"name": name}}


# --------------------------------------------------------------------------- tables
def _node_design(wn: wntr.network.WaterNetworkModel, name: str, classes: Mapping) -> dict:
    """A node's kind, class, elevation, taps and tank or reservoir data."""
    node = wn.get_node(name)
    kind = node.node_type.lower()
    row = {"element": kind, "class": kind, "elevation_m": np.nan, "taps": np.nan,
           "tap_flow_l_per_s": np.nan, "base_demand_l_per_s": np.nan, "tank_volume_m3": np.nan,
           "level_min_allowed_m": np.nan, "level_max_allowed_m": np.nan,
           "reservoir_head_m": np.nan}  # fmt: skip
    if kind == "junction":
        tag = parse_node_tag(node.tag)
        row["class"] = classes.get(name) or (tag.node_class if tag else "junction")
        row["elevation_m"] = node.elevation
        if tag is not None and tag.taps:
            row["taps"], row["tap_flow_l_per_s"] = tag.taps, tag.tap_flow_l_per_s
        demand = sum(d.base_value for d in node.demand_timeseries_list)
        row["base_demand_l_per_s"] = demand * LITRES_PER_M3
    elif kind == "tank":
        row["elevation_m"] = node.elevation
        row["level_min_allowed_m"], row["level_max_allowed_m"] = node.min_level, node.max_level
        area = math.pi * node.diameter**2 / 4
        row["tank_volume_m3"] = area * (node.max_level - node.min_level)
    else:
        row["reservoir_head_m"] = node.base_head
    return row


def node_table(
    wn: wntr.network.WaterNetworkModel,
    results=None,
    classes: Mapping[str, str] | None = None,
    condition: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per node of ``wn`` (index: its name) with its design and results.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (not modified).
    results : hydro.simulation.SimulationResults, optional
        A run of ``wn``: each node's lowest and highest pressure over it [m] (at a tank: its
        water level above the bottom).
    classes : mapping, optional
        node -> class (standpipe, household, junction); default: the ``[TAGS]`` hydro wrote.
    condition : DataFrame, optional
        :func:`hydro.compliance.check_design_condition` of ``wn``: per junction, the case of
        least margin (``design_case``), the pressure it asks and gets there
        (``design_min_pressure_m``, ``design_pressure_m``, ``design_margin_m``), the pressure
        at the tap while all taps draw (``tap_pressure_m``) and whether it is the governing
        tap (``governing_tap``: the tap node of least margin in that case).

    Returns
    -------
    pandas.DataFrame
        Columns: element, class, elevation_m, base_demand_l_per_s (before patterns),
        taps, tap_flow_l_per_s, tank_volume_m3, level_min_allowed_m, level_max_allowed_m,
        reservoir_head_m, then pressure_min_m, pressure_max_m and the design condition's
        columns when given (NaN where a column does not apply).
    """
    classes = classes or {}
    table = pd.DataFrame.from_dict(
        {name: _node_design(wn, name, classes) for name in wn.node_name_list}, orient="index"
    )
    if results is not None:
        pressure = results.pressure.reindex(columns=table.index)
        table["pressure_min_m"] = pressure.min()
        table["pressure_max_m"] = pressure.max()
    if condition is not None and not condition.empty:
        table = table.join(_condition_columns(condition))
        table["governing_tap"] = table["governing_tap"].eq(True)  # tanks, reservoirs: False
    return table


def _condition_columns(condition: pd.DataFrame) -> pd.DataFrame:
    """Per node: the design condition's governing case and the governing tap."""
    worst = condition.sort_values("margin_m").groupby("node", sort=False).head(1)
    out = pd.DataFrame(
        {
            "design_case": worst["condition"].to_numpy(),
            "design_min_pressure_m": worst["min_pressure_m"].to_numpy(),
            "design_pressure_m": worst["pressure_m"].to_numpy(),
            "design_margin_m": worst["margin_m"].to_numpy(),
        },
        index=worst["node"].to_numpy(),
    )
    taps = condition[condition["condition"] == "tap flows"]
    if "tap_pressure_m" in taps.columns:
        out["tap_pressure_m"] = taps.set_index("node")["tap_pressure_m"]
    tapped = taps[taps["demand_l_per_s"] > 0]
    governing = tapped.loc[tapped["margin_m"].idxmin(), "node"] if not tapped.empty else None
    out["governing_tap"] = [n == governing for n in out.index]
    return out


def _catalogue_columns(tag: str, by_tag: pd.DataFrame | None) -> dict:
    """A pipe's catalogue item, material, nominal diameter and pressure class from its tag
    (the catalogue entry it names, :func:`hydro.catalog.entry_tag`, and the rating it stores).
    """
    key = entry_tag(tag)
    row = {"item": key.replace("_", " "), "material": "", "nominal_diameter_mm": np.nan,
           "pressure_class_bar": np.nan}  # fmt: skip
    if by_tag is not None and key in by_tag.index:
        entry = by_tag.loc[key]
        if isinstance(entry, pd.DataFrame):  # a tag given twice: the first entry
            entry = entry.iloc[0]
        row["item"] = str(entry["label"])
        row["material"] = str(entry.get("material", "") or "")
        row["nominal_diameter_mm"] = entry.get("nominal_diameter_mm", np.nan)
        row["pressure_class_bar"] = entry.get("pressure_class_bar", np.nan)
    elif (rating := rating_of_tag(tag)[0]) is not None:
        row["pressure_class_bar"] = round(rating / M_PER_BAR, 6)
    return row


def link_table(wn: wntr.network.WaterNetworkModel, results=None, catalog=None) -> pd.DataFrame:
    """One row per link of ``wn`` (index: its name) with its design and results.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (not modified).
    results : hydro.simulation.SimulationResults, optional
        A run of ``wn``: each link's highest flow [l/s], velocity [m/s] and head loss per km
        [m/km] over it (absolute values).
    catalog : hydro.catalog.Catalog, optional
        The pipe catalogue: a pipe's material, nominal diameter and pressure class from the
        entry its ``[TAGS]`` word names; without it, the pressure class written in the tag.

    Returns
    -------
    pandas.DataFrame
        Columns: element (pipe, pump, valve), from_node, to_node, zone (transmission or
        distribution, :func:`hydro.topology.zones`), length_m, inner_diameter_mm, item,
        material, nominal_diameter_mm, pressure_class_bar, roughness, valve_type,
        valve_setting, then flow_max_l_per_s, velocity_max_m_per_s, headloss_max_m_per_km
        when ``results`` are given.
    """
    by_tag = catalog.by_tag if catalog is not None else None
    pipe_zone, _ = zones(wn)
    rows = {}
    for name, link in wn.links():
        kind = link.link_type.lower()
        row = {"element": kind, "from_node": link.start_node_name,
               "to_node": link.end_node_name, "zone": pipe_zone.get(name, ""),
               "length_m": np.nan, "inner_diameter_mm": np.nan, "roughness": np.nan,
               "valve_type": "", "valve_setting": np.nan}  # fmt: skip
        row.update(_catalogue_columns(link.tag or "", by_tag if kind == "pipe" else None))
        if kind == "pipe":
            row["length_m"], row["roughness"] = link.length, link.roughness
            row["inner_diameter_mm"] = link.diameter * 1000
        elif kind == "valve":
            row["valve_type"], row["valve_setting"] = link.valve_type, link.initial_setting
            row["inner_diameter_mm"] = link.diameter * 1000
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    if results is not None:
        flow = results.flow.reindex(columns=table.index).abs()
        table["flow_max_l_per_s"] = flow.max() * LITRES_PER_M3
        table["velocity_max_m_per_s"] = results.velocity.reindex(columns=table.index).abs().max()
        headloss = results.headloss.reindex(columns=table.index).abs().max()
        table["headloss_max_m_per_km"] = headloss / table["length_m"] * 1000
    return table


# --------------------------------------------------------------------------- GeoJSON
def _value(value):
    """A JSON value: numpy scalars as Python ones, numbers that are not finite as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _point(wn, name: str) -> list[float]:
    x, y = wn.get_node(name).coordinates
    return [float(x), float(y)]


def network_layers(
    wn: wntr.network.WaterNetworkModel,
    crs: str,
    nodes: pd.DataFrame | None = None,
    links: pd.DataFrame | None = None,
) -> dict[str, dict]:
    """The network as two GeoJSON FeatureCollections: ``{"nodes": ..., "links": ...}``.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (not modified); its coordinates are in ``crs``.
    crs : str
        ``"EPSG:<code>"`` or ``"local"`` (:func:`check_crs`).
    nodes, links : DataFrame, optional
        :func:`node_table` and :func:`link_table` (default: those of ``wn`` without
        results); each row's columns become the feature's properties.

    Returns
    -------
    dict
        layer name -> FeatureCollection (a ``dict`` :func:`geojson_text` writes).

    Examples
    --------
    >>> from hydro.network import read_network
    >>> layers = network_layers(read_network("networks/oujda_rural.inp"), "local")
    >>> layers["nodes"]["features"][0]["geometry"]["type"]
    'Point'
    >>> layers["links"]["features"][0]["geometry"]["type"]
    'LineString'
    """
    member = crs_member(crs)
    nodes = node_table(wn) if nodes is None else nodes
    links = link_table(wn) if links is None else links
    geometry = {
        "nodes": lambda n: {"type": "Point", "coordinates": _point(wn, n)},
        "links": lambda n: {"type": "LineString", "coordinates": _line(wn, n)},
    }
    layers = {}
    for layer, table in (("nodes", nodes), ("links", links)):
        features = [
            {
                "type": "Feature",
                "properties": {"name": str(name), **{str(k): _value(v) for k, v in row.items()}},
                "geometry": geometry[layer](name),
            }
            for name, row in zip(table.index, table.to_dict("records"), strict=True)
        ]
        collection = {"type": "FeatureCollection", "name": layer}
        if member is not None:
            collection["crs"] = member
        collection["features"] = features
        layers[layer] = collection
    return layers


def _line(wn, name: str) -> list[list[float]]:
    link = wn.get_link(name)
    inner = [[float(x), float(y)] for x, y in (link.vertices or [])]
    return [_point(wn, link.start_node_name), *inner, _point(wn, link.end_node_name)]


def check_layers(wn: wntr.network.WaterNetworkModel, check, crs: str, catalog=None) -> dict:
    """The layers of ``wn`` with what :func:`hydro.compliance.check_network` found in its
    last case (the design year when it checks the opening and the design year).

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network checked (not modified).
    check : hydro.compliance.NetworkCheck
        ``check_network(wn, ...)``.
    crs : str
        ``"EPSG:<code>"`` or ``"local"`` (:func:`check_crs`).
    catalog : hydro.catalog.Catalog, optional
        The pipe catalogue (:func:`link_table`).

    Returns
    -------
    dict
        :func:`network_layers`.
    """
    case = check.cases[-1]
    report = case.report
    nodes = node_table(wn, report.results, report.node_classes, case.condition)
    return network_layers(wn, crs, nodes, link_table(wn, report.results, catalog))


def geojson_text(collection: dict) -> str:
    """A FeatureCollection as GeoJSON text (UTF-8, names escaped by :mod:`json`)."""
    return json.dumps(collection, ensure_ascii=False, allow_nan=False, indent=1) + "\n"


def write_geojson(layers: dict[str, dict], folder: str | os.PathLike, prefix: str) -> list[Path]:
    """Write each layer of :func:`network_layers` as ``<prefix>_<layer>.geojson`` in
    ``folder`` (a folder being assembled, :meth:`hydro.outputs.Outputs.assemble`); returns
    the files written.
    """
    written = []
    for layer in LAYERS:
        path = Path(folder) / f"{prefix}_{layer}.geojson"
        path.write_text(geojson_text(layers[layer]), encoding="utf-8")
        written.append(path)
    return written
