"""Serve the app with its static files compressed: ``streamlit run serve.py``.

Streamlit (1.67) deliberately serves its frontend bundle (~3 MB of JavaScript)
uncompressed and leaves compression to a reverse proxy. tdi-geo is often run
without one (a laptop, an intranet VM), and the page budget is 1.5 MB, so this
entry point wraps the app in ``st.App`` with a middleware that gzips each
static file once and keeps the result in memory: the files are content-hashed
and immutable, so the cache never goes stale and the CPU cost is paid once per
file per process.

``app.py`` stays the app itself (and what ``AppTest`` loads).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

APP_SCRIPT = Path(__file__).resolve().parent / "app.py"
#: Below this size, compressing is not worth a header.
MIN_SIZE = 1024
COMPRESS_LEVEL = 6


class StaticGzipCache:
    """ASGI middleware: gzip ``GET /static/*`` responses once, then serve from memory."""

    def __init__(self, app, prefix: str = "/static/"):
        self.app = app
        self.prefix = prefix
        self.cache: dict[str, tuple[int, list, bytes]] = {}

    async def __call__(self, scope, receive, send):
        if (
            scope["type"] != "http"
            or scope.get("method") != "GET"
            or not scope.get("path", "").startswith(self.prefix)
            or b"gzip" not in dict(scope.get("headers", [])).get(b"accept-encoding", b"")
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


app = st.App(str(APP_SCRIPT), middleware=[Middleware(StaticGzipCache)])
