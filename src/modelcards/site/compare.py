"""A model's compare page, and the versions.json its in-page picker compares any two versions from.

The differences come from ``modelcards.compare``; this module adds where things are on the site: the pre-built
comparisons' sections of the page, the versions' sections on the model page, the lineage nodes' pages, and the
repository's compare view.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..catalog import ModelEntry
from ..compare import Comparison, Pair, Reason, VersionFacts, compare_facts, comparison_pairs, version_facts
from ..config import Settings
from ..explain.stage import VersionExplanation
from ..lineage.graph import LineageGraph, Node
from .paths import SitePaths, comparison_anchor, node_target, page_url, root_url, version_anchors

COMMIT, BEFORE, AFTER = "__commit__", "__before__", "__after__"
RANKED_FEATURES = 100  # per output in versions.json: the picker compares the top ten and needs their ranks


@dataclass(frozen=True)
class CompareView:
    """One pre-built comparison: a section of the model's compare page."""

    page: str  # the link target of its section (``models/<m>/compare/index.md#<anchor>``), with the prefix
    anchor: str  # its heading id
    comparison: Comparison
    reasons: list[Reason]
    anchors: tuple[str, str]  # both versions' heading ids on the model page
    code_compare_url: str | None  # the repository's view of the code changes between the two commits


@dataclass(frozen=True)
class ModelComparisons:
    index: str  # the model's compare page: the pre-built comparisons, then the picker
    data: str  # versions.json
    views: list[CompareView]
    data_json: str
    nodes: dict[str, Node]  # the lineage nodes the comparisons name


def model_comparisons(model: ModelEntry, settings: Settings, graph: LineageGraph | None,
                      explained: dict[tuple[str, str], VersionExplanation]) -> ModelComparisons:
    paths = SitePaths(settings.page_prefix)
    facts = {version.version: version_facts(model, version, graph, _ranks(explained.get((model.name, version.version))),
                                            _run(model, version.version))
             for version in model.versions_newest_first[::-1]}
    anchors = version_anchors(model)
    views = []
    for pair in comparison_pairs(model):
        comparison = compare_facts(model, facts[pair.before], facts[pair.after])
        commits = comparison.commits
        views.append(CompareView(paths.compare(model.name, pair.before, pair.after),
                                 comparison_anchor(pair.before, pair.after), comparison, pair.reasons,
                                 (anchors[pair.before], anchors[pair.after]),
                                 settings.compare_url(*commits) if commits else None))
    nodes = {node: graph.nodes[node] for fact in facts.values() for node in fact.lineage} if graph else {}
    data = versions_json(model, settings, facts, comparison_pairs(model), nodes)
    return ModelComparisons(paths.compare_index(model.name), paths.versions_data(model.name), views, data,
                            dict(sorted(nodes.items())))


def node_url(node: Node, model: ModelEntry, settings: Settings, from_page: str) -> str | None:
    """A lineage node's page, relative to ``from_page``, as an HTML attribute needs it (MkDocs rewrites only
    Markdown links)."""
    target = node_target(node, {(model.name, label): anchor for label, anchor in version_anchors(model).items()})
    return _site_url(settings, from_page, target) if target else None


def _site_url(settings: Settings, from_page: str, target: str) -> str:
    page, hash_sign, anchor = target.partition("#")
    return root_url(from_page, settings.directory_urls) + settings.page_prefix + \
        page_url(page, settings.directory_urls) + hash_sign + anchor


def site_file_url(settings: Settings, from_page: str, file: str) -> str:
    """A generated file (not a page, so its URL is its path), relative to ``from_page``."""
    return root_url(from_page, settings.directory_urls) + file


def _run(model: ModelEntry, version: str):
    link = model.run_links.get(version)
    return link.run if link else None


def _ranks(found: VersionExplanation | None):
    return dict(found.explanation.outputs) if found else {}


def versions_json(model: ModelEntry, settings: Settings, facts: dict[str, VersionFacts], pairs: list[Pair],
                  nodes: dict[str, Node]) -> str:
    """What the picker needs to compare any two versions as a pre-built comparison does, with URLs relative to the
    site root (the script resolves them against the page's). Keys sorted, so a build is byte for byte the same;
    no whitespace, as only the script reads it."""
    anchors = version_anchors(model)
    paths = SitePaths()  # URLs below are relative to the root, inside the prefix
    targets = {(model.name, label): anchor for label, anchor in anchors.items()}
    data = {
        "model": model.name,
        "metrics": [{"name": m.name, "threshold": m.threshold, "higher_is_better": m.higher_is_better}
                    for m in model.card.metrics],
        "versions": [{
            "version": fact.version, "date": fact.date, "anchor": anchors[fact.version],
            "metrics": fact.metrics, "params": fact.params, "data": fact.data, "code": fact.code, "environment": fact.environment,
            "ranks": {label: [[item.feature, item.rank, item.share] for item in ranked[:RANKED_FEATURES]]
                      for label, ranked in fact.ranks.items()},
            "lineage": list(fact.lineage),
        } for fact in facts.values()],
        "nodes": {node_id: {"kind": node.kind, "label": node.label.replace("\n", ", "),
                            "url": _root_relative(settings, node_target(node, targets))}
                  for node_id, node in sorted(nodes.items())},
        "pages": {f"{pair.before}...{pair.after}": _root_relative(settings, paths.compare(model.name, pair.before,
                                                                                          pair.after))
                  for pair in pairs},
        "model_page": _root_relative(settings, paths.model(model.name)),
        # Templates the script fills in: placeholders of characters a URL keeps as they are.
        "commit_url": settings.commit_url(COMMIT),
        "compare_url": settings.compare_url(BEFORE, AFTER),
    }
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def _root_relative(settings: Settings, target: str | None) -> str | None:
    if target is None:
        return None
    page, hash_sign, anchor = target.partition("#")
    return settings.page_prefix + page_url(page, settings.directory_urls) + hash_sign + anchor
