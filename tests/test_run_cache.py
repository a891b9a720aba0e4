"""The cache of read, masked run exports (sources/run_cache.py): what it gives is what reading the exports gives.

Real export files, written as `modelcards pull` writes them, read by ``load_runs`` with and without a cache folder;
then the real CLI builds a site cold and warm.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import shutil
import sys
import time
import zlib
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from modelcards.cache_upkeep import prune
from modelcards.sources.load import load_runs
from modelcards.sources.masking import SecretMasker
from modelcards.sources.record import LazyHistory, RunRecord, export_file_name, write_export
from test_runs import CARDS, RUN, build, runs_project, text_of
from test_secrets import SHAPES, planted_run, spellings

pytest.importorskip("msgspec")  # the cache needs the `fast` extra; without it there is none (tested below)

sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from synthetic_runs import synthetic_run  # noqa: E402


def exports(root: Path, count: int = 40) -> list[RunRecord]:
    """Synthetic autologged runs, RUN (whose params and tags hold secrets) and a run with every shape of secret."""
    rng = random.Random(7)
    records = [synthetic_run(rng, "%032x" % rng.getrandbits(128), experiment=f"exp-{i % 3}") for i in range(count)]
    records += [RUN, planted_run(999, SHAPES["Stripe key"][0])]
    write_export(records, root / "runs")
    return records


def packs(cache_dir: Path) -> dict[str, tuple[int, bytes]]:
    """Each pack of the run cache: its inode (a rewritten pack is a new file) and bytes."""
    return {path.name: (path.stat().st_ino, path.read_bytes()) for path in sorted((cache_dir / "runs").glob("*"))}


def assert_same(loaded, expected) -> None:
    """What ``load_runs`` gave, exactly as a read without the cache: records (with their origins and metric
    histories, which a run page's charts read), masked values and problems."""
    assert list(loaded.runs) == list(expected.runs)
    assert list(loaded.runs.values()) == list(expected.runs.values())
    assert [r.origin for r in loaded.runs.values()] == [r.origin for r in expected.runs.values()]
    assert [[list(m.history) for m in r.metrics.values()] for r in loaded.runs.values()] == \
        [[list(m.history) for m in r.metrics.values()] for r in expected.runs.values()]
    assert loaded.masked == expected.masked
    assert loaded.problems == expected.problems


def test_a_warm_read_gives_what_a_fresh_read_gives(tmp_path: Path):
    exports(tmp_path)
    (tmp_path / "runs/notes.json").write_text('{"not": "a run"}')  # a problem, reported on every read
    cache = tmp_path / "cache"
    fresh = load_runs(["runs"], project_dir=tmp_path)
    assert fresh.masked and fresh.problems and len(fresh.runs) == 42

    cold = load_runs(["runs"], project_dir=tmp_path, cache_dir=cache)
    written = packs(cache)
    warm = load_runs(["runs"], project_dir=tmp_path, cache_dir=cache)

    assert len(written) == 1 and packs(cache) == written  # every export found in the pack: nothing written
    assert_same(cold, fresh)
    assert_same(warm, fresh)
    assert all(isinstance(m.history, LazyHistory) for r in warm.runs.values() for m in r.metrics.values())


def test_a_fresh_checkout_with_the_cache_restored_is_warm(tmp_path: Path):
    """CI: the exports in another folder, every file with a new modification time, the cache folder kept."""
    exports(tmp_path / "first")
    cache = tmp_path / "cache"
    load_runs(["runs"], project_dir=tmp_path / "first", cache_dir=cache)
    written = packs(cache)
    shutil.copytree(tmp_path / "first", tmp_path / "checkout", copy_function=shutil.copyfile)
    later = time.time() + 3600
    for file in (tmp_path / "checkout/runs").iterdir():
        os.utime(file, (later, later))

    warm = load_runs(["runs"], project_dir=tmp_path / "checkout", cache_dir=cache)
    assert packs(cache) == written
    assert_same(warm, load_runs(["runs"], project_dir=tmp_path / "checkout"))


def test_an_edited_export_is_read_again_and_its_new_value_shows(tmp_path: Path):
    records = exports(tmp_path)
    cache = tmp_path / "cache"
    load_runs(["runs"], project_dir=tmp_path, cache_dir=cache)
    edited = dataclasses.replace(records[0], name="renamed", params={**records[0].params, "max_depth": "12"})
    write_export([edited], tmp_path / "runs")
    written = packs(cache)

    warm = load_runs(["runs"], project_dir=tmp_path, cache_dir=cache)
    assert warm.runs[edited.ref].name == "renamed" and warm.runs[edited.ref].params["max_depth"] == "12"
    assert_same(warm, load_runs(["runs"], project_dir=tmp_path))
    assert packs(cache) != written
    (tmp_path / "runs" / export_file_name(records[1])).unlink()  # gone: its run too
    gone = load_runs(["runs"], project_dir=tmp_path, cache_dir=cache)
    assert records[1].ref not in gone.runs
    assert_same(gone, load_runs(["runs"], project_dir=tmp_path))


def test_other_masking_settings_do_not_use_records_masked_by_the_old_ones(tmp_path: Path):
    records = exports(tmp_path)
    cache = tmp_path / "cache"
    load_runs(["runs"], project_dir=tmp_path, cache_dir=cache)
    value = records[0].tags["mlflow.source.git.repoURL"]  # shared by every synthetic run
    stricter = SecretMasker(extra_value_patterns=[r"git\.example\.com/ml/\w+"])

    warm = load_runs(["runs"], project_dir=tmp_path, cache_dir=cache, masker=stricter)
    assert warm.runs[records[0].ref].tags["mlflow.source.git.repoURL"] != value
    assert_same(warm, load_runs(["runs"], project_dir=tmp_path, masker=SecretMasker(
        extra_value_patterns=[r"git\.example\.com/ml/\w+"])))
    assert any("the pattern" in item.reason for item in warm.masked)
    back = load_runs(["runs"], project_dir=tmp_path, cache_dir=cache, masker=SecretMasker())
    assert back.runs[records[0].ref].tags["mlflow.source.git.repoURL"] == value


def test_no_secret_is_written_to_the_cache(tmp_path: Path):
    """Every shape of secret, planted in every text of a run (params, tags, metric names, datasets, outputs, code,
    environment, packages) and in a file's name: the pack holds the masked records only."""
    write_export([planted_run(index, text) for index, (text, _) in enumerate(SHAPES.values())], tmp_path / "runs")
    token, hidden = SHAPES["GitHub token"]
    write_export([RUN], tmp_path / "runs" / token)  # a record's origin, masked: that run is read every time
    cache = tmp_path / "cache"
    cold = load_runs(["runs"], project_dir=tmp_path, cache_dir=cache)
    warm = load_runs(["runs"], project_dir=tmp_path, cache_dir=cache)

    content = b"".join(path.read_bytes() for path in (cache / "runs").iterdir())
    assert len(content) > 10_000
    leaks = [name for name, (_, secret) in SHAPES.items() for spelled in spellings(secret)
             if spelled.encode() in content]
    assert leaks == []
    assert [item.run for item in warm.masked if item.where == "origin.path"] == [RUN.ref]
    assert hidden not in warm.runs[RUN.ref].origin.path
    assert len(warm.masked) == len(cold.masked) > len(SHAPES) * 10
    assert_same(warm, cold)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "a byte changed", "another format",
                                    "a JSON file", "an entry's history out of place", "an entry of another shape"])
