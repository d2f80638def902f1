"""Text from data or from the URL, shown as text: never Markdown, never HTML.

``st.warning``, ``st.caption`` and ``st.markdown`` render Markdown, and
escaping Markdown is not enough: Streamlit still turns ``https://…``,
``www.…`` and e-mail addresses into links, and ``:material/…:`` into icons.
So any message that quotes a name from a file, a URL parameter or a cell is
drawn by :func:`notice` or :func:`caption`: HTML-escaped text in an element
that interprets nothing. Fixed French sentences may still use Streamlit's
own elements.
"""

from __future__ import annotations

import html
import re

import streamlit as st

#: Background and text colours of each kind of notice (close to Streamlit's alerts).
_NOTICE_COLOURS = {
    "info": ("#e8f1fb", "#1d4a7a"),
    "success": ("#e6f4ea", "#1e5631"),
    "warning": ("#fff8e1", "#6b4e00"),
    "error": ("#fdecec", "#7a1d1d"),
}
_BOX = ("padding:.7rem 1rem;border-radius:.5rem;margin:0 0 .5rem 0;line-height:1.5;"
        "white-space:pre-wrap;overflow-wrap:anywhere;font-size:1rem")
_AUTOLINK = re.compile(r"://|www\.|@", re.IGNORECASE)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")


def notice_html(text, kind: str = "warning") -> str:
    """The HTML of a notice box holding ``text`` as plain text.

    Examples
    --------
    >>> notice_html("<b>https://example.org</b>", "info")  # doctest: +ELLIPSIS
    '<div class="tdi-notice tdi-notice-info" role="status" ...>&lt;b&gt;https://example.org&lt;/b&gt;</div>'
    """
    background, colour = _NOTICE_COLOURS[kind]
    role = "alert" if kind == "error" else "status"
    return (f'<div class="tdi-notice tdi-notice-{kind}" role="{role}" '
            f'style="{_BOX};background:{background};color:{colour}">{html.escape(str(text))}</div>')


def notice(text, kind: str = "warning", where=None) -> None:
    """Show ``text`` in a coloured box (``info``, ``success``, ``warning``, ``error``), as plain text."""
    (where or st).html(notice_html(text, kind))


def caption(text, where=None, bold_prefix: str = "") -> None:
    """Show ``text`` in small grey type, as plain text (``bold_prefix`` is a fixed label in bold)."""
    prefix = f"<b>{html.escape(bold_prefix)}</b> " if bold_prefix else ""
    (where or st).html(
        f'<div class="tdi-caption" style="font-size:.875rem;color:rgba(49,51,63,.7);'
        f'overflow-wrap:anywhere;margin:0 0 .5rem 0">{prefix}{html.escape(str(text))}</div>'
    )


def _break_link(match: re.Match) -> str:
    """``://`` → ``:⁠//``, ``www.`` → ``www⁠.``, ``@`` → ``⁠@`` (with U+2060)."""
    found = match.group()
    if found == "@":
        return "\u2060@"
    return found[:-2] + "\u2060" + found[-2:] if found == "://" else found[:-1] + "\u2060" + found[-1:]


def md_plain(text) -> str:
    """``text`` for the few places that only take Markdown (a widget's ``help``).

    Every Markdown character is backslash-escaped, and a word joiner (U+2060,
    invisible) breaks what Streamlit would turn into a link: ``://``,
    ``www.`` and ``@``.

    Examples
    --------
    >>> md_plain("**x** www.example.org") == "\\\\*\\\\*x\\\\*\\\\* www\\u2060\\\\.example\\\\.org"
    True
    """
    broken = _AUTOLINK.sub(_break_link, str(text))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", broken)


def heading(text, where=None) -> None:
    """The page's one-line heading (``<h1>``), as plain text: it quotes names from the data."""
    (where or st).html(
        '<h1 class="tdi-title" style="font-size:1.15rem;line-height:1.35;font-weight:600;margin:0;'
        f'padding:0;color:#31333f;overflow-wrap:anywhere">{html.escape(str(text))}</h1>'
    )
