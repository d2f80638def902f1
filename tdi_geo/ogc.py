"""OGC API – Features (Part 1: Core, GeoJSON, OpenAPI 3.0) under ``/ogc/``.

Two collections: ``territoires`` (the features of the GeoJSON download of
``build_view(prog, date, resolution="fine")``: same ids, same properties)
and ``epci`` (the reference EPCIs, with the territory holding each).

**Why not pygeoapi**, the OSGeo reference server: it is not installed (a new
dependency with its own Flask/Starlette app, config files and provider
plugins, heavy for two collections), and the temporal semantics are ours: a
``datetime`` selects a *perimeter version*, not a feature's own timestamp,
which a generic provider cannot express. A small module over the library
keeps one definition of the features (:func:`tdi_geo.export.to_geojson`).

**datetime** (RFC 3339 date or date-time; the date part is used):

- an instant selects the version valid then, the latest version date on or
  before it (before the first version: no features);
- an interval ``a/b`` (``..`` or empty for an open end) selects every version
  valid at some instant of it (the one valid at ``a`` and those dated in
  ``]a, b]``); each territory appears once, as at the latest of these versions
  where it is present, with ``valid_from``/``valid_to`` (version dates, the
  end excluded, null while still valid) in its properties; an EPCI shows the
  territory holding it at the latest selected version;
- no datetime: the latest version.

Extra filters (declared in ``/api``): ``region`` (comma-separated INSEE codes),
``pillar``, ``status`` and ``provenance`` (comma-separated keys), as the page's
filters; for ``epci``, ``region`` is the EPCI's région and the others keep the
EPCIs held by a matching territory (parsed in :mod:`tdi_geo.ogc_params`; the
OpenAPI document is :mod:`tdi_geo.ogc_openapi`). Errors are French JSON
``{"code", "description"}``, never a traceback. Views are cached per
(dataset files, version date, pillar), :data:`CACHE_SIZE` entries at most,
built one at a time; feature pages are gzipped for clients that accept it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import shapely
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tdi_geo import reference
from tdi_geo.ogc_params import DEFAULT_LIMIT, FILTERS, MAX_LIMIT, OgcError, parse_query, select_versions
from tdi_geo.programme import load_programme, members_at, territories_at
from tdi_geo.quoting import DATA_UNAVAILABLE, shorten_quotes

PREFIX = "/ogc"
CACHE_SIZE = 8
GEOJSON, JSON = "application/geo+json", "application/json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{c}" for c in ("core", "geojson", "oas30")]
COLLECTIONS = {
    "territoires": ("Territoires d'industrie", "Les territoires à la version de périmètre choisie, avec leurs indicateurs "
                    "(mêmes identifiants et propriétés que le téléchargement GeoJSON de la carte)."),
    "epci": ("EPCI de référence", "Les EPCI du référentiel, avec le territoire d'industrie qui les contient "
             "à la version choisie (ou aucun)."),
}
ITEM_PARAMS = {"f", "bbox", "datetime", "limit", "offset", *FILTERS}
EPCI_FIELDS = ["siren", "name", "type", "population", "n_communes", "departements", "regions"]
_WORKSPACE_DEFAULT = Path(__file__).resolve().parents[1] / "data" / "imports"


# --- data ----------------------------------------------------------------------------


def served_programme():
    """The dataset visitors see without a preview: ``$TDI_GEO_DATASET``, else the
    import workspace's published dataset, else the embedded one (as app.py)."""
    from tdi_geo.importers import current_dataset

    pinned = os.environ.get("TDI_GEO_DATASET")
    workspace = Path(os.environ.get("TDI_GEO_WORKSPACE", _WORKSPACE_DEFAULT))
    try:
        return load_programme(pinned or current_dataset(workspace) or None)
    except (OSError, ValueError):
        # The reason names server paths: the log has it, the client a French sentence.
        logging.getLogger(__name__).exception("OGC API: dataset not loaded")
        raise OgcError(503, "ServiceUnavailable", DATA_UNAVAILABLE) from None


_lock, _build_lock = threading.Lock(), threading.Lock()
_views: OrderedDict = OrderedDict()
_epci: dict = {}


