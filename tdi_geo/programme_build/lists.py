"""Read the public lists of territories (``geodata/sources/tdi_lists/``) as communes of the reference.

Each list describes the programme at one date, in its own codes: communes of
its year (2019-2020 lists), or EPCI SIRENs of its year (2022 and 2023-2024
lists, where a few members are communes or établissements publics
territoriaux of the Métropole du Grand Paris). :func:`read_list` turns one
list into the communes of the current COG (the project's reference), one row
per (territory code, commune), with how each commune was reached and a French
note when a code had to be resolved. Nothing here is invented: every
resolution is a rule written below, reported in the note of the rows it
touches.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tdi_geo import GEODATA

LISTS_DIR = GEODATA / "sources" / "tdi_lists"
#: SIREN of the Métropole du Grand Paris, the EPCI that holds the communes of
#: its établissements publics territoriaux (EPT) in the reference.
GRAND_PARIS = "200054781"


@dataclass(frozen=True)
class ListSpec:
    """One public list: its file, the date it describes and how it is laid out."""

    key: str
    file: str
    layout: str  # "communes" | "epci_rows" | "epci_items"
    code_column: str
    label_column: str


LISTS: dict[str, ListSpec] = {
    "146": ListSpec("146", "communes_146_2019-2020.csv", "communes", "code_ti", "lib_ti"),
    "148": ListSpec("148", "communes_148_2020.csv", "communes", "code_ti", "lib_ti"),
    "149": ListSpec("149", "epci_149_2022.csv", "epci_rows", "id_ti", "lib_ti"),
    "2023-11": ListSpec("2023-11", "epci_2023-11.csv", "epci_items", "id_territoire", "lib_territoire"),
    "2024-07": ListSpec("2024-07", "epci_183_2024-07-04.csv", "epci_items", "id_territoire", "lib_territoire"),
}


def normalise_code(code: str) -> str:
    """``TI4401`` and ``ti-4401`` are the same official code: ``TI4401``."""
    return "TI" + re.sub(r"^(ti-?|TI)", "", code.strip())


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("’", "'")).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def _read(spec: ListSpec, lists_dir: Path) -> pd.DataFrame:
    return pd.read_csv(lists_dir / spec.file, dtype=str, keep_default_na=False, encoding="utf-8")


def _commune_rows(spec: ListSpec, table: pd.DataFrame, ref) -> pd.DataFrame:
    """Communes of a 2019-2020 list, their codes brought to the current COG."""
    current = set(ref.communes["insee_com"])
    alias = ref.aliases.set_index("old_code")
    out = table.rename(columns={spec.code_column: "code", spec.label_column: "label"})[["code", "label", "insee_com"]]
    out = out.assign(source_item=out["insee_com"], via="commune", note="")
    old = ~out["insee_com"].isin(current) & out["insee_com"].isin(alias.index)
    for i in out.index[old]:
        code = out.at[i, "insee_com"]
        out.at[i, "insee_com"] = alias.at[code, "new_code"]
        out.at[i, "note"] = (f"Commune {code} ({alias.at[code, 'old_name']}, {alias.at[code, 'kind']} "
                             f"depuis) ramenée à la commune actuelle {out.at[i, 'insee_com']}.")
    lost = ~out["insee_com"].isin(current)
    out.loc[lost, "note"] = ("Code commune absent du COG de référence et de la table des anciennes communes : "
                             "commune fusionnée depuis, non dessinée (sa commune nouvelle l'est si elle est "
                             "dans la liste).")
    out.loc[lost, "insee_com"] = ""
    return out


def _bare(name: str) -> str:
    """A commune name without its leading article (the COG writes « Chambon-Feugerolles »)."""
    return re.sub(r"^(le|la|les|l) ", "", _key(name))


def _commune_by_siren(siren: str, name: str, ref) -> str:
    """The INSEE code of a commune given by SIREN (``21`` + département…) and name."""
    dep = siren[2:4]
    pool = ref.communes[ref.communes["insee_com"].str.startswith(dep)]
    hits = pool[pool["name"].map(_bare) == _bare(name)]
    if len(hits) != 1:
        raise ValueError(f"commune « {name} » (SIREN {siren}) not found once in département {dep}")
    return hits["insee_com"].iloc[0]


def _items(spec: ListSpec, table: pd.DataFrame) -> pd.DataFrame:
    """One row per (territory, member SIREN, member name) of an EPCI list."""
    rows = []
    for rec in table.to_dict("records"):
        code, label = rec[spec.code_column], rec[spec.label_column]
        if spec.layout == "epci_rows":
            sirens = [s.strip() for s in rec["siren_groupement"].split(",")]
            names = [n.strip() for n in rec["lib_groupement"].split(", ")]
            if len(names) != len(sirens):  # a name with a comma: names are only needed for communes
                names = [""] * len(sirens)
            pairs = zip(sirens, names)
        else:
            pairs = []
            for item in rec["liste_geo"].split(";"):
                match = re.fullmatch(r"\s*(.*?)\s*\((\d{9})\)\s*", item)
                if not match:
                    raise ValueError(f"{spec.file}: unreadable member « {item} » of {code}")
                pairs.append((match.group(2), match.group(1)))
        rows += [dict(code=code, label=label, siren=s, name=n) for s, n in pairs]
    return pd.DataFrame(rows)


def _ept_communes(ref, lists_dir: Path) -> dict[str, tuple[list[str], str]]:
    """Communes of the EPTs named in the later lists, read from the Oct 2020 commune list.

    An EPT is not an EPCI à fiscalité propre: the reference has no polygon for
    it, only its communes inside the Métropole du Grand Paris. The 2020 list
    gives, for the territory that holds the EPT, its communes: those inside the
    Métropole are the EPT's.
    """
    communes = _commune_rows(LISTS["148"], _read(LISTS["148"], lists_dir), ref)
    communes = communes.merge(ref.communes[["insee_com", "epci_siren"]], on="insee_com")
    in_mgp = communes[communes["epci_siren"] == GRAND_PARIS]
    # EPT SIREN → the 2020 territory that holds it (same programme code in 2020 and 2022).
    holders = {"200057990": "TI1101", "200058014": "TI1104", "200058097": "TI1105"}
    out = {}
    for siren, code in holders.items():
        members = sorted(in_mgp.loc[in_mgp["code"] == code, "insee_com"])
        note = (f"Établissement public territorial {siren} (pas un EPCI du référentiel) : dessiné par ses "
                f"{len(members)} communes, celles du territoire {code} de la liste d'octobre 2020 situées dans "
                "la Métropole du Grand Paris.")
        out[siren] = (members, note)
    return out


#: EPCIs of the later lists merged since into an EPCI of the reference.
MERGED_EPCI = {
    "245701222": "CA du Val de Fensch",
    "245701362": "CA Portes de France-Thionville",
}


def _epci_rows(spec: ListSpec, table: pd.DataFrame, ref, lists_dir: Path) -> pd.DataFrame:
    """Communes of an EPCI list (2022, 2023-2024), with the rules for non-EPCI members."""
    items = _items(spec, table)
    epci_known = set(ref.epci["siren"])
    by_epci = ref.communes.groupby("epci_siren")["insee_com"].apply(sorted).to_dict()
    epts = None
    rows = []
    for rec in items.to_dict("records"):
        siren, name = rec["siren"], rec["name"]
        base = dict(code=rec["code"], label=rec["label"], source_item=siren)
        if siren in epci_known:
            rows += [dict(base, insee_com=c, via="epci", note="") for c in by_epci[siren]]
        elif siren in MERGED_EPCI:
            # Both former agglomerations sit in the same territory in every list: the
            # merged EPCI of the reference is drawn whole (checked by the caller).
            anchor = {"245701222": "57306", "245701362": "57672"}[siren]  # Hayange, Thionville
            merged = ref.communes.loc[ref.communes["insee_com"] == anchor, "epci_siren"].iloc[0]
            note = (f"{MERGED_EPCI[siren]} ({siren}) a fusionné depuis dans l'EPCI {merged} du référentiel ; "
                    "les deux agglomérations fusionnées sont dans ce même territoire : l'EPCI actuel est dessiné.")
            rows += [dict(base, insee_com=c, via="merged_epci", note=note) for c in by_epci[merged]]
        elif siren.startswith("2000"):
            epts = epts if epts is not None else _ept_communes(ref, lists_dir)
            if siren not in epts:
                raise ValueError(f"{spec.file}: SIREN {siren} of {rec['code']} is neither an EPCI nor a known EPT")
            members, note = epts[siren]
            rows += [dict(base, insee_com=c, via="ept", note=note) for c in members]
        elif siren.startswith("21"):
            insee = _commune_by_siren(siren, name, ref)
            rows.append(dict(base, insee_com=insee, via="commune",
                             note=f"Commune donnée par son SIREN {siren} ({name})."))
        else:
            raise ValueError(f"{spec.file}: unknown member {siren} of {rec['code']}")
    return pd.DataFrame(rows)


def read_list(key: str, ref, lists_dir: Path = LISTS_DIR) -> pd.DataFrame:
    """One public list as communes of the reference.

    Parameters
    ----------
    key : str
        A key of :data:`LISTS` (``"146"``, ``"148"``, ``"149"``, ``"2023-11"``, ``"2024-07"``).
    ref : tdi_geo.importers._perimeter_checks.Reference
        The reference communes, EPCI and former commune codes.

    Returns
    -------
    DataFrame
        ``code`` (official code, normalised to ``TIrrnn``), ``label``,
        ``insee_com`` (empty for a commune code that no longer exists),
        ``via`` (``commune``, ``epci``, ``merged_epci``, ``ept``), ``source_item``
        (the code as the list gives it) and ``note`` (French, empty when the
        code was used as it is).
    """
    spec = LISTS[key]
    table = _read(spec, lists_dir)
    out = _commune_rows(spec, table, ref) if spec.layout == "communes" else _epci_rows(spec, table, ref, lists_dir)
    out["code"] = out["code"].map(normalise_code)
    return out.reset_index(drop=True)
