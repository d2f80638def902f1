"""The OpenAPI 3.0 document of :mod:`tdi_geo.ogc` (conformance class « OpenAPI 3.0 »).

Built from the served collections and filters, with absolute server URLs, so
the document always describes what the routes accept.
"""

from __future__ import annotations

GEOJSON, JSON = "application/geo+json", "application/json"
_ERROR = {"description": "Erreur (message en français)",
          "content": {JSON: {"schema": {"$ref": "#/components/schemas/exception"}}}}


def _ok(description: str, media_type: str = JSON) -> dict:
    return {"200": {"description": description, "content": {media_type: {"schema": {"type": "object"}}}},
            "400": _ERROR, "404": _ERROR, "500": _ERROR}


def _get(operation_id: str, summary: str, responses: dict, parameters=()) -> dict:
    return {"get": {"operationId": operation_id, "summary": summary, "tags": ["OGC API – Features"],
                    "parameters": [{"$ref": f"#/components/parameters/{p}"} for p in parameters],
                    "responses": responses}}


def openapi_document(base: str, collections: dict, filters: dict, default_limit: int, max_limit: int) -> dict:
    """The OpenAPI 3.0.3 document of the OGC routes served at ``base``.

    Parameters
    ----------
    base : str
        Absolute URL of the landing page (``http://host:port/ogc``).
    collections : dict
        Collection id → (title, description).
    filters : dict
        Extra item query parameter → French description.
    default_limit, max_limit : int
        Paging bounds of the items request.

    Returns
    -------
    dict
    """
    params = {
        "collectionId": {"name": "collection", "in": "path", "required": True, "description": "Identifiant de collection",
                         "schema": {"type": "string", "enum": list(collections)}},
        "featureId": {"name": "feature", "in": "path", "required": True, "description": "Identifiant d'objet",
                      "schema": {"type": "string"}},
        "limit": {"name": "limit", "in": "query", "required": False, "style": "form", "explode": False,
                  "description": f"Nombre maximal d'objets (défaut {default_limit}, au plus {max_limit})",
                  "schema": {"type": "integer", "minimum": 1, "maximum": max_limit, "default": default_limit}},
        "offset": {"name": "offset", "in": "query", "required": False, "description": "Rang du premier objet",
                   "schema": {"type": "integer", "minimum": 0, "default": 0}},
        "bbox": {"name": "bbox", "in": "query", "required": False, "style": "form", "explode": False,
                 "description": "ouest,sud,est,nord (CRS84)",
                 "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}},
        "datetime": {"name": "datetime", "in": "query", "required": False, "style": "form", "explode": False,
                     "description": "Instant (la version de périmètre en vigueur) ou intervalle début/fin "
                                    "(« .. » : borne ouverte ; toutes les versions en vigueur pendant l'intervalle)",
                     "schema": {"type": "string"}},
        "f": {"name": "f", "in": "query", "required": False, "description": "Format de la réponse",
              "schema": {"type": "string", "enum": ["json", "geojson"]}},
    }
    for name, description in filters.items():
        params[name] = {"name": name, "in": "query", "required": False, "style": "form", "explode": False,
                        "description": description, "schema": {"type": "string"}}
    item_params = ["collectionId", "bbox", "datetime", "limit", "offset", *filters, "f"]
    return {
        "openapi": "3.0.3",
        "info": {"title": "Territoires d'industrie — OGC API – Features", "version": "1.0.0",
                 "description": "Les territoires d'industrie et les EPCI de référence, à chaque version de périmètre. "
                                "Collections : " + "; ".join(f"{k} ({v[0]})" for k, v in collections.items()) + ".",
                 "license": {"name": "Licence Ouverte / Open Licence 2.0"}},
        "servers": [{"url": base}],
        "paths": {
            "/": _get("getLandingPage", "Page d'accueil", _ok("Liens de l'API"), ["f"]),
            "/conformance": _get("getConformance", "Classes de conformité", _ok("conformsTo"), ["f"]),
            "/api": _get("getApi", "Ce document", _ok("OpenAPI 3.0", "application/vnd.oai.openapi+json;version=3.0"),
                         ["f"]),
            "/collections": _get("getCollections", "Collections", _ok("Collections"), ["f"]),
            "/collections/{collection}": _get("describeCollection", "Une collection", _ok("Collection"),
                                              ["collectionId", "f"]),
            "/collections/{collection}/items": _get("getFeatures", "Objets d'une collection",
                                                    _ok("FeatureCollection", GEOJSON), item_params),
            "/collections/{collection}/items/{feature}": _get(
                "getFeature", "Un objet", _ok("Feature", GEOJSON), ["collectionId", "featureId", "datetime", "pillar", "f"]),
        },
        "components": {
            "parameters": params,
            "schemas": {"exception": {"type": "object", "required": ["code"], "properties": {
                "code": {"type": "string"}, "description": {"type": "string"}}}},
        },
    }
