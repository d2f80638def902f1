"""Serve the app with its static files compressed: ``streamlit run serve.py``.

Streamlit (1.67) deliberately serves its frontend bundle (~3 MB of JavaScript)
uncompressed and leaves compression to a reverse proxy. tdi-geo is often run
without one (a laptop, an intranet VM), and the page budget is 1.5 MB, so this
entry point wraps the app in ``st.App`` with a middleware that gzips each
static file once and keeps the result in memory: the files are content-hashed
and immutable, so the cache never goes stale and the CPU cost is paid once per
file per process. Only files that exist at start-up are cached, so no visitor
can make the cache grow.

Leaflet's files, which app.py serves from the installed package, are gzipped
the same way (they are as immutable as the package), and the page hints the
browser to fetch them, with the map element's frontend module, while
Streamlit's frontend boots (:class:`PreloadHints`).

Behind a reverse proxy that compresses (``deploy/``: nginx in front of
several replicas), set ``TDI_GEO_BEHIND_PROXY=1``: :class:`StaticGzipCache`
is then left out: nginx compresses for all replicas (one policy, in
``deploy/nginx.conf.template``) and no replica keeps its own compressed copy
of the bundle in memory.

At start-up the heavy modules that both a visitor's first run and the
warm-up import lazily (altair with narwhals, pyarrow, mapclassify with
scikit-learn and matplotlib) are imported first, in the server's own thread
(:func:`preload_modules`): two threads importing the same packages at once
can end one of them with ``_DeadlockError`` (one start in 22 did, on
``narwhals.stable.v2``). Then a background thread builds the opening views of every version
(:func:`tdi_geo.view_model.warm_up`) and then freezes the objects alive at
that point out of the garbage collector's reach (``gc.freeze``): the
reference geography and the shared views are long-lived, so later
collections need not walk them again.

``app.py`` stays the app itself (and what ``AppTest`` loads).
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import importlib
import logging
import os
import re
import threading
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from app_panels.page_shell import FrenchPage, html_rewriting  # lang="fr", Streamlit's strings in French, the page's CSS
from tdi_geo.http_downloads import download_routes
from tdi_geo.http_encoding import accepts_gzip  # one reading of Accept-Encoding for every door
from tdi_geo.ogc import routes as ogc_routes

APP_SCRIPT = Path(__file__).resolve().parent / "app.py"
#: Below this size, compressing is not worth a header.
MIN_SIZE = 1024
COMPRESS_LEVEL = 6
#: Frontend module (file-name stem in Streamlit's ``static/js``) of the map, a
#: components-v2 element. See :class:`PreloadHints`.
LAZY_ELEMENTS = ("BidiComponent",)
#: Where app.py's ``declare_component("tdi_geo_leaflet", path=...)`` serves
#: Leaflet (Streamlit names a script's component ``<script stem>.<name>``).
LEAFLET_PATH = f"/component/{APP_SCRIPT.stem}.tdi_geo_leaflet/"
_STATIC_IMPORT = re.compile(r'(?:from|import)\s*"\./([^"]+\.js)"')


def known_files(prefixes: dict[str, Path]) -> frozenset[str]:
    """URL paths of the files under each prefix's folder, listed once at start-up."""
    paths = set()
    for prefix, folder in prefixes.items():
        if folder.is_dir():
            paths |= {prefix + p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    return frozenset(paths)


def _default_prefixes() -> dict[str, Path]:
    from tdi_geo import assets

    return {"/static/": Path(st.__file__).parent / "static" / "static", LEAFLET_PATH: assets.leaflet_dir()}


class StaticGzipCache:
    """ASGI middleware: gzip the installed static files once, then serve them from memory.

    Only the files that exist when the server starts (Streamlit's bundle and
    Leaflet's dist, listed by :func:`known_files`) are compressed and kept:
    the cache can never hold more entries than there are such files,
    whatever paths visitors make up (Streamlit answers 200 for any path
    under ``/static/``). A client that does not accept gzip (``q=0``) gets the
    app's own answer.
    """

    def __init__(self, app, prefixes: dict[str, Path] | None = None):
        self.app = app
        self.known = known_files(prefixes or _default_prefixes())
        self.cache: dict[str, tuple[int, list, bytes]] = {}

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] != "http"
            or scope.get("method") != "GET"
            or scope.get("path", "") not in self.known
            or not accepts_gzip(scope.get("headers", []))
        ):
            await self.app(scope, receive, send)
            return
        cached = self.cache.get(scope["path"])
        if cached is None:
            cached = await self._fetch_and_compress(scope, receive)
            if cached is None:  # not cacheable: let the app answer as usual
                await self.app(scope, receive, send)
                return
        status, headers, body = cached
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _fetch_and_compress(self, scope, receive):
        start: dict = {}
        chunks: list[bytes] = []

        async def collect(message):
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, collect)
        body = b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-length", b"content-encoding")]
        already_encoded = any(k.lower() == b"content-encoding" for k, _ in start.get("headers", []))
        if start.get("status") != 200 or already_encoded or len(body) < MIN_SIZE:
            return None
        compressed = gzip.compress(body, compresslevel=COMPRESS_LEVEL, mtime=0)
        headers += [
            (b"content-encoding", b"gzip"),
            (b"content-length", str(len(compressed)).encode()),
            (b"vary", b"Accept-Encoding"),
        ]
        entry = (200, headers, compressed)
        self.cache[scope["path"]] = entry
        return entry


