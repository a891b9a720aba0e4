"""DOT sources drawn by Graphviz ``dot`` as SVG to inline in HTML pages, many graphs per ``dot`` process.

Starting ``dot`` costs about 14 ms, while laying out a lineage graph of a dozen nodes costs well under 1 ms. So
the graphs missing from the cache go to a few ``dot`` processes (one per CPU), many graphs each: ``dot`` reads
graphs concatenated on stdin and writes one SVG document per graph, concatenated, on stdout.

Cached entries are ``<key>.svg`` files holding the inline SVG, written to a temporary name in the same directory
and moved into place with ``os.replace``, so concurrent builds never see half an entry.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

from modelcards.cache_upkeep import mark_used
from modelcards.errors import EnvironmentProblem, ModelcardsError
from modelcards.files import write_atomic

# The Graphviz layout program: a name looked up on PATH, or a path.
DOT_PROGRAM = "dot"
# Bump when the post-processing of dot's output changes, so cached SVGs are drawn again.
RENDER_FORMAT = 2
# At most this many graphs per dot process: enough to make its start-up cost (~14 ms) small against the layouts
# (~1 ms each), few enough that the processes share the CPUs evenly even when the machine is busy, and that
# finding a failing graph (one process per graph of the batch) stays quick.
GRAPHS_PER_DOT = 100

# Every SVG document dot writes starts with this line.
_DOCUMENT_START = re.compile(r'^<\?xml version="1\.0" ', re.MULTILINE)
# From the second graph of a run on, dot names the top group "page0,1_graph0" instead of "graph0", and the
# group of the graph's own link or tooltip "a_page0,1_graph0" instead of "a_graph0".
_PAGE_PREFIX = re.compile(r'(<g id="(?:a_)?)page\d+,\d+_')
# Gradient ids ("l_0" linear, "r_0" radial) come from counters shared by every graph of one dot run.
_GRADIENT = re.compile(r'<(?:linear|radial)Gradient id="([lr]_\d+)"')
_GRADIENT_ID_OR_REF = re.compile(r'(id="|url\(#)([lr]_\d+)(?=[")])')


def render_svgs(sources: Sequence[str], *, cache_dir: Path | None = None, workers: int | None = None) -> list[str]:
    """The inline ``<svg ...>...</svg>`` of each DOT source, in the same order.

    Graphs found in ``cache_dir`` start no ``dot`` process. The others are drawn, each distinct source once, by up
    to ``workers`` (default: the number of CPUs) concurrent ``dot`` processes, and then cached.
    """
    if not sources:
        return []
    dot = _find_dot()
    unique = list(dict.fromkeys(sources))
    paths: dict[str, Path] = {}
    svgs: dict[str, str] = {}
    if cache_dir is not None:
        fingerprint = _program_fingerprint(dot)
        folder = os.fspath(cache_dir)  # strings: a warm build looks up a thousand files, and Path costs add up
        files = {source: os.path.join(folder, f"{_cache_key(source, fingerprint)}.svg") for source in unique}
        svgs = {source: svg for source, file in files.items() if (svg := _read_cached(file)) is not None}
        paths = {source: Path(file) for source, file in files.items() if source not in svgs}
    misses = [source for source in unique if source not in svgs]
    if misses:
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
        drawn, errors = _draw(dot, misses, workers or os.cpu_count() or 1, paths)
        if errors:
            # modelcards writes every DOT source itself: a graph dot rejects is a bug in modelcards, not bad input.
            raise ModelcardsError("\n".join(
                f"graph {', '.join(str(i) for i, s in enumerate(sources) if s == source)}: dot failed "
                f"(a bug in modelcards, which wrote this DOT source): {message}"
                for source, message in errors.items()
            ))
        svgs.update(drawn)
    return [svgs[source] for source in sources]


def cached_svg_names(sources: Sequence[str]) -> list[str]:
    """The file name of each source's SVG in ``render_svgs``'s ``cache_dir``."""
    fingerprint = _program_fingerprint(_find_dot())
    return [f"{_cache_key(source, fingerprint)}.svg" for source in sources]


def renderer_fingerprint() -> str:
    """What an SVG depends on besides its DOT source: the Graphviz program and how its output is post-processed."""
    return f"{RENDER_FORMAT}\n{_program_fingerprint(_find_dot())}"


def _find_dot() -> str:
    dot = shutil.which(DOT_PROGRAM)
    if dot is None:
        raise EnvironmentProblem(
            f"Graphviz program {DOT_PROGRAM!r} not found; lineage diagrams need it. "
            "Install Graphviz: apt-get install graphviz (macOS: brew install graphviz)"
        )
    return dot


def _program_fingerprint(dot: str) -> str:
    # The cache key must change when Graphviz does, but asking `dot -V` would start dot on every build, even when
    # every graph is cached. Upgrading Graphviz replaces the program file, so its real path (versioned with
    # Homebrew or conda), size and modification time stand in for the version, at the cost of one stat.
    # Fonts and plugins are not covered: bump RENDER_FORMAT or delete the cache after changing them.
    stat = os.stat(dot)
    return f"{os.path.realpath(dot)}:{stat.st_size}:{stat.st_mtime_ns}"


def _cache_key(source: str, fingerprint: str) -> str:
    return hashlib.sha256(f"{RENDER_FORMAT}\n{fingerprint}\n{source}".encode()).hexdigest()


def _read_cached(path: str) -> str | None:
    try:
        with open(path, "rb", buffering=0) as file:
            svg = file.read().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    # A partial or foreign file is drawn again and replaced.
    if not (svg.startswith("<svg") and svg.endswith("</svg>")):
        return None
    mark_used(path)
    return svg


def _draw(dot: str, sources: list[str], workers: int,
          cache_paths: dict[str, Path]) -> tuple[dict[str, str], dict[str, str]]:
    """The SVG of each source that dot draws, and dot's message for each one it cannot."""
    # dot 2.43 lays out a graph with clusters differently, from run to run, when other graphs came before it
    # in the same process; such graphs (the overview) are drawn alone.
    alone = [source for source in sources if "subgraph cluster" in source]
    batched = [source for source in sources if "subgraph cluster" not in source]
    # A multiple of `workers` batches, so that every worker gets as many.
    count = workers * math.ceil(len(batched) / (workers * GRAPHS_PER_DOT)) or 1
    size = max(1, math.ceil(len(batched) / count))
    batches = [batched[start:start + size] for start in range(0, len(batched), size)] + [[s] for s in alone]
    drawn: dict[str, str] = {}
    errors: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for batch_drawn, batch_errors in pool.map(lambda batch: _draw_batch(dot, batch, cache_paths), batches):
            drawn.update(batch_drawn)
            errors.update(batch_errors)
    return drawn, errors


