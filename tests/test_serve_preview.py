"""`modelcards serve`: a real server on a free port shows a card's edit, and keeps the last good site when an
edit breaks the card."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from conftest import MODELCARDS

FIXTURES = Path(__file__).parent / "fixtures" / "cards" / "valid"
TIMEOUT = 60  # seconds: the machine running the tests may be busy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read().decode("utf-8")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def without_reload(page: str) -> str:
    """A served page without the script the server adds, whose numbers change with every build."""
    return re.sub(r"reload\(\d+, \d+\)", "", page)


@contextmanager
def serving(project: Path, port: int, log: Path) -> Iterator[subprocess.Popen]:
    """`modelcards serve` in ``project`` on ``port``, its output in ``log``, its temporary files in ``project``'s
    sibling ``tmp``; stopped with its whole process group."""
    scratch = project.parent / "tmp"
    scratch.mkdir(exist_ok=True)
    with log.open("w") as out:
        server = subprocess.Popen([str(MODELCARDS), "serve", "-a", f"127.0.0.1:{port}"], cwd=project, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True,
                                  env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000", "TMPDIR": str(scratch)})
    try:
        yield server
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)


def wait_until(condition, what: str, log: Path) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} within {TIMEOUT} s; serve printed:\n{log.read_text(encoding='utf-8')[-4000:]}")


def test_serve_shows_an_edit_and_keeps_the_last_good_site_when_a_card_breaks(tmp_path: Path):
    project = tmp_path / "project"
    shutil.copytree(FIXTURES, project / "cards")
    card = project / "cards" / "churn.yml"
    port = free_port()
    churn, minimal = f"http://127.0.0.1:{port}/models/churn/", f"http://127.0.0.1:{port}/models/minimal/"
    log = tmp_path / "serve.log"
    with serving(project, port, log):
        wait_until(lambda: "Predicts which subscribers cancel" in (fetch(churn) or ""), "churn's page served", log)
        time.sleep(1)  # a moment, as between an author's saves

        card.write_text(card.read_text(encoding="utf-8").replace(
            "Predicts which subscribers cancel within 30 days.", "Predicts cancellations within 45 days."),
            encoding="utf-8")
        wait_until(lambda: "Predicts cancellations within 45 days." in (fetch(churn) or ""), "the edit shown", log)
        assert "Predicts which subscribers cancel" not in fetch(churn)
        # The file events brought the save; MkDocs' polling, every 0.5 s, saw it too and was not passed on.
        time.sleep(1.5)
        assert log.read_text(encoding="utf-8").count("Documentation built in") == 2  # the first build, the save's
        assert "The least a card needs" in (fetch(minimal) or "")  # a page the edit does not touch, still served

        card.write_text(card.read_text(encoding="utf-8").replace(
            "summary: Predicts cancellations within 45 days.", "summary: [not, a, sentence]"), encoding="utf-8")
        wait_until(lambda: "cards/churn.yml:4:" in log.read_text(encoding="utf-8"), "the error printed", log)
        printed = log.read_text(encoding="utf-8")
        assert "the preview still shows the last site that built" in printed
        assert "Traceback" not in printed
        assert "Predicts cancellations within 45 days." in (fetch(churn) or "")  # the last good page, at once
        assert "The least a card needs" in (fetch(minimal) or "")

        card.write_text(card.read_text(encoding="utf-8").replace(
            "summary: [not, a, sentence]", "summary: Predicts cancellations, fixed."), encoding="utf-8")
        wait_until(lambda: "Predicts cancellations, fixed." in (fetch(churn) or ""), "the fixed card shown", log)


def test_an_edit_renders_its_model_and_the_pages_listing_it_and_keeps_the_other_models(tmp_path: Path):
    project = tmp_path / "project"
    shutil.copytree(FIXTURES, project / "cards")
    card = project / "cards" / "churn.yml"
    port = free_port()
    root = f"http://127.0.0.1:{port}/"
    shown_elsewhere = ["", "models/churn/", "models/churn/crosswalk/", "crosswalk/", "datasets/customers/",
                       "owners/retention-ml/", "tags/retention/"]
    log = tmp_path / "serve.log"
    with serving(project, port, log):
        wait_until(lambda: "Customer churn" in (fetch(root + "models/churn/") or ""), "churn's page served", log)
        for page in shown_elsewhere:
            assert "Customer churn" in fetch(root + page) and "Churn, as edited" not in fetch(root + page), page
        minimal_before = fetch(root + "models/minimal/")
        assert "rendered the pages of 2 model(s), kept 0 unchanged" in log.read_text(encoding="utf-8")
        time.sleep(1)  # a moment, as between an author's saves

        card.write_text(card.read_text(encoding="utf-8").replace("title: Customer churn", "title: Churn, as edited"),
                        encoding="utf-8")
        wait_until(lambda: "rendered the pages of 1 model(s), kept 1 unchanged" in log.read_text(encoding="utf-8"),
                   "the edited model's pages rendered, the other's kept", log)
        wait_until(lambda: "Churn, as edited" in (fetch(root + "models/churn/") or ""), "the edit shown", log)
        for page in shown_elsewhere:  # the catalog row, the crosswalk, the dataset, owner and tag pages listing it
            assert "Churn, as edited" in fetch(root + page), page
        assert without_reload(fetch(root + "models/minimal/")) == without_reload(minimal_before)  # not rendered again

        # MkDocs built only the pages whose Markdown changed: churn's, and those listing it. (Each model has a
        # page and a crosswalk; churn, of two versions, a compare page too.)
        built = re.findall(r"converted (\d+) generated page\(s\) from Markdown, took (\d+)", log.read_text(encoding="utf-8"))
        assert [int(a) + int(b) for a, b in built] == [16, 10]

        card.write_text(card.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")  # shows nowhere
        wait_until(lambda: "rendered the pages of 0 model(s), kept 2 unchanged" in log.read_text(encoding="utf-8"),
                   "a save that changes nothing shown rendering no model's pages", log)
        wait_until(lambda: log.read_text(encoding="utf-8").count("Documentation built in") == 3, "the save built", log)
        printed = log.read_text(encoding="utf-8")
        assert "Traceback" not in printed
        assert len(re.findall(r"converted \d+ generated page", printed)) == 2  # no page built by that save


def test_serve_stopped_by_sigterm_removes_the_site_and_pages_it_made(tmp_path: Path):
    """As on Ctrl-C: MkDocs' built site and the plugin's generated pages are temporary folders of their own."""
    project = tmp_path / "project"
    shutil.copytree(FIXTURES, project / "cards")
    port = free_port()
    log = tmp_path / "serve.log"
    with serving(project, port, log) as server:
        wait_until(lambda: "Customer churn" in (fetch(f"http://127.0.0.1:{port}/models/churn/") or ""),
                   "churn's page served", log)
        made = sorted(path.name[:-8] for path in (tmp_path / "tmp").iterdir())  # less tempfile's random part
        # The site MkDocs serves and the built-in mkdocs.yml of a project without one; the generated pages are in
        # memory, written once, into the site.
        assert made == ["mkdocs_", "modelcards-"], made
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0, log.read_text(encoding="utf-8")[-4000:]
    assert list((tmp_path / "tmp").iterdir()) == []
    assert "Shutting down" in log.read_text(encoding="utf-8")
