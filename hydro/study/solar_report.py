"""The report of a solar-pumped standpipe study: one self-contained HTML page, A4, EN or FR.

Every word the page shows is in :data:`WORDS` in English and French (for West and Central
African readers); every text that comes from the study file is escaped. The page prints on
A4 (``@page``), tables do not split across rows, and no file outside the page is needed.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

#: key -> (English, French)
WORDS = {
    "lang": ("en", "fr"),
    "summary": ("Summary", "Résumé"),
    "calibration": (
        "The documented scheme, costed by hydro",
        "Le réseau documenté, chiffré par hydro",
    ),
    "cal_text": (
        "hydro's capital estimate of “{scheme}”: {hydro} {cur} against the documented {doc} {cur} "
        "(ratio {ratio}; target within ±30%: {verdict}). Every unit price is cited or marked "
        "[E] below; none was tuned to the documented cost.",
        "Estimation par hydro de l'investissement de « {scheme} » : {hydro} {cur} contre "
        "{doc} {cur} documentés (rapport {ratio} ; objectif à ±30 % : {verdict}). Chaque "
        "prix unitaire est cité ou marqué [E] ci-dessous ; aucun n'a été ajusté sur le coût "
        "documenté.",
    ),
    "within": ("met", "atteint"),
    "outside": ("not met", "non atteint"),
    "flag": (
        "Warning: {scheme}: about {lpd} l/person/day expected, below Sphere's 15 l/person/day.",
        "Attention : {scheme} : environ {lpd} l/personne/jour attendus, en dessous des "
        "15 l/personne/jour de Sphere.",
    ),
    "ok_flag": (
        "{scheme}: about {lpd} l/person/day expected (Sphere: at least 15).",
        "{scheme} : environ {lpd} l/personne/jour attendus (Sphere : au moins 15).",
    ),
    "options": ("Options side by side", "Les options côte à côte"),
    "energy": (
        "Energy: the sun, a diesel genset or the grid",
        "Énergie : le soleil, un groupe diesel ou le réseau électrique",
    ),
    "energy_text": (
        "The same pumping (an average day's water lifted the pump's head) from the PV array, "
        "a diesel genset or a grid connection, over {h} years at {r} with replacements; "
        "prices in the assumptions below ([E] where estimated).",
        "Le même pompage (l'eau d'un jour moyen élevée de la hauteur de la pompe) par le champ "
        "PV, un groupe diesel ou un raccordement au réseau, sur {h} ans à {r} avec les "
        "renouvellements ; prix dans les hypothèses ci-dessous ([E] pour les estimations).",
    ),
    "service": ("Service levels from the map", "Niveaux de service sur la carte"),
    "service_text": (
        "Each household cluster walks to its nearest water point (straight line x route factor "
        "{rf} [E]); the queue is that of the peak hour; JMP: basic when the round trip "
        "including the queue is at most 30 min, limited beyond. Sphere: at most 250 people "
        "per tap, 500 m, 15 l/person/day.",
        "Chaque groupe de ménages va au point d'eau le plus proche (ligne droite x facteur de "
        "parcours {rf} [E]) ; la file d'attente est celle de l'heure de pointe ; JMP : service "
        "élémentaire si l'aller-retour, attente comprise, dure au plus 30 min, limité au-delà. "
        "Sphere : au plus 250 personnes par robinet, 500 m, 15 l/personne/jour.",
    ),
    "kiosk": ("Kiosk finances", "Finances de la borne-fontaine"),
    "kiosk_text": (
        "Water sold: the water expected (design litres x functionality), not the design "
        "allowance, at {price} {cur} per 20 l jerrycan, {share} of it paid for. The replacement "
        "fund is the life-cycle's capital maintenance saved each year (an annuity).",
        "Eau vendue : l'eau attendue (litres de conception x taux de fonctionnement), non la "
        "dotation de conception, à {price} {cur} le bidon de 20 l, dont {share} payée. Le fonds "
        "de renouvellement est l'entretien du capital du cycle de vie, épargné chaque année "
        "(annuité).",
    ),
    "bill": ("Bill of each solar option (US$)", "Devis de chaque option solaire (US$)"),
    "assumptions": ("Unit costs and their sources", "Coûts unitaires et leurs sources"),
    "yield": ("PV yield by month (kWh/kWp/day)", "Productible PV par mois (kWh/kWc/jour)"),
    "method": ("Method and limits", "Méthode et limites"),
    "method_text": (
        "Solar pumping sized for the worst month (E = V H / 367, wire-to-water 45% [E], PV "
        "derate 0.85 [E]) and a year of typical days simulated hour by hour; pipes sized at "
        "least cost (exact 0-1 program for a tree) at the peak hour and checked by an "
        "independent EPANET run of the written file; life-cycle cost per person per year by "
        "the WASHCost method over {h} years at {r} discount. The layout, elevations, lengths, "
        "borehole levels and several prices are estimates [E]: see docs/sources.md, 8.3-8.5.",
        "Pompage solaire dimensionné pour le mois le plus défavorable (E = V H / 367, rendement "
        "global 45 % [E], pertes PV 0,85 [E]) et une année de jours types simulée heure par "
        "heure ; conduites dimensionnées au moindre coût (programme 0-1 exact pour un réseau "
        "ramifié) à l'heure de pointe et vérifiées par un calcul EPANET indépendant du fichier "
        "écrit ; coût du cycle de vie par personne et par an selon la méthode WASHCost sur {h} "
        "ans, actualisé à {r}. Le tracé, les altitudes, les longueurs, les niveaux du forage et "
        "plusieurs prix sont des estimations [E] : voir docs/sources.md, 8.3-8.5.",
    ),
    "yes": ("yes", "oui"),
    "no": ("no", "non"),
    "source": ("Source", "Source"),
    "value": ("Value (US$)", "Valeur (US$)"),
    "item": ("Item", "Poste"),
    "computed": ("Computed in {s:.0f} s.", "Calculé en {s:.0f} s."),
}
#: column -> (English, French)
COLUMNS = {
    "option": ("Option", "Option"), "technology": ("Technology", "Technologie"),
    "people": ("People", "Personnes"), "capital_usd": ("Capital (US$)", "Investissement (US$)"),
    "energy_source": ("Energy", "Énergie"),
    "running_usd_per_year": ("Running (US$/year)", "Fonctionnement (US$/an)"),
    "present_value_usd": ("Over the horizon, discounted (US$)", "Sur la durée, actualisé (US$)"),
    "capital_usd_per_person": ("US$/person", "US$/personne"),
    "lcc_usd_per_person_year": ("Life-cycle US$/person/year",
                                "Cycle de vie US$/personne/an"),
    "design_l_per_person_day": ("Design l/person/day", "Conception l/personne/jour"),
    "l_per_person_day": ("Expected l/person/day", "Attendu l/personne/jour"),
    "kwp": ("PV (kWp)", "PV (kWc)"), "pump": ("Pump", "Pompe"),
    "pump_flow_m3_per_h": ("Pump flow (m³/h)", "Débit pompe (m³/h)"),
    "pump_head_m": ("Pump head (m)", "HMT pompe (m)"),
    "tank_m3": ("Tank (m³)", "Réservoir (m³)"),
    "shortfall_days": ("Days short", "Jours de manque"),
    "water_points": ("Water points", "Points d'eau"),
    "epanet_verified": ("EPANET check", "Vérif. EPANET"),
    "lowest_pressure_m": ("Lowest pressure (m)", "Pression min. (m)"),
    "village": ("Village", "Village"), "item": ("Item", "Poste"),
    "value": ("Value (US$)", "Valeur (US$)"), "source": ("Source", "Source"),
    "taps": ("Taps", "Robinets"),
    "people_per_tap": ("People per tap", "Personnes par robinet"),
    "over_sphere": ("Over Sphere's limit", "Au-delà de Sphere"),
    "max_walk_m": ("Longest walk (m)", "Trajet max. (m)"),
    "share_within_500_m": ("Within 500 m", "À moins de 500 m"),
    "queue_min": ("Peak queue (min)", "Attente de pointe (min)"),
    "round_trip_min": ("Round trip (min)", "Aller-retour (min)"),
    "delivered_l_per_person_day": ("Delivered l/person/day", "Fourni l/personne/jour"),
    "below_sphere_15": ("< 15 l", "< 15 l"), "jmp_level": ("JMP level", "Niveau JMP"),
    "sold_m3_per_year": ("Sold (m³/year)", "Vendu (m³/an)"),
    "covers_repairs": ("Pays for repairs", "Paie les réparations"),
}  # fmt: skip
_MONEY = {"price": ("Price per 20 l", "Prix des 20 l"), "revenue": ("Revenue", "Recettes"),
          "om": ("O&M", "Exploitation"), "replacement_fund": ("Replacement fund",
          "Fonds de renouvellement"), "balance": ("Balance", "Solde"),
          "break_even": ("Break-even per 20 l", "Prix d'équilibre des 20 l")}  # fmt: skip
#: bill lines and unit costs -> (English, French)
ITEMS = {
    "borehole": ("Borehole", "Forage"), "pv_pump": ("PV array and pump", "Champ PV et pompe"),
    "tank": ("Elevated tank", "Château d'eau"), "pipes": ("Pipes", "Conduites"),
    "standpipes": ("Standpipes", "Bornes-fontaines"),
    "yard_taps": ("Yard taps", "Robinets de cour"),
    "pump_house": ("Pump house, fence, electrics", "Local technique, clôture, électricité"),
    "engineering": ("Engineering and supervision", "Études et contrôle des travaux"),
    "contingency": ("Contingencies", "Imprévus"),
    "software": ("Mobilisation and training", "Intermédiation sociale et formation"),
    "total": ("Total", "Total"),
    "borehole_per_m": ("Borehole, per m", "Forage, par m"),
    "pv_pump_per_wp": ("PV and pump, per Wp", "PV et pompe, par Wc"),
    "tank_per_m3": ("Elevated tank, per m³", "Château d'eau, par m³"),
    "standpipe": ("Standpipe", "Borne-fontaine"), "yard_tap": ("Yard tap", "Robinet de cour"),
    "engineering_share": ("Engineering (share of works)", "Études (part des travaux)"),
    "contingency_share": ("Contingencies (share of works)", "Imprévus (part des travaux)"),
    "handpump": ("Handpump", "Pompe à motricité humaine"),
    "handpump_borehole_depth_m": ("Handpump borehole depth (m)",
                                  "Profondeur d'un forage à PMH (m)"),
}  # fmt: skip
_JMP = {"basic": ("basic", "élémentaire"), "limited": ("limited", "limité")}
_CSS = """
@page { size: A4; margin: 15mm 12mm; }
body { font: 10pt/1.35 "DejaVu Sans", Arial, sans-serif; color: #111; max-width: 186mm;
       margin: 0 auto; }
