"""Values quoted in French messages, cut to a readable length.

A message quotes what it refuses (« … »): a cell, a parameter, an
identifier. Whatever its length in the file or the request, a quoted value
is cut to about 80 characters, so that no message is a page of text and no
answer echoes back a payload. One rule for the importers and the HTTP routes.
"""

from __future__ import annotations

import re

#: Longest value quoted in a message (« … » ends a cut one): a message stays readable whatever a cell holds.
QUOTE_CHARS = 80
#: Longest message, a last bound when a quoted value itself contains « ».
MESSAGE_CHARS = 4000
_QUOTED = re.compile(r"« (.*?) »", re.DOTALL)


def shorten(value, limit: int = QUOTE_CHARS) -> str:
    """``value`` as text, cut to ``limit`` characters with « … » when longer.

    >>> shorten("x" * 100)[-3:], len(shorten("x" * 100))
    ('xx…', 81)
    """
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


def shorten_quotes(message: str) -> str:
    """``message`` with every « quoted » value cut to :data:`QUOTE_CHARS` characters, and at most
    :data:`MESSAGE_CHARS` characters in all."""
    return shorten(_QUOTED.sub(lambda m: f"« {shorten(m.group(1))} »", message), MESSAGE_CHARS)


#: What the HTTP routes (/api, /ogc) answer when the served dataset does not load: the reason names server
#: paths, so it goes to the server's log only.
DATA_UNAVAILABLE = ("Les données du programme ne peuvent pas être chargées pour le moment (erreur du serveur, "
                    "consignée dans son journal). Réessayez plus tard ou prévenez l'administrateur du site.")
