"""Catalog -> in-memory site pages (Markdown and assets), from the Jinja templates.

Every value from a card is escaped for both Markdown and HTML by the template
environment's ``finalize`` hook, so a template cannot forget to escape; only
values wrapped in ``Markup`` (links and formatting built here) pass as they are.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import jinja2
from markupsafe import Markup

from ..catalog import Catalog, DatasetEntry, ModelEntry, RunEntry
from ..compare import version_lineage
from ..cards.schema import ModelCard, Version
from ..cards.yaml_source import format_key_path
from ..config import Settings
from ..crosswalk import REQUIREMENTS, Coverage, Crosswalk, Crosswalks, Requirement
from ..errors import Problem
from ..history import CardChange, Commit, FieldChange, History
from ..explain.stage import VersionExplanation
from ..export import FORMATS
from ..governance import VersionState, VersionStatus, person
from ..lineage.checks import CHECKS
from ..lineage.graph import LineageGraph
from ..linking import RunLink
from ..monitoring import Monitoring, band_text
from ..parallel import in_parallel
from ..policy import PolicyReport
from ..waivers import as_of_date
from .compare import model_comparisons, node_url, site_file_url
from .explanations import explanation_views
from .exports import Download, model_downloads
from .facets import catalog_view
from .lineage import lineage_diagrams
from .paths import (CATALOG_PAGE, CHANGES_PAGE, CROSSWALK_PAGE, DATASETS_PAGE, HEALTH_PAGE, LINEAGE_PAGE,
                    OWNERS_PAGE, POLICY_PAGE, RUNS_PAGE, TAGS_PAGE, SitePaths, crosswalk_page, dataset_page,
                    model_page, owner_page, relative_url, requirement_anchor, root_url, run_page, tag_page,
                    experiment_page, trial_anchor,
                    version_anchors)
from .monitoring import deployment_pages
from .plots import line_chart

ASSETS = ("modelcards.js", "modelcards.css")
# Published beside them but loaded by modelcards.js only when needed (the full-size diagram view); see
# site_templates/assets/vendor/README.md for their versions and sources.
VENDOR_ASSETS = ("vendor/svg-pan-zoom.min.js", "vendor/svg-pan-zoom.LICENSE")


@dataclass(frozen=True)
class Page:
    """A generated file: its path inside the docs tree and its content, or the file on disk that holds it."""

    path: str
    content: str
    source: str | None = None  # card file (relative to the project) the page was made from
    stored: Path | None = None  # set when a ``keep`` of render_pages put the content there (content is then "")


def render_pages(catalog: Catalog, settings: Settings, *,
                 explained: dict[tuple[str, str], VersionExplanation] | None = None,
                 graph: LineageGraph | None = None, gaps: list[Problem] | None = None,
                 history: History | None = None, policy: PolicyReport | None = None,
                 monitoring: Monitoring | None = None, crosswalks: Crosswalks | None = None,
                 keep: Callable[[Page], Page] | None = None,
                 groups: PageGroups | None = None) -> list[Page]:
    """Every page of the site, in a stable order, with the files beside them.

    Those files are the plots and CSVs of the ``explained`` versions and, with a lineage ``graph``, the
    DOT sources of its diagrams; ``gaps`` are the lineage checks' findings, listed on the health page.
    With a ``history`` (the audit trail read from git), card pages get a History section, a Recent changes
    page lists the newest commits, and every page says which commit it is as of. With a ``policy`` report,
    model pages get a Policy section, the catalog a policy column, and a Policy page lists every failure and
    waiver. With ``monitoring``, each deployment with results gets a monitoring page, and the catalog the open
    alerts and last evaluation of each model.

    Each page passes through ``keep`` as soon as it is made (in the worker that made it, when models are
    rendered in several): a large catalog's pages need not all be held in memory at once.

    ``groups``: a preview's (``modelcards serve``), kept from its previous call: each model whose pages would show
    the same inputs as then keeps the pages made then, which are the same bytes.
    """
    keep = keep or (lambda page: page)
    env = _environment()
    prefix = settings.page_prefix
    paths = SitePaths(prefix)
    pages: list[Page] = []
    diagrams = lineage_diagrams(catalog, graph, settings) if graph is not None else None

    history = history or History()
    commit_link = _commit_linker(settings)
    card_pages = {model.source.path: paths.model(model.name) for model in catalog.models.values()}
    card_pages.update((dataset.source.path, paths.dataset(dataset.name))
                      for dataset in catalog.datasets.values() if dataset.source)
    as_of = _as_of(history, commit_link)

    def card_link(page_path: str, card_path: str) -> Markup:
        target = card_pages.get(card_path)
        return _link(page_path, card_path, target) if target else code(card_path)

    view = catalog_view(catalog, policy, settings.environments)
    owner_slugs = {person(owner.name): owner.slug for owner in view.owners}

    def owner_link(page_path: str, name: str) -> Markup:
        """An owner's name, linked to their page (every owner in a model card has one)."""
        return _link(page_path, name, paths.owner(owner_slugs[person(name)]))

    def href(page_path: str, target: str) -> Markup:
        """A link target for raw HTML, which MkDocs does not rewrite: the page's URL, relative and escaped."""
        return Markup(html.escape(relative_url(page_path, target, settings.directory_urls), quote=True))

    def render(template: str, path: str, source: str | None = None, *, into: list[Page] | None = None,
               **context: Any) -> None:
        page_path = prefix + path
        content = env.get_template(template).render(
            page_path=page_path, paths=paths, catalog=catalog, settings=settings, commit_link=commit_link,
            card_link=card_link, owner_link=owner_link, href=href, change_lines=_change_lines, **context
        )
        page = Page(page_path, content.strip() + "\n" + as_of, source)
        if into is None:
            pages.append(keep(page))
        else:
            into.append(page)  # kept with the rest of its group

    made_crosswalks = crosswalks or Crosswalks()
    crosswalks_of = {name: made_crosswalks.of(model, catalog) for name, model in catalog.models.items()}
    today = as_of_date()
    # What every page shows or links by: a change here renders every page again.
    shared = (settings, today, as_of, policy.path if policy else None, policy.as_of if policy else None,
              card_pages, owner_slugs, groups.inputs if groups is not None else None)
    if groups is not None:
        shared = groups.same_as_before(shared)

    made_again: list[str] = []  # the kept pages made again in a preview

    def render_kept(group: tuple[str, str], key: Callable[[], tuple], template: str, path: str,
                    context: Callable[[], dict[str, Any]], source: str | None = None) -> None:
        """``render``; with a preview's ``groups``, only when ``key()`` (what the page shows besides ``shared``)
        differs from the previous render's."""
        if groups is None:
            render(template, path, source, **context())
            return
        full_key = (shared, key())
        kept = groups.get(group, full_key)
        if kept is None:
            kept = []
            render(template, path, source, into=kept, **context())
            made_again.append(path)
        pages.extend(groups.put(group, full_key, kept))

    def model_pages(model: ModelEntry) -> list[Page]:
        """A model's page and every page and file beside it: exports, monitoring, crosswalk, its compare page."""
        out: list[Page] = []
        downloads = model_downloads(catalog, model.name, paths, today, settings.downloads)
        versions = _version_rows(model, settings.environments)
        explanations, files = explanation_views(
            model, explained or {}, prefix, {row.version.version: row.previous.version for row in versions if row.previous})
        comparisons = model_comparisons(model, settings, graph, explained or {})
        model_monitoring = monitoring.models.get(model.name) if monitoring else None
        deployment_views = deployment_pages(model, model_monitoring)
        render("model.md.j2", model_page(model.name), source=model.source.path, into=out, model=model,
               card=model.card, edit_url=settings.edit_url(model.source.path),
               versions=versions, states=model.states,
               version_anchor=version_anchors(model), metric_names=_metric_names(model.card),
               trend_charts=_trend_charts(model), explanations=explanations,
               lineage=diagrams.models.get(model.name) if diagrams else None,
               card_history=history.cards.get(model.source.path), policy=policy, head=history.head,
               model_policy=policy.models.get(model.name) if policy else None, crosswalk=crosswalks_of[model.name],
               comparisons=comparisons, model_monitoring=model_monitoring,
               monitoring_paths={v.deployment.index: paths.prefix + v.page for v in deployment_views},
               downloads=downloads,
               file_url=lambda file, page=paths.model(model.name): Markup(html.escape(
                   site_file_url(settings, page, file), quote=True)))
        out.extend(_download_pages(downloads))
        for view in deployment_views:
            render("monitoring.md.j2", view.page, source=model.source.path, into=out, card=model.card,
                   d=view.deployment, mm=model_monitoring, charts=view.charts, drifted=view.drifted, view=view,
                   reports=[(_report_day(view, source), href(prefix + view.page, prefix + target))
                            for target, source in view.reports])
            out.extend(Page(prefix + target, (settings.project_dir / source).read_text(encoding="utf-8"))
                       for target, source in view.reports)
        render("crosswalk.md.j2", crosswalk_page(model.name), source=model.source.path, into=out, model=model,
               card=model.card, crosswalk=crosswalks_of[model.name], edit_url=settings.edit_url(model.source.path))
        out.extend(Page(file.path, file.content) for file in files)
        if comparisons.views:  # a model of one version has nothing to compare: no page, nothing links one
            path = comparisons.index
            render("compare.md.j2", path.removeprefix(prefix), source=model.source.path, into=out, model=model,
                   card=model.card, comparisons=comparisons,
                   versions_url=site_file_url(settings, path, comparisons.data),
                   root=root_url(path, settings.directory_urls),
                   node_url=lambda node, path=path, model=model: node_url(node, model, settings, path))
            out.append(Page(comparisons.data, comparisons.data_json))
        return [keep(page) for page in out]

    def download_pages(wanted: tuple[ModelEntry, list[str]]) -> list[Page]:
        model, formats = wanted
        downloads = model_downloads(catalog, model.name, paths, today, formats)
        return [keep(page) for page in _download_pages(downloads)]

    # A preview's key of each model's page group: everything the group shows. An unchanged model's key is the very
    # object kept from the previous render, so that the keys of the pages listing models compare at once.
    keys: dict[str, tuple] = {}
    download_keys: dict[str, dict[str, tuple]] = {}  # model -> export format -> the key of its file
    changed = list(catalog.models.values())
    if groups is not None:
        runs_of = _runs_by_model(catalog)
        changed = []
        for name, model in catalog.models.items():
            key = _group_key(shared, model, catalog, graph, diagrams, explained or {}, history, policy, monitoring,
                             crosswalks_of[name], runs_of)
            kept_key = groups.kept_key(("model", name), key)
            keys[name] = kept_key or key
            download_keys[name] = _downloads_keys(shared, model, catalog, runs_of, settings.downloads)
            if kept_key is None:
                changed.append(model)
    every_model = lambda: tuple(keys.items())  # noqa: E731  (the key of a page listing every model)

    def kept_row(group: tuple[str, str], key: Callable[[], tuple], template: jinja2.Template,
                 **context: Any) -> Markup:
        """A row of a page listing models, rendered on its own: a preview renders again only the rows whose
        ``key()`` changed (at 1,000 models, the rows are most of the catalog's and a large tag page's time)."""
        if groups is None:
            return Markup(template.render(**context))
        full_key = key()
        kept = groups.get(group, full_key)
        return groups.put(group, full_key, kept if kept is not None else Markup(template.render(**context)))

    row_template = env.get_template("_catalog_row.html.j2")

    def catalog_row(row) -> Markup:
        def key() -> tuple:
            # The model's key covers all its pages show; the facet code numbers its values among the catalog's.
            return keys[row.model.name], view.facet_code(row), policy is not None, monitoring is not None
        return kept_row(("catalog row", row.model.name), key, row_template, row=row, view=view, policy=policy,
                        monitoring=monitoring, page_path=prefix + CATALOG_PAGE, paths=paths, href=href)

    render_kept(("page", CATALOG_PAGE), lambda: (every_model(), tuple(catalog.datasets), tuple(catalog.tags)),
                "catalog.md.j2", CATALOG_PAGE,
                lambda: dict(view=view, policy=policy, monitoring=monitoring, catalog_row=catalog_row))
    if view.owners:
        render_kept(("page", OWNERS_PAGE), lambda: tuple(
            (owner.name, owner.slug, tuple(bool(model.current_deployments) for model in owner.models))
            for owner in view.owners), "owners.md.j2", OWNERS_PAGE, lambda: dict(view=view))
    rows_by_model = {row.model.name: row for row in view.rows}
    for owner in view.owners:
        rows = [rows_by_model[model.name] for model in owner.models]
        render_kept(("owner", owner.slug), lambda: (owner.name, owner.roles, policy is not None, tuple(
            (row.model.name, row.model.card.title, row.model.card.status, row.risk, row.policy,
             tuple(row.model.current_deployments)) for row in rows)),
                    "owner.md.j2", owner_page(owner.slug), lambda: dict(owner=owner, policy=policy, rows=rows))
    if groups is None:
        for model_output in in_parallel(model_pages, changed, from_items=PARALLEL_FROM_MODELS):
            pages.extend(model_output)
    else:
        made = dict(zip((model.name for model in changed),
                        in_parallel(model_pages, changed, from_items=PARALLEL_FROM_MODELS)))
        # Models whose pages are kept but whose exports' inputs changed (a dataset card's description, say: the
        # pages show none of it, most exports all of the card): only those downloads are made again.
        exports_changed = [(model, changed_formats) for name, model in catalog.models.items() if name not in made
                           and (changed_formats := [format for format, key in download_keys[name].items()
                                                    if groups.get(("downloads", f"{name}:{format}"), key) is None])]
        remade = dict(zip((model.name for model, _ in exports_changed),
                          in_parallel(download_pages, exports_changed, from_items=PARALLEL_FROM_MODELS)))
        groups.downloads_made = [page.path for output in remade.values() for page in output]
        for name, key in keys.items():
            kept = made[name] if name in made else groups.get(("model", name), key)
            if name in remade:
                fresh = {page.path: page for page in remade[name]}
                kept = [fresh.get(page.path, page) for page in kept]
            for format, download_key in download_keys[name].items():
                groups.put(("downloads", f"{name}:{format}"), download_key, True)
            pages.extend(groups.put(("model", name), key, kept))
    render_kept(("page", CROSSWALK_PAGE),
                lambda: tuple((name, crosswalks_of[name], model.card.title, model.card.risk_tier)
                              for name, model in catalog.models.items()),
                "crosswalk_matrix.md.j2", CROSSWALK_PAGE,
                lambda: dict(crosswalks=crosswalks_of, requirements=REQUIREMENTS))
    def titles(names) -> tuple:
        return tuple(catalog.models[name].card.title for name in names)

    def model_titles() -> tuple:
        return tuple((name, model.card.title) for name, model in catalog.models.items())

    render_kept(("page", DATASETS_PAGE), lambda: (tuple(
        (dataset, titles(dataset.models)) for dataset in catalog.datasets.values())),
                "datasets.md.j2", DATASETS_PAGE, dict)
    for dataset in catalog.datasets.values():
        source = dataset.source.path if dataset.source else None
        impact = diagrams.datasets.get(dataset.name) if diagrams else None
        impact_nodes = diagrams.undrawn.get(dataset.name) if diagrams else None  # too many to draw
        card_history = history.cards.get(source) if source else None
        render_kept(("dataset", dataset.name),
                    lambda: (dataset, impact, impact_nodes, card_history, titles(use.model for use in dataset.uses)),
                    "dataset.md.j2", dataset_page(dataset.name), lambda: dict(
                        dataset=dataset, edit_url=settings.edit_url(source) if source else None, impact=impact,
                        impact_nodes=impact_nodes, card_history=card_history), source=source)
    render_kept(("page", TAGS_PAGE), lambda: tuple(catalog.tags.values()), "tags.md.j2", TAGS_PAGE, dict)
    tag_row_template = env.get_template("_tag_row.html.j2")

    def tag_row(tag, name: str) -> Markup:
        card = catalog.models[name].card
        return kept_row(("tag row", f"{tag.name}\n{name}"), lambda: (shared, card.title, card.status, card.summary),
                        tag_row_template, name=name, catalog=catalog, page_path=prefix + tag_page(tag.name),
                        paths=paths, href=href)

    for tag in catalog.tags.values():
        render_kept(("tag", tag.name), lambda: (tag, tuple(
            (card.title, card.status, card.summary) for name in tag.models for card in [catalog.models[name].card]),
                                               tuple(catalog.datasets[name].title for name in tag.datasets)),
                    "tag.md.j2", tag_page(tag.name), lambda: dict(tag=tag, tag_row=lambda name: tag_row(tag, name)))
    if catalog.runs:
        render_kept(("page", RUNS_PAGE), lambda: (tuple(catalog.runs.values()), tuple(catalog.experiments.items()),
                                                  tuple(titles(dict.fromkeys(model for model, _ in entry.model_versions))
                                                        for entry in catalog.runs.values())),
                    "runs.md.j2", RUNS_PAGE, lambda: dict(run_rows=_run_rows(catalog)))
    for entry in catalog.runs.values():
        if entry.trial_of is not None:
            continue  # a row of the trials table on its parent's or experiment's page
        record = entry.record
        commit = record.code.commit if record.code else None
        # A run's page shows its entry, its trials and the titles of the models it made.
        render_kept(("run", entry.ref), lambda: (entry, tuple(catalog.runs[ref] for ref in entry.trials),
                                                 tuple(catalog.models[model].card.title
                                                       for model, _ in entry.model_versions)),
                    "run.md.j2", run_page(entry.ref), lambda: dict(
                        entry=entry, r=record, run_title=record.name or record.id,
                        commit_url=settings.commit_url(commit) if commit else None, charts=_run_charts(entry),
                        tags=_shown_tags(record.tags),
                        trials=_trial_table(catalog, entry.trials) if entry.trials else None),
                    source=record.origin.path if record.origin else None)
    for (source, experiment), refs in catalog.experiments.items():
        render("experiment.md.j2", experiment_page(source, experiment), source_name=source, experiment=experiment,
               trials=_trial_table(catalog, refs))
    if diagrams is not None:
        render_kept(("page", LINEAGE_PAGE), lambda: (tuple(
            (name, model.card.title, model.card.owners[0].name if model.card.owners else None,
             tuple(model.dataset_names())) for name, model in catalog.models.items()), diagrams.overview,
            diagrams.overview_nodes, tuple(dataset.title for dataset in catalog.datasets.values()), bool(catalog.runs)),
                    "lineage.md.j2", LINEAGE_PAGE, lambda: dict(diagrams=diagrams))
        render_kept(("page", HEALTH_PAGE), lambda: (model_titles(), tuple(gaps or ())), "health.md.j2", HEALTH_PAGE,
                    lambda: dict(gaps=gaps or [], gap_groups=_gap_groups(catalog, gaps or []),
                                 checks={name: Markup(text) for name, text in CHECKS.items()}))  # our own Markdown
        pages.extend(keep(Page(path, source)) for path, source in diagrams.files)
    if policy is not None:
        render_kept(("page", POLICY_PAGE), lambda: (model_titles(), policy, tuple(
            (name, model.card.waivers) for name, model in catalog.models.items() if model.card.waivers), tuple(
            _where(failure, catalog.models[name]) for name, model_policy in policy.models.items()
            for outcome in model_policy.outcomes
            for failure in (*outcome.failures, *(waived.failure for waived in outcome.waived)))),
                    "policy.md.j2", POLICY_PAGE,
                    lambda: dict(policy=policy, where=_where))
    if history.cards or settings.audience_filtered:  # a lower audience's build says why it has no history
        render("changes.md.j2", CHANGES_PAGE, groups=_recent_commits(history), shallow=history.shallow)
    for asset, path in zip(ASSETS + VENDOR_ASSETS, paths.assets(ASSETS + VENDOR_ASSETS)):
        pages.append(keep(Page(path, _read_template(f"assets/{asset}"))))
    if groups is not None:
        groups.finish(len(made), len(catalog.models) - len(made), made_again)
    return _once(pages)


