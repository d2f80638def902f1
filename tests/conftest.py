"""Shared fixtures: a small programme dataset built here, and the browser switch.

The dataset uses real EPCI codes of the reference and made-up programme facts,
so map, export and app tests can state their expectations from the rows below.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

#: Territory rows of the small dataset: id, name, région, provenance, members (SIREN), from, to.
SMALL_TERRITORIES = [
    ("nord-fc", "Nord Franche-Comté", "27", "documented", ["200065647", "200069052"], "2018-11-22", ""),
    ("lamballe", "Lamballe Terre et Mer", "53", "documented", ["200069391"], "2019-09-24", ""),
    ("st-brieuc", "Saint-Brieuc Baie d'Armor", "53", "documented", ["200069409"], "2019-09-24", ""),
    ("auray", '<b>Auray & "Quiberon"</b>', "53", "illustrative", ["200043123"], "2018-11-22", ""),
    ("formule", "=HYPERLINK(\"http://x\")", "52", "illustrative", ["200000438"], "2018-11-22", ""),
    ("ouest-guyane", "Ouest guyanais", "03", "illustrative", ["249730037"], "2018-11-22", ""),
    ("guingamp", "Guingamp-Paimpol", "53", "documented", ["200067981"], "2018-11-22", "2019-09-24"),
]
SMALL_DATES = ["2018-11-22", "2019-07-25", "2019-09-24"]


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def write_small_dataset(folder: Path) -> Path:
    """Write the small dataset into ``folder`` (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "territories.csv", ["id", "name", "region", "provenance", "partial", "source", "note"], [
        [tid, name, region, prov, "false", "https://example.org/" + tid if prov == "documented" else "", ""]
        for tid, name, region, prov, _, _, _ in SMALL_TERRITORIES
    ])
    _write(folder / "memberships.csv",
           ["territory_id", "epci_siren", "insee_com", "valid_from", "valid_to", "basis", "source", "note"], [
               [tid, siren, "", start, end, "source" if prov == "documented" else "illustrative", "", ""]
               for tid, _, _, prov, sirens, start, end in SMALL_TERRITORIES for siren in sirens
           ])
    _write(folder / "versions.csv", ["date", "label", "expected_territories", "source"],
           [[d, f"Version du {d}", "", "test"] for d in SMALL_DATES])
    _write(folder / "status_events.csv", ["territory_id", "date", "status", "fragile", "provenance", "source"], [
        ["nord-fc", "2019-03-19", "contract_signed", "false", "documented", "https://example.org/nfc"],
        ["lamballe", "2019-09-24", "engaged", "true", "illustrative", ""],
        ["auray", "2019-06-01", "protocol_signed", "false", "illustrative", ""],
        ["ouest-guyane", "2019-06-01", "engaged", "false", "illustrative", ""],
    ])
    _write(folder / "projects.csv", [
        "id", "territory_id", "pillar", "date", "state_commitment", "amount_state_operators_eur",
        "amount_territoires_innovation_eur", "amount_region_eur", "amount_other_eur", "provenance", "source",
    ], [
        ["p1", "nord-fc", "innover", "2019-04-01", "true", "1000000", "0", "200000", "", "illustrative", ""],
        ["p2", "nord-fc", "recruter", "2019-05-01", "false", "", "500000", "", "", "illustrative", ""],
        ["p3", "lamballe", "innover", "2019-09-24", "true", "300000", "", "", "", "illustrative", ""],
        ["p4", "auray", "attirer", "2019-08-01", "false", "", "", "50000", "", "illustrative", ""],
        ["p5", "ouest-guyane", "recruter", "2019-02-01", "true", "80000", "", "", "", "illustrative", ""],
    ])
    _write(folder / "national_figures.csv", ["date", "indicator", "value", "unit", "source"], [
        ["2019-09-24", "territories", "6", "territoires", "Test : chiffres inventés"],
        ["2019-09-24", "signed", "2", "territoires", "Test : chiffres inventés"],
    ])
    return folder


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory) -> Path:
    """Directory of the small dataset (session-wide, read-only)."""
    return write_small_dataset(tmp_path_factory.mktemp("small") / "dataset")


