"""What every command shares: the parser, option types, progress on stderr, exit codes."""

from __future__ import annotations

import argparse
import re
import sys
import time

from hydro.errors import did_you_mean

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class Parser(argparse.ArgumentParser):
    """Usage errors in one line with exit status 2, and a "did you mean" where one fits."""

    def error(self, message: str):
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            options = re.findall(r"'?([\w-]+)'?", choice.group(2))
            message += did_you_mean(choice.group(1), options)
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
    return parent


def number(text: str) -> float:
    """An option's number (finite)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got '{text}'") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got '{text}'")
    return value


def positive(text: str) -> float:
    """A number that is zero or more."""
    value = number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more, got {value:g}")
    return value


def hours(text: str) -> float:
    """A simulated duration [h]: finite, zero or more, at most the cap (one year)."""
    from hydro import defaults

    value = positive(text)
    if value > defaults.MAX_SIMULATION_HOURS:
        raise argparse.ArgumentTypeError(
            f"{value:g} h is above the cap of {defaults.MAX_SIMULATION_HOURS:g} h (one year of "
            "operation: longer than any design check needs, and EPANET's scratch files grow "
            "with the duration)"
        )
    return value


def hours_per_day(text: str) -> float:
    """Hours in a day: above 0, at most 24."""
    value = number(text)
    if not 0 < value <= 24:
        raise argparse.ArgumentTypeError(f"hours a day are above 0 and at most 24, got {value:g}")
    return value


def factor(text: str) -> float:
    """A peaking factor: 1 to 5 (a peak is never below the average)."""
    value = number(text)
    if not 1 <= value <= 5:
        raise argparse.ArgumentTypeError(
            f"a peaking factor is between 1 (no peak) and 5, got {value:g}"
        )
    return value


def share(text: str) -> float:
    """A share of something, in [0, 1]."""
    value = number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"a share is in [0, 1], got {value:g}")
    return value


def seconds(text: str) -> float:
    """A time limit [s]: finite, above zero, at most a day."""
    value = number(text)
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(
            f"a time limit is above 0 and at most 86400 s (one day), got {value:g}"
        )
    return value


def whole(text: str) -> int:
    """An option's whole number."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got '{text}'") from None


def count(text: str) -> int:
    """A whole number, one or more."""
    value = whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def year(text: str) -> int:
    """A calendar year, 1900 to 2200."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a year such as 2030, got '{text}'") from None
    if not 1900 <= value <= 2200:
        raise argparse.ArgumentTypeError(f"a year between 1900 and 2200 is expected, got {value}")
    return value


def force_option(parser: argparse.ArgumentParser) -> None:
    """``--force``: write into an existing output folder that hydro did not write."""
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into an existing output folder hydro did not make (its other files are "
        "kept; files with the names hydro writes are replaced)",
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
        sys.stderr.write(
            f"  best cost {best_cost:,.2f}  evaluations {evaluations:,}  "
            f"elapsed {now - self.started:.0f} s\n"
        )
        sys.stderr.flush()


class Steps:
    """Steps of a long run on stderr, with the elapsed time."""

    def __init__(self, quiet: bool):
        self.started = time.perf_counter()
        self.quiet = quiet

    def __call__(self, message: str) -> None:
        if not self.quiet:
            sys.stderr.write(f"[{time.perf_counter() - self.started:5.1f} s] {message}\n")
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
