"""The study's figures (PNG bytes), every text in the report's language.

Maps share one colour scale across scenarios; every title names its scenario.
"""

from __future__ import annotations

import io
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.cbook import STEP_LOOKUP_MAP  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from hydro.study.labels import TEXT, needed_decimals, number, translate  # noqa: E402
from hydro.topology import zones  # noqa: E402
from hydro.units import SECONDS_PER_HOUR  # noqa: E402


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _legend_below(fig, ax, handles=None, ncol: int = 4) -> None:
    """The legend under the plot, outside the data it would hide (a figure made with
    ``layout="constrained"``).
    """
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    else:
        labels = [h.get_label() for h in handles]
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=max(1, min(ncol, len(handles))),
        fontsize=8,
        frameon=False,
    )


# --------------------------------------------------------------------------- figures
#: Where a map label may go, in points from its node, in the order tried: right above, right
#: below, left above, left below, centred above and below, then further out
#: (:func:`place_labels`; a label with no horizontal offset is centred on its node).
LABEL_OFFSETS = [(6, 6), (6, -12), (-6, 6), (-6, -12), (0, 9), (0, -17), (6, 18), (6, -24),
                 (-6, 18), (-6, -24)]  # fmt: skip


def _markers(ax) -> np.ndarray:
    """Display position and radius [px] of every marker drawn in ``ax``: scatter points and
    the markers of lines (one row each: x, y, radius).
    """
    px_per_point = ax.figure.dpi / 72
    rows = []
    for c in ax.collections:
        if isinstance(c, PathCollection) and len(c.get_offsets()):
            xy = c.get_offset_transform().transform(c.get_offsets())
            radius = np.resize(np.sqrt(c.get_sizes()) / 2 * px_per_point, len(xy))
            rows.append(np.column_stack([xy, radius]))
    for line in ax.lines:
        if line.get_marker() not in (None, "", " ", "None") and len(line.get_xydata()):
            xy = line.get_transform().transform(line.get_xydata())
            radius = line.get_markersize() / 2 * px_per_point
            rows.append(np.column_stack([xy, np.full(len(xy), radius)]))
    return np.vstack(rows) if rows else np.empty((0, 3))


