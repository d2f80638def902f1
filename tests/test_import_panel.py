"""The import panel: anyone may preview an import; only an editor changes what everyone sees.

AppTest cannot upload a file, so the panel's publication rules are tested
with previews made by the library, and the whole path (upload in one browser,
nothing changes in another) in Chromium.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest
from conftest import serve_app
from import_samples import write_csv
from streamlit.testing.v1 import AppTest

from tdi_geo.importers import (
    EDITOR_SECRET_ENV,
    current_dataset,
    import_to_workspace,
    list_datasets,
    publication_log,
)

SECRET = "un code éditeur assez long"


def _script(workspace: Path) -> str:
    return (
        "from pathlib import Path\n"
        "import streamlit as st\n"
        "from app_panels.import_panel import configured_editor_secret, render_import_panel, session_preview\n"
        f"render_import_panel(Path({str(workspace)!r}), editor_secret=configured_editor_secret())\n"
        "st.text(f'PREVIEW={session_preview()}')\n"
    )


def _notices(at, kind: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", h.value)) for h in at.html if f"tdi-notice-{kind}" in h.value)


def _status_file(tmp_path: Path, name: str = "statuts.csv") -> Path:
    frame = pd.DataFrame({"territoire": ["Territoire Ain"], "date": ["2024-02-01"], "statut": ["Protocole signé"]})
    return write_csv(frame, tmp_path / name)


@pytest.fixture()
def workspace_with_preview(tmp_path, base):
    workspace = tmp_path / "imports"
    _, preview = import_to_workspace([_status_file(tmp_path)], workspace, base_dataset=base)
    return workspace, preview


class _Clock:
    """The editor-code guard's clock, moved by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """Every test starts with no wrong code counted, and a clock it moves itself."""
    from tdi_geo.importers._editor import GUARD

    GUARD.clear()
    fake = _Clock()
    monkeypatch.setattr(GUARD, "clock", fake)
    yield fake
    GUARD.clear()


def _panel(workspace: Path, preview: Path | None = None) -> AppTest:
    at = AppTest.from_string(_script(workspace), default_timeout=60)
    if preview is not None:
        at.session_state["tdi_preview"] = str(preview)  # what a successful import stores for its session
    return at.run()


def test_without_an_editor_code_configured_nobody_can_publish_from_the_app(workspace_with_preview, monkeypatch):
    monkeypatch.delenv(EDITOR_SECRET_ENV, raising=False)
    workspace, preview = workspace_with_preview
    at = _panel(workspace, preview)
    assert not at.exception
    assert "publication depuis l'application est désactivée" in _notices(at, "info")
    assert EDITOR_SECRET_ENV in _notices(at, "info"), "says how to enable it"
    assert not [b for b in at.button if b.key and b.key.startswith("editor_")]
    assert current_dataset(workspace) is None


def test_a_wrong_code_publishes_nothing_and_the_right_one_publishes_and_logs(workspace_with_preview, monkeypatch,
                                                                             clock):
    monkeypatch.setenv(EDITOR_SECRET_ENV, SECRET)
    workspace, preview = workspace_with_preview
    at = _panel(workspace, preview)
    at.text_input(key="editor_name").set_value("Camille (ANCT)")
    at.text_input(key="editor_code").set_value("devine")
    at.button(key="editor_publish").click().run()
    assert "Code éditeur manquant ou incorrect" in _notices(at, "error")
    assert current_dataset(workspace) is None
    assert [r["action"] for r in publication_log(workspace)] == ["editor_code_refused"]

    clock.now += 1  # the wait after one wrong code
    at.text_input(key="editor_code").set_value(SECRET)
    at.button(key="editor_publish").click().run()
    assert not at.exception
    assert current_dataset(workspace) == preview
    entry = publication_log(workspace)[-1]
    assert entry["action"] == "publish"
    assert entry["editor"] == "Camille (ANCT)" and entry["dataset"] == preview.name
    assert "PREVIEW=None" in at.text[0].value, "the preview became the published data"


@pytest.mark.parametrize("secret", ["", "   ", "court", "quinze-signes.."])
def test_a_blank_or_short_configured_secret_is_refused_with_a_french_message(workspace_with_preview, monkeypatch,
                                                                             secret):
    monkeypatch.setenv(EDITOR_SECRET_ENV, secret)
    workspace, preview = workspace_with_preview
    at = _panel(workspace, preview)
    assert not at.exception
    message = _notices(at, "error")
    assert "Code éditeur refusé" in message and "16 caractères" in message and EDITOR_SECRET_ENV in message
    assert not [b for b in at.button if b.key and b.key.startswith("editor_")], "nothing to publish with"
    assert current_dataset(workspace) is None


def _try_code(at, code: str) -> str:
    at.text_input(key="editor_code").set_value(code)
    at.button(key="editor_publish").click().run()
    return _notices(at, "error")


