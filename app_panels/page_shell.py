"""Streamlit's own page in French: ``lang="fr"``, a French title, Streamlit's English strings translated.

Streamlit (1.67) has no locale setting: its ``index.html`` says
``<html lang="en">`` (screen readers then read our French with an English
voice) and its frontend writes a few dozen English strings of its own
(« Upload », « 50MB per file », « Show/hide columns », « Fullscreen »,
« Collapse sidebar », « Link to heading »…).

The installed files are never edited. :class:`FrenchPage` is an ASGI
middleware (``serve.py`` adds it, so ``make run``, the replicas behind nginx
and the browser tests all get it) that rewrites Streamlit's page as it is
served:

- ``<html lang="en">`` becomes ``<html lang="fr">``;
- ``<title>Streamlit</title>`` becomes the app's French title (Streamlit sets
  its own again from ``st.set_page_config`` once connected);
- :data:`STRINGS` and :data:`PATTERNS` go into the page as JSON, read by the
  fixed code of ``page_shell.js``, which translates Streamlit's text nodes
  and ``aria-label`` / ``title`` / ``placeholder`` attributes as React writes
  them (a MutationObserver; it changes a node's text, never the node, so
  React keeps working). Only whole texts found in the table are replaced,
  and never inside our own elements (map, HTML blocks, Markdown), so no text
  from the data is ever touched;
- ``page_shell.css`` (the page's layout: map first, the « Filtres » button,
  compact widths) comes with them, so the first paint already has it;
- the preload of Streamlit's Source Sans font is dropped: the theme uses the
  system's sans-serif (``.streamlit/config.toml``), so those 170 kB would be
  fetched for nothing. The icons Streamlit draws with its Material Symbols
  font (374 kB) on the first screen are replaced by text glyphs in
  ``page_shell.css``: the font is fetched only when a later part needs it.

Nothing from a request or from the data reaches this HTML: the inserted
block is built once, from the constants below and the two files beside this
module.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent

#: The title of the page before Streamlit sets its own (``st.set_page_config``).
PAGE_TITLE = "Territoires d'industrie — carte nationale"

#: Streamlit's English strings (whole texts, as the frontend writes them) → French.
STRINGS: dict[str, str] = {
    # page chrome
    "Collapse sidebar": "Masquer les filtres",
    "Expand sidebar": "Afficher les filtres",
    "Sidebar": "Filtres",
    "Main menu": "Menu principal",
    "Skip to main content": "Aller au contenu principal",
    "Running...": "Calcul en cours…",
    "Stop": "Arrêter",
    "Rerun": "Relancer",
    "Always rerun": "Toujours relancer",
    "Close": "Fermer",
    "Clear cache": "Vider le cache",
    "Clear caches": "Vider les caches",
    "About": "À propos",
    "Print": "Imprimer",
    "Settings": "Paramètres",
    "Theme": "Thème",
    "Light": "Clair",
    "Dark": "Sombre",
    "System": "Système",
    "Notifications": "Notifications",
    "Scroll tabs left": "Onglets précédents",
    "Scroll tabs right": "Onglets suivants",
    "Link to heading": "Lien vers ce titre",
    "Copy to clipboard": "Copier",
    "Copied!": "Copié !",
    "Try again": "Réessayer",
    "Connecting": "Connexion…",
    "Please wait...": "Veuillez patienter…",
    # widgets
    "Open": "Ouvrir",
    "No results": "Aucun résultat",
    "Clear value": "Effacer",
    "Clear all": "Tout effacer",
    "Select all": "Tout sélectionner",
    "Select...": "Choisir…",
    "Choose an option": "Choisir une option",
    "Choose options": "Choisir des options",
    "Selectbox options": "Options de la liste",
    "Multiselect options": "Options de la liste",
    "Selected values": "Valeurs choisies",
    "Show password": "Afficher le mot de passe",
    "Hide password": "Masquer le mot de passe",
    "Download": "Télécharger",
    # file uploader
    "Upload": "Choisir des fichiers",
    "Add files": "Ajouter des fichiers",
    "Drag and drop a file here": "Glissez-déposez un fichier ici",
    "Drag and drop files here": "Glissez-déposez des fichiers ici",
    "Delete": "Supprimer",
    "file upload": "Choisir des fichiers",
    # table (st.dataframe) toolbar and menus
    "Show/hide columns": "Afficher ou masquer des colonnes",
    "Download as CSV": "Télécharger en CSV",
    "Search": "Rechercher",
    "Close Search": "Fermer la recherche",
    "Next Result": "Résultat suivant",
    "Previous Result": "Résultat précédent",
    "Fullscreen": "Plein écran",
    "Close fullscreen": "Quitter le plein écran",
    "Clear selection": "Effacer la sélection",
    "Sort ascending": "Tri croissant",
    "Sort descending": "Tri décroissant",
    "Hide column": "Masquer la colonne",
    "Pin column": "Épingler la colonne",
    "Unpin column": "Détacher la colonne",
    "Autosize": "Largeur automatique",
    "Format": "Format",
    "Copy column name": "Copier le nom de la colonne",
    "Dataframe column menu": "Menu de la colonne",
    "No data": "Aucune donnée",
    # charts (st.vega_lite_chart)
    "Show data": "Voir les données",
    "Show chart": "Voir le graphique",
    "Download as PNG": "Télécharger en PNG",
}

#: Texts with a number or a list in them: (regular expression on the whole text, replacement).
PATTERNS: list[tuple[str, str]] = [
    (r"^(\d+(?:\.\d+)?)\s*KB per file$", r"$1 ko par fichier"),
    (r"^(\d+(?:\.\d+)?)\s*MB per file$", r"$1 Mo par fichier"),
    (r"^(\d+(?:\.\d+)?)\s*GB per file$", r"$1 Go par fichier"),
    (r"^Limit (\d+(?:\.\d+)?)\s*MB per file(.*)$", r"Limite : $1 Mo par fichier$2"),
    (r"^Help for (.+)$", r"Aide : $1"),
    (r"^Press Enter to (apply|submit form|submit)$", r"Entrée pour valider"),
    (r"^Press (⌘|Ctrl)\+Enter to (apply|submit form|submit)$", r"$1+Entrée pour valider"),
]


def strings_json() -> str:
    """:data:`STRINGS` and :data:`PATTERNS` as the JSON the page's script reads (safe in ``<script>``)."""
    from tdi_geo.mapping.leaflet import script_json

    return script_json({"exact": STRINGS, "rules": PATTERNS})


