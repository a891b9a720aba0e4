"""Where every generated page and file lives in the docs tree, the anchors inside pages, and their URLs.

Pages, templates, lineage diagrams and the nav all ask this module; nothing else spells a page path.
Paths here are relative to the generated tree; ``SitePaths`` adds the site's page prefix. Lower stages
never see them: a lineage node says what it is, and ``node_target`` decides where it links.

No Jinja here: the nav and the lineage links need paths without rendering anything.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..catalog import ModelEntry, TrialOf
from ..crosswalk import ANNEX_IV, Note, Requirement
from ..lineage.graph import Node

CATALOG_PAGE = "index.md"  # the models' index, the site's home page without a prefix
DATASETS_PAGE = "datasets/index.md"
TAGS_PAGE = "tags/index.md"
RUNS_PAGE = "runs/index.md"
LINEAGE_PAGE = "lineage/index.md"
HEALTH_PAGE = "lineage/health.md"
CHANGES_PAGE = "changes.md"  # the newest commits across all cards
POLICY_PAGE = "policy.md"  # every policy failure and waiver across the catalog
CROSSWALK_PAGE = "crosswalk.md"  # the regulatory coverage matrix: models x Annex IV points and NIST items
OWNERS_PAGE = "owners/index.md"  # every owner (person or team) with a page listing their models
ASSET_DIR = "assets/modelcards"

# Heading ids the toc extension gives the model page's "## Versions" and "## Deployments".
VERSIONS_ANCHOR = "versions"
DEPLOYMENTS_ANCHOR = "deployments"
POLICY_ANCHOR = "policy"  # the model page's "## Policy"

KEY_FACTS_ANCHOR = "key-facts"  # the key facts box of model and dataset pages

# The model page's section showing each top-level card key: the toc extension's heading ids, or the ids the
# templates set. The crosswalk links what a card holds to these.
MODEL_SECTION_ANCHORS = {
    **dict.fromkeys(("name", "title", "summary", "owners", "status", "risk_tier", "risk_rationale", "license",
                     "tags"), KEY_FACTS_ANCHOR),
    "model_details": "model-details",
    "intended_use": "intended-use",
    "factors": "factors",
    "metrics": "metrics",
    "training_data": "training-data",
    "evaluation_data": "evaluation-data",
    "quantitative_analyses": "quantitative-analyses",
    "ethical_considerations": "ethical-considerations",
    "caveats": "caveats-and-recommendations",
    "recommendations": "caveats-and-recommendations",
    "design_choices": "design-choices",
    "tradeoffs": "design-choices",
    "human_oversight": "human-oversight",
    "risk_management": "risk-management",
    "standards": "standards",
    "declaration_of_conformity": "declaration-of-conformity",
    "monitoring": "monitoring",
    "versions": VERSIONS_ANCHOR,
    "deployments": DEPLOYMENTS_ANCHOR,
}
# The same on dataset pages.
DATASET_SECTION_ANCHORS = {"source": KEY_FACTS_ANCHOR, "datasheet": "datasheet", "personal_data": "personal-data"}


def file_name(label: str, limit: int = 80) -> str:
    """``label`` when it is file-name safe; otherwise a safe form with a hash suffix, so two never collide."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", label).strip(".") or "_"
    if safe != label:
        safe = f"{safe[:limit]}-{hashlib.sha1(label.encode()).hexdigest()[:8]}"
    return safe


def model_page(name: str) -> str:
    return f"models/{name}.md"


def dataset_page(name: str) -> str:
    return f"datasets/{name}.md"


def crosswalk_page(model: str) -> str:
    """A model's regulatory crosswalk, beside its page."""
    return f"models/{model}/crosswalk.md"


def compare_index_page(model: str) -> str:
    """A model's version comparisons: the pre-built ones listed, any other pair picked in the page."""
    return f"models/{model}/compare/index.md"


def comparison_anchor(before: str, after: str) -> str:
    """The heading id of version ``before`` against ``after`` on the model's compare page: ``1.0.0...1.1.0``, as
    git spells a range; labels that are not file-name safe get a hash suffix (``file_name``), so the id keeps to
    letters, digits, ``.``, ``_`` and ``-`` and two pairs never share one."""
    return f"{file_name(before)}...{file_name(after)}"


def comparison_section(model: str, before: str, after: str) -> str:
    """Version ``before`` against ``after``: a section of the model's compare page (one page per model, not one
    per pair: each page costs Material's chrome again), ``models/<model>/compare/index.md#1.0.0...1.1.0``."""
    return f"{compare_index_page(model)}#{comparison_anchor(before, after)}"


def versions_data(model: str) -> str:
    """The JSON of every version's comparable facts, which the compare page's picker reads."""
    return f"models/{model}/versions.json"


def export_file(model: str, name: str) -> str:
    """A model's export offered for download, in a folder beside its page."""
    return f"models/{model}/export/{name}"


def root_url(from_page: str, directory_urls: bool) -> str:
    """From a page up to the site root (``../../``), for URLs written into HTML attributes and JSON, which
    MkDocs does not rewrite."""
    return "../" * page_url(from_page, directory_urls).count("/") or "./"


