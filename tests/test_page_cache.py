"""Rebuilds take unchanged pages' HTML from the cache: real `modelcards build` runs, the bytes they write."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zlib
from pathlib import Path

from conftest import MODELCARDS, run_modelcards, write_project

QUIET = ["search", {"modelcards": {"lineage_checks": {"no_data_version": "off", "no_code_commit": "off",
                                                      "no_run": "off"}}}]


def _card(name: str, summary: str) -> str:
    return f"""\
name: {name}
title: {name.title()}
summary: {summary}
owners: [{{name: Ada Analyst, role: owner}}]
versions:
  - version: "1.0"
    date: 2024-01-01
    metrics: {{accuracy: 0.91}}
"""


def _site_bytes(site: Path) -> dict[str, bytes]:
    return {str(path.relative_to(site)): path.read_bytes() for path in sorted(site.rglob("*")) if path.is_file()}


def _pages_line(stderr: str) -> str:
    return next(line for line in stderr.splitlines() if line.startswith("Pages: "))


def test_a_rebuild_takes_unchanged_pages_from_the_cache_and_writes_the_same_bytes(tmp_path: Path) -> None:
    write_project(tmp_path, {"churn.yml": _card("churn", "Predicts churn."),
                             "fraud.yml": _card("fraud", "Flags fraud.")}, plugins=QUIET)
    first = run_modelcards("build", "-d", "first", cwd=tmp_path)
    converted = int(_pages_line(first.stderr).split()[1])
    assert converted > 5
    assert _pages_line(first.stderr) == f"Pages: {converted} converted from Markdown, 0 unchanged from the cache."

    second = run_modelcards("build", "-d", "second", cwd=tmp_path)
    assert _pages_line(second.stderr) == f"Pages: 0 converted from Markdown, {converted} unchanged from the cache."
    assert _site_bytes(tmp_path / "second") == _site_bytes(tmp_path / "first")

    # An edit converts the pages that show it (the model's page, the catalog, the owner's page), not the rest.
    card = tmp_path / "cards/fraud.yml"
    card.write_text(card.read_text().replace("Flags fraud.", "Flags card fraud."))
    third = run_modelcards("build", "-d", "third", cwd=tmp_path)
    again = int(_pages_line(third.stderr).split()[1])
    assert 0 < again < converted
    assert "Flags card fraud." in (tmp_path / "third/models/fraud/index.html").read_text()
    assert "Flags card fraud." not in (tmp_path / "third/models/churn/index.html").read_text()


def test_a_new_model_converts_its_own_pages_and_those_that_list_it_not_every_page(tmp_path: Path) -> None:
    cards = {f"{name}.yml": _card(name, f"Predicts {name}.") for name in ("churn", "fraud", "upsell", "credit")}
    write_project(tmp_path, cards, plugins=QUIET)
    first = run_modelcards("build", "-d", "first", cwd=tmp_path)
    before = int(_pages_line(first.stderr).split()[1])

    # The new model's pages join the site's files. A page is converted again only when its Markdown changed or a
    # file it links to is now missing or elsewhere: the other models' pages are taken from the cache.
    (tmp_path / "cards/lending.yml").write_text(_card("lending", "Predicts lending."))
    second = run_modelcards("build", "-d", "second", cwd=tmp_path)
    converted, reused = map(int, re.fullmatch(r"Pages: (\d+) converted from Markdown, (\d+) unchanged from the cache\.",
                                              _pages_line(second.stderr)).groups())
    assert converted + reused > before and reused >= 4 * 2  # at least each old model's page and compare page
    shutil.rmtree(tmp_path / ".modelcards-cache")
    fresh = run_modelcards("build", "-d", "fresh", cwd=tmp_path)
    assert _pages_line(fresh.stderr) == \
        f"Pages: {converted + reused} converted from Markdown, 0 unchanged from the cache."
    assert _site_bytes(tmp_path / "second") == _site_bytes(tmp_path / "fresh")


def test_a_kept_page_is_converted_again_when_a_file_it_links_to_is_gone(tmp_path: Path) -> None:
    from mkdocs.config import load_config
    from mkdocs.structure.files import File, Files
    from mkdocs.structure.pages import Page

    from modelcards.page_cache import PageCache

    config = load_config(config_file=str(write_project(tmp_path, {}, plugins=[])))
    docs = tmp_path / "docs"
    (docs / "runs").mkdir(parents=True)
    for name, text in [("index.md", "[the run](runs/r1.md)"), *((f"runs/r{i}.md", "# Run") for i in (1, 2, 3))]:
        (docs / name).write_text(text)

    def convert(*targets: str) -> tuple[PageCache, Page]:
        files = Files([File(name, str(docs), str(tmp_path / "site"), use_directory_urls=True)
                       for name in ("index.md", *targets)])
        cache = PageCache(tmp_path / "pages", config, files)
        page = Page(None, files.get_file_from_path("index.md"), config)
        cache.attach(page)
        page.read_source(config)
        page.render(config, files)
        return cache, page

    cache, page = convert("runs/r1.md", "runs/r2.md")
    assert (cache.misses, cache.hits) == (1, 0) and 'href="runs/r1/"' in page.content
    cache, page = convert("runs/r1.md", "runs/r2.md", "runs/r3.md")  # a file it does not link to joined
    assert (cache.misses, cache.hits) == (0, 1) and 'href="runs/r1/"' in page.content
    cache, page = convert("runs/r2.md")  # the run it links to is gone: MkDocs converts it, and warns
    assert (cache.misses, cache.hits) == (1, 0) and 'href="runs/r1.md"' in page.content


def test_a_damaged_cache_entry_is_converted_again_not_trusted(tmp_path: Path) -> None:
    write_project(tmp_path, {"churn.yml": _card("churn", "Predicts churn.")}, plugins=QUIET)
    run_modelcards("build", "-d", "first", cwd=tmp_path)
    entries = sorted((tmp_path / ".modelcards-cache/pages").rglob("*.json.z"))
    assert entries and all(json.loads(zlib.decompress(entry.read_bytes()))["content"] for entry in entries)
    entries[0].write_bytes(entries[0].read_bytes()[:40])  # cut short, as by a full disk
    second = run_modelcards("build", "-d", "second", cwd=tmp_path)
    assert _pages_line(second.stderr) == f"Pages: 1 converted from Markdown, {len(entries) - 1} unchanged from the cache."
    assert _site_bytes(tmp_path / "second") == _site_bytes(tmp_path / "first")


def test_forty_models_render_and_convert_in_worker_processes_each_page_its_own(tmp_path: Path) -> None:
    from modelcards.page_cache import CONVERT_AHEAD_FROM
    from modelcards.parallel import in_parallel
    from modelcards.site.pages import PARALLEL_FROM_MODELS

    names = [f"model-{index:02d}" for index in range(PARALLEL_FROM_MODELS)]
    seen_by = {}  # a closure over a local: forked workers inherit it; it could not have been pickled
    results = in_parallel(lambda name: [name.upper(), str(seen_by.setdefault(name, len(name)))], names,
                          from_items=PARALLEL_FROM_MODELS)
    assert results == [[name.upper(), str(len(name))] for name in names]

    second = '  - version: "1.1"\n    date: 2024-02-01\n    metrics: {accuracy: 0.92}\n'  # and a compare page
    write_project(tmp_path, {f"{name}.yml": _card(name, f"Summary of {name}.") + second for name in names},
                  plugins=QUIET)
    built = run_modelcards("build", "-d", "site", cwd=tmp_path, timeout=600)
    pages = int(_pages_line(built.stderr).split()[1])
    assert pages >= CONVERT_AHEAD_FROM
    cores = len(os.sched_getaffinity(0))
    spread = f" in {cores} processes" if cores > 1 else ""  # forked workers converted the pages, not MkDocs
    assert _pages_line(built.stderr) == f"Pages: {pages} converted from Markdown{spread}, 0 unchanged from the cache."
    # One core: MkDocs renders and converts every page itself, in one process; the site is the same bytes.
    shutil.rmtree(tmp_path / ".modelcards-cache")
    one_core = subprocess.run(["taskset", "-c", "0", MODELCARDS, "build", "-d", "one-core"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=600)
    assert one_core.returncode == 0, one_core.stderr
    assert _pages_line(one_core.stderr) == f"Pages: {pages} converted from Markdown, 0 unchanged from the cache."
    assert _site_bytes(tmp_path / "one-core") == _site_bytes(tmp_path / "site")
    for name in names:
        page = (tmp_path / f"site/models/{name}/index.html").read_text()
        assert f"Summary of {name}." in page
        assert [other for other in names if f"Summary of {other}." in page] == [name]


def test_with_cache_keep_days_0_the_cache_keeps_only_what_the_last_build_used(tmp_path: Path) -> None:
    options = {**QUIET[1]["modelcards"], "cache_keep_days": 0}  # a cache one build uses, as a CI job's
    write_project(tmp_path, {"churn.yml": _card("churn", "Predicts churn.")},
                  plugins=["search", {"modelcards": options}])
    pages = tmp_path / ".modelcards-cache/pages"
    first = run_modelcards("build", "-d", "site", cwd=tmp_path)
    first_entries = set(pages.rglob("*.json.z"))
    assert len(first_entries) == int(_pages_line(first.stderr).split()[1])
    assert "Cache: " not in first.stderr

    # A new model changes the pages that list models: their old conversions go, the others' stay.
    (tmp_path / "cards/fraud.yml").write_text(_card("fraud", "Flags fraud."))
    second = run_modelcards("build", "-d", "site", cwd=tmp_path)
    converted, reused = map(int, re.fullmatch(r"Pages: (\d+) converted from Markdown, (\d+) unchanged from the cache\.",
                                              _pages_line(second.stderr)).groups())
    entries = set(pages.rglob("*.json.z"))
    assert len(entries) == converted + reused  # exactly what this build used
    replaced = first_entries - entries
    assert replaced and len(first_entries & entries) == reused
    removed = next(line for line in second.stderr.splitlines() if line.startswith("Cache: "))
    assert int(removed.split()[2]) >= len(replaced)  # and the old pages' site files
    assert removed.endswith(" MB) that this build did not use.")

    third = run_modelcards("build", "-d", "site", cwd=tmp_path)
    assert _pages_line(third.stderr) == \
        f"Pages: 0 converted from Markdown, {converted + reused} unchanged from the cache."
    assert "Cache: " not in third.stderr
    assert set(pages.rglob("*.json.z")) == entries