@pytest.fixture(scope="session")
def small_programme(small_dataset):
    from tdi_geo.programme import load_programme

    return load_programme(small_dataset)


def chromium_path() -> str | None:
    """The Debian chromium used by the browser tests, or None."""
    for candidate in (os.environ.get("TDI_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def pytest_unconfigure(config):
    """The run's last line, when browser tests were skipped: how many, and the fix."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    # Only chromium's skips (the nginx stack test skips for its own reason, said by `make test`).
    skipped = [r for r in reporter.stats.get("skipped", [])
               if "browser" in getattr(r, "keywords", {}) and "chromium" in str(getattr(r, "longrepr", ""))]
    if skipped:
        reporter.write_line(
            f"{len(skipped)} tests navigateur ignorés : chromium est absent. "
            "Pour les lancer : sudo apt-get install -y chromium (ou make test en root).",
            yellow=True, bold=True,
        )


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path to chromium; skip locally without it, fail in CI (``CI=true``)."""
    path = chromium_path()
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium est introuvable alors que CI=true : les tests navigateur doivent tourner.")
        pytest.skip("chromium absent (installer : apt-get install chromium)")
    return path


# --- browser tests (tests/test_browser.py, tests/test_hostile.py) --------------------

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_app(tmp_path_factory, dataset: Path | None = None, log: Path | None = None, env: dict | None = None):
    """Run ``streamlit run serve.py`` (what ``make run`` serves) on a free port; yield its URL.

    ``dataset`` pins the programme dataset shown (``TDI_GEO_DATASET``);
    default: the embedded data. The import workspace is a fresh folder.
    ``log`` receives the server's output; ``env`` adds environment variables.
    """
    extra_env = env or {}
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "TDI_GEO_DATASET"}
    if dataset is not None:
        env["TDI_GEO_DATASET"] = str(dataset)
    env["TDI_GEO_WORKSPACE"] = str(tmp_path_factory.mktemp("imports"))
    env.update(extra_env)
    log = log or tmp_path_factory.mktemp("server") / "streamlit.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(url + "_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                pytest.fail("Le serveur Streamlit n'a pas démarré :\n" + log.read_text()[-3000:])
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--headless=new", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()


def localhost_only_page(browser):
    """A page in a fresh context that may only talk to localhost; ``page.blocked`` lists the rest.

    The caller closes ``page.context``.
    """
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    blocked: list[str] = []

    def route(r):
        if re.match(r"^(https?|wss?)://(127\.0\.0\.1|localhost)(:\d+)?/", r.request.url) or \
                r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort("blockedbyclient")

    context.route("**/*", route)
    page = context.new_page()
    page.blocked = blocked
    return page


@pytest.fixture()
def page(browser):
    """A fresh page that may only talk to localhost; ``page.blocked`` lists the rest."""
    page = localhost_only_page(browser)
    yield page
    page.context.close()


# --- importer tests (tests/test_importers.py, tests/test_import_cli.py) -----------


@pytest.fixture(scope="module")
def sample():
    """Sample official files built from the reference (see tests/import_samples.py)."""
    from import_samples import make_sample

    return make_sample()


@pytest.fixture()
def base(tmp_path):
    """A small base dataset directory to import into."""
    from import_samples import write_base_dataset

    return write_base_dataset(tmp_path / "base")


# --- the page (tests/test_app*.py, tests/test_browser*.py) -----------------------------


@pytest.fixture(scope="module")
def prog():
    """The embedded programme dataset (what the page shows by default)."""
    from tdi_geo.programme import load_programme

    return load_programme()


@pytest.fixture()
def app(monkeypatch, tmp_path):
    """A fresh AppTest page on the embedded data, isolated from any local import workspace."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv("TDI_GEO_DATASET", raising=False)
    monkeypatch.setenv("TDI_GEO_WORKSPACE", str(tmp_path / "imports"))

    def make(**params):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        for key, value in params.items():
            at.query_params[key] = value
        return at.run()

    return make


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """URL of the app served by ``streamlit run serve.py`` on the embedded data (stopped after the module)."""
    with serve_app(tmp_path_factory) as url:
        yield url
