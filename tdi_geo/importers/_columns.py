"""Known fields of each import kind, their header synonyms, and column detection.

Headers are compared after :func:`normalize_header`: lower case, accents
removed, every non-alphanumeric character dropped. ``Code INSEE``,
``code_insee`` and ``CODE-INSEE`` are therefore the same header.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalize_header(text) -> str:
    """Lower case, strip accents and drop everything that is not a letter or a digit."""
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub("", text.lower())


def normalize_label(text) -> str:
    """Like :func:`normalize_header`, for comparing names (territories, statuses…)."""
    return normalize_header(text)


@dataclass(frozen=True)
class Kind:
    """One kind of importable table."""

    key: str
    label: str
    #: field → synonyms (the field name itself is always a synonym).
    fields: dict[str, tuple[str, ...]]
    #: groups of fields; each group needs at least one of its fields.
    required: tuple[tuple[str, ...], ...]


_TERRITORY_ID = ("id_ti", "code_ti", "identifiant_ti", "id_territoire", "code_territoire", "num_ti", "ti_id",
                 "id_tdi", "code_tdi", "territory_id", "identifiant_territoire")
_TERRITORY_NAME = ("lib_ti", "libelle_ti", "nom_ti", "territoire", "territoire_industrie",
                   "territoire_d_industrie", "territoires_d_industrie", "nom_territoire", "libelle_territoire",
                   "libelle_ter", "lib_territoire", "nom_du_territoire",
                   "libelle_du_territoire", "territoire_d_industrie_ti", "nom_tdi", "libelle_tdi", "territory", "territory_name")
_PERIMETER_DATE = ("date", "date_perimetre", "date_de_perimetre", "date_version", "date_labellisation")

KINDS: dict[str, Kind] = {
    "communes": Kind(
        key="communes",
        label="liste de communes par territoire (format ANCT)",
        fields={
            "insee_com": ("code_commune", "code_insee", "insee", "code_insee_commune", "insee_commune", "codgeo",
                          "depcom", "com", "code_com", "codecom", "cog_commune", "code_geo", "num_commune"),
            "lib_com": ("nom_commune", "commune", "libelle_commune", "nom_com", "libcom", "lib_commune",
                        "nom_de_la_commune"),
            "id_ti": _TERRITORY_ID,
            "lib_ti": _TERRITORY_NAME,
            "date": _PERIMETER_DATE,
        },
        required=(("insee_com",), ("id_ti", "lib_ti")),
    ),
    "epci": Kind(
        key="epci",
        label="liste d'EPCI par territoire (format Caisse des Dépôts)",
        fields={
            "epci_siren": ("siren", "siren_epci", "code_epci", "code_siren", "siren_groupement", "code_insee_",
                           "code_insee_epci", "epci_code", "n_siren", "numero_siren", "code_insee", "siren_ep"),
            "epci_name": ("nom_epci", "nom_de_l_epci", "nom_de_l_ep", "libelle_epci", "lib_epci", "raison_sociale",
                          "epci", "nom_groupement", "intercommunalite", "nom_de_l_intercommunalite"),
            "id_ti": _TERRITORY_ID,
            "lib_ti": _TERRITORY_NAME,
            "main_city": ("ville_principale", "ville_princ", "ville", "commune_principale", "ville_centre"),
            "region_code": ("insee_reg", "code_region", "reg", "code_reg", "region_code", "code_insee_region"),
            "region_name": ("region", "nom_region", "libelle_region", "lib_reg", "nom_reg"),
            "date": _PERIMETER_DATE,
        },
        required=(("epci_siren",), ("id_ti", "lib_ti")),
    ),
    "status": Kind(
        key="status",
        label="suivi des statuts des territoires",
        fields={
            "territory_id": _TERRITORY_ID,
            "territory_name": _TERRITORY_NAME,
            "date": ("date", "date_statut", "date_du_statut", "date_evenement", "date_effet", "depuis"),
            "status": ("statut", "etat_d_avancement", "avancement", "stade", "status"),
            "fragile": ("fragile", "territoire_fragile", "fragilite"),
            "source": ("source", "sources", "reference"),
        },
        required=(("territory_id", "territory_name"), ("date",), ("status",)),
    ),
    "projects": Kind(
        key="projects",
        label="suivi des projets et financements",
        fields={
            "project_id": ("id_projet", "projet_id", "code_projet", "identifiant_projet", "numero_projet",
                           "n_projet", "id"),
            "territory_id": _TERRITORY_ID,
            "territory_name": _TERRITORY_NAME,
            "pillar": ("pilier", "axe", "thematique", "pillar"),
            "date": ("date", "date_projet", "date_engagement", "date_de_depot", "date_du_projet"),
            "state_commitment": ("engagement_etat", "engagement_de_l_etat", "engagement_etat_operateurs",
                                 "soutien_etat", "engage_etat", "state_commitment"),
            "amount_state_operators_eur": ("montant_etat_operateurs", "montant_etat_et_operateurs",
                                           "etat_et_operateurs", "etat_operateurs", "montant_etat",
                                           "financement_etat"),
            "amount_territoires_innovation_eur": ("montant_territoires_d_innovation",
                                                  "montant_territoires_innovation", "territoires_d_innovation",
                                                  "territoires_innovation"),
            "amount_region_eur": ("montant_region", "financement_region", "montant_conseil_regional"),
            "amount_other_eur": ("montant_autres", "montant_autres_financeurs", "autres_financeurs",
                                 "montant_autre", "autres"),
            "source": ("source", "sources", "reference"),
        },
        required=(("territory_id", "territory_name"), ("pillar",), ("date",)),
    ),
}

PERIMETER_KINDS = ("communes", "epci")
TRACKING_KINDS = ("status", "projects")

#: Every field name a user may give in ``COLUMN=FIELD``.
ALL_FIELDS: tuple[str, ...] = tuple(dict.fromkeys(f for kind in KINDS.values() for f in kind.fields))

#: Shortest header that may match a longer synonym by prefix (truncated
#: shapefile/DBF names such as ``ville_princ`` or ``libelle_ter``).
_MIN_PREFIX = 7


#: Words that identify a field when a header contains them (« Code SIREN de l'EPCI »).
_CONTAINS: dict[str, dict[str, str]] = {
    "epci": {"siren": "epci_siren"},
    "communes": {"insee": "insee_com"},
    "status": {"territoire": "territory_name", "statut": "status"},
    "projects": {"territoire": "territory_name", "pilier": "pillar"},
}


def _synonym_index(kind: Kind) -> dict[str, str]:
    index: dict[str, str] = {}
    for field, synonyms in kind.fields.items():
        for name in (field, *synonyms):
            index.setdefault(normalize_header(name), field)
    return index


def _prefix_index(index: dict[str, str]) -> dict[str, frozenset[str]]:
    """Every prefix (of at least ``_MIN_PREFIX`` characters) of every synonym → the fields it may start."""
    prefixes: dict[str, set[str]] = {}
    for synonym, field in index.items():
        for end in range(_MIN_PREFIX, len(synonym) + 1):
            prefixes.setdefault(synonym[:end], set()).add(field)
    return {prefix: frozenset(fields) for prefix, fields in prefixes.items()}


_INDEX = {key: _synonym_index(kind) for key, kind in KINDS.items()}
_PREFIXES = {key: _prefix_index(index) for key, index in _INDEX.items()}
#: Headers are compared on their first characters only: no synonym is longer,
#: and a file of huge header cells must not cost time per character.
_LONGEST_HEADER = 100
#: Every header that names some field exactly, in any kind.
_KNOWN = frozenset().union(*_INDEX.values())


def match_details(headers: list[str], kind: str,
                  overrides: dict[str, str] | None = None) -> tuple[dict[str, str], set[str]]:
    """Like :func:`match_columns`; also returns the fields found only by a « contains » rule.

    Each header is normalised once and looked up in dictionaries, so the cost
    is linear in the number of headers.
    """
    index, prefixes = _INDEX[kind], _PREFIXES[kind]
    fields = KINDS[kind].fields
    found: dict[str, str] = {}
    taken: set[int] = set()
    norms = [normalize_header(str(h)[:_LONGEST_HEADER]) for h in headers]
    position: dict[str, int] = {}
    for i, norm in enumerate(norms):
        position.setdefault(norm, i)
    for column, field in (overrides or {}).items():
        i = position.get(normalize_header(str(column)[:_LONGEST_HEADER]))
        if i is not None and field in fields:
            found[field] = headers[i]
            taken.add(i)
    for i, norm in enumerate(norms):
        if i in taken or not norm:
            continue
        field = index.get(norm)
        if field is None and len(norm) >= _MIN_PREFIX:
            candidates = prefixes.get(norm, frozenset())
            field = next(iter(candidates)) if len(candidates) == 1 else None
        if field is not None and field not in found:
            found[field] = headers[i]
            taken.add(i)
    # Last resort, once exact names are placed: a header that contains a telling word, unless that
    # header is the exact name of another field (``insee_reg`` is a région code, not a commune code).
    loose: set[str] = set()
    for word, field in _CONTAINS.get(kind, {}).items():
        if field in found:
            continue
        for i, norm in enumerate(norms):
            if i not in taken and word in norm and norm not in _KNOWN:
                found[field] = headers[i]
                taken.add(i)
                loose.add(field)
                break
    return found, loose


def match_columns(headers: list[str], kind: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Map the fields of ``kind`` to the headers of a table.

    Exact synonyms (and unambiguous truncations of them) are placed first;
    a « contains » rule (« Code SIREN de l'EPCI ») only fills what is left.

    Parameters
    ----------
    headers : list of str
        Headers as they appear in the file.
    kind : str
        A key of :data:`KINDS`.
    overrides : dict, optional
        ``{header: field}`` given by the user; they win over synonyms.

    Returns
    -------
    dict
        ``{field: header}`` for every field found.
    """
    return match_details(headers, kind, overrides)[0]


def missing_required(found: dict[str, str], kind: str) -> list[tuple[str, ...]]:
    """The required field groups of ``kind`` that ``found`` does not satisfy."""
    return [group for group in KINDS[kind].required if not any(f in found for f in group)]


def header_score(cells: list[str]) -> int:
    """How many cells of a row are known headers of any kind (header-row detection)."""
    return sum(1 for cell in cells if normalize_header(str(cell)[:_LONGEST_HEADER]) in _KNOWN)