def _line_points(ax, step_px: float = 3.0) -> np.ndarray:
    """Points every ``step_px`` [px] along each line drawn in ``ax`` (pipes, a curve, a budget
    line), as display x, y and the line's half width [px] (rows as :func:`_markers`').
    """
    px_per_point = ax.figure.dpi / 72
    rows = []
    for line in ax.lines:
        xy = line.get_xydata()
        if len(xy) < 2 or line.get_linestyle() in ("None", "", " "):
            continue
        if line.get_drawstyle().startswith("steps"):
            xy = np.column_stack(STEP_LOOKUP_MAP[line.get_drawstyle()](*xy.T))
        xy = line.get_transform().transform(xy)
        for a, b in zip(xy[:-1], xy[1:], strict=True):
            if np.isfinite([*a, *b]).all():
                n = int(np.hypot(*(b - a)) // step_px) + 2
                half = np.full(n, line.get_linewidth() / 2 * px_per_point)
                rows.append(np.column_stack([np.linspace(a[0], b[0], n),
                                             np.linspace(a[1], b[1], n), half]))  # fmt: skip
    return np.vstack(rows) if rows else np.empty((0, 3))


def _hits(box, markers: np.ndarray) -> int:
    """How many markers (x, y, radius [px]) the display box touches."""
    x, y, r = markers.T
    return int(
        np.sum((x + r >= box.x0) & (x - r <= box.x1) & (y + r >= box.y0) & (y - r <= box.y1))
    )


def place_labels(fig, ax, labels, offsets=LABEL_OFFSETS, **style) -> list:
    """Annotate each (name, point) at the first of ``offsets`` [points] where its text stays in
    the axes, overlaps no label already placed and touches no marker drawn (scatter points,
    line markers) and no line (pipes, curves); when none is that free, at the one that
    touches the fewest markers, then the least line, among those in the axes and clear of the
    labels (among all when none is).

    The layout is fixed (aspect, limits, title and legend set) before this is called, so the
    extents measured here are the ones printed. ``style``: the text's (``fontsize`` 8 unless
    given). Returns the annotations.

    >>> fig, ax = plt.subplots()
    >>> _ = ax.scatter([0.5, 0.52], [0.5, 0.52], s=36), ax.set_xlim(0, 1), ax.set_ylim(0, 1)
    >>> a, b = place_labels(fig, ax, [("T_ANGAD", (0.5, 0.5)), ("Douba", (0.5, 0.5))])
    >>> c, = place_labels(fig, ax, [("Ouled Ayyad", (0.99, 0.5))])
    >>> r, frame = fig.canvas.get_renderer(), ax.get_window_extent()
    >>> bool(a.get_window_extent(r).overlaps(b.get_window_extent(r)))
    False
    >>> [_hits(x.get_window_extent(r), _markers(ax)) for x in (a, b)]
    [0, 0]
    >>> bool(frame.x0 <= c.get_window_extent(r).x0 < c.get_window_extent(r).x1 <= frame.x1)
    True
    >>> plt.close(fig)
    """
    fig.canvas.draw()  # the aspect and the limits are applied at drawing: measure after them
    renderer = fig.canvas.get_renderer()
    frame, markers, lines = ax.get_window_extent(renderer), _markers(ax), _line_points(ax)
    style = {"fontsize": 8, **style}
    placed, boxes = [], []
    for name, point in labels:
        best = None
        for dx, dy in offsets:
            text = ax.annotate(name, point, textcoords="offset points", xytext=(dx, dy),
                               ha="left" if dx > 0 else "right" if dx else "center",
                               **style)  # fmt: skip
            box = text.get_window_extent(renderer)
            outside = not (frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0
                           and box.y1 <= frame.y1)  # fmt: skip
            clash = outside or any(box.padded(3).overlaps(b) for b in boxes)
            score = (clash, _hits(box, markers), _hits(box, lines))
            if best is not None and score >= best[0]:
                text.remove()
                continue
            if best is not None:
                best[1].remove()
            best = (score, text, box)
            if score == (False, 0, 0):
                break
        placed.append(best[1])
        boxes.append(best[2])
    return placed


#: Words the figures add to the report's (:func:`hydro.study.labels.texts`), per language.
WORDS = {
    "en": {
        "zoom": "The distribution area enlarged (the dashed box above)",
        "pressure_mixed": "Pressure at the critical standpipes and connection nodes over "
        "{hours:g} h",
        "standpipe": "standpipe",
        "household": "connection node",
        "minimum_of": "minimum, {cls} ({m:g} m)",
    },
    "fr": {
        "zoom": "La zone de distribution agrandie (le cadre en tirets ci-dessus)",
        "pressure_mixed": "Pression aux bornes-fontaines et nœuds de branchements critiques "
        "sur {hours:g} h",
        "standpipe": "borne-fontaine",
        "household": "nœud de branchements",
        "minimum_of": "minimum, {cls} ({m:g} m)",
    },
}

#: The distribution area is enlarged beside the whole scheme when the scheme's extent is at
#: least this many times the area's box (:func:`distribution_box`) ...
ZOOM_GAIN = 2.0
#: ... and two of its nodes lie closer than this share of the scheme's extent: their 6 pt
#: markers touch on a map about 16 cm wide.
CROWDED_SHARE = 0.02
#: The box's margin around the village nodes and the tanks, as a share of its side.
ZOOM_PAD = 0.1


def distribution_box(wn, nodes) -> tuple[float, float, float, float] | None:
    """The box (x0, y0, x1, y1) [m] of the village ``nodes`` and the tanks, padded by
    :data:`ZOOM_PAD`, when the whole scheme dwarfs it and the nodes in it (any node) would
    crowd on a map of the whole (:data:`ZOOM_GAIN`, :data:`CROWDED_SHARE`); None when the
    villages fill the map or their nodes lie well apart on it.

    >>> import wntr
    >>> wn = wntr.network.WaterNetworkModel()
    >>> for name, xy in (("R", (0, 0)), ("A", (9000, 0)), ("B", (9100, 50)), ("C", (9500, 400))):
    ...     wn.add_junction(name, coordinates=xy)
    >>> distribution_box(wn, ["A", "B", "C"])
    (8950.0, -40.0, 9550.0, 440.0)
    >>> distribution_box(wn, ["R", "A", "B", "C"]) is None  # the villages span the scheme
    True
    """
    names = list(dict.fromkeys([*nodes, *wn.tank_name_list]))
    if len(names) < 2:
        return None
    xy = np.array([wn.get_node(n).coordinates for n in names], dtype=float)
    every = np.array([wn.get_node(n).coordinates for n in wn.node_name_list], dtype=float)
    extent = float(np.ptp(every, axis=0).max())
    low, high = xy.min(axis=0), xy.max(axis=0)
    pad = ZOOM_PAD * np.maximum(high - low, 0.1 * float((high - low).max()))
    low, high = low - pad, high + pad
    near = every[((every >= low) & (every <= high)).all(axis=1)]
    gaps = np.hypot(*(near[:, None, :] - near[None, :, :]).transpose(2, 0, 1))
    closest = float(gaps[gaps > 0].min()) if (gaps > 0).any() else extent
    if ZOOM_GAIN * float((high - low).max()) > extent or closest >= CROWDED_SHARE * extent:
        return None
    return (float(low[0]), float(low[1]), float(high[0]), float(high[1]))


def _draw_scheme(ax, outcome, lowest: pd.Series, scale) -> PathCollection:
    """Pipes (width by diameter; pumps and valves dotted), nodes coloured by their lowest
    pressure [m] on the ``scale`` shared by the scenarios, tanks and reservoirs as navy
    squares, booster pumps as orange triangles. Returns the coloured nodes.
    """
    wn = outcome.model
    diameters = [link.diameter for _, link in wn.pipes()] or [0.1]
    d_min, d_max = min(diameters), max(diameters)
    span = (d_max - d_min) or 1.0
    for _, link in wn.links():
        a, b = wn.get_node(link.start_node_name), wn.get_node(link.end_node_name)
        d = getattr(link, "diameter", d_min)
        width = 0.8 + 5.0 * (min(max(d, d_min), d_max) - d_min) / span
        style = "-" if link.link_type == "Pipe" else ":"
        ax.plot([a.coordinates[0], b.coordinates[0]], [a.coordinates[1], b.coordinates[1]],
                style, color="0.45", linewidth=width, zorder=1)  # fmt: skip
    # colour the distribution, where people draw water; transmission nodes (pump outlet, rising
    # main) carry pressures of another order and are drawn in grey
    _, node_zone = zones(wn)
    served = [n for n in lowest.index if node_zone.get(n) == "distribution"]
    other = [n for n in lowest.index if n not in served]

    def xy(names):
        return np.array([wn.get_node(n).coordinates for n in names], dtype=float).reshape(-1, 2)

    ax.scatter(*xy(other).T, color="0.6", s=16, zorder=2)
    vmin, vmax = scale if scale else (None, None)
    points = ax.scatter(*xy(served).T, c=lowest[served].to_numpy(), cmap="RdYlBu", s=36,
                        zorder=2, vmin=vmin, vmax=vmax)  # fmt: skip
    ax.scatter(*xy(wn.tank_name_list + wn.reservoir_name_list).T, marker="s", s=90,
               color="navy", zorder=3)  # fmt: skip
    boosters = getattr(outcome, "boosters", pd.DataFrame())
    if len(boosters):  # the booster pumps the sizing placed
        ax.scatter(*xy(boosters["node"]).T, marker="^", s=110, color="darkorange",
                   edgecolor="black", zorder=4)  # fmt: skip
    return points


def _map_labels(outcome, box=None, villages: bool = True) -> list:
    """The map's labels (name, point): tanks and reservoirs, the villages (each at its node
    farthest from the first tank or source: the end of its branch, where the map has room)
    and the booster pumps (with their head), those inside ``box`` (x0, y0, x1, y1) [m] only
    when one is given.
    """
    wn = outcome.model
    storage = wn.tank_name_list + wn.reservoir_name_list
    labels = [(n, wn.get_node(n).coordinates) for n in storage]
    origin = np.array(wn.get_node(storage[0]).coordinates if storage else (0.0, 0.0))
    for name, nodes in outcome.projection_design.nodes.groupby("village") if villages else ():
        xy = np.array([wn.get_node(n).coordinates for n in nodes["node"]], dtype=float)
        far = xy[np.argmax(np.hypot(*(xy - origin).T))] if storage else xy[0]
        labels.append((name, tuple(far)))
    boosters = getattr(outcome, "boosters", pd.DataFrame())
    for rec in boosters.to_dict("records"):
        labels.append(
            (f"{rec['pump']} ({rec['head_m']:.0f} m)", wn.get_node(rec["node"]).coordinates)
        )
    if box is None:
        return labels
    x0, y0, x1, y1 = box
    return [(n, (x, y)) for n, (x, y) in labels if x0 <= x <= x1 and y0 <= y <= y1]


def _metres_axes(ax, t: dict, lang: str) -> None:
    ax.set_xlabel(t["x_m"])
    ax.set_ylabel(t["y_m"])
    ax.xaxis.set_major_formatter(lambda v, _: number(v, 0, lang))  # 12,500 / 12 500
    ax.yaxis.set_major_formatter(lambda v, _: number(v, 0, lang))


def _unclutter(ax, least: float = 0.3, clearance: float = 0.9) -> None:
    """Shrink the scatter markers of ``ax`` that crowd a neighbour, each no more than its
    closest neighbour needs (to at least ``least`` of its size): two markers inside the frame
    reach at most ``clearance`` times their distance on the drawn figure; the others keep
    their size.
    """
    ax.figure.canvas.draw()
    frame, px_per_point = ax.get_window_extent(), ax.figure.dpi / 72
    sets = [c for c in ax.collections if isinstance(c, PathCollection) and len(c.get_offsets())]
    xy = [c.get_offset_transform().transform(c.get_offsets()) for c in sets]
    radius = [
        np.resize(np.sqrt(c.get_sizes()) / 2 * px_per_point, len(p))
        for c, p in zip(sets, xy, strict=True)
    ]
    every, reach = np.vstack(xy), np.concatenate(radius)
    inside = ((every[:, 0] >= frame.x0) & (every[:, 0] <= frame.x1)
              & (every[:, 1] >= frame.y0) & (every[:, 1] <= frame.y1))  # fmt: skip
    gaps = np.hypot(*(every[:, None, :] - every[None, :, :]).transpose(2, 0, 1))
    share = reach[:, None] / (reach[:, None] + reach[None, :])
    allowed = np.where(inside[:, None] & inside[None, :] & ~np.eye(len(every), dtype=bool),
                       clearance * gaps * share, np.inf)  # fmt: skip
    new = np.clip(allowed.min(axis=1), least * reach, reach)
    start = 0
    for c, r in zip(sets, radius, strict=True):
        c.set_sizes((2 * new[start : start + len(r)] / px_per_point) ** 2)
        start += len(r)


def figure_map(
    outcome, t: dict, hours: float, title: str = "", scale=None, lang: str = "en"
) -> bytes:
    """Figure: the design on a map, nodes coloured by their lowest pressure; each booster
    pump the sizing placed as an orange triangle at its junction, labelled with its head.

    When the villages sit in a small part of a long scheme (:func:`distribution_box`), a
    second panel under the whole scheme enlarges their area, on the same colour scale, with
    markers shrunk until none overlaps; the whole scheme's panel marks that area's box.
    """
    wn = outcome.model
    lowest = outcome.compliance_design.results.pressure[
        outcome.compliance_design.results.junctions
    ].min()
    box = distribution_box(wn, list(outcome.projection_design.nodes["node"]))
    if box is None:
        fig, ax = plt.subplots(figsize=(8, 6))
        axes = [ax]
    else:
        every = np.array([wn.get_node(n).coordinates for n in wn.node_name_list], dtype=float)
        span = np.ptp(every, axis=0)
        heights = [np.clip(span[1] / max(span[0], 1.0), 0.25, 1.0),
                   np.clip((box[3] - box[1]) / (box[2] - box[0]), 0.3, 1.0)]  # fmt: skip
        fig, axes = plt.subplots(2, 1, figsize=(7.2, min(6.4, 1.6 + 5.6 * sum(heights))),
                                 height_ratios=heights, layout="constrained")  # fmt: skip
        ax = axes[0]
    for a in axes:
        points = _draw_scheme(a, outcome, lowest, scale)
        _metres_axes(a, t, lang)
    fig.colorbar(points, ax=list(axes), label=t["lowest_pressure"])
    if box is not None:  # the whole scheme's panel holds the enlarged area's box
        ax.update_datalim([box[:2], box[2:]])
    ax.margins(0.12)  # room for the names beside their node
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(f"{title}\n{t['map'].format(hours=hours)}", fontsize=10)
    if box is not None:
        zoom = axes[1]
        zoom.set_xlim(box[0], box[2])
        zoom.set_ylim(box[1], box[3])
        zoom.set_aspect("equal", adjustable="box")  # the limits stay the box's
        zoom.set_title(WORDS[lang]["zoom"], fontsize=9)
        fig.canvas.draw()  # the layout, the aspect and the limits, then fixed
        fig.set_layout_engine("none")
        _unclutter(zoom)
        x0, x1 = zoom.get_xlim()
        y0, y1 = zoom.get_ylim()
        ax.autoscale(False)
        # the box as a line, so the labels placed next keep clear of it
        ax.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], "--", color="0.15", linewidth=1,
                zorder=5)  # fmt: skip
        place_labels(fig, zoom, _map_labels(outcome, (x0, y0, x1, y1)))
    place_labels(fig, ax, _map_labels(outcome, villages=box is None))
    d = [link.diameter for _, link in wn.pipes()] or [0.1]
    ax.text(0.01, 0.01, f"{1000 * min(d):.0f}-{1000 * max(d):.0f} mm", transform=ax.transAxes,
            fontsize=8, color="0.3")  # fmt: skip
    return _png(fig)


