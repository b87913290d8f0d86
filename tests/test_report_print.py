"""Issue 25, points 5-6: the study's report prints on A4 at 100% and the French pack is French.

The small scheme of test_study is run once and its pack written in both languages. Without a
browser, every table of each page is measured at the print stylesheet's sizes
(:mod:`hydro.study.layout`, DejaVu Sans metrics); with Chromium (skipped when it is absent, as
the other browser tests), the page is laid out at the printable width of A4 and every table's
width read from the DOM, and the PDF's smallest text measured.
"""

from __future__ import annotations

import html as html_lib
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pandas as pd
import pytest
from test_study import write_small_study

from hydro.demand import read_villages
from hydro.study import report
from hydro.study.calibration import calibration_of
from hydro.study.config import load_study
from hydro.study.labels import (
    COLUMNS,
    PARAMETERS_EN,
    PARAMETERS_FR,
    column,
    using_village_word,
)
from hydro.study.layout import (
    BODY_FONT_PT,
    HEADER_BREAKS,
    PAGE_MARGIN_MM,
    PRINTABLE_WIDTH_PT,
    TABLE_FONT_PT,
    Grid,
    arrange,
    cell_min_width_pt,
)
from hydro.study.run import run_study
from hydro.study.tables import cited
from hydro.study.workbook import sheet_title

#: Text a donor must not read: developer notes, command lines, code paths, Python values.
DEVELOPER_TEXT = ["TSNet", "numpy", "--lang", "hydro/", "hydro.", "keeper_pay", "True", "False",
                  "nan", "None", "relancer", "run again", "seed", "graine", "computing time",
                  "temps de calcul"]  # fmt: skip
#: English words that must not appear in the French page (whole words).
ENGLISH_WORDS = ["the", "of", "with", "and", "see", "per", "starved", "draws", "median",
                 "salary", "standpipes", "standpipe", "household", "storage", "pumps", "surge",
                 "Scenario", "Parameter", "Value", "yes", "no", "all", "demand",
                 "design year", "opening year", "tap flow", "useful flow"]  # fmt: skip
#: Sheet names of the English workbook that the French one must not keep.
ENGLISH_SHEETS = ("feasibility", "operation", "sensitivity", "switch_points", "stress",
                  "assumptions", "budget_candidates", "boq_", "surge_")  # fmt: skip
#: A PDF word's box is this many times its font size in DejaVu Sans (ascent + descent).
BOX_PER_POINT = 1.16


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    """The small scheme run once, its pack written in English and in French."""
    folder = tmp_path_factory.mktemp("print")
    study = load_study(write_small_study(folder))
    result = run_study(study)
    out = {}
    for lang in ("en", "fr"):
        out[lang] = folder / lang
        out[lang].mkdir()
        report.write_all(result, out[lang], lang)
    return study, out


def visible_text(page: str) -> str:
    """The page's text as a reader sees it (no tags, styles or image data)."""
    page = re.sub(r"<style.*?</style>", "", page, flags=re.S)
    page = re.sub(r'src="data:[^"]*"', "", page)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", page))


def tables_of(page: str) -> list[Grid]:
    """Every data table of the page (not the fixed-layout summary) as text cells."""
    grids = []
    for table in re.findall(r'<table class="data(?! summary)[^"]*".*?</table>', page, flags=re.S):
        head = re.search(r"<thead>(.*?)</thead>", table, flags=re.S)
        header = re.findall(r"<th[^>]*>(.*?)</th>", head.group(1), flags=re.S) if head else []
        body = re.findall(r"<tr[^>]*>(.*?)</tr>", table.split("<tbody>")[1], flags=re.S)
        rows = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, flags=re.S) for r in body]

        def text(cell: str) -> str:
            return html_lib.unescape(re.sub(r"<[^>]+>", "", cell))

        grids.append(Grid([text(h) for h in header], [[text(c) for c in r] for r in rows],
                          [True] * len(header)))  # fmt: skip
    return grids


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_table_fits_the_printed_a4_width(packs, lang):
    _, out = packs
    page = (out[lang] / "report.html").read_text()
    grids = tables_of(page)
    assert len(grids) >= 10
    too_wide = [(g.header[:3], round(g.width_pt())) for g in grids if not g.fits()]
    assert too_wide == [], f"wider than {PRINTABLE_WIDTH_PT:.0f} pt"
    # the page's print stylesheet states the sizes the tables were measured with
    style = re.search(r"@media print \{(.*?)\n  \}", page, flags=re.S).group(1)
    assert f"font-size: {BODY_FONT_PT:g}pt" in style
    assert re.search(rf"table\.data \{{ font-size: {TABLE_FONT_PT:g}pt", style)
    assert f"margin: 14mm {PAGE_MARGIN_MM:g}mm" in page and "size: A4 portrait" in page


