"""mkdocs.yml texts for folders that have no config of their own, and for ``generate``."""

from __future__ import annotations

import json
from pathlib import Path

from ..config import Settings
from .pages import asset_paths

# Material without Google Fonts: the site must make no request outside its own host.
_THEME = """theme:
  name: material
  font: false
  features:
    - content.action.edit
    - search.highlight
"""

_EXTENSIONS = """markdown_extensions:
  - tables
  - attr_list
  - md_in_html
  - admonition
  - toc:
      permalink: true
"""


def default_mkdocs_yml(*, project_dir: Path, docs_dir: Path) -> str:
    """Settings for ``modelcards build`` in a folder with cards but no mkdocs.yml."""
    return (
        f"site_name: Model cards\n"
        f"docs_dir: {json.dumps(str(docs_dir))}\n"
        f"site_dir: {json.dumps(str(project_dir / 'site'))}\n"
        f"{_THEME}{_EXTENSIONS}"
        f"plugins:\n  - search\n  - modelcards:\n      cards_dir: {json.dumps(str(project_dir / 'cards'))}\n"
        # Beside the cards, not beside this file, which lives in a temporary folder.
        f"      cache_dir: {json.dumps(str(project_dir / '.modelcards-cache'))}\n"
        # A runs/ folder beside cards/ (e.g. from `modelcards pull`) is read without configuration.
        + (f"      runs: [{json.dumps(str(project_dir / 'runs'))}]\n" if (project_dir / "runs").is_dir() else "")
    )


def standalone_mkdocs_yml(settings: Settings) -> str:
    """A plugin-free config that builds the tree written by ``modelcards generate``."""
    prefix = settings.page_prefix
    nav = "".join(
        f"  - {title}: {json.dumps(prefix + path)}\n"
        for title, path in (("Models", "index.md"), ("Datasets", "datasets/index.md"), ("Tags", "tags/index.md"),
                            *([("Runs", "runs/index.md")] if settings.runs else []))
    ) + (  # nested as the plugin nests it, so both builds give the same pages
        "  - Lineage:\n"
        f"      - Overview: {json.dumps(prefix + 'lineage/index.md')}\n"
        f"      - Lineage health: {json.dumps(prefix + 'lineage/health.md')}\n"
    )
    css = "".join(f"  - {json.dumps(p)}\n" for p in asset_paths(settings) if p.endswith(".css"))
    js = "".join(f"  - {json.dumps(p)}\n" for p in asset_paths(settings) if p.endswith(".js"))
    return (
        f"site_name: {json.dumps(settings.site_name)}\n"
        f"docs_dir: docs\n"
        f"{_THEME}{_EXTENSIONS}"
        f"plugins:\n  - search\n"
        f"nav:\n{nav}"
        f"extra_css:\n{css}"
        f"extra_javascript:\n{js}"
    )
