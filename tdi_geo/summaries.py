"""Tables and per-région summaries of a view (no Streamlit, no drawing).

Two readings of the frame the map draws (:func:`tdi_geo.indicators.build_view`,
or the comparison frame of :func:`tdi_geo.indicators.diff_view`):

- :func:`table_frame`: one row per territory on the map, French column
  names, the values the map shows; :func:`table_csv_bytes` and
  :func:`table_xlsx_bytes` write it (formula-looking text neutralised).
- :func:`region_parts` and :func:`national_reference`: one measure per
  région, split into additive parts (committed / not, documented /
  illustrative) so that a stacked bar adds up to the région's value.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from tdi_geo.export import plain
from tdi_geo.mapping.style import DIFF_STYLES, SEQUENTIAL, STATUS_COLORS
from tdi_geo.programme import ENGAGED_STATUSES, PROVENANCES
from tdi_geo.spreadsheet import neutralise_frame
from tdi_geo.xlsx_writer import xlsx_bytes

#: View column → French header of the table, in display order (those present are shown).
TABLE_COLUMNS: dict[str, str] = {
    "name": "Territoire",
    "region_name": "Région",
    "change_label": "Évolution",
    "status_label": "Statut",
    "projects": "Projets",
    "projects_committed": "Projets avec engagement de l'État",
    "funding_eur": "Financements (€)",
    "funding_per_inhabitant": "Financements par habitant (€/hab.)",
    "population": "Population",
    "n_epci": "Nombre d'EPCI",
    "provenance_label": "Provenance",
    "id": "Identifiant",
}

#: Measures of the régions chart: key → French label, unit, and whether it is a ratio.
REGION_MEASURES: dict[str, dict] = {
    "territories": {"label": "Nombre de territoires", "unit": "territoires", "ratio": False},
    "engaged_share": {"label": "Part des territoires engagés", "unit": "%", "ratio": True},
    "projects": {"label": "Projets (avec / sans engagement de l'État)", "unit": "projets", "ratio": False},
    "funding_eur": {"label": "Financements mobilisés", "unit": "€", "ratio": False},
    "funding_per_inhabitant": {"label": "Financements par habitant", "unit": "€/hab.", "ratio": True},
}

#: Parts of each measure: (part label, numerator column, colour from the map's palettes).
_PARTS: dict[str, list[tuple[str, str, str]]] = {
    "territories": [("Territoires", "territories", SEQUENTIAL[5][3])],
    "engaged_share": [("Territoires engagés", "engaged", STATUS_COLORS["engaged"])],
    "projects": [
        ("Avec engagement de l'État", "projects_committed", STATUS_COLORS["contract_signed"]),
        ("Sans engagement de l'État", "projects_not_committed", STATUS_COLORS["identified"]),
    ],
    "funding_eur": [("Financements", "funding_eur", SEQUENTIAL[5][3])],
    "funding_per_inhabitant": [("Financements par habitant", "funding_eur", SEQUENTIAL[5][2])],
}
#: Provenance labels of the chart's parts (documented first, drawn solid).
DOCUMENTED, ILLUSTRATIVE = "Documenté ou inféré", "Illustratif"
_SUMMED = ["territories", "engaged", "projects", "projects_committed", "projects_not_committed",
           "funding_eur", "population"]


def check_measure(measure: str) -> str:
    """Return ``measure`` if it is a key of :data:`REGION_MEASURES`, else raise a French ``ValueError``."""
    if measure not in REGION_MEASURES:
        raise ValueError(f"Mesure inconnue : « {measure} ». Mesures possibles : {', '.join(REGION_MEASURES)}.")
    return measure


def table_frame(view) -> pd.DataFrame:
    """The table of a view: one row per territory, in the view's order, French headers.

    Parameters
    ----------
    view : DataFrame
        A :func:`~tdi_geo.indicators.build_view` or
        :func:`~tdi_geo.indicators.diff_view` frame (geometry ignored).

    Returns
    -------
    DataFrame
        The :data:`TABLE_COLUMNS` present in the view, renamed; row ``i``
        is the view's row ``i`` (a selected row maps back to its ``id``).
    """
    wanted = [c for c in view.columns if c in TABLE_COLUMNS or c in ("change", "illustrative")]
    frame = pd.DataFrame({c: view[c] for c in wanted}, index=view.index)  # not the geometry, not a copy of it
    if "change" in frame.columns:
        frame["change_label"] = frame["change"].map({k: label for k, (_, label) in DIFF_STYLES.items()})
    if "provenance_label" not in frame.columns and "provenance" in view.columns:
        frame["provenance_label"] = view["provenance"].map(PROVENANCES).fillna(view["provenance"])
    elif "provenance_label" not in frame.columns and "illustrative" in frame.columns:
        frame["provenance_label"] = np.where(frame["illustrative"].astype(bool), ILLUSTRATIVE, DOCUMENTED)
    cols = [c for c in TABLE_COLUMNS if c in frame.columns]
    return frame[cols].rename(columns=TABLE_COLUMNS).reset_index(drop=True)


def _cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells neutralised (CSV injection), numbers untouched."""
    return neutralise_frame(frame)


