"""The answer of :func:`tdi_geo.search.where` as short French sentences.

Shared by the command line (``python -m tdi_geo where``) and the page's
detail panel, so both say the same thing. Plain text: names from the data are
quoted as they are, never as markup.
"""

from __future__ import annotations

from tdi_geo.mapping.fmt import format_date, format_number


def match_sentence(match: dict, date: str) -> str:
    """One commune of a ``where`` answer: its territory since when, or the nearest one.

    Examples
    --------
    >>> match = {"insee": "22093", "name": "Lamballe-Armor", "member_since": "2019-09-24",
    ...          "territory": {"id": "x", "name": "Lamballe Terre et Mer", "provenance": "documented"}}
    >>> match_sentence(match, "2019-09-24")
    'Lamballe-Armor (22093) fait partie du territoire Lamballe Terre et Mer depuis le 24/09/2019.'
    """
    commune = f"{match['name']} ({match['insee']})"
    territory = match["territory"]
    if territory:
        line = (f"{commune} fait partie du territoire {territory['name']} "
                f"depuis le {format_date(match['member_since'])}")
        if territory["provenance"] == "illustrative":
            line += " (présence illustrative à cette date)"
        elif territory["provenance"] == "inferred":
            line += " (périmètre inféré d'une source plus tardive)"
        return line + "."
    line = f"{commune} ne fait partie d'aucun territoire d'industrie le {format_date(date)}."
    nearest = match.get("nearest")
    if nearest:
        away = "limitrophe" if nearest["distance_km"] == 0 else f"à {format_number(nearest['distance_km'], 1)} km"
        line += f" Territoire le plus proche : {nearest['name']} ({away})."
    elif match.get("nearest_note"):
        line += f" Pas de territoire le plus proche : {match['nearest_note']}."
    later = [j for j in match.get("joined", []) if j["date"] > date]
    earlier = [j for j in match.get("joined", []) if j["date"] < date]
    if later:
        line += (f" Elle fait partie de {later[0]['territory']['name']} à partir de la version "
                 f"du {format_date(later[0]['date'])}.")
    elif earlier:
        line += (f" Elle faisait partie de {earlier[-1]['territory']['name']} à la version "
                 f"du {format_date(earlier[-1]['date'])}.")
    return line


def where_sentences(result: dict) -> list[str]:
    """A whole ``where`` answer: one line per commune (and former commune), EPCI and territory."""
    date = result["date"]
    lines = []
    for match in result["matches"]:
        if "former" in match:
            former = match["former"]
            lines.append(f"{former['name']} ({former['insee']}, {former['kind']}) "
                         f"fait aujourd'hui partie de {match['name']} ({match['insee']}).")
        lines.append(match_sentence(match, date))
    if result.get("omitted"):
        lines.append(f"… et {result['omitted']} autre(s) commune(s) : précisez la recherche.")
    for epci in result.get("epcis", []):
        held = ", ".join(t["name"] for t in epci["territories"]) or "aucun territoire"
        lines.append(f"EPCI {epci['name']} ({epci['siren']}) : {held} le {format_date(date)}.")
    for territory in result.get("territories", []):
        state = "présent" if territory["present"] else "absent de la carte"
        lines.append(f"Territoire {territory['name']} : {state} le {format_date(date)}.")
    if not lines:
        lines.append(f"Aucune commune, aucun EPCI ni aucun territoire ne correspond à « {result['query']} ».")
    return lines
