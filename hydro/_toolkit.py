"""Thin ctypes binding to the EPANET 2.3 toolkit shipped by the ``owa-epanet`` package.

Only the calls hydro needs are declared. Every call goes through :func:`_check`, which turns an
EPANET error code (> 100) into :class:`~hydro.errors.SimulationError` carrying the code and
EPANET's own text. Warnings (codes 1-6) are returned to the caller, not raised.

Values cross this boundary in the units of the ``.inp`` file's flow units; hydro writes every
file it hands to the toolkit in LPS so that lengths are m, diameters mm, heads and pressures m.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import platform
import shutil
import sys
import tempfile
import threading
from functools import cache
from pathlib import Path

import numpy as np

from hydro.errors import SimulationError

# Object and property codes from epanet2_enums.h (EPANET 2.3).
EN_NODECOUNT, EN_LINKCOUNT = 0, 2
EN_ELEVATION, EN_BASEDEMAND, EN_DEMAND, EN_HEAD, EN_PRESSURE = 0, 1, 9, 10, 11
EN_DIAMETER, EN_LENGTH, EN_ROUGHNESS, EN_FLOW, EN_VELOCITY, EN_HEADLOSS = 0, 1, 2, 8, 9, 10
EN_JUNCTION, EN_RESERVOIR, EN_TANK = 0, 1, 2
EN_PIPE = 1
EN_DDA, EN_PDA = 0, 1
EN_DURATION = 0
EN_DEMANDMULT = 4  # an analysis option (EN_setoption)
EN_MAXID = 31


@cache
def library(version: str = "2.3") -> ctypes.CDLL:
    """Load the EPANET library once per process.

    ``"2.3"``: the owa-epanet package (bulk getters). ``"2.2"``: the library bundled with WNTR,
    the engine of its EpanetSimulator (no bulk getters; hydro reads values one by one). The two
    differ for constant-power pumps, so hydro uses 2.2 wherever a model has one.
    """
    if version == "2.2":
        import wntr

        folder = Path(wntr.__file__).parent / "epanet" / "libepanet"
        suffix = {"darwin": ".dylib", "win32": ".dll"}.get(sys.platform, ".so")
        candidates = sorted(p for p in folder.glob("*/*epanet22*") if p.suffix == suffix)
        if platform.machine() in ("aarch64", "arm64"):
            candidates.sort(key=lambda p: "arm" not in p.parent.name)
    else:
        try:
            import epanet  # owa-epanet
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise SimulationError(
                "the EPANET 2.3 toolkit is missing: install the package 'owa-epanet'"
            ) from exc
        folder = Path(epanet.__file__).parent
        candidates = sorted(folder.glob("libepanet2*")) + sorted(folder.glob("epanet2*.dll"))
    if not candidates:  # pragma: no cover - platform without a bundled library
        raise SimulationError(f"no EPANET {version} library found in {folder}")
    lib = ctypes.CDLL(str(candidates[0]))
    p, i, d, c = ctypes.c_void_p, ctypes.c_int, ctypes.c_double, ctypes.c_char_p
    dp = np.ctypeslib.ndpointer(dtype=np.float64, flags="C_CONTIGUOUS")
    signatures = {
        "EN_createproject": [ctypes.POINTER(p)],
        "EN_deleteproject": [p],
        "EN_open": [p, c, c, c],
        "EN_close": [p],
        "EN_openH": [p],
        "EN_initH": [p, i],
        "EN_runH": [p, ctypes.POINTER(ctypes.c_long)],
        "EN_nextH": [p, ctypes.POINTER(ctypes.c_long)],
        "EN_closeH": [p],
        "EN_solveH": [p],
        "EN_getcount": [p, i, ctypes.POINTER(i)],
        "EN_getnodeindex": [p, c, ctypes.POINTER(i)],
        "EN_getlinkindex": [p, c, ctypes.POINTER(i)],
        "EN_getnodeid": [p, i, c],
        "EN_getlinkid": [p, i, c],
        "EN_getnodetype": [p, i, ctypes.POINTER(i)],
        "EN_getlinktype": [p, i, ctypes.POINTER(i)],
        "EN_getnodevalue": [p, i, i, ctypes.POINTER(d)],
        "EN_getlinkvalue": [p, i, i, ctypes.POINTER(d)],
        "EN_getnodevalues": [p, i, dp],
        "EN_getlinkvalues": [p, i, dp],
        "EN_setlinkvalue": [p, i, i, d],
        "EN_setnodevalue": [p, i, i, d],
        "EN_setdemandmodel": [p, i, d, d, d],
        "EN_setoption": [p, i, d],
        "EN_settimeparam": [p, i, ctypes.c_long],
        "EN_setstatusreport": [p, i],
        "EN_geterror": [i, c, i],
    }
    for name, argtypes in signatures.items():
        fn = getattr(lib, name, None)
        if fn is None:  # EN_getnodevalues and EN_getlinkvalues are 2.3 only
            continue
        fn.argtypes = argtypes
        fn.restype = ctypes.c_int
    return lib


_SCRATCH_LOCK = threading.RLock()
_SCRATCH: list[str] = []


def _fresh_lock_in_child() -> None:
    """Give a forked child its own, free scratch lock.

    A pool worker forked while another thread of the parent held the lock (an evaluation of
    the looped search's run 0 beside the thread that starts the other runs) would inherit it
    held by a thread that does not exist in the child, and wait for it for ever: the test
    suite hung that way once.
    """
    global _SCRATCH_LOCK
    _SCRATCH_LOCK = threading.RLock()


os.register_at_fork(after_in_child=_fresh_lock_in_child)


@contextlib.contextmanager
def epanet_scratch():
    """Run EPANET calls with a private temporary folder as the working directory.

    EPANET (2.2 and 2.3) creates its scratch files (hydraulics, ``enXXXXXX``) in the current
    working directory. Inside this context that directory is one temporary folder per process,
    removed when the process exits, so a run never leaves files in the user's folder (and an
    unwritable current folder does not break a run). The working directory is process-wide:
    a lock keeps threads from changing it under each other, and it is restored on exit.
    Paths handed to EPANET inside the context must be absolute.
    """
    with _SCRATCH_LOCK:
        if not _SCRATCH or not os.path.isdir(_SCRATCH[0]):
            _SCRATCH[:] = [tempfile.mkdtemp(prefix="hydro-epanet-")]
        try:
            previous = os.getcwd()
        except FileNotFoundError:  # the user's folder was removed under us
            previous = None
        os.chdir(_SCRATCH[0])
        try:
            yield Path(_SCRATCH[0])
        finally:
            os.chdir(previous if previous is not None else tempfile.gettempdir())


def remove_scratch() -> None:
    """Remove this process's EPANET scratch folder (registered with :mod:`atexit`)."""
    with _SCRATCH_LOCK:
        for folder in _SCRATCH:
            shutil.rmtree(folder, ignore_errors=True)
        _SCRATCH.clear()


