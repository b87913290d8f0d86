"""Network I/O and validation: read an EPANET ``.inp`` file, check it, write one EPANET opens.

Reading goes through two independent parsers. EPANET's own parser (the 2.3 toolkit) runs first
because it names the offending line; WNTR then builds the model hydro works on. The checks of
:func:`validate_network` follow: a source, every junction connected to one, positive lengths,
diameters and roughness. Input files are only ever read.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import wntr

from hydro._toolkit import Project
from hydro.errors import InputError, SimulationError
from hydro.topology import cut_at_sources, is_source_copy

log = logging.getLogger(__name__)

_EPANET_ERROR = re.compile(r"^\s*Error (\d{3}):\s*(.*?)\s*$")


@dataclass(frozen=True)
class Topology:
    """What the sizing and the checks need to know about a network's shape.

    Attributes
    ----------
    kind : str
        ``"branched"`` when every component left after cutting the network at its fixed-head
        nodes (reservoirs, tanks) is a tree fed by exactly one of them; ``"looped"`` otherwise.
    sources : list of str
        Reservoir and tank names.
    n_loops : int
        Independent loops (links - nodes + connected components).
    """

    kind: str
    sources: list[str]
    n_loops: int


#: Section headers of an EPANET input file; a file with none of them is not a network.
_SECTIONS = re.compile(
    r"^\s*\[(TITLE|JUNCTIONS|RESERVOIRS|TANKS|PIPES|PUMPS|VALVES|OPTIONS|END)\]",
    re.IGNORECASE | re.MULTILINE,
)
#: Pipes narrower than this are placeholders (benchmark files before sizing) [m].
PLACEHOLDER_DIAMETER_M = 0.001


def _epanet_parse_errors(path: Path) -> list[str]:
    """Open ``path`` with EPANET's own parser; return its error messages with line numbers."""
    with tempfile.TemporaryDirectory(prefix="hydro-parse-") as tmp:
        report = Path(tmp) / "parse.rpt"
        try:
            Project(path, report).close()
            return []
        except SimulationError as exc:
            generic = str(exc)
        # The project is closed on failure, so EPANET's report is complete here.
        text = report.read_text(errors="replace") if report.exists() else ""
    lines = path.read_text(errors="replace").splitlines()
    messages: list[str] = []
    report_lines = text.splitlines()
    for k, line in enumerate(report_lines):
        m = _EPANET_ERROR.match(line)
        if not m or m.group(1) == "200":
            continue
        message = f"EPANET error {m.group(1)}: {m.group(2).rstrip(':')}"
        offending = report_lines[k + 1].strip() if k + 1 < len(report_lines) else ""
        if offending and not _EPANET_ERROR.match(offending):
            matches = [i + 1 for i, src in enumerate(lines) if src.strip().startswith(offending)]
            # A duplicate ID is reported with its first line; the second one is the culprit.
            pick = 1 if m.group(1) == "215" and len(matches) > 1 else 0
            lineno = matches[pick] if matches else None
            where = f"line {lineno}" if lineno else "line ?"
            shown = offending if len(offending) <= 80 else offending[:77] + "..."
            message = f"{where}: {message} (the line reads '{shown}')"
        messages.append(message)
    return messages or [generic]


def _looks_like_inp(path: Path) -> None:
    """Refuse a file that is not an EPANET input file, without echoing what it holds."""
    head = path.read_bytes()[: 1 << 20]
    if b"\0" in head:
        raise InputError(f"{path}: not an EPANET input file (binary content)")
    if not _SECTIONS.search(head.decode("utf-8", errors="replace")):
        raise InputError(
            f"{path}: not an EPANET input file (no section such as [JUNCTIONS], [PIPES] or "
            "[RESERVOIRS])"
        )


@contextlib.contextmanager
def _utf8_copy(path: Path):
    """``path`` itself when it is UTF-8 (what WNTR reads), else a UTF-8 copy of it.

    The EPANET program for Windows saves ``.inp`` files in the Windows code page
    (Windows-1252 in Western Europe and the Maghreb: "Douar Aïn", "Château d'eau"); such a file
    is read as Windows-1252 (Latin-1 for the few bytes that code page leaves undefined), with
    a warning, through a temporary copy. The user's file is not touched.
    """
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        log.warning("%s: not UTF-8; read as Windows-1252 (the EPANET program's encoding)", path)
        with tempfile.TemporaryDirectory(prefix="hydro-inp-") as folder:
            copy = Path(folder) / path.name
            copy.write_text(text, encoding="utf-8")
            yield copy
        return
    yield path


