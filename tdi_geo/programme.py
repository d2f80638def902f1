"""The programme tables: territories, memberships, versions, status, projects.

A programme dataset is a directory of plain CSV files (see
``docs/DATA_MODEL.md``). This module defines the vocabularies once (pillars,
statuses, provenances), loads a dataset (checking its invariants, see
:mod:`tdi_geo.programme_checks`) and answers "what was true at date D"
questions — including a territory's name, provenance and partial flag, which
dated states (``territory_states.csv``) may change from a version on. Geometry lives in :mod:`tdi_geo.perimeters`; indicators in
:mod:`tdi_geo.indicators`.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from tdi_geo import PROGRAMME_DIR
from tdi_geo.memo import BoundedCache

#: The programme's pillars. The first four date from the launch (22 Nov 2018);
#: « Transition écologique » was announced as the fifth on 24 Sept 2019.
PILLARS: dict[str, str] = {
    "recruter": "Recruter",
    "innover": "Innover",
    "attirer": "Attirer",
    "simplifier": "Simplifier",
    "transition_ecologique": "Transition écologique",
}

#: Engagement statuses, in order of progress.
STATUSES: dict[str, str] = {
    "identified": "Identifié",
    "engaged": "Engagé – plan d'actions en finalisation",
    "protocol_signed": "Protocole signé",
    "contract_signed": "Contrat signé",
}
#: Statuses that count as « engagé » in the national figures.
ENGAGED_STATUSES = ("engaged", "protocol_signed", "contract_signed")
#: Statuses that count as « protocole ou contrat signé ».
SIGNED_STATUSES = ("protocol_signed", "contract_signed")

#: How a territory's composition and presence at a date are known, from the
#: best to the weakest (``official`` = an imported file).
PROVENANCES: dict[str, str] = {
    "documented": "Documenté (source publique)",
    "inferred": "Inféré (source plus tardive ou déduction)",
    "illustrative": "Illustratif",
    "official": "Officiel (fichier importé)",
}

#: How a member's belonging to a territory is known.
BASES: dict[str, str] = {
    "source": "Source publique",
    "inference": "Déduit (raisonnement en note)",
    "illustrative": "Illustratif",
    "official": "Fichier officiel importé",
}

DATASET_ENV = "TDI_GEO_DATASET"

#: Columns of each table of a dataset directory (docs/DATA_MODEL.md).
TABLE_COLUMNS: dict[str, list[str]] = {
    "territories": ["id", "name", "region", "provenance", "partial", "source", "note"],
    "memberships": ["territory_id", "epci_siren", "insee_com", "valid_from", "valid_to", "basis", "source", "note"],
    "versions": ["date", "label", "expected_territories", "source", "note"],
    "status_events": ["territory_id", "date", "status", "fragile", "provenance", "source"],
    "projects": [
        "id", "territory_id", "pillar", "date", "state_commitment",
        "amount_state_operators_eur", "amount_territoires_innovation_eur",
        "amount_region_eur", "amount_other_eur", "provenance", "source",
    ],
    "national_figures": ["date", "indicator", "value", "unit", "source"],
    "territory_states": ["territory_id", "valid_from", "name", "provenance", "partial", "official_code", "source", "note"],
    "territory_links": ["date", "territory_id", "relation", "other_id"],
}
#: Columns a table may leave out (read as empty): added after datasets were made without them.
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {"versions": ("note",)}
#: Relations of ``territory_links.csv``: a territory carved out of another one,
#: or one that ended inside another one, on ``date``.
LINK_RELATIONS: dict[str, str] = {"split_from": "issu de", "merged_into": "fusionné dans"}
#: Tables a dataset may leave out (read as empty).
REQUIRED_TABLES = ("territories", "memberships", "versions")
#: Attributes of a territory that a dated state (``territory_states.csv``) can change.
STATE_ATTRIBUTES = ("name", "provenance", "partial", "official_code", "source", "note")
AMOUNT_COLUMNS = [
    "amount_state_operators_eur",
    "amount_territoires_innovation_eur",
    "amount_region_eur",
    "amount_other_eur",
]
_BOOL_COLUMNS = {"territories": ["partial"], "status_events": ["fragile"], "projects": ["state_commitment"]}
_TRUE = {"true", "1", "oui", "yes", "vrai", "x"}


@dataclass(frozen=True, eq=False)
class Programme:
    """The tables of one programme dataset, as loaded from its directory.

    Hashed by identity (``eq=False``) so that derived results can be cached per
    loaded dataset; :func:`load_programme` returns the same object while the
    files are unchanged.
    """

    territories: pd.DataFrame
    memberships: pd.DataFrame
    versions: pd.DataFrame
    status_events: pd.DataFrame
    projects: pd.DataFrame
    national_figures: pd.DataFrame
    territory_states: pd.DataFrame
    territory_links: pd.DataFrame
    dataset_dir: Path
    meta: dict = field(default_factory=dict)
    #: Results derived from these tables (:func:`per_dataset`), bounded: a
    #: query date can be any instant (OGC ``datetime``), so the key space is open.
    derived: BoundedCache = field(default_factory=lambda: BoundedCache(max_entries=512), repr=False)
    #: Whole page views (:func:`tdi_geo.view_model.view_model`, 0.1–0.3 MB each: shapes are shared):
    #: fewer, and dropped after half an hour (filter combinations are many).
    views: BoundedCache = field(default_factory=lambda: BoundedCache(max_entries=128, ttl=1800), repr=False)


def per_dataset(func=None, *, store: str = "derived", shared: bool = False):
    """Compute ``func(prog, *args)`` once per loaded dataset and arguments.

    Every session and every view of a dataset asks the same questions (who is
    a member at this date, which status, which projects): the answer is kept
    in the programme's own bounded cache (``store``: ``derived`` for tables,
    ``views`` for whole page views), so a dataset replaced on disk (a new
    :class:`Programme`) starts afresh. Frames come back as shallow copies
    (copy-on-write: a caller's changes never reach the cache), other values as
    deep copies, unless ``shared`` (immutable results handed out as they are).
    """
    if func is None:
        return functools.partial(per_dataset, store=store, shared=shared)

    def key_of(args, kwargs) -> tuple:
        return (func.__module__, func.__qualname__, args, tuple(sorted(kwargs.items())))

    @functools.wraps(func)
    def wrapper(prog: Programme, *args, **kwargs):
        key = key_of(args, kwargs)
        value = getattr(prog, store).get_or_compute(key, lambda: func(prog, *args, **kwargs))
        if shared:
            return value
        if isinstance(value, pd.DataFrame | pd.Series):
            return value.copy(deep=False)
        return copy.deepcopy(value)

    # Whether an answer is ready (e.g. to show a spinner only when work is due).
    wrapper.is_cached = lambda prog, *args, **kwargs: key_of(args, kwargs) in getattr(prog, store)
    return wrapper


def default_dataset_dir() -> Path:
    """``$TDI_GEO_DATASET`` when set, else the embedded ``geodata/programme``."""
    value = os.environ.get(DATASET_ENV)
    return Path(value) if value else PROGRAMME_DIR


def _read_table(dataset_dir: Path, name: str) -> pd.DataFrame:
    """One table as stripped text, in file order (row 0 = line 2 of the file)."""
    path = dataset_dir / f"{name}.csv"
    columns = TABLE_COLUMNS[name]
    if not path.exists():
        if name in REQUIRED_TABLES:
            raise FileNotFoundError(
                f"Jeu de données incomplet : le fichier « {path.name} » manque dans {dataset_dir}."
            )
        return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    for optional in OPTIONAL_COLUMNS.get(name, ()):
        if optional not in frame.columns:
            frame[optional] = ""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"Le fichier « {path.name} » n'a pas la ou les colonnes {', '.join(missing)} "
            f"(attendues : {', '.join(columns)})."
        )
    return frame.map(str.strip) if len(frame) else frame


def _typed(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Flags as booleans, amounts and counts as numbers, versions sorted (after the checks)."""
    frame = frame.copy()
    for col in _BOOL_COLUMNS.get(name, []):
        frame[col] = frame[col].str.lower().isin(_TRUE)
    if name == "projects":
        for col in AMOUNT_COLUMNS:
            frame[col] = pd.to_numeric(frame[col].replace("", "0")).fillna(0).astype("int64")
    if name == "versions":
        frame["expected_territories"] = pd.to_numeric(frame["expected_territories"]).astype("Int64")
        frame = frame.sort_values("date", ignore_index=True)
    if name == "national_figures":
        frame["value"] = pd.to_numeric(frame["value"])
    return frame


@lru_cache(maxsize=8)
def _load_cached(dataset_dir: str, mtime_key: tuple) -> Programme:
    from tdi_geo.programme_checks import dataset_problems, raise_for_problems

    path = Path(dataset_dir)
    tables = {name: _read_table(path, name) for name in TABLE_COLUMNS}
    raise_for_problems(dataset_problems(tables), path.name)
    tables = {name: _typed(name, frame) for name, frame in tables.items()}
    meta_path = path / "dataset.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    return Programme(dataset_dir=path, meta=meta, **tables)


@lru_cache(maxsize=64)
def _resolved(path: str) -> str:
    """The absolute path of a dataset folder (resolved once: the app asks on every run)."""
    return str(Path(path).resolve())


def load_programme(dataset_dir: Path | str | None = None) -> Programme:
    """Load a programme dataset.

    Parameters
    ----------
    dataset_dir : Path, optional
        A dataset directory (``geodata/programme`` layout). Defaults to
        ``$TDI_GEO_DATASET`` or the embedded dataset.

    Returns
    -------
    Programme
        Tables as DataFrames; codes and dates are strings, flags booleans,
        amounts integers. Treat them as read-only (they are cached).

    Raises
    ------
    FileNotFoundError
        The directory or a required table is missing.
    tdi_geo.programme_checks.DatasetError
        (a ``ValueError``) The dataset breaks an invariant: duplicate ids,
        non-ISO dates, a member in two territories at one date, a commune
        with its own EPCI… The French message names the file and the lines.
    """
    path = Path(dataset_dir) if dataset_dir else default_dataset_dir()
    if not path.is_dir():
        raise FileNotFoundError(f"Le dossier de données « {path} » n'existe pas.")
    key = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in path.glob("*.csv")))
    absolute = _resolved(str(path)) if path.is_absolute() else str(path.resolve())  # relative: cwd may change
    return _load_cached(absolute, key)