def _once(pages: list[Page]) -> list[Page]:
    """Each path once: a plot named by its content is listed by every version that shows it."""
    first: dict[str, Page] = {}
    for page in pages:
        seen = first.setdefault(page.path, page)
        if (seen.content, seen.stored) != (page.content, page.stored):
            raise ValueError(f"two different files for {page.path}")
    return list(first.values())


# Groups that are not pages of their own: a model's pages are counted by model, a row is part of the catalog or of a
# tag's page.
PARTS_OF_PAGES = ("model", "downloads", "catalog row", "tag row")


class PageGroups:
    """Pages from a preview's previous render, by group (a model's pages, a run's page, the crosswalk matrix, a
    row of the catalog), with the inputs they show. A group whose inputs are equal again keeps what it made, so
    saving one card renders that card's pages and the pages listing it only.

    ``inputs`` is set by the caller before each render: what stands for the files behind every page (run exports,
    monitoring results and reports, the tracker's export, the policy), so that a change there renders all again.
    """

    def __init__(self):
        self.inputs: object = None
        self._kept: dict[tuple[str, str], tuple[tuple, Any]] = {}  # group -> (key, its pages or its catalog row)
        self._now: dict[tuple[str, str], tuple[tuple, Any]] = {}
        self._shared: tuple | None = None
        self.rendered = self.reused = 0  # model groups, in the last render
        self.pages_made: list[str] = []  # the other kept pages (listing pages, runs' pages) made in the last render
        self.downloads_made: list[str] = []  # the downloads made again for models whose pages were kept
        self.pages_kept = 0

    def same_as_before(self, shared: tuple) -> tuple:
        """``shared`` (what every page shows), or the previous render's when equal: the keys holding it then compare
        by identity, not entry by entry through every model's page path, in each of thousands of keys."""
        if shared != self._shared:
            self._shared = shared
        return self._shared

    def get(self, group: tuple[str, str], key: tuple) -> Any:
        kept = self._kept.get(group)
        return kept[1] if kept is not None and kept[0] == key else None

    def kept_key(self, group: tuple[str, str], key: tuple) -> tuple | None:
        """The previous render's key of ``group`` when it equals ``key``: using it again, the keys holding it
        compare by identity."""
        kept = self._kept.get(group)
        return kept[0] if kept is not None and kept[0] == key else None

    def put(self, group: tuple[str, str], key: tuple, value: Any) -> Any:
        self._now[group] = (key, value)
        return value

    def finish(self, rendered: int, reused: int, pages_made: list[str]) -> None:
        """Keep this render's groups for the next; those not made this time (a model removed) are forgotten."""
        self.pages_made = pages_made
        self.pages_kept = sum(1 for group in self._now if group[0] not in PARTS_OF_PAGES) - len(pages_made)
        self._kept, self._now = self._now, {}
        self.rendered, self.reused = rendered, reused