def _language(t: dict) -> str:
    """The language of the report's words ``t`` (:func:`hydro.study.labels.texts`)."""
    return next((lang for lang in WORDS if t.get("pressure") == TEXT[lang]["pressure"]), "en")


def figure_pressure(
    outcome, rules, t: dict, hours: float, title: str = "", count: int = 3, lang=None
) -> bytes:
    """The envelope (lowest to highest) of the pressure at the standpipe and connection nodes
    hour by hour, the ``count`` most critical of them (the least lowest pressure above their
    class's minimum [m]) and the minimum of each class (dashed).

    Where both classes are drawn, the title says so and the legend names each node's class
    (review item 24: a connection node under "the critical standpipes"). ``lang``: the
    words' language, found from ``t`` when not given.
    """
    words = WORDS[lang or _language(t)]
    results = outcome.compliance_design.results
    classes = outcome.compliance_design.node_classes
    nodes = [n for n in results.junctions if classes.get(n) in ("standpipe", "household")]
    nodes = nodes or list(results.junctions)
    pressure = results.pressure[nodes]
    minimum = pd.Series({n: rules.min_pressure_m.get(classes.get(n), 0.0) for n in nodes})
    critical = (pressure.min() - minimum).nsmallest(count).index
    drawn = [c for c in ("standpipe", "household") if c in {classes.get(n) for n in nodes}]
    mixed = len(drawn) > 1
    fig, ax = plt.subplots(figsize=(8, 3.6), layout="constrained")
    hours_axis = results.pressure.index / SECONDS_PER_HOUR
    ax.fill_between(
        hours_axis, pressure.min(axis=1), pressure.max(axis=1), color="0.85", label=t["envelope"]
    )
    for node in critical:
        label = f"{node} ({words[classes.get(node)]})" if mixed else node
        ax.plot(hours_axis, pressure[node], label=label)
    for cls in drawn:
        m = rules.min_pressure_m[cls]
        label = words["minimum_of"].format(cls=words[cls], m=m) if mixed else None
        ax.axhline(m, color="crimson", linestyle="--", linewidth=1, label=label)
    ax.set_xlabel(t["hour"])
    ax.set_ylabel(t["pressure_m"])
    _legend_below(fig, ax, ncol=3 if mixed else 4)
    heading = (words["pressure_mixed"] if mixed else t["pressure"]).format(hours=hours)
    ax.set_title(f"{title}\n{heading}", fontsize=10)
    return _png(fig)