def parse_date(value) -> str:
    """Return ``value`` as an ISO date string, or raise a French ``ValueError``."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise ValueError(f"Date invalide : « {value} ». Format attendu : AAAA-MM-JJ (ex. 2019-09-24).") from None


@per_dataset
def version_dates(prog: Programme) -> list[str]:
    """The perimeter version dates, ascending."""
    return prog.versions["date"].tolist()


def default_date(prog: Programme) -> str:
    """The date the app opens on: the latest perimeter version of the dataset.

    After an import, that is the imported version; for the embedded dataset
    it is 4 July 2024 (the 183 territories of phase 2).
    """
    dates = version_dates(prog)
    if not dates:
        raise ValueError("Le jeu de données ne contient aucune version de périmètre (versions.csv est vide).")
    return dates[-1]


def _valid_at(frame: pd.DataFrame, date: str) -> pd.Series:
    starts = frame["valid_from"] <= date
    ends = (frame["valid_to"] == "") | (frame["valid_to"] > date)
    return starts & ends


@per_dataset
def members_at(prog: Programme, date) -> pd.DataFrame:
    """Membership rows valid at ``date`` (``valid_from <= date < valid_to``)."""
    date = parse_date(date)
    rows = prog.memberships[_valid_at(prog.memberships, date)]
    return rows.reset_index(drop=True)


@per_dataset
def territory_states_at(prog: Programme, date) -> pd.DataFrame:
    """Every territory with the attributes valid at ``date``, present or not.

    A territory's row of ``territories.csv`` is its base record; each row of
    ``territory_states.csv`` with ``valid_from <= date`` overrides the
    attributes it fills (an empty cell keeps the earlier value), later states
    over earlier ones. So an import, which adds states dated at its version,
    never changes what an earlier date shows.

    Returns
    -------
    DataFrame
        ``id, name, region, provenance, partial, source, note, official_code``
        in the order of ``territories.csv``. ``official_code`` falls back on
        a « code officiel : X » note written by imports before states existed.
    """
    date = parse_date(date)
    out = prog.territories.copy()
    out["official_code"] = out["note"].str.extract(r"code officiel : (\S+)", expand=False).fillna("")
    states = prog.territory_states
    states = states[states["valid_from"] <= date]
    if states.empty:
        return out
    states = states.sort_values(["territory_id", "valid_from"], kind="stable")
    for column in STATE_ATTRIBUTES:
        filled = states[column].where(states[column] != "")
        latest = filled.groupby(states["territory_id"]).last().dropna()
        if latest.empty:
            continue
        if column == "partial":
            latest = latest.str.lower().isin(_TRUE)
        override = out["id"].map(latest)
        out[column] = override.where(override.notna(), out[column]).astype(out[column].dtype)
    return out


@per_dataset
def territories_at(prog: Programme, date) -> pd.DataFrame:
    """Territories that have at least one member at ``date``, with their attributes at that date.

    Same columns as :func:`territory_states_at`.
    """
    ids = members_at(prog, date)["territory_id"].unique()
    states = territory_states_at(prog, date)
    return states[states["id"].isin(ids)].reset_index(drop=True)


def territory_record(prog: Programme, territory_id: str, date) -> dict | None:
    """One territory's attributes valid at ``date`` (name, provenance, partial,
    source, note, official_code…), or None if the id is unknown."""
    states = territory_states_at(prog, date)
    rows = states[states["id"] == territory_id]
    return None if rows.empty else rows.iloc[0].to_dict()


@per_dataset
def status_at(prog: Programme, date) -> pd.DataFrame:
    """Status and fragile flag of every territory present at ``date``.

    The status is that of the latest event on or before ``date``; a territory
    without any event is ``identified``. Columns: ``territory_id, status,
    fragile, status_date, status_provenance``.
    """
    date = parse_date(date)
    present = territories_at(prog, date)[["id"]].rename(columns={"id": "territory_id"})
    events = prog.status_events[prog.status_events["date"] <= date]
    latest = (
        events.sort_values(["territory_id", "date"], kind="stable")
        .drop_duplicates("territory_id", keep="last")
        .rename(columns={"date": "status_date", "provenance": "status_provenance"})
    )
    out = present.merge(
        latest[["territory_id", "status", "fragile", "status_date", "status_provenance"]],
        on="territory_id",
        how="left",
    )
    out["status"] = out["status"].fillna("identified")
    out["fragile"] = out["fragile"].fillna(False).astype(bool)
    out["status_date"] = out["status_date"].fillna("")
    out["status_provenance"] = out["status_provenance"].fillna("")
    return out


@per_dataset
def projects_at(prog: Programme, date, pillar: str | None = None) -> pd.DataFrame:
    """Projects dated on or before ``date`` of territories present at ``date``,
    optionally of one pillar."""
    date = parse_date(date)
    projects = prog.projects
    present = set(territories_at(prog, date)["id"])
    mask = (projects["date"] <= date) & projects["territory_id"].isin(present)
    if pillar:
        check_pillar(pillar)
        mask &= projects["pillar"] == pillar
    return projects[mask].reset_index(drop=True)


def check_pillar(pillar: str) -> str:
    """Return ``pillar`` if it is a known pillar key, else raise a French error."""
    if pillar not in PILLARS:
        raise ValueError(f"Pilier inconnu : « {pillar} ». Piliers possibles : {', '.join(PILLARS)}.")
    return pillar


@per_dataset
def tracking_until(prog: Programme) -> str | None:
    """The last date of the status and project data, or None when the dataset has none.

    Status, projects and funding are known up to that date only: later dates
    show « Pas de donnée » (see :func:`tracking_known`), never the last known
    state carried forward.
    """
    dates = [d for d in (prog.status_events["date"].max(), prog.projects["date"].max()) if isinstance(d, str) and d]
    return max(dates) if dates else None


def tracking_known(prog: Programme, date) -> bool:
    """True when the dataset's status and project data cover ``date``."""
    until = tracking_until(prog)
    return until is not None and parse_date(date) <= until