def _cached(key):
    with _lock:
        if key in _views:
            _views.move_to_end(key)
            return _views[key]
    return None


def _remember(key, build):
    value = _cached(key)
    if value is None:
        # One build at a time: concurrent cold requests (a GIS client pages in parallel)
        # wait for the first build instead of each repeating a second of work.
        with _build_lock:
            value = _cached(key)
            if value is None:
                value = build()
                with _lock:
                    _views[key] = value
                    while len(_views) > CACHE_SIZE:
                        _views.popitem(last=False)
    return value


def _territory_layer(prog, date: str, pillar: str | None) -> dict:
    """Features of the territories at a version date: ids, properties, geometry JSON, bounds."""
    def build():
        from tdi_geo.export import to_geojson
        from tdi_geo.indicators import build_view

        view = build_view(prog, date, pillar=pillar, resolution="fine")
        features = to_geojson(view)["features"]
        return {"ids": [f["id"] for f in features], "props": [f["properties"] for f in features],
                "geoms": [json.dumps(f["geometry"], separators=(",", ":")) for f in features],
                "bounds": shapely.bounds(view.geometry.values).reshape(-1, 4)}
    # Keyed by the files, not the Programme object: concurrent first loads give equal copies.
    stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in prog.dataset_dir.glob("*.csv")))
    return _remember((str(prog.dataset_dir), stamp, date, pillar), build)


def _epci_layer() -> dict:
    """The reference EPCIs, serialised once (the reference does not change while serving)."""
    with _lock:
        if not _epci:
            from tdi_geo.export import rfc7946_geometries

            frame = reference.load_epci("fine")
            geoms = rfc7946_geometries(frame.geometry.values)
            records = frame[EPCI_FIELDS].to_dict("records")
            _epci.update(ids=frame["siren"].tolist(), region=frame["region"].to_numpy(),
                         props=[{k: (int(v) if isinstance(v, np.integer) else v) for k, v in r.items()} for r in records],
                         geoms=list(shapely.to_geojson(geoms)), bounds=shapely.bounds(geoms).reshape(-1, 4))
    return _epci


# --- selection -----------------------------------------------------------------------


def _matches(props: dict, q: dict) -> bool:
    return ((not q["region"] or props.get("region") in q["region"])
            and (not q["pillar"] or (props.get("projects") or 0) > 0)
            and (not q["status"] or props.get("status") in q["status"])
            and (not q["provenance"] or props.get("provenance") in q["provenance"]))


def _territory_rows(prog, q: dict) -> list[tuple]:
    """(id, properties, geometry JSON, bounds) of the territories the query selects."""
    dates = prog.versions["date"].tolist()
    chosen, interval = select_versions(dates, q["datetime"])
    rows: dict = {}
    for date in chosen:  # ascending: a later version replaces an earlier one
        layer = _territory_layer(prog, date, q["pillar"])
        for row in zip(layer["ids"], layer["props"], layer["geoms"], layer["bounds"]):
            rows[row[0]] = row
    if interval and rows:
        present = {d: set(territories_at(prog, d)["id"]) for d in dates}
        for tid, (_, props, geom, bounds) in list(rows.items()):
            k = dates.index(props["date"])
            first = k
            while first > 0 and tid in present[dates[first - 1]]:
                first -= 1
            after = next((d for d in dates[k + 1:] if tid not in present[d]), None)
            rows[tid] = (tid, {**props, "valid_from": dates[first], "valid_to": after}, geom, bounds)
    return [row for row in rows.values() if _matches(row[1], q)]


