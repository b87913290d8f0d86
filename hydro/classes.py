"""Node and pipe classes: one home for what a node is and how many taps it has.

A junction's class sets its minimum pressure (standpipe 10 m, household connection 15 m,
other junctions 0 m, docs/sources.md, 5.1) and whether it draws tap flows in the design condition
(:mod:`hydro.condition`). :func:`node_classes` is the one place that builds them, in this
order of precedence:

1. a class table given by the user (``element,class[,taps,tap_flow_l_per_s]``,
   :func:`read_classes` and :func:`read_tap_table`);
2. the node's tag in the ``.inp`` file's ``[TAGS]`` section, which hydro writes
   (:func:`node_tag`: ``standpipe:2@0.25`` is a standpipe with 2 taps of 0.25 l/s,
   ``standpipe:6@0.2/3`` 6 taps of 0.2 l/s on standpipes of 3 taps each (a tag without
   ``/K`` means :data:`TAG_TAPS_PER_STANDPIPE`, 2, as tags of earlier versions do),
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

import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import wntr

from hydro.errors import InputError, did_you_mean

logger = logging.getLogger(__name__)

#: Classes of nodes: served by standpipes, by household connections, or by no one.
NODE_CLASSES = ("standpipe", "household", "junction")
#: Classes of pipes, found from the topology unless given.
PIPE_CLASSES = ("distribution", "transmission")
#: Classes whose nodes have taps (the tap-flow case of the design condition).
TAP_CLASSES = ("standpipe", "household")
#: Tags of earlier versions: ``taps:N@Q``, N taps of Q l/s (the class from the patterns).
LEGACY_TAP_PREFIX = "taps"
#: Taps on one standpipe that a standpipe tag without ``/K`` means (``standpipe:N@Q``, as
#: tags of earlier versions are written): docs/sources.md, 5.1, 2 taps. Fixed here, not read from
#: :data:`hydro.defaults.TAPS_PER_STANDPIPE`, so an old file keeps its meaning.
TAG_TAPS_PER_STANDPIPE = 2


class NodeTag(NamedTuple):
    """What a node's hydro tag says: its class (None: from its patterns) and taps.

    taps_per_standpipe: the taps on one standpipe of a standpipe tag (the ``/K`` of
    ``standpipe:N@Q/K``; :data:`TAG_TAPS_PER_STANDPIPE` when the tag has none); None for
    other tags.
    """

    node_class: str | None
    taps: int | None
    tap_flow_l_per_s: float | None
    taps_per_standpipe: int | None = None


def node_tag(
    node_class: str,
    taps: int | None = None,
    tap_flow_l_per_s: float | None = None,
    taps_per_standpipe: float | None = None,
):
    """The ``[TAGS]`` word of a node: its class, and ``:N@Q`` when its taps are known.

    Parameters
    ----------
    node_class : str
        One of :data:`NODE_CLASSES`.
    taps : int, optional
        Taps at the node (standpipe taps, or household connections).
    tap_flow_l_per_s : float, optional
        Flow of one tap [l/s].
    taps_per_standpipe : float, optional
        A standpipe node's taps on one standpipe: written as ``/K`` unless it is
        :data:`TAG_TAPS_PER_STANDPIPE` (what a tag without ``/K`` means) or not given.

    Examples
    --------
    >>> node_tag("standpipe", 2, 0.25)
    'standpipe:2@0.25'
    >>> node_tag("standpipe", 6, 0.2, 3)
    'standpipe:6@0.2/3'
    >>> node_tag("junction")
    'junction'
    """
    if node_class not in NODE_CLASSES:
        raise InputError(f"node class {node_class!r}; allowed: {', '.join(NODE_CLASSES)}")
    if taps is None or tap_flow_l_per_s is None:
        return node_class
    word = f"{node_class}:{int(taps)}@{float(tap_flow_l_per_s):g}"
    per = _whole_or_none(taps_per_standpipe)
    if node_class == "standpipe" and per is not None and per != TAG_TAPS_PER_STANDPIPE:
        word += f"/{per}"
    return word


def _whole_or_none(value) -> int | None:
    """``value`` as a whole number of taps of 1 or more, else None (missing, NaN, 0)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number < 1 or number != int(number):
        return None
    return int(number)


