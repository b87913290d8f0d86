"""Issue 25 points 5-6 (review items 5 and 19): the workbook a donor opens reads in its language.

Sheet names are words shortened between words; the phrases the study builds in English (the
storage rule, a pump's duty, a budget plan and its levels) read in French in the French
workbook. The whole workbooks are checked in tests/test_report_print.py.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from hydro.study.labels import NBSP, STORAGE_NOTE, level_words, plan_words, translate
from hydro.study.scenario import unused_branches_note
from hydro.study.workbook import (
    ELLIPSIS,
    SHEET_NAME_MAX,
    _operation_in_words,
    sheet_name,
    sheet_title,
    shorten,
)

#: The Oujda study's scenario labels, the longest of each language.
LONG_LABELS = {
    "en": "Household connections (douar shares) with standpipes for the rest",
    "fr": "Bornes-fontaines maintenant, conduites dimensionnées pour les branchements futurs",
}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_long_scenario_label_is_shortened_between_words(lang):
    """Today's 'devis Bornes-fontaines maintena' cut a word: a name keeps whole words."""
    title = sheet_title("boq_x", lang, {"x": LONG_LABELS[lang]})
    name = sheet_name(title, set())
    shown = name.removesuffix(ELLIPSIS)
    assert len(name) <= SHEET_NAME_MAX and name.endswith(ELLIPSIS) and title.startswith(shown)
    assert title[len(shown)] in " ,"  # the next character ends a word
    assert not shown.endswith((" for", " pour", ",", " -"))


def test_names_that_share_their_first_words_stay_unique_and_whole():
    used: set[str] = set()
    label = "Standpipes now, pipes sized for household connections later"
    first = sheet_name(sheet_title("boq_a", "en", {"a": label}), used)
    second = sheet_name(sheet_title("boq_b", "en", {"b": label + ", break tank"}), used)
    assert first == "BoQ - Standpipes now, pipes…"
    assert second == "BoQ - Standpipes now… (2)" and len(second) <= SHEET_NAME_MAX


def test_a_shortened_label_is_told_from_a_label_it_begins():
    """'Standpipes only, break tank ...' shortened is not 'Standpipes only': the ellipsis."""
    used: set[str] = set()
    whole = sheet_name(sheet_title("surge_a", "fr", {"a": "Bornes-fontaines seules"}), used)
    longer = "Bornes-fontaines seules, bâche de reprise entre la conduite et le surpresseur"
    cut = sheet_name(sheet_title("surge_b", "fr", {"b": longer}), used)
    assert (whole, cut) == ("bélier Bornes-fontaines seules", "bélier Bornes-fontaines seules…")


def test_a_single_word_longer_than_a_sheet_name_is_cut_as_nothing_else_can_be():
    assert shorten("BoQ - " + "x" * 40, 31) == "BoQ - " + "x" * 24 + ELLIPSIS


@pytest.mark.parametrize(
    ("name", "en", "fr"),
    [("feasibility", "Feasibility", "faisabilité"),
     ("budget_candidates", "Budget - plans run", "budget, plans calculés"),
     ("switch_points", "Switch points", "points de bascule"),
     ("taps_open", "All taps open", "robinets tous ouverts"),
     ("calibration", "Calibration", "calage"),
     ("funding", "Funding", "financement")],
)  # fmt: skip
def test_sheets_are_named_in_words_in_both_languages(name, en, fr):
    assert (sheet_title(name, "en"), sheet_title(name, "fr")) == (en, fr)


def test_the_storage_rule_reads_in_french_with_its_numbers():
    english = (
        "balancing volume 33.0 m3 (peak day 107.3 m3 drawn by the hourly pattern, supplied 24 h "
        "a day at 1.24 l/s) + reserve 41.3 m3 (12 h of the average day 82.5 m3) = 74.3 m3; brief "
        "rule of thumb max(50% peak day, 1 average day) = 82.5 m3"
    )
    assert re.fullmatch(STORAGE_NOTE, english)
    french = translate(english, "fr")
    assert french.startswith("volume de régulation 33,0\u00a0m3 (jour de pointe 107,3")
    assert "= 74,3\u00a0m3\u00a0; règle empirique" in french and french.endswith("82,5\u00a0m3")
    assert not re.search(r"balancing|reserve |rule|average|\d\.\d", french)


