"""Regenerate docs/reference/*.md, docs/reference/catalog.schema.json and cards/card.schema.json from the code's declarations.

Run: .venv/bin/python scripts/generate_reference.py
tests/test_docs.py fails when the committed files differ from what this writes.
"""

from __future__ import annotations

import json
from pathlib import Path

from modelcards.cards.schema import json_schema
from modelcards.export.catalog_json import json_schema as catalog_json_schema
from modelcards.reference import card_format_markdown, cli_markdown, configuration_markdown, crosswalk_markdown

ROOT = Path(__file__).resolve().parents[1]


def generated_files() -> dict[Path, str]:
    return {
        ROOT / "docs/reference/card-format.md": card_format_markdown(),
        ROOT / "docs/reference/configuration.md": configuration_markdown(),
        ROOT / "docs/reference/cli.md": cli_markdown(),
        ROOT / "docs/reference/crosswalk.md": crosswalk_markdown(),
        ROOT / "cards/card.schema.json": json.dumps(json_schema(), indent=2) + "\n",
        ROOT / "docs/reference/catalog.schema.json": json.dumps(catalog_json_schema(), indent=2) + "\n",
    }


if __name__ == "__main__":
    for path, text in generated_files().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
