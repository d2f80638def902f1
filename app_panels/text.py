"""Text from data or from the URL, made safe for Streamlit's Markdown.

``st.warning``, ``st.caption`` and ``st.markdown`` render Markdown: a
territory name or a URL parameter could otherwise become a link, or an image
that the browser would fetch from the internet.
"""

from __future__ import annotations

import re

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md_escape(text) -> str:
    """Backslash-escape every Markdown special character of ``text``."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))