def _runs_by_model(catalog: Catalog) -> dict[str, list[RunEntry]]:
    found: dict[str, list[RunEntry]] = {}
    for entry in catalog.runs.values():
        for name in dict.fromkeys(model for model, _ in entry.model_versions):
            found.setdefault(name, []).append(entry)
    return found


def _group_key(shared: tuple, model: ModelEntry, catalog: Catalog, graph: LineageGraph | None, diagrams,
               explained: dict, history: History, policy: PolicyReport | None, monitoring: Monitoring | None,
               model_crosswalk, runs_of: dict[str, list[RunEntry]]) -> tuple:
    """Everything a model's page group shows, from what is in memory already: its entry (the card with the
    document it was parsed from, whose scalars' text tells ``1`` from ``true``, equal in Python), runs, datasets,
    lineage (the diagram and each version's upstream nodes), explanations, history, policy, monitoring and
    crosswalk, and what every page shares (``shared``). Unchanged objects kept by a preview's memo compare at once,
    by identity."""
    name = model.name
    # Of a dataset, the pages show its title, its page and whether it has a card; its exports all of it
    # (``_downloads_keys``), so editing a dataset card's text makes its models' downloads again, not their pages.
    datasets = tuple((entry.name, entry.title, entry.source and entry.source.path, entry.card is not None)
                     for entry in _datasets_of(model, catalog))
    lineage = tuple(graph.nodes[node] for version in model.card.versions
                    for node in version_lineage(graph, name, version.version)) if graph is not None else ()
    return (shared, model, tuple(runs_of.get(name, ())), datasets,
            diagrams.models.get(name) if diagrams else None, lineage,
            tuple(explained.get((name, version.version)) for version in model.card.versions),
            history.cards.get(model.source.path), policy.models.get(name) if policy else None,
            monitoring.models.get(name) if monitoring else None, model_crosswalk)


