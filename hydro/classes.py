"""Node and pipe classes: one home for what a node is and how many taps it has.

A junction's class sets its minimum pressure (standpipe 10 m, household connection 15 m,
other junctions 0 m, Oujda brief 5.1) and whether it draws tap flows in the design condition
(:mod:`hydro.condition`). :func:`node_classes` is the one place that builds them, in this
order of precedence:

1. a class table given by the user (``element,class[,taps,tap_flow_l_per_s]``,
   :func:`read_classes` and :func:`read_tap_table`);
2. the node's tag in the ``.inp`` file's ``[TAGS]`` section, which hydro writes
   (:func:`node_tag`: ``standpipe:2@0.25`` is a standpipe with 2 taps of 0.25 l/s,
   ``household:28@0.2`` a household-connection node with 28 connections of 0.2 l/s each,
   ``junction`` a node that serves no one), so a sized or demand-applied network keeps its
   classes and taps; EPANET reads a tag as a label and ignores it;
3. the names of its demand patterns (``standpipe``, ``household``, as ``hydro demand``
   writes them);
4. else ``junction``.

Pipe classes (``distribution``, ``transmission``) come from the topology
(:func:`hydro.topology.zones`) unless a class table gives them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import wntr

from hydro.errors import InputError, did_you_mean

#: Classes of nodes: served by standpipes, by household connections, or by no one.
NODE_CLASSES = ("standpipe", "household", "junction")
#: Classes of pipes, found from the topology unless given.
PIPE_CLASSES = ("distribution", "transmission")
#: Classes whose nodes have taps (the tap-flow case of the design condition).
TAP_CLASSES = ("standpipe", "household")
#: Tags of earlier versions: ``taps:N@Q``, N taps of Q l/s (the class from the patterns).
LEGACY_TAP_PREFIX = "taps"


class NodeTag(NamedTuple):
    """What a node's hydro tag says: its class (None: from its patterns) and taps."""

    node_class: str | None
    taps: int | None
    tap_flow_l_per_s: float | None


def node_tag(node_class: str, taps: int | None = None, tap_flow_l_per_s: float | None = None):
    """The ``[TAGS]`` word of a node: its class, and ``:N@Q`` when its taps are known.

    Parameters
    ----------
    node_class : str
        One of :data:`NODE_CLASSES`.
    taps : int, optional
        Taps at the node (standpipe taps, or household connections).
    tap_flow_l_per_s : float, optional
        Flow of one tap [l/s].

    Examples
    --------
    >>> node_tag("standpipe", 2, 0.25)
    'standpipe:2@0.25'
    >>> node_tag("junction")
    'junction'
    """
    if node_class not in NODE_CLASSES:
        raise InputError(f"node class {node_class!r}; allowed: {', '.join(NODE_CLASSES)}")
    if taps is None or tap_flow_l_per_s is None:
        return node_class
    return f"{node_class}:{int(taps)}@{float(tap_flow_l_per_s):g}"


def parse_node_tag(tag) -> NodeTag | None:
    """Read a node's tag written by :func:`node_tag` (or ``taps:N@Q``); None for other tags.

    Examples
    --------
    >>> parse_node_tag("household:28@0.2")
    NodeTag(node_class='household', taps=28, tap_flow_l_per_s=0.2)
    >>> parse_node_tag("taps:2@0.25")
    NodeTag(node_class=None, taps=2, tap_flow_l_per_s=0.25)
    >>> parse_node_tag("standpipe")
    NodeTag(node_class='standpipe', taps=None, tap_flow_l_per_s=None)
    >>> parse_node_tag("PN10") is None
    True
    """
    if not isinstance(tag, str):
        return None
    head, colon, rest = tag.strip().partition(":")
    if head in NODE_CLASSES and not colon:
        return NodeTag(head, None, None)
    if head not in (*NODE_CLASSES, LEGACY_TAP_PREFIX) or not colon:
        return None
    count, _, flow = rest.partition("@")
    try:
        taps, q = int(count), float(flow)
    except ValueError:
        return None
    if taps < 0 or not 0 <= q < math.inf:
        return None
    return NodeTag(head if head in NODE_CLASSES else None, taps, q)


def _class_from_patterns(junction) -> str:
    """``household`` or ``standpipe`` from the names of a junction's demand patterns, else
    ``junction``; a node with both services is a household node (the stricter rule).
    """
    patterns = {(d.pattern_name or "").lower() for d in junction.demand_timeseries_list}
    if any(p.startswith("household") for p in patterns):
        return "household"
    if any(p.startswith("standpipe") for p in patterns):
        return "standpipe"
    return "junction"


