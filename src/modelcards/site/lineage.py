"""Lineage diagrams for the pages: each model's neighbourhood, each dataset's downstream impact, the overview.

Every diagram is DOT drawn by Graphviz in one batched, cached call, inlined as SVG named by its ``<title>``
(``aria-labelledby``) and summed up by its ``<desc>``, beside its edge list as text and its DOT source. The
inline SVG is also the full-size view (a dialog with pan and zoom; without JavaScript, CSS fills the window with
it when its anchor is the target), so no SVG file is published beside it: at 1,000 models that file cost 30 MB.
Node links are relative to the page the diagram is in, in the URL form the site uses, so they work under any
sub-path. A rebuild whose graph, settings and code are those of the last build reads all the diagrams back from
one pack in the cache (``lineage.pack``) and makes none of them.
"""

from __future__ import annotations

import hashlib
import html
import json
import marshal
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from markupsafe import Markup

from ..cache_upkeep import mark_used
from ..catalog import Catalog
from ..config import Settings
from ..files import code_fingerprint
from ..lineage import dot, render
from ..lineage import graph as graph_module
from ..lineage.dot import to_dot
from ..lineage.graph import (LineageGraph, Node, Subgraph, edge_list, graph_fingerprint, impact, neighbourhood,
                             overview, overview_size)
from ..lineage.pack import StoredText, read_pack, write_pack
from ..lineage.render import cached_svg_names, render_svgs, renderer_fingerprint
from . import paths
from .paths import LINEAGE_PAGE, dataset_page, diagram_source, model_page, node_target, relative_url, version_anchors


@dataclass(frozen=True)
class Diagram:
    title: str
    source: str  # DOT
    dot_path: str  # the DOT source's file in the site
    # Read back from the cache, these two are decoded only when a page is made with them (in a page worker).
    # Both follow from the DOT source, so diagrams with equal sources are equal (a preview compares them to
    # keep pages) without decoding them.
    stored_svg: str | StoredText = field(compare=False)
    stored_edges: list[tuple[str, str]] | StoredText = field(compare=False)  # the JSON of the list, when stored

    @property
    def svg(self) -> Markup:
        """The inline <svg>, with <title> and <desc>."""
        return Markup(str(self.stored_svg))

    @cached_property
    def edges(self) -> list[tuple[str, str]]:
        """(from, to) labels: the text alternative."""
        stored = self.stored_edges
        return stored if isinstance(stored, list) else [(a, b) for a, b in json.loads(str(stored))]


@dataclass(frozen=True)
class Diagrams:
    models: dict[str, Diagram]  # by model name
    datasets: dict[str, Diagram]  # by dataset name
    overview: Diagram | None  # None: more nodes than settings.overview_cap; the page shows a table
    overview_nodes: int
    # Datasets whose downstream impact has more nodes than settings.overview_cap: how many, instead of a diagram.
    undrawn: dict[str, int]
    files: list[tuple[str, str]]  # (path, DOT source) to publish beside the pages


def lineage_diagrams(catalog: Catalog, graph: LineageGraph, settings: Settings) -> Diagrams:
    """Every diagram of the site, drawn in one batched call; the overview only below ``overview_cap``.

    A rebuild of an unchanged project reads them back from the cache's pack instead (see ``lineage.pack``)."""
    anchors = {(model.name, version): anchor for model in catalog.models.values()
               for version, anchor in version_anchors(model).items()}
    cache = settings.cache_dir / "lineage" if settings.cache_dir else None
    key = _pack_key(catalog, graph, settings, anchors) if cache else ""
    stored = read_pack(cache / PACK_NAME, key) if cache else None
    if stored is None:
        entries, undrawn = _draw(catalog, graph, settings, anchors, cache)
        overview_nodes = overview_size(graph)
        if cache:
            # The SVGs drawn or read for this pack, marked as used whenever the pack is (cache_upkeep), so that
            # pruning keeps them for the next lineage change, which draws only the diagrams that changed.
            svg_files = cached_svg_names([source for *_, source, _ in entries])
            write_pack(cache / PACK_NAME, key, {"overview_nodes": overview_nodes, "svg_files": svg_files,
                                                "undrawn": undrawn, "diagrams": [entry[:3] for entry in entries]},
                       [text for (*_, edges, source, svg) in entries
                        for text in (json.dumps(edges, ensure_ascii=False), source, svg)])
    else:
        data, texts = stored
        overview_nodes, undrawn = data["overview_nodes"], data["undrawn"]
        for name in data["svg_files"]:
            mark_used(cache / name)
        # The text alternatives and SVGs stay in the pack until a page is made with them.
        entries = [(what, name, title, edges, str(source), svg) for (what, name, title), edges, source, svg
                   in zip(data["diagrams"], texts[::3], texts[1::3], texts[2::3])]

    models, datasets, overview_diagram, files = {}, {}, None, []
    for what, name, title, edges, source, svg in entries:
        dot_path = settings.page_prefix + diagram_source(what, name)
        diagram = Diagram(title, source, dot_path, svg, edges)
        files.append((dot_path, source))
        if what == "model":
            models[name] = diagram
        elif what == "dataset":
            datasets[name] = diagram
        else:
            overview_diagram = diagram
    return Diagrams(models, datasets, overview_diagram, overview_nodes, undrawn, files)


# The diagrams of one build, in one file of the cache (lineage.pack).
PACK_NAME = "diagrams.pack"
_TITLES = {"model": "Lineage of {}", "dataset": "Everything downstream of {}", "overview": "All models and data"}