def figure_tank(
    outcome, tank: str, t: dict, hours: float, reserve_share: float, title: str = ""
) -> bytes:
    """Figure: the tank level over the run against its reserve and overflow."""
    results = outcome.compliance_design.results
    node = outcome.model.get_node(tank)
    fig, ax = plt.subplots(figsize=(8, 3.2), layout="constrained")
    ax.plot(results.tank_level.index / SECONDS_PER_HOUR, results.tank_level[tank], color="navy")
    usable = node.max_level - node.min_level
    for level, label, color in (
        (node.min_level, t["minimum"], "crimson"),
        (node.min_level + reserve_share * usable, t["reserve"], "orange"),
        (node.max_level, t["overflow"], "grey"),
    ):
        ax.axhline(level, linestyle="--", color=color, linewidth=1, label=label)
    ax.set_xlabel(t["hour"])
    ax.set_ylabel(t["level"])
    _legend_below(fig, ax, ncol=3)
    ax.set_title(
        f"{title}\n{t['tank'].format(hours=hours)} ({tank}, {outcome.tank_m3:.0f} m3)",
        fontsize=10,
    )
    return _png(fig)


def figure_costs(outcomes, rate: float, t: dict, lang: str, labels: dict) -> bytes:
    """Capital by category per scenario [EUR], stacked."""
    table = (
        pd.concat([o.boq.assign(scenario=o.spec.name) for o in outcomes])
        .groupby(["scenario", "category"])["total_lcu"]
        .sum()
        .unstack(fill_value=0.0)
        / rate
    )
    table = table.loc[[o.spec.name for o in outcomes]]
    fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
    bottom = np.zeros(len(table))
    names = [_wrap(labels[n]) for n in table.index]
    for category in table.columns:
        ax.bar(names, table[category], bottom=bottom, label=translate(category, lang))
        bottom += table[category].to_numpy()
    ax.set_ylabel("EUR")
    ax.yaxis.set_major_formatter(lambda v, _: number(v, 0, lang))
    _legend_below(fig, ax, ncol=4)
    ax.set_title(t["cost_breakdown"], fontsize=10)
    ax.tick_params(axis="x", labelsize=7)
    return _png(fig)