def _epci_rows(prog, q: dict) -> list[tuple]:
    chosen, _ = select_versions(prog.versions["date"].tolist(), q["datetime"])
    layer = _epci_layer()
    holder: dict = {}
    if chosen:
        date = chosen[-1]
        members = members_at(prog, date)
        names = territories_at(prog, date).set_index("id")["name"]
        keep = set(names.index)
        if q["pillar"] or q["status"] or q["provenance"]:
            view = _territory_layer(prog, date, q["pillar"])
            keep = {i for i, p in zip(view["ids"], view["props"]) if _matches(p, {**q, "region": []})}
        holder = {s: (t, names[t]) for s, t in zip(members["epci_siren"], members["territory_id"]) if s and t in keep}
    filtered = bool(q["pillar"] or q["status"] or q["provenance"])
    rows = []
    for sid, region, props, geom, bounds in zip(layer["ids"], layer["region"], layer["props"], layer["geoms"], layer["bounds"]):
        if (q["region"] and region not in q["region"]) or (filtered and sid not in holder):
            continue
        tid, name = holder.get(sid, (None, None))
        rows.append((sid, {**props, "date": chosen[-1] if chosen else None, "territory_id": tid, "territory_name": name},
                     geom, bounds))
    return rows


def _in_bbox(rows: list[tuple], boxes) -> list[tuple]:
    if not boxes or not rows:
        return rows
    b = np.array([r[3] for r in rows])
    hit = np.zeros(len(rows), bool)
    for west, south, east, north in boxes:  # envelope test, then the exact shape
        hit |= (b[:, 0] <= east) & (b[:, 2] >= west) & (b[:, 1] <= north) & (b[:, 3] >= south)
    exact = [shapely.box(*box) for box in boxes]
    return [r for r, h in zip(rows, hit) if h and any(shapely.intersects(shapely.from_geojson(r[2]), e) for e in exact)]


# --- responses -----------------------------------------------------------------------


def _json(body, media_type: str = JSON, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False).encode("utf-8"), status_code=status, media_type=media_type)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


def _link(href: str, rel: str, type_: str = JSON, title: str | None = None) -> dict:
    return {"href": href, "rel": rel, "type": type_, **({"title": title} if title else {})}


def _feature_text(row: tuple, links: list | None = None) -> str:
    fid, props, geom, _ = row
    extra = f',"links":{json.dumps(links)}' if links else ""
    return (f'{{"type":"Feature","id":{json.dumps(fid)},"geometry":{geom},'
            f'"properties":{json.dumps(props, ensure_ascii=False)}{extra}}}')