h1 { font-size: 16pt; margin: 0 0 4mm; } h3 { font-size: 10pt; margin: 3mm 0 1mm;
     break-after: avoid; } h2 { font-size: 12.5pt; margin: 6mm 0 2mm;
     break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 4mm; font-size: 8pt; }
th, td { border: 0.4pt solid #999; padding: 1mm 1.4mm; vertical-align: top; }
th { background: #e8eef4; text-align: left; } td.n { text-align: right; white-space: nowrap; }
tr { break-inside: avoid; } thead { display: table-header-group; }
.flag { border-left: 3pt solid #c0392b; padding: 1mm 3mm; background: #fbeeee; }
.note { color: #444; font-size: 8.5pt; }
"""


#: Energy sources, as the page names them.
_SOURCES = {
    "solar": ("PV array and pump", "champ photovoltaïque et pompe"),
    "diesel": ("diesel genset and pump", "groupe diesel et pompe"),
    "grid": ("grid connection and pump", "raccordement au réseau et pompe"),
}


def _w(key: str, lang: str) -> str:
    return WORDS[key][lang == "fr"]


def number(value, lang: str, digits: int = 0) -> str:
    """A number for the page: thousands separated (French: thin space, decimal comma).

    Examples
    --------
    >>> number(1234567.891, "en", 1), number(1234567.891, "fr", 1)
    ('1,234,567.9', '1\u202f234\u202f567,9')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    text = f"{value:,.{digits}f}"
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def _cell(column: str, value, lang: str) -> str:
    if value is None:
        return "<td>–</td>"
    if isinstance(value, bool | np.bool_):
        return f"<td>{_w('yes' if value else 'no', lang)}</td>"
    if column == "item" and value in ITEMS:
        return f"<td>{ITEMS[value][lang == 'fr']}</td>"
    if column == "energy_source" and value in _SOURCES:
        return f"<td>{_SOURCES[value][lang == 'fr']}</td>"
    if column == "jmp_level" and value in _JMP:
        return f"<td>{_JMP[value][lang == 'fr']}</td>"
    if isinstance(value, int | float) and not isinstance(value, bool):
        share = column.startswith("share_") or column == "ratio"
        whole = float(value).is_integer() or abs(value) >= 100
        digits = 2 if share else 0 if whole else 1
        shown = number(value * 100, lang, 0) + " %" if column.startswith("share_") else None
        return f'<td class="n">{shown or number(value, lang, digits)}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def _heading(column: str, lang: str) -> str:
    if column in COLUMNS:
        return COLUMNS[column][lang == "fr"]
    for key, words in _MONEY.items():  # revenue_ugx_per_year -> Revenue (UGX/year)
        if column.startswith(key + "_"):
            unit = column[len(key) + 1 :].replace("_per_", "/").replace("_", " ").upper()
            unit = unit.replace("/YEAR", "/an" if lang == "fr" else "/year")
            unit = unit.replace("/JERRYCAN", "/20 l")
            return f"{words[lang == 'fr']} ({html.escape(unit)})"
    return html.escape(column)


def table_html(frame: pd.DataFrame, lang: str) -> str:
    """A table of the page; every cell escaped."""
    head = "".join(f"<th>{_heading(c, lang)}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>"
        + "".join(_cell(c, v, lang) for c, v in zip(frame.columns, row, strict=True))
        + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _summary(result, tables, lang: str) -> str:
    money = result.study.money
    cur = html.escape(str(money["local_currency"]))
    parts = []
    for row in tables["calibration.csv"].itertuples(index=False):
        verdict = _w("within" if abs(row.ratio - 1) <= 0.3 else "outside", lang)
        parts.append("<p>" + _w("cal_text", lang).format(
            scheme=html.escape(_label(result, lang).get(row.scheme, str(row.scheme))),
            hydro=number(row.hydro, lang),
            doc=number(row.documented, lang), cur=cur, ratio=number(row.ratio, lang, 2),
            verdict=verdict) + "</p>")  # fmt: skip
    for r in result.options:
        lpd = r.lifecycle.expected_l_per_person_day
        key = "flag" if lpd < 15 else "ok_flag"
        text = _w(key, lang).format(scheme=html.escape(r.option.label_fr if lang == "fr"
                                    else r.option.label), lpd=number(lpd, lang, 1))  # fmt: skip
        parts.append(f'<p class="flag">{text}</p>' if lpd < 15 else f"<p>{text}</p>")
    return "".join(parts)


def _assumptions(result, lang: str) -> str:
    study = result.study
    costs = pd.DataFrame([{"item": k, "source": fr if lang == "fr" else en,
                           "value": number(v * 100, lang, 0) + " %" if k.endswith("_share") else v}
                          for k, (v, en, fr) in study.costs.items()])  # fmt: skip
    costs = costs[["item", "value", "source"]]  # a share as a percentage, not US$
    months = ("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec" if lang == "en"
              else "janv févr mars avr mai juin juil août sept oct nov déc").split()  # fmt: skip
    yields = pd.DataFrame([study.solar["yield_kwh_per_kwp_day"]], columns=months)
    source = study.solar.get("yield_source_fr" if lang == "fr" else "yield_source")
    source = source or study.solar["yield_source"]
    return (f"<h2>{_w('assumptions', lang)}</h2>{table_html(costs, lang)}"
            f"<h2>{_w('yield', lang)}</h2>{table_html(yields, lang)}"
            f'<p class="note">{html.escape(str(source))}</p>')  # fmt: skip


def _service(result, table: pd.DataFrame, lang: str) -> str:
    """The service-level table of each option under its own heading."""
    shown = ["village", "people", "taps", "people_per_tap", "over_sphere", "max_walk_m",
             "share_within_500_m", "queue_min", "round_trip_min", "jmp_level"]  # fmt: skip
    labels = _label(result, lang)
    parts = []
    for name, part in table.groupby("option", sort=False):
        parts.append(f"<h3>{html.escape(labels.get(name, name))}</h3>")
        parts.append(table_html(part[shown], lang))
    return "".join(parts)


def _energy(table, money, lang: str) -> str:
    """The energy section, or nothing when the study has no ``[energy]``."""
    if table is None or table.empty:
        return ""
    text = _w("energy_text", lang).format(
        h=money["horizon_years"], r=number(money["discount_rate"] * 100, lang) + " %"
    )
    return f"<h2>{_w('energy', lang)}</h2><p>{text}</p>{table_html(table, lang)}"


def _label(result, lang: str) -> dict:
    """Option name -> its label in ``lang``."""
    return {r.option.name: r.option.label_fr if lang == "fr" else r.option.label
            for r in result.options}  # fmt: skip


def _labelled(table: pd.DataFrame, result, lang: str) -> pd.DataFrame:
    """``table`` with each option's label in place of its name."""
    if "option" not in table.columns:
        return table
    return table.assign(option=table["option"].map(_label(result, lang)))


def _bill_labelled(table: pd.DataFrame, result, lang: str) -> pd.DataFrame:
    """The bill with each option's label as its column heading."""
    return table.rename(columns=_label(result, lang))


def render(result, tables: dict, lang: str = "en") -> str:
    """The whole page: summary, options, service levels, kiosk, bills, assumptions, method."""
    study, money = result.study, result.study.money
    title = study.title_fr if lang == "fr" else study.title
    costs = [
        "option",
        "people",
        "capital_usd",
        "capital_usd_per_person",
        "lcc_usd_per_person_year",
        "design_l_per_person_day",
        "l_per_person_day",
    ]
    design = ["option", "kwp", "pump", "pump_flow_m3_per_h", "tank_m3", "shortfall_days",
              "water_points",
              "epanet_verified", "lowest_pressure_m"]  # fmt: skip
    labelled = {k: _labelled(t, result, lang) for k, t in tables.items()}
    bill = _bill_labelled(tables["bill.csv"], result, lang)
    share = number(float(money.get("paying_share", 1.0)) * 100, lang) + " %"
    kiosk = _w("kiosk_text", lang).format(price=number(money["price_local_per_jerrycan"], lang),
                                          cur=html.escape(str(money["local_currency"])),
                                          share=share)  # fmt: skip
    method = _w("method_text", lang).format(
        h=money["horizon_years"], r=number(money["discount_rate"] * 100, lang) + " %"
    )
    service = _w("service_text", lang).format(
        rf=number(float(study.scheme.get("route_factor", 1.3)), lang, 1)
    )
    body = (
        f"<h1>{html.escape(title)}</h1><h2>{_w('summary', lang)}</h2>"
        f"{_summary(result, tables, lang)}"
        f"<h2>{_w('options', lang)}</h2>{table_html(labelled['options.csv'][costs], lang)}"
        f"{table_html(labelled['options.csv'][design], lang)}"
        f"<h2>{_w('service', lang)}</h2><p>{service}</p>"
        f"{_service(result, tables['service_levels.csv'], lang)}"
        f"<h2>{_w('kiosk', lang)}</h2><p>{kiosk}</p>{table_html(labelled['kiosk.csv'], lang)}"
        f"{_energy(labelled.get('energy.csv'), money, lang)}"
        f"<h2>{_w('bill', lang)}</h2>{table_html(bill, lang)}"
        f"{_assumptions(result, lang)}<h2>{_w('method', lang)}</h2><p>{method}</p>"
        f'<p class="note">{_w("computed", lang).format(s=result.seconds)}</p>'
    )
    return (f'<!DOCTYPE html><html lang="{_w("lang", lang)}"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
            f"<body>{body}</body></html>")  # fmt: skip