def read_network(
    path: str | os.PathLike, validate: bool = True, sized: bool = False
) -> wntr.network.WaterNetworkModel:
    """Read an EPANET ``.inp`` file into a WNTR model (SI units inside), checking it first.

    Parameters
    ----------
    path : path-like
        The ``.inp`` file. It is never modified.
    validate : bool
        Run :func:`validate_network` on the model (default True).
    sized : bool
        The network is to be simulated as it is: refuse placeholder diameters (below 1 mm,
        as in benchmark files before sizing). Default False (sizing replaces them).

    Returns
    -------
    wntr.network.WaterNetworkModel
        The model: lengths and elevations [m], diameters [m], flows [m3/s], heads [m].

    Raises
    ------
    InputError
        The file is missing or unreadable, EPANET or WNTR reject it, or a check fails; the
        message names the file, the line or element, and what is allowed.

    Examples
    --------
    >>> wn = read_network("networks/oujda_rural.inp")
    >>> len(wn.pipe_name_list) > 0, wn.options.hydraulic.headloss
    (True, 'H-W')
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give the network's .inp file")
    if not path.is_file():
        raise InputError(f"{path}: no such network file")
    try:
        _looks_like_inp(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the network file ({exc.strerror})") from exc
    errors = _epanet_parse_errors(path)
    if errors:
        raise InputError(f"{path}: " + "; ".join(errors[:5]))
    try:
        with _utf8_copy(path) as readable:
            wn = wntr.network.WaterNetworkModel(str(readable))
    except Exception as exc:  # WNTR raises many kinds; all mean the file is not usable
        if not re.search(rb"^\s*units\s", path.read_bytes(), re.IGNORECASE | re.MULTILINE):
            raise InputError(
                f"{path}: no flow units: add a line such as 'Units LPS' (or CMH, GPM, ...) "
                "under [OPTIONS] (EPANET would assume GPM, US units)"
            ) from exc
        raise InputError(f"{path}: WNTR cannot read this network: {str(exc)[:200]}") from exc
    if validate:
        validate_network(wn, source=str(path), sized=sized)
    setattr(wn, _READ_FROM, path.resolve())  # so that no writer of hydro replaces it
    return wn


#: Where :func:`read_network` notes the file a model was read from.
_READ_FROM = "_hydro_read_from"


def read_from(*objects) -> tuple[Path, ...]:
    """The input files behind ``objects``: no output of hydro may replace them.

    A model read by :func:`read_network` remembers its file; a catalogue its ``source`` when
    that is a file. Anything else adds nothing.
    """
    found = []
    for obj in objects:
        path = getattr(obj, _READ_FROM, None)
        source = getattr(obj, "source", None)
        if path is None and isinstance(source, str) and os.path.isfile(source):
            path = Path(source)
        if path is not None:
            found.append(Path(path))
    return tuple(found)


def validate_network(
    wn: wntr.network.WaterNetworkModel, source: str = "network", sized: bool = False
) -> None:
    """Check a model before use; raise :class:`InputError` naming every problem found.

    Checks: at least one reservoir or tank; every junction connected (through any link) to a
    reservoir or tank; positive pipe lengths, diameters and roughness; patterns and curves that
    are referenced exist; with ``sized``, no placeholder diameter (below 1 mm) in a network
    about to be simulated as it is. (EPANET's parser has already rejected duplicate IDs.)

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The model (not modified).
    source : str
        The file name, for messages.
    sized : bool
        Also refuse placeholder diameters (below 1 mm).

    Returns
    -------
    None

    Examples
    --------
    >>> validate_network(read_network("networks/oujda_rural.inp", validate=False))
    """
    problems: list[str] = []
    if sized:
        placeholders = [
            name for name, pipe in wn.pipes() if 0 < pipe.diameter < PLACEHOLDER_DIAMETER_M
        ]
        if placeholders:
            shown = ", ".join(placeholders[:10]) + (" ..." if len(placeholders) > 10 else "")
            problems.append(
                f"pipe(s) {shown}: diameter below 1 mm ({len(placeholders)} pipes), a "
                "placeholder rather than a pipe; size the network first (hydro size) or give "
                "the real diameters"
            )
    sources = list(wn.reservoir_name_list) + list(wn.tank_name_list)
    if not sources:
        problems.append("no source: add a reservoir or a tank (at least one is required)")
    for name, pipe in wn.pipes():
        for attr, label in (
            ("length", "length"),
            ("diameter", "diameter"),
            ("roughness", "roughness"),
        ):
            value = getattr(pipe, attr)
            if not value > 0:
                problems.append(f"pipe {name}: {label} must be positive, got {value:g}")
    for name, junction in wn.junctions():
        for demand in junction.demand_timeseries_list:
            pattern = demand.pattern_name
            if pattern and pattern not in wn.pattern_name_list:
                problems.append(f"junction {name}: pattern '{pattern}' is not defined")
    for name, pump in wn.pumps():
        curve = getattr(pump, "pump_curve_name", None)
        if curve and curve not in wn.curve_name_list:
            problems.append(f"pump {name}: curve '{curve}' is not defined")
    if sources:
        graph = wn.to_graph().to_undirected()
        reached: set[str] = set()
        for s in sources:
            reached |= nx.node_connected_component(graph, s)
        cut_off = [j for j in wn.junction_name_list if j not in reached]
        if cut_off:
            shown = ", ".join(cut_off[:10]) + (" ..." if len(cut_off) > 10 else "")
            problems.append(
                f"junction(s) {shown} not connected to any reservoir or tank "
                "(every junction must be reachable from a source)"
            )
    if problems:
        raise InputError(f"{source}: " + "; ".join(problems))


def topology(wn: wntr.network.WaterNetworkModel) -> Topology:
    """Classify a network as branched or looped (see :class:`Topology`)."""
    sources = list(wn.reservoir_name_list) + list(wn.tank_name_list)
    graph = nx.MultiGraph()
    graph.add_nodes_from(wn.node_name_list)
    for name, link in wn.links():
        graph.add_edge(link.start_node_name, link.end_node_name, key=name)
    n_components = nx.number_connected_components(graph)
    n_loops = graph.number_of_edges() - graph.number_of_nodes() + n_components
    cut = cut_at_sources(wn, set(sources))
    branched = bool(sources)
    for component in nx.connected_components(cut):
        sub = cut.subgraph(component)
        roots = [n for n in component if is_source_copy(n) and n[0] in sources]
        if len(roots) != 1 or sub.number_of_edges() != sub.number_of_nodes() - 1:
            branched = False
            break
    return Topology("branched" if branched else "looped", sources, n_loops)


def write_network(
    wn: wntr.network.WaterNetworkModel,
    path: str | os.PathLike,
    units: str | None = None,
    protect: tuple[str | os.PathLike, ...] = (),
) -> Path:
    """Write ``wn`` as an EPANET 2.2 ``.inp`` file that the EPANET program opens.

    The file is written next to its destination and moved into place only when complete, so a
    failure never leaves a half-written file.

    Parameters
    ----------
    wn : wntr.network.WaterNetworkModel
        The model to write (not modified).
    path : path-like
        Destination ``.inp`` file.
    units : str, optional
        EPANET flow units of the file (``LPS``, ``GPM``, ...); default: the units the model was
        read in.
    protect : tuple of path-like
        Input files that must not be overwritten.

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> wn = read_network("networks/oujda_rural.inp")
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = write_network(wn, pathlib.Path(folder) / "copy.inp")
    ...     len(read_network(path).pipe_name_list) == len(wn.pipe_name_list)
    True
    """
    units = units or wn.options.hydraulic.inpfile_units or "LPS"
    return _place(
        path,
        lambda tmp: wntr.network.write_inpfile(wn, tmp, units=units, version=2.2),
        (*protect, *read_from(wn)),
    )


def publish_file(source: str | os.PathLike, path: str | os.PathLike, protect: tuple = ()) -> Path:
    """Copy a finished file (e.g. a verified design) to ``path``, atomically, byte for byte."""
    return _place(path, lambda tmp: shutil.copyfile(source, tmp), protect)


def _place(path, write, protect) -> Path:
    """Write a file atomically beside ``path``.

    Run ``write(tmp)`` on a temporary file beside ``path``, then move it into place (with
    the permissions of the user's umask; see :func:`hydro.outputs.atomic_file`).
    """
    from hydro.outputs import atomic_file

    path = Path(path)
    for p in protect:
        if Path(p).resolve() == path.resolve():
            raise InputError(f"{path}: refusing to overwrite an input file; choose another output")
    with atomic_file(path) as tmp:
        write(str(tmp))
    return path


def copy_network(wn: wntr.network.WaterNetworkModel) -> wntr.network.WaterNetworkModel:
    """An independent copy of a model (changes to it never reach the original)."""
    # WNTR's dictionary round trip keeps every element and option, and is faster than deepcopy.
    return wntr.network.from_dict(wntr.network.to_dict(wn))