def _wrap(text: str, width: int = 24) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def figure_comparison(
    feasibility: pd.DataFrame, budget_eur: float, t: dict, lang: str, labels: dict
) -> bytes:
    """The donors' capital of each scenario against the budget, each bar labelled with the
    donors' capital per beneficiary at the opening (the figure the bar shows; the total
    capital per beneficiary, households' connections included, is the feasibility table's
    ``cost_per_beneficiary_eur``).
    """
    fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
    names = [_wrap(labels[n]) for n in feasibility["scenario"]]
    bars = ax.bar(names, feasibility["capital_donors_eur"], color="steelblue")
    ax.axhline(budget_eur, color="crimson", linestyle="--", label=t["budget_line"])
    donors_per_person = feasibility["capital_donors_eur"] / feasibility["beneficiaries_opening"]
    for bar, per in zip(bars, donors_per_person, strict=True):
        ax.annotate(
            f"{number(per, 0, lang)} {t['per_person']}",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_ylabel(t["capital_eur"])
    ax.yaxis.set_major_formatter(lambda v, _: number(v, 0, lang))
    ax.margins(y=0.12)  # room for the cost per person over the highest bar
    _legend_below(fig, ax)
    ax.set_title(t["comparison"], fontsize=10)
    ax.tick_params(axis="x", labelsize=7)
    return _png(fig)


def figure_stress(stress: pd.DataFrame, t: dict, lang: str, title: str = "") -> bytes:
    """Figure: water delivered per village in the stress cases."""
    table = stress.pivot_table(
        index="village", columns="case", values="delivered_l_per_person_day", sort=False
    )
    fig, ax = plt.subplots(figsize=(8, 3.8), layout="constrained")
    width = 0.8 / max(len(table.columns), 1)
    x = np.arange(len(table.index))
    for k, case in enumerate(table.columns):
        ax.bar(x + k * width, table[case], width, label=translate(case, lang))
    allowance = stress.groupby("village", sort=False)["allowance_l_per_person_day"].first()
    for i, value in enumerate(allowance.reindex(table.index)):
        ax.hlines(value, i - 0.1, i + 0.9, color="crimson", linestyle="--", linewidth=1)
    ax.set_xticks(x + 0.4 - width / 2, table.index, fontsize=8)
    ax.set_ylabel(t["delivered"])
    ax.set_ylim(0, 1.1 * max(float(np.nanmax(table.to_numpy())), float(allowance.max())))
    _legend_below(fig, ax, ncol=4)
    ax.set_title(f"{title}\n{t['stress_fig']}", fontsize=10)
    return _png(fig)


def figure_tornado(sensitivity: pd.DataFrame, budget_eur: float, t: dict, lang: str) -> bytes:
    """Change of the donors' capital from its scenario's base at each end of each parameter's
    range [EUR], widest swing on top; the dashed line is the change that would meet the budget
    in the first scenario.
    """
    rows = sensitivity[sensitivity["parameter"] != "base"]
    bases = sensitivity[sensitivity["parameter"] == "base"].set_index("scenario")
    spans = []
    for _, part in rows.groupby("parameter", sort=False):
        base = float(bases.at[part["scenario"].iloc[0], "capital_donors_eur"])
        low = part[part["end"] == "low"].iloc[0]
        high = part[part["end"] == "high"].iloc[0]
        spans.append((translate(low["label"], lang), base, low, high))
    spans.sort(key=lambda s: abs(s[3]["capital_donors_eur"] - s[2]["capital_donors_eur"]))
    # a long parameter's name on two lines or more, the rows spaced for them: the bars keep
    # the figure's width
    names = [_wrap(s[0], 46) for s in spans]
    extra_lines = sum(name.count("\n") for name in names)
    fig, ax = plt.subplots(
        figsize=(8, 0.32 * len(spans) + 0.14 * extra_lines + 1.8), layout="constrained"
    )
    for i, (_, base, low, high) in enumerate(spans):
        for row, color, side in ((low, "steelblue", "right"), (high, "darkorange", "left")):
            delta = row["capital_donors_eur"] - base
            ax.barh(i, delta, color=color, height=0.6)
            value = float(row["value"])
            decimals = needed_decimals(value)  # as the report's tables write it
            if delta != 0:  # the label at the bar's end; on a flat row, low left and high right
                side = "left" if delta > 0 else "right"
            ax.annotate(
                number(value, decimals, lang), (delta, i), fontsize=8, va="center", ha=side,
                # a few points off the bar's end: two labels at zero do not run together
                textcoords="offset points", xytext=(3 if side == "left" else -3, 0),
            )  # fmt: skip
    ax.set_yticks(range(len(spans)), names, fontsize=9)
    ax.axvline(0, color="0.3", linewidth=1)
    first = bases.iloc[0]["capital_donors_eur"]
    budget_line = ax.axvline(
        budget_eur - first, color="crimson", linestyle="--", label=t["budget_line"]
    )
    handles = [
        budget_line,
        Patch(color="steelblue", label=t["low"]),
        Patch(color="darkorange", label=t["high"]),
    ]
    ax.xaxis.set_major_formatter(lambda v, _: number(v, 0, lang))
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6))  # "-100,000" ... "125,000" apart
    ax.set_xlabel(t["tornado_axis"])
    _legend_below(fig, ax, handles, ncol=3)
    ax.set_title(t["tornado"], fontsize=10)
    _clear_of_line(fig, ax, ax.texts, budget_eur - first)
    return _png(fig)