def test_a_wide_table_is_split_or_turned_and_each_part_fits():
    """The check above can fail: the same measure finds a 20-column table too wide, and
    html_table writes it as parts that each fit and repeat its first column."""
    frame = pd.DataFrame({"village": [f"Village {k}" for k in range(12)]}
                         | {f"capital_{k}_mad": [123456.0] * 12 for k in range(20)})  # fmt: skip
    cells = [[str(v) for v in row] for row in frame.itertuples(index=False)]
    assert not Grid(list(frame.columns), cells, [True] + [False] * 20).fits()
    page = str(report.html_table(frame, "en", "wide"))
    parts = tables_of(page)
    assert len(parts) >= 2 and all(g.fits() for g in parts)
    assert all(g.header[0] == "Village" for g in parts)  # the key column, labelled
    assert sum(len(g.header) - 1 for g in parts) == 20  # every column once
    assert 'id="table-wide"' in page and 'id="table-wide-2"' in page
    # a short wide table is turned: its rows become columns
    header = ["name"] + [f"figure {k} [MAD]" for k in range(25)]
    rows = [["A"] + ["1,234,567"] * 25, ["B"] + ["7"] * 25]
    short = Grid(header, rows, [True] + [False] * 25)
    (turned,) = arrange(short)
    assert turned.transposed and turned.header == ["name", "A", "B"] and len(turned.rows) == 25


def test_header_breaks_are_the_ones_written():
    """Headers are measured as breaking at spaces and after '/', where the page breaks them."""
    page = str(report.html_table(pd.DataFrame({"delivered_l_per_person_day": [25.0]}), "en", "t"))
    assert "/<wbr>" in page
    assert cell_min_width_pt("[l/person/day]", True, HEADER_BREAKS) < cell_min_width_pt(
        "[l/person/day]", True
    )


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_no_developer_text_no_raw_keys_and_years_as_written(packs, lang):
    study, out = packs
    text = visible_text((out[lang] / "report.html").read_text())
    found = [w for w in DEVELOPER_TEXT if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w])", text)]
    assert found == []
    # the study file's keys (snake_case) are shown in words; node names (DB_BF1) may appear
    assert re.findall(r"\b[a-z]+_[a-z_]+\b", text) == []
    for year in (study.design.base_year, study.design.horizon_year):
        assert str(year) in text
        assert f"{year:,}" not in text and f"{year:,}".replace(",", "\u202f") not in text
    assert not re.search(r"\b1 violations\b", text)
    # the O&M recovery in percent, as everywhere in the page (review item 12)
    recovery = (r"O&M recovered by tariffs: \d+%" if lang == "en"
                else r"exploitation couverte par les tarifs\u00a0: \d+\u00a0%")  # fmt: skip
    assert re.search(recovery, text)
    assert not re.search(r"(tariffs|tarifs)\W+(recover |couvrent )?\d[.,]\d", text)
    # the source tags are explained where the assumptions are (review item 10)
    tags = text.split(report.texts(lang)["assumptions"])[-1]
    assert all(tag in tags for tag in ("[S]", "[S*]", "[D]", "[E]"))
    assert ("[E] engineering estimate" if lang == "en" else "[E] estimation d'ingénieur") in tags
    # the sources document is delivered beside the report, and cited so (s5 review item 13)
    assert "docs/sources.md" not in text and "sources.md" in text
    assert (out[lang] / "sources.md").read_text() == report.SOURCES_DOCUMENT.read_text()
    book = openpyxl.load_workbook(out[lang] / "report.xlsx")
    cells = [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not any("docs/sources.md" in v for v in cells)
    assert any("sources.md, 5." in v for v in cells)


def test_french_page_has_no_english_words(packs):
    _, out = packs
    text = visible_text((out["fr"] / "report.html").read_text())
    found = [w for w in ENGLISH_WORDS if re.search(rf"(?<![\w/-]){re.escape(w)}(?![\w-])", text)]
    assert found == []
    assert "affam" not in text  # a tap short of water is "sous-alimenté" (review item 8)
    # elision and one form of the unit (review item 14), in the page and in every French text
    french = "\n".join(p.read_text() for p in Path(report.__file__).parent.glob("*.py"))
    for page in (text, french):
        assert not re.search(r"\b(de|De) hydro\b|du Hydraulic|l/pers\.", page)
    # French typography (review item 6): a no-break space before every colon and semicolon
    assert re.findall(r".{12}[^\u00a0][:;](?=\s)", text) == []
    # the check can fail: the English page has them
    english = visible_text((out["en"] / "report.html").read_text())
    assert sum(bool(re.search(rf"(?<![\w/-]){w}(?![\w-])", english)) for w in ENGLISH_WORDS) > 10


def test_french_workbook_names_sheets_and_headers_in_french(packs):
    _, out = packs
    book = openpyxl.load_workbook(out["fr"] / "report.xlsx")
    english = [n for n in book.sheetnames if n.lower().startswith(ENGLISH_SHEETS)]
    assert english == [] and "faisabilité" in book.sheetnames and "hypothèses" in book.sheetnames
    raw = [(ws.title, c.value) for ws in book.worksheets for c in ws[1]
           if re.search(r"[a-z]+_[a-z]", str(c.value))]  # fmt: skip
    assert raw == []
    assert any(n.lower().startswith(ENGLISH_SHEETS) for n in
               openpyxl.load_workbook(out["en"] / "report.xlsx").sheetnames)  # fmt: skip


def test_workbook_sheets_have_filters_and_numbers_as_numbers(packs):
    _, out = packs
    book = openpyxl.load_workbook(out["en"] / "report.xlsx")
    for ws in book.worksheets:
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), ws.title
    sheet = book["Budget - plans run"]
    header = [c.value for c in sheet[1]]
    phase = header.index("Phase") + 1
    values = [sheet.cell(row=r, column=phase).value for r in range(2, sheet.max_row + 1)]
    assert values and all(isinstance(v, int | float) for v in values if v is not None)
    years = book["Assumptions"]
    for row in years.iter_rows(min_row=2):
        if row[1].value == "opening year":
            assert row[2].value == 2012 and row[2].number_format == "0"


