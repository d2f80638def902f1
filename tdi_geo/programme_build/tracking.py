"""Status events and projects of 2018-2019, mostly illustrative, matching the press release of 24 Sept 2019.

No public source gives the status, the projects or the funding of each
territory. The national figures of 24 Sept 2019 (``national_figures.csv``)
are sourced; so are a few signatures and project counts (below). The rest is
drawn with a fixed seed so that the national totals on 24 Sept 2019 equal the
press release, and every such row is marked ``illustrative``. Nothing is drawn
after 24 Sept 2019: later versions show « Pas de donnée ».
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEED = 20190924
PRESS_RELEASE = "Communiqué de presse du 24 septembre 2019 (geodata/sources/000_3af200a01a20ee1d.txt)"
BDT_REVIEW = "https://www.banquedesterritoires.fr/un-premier-bilan-pour-les-territoires-dindustrie"
LAST_DATE = "2019-09-24"

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




def check_tracking(events: pd.DataFrame, projects: pd.DataFrame, targets: dict[str, float]) -> None:
    """Fail loudly unless the state on 24 Sept 2019 equals the press release's figures."""
    latest = events[events["date"] <= LAST_DATE].sort_values("date").groupby("territory_id").last()
    checks = {
        "signed": int(latest["status"].isin(["protocol_signed", "contract_signed"]).sum()),
        "fragile": int(latest["fragile"].sum()),
        "projects": int((projects["date"] <= LAST_DATE).sum()),
        "projects_committed": int(projects.loc[projects["date"] <= LAST_DATE, "state_commitment"].sum()),
        "state_operators_eur": int(projects.loc[projects["date"] <= LAST_DATE, "amount_state_operators_eur"].sum()),
        "territoires_innovation_eur": int(
            projects.loc[projects["date"] <= LAST_DATE, "amount_territoires_innovation_eur"].sum()),
    }
    for name, value in checks.items():
        if value != targets[name]:
            raise ValueError(f"24 Sept 2019: {name} = {value}, the press release says {targets[name]}")