def _downloads_keys(shared: tuple, model: ModelEntry, catalog: Catalog, runs_of: dict[str, list[RunEntry]],
                    formats: Collection[str]) -> dict[str, tuple]:
    """Everything each of a model's downloads in ``formats`` holds (``export`` reads the catalog only), by format:
    its entry, runs and datasets, of which the Hugging Face card holds only names and titles."""
    entries = _datasets_of(model, catalog)
    whole = tuple((entry.name, entry.card, entry.source) for entry in entries)
    named = tuple((entry.name, entry.title) for entry in entries)
    runs = tuple(runs_of.get(model.name, ()))
    return {format.name: (shared, model, runs, whole if format.holds_dataset_text else named)
            for format in FORMATS.values() if format.name in formats}


def _datasets_of(model: ModelEntry, catalog: Catalog) -> list[DatasetEntry]:
    return [entry for name in model.dataset_names() if (entry := catalog.datasets.get(name)) is not None]


def _download_pages(downloads: list[Download]) -> list[Page]:
    return [Page(download.path, download.content) for download in downloads]


# Below this many models one process renders them all: starting workers costs more than it saves.
PARALLEL_FROM_MODELS = 40


def _report_day(view, source: str) -> str:
    return next(str(p.day) for p in view.deployment.reports if p.report == source)


