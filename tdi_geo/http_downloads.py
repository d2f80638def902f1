"""HTTP downloads of a view: ``GET /api/territoires.{geojson,csv,gpkg,xlsx,zip}``.

Starlette routes (no Streamlit) that ``serve.py`` hands to ``st.App(routes=...)``,
so the server of ``make run`` answers scripts with the file the page's
button gives for the same view:

- the query string holds the page's view parameters
  (:data:`tdi_geo.view_params.VIEW_PARAMS`), read by the page's parser; the
  page-only ``territory``, ``tiles`` and ``commune``
  (:data:`~tdi_geo.view_params.PAGE_ONLY_PARAMS`) are accepted and change
  nothing, so a page URL's query string can be pasted as is;
- the body is built as the page builds it (:func:`tdi_geo.view_params.state_view`
  at ``fine`` resolution, then the same writer): GeoJSON and CSV are
  byte-for-byte the page's downloads;
- a bad value, an unknown parameter or an absurdly long query → 400 with a
  French JSON body ``{"erreur": ..., "messages": [...]}``; any other failure
  → a French JSON 500, never a traceback;
- ``Content-Disposition`` names the file as the page's button does;
  ``ETag`` is a hash of the dataset's files (name, mtime, size), the
  normalised view and the format, so publishing an import changes it;
  ``If-None-Match`` → 304 without building anything. ``Cache-Control:
  no-cache`` makes clients revalidate, so a publication is seen at once.
- GeoJSON and CSV are gzipped when ``Accept-Encoding`` allows it (q-values
  honoured, :mod:`tdi_geo.http_encoding`): ``Content-Encoding: gzip``,
  ``Vary: Accept-Encoding`` and an ETag of its own (``"…-gzip"``); the
  decompressed body is the identity one, byte for byte. GeoPackage, XLSX
  and zip are sent as they are (XLSX and zip are compressed already).

Dataset served, looked up at each request: ``$TDI_GEO_DATASET``, else the
import workspace's published dataset, else the embedded one (as the page,
minus a visitor's private preview).

Bounded: the query string is at most :data:`MAX_QUERY_LENGTH` characters;
built files (and their gzipped copies) are kept in one LRU of at most
:data:`CACHE_ENTRIES` entries and :data:`CACHE_BYTES` bytes; at most
:data:`MAX_BUILDS` views are built at once, and concurrent requests for the
same file share one build.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tdi_geo.quoting import DATA_UNAVAILABLE, shorten_quotes
from starlette.routing import Route

from tdi_geo import __version__, export, export_formats, reference
from tdi_geo.http_encoding import accepts_gzip, gzip_bytes
from tdi_geo.importers import current_dataset
from tdi_geo.programme import (
    DATASET_ENV,
    default_dataset_dir,
    default_date,
    load_programme,
    tracking_until,
    version_dates,
)
from tdi_geo.view_params import (
    file_stem,
    parse_view_params,
    state_view,
    unknown_params_message,
    view_error,
)

log = logging.getLogger(__name__)

#: Extension → (writer of a view, media type).
FORMATS: dict[str, tuple] = {
    "geojson": (export.geojson_bytes, "application/geo+json"),
    "csv": (export.csv_bytes, "text/csv; charset=utf-8"),
    "gpkg": (export_formats.gpkg_bytes, "application/geopackage+sqlite3"),
    "xlsx": (export_formats.xlsx_bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "zip": (export_formats.shapefile_zip_bytes, "application/zip"),
}
#: Longest query string read (characters); a view needs well under 300.
MAX_QUERY_LENGTH = 2048
CACHE_ENTRIES = 32
CACHE_BYTES = 64 * 1024 * 1024
MAX_BUILDS = 2
#: Formats sent gzipped to a client that accepts it (the others are compressed already).
GZIP_FORMATS = ("geojson", "csv")
WORKSPACE_ENV = "TDI_GEO_WORKSPACE"


def _error(status: int, message: str, messages: list[str] | None = None) -> JSONResponse:
    """A French JSON error; every value it quotes is cut to about 80 characters."""
    message = shorten_quotes(message)
    return JSONResponse({"erreur": message, "messages": [shorten_quotes(m) for m in messages or [message]]},
                        status_code=status, headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


def dataset_stamp(folder: Path) -> tuple:
    """(name, mtime, size) of the dataset's files: changes whenever an import rewrites them."""
    if not folder.is_dir():
        return ()
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix in (".csv", ".json")]
    return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in files))


def view_etag(folder: Path, stamp: tuple, state: dict, fmt: str) -> str:
    """The strong ETag of one file: dataset files, normalised view, format and library version."""
    key = json.dumps([__version__, str(folder), stamp, fmt, sorted(state.items())], default=str)
    return '"' + hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + '"'


