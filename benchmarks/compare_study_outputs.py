"""Compare two output folders of ``hydro run``: every CSV, the written designs and the numbers
of report.html and report.xlsx (issue 23: a refactoring keeps the study's outputs identical).

- the same files in both folders (figures ``*.png`` are listed but not compared: matplotlib's
  pixels are not what the refactoring could change);
- each CSV cell by cell: numbers within a relative tolerance of :data:`RELATIVE` (absolute
  :data:`ABSOLUTE` near zero), any other text exactly;
- each written design (``*.inp``) and report.html token by token: the text between the
  numbers exactly, the numbers within the same tolerance (the page's embedded figures and
  WNTR's header lines of a .inp, the input's path and the time of writing, left out);
- report.xlsx sheet by sheet, cell by cell: numbers within the tolerance, text exactly.

Prints every difference (at most ``--show`` per file) and exits 1 when there is any, 0 when
the folders agree.

Run: ``.venv/bin/python benchmarks/compare_study_outputs.py OLD_DIR NEW_DIR``
"""

from __future__ import annotations

import argparse
import csv
import math
import re
import sys
from pathlib import Path

import openpyxl

#: Relative tolerance on every number [-]: tight, only the last digits of a float may move.
RELATIVE = 1e-9
#: Absolute tolerance near zero, in the unit of the column [-].
ABSOLUTE = 1e-12
#: A number as the tables, the page and the .inp files write it (thousands separators, a
#: decimal point or comma, an exponent).
NUMBER = re.compile(r"[-+]?\d+(?:[.,\u202f\u00a0 ]\d{3})*(?:[.,]\d+)?(?:[eE][-+]?\d+)?")
#: An embedded figure in the page: left out of the comparison.
IMAGE = re.compile(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+")
#: WNTR's header of a written .inp (the input's path and the time of writing): left out.
INP_HEADER = re.compile(r"^; (Filename|Created): .*$", re.MULTILINE)


def as_float(text: str) -> float | None:
    """``text`` as a number (English or French writing), or None."""
    t = text.strip().replace("\u202f", "").replace("\u00a0", "")
    for candidate in (t, t.replace(",", ""), t.replace(" ", "").replace(",", ".")):
        try:
            return float(candidate)
        except ValueError:
            continue
    return None


def same_number(a: float, b: float) -> bool:
    """Equal within :data:`RELATIVE` / :data:`ABSOLUTE` (NaN equals NaN)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=RELATIVE, abs_tol=ABSOLUTE)


def same_cell(a, b) -> bool:
    """Two cells: numbers within the tolerance, anything else exactly."""
    if a == b:
        return True
    fa = a if isinstance(a, int | float) and not isinstance(a, bool) else None
    fb = b if isinstance(b, int | float) and not isinstance(b, bool) else None
    if isinstance(a, str) and isinstance(b, str):
        fa, fb = as_float(a), as_float(b)
    if fa is None or fb is None:
        return False
    return same_number(float(fa), float(fb))


def compare_csv(old: Path, new: Path) -> list[str]:
    """Differences between two CSV tables, cell by cell."""
    with old.open(newline="", encoding="utf-8") as f:
        a = list(csv.reader(f))
    with new.open(newline="", encoding="utf-8") as f:
        b = list(csv.reader(f))
    out = []
    if len(a) != len(b):
        out.append(f"{len(a)} rows, now {len(b)}")
    header = a[0] if a else []
    for r, (ra, rb) in enumerate(zip(a, b, strict=False)):
        if len(ra) != len(rb):
            out.append(f"row {r}: {len(ra)} cells, now {len(rb)}")
            continue
        for c, (x, y) in enumerate(zip(ra, rb, strict=True)):
            if not same_cell(x, y):
                column = header[c] if c < len(header) else c
                out.append(f"row {r}, column {column}: {x!r} -> {y!r}")
    return out


def tokens(text: str) -> tuple[list[str], list[str]]:
    """The text with each number replaced by ``#``, cut at the numbers; and the numbers."""
    numbers = NUMBER.findall(text)
    return NUMBER.split(text), numbers


def compare_text(old: str, new: str) -> list[str]:
    """Differences between two texts: the words exactly, the numbers within the tolerance."""
    words_a, numbers_a = tokens(old)
    words_b, numbers_b = tokens(new)
    out = []
    if len(words_a) != len(words_b):
        out.append(f"{len(numbers_a)} numbers, now {len(numbers_b)}")
    for k, (x, y) in enumerate(zip(words_a, words_b, strict=False)):
        if x != y:
            out.append(f"text {k}: {x[:80]!r} -> {y[:80]!r}")
    for k, (x, y) in enumerate(zip(numbers_a, numbers_b, strict=False)):
        fx, fy = as_float(x), as_float(y)
        if x != y and (fx is None or fy is None or not same_number(fx, fy)):
            context = words_a[k][-40:] if k < len(words_a) else ""
            out.append(f"number {k} (after {context!r}): {x} -> {y}")
    return out


def compare_html(old: Path, new: Path) -> list[str]:
    """Differences between two pages, their embedded figures left out."""
    a = IMAGE.sub("data:image", old.read_text(encoding="utf-8"))
    b = IMAGE.sub("data:image", new.read_text(encoding="utf-8"))
    return compare_text(a, b)


def compare_xlsx(old: Path, new: Path) -> list[str]:
    """Differences between two workbooks, sheet by sheet and cell by cell."""
    a = openpyxl.load_workbook(old, data_only=True)
    b = openpyxl.load_workbook(new, data_only=True)
    out = []
    if a.sheetnames != b.sheetnames:
        out.append(f"sheets {a.sheetnames} -> {b.sheetnames}")
    for name in a.sheetnames:
        if name not in b.sheetnames:
            continue
        rows_a = list(a[name].iter_rows(values_only=True))
        rows_b = list(b[name].iter_rows(values_only=True))
        if len(rows_a) != len(rows_b):
            out.append(f"sheet {name}: {len(rows_a)} rows, now {len(rows_b)}")
        for r, (ra, rb) in enumerate(zip(rows_a, rows_b, strict=False), start=1):
            if len(ra) != len(rb):
                out.append(f"sheet {name} row {r}: {len(ra)} cells, now {len(rb)}")
                continue
            for c, (x, y) in enumerate(zip(ra, rb, strict=True), start=1):
                if not same_cell(x, y):
                    out.append(f"sheet {name} row {r} column {c}: {x!r} -> {y!r}")
    return out


def compare_folders(old: Path, new: Path, show: int) -> int:
    """Print every difference; return how many files differ."""
    names_a = {p.name for p in old.iterdir() if p.is_file() and not p.name.startswith(".")}
    names_b = {p.name for p in new.iterdir() if p.is_file() and not p.name.startswith(".")}
    bad = 0
    for name in sorted(names_a - names_b):
        print(f"{name}: missing from {new}")
        bad += 1
    for name in sorted(names_b - names_a):
        print(f"{name}: only in {new}")
        bad += 1
    compared = 0
    for name in sorted(names_a & names_b):
        suffix = Path(name).suffix
        if suffix == ".csv":
            problems = compare_csv(old / name, new / name)
        elif suffix == ".inp":
            problems = compare_text(
                INP_HEADER.sub("", (old / name).read_text()),
                INP_HEADER.sub("", (new / name).read_text()),
            )
        elif suffix == ".html":
            problems = compare_html(old / name, new / name)
        elif suffix == ".xlsx":
            problems = compare_xlsx(old / name, new / name)
        else:
            continue
        compared += 1
        if problems:
            bad += 1
            print(f"{name}: {len(problems)} difference(s)")
            for line in problems[:show]:
                print(f"  {line}")
    print(f"{compared} files compared ({len(names_a & names_b) - compared} figures not), "
          f"{bad} with differences")  # fmt: skip
    return bad


def main(argv: list[str] | None = None) -> int:
    """Parse the two folders, compare them, exit 1 on any difference."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path, help="the outputs before (a hydro run --out folder)")
    parser.add_argument("new", type=Path, help="the outputs after")
    parser.add_argument("--show", type=int, default=20, help="differences shown per file")
    args = parser.parse_args(argv)
    for folder in (args.old, args.new):
        if not folder.is_dir():
            print(f"error: {folder}: no such folder", file=sys.stderr)
            return 1
    return 1 if compare_folders(args.old, args.new, args.show) else 0


if __name__ == "__main__":
    sys.exit(main())