def asset_paths(settings: Settings) -> list[str]:
    return SitePaths(settings.page_prefix).assets(ASSETS)


# --- escaping -----------------------------------------------------------------

# The characters Python-Markdown (with tables) lets a backslash escape.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")


def inline(value: Any) -> Markup:
    """Plain text safe inside a Markdown line or table cell: no markup survives."""
    if isinstance(value, Markup):
        return value
    return _inline_text(_format_value(value))


@lru_cache(maxsize=1 << 16)  # names, versions, metrics and people repeat on every page that mentions them
def _inline_text(text: str) -> Markup:
    return Markup(_escaped(" ".join(text.split())))


def _escaped(text: str) -> str:
    return html.escape(_MARKDOWN_SPECIAL.sub(r"\\\1", text), quote=False)


def html_text(value: Any) -> Markup:
    """Plain text safe inside an HTML block, which Markdown leaves as it is: HTML-escaped, no backslashes."""
    return value if isinstance(value, Markup) else Markup(html.escape(_format_value(value), quote=True))


def paragraphs(value: Any) -> Markup:
    """Multi-line text as Markdown paragraphs, each escaped like ``inline``."""
    blocks = re.split(r"\n\s*\n", str(value or "").strip())
    return Markup("\n\n".join(inline(block) for block in blocks if block.strip()))


def code(value: Any) -> Markup:
    # Markdown still parses the text inside inline HTML (links, emphasis, table pipes), so escape it like inline.
    return Markup(f"<code>{inline(_format_value(value))}</code>")


def _format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return str(value)


def _finalize(value: Any) -> Any:
    return value if isinstance(value, Markup) else inline(value)


# --- the environment ----------------------------------------------------------

def template_dir() -> Path:
    """``site_templates/`` inside the installed package, or beside ``src/`` in a checkout."""
    packaged = resources.files("modelcards") / "site_templates"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "site_templates"


