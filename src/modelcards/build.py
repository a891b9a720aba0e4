"""The build, in order: card files -> cards -> catalog -> pages.

This is the only module that chains the stages. The CLI and the MkDocs plugin
both call ``generate_site``; neither holds logic of its own.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .cards.loader import find_card_files, load_cards
from .catalog import Catalog, build_catalog
from .config import Settings
from .errors import InvalidCards, Problem, sort_problems
from .linking import LinkedCards, link_runs
from .sources.load import LoadedRuns, load_runs
from .sources.masking import MaskedValue, SecretMasker

if TYPE_CHECKING:
    from .site.pages import Page


@dataclass(frozen=True)
class CheckedCatalog:
    catalog: Catalog | None
    problems: list[Problem]
    masked: tuple[MaskedValue, ...] = ()

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
    masked: tuple[MaskedValue, ...] = ()


def check_cards(paths: list[Path], *, relative_to: Path, runs: LoadedRuns | None = None) -> CheckedCatalog:
    """Load and cross-check every card under ``paths``; collect all problems.

    With ``runs`` (a site that reads run exports), versions are filled in from the runs they name,
    and naming an unknown run is an error. Without, ``run:`` is kept as text.
    """
    loaded, problems = load_cards(find_card_files(paths), relative_to=relative_to)
    linked = link_runs(loaded, runs.runs) if runs is not None else LinkedCards(loaded, {}, [])
    runs = runs or LoadedRuns()
    catalog = build_catalog(linked.cards, runs=runs.runs, links=linked.links)
    problems = sort_problems([*problems, *runs.problems, *linked.problems, *catalog.problems])
    return CheckedCatalog(catalog, problems, tuple(runs.masked))


def check_project(settings: Settings) -> CheckedCatalog:
    """The cards and run exports a site is built from, joined and checked."""
    try:
        masker = SecretMasker(settings.secret_keys, settings.secret_values)
    except re.error as exc:
        problem = Problem("mkdocs.yml", 1, 1, "plugins.modelcards.secret_keys/secret_values",
                          f"found the pattern {exc.pattern!r}, which is not a regular expression: {exc}")
        return CheckedCatalog(None, [problem])
    runs = load_runs(list(settings.runs), project_dir=settings.project_dir, masker=masker) if settings.runs else None
    return check_cards([settings.cards_dir], relative_to=settings.project_dir, runs=runs)


def generate_site(settings: Settings, *, strict: bool = False) -> GeneratedSite:
    """All pages for the cards in ``settings.cards_dir``, or ``InvalidCards`` with every problem."""
    checked = check_project(settings)
    checked.raise_for(strict=strict)
    assert checked.catalog is not None
    from .site.pages import render_pages  # jinja2 only when pages are made, not for `validate`

    return GeneratedSite(checked.catalog, render_pages(checked.catalog, settings), checked.warnings,
                         checked.masked)


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
