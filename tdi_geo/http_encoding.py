"""Content negotiation of ``Accept-Encoding`` (RFC 9110 §12.5.3), for the HTTP routes.

The same reading as ``serve.py``'s static-file middleware: a coding is
acceptable when its quality is above 0; ``*`` stands for any coding not
named; a coding not named (and no ``*``) is not acceptable, apart from
``identity``. Kept in the library so every route and ``serve.py`` read the
header one way.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable

#: gzip level of the routes' text files: most of the gain of level 9 for a third of the time.
COMPRESS_LEVEL = 6


def coding_weights(value: str) -> dict[str, float]:
    """The ``Accept-Encoding`` value as coding → quality (lower-case codings; a bad ``q`` counts as 0).

    >>> coding_weights("br, gzip;q=0.8, *;q=0")
    {'br': 1.0, 'gzip': 0.8, '*': 0.0}
    """
    weights: dict[str, float] = {}
    for item in value.split(","):
        coding, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, number = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(number)
                except ValueError:  # "q=abc" is not a preference we can honour
                    quality = 0.0
        if coding.strip():
            weights[coding.strip().lower()] = quality
    return weights


def accepts_gzip(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether raw ASGI headers allow a gzip body (every ``Accept-Encoding`` header read).

    >>> accepts_gzip([(b"accept-encoding", b"gzip;q=0, *")]), accepts_gzip([(b"accept-encoding", b"*")])
    (False, True)
    >>> accepts_gzip([]), accepts_gzip([(b"Accept-Encoding", b"deflate, GZIP;q=0.5")])
    (False, True)
    """
    value = b",".join(v for k, v in headers if k.lower() == b"accept-encoding").decode("latin-1")
    weights = coding_weights(value)
    return weights.get("gzip", weights.get("*", 0.0)) > 0


def gzip_bytes(body: bytes) -> bytes:
    """``body`` gzipped with no timestamp, so one file always gives the same bytes (and ETag)."""
    return gzip.compress(body, compresslevel=COMPRESS_LEVEL, mtime=0)