@lru_cache(maxsize=None)
def _read_template(name: str) -> str:
    return (template_dir() / name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir())),
        autoescape=False,  # output is Markdown; _finalize escapes for Markdown and HTML at once
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(md=inline, paragraphs=paragraphs, code=code, text=html_text, front_matter=_front_matter_title, signed=_signed,
                       number=_number, full=_full, percent=_percent, state=_state_chip, linked=_linked,
                       policy_state=_policy_chip, coverage=_coverage_chip,
                       coverage_mark=_coverage_mark, requirement_column=_requirement_column, anchor=_anchor)
    env.globals.update(link=_link, url=_url, metric_status=_metric_status,
                        requirement_anchor=_requirement_anchor, as_of_day=as_of_date(), band_text=band_text,
                        trial_row_anchor=_trial_row_anchor)
    return env


def _front_matter_title(value: Any) -> Markup:
    # MkDocs puts the title into <title> and the nav without escaping it, so escape it here;
    # a JSON string is valid YAML.
    return Markup(json.dumps(html.escape(_format_value(value)), ensure_ascii=False))


def _url(page_path: str, target: str) -> Markup:
    """Relative link from one generated page to another, as MkDocs expects (``.md`` paths)."""
    return Markup(relative_path(target, posixpath.dirname(page_path)))


def relative_path(target: str, start: str) -> str:
    """``posixpath.relpath`` for paths inside the docs tree, without its per-call ``os.getcwd()``."""
    target_parts = [part for part in target.split("/") if part and part != "."]
    start_parts = [part for part in start.split("/") if part and part != "."]
    common = 0
    for a, b in zip(target_parts, start_parts):
        if a != b:
            break
        common += 1
    parts = [".."] * (len(start_parts) - common) + target_parts[common:]
    return "/".join(parts) or "."


def _link(page_path: str, text: Any, target: str) -> Markup:
    return Markup(f"[{inline(text)}]({_url(page_path, target)})")


def _state_chip(state: VersionState) -> Markup:
    """A version's derived state as a label; the states are ours, nothing from a card."""
    return Markup(f'<span class="mc-state mc-state-{state.name}">{state.value}</span>')


def _policy_chip(state: str) -> Markup:
    """A policy rule's outcome (passed, failed, waived, not checked) as a label; ours, nothing from a card."""
    return Markup(f'<span class="mc-policy mc-policy-{state.replace(" ", "-")}">{state}</span>')


_ANCHOR = re.compile(r"[A-Za-z0-9._-]+")


def _anchor(value: str) -> Markup:
    """A heading id for ``{ #id }``. Escaped like text (``1\\.0``), the id MkDocs reads while it checks the links
    to it is not the one the page ends up with, so it reports each link as pointing nowhere: letters, digits,
    dots and dashes go as they are. An underscore keeps its backslash, since the heading's inline Markdown,
    attribute included, is read before the id is taken from it, and ``_x_`` (from a version label such as
    ``<b>``) would become emphasis. Only ids the site makes pass (``comparison_anchor``, the templates' own)."""
    if not _ANCHOR.fullmatch(value):
        raise ValueError(f"not a heading id: {value!r}")
    return Markup(value.replace("_", "\\_"))


def _requirement_anchor(requirement: Requirement) -> Markup:
    return Markup(requirement_anchor(requirement))  # made of the table's own ids: letters, digits and dashes


# NIST's own short forms of its functions (GV, MS, MG), as in its AI RMF Playbook and profiles.
_NIST_FUNCTIONS = {"GOVERN": "GV", "MAP": "MP", "MEASURE": "MS", "MANAGE": "MG"}


def _requirement_column(requirement: Requirement) -> str:
    """A matrix column's short heading: `IV.9` for Annex IV point 9, `MS-2.11` for NIST MEASURE 2.11."""
    function, _, number = requirement.id.partition(" ")
    if function in _NIST_FUNCTIONS:
        return f"{_NIST_FUNCTIONS[function]}-{number}"
    return f"IV.{requirement.id}"


_COVERAGE_MARKS = {Coverage.covered: "●", Coverage.partial: "◐", Coverage.missing: "○"}


def _coverage_mark(status: Coverage) -> Markup:
    """A crosswalk status in a matrix cell: a mark in the status colour, its word for screen readers and on hover.
    Fourteen worded chips side by side would not fit a page."""
    return Markup(f'<span class="mc-coverage-mark mc-coverage mc-coverage-{status.name}" title="{status.value}">'
                  f'<span aria-hidden="true">{_COVERAGE_MARKS[status]}</span>'
                  f'<span class="mc-visually-hidden">{status.value}</span></span>')


def _coverage_chip(status: Coverage) -> Markup:
    """A crosswalk status as a label; the statuses are ours, nothing from a card."""
    return Markup(f'<span class="mc-coverage mc-coverage-{status.name}">{status.value}</span>')


# An http(s) URL inside text; it ends before whitespace, brackets, quotes and a closing punctuation mark.
_URL_IN_TEXT = re.compile(r"https?://[^\s<>()\[\]\"'`\\]+(?<![.,;:!?])")


def _linked(value: Any) -> Markup:
    """Text from a card with each http(s) URL in it a link (references, evidence); everything else, and any
    other scheme (``javascript:``, ``file:``), stays escaped text."""
    text = " ".join(_format_value(value).split())
    parts, end = [], 0
    for match in _URL_IN_TEXT.finditer(text):
        url = match.group()
        parts += [_escaped(text[end:match.start()]), f'<a href="{html.escape(url, quote=True)}">{_escaped(url)}</a>']
        end = match.end()
    return Markup("".join(parts) + _escaped(text[end:]))


def _signed(value: float) -> Markup:
    return Markup(f"{value:+.4g}")


def _number(value: float) -> Markup:
    return Markup(f"{value:.4g}")


def _full(value: float) -> Markup:
    """Every digit, for checking a value against a recomputation."""
    return Markup(repr(float(value)))


def _percent(value: float) -> Markup:
    return Markup(f"{value * 100:.1f}%")


# --- derived data for the templates --------------------------------------------

