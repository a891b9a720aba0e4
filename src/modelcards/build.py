"""The build, in order: card files and run exports -> catalog -> lineage graph and its checks ->
the policy gates -> the cards' history from git -> explanations -> pages.

This is the only module that chains the stages. The CLI and the MkDocs plugin
both call ``generate_site``; neither holds logic of its own.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from .audience import filter_catalog, hidden_field_failure, mark_problems, redact_graph
from .cache_upkeep import mark_used
from .cards.loader import ParsedCards, find_card_files, load_cards
from .catalog import Catalog, ModelEntry, build_catalog, keep_states
from .config import Settings
from .crosswalk import Crosswalks
from .errors import InvalidCards, Problem, sort_problems
from .files import write_atomic
from .frozen import frozen_version_problems
from .history import History, read_history
from .lineage.checks import LineageFindings, check_lineage
from .lineage.graph import LineageGraph, build_graph
from .linking import LinkedBefore, LinkedCards, link_runs
from .monitoring import Monitoring, mlflow_points, monitor, read_feedback, read_monitoring
from .parallel import apart
from .policy import PolicyReport, evaluate_policy, load_policy
from .sources.load import LoadedRuns, load_runs
from .sources.masking import MaskedValue, SecretMasker
from .sources.pinning import PinnedRuns, dvc_projects
from .waivers import as_of_date

if TYPE_CHECKING:
    from .explain.stage import Explained, FoundBefore, Progress
    from .site.pages import Page, PageGroups


@dataclass(frozen=True)
class CheckedCatalog:
    catalog: Catalog | None
    problems: list[Problem]
    masked: tuple[MaskedValue, ...] = ()
    graph: LineageGraph | None = None  # built for sites, with the run exports; `validate` has none
    lineage_gaps: list[Problem] = field(default_factory=list)
    history: History = field(default_factory=History)  # the cards' audit trail from git; empty without git
    policy: PolicyReport | None = None  # with a `policy` file: each model's rules, passed, failed or waived
    monitoring: Monitoring | None = None  # built for sites: results tied to deployments, alerts, staleness
    crosswalks: Crosswalks = field(default_factory=Crosswalks, compare=False)  # made for the policy, kept for the pages

    @property
    def notices(self) -> list[Problem]:
        """Never failures, but never silent: waived policy failures."""
        return [p for p in self.problems if p.severity == "info"]

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
    catalog: Catalog | None  # None when generated apart: the build needs only the pages and what to report
    pages: list[Page]
    warnings: list[Problem]
    masked: tuple[MaskedValue, ...] = ()
    explained: Explained | None = None
    history: History = field(default_factory=History)
    notices: list[Problem] = field(default_factory=list)  # waived policy failures, printed as info
    counts: SiteCounts | None = None


@dataclass(frozen=True)
class SiteCounts:
    """What a build says it built."""

    versions: dict[str, int]  # model name -> how many versions its card has
    runs: int
    explained: int  # versions with an explanation
    produced: int  # of which computed or drawn in this build


def check_cards(paths: list[Path], *, relative_to: Path, runs: LoadedRuns | None = None,
                pins: PinnedRuns | None = None, masker: SecretMasker | None = None,
                history: History | None = None, summarise_trials: bool = True,
                parsed: ParsedCards | None = None, linked_before: LinkedBefore | None = None) -> CheckedCatalog:
    """Load and cross-check every card under ``paths``; collect all problems.

    With ``runs`` (a site that reads run exports), versions are filled in from the runs they name,
    and naming an unknown run is an error; ``pins`` reads the ``dvc:<stage>@<rev>`` runs they pin from
    git. Without, ``run:`` is kept as text. A credential written in a card is an error, and no problem
    message quotes one (``masker``: the built-in shapes when None). With ``history``, whoever added a
    version in git may not sign it off, and a version approved in a commit may not change afterwards.
    ``parsed``: the cards parsed by a previous call (see ``load_cards``); ``linked_before``: their linking to the runs
    (see ``link_runs``).
    """
    masker = masker or SecretMasker()
    loaded, problems = load_cards(find_card_files(paths), relative_to=relative_to, masker=masker, parsed=parsed)
    linked = link_runs(loaded, runs.runs, pins, linked_before) if runs is not None else LinkedCards(loaded, {}, [])
    runs = runs or LoadedRuns()
    pins = pins or PinnedRuns([], relative_to)
    added_by = {path: card.version_added_by for path, card in history.cards.items()} if history else None
    catalog = build_catalog(linked.cards, runs={**runs.runs, **linked.pinned_runs}, links=linked.links,
                            added_by=added_by, summarise_trials=summarise_trials)
    frozen = [problem for entry in catalog.models.values() if history
              for problem in frozen_version_problems(entry.source.document, history.cards.get(entry.source.path),
                                                            entry.card.waivers)]
    problems = masker.mask_problems([*problems, *runs.problems, *pins.problems, *linked.problems,
                                     *catalog.problems, *frozen, *mark_problems(loaded)])
    return CheckedCatalog(catalog, sort_problems(problems), (*runs.masked, *pins.masked),
                          history=history or History())


def apply_policy(checked: CheckedCatalog, policy_file: Path, project_dir: Path,
                 graph: LineageGraph | None = None, monitoring: Monitoring | None = None,
                 findings: LineageFindings | None = None) -> CheckedCatalog:
    """The policy's failures, waivers and stale waivers added to the problems; lineage findings the policy
    makes errors replace the lineage check's own report of them. A bad policy file is an error."""
    loaded, problems = load_policy(policy_file, _shown(policy_file, project_dir))
    if loaded is None or checked.catalog is None:
        return replace(checked, problems=sort_problems([*checked.problems, *problems]))
    report = evaluate_policy(checked.catalog, loaded, graph=graph, monitoring=monitoring, findings=findings,
                             crosswalks=checked.crosswalks)
    kept = [p for p in checked.problems if not report.takes_over(p)]
    return replace(checked, problems=sort_problems([*kept, *report.problems]), policy=report)


