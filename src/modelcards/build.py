"""The build, in order: card files -> cards -> catalog -> pages.

This is the only module that chains the stages. The CLI and the MkDocs plugin
both call ``generate_site``; neither holds logic of its own.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .cards.loader import find_card_files, load_cards
from .catalog import Catalog, build_catalog
from .config import Settings
from .errors import InvalidCards, Problem, sort_problems

if TYPE_CHECKING:
    from .site.pages import Page


@dataclass(frozen=True)
class CheckedCatalog:
    catalog: Catalog | None
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def raise_for(self, *, strict: bool) -> None:
        """Fail once, with every problem, if there are errors (or warnings under ``strict``)."""
        if self.errors or (strict and self.warnings):
            raise InvalidCards(self.problems)


@dataclass(frozen=True)
class GeneratedSite:
    catalog: Catalog
    pages: list[Page]
    warnings: list[Problem]


def check_cards(paths: list[Path], *, relative_to: Path) -> CheckedCatalog:
    """Load and cross-check every card under ``paths``; collect all problems."""
    loaded, problems = load_cards(find_card_files(paths), relative_to=relative_to)
    catalog = build_catalog(loaded)
    problems = sort_problems([*problems, *catalog.problems])
    return CheckedCatalog(catalog, problems)


def generate_site(settings: Settings, *, strict: bool = False) -> GeneratedSite:
    """All pages for the cards in ``settings.cards_dir``, or ``InvalidCards`` with every problem."""
    checked = check_cards([settings.cards_dir], relative_to=settings.project_dir)
    checked.raise_for(strict=strict)
    assert checked.catalog is not None
    from .site.pages import render_pages  # jinja2 only when pages are made, not for `validate`

    return GeneratedSite(checked.catalog, render_pages(checked.catalog, settings), checked.warnings)


def write_pages(pages: list[Page], out_dir: Path) -> None:
    for page in pages:
        target = out_dir / page.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page.content, encoding="utf-8")


def replace_directory(new: Path, target: Path) -> None:
    """Swap a fully built directory into place, so readers never see half a site."""
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)
