"""The study's figures (hydro/study/figures.py) in English and French (issue 23, point 7).

Each figure function is drawn for each language on the Oujda model (a 24 h compliance run)
or on small tables built here; the test keeps the matplotlib figure as it is saved (Agg
backend) and reads back its axis labels, title, legend and tick labels, and checks that the
PNG bytes returned decode to a drawn image. The expected words are written out here, not read
from hydro's label tables, so a wrong or untranslated label fails.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.figure  # noqa: E402
import matplotlib.text  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import ROOT, only_figure  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

import hydro  # noqa: E402
from hydro.study import figures  # noqa: E402
from hydro.study.labels import texts, using_village_word  # noqa: E402

OUJDA = ROOT / "tests" / "data" / "booster_aqueduct.inp"
VILLAGES = ROOT / "tests" / "data" / "booster_villages.csv"
STANDPIPES = [f"{douar}_BF{k}" for douar in ("DB", "OM", "OC", "OA") for k in (1, 2)]
DOUARS = ["Douba", "Oulad Mimoun", "Oulad Chlihe", "Ouled Ayyad"]
HOURS = 24.0
LANGS = ("en", "fr")
NNBSP = "\u202f"  # French thousands separator


def legend_texts(ax) -> list[str]:
    """The legend's entries, after checking it lies outside the plot (it hides no data)."""
    legend = ax.get_legend() or (ax.figure.legends[0] if ax.figure.legends else None)
    assert legend is not None, "no legend"
    canvas = FigureCanvasAgg(ax.figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    box, plot = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
    assert not box.overlaps(plot), "the legend covers the plot"
    return [text.get_text() for text in legend.get_texts()]


def every_text(fig) -> str:
    """Every text drawn on the figure (labels, titles, legends, ticks, notes), one per line."""
    fig.canvas.draw()  # tick labels exist once drawn
    return "\n".join(t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text())


def hlines_at(ax) -> list[float]:
    """The heights of the horizontal lines across the axes (``axhline``)."""
    return sorted(
        float(line.get_ydata()[0])
        for line in ax.get_lines()
        if len(set(np.atleast_1d(line.get_ydata()))) == 1 and len(line.get_ydata()) == 2
    )


# --------------------------------------------------------------------------- a scenario's run
@pytest.fixture(scope="module")
def oujda():
    """The Oujda model's 24 h compliance run, its douars and a rising-main table, as the
    study's scenario outcome carries them.
    """
    wn = hydro.read_network(OUJDA)
    classes = dict.fromkeys(STANDPIPES, "standpipe")
    report = hydro.check_compliance(wn, classes=classes, duration_h=HOURS)
    villages = hydro.read_villages(VILLAGES)
    projection = hydro.project_demand(villages, 2030, hydro.get_scenario("standpipes"))
    surge = pd.DataFrame(
        {
            "pipe": ["RM1", "RM2", "RM3"],
            "pressure_class_m": [160.0, 160.0, 100.0],
            "surge_head_m": [40.0, 35.0, 20.0],
            "shutoff_head_m": [700.0] * 3,
        }
    )
    return SimpleNamespace(
        model=wn,
        compliance_design=report,
        projection_design=projection,
        tank_m3=70.6,
        surge=surge,
        spec=SimpleNamespace(name="standpipes"),
    )


MAP = {
    "en": ("lowest pressure [m]", "Lowest pressure over 24 h (colour) and diameter (width)"),
    "fr": ("pression minimale [m]", "Pression minimale sur 24 h (couleur) et diamètre (épaisseur)"),
}


@pytest.mark.parametrize("lang", LANGS)
def test_map_names_its_scale_tanks_and_douars(drawn, oujda, lang):
    png = figures.figure_map(oujda, texts(lang), HOURS, "Scenario A", (0.0, 60.0), lang)
    fig = only_figure(drawn, png)
    ax, colorbar = fig.axes
    colour_label, title = MAP[lang]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x [m]", "y [m]")
    assert colorbar.get_ylabel() == colour_label
    assert ax.get_title() == f"Scenario A\n{title}"
    notes = {t.get_text() for t in ax.texts}
    assert {"T_HILL", "R_ONEE", *DOUARS} <= notes
    assert colorbar.get_ylim() == pytest.approx((0.0, 60.0))  # the scale shared by scenarios
    labels_clear_of_frame_and_markers(ax, ax.texts[:-1])  # the last text: the diameters' note
    # the axes' numbers as the other figures write them: 12,500 / 12 500
    ticks = [t.get_text() for t in [*ax.get_xticklabels(), *ax.get_yticklabels()]]
    big = [t for t in ticks if sum(c.isdigit() for c in t) > 3]
    assert big and all(("," if lang == "en" else NNBSP) in t for t in big)


def labels_clear_of_frame_and_markers(ax, texts) -> None:
    """Every label lies inside the axes, and none covers a marker or another label (review
    items 4-5: a name over the frame, a name across a node, a point's number under another).
    """
    canvas = FigureCanvasAgg(ax.figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    frame, markers = ax.get_window_extent(renderer), figures._markers(ax)
    boxes = [t.get_window_extent(renderer) for t in texts]
    assert len(boxes) >= 2
    for k, box in enumerate(boxes):
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1, texts[k].get_text()
        assert frame.y0 <= box.y0 and box.y1 <= frame.y1, texts[k].get_text()
        assert figures._hits(box, markers) == 0, texts[k].get_text()
        assert not any(box.overlaps(b) for b in boxes[k + 1 :]), texts[k].get_text()


PRESSURE = {
    "en": ("time [h]", "pressure [m]", "all standpipe and connection nodes",
           "Pressure at the critical standpipes over 24 h (dashed: minimum)"),
    "fr": ("temps [h]", "pression [m]", "toutes les bornes-fontaines et tous les branchements",
           "Pression aux bornes-fontaines critiques sur 24 h (tirets : minimum)"),
}  # fmt: skip


@pytest.mark.parametrize("lang", LANGS)
def test_pressure_shows_the_three_lowest_standpipes_against_their_minimum(drawn, oujda, lang):
    rules = hydro.Rules()
    png = figures.figure_pressure(oujda, rules, texts(lang), HOURS, "Scenario A")
    ax = only_figure(drawn, png).axes[0]
    x_label, y_label, envelope, title = PRESSURE[lang]
    assert (ax.get_xlabel(), ax.get_ylabel()) == (x_label, y_label)
    assert ax.get_title() == f"Scenario A\n{title}"
    pressure = oujda.compliance_design.results.pressure[STANDPIPES]
    lowest = list(pressure.min().nsmallest(3).index)
    assert legend_texts(ax) == [envelope, *lowest]
    assert hlines_at(ax) == pytest.approx([10.0])  # the standpipe minimum, 10 m


TANK = {
    "en": ("level [m]", ["minimum", "reserve", "overflow"], "Tank level over 24 h"),
    "fr": ("niveau [m]", ["minimum", "réserve", "trop-plein"], "Niveau du réservoir sur 24 h"),
}


@pytest.mark.parametrize("lang", LANGS)
def test_tank_level_against_its_minimum_reserve_and_overflow(drawn, oujda, lang):
    png = figures.figure_tank(oujda, "T_HILL", texts(lang), HOURS, 0.2, "Scenario A")
    ax = only_figure(drawn, png).axes[0]
    y_label, legend, title = TANK[lang]
    assert ax.get_xlabel() == PRESSURE[lang][0] and ax.get_ylabel() == y_label
    assert legend_texts(ax) == legend
    assert ax.get_title() == f"Scenario A\n{title} (T_HILL, 71 m3)"
    # T_HILL: minimum 0.3 m, top 3.6 m; reserve 0.3 + 0.2 x 3.3 = 0.96 m
    assert hlines_at(ax) == pytest.approx([0.3, 0.96, 3.6])


PROFILE = {
    "en": ("distance along the main [m]", "elevation, head [m]",
           ["ground", "ground + pressure class", "steady head (pumping)", "head at pump shut-off",
            "Joukowsky up- and down-surge"],
           "Rising main: ground, pressure class and heads", "4,000"),
    "fr": ("distance le long de la conduite [m]", "cote, charge [m]",
           ["terrain", "terrain + classe de pression", "charge en régime (pompage)",
            "charge à débit nul de la pompe", "surpression et dépression de Joukowsky"],
           "Refoulement : terrain, classe de pression et charges", f"4{NNBSP}000"),
}  # fmt: skip


@pytest.mark.parametrize("lang", LANGS)
def test_rising_main_profile(drawn, oujda, lang):
    png = figures.figure_profile(oujda, "PU_BOOST", texts(lang), lang, "Scenario A")
    ax = only_figure(drawn, png).axes[0]
    x_label, y_label, legend, title, four_km = PROFILE[lang]
    assert (ax.get_xlabel(), ax.get_ylabel()) == (x_label, y_label)
    assert legend_texts(ax) == legend
    assert ax.get_title() == f"Scenario A\n{title}"
    assert ax.xaxis.get_major_formatter()(4000, 0) == four_km
    ground = ax.get_lines()[0]
    assert ground.get_xdata()[-1] == pytest.approx(1825 + 1586 + 1014)  # RM1-RM3 lengths
    assert hlines_at(ax) == pytest.approx([700.0])  # the head at shut-off


# --------------------------------------------------------------------------- the study's tables
def outcome_with_bill(name: str, pipes_mad: float, storage_mad: float):
    boq = pd.DataFrame(
        {
            "category": ["pipes", "pipes", "storage", "standpipes", "pumping"],
            "total_lcu": [pipes_mad / 2, pipes_mad / 2, storage_mad, 160000.0, 1200000.0],
        }
    )
    return SimpleNamespace(spec=SimpleNamespace(name=name), boq=boq)


LABELS = {
    "en": {"standpipes": "Standpipes", "household_connections": "Household connections"},
    "fr": {"standpipes": "Bornes-fontaines", "household_connections": "Branchements"},
}
COSTS = {
    "en": (["pipes", "pumping", "standpipes", "storage"], "Capital cost by item", "120,000"),
    "fr": (["conduites", "pompage", "bornes-fontaines", "stockage"],
           "Coût d'investissement par poste", f"120{NNBSP}000"),
}  # fmt: skip


@pytest.mark.parametrize("lang", LANGS)
def test_costs_stack_each_category_in_euros(drawn, lang):
    outcomes = [
        outcome_with_bill("standpipes", 1110000.0, 555000.0),
        outcome_with_bill("household_connections", 2220000.0, 555000.0),
    ]
    png = figures.figure_costs(outcomes, 11.1, texts(lang), lang, LABELS[lang])
    ax = only_figure(drawn, png).axes[0]
    legend, title, number = COSTS[lang]
    assert legend_texts(ax) == legend and ax.get_title() == title
    assert ax.get_ylabel() == "EUR"
    assert ax.yaxis.get_major_formatter()(120000, 0) == number
    assert [t.get_text() for t in ax.get_xticklabels()] == list(LABELS[lang].values())
    # each scenario's stack adds up to its bill in EUR (at 11.1 MAD/EUR)
    tops = {}
    for bar in ax.patches:
        x = round(bar.get_x(), 6)
        tops[x] = max(tops.get(x, 0.0), bar.get_y() + bar.get_height())
    expected = [(p + 555000 + 160000 + 1200000) / 11.1 for p in (1110000, 2220000)]
    assert sorted(tops.values()) == pytest.approx(expected)


COMPARISON = {
    "en": ("donors' capital [EUR]", "Donors' capital against the budget", "1,200 EUR/pers."),
    "fr": ("part des bailleurs [EUR]", "Part des bailleurs face au budget",
           f"1{NNBSP}200 EUR/hab."),
}  # fmt: skip


FEASIBILITY = pd.DataFrame(
    {
        "scenario": ["standpipes", "household_connections"],
        "capital_donors_eur": [180000.0, 260000.0],
        "beneficiaries_opening": [150, 200],  # the donors' EUR 1,200 and 1,300 per person
        "cost_per_beneficiary_eur": [1234.0, 1780.0],  # the total's (households' part in it)
    }
)


@pytest.mark.parametrize("lang", LANGS)
def test_comparison_against_the_budget(drawn, lang):
    png = figures.figure_comparison(FEASIBILITY, 218000.0, texts(lang), lang, LABELS[lang])
    ax = only_figure(drawn, png).axes[0]
    y_label, title, per_person = COMPARISON[lang]
    assert ax.get_ylabel() == y_label and ax.get_title() == title
    assert legend_texts(ax) == ["budget"]
    assert per_person in {t.get_text() for t in ax.texts}
    assert hlines_at(ax) == pytest.approx([218000.0])
    assert [bar.get_height() for bar in ax.patches] == pytest.approx([180000.0, 260000.0])


STRESS = {
    "en": ("delivered [l/person/day]", ["pump out of service", "unsized model"],
           "Water delivered per village when the scheme is stressed"),
    "fr": ("distribué [l/hab./jour]", ["pompe hors service", "modèle non dimensionné"],
           "Eau distribuée par village quand le système est mis à l'épreuve"),
}  # fmt: skip


STRESS_TABLE = pd.DataFrame(
    {
        "village": ["Douba", "Ouled Ayyad"] * 2,
        "case": ["pump out of service"] * 2 + ["unsized model"] * 2,
        "delivered_l_per_person_day": [12.0, 8.0, 25.0, 20.0],
        "allowance_l_per_person_day": [25.0, 25.0, 25.0, 25.0],
    }
)


@pytest.mark.parametrize("lang", LANGS)
def test_stress_cases_per_douar(drawn, lang):
    png = figures.figure_stress(STRESS_TABLE, texts(lang), lang, "Scenario A")
    ax = only_figure(drawn, png).axes[0]
    y_label, legend, title = STRESS[lang]
    assert ax.get_ylabel() == y_label and legend_texts(ax) == legend
    assert ax.get_title() == f"Scenario A\n{title}"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Douba", "Ouled Ayyad"]


@pytest.mark.parametrize("lang", LANGS)
def test_stress_figure_says_the_study_word_for_a_village(drawn, lang):
    with using_village_word({lang: ("douar", "douars")}):
        png = figures.figure_stress(STRESS_TABLE, texts(lang), lang, "Scenario A")
    title = only_figure(drawn, png).axes[0].get_title()
    assert STRESS[lang][2].replace("village", "douar") in title and "village" not in title


TORNADO = {
    "en": ("change of the donors' capital from the base [EUR]",
           ["budget", "low end", "high end"], "Donors' capital, each parameter over its range",
           ["tank cost", "pipe prices"]),
    "fr": ("variation de la part des bailleurs par rapport à la base [EUR]",
           ["budget", "borne basse", "borne haute"],
           "Part des bailleurs, chaque paramètre sur sa plage",
           ["coût du réservoir", "prix des conduites"]),
}  # fmt: skip


SENSITIVITY = pd.DataFrame(
    [
        ("base", "", "base case", 1.0, 200000.0),
        ("pipe_price_factor", "low", "pipe prices", 0.8, 170000.0),
        ("pipe_price_factor", "high", "pipe prices", 1.2, 230000.0),
        ("tank_cost_factor", "low", "tank cost", 0.8, 195000.0),
        ("tank_cost_factor", "high", "tank cost", 1.2, 205000.0),
    ],
    columns=["parameter", "end", "label", "value", "capital_donors_eur"],
).assign(scenario="standpipes")


@pytest.mark.parametrize("lang", LANGS)
def test_tornado_puts_the_widest_swing_on_top(drawn, lang):
    png = figures.figure_tornado(SENSITIVITY, 218000.0, texts(lang), lang)
    ax = only_figure(drawn, png).axes[0]
    x_label, legend, title, parameters = TORNADO[lang]
    assert ax.get_xlabel() == x_label and ax.get_title() == title
    assert legend_texts(ax) == legend
    assert [t.get_text() for t in ax.get_yticklabels()] == parameters  # bottom to top
    # the budget line: the change that meets the budget, 218,000 - 200,000
    budget = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert [float(line.get_xdata()[0]) for line in budget] == pytest.approx([18000.0])
    # every end label inside the frame, clear of it (review item 15: "0.500" touched it)
    canvas = FigureCanvasAgg(ax.figure)
    canvas.draw()
    frame = ax.get_window_extent(canvas.get_renderer())
    for text in ax.texts:
        box = text.get_window_extent(canvas.get_renderer())
        assert frame.x0 + 2 < box.x0 and box.x1 < frame.x1 - 2, text.get_text()


BUDGET = {
    "en": ("donors' capital [EUR]", "people served (opening year)",
           ["plans run", "cost-people curve", "chosen", "budget"],
           "People served against the donors' capital: every plan run"),
    "fr": ("part des bailleurs [EUR]", "population desservie (mise en service)",
           ["plans calculés", "courbe coût-population", "retenu", "budget"],
           "Population desservie selon la part des bailleurs : tous les plans calculés"),
}  # fmt: skip


CANDIDATES = pd.DataFrame(
    {
        "capital_donors_eur": [90000.0, 150000.0, 160000.0, 210000.0, 250000.0],
        "people_served": [800, 1500, 1400, 2100, 2600],
        "on_curve": [True, True, False, True, True],
        "chosen": [False, False, False, True, False],
        "curve_point": [1, 2, 0, 3, 4],
    }
)


@pytest.mark.parametrize("lang", LANGS)
def test_budget_curve_marks_the_chosen_plan(drawn, lang):
    png = figures.figure_budget(CANDIDATES, 218000.0, texts(lang), lang)
    ax = only_figure(drawn, png).axes[0]
    x_label, y_label, legend, title = BUDGET[lang]
    assert (ax.get_xlabel(), ax.get_ylabel()) == (x_label, y_label)
    assert legend_texts(ax) == legend and ax.get_title() == title
    assert [t.get_text() for t in ax.texts] == ["1", "2", "3", "4"]  # the curve's points
    labels_clear_of_frame_and_markers(ax, ax.texts)


# --------------------------------------------------------------------------- no English in French
#: Every English text the figures above show that French replaces.
ENGLISH = {
    *MAP["en"], *PRESSURE["en"], TANK["en"][0], *TANK["en"][1][1:], TANK["en"][2],
    *PROFILE["en"][:2], *PROFILE["en"][2], PROFILE["en"][3], *COSTS["en"][0], COSTS["en"][1],
    *COMPARISON["en"], STRESS["en"][0], *STRESS["en"][1], STRESS["en"][2], *TORNADO["en"][1][1:],
    TORNADO["en"][0], TORNADO["en"][2], *TORNADO["en"][3], *BUDGET["en"][:2], *BUDGET["en"][2][:3],
    BUDGET["en"][3],
}  # fmt: skip


def test_french_figures_show_no_english_label(drawn, oujda):
    t, lang = texts("fr"), "fr"
    figures.figure_map(oujda, t, HOURS, "A", lang=lang)
    figures.figure_pressure(oujda, hydro.Rules(), t, HOURS, "A")
    figures.figure_tank(oujda, "T_HILL", t, HOURS, 0.2, "A")
    figures.figure_profile(oujda, "PU_BOOST", t, lang, "A")
    figures.figure_costs([outcome_with_bill("standpipes", 1e6, 5e5)], 11.1, t, lang,
                         LABELS[lang])  # fmt: skip
    figures.figure_comparison(FEASIBILITY, 218000.0, t, lang, LABELS[lang])
    figures.figure_stress(STRESS_TABLE, t, lang, "A")
    figures.figure_tornado(SENSITIVITY, 218000.0, t, lang)
    figures.figure_budget(CANDIDATES, 218000.0, t, lang)
    assert len(drawn) == 9
    shown = "\n".join(every_text(fig) for fig in drawn)
    assert sorted(word for word in ENGLISH if word in shown) == []
    assert re.findall(r"\d\u202f\d{3}", shown)  # French thousands: 1 000 (narrow space)


def test_tap_figure_speaks_the_report_language(drawn):
    """The random tap opening's figure (hydro.taps.plot_taps) with the French report's words:
    no English left on it; its legend under the plot."""
    import io

    from hydro.study.labels import TAP_WORDS
    from hydro.taps import plot_taps

    taps = pd.DataFrame(
        {
            "node": ["A_BF1", "A_BF1", "B_BF1"],
            "service": ["standpipe"] * 3,
            "p5_l_per_s": [0.15, 0.2, 0.25],
            "p50_l_per_s": [0.22, 0.24, 0.25],
            "p95_l_per_s": [0.25, 0.25, 0.25],
            "share_under_useful": [0.12, 0.0, 0.0],
            "tap_flow_l_per_s": [0.25] * 3,
            "useful_flow_l_per_s": [0.2] * 3,
        }
    )
    run = SimpleNamespace(taps=taps, draws=100, seed=1)
    buffer = io.BytesIO()
    plot_taps(run, buffer, title="Bornes-fontaines seules\nDébit", words=TAP_WORDS["fr"])
    fig = only_figure(drawn, buffer.getvalue())
    text = every_text(fig)
    for english in ("starved", "median", "tap flow", "useful flow", "5th-95th", "flow of"):
        assert english not in text
    assert (
        "sous-alimenté\u00a0: 12\u00a0%" in text
        and "affamé" not in text
        and "médiane" in legend_texts(fig.axes[0])
    )
