"""Commercial pipe catalogues (CSV).

Required columns: ``inner_diameter_mm`` (or ``diameter_mm``) and ``cost_per_m``. Optional:
``material``, ``nominal_diameter_mm``, ``pressure_class_bar`` (allowed working pressure, PN),
``roughness`` (Hazen-Williams C, or Darcy-Weisbach roughness in mm, following the network's
head-loss formula; when absent each pipe keeps the roughness of its ``.inp``). Lines starting
with ``#`` are comments (sources, currency).
"""

from __future__ import annotations

import functools
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hydro._csv import read_table
from hydro.errors import InputError
from hydro.units import M_PER_BAR, MM_PER_M

log = logging.getLogger(__name__)

#: Between a catalogue entry's tag and its pressure rating in the ``[TAGS]`` word of a sized
#: pipe: ``PE100_DN63_PN10|rating_m=101.9716213``. The rating in metres is data hydro reads
#: back (:func:`pipe_ratings_m`), as the node classes are (:mod:`hydro.classes`); EPANET reads
#: a tag as a label and ignores it.
RATING_MARK = "|rating_m="
#: The pressure class in a tag of a file written before the rating was stored (``PN10``).
_LEGACY_PRESSURE_CLASS = re.compile(r"PN_?(\d+(?:\.\d+)?)", re.IGNORECASE)


def pressure_rating_m(pressure_class_bar):
    """Highest pressure [m of water] a pipe of pressure class ``pressure_class_bar`` [bar]
    (PN) may work at: the catalogue's ``pressure_rating_m`` column (NaN: no class).

    >>> round(pressure_rating_m(10.0), 2)
    101.97
    """
    return pressure_class_bar * M_PER_BAR


def tag_of(label: str) -> str:
    """The tag of a catalogue entry: its label without spaces (the ``tag`` column).

    >>> tag_of("PE100 DN63 PN10")
    'PE100_DN63_PN10'
    """
    return str(label).replace(" ", "_")


def pipe_tag(entry) -> str:
    """The ``[TAGS]`` word of a pipe sized to catalogue ``entry`` (a row of
    :attr:`Catalog.table`): the entry's tag and, when it has a class, its rating in metres.

    >>> pipe_tag({"tag": "PE100_DN63_PN10", "pressure_rating_m": 101.97162129779283})
    'PE100_DN63_PN10|rating_m=101.9716213'
    >>> pipe_tag({"tag": "steel_DN100", "pressure_rating_m": float("nan")})
    'steel_DN100'
    """
    rating = float(entry["pressure_rating_m"])
    if not np.isfinite(rating):
        return str(entry["tag"])
    return f"{entry['tag']}{RATING_MARK}{rating:.10g}"


def entry_tag(tag: str | None) -> str:
    """The catalogue entry's tag in a pipe's ``[TAGS]`` word (:func:`pipe_tag`), the rating
    left out: what :attr:`Catalog.by_tag` is indexed by. A tag without a rating is returned
    as it is ('' for none).

    >>> entry_tag("PE100_DN63_PN10|rating_m=101.9716213")
    'PE100_DN63_PN10'
    >>> entry_tag("PE100_DN63_PN10"), entry_tag(None)
    ('PE100_DN63_PN10', '')
    """
    return str(tag or "").partition(RATING_MARK)[0]


def stored_rating_m(tag: str | None) -> float | None:
    """The pressure rating [m] a pipe's tag stores (:func:`pipe_tag`), or None.

    >>> stored_rating_m("PE100_DN63_PN10|rating_m=101.9716213")
    101.9716213
    >>> stored_rating_m("PE100_DN63_PN10") is None
    True
    """
    _, mark, value = str(tag or "").partition(RATING_MARK)
    if not mark:
        return None
    try:
        rating = float(value)
    except ValueError:
        return None
    return rating if np.isfinite(rating) and rating > 0 else None