def _clear_of_line(fig, ax, texts, x: float, pad_px: float = 3.0) -> None:
    """Move each bar-end label that the vertical line at ``x`` [data] would cross to the
    line's far side, ``pad_px`` [px] clear of it, and widen the limits so every label stays
    inside the axes (:func:`_room_for`); the scale changes with the limits, so a few rounds
    settle both.
    """
    home = [text.get_position() for text in texts]  # the offsets [points] from the bar's end

    def shift_px(text) -> float:
        """How far ``text`` must move [px] to clear the line (0 when it is clear)."""
        box = text.get_window_extent(fig.canvas.get_renderer())
        line_px = ax.transData.transform((x, 0.0))[0]
        if box.x1 + pad_px <= line_px or line_px <= box.x0 - pad_px:
            return 0.0
        if text.get_horizontalalignment() == "right":  # the text runs left from its bar
            return line_px - pad_px - box.x1
        return line_px + pad_px - box.x0

    for _ in range(4):
        for text, offset in zip(texts, home, strict=True):
            text.set_position(offset)
        _room_for(fig, ax, texts)
        for text in texts:
            dx, dy = text.get_position()
            text.set_position((dx + shift_px(text) * 72 / fig.dpi, dy))
        _room_for(fig, ax, texts)
        if not any(shift_px(text) for text in texts):
            return


