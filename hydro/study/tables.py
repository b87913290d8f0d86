"""The per-village and per-pipe tables of a scenario's written design: ``villages.csv`` and
``pipes.csv``, the report's tables of the same names and the workbook's sheets (one place, for
:mod:`hydro.study.report` and :mod:`hydro.study.workbook` both).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from hydro.catalog import entry_tag

#: The project's sources document, cited in the study files as ``docs/sources.md, 5.4``;
#: delivered beside each report as ``sources.md`` (the citations read so in the report and
#: the workbook) when hydro runs from its repository.
SOURCES_DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "sources.md"
SOURCES_CITED, SOURCES_NAME = "docs/sources.md", "sources.md"


def cited(text: str) -> str:
    """``text`` with its citations of the sources document as the reader has it."""
    return text.replace(SOURCES_CITED, SOURCES_NAME) if SOURCES_DOCUMENT.is_file() else text


def village_table(o, villages: pd.DataFrame, persons_per_household: float) -> pd.DataFrame:
    """People, standpipes, taps, people per tap, farthest home and tertiary network per village.

    Homes: the village's distribution nodes (its standpipe nodes when it has none); the distance
    is a straight line to the nearest standpipe of the scheme.
    """
    d = o.projection_open.villages
    model = o.model
    standpipes = [n for n, c in o.projection_open.node_classes().items() if c == "standpipe"]
    coords = {n: model.get_node(n).coordinates for n in model.junction_name_list}
    tertiary = o.tertiary.set_index("village")["length_m"] if not o.tertiary.empty else {}
    rows = []
    homes = {
        v["village"]: list(v["household_shares"] or v["standpipe_shares"])
        for v in villages.to_dict("records")
    }
    for r in d.to_dict("records"):
        own = homes.get(r["village"], [])
        farthest = float("nan")
        if standpipes and own:
            farthest = max(
                min(math.dist(coords[n], coords[s]) for s in standpipes if s in coords)
                for n in own
                if n in coords
            )
        taps = int(r["taps"])
        rows.append(
            {
                "village": r["village"],
                "population": round(r["population"]),
                "standpipes": int(r["standpipes"]) if r["people_standpipe"] > 0 else 0,
                "taps": taps if r["people_standpipe"] > 0 else 0,
                "people_per_tap": r["people_standpipe"] / taps if taps else float("nan"),
                "household_connections": math.ceil(
                    r["people_household"] / persons_per_household - 1e-9
                )
                if r["people_household"] > 0
                else 0,
                "farthest_home_m": farthest,
                "tertiary_m": float(tertiary.get(r["village"], 0.0)) if len(tertiary) else 0.0,
            }
        )
    return pd.DataFrame(rows)


def pipe_table(o) -> pd.DataFrame:
    """Every pipe of the written design with its catalogue label and highest velocity."""
    velocity = o.compliance_design.results.velocity.abs().max()
    rows = []
    for name, pipe in o.model.pipes():
        rows.append(
            {
                "pipe": name,
                "from": pipe.start_node_name,
                "to": pipe.end_node_name,
                "length_m": pipe.length,
                "item": entry_tag(pipe.tag).replace("_", " "),
                "inner_diameter_mm": 1000 * pipe.diameter,
                "max_velocity_m_per_s": float(velocity.get(name, np.nan)),
            }
        )
    return pd.DataFrame(rows)
