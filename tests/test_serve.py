"""serve.py's preload hints, on Streamlit's real page with a stand-in app behind them."""

from __future__ import annotations

import asyncio
from pathlib import Path

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
