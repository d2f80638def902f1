"""One definition of a *view* for every door: the page's URL, the HTTP routes, the CLI.

A view is named by query-string style parameters (all strings):

========== ==========================================================
``date``       perimeter version (AAAA-MM-JJ, one of the dataset's dates)
``from``       compare with this earlier version (the diff view)
``region``     comma-separated INSEE région codes
``pillar``     one of :data:`tdi_geo.programme.PILLARS`
``status``     comma-separated :data:`tdi_geo.programme.STATUSES`
``fragile``    ``1``/``0`` (also ``true``/``false``, ``oui``/``non``)
``documented`` idem
``indicator``  one of :data:`tdi_geo.indicators.INDICATORS`
``classes``    one of :data:`tdi_geo.mapping.style.SCHEMES`
========== ==========================================================

:func:`parse_view_params` turns them into a normalised state and one French
message per bad value. Each door decides what a message means: the page
warns and keeps the default for that value; the HTTP routes answer 400 and
the CLI's ``export`` exits with code 2, both with :func:`view_error`'s sentence.
No Streamlit here.
"""

from __future__ import annotations

from collections.abc import Mapping

from tdi_geo.indicators import INDICATORS, build_view, diff_view
from tdi_geo.mapping.style import SCHEMES
from tdi_geo.programme import PILLARS, STATUSES

#: The parameter names of a view, in the order they are read.
VIEW_PARAMS = ("date", "from", "region", "pillar", "status", "fragile", "documented", "indicator", "classes")
#: Longest value read (characters). Every région code and status fits many
#: times over; a longer value is a mistake or an attack, not a view.
MAX_VALUE_LENGTH = 300
FLAGS = {"1": True, "true": True, "oui": True, "0": False, "false": False, "non": False, "": False}
#: Parameters of the page's URL that do not change a file: accepted by the
#: strict doors (HTTP routes, CLI ``--query``) so a page's query string can be pasted as is.
PAGE_ONLY_PARAMS = ("territory", "tiles", "commune")


def default_indicator(date: str | None, tracking_until: str | None) -> str:
    """The indicator a view opens with at ``date``: the engagement status where the
    dataset's status and project data cover the date, else « Dans le programme
    depuis » (so a map without tracking data is not all « Pas de donnée »).

    >>> default_indicator("2019-09-24", "2019-09-24"), default_indicator("2024-07-04", "2019-09-24")
    ('status', 'since')
    """
    return "status" if tracking_until and date and date <= tracking_until else "since"


def default_view(default_date: str, tracking_until: str | None = None) -> dict:
    """The view state when no parameter is given (the national map at ``default_date``)."""
    return {
        "date": default_date,
        "date_from": None,
        "regions": [],
        "pillar": None,
        "indicator": default_indicator(default_date, tracking_until),
        "scheme": "quantiles",
        "statuses": [],
        "fragile_only": False,
        "documented_only": False,
    }


def one_value(params: Mapping, name: str) -> str | None:
    """The (last) value of ``name``, stripped; ``None`` when absent.

    Accepts plain mappings and mappings of lists (a repeated parameter keeps
    its last value, as browsers and Starlette do).
    """
    value = params.get(name)
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    return None if value is None else str(value).strip()


