"""Invariants of a programme dataset, checked when it is loaded and before an import is written.

Each check is a handful of vectorised pandas operations on the tables as
read from their CSV files (text cells, row order of the file), so that every
problem names the file and its spreadsheet line (the header is line 1).

Membership overlaps are checked as intervals: two rows ``[a, b)`` and
``[c, d)`` hold at a common date exactly when ``max(a, c) < min(b, d)``, which
is the same as testing every version date and every membership start, but
without enumerating dates.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from tdi_geo import REFERENCE_DIR

#: The latest date an open membership (empty ``valid_to``) is valid on.
_OPEN_END = "9999-12-31"
#: At most this many problems are listed in one error message.
MAX_LISTED = 20
#: Amount cells hold whole euros written with digits only, at most 15 of them
#: (below a million billion euros): anything else is a corrupted file.
_AMOUNT_PATTERN = r"\d{0,15}"

#: Table → its date columns, and whether an empty cell is allowed there.
_DATE_COLUMNS = {
    "memberships": [("valid_from", False), ("valid_to", True)],
    "versions": [("date", False)],
    "status_events": [("date", False)],
    "projects": [("date", False)],
    "national_figures": [("date", False)],
    "territory_states": [("valid_from", False)],
    "territory_links": [("date", False)],
}
#: Tables whose ``territory_id`` must name a row of territories.csv.
_REFERENCING = ("memberships", "status_events", "projects", "territory_states", "territory_links")


class DatasetError(ValueError):
    """A dataset breaks an invariant; ``problems`` lists each one in French."""

    def __init__(self, message: str, problems: list[str]):
        super().__init__(message)
        self.problems = list(problems)


def _lines(index) -> str:
    """Spreadsheet line numbers of rows (header = line 1), shortened after eight."""
    numbers = sorted({int(i) + 2 for i in index})
    shown = ", ".join(str(n) for n in numbers[:8])
    more = f" … (+{len(numbers) - 8})" if len(numbers) > 8 else ""
    return f"ligne{'s' if len(numbers) > 1 else ''} {shown}{more}"


def _quote(values, limit: int = 5) -> str:
    values = sorted({str(v) for v in values})
    more = " …" if len(values) > limit else ""
    return ", ".join(f"« {v} »" for v in values[:limit]) + more


def _iso(series: pd.Series) -> pd.Series:
    """Whether each cell is a real calendar date written ``AAAA-MM-JJ``."""
    shaped = series.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
    parsed = pd.to_datetime(series.where(shaped), format="%Y-%m-%d", errors="coerce")
    return shaped & parsed.notna()


@lru_cache(maxsize=4)
def _commune_epci(reference_dir: str) -> pd.Series:
    """insee_com → EPCI SIREN of the reference (read without geopandas: this runs at every load)."""
    table = pd.read_parquet(Path(reference_dir) / "communes.parquet", columns=["insee_com", "epci_siren"])
    table = table[table["epci_siren"].notna() & (table["epci_siren"] != "")]
    return table.set_index("insee_com")["epci_siren"]


def _check_dates(tables, problems: list[str]) -> dict[str, pd.Series]:
    """ISO dates everywhere; returns, per table, the mask of rows whose dates are all valid.

    All date cells of all tables are checked in one pass (a few pandas calls
    in all, whatever the number of tables): this runs at every load.
    """
    cells, owners = [], []
    for name, columns in _DATE_COLUMNS.items():
        frame = tables.get(name)
        if frame is None or frame.empty:
            continue
        for column, may_be_empty in columns:
            cells.append(frame[column].astype("str"))
            owners.append((name, column, may_be_empty, len(frame)))
    if not cells:
        return {}
    everything = pd.concat(cells, ignore_index=True)
    shaped = everything.str.fullmatch(r"\d{4}-\d{2}-\d{2}").to_numpy(dtype=bool)
    ok = shaped.copy()
    ok[shaped] = pd.to_datetime(everything[shaped], format="%Y-%m-%d", errors="coerce").notna().to_numpy()
    empty = (everything == "").to_numpy()
    valid: dict[str, pd.Series] = {}
    offset = 0
    for (name, column, may_be_empty, size), column_cells in zip(owners, cells):
        good = ok[offset:offset + size] | (empty[offset:offset + size] if may_be_empty else False)
        offset += size
        index = tables[name].index
        if not good.all():
            problems.append(
                f"« {name}.csv », colonne « {column} », {_lines(index[~good])} : date invalide "
                f"{_quote(column_cells[~good])} ; format attendu AAAA-MM-JJ (ex. 2019-09-24)."
            )
        previous = valid.get(name)
        valid[name] = pd.Series(good, index=index) if previous is None else previous & good
    return valid


def _check_unique(frame: pd.DataFrame, table: str, column: str, problems: list[str]) -> None:
    duplicated = frame[column].duplicated(keep=False)
    if duplicated.any():
        problems.append(
            f"« {table}.csv », colonne « {column} », {_lines(frame.index[duplicated])} : identifiant en double "
            f"{_quote(frame.loc[duplicated, column])} ; chaque identifiant doit être unique."
        )
    empty = frame[column] == ""
    if empty.any():
        problems.append(f"« {table}.csv », colonne « {column} », {_lines(frame.index[empty])} : identifiant vide.")


def _overlaps(left: pd.DataFrame, right: pd.DataFrame, on: str) -> pd.DataFrame:
    """Pairs of rows (one of each side) sharing ``on`` whose validity intervals meet."""
    pairs = left.merge(right, on=on, suffixes=("", "_2"))
    start = pairs["valid_from"].where(pairs["valid_from"] >= pairs["valid_from_2"], pairs["valid_from_2"])
    end = pairs["end"].where(pairs["end"] <= pairs["end_2"], pairs["end_2"])
    return pairs[start < end]


def _self_overlaps(spans: pd.DataFrame) -> pd.DataFrame:
    """Pairs of rows with the same ``key`` whose intervals meet (``row < row_2``).

    Rows are sorted by key then start; a row meets an earlier one of its key
    exactly when its start is before the running maximum of their ends. That
    sweep is a few numpy calls; only the (rare) rows it flags are joined back
    to name both sides.
    """
    if spans.empty:
        return spans.assign(territory_id_2=[], row_2=[], valid_from_2=[])
    codes = pd.factorize(spans["key"])[0].astype("int64")
    start = np.array(spans["valid_from"].tolist(), dtype="datetime64[D]").astype("int64")
    end = np.array(spans["end"].tolist(), dtype="datetime64[D]").astype("int64")
    order = np.lexsort((start, codes))
    codes, start, end = codes[order], start[order], end[order]
    # Offsetting each key's ends by a multiple larger than any date keeps the
    # running maximum from leaking from one key to the next.
    offset = codes * (1 << 32)
    running = np.maximum.accumulate(end + offset) - offset
    hit = np.zeros(len(order), dtype=bool)
    hit[1:] = (codes[1:] == codes[:-1]) & (start[1:] < running[:-1])
    if not hit.any():
        return spans.iloc[0:0].assign(territory_id_2=[], row_2=[], valid_from_2=[])
    flagged = spans[spans["key"].isin(set(spans["key"].to_numpy()[order[hit]]))]
    pairs = _overlaps(flagged, flagged, "key")
    return pairs[pairs["row"] < pairs["row_2"]]


def _report_pairs(pairs: pd.DataFrame, describe, problems: list[str]) -> None:
    """One problem per group of overlapping pairs; ``describe(key, group)`` words it."""
    if pairs.empty:
        return
    pairs = pairs.assign(since=pairs["valid_from"].where(pairs["valid_from"] >= pairs["valid_from_2"],
                                                         pairs["valid_from_2"]))
    for key, group in pairs.groupby(["key", "territory_id", "territory_id_2"], sort=True):
        where = _lines(pd.concat([group["row"], group["row_2"]]))
        problems.append(f"« memberships.csv », {where} : " + describe(key, group["since"].min()))


def _check_memberships(members: pd.DataFrame, commune_epci: pd.Series | None, problems: list[str]) -> None:
    epci, insee = members["epci_siren"].to_numpy(dtype=object), members["insee_com"].to_numpy(dtype=object)
    both = (epci != "") == (insee != "")
    if both.any():
        problems.append(
            f"« memberships.csv », {_lines(members.index[both])} : il faut remplir exactement une des colonnes "
            "« epci_siren » (EPCI entier) ou « insee_com » (une commune)."
        )
    start, stop = members["valid_from"].to_numpy(dtype=object), members["valid_to"].to_numpy(dtype=object)
    backwards = (stop != "") & (stop <= start)
    if backwards.any():
        problems.append(
            f"« memberships.csv », {_lines(members.index[backwards])} : « valid_to » doit être postérieure à "
            "« valid_from » (une appartenance vaut du premier jour inclus au dernier exclu)."
        )
    keep = ~(both | backwards)
    spans = pd.DataFrame(
        {
            "territory_id": members["territory_id"].to_numpy(dtype=object)[keep],
            "epci_siren": epci[keep],
            "insee_com": insee[keep],
            "valid_from": start[keep],
            "end": np.where(stop == "", _OPEN_END, stop)[keep],
            "row": members.index.to_numpy()[keep],
        }
    )
    spans["key"] = np.where(spans["epci_siren"] != "", "EPCI " + spans["epci_siren"], "commune " + spans["insee_com"])
    pairs = _self_overlaps(spans)

    def twice(key, since):
        first, second = key[1], key[2]
        if first == second:
            return f"{key[0]} figure deux fois dans « {first} » le {since}."
        return (f"{key[0]} appartient à deux territoires le {since} (« {first} » et « {second} ») ; un membre "
                "n'appartient qu'à un territoire à une date.")

    _report_pairs(pairs, twice, problems)
    communes = spans[spans["insee_com"] != ""]
    if communes.empty or commune_epci is None:
        return
    communes = communes.assign(parent=communes["insee_com"].map(commune_epci))
    whole = spans[spans["epci_siren"] != ""]
    # Usually no commune row has its EPCI listed whole at any date: skip the join then.
    communes = communes[communes["parent"].isin(set(whole["epci_siren"]))]
    if communes.empty:
        return
    whole = whole[whole["epci_siren"].isin(set(communes["parent"]))]
    pairs = _overlaps(communes.drop(columns="epci_siren").rename(columns={"parent": "epci_siren"}),
                      whole.drop(columns="key"), "epci_siren")
    pairs["key"] = "commune " + pairs["insee_com"] + " et son EPCI " + pairs["epci_siren"]

    def with_epci(key, since):
        place = f"« {key[1]} »" if key[1] == key[2] else f"« {key[1]} » et « {key[2]} »"
        return (f"la {key[0]} sont membres de {place} le {since} ; une commune seule ne sert que pour un EPCI "
                "en partie dans le territoire.")

    _report_pairs(pairs, with_epci, problems)


def _check_numbers(tables, problems: list[str]) -> None:
    from tdi_geo.programme import AMOUNT_COLUMNS

    projects = tables.get("projects")
    for column in AMOUNT_COLUMNS if projects is not None else []:
        cells = projects[column].astype("str")
        bad = ~cells.str.fullmatch(_AMOUNT_PATTERN)
        if bad.any():
            problems.append(
                f"« projects.csv », colonne « {column} », {_lines(projects.index[bad])} : montant invalide "
                f"{_quote(cells[bad])} ; attendu un nombre entier d'euros, en chiffres seulement (au plus 15)."
            )
    versions = tables.get("versions")
    if versions is not None:
        cells = versions["expected_territories"].astype("str")
        bad = ~cells.str.fullmatch(r"\d{0,6}")
        if bad.any():
            problems.append(
                f"« versions.csv », colonne « expected_territories », {_lines(versions.index[bad])} : nombre "
                f"invalide {_quote(cells[bad])}."
            )
    figures = tables.get("national_figures")
    if figures is not None and not figures.empty:
        values = pd.to_numeric(figures["value"], errors="coerce")
        bad = values.isna() | ~values.abs().lt(1e15)
        if bad.any():
            problems.append(
                f"« national_figures.csv », colonne « value », {_lines(figures.index[bad])} : nombre invalide "
                f"{_quote(figures.loc[bad, 'value'])}."
            )


def dataset_problems(tables, reference_dir: Path | None = None) -> list[str]:
    """Every broken invariant of a dataset, in French, naming file, column and lines.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        The tables of :data:`tdi_geo.programme.TABLE_COLUMNS` as text, in file
        order (index 0 = line 2). ``territory_states`` may be missing.
    reference_dir : Path, optional
        Reference geography used to find each commune's EPCI.

    Returns
    -------
    list of str
        Empty when the dataset is consistent: unique territory and project ids,
        ISO dates, ``valid_from < valid_to``, no territory id unknown to
        ``territories.csv``, no EPCI or commune in two territories at one date,
        no commune together with its own EPCI at one date, well-formed numbers.
    """
    problems: list[str] = []
    territories = tables["territories"]
    _check_unique(territories, "territories", "id", problems)
    if "projects" in tables:
        _check_unique(tables["projects"], "projects", "id", problems)
    valid_dates = _check_dates(tables, problems)
    known = set(territories["id"])
    for name in _REFERENCING:
        frame = tables.get(name)
        if frame is None or frame.empty:
            continue
        unknown = ~frame["territory_id"].isin(known)
        if unknown.any():
            problems.append(
                f"« {name}.csv », colonne « territory_id », {_lines(frame.index[unknown])} : territoire inconnu "
                f"{_quote(frame.loc[unknown, 'territory_id'])} (absent de « territories.csv »)."
            )
    members = tables["memberships"]
    members = members[valid_dates.get("memberships", pd.Series(True, index=members.index))]
    commune_epci = None
    if (members["insee_com"] != "").any():
        commune_epci = _commune_epci(str(reference_dir or REFERENCE_DIR))
    _check_memberships(members, commune_epci, problems)
    _check_numbers(tables, problems)
    _check_links(tables.get("territory_links"), known, problems)
    return problems


def _check_links(links: pd.DataFrame | None, known: set, problems: list[str]) -> None:
    """Links name a known relation and a known other territory."""
    from tdi_geo.programme import LINK_RELATIONS

    if links is None or links.empty:
        return
    bad = ~links["relation"].isin(list(LINK_RELATIONS))
    if bad.any():
        problems.append(
            f"« territory_links.csv », colonne « relation », {_lines(links.index[bad])} : relation inconnue "
            f"{_quote(links.loc[bad, 'relation'])} (possibles : {', '.join(LINK_RELATIONS)})."
        )
    unknown = ~links["other_id"].isin(known)
    if unknown.any():
        problems.append(
            f"« territory_links.csv », colonne « other_id », {_lines(links.index[unknown])} : territoire inconnu "
            f"{_quote(links.loc[unknown, 'other_id'])} (absent de « territories.csv »)."
        )


def raise_for_problems(problems: list[str], dataset_name: str) -> None:
    """Raise :class:`DatasetError` listing ``problems`` (at most :data:`MAX_LISTED`), if any."""
    if not problems:
        return
    listed = "\n".join(f"- {p}" for p in problems[:MAX_LISTED])
    more = f"\n- … et {len(problems) - MAX_LISTED} autre(s) problème(s)." if len(problems) > MAX_LISTED else ""
    raise DatasetError(
        f"Jeu de données « {dataset_name} » incohérent ({len(problems)} problème(s)) :\n{listed}{more}", problems
    )