#: The sheets of the small study's workbook that are no scenario's, in each language.
SHEET_NAMES = {
    "en": {"Contents", "Feasibility", "Funding", "Budget", "Budget - plans run", "Operation",
           "Sensitivity", "Switch points", "Stress", "Calibration", "All taps open",
           "Assumptions", "Douars", "Pipes"},
    "fr": {"sommaire", "faisabilité", "financement", "budget", "budget, plans calculés",
           "exploitation", "sensibilité", "points de bascule", "mise à l'épreuve", "calage",
           "robinets tous ouverts", "hypothèses", "douars", "conduites"},
}  # fmt: skip
#: A scenario's sheets: bill of quantities and rising main, by language.
SCENARIO_SHEETS = {"en": ("BoQ - ", "Surge - "), "fr": ("devis ", "bélier ")}


def words_of(text: str) -> set[str]:
    """The whole words of a text (split at spaces, punctuation around them left out)."""
    return {w.strip(",;:()\u00a0") for w in text.split()}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_workbook_sheet_names_are_words_and_never_cut_one(packs, lang):
    """Review item 5: readable sheet names (not keys), within 31 characters, no word cut:
    a scenario's sheet keeps whole words of its label, which the contents sheet gives whole.
    """
    study, out = packs
    book = openpyxl.load_workbook(out[lang] / "report.xlsx")
    names = book.sheetnames
    assert SHEET_NAMES[lang] <= set(names) and names[0] == ("Contents" if lang == "en" else
                                                            "sommaire")  # fmt: skip
    assert len({n.lower() for n in names}) == len(names)
    assert all(len(n) <= 31 and not re.search(r"[a-z]_[a-z]", n) for n in names), names
    contents = {r[0]: r[1] for r in book[names[0]].iter_rows(min_row=2, values_only=True)}
    assert set(contents) == set(names[1:])
    labels = report.scenario_labels(study, lang)
    scenario_sheets = [n for n in names if n.startswith(SCENARIO_SHEETS[lang])]
    assert len(scenario_sheets) == 2 * len(study.scenarios)  # a bill and a rising main each
    for name in scenario_sheets:
        shown = re.sub(r"\u2026?( \(\d+\))?$", "", name).split(" ", 2 if lang == "en" else 1)[-1]
        full = max((label for label in labels.values() if label in contents[name]), key=len)
        assert full.startswith(shown) and words_of(shown) <= words_of(full), (name, full)


