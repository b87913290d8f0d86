"""``hydro size`` and ``hydro run`` (registered here, implemented in hydro.sizing / hydro.study)."""

from __future__ import annotations


def add_commands(sub) -> None:
    pass
