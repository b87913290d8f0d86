"""One validation of numbers and arguments, shared by the library and the command line.

Every public class and function that takes a number from a user (a pressure target, a share,
a year, a seed, a time limit) checks it here, and the command line's option types call the
same functions: a value is refused with the same range and reason whichever way it comes in.
A refusal is an :class:`~hydro.errors.InputError` that names the argument, the value (at most
six significant figures, so ``1e308`` stays short) and what is allowed.

Examples
--------
>>> number(10, "min_pressure_m", PRESSURE_M)
10.0
>>> number(-5, "min_pressure_m", Range(0, 200, "metres of head"))
Traceback (most recent call last):
...
hydro.errors.InputError: min_pressure_m = -5: outside [0, 200]: metres of head
>>> number(float("nan"), "tank_reserve_share", Range(0, 1, open_high=True))
Traceback (most recent call last):
...
hydro.errors.InputError: tank_reserve_share = nan: must be a finite number in [0, 1)
"""

from __future__ import annotations

import decimal
import math
import numbers
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hydro import defaults
from hydro.errors import InputError


def _bound(value: float) -> str:
    """A range's bound: a whole number in full (4294967295), else six figures."""
    return f"{int(value)}" if float(value).is_integer() and abs(value) < 1e12 else f"{value:.6g}"


@dataclass(frozen=True)
class Range:
    """The values a number may take, and why.

    Attributes
    ----------
    low, high : float, optional
        Bounds; None: unbounded on that side.
    reason : str
        Why the range is what it is (shown after the range in a message).
    open_low, open_high : bool
        Exclude the bound itself.
    """

    low: float | None = None
    high: float | None = None
    reason: str = ""
    open_low: bool = False
    open_high: bool = False

    def __contains__(self, value: float) -> bool:
        """True when ``value`` is within the range."""
        if self.low is not None and (value <= self.low if self.open_low else value < self.low):
            return False
        if self.high is not None:
            return value < self.high if self.open_high else value <= self.high
        return True

    def __str__(self) -> str:
        """``[0, 200]``, ``(0, 10]``, ``[0, inf)``, with the reason after a colon."""
        low = "-inf" if self.low is None else _bound(self.low)
        high = "inf" if self.high is None else _bound(self.high)
        left = "(" if self.open_low or self.low is None else "["
        right = ")" if self.open_high or self.high is None else "]"
        return f"{left}{low}, {high}{right}" + (f": {self.reason}" if self.reason else "")


#: Pressure targets and limits [m] (as the study file's ``[rules]`` allow them).
PRESSURE_M = Range(0, 200, "metres of head, 0 (no negative pressure) to 200 m")
#: A maximum pressure [m]: a service rule at consumers' junctions, but a transmission main
#: may carry 300 m and more, so ``hydro size`` and ``hydro check`` take up to 1,000 m.
MAX_PRESSURE_M = Range(0, 1000, "metres of head, 0 to 1,000 m")
#: Velocity limits [m/s].
VELOCITY_M_PER_S = Range(0, 10, "metres per second, above 0 and at most 10 m/s", open_low=True)
#: Bounds of a velocity rule's (low, high) pair [m/s]; sizing's verification uses 1e6 for
#: "no limit".
VELOCITY_RANGE = Range(0, 1e6, "metres per second, 0 to 1e6 m/s (1e6: no upper limit)")
#: A pump's running flow as a share of its best-efficiency flow.
PUMP_FLOW_SHARE = Range(0, 5, "a share of the best-efficiency flow, 0 to 5")
#: A share of something.
SHARE = Range(0, 1, "a share, 0 to 1 (0.2 for 20 %)")
#: The share of a tank's usable depth kept as its reserve.
TANK_RESERVE_SHARE = Range(
    0, 1, "a share of the tank's usable depth, 0 to below 1 (1 leaves nothing to draw)",
    open_high=True,
)  # fmt: skip
#: A calendar year (a projection's or a data year).
YEAR = Range(1900, 2200, "a calendar year")
#: A random seed (numpy's generators take 0 to 2^32 - 1).
SEED = Range(0, 2**32 - 1, "a random seed, 0 to 2^32 - 1")
#: A time limit for a search [s].
TIME_LIMIT_S = Range(0, 86400, "seconds, above 0 and at most 86400 s (one day)", open_low=True)
#: A simulated duration [h]: at most one year (:data:`hydro.defaults.MAX_SIMULATION_HOURS`).
DURATION_H = Range(
    0, defaults.MAX_SIMULATION_HOURS,
    "hours, 0 to 8760 h (one year of operation: longer than any design check needs, and "
    "EPANET's scratch files grow with the duration)",
)  # fmt: skip
#: A pipe diameter [mm].
#: A price or cost in a catalogue's currency.
COST = Range(0, 1e12, "a cost in the catalogue's currency, 0 to 1e12")
DIAMETER_MM = Range(0, 5000, "millimetres, above 0 and at most 5000 mm", open_low=True)