@per_dataset
def first_seen(prog: Programme) -> pd.Series:
    """The first perimeter version in which each territory appears (id → ISO date)."""
    seen: dict[str, str] = {}
    for date in version_dates(prog):
        for tid in members_at(prog, date)["territory_id"].unique():
            seen.setdefault(tid, date)
    return pd.Series(seen, dtype=object).sort_index()


@per_dataset
def territory_links_at(prog: Programme, date) -> pd.DataFrame:
    """Splits and merges recorded on ``date`` (``date, territory_id, relation, other_id``)."""
    links = prog.territory_links
    return links[links["date"] == parse_date(date)].reset_index(drop=True)


def provenance_counts(present: pd.DataFrame) -> dict[str, int]:
    """How many of ``present`` (rows with ``provenance``) are documented, inferred, illustrative.

    ``documented`` counts every territory that is neither inferred nor
    illustrative (imported ``official`` ones included), as it always has.
    """
    inferred = int((present["provenance"] == "inferred").sum())
    illustrative = int((present["provenance"] == "illustrative").sum())
    return {"documented": int(len(present) - inferred - illustrative), "inferred": inferred,
            "illustrative": illustrative}


@per_dataset
def versions_table(prog: Programme) -> list[dict]:
    """One row per perimeter version: date, label, number of territories, how
    many are documented, inferred or illustrative, the sourced count, the
    source and the note (what the version's date or composition rests on)."""
    rows = []
    for version in prog.versions.itertuples(index=False):
        present = territories_at(prog, version.date)
        rows.append(
            {
                "date": version.date,
                "label": version.label,
                "territories": int(len(present)),
                **provenance_counts(present),
                "expected": None if pd.isna(version.expected_territories) else int(version.expected_territories),
                "source": version.source,
                "note": version.note,
            }
        )
    return rows