atexit.register(remove_scratch)


def error_text(code: int) -> str:
    """EPANET's own message for an error or warning code."""
    buf = ctypes.create_string_buffer(256)
    library("2.3").EN_geterror(code, buf, 255)
    return buf.value.decode(errors="replace")


class Project:
    """One EPANET project opened in memory from an ``.inp`` file.

    Use as a context manager, or call :meth:`close`; the handle and the (empty) report file are
    released either way. The report is written to ``os.devnull`` unless ``report_path`` is given.
    """

    def __init__(
        self,
        inp_path: str | os.PathLike,
        report_path: str | os.PathLike | None = None,
        version: str = "2.3",
    ):
        self.lib = library(version)
        self.bulk = hasattr(self.lib, "EN_getnodevalues") and version != "2.2"
        self._handle = ctypes.c_void_p()
        self._open = False
        rpt = str(Path(report_path).resolve()) if report_path else os.devnull
        inp = str(Path(inp_path).resolve())
        with epanet_scratch():  # EPANET 2.3 makes its temporary files when the project is made
            self._check(self.lib.EN_createproject(ctypes.byref(self._handle)), "create project")
            code = self.lib.EN_open(self._handle, inp.encode(), rpt.encode(), b"")
            if code > 100:
                # EN_close releases the files EN_open opened (and flushes the report);
                # without it each rejected file leaks a descriptor.
                self.lib.EN_close(self._handle)
                self.lib.EN_deleteproject(self._handle)
                self._handle = None
                raise SimulationError(f"EPANET error {code}: {error_text(code)}", code=code)
        self._open = True
        self._hydraulics_open = False

    def _check(self, code: int, what: str) -> int:
        if code > 100:
            raise SimulationError(f"EPANET error {code} ({what}): {error_text(code)}", code=code)
        return code

    @property
    def handle(self) -> ctypes.c_void_p:
        return self._handle

    def count(self, what: int) -> int:
        n = ctypes.c_int()
        self._check(self.lib.EN_getcount(self._handle, what, ctypes.byref(n)), "count")
        return n.value

    def node_ids(self) -> list[str]:
        buf = ctypes.create_string_buffer(EN_MAXID + 1)
        out = []
        for k in range(1, self.count(EN_NODECOUNT) + 1):
            self._check(self.lib.EN_getnodeid(self._handle, k, buf), "node id")
            out.append(buf.value.decode())
        return out

    def link_ids(self) -> list[str]:
        buf = ctypes.create_string_buffer(EN_MAXID + 1)
        out = []
        for k in range(1, self.count(EN_LINKCOUNT) + 1):
            self._check(self.lib.EN_getlinkid(self._handle, k, buf), "link id")
            out.append(buf.value.decode())
        return out

    def node_types(self) -> np.ndarray:
        t = ctypes.c_int()
        out = []
        for k in range(1, self.count(EN_NODECOUNT) + 1):
            self._check(self.lib.EN_getnodetype(self._handle, k, ctypes.byref(t)), "node type")
            out.append(t.value)
        return np.array(out)

    def node_values(self, prop: int, out: np.ndarray | None = None) -> np.ndarray:
        out = np.empty(self.count(EN_NODECOUNT)) if out is None else out
        if self.bulk:
            self._check(self.lib.EN_getnodevalues(self._handle, prop, out), "node values")
        else:
            value, get = ctypes.c_double(), self.lib.EN_getnodevalue
            for k in range(len(out)):
                get(self._handle, k + 1, prop, ctypes.byref(value))
                out[k] = value.value
        return out

    def link_values(self, prop: int, out: np.ndarray | None = None) -> np.ndarray:
        out = np.empty(self.count(EN_LINKCOUNT)) if out is None else out
        if self.bulk:
            self._check(self.lib.EN_getlinkvalues(self._handle, prop, out), "link values")
        else:
            value, get = ctypes.c_double(), self.lib.EN_getlinkvalue
            for k in range(len(out)):
                get(self._handle, k + 1, prop, ctypes.byref(value))
                out[k] = value.value
        return out

    def set_option(self, option: int, value: float) -> None:
        """Set an analysis option (``EN_DEMANDMULT``...) for the runs that follow."""
        self._check(self.lib.EN_setoption(self._handle, option, value), "set option")

    def set_time_parameter(self, parameter: int, value: int) -> None:
        """Set a time parameter (``EN_DURATION``...) [s]."""
        self._check(self.lib.EN_settimeparam(self._handle, parameter, value), "set time")

    def open_hydraulics(self) -> None:
        if not self._hydraulics_open:
            with epanet_scratch():
                self._check(self.lib.EN_openH(self._handle), "open hydraulics")
            self._hydraulics_open = True

    def solve_snapshot(self) -> int:
        """Solve the hydraulics at time 0 only; returns EPANET's warning code (0 when none)."""
        self.open_hydraulics()
        self._check(self.lib.EN_initH(self._handle, 0), "init hydraulics")
        t = ctypes.c_long()
        return self._check(self.lib.EN_runH(self._handle, ctypes.byref(t)), "run hydraulics")

    def close(self) -> None:
        if self._handle is None:
            return
        if self._hydraulics_open:
            self.lib.EN_closeH(self._handle)
            self._hydraulics_open = False
        with epanet_scratch():
            if self._open:
                self.lib.EN_close(self._handle)
                self._open = False
            self.lib.EN_deleteproject(self._handle)
        self._handle = None

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:  # a safety net; callers close explicitly
        try:
            self.close()
        except Exception:
            pass