def node_classes(
    wn: wntr.network.WaterNetworkModel, table: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The class of every junction of ``wn``: the table's, else its tag's, else its patterns'.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The network (never modified).
    table : mapping, optional
        element -> class (:func:`read_classes`); its pipes and non-junction nodes are left out.

    Returns
    -------
    dict
        junction -> ``standpipe``, ``household`` or ``junction``.

    Examples
    --------
    >>> from hydro.network import read_network
    >>> wn = read_network("networks/oujda_rural.inp")
    >>> classes = node_classes(wn, {"OA_BF1": "junction"})
    >>> classes["DB_BF1"], classes["OA_BF1"], classes["J_A"]
    ('standpipe', 'junction', 'junction')
    """
    out = {}
    for name, junction in wn.junctions():
        tagged = parse_node_tag(junction.tag)
        if tagged is not None and tagged.node_class is not None:
            out[name] = tagged.node_class
        else:
            out[name] = _class_from_patterns(junction)
    for element, cls in (table or {}).items():
        if element in out and cls in NODE_CLASSES:
            out[element] = cls
    return out


def tag_node_classes(
    model: wntr.network.WaterNetworkModel,
    classes: Mapping[str, str],
    taps: pd.DataFrame | None = None,
) -> list[str]:
    """Write every junction's class and taps into its tag, in place on ``model`` (a copy the
    caller owns), so that a file written from it is read back with the same classes.

    Parameters
    ----------
    classes : mapping
        junction -> class; junctions not named are left as they are.
    taps : DataFrame, optional
        Rows ``node``, ``taps``, ``tap_flow_l_per_s`` (:data:`hydro.demand.TAP_COLUMNS`); a
        node with one row gets ``class:N@Q``, a node with none or several (two services)
        its class alone.

    Returns
    -------
    list of str
        Junctions left as they were because they carry a tag of another kind (the user's):
        tap nodes, whose taps are then not written, and junctions whose class read back
        (from their patterns) would differ.
    """
    rows = {}
    if taps is not None and not taps.empty and {"taps", "tap_flow_l_per_s"} <= set(taps.columns):
        counts = taps.groupby("node").size()
        rows = {r["node"]: r for r in taps.to_dict("records") if counts[r["node"]] == 1}
    skipped = []
    junctions = set(model.junction_name_list)  # once: the property builds a new list each call
    for name, cls in classes.items():
        if name not in junctions:
            continue
        junction = model.get_node(name)
        if junction.tag and parse_node_tag(junction.tag) is None:
            if cls != "junction" or _class_from_patterns(junction) != cls:
                skipped.append(name)
            continue
        if cls == "junction":
            junction.tag = "junction" if _class_from_patterns(junction) != cls else None
        elif name in rows:
            junction.tag = node_tag(cls, rows[name]["taps"], rows[name]["tap_flow_l_per_s"])
        else:
            junction.tag = node_tag(cls)
    return skipped


def classes_from_taps(wn: wntr.network.WaterNetworkModel, taps: pd.DataFrame) -> dict[str, str]:
    """The class of every junction of ``wn`` as a tap table gives it (:data:`TAP_CLASSES` from
    its ``service`` column; a node with both is a household node), else ``junction``.
    """
    out = dict.fromkeys(wn.junction_name_list, "junction")
    for node, service in zip(taps["node"], taps["service"], strict=True):
        if node in out and out[node] != "household":
            out[node] = service
    return out


def _read_csv(path: Path, **kwargs) -> pd.DataFrame:
    try:
        return pd.read_csv(path, comment="#", skipinitialspace=True, **kwargs)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the class table: {exc}") from exc


#: The columns a node-class table may have.
CLASS_TABLE_COLUMNS = ("element", "class", "taps", "tap_flow_l_per_s")


def read_classes(path: str | os.PathLike, wn: wntr.network.WaterNetworkModel) -> dict:
    """Node and pipe classes from a CSV file with columns ``element`` and ``class``.

    Node classes: standpipe, household, junction. Pipe classes: distribution, transmission.
    Errors name the file, the row and what is allowed.
    """
    path = Path(path)
    table = _read_csv(path, dtype=str)
    missing = {"element", "class"} - set(table.columns)
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(sorted(missing))}; expected: element,class"
        )
    unknown = [c for c in table.columns if c not in CLASS_TABLE_COLUMNS]
    if unknown:  # a misspelt 'taps' would otherwise leave the default number of taps
        hint = did_you_mean(unknown[0], CLASS_TABLE_COLUMNS)
        raise InputError(
            f"{path}: unknown column {unknown[0]!r}{hint}; allowed: "
            f"{', '.join(CLASS_TABLE_COLUMNS)}"
        )
    out = {}
    for line, (element, cls) in enumerate(
        zip(table["element"], table["class"], strict=True), start=2
    ):
        element, cls = str(element).strip(), str(cls).strip().lower()
        if element in wn.node_name_list:
            allowed = NODE_CLASSES
        elif element in wn.link_name_list:
            allowed = PIPE_CLASSES
        else:
            raise InputError(f"{path}, row {line}: element {element!r} is not in the network")
        if cls not in allowed:
            raise InputError(
                f"{path}, row {line}: class {cls!r} of {element} is not allowed; "
                f"use one of: {', '.join(allowed)}"
            )
        out[element] = cls
    return out


def read_tap_table(path: str | os.PathLike) -> pd.DataFrame:
    """Taps from a node-class table: columns ``element``, ``class`` and optionally ``taps``
    and ``tap_flow_l_per_s`` (blank: the defaults of the class).

    Returns a table indexed by node with ``taps`` and ``tap_flow_l_per_s`` (NaN where blank).
    """
    path = Path(path)
    table = _read_csv(path)
    if "element" not in table.columns:
        raise InputError(f"{path}: missing column element; expected: element,class[,taps,...]")
    out = pd.DataFrame(index=table["element"].astype(str).str.strip())
    for column in ("taps", "tap_flow_l_per_s"):
        raw = table[column] if column in table.columns else pd.Series(np.nan, index=table.index)
        values = pd.to_numeric(raw, errors="coerce")
        for line, (element, r, v) in enumerate(zip(out.index, raw, values, strict=True), start=2):
            blank = r is None or (isinstance(r, float) and math.isnan(r)) or str(r).strip() == ""
            if (np.isnan(v) and not blank) or (not np.isnan(v) and not 0 <= v < np.inf):
                raise InputError(
                    f"{path}, row {line}: {column} of {element} must be a number >= 0, got {r!r}"
                )
        out[column] = values.to_numpy()
    return out