def table_csv_bytes(table: pd.DataFrame) -> bytes:
    """The table as UTF-8 CSV (with BOM, so spreadsheets read the accents), text cells neutralised."""
    buffer = io.StringIO()
    _cells(table).to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8-sig")


def table_xlsx_bytes(table: pd.DataFrame) -> bytes:
    """The table as a one-sheet workbook (``territoires``), numbers as numbers, text neutralised."""
    cells = _cells(table)
    rows = [list(cells.columns)]
    rows += [[plain(v) for v in record] for record in cells.itertuples(index=False, name=None)]
    return xlsx_bytes([("territoires", rows)])


def region_totals(view) -> pd.DataFrame:
    """Additive totals per région and provenance.

    Returns
    -------
    DataFrame
        ``region, region_name, illustrative`` and the summed columns
        ``territories, engaged, projects, projects_committed,
        projects_not_committed, funding_eur, population``.
    """
    frame = pd.DataFrame(view)
    if frame.empty:
        return pd.DataFrame(columns=["region", "region_name", "illustrative", *_SUMMED])
    frame = frame.assign(
        territories=1,
        engaged=frame["status"].isin(ENGAGED_STATUSES).astype("int64"),
        projects_not_committed=frame["projects"] - frame["projects_committed"],
        illustrative=frame["illustrative"].astype(bool),
    )
    totals = frame.groupby(["region", "region_name", "illustrative"], as_index=False)[_SUMMED].sum()
    return totals


def tracked(view) -> bool:
    """Whether the view has status and project data (« Pas de donnée » after the last tracking date)."""
    return "status" in view.columns and bool(pd.Series(view["status"]).notna().any())


def _value(numerator, measure: str, territories, population):
    """A part's value: counts as they are, shares over the région's territories, euros per inhabitant."""
    if measure == "engaged_share":
        return np.where(territories > 0, numerator / np.maximum(territories, 1), 0.0)
    if measure == "funding_per_inhabitant":
        return np.where(population > 0, numerator / np.maximum(population, 1), 0.0)
    return numerator


def region_parts(view, measure: str) -> pd.DataFrame:
    """One région measure split into parts that add up to the région's value.

    Parameters
    ----------
    view : DataFrame
        A :func:`~tdi_geo.indicators.build_view` frame (every région kept).
    measure : str
        Key of :data:`REGION_MEASURES`.

    Returns
    -------
    DataFrame
        ``region, region_name, part, provenance, color, value, total,
        rank`` — one row per région × part × provenance. Ratios are split
        over the région's whole denominator (all its territories, all its
        population), so the parts of a bar add up to its ``total``;
        ``rank`` orders the régions by decreasing total (then by name).
    """
    check_measure(measure)
    totals = region_totals(view)
    columns = ["region", "region_name", "part", "provenance", "color", "value", "total", "rank"]
    if totals.empty or (measure != "territories" and not tracked(view)):
        return pd.DataFrame(columns=columns)
    whole = totals.groupby("region")[["territories", "population"]].transform("sum")
    rows = []
    for part, column, colour in _PARTS[measure]:
        rows.append(totals[["region", "region_name"]].assign(
            part=part,
            provenance=np.where(totals["illustrative"], ILLUSTRATIVE, DOCUMENTED),
            color=colour,
            value=_value(totals[column].to_numpy(float), measure, whole["territories"].to_numpy(),
                         whole["population"].to_numpy()),
        ))
    parts = pd.concat(rows, ignore_index=True)
    parts["total"] = parts.groupby("region")["value"].transform("sum")
    order = (parts.drop_duplicates("region").sort_values(["total", "region_name"], ascending=[False, True])["region"])
    parts["rank"] = parts["region"].map({code: i for i, code in enumerate(order)})
    return parts.sort_values(["rank", "part", "provenance"], ignore_index=True)[columns]


def national_reference(view, measure: str) -> dict:
    """The national reference value of a measure, over every territory of the view.

    Ratios are national ratios (share of the territories engaged, € over
    the population); counts are the national total divided by the number
    of régions that have territories in the view (the mean région).

    Returns
    -------
    dict
        ``value`` (float) and ``label`` (French text for the chart).
    """
    check_measure(measure)
    totals = region_totals(view)
    sums = totals[_SUMMED].sum()
    n_regions = int(totals["region"].nunique())
    if measure == "engaged_share":
        value = sums["engaged"] / sums["territories"] if sums["territories"] else 0.0
        label = "Valeur nationale"
    elif measure == "funding_per_inhabitant":
        value = sums["funding_eur"] / sums["population"] if sums["population"] else 0.0
        label = "Valeur nationale"
    else:
        column = "territories" if measure == "territories" else measure
        value = sums[column] / n_regions if n_regions else 0.0
        label = "Moyenne nationale par région"
    return {"value": float(value), "label": label}