def _room_for(fig, ax, texts, pad_px: float = 6.0) -> None:
    """Widen the x limits until every text (a bar's end label) lies inside the axes, clear of
    the frame by ``pad_px`` [px].
    """
    for _ in range(4):  # the scale changes with the limits: a few rounds settle it
        fig.canvas.draw()
        renderer, frame = fig.canvas.get_renderer(), ax.get_window_extent()
        boxes = [text.get_window_extent(renderer) for text in texts]
        right = max((b.x1 for b in boxes), default=0) + pad_px - frame.x1
        left = frame.x0 - min((b.x0 for b in boxes), default=frame.x0) + pad_px
        if right <= 0 and left <= 0:
            return
        low, high = ax.get_xlim()
        per_px = (high - low) / frame.width
        ax.set_xlim(low - max(left, 0) * per_px, high + max(right, 0) * per_px)


#: A label's white ground, so a line under it does not cross its text.
_WHITE = {"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"}


def figure_budget(candidates: pd.DataFrame, budget_eur: float, t: dict, lang: str) -> bytes:
    """Every choice of villages (grey), the cost-people curve and the chosen design."""
    fig, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
    ax.scatter(
        candidates["capital_donors_eur"],
        candidates["people_served"],
        color="0.7",
        s=18,
        label=t["candidates"],
    )
    curve = candidates[candidates["on_curve"]].sort_values("capital_donors_eur")
    ax.step(
        curve["capital_donors_eur"],
        curve["people_served"],
        where="post",
        color="navy",
        marker="o",
        label=t["curve"],
    )
    chosen = candidates[candidates["chosen"]]
    if not chosen.empty:
        ax.scatter(
            chosen["capital_donors_eur"],
            chosen["people_served"],
            s=120,
            facecolors="none",
            edgecolors="crimson",
            linewidths=2,
            zorder=3,
            label=t["chosen"],
        )
    ax.axvline(budget_eur, color="crimson", linestyle="--", label=t["budget_line"])
    ax.xaxis.set_major_formatter(lambda v, _: number(v, 0, lang))
    ax.yaxis.set_major_formatter(lambda v, _: number(v, 0, lang))
    ax.set_xlabel(t["capital_eur"])
    ax.set_ylabel(t["people"])
    _legend_below(fig, ax, ncol=4)
    ax.set_title(t["budget_curve"], fontsize=10)
    # numbers, not the villages' names: close points' names overlapped; the table under the
    # figure lists each point's plan. Placed last, on the final layout, clear of the markers
    fig.canvas.draw()
    fig.set_layout_engine("none")  # the layout drawn stays: the labels do not move it
    points = [
        (str(r.curve_point), (r.capital_donors_eur, r.people_served)) for r in curve.itertuples()
    ]
    place_labels(fig, ax, points, fontsize=7, bbox=_WHITE)
    return _png(fig)