@lru_cache(maxsize=1)
def head_html() -> bytes:
    """What goes before ``</head>``: the page's CSS, the strings and the translator (built once)."""
    css = (_HERE / "page_shell.css").read_text(encoding="utf-8")
    js = (_HERE / "page_shell.js").read_text(encoding="utf-8").replace("</script", "<\\/script")
    return (
        f'<style id="tdi-page-css">{css}</style>'
        f'<script type="application/json" id="tdi-fr-strings">{strings_json()}</script>'
        f"<script>{js}</script>"
    ).encode("utf-8")


_LANG = re.compile(rb"<html\s+lang=\"en\"\s*>")
_TITLE = re.compile(rb"<title>Streamlit</title>")
#: Streamlit's preload of its body font (unused: the theme's font is the system's).
_FONT_PRELOAD = re.compile(rb'<link\s+rel="preload"\s+href="[^"]*SourceSans[^"]*"[^>]*>', re.S)


def french_page(body: bytes) -> bytes:
    """Streamlit's ``index.html`` in French (``lang``, title, CSS and translator); other HTML unchanged.

    Examples
    --------
    >>> out = french_page(b'<html lang="en"><head><title>Streamlit</title></head><body></body></html>')
    >>> out.startswith(b'<html lang="fr">'), b"tdi-fr-strings" in out
    (True, True)
    >>> french_page(b"<html><head></head></html>")  # not Streamlit's page
    b'<html><head></head></html>'
    """
    if not _LANG.search(body) or b"</head>" not in body:
        return body
    body = _LANG.sub(b'<html lang="fr">', body, count=1)
    body = _TITLE.sub(f"<title>{PAGE_TITLE}</title>".encode("utf-8"), body, count=1)
    body = _FONT_PRELOAD.sub(b"", body)
    return body.replace(b"</head>", head_html() + b"</head>", 1)


class FrenchPage:
    """ASGI middleware: serve Streamlit's page through :func:`french_page`.

    Only a complete, uncompressed ``text/html`` answer is held back and
    rewritten (its length updated, its validators dropped: they described
    the English page); anything else streams through untouched.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, html_rewriting(send, french_page))


def html_rewriting(send, transform):
    """An ASGI ``send`` that holds back a complete, uncompressed 200 ``text/html`` answer and sends
    ``transform(body)`` instead (``None``: the body unchanged); anything else streams through.

    A changed body gets its new length and loses its validators (they described the page before).
    """
    start: dict = {}
    chunks: list[bytes] = []

    async def rewrite(message):
        if message["type"] == "http.response.start":
            headers = message.get("headers", [])
            is_html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
            encoded = any(k.lower() == b"content-encoding" for k, _ in headers)
            if message.get("status") == 200 and is_html and not encoded:
                start.update(message)
                return
        elif message["type"] == "http.response.body" and start:
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body, headers = b"".join(chunks), start["headers"]
            changed = transform(body)
            if changed is not None:
                body = changed
                drop = (b"content-length", b"etag", b"last-modified")
                headers = [(k, v) for k, v in headers if k.lower() not in drop]
                headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await send(message)

    return rewrite
