"""What every command shares: the parser, option types, progress on stderr, exit codes."""

from __future__ import annotations

import argparse
import logging
import math
import re
import sys
import time

from hydro import validate
from hydro.errors import InputError, did_you_mean

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class Parser(argparse.ArgumentParser):
    """Usage errors in one line with exit status 2, and a "did you mean" where one fits."""

    given: tuple[str, ...] = ()  # the words this parser was given (for "did you mean")

    def parse_known_args(self, args=None, namespace=None):
        """Parse, keeping the words given for :meth:`error`."""
        self.given = tuple(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str):
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            options = re.findall(r"'?([\w-]+)'?", choice.group(2))
            message += did_you_mean(choice.group(1), options)
        required = re.match(r"the following arguments are required: (.*)", message)
        if required:  # a required option misspelt: say which word was meant
            missing = [m.strip() for m in required.group(1).split(",")]
            known = option_strings(self)
            for name in (w.split("=")[0] for w in self.given if w.startswith("--")):
                hint = did_you_mean(name, missing) if name not in known else ""
                if hint:
                    message += f"; {name} is not an option{hint}"
                    break
        self.print_usage(sys.stderr)
        sys.stderr.write(f"error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def option_strings(parser: argparse.ArgumentParser) -> list[str]:
    """Every ``--option`` a parser accepts."""
    return [s for action in parser._actions for s in action.option_strings]


def common_options(suppress: bool) -> argparse.ArgumentParser:
    """-q/-v/--debug, accepted before and after the subcommand."""
    default = argparse.SUPPRESS if suppress else None
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "-q", "--quiet", action="store_true", default=default or False,
        help="only results and errors",
    )  # fmt: skip
    parent.add_argument(
        "-v", "--verbose", action="store_true", default=default or False,
        help="more detail on stderr (debug logging)",
    )  # fmt: skip
    parent.add_argument(
        "--debug", action="store_true", default=default or False,
        help="show tracebacks on errors",
    )  # fmt: skip
    parent.add_argument(
        "--inflows", action="store_true", default=default or False,
        help="accept negative junction demands in the network as inflows (EPANET's way of "
        "writing a supply point); without it a negative demand is refused as an error",
    )  # fmt: skip
    return parent


def _parsed(text: str, parse, kind: str):
    """``parse(text)``, or a usage error saying what kind of value was expected."""
    try:
        return parse(text)
    except (ValueError, OverflowError):
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise argparse.ArgumentTypeError(f"expected {kind}, got '{shown}'") from None


def _checked(check, *args):
    """``check(*args)`` (a :mod:`hydro.validate` function); its refusal as a usage error."""
    try:
        return check(*args)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _number_in(allowed: validate.Range | None):
    """An option type: a finite number within ``allowed`` (the library's own check)."""

    def parse(text: str) -> float:
        return _checked(validate.number, _parsed(text, float, "a number"), "", allowed)

    parse.__doc__ = f"A finite number in {allowed}." if allowed else "A finite number."
    return parse


def _whole_in(allowed: validate.Range | None, kind: str = "a whole number"):
    """An option type: a whole number within ``allowed`` (the library's own check)."""

    def parse(text: str) -> int:
        return _checked(validate.whole, _parsed(text, int, kind), "", allowed)

    parse.__doc__ = f"A whole number in {allowed}." if allowed else "A whole number."
    return parse


#: Option types. Each calls :mod:`hydro.validate` with the range the library itself checks,
#: so an option and the library argument it becomes are refused with one message.
number = _number_in(None)
positive = _number_in(validate.Range(0, None, "zero or more"))
cost = _number_in(validate.COST)
above_zero = _number_in(validate.Range(0, None, "above zero", open_low=True))
pressure = _number_in(validate.PRESSURE_M)
max_pressure = _number_in(validate.MAX_PRESSURE_M)
velocity = _number_in(validate.VELOCITY_M_PER_S)
diameter_mm = _number_in(validate.DIAMETER_MM)
hours = _number_in(validate.DURATION_H)
hours_per_day = _number_in(validate.Range(0, 24, "hours a day, above 0 and at most 24", True))
factor = _number_in(validate.Range(1, 5, "a peaking factor, 1 (no peak) to 5"))
share = _number_in(validate.SHARE)
tank_reserve = _number_in(validate.TANK_RESERVE_SHARE)
seconds = _number_in(validate.TIME_LIMIT_S)
whole = _whole_in(None)
count = _whole_in(validate.Range(1, None, "1 or more"))
seed = _whole_in(validate.SEED)
year = _whole_in(validate.YEAR, "a year such as 2030")