def requirement_anchor(requirement: Requirement) -> str:
    """A requirement's heading id on a crosswalk page: ``annex-iv-2``, ``nist-measure-2-11``."""
    if requirement.framework == ANNEX_IV:
        return f"annex-iv-{requirement.id}"
    return "nist-" + requirement.id.lower().replace(" ", "-").replace(".", "-")


def note_target(note: Note, model: ModelEntry) -> str:
    """The section (``path.md#anchor``) showing what a crosswalk note found in a card: a version's heading,
    a model page section, or a dataset page section."""
    if note.dataset is not None:
        return f"{dataset_page(note.dataset)}#{DATASET_SECTION_ANCHORS.get(note.section, KEY_FACTS_ANCHOR)}"
    anchors = version_anchors(model)
    if note.version is not None and note.version in anchors:
        return f"{model_page(model.name)}#{anchors[note.version]}"
    return f"{model_page(model.name)}#{MODEL_SECTION_ANCHORS.get(note.section, KEY_FACTS_ANCHOR)}"


def monitoring_page(model: str, environment: str, version: str, since: object) -> str:
    """One deployment's monitoring: ``models/<model>/monitoring/production-1.2.0-2026-04-06.md``."""
    return f"models/{model}/monitoring/{file_name(f'{environment}-{version}-{since}')}.md"


def monitoring_report(model: str, report: str) -> str:
    """An Evidently HTML report, copied beside the monitoring pages to be downloaded, never embedded."""
    return f"models/{model}/monitoring/reports/{file_name(report)}"


def tag_page(name: str) -> str:
    return f"tags/{name}.md"


def owner_page(slug: str) -> str:
    return f"owners/{slug}.md"


def owner_slugs(names: dict[str, str]) -> dict[str, str]:
    """Each owner's page name, by owner key: ``Growth team`` -> ``growth-team``. Names that would share one
    (``A.B`` and ``A B``), or have no letters or digits to make one of, all get a hash of the key as a suffix,
    so a page name never depends on which other owners exist beyond those."""
    def slug(name: str) -> str:
        ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
        return re.sub(r"[^a-z0-9]+", "-", ascii_name)[:60].strip("-")

    base = {key: slug(name) for key, name in names.items()}
    taken: dict[str, int] = {}
    for slug in base.values():
        taken[slug] = taken.get(slug, 0) + 1
    return {key: slug if slug and slug != "index" and taken[slug] == 1
            else f"{slug or 'owner'}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"
            for key, slug in base.items()}


def run_page(ref: str) -> str:
    """``mlflow:<id>`` -> ``runs/mlflow/<id>.md``; ids that are not file-name safe get a hash suffix."""
    source, _, run_id = ref.partition(":")
    return f"runs/{source}/{file_name(run_id)}.md"


def experiment_page(source: str, experiment: str) -> str:
    """The page listing an experiment's tuning trials that have no parent run."""
    return f"runs/experiments/{source}/{file_name(experiment)}.md"


def trial_page(trial_of: TrialOf) -> str:
    """The page a tuning trial is listed on: its parent run's, else its experiment's."""
    return run_page(trial_of.parent) if trial_of.parent else experiment_page(trial_of.source, trial_of.experiment)


def trial_anchor(ref: str) -> str:
    """The id of a trial's row in the table of trials."""
    return "trial-" + file_name(ref.partition(":")[2])


def explanation_folder(model: str, version: str) -> str:
    """The folder of a version's importance CSV."""
    return f"explain/{model}/{file_name(version)}"


def plot_file(kind: str, svg: str) -> str:
    """Where one of shap's plots is published: named by its content, so that versions whose explanations are the
    same (the same model and rows, under another name or version) share one file. No model's folder beside it
    can be called ``_plots``: a name starts with a letter or digit."""
    return f"explain/_plots/{hashlib.sha256(svg.encode('utf-8')).hexdigest()[:32]}-{kind}.svg"


def diagram_source(what: str, name: str) -> str:
    """The DOT source published beside a diagram: ``what`` is model, dataset or overview."""
    return f"lineage/{what}/{name or 'all'}.dot"


def version_anchors(model: ModelEntry) -> dict[str, str]:
    """Each version's heading id on its model page, numbered from the oldest (``version-1``), so a link to a
    version keeps working when newer versions are added."""
    newest_first = model.versions_newest_first
    return {version.version: f"version-{len(newest_first) - index}" for index, version in enumerate(newest_first)}


def node_target(node: Node, version_anchors: dict[tuple[str, str], str]) -> str | None:
    """The page (``path.md#anchor``) a lineage node links to, or None for nodes without a page.

    ``version_anchors`` is ``version_anchors`` of every model, by (model, version).
    """
    if node.kind in ("model", "base_model") and node.card:
        return model_page(node.card)
    if node.kind == "model_version":
        return f"{model_page(node.card)}#{version_anchors.get((node.card, node.version), VERSIONS_ANCHOR)}"
    if node.kind == "deployment":
        return f"{model_page(node.card)}#{DEPLOYMENTS_ANCHOR}"
    if node.kind in ("dataset_version", "dataset"):
        return dataset_page(node.card)
    if node.kind == "run" and node.run:
        if node.trial_of is not None:
            return f"{trial_page(node.trial_of)}#{trial_anchor(node.run)}"
        return run_page(node.run)
    return None