def csv_columns(folder: Path) -> set[str]:
    """Every column name of the CSV files of a pack."""
    return {c for table in folder.glob("*.csv") for c in pd.read_csv(table, nrows=0).columns}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_workbook_header_is_a_label_never_a_key(packs, lang):
    """Issue 25 points 5-6: no sheet of either workbook heads a column with its key."""
    _, out = packs
    keys = set(COLUMNS) | csv_columns(out[lang])
    book = openpyxl.load_workbook(out[lang] / "report.xlsx")
    raw = [(ws.title, c.value) for ws in book.worksheets for c in ws[1]
           if c.value in keys or re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", str(c.value))]  # fmt: skip
    assert raw == []
    assert len(keys) > 100  # the check can fail: the keys are there to be found


#: English in a cell of the French workbook: words and sentences the study writes.
ENGLISH_IN_CELLS = re.compile(
    r"\b(standpipes?|household|connections|balancing volume|rule of thumb|program|duty|"
    r"static lift|pumped|boosters?|people|Tuscany|and|from|with|share)\b"
)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_workbook_text_says_scenarios_and_parameters_in_words(packs, lang):
    """Review item 5: no scenario or parameter key in a text cell of either workbook; in the
    French one, no English phrase the study builds (plans, levels, storage rule, pump duty,
    calibration)."""
    study, out = packs
    keys = {s.name for s in study.scenarios} | {"household_connections"}
    keys |= set(pd.read_csv(out[lang] / "sensitivity.csv")["parameter"]) - {"base"}
    labels = set(report.scenario_labels(study, lang).values())
    book = openpyxl.load_workbook(out[lang] / "report.xlsx")
    found, scenarios = [], 0
    scope = sheet_title("assumptions", lang)
    for ws in book.worksheets:
        header = [c.value for c in ws[1]]
        for row in ws.iter_rows(min_row=2, values_only=True):
            for name, v in zip(header, row, strict=True):
                if name == column("scenario", lang) and ws.title != scope:
                    # a scenario: its label (the assumptions give a scope: all, a demand set)
                    scenarios += 1
                    if v not in labels:
                        found.append((ws.title, v))
                elif isinstance(v, str) and (("_" in v and v in keys) or (lang == "fr" and
                                             ENGLISH_IN_CELLS.search(v))):  # fmt: skip
                    found.append((ws.title, v))
    assert found == [] and scenarios > 20
    if lang == "fr":  # the check can fail: the English workbook says them
        english = openpyxl.load_workbook(out["en"] / "report.xlsx")
        assert any(ENGLISH_IN_CELLS.search(str(v)) for ws in english.worksheets
                   for row in ws.iter_rows(values_only=True) for v in row)  # fmt: skip


def test_french_calibration_sheet_gives_each_scheme_its_french_label_and_source(packs):
    study, out = packs
    cal = calibration_of(study, read_villages(study.inputs.villages))
    sheet = openpyxl.load_workbook(out["fr"] / "report.xlsx")["calage"]
    header = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [r[header.index("Projet")] for r in rows] == [s.label_fr or s.label for s in cal.schemes]
    assert [r[header.index("Source")] for r in rows] == [cited(s.source_fr or s.source)
                                                         for s in cal.schemes]  # fmt: skip
    assert "Libellé" not in header  # the label is the scheme's name, not a second column


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_workbook_holds_the_funding_table(packs, lang):
    """Review item 19: "report.xlsx holds every table": funding.csv's rows, its amounts as
    numbers, each funder in the report's language."""
    _, out = packs
    table = pd.read_csv(out[lang] / "funding.csv")
    sheet = openpyxl.load_workbook(out[lang] / "report.xlsx")[
        "Funding" if lang == "en" else "financement"
    ]
    header = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(table)
    amounts = [r[header.index(column("amount_eur", lang))] for r in rows]
    assert amounts == pytest.approx(list(table["amount_eur"]))
    funders = [r[header.index(column("funder", lang))] for r in rows]
    assert funders == list(table["funder" if lang == "en" else "funder_fr"])
    share = sheet.cell(row=2, column=header.index(column("share", lang)) + 1)
    assert share.value == pytest.approx(table["share"][0]) and share.number_format == "0.0%"
    options = {r[header.index(column("option_label", lang))] for r in rows}
    assert len(options) == table["option"].nunique() > 1


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_workbook_holds_the_pipe_schedule_and_the_villages_table(packs, lang):
    """Review item 19: pipes.csv and villages.csv as sheets, headers labelled, rows and
    numbers as the CSV files (the same functions make both)."""
    study, out = packs
    book = openpyxl.load_workbook(out[lang] / "report.xlsx")
    french = lang == "fr"
    for csv, sheet, key, amount in (("pipes.csv", ("Pipes", "conduites"), "pipe", "length_m"),
                                    ("villages.csv", ("Douars", "douars"), "village",
                                     "population")):  # fmt: skip
        table = pd.read_csv(out[lang] / csv)
        ws = book[sheet[french]]
        header = [c.value for c in ws[1]]
        with using_village_word(study.report.village_word):
            assert header == [column(c, lang) for c in table.columns]
        rows = list(ws.iter_rows(min_row=2, values_only=True))
        assert [str(r[0]) for r in rows] == [str(v) for v in table[key]] and rows
        numbers = [r[header.index(column(amount, lang))] for r in rows]
        assert numbers == pytest.approx(list(table[amount]), rel=1e-9)


# --------------------------------------------------------------------------- browser
def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_chromium_lays_every_table_within_the_printable_width(packs, lang, tmp_path):
    if chromium() is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    _, out = packs
    page = (out[lang] / "report.html").read_text()
    # the print stylesheet on screen, the body as wide as A4's printable width; a script lists
    # the tables wider than the body
    probe = page.replace("@media print {", "@media all {").replace(
        "</body>",
        f"<style>body {{ width: {PRINTABLE_WIDTH_PT:.1f}pt !important; }}</style>"
        "<script>const w = document.body.clientWidth; const wide = [...document.querySelectorAll"
        "('table')].filter(t => t.getBoundingClientRect().width > w + 0.5).map(t => t.id);"
        "const p = document.createElement('pre'); p.id = 'too-wide';"
        "p.textContent = JSON.stringify(wide); document.body.appendChild(p);</script></body>",
    )
    path = tmp_path / "probe.html"
    path.write_text(probe)
    done = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    wide = re.search(r'<pre id="too-wide">(.*?)</pre>', done.stdout)
    assert wide is not None, done.stderr[-2000:]
    assert wide.group(1) == "[]"


def test_chromium_prints_at_100_percent(packs, tmp_path):
    """Printed, the smallest text is the tables' 7.5 pt: nothing was shrunk to fit."""
    if chromium() is None or shutil.which("pdftotext") is None:
        pytest.skip("Chromium or pdftotext (poppler-utils) is not installed")
    _, out = packs
    pdf = tmp_path / "report.pdf"
    subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--print-to-pdf={pdf}", (out["fr"] / "report.html").as_uri()],
        capture_output=True, timeout=120,
    )  # fmt: skip
    boxes = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True
    ).stdout
    heights = [float(b) - float(a) for a, b in
               re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', boxes)]  # fmt: skip
    assert len(heights) > 500
    smallest_pt = min(heights) / BOX_PER_POINT
    assert smallest_pt == pytest.approx(TABLE_FONT_PT, abs=0.15)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_chromium_keeps_each_caption_under_its_figure(packs, lang, tmp_path):
    """Second review (s5): no page begins with a figure's caption, its image left on the page
    before (a caption under its image sits lower than the page's top margin)."""
    if chromium() is None or shutil.which("pdftotext") is None:
        pytest.skip("Chromium or pdftotext (poppler-utils) is not installed")
    _, out = packs
    page = (out[lang] / "report.html").read_text()
    captions = [html_lib.unescape(c).split()[:8] for c in re.findall(r"<figcaption>(.*?)<", page)]
    assert captions
    pdf = tmp_path / "report.pdf"
    subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--print-to-pdf={pdf}", (out[lang] / "report.html").as_uri()],
        capture_output=True, timeout=120,
    )  # fmt: skip
    boxes = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                           text=True).stdout  # fmt: skip
    for k, body in enumerate(re.findall(r"<page[^>]*>(.*?)</page>", boxes, flags=re.S), start=1):
        words = re.findall(r'yMin="([\d.]+)"[^>]*>([^<]*)</word>', body)
        if not words:
            continue
        top = min(float(y) for y, _ in words)
        first = [html_lib.unescape(w) for y, w in words if float(y) < top + 1][:8]
        assert not (top < 60 and first in captions), (k, first)


