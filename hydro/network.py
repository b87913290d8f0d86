"""Network I/O and validation: read an EPANET ``.inp`` file, check it, write one EPANET opens.

Reading goes through two independent parsers. EPANET's own parser (the 2.3 toolkit) runs first
because it names the offending line; WNTR then builds the model hydro works on. The checks of
:func:`validate_network` follow: a source, every junction connected to one, positive lengths,
diameters and roughness. Input files are only ever read.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import wntr

from hydro import validate
from hydro._toolkit import Project
from hydro.errors import InputError, SimulationError, did_you_mean
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
SI_FLOW_UNITS = frozenset({"LPS", "LPM", "MLD", "CMH", "CMD"})  # EPANET: pressures in m


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
    (Windows-1252 in Western Europe and the Maghreb: "Village Aïn", "Château d'eau"); such a file
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
    path: str | os.PathLike, validate: bool = True, sized: bool = False, inflows: bool = False
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
        as in benchmark files before sizing), and count the memory of a 72-hour run
        (:data:`SIMULATED_MEMORY_PER_FILE_BYTE`) in the memory it needs. Default False
        (sizing replaces them).
    inflows : bool
        Accept negative demands as inflows (EPANET's convention for a supply point); default
        False: a negative demand is an error.

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
    path = _network_file(path, SIMULATED_MEMORY_PER_FILE_BYTE if sized else MEMORY_PER_FILE_BYTE)
    with _without_bom(path) as plain:
        errors = _epanet_parse_errors(plain)
        if errors:
            raise InputError(f"{path}: " + "; ".join(errors[:5]))
        try:
            with _utf8_copy(plain) as readable:
                wn = wntr.network.WaterNetworkModel(str(readable))
        except Exception as exc:  # WNTR raises many kinds; all mean the file is not usable
            if not _has_flow_units(path.read_bytes()):
                raise InputError(
                    f"{path}: no flow units: add a line such as 'Units LPS' (or CMH, GPM, ...) "
                    "under [OPTIONS] (EPANET would assume GPM, US units)"
                ) from exc
            raise InputError(f"{path}: WNTR cannot read this network: {str(exc)[:200]}") from exc
    _epanet_defaults(wn, path)
    if validate:
        validate_network(wn, source=str(path), sized=sized, inflows=inflows)
    setattr(wn, _READ_FROM, path.resolve())  # so that no writer of hydro replaces it
    return wn


#: Memory a network takes to read [bytes] (EPANET's parser, WNTR's model, every check), per
#: byte of its ``.inp`` file: 67-72 measured on random rural meshes of 10,000 to 100,000
#: junctions (1 to 10.7 MB; peak resident set, ``benchmarks/inp_memory.py``, figures in
#: ``benchmarks/README.md``), rounded up. (Issue 28's probe saw 6 GB for 144 MB, 42, by
#: polling, which misses the peak.)
MEMORY_PER_FILE_BYTE = 80
#: The same for a network read to be run as it is (``sized=True``: ``check``, ``simulate``,
#: ``storage``, ``taps``), a 72-hour run included: 443-459 measured with ``hydro check`` on
#: the meshes of 10,000 and 30,000 junctions, rounded up. A longer run takes more (its
#: results grow with the hours).
SIMULATED_MEMORY_PER_FILE_BYTE = 500


def available_memory() -> int | None:
    """Memory this process may still take [bytes]: MemAvailable on Linux, else None."""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _network_file(path, per_file_byte: float) -> Path:
    """``path`` as a readable network file, refused with a reason before anything is read.

    A folder, a missing file, a symbolic-link loop, a file that is not a network, and a
    network too large for the memory left (its size times ``per_file_byte``) are refused.
    """
    path = Path(validate.path(path, "network"))
    try:
        path.resolve(strict=True)
    except RuntimeError as exc:  # Python 3.11 reports a symbolic-link loop this way
        raise InputError(f"{path}: a loop of symbolic links; give the network's file") from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(f"{path}: a loop of symbolic links; give the network's file") from exc
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give the network's .inp file")
    if not path.is_file():
        raise InputError(f"{path}: no such network file")
    try:
        _looks_like_inp(path)
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"{path}: cannot read the network file ({exc.strerror})") from exc
    free = available_memory()
    if free is not None and size * per_file_byte > free:
        what = "read and run for 72 h" if per_file_byte > MEMORY_PER_FILE_BYTE else "read"
        raise InputError(
            f"{path}: a network of {size / 1e6:,.1f} MB would take about "
            f"{size * per_file_byte / 1e9:,.2f} GB of memory to {what} ({per_file_byte:g} "
            f"bytes per byte of its file, measured); {free / 1e9:,.2f} GB is available (split "
            "the network, or run it on a larger machine)"
        )
    return path


@contextlib.contextmanager
def _without_bom(path: Path):
    """``path``, or a copy without the UTF-8 byte-order mark that Notepad writes first."""
    with path.open("rb") as f:
        bom = f.read(3) == b"\xef\xbb\xbf"
    if not bom:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="hydro-inp-") as folder:
        copy = Path(folder) / path.name
        copy.write_bytes(path.read_bytes()[3:])
        yield copy


def _has_flow_units(raw: bytes) -> bool:
    """Whether the file's [OPTIONS] section has a ``Units`` line (not [BACKDROP]'s UNITS)."""
    section = ""
    for line in raw.decode("utf-8", errors="replace").splitlines():
        words = line.split(";")[0].split()
        if not words:
            continue
        if words[0].startswith("["):
            section = words[0].upper()
        elif section == "[OPTIONS]" and words[0].upper() == "UNITS":
            return True
    return False


#: Shortest hydraulic, pattern or report timestep hydro steps through [s]: a 72-hour check at
#: one second a step holds 259,200 steps of results (a zero timestep, which WNTR reads as one
#: second, made Balerma's steady-state file climb to 16 GB; issue 28).
MIN_TIMESTEP_S = 60


def _epanet_defaults(wn: wntr.network.WaterNetworkModel, path: Path) -> None:
    """Fill in what EPANET assumes when a file leaves it out, and refuse runaway timesteps.

    A steady-state file (duration 0) with a zero timestep (as Balerma's is) gets EPANET's
    default of one hour, so that the extended runs of a check step hour by hour; an extended
    run with a timestep under :data:`MIN_TIMESTEP_S` is refused. A missing global pump
    efficiency becomes EPANET's 75 %.
    """
    times = wn.options.time
    names = ("hydraulic_timestep", "pattern_timestep", "report_timestep")
    short = [name for name in names if getattr(times, name) < MIN_TIMESTEP_S]
    if short and times.duration > 0:
        shown = ", ".join(f"{n.replace('_', ' ')} {getattr(times, n):g} s" for n in short)
        raise InputError(
            f"{path}: [TIMES] {shown}: at least {MIN_TIMESTEP_S} s (0:01) in an extended run "
            "(hydro's checks run 72 h; a shorter step piles up results); 0:00 is accepted only "
            "in a steady-state file (Duration 0)"
        )
    if short:
        log.warning(
            "%s: steady-state file with a zero timestep (%s); extended runs step by 1:00",
            path, ", ".join(n.replace("_", " ") for n in short),
        )  # fmt: skip
        for name in short:
            setattr(times, name, 3600)
    if wn.options.energy.global_efficiency is None:
        wn.options.energy.global_efficiency = 75.0


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
    wn: wntr.network.WaterNetworkModel,
    source: str = "network",
    sized: bool = False,
    inflows: bool = False,
) -> None:
    """Check a model before use; raise :class:`InputError` naming every problem found.

    Checks: every number of the network finite and within its range (:data:`NETWORK_RANGES`:
    lengths, diameters, roughness, elevations, heads, tank levels and diameters, demands,
    pattern multipliers, valve and pump settings, curve points, the demand multiplier); pump
    curves EPANET can use; at least one reservoir or tank; every junction connected to a
    reservoir or tank through links that are not closed for good; patterns and curves that
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
    inflows : bool
        Negative demands are inflows (EPANET's convention for a supply point) and are
        accepted; default False: a negative demand is an error.

    Returns
    -------
    None

    Examples
    --------
    >>> validate_network(read_network("networks/oujda_rural.inp", validate=False))
    """
    validate.model(wn, "validate_network: wn")
    problems = _number_problems(wn, inflows)
    if sized:
        problems += _placeholder_problems(wn)
    sources = list(wn.reservoir_name_list) + list(wn.tank_name_list)
    if not sources:
        problems.append("no source: add a reservoir or a tank (at least one is required)")
    for name, junction in wn.junctions():
        for demand in junction.demand_timeseries_list:
            pattern = demand.pattern_name
            if pattern and pattern not in wn.pattern_name_list:
                problems.append(f"junction {name}: pattern '{pattern}' is not defined")
    problems += _pump_problems(wn) + _valve_problems(wn)
    if sources and not problems:
        problems += _connection_problems(wn, sources)
    if problems:
        more = f"; and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise InputError(f"{source}: " + "; ".join(problems[:20]) + more)


#: What each number of a network may be (SI, as WNTR holds it) and why; a value outside is
#: refused before any computing, with the element, the value and the range.
NETWORK_RANGES = {
    "length": validate.Range(0, 1e6, "metres, above 0 and at most 1,000 km", open_low=True),
    "diameter": validate.Range(0, 10, "metres, above 0 and at most 10 m", open_low=True),
    "H-W": validate.Range(0, 1000, "a Hazen-Williams C, above 0 (80 to 150 for usual pipes)",
                          open_low=True),
    "D-W": validate.Range(0, 1, "a roughness height in metres, above 0 and at most 1 m",
                          open_low=True),
    "C-M": validate.Range(0, 1, "a Manning n, above 0 and at most 1", open_low=True),
    "minor_loss": validate.Range(0, 1e6, "a minor-loss coefficient, zero or more"),
    "elevation": validate.Range(-1000, 10000, "metres above sea level, -1,000 to 10,000 m"),
    "level": validate.Range(0, 1000, "metres of water above the tank's bottom, 0 to 1,000 m"),
    "tank_diameter": validate.Range(0, 1000, "metres, above 0 and at most 1,000 m",
                                    open_low=True),
    "volume": validate.Range(0, 1e9, "cubic metres, zero or more"),
    "demand": validate.Range(0, 100, "m3/s, 0 to 100 m3/s (a negative demand is an inflow: "
                             "give --inflows, or inflows=True in Python, when it is meant)"),
    "inflow": validate.Range(-100, 100, "m3/s, -100 to 100 m3/s"),
    "multiplier": validate.Range(0, 1e6, "a multiplier, 0 to 1e6 (a negative one makes a "
                                 "demand an inflow: --inflows, or inflows=True, when it is meant)"),
    "inflow_multiplier": validate.Range(-1e6, 1e6, "a multiplier, -1e6 to 1e6"),
    "emitter": validate.Range(0, 1e3, "an emitter coefficient, zero or more"),
    "pressure_setting": validate.Range(0, 10000, "metres of head, 0 to 10,000 m"),
    "flow_setting": validate.Range(0, 100, "m3/s, 0 to 100 m3/s"),
    "loss_setting": validate.Range(0, 1e6, "a loss coefficient, zero or more"),
    "speed": validate.Range(0, 100, "a relative speed, 0 to 100"),
    "power": validate.Range(0, 1e8, "watts, above 0 and at most 100 MW", open_low=True),
    "curve": validate.Range(-1e6, 1e6, "a curve point, -1e6 to 1e6 in SI units"),
}  # fmt: skip


def _number_problems(wn: wntr.network.WaterNetworkModel, inflows: bool) -> list[str]:
    """Every number of ``wn`` outside :data:`NETWORK_RANGES`, one message each."""
    problems: list[str] = []

    def check(what: str, value, key: str) -> None:
        try:
            validate.number(value, what, NETWORK_RANGES[key])
        except InputError as exc:
            problems.append(str(exc))

    demand, multiplier = ("inflow", "inflow_multiplier") if inflows else ("demand", "multiplier")
    headloss = wn.options.hydraulic.headloss
    check("[OPTIONS] demand multiplier", wn.options.hydraulic.demand_multiplier, "multiplier")
    for name, pipe in wn.pipes():
        check(f"pipe {name}: length", pipe.length, "length")
        check(f"pipe {name}: diameter", pipe.diameter, "diameter")
        check(f"pipe {name}: roughness", pipe.roughness, headloss if headloss in NETWORK_RANGES
              else "H-W")  # fmt: skip
        check(f"pipe {name}: minor loss", pipe.minor_loss, "minor_loss")
    for name, junction in wn.junctions():
        check(f"junction {name}: elevation", junction.elevation, "elevation")
        for entry in junction.demand_timeseries_list:
            check(f"junction {name}: demand", entry.base_value, demand)
        check(f"junction {name}: emitter", junction.emitter_coefficient or 0.0, "emitter")
    for name, reservoir in wn.reservoirs():
        check(f"reservoir {name}: head", reservoir.base_head, "elevation")
    for name, tank in wn.tanks():
        check(f"tank {name}: elevation", tank.elevation, "elevation")
        for attr in ("init_level", "min_level", "max_level"):
            check(f"tank {name}: {attr.replace('_', ' ')}", getattr(tank, attr), "level")
        check(f"tank {name}: diameter", tank.diameter, "tank_diameter")
        check(f"tank {name}: minimum volume", tank.min_vol or 0.0, "volume")
    for name, pattern in wn.patterns():
        for k, value in enumerate(pattern.multipliers):
            check(f"pattern {name}: multiplier {k + 1}", value, multiplier)
    for name, curve in wn.curves():
        for k, point in enumerate(curve.points):
            for value in point:
                check(f"curve {name}: point {k + 1}", value, "curve")
    _check_link_settings(wn, check)
    return problems


def _check_link_settings(wn: wntr.network.WaterNetworkModel, check) -> None:
    """Valve settings and pump speeds and powers through ``check`` (see _number_problems)."""
    kinds = {"PRV": "pressure_setting", "PSV": "pressure_setting", "PBV": "pressure_setting",
             "FCV": "flow_setting", "TCV": "loss_setting"}  # fmt: skip
    for name, valve in wn.valves():
        if valve.valve_type in kinds:
            check(f"valve {name}: setting", valve.initial_setting, kinds[valve.valve_type])
    for name, pump in wn.pumps():
        check(f"pump {name}: speed", pump.base_speed, "speed")
        if pump.pump_type == "POWER":
            check(f"pump {name}: power", pump.power, "power")


def _placeholder_problems(wn: wntr.network.WaterNetworkModel) -> list[str]:
    """Pipes narrower than 1 mm: placeholders of a network to be sized, not pipes."""
    placeholders = [name for name, pipe in wn.pipes() if 0 < pipe.diameter < PLACEHOLDER_DIAMETER_M]
    if not placeholders:
        return []
    shown = ", ".join(placeholders[:10]) + (" ..." if len(placeholders) > 10 else "")
    return [
        f"pipe(s) {shown}: diameter below 1 mm ({len(placeholders)} pipes), a "
        "placeholder rather than a pipe; size the network first (hydro size) or give "
        "the real diameters"
    ]


def _pump_problems(wn: wntr.network.WaterNetworkModel) -> list[str]:
    """Pump curves that are missing or that EPANET cannot use, with the reason."""
    problems = []
    for name, pump in wn.pumps():
        curve_name = getattr(pump, "pump_curve_name", None)
        if pump.pump_type != "HEAD":
            continue
        if not curve_name or curve_name not in wn.curve_name_list:
            problems.append(f"pump {name}: curve '{curve_name}' is not defined")
            continue
        points = [tuple(map(float, p)) for p in wn.get_curve(curve_name).points]
        flows, heads = [q for q, _ in points], [h for _, h in points]
        if not all(map(math.isfinite, flows + heads)):
            continue  # reported with the numbers
        if len(points) == 1 and not (flows[0] > 0 and heads[0] > 0):
            problems.append(
                f"pump {name}: curve '{curve_name}' has one point ({flows[0]:g} m3/s, "
                f"{heads[0]:g} m); a one-point curve is the design point: flow and head above 0"
            )
        elif len(points) > 1 and not (
            flows[0] >= 0
            and all(b > a for a, b in zip(flows, flows[1:], strict=False))
            and all(b < a for a, b in zip(heads, heads[1:], strict=False))
        ):
            problems.append(
                f"pump {name}: curve '{curve_name}' must have flows rising from 0 or more and "
                "heads falling, point after point (EPANET cannot use it otherwise)"
            )
    return problems


#: Valve pairs EPANET refuses (its error 220), as EPANET's valvecheck states them: (this
#: valve's type, the other's, which node of this valve, which node of the other, why).
_VALVE_CLASHES = (
    ("PRV", "PRV", 1, 1, "two PRVs share a downstream node"),
    ("PRV", "PRV", 0, 1, "two PRVs in series"),
    ("PRV", "PRV", 1, 0, "two PRVs in series"),
    ("PSV", "PSV", 0, 0, "two PSVs share an upstream node"),
    ("PSV", "PSV", 0, 1, "two PSVs in series"),
    ("PSV", "PSV", 1, 0, "two PSVs in series"),
    ("PRV", "PSV", 1, 0, "a PSV on the downstream node of a PRV"),
    ("PSV", "FCV", 0, 1, "a PSV on the downstream node of an FCV"),
    ("PRV", "FCV", 1, 0, "a PRV on the upstream node of an FCV"),
)


def _valve_problems(wn: wntr.network.WaterNetworkModel) -> list[str]:
    """Valves EPANET cannot run: a PRV, PSV or FCV on a tank or reservoir, or a clash."""
    sources = set(wn.reservoir_name_list) | set(wn.tank_name_list)
    valves = [
        (name, v.valve_type, (v.start_node_name, v.end_node_name))
        for name, v in wn.valves()
        if v.valve_type in ("PRV", "PSV", "FCV")
    ]
    problems = []
    for name, kind, nodes in valves:
        on_source = [n for n in nodes if n in sources]
        if on_source:
            problems.append(
                f"valve {name}: a {kind} cannot connect to a reservoir or tank ({on_source[0]}); "
                "put a pipe between them (EPANET error 219)"
            )
    for k, first in enumerate(valves):
        for second in valves[k + 1 :]:
            clash = _valve_clash(first, second) or _valve_clash(second, first)
            if clash:
                problems.append(
                    f"valves {first[0]} and {second[0]}: {clash}; EPANET cannot run them "
                    "(error 220): put a pipe between them or remove one"
                )
    return problems


def _valve_clash(one: tuple, other: tuple) -> str | None:
    """Why EPANET refuses valve ``one`` beside ``other`` (name, type, nodes), or None."""
    for a, b, mine, theirs, why in _VALVE_CLASHES:
        if (one[1], other[1]) == (a, b) and one[2][mine] == other[2][theirs]:
            return f"{why} (node {one[2][mine]})"
    return None


def _connection_problems(wn: wntr.network.WaterNetworkModel, sources: list[str]) -> list[str]:
    """Junctions that no source reaches through links that can be open (a breadth-first search).

    A link closed in the file and never opened by a control or a rule cannot carry water.
    """
    controlled = {
        action.target()[0].name for _, control in wn.controls() for action in control.actions()
    }
    graph = nx.Graph()
    graph.add_nodes_from(wn.node_name_list)
    closed: list[str] = []
    for name, link in wn.links():
        status = getattr(link, "initial_status", None)
        if getattr(status, "name", status) == "Closed" and name not in controlled:
            closed.append(name)
            continue
        graph.add_edge(link.start_node_name, link.end_node_name)
    reached: set[str] = set()
    for s in sources:
        if s not in reached:
            reached |= nx.node_connected_component(graph, s)
    cut_off = [j for j in wn.junction_name_list if j not in reached]
    if not cut_off:
        return []
    shown = ", ".join(cut_off[:10]) + (" ..." if len(cut_off) > 10 else "")
    closed_note = ""
    if closed:
        closed_note = f"; closed link(s): {', '.join(closed[:10])}" + (
            " ..." if len(closed) > 10 else ""
        )
    return [
        f"junction(s) {shown} not connected to any reservoir or tank through links that can "
        f"be open (every junction must be reachable from a source){closed_note}"
    ]


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
    validate.model(wn, "write_network: wn")
    units = units or wn.options.hydraulic.inpfile_units or "LPS"
    return _place(path, lambda tmp: _write_inp(wn, tmp, units), (*protect, *read_from(wn)))


def _write_inp(wn, path, units: str) -> None:
    """Write ``wn`` in ``units``, pressures in metres where the flow units are SI.

    A file read with ``PRESSURE KPA`` keeps that option in WNTR's model, so the EPANET
    toolkit, which hydro hands files in LPS, would report kPa where hydro reads metres. The
    model's own option is put back after writing (the model is not modified).
    """
    hydraulic = wn.options.hydraulic
    stated = hydraulic.inpfile_pressure_units
    if str(units).upper() in SI_FLOW_UNITS:
        hydraulic.inpfile_pressure_units = "METERS"
    try:
        wntr.network.write_inpfile(wn, path, units=units, version=2.2)
    finally:
        hydraulic.inpfile_pressure_units = stated


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


#: The element kinds :func:`element` knows, with the names WNTR lists them under.
_KINDS = {
    "junction": "junction_name_list", "reservoir": "reservoir_name_list",
    "tank": "tank_name_list", "pipe": "pipe_name_list", "pump": "pump_name_list",
    "valve": "valve_name_list",
}  # fmt: skip


def element(wn: wntr.network.WaterNetworkModel, name: str, kind: str, what: str):
    """The ``kind`` (``"tank"``, ``"pump"``, ...) named ``name`` in ``wn``.

    Raises :class:`InputError` naming ``what`` (the option or argument), the name and what it
    is instead (a pipe given as a pump), with a "did you mean" among the ``kind`` elements.
    """
    names = getattr(validate.model(wn), _KINDS[kind])
    if name in names:
        return wn.get_node(name) if kind in ("junction", "reservoir", "tank") else wn.get_link(name)
    other = next((k for k, listed in _KINDS.items() if name in getattr(wn, listed)), None)
    instead = f" is a {other}, not a {kind}" if other else f": no {kind} of that name"
    choices = ", ".join(names[:10]) or "none"
    raise InputError(
        f"{what}: '{name}'{instead} (the network's {kind}s: {choices})" + did_you_mean(name, names)
    )


def copy_network(wn: wntr.network.WaterNetworkModel) -> wntr.network.WaterNetworkModel:
    """An independent copy of a model (changes to it never reach the original)."""
    # WNTR's dictionary round trip keeps every element and option, and is faster than deepcopy.
    return wntr.network.from_dict(wntr.network.to_dict(validate.model(wn, "the network (wn)")))
