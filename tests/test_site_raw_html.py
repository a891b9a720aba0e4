"""Large raw-HTML tables are set aside while MkDocs converts a page and put back after (site/raw_html.py)."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import markdown
import yaml

from modelcards.plugin import MARKDOWN_EXTENSIONS
from modelcards.site.raw_html import BEGIN, END, put_back, set_aside

from conftest import REPO_ROOT

PAGE = textwrap.dedent(f"""\
    # Models

    Some *Markdown* before.

    {BEGIN}
    <div class="mc-catalog">
    <table>
    <tr><td>*not emphasis*, [not a link](x.md), &lt;script&gt;</td></tr>

    <tr><td>after a blank line</td></tr>
    </table>
    </div>
    {END}

    ## After {{ #after }}

    {BEGIN}
    <ul><li>second block</li></ul>
    {END}

    Some text after.
    """)


def test_a_page_converts_to_the_same_html_with_its_blocks_set_aside_and_put_back():
    aside, blocks = set_aside(PAGE)
    assert len(blocks) == 2 and "*not emphasis*" in blocks[0] and "second block" in blocks[1]
    assert "not emphasis" not in aside and "second block" not in aside
    whole = markdown.markdown(PAGE, extensions=list(MARKDOWN_EXTENSIONS))
    converted = markdown.markdown(aside, extensions=list(MARKDOWN_EXTENSIONS))
    assert put_back(converted, blocks) == whole.replace(BEGIN + "\n", "").replace("\n" + END, "")


def test_a_page_without_marked_blocks_is_left_as_it_is():
    assert set_aside("# Title\n\n<div>raw</div>\n") == ("# Title\n\n<div>raw</div>\n", [])


def test_the_example_catalog_shows_every_model_but_search_indexes_each_model_on_its_own_page(example_site_dir: Path):
    cards = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted((REPO_ROOT / "cards").glob("*.yml"))]
    models = {card["name"]: card["summary"] for card in cards}
    catalog = (example_site_dir / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r'<tr data-facets="[^"]*"><td><a href="([^"]+)">', catalog)
    assert sorted(rows) == sorted(f"models/{name}/" for name in models)
    assert "mc-raw-html" not in catalog, "no placeholder or marker is left in the page"
    index = json.loads((example_site_dir / "search" / "search_index.json").read_text(encoding="utf-8"))
    texts = {doc["location"]: doc["text"] for doc in index["docs"]}
    for name, summary in models.items():
        summary = " ".join(summary.split()).split(".")[0]
        assert summary not in texts[""], f"the catalog's row of {name} is not indexed"
        assert any(summary in text for location, text in texts.items() if location.startswith(f"models/{name}/")), \
            f"{name}'s own page is"


def test_a_dataset_page_lists_every_model_version_that_read_it(example_site_dir: Path):
    """The "Used by" table is raw HTML (a dataset can be read by most of a catalog): one row per use, as the cards
    declare them, each linking to its model's page, every value escaped."""
    expected = []
    for path in sorted((REPO_ROOT / "cards").glob("*.yml")):
        card = yaml.safe_load(path.read_text(encoding="utf-8"))
        link = f"../../models/{card['name']}/"
        for role in ("training", "evaluation"):
            for dataset in card.get(f"{role}_data", {}).get("datasets", []):
                expected.append((dataset, link, "(all)", "", "", role))
        for version in card.get("versions", []):
            for ref in version.get("data", []):
                expected.append((ref["dataset"], link, version["version"], ref.get("version", ""),
                                 ref.get("digest", ""), ref["role"]))
    shown = []
    for dataset in sorted({row[0] for row in expected}):
        page = (example_site_dir / "datasets" / dataset / "index.html").read_text(encoding="utf-8")
        used_by = page[page.index('<h2 id="used-by">'):]
        used_by = used_by[:used_by.index("</table>")]
        shown += [(dataset, *row) for row in re.findall(
            r'<tr><td><a href="([^"]+)">[^<]+</a></td><td>([^<]*)</td><td>([^<]*)</td>'
            r'<td>(?:<code>([^<]*)</code>)?</td><td>([^<]*)</td></tr>', used_by)]
        assert "mc-raw-html" not in page
    assert sorted(shown) == sorted(expected)
