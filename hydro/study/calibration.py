"""Calibration: hydro's estimate of a documented scheme against what the scheme cost.

A study's ``[calibration]`` names a documented scheme of its ``[[calibration.schemes]]`` (the
reference), the villages it served and the scenario it was built as (standpipes first, say).
:func:`run_calibration` designs that scheme as hydro designs any plan: the network cut back to
those villages, their standpipes, sized at least cost, checked by EPANET and costed from the
written file with the study's unit prices (:func:`hydro.study.budget.run_plan`); nothing is
priced for the comparison. The table it returns (``calibration.csv``) has one row per
documented scheme: its documented cost and people and, for the reference, hydro's estimate on
the documented cost's scope and their ratio, and hydro's estimate with every margin it adds
(``hydro_all_in_lcu``); for every scheme, the documented cost per person and hydro's estimate of the
reference per person against it (``per_person_ratio``): on the reference's row its estimate on
the documented scope, on the others' the estimate with every margin (their scope is not
documented).

Every documented figure, its year and its source live in the study file (data, not code). The
price base is the study's to state (``[calibration] price_base``): hydro applies no escalation
of its own; a study that escalates gives escalated costs and says by which index. So is the
scope: ``[calibration] excluded`` names the margins on the works (``engineering_share``,
``contingency_share``) the documented cost leaves out (a project owner's own supervision, say),
``scope`` says why; the comparison is made on that scope, and the estimate with them is shown too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from hydro.errors import InputError, did_you_mean
from hydro.study.budget import Option, run_plan
from hydro.study.costing import margin_lcu
from hydro.study.labels import PARAMETERS_EN, PARAMETERS_FR, french_typography, number
from hydro.study.parts import Study, StudyData

#: Columns of ``calibration.csv`` (the first four are the contract of issue 25).
COLUMNS = ("scheme", "documented_lcu", "hydro_lcu", "ratio", "label", "year", "people",
           "documented_lcu_per_person", "hydro_lcu_per_person", "per_person_ratio",
           "within_tolerance", "hydro_all_in_lcu", "all_in_ratio", "source")  # fmt: skip

#: The section's words (the report's layout is the document's; these are its content).
TEXT = {
    "en": {
        "title": "Calibration: hydro's estimate of the documented scheme",
        "intro": "hydro designs the documented scheme, {label}, as it designs any plan (scenario "
        "\u201c{scenario}\u201d, sized at least cost, checked by EPANET, every unit price from "
        "the study file): {hydro} {cur}{on_scope} against the documented {documented} {cur}, "
        "a ratio of {ratio}, {verdict} (\u00b1{tolerance}). Per person, at the documented {people} "
        "people: {per_person} {cur}{all_in_per_person}.",
        "all_in_per_person": " ({value} {cur} with every margin, which the other schemes are "
        "compared with: their scope is not documented)",
        "within": "within the target",
        "outside": "outside the target",
        "on_scope": " on the documented cost's scope",
        "scope": "Scope: {text} hydro's estimate therefore leaves out its {margins} "
        "({left_out} {cur}); with them, as hydro costs every plan of this report, it is "
        "{all_in} {cur}, a ratio of {all_in_ratio}.",
        "and": " and ",
        "price_base": "Price base: {text}",
        "headers": ("scheme", "year", "people", "documented cost [{cur}]",
                    "documented [{cur}/person]", "hydro's estimate [{cur}]",
                    "hydro, reference scheme [{cur}/person]",
                    "hydro / documented per person", "source"),
    },
    "fr": {
        "title": "Calage : l'estimation d'hydro pour le projet documenté",
        "intro": "hydro conçoit le projet documenté, {label}, comme tout autre plan "
        "(scénario \u00ab\u00a0{scenario}\u00a0\u00bb, dimensionné au moindre coût, "
        "vérifié par EPANET, chaque prix unitaire du fichier d'étude) : {hydro} {cur}{on_scope} "
        "contre {documented} {cur} documentés, un rapport de {ratio}, {verdict} "
        "(\u00b1{tolerance}). Par personne, pour les {people} habitants documentés : "
        "{per_person} {cur}{all_in_per_person}.",
        "all_in_per_person": " ({value} {cur} toutes marges comprises, le chiffre comparé aux "
        "autres projets : leur périmètre n'est pas documenté)",
        "within": "dans la cible",
        "outside": "hors de la cible",
        "on_scope": " sur le périmètre du coût documenté,",
        "scope": "Périmètre : {text} L'estimation d'hydro laisse donc de côté ses {margins} "
        "({left_out} {cur}) ; avec eux, comme hydro chiffre chaque plan de ce rapport, elle "
        "est de {all_in} {cur}, un rapport de {all_in_ratio}.",
        "and": " et ",
        "price_base": "Base des prix : {text}",
        "headers": ("projet", "année", "habitants", "coût documenté [{cur}]",
                    "documenté [{cur}/hab.]", "estimation d'hydro [{cur}]",
                    "hydro, projet de référence [{cur}/hab.]",
                    "hydro / documenté par habitant", "source"),
    },
}  # fmt: skip


@dataclass(frozen=True)
class Documented:
    """A documented scheme: its cost (study currency), people served, year and source."""

    name: str
    label: str
    year: int
    cost: float
    people: float
    source: str
    label_fr: str = ""
    source_fr: str = ""


@dataclass(frozen=True)
class Calibration:
    """``[calibration]``: the reference scheme, its villages and scenario, the others."""

    scheme: str
    villages: tuple[str, ...]
    scenario: str
    tolerance: float
    price_base: dict
    schemes: tuple[Documented, ...]
    #: the margins (``[unit_costs]`` keys) the documented cost leaves out, and why
    excluded: tuple[str, ...] = ()
    scope: dict = field(default_factory=dict)

    @property
    def reference(self) -> Documented:
        """The documented scheme hydro rebuilds."""
        return next(s for s in self.schemes if s.name == self.scheme)


def calibration_of(study: Study, villages: pd.DataFrame) -> Calibration | None:
    """The study's ``[calibration]`` (None without one), its names checked against the
    schemes, the scenarios and the village table.
    """
    raw = study.calibration
    if not raw:
        return None
    where = f"{study.path}: [calibration]"
    schemes = tuple(
        Documented(
            name=str(s["name"]), label=_text(s.get("label", s["name"]), "en"),
            label_fr=_text(s.get("label", s["name"]), "fr"), year=int(s["year"]),
            cost=float(s["cost"]), people=float(s["people"]),
            source=str(s.get("source", "")), source_fr=str(s.get("source_fr", "")),
        )
        for s in raw.get("schemes", [])
    )  # fmt: skip
    names = [s.name for s in schemes]
    scheme = str(raw.get("scheme", ""))
    if scheme not in names:
        raise InputError(
            f"{where} scheme = {scheme!r} is none of its [[calibration.schemes]]: "
            f"{', '.join(names) or 'none given'}" + did_you_mean(scheme, names)
        )
    known = list(villages["village"])
    served = tuple(str(d) for d in raw.get("villages", known))
    word, words = study.report.village_word["en"]
    for village in served:
        if village not in known:
            raise InputError(
                f"{where} {word} {village!r} is not in the village table "
                f"{study.inputs.villages} ({words}: {', '.join(known)})"
                + did_you_mean(village, known)
            )
    scenario = str(raw.get("scenario", study.scenarios[0].name))
    specs = [s.name for s in study.scenarios]
    if scenario not in specs:
        raise InputError(
            f"{where} scenario = {scenario!r}; the study's scenarios: {', '.join(specs)}"
            + did_you_mean(scenario, specs)
        )
    return Calibration(
        scheme=scheme, villages=served, scenario=scenario,
        tolerance=float(raw.get("tolerance", 0.25)),
        price_base=_texts(raw.get("price_base", "")), schemes=schemes,
        excluded=tuple(dict.fromkeys(raw.get("excluded", ()))),
        scope=_texts(raw.get("scope", "")),
    )  # fmt: skip


def _text(value, lang: str) -> str:
    return value if isinstance(value, str) else value.get(lang, value.get("en", ""))


def _texts(value) -> dict:
    return {lang: _text(value, lang) for lang in ("en", "fr")}


def estimate_lcu(study: Study, data: StudyData, cal: Calibration) -> tuple[float, float]:
    """The capital (study currency) hydro estimates for the reference, ``(on the documented
    scope, all in)``: its villages on all their standpipes (or in full at a household level),
    the rest not served, designed and costed as any plan
    (:func:`hydro.study.budget.run_plan`), every payer's share. All in: with engineering and
    contingencies; on the documented scope: less the margins ``cal.excluded`` names.
    """
    spec = study.scenario(cal.scenario)
    plan = {}
    for v in data.villages.to_dict("records"):
        if v["village"] in cal.villages:
            plan[v["village"]] = Option(spec.name, tuple(v["standpipe_shares"]))
    outcome = run_plan(study, spec, data, plan, {spec.name: spec})
    all_in = float(outcome.capital_lcu)
    return all_in - sum(margin_lcu(outcome.boq, key) for key in cal.excluded), all_in


def calibration_table(
    cal: Calibration, hydro_lcu: float, all_in_lcu: float | None = None
) -> pd.DataFrame:
    """One row per documented scheme (:data:`COLUMNS`); hydro's estimate on the reference's:
    ``hydro_lcu`` on the documented cost's scope, ``all_in_lcu`` with every margin (the same
    when the scope leaves nothing out).

    >>> ref = Documented("a", "A", 2008, 2.0e6, 1500, "s")
    >>> other = Documented("b", "B", 2009, 38.5e6, 13500, "s")
    >>> cal = Calibration("a", ("D",), "standpipes", 0.25, {}, (ref, other))
    >>> table = calibration_table(cal, 2.4e6)
    >>> row = table.iloc[0]
    >>> row["scheme"], round(float(row["ratio"]), 3), bool(row["within_tolerance"])
    ('a', 1.2, True)
    >>> round(float(table.loc[1, "per_person_ratio"]), 3)  # 1,600 against 2,852 a person
    0.561
    >>> with_margins = calibration_table(cal, 2.4e6, 2.6e6)
    >>> round(float(with_margins.loc[0, "all_in_ratio"]), 3)
    1.3
    >>> round(float(with_margins.loc[1, "per_person_ratio"]), 3)  # others: with every margin
    0.608
    """
    ref = cal.reference
    all_in = hydro_lcu if all_in_lcu is None else all_in_lcu
    rows = []
    for s in cal.schemes:
        mine = s.name == ref.name
        documented_pp = s.cost / s.people
        per_person = (hydro_lcu if mine else all_in) / ref.people
        rows.append(
            {"scheme": s.name, "documented_lcu": s.cost,
             "hydro_lcu": hydro_lcu if mine else math.nan,
             "ratio": hydro_lcu / s.cost if mine else math.nan,
             "label": s.label, "year": s.year, "people": s.people,
             "documented_lcu_per_person": documented_pp, "hydro_lcu_per_person": per_person,
             "per_person_ratio": per_person / documented_pp,
             "within_tolerance": abs(hydro_lcu / s.cost - 1) <= cal.tolerance if mine else None,
             "hydro_all_in_lcu": all_in if mine else math.nan,
             "all_in_ratio": all_in / s.cost if mine else math.nan,
             "source": s.source}
        )  # fmt: skip
    return pd.DataFrame(rows, columns=list(COLUMNS))


def run_calibration(study: Study, data: StudyData, log=lambda m: None) -> pd.DataFrame:
    """``calibration.csv`` of the study (an empty table when it has no ``[calibration]``)."""
    cal = calibration_of(study, data.villages)
    if cal is None:
        return pd.DataFrame()
    log(f"calibration: {cal.scheme} ({', '.join(cal.villages)}; scenario {cal.scenario})")
    return calibration_table(cal, *estimate_lcu(study, data, cal))


def section_text(study: Study, table: pd.DataFrame, villages, lang: str) -> dict:
    """The report's calibration section in ``lang``: ``title``, ``paragraphs`` and ``rows``
    (a table of text, first row the headers).
    """
    cal = calibration_of(study, villages)
    t = TEXT[lang]
    ref = table[table["scheme"] == cal.scheme].iloc[0]
    french = lang == "fr"
    spec = study.scenario(cal.scenario)
    intro = t["intro"].format(
        label=cal.reference.label_fr or ref["label"] if french else ref["label"],
        scenario=(spec.label_fr or spec.label) if french else spec.label,
        hydro=number(ref["hydro_lcu"], 0, lang), documented=number(ref["documented_lcu"], 0, lang),
        ratio=number(ref["ratio"], 2, lang),
        verdict=t["within"] if ref["within_tolerance"] else t["outside"],
        tolerance=number(cal.tolerance, 0, lang, percent=True),
        people=number(ref["people"], 0, lang),
        per_person=number(ref["hydro_lcu_per_person"], 0, lang),
        all_in_per_person=t["all_in_per_person"].format(
            value=number(ref["hydro_all_in_lcu"] / ref["people"], 0, lang),
            cur=study.money.currency,
        ) if cal.excluded else "",
        cur=study.money.currency, on_scope=t["on_scope"] if cal.excluded else "",
    )  # fmt: skip
    paragraphs = [intro]
    if cal.excluded:
        names = PARAMETERS_FR if french else PARAMETERS_EN
        paragraphs.append(t["scope"].format(
            text=cal.scope.get(lang, ""), margins=t["and"].join(names[k] for k in cal.excluded),
            left_out=number(ref["hydro_all_in_lcu"] - ref["hydro_lcu"], 0, lang),
            all_in=number(ref["hydro_all_in_lcu"], 0, lang),
            all_in_ratio=number(ref["all_in_ratio"], 2, lang), cur=study.money.currency,
        ))  # fmt: skip
    if cal.price_base.get(lang):
        paragraphs.append(t["price_base"].format(text=cal.price_base[lang]))
    by_name = {s.name: s for s in cal.schemes}
    rows = [[h.format(cur=study.money.currency) for h in t["headers"]]]
    for r in table.to_dict("records"):
        s = by_name[r["scheme"]]
        rows.append(
            [s.label_fr or s.label if french else s.label, str(r["year"]),
             number(r["people"], 0, lang), number(r["documented_lcu"], 0, lang),
             number(r["documented_lcu_per_person"], 0, lang),
             "" if math.isnan(r["hydro_lcu"]) else number(r["hydro_lcu"], 0, lang),
             number(r["hydro_lcu_per_person"], 0, lang),
             number(r["per_person_ratio"], 2, lang),
             s.source_fr or s.source if french else s.source]
        )  # fmt: skip
    if french:  # no-break spaces in the study file's French too (20 000, before : ;)
        paragraphs = [french_typography(p) for p in paragraphs]
        rows = [[french_typography(cell) for cell in row] for row in rows]
    return {"title": t["title"], "paragraphs": paragraphs, "rows": rows}
