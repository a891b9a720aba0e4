"""mkdocs.yml texts for folders that have no config of their own, and for ``generate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..config import Settings
from .pages import Page, asset_paths
from .paths import site_nav

# Material without Google Fonts: the site must make no request outside its own host. The palette follows the
# reader's system (light or dark) and the header's toggle switches it, as in the example mkdocs.yml.
THEME = """theme:
  name: material
  font: false
  features:
    - content.action.edit
    - search.highlight
    - navigation.prune   # a page links only its own section's pages: 3.5 KB less on each of thousands
  icon:
    repo: material/git   # Font Awesome's (the default) carries its licence comment, twice on every page
  palette:
    - media: "(prefers-color-scheme: light)"
      scheme: default
      primary: indigo
      toggle:
        icon: material/brightness-7
        name: Switch to dark mode
    - media: "(prefers-color-scheme: dark)"
      scheme: slate
      primary: indigo
      toggle:
        icon: material/brightness-4
        name: Switch to light mode
"""

MARKDOWN_EXTENSIONS = """markdown_extensions:
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
        f"{THEME}{MARKDOWN_EXTENSIONS}"
        f"plugins:\n  - search\n  - modelcards:\n      cards_dir: {json.dumps(str(project_dir / 'cards'))}\n"
        # Beside the cards, not beside this file, which lives in a temporary folder.
        f"      cache_dir: {json.dumps(str(project_dir / '.modelcards-cache'))}\n"
        # A runs/ folder beside cards/ (e.g. from `modelcards pull`) is read without configuration.
        + (f"      runs: [{json.dumps(str(project_dir / 'runs'))}]\n" if (project_dir / "runs").is_dir() else "")
    )


def standalone_mkdocs_yml(settings: Settings, pages: list[Page]) -> str:
    """A plugin-free config that builds the ``pages`` written by ``modelcards generate``.

    Its nav is the plugin's, so both builds give the same pages.
    """
    nav = _nav_yaml(site_nav((page.path for page in pages), settings.page_prefix), indent="  ")
    css = "".join(f"  - {json.dumps(p)}\n" for p in asset_paths(settings) if p.endswith(".css"))
    js = "".join(f"  - {json.dumps(p)}\n" for p in asset_paths(settings) if p.endswith(".js"))
    # The repository link in Material's header, as the plugin's build has it; no edit button, as the generated
    # pages are not files of the repository (the plugin's build points it at each page's card instead).
    repository = (f"repo_url: {json.dumps(settings.repo_url)}\nedit_uri: \"\"\n"
                  if settings.repo_url and not settings.audience_filtered else "")
    return (
        f"site_name: {json.dumps(settings.site_name)}\n"
        f"{repository}"
        f"docs_dir: docs\n"
        f"{THEME}{MARKDOWN_EXTENSIONS}"
        f"plugins:\n  - search\n"
        f"nav:\n{nav}"
        f"extra_css:\n{css}"
        f"extra_javascript:\n{js}"
    )


def _nav_yaml(items: list[dict[str, Any]], indent: str) -> str:
    lines = []
    for item in items:
        for title, target in item.items():
            if isinstance(target, list):
                lines.append(f"{indent}- {title}:\n{_nav_yaml(target, indent + '    ')}")
            else:
                lines.append(f"{indent}- {title}: {json.dumps(target)}\n")
    return "".join(lines)
