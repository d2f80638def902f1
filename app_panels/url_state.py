"""The page state as URL query parameters: parse (with French warnings) and write.

Pure functions, no Streamlit: ``app.py`` passes ``st.query_params`` in and
assigns the returned dict back, so a link reopens the same view.

Parameters: ``date``, ``from`` (compare with this earlier version), ``region``
(comma-separated INSEE codes), ``pillar``, ``indicator``, ``classes``
(quantiles / fisher_jenks), ``status`` (comma-separated), ``fragile=1``,
``documented=1``, ``territory``, ``tiles=1``.
"""

from __future__ import annotations

from collections.abc import Mapping

from tdi_geo.indicators import INDICATORS
from tdi_geo.mapping.style import SCHEMES
from tdi_geo.programme import PILLARS, STATUSES

_FLAGS = {"1": True, "true": True, "oui": True, "0": False, "false": False, "non": False, "": False}


def default_state(default_date: str) -> dict:
    """The state of a page opened without parameters."""
    return {
        "date": default_date,
        "date_from": None,
        "regions": [],
        "pillar": None,
        "indicator": "status",
        "scheme": "quantiles",
        "statuses": [],
        "fragile_only": False,
        "documented_only": False,
        "territory": None,
        "tiles": False,
    }


def _one(params: Mapping, name: str) -> str | None:
    value = params.get(name)
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    return None if value is None else str(value).strip()


def _codes(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def parse_query_params(
    params: Mapping, dates: list[str], regions: Mapping[str, str], default_date: str
) -> tuple[dict, list[str]]:
    """Read the page state from query parameters.

    Parameters
    ----------
    params : mapping
        ``st.query_params`` (or any name → str mapping).
    dates : list of str
        Valid perimeter dates.
    regions : mapping
        Valid INSEE région codes → names.
    default_date : str

    Returns
    -------
    state : dict
        Keys of :func:`default_state`; each invalid value is replaced by its default.
    warnings : list of str
        One French sentence per ignored value. ``territory`` is not checked
        here (it depends on the view).
    """
    state = default_state(default_date)
    warnings: list[str] = []

    date = _one(params, "date")
    if date:
        if date in dates:
            state["date"] = date
        else:
            warnings.append(
                f"Date « {date} » inconnue : versions disponibles {', '.join(dates)}. "
                f"La carte s'ouvre au {default_date}."
            )
    date_from = _one(params, "from")
    if date_from:
        if date_from in dates and date_from != state["date"]:
            state["date_from"] = date_from
        else:
            warnings.append(f"Version de comparaison « {date_from} » ignorée (inconnue ou identique).")
    region = _one(params, "region")
    if region:
        codes = _codes(region)
        bad = [c for c in codes if c not in regions]
        state["regions"] = [c for c in codes if c in regions]
        if bad:
            warnings.append(f"Code de région inconnu ignoré : {', '.join(bad)} (codes INSEE, ex. 53 pour la Bretagne).")
    for param, key, known, message in (
        ("pillar", "pillar", PILLARS, "Pilier « {} » inconnu : piliers possibles {}."),
        ("indicator", "indicator", INDICATORS, "Indicateur « {} » inconnu : indicateurs possibles {}."),
        ("classes", "scheme", SCHEMES, "Méthode de classes « {} » inconnue : {}."),
    ):
        value = _one(params, param)
        if value and value in known:
            state[key] = value
        elif value:
            warnings.append(message.format(value, ", ".join(known)))
    status = _one(params, "status")
    if status:
        codes = _codes(status)
        bad = [c for c in codes if c not in STATUSES]
        state["statuses"] = [c for c in STATUSES if c in codes]
        if bad:
            warnings.append(f"Statut inconnu ignoré : {', '.join(bad)} (statuts possibles : {', '.join(STATUSES)}).")
    for name, key in (("fragile", "fragile_only"), ("documented", "documented_only"), ("tiles", "tiles")):
        value = _one(params, name)
        if value is None:
            continue
        if value.lower() in _FLAGS:
            state[key] = _FLAGS[value.lower()]
        else:
            warnings.append(f"Valeur « {value} » ignorée pour « {name} » (attendu : 1 ou 0).")
    territory = _one(params, "territory")
    if territory:
        state["territory"] = territory
    return state, warnings


def to_query_params(state: Mapping, default_date: str) -> dict[str, str]:
    """The query parameters of a state (defaults left out, ``date`` always kept)."""
    defaults = default_state(default_date)
    out: dict[str, str] = {"date": str(state["date"])}
    if state.get("date_from"):
        out["from"] = str(state["date_from"])
    if state.get("regions"):
        out["region"] = ",".join(state["regions"])
    if state.get("pillar"):
        out["pillar"] = str(state["pillar"])
    if state.get("indicator") and state["indicator"] != defaults["indicator"]:
        out["indicator"] = str(state["indicator"])
    if state.get("scheme") and state["scheme"] != defaults["scheme"]:
        out["classes"] = str(state["scheme"])
    if state.get("statuses"):
        out["status"] = ",".join(state["statuses"])
    if state.get("fragile_only"):
        out["fragile"] = "1"
    if state.get("documented_only"):
        out["documented"] = "1"
    if state.get("territory"):
        out["territory"] = str(state["territory"])
    if state.get("tiles"):
        out["tiles"] = "1"
    return out