def test_tap_section_is_one_sentence_when_no_tap_is_starved():
    """Tables and the figure only for a scenario with a starved tap; one sentence otherwise."""
    from hydro.study.labels import texts

    def run(starved: float):
        taps = pd.DataFrame({"node": ["A_BF1", "B_BF1"], "tap": [1, 1], "village": ["A", "B"],
                             "open_draws": [50, 40], "p5_l_per_s": [0.2, 0.25],
                             "p50_l_per_s": [0.25, 0.25], "share_under_useful": [starved, 0.0],
                             "tap_flow_l_per_s": [0.25, 0.25]})  # fmt: skip
        return SimpleNamespace(taps=taps, villages=taps[["village", "open_draws"]],
                               worst=lambda n: taps.head(n))  # fmt: skip

    def section(*shares):
        outcomes = [SimpleNamespace(spec=SimpleNamespace(name=f"s{k}"), taps=run(x))
                    for k, x in enumerate(shares)]  # fmt: skip
        ctx = SimpleNamespace(
            result=SimpleNamespace(outcomes=outcomes), lang="en", t=texts("en"),
            labels={f"s{k}": f"Scenario {k}" for k in range(len(shares))},
            study=SimpleNamespace(taps=SimpleNamespace(draws=100, seed=1, useful_share=0.8)),
        )  # fmt: skip
        return report.section_taps(ctx).blocks

    quiet = section(0.0, 0.0)
    assert [b[0] for b in quiet] == ["p", "p"]  # the method, then one sentence
    assert "No tap of any scenario was starved" in quiet[1][1]
    mixed = section(0.3, 0.0)
    kinds = [b[0] for b in mixed]
    assert kinds.count("table") == 2 and kinds.count("figure") == 1
    assert any(b[0] == "p" and b[1].startswith("Scenario 1: no tap was starved") for b in mixed)
    worst = next(b[2] for b in mixed if b[0] == "table" and "taps_worst" in str(b[2]))
    assert "A_BF1" in worst and "B_BF1" not in worst  # only the starved taps listed