RECENT_COMMITS = 50  # on the Recent changes page
SHOWN_FIELD_CHANGES = 12  # per card and commit; the rest are counted


def _commit_linker(settings: Settings):
    """A commit, short, linked to the repository's commit page when the site has a ``repo_url``: a ``Commit``
    read from git, or a commit as a card or a run records it (any text, so escaped)."""
    def commit_link(commit: Commit | str) -> Markup:
        if isinstance(commit, Commit):
            sha, shown = commit.sha, Markup(f"`{commit.short}`")  # hex digits only
        else:
            sha, shown = commit, code(commit[:10])
        url = settings.commit_url(sha)
        return Markup(f"[{shown}]({url})") if url else shown  # commit_url quotes the commit
    return commit_link


def _as_of(history: History, commit_link) -> str:
    """The line closing every page: the project's HEAD commit and its date, never the clock, so two builds
    of one commit are the same byte for byte."""
    if history.head is None:
        return ""
    head = history.head
    dirty = " plus uncommitted changes to the cards" if history.uncommitted else ""
    return f"\n*As of {head.committed[:10]}, commit {commit_link(head)}{dirty}*\n"


def _change_lines(changes: tuple[FieldChange, ...]) -> list[Markup]:
    """One compact line per changed field: ``risk_tier: medium → high``."""
    lines = []
    for change in changes[:SHOWN_FIELD_CHANGES]:
        if change.kind == "changed":
            lines.append(Markup(f"{code(change.key)}: {_shown_value(change.before)} → {_shown_value(change.after)}"))
        elif change.kind == "added":
            lines.append(Markup(f"{code(change.key)} added{_scalar_suffix(change.after)}"))
        else:
            lines.append(Markup(f"{code(change.key)} removed{_scalar_suffix(change.before)}"))
    if len(changes) > SHOWN_FIELD_CHANGES:
        lines.append(Markup(f"… and {len(changes) - SHOWN_FIELD_CHANGES} more field(s)"))
    return lines


def _shown_value(value: Any) -> Markup:
    text = _format_value(value)
    return inline(text if len(text) <= 80 else text[:80] + " …")


def _scalar_suffix(value: Any) -> Markup:
    return Markup("") if isinstance(value, (dict, list)) else Markup(f": {_shown_value(value)}")


@dataclass(frozen=True)
class CommitGroup:
    commit: Commit
    cards: list[tuple[str, CardChange]]


def _recent_commits(history: History) -> list[CommitGroup]:
    """The newest commits across all cards, each with the cards it changed."""
    groups: dict[str, CommitGroup] = {}
    for path, change in history.recent():
        assert change.commit is not None
        groups.setdefault(change.commit.sha, CommitGroup(change.commit, [])).cards.append((path, change))
    return list(groups.values())[:RECENT_COMMITS]


# Tags that repeat what the page shows elsewhere, or hold whole documents.
HIDDEN_TAGS = frozenset({"mlflow.log-model.history", "mlflow.loggedArtifacts"})
LONG_VALUE = 300


def _shown_tags(tags: dict[str, str]) -> list[tuple[str, str]]:
    return [(key, value if len(value) <= LONG_VALUE else value[:LONG_VALUE] + " …")
            for key, value in sorted(tags.items()) if key not in HIDDEN_TAGS]


@dataclass(frozen=True)
class RunRow:
    """A row of the runs index: one run, or the items of one DVC foreach/matrix stage together."""

    items: list[RunEntry]  # more than one for a collapsed foreach/matrix stage

    @property
    def first(self) -> RunEntry:
        return self.items[0]

    @property
    def title(self) -> str:
        record = self.first.record
        group = record.tags.get("dvc.stage.group")
        return f"{group} ({len(self.items)} items)" if len(self.items) > 1 and group else record.name or record.id


def _run_rows(catalog: Catalog) -> list[RunRow]:
    rows: dict[tuple, RunRow] = {}
    for entry in catalog.runs.values():
        if entry.trial_of is not None:
            continue  # counted on its parent's row, or on its experiment's line below the table
        record = entry.record
        group = record.tags.get("dvc.stage.group")
        key = (record.source, record.experiment, group) if group else (entry.ref,)
        if key in rows:
            rows[key].items.append(entry)
        else:
            rows[key] = RunRow([entry])
    return list(rows.values())


@dataclass(frozen=True)
class TrialTable:
    """Tuning trials as one table: a row per trial, a column per param that varies and per metric."""

    trials: list[RunEntry]  # by start time, then id
    params: list[str]  # the params whose value differs between trials (or that some trials lack)
    same: list[tuple[str, str]]  # the params every trial has with one value, listed once above the table
    metrics: list[str]


def _trial_table(catalog: Catalog, refs: list[str]) -> TrialTable:
    trials = sorted((catalog.runs[ref] for ref in refs),
                    key=lambda entry: (entry.record.start_time or "", entry.record.id))
    keys = sorted({key for entry in trials for key in entry.record.params})
    same = [(key, values.pop()) for key in keys
            for values in [{entry.record.params.get(key) for entry in trials}]
            if len(values) == 1 and None not in values and len(trials) > 1]
    constant = {key for key, _ in same}
    metrics = sorted({key for entry in trials for key in entry.record.metrics})
    return TrialTable(trials, [key for key in keys if key not in constant], same, metrics)


def _trial_row_anchor(ref: str) -> Markup:
    """The target a lineage node of a trial links to, inside the trial's row."""
    return Markup(f'<span id="{html.escape(trial_anchor(ref), quote=True)}"></span>')


def _run_charts(entry: RunEntry) -> list[Markup]:
    """One step-history chart per metric logged at more than one step."""
    return [
        line_chart(key, [(key, series.history)], x_label="step")
        for key, series in sorted(entry.record.metrics.items()) if series.stepped
    ]


