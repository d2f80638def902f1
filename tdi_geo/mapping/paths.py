"""Compact encoding of shapes for the browser (encoded polylines), and its decoder.

The map's shapes travel inside the component's arguments (websocket). GeoJSON
spends ~18 characters per vertex; here each path is an encoded polyline
string (quantised, delta-encoded, zigzag, 5-bit chunks with a continuation
bit, as Google's polyline algorithm, applied to lng/lat), about 5 characters
per vertex. The 64 symbols are the URL-safe base64 alphabet, so the strings
never contain characters that JSON or HTML would alter. The browser decodes
them with a few lines of JS (``decode`` in ``tdi_map.js``).
"""

from __future__ import annotations

import numpy as np
import shapely

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_ALPHABET_CODES = np.frombuffer(_ALPHABET.encode("ascii"), dtype=np.uint8)
_SYMBOL = {ch: i for i, ch in enumerate(_ALPHABET)}


def encode_paths(geoms, decimals: int) -> list[list[list[str]]]:
    """Encode (multi)polygons or (multi)lines as nested lists of polyline strings.

    Parameters
    ----------
    geoms : array-like of shapely geometries
    decimals : int
        Coordinates are rounded to this many decimals (1e-``decimals`` degree).

    Returns
    -------
    list
        One item per geometry: a list of parts (polygons or lines), each a
        list of paths (rings; the closing vertex is dropped, Leaflet closes
        rings). Empty geometries give ``[]``.
    """
    arr = np.asarray(geoms, dtype=object)
    parts, part_geom = shapely.get_parts(arr, return_index=True)
    is_polygon = shapely.get_type_id(parts) == 3
    rings_poly, ring_part_poly = shapely.get_rings(parts[is_polygon], return_index=True)
    poly_part_ids = np.flatnonzero(is_polygon)[ring_part_poly]
    line_part_ids = np.flatnonzero(~is_polygon)
    paths = np.concatenate([rings_poly, parts[~is_polygon]])
    path_part = np.concatenate([poly_part_ids, line_part_ids])
    order = np.argsort(path_part, kind="stable")
    paths, path_part = paths[order], path_part[order]
    closed = np.concatenate([np.ones(len(rings_poly), bool), np.zeros(len(line_part_ids), bool)])[order]

    coords, coord_path = shapely.get_coordinates(paths, return_index=True)
    if closed.any():  # drop each ring's closing vertex
        last = np.r_[coord_path[1:] != coord_path[:-1], True]
        keep = ~(last & closed[coord_path])
        coords, coord_path = coords[keep], coord_path[keep]
    if len(coords) == 0:  # an empty view: nothing to encode (np.r_ below needs one vertex)
        return [[] for _ in range(len(arr))]
    quantised = np.round(coords * 10**decimals).astype(np.int64)
    first = np.r_[True, coord_path[1:] != coord_path[:-1]]
    delta = quantised.copy()
    delta[1:] -= quantised[:-1]
    delta[first] = quantised[first]
    values = delta.reshape(-1)
    zigzag = np.where(values < 0, ~(values << 1), values << 1)
    n_chunks = 1 + sum(((zigzag >> (5 * k)) > 0).astype(int) for k in range(1, 7))
    ks = np.arange(7)
    chunks = (zigzag[:, None] >> (5 * ks)) & 31
    more = ks[None, :] < (n_chunks[:, None] - 1)
    symbols = chunks | np.where(more, 0x20, 0)
    text = _ALPHABET_CODES[symbols[ks[None, :] < n_chunks[:, None]]].tobytes().decode("ascii")
    per_vertex = n_chunks.reshape(-1, 2).sum(axis=1)
    per_path = np.bincount(coord_path, weights=per_vertex, minlength=len(paths)).astype(int)
    ends = np.cumsum(per_path)
    starts = ends - per_path

    out: list[list[list[str]]] = [[] for _ in range(len(arr))]
    last_part = -1
    for path_index, part_index in enumerate(path_part):
        if part_index != last_part:
            out[part_geom[part_index]].append([])
            last_part = part_index
        out[part_geom[part_index]][-1].append(text[starts[path_index]:ends[path_index]])
    return out


def decode_path(text: str, decimals: int) -> list[tuple[float, float]]:
    """Inverse of one :func:`encode_paths` string: ``[(lng, lat), ...]``."""
    values, index = [], 0
    while index < len(text):
        result, shift = 0, 0
        while True:
            byte = _SYMBOL[text[index]]
            index += 1
            result |= (byte & 31) << shift
            shift += 5
            if byte < 32:
                break
        values.append(~(result >> 1) if result & 1 else result >> 1)
    coords = np.cumsum(np.array(values, dtype=np.int64).reshape(-1, 2), axis=0) / 10**decimals
    return [tuple(c) for c in coords]