# --------------------------------------------------------------------------- content
#: Keys of the assumptions table that read well as their words (underscores as spaces).
PLAIN_KEYS = {"discount_rate", "persons_per_household", "pumping_hours", "name",
              "transmission_efficiency", "distribution_efficiency", "peak_day_factor",
              "peak_hour_factor", "taps_per_standpipe"}  # fmt: skip


def test_every_assumption_has_english_words_not_its_key():
    """A key without English words shows as its key with spaces ("vat works share"): every
    parameter with French words has English ones, but for keys that read well as they are."""
    assert set(PARAMETERS_FR) - set(PARAMETERS_EN) <= PLAIN_KEYS
    table = pd.DataFrame({"scenario": "all", "parameter": ["vat_works_share"], "value": "0.2",
                          "unit": "share of works", "source": "note"})  # fmt: skip
    assert report.assumptions_in(table, "en")["parameter"].tolist() == ["VAT on works"]


def test_a_text_table_has_no_blank_cell_and_capital_headers():
    """A blank cell reads as a dash (not applicable), as in the other tables."""
    frame = pd.DataFrame({"": ["Expected use [m3/month]"], "scheme": [""], "hydro [MAD]": ["4.0"]})
    page = str(report.text_table(frame, "t"))
    assert "<td></td>" not in page and f"<td>{report.NOT_APPLICABLE}</td>" in page
    assert "<th>Scheme</th>" in page and '<th class="num">hydro [MAD]</th>' in page


def test_no_rising_main_section_without_a_pump():
    """A gravity scheme has no rising main: no section that would say nothing."""
    from types import SimpleNamespace

    outcomes = [SimpleNamespace(surge=None), SimpleNamespace(surge=pd.DataFrame())]
    ctx = SimpleNamespace(result=SimpleNamespace(outcomes=outcomes), t={}, lang="en")
    assert report.section_rising_main(ctx) is None


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_all_taps_open_case_is_in_the_report(packs, lang):
    """Issue 24 point 6: each scenario's governing tap with every standpipe's taps open."""
    study, out = packs
    page = (out[lang] / "report.html").read_text()
    assert '<section id="taps_open">' in page
    table = pd.read_csv(out[lang] / f"taps_open_{study.scenarios[0].name}.csv")
    governing = table[table["governing"]]
    assert len(governing) == 1 and governing["margin_m"].iloc[0] == table["margin_m"].min()
    section = page.split('<section id="taps_open">')[1].split("</section>")[0]
    assert governing["node"].iloc[0] in section
    header = "Robinet déterminant" if lang == "fr" else "Governing tap"
    assert header in section
    sheet = "robinets tous ouverts" if lang == "fr" else "All taps open"
    header = [c.value for c in openpyxl.load_workbook(out[lang] / "report.xlsx")[sheet][1]]
    assert header[0] == ("Scénario" if lang == "fr" else "Scenario")
    assert ("Déterminant (moindre marge)" if lang == "fr" else "Governing (least margin)") in header