def test_the_storage_rule_without_its_rule_of_thumb_reads_in_french():
    """A gravity main: the rule of thumb does not hold, the workbook leaves it out."""
    english = (
        "balancing volume 6.3 m3 (peak day 20.6 m3 drawn by the hourly pattern, supplied 24 h a "
        "day at 0.24 l/s) + reserve 7.9 m3 (12 h of the average day 15.9 m3) = 14.3 m3"
    )
    assert translate(english, "fr").endswith("= 14,3\u00a0m3")


def test_the_operation_sheet_says_the_rule_of_thumb_only_where_it_holds():
    """Gravity main (no rule value): no rule of thumb; pumped: the rule, not "brief"'s."""
    rule = (
        "balancing volume 6.3 m3 (peak day 20.6 m3 drawn by the hourly pattern, supplied 24 h a "
        "day at 0.24 l/s) + reserve 7.9 m3 (12 h of the average day 15.9 m3) = 14.3 m3; brief "
        "rule of thumb max(50% peak day, 1 average day) = 15.9 m3"
    )
    frame = pd.DataFrame(
        {"scenario": ["a", "b"], "brief_rule_m3": [float("nan"), 15.9], "storage_rule": [rule] * 2}
    )
    out = _operation_in_words(frame, {"a": "Gravity", "b": "Pumped"})
    assert list(out["scenario"]) == ["Gravity", "Pumped"]
    assert out["storage_rule"][0].endswith("= 14.3 m3") and "thumb" not in out["storage_rule"][0]
    assert out["storage_rule"][1].endswith(
        "; rule of thumb max(50% peak day, 1 average day) = 15.9 m3"
    )


def test_a_pump_duty_reads_in_french():
    english = (
        "duty 0.30 l/s at 66.8 m (static lift 63.5 m from head 500.0 m to 563.5 m, friction and "
        "minor losses 3.3 m; 20 h of pumping a day)"
    )
    french = translate(english, "fr")
    assert french.startswith("point de fonctionnement 0,30\u00a0l/s à 66,8\u00a0m")
    assert not re.search(r"duty|static|friction|pumping|\d\.\d", french)


def test_pipe_sizing_method_reads_in_french():
    assert translate("exact (0-1 program, HiGHS)", "fr") == "exact (programme en 0-1, HiGHS)"


SERVICES = {"standpipes": "standpipes", "household_connections": "household_connections"}


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "Douba: standpipes (DB_BF1, DB_BF2); Oulad Mimoun: household connections"),
     ("fr", f"Douba{NBSP}: bornes-fontaines (DB_BF1, DB_BF2){NBSP}; Oulad Mimoun{NBSP}: "
            "branchements individuels")],
)  # fmt: skip
def test_a_budget_plan_reads_in_words(lang, expected):
    """'Oulad Mimoun: standpipes (OM_BF1)' was the plan's English in the French workbook."""
    row = {"plan": "Douba: standpipes (DB_BF1, DB_BF2)", "level_Douba": "standpipes",
           "standpipes_kept_Douba": "DB_BF1 DB_BF2", "level_Oulad Mimoun": "household_connections",
           "standpipes_kept_Oulad Mimoun": "OM_BF1", "level_Oulad Chlihe": None}  # fmt: skip
    assert plan_words(row, SERVICES, lang) == expected
    assert level_words("standpipes", SERVICES, lang) == expected.split(": ")[1].split(" (")[0]


def test_booster_pumps_read_with_french_numbers_their_names_unchanged():
    english = "MS-1.5/100 12.0 m, 0.30 l/s, 1.20 kW; MS-1/80 3.5 m, 1.00 l/s, 0.10 kW"
    french = translate(english, "fr")
    assert french == (
        f"MS-1.5/100 12,0{NBSP}m, 0,30{NBSP}l/s, 1,20{NBSP}kW{NBSP}; "
        f"MS-1/80 3,5{NBSP}m, 1,00{NBSP}l/s, 0,10{NBSP}kW"
    )


def test_a_note_that_carries_its_french_is_shown_in_it():
    """The unused-branches note (scenario.Note) brings its French; translate shows it."""
    words = {"en": ("douar", "douars"), "fr": ("douar", "douars")}
    note = unused_branches_note(["TR4", "OA1"], pipes=True, prune=False, words=words)
    assert translate(note, "fr") == note.fr and note.fr.startswith("2 conduites (TR4, OA1)")
    assert translate(note, "en") == str(note)
