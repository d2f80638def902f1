"""The national map: how a view is coloured, moved, encoded and drawn.

One concern per module, in layers (each imports only those above it):

- :mod:`~tdi_geo.mapping.fmt` — French numbers, amounts, indicator values, dates;
- :mod:`~tdi_geo.mapping.style` — classification, palettes, legend entries;
- :mod:`~tdi_geo.mapping.insets` — the « DROM rapprochés » boxes, click lookup;
- :mod:`~tdi_geo.mapping.paths` — the compact shape encoding for the browser;
- :mod:`~tdi_geo.mapping.leaflet` — the map as JSON data, and the fixed
  JavaScript and CSS that draw it (``tdi_map.js``, ``tdi_map.css``).

The public names are re-exported here: ``from tdi_geo import mapping`` then
``mapping.color_view(...)``. Nothing here imports folium or Streamlit.
"""

from tdi_geo.mapping.fmt import NO_DATA_LABEL, format_date, format_euros, format_number, format_value
from tdi_geo.mapping.insets import (
    DROM_INSETS,
    NATIONAL_BOUNDS,
    inset_frames,
    territory_at,
    to_display_coordinates,
)
from tdi_geo.mapping.leaflet import (
    CONTEXT_DECIMALS,
    DISPLAY_DECIMALS,
    FLAG_FRAGILE,
    FLAG_ILLUSTRATIVE,
    FLAG_PARTIAL,
    SELECTED_STYLE,
    TOOLTIP_TEXTS,
    base_spec,
    context_paths,
    display_features,
    encoded_shapes,
    layer_spec,
    legend_spec,
    map_css,
    map_js,
    script_json,
    standalone_html,
    tooltip_parts,
)
from tdi_geo.mapping.paths import decode_path, encode_paths
from tdi_geo.mapping.style import (
    DIFF_STYLES,
    ILLUSTRATIVE_LABEL,
    INFERRED_LABEL,
    NO_DATA_COLOR,
    SCHEMES,
    SEQUENTIAL,
    STATUS_COLORS,
    classify,
    color_diff,
    color_view,
    feature_style,
)

__all__ = [
    "CONTEXT_DECIMALS", "DIFF_STYLES", "DISPLAY_DECIMALS", "DROM_INSETS", "FLAG_FRAGILE", "FLAG_ILLUSTRATIVE",
    "FLAG_PARTIAL", "ILLUSTRATIVE_LABEL", "INFERRED_LABEL", "SELECTED_STYLE", "NATIONAL_BOUNDS", "NO_DATA_COLOR", "NO_DATA_LABEL", "SCHEMES",
    "SEQUENTIAL", "STATUS_COLORS", "TOOLTIP_TEXTS", "base_spec", "classify", "color_diff", "color_view",
    "context_paths", "decode_path", "display_features", "encode_paths", "encoded_shapes", "feature_style", "format_date",
    "format_euros", "format_number", "format_value", "inset_frames", "layer_spec", "legend_spec", "map_css",
    "map_js", "script_json", "standalone_html", "territory_at", "to_display_coordinates", "tooltip_parts",
]
