"""MkDocs edge: the HTML that Python-Markdown made of a generated page, kept between builds.

Converting Markdown is most of what MkDocs spends on a generated page, and a rebuild converts the same Markdown
again: a card edit changes a few pages of thousands, a CI job with a cached ``cache_dir`` usually none. So the
plugin gives each generated page a ``render`` that first looks here, under a key of everything the conversion
reads:

* the page's Markdown (after every plugin's ``on_page_markdown``) and where it lives (its source path, URL,
  ``use_directory_urls``), which decide how its links are rewritten;
* the Markdown extensions with their settings, MkDocs' link validation settings, and the versions of MkDocs,
  Python-Markdown, PyMdown Extensions and modelcards.

The files a page links to decide whether each link resolves and where it points, so an entry also records
every file the conversion looked up and the URL it found (or that it found none), and is used only while the
build's files still give the same answers. A new model or run adds pages; the pages that do not link to them
are not converted again. (Should a conversion ask the build's files anything other than a lookup, the entry
records all of them instead.)

An entry holds the HTML, the table of contents, the title and the anchors, exactly what ``Page.render`` sets. A
conversion that logs a warning (a broken link, say) is not kept, so ``--strict`` sees it on every build. Entries
are compressed JSON written atomically, so concurrent builds can share the folder; nothing in it is executed or
unpickled.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import types
import zlib
from pathlib import Path

from mkdocs.structure.files import File
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import AnchorLink, TableOfContents

from .cache_upkeep import mark_used
from .files import write_atomic
from .parallel import in_parallel, workers_for

# Bump when an entry's layout changes.
ENTRY_FORMAT = 2
_LIBRARIES = ("mkdocs", "markdown", "pymdown-extensions", "mkdocs-modelcards")
# Below this many pages MkDocs converts them itself: forking workers costs more than it saves.
CONVERT_AHEAD_FROM = 100


class PageCache:
    """One build's view of the folder: ``attach`` a generated page before MkDocs renders it."""

    def __init__(self, directory: Path, config, files) -> None:
        self.directory = directory
        self.build_digest = hashlib.sha256(_build_key(config).encode())
        self.files = files
        self._files_digest: str | None = None
        self.hits = 0
        self.misses = 0
        self.converted_ahead: set[str] = set()  # src_uris whose entry a worker wrote in this build
        self.workers = 0  # processes that converted pages ahead of MkDocs

    def attach(self, page: Page) -> None:
        """Make ``page.render`` take its HTML from the cache when the same conversion was kept before."""
        cache = self

        def render(self: Page, config, files) -> None:
            key = cache._key(self)
            entry = cache._get(key, files)
            if entry is not None:
                _restore(self, entry, files)
                if self.file.src_uri in cache.converted_ahead:
                    cache.misses += 1
                else:
                    cache.hits += 1
                return
            looked_up = _LookUps(files)
            with _Warnings() as warnings:
                Page.render(self, config, looked_up)
            cache.misses += 1
            if not warnings.logged:
                cache._put(key, cache._entry(self, looked_up))

        page.render = types.MethodType(render, page)

    def convert_ahead(self, pages: list[File], config, files) -> None:
        """Convert the pages' Markdown in forked workers, one per core, into the cache, before MkDocs reads the
        pages one by one and finds them there.

        MkDocs converts pages in one process. A worker runs for each page what MkDocs runs before it converts
        (``on_pre_page``, ``read_source``, ``on_page_markdown``), so the key it stores under is the one MkDocs
        will look up; pages already in the cache are skipped. Workers log nothing: a conversion that warns is
        not kept, so MkDocs converts it again and the warning is logged once, by MkDocs.
        """
        self.workers = workers_for(len(pages), from_items=CONVERT_AHEAD_FROM)
        if not self.workers:
            return  # MkDocs converts them: the hooks must not run twice in this process

        def convert(file: File) -> str | None:
            page = file.page if file.page is not None else Page(None, file, config)
            config._current_page = page
            page = config.plugins.on_pre_page(page, config=config, files=files)
            page.read_source(config)
            page.markdown = config.plugins.on_page_markdown(page.markdown, page=page, config=config, files=files)
            key = self._key(page)
            if self._get(key, files) is not None:
                return None
            looked_up = _LookUps(files)
            with _Warnings() as warnings:
                Page.render(page, config, looked_up)
            if warnings.logged:
                return None
            self._put(key, self._entry(page, looked_up))
            return file.src_uri

        converted = in_parallel(convert, pages, from_items=CONVERT_AHEAD_FROM, worker_setup=_silence_mkdocs)
        self.converted_ahead.update(uri for uri in converted if uri is not None)

    def _key(self, page: Page) -> str:
        digest = self.build_digest.copy()
        for part in (page.file.src_uri, page.file.url, page.markdown or ""):
            digest.update(b"\0" + part.encode())
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json.z"

    def _get(self, key: str, files) -> dict | None:
        """The entry under ``key`` when its links still point where they did, else None."""
        path = self._path(key)
        try:
            entry = json.loads(zlib.decompress(path.read_bytes()))
        except (OSError, ValueError, zlib.error):
            return None
        if not (isinstance(entry, dict) and entry.get("format") == ENTRY_FORMAT):
            return None
        links = entry.get("links")
        if links is None:
            if entry.get("files") != self.files_digest:
                return None
        elif not isinstance(links, dict) or any(_url_of(files, target) != url for target, url in links.items()):
            return None
        mark_used(path)
        return entry

    @property
    def files_digest(self) -> str:
        """Every file of the build and its URL, for an entry whose conversion did more than look files up.
        Hashed once: with every file of a large catalog in it, the text runs to hundreds of kilobytes."""
        if self._files_digest is None:
            listing = json.dumps(sorted((file.src_uri, file.url) for file in self.files))
            self._files_digest = hashlib.sha256(listing.encode()).hexdigest()
        return self._files_digest

    def _entry(self, page: Page, looked_up: _LookUps) -> dict:
        entry = {
            "format": ENTRY_FORMAT,
            "content": page.content,
            "toc": [_anchor_data(anchor) for anchor in page.toc],
            "title": page._title_from_render,
            "anchors": sorted(page.present_anchor_ids or ()),
            "links_to_anchors": {file.src_uri: links for file, links in (page.links_to_anchors or {}).items()},
            "links": None if looked_up.everything else dict(sorted(looked_up.urls.items())),
        }
        if looked_up.everything:
            entry["files"] = self.files_digest
        return entry

    def _put(self, key: str, entry: dict) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Compressed: a page's HTML repeats its markup, and a catalog's pages fill hundreds of megabytes raw.
        write_atomic(path, zlib.compress(json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode(), 1))


