"""« Télécharger ▾ »: every download of the current view in one menu.

The menu is lazy (``on_change="rerun"``): its buttons exist only while it is
open, so a closed menu costs the page neither elements nor the download
button's frontend code. Each file is built when its button is clicked
(callable ``data``), at ``fine`` resolution, as the HTTP routes build it.
"""

from __future__ import annotations

import streamlit as st

from tdi_geo import export, export_formats, print_map, view_params
from tdi_geo.summaries import table_csv_bytes, table_xlsx_bytes

MENU_KEY = "downloads_menu"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _view(prog, state: dict):
    """The current view at ``fine`` resolution, built when a download is clicked."""
    return view_params.state_view(prog, state, resolution="fine")


def render(prog, state: dict, shown, table) -> None:
    """Draw the menu and, when it is open, one button per format.

    Parameters
    ----------
    prog : Programme
    state : dict
        The page state (its view is what is downloaded).
    shown : GeoDataFrame
        What the map draws (the standalone map and the pictures draw it).
    table : DataFrame
        :func:`tdi_geo.summaries.table_frame` of ``shown`` (the table's files).
    """
    menu = st.popover("Télécharger ▾", key=MENU_KEY, on_change="rerun", width="stretch",
                      help="Les fichiers de la vue affichée : mêmes filtres, même version.")
    if not menu.open:
        return
    stem = view_params.file_stem(state)  # the HTTP routes name their files the same way
    with menu:
        st.download_button(
            "Télécharger GeoJSON", data=lambda: export.geojson_bytes(_view(prog, state)), file_name=f"{stem}.geojson",
            mime="application/geo+json", on_click="ignore", key="dl_geojson", width="stretch",
        )
        st.download_button(
            "Télécharger CSV", data=lambda: export.csv_bytes(_view(prog, state)), file_name=f"{stem}.csv",
            mime="text/csv", on_click="ignore", key="dl_csv", width="stretch",
        )
        for label, ext, mime, writer in (
            ("GeoPackage", "gpkg", "application/geopackage+sqlite3", export_formats.gpkg_bytes),
            ("Excel", "xlsx", _XLSX, export_formats.xlsx_bytes),
            ("Shapefile (zip)", "zip", "application/zip", export_formats.shapefile_zip_bytes),
        ):
            st.download_button(
                f"Télécharger {label}", data=lambda writer=writer: writer(_view(prog, state)),
                file_name=f"{stem}.{ext}", mime=mime, on_click="ignore", key=f"dl_{ext}", width="stretch",
            )
        st.download_button(
            "Télécharger la carte (HTML)", data=lambda: export.html_bytes(shown, state["indicator"], state["scheme"]),
            file_name=f"{stem}.html", mime="text/html", on_click="ignore", key="dl_html", width="stretch",
            help="Une page autonome (Leaflet inclus) qui s'ouvre sans réseau et s'intègre dans un site par une iframe.",
        )
        for ext, mime in (("png", "image/png"), ("pdf", "application/pdf")):
            st.download_button(
                f"Télécharger l'image ({ext.upper()})",
                data=lambda ext=ext: print_map.WRITERS[ext](
                    shown, state["indicator"], state["scheme"], source=print_map.version_source(prog, state["date"])
                ),
                file_name=f"{stem}.{ext}", mime=mime, on_click="ignore", key=f"dl_{ext}", width="stretch",
                help="La carte de la vue sur une page A4 paysage : titre, légende, DROM, échelle et sources.",
            )
        if not shown.empty:
            st.download_button(
                "Télécharger le tableau (CSV)", data=lambda: table_csv_bytes(table),
                file_name=f"{stem}-tableau.csv", mime="text/csv", on_click="ignore", key="dl_table_csv",
                width="stretch",
            )
            st.download_button(
                "Télécharger le tableau (Excel)", data=lambda: table_xlsx_bytes(table),
                file_name=f"{stem}-tableau.xlsx", mime=_XLSX, on_click="ignore", key="dl_table_xlsx",
                width="stretch",
            )
