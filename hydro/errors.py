"""hydro's exceptions.

One base class, :class:`HydroError`; each subclass also inherits the builtin an engineer's
script would catch (``InputError`` is a ``ValueError``, ``SimulationError`` a ``RuntimeError``).
Messages name the file, the element (node, pipe, village, column) and what is allowed.
Compliance failures are results (tables of violations), never exceptions.
"""

from __future__ import annotations


class HydroError(Exception):
    """Base class of every error hydro raises on purpose."""


class InputError(HydroError, ValueError):
    """Bad input: a malformed file, a missing column, an unknown element, a value out of range."""


class OutputError(HydroError, OSError):
    """An output could not be written: a full disk, a folder made read-only or removed."""


class SimulationError(HydroError, RuntimeError):
    """EPANET or WNTR could not run; ``code`` is EPANET's error code when there is one."""

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


class InfeasibleDesignError(HydroError, ValueError):
    """No design from the catalogue can meet the targets (for example the source is too low)."""


def did_you_mean(word: str, candidates) -> str:
    """``"; did you mean 'x'?"`` for the closest candidate, or an empty string."""
    import difflib

    close = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def some_of(names: list[str], shown: int = 10) -> str:
    """The first ``shown`` of ``names`` for a message, joined by commas, and how many more.

    >>> some_of(["J1", "J2", "J3"], shown=2)
    'J1, J2 and 1 more'
    >>> some_of(["J1"])
    'J1'
    """
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more
