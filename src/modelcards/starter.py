"""The files ``modelcards init`` writes into an existing repository: all of them, or none.

A site config (Material, no web fonts, the light/dark toggle), a first card, a CI workflow and a pre-commit
config. Every file is refused when any of them exists already, so that nothing a team wrote is overwritten
and no half-initialised repository is left behind.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from . import DISTRIBUTION
from .cards.scaffold import SCHEMA_FILE, scaffold_card, schema_file_text
from .errors import ModelcardsError
from .site.standalone import MARKDOWN_EXTENSIONS, THEME

# Where this project's own pre-commit hook (.pre-commit-hooks.yaml) is published; the same placeholder host as
# the example mkdocs.yml's repo_url. `modelcards init --hook-repo URL` points a repository at a mirror.
HOOK_REPOSITORY = "https://git.example.com/ml/modelcards"
HOOK_ID = "modelcards-validate"
CACHE_DIR = ".modelcards-cache"
SITE_PAGES_DIR = "modelcards-docs"  # not docs/: many repositories keep other documentation there


@dataclass(frozen=True)
class StarterOptions:
    model: str
    title: str | None = None
    owner: str = "Your team"
    contact: str = "team@example.com"
    risk_tier: str = "medium"
    site_name: str = "Model cards"
    hook_repo: str = HOOK_REPOSITORY
    package_version: str = "0.1.0"


class ExistingFiles(ModelcardsError):
    """init would overwrite files; it names every one of them and writes nothing."""

    def __init__(self, paths: list[str]):
        self.paths = paths
        super().__init__("modelcards init writes nothing when any of its files exists; found: " + ", ".join(paths))


def starter_files(options: StarterOptions) -> dict[str, str]:
    """Relative path -> text of every file ``init`` writes, in the order it reports them."""
    card = scaffold_card(options.model, title=options.title, owner=options.owner, contact=options.contact,
                         risk_tier=options.risk_tier)  # raises on a bad name or tier, before anything is written
    return {
        "mkdocs.yml": _mkdocs_yml(options),
        f"{SITE_PAGES_DIR}/about.md": _ABOUT_PAGE,
        f"cards/{options.model}.yml": card,
        f"cards/{SCHEMA_FILE}": schema_file_text(),
        ".github/workflows/modelcards.yml": _WORKFLOW.format(package=DISTRIBUTION, version=options.package_version,
                                                             cache=CACHE_DIR),
        ".pre-commit-config.yaml": _PRE_COMMIT_CONFIG.format(repo=options.hook_repo, rev=f"v{options.package_version}",
                                                             hook=HOOK_ID),
    }


def folder_slug(folder: Path) -> str:
    """A card name made from a folder's name: ``Fraud Scoring`` -> ``fraud-scoring``."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", folder.name.lower()).strip("-._")
    return slug or "my-model"


def write_starter(root: Path, files: dict[str, str]) -> list[Path]:
    """Write ``files`` under ``root``; when any exists (or is in the way), raise before writing any."""
    existing = [relative for relative in files if (root / relative).exists() or (root / relative).is_symlink()]
    if existing:
        raise ExistingFiles(existing)
    written = []
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("x", encoding="utf-8", newline="\n") as handle:  # "x": never replace a file
            handle.write(text)
        written.append(target)
    return written


def _mkdocs_yml(options: StarterOptions) -> str:
    return (
        "# The model-card site, written by `modelcards init`. Settings: docs/reference/configuration.md\n"
        f"site_name: {json.dumps(options.site_name, ensure_ascii=False)}\n"
        f"docs_dir: {SITE_PAGES_DIR}            # pages of your own; the plugin adds the generated ones\n"
        "# Material without web fonts, so that the site loads nothing from a CDN; light or dark as the reader's\n"
        "# system prefers, with a toggle in the header.\n"
        f"{THEME}{MARKDOWN_EXTENSIONS}"
        "plugins:\n"
        "  - search\n"
        "  - modelcards:\n"
        "      cards_dir: cards\n"
        f"      cache_dir: {CACHE_DIR}   # SHAP values and diagrams; CI keeps it between runs\n"
    )


_ABOUT_PAGE = """# About these model cards

Each model in this repository has a card in `cards/`, one YAML file per model. The pages of this site are
built from them by [modelcards](https://pypi.org/project/mkdocs-modelcards/).

To add a model: `modelcards new my-model`, fill in `cards/my-model.yml`, then `modelcards validate`.
"""

_WORKFLOW = """# Validates the model cards and builds the site, written by `modelcards init`.
name: modelcards

on:
  push:
    branches: [main]
  pull_request:

permissions:
  contents: read

jobs:
  site:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0        # a full clone: the audit trail and the sign-off checks read the cards' git history
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install Graphviz (lineage diagrams)
        run: sudo apt-get update && sudo apt-get install --yes graphviz
      - name: Install modelcards
        run: pip install "{package}=={version}"
      - name: Cache SHAP values and diagrams
        uses: actions/cache@v4
        with:
          path: {cache}
          key: modelcards-${{{{ hashFiles('cards/**', 'mkdocs.yml') }}}}
          restore-keys: modelcards-
      - name: Validate the cards
        run: modelcards validate --strict --format github
      - name: Build the site
        run: modelcards build --strict
      - uses: actions/upload-artifact@v4
        with:
          name: site
          path: site/
"""

_PRE_COMMIT_CONFIG = """# Checks the model cards before each commit, written by `modelcards init`.
# Install once with: pip install pre-commit && pre-commit install
repos:
  - repo: {repo}
    rev: {rev}
    hooks:
      - id: {hook}
"""
