"""Streamlit's page served in French (app_panels/page_shell.py), without a browser."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import streamlit as st

from app_panels import page_shell

STATIC = Path(st.__file__).parent / "static"
INDEX = (STATIC / "index.html").read_bytes()


async def _streamlit(scope, receive, send):
    """Answers like Streamlit: its own index page, with its validators."""
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/html"), (b"content-length", str(len(INDEX)).encode()),
                            (b"etag", b'"en"')]})
    await send({"type": "http.response.body", "body": INDEX})


def _get(app) -> tuple[dict, bytes]:
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    asyncio.run(app({"type": "http", "method": "GET", "path": "/", "headers": []}, None, send))
    return dict(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


def test_streamlit_page_is_served_in_french_with_a_french_title():
    assert b'<html lang="en">' in INDEX, "this Streamlit still ships an English page (else the rewrite is moot)"
    headers, body = _get(page_shell.FrenchPage(_streamlit))
    assert b'<html lang="fr">' in body and b'lang="en"' not in body
    assert f"<title>{page_shell.PAGE_TITLE}</title>".encode() in body
    assert b'id="tdi-fr-strings"' in body and b'id="tdi-page-css"' in body
    assert int(headers[b"content-length"]) == len(body) and b"etag" not in headers


def test_every_translated_string_is_one_this_streamlit_writes():
    """A Streamlit upgrade that renames a string would leave it in English: the table must follow."""
    bundle = "".join(p.read_text(encoding="utf-8", errors="replace") for p in (STATIC / "static" / "js").glob("*.js"))
    absent = [text for text in page_shell.STRINGS if text not in bundle]
    assert absent == []


def test_the_strings_cannot_close_their_script_element():
    block = page_shell.head_html().decode()
    json_part = re.search(r'id="tdi-fr-strings">(.*?)</script>', block, re.S).group(1)
    assert "<" not in json_part
