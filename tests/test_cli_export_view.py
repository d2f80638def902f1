"""Issue 11: the CLI's ``export`` reads the view with the page's and the routes' parser.

Same parameters, same French messages (exit code 2 on stderr where the route
answers 400), same files: the CLI's GeoJSON of a view is the route's, byte for byte.
"""

from __future__ import annotations

import json

import pytest
from starlette.applications import Starlette
from test_http_downloads import call

from tdi_geo import http_downloads
from tdi_geo.cli import main as cli_main
from tdi_geo.programme import DATASET_ENV


def _app(monkeypatch, tmp_path, dataset=None):
    monkeypatch.delenv(http_downloads.WORKSPACE_ENV, raising=False)
    if dataset is None:
        monkeypatch.delenv(DATASET_ENV, raising=False)
    else:
        monkeypatch.setenv(DATASET_ENV, str(dataset))
    return Starlette(routes=http_downloads.download_routes(tmp_path / "imports"))


@pytest.fixture()
def small_app(monkeypatch, tmp_path, small_dataset):
    return _app(monkeypatch, tmp_path, small_dataset)


def _cli(args: list[str], capsys) -> tuple[int, str]:
    code = cli_main(["export", *args])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("flags", "query"), [
    (["--date", "2030-01-01"], "date=2030-01-01"),
    # A valid ISO date that is not a perimeter version: the old CLI drew it, the page and routes refuse it.
    (["--date", "2019-08-01"], "date=2019-08-01"),
    (["--region", "99"], "region=99"),
    (["--region", "53", "--region", "99"], "region=53,99"),
    (["--pillar", "cuisine"], "pillar=cuisine"),
    (["--status", "fini"], "status=fini"),
    (["--fragile", "peut-etre"], "fragile=peut-etre"),
    (["--documented", "2"], "documented=2"),
    (["--from", "1999-01-01"], "from=1999-01-01"),
    (["--indicator", "bonheur"], "indicator=bonheur"),
    (["--classes", "hasard"], "classes=hasard"),
    (["--date", "2030-01-01", "--pillar", "cuisine"], "date=2030-01-01&pillar=cuisine"),
    (["--query", "?regions=53"], "regions=53"),
])
def test_a_bad_value_gives_the_routes_french_message_and_exit_code_2(small_app, small_dataset, tmp_path, capsys,
                                                                     flags, query):
    out = tmp_path / "vue.geojson"
    code, err = _cli(["--dataset", str(small_dataset), *flags, "-o", str(out)], capsys)
    status, _, body = call(small_app, "/api/territoires.geojson", query)
    assert status == 400
    assert code == 2
    assert err.strip() == "Erreur : " + json.loads(body)["erreur"]
    assert "Traceback" not in err and not out.exists()


def test_the_cli_geojson_of_region_53_is_the_routes_byte_for_byte(monkeypatch, tmp_path, capsys):
    app = _app(monkeypatch, tmp_path)  # the embedded data, as the CLI's default
    out = tmp_path / "bretagne.geojson"
    assert _cli(["--region", "53", "--format", "geojson", "-o", str(out)], capsys)[0] == 0
    status, _, body = call(app, "/api/territoires.geojson", "region=53")
    assert status == 200
    assert out.read_bytes() == body
    assert {f["properties"]["region"] for f in json.loads(body)["features"]} == {"53"}


@pytest.mark.parametrize(("flags", "query"), [
    (["--date", "2019-09-24", "--region", "53"], "date=2019-09-24&region=53"),
    (["--date", "2018-11-22", "--region", "53,27"], "date=2018-11-22&region=53,27"),
    (["--pillar", "innover", "--indicator", "funding_eur", "--classes", "fisher_jenks"],
     "pillar=innover&indicator=funding_eur&classes=fisher_jenks"),
    (["--status", "protocol_signed", "--status", "contract_signed", "--fragile"],
     "status=protocol_signed,contract_signed&fragile=1"),
    (["--documented", "oui", "--fragile", "0"], "documented=oui&fragile=0"),
    (["--from", "2018-11-22", "--region", "53"], "from=2018-11-22&region=53"),
    # A page URL pasted whole; a flag replaces its parameter.
    (["--query", "http://localhost:8501/?date=2018-11-22&region=27&territory=x&tiles=1", "--date", "2019-09-24"],
     "date=2019-09-24&region=27"),
])
@pytest.mark.parametrize("fmt", ["geojson", "csv", "xlsx"])
def test_every_parameter_gives_the_routes_file(small_app, small_dataset, tmp_path, capsys, flags, query, fmt):
    out = tmp_path / f"vue.{fmt}"
    code, err = _cli(["--dataset", str(small_dataset), *flags, "--format", fmt, "-o", str(out)], capsys)
    assert code == 0, err
    status, _, body = call(small_app, f"/api/territoires.{fmt}", query)
    assert status == 200
    assert out.read_bytes() == body, f"{fmt} of {flags}"


def test_filters_change_the_cli_file(small_dataset, tmp_path, capsys):
    def ids(*flags):
        out = tmp_path / "vue.geojson"
        assert _cli(["--dataset", str(small_dataset), *flags, "-o", str(out)], capsys)[0] == 0
        return {f["id"] for f in json.loads(out.read_bytes())["features"]}

    everything = ids()
    fragile = ids("--fragile")
    compared = ids("--from", "2018-11-22")
    assert fragile and fragile < everything
    assert compared - everything, "a comparison also lists the territories removed since"
