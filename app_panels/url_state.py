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

from tdi_geo.view_params import default_view, flag_value, one_value, parse_view_params


def default_state(default_date: str, tracking_until: str | None = None) -> dict:
    """The state of a page opened without parameters: the default view, no territory, no tiles."""
    return {**default_view(default_date, tracking_until), "territory": None, "tiles": False}


def parse_query_params(
    params: Mapping, dates: list[str], regions: Mapping[str, str], default_date: str,
    tracking_until: str | None = None,
) -> tuple[dict, list[str]]:
    """Read the page state from query parameters.

    The view parameters are read by :func:`tdi_geo.view_params.parse_view_params`
    (the same parser and messages as the HTTP downloads); the page adds
    ``territory`` and ``tiles``.

    Parameters
    ----------
    params : mapping
        ``st.query_params`` (or any name → str mapping).
    dates : list of str
        Valid perimeter dates.
    regions : mapping
        Valid INSEE région codes → names.
    default_date : str
    tracking_until : str, optional
        Last date of the status and project data: the default indicator depends on it.

    Returns
    -------
    state : dict
        Keys of :func:`default_state`; each invalid value is replaced by its default.
    warnings : list of str
        One French sentence per ignored value. ``territory`` is not checked
        here (it depends on the view).
    """
    view, warnings = parse_view_params(params, dates, regions, default_date, tracking_until)
    state = {**default_state(default_date, tracking_until), **view}
    tiles, message = flag_value(params, "tiles")
    if tiles is not None:
        state["tiles"] = tiles
    if message:
        warnings.append(message)
    territory = one_value(params, "territory")
    if territory:
        state["territory"] = territory
    return state, warnings


def to_query_params(state: Mapping, default_date: str, tracking_until: str | None = None) -> dict[str, str]:
    """The query parameters of a state (defaults left out, ``date`` always kept).

    The indicator is left out when it is the default one of the state's date.
    """
    defaults = default_state(str(state["date"]), tracking_until)
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