def _collection(base: str, cid: str, prog) -> dict:
    dates = prog.versions["date"].tolist()
    title, description = COLLECTIONS[cid]
    bounds = _epci_layer()["bounds"]
    return {
        "id": cid, "title": title, "description": description, "itemType": "feature", "crs": [CRS84],
        "extent": {"spatial": {"bbox": [[float(v) for v in (*bounds[:, :2].min(0), *bounds[:, 2:].max(0))]], "crs": CRS84},
                   "temporal": {"interval": [[dates[0] if dates else None, None]], "values": dates,
                                "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}},
        "links": [_link(f"{base}/collections/{cid}", "self", title=title),
                  _link(f"{base}/collections/{cid}/items", "items", GEOJSON, "Objets (GeoJSON)")],
    }


def _landing(request: Request, _):
    base = _base(request)
    return _json({"title": "Territoires d'industrie — OGC API – Features",
                  "description": "Les territoires d'industrie et les EPCI, à chaque version de périmètre.",
                  "links": [_link(base + "/", "self", title="Cette page"),
                            _link(base + "/api", "service-desc", OPENAPI, "Définition de l'API (OpenAPI 3.0)"),
                            _link(base + "/conformance", "conformance", title="Classes de conformité"),
                            _link(base + "/collections", "data", title="Collections")]})


def _conformance(request: Request, _):
    return _json({"conformsTo": CONFORMANCE})


def _api(request: Request, _):
    from tdi_geo.ogc_openapi import openapi_document

    return _json(openapi_document(_base(request), COLLECTIONS, FILTERS, DEFAULT_LIMIT, MAX_LIMIT), OPENAPI)


def _collections(request: Request, _):
    base, prog = _base(request), served_programme()
    return _json({"links": [_link(base + "/collections", "self")],
                  "collections": [_collection(base, cid, prog) for cid in COLLECTIONS]})


def _collection_id(request: Request) -> str:
    cid = request.path_params["collection"]
    if cid not in COLLECTIONS:
        raise OgcError(404, "NotFound", f"Collection inconnue : « {cid} ». Collections : {', '.join(COLLECTIONS)}.")
    return cid


def _one_collection(request: Request, _):
    return _json(_collection(_base(request), _collection_id(request), served_programme()))


def _rows(cid: str, q: dict) -> list[tuple]:
    return (_territory_rows if cid == "territoires" else _epci_rows)(served_programme(), q)


def _items(request: Request, q: dict):
    cid = _collection_id(request)
    rows = _in_bbox(_rows(cid, q), q["bbox"])
    limit, offset = q["limit"], q["offset"]
    page = rows[offset:offset + limit]
    url = request.url
    links = [_link(str(url), "self", GEOJSON), _link(f"{_base(request)}/collections/{cid}", "collection")]
    if offset + len(page) < len(rows):
        links.append(_link(str(url.include_query_params(offset=offset + limit, limit=limit)), "next", GEOJSON))
    if offset > 0:
        links.append(_link(str(url.include_query_params(offset=max(0, offset - limit), limit=limit)), "prev", GEOJSON))
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    head = json.dumps({"type": "FeatureCollection", "numberMatched": len(rows), "numberReturned": len(page),
                       "timeStamp": stamp, "links": links}, ensure_ascii=False)
    body = head[:-1] + ',"features":[' + ",".join(_feature_text(r) for r in page) + "]}"
    return Response(body.encode("utf-8"), media_type=GEOJSON)


def _item(request: Request, q: dict):
    cid = _collection_id(request)
    fid = request.path_params["feature"]
    row = next((r for r in _rows(cid, q) if r[0] == fid), None)
    if row is None:
        raise OgcError(404, "NotFound", f"Objet inconnu dans « {cid} » à cette date : « {fid} ».")
    base = f"{_base(request)}/collections/{cid}"
    links = [_link(str(request.url), "self", GEOJSON), _link(base, "collection")]
    return Response(_feature_text(row, links).encode("utf-8"), media_type=GEOJSON)


def _not_found(request: Request, _):
    raise OgcError(404, "NotFound", f"Adresse inconnue : « {request.url.path} ». Point d'entrée : {_base(request)}/")


def _endpoint(handler, params: set):
    """A Starlette endpoint: checked query → handler; every error a French JSON answer.

    Every answer says ``X-Content-Type-Options: nosniff``; a value an error
    quotes (an identifier, a parameter) is cut to about 80 characters.
    """
    def endpoint(request: Request) -> Response:
        try:
            response = handler(request, parse_query(request.query_params, params))
        except OgcError as exc:
            response = _json({"code": exc.code, "description": shorten_quotes(exc.description)}, status=exc.status)
        except Exception:  # noqa: BLE001 - never a traceback to a client; the server log has it
            logging.getLogger(__name__).exception("OGC API: %s", request.url.path[:200])
            response = _json({"code": "ServerError", "description": "Erreur interne du serveur OGC API."}, status=500)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
    return endpoint


_PLAIN = {"f"}
# Feature pages are megabytes of coordinates: gzip level 1 shrinks them 2.5× for ~0.1 s
# of CPU (higher levels gain 10 % more for 3-5× the time); only for clients that accept it.
_GZIP = [Middleware(GZipMiddleware, minimum_size=4096, compresslevel=1)]
routes = [
    Route(PREFIX, _endpoint(_landing, _PLAIN)),
    Route(PREFIX + "/", _endpoint(_landing, _PLAIN)),
    Route(PREFIX + "/conformance", _endpoint(_conformance, _PLAIN)),
    Route(PREFIX + "/api", _endpoint(_api, _PLAIN)),
    Route(PREFIX + "/collections", _endpoint(_collections, _PLAIN)),
    Route(PREFIX + "/collections/{collection}", _endpoint(_one_collection, _PLAIN)),
    Route(PREFIX + "/collections/{collection}/items", _endpoint(_items, ITEM_PARAMS), middleware=_GZIP),
    Route(PREFIX + "/collections/{collection}/items/{feature}", _endpoint(_item, {"f", "datetime", "pillar"}),
          middleware=_GZIP),
    Route(PREFIX + "/{path:path}", _endpoint(_not_found, set())),
]