def lazy_chunks(static_js: Path, index_html: str, stems=LAZY_ELEMENTS) -> list[str]:
    """File names of ``stems``' modules and their static imports not already preloaded by ``index_html``.

    Read from the installed bundle at start-up (file names are content
    hashes); a stem missing from another Streamlit version is skipped.
    """
    already = set(re.findall(r'static/js/([^"]+\.js)', index_html))
    todo = [p.name for stem in stems for p in sorted(static_js.glob(f"{stem}.*.js"))]
    found: list[str] = []
    while todo:
        name = todo.pop(0)
        if name in found or not (static_js / name).is_file():
            continue
        found.append(name)
        todo += _STATIC_IMPORT.findall((static_js / name).read_text(encoding="utf-8"))
    return [name for name in found if name not in already]


class PreloadHints:
    """ASGI middleware: hint the map's frontend module and Leaflet in Streamlit's page.

    Streamlit's frontend fetches an element type's code only when the first
    element of that type arrives (~1.1 s into a visit), shows a skeleton
    meanwhile, and React then reveals the element no sooner than 300 ms
    after the last skeleton appeared on the page: the map waited for the
    widgets' and metrics' modules, fetched in the same round, and only then
    asked for Leaflet. Hinted in the page, the map's module
    (:data:`LAZY_ELEMENTS` and its imports, a few files) and Leaflet are
    fetched while the frontend boots: the map renders without a skeleton, as
    soon as its message arrives. The bytes received are the same. Only these
    few files are hinted: with every element's module (~40 files) the boot
    itself got slower.
    """

    def __init__(self, app, static_dir: Path | None = None):
        self.app = app
        static_dir = static_dir or Path(st.__file__).parent / "static"
        index_html = (static_dir / "index.html").read_text(encoding="utf-8")
        # Streamlit's page, not a component's index.html (relative hints would miss there).
        entry = re.search(r'src="\./static/js/index\.[^"]+\.js"', index_html)
        self.marker = entry.group().encode() if entry else None
        self.links = "".join(
            f'<link rel="modulepreload" crossorigin href="./static/js/{name}">'
            for name in lazy_chunks(static_dir / "static" / "js", index_html)
        ).encode()
        # Leaflet is served once app.py has run: hinted before, the browser would
        # keep the 404 for the map's own request. Hinted once it was served.
        self.leaflet_links = (
            f'<link rel="preload" as="script" href=".{LEAFLET_PATH}leaflet.js">'
            f'<link rel="preload" as="style" href=".{LEAFLET_PATH}leaflet.css">'
        ).encode()
        self.leaflet_served = False

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "GET" or not self.links or not self.marker:
            await self.app(scope, receive, send)
            return
        def with_hints(body: bytes) -> bytes | None:
            if self.marker not in body or b"</head>" not in body:
                return None
            links = self.links + (self.leaflet_links if self.leaflet_served else b"")
            return body.replace(b"</head>", links + b"</head>", 1)

        rewrite = html_rewriting(send, with_hints)

        async def hint(message):
            if (message["type"] == "http.response.start" and message.get("status") == 200
                    and scope.get("path", "").startswith(LEAFLET_PATH)):
                self.leaflet_served = True
            await rewrite(message)

        await self.app(scope, receive, hint)


def warm_up() -> None:
    """Build the served dataset's opening views, then freeze start-up objects (see the module docstring)."""
    from tdi_geo.ogc import served_programme
    from tdi_geo.view_model import warm_up as build

    try:
        build(served_programme())
    except Exception:  # a broken dataset is reported to visitors by the page itself
        logging.getLogger(__name__).warning("Préchauffage des vues impossible", exc_info=True)
    gc.freeze()


#: Imported before the warm-up thread starts (see the module docstring), in this order.
PRELOADED_MODULES = ("pyarrow", "narwhals", "narwhals.stable.v1", "narwhals.stable.v2", "altair", "matplotlib",
                     "mapclassify")


def preload_modules() -> None:
    """Import :data:`PRELOADED_MODULES` in this thread (about 1.5 s, before the server accepts visitors)."""
    for name in PRELOADED_MODULES:
        importlib.import_module(name)


#: Set to 1 when a compressing proxy is in front (see the module docstring).
BEHIND_PROXY = os.environ.get("TDI_GEO_BEHIND_PROXY", "") == "1"



def check_editor_secret() -> str | None:
    """The French reason why the configured editor secret is refused (blank, too short), logged; or None.

    The server still serves the map: only publication from the app stays off
    (the import panel says why), as with no secret at all.
    """
    from app_panels.import_panel import configured_editor_secret
    from tdi_geo.importers._editor import secret_problem

    problem = secret_problem(configured_editor_secret())
    if problem:
        logging.getLogger("tdi_geo.editor").error(problem)
    return problem


@contextlib.asynccontextmanager
async def lifespan(_app):
    """When the server starts (not when this module is imported, e.g. by tests): check the editor secret,
    then warm up in the background."""
    check_editor_secret()
    preload_modules()
    if os.environ.get("TDI_GEO_WARM_UP", "1") != "0":
        threading.Thread(target=warm_up, name="tdi-warm-up", daemon=True).start()
    yield


app = st.App(
    str(APP_SCRIPT),
    lifespan=lifespan,
    middleware=[*([] if BEHIND_PROXY else [Middleware(StaticGzipCache)]), Middleware(PreloadHints),
                Middleware(FrenchPage)],
    routes=[*download_routes(APP_SCRIPT.parent / "data" / "imports"), *ogc_routes],
)