def rating_of_tag(tag: str | None) -> tuple[float | None, bool]:
    """The pressure rating [m] a pipe's tag gives, and whether it was read from its label.

    The rating the tag stores (:func:`stored_rating_m`); else, in a tag without one (a file
    written before hydro stored ratings, or tagged by hand), the class its ``PN`` names, in
    bar, converted as the catalogue column is (:func:`pressure_rating_m`): the one place a
    rating is read from a label. ``(None, False)`` when the tag gives neither.

    >>> rating_of_tag("PE100_DN63_PN10|rating_m=101.9716213")
    (101.9716213, False)
    >>> round(rating_of_tag("PE100_PN4_DN110")[0], 2), rating_of_tag("PE100_PN4_DN110")[1]
    (40.79, True)
    """
    rating = stored_rating_m(tag)
    if rating is not None:
        return rating, False
    match = _LEGACY_PRESSURE_CLASS.search(str(tag or ""))
    if match is None:
        return None, False
    return float(pressure_rating_m(float(match.group(1)))), True


def pipe_ratings_m(wn) -> dict[str, float]:
    """The pressure rating [m] of every pipe of ``wn`` whose tag gives one
    (:func:`rating_of_tag`), with a note naming the pipes whose rating was read from their
    label. A pipe with neither has no class check.
    """
    ratings, from_labels = {}, []
    for name, pipe in wn.pipes():
        rating, from_label = rating_of_tag(pipe.tag)
        if rating is None:
            continue
        ratings[name] = rating
        if from_label:
            from_labels.append(name)
    if from_labels:
        log.warning(
            "note: the pressure class of %d pipe(s) (%s) is read from the PN of their tag, as "
            "the file stores no rating (a file sized by an earlier hydro, or tagged by hand); "
            "size it again to store each catalogue entry's rating",
            len(from_labels),
            ", ".join(from_labels[:5]) + (" ..." if len(from_labels) > 5 else ""),
        )
    return ratings


def _read_only(values: np.ndarray) -> np.ndarray:
    values = np.array(values, dtype=float)
    values.flags.writeable = False
    return values