def figure_profile(outcome, pump: str, t: dict, lang: str, title: str = "") -> bytes:
    """Rising main: ground, ground + pressure class, steady head at the highest pumped flow,
    the head at pump shut-off, and the Joukowsky band around the steady head.
    """
    surge = outcome.surge
    model = outcome.model
    results = outcome.compliance_design.results
    when = results.flow[pump].idxmax()
    x, dist, ground, limit, steady, band = 0.0, [], [], [], [], []
    for r in surge.to_dict("records"):
        pipe = model.get_link(r["pipe"])
        for end, name in ((0.0, pipe.start_node_name), (pipe.length, pipe.end_node_name)):
            z = model.get_node(name).elevation
            dist.append(x + end)
            ground.append(z)
            limit.append(z + r["pressure_class_m"])
            steady.append(float(results.head.at[when, name]))
            band.append(r["surge_head_m"])
        x += pipe.length
    fig, ax = plt.subplots(figsize=(8, 3.8), layout="constrained")
    ax.plot(dist, ground, color="saddlebrown", label=t["ground"])
    ax.plot(dist, limit, color="crimson", linestyle="--", label=t["class_limit"])
    ax.plot(dist, steady, color="navy", label=t["steady"])
    ax.axhline(
        float(surge["shutoff_head_m"].iloc[0]), color="purple", linestyle=":", label=t["shutoff"]
    )
    ax.fill_between(
        dist,
        np.subtract(steady, band),
        np.add(steady, band),
        color="orange",
        alpha=0.3,
        label=t["surge_band"],
    )
    ax.set_xlabel(t["distance_m"])
    ax.set_ylabel(t["elevation_m"])
    ax.xaxis.set_major_formatter(lambda v, _: number(v, 0, lang))
    _legend_below(fig, ax, ncol=3)
    ax.set_title(f"{title}\n{t['profile']}", fontsize=10)
    return _png(fig)