def gzip_etag(etag: str) -> str:
    """The ETag of the gzipped representation of the file ``etag`` names (a strong ETag per representation).

    >>> gzip_etag('"abc"')
    '"abc-gzip"'
    """
    return etag[:-1] + '-gzip"'


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak comparison, RFC 9110 §13.1.2).

    >>> etag_matches('W/"abc", "def"', '"abc"'), etag_matches("*", '"x"'), etag_matches('"y"', '"x"')
    (True, True, False)
    """
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


class _BoundedCache:
    """Least-recently-used bytes, bounded by entry count and total size."""

    def __init__(self, entries: int, max_bytes: int):
        self.entries, self.max_bytes = entries, max_bytes
        self.data: OrderedDict[str, bytes] = OrderedDict()

    def get(self, key: str) -> bytes | None:
        body = self.data.get(key)
        if body is not None:
            self.data.move_to_end(key)
        return body

    def put(self, key: str, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        self.data[key] = body
        self.data.move_to_end(key)
        while len(self.data) > self.entries or sum(map(len, self.data.values())) > self.max_bytes:
            self.data.popitem(last=False)


class DownloadService:
    """The download endpoint and its bounded state (cache, builds in flight).

    Parameters
    ----------
    workspace : Path, optional
        The app's import workspace; default ``$TDI_GEO_WORKSPACE`` or ``data/imports``.
    """

    def __init__(self, workspace: Path | str | None = None):
        self.workspace = Path(workspace or os.environ.get(WORKSPACE_ENV) or "data/imports")
        self.cache = _BoundedCache(CACHE_ENTRIES, CACHE_BYTES)
        self.inflight: dict[str, asyncio.Future] = {}
        # A thread semaphore: builds run in threads, and it binds to no event loop.
        self.builds = threading.BoundedSemaphore(MAX_BUILDS)

    def dataset_dir(self) -> Path:
        """The dataset served now: ``$TDI_GEO_DATASET``, the workspace's published one, or the embedded one."""
        pinned = os.environ.get(DATASET_ENV)
        if pinned:
            return Path(pinned)
        return current_dataset(self.workspace) or default_dataset_dir()

    def _resolve(self, query: dict) -> tuple:
        """Load the dataset and read the view (thread: file I/O and pandas)."""
        folder = self.dataset_dir()
        stamp = dataset_stamp(folder)
        prog = load_programme(folder)
        state, messages = parse_view_params(query, version_dates(prog), reference.region_names(), default_date(prog),
                                            tracking_until(prog))
        return folder.resolve(), stamp, prog, state, messages

    def _build(self, prog, state: dict, fmt: str) -> bytes:
        with self.builds:
            return FORMATS[fmt][0](state_view(prog, state))

    async def _once(self, key: str, produce) -> bytes:
        """The cached bytes of ``key``, else ``produce()`` run once in a thread, however many ask at once."""
        body = self.cache.get(key)
        if body is not None:
            return body
        pending = self.inflight.get(key)
        if pending is not None:  # the same file is being built: wait for it
            return await asyncio.shield(pending)
        future = asyncio.get_running_loop().create_future()
        self.inflight[key] = future
        try:
            body = await run_in_threadpool(produce)
            self.cache.put(key, body)
            future.set_result(body)
            return body
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so an unawaited failure logs nothing twice
            raise
        finally:
            del self.inflight[key]

    async def _body(self, etag: str, prog, state: dict, fmt: str, gzipped: bool) -> bytes:
        body = await self._once(etag, lambda: self._build(prog, state, fmt))
        if gzipped:  # the compressed file is cached too (bounded by the same LRU), under its own ETag
            body = await self._once(gzip_etag(etag), lambda: gzip_bytes(body))
        return body

    async def endpoint(self, request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in FORMATS:
            return _error(404, f"Format inconnu : « {fmt} ». Formats possibles : {', '.join(FORMATS)}.")
        if len(request.url.query) > MAX_QUERY_LENGTH:
            return _error(400, f"Requête trop longue ({len(request.url.query)} caractères, au plus {MAX_QUERY_LENGTH}).")
        unknown = unknown_params_message(request.query_params.keys())
        if unknown:
            return _error(400, unknown)
        try:
            folder, stamp, prog, state, messages = await run_in_threadpool(self._resolve, dict(request.query_params))
        except (OSError, ValueError):
            log.exception("dataset not loaded")
            return _error(503, DATA_UNAVAILABLE)
        if messages:
            return _error(400, view_error(messages), messages)
        etag = view_etag(folder, stamp, state, fmt)
        gzipped = fmt in GZIP_FORMATS and accepts_gzip(request.headers.raw)
        headers = {
            "ETag": gzip_etag(etag) if gzipped else etag,
            "Cache-Control": "no-cache",
            "Content-Disposition": f'attachment; filename="{file_stem(state)}.{fmt}"',
            "X-Content-Type-Options": "nosniff",
        }
        if fmt in GZIP_FORMATS:  # the body depends on the request's Accept-Encoding: caches must know
            headers["Vary"] = "Accept-Encoding"
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        if etag_matches(request.headers.get("if-none-match"), headers["ETag"]):
            kept = ("ETag", "Cache-Control", "Vary", "X-Content-Type-Options")
            return Response(status_code=304, headers={k: v for k, v in headers.items() if k in kept})
        try:
            body = await self._body(etag, prog, state, fmt, gzipped)
        except Exception:  # the client gets a French message, the log the details
            log.exception("download %s failed", fmt)
            return _error(500, "Le fichier n'a pas pu être produit (erreur interne du serveur).")
        return Response(body, media_type=FORMATS[fmt][1], headers=headers)


def download_routes(workspace: Path | str | None = None) -> list[Route]:
    """The Starlette routes of the downloads, for ``st.App(routes=...)`` or any Starlette app.

    Parameters
    ----------
    workspace : Path, optional
        The app's import workspace (its published dataset is served);
        ``$TDI_GEO_WORKSPACE`` wins when set.
    """
    service = DownloadService(os.environ.get(WORKSPACE_ENV) or workspace)
    return [Route("/api/territoires.{fmt}", service.endpoint, methods=["GET", "HEAD"])]
