"""Issue 8: imports into the app's workspace are previews until an editor publishes them.

Publishing is a compare-and-swap on the ``current`` pointer, under a lock,
and logged; concurrent publications never lose one silently.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading

import pandas as pd
import pytest

from import_samples import write_csv
from tdi_geo import PROJECT_ROOT
from tdi_geo.cli import main
from tdi_geo.importers import (
    CURRENT_POINTER,
    EDITOR_SECRET_ENV,
    PUBLICATIONS_LOG,
    PublishConflictError,
    WorkspaceError,
    current_dataset,
    delete_dataset,
    editor_secret_ok,
    import_to_workspace,
    list_datasets,
    publication_log,
    publish_dataset,
    set_current,
)


def _status_file(tmp_path, name="s.csv", date="2024-02-01"):
    status = pd.DataFrame({"territoire": ["Territoire Ain"], "date": [date], "statut": ["Protocole signé"]})
    return write_csv(status, tmp_path / name)


@pytest.fixture()
def previews(tmp_path, base):
    """A workspace with two previews made from the base dataset."""
    workspace = tmp_path / "imports"
    _, first = import_to_workspace([_status_file(tmp_path, "a.csv")], workspace, base_dataset=base)
    _, second = import_to_workspace([_status_file(tmp_path, "b.csv", "2024-03-01")], workspace, base_dataset=base)
    return workspace, first, second


def test_an_import_is_a_preview_that_nobody_else_sees(previews):
    workspace, first, second = previews
    assert current_dataset(workspace) is None  # the embedded data are still what everyone sees
    assert not (workspace / CURRENT_POINTER).exists()
    assert list_datasets(workspace) == []  # never offered to another visitor
    assert {d["name"] for d in list_datasets(workspace, include_previews=True)} == {first.name, second.name}
    with pytest.raises(WorkspaceError, match="n'a pas été publié"):
        set_current(workspace, first)  # not even through the old switch
    assert current_dataset(workspace) is None


def test_publishing_is_logged_with_the_files_and_their_hashes(tmp_path, previews):
    workspace, first, _ = previews
    assert publish_dataset(workspace, first, editor="Camille Martin", expected_current=None) == first
    assert current_dataset(workspace) == first
    assert [d["name"] for d in list_datasets(workspace)] == [first.name]
    [record] = publication_log(workspace)
    assert record["action"] == "publish" and record["editor"] == "Camille Martin"
    assert record["dataset"] == first.name and record["previous"] is None
    assert record["at"].endswith("+00:00") and record["at"][:4].isdigit()
    digest = hashlib.sha256((tmp_path / "a.csv").read_bytes()).hexdigest()
    assert record["files"] == [{"file": "a.csv", "sha256": digest, "kind": "status"}]
    # back to the embedded data, logged too
    publish_dataset(workspace, None, editor="Camille Martin", expected_current=first)
    assert current_dataset(workspace) is None
    assert publication_log(workspace)[-1]["action"] == "unpublish"
    assert publication_log(workspace)[-1]["previous"] == first.name


def test_a_stale_publication_is_refused_and_changes_nothing(previews):
    workspace, first, second = previews
    publish_dataset(workspace, first, editor="A", expected_current=None)
    pointer = (workspace / CURRENT_POINTER).read_bytes()
    with pytest.raises(PublishConflictError) as exc:
        publish_dataset(workspace, second, editor="B", expected_current=None)  # B saw the embedded data
    assert "a changé entre-temps" in str(exc.value) and first.name in str(exc.value)
    assert (workspace / CURRENT_POINTER).read_bytes() == pointer
    assert len(publication_log(workspace)) == 1
    with pytest.raises(WorkspaceError, match="nom de l'éditeur"):
        publish_dataset(workspace, second, editor="  ", expected_current=first)


def test_two_concurrent_publications_one_wins_the_other_is_refused(previews):
    workspace, first, second = previews
    start = threading.Barrier(2)
    outcome = {}

    def publish(dataset):
        start.wait()
        try:
            publish_dataset(workspace, dataset, editor=dataset.name, expected_current=None)
            outcome[dataset.name] = "published"
        except PublishConflictError:
            outcome[dataset.name] = "refused"

    threads = [threading.Thread(target=publish, args=(d,)) for d in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcome.values()) == ["published", "refused"]
    winner = next(name for name, result in outcome.items() if result == "published")
    assert current_dataset(workspace).name == winner
    assert [r["dataset"] for r in publication_log(workspace)] == [winner]


def test_the_pointer_is_never_torn_while_publications_follow_each_other(previews):
    workspace, first, second = previews
    seen, stop = set(), threading.Event()

    def read():
        while not stop.is_set():
            try:
                seen.add((workspace / CURRENT_POINTER).read_text(encoding="utf-8"))
            except FileNotFoundError:
                seen.add(None)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        expected = None
        for i in range(60):
            target = first if i % 2 == 0 else second
            publish_dataset(workspace, target, editor="E", expected_current=expected)
            expected = target
    finally:
        stop.set()
        reader.join(timeout=60)
    assert seen <= {None, first.name + "\n", second.name + "\n"}
    assert len(publication_log(workspace)) == 60


def test_two_concurrent_command_line_imports_never_lose_one(tmp_path, base):
    workspace = tmp_path / "imports"
    commands = [
        [sys.executable, "-m", "tdi_geo", "import", str(_status_file(tmp_path, f"s{i}.csv", f"2024-0{i + 1}-01")),
         "--workspace", str(workspace), "--publish", "--editor", f"cli-{i}", "--dataset", str(base)]
        for i in range(2)
    ]
    running = [subprocess.Popen(c, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for c in commands]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in running]
    for code, stderr in results:
        assert "Traceback" not in stderr
        assert code == 0 or (code == 2 and "Publication refusée" in stderr)
    log = publication_log(workspace)
    published = [r["dataset"] for r in log]
    # Each success is in the log, chained on the one before it; the last one is current.
    assert len(published) == sum(code == 0 for code, _ in results) >= 1
    assert [r["previous"] for r in log] == [None] + published[:-1]
    assert current_dataset(workspace).name == published[-1]
    # A refused import leaves no dataset behind.
    assert sorted(d["name"] for d in list_datasets(workspace, include_previews=True)) == sorted(published)


def test_publish_from_the_command_line(tmp_path, previews, capsys):
    workspace, first, second = previews
    assert main(["publish", str(workspace), first.name, "--editor", "Dominique"]) == 0
    assert current_dataset(workspace) == first
    assert main(["publish", str(workspace), second.name, "--editor", "Dominique", "--expected", ""]) == 2
    assert "Publication refusée" in capsys.readouterr().err
    assert main(["publish", str(workspace), "-", "--editor", "Dominique", "--expected", first.name]) == 0
    assert current_dataset(workspace) is None
    assert main(["publish", str(workspace), "../elsewhere", "--editor", "Dominique"]) == 2
    assert "n'est pas un jeu de données de cet espace" in capsys.readouterr().err


def test_import_with_out_still_works_and_workspace_import_without_publish_stays_private(tmp_path, base, capsys):
    status = _status_file(tmp_path)
    assert main(["import", str(status), "--out", str(tmp_path / "out"), "--dataset", str(base)]) == 0
    assert (tmp_path / "out" / "territories.csv").exists()
    workspace = tmp_path / "imports"
    assert main(["import", str(status), "--workspace", str(workspace), "--dataset", str(base)]) == 0
    assert "Non publié" in capsys.readouterr().out and current_dataset(workspace) is None
    assert main(["import", str(status), "--workspace", str(workspace), "--publish", "--dataset", str(base)]) == 2
    assert "nom de l'éditeur" in capsys.readouterr().err and current_dataset(workspace) is None


def test_a_dataset_that_does_not_load_is_never_published(previews):
    workspace, first, _ = previews
    with (first / "territories.csv").open("a", encoding="utf-8") as fh:
        fh.write("territoire-ain,Doublon,84,documented,false,,\n")
    with pytest.raises(WorkspaceError, match="identifiant en double"):
        publish_dataset(workspace, first, editor="E", expected_current=None)
    assert current_dataset(workspace) is None and publication_log(workspace) == []


def test_deleting_datasets(previews):
    workspace, first, second = previews
    delete_dataset(workspace, second)  # a preview: its author may discard it
    assert not second.exists() and publication_log(workspace) == []
    publish_dataset(workspace, first, editor="E", expected_current=None)
    with pytest.raises(WorkspaceError, match="est le jeu affiché"):
        delete_dataset(workspace, first, editor="E")
    publish_dataset(workspace, None, editor="E", expected_current=first)
    with pytest.raises(WorkspaceError, match="nom de l'éditeur"):
        delete_dataset(workspace, first)  # published once: editors only
    delete_dataset(workspace, first, editor="E")
    assert not first.exists() and publication_log(workspace)[-1]["action"] == "delete"
    assert list_datasets(workspace, include_previews=True) == []


def test_editor_secret_is_compared_in_constant_time_and_required():
    assert EDITOR_SECRET_ENV == "TDI_GEO_EDITOR_SECRET"
    long = "s3cret-long-enough-phrase"
    assert editor_secret_ok(long, long) is True
    assert editor_secret_ok(long[:-1] + "E", long) is False
    assert editor_secret_ok("", long) is False
    assert editor_secret_ok(None, long) is False
    assert editor_secret_ok("anything", None) is False  # nothing configured: nobody publishes from the app
    assert editor_secret_ok("", "") is False
    assert editor_secret_ok("clé-é" * 4, "clé-é" * 4) is True
    assert editor_secret_ok("s3cret-long", "s3cret-long") is False  # 11 characters: refused even when given right
    assert editor_secret_ok(" " * 20, " " * 20) is False


def test_log_lines_are_json_even_with_odd_editor_names(previews):
    workspace, first, _ = previews
    publish_dataset(workspace, first, editor='Zoé "admin"\n{{7*7}}', expected_current=None)
    line = (workspace / PUBLICATIONS_LOG).read_text(encoding="utf-8").splitlines()
    assert len(line) == 1 and json.loads(line[0])["editor"] == 'Zoé "admin" {{7*7}}'


def test_visitors_cannot_fill_the_disk_with_previews(tmp_path, base, monkeypatch):
    """Anyone may import in the app: only the newest previews are kept, published data never go."""
    import tdi_geo.importers as importers
    import tdi_geo.importers._workspace as workspace_module

    monkeypatch.setattr(workspace_module, "MAX_PREVIEWS", 2)
    monkeypatch.setattr(importers, "prune_previews", lambda w: workspace_module.prune_previews(w, 2))
    workspace = tmp_path / "imports"
    _, published = import_to_workspace([_status_file(tmp_path, "p.csv")], workspace, base_dataset=base)
    publish_dataset(workspace, published, editor="Éditrice", expected_current=None)
    made = [import_to_workspace([_status_file(tmp_path, f"{i}.csv", f"2024-02-0{i + 2}")], workspace,
                                base_dataset=base)[1] for i in range(4)]
    names = {d["name"] for d in list_datasets(workspace, include_previews=True)}
    assert names == {published.name, made[-1].name, made[-2].name}
    assert current_dataset(workspace) == published


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085"])
def test_a_file_name_with_a_line_separator_stays_published_listed_and_never_pruned(tmp_path, base, separator):
    """``statuts\\u2028suite.csv`` published by an editor: its log line must stay one line, whatever reads it."""
    from tdi_geo.importers import prune_previews, safe_file_name

    workspace = tmp_path / "imports"
    name = f"statuts{separator}suite.csv"
    _, dataset = import_to_workspace([_status_file(tmp_path, name)], workspace, base_dataset=base)
    publish_dataset(workspace, dataset, editor="Camille", expected_current=None)
    publish_dataset(workspace, None, editor="Camille", expected_current=dataset)  # shown no more, still published
    log = (workspace / PUBLICATIONS_LOG).read_bytes()
    assert log.isascii() and log.count(b"\n") == 2
    assert publication_log(workspace)[0]["files"][0]["file"] == name
    for _ in range(3):  # newer previews push the old ones out; a published dataset is never one of them
        import_to_workspace([_status_file(tmp_path, "autre.csv", "2024-03-01")], workspace, base_dataset=base)
    prune_previews(workspace, keep=0)
    assert [d["name"] for d in list_datasets(workspace)] == [dataset.name]
    # The app stores an uploaded name without the separator in the first place.
    assert safe_file_name(name) == "statutssuite.csv"


def test_a_log_written_by_an_older_version_with_raw_separators_still_reads_whole(previews):
    workspace, first, _ = previews
    record = {"action": "publish", "editor": "Camille", "dataset": first.name, "previous": None,
              "files": [{"file": "statuts\u2028suite.csv"}], "at": "2024-01-01T00:00:00+00:00"}
    (workspace / PUBLICATIONS_LOG).write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    assert publication_log(workspace) == [record]
    assert [d["name"] for d in list_datasets(workspace)] == [first.name]