def parse_node_tag(tag) -> NodeTag | None:
    """Read a node's tag written by :func:`node_tag` (or ``taps:N@Q``); None for other tags.

    A standpipe's taps on one standpipe: the tag's ``/K``, else
    :data:`TAG_TAPS_PER_STANDPIPE` (a tag of an earlier version, or of 2 taps per standpipe).

    Examples
    --------
    >>> parse_node_tag("household:28@0.2")
    NodeTag(node_class='household', taps=28, tap_flow_l_per_s=0.2, taps_per_standpipe=None)
    >>> parse_node_tag("standpipe:6@0.2/3").taps_per_standpipe
    3
    >>> parse_node_tag("standpipe:4@0.25").taps_per_standpipe
    2
    >>> parse_node_tag("taps:2@0.25")
    NodeTag(node_class=None, taps=2, tap_flow_l_per_s=0.25, taps_per_standpipe=None)
    >>> parse_node_tag("standpipe")
    NodeTag(node_class='standpipe', taps=None, tap_flow_l_per_s=None, taps_per_standpipe=None)
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
    flow, slash, per_text = flow.partition("/")
    try:
        taps, q = int(count), float(flow)
        per = int(per_text) if slash else TAG_TAPS_PER_STANDPIPE
    except ValueError:
        return None
    if taps < 0 or not 0 <= q < math.inf or per < 1 or (slash and head != "standpipe"):
        return None
    return NodeTag(
        head if head in NODE_CLASSES else None, taps, q, per if head == "standpipe" else None
    )


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
        Rows ``node``, ``taps``, ``tap_flow_l_per_s`` (:data:`hydro.demand.TAP_COLUMNS`) and
        optionally ``taps_per_standpipe``; a node with one row gets ``class:N@Q`` (a
        standpipe of other than 2 taps per standpipe ``standpipe:N@Q/K``), a node of several
        standpipe rows alike their taps added (:func:`_tag_rows`), another node with none or
        several rows (two services) its class alone.

    Returns
    -------
    list of str
        Junctions left as they were because they carry a tag of another kind (the user's):
        tap nodes, whose taps are then not written, and junctions whose class read back
        (from their patterns) would differ.
    """
    rows = _tag_rows(taps)
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
            row = rows[name]
            junction.tag = node_tag(
                cls, row["taps"], row["tap_flow_l_per_s"], row.get("taps_per_standpipe")
            )
        else:
            junction.tag = node_tag(cls)
    return skipped