def _draw_batch(dot: str, batch: list[str], cache_paths: dict[str, Path]) -> tuple[dict[str, str], dict[str, str]]:
    svgs, _ = _run_dot(dot, batch)
    drawn: dict[str, str] = {}
    errors: dict[str, str] = {}
    if svgs is not None:
        drawn = dict(zip(batch, svgs))
    else:
        # dot stops at the first graph it cannot read, and numbers lines from the start of the whole batch:
        # draw each graph alone to learn which ones fail and why.
        for source in batch:
            svgs, message = _run_dot(dot, [source])
            if svgs is None:
                errors[source] = message
            else:
                drawn[source] = svgs[0]
    # Written here, creating files (~0.3 ms each) overlaps with the other batches' dot processes.
    for source, svg in drawn.items():
        if source in cache_paths:
            write_atomic(cache_paths[source], svg.encode("utf-8"))
    return drawn, errors


def _run_dot(dot: str, sources: list[str]) -> tuple[list[str] | None, str]:
    """One inline SVG per source, drawn by one dot process (None if it failed), and dot's stderr."""
    try:
        result = subprocess.run([dot, "-Tsvg"], input="\n".join(sources).encode("utf-8"), capture_output=True)
    except OSError as error:
        raise EnvironmentProblem(f"cannot run Graphviz program {dot!r}: {error}") from error
    message = result.stderr.decode("utf-8", "replace").strip()
    documents = _DOCUMENT_START.split(result.stdout.decode("utf-8"))[1:]
    if result.returncode != 0 or len(documents) != len(sources):
        return None, message or f"exit code {result.returncode}, {len(documents)} SVG(s) for {len(sources)} graph(s)"
    return [_inline_svg(document) for document in documents], message


def _inline_svg(document: str) -> str:
    """The ``<svg>`` element of one SVG document, the same whichever graphs dot drew before it."""
    # Names and labels are escaped in the prolog comments, so the first "<svg" starts the element.
    svg = document[document.index("<svg"):document.rindex("</svg>") + len("</svg>")]
    svg = _PAGE_PREFIX.sub(r"\1", svg)
    renamed: dict[str, str] = {}
    for old in _GRADIENT.findall(svg):
        renamed[old] = f"{old[0]}_{sum(name[0] == old[0] for name in renamed)}"
    if renamed:
        svg = _GRADIENT_ID_OR_REF.sub(lambda m: m[1] + renamed.get(m[2], m[2]), svg)
    return svg