def page_url(page: str, directory_urls: bool) -> str:
    """The URL MkDocs gives a page, relative to the site root: ``a/b.md`` -> ``a/b/`` (or ``a/b.html``)."""
    stem = page.removesuffix(".md")
    if not directory_urls:
        return stem + ".html"
    if stem == "index":
        return ""
    return stem.removesuffix("/index") + "/"


def relative_url(from_page: str, to_page: str, directory_urls: bool) -> str:
    """A link from one page to another that works wherever the site is served, sub-paths included.

    ``to_page`` may end in ``#anchor``, which is kept."""
    to_page, hash_sign, anchor = to_page.partition("#")
    here, there = page_url(from_page, directory_urls), page_url(to_page, directory_urls)
    # Up to the site root, then down: as many "../" as folders in the page's URL.
    return ("../" * here.count("/") + there or "./") + hash_sign + anchor


@dataclass(frozen=True)
class SitePaths:
    """The same paths inside the site's page prefix (``settings.page_prefix``), as pages link them."""

    prefix: str = ""

    def model(self, name: str) -> str:
        return self.prefix + model_page(name)

    def dataset(self, name: str) -> str:
        return self.prefix + dataset_page(name)

    def tag(self, name: str) -> str:
        return self.prefix + tag_page(name)

    def owner(self, slug: str) -> str:
        return self.prefix + owner_page(slug)

    @property
    def catalog(self) -> str:
        return self.prefix + CATALOG_PAGE

    @property
    def owners(self) -> str:
        return self.prefix + OWNERS_PAGE

    def model_crosswalk(self, name: str) -> str:
        return self.prefix + crosswalk_page(name)

    def note(self, note: Note, model: ModelEntry) -> str:
        return self.prefix + note_target(note, model)

    def compare_index(self, model: str) -> str:
        return self.prefix + compare_index_page(model)

    def compare(self, model: str, before: str, after: str) -> str:
        return self.prefix + comparison_section(model, before, after)

    def versions_data(self, model: str) -> str:
        return self.prefix + versions_data(model)

    def export_file(self, model: str, name: str) -> str:
        return self.prefix + export_file(model, name)

    @property
    def crosswalk(self) -> str:
        return self.prefix + CROSSWALK_PAGE

    def run(self, ref: str) -> str:
        return self.prefix + run_page(ref)

    @property
    def runs(self) -> str:
        return self.prefix + RUNS_PAGE

    def experiment(self, source: str, experiment: str) -> str:
        return self.prefix + experiment_page(source, experiment)

    @property
    def datasets(self) -> str:
        return self.prefix + DATASETS_PAGE

    @property
    def tags(self) -> str:
        return self.prefix + TAGS_PAGE

    @property
    def changes(self) -> str:
        return self.prefix + CHANGES_PAGE

    @property
    def policy(self) -> str:
        return self.prefix + POLICY_PAGE

    def model_policy(self, name: str) -> str:
        return f"{self.model(name)}#{POLICY_ANCHOR}"

    @property
    def health(self) -> str:
        return self.prefix + HEALTH_PAGE

    def assets(self, names: tuple[str, ...]) -> list[str]:
        return [f"{self.prefix}{ASSET_DIR}/{name}" for name in names]


# Model, dataset, tag and owner pages stay out of the nav, so every page's sidebar has the same few entries,
# however large the catalog.
_NAV: tuple[tuple[str, Any], ...] = (
    ("Models", CATALOG_PAGE),
    ("Datasets", DATASETS_PAGE),
    ("Tags", TAGS_PAGE),
    ("Owners", OWNERS_PAGE),
    ("Runs", RUNS_PAGE),
    ("Lineage", (("Overview", LINEAGE_PAGE), ("Lineage health", HEALTH_PAGE))),
    ("Policy", POLICY_PAGE),
    ("Regulatory crosswalk", CROSSWALK_PAGE),
    ("Recent changes", CHANGES_PAGE),
)


def site_nav(generated: Iterable[str], prefix: str) -> list[dict[str, Any]]:
    """The nav, in mkdocs.yml's form, of the generated pages (paths with ``prefix``): each entry whose page
    was generated.

    The MkDocs plugin and ``modelcards generate``'s mkdocs.yml both use it, so a nav entry never points
    at a page that was not made (``mkdocs build --strict`` aborts on one).
    """
    made = set(generated)

    def kept(items: Iterable[tuple[str, Any]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for title, target in items:
            if isinstance(target, tuple):
                section = kept(target)
                if section:
                    found.append({title: section})
            elif prefix + target in made:
                found.append({title: prefix + target})
        return found

    return kept(_NAV)