def test_a_french_cell_puts_a_no_break_space_before_percent():
    """A phrase built in English ("... 100%") reads as French numbers do ("100 %")."""
    text = report.cell("basic (standpipe within 500 m / 30 min) 100%", "service_level", "fr")
    assert text.endswith("100\u00a0%") and "100%" not in text
    # and before a semicolon (review item 6: "80 %; élémentaire")
    text = report.cell("safely managed (on premises) 80%; basic 20%", "service_level", "fr")
    assert "80\u00a0%\u00a0; " in text and "%;" not in text
    assert report.cell("basic 100%", "service_level", "en").endswith("100%")


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_stress_section_with_nothing_to_report_is_one_sentence(lang):
    """Review item 9 (s5): every case delivers the whole allowance: no figure, no table."""
    stress = pd.DataFrame(
        {
            "scenario": ["s", "s"],
            "case": ["as designed", "unsized model"],
            "village": ["D", "E"],
            "allowance_l_per_person_day": [25.0, 25.0],
            "delivered_l_per_person_day": [25.0, 25.0],
            "delivered_share": [1.0, 1.0],
            "lowest_pressure_m": [14.0, 9.5],
        }
    )
    result = SimpleNamespace(stress=stress)
    ctx = SimpleNamespace(result=result, t=report.texts(lang), lang=lang, labels={"s": "S"})
    blocks = report.section_stress(ctx).blocks
    assert [kind for kind, *_ in blocks] == ["p"]
    text = str(blocks[0][1])
    assert ("9.5 m (E," if lang == "en" else "9,5 m (E,") in text
    # the full section comes back when one village is short
    stress.loc[1, "delivered_share"] = 0.8
    assert len(report.section_stress(ctx).blocks) > 1


def test_the_stress_intro_names_only_the_cases_run():
    """A gravity scheme has no pump-off case: its stress section does not announce one."""
    stress = pd.DataFrame({"scenario": ["s"], "case": ["as designed"], "village": ["D"],
                           "allowance_l_per_person_day": [25.0],
                           "delivered_l_per_person_day": [22.5], "delivered_share": [0.9],
                           "lowest_pressure_m": [14.0]})  # fmt: skip
    result = SimpleNamespace(operation=pd.DataFrame({"scenario": ["s"]}), stress=stress)
    ctx = SimpleNamespace(result=result, t=report.texts("en"), lang="en", labels={"s": "S"})
    text = " ".join(str(b[1]) for b in report.section_stress(ctx).blocks)
    assert "pump out of service" not in text and "opening year" in text
    # its own heading; the section before it names no pump when there is none (review item 11)
    assert report.section_stress(ctx).title == ctx.t["stress"]
    assert report.section_operation(ctx).title == "Storage and transmission main"
    ctx.t, ctx.lang = report.texts("fr"), "fr"
    assert report.section_operation(ctx).title == "Stockage et adduction"
    result.operation["pump"] = ["P1"]
    assert report.section_operation(ctx).title == "Stockage, refoulement et pompe"


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_sensitivity_table_is_one_table_in_both_languages(lang):
    """Issue 25 point 5: the French headers are no wider than A4 allows, so the "rules met"
    column stays with its rows (it was split off into a second table of "oui" without keys).
    """
    label = {
        "fr": "Branchements individuels (part de chaque douar), bornes-fontaines pour les autres",
        "en": "Household connections (douar shares), standpipes elsewhere",
    }[lang]
    rows = [("standpipe cost", "low", 15000.0, "MAD"), ("rock excavation uplift", "high", 0.5,
            "share of pipes"), ("per-capita demand", "high", 30.0, "l/person/day")]  # fmt: skip
    frame = pd.DataFrame(
        [
            {
                "parameter_label": p,
                "scenario": label,
                "end": e,
                "value": v,
                "unit": u,
                "capital_donors_eur": 404860.0,
                "change_from_base": 0.415,
                "cost_per_beneficiary_eur": 250.0,
                "om_recovery_ratio": 0.54,
                "within_budget": False,
                "compliant": True,
            }
            for p, e, v, u in rows
        ]  # fmt: skip
    )
    page = str(report.html_table(frame, lang, "sensitivity", keys=3))
    assert 'id="table-sensitivity-2"' not in page
    (grid,) = tables_of(page)
    assert grid.fits() and len(grid.header) == len(frame.columns)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_project_file_leaves_out_what_the_study_file_does_not_give(lang):
    """Review item 2: no "to be completed" placeholder in a donor's document; an item the study
    file gives is kept, with a French colon after a no-break space."""
    given = {"context": {"en": "Five douars.", "fr": "Cinq douars."}}
    ctx = SimpleNamespace(study=SimpleNamespace(report=SimpleNamespace(text=given)),
                          t=report.texts(lang), lang=lang)  # fmt: skip
    (block,) = report.section_donor(ctx).blocks
    text = " ".join(block[1])
    assert not re.search("to be completed|compléter|study file|fichier d'étude", text, re.I)
    assert not re.search(r"Authori[sz]ation|Autorisation|Schedule|Calendrier", text)
    colon = "\u00a0:" if lang == "fr" else ":"
    assert f"{ctx.t['context']}{colon} {given['context'][lang]}" in text