class _LookUps:
    """The build's files as a page's conversion sees them, noting each file it looks up and the URL found.

    MkDocs' link rewriting asks only ``get_file_from_path``; anything else a conversion asks is passed through
    and makes its entry depend on every file (``everything``)."""

    def __init__(self, files) -> None:
        self._files = files
        self.urls: dict[str, str | None] = {}
        self.everything = False

    def get_file_from_path(self, path: str):
        file = self._files.get_file_from_path(path)
        self.urls[path] = None if file is None else file.url
        return file

    def __getattr__(self, name: str):
        self.everything = True
        return getattr(self._files, name)

    def __iter__(self):
        self.everything = True
        return iter(self._files)

    def __len__(self) -> int:
        self.everything = True
        return len(self._files)


def _url_of(files, path: str) -> str | None:
    file = files.get_file_from_path(path)
    return None if file is None else file.url


def _build_key(config) -> str:
    """What every page's conversion shares: settings and library versions."""
    parts = {
        "format": ENTRY_FORMAT,
        "extensions": [str(extension) for extension in config["markdown_extensions"]],
        "extension_configs": config["mdx_configs"] or {},
        "validation": config["validation"],
        "directory_urls": config["use_directory_urls"],
        "versions": {name: _version(name) for name in _LIBRARIES},
    }
    return json.dumps(parts, sort_keys=True, default=str)


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _restore(page: Page, entry: dict, files) -> None:
    page.content = entry["content"]
    toc = [_anchor(data) for data in entry["toc"]]
    if toc:
        toc[0].active = True  # as mkdocs.structure.toc.get_toc marks it
    page.toc = TableOfContents(toc)
    page._title_from_render = entry["title"]
    page.present_anchor_ids = set(entry["anchors"])
    linked = {files.get_file_from_path(src_uri): links for src_uri, links in entry["links_to_anchors"].items()}
    page.links_to_anchors = {file: links for file, links in linked.items() if file is not None}


def _anchor_data(anchor: AnchorLink) -> dict:
    return {"title": anchor.title, "id": anchor.id, "level": anchor.level,
            "children": [_anchor_data(child) for child in anchor.children]}


def _anchor(data: dict) -> AnchorLink:
    anchor = AnchorLink(data["title"], data["id"], data["level"])
    anchor.children = [_anchor(child) for child in data["children"]]
    return anchor


def _silence_mkdocs() -> None:
    """In a worker, MkDocs' console output would duplicate what the build logs."""
    mkdocs_log = logging.getLogger("mkdocs")
    mkdocs_log.handlers, mkdocs_log.propagate = [], False


class _Warnings(logging.Handler):
    """Notices whether MkDocs logs a warning while one page is converted."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.logged = False

    def emit(self, record: logging.LogRecord) -> None:
        self.logged = True

    def __enter__(self) -> "_Warnings":
        logging.getLogger("mkdocs").addHandler(self)
        return self

    def __exit__(self, *exc) -> None:
        logging.getLogger("mkdocs").removeHandler(self)
