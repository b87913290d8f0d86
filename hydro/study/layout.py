"""Tables that fit a printed A4 page at 100%: measured, then transposed or split.

A browser lays out a table no narrower than the sum of its columns' narrowest widths (the
widest word of each column, plus padding); a table wider than the page makes Chromium shrink
every page to fit it. So each table of the report is measured before it is written, with the
metrics of DejaVu Sans (the print font of the report, one of the widest sans-serif faces, so
a narrower fallback font only leaves more room) at the print size of the tables:

1. a table that fits is written as it is;
2. a wide and short table (a few rows, many columns) is transposed when that fits;
3. any other wide table is split into parts of whole columns, each repeating the key
   columns (the first, that names the row), each part under the last.

The sizes here are the print stylesheet's (``report.html.j2``): change both together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

#: A4 width and the page's left and right margins [mm] (the template's ``@page``).
PAGE_WIDTH_MM = 210.0
PAGE_MARGIN_MM = 12.0
POINTS_PER_MM = 72 / 25.4
#: Width the tables may take on paper [pt].
PRINTABLE_WIDTH_PT = (PAGE_WIDTH_MM - 2 * PAGE_MARGIN_MM) * POINTS_PER_MM
#: Print sizes of body text and table text [pt] (the template's print stylesheet).
BODY_FONT_PT = 9.5
TABLE_FONT_PT = 7.5
#: Horizontal padding of a cell on each side [em], and its border [pt] (1 CSS px).
CELL_PADDING_EM = 0.45
CELL_BORDER_PT = 0.75
#: A table of at most this many rows may be transposed (scenarios, villages).
TRANSPOSE_MAX_ROWS = 6
#: Where a header may break besides its spaces (a ``<wbr>`` is written after each).
HEADER_BREAKS = "/"

_TEXT_TO_PATH = TextToPath()


@lru_cache(maxsize=20000)
def text_width_pt(text: str, size_pt: float = TABLE_FONT_PT, bold: bool = False) -> float:
    """Width of one line of text in DejaVu Sans [pt].

    >>> round(text_width_pt("0000", 10.0) / text_width_pt("0", 10.0))
    4
    """
    if not text:
        return 0.0
    font = FontProperties(family="DejaVu Sans", size=size_pt, weight="bold" if bold else "normal")
    width, _, _ = _TEXT_TO_PATH.get_text_width_height_descent(text, font, ismath=False)
    return float(width)


def words(text: str, breaks: str = "") -> list[str]:
    """The pieces a browser cannot break: split at ordinary spaces (never at a no-break space,
    as in French numbers) and after any character of ``breaks``.

    >>> words("tap flow [l/s]", "/")
    ['tap', 'flow', '[l/', 's]']
    """
    pieces = text.split(" ")
    for mark in breaks:
        pieces = [part for piece in pieces for part in _after(piece, mark)]
    return [p for p in pieces if p]


def _after(piece: str, mark: str) -> list[str]:
    parts = piece.split(mark)
    return [p + mark for p in parts[:-1]] + [parts[-1]]


def cell_min_width_pt(text: str, bold: bool = False, breaks: str = "") -> float:
    """Narrowest width of a cell holding ``text``: its widest word, padding and border [pt]."""
    widest = max((text_width_pt(w, TABLE_FONT_PT, bold) for w in words(text, breaks)), default=0)
    return widest + 2 * CELL_PADDING_EM * TABLE_FONT_PT + CELL_BORDER_PT


@dataclass
class Grid:
    """A table as text already in the report's language: a header row, body rows and total
    rows (bold, at the end); ``left[j]``: column ``j`` is text (read from the left).
    """

    header: list[str]
    rows: list[list[str]]
    left: list[bool]
    totals: list[list[str]] = field(default_factory=list)
    #: the first row's cells are row headers of a transposed table
    transposed: bool = False

    def widths_pt(self) -> list[float]:
        """Narrowest width of each column [pt]."""
        out = []
        for j, head in enumerate(self.header):
            cells = [cell_min_width_pt(r[j]) for r in self.rows]
            cells += [cell_min_width_pt(r[j], bold=True) for r in self.totals]
            out.append(max([cell_min_width_pt(head, True, HEADER_BREAKS), *cells]))
        return out

    def width_pt(self) -> float:
        """Narrowest width of the whole table [pt]."""
        return sum(self.widths_pt())

    def fits(self, width_pt: float = PRINTABLE_WIDTH_PT) -> bool:
        """True when the table fits ``width_pt`` (the printable width of A4 by default)."""
        return self.width_pt() <= width_pt

    def text_widths_pt(self, width_pt: float = PRINTABLE_WIDTH_PT) -> dict[int, float]:
        """Content widths (padding aside) to ask for the text columns [pt], by column: the room
        the table leaves beyond its narrowest width, shared among its text columns in proportion
        to how much wider than narrowest each would be on one line (without it a browser gives
        a long text column little more than its longest word, and the column runs down the
        page).
        """
        narrow = self.widths_pt()
        slack = width_pt - sum(narrow)
        wide = {}
        for j, left in enumerate(self.left):
            if left and not (self.transposed and j == 0):
                cells = [r[j] for r in self.rows]
                line = max((text_width_pt(c) for c in cells), default=0.0)
                line += narrow[j] - max((cell_min_width_pt(c) for c in cells), default=0.0)
                if line > narrow[j]:
                    wide[j] = line - narrow[j]
        if slack <= 0 or not wide:
            return {}
        share = min(1.0, slack / sum(wide.values()))
        padding = 2 * CELL_PADDING_EM * TABLE_FONT_PT + CELL_BORDER_PT
        return {j: narrow[j] + share * extra - padding for j, extra in wide.items()}

    def turned(self) -> Grid:
        """Rows as columns: the first column's cells become the header."""
        columns = list(zip(*(self.rows + self.totals), strict=True)) if self.rows else []
        header = [self.header[0], *columns[0]] if columns else [self.header[0]]
        rows = [[self.header[j], *columns[j]] for j in range(1, len(self.header))]
        return Grid(header, rows, [True] + [False] * (len(header) - 1), transposed=True)

    def part(self, columns: list[int]) -> Grid:
        """The table restricted to ``columns`` (indices, in order)."""
        return Grid(
            [self.header[j] for j in columns],
            [[r[j] for j in columns] for r in self.rows],
            [self.left[j] for j in columns],
            [[r[j] for j in columns] for r in self.totals],
        )