def test_wrong_codes_wait_longer_each_time_then_lock_the_session_and_its_address_for_15_minutes(
        workspace_with_preview, monkeypatch, clock, caplog):
    monkeypatch.setenv(EDITOR_SECRET_ENV, SECRET)
    workspace, preview = workspace_with_preview
    at = _panel(workspace, preview)
    at.text_input(key="editor_name").set_value("Camille")
    with caplog.at_level("WARNING", logger="tdi_geo.editor"):
        assert "Nouvel essai possible dans 1 s" in _try_code(at, "essai-1")
        assert "Attendez encore 1 s" in _try_code(at, SECRET), "even the right code waits"
        waits = []
        for attempt in range(2, 6):
            clock.now += 60
            waits.append(_try_code(at, f"essai-{attempt}"))
    assert "Nouvel essai possible dans 2 s" in waits[0] and "dans 4 s" in waits[1] and "dans 8 s" in waits[2]
    assert "5e code erroné en 15 minutes" in waits[3]
    clock.now += 60
    assert "Trop de codes éditeur erronés" in _try_code(at, SECRET), "locked: the right code is not even checked"
    # Another session from the same address is locked out too.
    other = _panel(workspace, preview)
    other.text_input(key="editor_name").set_value("Dominique")
    assert "Trop de codes éditeur erronés" in _try_code(other, SECRET)
    assert current_dataset(workspace) is None

    refused = [r for r in publication_log(workspace) if r["action"] == "editor_code_refused"]
    assert len(refused) == 5
    assert all(r["session"] and r["address"] and r["at"] and r["attempted"] == "publish" for r in refused)
    logged = (workspace / "publications.log").read_text(encoding="utf-8") + caplog.text
    assert "essai-" not in logged and SECRET not in logged, "the code tried is never written down"
    assert caplog.text.count("editor code refused") == 5

    clock.now += 15 * 60  # the oldest wrong codes leave the window
    at.text_input(key="editor_code").set_value(SECRET)
    at.button(key="editor_publish").click().run()
    assert current_dataset(workspace) == preview


def test_another_session_is_never_offered_someone_elses_preview(workspace_with_preview, monkeypatch):
    monkeypatch.setenv(EDITOR_SECRET_ENV, SECRET)
    workspace, preview = workspace_with_preview
    mine = _panel(workspace, preview)
    assert "Votre aperçu privé" in _notices(mine, "warning")
    other = _panel(workspace)
    assert "Votre aperçu privé" not in _notices(other, "warning")
    assert "PREVIEW=None" in other.text[0].value
    assert preview.name not in other.selectbox(key="editor_choice").options
    assert list_datasets(workspace) == []


def test_the_map_page_shows_this_sessions_preview_and_only_to_it(workspace_with_preview, monkeypatch, base):
    workspace, preview = workspace_with_preview
    monkeypatch.delenv("TDI_GEO_DATASET", raising=False)
    monkeypatch.setenv("TDI_GEO_WORKSPACE", str(workspace))
    app = str(Path(__file__).resolve().parents[1] / "app.py")
    mine = AppTest.from_file(app, default_timeout=120)
    mine.session_state["tdi_preview"] = str(preview)
    mine.run()
    assert not mine.exception
    assert "Aperçu privé" in _notices(mine, "warning")
    other = AppTest.from_file(app, default_timeout=120).run()
    assert "Aperçu privé" not in _notices(other, "warning")


def test_panel_helpers_parse_the_column_map():
    from app_panels.import_panel import parse_column_map

    mapping, errors = parse_column_map("Code commune=insee_com\n\nsans egal\n Grappe = lib_ti ")
    assert mapping == {"Code commune": "insee_com", "Grappe": "lib_ti"}
    assert len(errors) == 1 and "ligne 3" in errors[0].lower()


class _Upload:
    """What Streamlit's file_uploader hands over: a name, a size and the bytes."""

    def __init__(self, name, data):
        self.name, self._data, self.size = name, data, len(data)

    def getbuffer(self):
        return memoryview(self._data)


def test_panel_saves_uploads_and_imports_a_shapefile_once(tmp_path, monkeypatch):
    import app_panels.import_panel as panel

    uploads = [_Upload("liste.shp", b"x"), _Upload("liste.dbf", b"y"), _Upload("liste.shx", b"z"),
               _Upload("../suivi.csv", b"a;b"), _Upload("enorme.csv", b"0" * 2000),
               _Upload("statuts\u2028suite\u202e.csv", b"a;b")]
    monkeypatch.setattr(panel, "MAX_FILE_BYTES", 1000)
    files, errors = panel.save_uploads(uploads, tmp_path / "up")
    assert [f.name for f in files] == ["liste.shp", "suivi.csv", "statutssuite.csv"]  # no separator, no bidi mark
    assert (tmp_path / "up" / "liste.dbf").exists()  # kept beside the .shp for the reader
    assert not (tmp_path / "suivi.csv").exists()  # never written outside the upload folder
    assert len(errors) == 1 and "enorme.csv" in errors[0] and "trop volumineux" in errors[0]


