"""Offline assets for the folium map: Leaflet from an installed package, no CDN.

folium's ``Map`` declares Leaflet, jQuery, Bootstrap, Font Awesome and
awesome-markers as CDN links, and whatever renders a folium map (its own HTML
page, streamlit-folium, or the app's in-page map in ``app_panels/map_view.py``)
loads them: with no network the map stays blank.

The map drawn by :mod:`tdi_geo.mapping` only needs Leaflet itself (its legend
and labels are plain HTML). This module locates Leaflet's ``dist`` files in the
installed ``django-js-lib-leaflet`` wheel and rewrites a map's asset lists to
point at a local URL where the app serves that directory. Nothing is copied
into the repository; the library does not know how the app serves the files.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

#: The distribution that ships Leaflet's dist files (pinned in requirements.txt).
LEAFLET_PACKAGE = "js_lib_leaflet"
#: Files of Leaflet's dist directory that the map loads.
LEAFLET_JS = "leaflet.js"
LEAFLET_CSS = "leaflet.css"


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


def offline_assets(base_url: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The ``default_js`` and ``default_css`` lists for a map served offline.

    Parameters
    ----------
    base_url : str
        URL (absolute or relative to the page that runs the map) under which
        :func:`leaflet_dir` is served, e.g. ``"../tdi_geo_leaflet"``.

    Returns
    -------
    (js, css) : tuple of lists of (name, url)
    """
    if not isinstance(base_url, str) or not base_url:
        raise TypeError(f"base_url must be a non-empty str, got {base_url!r}")
    base = base_url.rstrip("/")
    return [("leaflet", f"{base}/{LEAFLET_JS}")], [("leaflet_css", f"{base}/{LEAFLET_CSS}")]


def make_offline(fmap, base_url: str):
    """Point a folium map's assets at the local Leaflet and drop the others.

    Parameters
    ----------
    fmap : folium.Map
    base_url : str
        See :func:`offline_assets`.

    Returns
    -------
    folium.Map
        The same map, modified in place.

    Raises
    ------
    ValueError
        If another element of the map still needs a remote script or style
        (a plugin, a branca colormap): such a map cannot work offline.
    """
    js, css = offline_assets(base_url)
    # Instance attributes shadow folium's class-level CDN lists for this map only.
    fmap.default_js = js
    fmap.default_css = css
    remote = remote_assets(fmap)
    if remote:
        raise ValueError(f"Ces ressources de la carte demandent le réseau : {', '.join(remote)}")
    return fmap


def remote_assets(element) -> list[str]:
    """Every non-local script or stylesheet URL declared in an element tree.

    These are the ``default_js``/``default_css`` of each element, plus d3 for
    any branca colormap (what a folium renderer would fetch).
    """
    import branca.colormap

    found: list[str] = []

    def walk(elem):
        if isinstance(elem, branca.colormap.ColorMap):
            found.append("d3 (branca colormap)")
        for _, url in list(getattr(elem, "default_js", [])) + list(getattr(elem, "default_css", [])):
            if _is_remote(url):
                found.append(url)
        for child in getattr(elem, "_children", {}).values():
            walk(child)

    walk(element)
    return list(dict.fromkeys(found))


def _is_remote(url: str) -> bool:
    return url.startswith(("http://", "https://", "//"))
