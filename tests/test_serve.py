"""serve.py's preload hints, on Streamlit's real page with a stand-in app behind them."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

import pytest
import streamlit as st

import serve

INDEX = (Path(st.__file__).parent / "static" / "index.html").read_bytes()


async def _page(app, path: str = "/") -> tuple[dict, bytes]:
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    await app({"type": "http", "method": "GET", "path": path, "headers": []}, None, send)
    return dict(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


async def _streamlit(scope, receive, send):
    """Answers like Streamlit: its index page, or Leaflet's file."""
    html = not scope["path"].startswith(serve.LEAFLET_PATH)
    body = INDEX if html else b"/* leaflet */"
    kind = b"text/html; charset=utf-8" if html else b"application/javascript"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()), (b"etag", b'"x"')]})
    await send({"type": "http.response.body", "body": body})


def test_the_page_hints_the_map_module_and_leaflet_once_leaflet_is_served():
    hints = serve.PreloadHints(_streamlit)
    map_module = serve.lazy_chunks(Path(st.__file__).parent / "static" / "static" / "js", INDEX.decode())
    assert any(name.startswith("BidiComponent.") for name in map_module), "the map's module is found in this Streamlit"

    headers, body = asyncio.run(_page(hints))
    assert all(f'href="./static/js/{name}"'.encode() in body for name in map_module)
    assert b"leaflet.js" not in body, "no hint before Leaflet's route exists (the 404 would stick)"
    assert int(headers[b"content-length"]) == len(body) and b"etag" not in headers

    asyncio.run(_page(hints, serve.LEAFLET_PATH + "leaflet.js"))
    _, body = asyncio.run(_page(hints))
    assert f'href=".{serve.LEAFLET_PATH}leaflet.js"'.encode() in body


def test_other_responses_pass_through_unchanged():
    _, body = asyncio.run(_page(serve.PreloadHints(_streamlit), serve.LEAFLET_PATH + "leaflet.js"))
    assert body == b"/* leaflet */"


async def _anything(scope, receive, send):
    """Answers 200 with a compressible body for any path, like Streamlit under /static/."""
    body = b"console.log('x');\n" * 200
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/javascript"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _get(app, path: str, accept: bytes = b"gzip, deflate, br") -> tuple[dict, bytes]:
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "headers": [(b"accept-encoding", accept)]}
    asyncio.run(app(scope, None, send))
    return dict(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


def test_made_up_static_paths_never_grow_the_gzip_cache(tmp_path):
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "index.abc.js").write_text("x")
    cache = serve.StaticGzipCache(_anything, prefixes={"/static/": tmp_path})
    headers, body = _get(cache, "/static/js/index.abc.js")
    assert headers[b"content-encoding"] == b"gzip" and gzip.decompress(body).startswith(b"console.log")
    assert len(cache.cache) == 1
    for i in range(5000):
        headers, _ = _get(cache, f"/static/js/made-up-{i}.js")
        assert b"content-encoding" not in headers
    assert len(cache.cache) == 1, "5,000 unknown paths, no new entry"


def test_real_installed_files_are_the_only_ones_known():
    known = serve.known_files(serve._default_prefixes())
    assert serve.LEAFLET_PATH + "leaflet.js" in known
    assert any(p.startswith("/static/js/index.") for p in known)
    assert len(known) < 2000, "a bounded list"


@pytest.mark.parametrize("accept", [b"gzip;q=0", b"identity", b"br", b"*;q=0", b""])
def test_a_client_that_refuses_gzip_gets_plain_bytes(tmp_path, accept):
    (tmp_path / "a.js").write_text("x")
    cache = serve.StaticGzipCache(_anything, prefixes={"/static/": tmp_path})
    headers, body = _get(cache, "/static/a.js", accept)
    assert b"content-encoding" not in headers and body.startswith(b"console.log")
    assert cache.cache == {}


@pytest.mark.slow
@pytest.mark.browser
def test_ten_fresh_starts_each_draw_the_map_on_an_immediate_first_visit(browser, tmp_path_factory, tmp_path):
    """The first run raced the warm-up thread's imports: one start in 22 ended with _DeadlockError."""
    from conftest import localhost_only_page, serve_app

    for start in range(10):
        log = tmp_path / f"serveur-{start}.log"
        with serve_app(tmp_path_factory, log=log) as url:
            page = localhost_only_page(browser)
            try:
                page.goto(url)  # as soon as the health check answers: the warm-up is still running
                page.locator(".tdi-map path.tdi-territory").first.wait_for(timeout=90_000)
                assert page.locator(".tdi-map path.tdi-territory").count() > 100, start
                assert page.locator("[data-testid=stException]").count() == 0, start
            finally:
                page.context.close()
        output = log.read_text()
        assert "DeadlockError" not in output and "Traceback" not in output, (start, output[-2000:])

