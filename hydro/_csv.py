"""Reading the small CSV tables engineers write by hand or export from a spreadsheet.

One reader for village tables and catalogues, so that they all behave alike:

- a line whose first non-blank character is ``#`` is a comment; a ``#`` anywhere else is data
  (a village may be called "Village #2");
- comma-separated files with a decimal point, and semicolon-separated files with a decimal
  comma (what a French spreadsheet writes), are both read; the separator is taken from the
  header line;
- UTF-8 (with or without a byte-order mark) and Windows-1252 (a French spreadsheet's
  default) are read; anything else is refused with that reason.
"""

from __future__ import annotations

import csv
import io
import os
import warnings
from pathlib import Path

import pandas as pd

from hydro.errors import InputError


def read_table(
    path: str | os.PathLike, what: str, only_blank_missing: bool = False
) -> pd.DataFrame:
    """Read a CSV table; ``what`` names it in messages ("village table", "catalogue").

    ``only_blank_missing``: only an empty cell is missing, so that ``nan``, ``NA`` or ``null``
    stay text (a number column can then refuse them); otherwise pandas' markers of a missing
    value apply. The frame's ``attrs["decimal_comma"]`` tells whether the file used decimal
    commas; ``attrs["rows"]`` holds the line of the file of each row (None when unknown).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such {what}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what} ({exc.strerror})") from exc
    if b"\0" in raw:
        raise InputError(f"{path}: not a text file (binary content); the {what} is a CSV file")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError(f"{path}: the {what} is neither UTF-8 nor Windows-1252 text")
    numbered = [
        (k, line)
        for k, line in enumerate(text.splitlines(), start=1)
        if not line.lstrip().startswith("#")
    ]
    lines = [line for _, line in numbered]
    header = next((line for line in lines if line.strip()), "")
    if not header:
        raise InputError(f"{path}: the {what} is empty (no header line)")
    semicolon = header.count(";") > header.count(",")
    try:
        with warnings.catch_warnings():
            # a row longer than the header would shift into the index or lose its end
            warnings.simplefilter("error", pd.errors.ParserWarning)
            table = pd.read_csv(
                io.StringIO("\n".join(lines)),
                sep=";" if semicolon else ",",
                decimal="," if semicolon else ".",
                skipinitialspace=True,
                index_col=False,
                **({"keep_default_na": False, "na_values": [""]} if only_blank_missing else {}),
            )
    except (pd.errors.ParserError, pd.errors.ParserWarning, pd.errors.EmptyDataError,
            ValueError) as exc:  # fmt: skip
        kind = "semicolon-separated" if semicolon else "comma-separated"
        raise InputError(
            f"{path}: cannot read the {what} as a {kind} table: {str(exc).splitlines()[0][:160]}"
        ) from exc
    table.columns = [str(c).strip() for c in table.columns]
    table.attrs["decimal_comma"] = semicolon
    table.attrs["rows"] = _row_lines(
        lines, [k for k, _ in numbered], ";" if semicolon else ",", len(table)
    )
    return table


def _row_lines(lines: list[str], numbers: list[int], sep: str, n_rows: int) -> list[int] | None:
    """The line of the file on which each data row starts (as a spreadsheet numbers its rows).

    ``lines``: the file's lines but its comments, ``numbers``: their line numbers. The text is
    split into records as pandas splits it (a quoted field may span lines; blank lines are
    skipped); None when that does not give one record per row of the table.
    """
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=sep, skipinitialspace=True)
    starts, end = [], 0
    try:
        for record in reader:
            first, end = end, reader.line_num
            if len(record) > 1 or (record and record[0].strip()):
                starts.append(numbers[first])
    except (csv.Error, IndexError):
        return None
    rows = starts[1:]  # the first record is the header
    return rows if len(rows) == n_rows else None