def _label(what: str, value) -> str:
    """``what = value``, or the value alone when ``what`` is empty (an option's type)."""
    return f"{what} = {shown(value)}" if what else shown(value)


def shown(value) -> str:
    """A number as a message shows it: at most six significant figures (``1e+308``)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return f"{value}" if abs(value) < 10**12 else format(decimal.Decimal(int(value)), ".6g")
    if isinstance(value, numbers.Real):
        return f"{float(value):.6g}"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def number(value, what: str, allowed: Range | None = None) -> float:
    """``value`` as a float, after checking it is a finite number within ``allowed``.

    Parameters
    ----------
    value : object
        What the caller gave.
    what : str
        Its name in messages (an argument, an option, an element and its attribute).
    allowed : Range, optional
        The values allowed; None: any finite number.

    Returns
    -------
    float

    Raises
    ------
    InputError
        Not a number (a text, a bool, None), not finite, or outside ``allowed``.
    """
    if not _is_real(value):
        raise InputError(
            f"{_label(what, value)}: must be a number, not a {type(value).__name__}"
            + (f"; allowed: {allowed}" if allowed else "")
        )
    try:
        value = float(value)
    except OverflowError:  # an integer beyond any float
        raise InputError(
            f"{_label(what, value)}: outside {allowed or 'the finite numbers'}"
        ) from None
    if not math.isfinite(value):
        raise InputError(
            f"{_label(what, value)}: must be a finite number"
            + (f" in {allowed}" if allowed else "")
        )
    if allowed is not None and value not in allowed:
        raise InputError(f"{_label(what, value)}: outside {allowed}")
    return value


def optional_number(value, what: str, allowed: Range | None = None) -> float | None:
    """None, or ``value`` checked by :func:`number`."""
    return None if value is None else number(value, what, allowed)


def whole(value, what: str, allowed: Range | None = None) -> int:
    """``value`` as an int, after checking it is a whole number within ``allowed``.

    A float with no fractional part (``2030.0``) is accepted; ``2030.7``, a text or a bool
    is not.
    """
    if not _is_real(value) or not (
        isinstance(value, numbers.Integral)
        or (math.isfinite(float(value)) and float(value).is_integer())
    ):
        raise InputError(
            f"{_label(what, value)}: must be a whole number" + (f" in {allowed}" if allowed else "")
        )
    value = int(value)
    if allowed is not None and value not in allowed:
        raise InputError(f"{_label(what, value)}: outside {allowed}")
    return value


def mapping(value, what: str) -> Mapping:
    """``value`` when it is a mapping (``{}`` for None); else an :class:`InputError`."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(f"{what}: must be a mapping (a dict), got a {type(value).__name__}")
    return value


def pair(value, what: str) -> tuple:
    """``value`` as a (low, high) tuple when it holds two items; else an :class:`InputError`."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 2:
        raise InputError(f"{what} = {shown(value)}: must be a pair (low, high)")
    return tuple(value)


def path(value, what: str) -> str | os.PathLike:
    """``value`` when it is a path (a text or a path-like), else an :class:`InputError`."""
    if isinstance(value, str | os.PathLike) and os.fspath(value):
        if "\0" in os.fspath(value):
            raise InputError(f"{what}: a file name cannot hold a NUL character")
        return value
    raise InputError(
        f"{what}: expected a file name (a text or a pathlib.Path), got {shown(value)} "
        f"({type(value).__name__})"
    )


def model(wn, what: str = "wn"):
    """``wn`` when it is a WNTR model; else an :class:`InputError` that says what to pass.

    A path or a file name is the common mistake: the message says to read it first.
    """
    # WNTR is not imported here (the command line starts without it): a model exists only
    # once WNTR is loaded.
    wntr = sys.modules.get("wntr")
    if wntr is not None and isinstance(wn, wntr.network.WaterNetworkModel):
        return wn
    hint = ""
    if isinstance(wn, str | os.PathLike):
        hint = f"; read the file first: hydro.read_network({os.fspath(wn)!r})"
    raise InputError(
        f"{what}: expected a network model (wntr.network.WaterNetworkModel, as "
        f"hydro.read_network returns), got {type(wn).__name__}{hint}"
    )