@per_dataset
def national_figures(prog: Programme, date) -> dict:
    """Sourced national figures recorded for ``date`` (empty if none)."""
    date = parse_date(date)
    rows = prog.national_figures[prog.national_figures["date"] == date]
    return {row.indicator: {"value": row.value, "unit": row.unit, "source": row.source} for row in rows.itertuples()}


def programme_summary(prog: Programme) -> dict:
    """The ``programme`` block of ``info --json``, for the latest version."""
    dates = version_dates(prog)
    if not dates:
        return {"territories": 0, "documented": 0, "inferred": 0, "illustrative": 0, "partial": 0}
    present = territories_at(prog, dates[-1])
    return {
        "date": dates[-1],
        "territories": int(len(present)),
        **provenance_counts(present),
        "partial": int(present["partial"].sum()),
    }


@per_dataset
def dataset_summary(prog: Programme) -> dict:
    """Which dataset and version are shown, for the app's caption.

    Returns
    -------
    dict
        ``name`` (folder name), ``embedded`` (the committed dataset),
        ``preview`` (an unpublished import), ``created``, ``files`` (the
        files imported into it, latest last), ``version`` and
        ``version_label`` (its latest perimeter version).
    """
    dates = version_dates(prog)
    latest = prog.versions.iloc[-1] if dates else None
    return {
        "name": str(prog.meta.get("name") or prog.dataset_dir.name),
        "embedded": prog.dataset_dir.resolve() == PROGRAMME_DIR.resolve(),
        "preview": bool(prog.meta.get("preview")),
        "created": str(prog.meta.get("created", "")),
        "files": [str(i.get("file", "")) for i in prog.meta.get("imports", [])],
        "version": dates[-1] if dates else None,
        "version_label": str(latest["label"]) if latest is not None else "",
    }