def _tag_rows(taps: pd.DataFrame | None) -> dict:
    """Node -> the one tap row its tag can say: a node's single row, or its standpipe rows
    merged (taps added) when they share the tap flow and the taps per standpipe and each row
    fills whole standpipes (two villages' standpipes at one node: the same standpipes counted
    per row or together); none for other nodes of several rows (two services).
    """
    if taps is None or taps.empty or not {"taps", "tap_flow_l_per_s"} <= set(taps.columns):
        return {}
    out: dict = {}
    for node, group in taps.groupby("node", sort=False):
        records = group.to_dict("records")
        if len(records) == 1:
            out[node] = records[0]
            continue
        if "service" not in group.columns or set(group["service"]) != {"standpipe"}:
            continue
        per = {_whole_or_none(r.get("taps_per_standpipe")) or TAG_TAPS_PER_STANDPIPE
               for r in records}  # fmt: skip
        flows = {float(r["tap_flow_l_per_s"]) for r in records}
        k = per.pop() if len(per) == 1 else None
        if k is None or len(flows) != 1 or any(int(r["taps"]) % k for r in records):
            continue
        out[node] = {**records[0], "taps": sum(int(r["taps"]) for r in records)}
    return out


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
CLASS_TABLE_COLUMNS = ("element", "class", "taps", "tap_flow_l_per_s", "taps_per_standpipe")


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
    _check_duplicates(path, table, note=True)
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
    """Taps from a node-class table: columns ``element``, ``class`` and optionally ``taps``,
    ``tap_flow_l_per_s`` and ``taps_per_standpipe`` (blank: the defaults of the class).

    Returns a table indexed by node with ``taps`` (a whole number, 0 to
    :data:`MAX_TAPS_PER_NODE`), ``tap_flow_l_per_s`` (a number >= 0) and
    ``taps_per_standpipe`` (a standpipe node's taps on one standpipe, a whole number of 1 to
    :data:`MAX_TAPS_PER_STANDPIPE`); NaN where blank. A node given on several rows is refused
    unless the rows are the same (:func:`_check_duplicates`).
    """
    path = Path(path)
    table = _read_csv(path, dtype=str)
    if "element" not in table.columns:
        raise InputError(f"{path}: missing column element; expected: element,class[,taps,...]")
    _check_duplicates(path, table, note=False)
    out = pd.DataFrame(index=table["element"].astype(str).str.strip())
    for column, (low, high, rule) in TAP_COLUMN_RULES.items():
        raw = table[column] if column in table.columns else pd.Series(np.nan, index=table.index)
        values = pd.to_numeric(raw, errors="coerce")
        for line, (element, r, v) in enumerate(zip(out.index, raw, values, strict=True), start=2):
            blank = r is None or (isinstance(r, float) and math.isnan(r)) or str(r).strip() == ""
            whole = column != "tap_flow_l_per_s"
            if blank or (math.isfinite(v) and low <= v <= high and (not whole or v == int(v))):
                continue
            raise InputError(f"{path}, row {line}: {column} of {element} must be {rule}, got {r!r}")
        out[column] = values.to_numpy()
    return out[~out.index.duplicated()]  # the same row twice: read once


#: Taps at one node of a class table (standpipe taps, or household connections): a village
#: of the village table has at most 1,000 standpipes of at most 100 taps
#: (:data:`hydro.demand.VILLAGE_RANGES`).
MAX_TAPS_PER_NODE = 100_000
#: Taps on one standpipe, as in the village table (:data:`hydro.demand.VILLAGE_RANGES`).
MAX_TAPS_PER_STANDPIPE = 100
#: Each number of a class table: its lowest and highest value, and the rule for messages.
TAP_COLUMN_RULES = {
    "taps": (0, MAX_TAPS_PER_NODE, f"a whole number of taps, 0 to {MAX_TAPS_PER_NODE:,}"),
    "tap_flow_l_per_s": (0, math.inf, "a number of l/s >= 0"),
    "taps_per_standpipe": (
        1,
        MAX_TAPS_PER_STANDPIPE,
        f"a whole number of taps on one standpipe, 1 to {MAX_TAPS_PER_STANDPIPE}",
    ),
}


def _check_duplicates(path: Path, table: pd.DataFrame, note: bool) -> None:
    """Refuse a node or pipe given on rows that differ; the same row twice is read once.

    Rows are compared after trimming spaces (and the class in lower case). With ``note``, an
    exact repeat is said in a log line naming the file, the element and its rows.
    """
    cells = table.astype(str).apply(lambda column: column.str.strip())
    if "class" in cells.columns:
        cells["class"] = cells["class"].str.lower()
    for element, rows in cells.groupby("element", sort=False):
        if len(rows) < 2:
            continue
        lines = ", ".join(str(i + 2) for i in rows.index)
        if len(rows.drop_duplicates()) > 1:
            raise InputError(
                f"{path}: {element} is given on rows {lines}, which differ; give each "
                "element once (one class and one set of taps per node)"
            )
        if note:
            logger.info(
                "note: %s: %s is given twice, on rows %s (the same row)", path, element, lines
            )
