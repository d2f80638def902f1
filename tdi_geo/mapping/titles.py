"""What a map shows, in one French line; sources named by their title and publisher.

Plain text only: whatever shows it (the page, a picture) escapes it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlparse

import pandas as pd

from tdi_geo.indicators import INDICATORS
from tdi_geo.mapping.fmt import format_date, format_number
from tdi_geo.programme import PILLARS, PROVENANCES, STATUSES

#: Provenance levels shown as they are: the others are counted in a title (« dont 86 illustratifs »).
PLAIN_PROVENANCES = ("documented", "official")
#: Provenance levels from the most to the least certain (a level not listed comes last).
PROVENANCE_ORDER = ("documented", "official", "inferred", "illustrative")
#: Plural adjective of a provenance level, for counts; a level not listed here uses its label.
_PROVENANCE_PLURALS = {"illustrative": "illustratifs", "inferred": "inférés"}
#: A repository path quoted in a source (« (geodata/sources/000_….txt) »): not for readers.
_REPO_PATH = re.compile(r"\s*\((?:geodata|data|scripts|docs)/[^)]*\)")
_URL = re.compile(r"^https?://", re.IGNORECASE)


def filters_text(state: Mapping, region_names: Mapping[str, str]) -> str:
    """The view's filters in French, or « France entière ».

    Examples
    --------
    >>> filters_text({"regions": ["53"], "pillar": "innover"}, {"53": "Bretagne"})
    'Bretagne · pilier « Innover »'
    >>> filters_text({}, {})
    'France entière'
    """
    parts = []
    regions = list(state.get("regions") or [])
    if regions:
        parts.append(", ".join(str(region_names.get(r, r)) for r in regions))
    if state.get("pillar"):
        parts.append(f"pilier « {PILLARS.get(state['pillar'], state['pillar'])} »")
    if state.get("statuses"):
        parts.append("statut " + ", ".join(STATUSES.get(s, s) for s in state["statuses"]))
    if state.get("fragile_only"):
        parts.append("territoires fragiles")
    if state.get("documented_only"):
        parts.append("documentés seulement")
    return " · ".join(parts) if parts else "France entière"


def provenance_counts(frame: pd.DataFrame) -> dict[str, int]:
    """Territories per provenance level present, most certain first (:data:`PROVENANCE_ORDER`, then others)."""
    if "provenance" not in frame.columns or frame.empty:
        return {}
    counts = frame["provenance"].fillna("").astype(str).value_counts()
    order = ([p for p in PROVENANCE_ORDER if p in counts.index]
             + sorted(p for p in counts.index if p not in PROVENANCE_ORDER))
    return {p: int(counts[p]) for p in order}


def count_text(frame: pd.DataFrame) -> str:
    """« 144 territoires, dont 86 illustratifs »: the levels that are not plain facts are counted.

    Examples
    --------
    >>> count_text(pd.DataFrame({"provenance": ["documented", "illustrative", "inferred", "illustrative"]}))
    '4 territoires, dont 1 inféré et 2 illustratifs'
    >>> count_text(pd.DataFrame({"provenance": ["documented"]}))
    '1 territoire'
    """
    n = len(frame)
    text = f"{format_number(n)} territoire{'s' if n > 1 else ''}"
    others = [(p, k) for p, k in provenance_counts(frame).items() if p not in PLAIN_PROVENANCES and p]
    if others:
        words = []
        for level, k in others:
            plural = _PROVENANCE_PLURALS.get(level, PROVENANCES.get(level, level).lower())
            words.append(f"{format_number(k)} {plural if k > 1 else plural.removesuffix('s')}")
        text += ", dont " + (" et ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else words[0])
    return text


def view_title(state: Mapping, shown: pd.DataFrame, region_names: Mapping[str, str]) -> str:
    """One line saying what the map shows: indicator (or comparison), date, filters, counts.

    Parameters
    ----------
    state : mapping
        The page state (``indicator``, ``date``, ``date_from``, filters).
    shown : DataFrame
        What the map draws (a view, or a comparison frame with ``change``).
    region_names : mapping
        INSEE région code → name.

    Examples
    --------
    >>> frame = pd.DataFrame({"provenance": ["documented", "illustrative"]})
    >>> view_title({"indicator": "status", "date": "2019-09-24"}, frame, {})
    "Statut d'engagement au 24/09/2019 — France entière — 2 territoires, dont 1 illustratif"
    """
    where = filters_text(state, region_names)
    if state.get("date_from"):
        drawn = shown[shown["change"] != "removed"] if "change" in shown.columns else shown
        what = f"Comparaison {format_date(state['date_from'])} → {format_date(state['date'])}"
        return f"{what} — {where} — {count_text(drawn)}"
    label = INDICATORS.get(state.get("indicator"), {}).get("label", str(state.get("indicator") or ""))
    return f"{label} au {format_date(state['date'])} — {where} — {count_text(shown)}"


def source_items(text) -> list[dict]:
    """The `` ; ``-separated sources of a record as readers should see them.

    A URL becomes a link named by its publisher (the site's host, without
    ``www.``); a repository path in parentheses is dropped (readers cannot
    open it); any other text is kept as its title.

    Returns
    -------
    list of dict
        ``{"title": str, "url": str or None, "publisher": str}``.

    Examples
    --------
    >>> source_items("Communiqué du 24 septembre 2019 (geodata/sources/000_x.txt) ; https://www.example.org/a/b")
    [{'title': 'Communiqué du 24 septembre 2019', 'url': None, 'publisher': ''}, {'title': 'example.org', 'url': 'https://www.example.org/a/b', 'publisher': 'example.org'}]
    """
    items = []
    for part in (p.strip() for p in str(text or "").split(" ; ")):
        if not part:
            continue
        if _URL.match(part) and " " not in part:
            host = (urlparse(part).hostname or "").removeprefix("www.")
            items.append({"title": host or part, "url": part, "publisher": host})
            continue
        title = _REPO_PATH.sub("", part).strip()
        if title:
            items.append({"title": title, "url": None, "publisher": ""})
    return items


def data_note(dataset: Mapping, reference_info: Mapping) -> str:
    """Which data the page shows, in words a reader knows (no package names, no paths).

    Parameters
    ----------
    dataset : mapping
        :func:`tdi_geo.programme.dataset_summary`.
    reference_info : mapping
        :func:`tdi_geo.reference.provenance`.

    Examples
    --------
    >>> data_note({"name": "programme", "embedded": True, "preview": False, "version": "2019-09-24"},
    ...           {"cog_year": 2025})
    "Données du programme fournies avec l'application (dernière version au 24/09/2019). Contours : communes, EPCI et régions du Code officiel géographique 2025 (INSEE), simplifiés pour l'écran."
    """
    if dataset.get("preview"):
        what = f"Jeu importé « {dataset['name']} » (aperçu privé"
    elif dataset.get("embedded"):
        what = "Données du programme fournies avec l'application ("
    else:
        what = f"Jeu publié « {dataset['name']} » ("
    what += ("" if what.endswith("(") else ", ") + f"dernière version au {format_date(dataset['version'])})."
    return (f"{what} Contours : communes, EPCI et régions du Code officiel géographique "
            f"{reference_info.get('cog_year', '')} (INSEE), simplifiés pour l'écran.")