def test_a_damaged_or_foreign_pack_is_ignored_and_replaced(tmp_path: Path, damage: str):
    import msgspec

    exports(tmp_path)
    cache = tmp_path / "cache"
    fresh = load_runs(["runs"], project_dir=tmp_path)
    load_runs(["runs"], project_dir=tmp_path, cache_dir=cache)
    [pack] = (cache / "runs").iterdir()
    good = pack.read_bytes()
    if damage == "another format":
        _, key, check, entries = msgspec.msgpack.decode(good)
        damaged = msgspec.msgpack.encode([99, key, check, entries])
    elif damage == "a byte changed":
        at = good.index(b"mlflow.source.git.commit") + 30  # in a commit
        damaged = good[:at] + (b"a" if good[at:at + 1] != b"a" else b"b") + good[at + 1:]
    elif damage.startswith("an entry"):  # a well-formed pack of this build's key, one entry wrong
        _, key, _, entries = msgspec.msgpack.decode(good)
        first = next(iter(entries))
        record, histories, masked = entries[first]
        entries[first] = [record, [[start + 1, end] for start, end in histories], masked] \
            if "history" in damage else [record, masked]
        encoded = msgspec.msgpack.encode(entries)
        damaged = msgspec.msgpack.encode([1, key, zlib.crc32(encoded), msgspec.Raw(encoded)])
    else:
        damaged = {"truncated": good[:len(good) // 2], "garbage": os.urandom(4096), "empty": b"",
                   "a JSON file": json.dumps({"format": 1}).encode()}[damage]
    pack.write_bytes(damaged)

    assert_same(load_runs(["runs"], project_dir=tmp_path, cache_dir=cache), fresh)
    assert pack.read_bytes() == good  # written again, whole
    assert_same(load_runs(["runs"], project_dir=tmp_path, cache_dir=cache), fresh)


def test_without_msgspec_there_is_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    exports(tmp_path, count=3)
    fresh = load_runs(["runs"], project_dir=tmp_path)
    monkeypatch.setitem(sys.modules, "msgspec", None)  # what an install without the fast extra sees
    assert_same(load_runs(["runs"], project_dir=tmp_path, cache_dir=tmp_path / "cache"), fresh)
    assert not (tmp_path / "cache").exists()


def test_the_pack_of_a_run_source_no_longer_read_is_pruned(tmp_path: Path):
    write_export([RUN], tmp_path / "old")
    exports(tmp_path, count=3)
    cache = tmp_path / "cache"
    load_runs(["runs", "old"], project_dir=tmp_path, cache_dir=cache)
    assert len(packs(cache)) == 2
    for pack in (cache / "runs").iterdir():  # written by a build an hour ago
        os.utime(pack, (time.time() - 3600, time.time() - 3600))
    started = time.time()
    load_runs(["runs"], project_dir=tmp_path, cache_dir=cache)  # reads only "runs": its pack is marked as used
    pruned = prune(cache, keep_days=0, build_started=started, now=started + 1)
    assert pruned.entries == 1 and len(packs(cache)) == 1


def test_a_site_built_warm_is_byte_identical_to_one_built_cold(tmp_path: Path):
    """The CLI, twice: the second build takes every export from the cache, and says it masked as many values."""
    mkdocs_yml = runs_project(tmp_path, CARDS, [RUN, planted_run(1, SHAPES["GitHub token"][0])])
    cold = build(mkdocs_yml, "-d", "site-a")
    written = packs(tmp_path / ".modelcards-cache")
    warm = build(mkdocs_yml, "-d", "site-b")
    assert packs(tmp_path / ".modelcards-cache") == written and len(written) == 1

    masked = [line for line in cold.stderr.splitlines() if "masked" in line.lower()]
    assert len(masked) > 3 and masked == [line for line in warm.stderr.splitlines() if "masked" in line.lower()]
    a, b = tmp_path / "site-a", tmp_path / "site-b"
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file() and p.name != "sitemap.xml.gz")
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file() and p.name != "sitemap.xml.gz")
    assert [f for f in files if (a / f).read_bytes() != (b / f).read_bytes()] == []
    run_page = next(path for path in b.rglob(f"*{RUN.id[:8]}*/index.html"))
    assert "accuracy" in text_of(run_page) and "<svg" in run_page.read_text(encoding="utf-8")  # its chart



@pytest.mark.skipif(not hasattr(os, "O_NOATIME"), reason="O_NOATIME is Linux's")
def test_exports_owned_by_another_user_are_read_though_their_access_time_is_updated(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Exports are read without updating their access time, which Linux allows only to the files' owner (and
    root, who runs these tests): for anyone else's files it refuses the flag, and the file is read without it."""
    exports(tmp_path)
    fresh = load_runs(["runs"], project_dir=tmp_path)
    real_open, refused = os.open, []

    def open_as_another_user(path, flags, *args, **kwargs):
        if flags & os.O_NOATIME:
            refused.append(path)
            raise PermissionError(1, "Operation not permitted", path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_as_another_user)
    assert_same(load_runs(["runs"], project_dir=tmp_path, cache_dir=tmp_path / "cache"), fresh)
    assert refused
