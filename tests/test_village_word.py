"""A study's own word for a village (``[report] village_word``, issue 23 point 2).

The report, workbook and figures say the study's word (the Oujda study: "douar"); a study
that gives none says "village"; nothing in hydro/ says "douar" to a user on its own.
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT

from hydro.errors import InputError
from hydro.study import config, report
from hydro.study.calibration import calibration_of
from hydro.study.config import load_inputs, load_study, validate_study, village_word
from hydro.study.labels import (
    DEFAULT_VILLAGE_WORD,
    SOURCES_FR,
    TEXT,
    column,
    texts,
    using_village_word,
    village_words,
)

OUJDA = ROOT / "studies" / "oujda" / "study.toml"
#: The word as user text: not a part of an identifier, a key or a file name (those say
#: ``village``; the village table's ``douar`` and ``[calibration] douars`` are former names).
WORD = re.compile(r"(?<![\w.])douars?(?![\w])", re.IGNORECASE)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def test_no_text_in_hydro_says_douar_to_a_user():
    """Every string of hydro/ that a user reads (messages, help, labels; docstrings aside)
    says "village" or the study's word, never "douar" itself."""
    found = []
    for path in sorted((ROOT / "hydro").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docs
                and WORD.search(node.value)
                and re.search(r"\s", node.value)  # a phrase, not a key or a column name
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}")
    assert not found, "\n".join(found)


def test_every_text_says_a_word_once_filled_in_both_languages():
    assert set(TEXT["en"]) == set(TEXT["fr"])
    for lang in ("en", "fr"):
        for key, text in texts(lang).items():
            assert not (isinstance(text, str) and re.search(r"\{[Vv]illages?\}", text)), key
    assert any("{village" in text for text in TEXT["fr"].values() if isinstance(text, str))


def test_the_oujda_study_says_douar_and_a_study_without_the_key_says_village():
    study = load_study(OUJDA)
    assert study.report.village_word == {"en": ("douar", "douars"), "fr": ("douar", "douars")}
    data = tomllib.loads(OUJDA.read_text(encoding="utf-8"))
    del data["report"]["village_word"]
    settings = config._report(data, OUJDA)  # the study file's [report] without the key
    assert settings.village_word == DEFAULT_VILLAGE_WORD and "village_word" not in settings.text
    plain = replace(study, report=settings)
    seen = {}

    def capture(result, folder, lang, log):  # what write_all's outputs are written with
        seen[(result.study.name, result.study.report.village_word["en"][0], lang)] = (
            texts(lang)["villages"], column("village", lang), column("village_count", lang),
            texts(lang)["budget_phase"],
        )  # fmt: skip
        return []

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report, "_write_all", capture)
        for one in (study, plain):
            for lang in ("en", "fr"):
                report.write_all(type("Result", (), {"study": one})(), Path("unused"), lang)
    assert seen[("oujda", "douar", "en")][:3] == ("Douars served", "Douar", "Douars")
    assert seen[("oujda", "douar", "fr")][:3] == ("Desserte des douars", "Douar", "Douars")
    assert "chaque douar), puis les douars qu'il" in seen[("oujda", "douar", "fr")][3]
    assert seen[("oujda", "village", "en")][:3] == ("Villages served", "Village", "Villages")
    assert seen[("oujda", "village", "fr")][:3] == (
        "Desserte des villages", "Village", "Villages",
    )  # fmt: skip
    assert "every village in full), then the villages it" in seen[("oujda", "village", "en")][3]
    # outside a study's outputs: the default word
    assert column("village", "en") == "Village"


def test_a_word_in_each_language_with_its_plural():
    words = village_word({"en": ["municipality", "municipalities"], "fr": "commune"})
    assert words == {"en": ("municipality", "municipalities"), "fr": ("commune", "communes")}
    with using_village_word(words):
        assert village_words("{Villages} served", "en") == "Municipalities served"
        assert texts("fr")["stress_fig"].startswith("Eau distribuée par commune ")
        note = SOURCES_FR["village table (docs/sources.md, 5.1: +1.0%/yr default, Ahl Angad "
                          "+1.2% [D])"]  # fmt: skip
        assert village_words(note, "fr").startswith("tableau des communes ")


@pytest.mark.parametrize(
    "value",
    [["douar"], ["a", "b", "c"], "", "{x}", "line\nbreak", {"de": "Dorf"}, {}, 3, "x" * 41],
)
def test_a_bad_village_word_is_refused_before_computing(value):
    data = tomllib.loads(OUJDA.read_text(encoding="utf-8"))
    data["report"]["village_word"] = value
    with pytest.raises(InputError, match=r"\[report\] village_word = .*: must be a word"):
        validate_study(data, OUJDA)


def test_the_former_key_calibration_douars_reads_as_villages_with_a_note(tmp_path, caplog):
    text = OUJDA.read_text(encoding="utf-8")
    given = '\nvillages = ["Douba", "Oulad Mimoun", "Oulad Chlihe"]'
    assert given in text  # the Oujda study says the current key
    inputs = tomllib.loads(text)["inputs"]
    for value in inputs.values():  # its files, wherever the copy is
        if isinstance(value, str) and (OUJDA.parent / value).exists():
            text = text.replace(f'"{value}"', f'"{(OUJDA.parent / value).resolve()}"')
    former = tmp_path / "former.toml"
    former.write_text(text.replace(given, given.replace("villages", "douars")), encoding="utf-8")
    with caplog.at_level("INFO", logger="hydro.study.config"):
        study = load_study(former)
    assert "[calibration] douars read as villages (its former name)" in caplog.text
    assert study.calibration["villages"] == ["Douba", "Oulad Mimoun", "Oulad Chlihe"]
    assert "douars" not in study.calibration
    calibration = calibration_of(study, load_inputs(study).villages)
    assert calibration.villages == ("Douba", "Oulad Mimoun", "Oulad Chlihe")
    both = tmp_path / "both.toml"
    both.write_text(text.replace(given, given + given.replace("villages", "douars")))
    with pytest.raises(InputError, match=r"\[calibration\] douars and villages both given"):
        load_study(both)


def test_hydro_notes_in_english_say_the_study_word():
    """Review item 9: the growth rate's note said "village table" in the Oujda study's English
    report; it says the study's word, as the French note does."""
    from hydro.study.labels import assumptions_in

    note = "village table (docs/sources.md, 5.1: +1.0%/yr default, Ahl Angad +1.2% [D])"
    table = pd.DataFrame({"scenario": ["all"], "parameter": ["growth_rate"], "value": ["0.01"],
                          "unit": ["1/year"], "source": [note]})  # fmt: skip
    with using_village_word({"en": ("douar", "douars"), "fr": ("douar", "douars")}):
        assert assumptions_in(table, "en")["source"].iloc[0].startswith("douar table (")
        assert assumptions_in(table, "fr")["source"].iloc[0].startswith("tableau des douars (")
    assert assumptions_in(table, "en")["source"].iloc[0] == note  # the default word
    # and the Oujda study's own texts say douar in English too
    data = tomllib.loads(OUJDA.read_text(encoding="utf-8"))
    words = [s["label"] for s in data["scenarios"]] + [
        t["en"] for t in data["report"].values() if isinstance(t, dict)
    ]
    assert len(words) > 3 and not [w for w in words if "village" in w.lower()]