def force_option(parser: argparse.ArgumentParser) -> None:
    """``--force``: write into an existing output folder, or over a file, hydro did not write."""
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an existing output file hydro did not write, or write into an existing "
        "output folder hydro did not make (its other files are kept; files with the names "
        "hydro writes are replaced)",
    )


def fmt(frame) -> str:
    """A table for the terminal, two decimals."""
    return frame.to_string(index=False, float_format=lambda v: f"{v:,.2f}")


class Progress:
    """Progress of a long optimisation on stderr: best cost, evaluations, elapsed time."""

    def __init__(self, every_s: float = 2.0, quiet: bool = False):
        self.every_s, self.quiet = every_s, quiet
        self.started = self.last = time.perf_counter()

    def __call__(self, best_cost: float, evaluations: int) -> None:
        now = time.perf_counter()
        if self.quiet or now - self.last < self.every_s:
            return
        self.last = now
        best = f"best cost {best_cost:,.2f}" if math.isfinite(best_cost) else "no design yet"
        sys.stderr.write(
            f"  {best}  evaluations {evaluations:,}  elapsed {now - self.started:.0f} s\n"
        )
        sys.stderr.flush()


#: The library's progress channel: the stages and long solves a user sees (hydro.sizing).
PROGRESS_LOGGER = "hydro.progress"


#: When the command started (reset by :func:`show_progress`): the one clock of every
#: progress line, the steps' and the library channel's
_CLOCK = {"started": time.perf_counter()}


def elapsed_stamp() -> str:
    """``[ 12.3 s]``: the time since the command started."""
    return f"[{time.perf_counter() - _CLOCK['started']:5.1f} s]"


class _Elapsed(logging.Formatter):
    """``[ 12.3 s] message``: the time since the command started, then the message."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{elapsed_stamp()} {record.getMessage()}"


def show_progress(quiet: bool) -> None:
    """Print the library's progress channel on stderr, each line with the elapsed time;
    ``--quiet`` silences it (its warnings still show).
    """
    _CLOCK["started"] = time.perf_counter()
    channel = logging.getLogger(PROGRESS_LOGGER)
    for handler in [h for h in channel.handlers if getattr(h, "_hydro", False)]:
        channel.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Elapsed())
    handler._hydro = True
    channel.addHandler(handler)
    channel.setLevel(logging.WARNING if quiet else logging.INFO)
    channel.propagate = False


class Steps:
    """Steps of a long run on stderr, with the elapsed time."""

    def __init__(self, quiet: bool):
        self.started = time.perf_counter()
        self.quiet = quiet

    def __call__(self, message: str) -> None:
        if not self.quiet:
            sys.stderr.write(f"{elapsed_stamp()} {message}\n")
            sys.stderr.flush()


def write_error(message: str) -> None:
    """``message`` on stderr, on a line of its own even when a progress bar was cut short."""
    if Bar.line_open:
        sys.stderr.write("\n")
        Bar.line_open = False
    sys.stderr.write(f"{message}\n")


class Bar:
    """A progress bar on stderr for runs of many items; shown once a run lasts over a second.

    On a terminal, one line redrawn in place; into a file or a pipe (a log), a plain line at
    each tenth of the run instead, so that the log holds ten lines, not hundreds of redraws.
    """

    #: A bar is on the last line of stderr, not finished (an error goes on the next line).
    line_open = False

    def __init__(self, label: str, quiet: bool = False, width: int = 30, after_s: float = 1.0):
        self.label, self.quiet, self.width, self.after_s = label, quiet, width, after_s
        self.started = time.perf_counter()
        self.shown = False
        self.tenth = -1  # the last tenth of the run written to a log

    def __call__(self, done: int, total: int) -> None:
        elapsed = time.perf_counter() - self.started
        if self.quiet or (elapsed < self.after_s and done < total) or not total:
            return
        if done >= total and not self.shown:
            return  # a short run: no bar at all
        self.shown = True
        if not sys.stderr.isatty():
            tenth = 10 * done // total
            if tenth > self.tenth:
                self.tenth = tenth
                sys.stderr.write(
                    f"  {self.label} {done:,}/{total:,} ({100 * done / total:.0f}%) "
                    f"{elapsed:.1f} s\n"
                )
                sys.stderr.flush()
            return
        filled = int(self.width * done / total)
        sys.stderr.write(
            f"\r  {self.label} {done:,}/{total:,} [{'#' * filled}{'.' * (self.width - filled)}]"
            f" {100 * done / total:3.0f}% {elapsed:.1f} s"
        )
        Bar.line_open = done < total
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()
