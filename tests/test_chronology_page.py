"""The page's « Chronologie du périmètre » expander (Streamlit AppTest)."""

from __future__ import annotations

import html
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tdi_geo.chronology import chronology_panels
from tdi_geo.mapping.fmt import format_date
from tdi_geo.programme import load_programme

APP = str(Path(__file__).resolve().parents[1] / "app.py")
LABEL = "Télécharger la chronologie (PNG)"


def _captions(at) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", e.value)) for e in at.html if 'class="tdi-caption"' in e.value]


def test_chronology_is_drawn_only_when_opened_and_lists_each_step(monkeypatch, tmp_path):
    monkeypatch.delenv("TDI_GEO_DATASET", raising=False)
    monkeypatch.setenv("TDI_GEO_WORKSPACE", str(tmp_path / "imports"))
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception
    assert "Chronologie du périmètre" in [e.label for e in at.expander]
    assert LABEL not in [b.label for b in at.get("download_button")]  # closed: nothing drawn

    at.session_state["chronologie"] = True  # the visitor opens the expander
    at.run()
    assert not at.exception
    assert LABEL in [b.label for b in at.get("download_button")]
    shown = _captions(at)
    for panel in chronology_panels(load_programme()):
        line = next(t for t in shown if t.startswith(f"{format_date(panel['date'])} — {panel['label']} :"))
        assert f"{panel['territories']} territoires" in line
        for added in panel["added"]:
            assert added["name"] in line
    last = next(t for t in shown if t.startswith("24/09/2019"))
    assert "Ajoutés (3) : Lamballe Terre et Mer, Saint-Brieuc Baie d'Armor, Vendée-Est" in last