def test_a_text_table_puts_numbers_right_under_right_headers():
    """Review item 3 (calibration table): a column of numbers as written reads from the right,
    its header too; a column of text, and its header, from the left."""
    frame = pd.DataFrame({"Scheme": ["Oujda", "Taza"], "Year": ["2012", "2015"],
                          "Capital [MAD]": ["1\u202f696", report.NOT_APPLICABLE],
                          "Source": ["ONEE 2012", "AFD"]})  # fmt: skip
    page = str(report.text_table(frame, "calibration"))
    assert '<th class="num">Year</th>' in page and '<td class="num">1\u202f696</td>' in page
    assert "<th>Source</th>" in page and "<td>ONEE 2012</td>" in page
    template = Path(report.__file__).parent / "templates" / "report.html.j2"
    assert "table.summary td.num, table.summary thead th.num { text-align: right" in (
        template.read_text()
    )


def test_boq_subtotals_say_who_pays_with_its_article():
    """Review item 7: "Sous-total, à la charge des bailleurs", not "... de bailleurs"."""
    boq = pd.DataFrame({"paid_by": ["donors", "households", "donors"], "total_lcu": [1.0, 2, 3]})
    fr = [label for label, _ in report.boq_totals(boq, report.texts("fr"), "fr")]
    assert fr == ["Sous-total, à la charge des bailleurs", "Sous-total, à la charge des ménages",
                  "Total"]  # fmt: skip
    en = [label for label, _ in report.boq_totals(boq, report.texts("en"), "en")]
    assert en[:2] == ["Subtotal, paid by the donors", "Subtotal, paid by the households"]
    assert report.column("paid_by", "fr") == "Payé par"


def test_assumption_values_whole_numbers_without_decimals_and_ranges_with_separators():
    """Review item 13: "25.00 years", "63.00 mm" and "1300-2850" in the assumptions."""
    assert [report.cell(v, "value", "en") for v in ("25", "72.0", "63", "0.06", "12.5")] == [
        "25", "72", "63", "0.06", "12.5"
    ]  # fmt: skip
    # both ends of a sensitivity range with the decimals they were written with (s5 item 23)
    assert [report.cell(v, "value", "en") for v in (0.83, 1.33, 0.8, 1.2, 0.0, 0.5, -0.01)] == [
        "0.83", "1.33", "0.8", "1.2", "0", "0.5", "-0.01"
    ]  # fmt: skip
    assert report.cell(15000.0, "value", "fr") == "15\u202f000"
    table = pd.DataFrame({"scenario": ["all"], "parameter": ["benchmark_per_beneficiary"],
                          "value": ["1300-2850"], "unit": ["MAD/beneficiary"],
                          "source": ["ONEP 1,300-2,850 MAD"]})  # fmt: skip
    assert report.assumptions_in(table, "en")["value"].iloc[0] == "1,300-2,850"
    assert report.assumptions_in(table, "fr")["value"].iloc[0] == "1\u202f300 à 2\u202f850"