@dataclass(frozen=True)
class Catalog:
    """A pipe catalogue sorted by cost; ``table`` has one row per purchasable pipe.

    Columns: ``label``, ``tag`` (the label without spaces; a sized pipe's ``[TAGS]`` word
    adds the rating, :func:`pipe_tag`), ``material``, ``nominal_diameter_mm``,
    ``pressure_class_bar`` (NaN when unknown: no class check),
    ``pressure_rating_m`` (the class in metres of water, :func:`pressure_rating_m`),
    ``inner_diameter_mm``, ``cost_per_m``, ``roughness`` (NaN: keep the pipe's own).
    """

    table: pd.DataFrame
    source: str = "catalogue"

    def __len__(self) -> int:
        return len(self.table)

    @functools.cached_property
    def diameters(self) -> np.ndarray:
        """Inner diameters [m] (read-only; kept: the optimisers read it in their loops)."""
        return _read_only(self.table["inner_diameter_mm"].to_numpy() / MM_PER_M)

    @functools.cached_property
    def costs(self) -> np.ndarray:
        """Cost per metre [currency/m] (read-only; kept: the optimisers read it in their loops)."""
        return _read_only(self.table["cost_per_m"].to_numpy(dtype=float))

    @property
    def has_pressure_classes(self) -> bool:
        """True when some entry has a pressure class."""
        return bool(self.table["pressure_class_bar"].notna().any())

    @property
    def by_tag(self) -> pd.DataFrame:
        """The table indexed by the entry's tag (:func:`tag_of`; a pipe's ``[TAGS]`` word
        without its rating, :func:`entry_tag`).
        """
        return self.table.set_index("tag")

    def roughness_in(self, formula: str) -> pd.Series:
        """Each entry's roughness in WNTR's units for the network's head-loss ``formula``.

        Hazen-Williams C as given; a Darcy-Weisbach roughness, given in mm in the catalogue, in
        metres (SI, as WNTR holds it). NaN: the pipe keeps its own.
        """
        self.check_roughness(formula)
        factor = MM_PER_M if formula == "D-W" else 1.0
        return self.table["roughness"] / factor

    def check_roughness(self, formula: str, network: str = "the network") -> None:
        """Refuse a roughness that does not fit the network's head-loss ``formula``.

        Each formula takes its own kind of roughness (:data:`CATALOG_ROUGHNESS`): a
        Hazen-Williams C of 140 read as 140 mm of Darcy-Weisbach roughness would make every
        pipe far rougher than any real one, and the design wrong.

        Raises
        ------
        InputError
            Naming the catalogue, the formula, the entry and value found, what is allowed,
            and the kind of roughness the value looks like.
        """
        if formula not in CATALOG_ROUGHNESS:
            return
        low, high, rule = CATALOG_ROUGHNESS[formula]
        given = self.table["roughness"]
        bad = given[given.notna() & ~given.between(low, high)]
        if bad.empty:
            return
        value = float(bad.iloc[0])
        label = self.table.loc[bad.index[0], "label"]
        looks = next(
            (
                r
                for f, (lo, hi, r) in CATALOG_ROUGHNESS.items()
                if f != formula and lo <= value <= hi
            ),
            None,
        )
        raise InputError(
            f"{self.source}: roughness {value:g} of {label} ({len(bad)} of {len(given)} entries "
            f"outside the range) does not fit the head-loss formula {formula} of {network}, "
            f"which takes {rule}"
            + (f"; {value:g} looks like {looks.split(',')[0]}" if looks else "")
            + "; give the roughness for that formula, or leave the roughness column out to keep "
            "each pipe's own"
        )

    def at_least(self, nominal_diameter_mm: float) -> Catalog:
        """The entries of nominal diameter ``nominal_diameter_mm`` or more (a utility's
        smallest pipe, e.g. DN 63 on mains); an error when none is left.
        """
        # an entry without a nominal diameter is judged by its inner one, as its label is
        nominal = self.table["nominal_diameter_mm"].fillna(self.table["inner_diameter_mm"])
        table = self.table[nominal >= nominal_diameter_mm]
        if table.empty:
            largest = nominal.max()
            raise InputError(
                f"--min-diameter {nominal_diameter_mm:g}: no pipe of {self.source} is that "
                f"large (its largest nominal diameter is {largest:g} mm)"
            )
        return Catalog(table.reset_index(drop=True), self.source)

    def scaled(self, cost_factor: float) -> Catalog:
        """The same catalogue with every price multiplied by ``cost_factor`` (sensitivity)."""
        table = self.table.copy()
        table["cost_per_m"] = table["cost_per_m"] * cost_factor
        return Catalog(table, self.source)


#: Largest value of each numeric catalogue column, and why (a value above is a typing error).
CATALOG_MAXIMA = {
    "inner_diameter_mm": (5000.0, "millimetres"),
    "nominal_diameter_mm": (5000.0, "millimetres"),
    "cost_per_m": (1e9, "a price per metre"),
    "pressure_class_bar": (1000.0, "bar"),
    "roughness": (1000.0, "a Hazen-Williams C, or a roughness in mm"),
}


#: What a catalogue's roughness may be for each head-loss formula, in the catalogue's units,
#: and the rule for messages [E]: wide enough for usual pipes, and far enough apart that one
#: formula's roughness cannot pass for another's (Hazen-Williams C of PE and PVC 140,
#: docs/sources.md; Darcy-Weisbach roughness height about 0.007 mm for PE, 0.05 mm for
#: ductile iron, a few mm for old rough pipes; Manning n about 0.009 to 0.015 for plastic and
#: concrete).
CATALOG_ROUGHNESS = {
    "H-W": (40.0, 160.0, "a Hazen-Williams C, 40 to 160 (PE and PVC: about 140)"),
    "D-W": (0.001, 10.0, "a Darcy-Weisbach roughness height in mm, 0.001 to 10 (PE: about 0.007)"),
    "C-M": (0.009, 0.03, "a Manning n, 0.009 to 0.03"),
}