def arrange(grid: Grid, keys: int = 1, width_pt: float = PRINTABLE_WIDTH_PT) -> list[Grid]:
    """The table as one or more tables that each fit ``width_pt``: itself when it fits, else
    transposed when it is short and that fits, else split by columns, each part repeating the
    ``keys`` first columns. A single column wider than the page stays (the stylesheet breaks
    its longest words).

    >>> wide = Grid(["name"] + [f"column {k}" for k in range(30)],
    ...             [["a"] + ["123,456"] * 30], [True] + [False] * 30)
    >>> [(len(g.header), len(g.rows), g.transposed) for g in arrange(wide)]
    [(2, 30, True)]
    >>> tall = Grid(wide.header, wide.rows * 10, wide.left)
    >>> parts = arrange(tall)
    >>> len(parts) > 1 and all(g.fits() and g.header[0] == "name" for g in parts)
    True
    """
    if grid.fits(width_pt):
        return [grid]
    if len(grid.rows) + len(grid.totals) <= TRANSPOSE_MAX_ROWS and keys == 1:
        turned = grid.turned()
        if turned.fits(width_pt):
            return [turned]
    widths = grid.widths_pt()
    keys = min(keys, len(widths) - 1)
    fixed = sum(widths[:keys])
    parts, current, used = [], [], fixed
    for j in range(keys, len(widths)):
        if current and used + widths[j] > width_pt:
            parts.append(current)
            current, used = [], fixed
        current.append(j)
        used += widths[j]
    if current:
        parts.append(current)
    return [grid.part(list(range(keys)) + p) for p in parts]


#: Share of the page the first column of an equal-column table takes (the template's
#: ``table.summary th:first-child``).
SUMMARY_FIRST_SHARE = 0.24


def equal_columns(rows: list[list[str]], width_pt: float = PRINTABLE_WIDTH_PT) -> list[list[int]]:
    """Groups of the columns after the first of a fixed-layout table (the first column takes
    :data:`SUMMARY_FIRST_SHARE` of the page, the others share the rest equally; ``rows``: the
    header row first), each group as many columns as fit without a column narrower than its
    longest word.

    >>> equal_columns([["", "a", "b"], ["x", "1", "2"]])
    [[1, 2]]
    >>> len(equal_columns([[""] + ["Scenario"] * 12, ["x"] + ["123,456,789"] * 12]))
    2
    """
    count = len(rows[0]) - 1
    if count <= 0:
        return []
    needed = max(
        cell_min_width_pt(str(r[j]), bold=(i == 0)) for i, r in enumerate(rows)
        for j in range(1, count + 1)
    )  # fmt: skip
    room = (1 - SUMMARY_FIRST_SHARE) * width_pt
    per_part = max(1, min(count, int(room // needed)))
    parts = -(-count // per_part)  # as few parts as needed, their sizes even
    size = -(-count // parts)
    return [list(range(1 + k, 1 + min(k + size, count))) for k in range(0, count, size)]
