"""Query parameters of the OGC API routes (:mod:`tdi_geo.ogc`): checked, with French errors.

:func:`select_versions` holds the temporal semantics: a ``datetime`` selects
perimeter versions, not feature timestamps (see :mod:`tdi_geo.ogc`).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from tdi_geo import reference
from tdi_geo.programme import PILLARS, PROVENANCES, STATUSES
from tdi_geo.view_params import filter_messages

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
FILTERS = {"region": "Codes INSEE de région, séparés par des virgules", "pillar": "Pilier : " + ", ".join(PILLARS),
           "status": "Statuts, séparés par des virgules : " + ", ".join(STATUSES),
           "provenance": "Provenances, séparées par des virgules : " + ", ".join(PROVENANCES)}


class OgcError(Exception):
    """An error answered as ``{"code", "description"}`` with an HTTP status."""

    def __init__(self, status: int, code: str, description: str):
        super().__init__(description)
        self.status, self.code, self.description = status, code, description


def _bad(description: str) -> OgcError:
    return OgcError(400, "InvalidParameterValue", description)


def _parse_day(text: str) -> str:
    try:
        value = dt.datetime.fromisoformat(text) if "T" in text.upper() else dt.date.fromisoformat(text)
    except ValueError:
        raise _bad(f"datetime invalide : « {text} ». Attendu : une date RFC 3339 (ex. 2019-07-25 ou "
                   "2019-07-25T00:00:00Z) ou un intervalle « début/fin » (« .. » pour une borne ouverte).") from None
    return value.date().isoformat() if isinstance(value, dt.datetime) else value.isoformat()


def select_versions(dates: list[str], value: str | None) -> tuple[list[str], bool]:
    """The version dates a ``datetime`` value selects, and whether it is an interval.

    Examples
    --------
    >>> v = ["2018-11-22", "2019-07-25", "2019-09-24"]
    >>> select_versions(v, "2019-08-01"), select_versions(v, "2018-01-01")
    ((['2019-07-25'], False), ([], False))
    >>> select_versions(v, "2019-08-01/..")
    (['2019-07-25', '2019-09-24'], True)
    """
    if not value:
        return dates[-1:], False
    if "/" not in value:
        day = _parse_day(value)
        return [d for d in dates if d <= day][-1:], False
    start, _, end = value.partition("/")
    if "/" in end or (start in ("", "..") and end in ("", "..")):
        raise _bad(f"datetime invalide : « {value} ». Un intervalle a au plus une borne ouverte (« .. »).")
    start = None if start in ("", "..") else _parse_day(start)
    end = None if end in ("", "..") else _parse_day(end)
    if start and end and start > end:
        raise _bad(f"datetime invalide : « {value} » : le début est après la fin.")
    at_start = [d for d in dates if start is None or d <= start][-1:]
    inside = [d for d in dates if (start is None or d > start) and (end is None or d <= end)]
    return sorted(set(at_start + inside) if start else inside), True


def _int(params, name: str, default: int, minimum: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise _bad(f"Paramètre « {name} » invalide : « {text} ». Attendu : un entier ≥ {minimum}.")
    return value


def _bbox(text: str | None):
    if text is None:
        return None
    try:
        numbers = [float(x) for x in text.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) not in (4, 6) or not np.all(np.isfinite(numbers)):
        raise _bad(f"bbox invalide : « {text} ». Attendu : ouest,sud,est,nord en degrés (ex. -5.2,47.2,-1,48.9).")
    west, south, east, north = numbers[:2] + numbers[-3:-1] if len(numbers) == 6 else numbers
    if south > north:
        raise _bad(f"bbox invalide : « {text} » : le sud est au-dessus du nord.")
    # A box crossing the antimeridian (west > east) is two boxes.
    return [(west, south, east, north)] if west <= east else [(west, south, 180.0, north), (-180.0, south, east, north)]


def _keys(params, name: str, allowed) -> list[str]:
    values = [v.strip() for v in params.get(name, "").split(",") if v.strip()]
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise _bad(f"Paramètre « {name} » : valeur inconnue {', '.join(unknown)}. Valeurs possibles : {', '.join(allowed)}.")
    return values


def parse_query(params, allowed: set) -> dict:
    """The checked query parameters of a request (``limit`` capped), or a French 400 :class:`OgcError`."""
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise _bad(f"Paramètre inconnu : {', '.join(unknown)}. Paramètres possibles : {', '.join(sorted(allowed))}.")
    if params.get("f", "json") not in ("json", "geojson"):
        raise _bad(f"Format inconnu : « {params['f']} ». Formats possibles : json, geojson.")
    # The filters the page also has answer with the page's (and the downloads') sentences.
    messages = filter_messages(params, reference.region_names())
    if messages:
        raise _bad(" ".join(messages))
    pillar = params.get("pillar") or None
    return {"limit": min(_int(params, "limit", DEFAULT_LIMIT, 1), MAX_LIMIT), "offset": _int(params, "offset", 0, 0),
            "bbox": _bbox(params.get("bbox")), "datetime": params.get("datetime"), "pillar": pillar,
            "region": _keys(params, "region", reference.region_names()), "status": _keys(params, "status", STATUSES),
            "provenance": _keys(params, "provenance", PROVENANCES)}
