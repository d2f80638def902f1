"""Build the embedded programme dataset ``geodata/programme/*.csv``.

Run ``python scripts/build_programme_data.py`` (or ``--out DIR`` to write
elsewhere). The build is deterministic: same inputs, same bytes.

Inputs, all committed in the repository:

- ``geodata/programme/sources/documented_territories.csv`` — the research table
  of 2018-2019 territories (names, régions, EPCI names as written in the
  sources, phase, source URLs, confidence), without its quotes;
- ``geodata/programme/sources/territory_decisions.csv`` — what this project
  does with each documented row (territory id and name, région, entry date,
  documented / illustrative / merged / excluded, anchor EPCIs of illustrative
  perimeters, French note);
- ``geodata/programme/sources/crosswalk_reviewed.csv`` — reviewed matches of
  old EPCI names that a plain name comparison cannot make (mergers, renamings,
  inferences, exceptions);
- ``geodata/programme/sources/commune_members.csv`` — territories drawn with
  communes instead of whole EPCIs (an EPT, an industrial zone);
- ``geodata/programme/national_figures.csv`` — the seed's national figures,
  the targets of the status and project tables;
- the committed reference geography (:mod:`tdi_geo.reference`).

Everything that is not in a source is generated here and marked
``illustrative``; ``docs/PROGRAMME_DATA.md`` explains each rule.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a fresh clone without installing the package
    sys.path.insert(0, str(ROOT))

from tdi_geo.reference import load_communes, load_epci, region_names  # noqa: E402

PROGRAMME_DIR = ROOT / "geodata" / "programme"
SOURCES_DIR = PROGRAMME_DIR / "sources"
SEED = 20190924

PRESS_RELEASE = "Communiqué de presse du 24 septembre 2019 (geodata/sources/000_3af200a01a20ee1d.txt)"
BDT_REVIEW = "https://www.banquedesterritoires.fr/un-premier-bilan-pour-les-territoires-dindustrie"

#: The four perimeter versions of 2018-2019 with their sourced national counts.
VERSIONS = pd.DataFrame(
    [
        ("2018-11-22", "Lancement", 124, "https://cget.gouv.fr/dossiers/territoires-dindustrie ; societe.com, 23 novembre 2018"),
        ("2019-03-05", "Assemblée générale de Lyon", 136,
         "banquedesterritoires.fr, « douze nouveaux territoires labellisés » ; acteursdeleconomie.latribune.fr, 6 mars 2019"),
        ("2019-07-25", "Été 2019", 141,
         "centre-val-de-loire.dreets.gouv.fr, 25 juillet 2019 ; nosdeputes.fr, question écrite 20408 (« 136, puis 141 »)"),
        ("2019-09-24", "Comité de pilotage national", 144, f"{PRESS_RELEASE} ; {BDT_REVIEW}"),
    ],
    columns=["date", "label", "expected_territories", "source"],
)
LAST_DATE = "2019-09-24"

#: Purely illustrative territories added per région and date, so that each
#: version reaches its national count while the documented régional counts
#: hold (see docs/PROGRAMME_DATA.md, « Régional budget »). "02" = Martinique.
ILLUSTRATIVE_SLOTS: dict[str, dict[str, int]] = {
    "84": {"2018-11-22": 8, "2019-03-05": 1},
    "24": {"2019-03-05": 2},
    "27": {"2018-11-22": 1, "2019-03-05": 2},
    "32": {"2018-11-22": 9},
    "93": {"2019-07-25": 1},
    "02": {"2019-03-05": 1, "2019-07-25": 1},
    "03": {"2019-07-25": 1},
    "52": {"2018-11-22": 4},
    "11": {"2018-11-22": 6},
    "53": {"2018-11-22": 5},
}
#: Départements whose territories are all known (Isère 3, Pas-de-Calais 4,
#: Mayenne 4, Maine-et-Loire 3, Vendée 1), Paris, and Finistère (kept clear
#: of the 2021 contract): no illustrative cluster is drawn there.
EXCLUDED_DEPARTEMENTS = {"38", "62", "53", "49", "85", "75", "29"}
#: Régions where one interested EPCI forms one territory (Bretagne), and the
#: DROM, whose EPCIs are large: illustrative territories there are single EPCIs.
SINGLE_EPCI_REGIONS = {"53", "01", "02", "03", "04", "06"}

#: Protocols and contracts signed by 24 Sept 2019 that a source dates.
DOCUMENTED_SIGNATURES = [
    ("carros", "2019-03-18", "protocol_signed",
     "https://www.petitesaffiches.fr/actualites,069/economie,045/territoires-d-industrie-carros,14511.html ; "
     "https://marseille.latribune.fr/economie/2019-03-18/carros-ce-territoire-d-industrie-qui-tire-le-premier-811125.html"),
    ("nord-franche-comte", "2019-03-19", "contract_signed",
     "https://france3-regions.francetvinfo.fr/bourgogne-franche-comte/nord-franche-comte-mise-contrat-territoire-industrie-1648418.html"),
    ("auxois-morvan", "2019-03-21", "protocol_signed",
     "https://www.echodescommunes.fr/actualite_2801_avec-le-seul-protocole-territoires-d-industrie-de-cate-d-or-le-pays-de-l-auxois-rejoint-les-10-premiers-territoires-pilotes-au-plan-national.html ; "
     "https://www.auxoismorvan.fr/territoire-industrie-auxois-morvan/"),
    ("grand-orly-seine-bievre", "2019-03-22", "protocol_signed",
     "https://deveco.grandorlyseinebievre.fr/informations-transversales/actualites/territoire-dindustrie-le-protocole-daccord-est-signe-458"),
    ("lacq-pau-tarbes", "2019-03-25", "protocol_signed",
     "https://agglo-tlp.fr/actualite/fiche/137 ; https://www.cc-lacqorthez.fr/article/territoire-dindustrie-lacq-pau-tarbes-le-contrat-est-signe.html"),
    ("grand-est-touraine", "2019-04-23", "protocol_signed",
     "https://www.touraineestvallees.fr/actualites/territoire-dindustrie-grand-est-touraine/"),
    ("lacq-pau-tarbes", "2019-07-15", "contract_signed",
     "https://www.cc-lacqorthez.fr/article/territoire-dindustrie-lacq-pau-tarbes-le-contrat-est-signe.html"),
    ("aurillac-figeac-rodez", "2019-07-30", "contract_signed", "https://blogdesbourians.fr/un-territoire-dindustrie"),
]
#: « All 9 Centre-Val de Loire territories had signed by 24 Sept 2019 »: the
#: named ones without a known date get a contract observed on that day.
CVL_SIGNED_BY_SEPT = ["bourges-vierzon", "issoudun", "pithiviers", "montargis", "vallee-du-loir", "vallee-du-cher"]
#: Territories whose first protocol or contract a source dates after
#: 24 Sept 2019: never signed in this dataset. Grand Est signed on
#: 19 Nov 2019 except Sud-Alsace and Bazancourt-Pomacle (earlier, undated);
#: Nouvelle-Aquitaine signed its 14 contracts in Dec 2019 - Jan 2020.
SIGNED_LATER = {
    "la-tour-du-pin-gresivaudan", "gers-tarn-et-garonne", "creusot-montceau", "bassin-nazairien",
    "lamballe-terre-et-mer",
}
SIGNED_LATER_REGIONS = {"44", "75"}
EARLY_GRAND_EST_SIGNERS = ["sud-alsace", "bazancourt-pomacle"]
AURA_PILOTS = ["annecy", "montlucon", "le-puy-en-velay", "vienne-condrieu"]
#: Documented pilot territories (« préfigurateurs », launched Jan 2019): at
#: work by September, so never drawn as merely identified.
PILOTS = set(AURA_PILOTS) | {"creusot-montceau", "aix-marseille-provence", "nord-franche-comte",
                             "auxois-morvan", "carros", "grand-orly-seine-bievre"}
#: Documented project counts (the source's « fiches actions » or projects
#: at signature), dated on that signature.
DOCUMENTED_PROJECT_COUNTS = {"grand-est-touraine": (21, "2019-04-23"), "lacq-pau-tarbes": (29, "2019-07-15")}
PILLAR_WEIGHTS = {"recruter": 0.30, "innover": 0.27, "attirer": 0.28, "simplifier": 0.15}
FIFTH_PILLAR = "transition_ecologique"
FIFTH_PILLAR_PROJECTS = 6
TERRITOIRES_INNOVATION_PROJECTS = 12
FIRST_COMMITTEE = "2019-01-07"
SPRING_END = "2019-04-30"
SPRING_SHARE = 0.75

_PREFIXES = (
    "communaute de communes", "communaute d agglomeration", "communaute urbaine", "communaute",
    "metropole", "agglomeration", "agglo", "intercom", "cc", "ca", "cu", "ept",
)
_STOPWORDS = {"de", "du", "des", "la", "le", "les", "l", "d", "et", "en", "sur"}


# --------------------------------------------------------------------------- helpers


def _normalise(name: str) -> str:
    """Comparable key of an EPCI name: no accents, case, prefixes or stopwords."""
    text = name.replace("œ", "oe").replace("Œ", "oe").replace("’", " ")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", " ", text)
    text = " " + text + " "
    for prefix in _PREFIXES:
        text = text.replace(f" {prefix} ", " ")
    return " ".join(t for t in text.split() if t not in _STOPWORDS)


def _slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def _urls(text: str) -> str:
    """The URLs of a source cell, ``" ; "``-separated (``github:`` refs made URLs)."""
    out = []
    for match in re.finditer(r"(https?://\S+|github:(\S+) (\S+) @([0-9a-f]{40}))", text):
        if match.group(2):
            out.append(f"https://github.com/{match.group(2)}/blob/{match.group(4)}/{match.group(3)}")
        else:
            out.append(match.group(1).rstrip(";,"))
    return " ; ".join(dict.fromkeys(out))


def _split_names(cell: str) -> tuple[list[str], list[str]]:
    """Split an ``epci_names`` cell into EPCI names and unnamed-member remarks."""
    names, unnamed = [], []
    for item in cell.split(" | "):
        item = item.strip()
        if not item or item.startswith(("(", "unknown")):
            unnamed.append(item)
            continue
        names.append(re.split(r" \(| — |;", item)[0].strip())
    return names, unnamed


def _region_codes(text: str) -> list[str]:
    by_key = {_normalise(v): k for k, v in region_names().items()}
    return [by_key[_normalise(part)] for part in text.split("/")]


def _read(name: str, directory: Path = SOURCES_DIR) -> pd.DataFrame:
    return pd.read_csv(directory / name, dtype=str, keep_default_na=False)


def _days(start: str, end: str) -> int:
    return (pd.Timestamp(end) - pd.Timestamp(start)).days


def _date_between(rng: np.random.Generator, start: str, end: str) -> str:
    span = max(_days(start, end), 0)
    return (pd.Timestamp(start) + pd.Timedelta(days=int(rng.integers(0, span + 1)))).strftime("%Y-%m-%d")


def _scaled_integers(rng: np.random.Generator, n: int, total: int, sigma: float, step: int = 1000) -> np.ndarray:
    """``n`` skewed positive integer amounts (multiples of ``step``) summing to ``total``."""
    weights = rng.lognormal(0.0, sigma, n)
    amounts = np.floor(weights / weights.sum() * total / step).astype(np.int64) * step
    amounts = np.maximum(amounts, step)
    amounts[np.argmax(amounts)] += total - amounts.sum()
    return amounts


# --------------------------------------------------------------------------- crosswalk


def build_crosswalk(documented: pd.DataFrame, reviewed: pd.DataFrame, epci: pd.DataFrame) -> pd.DataFrame:
    """Match every EPCI name of the high/partial/label rows to a reference EPCI.

    Returns one row per (documented row, documented name, SIREN) with the
    columns ``territory, documented_name, region, siren, current_name, basis,
    valid_from, reasoning, reviewed``. ``siren`` is empty for exceptions.
    """
    epci = epci.assign(key=epci["name"].map(_normalise))
    regions_of = epci["regions"].str.split(",")
    rows = []
    for row in documented.itertuples():
        mine = reviewed[reviewed["territory"].map(lambda t: row.name.startswith(t))]
        if row.confidence == "name_only" and not len(mine):
            continue
        codes = _region_codes(row.region)
        pool = epci[regions_of.map(lambda regs: any(c in regs for c in codes))]
        names, _ = _split_names(row.epci_names)
        extra = [n for n in mine["documented_name"] if n not in names]
        for name in names + list(dict.fromkeys(extra)):
            hits = mine[mine["documented_name"] == name]
            if len(hits):
                for hit in hits.itertuples():
                    ref = epci[epci["siren"] == hit.siren]
                    rows.append(dict(territory=row.name, documented_name=name,
                                     region=ref["region"].iloc[0] if len(ref) else codes[0],
                                     siren=hit.siren, current_name=ref["name"].iloc[0] if len(ref) else "",
                                     basis=hit.basis, valid_from=hit.valid_from, reasoning=hit.reasoning,
                                     reviewed=True))
                continue
            key = _normalise(name)
            exact = pool[pool["key"] == key]
            if len(exact) == 1:
                match, why = exact, "Même nom après normalisation (accents, casse, préfixes CC/CA/CU/Métropole)."
            else:
                tokens = set(key.split())
                within = pool[pool["key"].map(lambda k: tokens <= set(k.split()))]
                if len(within) != 1:
                    raise ValueError(f"{row.name!r}: no unique reference EPCI for {name!r}; add a reviewed row")
                match, why = within, "Nom documenté contenu dans le nom actuel (sigle ou complément en plus)."
            rows.append(dict(territory=row.name, documented_name=name, region=match["region"].iloc[0],
                             siren=match["siren"].iloc[0], current_name=match["name"].iloc[0],
                             basis="source", valid_from="", reasoning=why, reviewed=False))
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- territories and memberships


def _documented_part(documented, decisions, crosswalk, commune_members):
    """Territories and memberships of the rows treated as documented."""
    merged = documented.merge(decisions, on="name", suffixes=("", "_decision"))
    territories, members = [], []
    for tid, group in merged[merged["treatment"].isin(["documented", "merged"])].groupby("territory_id", sort=True):
        lead = group[group["treatment"] == "documented"].iloc[0]
        source = " ; ".join(dict.fromkeys(u for cell in group["source"] for u in _urls(cell).split(" ; ") if u))
        links = crosswalk[crosswalk["territory"].isin(group["name"])]
        notes = [lead["note"]] if lead["note"] else []
        exceptions = links[links["basis"] == "exception"]
        for ex in exceptions.itertuples():
            notes.append(f"Non apparié : « {ex.documented_name} » — {ex.reasoning}")
        sourced = group[(group["treatment"] == "documented") & (group["confidence"] != "name_only")]
        unnamed = sum(len(_split_names(cell)[1]) for cell in sourced["epci_names"])
        if unnamed:
            notes.append(f"Membre(s) non nommé(s) par la source : {unnamed}.")
        partial = bool((group["confidence"] == "partial").any() or (group["treatment"] == "merged").any()
                       or len(exceptions) or unnamed)
        territories.append(dict(id=tid, name=lead["territory_name"], region=lead["region_decision"],
                                provenance="documented", partial=partial, source=source, note=" ".join(notes)))
        whole = links[links["basis"].isin(["source", "inference"])]
        for link in whole.drop_duplicates("siren").itertuples():
            members.append(dict(territory_id=tid, epci_siren=link.siren, insee_com="",
                                valid_from=link.valid_from or lead["valid_from"], valid_to="", basis=link.basis,
                                source=source, note=link.reasoning if link.reviewed else ""))
        for com in commune_members[commune_members["territory_id"] == tid].itertuples():
            members.append(dict(territory_id=tid, epci_siren="", insee_com=com.insee_com,
                                valid_from=lead["valid_from"], valid_to="", basis=com.basis,
                                source=source, note=com.note))
    return territories, members


def _named_illustrative_part(documented, decisions):
    """Documented names whose composition is illustrative, drawn on anchor EPCIs."""
    merged = documented.merge(decisions, on="name", suffixes=("", "_decision"))
    territories, members = [], []
    for row in merged[merged["treatment"] == "illustrative"].sort_values("territory_id").itertuples():
        territories.append(dict(id=row.territory_id, name=row.territory_name, region=row.region_decision,
                                provenance="illustrative", partial=False, source="",
                                note=f"{row.note} Nom attesté par : {_urls(row.source)}"))
        for siren in row.anchors.split():
            members.append(dict(territory_id=row.territory_id, epci_siren=siren, insee_com="",
                                valid_from=row.valid_from, valid_to="", basis="illustrative", source="",
                                note="Choix illustratif : EPCI désigné par le nom du territoire."))
    return territories, members


def _neighbours(epci: pd.DataFrame) -> dict[str, set[str]]:
    """SIREN → SIRENs of touching EPCIs (metropolitan France, metric CRS)."""
    metro = epci[~epci["region"].str.startswith("0")].to_crs("EPSG:2154")[["siren", "geometry"]]
    grown = metro.assign(geometry=metro.buffer(50))
    pairs = grown.sjoin(metro, predicate="intersects")
    pairs = pairs[pairs["siren_left"] != pairs["siren_right"]]
    out: dict[str, set[str]] = {}
    for left, right in zip(pairs["siren_left"], pairs["siren_right"]):
        out.setdefault(left, set()).add(right)
    return out


def _vendee_est(epci, used, neighbours):
    """Vendée-Est: the three easternmost EPCIs of Vendée (85) that touch each other."""
    vendee = epci[(epci["departement"] == "85") & ~epci["siren"].isin(used)].to_crs("EPSG:2154")
    east = vendee.assign(x=vendee.geometry.centroid.x).sort_values(["x", "siren"], ascending=[False, True])
    chosen = [east["siren"].iloc[0]]
    for siren in east["siren"].iloc[1:]:
        if len(chosen) == 3:
            break
        if neighbours.get(siren, set()) & set(chosen):
            chosen.append(siren)
    return chosen


def _cluster_part(epci, used, avoid, neighbours, rng):
    """Purely illustrative clusters of 1-4 touching EPCIs filling ILLUSTRATIVE_SLOTS.

    ``avoid`` lists EPCIs that may be the unnamed members of a partial
    documented territory: no made-up territory is drawn on them.
    """
    names = region_names()
    pool = epci[epci["type"].isin(["CC", "CA"]) & ~epci["departement"].isin(EXCLUDED_DEPARTEMENTS)]
    pool = pool[~pool["siren"].isin(avoid)]
    pool = pool[(pool["population"] >= 10000) | pool["region"].str.startswith("0")]
    territories, members = [], []
    for region in sorted(ILLUSTRATIVE_SLOTS):
        number = 0
        for date in VERSIONS["date"]:
            for _ in range(ILLUSTRATIVE_SLOTS[region].get(date, 0)):
                free = sorted(set(pool.loc[pool["region"] == region, "siren"]) - used)
                if not free:
                    raise ValueError(f"no free EPCI left for an illustrative territory in région {region}")
                cluster = [free[int(rng.integers(len(free)))]]
                size = 1 if region in SINGLE_EPCI_REGIONS else int(rng.integers(1, 5))
                while len(cluster) < size:
                    around = sorted(set().union(*(neighbours.get(s, set()) for s in cluster)) & set(free) - set(cluster))
                    if not around:
                        break
                    cluster.append(around[int(rng.integers(len(around)))])
                used.update(cluster)
                number += 1
                tid = f"illustratif-{_slug(names[region])}-{number}"
                territories.append(dict(
                    id=tid, name=f"Territoire illustratif — {names[region]} n°{number}", region=region,
                    provenance="illustrative", partial=False, source="",
                    note="Territoire fictif, ajouté pour que la carte atteigne le nombre national de territoires "
                         "de la version ; nom et composition illustratifs."))
                for siren in sorted(cluster):
                    members.append(dict(territory_id=tid, epci_siren=siren, insee_com="", valid_from=date,
                                        valid_to="", basis="illustrative", source="",
                                        note="Choix illustratif (groupe d'EPCI voisins tiré au sort)."))
    return territories, members


def build_perimeters(sources: dict[str, pd.DataFrame], epci: pd.DataFrame, communes: pd.DataFrame, rng):
    """Return (territories, memberships, crosswalk) frames."""
    documented, decisions = sources["documented"], sources["decisions"]
    crosswalk = build_crosswalk(documented, sources["reviewed"], epci)
    terr_doc, mem_doc = _documented_part(documented, decisions, crosswalk, sources["commune_members"])
    terr_ill, mem_ill = _named_illustrative_part(documented, decisions)
    members = pd.DataFrame(mem_doc + mem_ill)
    # EPCIs partly or wholly used are off limits for the illustrative clusters.
    used = set(members["epci_siren"]) | set(communes.loc[communes["insee_com"].isin(members["insee_com"]), "epci_siren"])
    used.discard("")
    neighbours = _neighbours(epci)
    vendee = _vendee_est(epci, used, neighbours)
    used.update(vendee)
    mem_vendee = [dict(territory_id="vendee-est", epci_siren=s, insee_com="", valid_from=LAST_DATE, valid_to="",
                       basis="illustrative", source="",
                       note="Choix illustratif : EPCI les plus à l'est de la Vendée.") for s in sorted(vendee)]
    partial = {t["id"] for t in terr_doc if t["partial"]}
    partial_members = set(members.loc[members["territory_id"].isin(partial), "epci_siren"]) - {""}
    avoid = set().union(*(neighbours.get(s, set()) for s in partial_members))
    terr_cl, mem_cl = _cluster_part(epci, used, avoid, neighbours, rng)
    territories = pd.DataFrame(terr_doc + terr_ill + terr_cl).sort_values("id", ignore_index=True)
    memberships = pd.DataFrame(mem_doc + mem_ill + mem_vendee + mem_cl)
    memberships = memberships.sort_values(["territory_id", "valid_from", "epci_siren", "insee_com"], ignore_index=True)
    return territories, memberships, crosswalk


# --------------------------------------------------------------------------- status events


def _territory_frame(territories, memberships, epci, communes, sources):
    """Per territory: région, entry date, population, name source, entry documented?"""
    start = memberships.groupby("territory_id")["valid_from"].min()
    pop_epci = memberships.merge(epci[["siren", "population"]], left_on="epci_siren", right_on="siren")
    pop_com = memberships.merge(communes[["insee_com", "population"]], on="insee_com")
    population = pd.concat([pop_epci, pop_com]).groupby("territory_id")["population"].sum()
    decisions = sources["decisions"].merge(sources["documented"][["name", "source"]], on="name")
    decisions = decisions[decisions["treatment"].isin(["documented", "illustrative"])]
    name_source = decisions.set_index("territory_id")["source"].map(_urls)
    entry_doc = decisions.set_index("territory_id")["entry_documented"] == "true"
    frame = territories.set_index("id")[["region", "provenance", "source"]].copy()
    frame["valid_from"] = start
    frame["population"] = population
    frame["name_source"] = name_source.reindex(frame.index).fillna("")
    frame["entry_documented"] = entry_doc.reindex(frame.index).fillna(False).astype(bool)
    return frame.sort_index()


def build_status_events(frame: pd.DataFrame, targets: dict[str, float], rng) -> pd.DataFrame:
    """Status events whose state at 24 Sept 2019 matches the national figures."""
    n_total = int(targets["territories"])
    n_signed = int(targets["signed"])
    # « 65 % finalising » counts the engaged ones; signed + engaged is the « 85 % engaged ».
    n_engaged = round(targets["finalising_share"] * n_total)
    n_identified = n_total - n_signed - n_engaged
    n_fragile = int(targets["fragile"])
    events = []

    def add(tid, date, status, provenance, source="", fragile=False):
        events.append(dict(territory_id=tid, date=date, status=status, fragile=fragile,
                           provenance=provenance, source=source))

    # 1. signatures: documented first, then illustrative ones up to the target.
    signed_on: dict[str, str] = {}
    for tid, date, status, source in DOCUMENTED_SIGNATURES:
        add(tid, date, status, "documented", source)
        signed_on.setdefault(tid, date)
    for tid in CVL_SIGNED_BY_SEPT:
        add(tid, LAST_DATE, "contract_signed", "documented", BDT_REVIEW)
        signed_on[tid] = LAST_DATE
    early = frame["valid_from"] <= "2019-03-05"
    cvl_rest = sorted(set(frame.index[frame["region"] == "24"]) - set(signed_on))
    illustrative_signers = EARLY_GRAND_EST_SIGNERS + AURA_PILOTS
    # « Pays de la Loire: 1 of its 14 territories had signed », which one is not said.
    pays_de_la_loire = sorted(set(frame.index[(frame["region"] == "52") & early]) - SIGNED_LATER)
    illustrative_signers.append(pays_de_la_loire[int(rng.integers(len(pays_de_la_loire)))])
    eligible = frame.index[early & ~frame["region"].isin(SIGNED_LATER_REGIONS | {"24", "52"})]
    eligible = sorted(set(eligible) - SIGNED_LATER - set(signed_on) - set(illustrative_signers))
    missing = n_signed - len(signed_on) - len(illustrative_signers) - len(cvl_rest)
    illustrative_signers += [eligible[i] for i in sorted(rng.choice(len(eligible), missing, replace=False))]
    illustrative_signers += cvl_rest
    # « 13 protocols by 30 April 2019 »: the first illustrative signers sign in spring.
    spring = 13 - sum(d <= "2019-04-30" for d in signed_on.values())
    for k, tid in enumerate(illustrative_signers):
        window = ("2019-03-18", "2019-04-30") if k < spring else ("2019-05-02", "2019-09-20")
        start = max(window[0], (pd.Timestamp(frame.at[tid, "valid_from"]) + pd.Timedelta(days=60)).strftime("%Y-%m-%d"))
        date = _date_between(rng, start, max(start, window[1]))
        status = "contract_signed" if rng.random() < 0.3 else "protocol_signed"
        add(tid, date, status, "illustrative")
        signed_on[tid] = date
    # 2. identified at 24 Sept: every territory added after March, plus a draw.
    not_signed = sorted(set(frame.index) - set(signed_on))
    late = [t for t in not_signed if frame.at[t, "valid_from"] > "2019-03-05"]
    # Grand Est and Nouvelle-Aquitaine signed in the next months, as did the
    # SIGNED_LATER territories: they were finalising their plans in September.
    others = [t for t in not_signed if t not in late and t not in SIGNED_LATER | PILOTS
              and frame.at[t, "region"] not in SIGNED_LATER_REGIONS]
    picks = rng.choice(len(others), n_identified - len(late), replace=False)
    identified = set(late) | {others[i] for i in picks}
    engaged = sorted(set(not_signed) - identified)
    assert len(engaged) == n_engaged, (len(engaged), n_engaged)
    # 3. entry events, then engagement (before any signature).
    for tid in frame.index:
        doc = frame.at[tid, "entry_documented"]
        source = frame.at[tid, "name_source"] if doc else ""
        add(tid, frame.at[tid, "valid_from"], "identified", "documented" if doc else "illustrative", source)
        if tid in identified:
            continue
        start = max(FIRST_COMMITTEE, (pd.Timestamp(frame.at[tid, "valid_from"]) + pd.Timedelta(days=30)).strftime("%Y-%m-%d"))
        end = signed_on.get(tid, "2019-09-21")
        end = (pd.Timestamp(end) - pd.Timedelta(days=7)).strftime("%Y-%m-%d")
        add(tid, _date_between(rng, min(start, end), end), "engaged", "illustrative")
    # 4. fragile: announced on 24 Sept, list unpublished → illustrative, among the
    #    territories that are not signed, favouring the less populated.
    candidates = [t for t in sorted(set(frame.index) - set(signed_on)) if frame.at[t, "valid_from"] < LAST_DATE]
    weights = 1 / np.sqrt(frame.loc[candidates, "population"].clip(lower=1000).to_numpy(dtype=float))
    fragile = sorted(candidates[i] for i in rng.choice(len(candidates), n_fragile, replace=False, p=weights / weights.sum()))
    for tid in fragile:
        add(tid, LAST_DATE, "identified" if tid in identified else "engaged", "illustrative", fragile=True)
    events = pd.DataFrame(events).sort_values(["territory_id", "date"], ignore_index=True)
    if events.duplicated(["territory_id", "date"]).any():
        raise ValueError("two status events of one territory on the same date")
    return events


# --------------------------------------------------------------------------- projects


def build_projects(frame: pd.DataFrame, events: pd.DataFrame, targets: dict[str, float], rng) -> pd.DataFrame:
    """Illustrative projects whose totals at 24 Sept 2019 match the national figures."""
    n_projects = int(targets["projects"])
    n_committed = int(targets["projects_committed"])
    latest = events.sort_values("date").groupby("territory_id").last()["status"]
    status = latest.reindex(frame.index)
    base = status.map({"contract_signed": 5.0, "protocol_signed": 5.0, "engaged": 2.5, "identified": 0.4})
    base[frame["valid_from"] >= "2019-07-25"] = 0.0
    base[list(DOCUMENTED_PROJECT_COUNTS)] = 0.0
    weights = base * rng.gamma(2.0, 0.5, len(base))
    n_free = n_projects - sum(n for n, _ in DOCUMENTED_PROJECT_COUNTS.values())
    counts = pd.Series(rng.multinomial(n_free, (weights / weights.sum()).to_numpy()), index=frame.index)
    rows = []
    for tid, n in counts.items():
        start = max(FIRST_COMMITTEE, frame.at[tid, "valid_from"])
        for _ in range(int(n)):
            # « About 330 projects by 30 April 2019 »: most projects date from the spring.
            if start <= SPRING_END and rng.random() < SPRING_SHARE:
                date = _date_between(rng, start, SPRING_END)
            else:
                date = _date_between(rng, max(start, "2019-05-01"), "2019-09-23")
            rows.append(dict(territory_id=tid, date=date))
    for tid, (n, date) in DOCUMENTED_PROJECT_COUNTS.items():
        rows += [dict(territory_id=tid, date=date)] * n
    projects = pd.DataFrame(rows)
    pillars = list(PILLAR_WEIGHTS)
    projects["pillar"] = rng.choice(pillars, len(projects), p=list(PILLAR_WEIGHTS.values()))
    # The 5th pillar was created on 24 Sept 2019: a few projects are filed under it that day.
    fifth = rng.choice(np.flatnonzero(status.reindex(projects["territory_id"]).ne("identified").to_numpy()),
                       FIFTH_PILLAR_PROJECTS, replace=False)
    projects.loc[fifth, "pillar"] = FIFTH_PILLAR
    projects.loc[fifth, "date"] = LAST_DATE
    # State / operator commitments, more likely on signed territories.
    commit_weight = status.reindex(projects["territory_id"]).map(
        {"contract_signed": 3.0, "protocol_signed": 3.0, "engaged": 1.0, "identified": 0.2}).to_numpy()
    committed = rng.choice(len(projects), n_committed, replace=False, p=commit_weight / commit_weight.sum())
    projects["state_commitment"] = False
    projects.loc[committed, "state_commitment"] = True
    projects["amount_state_operators_eur"] = 0
    projects.loc[np.sort(committed), "amount_state_operators_eur"] = _scaled_integers(
        rng, n_committed, int(targets["state_operators_eur"]), sigma=1.1)
    innovation = rng.choice(np.sort(committed), TERRITOIRES_INNOVATION_PROJECTS, replace=False)
    projects["amount_territoires_innovation_eur"] = 0
    projects.loc[np.sort(innovation), "amount_territoires_innovation_eur"] = _scaled_integers(
        rng, TERRITOIRES_INNOVATION_PROJECTS, int(targets["territoires_innovation_eur"]), sigma=0.8, step=100000)
    # The 145 M€ are reported as « fléchés » on 24 Sept 2019: the money appears on that date.
    projects.loc[innovation, "date"] = LAST_DATE
    region_share = rng.random(len(projects)) < np.where(projects["state_commitment"], 0.7, 0.3)
    projects["amount_region_eur"] = np.where(
        region_share, np.round(rng.lognormal(11.5, 1.0, len(projects)), -3), 0).astype(np.int64)
    other_share = rng.random(len(projects)) < 0.6
    projects["amount_other_eur"] = np.where(
        other_share, np.round(rng.lognormal(11.8, 1.1, len(projects)), -3), 0).astype(np.int64)
    projects = projects.sort_values(["date", "territory_id", "pillar"], kind="stable", ignore_index=True)
    projects.insert(0, "id", [f"p{i:04d}" for i in range(1, len(projects) + 1)])
    projects["provenance"] = "illustrative"
    projects["source"] = ""
    return projects[["id", "territory_id", "pillar", "date", "state_commitment", "amount_state_operators_eur",
                     "amount_territoires_innovation_eur", "amount_region_eur", "amount_other_eur",
                     "provenance", "source"]]


# --------------------------------------------------------------------------- checks and output


def check_dataset(territories, memberships, events, projects, targets, communes) -> None:
    """Fail loudly when the generated data breaks a rule of docs/PROGRAMME_DATA.md."""
    expanded = memberships.merge(communes[["insee_com", "epci_siren"]].rename(columns={"epci_siren": "siren"}),
                                 left_on="epci_siren", right_on="siren", how="left", suffixes=("", "_c"))
    expanded["commune"] = expanded["insee_com_c"].where(expanded["epci_siren"] != "", expanded["insee_com"])
    for version in VERSIONS.itertuples():
        valid = memberships[(memberships["valid_from"] <= version.date)
                            & ((memberships["valid_to"] == "") | (memberships["valid_to"] > version.date))]
        n = valid["territory_id"].nunique()
        if n != version.expected_territories:
            raise ValueError(f"{version.date}: {n} territories, expected {version.expected_territories}")
        at = expanded[expanded["valid_from"] <= version.date].drop_duplicates(["territory_id", "commune"])
        twice = at[at.duplicated("commune", keep=False)]
        if len(twice):
            raise ValueError(f"{version.date}: communes in two territories: {sorted(twice['territory_id'].unique())}")
    latest = events[events["date"] <= LAST_DATE].sort_values("date").groupby("territory_id").last()
    signed = latest["status"].isin(["protocol_signed", "contract_signed"]).sum()
    assert signed == targets["signed"], signed
    assert latest["fragile"].sum() == targets["fragile"]
    now = projects[projects["date"] <= LAST_DATE]
    assert len(now) == targets["projects"]
    assert now["state_commitment"].sum() == targets["projects_committed"]
    assert now["amount_state_operators_eur"].sum() == targets["state_operators_eur"]
    assert now["amount_territoires_innovation_eur"].sum() == targets["territoires_innovation_eur"]


def _write(frame: pd.DataFrame, path: Path) -> None:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == bool:
            out[col] = out[col].map({True: "true", False: "false"})
    out.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def read_sources(programme_dir: Path = PROGRAMME_DIR) -> dict[str, pd.DataFrame]:
    """The committed inputs of the build."""
    sources = programme_dir / "sources"
    return {
        "documented": _read("documented_territories.csv", sources),
        "decisions": _read("territory_decisions.csv", sources),
        "reviewed": _read("crosswalk_reviewed.csv", sources),
        "commune_members": _read("commune_members.csv", sources),
        "national_figures": _read("national_figures.csv", programme_dir),
    }


def build(out_dir: Path = PROGRAMME_DIR) -> dict[str, pd.DataFrame]:
    """Build every programme table and write them as CSV into ``out_dir``."""
    rng = np.random.default_rng(SEED)
    sources = read_sources()
    figures = sources["national_figures"]
    targets = dict(zip(figures["indicator"], figures["value"].astype(float)))
    epci = load_epci("fine")
    communes = load_communes()
    territories, memberships, crosswalk = build_perimeters(sources, epci, communes, rng)
    frame = _territory_frame(territories, memberships, epci, communes, sources)
    events = build_status_events(frame, targets, rng)
    projects = build_projects(frame, events, targets, rng)
    check_dataset(territories, memberships, events, projects, targets, communes)
    public_crosswalk = (crosswalk[["documented_name", "region", "siren", "current_name", "reasoning"]]
                        .drop_duplicates().sort_values(["region", "documented_name", "siren"], ignore_index=True))
    tables = {
        "territories": territories[["id", "name", "region", "provenance", "partial", "source", "note"]],
        "memberships": memberships[["territory_id", "epci_siren", "insee_com", "valid_from", "valid_to",
                                    "basis", "source", "note"]],
        "versions": VERSIONS,
        "status_events": events,
        "projects": projects,
        "crosswalk": public_crosswalk,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, frame_ in tables.items():
        _write(frame_, out_dir / f"{name}.csv")
    if out_dir.resolve() != PROGRAMME_DIR.resolve():
        shutil.copyfile(PROGRAMME_DIR / "national_figures.csv", out_dir / "national_figures.csv")
    return tables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROGRAMME_DIR, help="output folder (default: geodata/programme)")
    args = parser.parse_args(argv)
    tables = build(args.out)
    for name, table in tables.items():
        print(f"{name}: {len(table)} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
