"""What the example site's search index holds: each page's words, and not its tables of values.

Material's search has no server: a reader's browser downloads the whole index and builds its own from it
before the first result shows. At 1,000 models the tables of run parameters, metrics, SHAP importances and
the like made it 45 MB and the first result came after 12 s (benchmarks/search_speed.py). The pages still
show every table; search finds the page that holds them by its title, key facts and prose, and a version by
the names of its settings.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from conftest import REPO_ROOT

# Sections of tables of values: a run's parameters and the rest, a version's explanation, a model's lineage
# diagram as text, its sliced results and its policy outcomes.
LEFT_OUT = re.compile(r"^runs/.+#(parameters|metrics|inputs|outputs|tags|environment|trials)$"
                      r"|^models/[^/]+/#(version-\d+-explainability|lineage|quantitative-analyses|policy)$")


def index_of(site: Path) -> dict[str, str]:
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    return {doc["location"]: doc["text"] for doc in index["docs"]}


def words(text: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())


def test_search_leaves_tables_of_values_out(example_site_dir: Path):
    index = index_of(example_site_dir)
    assert not [location for location in index if LEFT_OUT.search(location)]
    indexed = words(" ".join(index.values()))
    # The tables' headers: a version's data, its SHAP importances, the runs listing.
    for header in ("Data Version Digest Role", "Mean abs. SHAP", "Experiment or pipeline"):
        assert header not in indexed, f"a table headed {header!r} is in the search index"


def test_search_finds_each_run_by_its_id_and_each_version_by_what_changed_and_its_settings(example_site_dir: Path):
    index = index_of(example_site_dir)
    run_pages = sorted(path.parent.relative_to(example_site_dir).as_posix() + "/"
                       for path in (example_site_dir / "runs").glob("*/*/index.html"))
    assert run_pages, "the example has no run pages"
    for location in run_pages:
        page = (example_site_dir / location / "index.html").read_text(encoding="utf-8")
        run_id = re.search(r"<td>Run id</td>\s*<td><code>([^<]+)</code>", page).group(1)
        assert run_id in index.get(location, ""), f"{location}: its key facts (run id {run_id}) are not indexed"
    for path in sorted((REPO_ROOT / "cards").glob("*.yml")):
        card = yaml.safe_load(path.read_text(encoding="utf-8"))
        raw = " ".join(text for location, text in index.items() if location.startswith(f"models/{card['name']}/"))
        texts = words(raw)
        for version in card.get("versions", []):
            if version.get("changes"):
                first_sentence = " ".join(version["changes"].split()).split(". ")[0]
                assert first_sentence in texts, f"{card['name']} {version['version']}: what changed is not indexed"
            for setting in version.get("params", {}):
                assert f"<code>{setting}</code>" in raw, f"{card['name']} {version['version']}: {setting}"