def _trend_charts(model: ModelEntry) -> list[Markup]:
    """Each metric across versions, oldest to newest, when at least two versions have it."""
    oldest_first = model.versions_newest_first[::-1]
    ticks = [(float(i), v.version) for i, v in enumerate(oldest_first)]
    charts = []
    for name in _metric_names(model.card):
        points = [(float(i), v.metrics[name]) for i, v in enumerate(oldest_first) if name in v.metrics]
        if len(points) >= 2:
            charts.append(line_chart(f"{name} by version", [(name, points)], x_label="version", x_ticks=ticks))
    return charts

def _where(failure, model: ModelEntry) -> Markup:
    """Where a policy failure is: the key path, and the card when it is another one (a dataset card)."""
    document = failure.document or model.source.document
    key = code(format_key_path(failure.key_path)) if failure.key_path else Markup("")
    line, _ = document.position(failure.key_path)
    return Markup(f"{code(f'{document.path}:{line}')} {key}")


def _metric_names(card: ModelCard) -> list[str]:
    declared = [metric.name for metric in card.metrics]
    used = sorted({name for version in card.versions for name in version.metrics} - set(declared))
    return [name for name in declared if any(name in v.metrics for v in card.versions)] + used


def _metric_status(card: ModelCard, name: str, value: float | None) -> str:
    """``"fails"`` when a value is on the wrong side of its declared threshold."""
    metric = next((m for m in card.metrics if m.name == name), None)
    if value is None or metric is None or metric.threshold is None:
        return ""
    passes = value >= metric.threshold if metric.higher_is_better else value <= metric.threshold
    return "" if passes else "fails"


@dataclass(frozen=True)
class VersionRow:
    """A version with what changed since the version it is compared with (``previous``).

    That is the version it replaced in production (the last of the configured environments it reached), when
    that differs from the version before it by date, e.g. after a rollback; otherwise the version before it.
    """

    version: Version
    previous: Version | None
    metric_deltas: dict[str, float]
    settings: list[tuple[str, Any, Any, bool]]  # key, value, value before, changed; removed keys too
    data_changed: bool
    code_changed: bool
    run: RunLink | None = None
    anchor: Markup = Markup()  # the version's heading id on the model page
    status: VersionStatus | None = None  # derived from its approvals and the deployment log
    replaced_in: str | None = None  # the environment where it replaced ``previous``, when that decided the choice
    previous_anchor: Markup = Markup()

    @property
    def settings_changed(self) -> int:
        return sum(changed for *_, changed in self.settings)


def _version_rows(model: ModelEntry, environments: tuple[str, ...]) -> list[VersionRow]:
    newest_first = model.versions_newest_first
    by_label = {version.version: version for version in newest_first}
    anchors = version_anchors(model)
    states = model.states
    rows = []
    for index, version in enumerate(newest_first):
        before = newest_first[index + 1] if index + 1 < len(newest_first) else None
        replaced = _replaced(model, version.version, environments)
        replaced_in = None
        older = {v.version for v in newest_first[index + 1:]}
        if replaced is not None and replaced[1] in older and replaced[1] != before.version:
            replaced_in, previous = replaced[0], by_label[replaced[1]]
        else:
            previous = before
        anchor = Markup(anchors[version.version])  # made here from a number, nothing to escape
        common = dict(run=model.run_links.get(version.version), anchor=anchor, status=states[version.version])
        if previous is None:
            settings = [(k, v, None, False) for k, v in sorted(version.params.items())]
            rows.append(VersionRow(version, None, {}, settings, False, False, **common))
            continue
        deltas = {
            name: value - previous.metrics[name]
            for name, value in version.metrics.items() if name in previous.metrics
        }
        keys = sorted(set(version.params) | set(previous.params))
        settings = [(k, version.params.get(k), previous.params.get(k),
                     version.params.get(k) != previous.params.get(k)) for k in keys]
        rows.append(VersionRow(
            version, previous, deltas, settings,
            data_changed=[d.model_dump() for d in version.data] != [d.model_dump() for d in previous.data],
            code_changed=version.code != previous.code,
            replaced_in=replaced_in, previous_anchor=Markup(anchors[previous.version]), **common,
        ))
    return rows


def _replaced(model: ModelEntry, label: str, environments: tuple[str, ...]) -> tuple[str, str] | None:
    """(environment, version) that ``label``'s first deployment replaced, in the last of ``environments`` where
    it replaced one; None when it replaced nothing there (never deployed, or first in every environment)."""
    logs: dict[str, list] = {}
    for _, deployment in sorted(enumerate(model.card.deployments), key=lambda iv: (iv[1].date, iv[0])):
        logs.setdefault(deployment.environment, []).append(deployment)
    for environment in reversed(environments):
        log = logs.get(environment, [])
        first = next((i for i, d in enumerate(log) if d.version == label), None)
        if first:  # neither absent nor the environment's very first deployment
            return environment, log[first - 1].version
    return None


@dataclass(frozen=True)
class GapGroup:
    title: str
    model: str | None  # the model card the gaps are in; None for gaps found in run exports
    problems: list[Problem]


def _gap_groups(catalog: Catalog, gaps: list[Problem]) -> list[GapGroup]:
    """Lineage gaps by model, in catalog order, then those in run exports."""
    model_of = {model.source.path: model for model in catalog.models.values()}
    groups: dict[str, GapGroup] = {}
    for problem in sorted(gaps):
        model = model_of.get(problem.path)
        key = model.name if model else ""
        if key not in groups:
            groups[key] = GapGroup(model.card.title if model else "Run exports", model.name if model else None, [])
        groups[key].problems.append(problem)
    return sorted(groups.values(), key=lambda g: (g.model is None, g.model or ""))