@pytest.mark.browser
def test_an_upload_in_one_browser_is_a_private_preview_another_browser_never_sees(browser, tmp_path,
                                                                               tmp_path_factory):
    from tdi_geo.programme import load_programme

    name = load_programme().territories.query("provenance == 'documented'")["name"].iloc[0]
    upload = write_csv(pd.DataFrame({"territoire": [name], "date": ["2019-09-24"],
                                     "statut": ["Contrat signé"]}), tmp_path / "statuts_2019.csv")
    with serve_app(tmp_path_factory) as url:
        first = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = first.new_page()
        page.goto(url)
        page.get_by_role("tab", name="Importer des fichiers officiels").click()
        page.locator("input[type=file]").set_input_files(str(upload))
        page.get_by_role("button", name="Importer (aperçu privé)").click()
        page.get_by_text("Import réussi : aperçu privé").wait_for(timeout=90_000)
        page.get_by_role("tab", name="Carte").click()
        page.get_by_text("Aperçu privé : vous seul·e voyez").wait_for(timeout=90_000)

        second = browser.new_context(viewport={"width": 1400, "height": 1000})
        other = second.new_page()
        other.goto(url)
        other.locator(".tdi-legend").wait_for(timeout=90_000)
        other.get_by_text("Données du programme fournies avec l'application").wait_for(timeout=90_000)
        assert other.get_by_text("Aperçu privé").count() == 0
        first.close()
        second.close()


@pytest.mark.browser
def test_in_the_browser_a_short_secret_is_refused_and_a_wrong_code_makes_the_next_try_wait(browser, tmp_path_factory,
                                                                                          tmp_path):
    log = tmp_path / "serveur.log"
    with serve_app(tmp_path_factory, log=log, env={EDITOR_SECRET_ENV: "court"}) as url:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(url)
        page.get_by_role("tab", name="Importer des fichiers officiels").click()
        page.get_by_text("Publication (éditeurs)").click()
        page.get_by_text("Code éditeur refusé : 5 caractères").wait_for(timeout=90_000)
        assert page.get_by_role("button", name="Afficher ce jeu pour tous").count() == 0
        page.context.close()
    assert "Code éditeur refusé" in log.read_text(), "said at start-up, in the server's log"

    with serve_app(tmp_path_factory, log=log, env={EDITOR_SECRET_ENV: SECRET}) as url:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(url)
        page.get_by_role("tab", name="Importer des fichiers officiels").click()
        page.get_by_text("Publication (éditeurs)").click()
        page.get_by_label("Nom de l'éditeur ou de l'éditrice").fill("Camille")
        code, show = page.get_by_label("Code éditeur"), page.get_by_role("button", name="Afficher ce jeu pour tous")
        for attempt, wait in enumerate([1, 2, 4, 8], start=1):
            code.fill(f"devine-{attempt}")
            code.press("Enter")
            show.click()
            page.get_by_text(f"Nouvel essai possible dans {wait} s").wait_for(timeout=90_000)
            page.wait_for_timeout(wait * 1000 + 300)
        code.fill("devine-5")
        code.press("Enter")
        show.click()
        page.get_by_text("5e code erroné en 15 minutes").wait_for(timeout=90_000)
        code.fill(SECRET)
        code.press("Enter")
        show.click()
        page.get_by_text("Trop de codes éditeur erronés").wait_for(timeout=90_000)
        assert page.get_by_text("Jeu affiché pour tous").count() == 0
        page.context.close()
    assert log.read_text().count("editor code refused") == 5 and "devine" not in log.read_text()


@pytest.mark.browser
@pytest.mark.slow
def test_the_hostile_workbooks_and_an_ods_list_through_the_pages_validate_button(browser, tmp_path, tmp_path_factory,
                                                                                sample):
    """Each hostile workbook is refused with a French message naming it; the ODS twin of the ANCT list is valid."""
    import hostile_workbooks
    from import_samples import ods_bytes

    paths = []
    for name, build in hostile_workbooks.HOSTILE.values():
        paths.append(tmp_path / name)
        paths[-1].write_bytes(build())
    rows = [list(sample.communes.columns)] + sample.communes.values.tolist()
    (tmp_path / "liste_anct.ods").write_bytes(ods_bytes(rows))
    log = tmp_path / "serveur.log"
    with serve_app(tmp_path_factory, log=log) as url:
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(url)
        page.get_by_role("tab", name="Importer des fichiers officiels").click()
        page.locator("input[type=file]").set_input_files([str(p) for p in paths] + [str(tmp_path / "liste_anct.ods")])
        page.get_by_role("button", name="Valider").click()
        page.get_by_text("« liste_anct.ods » : liste de communes").wait_for(timeout=90_000)
        text = page.locator("[data-testid=stMain]").inner_text()
        for path in paths:
            assert re.search(rf"« {re.escape(path.name)} » : [^\n]* — 1 erreur", text), path.name
            assert f"« {path.name} »" in text.split(f"« {path.name} » :", 1)[1], "the error names the file"
        assert re.search(r"« liste_anct\.ods » : liste de communes[^\n]* — valide", text)
        assert page.locator("[data-testid=stException]").count() == 0
        page.context.close()
    assert "Traceback" not in log.read_text()
