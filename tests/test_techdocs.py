"""The example builds as Backstage TechDocs builds it: ``plugins: [techdocs-core, modelcards]``, ``mkdocs build``.

``mkdocs-techdocs-core`` 1.7 pins ``mkdocs-material==9.7.7``, ``pymdown-extensions==11.0.1`` and
``Markdown<3.11``, while this project's constraints pin 9.8.2, 13.1.2 and 3.11.3: pip cannot install it into the
project's environment (``pip install mkdocs-techdocs-core==1.7.* -c constraints.txt`` fails with
ResolutionImpossible). So the build runs with a Python that has techdocs-core: this one when it can import
``techdocs_core``, else the one ``MODELCARDS_TECHDOCS_PYTHON`` names (``make techdocs-env`` makes one: a venv that
holds techdocs-core and its pins and sees the project's venv behind them). Without either the test is skipped,
and says why.

TechDocs strips scripts and swaps Material's search for MkDocs' own, so every model page and the catalog must
hold their content as HTML: the checks below read each page with every ``<script>`` removed.
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import read_mkdocs_yml

ROOT = Path(__file__).resolve().parents[1]
# Written beside the example's mkdocs.yml for the length of the build: the plugin reads cards, runs and
# policy relative to the config file, inside the project only.
CONFIG = ROOT / ".techdocs-test-mkdocs.yml"


def techdocs_python() -> str | None:
    if importlib.util.find_spec("techdocs_core") is not None:
        return sys.executable
    return os.environ.get("MODELCARDS_TECHDOCS_PYTHON") or None


pytestmark = pytest.mark.skipif(
    techdocs_python() is None,
    reason="mkdocs-techdocs-core 1.7 pins mkdocs-material 9.7.7, pymdown-extensions 11.0.1 and Markdown<3.11, "
           "which conflict with constraints.txt; run `make techdocs-env` and set MODELCARDS_TECHDOCS_PYTHON")


def techdocs_config() -> dict:
    """The example's mkdocs.yml as a TechDocs user writes it: techdocs-core first, then modelcards."""
    config = read_mkdocs_yml()
    plugins = [plugin for plugin in config["plugins"] if plugin != "search"]  # techdocs-core brings its own
    config["plugins"] = ["techdocs-core", *plugins]
    return config


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("techdocs") / "site"
    CONFIG.write_text(yaml.safe_dump(techdocs_config(), sort_keys=False), encoding="utf-8")
    try:
        result = subprocess.run([techdocs_python(), "-m", "mkdocs", "build", "-f", str(CONFIG), "-d", str(out)],
                                cwd=ROOT, capture_output=True, text=True, timeout=900)
    finally:
        CONFIG.unlink()
    assert result.returncode == 0, result.stderr[-4000:]
    assert "Traceback" not in result.stderr
    return out


def without_scripts(page: Path) -> str:
    """A page as TechDocs serves it: every script element gone."""
    return re.sub(r"<script\b.*?</script>", "", page.read_text(encoding="utf-8"), flags=re.S | re.I)


def text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def model_cards() -> list[dict]:
    return [yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted((ROOT / "cards").glob("*.yml"))]


def test_techdocs_core_ran_with_its_own_search(site: Path) -> None:
    metadata = json.loads((site / "techdocs_metadata.json").read_text(encoding="utf-8"))
    assert metadata["site_name"] == read_mkdocs_yml()["site_name"]
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert index["config"].get("indexing") == "full"  # MkDocs' own search plugin, not Material's
    indexed = {entry["location"].split("#")[0] for entry in index["docs"]}
    assert {f"models/{card['name']}/" for card in model_cards()} <= indexed


def test_every_model_page_is_complete_without_scripts(site: Path) -> None:
    for card in model_cards():
        page = text(without_scripts(site / "models" / card["name"] / "index.html"))
        assert card["title"] in page
        assert " ".join(card["summary"].split())[:80] in page, card["name"]
        for version in card["versions"]:
            assert str(version["version"]) in page, (card["name"], version["version"])
        for metric in card.get("metrics", []):
            assert metric["name"] in page, (card["name"], metric["name"])


def test_the_catalog_rows_and_facet_values_are_server_rendered(site: Path) -> None:
    catalog = without_scripts(site / "index.html")
    catalog_block = catalog[catalog.index('<div class="mc-catalog'):]
    body = re.search(r"<tbody>(.*?)</tbody>", catalog_block, re.S)
    assert body, "no catalog table in the page"
    rows = [text(row) for row in body.group(1).split("</tr>") if text(row)]
    cards = model_cards()
    assert sorted(row.split(" ")[0] for row in rows) == sorted(card["title"].split(" ")[0] for card in cards)
    for card in cards:
        [row] = [row for row in rows if row.startswith(card["title"])]
        assert card["status"] in row and card["risk_tier"] in row
    facets = re.findall(r'class="mc-facet" data-facet="([^"]+)">(.*?)</fieldset>', catalog, re.S)
    shown = {name: text(body) for name, body in facets}
    assert {"status", "risk", "owner", "tag"} <= set(shown), sorted(shown)
    for card in cards:
        assert f"{card['status']} (" in shown["status"] and f"{card['risk_tier']} (" in shown["risk"]
        assert all(f"{tag} (" in shown["tag"] for tag in card["tags"]), (card["name"], shown["tag"])
