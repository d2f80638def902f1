"""Where Leaflet is: its files come from an installed package, never from a CDN.

The map drawn by :mod:`tdi_geo.mapping` needs Leaflet itself and nothing else
(no jQuery, Bootstrap or icon fonts). This module locates Leaflet's ``dist``
files in the installed ``django-js-lib-leaflet`` wheel; the app serves that
directory. Nothing is copied into the repository; the library does not know
how the app serves the files.
"""

from __future__ import annotations

import functools

import importlib.util
from pathlib import Path

#: The distribution that ships Leaflet's dist files (pinned in requirements.txt).
LEAFLET_PACKAGE = "js_lib_leaflet"
#: Files of Leaflet's dist directory that the map loads.
LEAFLET_JS = "leaflet.js"
LEAFLET_CSS = "leaflet.css"


@functools.lru_cache(maxsize=1)
def leaflet_dir() -> Path:
    """Directory holding ``leaflet.js``, ``leaflet.css`` and ``images/``.

    Returns
    -------
    Path
        Inside the installed ``js_lib_leaflet`` package.

    Raises
    ------
    FileNotFoundError
        If the package is not installed or does not contain Leaflet.
    """
    spec = importlib.util.find_spec(LEAFLET_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "Le paquet django-js-lib-leaflet n'est pas installé : Leaflet est introuvable hors ligne."
        )
    root = Path(next(iter(spec.submodule_search_locations)))
    dist = root / "static" / LEAFLET_PACKAGE
    if not (dist / LEAFLET_JS).is_file() or not (dist / LEAFLET_CSS).is_file():
        raise FileNotFoundError(f"Leaflet introuvable dans {dist}.")
    return dist


def leaflet_version() -> str:
    """The Leaflet version read from the banner of the installed ``leaflet.js``."""
    head = (leaflet_dir() / LEAFLET_JS).read_text(encoding="utf-8")[:300]
    marker = "Leaflet "
    start = head.find(marker)
    if start < 0:
        return "inconnue"
    return head[start + len(marker):].split(",")[0].split()[0]
