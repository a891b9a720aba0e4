"""The cache folder stays bounded: a build marks each entry it uses, and a complete build removes the entries
that no build has used for ``cache_keep_days`` days.

Entries are keyed by content, so what a change replaces stays behind: an edited card leaves its old pages,
plots and diagrams, and a page that links to a new or moved file leaves its old HTML. A CI job that keeps the
folder between runs would carry all of it forever.

A use is marked by setting the entry's modification time to now: one ``utime``, which works from the build's
worker processes as well, and which CI caches keep, since they keep modification times. Only files named as
the caches name them (a SHA-256 in hex, or a temporary file of one) in the caches' own folders are ever
removed, so a ``cache_dir`` pointed at a folder that holds other files loses none of them.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

# The caches' folders under ``cache_dir``: explain/stage.py, lineage (site/lineage.py), page_cache.py, build.py,
# sources/run_cache.py.
FOLDERS = ("explanations", "plots", "lineage", "pages", "site-files", "runs")
# An entry (``<sha256>.json``, ``<sha256>.beeswarm.svg``, ...) or what an interrupted write left of one
# (files.write_atomic's ``.<name>.<random>.tmp``).
_ENTRY = re.compile(r"\.?[0-9a-f]{64}(\.[A-Za-z0-9_.-]+)?")
# The kernel stamps files from a clock that can lag ``time.time()`` by a tick: a build's own entries must not look
# older than the build. (Where a file system's clock is further off, as over NFS, pruning keeps or removes a
# little more than it should; either costs only time.)
_CLOCK_SLACK = 0.05


def mark_used(path: str | os.PathLike[str]) -> None:
    """Note that this build used the entry at ``path``, so that pruning keeps it."""
    try:
        os.utime(path)
    except OSError:
        pass  # gone or read-only: at worst it is made again


@dataclass(frozen=True)
class Pruned:
    entries: int = 0  # files removed
    size: int = 0  # bytes

    def describe(self, keep_days: int) -> str:
        unused = "this build did not use" if keep_days == 0 else f"no build used for {keep_days} day(s)"
        return f"removed {self.entries} cache file(s) ({self.size / 1e6:.1f} MB) that {unused}"


def prune(cache_dir: Path, *, keep_days: int, build_started: float, now: float | None = None) -> Pruned:
    """Remove the entries of ``cache_dir`` unused for ``keep_days`` days; 0 removes every entry this build,
    started at ``build_started`` (``time.time()``), did not use."""
    now = time.time() if now is None else now
    cutoff = min(now - keep_days * 86400, build_started) - _CLOCK_SLACK
    entries = size = 0
    for name in FOLDERS:
        for path, stat in _entries(cache_dir / name):
            if stat.st_mtime < cutoff:
                try:
                    os.unlink(path)
                except OSError:
                    continue  # removed by a concurrent build, or not ours to remove
                entries += 1
                size += stat.st_size
    return Pruned(entries, size)


def _entries(folder: Path, depth: int = 0):
    """The cache files in ``folder`` and, for the page cache's two-letter shards, one level below it."""
    try:
        scanned = list(os.scandir(folder))
    except OSError:
        return
    for entry in scanned:
        if entry.is_file(follow_symlinks=False) and _ENTRY.fullmatch(entry.name):
            try:
                yield entry.path, entry.stat(follow_symlinks=False)
            except OSError:
                continue
        elif depth == 0 and entry.is_dir(follow_symlinks=False) and re.fullmatch(r"[0-9a-f]{2}", entry.name):
            yield from _entries(Path(entry.path), depth + 1)