def _pack_key(catalog: Catalog, graph: LineageGraph, settings: Settings,
              anchors: dict[tuple[str, str], str]) -> str:
    """Everything the diagrams are made of: the graph, which diagrams there are, where their links go, the
    settings that shape them, Graphviz, and the code that writes, draws and finishes them."""
    digest = hashlib.sha256(graph_fingerprint(graph))
    digest.update(code_fingerprint(__name__, paths.__name__, dot.__name__, graph_module.__name__,
                                   render.__name__))
    shape = (renderer_fingerprint(), settings.page_prefix, settings.directory_urls, settings.lineage_depth,
             settings.overview_cap, list(catalog.models), list(catalog.datasets), list(anchors.items()))
    digest.update(marshal.dumps(shape, 2))  # format 2: the same bytes for the same values (see graph_fingerprint)
    return digest.hexdigest()


def _draw(catalog: Catalog, graph: LineageGraph, settings: Settings, anchors: dict[tuple[str, str], str],
          cache: Path | None) -> tuple[list[tuple[str, str, str, list[tuple[str, str]], str, str]], dict[str, int]]:
    """(what, name, title, edges, DOT source, page SVG) of every diagram, drawn in one batched call, and the
    number of nodes of each dataset's downstream impact too large to draw.

    A dataset that a third of a 1,000-model catalog trained on reaches thousands of runs, versions and
    deployments: a diagram 130,000 points tall, 6 MB on its page, that no reader can follow. Above
    ``overview_cap`` nodes it is not drawn; the page's "Used by" table lists every model version that read it.
    """
    prefix = settings.page_prefix
    wanted: list[tuple[str, str, str, Subgraph]] = []  # (what, name, page path, subgraph)
    for name in catalog.models:
        wanted.append(("model", name, prefix + model_page(name),
                       neighbourhood(graph, name, depth=settings.lineage_depth)))
    undrawn: dict[str, int] = {}
    for name in catalog.datasets:
        found = impact(graph, name)
        if len(found.nodes) > settings.overview_cap:
            undrawn[name] = len(found.nodes)
        elif found.nodes:
            wanted.append(("dataset", name, prefix + dataset_page(name), found))
    whole = overview(graph, settings.overview_cap)
    if whole is not None:
        wanted.append(("overview", "", prefix + LINEAGE_PAGE, whole))

    sources = [to_dot(subgraph, title=_TITLES[what].format(name),
                      href=lambda node, page=page: _href(node, page, settings, anchors))
               for what, name, page, subgraph in wanted]
    svgs = render_svgs(sources, cache_dir=cache)
    entries = []
    for (what, name, _, subgraph), source, svg in zip(wanted, sources, svgs):
        title = _TITLES[what].format(name)
        edges = edge_list(subgraph)
        entries.append((what, name, title, edges, source, page_svg(svg, title, edges)))
    return entries, undrawn


def _href(node: Node, page: str, settings: Settings, anchors: dict[tuple[str, str], str]) -> str | None:
    target = node_target(node, anchors)
    if target is None:
        return None
    # Graphviz copies URLs into the SVG as written; escape them for the XML attribute they land in.
    return html.escape(relative_url(page, settings.page_prefix + target, settings.directory_urls))


# Graphviz's comments and the <title> of each node and edge repeat internal node ids ("model:churn@1.2"),
# not what a reader sees; the links' xlink:title carries the tooltip. A tenth of a large overview.
# Two plain patterns: one alternation with lookbehinds took a second over 40 MB of SVG.
_COMMENT = re.compile(r"<!--[^>]*-->\n?")  # Graphviz escapes the names in them, so no ">" inside
_INTERNAL_TITLE = re.compile(r'(class="(?:node|edge)">\n)<title>[^<]*</title>\n')


# Graphviz writes every "-" of a name as "&#45;" (so that names can sit in its comments), the same font list
# on every <text>, and an id on the group around each link, which nothing refers to (the script finds a node's
# link through its g.node). A fifth of a diagram's bytes, on every model page.
_HYPHEN = "&#45;"
_FONT = re.compile(r' font-family="([^"]*)"')
_LINK_GROUP_ID = re.compile(r'<g id="a_[^"]*">')


def page_svg(svg: str, title: str, edges: list[tuple[str, str]]) -> str:
    """The SVG as a page carries it: named for screen readers (a first-child <title> it is labelled by, a
    <desc> summing up the edges), without Graphviz's internal names, and written compactly: one font list on
    the <svg> that every text inherits, plain hyphens, no ids on link groups.

    No ``role="img"``: that would make the diagram one picture to assistive technology and hide its links.
    One diagram per page, so the fixed ids of its title and description clash with nothing."""
    svg = _INTERNAL_TITLE.sub(r"\1", _COMMENT.sub("", svg))
    # "&#45;" means "-" wherever it stands, now that the comments are gone: the same picture, the same text.
    svg = _LINK_GROUP_ID.sub("<g>", svg.replace(_HYPHEN, "-"))
    fonts = set(_FONT.findall(svg))
    font = ""
    if len(fonts) == 1:
        [family] = fonts
        svg = _FONT.sub("", svg)
        font = f' font-family="{family}"'
    summary = f"{len(edges)} link(s): " + "; ".join(f"{a} to {b}" for a, b in edges[:20])
    if len(edges) > 20:
        summary += f"; and {len(edges) - 20} more (see the list below the diagram)"
    opening = re.match(r"<svg\b[^>]*>", svg)
    if opening is None:
        return svg
    tag = (opening.group(0)[:-1] + font + ' class="mc-lineage-svg" aria-labelledby="mc-lineage-title" '
           'aria-describedby="mc-lineage-desc">')
    return (tag + f'<title id="mc-lineage-title">{html.escape(title)}</title>'
            f'<desc id="mc-lineage-desc">{html.escape(summary)}</desc>' + svg[opening.end():])