def read_catalog(path: str | os.PathLike) -> Catalog:
    """Read and check a pipe catalogue (CSV); errors name the file, row and column.

    Parameters
    ----------
    path : path-like
        CSV with ``inner_diameter_mm`` (or ``diameter_mm``) [mm] and ``cost_per_m``
        [currency/m]; optional ``material``, ``nominal_diameter_mm`` [mm],
        ``pressure_class_bar`` [bar] and ``roughness`` (Hazen-Williams C, or Darcy-Weisbach
        roughness [mm]). Lines starting with ``#`` are comments.

    Returns
    -------
    Catalog
        Rows sorted by cost, each with its ``label`` and ``tag``.

    Raises
    ------
    InputError
        Missing file or column, or a value that is not a positive number.

    Examples
    --------
    >>> catalog = read_catalog("networks/catalogs/oujda_pipes.csv")
    >>> catalog.table.loc[0, "label"]
    'PE100 DN25 PN16'
    """
    path = Path(path)
    raw = read_table(path, "catalogue file")
    if "inner_diameter_mm" not in raw.columns and "diameter_mm" in raw.columns:
        raw = raw.rename(columns={"diameter_mm": "inner_diameter_mm"})
    missing = [c for c in ("inner_diameter_mm", "cost_per_m") if c not in raw.columns]
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; required: inner_diameter_mm "
            f"(or diameter_mm) and cost_per_m; found: {', '.join(raw.columns)}"
        )
    if raw.empty:
        raise InputError(f"{path}: the catalogue has no rows")
    table = pd.DataFrame(index=raw.index)
    table["material"] = raw["material"].astype(str) if "material" in raw else "pipe"
    for column, required in (
        ("inner_diameter_mm", True),
        ("cost_per_m", True),
        ("nominal_diameter_mm", False),
        ("pressure_class_bar", False),
        ("roughness", False),
    ):
        if column not in raw.columns:
            table[column] = np.nan
            continue
        values = pd.to_numeric(raw[column], errors="coerce")
        high, reason = CATALOG_MAXIMA[column]
        for row, (text, value) in enumerate(zip(raw[column], values, strict=True), start=1):
            if (required and np.isnan(value)) or (not np.isnan(value) and not 0 < value <= high):
                raise InputError(
                    f"{path}: row {row}, column {column}: '{str(text)[:40]}' is not allowed "
                    f"(a positive finite number is required, at most {high:g}: {reason})"
                )
        table[column] = values
    nominal = table["nominal_diameter_mm"].fillna(table["inner_diameter_mm"])
    pn = table["pressure_class_bar"]
    table.insert(
        0,
        "label",
        [
            f"{m} DN{n:g}" + (f" PN{p:g}" if not np.isnan(p) else "")
            for m, n, p in zip(table["material"], nominal, pn, strict=True)
        ],
    )
    duplicated = table["label"][table["label"].duplicated()]
    if not duplicated.empty:
        # keep labels unique (they tag pipes in written files): add the inner diameter
        table["label"] = [
            f"{lab} ID{d:g}"
            for lab, d in zip(table["label"], table["inner_diameter_mm"], strict=True)
        ]
    repeated = table[table["label"].duplicated(keep=False)]
    if not repeated.empty:
        label = repeated["label"].iloc[0]
        rows = repeated.index[repeated["label"] == label] + 1
        prices = ", ".join(f"{c:g}" for c in table.loc[rows - 1, "cost_per_m"])
        raise InputError(
            f"{path}: rows {', '.join(map(str, rows))} describe the same pipe '{label}' "
            f"(same material, diameters and class) at prices {prices}: a pipe is listed "
            "once, each label must be unique"
        )
    table["tag"] = table["label"].map(tag_of)
    table["pressure_rating_m"] = pressure_rating_m(table["pressure_class_bar"])
    table = table.sort_values(["cost_per_m", "inner_diameter_mm"], ignore_index=True)
    return Catalog(table, str(path))