def _shown(path: Path, project_dir: Path) -> str:
    try:
        return path.resolve().relative_to(project_dir.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def validate_cards(paths: list[Path], settings: Settings) -> CheckedCatalog:
    """What ``validate`` checks: the cards under ``paths`` without their runs, with their git history (frozen
    approved versions, separation of duties), the lineage checks that need nothing else (``CARD_CHECKS``: the
    environment order) at the project's severities, and the project's policy as far as it goes without lineage."""
    masker = project_masker(settings)
    history = card_history(settings.project_dir, paths, masker)
    checked = check_cards(paths, relative_to=settings.project_dir, masker=masker, history=history)
    if checked.catalog is None:
        return checked
    gaps = check_lineage(None, checked.catalog, settings.lineage_checks, environments=settings.environments)
    checked = replace(checked, problems=sort_problems([*checked.problems, *gaps]), lineage_gaps=gaps)
    if settings.policy is None:
        return checked
    with_policy = apply_policy(checked, settings.policy, settings.project_dir)
    return replace(with_policy, problems=masker.mask_problems(with_policy.problems))


def project_masker(settings: Settings) -> SecretMasker:
    """The masker for a project: the built-in shapes plus its ``secret_keys`` and ``secret_values``
    (checked to be regular expressions when the settings were loaded)."""
    return SecretMasker(settings.secret_keys, settings.secret_values)


def card_history(project_dir: Path, paths: list[Path], masker: SecretMasker) -> History:
    """The audit trail of the cards under ``paths`` (one git pass), every text from git masked like the cards."""
    return read_history(project_dir, *paths, mask=lambda text: masker.mask_text(text)[0])


@dataclass
class Memo:
    """What `modelcards serve` keeps from one rebuild to the next, so that saving one card does not read every
    card and run export again. Each entry is keyed by what it was read from, so a changed file is read again;
    changed settings (mkdocs.yml) start it afresh."""

    settings: Settings | None = None
    parsed_cards: ParsedCards = field(default_factory=dict)
    linked_cards: LinkedBefore = field(default_factory=dict)  # each card joined to its runs
    runs: tuple[tuple, LoadedRuns] | None = None  # (the run files' paths, sizes and times, what they gave)
    found_explanations: FoundBefore = field(default_factory=dict)  # taken from the cache, with their files' stamps
    crosswalks: Crosswalks = field(default_factory=Crosswalks)  # each model's, kept while its cards are unchanged
    models: dict[str, ModelEntry] = field(default_factory=dict)  # the last save's, for their version states
    page_groups: PageGroups | None = None  # each model's pages, kept while what they show is unchanged

    def for_settings(self, settings: Settings) -> Memo:
        if self.settings != settings:
            self.settings, self.parsed_cards, self.runs, self.page_groups = settings, {}, None, None
            self.linked_cards = {}
            self.found_explanations = {}
            self.crosswalks = Crosswalks()
            self.models = {}
        return self

    def groups(self, settings: Settings) -> PageGroups:
        """The kept page groups, told what the files behind every page are now: the run exports, monitoring
        results and reports, the tracker's export and the policy (their sizes and modification times)."""
        from .site.pages import PageGroups

        if self.page_groups is None:
            self.page_groups = PageGroups()
        self.page_groups.inputs = (self.runs[0] if self.runs else None, _files_stamp(
            [settings.project_dir / entry for entry in (*settings.monitoring, *settings.feedback)]
            + ([settings.policy] if settings.policy is not None else [])))
        return self.page_groups

    def loaded_runs(self, settings: Settings, masker: SecretMasker) -> LoadedRuns:
        stamp = _files_stamp([settings.project_dir / entry for entry in settings.runs])
        if self.runs is None or self.runs[0] != stamp:
            self.runs = (stamp, load_runs(list(settings.runs), project_dir=settings.project_dir, masker=masker,
                                          cache_dir=settings.cache_dir))
        return self.runs[1]


def _files_stamp(paths: list[Path]) -> tuple:
    """Every file under ``paths`` with its size and modification time: equal stamps, unchanged files."""
    stamp = []
    for path in paths:
        for folder, dirs, files in os.walk(path) if path.is_dir() else [(str(path.parent), [], [path.name])]:
            dirs.sort()
            for name in sorted(files):
                try:
                    info = os.stat(os.path.join(folder, name))
                except OSError:
                    continue
                stamp.append((folder, name, info.st_size, info.st_mtime_ns))
    return tuple(stamp)


def check_project(settings: Settings, memo: Memo | None = None) -> CheckedCatalog:
    """The cards and run exports a site is built from, joined, and checked with their lineage.

    With a ``memo`` (a preview's), cards and run exports that did not change since its last use are not read
    again."""
    masker = project_masker(settings)
    if not settings.runs:
        runs = None
    elif memo is not None:
        runs = memo.loaded_runs(settings, masker)
    else:
        runs = load_runs(list(settings.runs), project_dir=settings.project_dir, masker=masker,
                         cache_dir=settings.cache_dir)
    pins = PinnedRuns(dvc_projects(list(settings.runs), settings.project_dir), settings.project_dir, masker)
    history = card_history(settings.project_dir, [settings.cards_dir], masker)
    checked = check_cards([settings.cards_dir], relative_to=settings.project_dir, runs=runs, pins=pins,
                          masker=masker, history=history, summarise_trials=not settings.trial_pages,
                          parsed=memo.parsed_cards if memo is not None else None,
                          linked_before=memo.linked_cards if memo is not None else None)
    if checked.catalog is None:
        return checked
    if memo is not None:
        checked = replace(checked, crosswalks=memo.crosswalks)
        keep_states(checked.catalog.models, memo.models)
        memo.models = checked.catalog.models
    graph = build_graph(checked.catalog)
    findings = LineageFindings(graph, checked.catalog)  # the policy's lineage rules read them too
    # names, severities and environments checked at load
    gaps = check_lineage(graph, checked.catalog, settings.lineage_checks, environments=settings.environments,
                         findings=findings)
    gaps = masker.mask_problems(gaps)  # they quote run values, and the lineage health page shows them
    checked = replace(checked, problems=sort_problems([*checked.problems, *gaps]), graph=graph, lineage_gaps=gaps)
    monitoring = check_monitoring(settings, checked.catalog, masker)
    checked = replace(checked, problems=sort_problems([*checked.problems, *monitoring.problems]),
                      monitoring=monitoring, masked=(*checked.masked, *monitoring.masked))
    if settings.policy is None:
        return checked
    with_policy = apply_policy(checked, settings.policy, settings.project_dir, graph, monitoring, findings)
    return replace(with_policy, problems=masker.mask_problems(with_policy.problems))


def for_audience(checked: CheckedCatalog, settings: Settings) -> CheckedCatalog:
    """What ``settings.audience`` may see of a checked project, everything derived again from the filtered
    catalog: the lineage graph (hidden nodes as redacted boxes), its checks, monitoring and the policy report.
    The change history is left out: its field diffs and commit subjects quote the cards as written.

    The problems found on the full cards are kept as they are: they are printed for the author, never put
    in the site. Unchanged without an audience, or for the highest one.
    """
    if not settings.audience_filtered or checked.catalog is None:
        return checked
    catalog, hidden = filter_catalog(checked.catalog, settings.audience, settings.audience_default)
    masker = project_masker(settings)
    graph = redact_graph(checked.graph, build_graph(catalog), hidden) if checked.graph is not None else None
    gaps = masker.mask_problems(check_lineage(graph, catalog, settings.lineage_checks,
                                              environments=settings.environments)) if graph is not None else []
    monitoring = check_monitoring(settings, catalog, masker) if checked.monitoring is not None else None
    history = History(head=checked.history.head, shallow=checked.history.shallow,
                      uncommitted=checked.history.uncommitted)
    view = replace(checked, catalog=catalog, graph=graph, lineage_gaps=gaps, monitoring=monitoring,
                   history=history, policy=None)
    if checked.policy is None or settings.policy is None:
        return view
    report = apply_policy(view, settings.policy, settings.project_dir, graph, monitoring).policy
    if report is None:
        return view
    models = {name: replace(model, outcomes=tuple(
        replace(outcome, failures=tuple(f for f in outcome.failures if f.document is not None
                                        or not hidden_field_failure(f.key_path, hidden.fields.get(name, set()))))
        for outcome in model.outcomes)) for name, model in report.models.items()}
    return replace(view, policy=replace(report, models=models, problems=[]))


def check_monitoring(settings: Settings, catalog: Catalog, masker: SecretMasker) -> Monitoring:
    """The ``monitoring`` setting's results and the runs' evaluation runs, tied to the catalog's deployments, and
    the ``feedback`` setting's tracker entries joined to the cards' feedback."""
    results = read_monitoring(settings.monitoring, project_dir=settings.project_dir, masker=masker)
    evaluations = mlflow_points({ref: entry.record for ref, entry in catalog.runs.items()})  # masked when read
    tracker = read_feedback(settings.feedback, project_dir=settings.project_dir, masker=masker)
    found = monitor(catalog, results, evaluations, feedback=tracker, as_of=as_of_date())
    found.problems = masker.mask_problems(found.problems)
    return found


def generate_site(settings: Settings, *, strict: bool = False, progress: Progress | None = None,
                  memo: Memo | None = None) -> GeneratedSite:
    """All pages for the cards in ``settings.cards_dir``, or ``InvalidCards`` with every problem.

    ``progress`` hears about each explanation that has to be computed (cached ones are not reported).
    ``memo``: a preview's, kept from its previous call; the pages are the same as without.
    """
    memo = memo.for_settings(settings) if memo is not None else None
    checked = check_project(settings, memo)
    checked.raise_for(strict=strict)
    checked = for_audience(checked, settings)
    assert checked.catalog is not None
    # Imported here: jinja2, numpy and the explain stage are not needed for `validate`.
    from .explain.stage import explain_versions
    from .site.pages import render_pages

    with _cache_dir(settings) as cache_dir:
        explained = explain_versions(checked.catalog, project_dir=settings.project_dir, cache_dir=cache_dir,
                                     workers=settings.explain_workers, plots=settings.shap_plots,
                                     executor=settings.explain_executor, progress=progress,
                                     found_before=memo.found_explanations if memo is not None else None)
    if explained.problems:
        raise InvalidCards([*checked.problems, *project_masker(settings).mask_problems(explained.problems)])
    # A preview keeps its pages in memory, to write only those that changed since its last rebuild.
    keep = SiteFiles(settings.cache_dir).keep if memo is None and settings.cache_dir is not None else None
    pages = render_pages(checked.catalog, settings, explained=explained.versions, graph=checked.graph,
                         gaps=checked.lineage_gaps, history=checked.history, policy=checked.policy,
                         monitoring=checked.monitoring, crosswalks=checked.crosswalks, keep=keep,
                         groups=memo.groups(settings) if memo is not None else None)
    counts = SiteCounts({name: len(model.card.versions) for name, model in checked.catalog.models.items()},
                        len(checked.catalog.runs), len(explained.versions), explained.produced)
    return GeneratedSite(checked.catalog, pages, checked.warnings, checked.masked, explained, checked.history,
                         checked.notices, counts)


def generate_site_apart(settings: Settings, *, strict: bool = False,
                        progress: Progress | None = None) -> GeneratedSite:
    """``generate_site`` in a process of its own, which ends once the pages are made: a build's process then
    holds only the list of pages (kept on disk, see SiteFiles) and what to report, never the catalog.

    A thousand-model catalog, its lineage and explanations take hundreds of megabytes while pages are made.
    Freed in the build's own process, that memory would stay with it through MkDocs' build, which needs as
    much again for the pages' HTML. Where a process cannot be forked, it is generated here.
    """
    def generate() -> GeneratedSite:
        site = generate_site(settings, strict=strict, progress=progress)
        return replace(site, catalog=None, explained=None, history=History(notes=site.history.notes))

    return apart(generate)


@contextmanager
def _cache_dir(settings: Settings) -> Iterator[Path]:
    if settings.cache_dir is not None:
        yield settings.cache_dir
        return
    with tempfile.TemporaryDirectory(prefix="modelcards-cache-") as scratch:
        yield Path(scratch)


def write_pages(pages: list[Page], out_dir: Path) -> None:
    for page in pages:
        target = out_dir / page.path
        target.parent.mkdir(parents=True, exist_ok=True)
        if page.stored is not None:
            shutil.copyfile(page.stored, target)
        else:
            target.write_text(page.content, encoding="utf-8")


SITE_FILES = "site-files"  # the cache's folder of the generated files, by content


class SiteFiles:
    """Generated pages and files kept on disk as they are made: under the cache, by the SHA-256 of their
    content, written only when new. A catalog of a thousand models makes hundreds of megabytes of pages,
    plots, downloads and exports; MkDocs reads each from here when it needs it (a page) or copies it (any other
    file), as it does a project's own, instead of all of them being held in memory from generation to the end
    of the build. A rebuild with nothing changed writes none."""

    def __init__(self, cache_dir: Path) -> None:
        self.folder = cache_dir / SITE_FILES
        self.folder.mkdir(parents=True, exist_ok=True)

    def keep(self, page: Page) -> Page:
        content = page.content.encode("utf-8")
        target = self.folder / f"{hashlib.sha256(content).hexdigest()}{Path(page.path).suffix}"
        if target.is_file():
            mark_used(target)
        else:
            write_atomic(target, content)
        return replace(page, content="", stored=target)


def replace_directory(new: Path, target: Path) -> None:
    """Swap a fully built directory into place, so readers never see half a site."""
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)