def _codes(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def flag_value(params: Mapping, name: str) -> tuple[bool | None, str | None]:
    """A ``1``/``0`` parameter: (value or None when absent or bad, French message when bad)."""
    value = one_value(params, name)
    if value is None:
        return None, None
    if value.lower() in FLAGS:
        return FLAGS[value.lower()], None
    return None, f"Valeur « {value} » ignorée pour « {name} » (attendu : 1 ou 0)."


def parse_view_params(
    params: Mapping, dates: list[str], regions: Mapping[str, str], default_date: str,
    tracking_until: str | None = None,
) -> tuple[dict, list[str]]:
    """Read a view from query parameters.

    Parameters
    ----------
    params : mapping
        Parameter name → str (or list of str). Names outside
        :data:`VIEW_PARAMS` are not read here.
    dates : list of str
        The dataset's perimeter version dates.
    regions : mapping
        Valid INSEE région codes → names.
    default_date : str
        The date of a view without ``date``.
    tracking_until : str, optional
        The last date of the dataset's status and project data
        (:func:`tdi_geo.programme.tracking_until`): a view without
        ``indicator`` opens on :func:`default_indicator` for its date.

    Returns
    -------
    state : dict
        Keys of :func:`default_view`; a bad value is replaced by its default
        (a région or status list keeps its valid codes).
    messages : list of str
        One French sentence per bad value, in :data:`VIEW_PARAMS` order;
        empty when the view is exactly what was asked.

    Examples
    --------
    >>> state, messages = parse_view_params({"region": "53,99"}, ["2019-09-24"], {"53": "Bretagne"}, "2019-09-24")
    >>> state["regions"], messages
    (['53'], ['Code de région inconnu ignoré : 99 (codes INSEE, ex. 53 pour la Bretagne).'])
    """
    state = default_view(default_date, tracking_until)
    messages: list[str] = []
    too_long = set()
    for name in VIEW_PARAMS:
        value = one_value(params, name)
        if value is not None and len(value) > MAX_VALUE_LENGTH:
            too_long.add(name)
            messages.append(
                f"Valeur trop longue ignorée pour « {name} » ({len(value)} caractères, au plus {MAX_VALUE_LENGTH})."
            )

    def read(name: str) -> str | None:
        return None if name in too_long else one_value(params, name)

    date = read("date")
    if date:
        if date in dates:
            state["date"] = date
        else:
            messages.append(
                f"Date « {date} » inconnue : versions disponibles {', '.join(dates)}. "
                f"La carte s'ouvre au {default_date}."
            )
    date_from = read("from")
    if date_from:
        if date_from in dates and date_from != state["date"]:
            state["date_from"] = date_from
        else:
            messages.append(f"Version de comparaison « {date_from} » ignorée (inconnue ou identique).")
    state["indicator"] = default_indicator(state["date"], tracking_until)
    region = read("region")
    if region:
        codes = _codes(region)
        bad = [c for c in codes if c not in regions]
        # Each code once, in the order given (the file name lists them so).
        state["regions"] = list(dict.fromkeys(c for c in codes if c in regions))
        if bad:
            messages.append(f"Code de région inconnu ignoré : {', '.join(bad)} (codes INSEE, ex. 53 pour la Bretagne).")
    for param, key, known, message in (
        ("pillar", "pillar", PILLARS, "Pilier « {} » inconnu : piliers possibles {}."),
        ("indicator", "indicator", INDICATORS, "Indicateur « {} » inconnu : indicateurs possibles {}."),
        ("classes", "scheme", SCHEMES, "Méthode de classes « {} » inconnue : {}."),
    ):
        value = read(param)
        if value and value in known:
            state[key] = value
        elif value:
            messages.append(message.format(value, ", ".join(known)))
    status = read("status")
    if status:
        codes = _codes(status)
        bad = [c for c in codes if c not in STATUSES]
        state["statuses"] = [c for c in STATUSES if c in codes]
        if bad:
            messages.append(f"Statut inconnu ignoré : {', '.join(bad)} (statuts possibles : {', '.join(STATUSES)}).")
    for name, key in (("fragile", "fragile_only"), ("documented", "documented_only")):
        if name in too_long:
            continue
        value, message = flag_value(params, name)
        if value is not None:
            state[key] = value
        if message:
            messages.append(message)
    return state, messages


#: The filters other doors share with the view (the OGC API's extra query parameters).
SHARED_FILTERS = ("region", "pillar", "status")


def filter_messages(params: Mapping, regions: Mapping[str, str]) -> list[str]:
    """The parser's French messages for the :data:`SHARED_FILTERS` of ``params`` (empty when all are good).

    For a door that takes these filters but not a whole view (the OGC API),
    so a bad région reads the same there as on the page and the downloads.

    >>> filter_messages({"pillar": "cuisine", "bbox": "x"}, {"53": "Bretagne"})[0][:26]
    'Pilier « cuisine » inconnu'
    """
    subset = {name: params[name] for name in SHARED_FILTERS if name in params}
    # No date is read: the dates given here are never consulted.
    return parse_view_params(subset, [], regions, "")[1]


def unknown_params_message(names) -> str | None:
    """The French message for parameter names that are neither view nor page parameters, or ``None``.

    >>> unknown_params_message(["regions", "date"])
    'Paramètre inconnu : « regions ». Paramètres possibles : date, from, region, pillar, status, fragile, documented, indicator, classes.'
    """
    known = (*VIEW_PARAMS, *PAGE_ONLY_PARAMS)
    unknown = sorted({name for name in names if name not in known})
    if not unknown:
        return None
    shown = ", ".join(f"« {name[:40]} »" for name in unknown[:5])
    return f"Paramètre inconnu : {shown}. Paramètres possibles : {', '.join(VIEW_PARAMS)}."


def view_error(messages: list[str]) -> str:
    """The one-sentence error of a strict door (HTTP 400, CLI exit 2) from the parser's messages.

    >>> view_error(["Pilier « x » inconnu."])
    'Paramètres de vue invalides : Pilier « x » inconnu.'
    """
    return "Paramètres de vue invalides : " + " ".join(messages)


def file_stem(state: Mapping) -> str:
    """The download file name without extension, as the page's buttons name it.

    >>> file_stem({"date": "2019-09-24", "date_from": "2019-07-25", "regions": ["53", "84"]})
    'territoires-industrie_2019-09-24_depuis_2019-07-25_reg-53-84'
    """
    stem = f"territoires-industrie_{state['date']}"
    if state.get("date_from"):
        stem += f"_depuis_{state['date_from']}"
    if state.get("regions"):
        stem += "_reg-" + "-".join(state["regions"])
    return stem


def state_view(prog, state: Mapping, resolution: str = "fine"):
    """The view a state names: :func:`~tdi_geo.indicators.diff_view` when ``date_from``
    is set (only the régions filter it, as on the page), else
    :func:`~tdi_geo.indicators.build_view`. ``fine`` is the exports' resolution."""
    if state.get("date_from"):
        return diff_view(prog, state["date_from"], state["date"], list(state["regions"]), resolution=resolution)
    return build_view(
        prog, state["date"], regions=list(state["regions"]), pillar=state["pillar"],
        statuses=list(state["statuses"]), fragile_only=state["fragile_only"],
        documented_only=state["documented_only"], indicator=state["indicator"], resolution=resolution,
    )
