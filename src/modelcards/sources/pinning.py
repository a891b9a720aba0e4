"""Runs pinned to a git revision: ``dvc:<stage>@<rev>`` is the stage as its ``dvc.lock`` was at that commit.

A DVC stage read from the working tree (``dvc:train``) follows ``dvc.lock``: after the next
``dvc repro`` and commit it is another run. A released version names the run that produced it, so it
pins the stage to the commit that recorded it:

- ``read_dvc_project_at(root, rev)`` reads a DVC project as it was at a git revision, with the real
  ``git`` (``rev-parse``, ``ls-tree``, ``cat-file``): ``dvc.yaml``, ``dvc.lock`` and the params,
  metrics and plots files are taken from that commit and read by the same reader as the working tree.
  Each stage becomes ``<stage>@<full sha>``, its commit that sha, tagged ``dvc.rev``.
- ``modelcards pull dvc`` writes those records as ``modelcards-run/1`` snapshots, which the build reads
  without git (a shallow clone, a copy without ``.git``).
- ``PinnedRuns.find`` resolves a card's ``dvc:<stage>@<rev>``: a loaded snapshot whose sha starts with
  ``<rev>`` first, else the DVC projects listed under ``runs`` read at ``<rev>``.
- ``run_changes`` says how the stage in today's ``dvc.lock`` differs from the pinned record.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from ..errors import Problem
from ..git import Git, GitError, first_line
from .dvc import LOCK_FILE, PIPELINE_FILE, read_dvc_project
from .masking import MaskedValue, SecretMasker
from .reading import ReadResult, shown
from .record import CodeRef, RunRecord

REV_TAG = "dvc.rev"  # the git commit whose dvc.lock a pinned record was read from
# What the DVC reader opens: pipelines, lock files, `dvc add` pointers, params/metrics and step-plot tables.
# Anything else a commit holds (code, data committed to git) is never taken out of git.
_READ_NAMES = (PIPELINE_FILE, LOCK_FILE)
_READ_SUFFIXES = (".dvc", ".json", ".yaml", ".yml", ".tsv", ".csv")
_LARGEST_FILE = 64 * 1024 * 1024  # a metrics or params file is small; a bigger one is data, left in git
_SHORTEST_SHA = 7
_HEX = re.compile(r"[0-9a-f]+\Z")


class RevisionError(Exception):
    """A revision that cannot be read: no git, not a repository, unknown revision. The message says which."""


def split_pin(ref: str) -> tuple[str, str] | None:
    """``dvc:train@4be1f0c`` -> ``("train", "4be1f0c")``; None for a ref that pins no revision.

    The revision is what follows the last ``@``, so a foreach item pins as ``dvc:train@us@4be1f0c``.
    """
    source, _, run_id = ref.partition(":")
    stage, at, rev = run_id.rpartition("@")
    if source != "dvc" or not at or not stage or not rev:
        return None
    return stage, rev


def is_commit_prefix(rev: str) -> bool:
    return len(rev) >= _SHORTEST_SHA and bool(_HEX.match(rev.lower()))


@dataclass
class PinnedRuns:
    """Finds pinned DVC stages for the cards, reading each (project, revision) from git once."""

    dvc_projects: list[Path]
    relative_to: Path
    masker: SecretMasker = field(default_factory=SecretMasker)
    problems: list[Problem] = field(default_factory=list)  # about files read at a revision, as warnings
    masked: list[MaskedValue] = field(default_factory=list)
    _read: dict[tuple[Path, str], ReadResult | str] = field(default_factory=dict)

    def find(self, ref: str, runs: dict[str, RunRecord]) -> RunRecord | str:
        """The record a card's ``dvc:<stage>@<rev>`` names, or what is wrong, said for the card line."""
        stage, rev = split_pin(ref) or ("", "")
        snapshots = Snapshots(runs).of(stage, rev)
        if len(snapshots) == 1:
            return snapshots[0]
        if len(snapshots) > 1:
            return (f"found revision '{rev}', which starts {len(snapshots)} snapshots' commits "
                    f"({', '.join(sorted(r.tags[REV_TAG][:12] for r in snapshots))}); write more of the sha")
        if not self.dvc_projects:
            return (f"found run '{ref}', a DVC stage pinned to git revision '{rev}', but no DVC project is listed "
                    "under the plugin's 'runs' option and no `modelcards pull dvc` snapshot has it")
        stages_then: list[str] = []
        for project in self.dvc_projects:
            read = self._at(project, rev)
            if isinstance(read, str):
                return read
            for record in read.records:
                if record.id.removesuffix("@" + record.tags[REV_TAG]) == stage:
                    return record
            stages_then += [record.name or record.id for record in read.records]
        where = ", ".join(shown(project, self.relative_to) or "." for project in self.dvc_projects)
        known = f"; its stages then: {', '.join(sorted(set(stages_then)))}" if stages_then else ""
        return f"found no stage '{stage}' in the dvc.lock of {where} at git revision '{rev}'{known}"

    def _at(self, project: Path, rev: str) -> ReadResult | str:
        key = (project, rev)
        if key not in self._read:
            try:
                read = read_dvc_project_at(project, rev, relative_to=self.relative_to)
            except RevisionError as exc:
                self._read[key] = str(exc)
            else:
                read.records, masked = self.masker.mask(read.records)
                self.masked += masked
                self.problems += read.problems
                self._read[key] = read
        return self._read[key]


class Snapshots:
    """The loaded pinned records (``modelcards pull dvc`` snapshots, or read before) by stage, indexed in one pass
    over the runs: a thousand cards pinning stages then find theirs without scanning every run each."""

    def __init__(self, runs: dict[str, RunRecord]):
        self.by_stage: dict[str, list[RunRecord]] = {}  # "dvc:<stage>@" -> its records, each named by its full sha
        for ref, record in runs.items():
            sha = record.tags.get(REV_TAG)
            if sha and ref.startswith("dvc:") and ref.endswith("@" + sha):
                self.by_stage.setdefault(ref[:-len(sha)], []).append(record)

    def of(self, stage: str, rev: str) -> list[RunRecord]:
        """The records of ``stage`` whose commit starts with ``rev`` (none for a ``rev`` that is no commit prefix)."""
        if not is_commit_prefix(rev):
            return []
        return [record for record in self.by_stage.get(f"dvc:{stage}@", ())
                if record.tags[REV_TAG].startswith(rev.lower())]

    def resolve(self, ref: str) -> bool:
        """Whether exactly one of them is the stage and revision ``ref`` pins, as ``PinnedRuns.find`` takes it."""
        stage, rev = split_pin(ref) or ("", "")
        return len(self.of(stage, rev)) == 1


def dvc_projects(entries: list[str], project_dir: Path) -> list[Path]:
    """The DVC projects among the ``runs`` entries: folders holding ``dvc.yaml``, or a ``dvc.yaml``/lock itself."""
    found = []
    for entry in entries:
        path = (project_dir / entry).resolve()
        if path.is_dir() and (path / PIPELINE_FILE).is_file():
            found.append(path)
        elif path.name in _READ_NAMES and path.is_file():
            found.append(path.parent)
    return list(dict.fromkeys(found))


def read_dvc_project_at(root: Path, rev: str, *, relative_to: Path, moving_ok: bool = False) -> ReadResult:
    """Every stage of the DVC project at ``root`` as it was at git revision ``rev``.

    Ids are ``<stage>@<full sha>``, the commit is that sha and the tag ``dvc.rev`` holds it. Problems
    show the files' paths as in the working tree, with the revision added to the message. Raises
    ``RevisionError`` when git is missing, ``root`` is not in a repository, or ``rev`` names no commit,
    or, unless ``moving_ok``, names one that moves (a branch, ``HEAD``), which a card cannot pin.
    """
    git = _Git(root, shown(root, relative_to) or ".")
    sha = git.commit(rev)
    if not moving_ok and git.moves(rev, sha):
        raise RevisionError(f"found revision '{rev}', which moves with new commits, so the version would follow "
                            f"it; pin the commit it names now: @{sha[:12]}")
    with tempfile.TemporaryDirectory(prefix="modelcards-rev-") as scratch:
        # The project is laid out under the scratch folder as it is under relative_to, so the reader
        # shows the same paths and gives the same dataset namespace as for the working tree.
        mirror = Path(scratch)
        place = root.resolve().relative_to(relative_to.resolve()) if root.resolve().is_relative_to(
            relative_to.resolve()) else PurePosixPath(root.name)
        copy = mirror / place
        copy.mkdir(parents=True, exist_ok=True)
        git.extract(sha, copy)
        if not (copy / PIPELINE_FILE).is_file() and not (copy / LOCK_FILE).is_file():
            raise RevisionError(f"found no {PIPELINE_FILE} or {LOCK_FILE} in {shown(root, relative_to) or '.'} at "
                                f"git revision '{rev}' ({sha[:12]}); expected the commit that recorded the stage")
        read = read_dvc_project(copy, relative_to=mirror)
    note = f" (at git revision {sha[:12]})"
    read.problems = [replace(problem, message=problem.message + note) for problem in read.problems]
    read.records = [_pinned(record, sha) for record in read.records]
    return read


def _pinned(record: RunRecord, sha: str) -> RunRecord:
    code = record.code or CodeRef()
    return replace(record, id=f"{record.id}@{sha}", tags={**record.tags, REV_TAG: sha},
                   code=replace(code, commit=sha), floating=False)


class _Git:
    """The real ``git`` run in one repository; failures become ``RevisionError`` with git's reason."""

    def __init__(self, folder: Path, shown_as: str):
        self.folder = folder
        self.shown_as = shown_as
        if not Git.installed():
            raise RevisionError("found no `git` program, which reading a run at a git revision needs; install git "
                                "(Debian: apt-get install git), or pin a snapshot written by `modelcards pull dvc`")
        self.git = Git(folder)
        inside = self._run("rev-parse", "--is-inside-work-tree", check=False)
        if inside.returncode != 0 or inside.stdout.strip() != b"true":
            raise RevisionError(f"found {shown_as} outside any git repository, so it has no revisions "
                                "(git says: " + first_line(inside.stderr) + "); commit the project to git, "
                                "or pin a snapshot written by `modelcards pull dvc`")

    def commit(self, rev: str) -> str:
        """The full sha of the commit ``rev`` names."""
        if not rev or rev.startswith("-") or any(c.isspace() or ord(c) < 32 for c in rev):
            raise RevisionError(f"found revision {rev!r}, expected a git commit sha (or a tag)")
        done = self._run("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
        if done.returncode != 0:
            shallow = self._run("rev-parse", "--is-shallow-repository", check=False).stdout.strip() == b"true"
            hint = ("; this clone is shallow: fetch the history with `git fetch --unshallow`, or pin a snapshot "
                    "written by `modelcards pull dvc`" if shallow else "")
            raise RevisionError(f"found git revision '{rev}', which names no commit in the repository of "
                                f"{self.shown_as}; expected a commit that recorded the stage "
                                f"(`git log -- {LOCK_FILE}` lists them){hint}")
        return done.stdout.decode().strip()

    def moves(self, rev: str, sha: str) -> bool:
        """A branch, HEAD, or a revision counted from one (``main~2``): not a fixed commit."""
        if is_commit_prefix(rev) and sha.startswith(rev.lower()):
            return False
        base = re.split(r"[~^@{:]", rev, maxsplit=1)[0] or "HEAD"
        named = self._run("rev-parse", "--symbolic-full-name", base, check=False).stdout.decode().strip()
        return named == "HEAD" or named.startswith(("refs/heads/", "refs/remotes/")) or base == "HEAD"

    def extract(self, sha: str, into: Path) -> None:
        """The files the DVC reader opens, under ``self.folder`` at ``sha``, written below ``into``."""
        listed = self._run("ls-tree", "-r", "-l", "-z", sha, "--", ".").stdout
        blobs: list[tuple[str, str]] = []
        for entry in filter(None, listed.split(b"\0")):
            meta, _, path = entry.partition(b"\t")
            mode, kind, object_id, size = meta.split()
            name = path.decode("utf-8", "surrogateescape")
            wanted = PurePosixPath(name).name in _READ_NAMES or PurePosixPath(name).suffix in _READ_SUFFIXES
            # Links are left out: at a revision they could point anywhere.
            if kind == b"blob" and mode != b"120000" and wanted and int(size) <= _LARGEST_FILE:
                blobs.append((object_id.decode(), name))
        if not blobs:
            return
        try:
            contents = self.git.cat_files([object_id for object_id, _ in blobs])
        except GitError as exc:
            raise RevisionError(f"{exc} in {self.shown_as}") from None
        for object_id, name in blobs:
            target = into / name
            if contents[object_id] is None or not target.resolve().is_relative_to(into.resolve()):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(contents[object_id])

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        try:
            return self.git.run(*args, check=check)
        except GitError as exc:
            raise RevisionError(f"{exc} in {self.shown_as}") from None


# --- what changed since the pinned record -------------------------------------------------------

_SHOWN_CHANGES = 6


def run_changes(pinned: RunRecord, now: RunRecord) -> list[str]:
    """How ``now`` differs from ``pinned`` in what the run recorded (metrics, params, data, outputs, command),
    each as ``what old -> new``; the commit is added when anything else changed. Empty when nothing did.

    The commit alone is no change: every later commit moves it, while the stage stays the same run.
    """
    changes = []
    changes += _changed("metrics.", {k: _number(m.last) for k, m in pinned.metrics.items()},
                        {k: _number(m.last) for k, m in now.metrics.items()})
    changes += _changed("params.", pinned.params, now.params)
    changes += _changed("input ", _digests(pinned.inputs), _digests(now.inputs))
    changes += _changed("output ", _digests(pinned.outputs), _digests(now.outputs))
    changes += _changed("", {"command": _entry_point(pinned)}, {"command": _entry_point(now)})
    if not changes:
        return []
    old, new = _commit(pinned), _commit(now)
    if old != new:
        changes.append(f"code commit {old} -> {new}")
    if len(changes) > _SHOWN_CHANGES + 1:
        changes[_SHOWN_CHANGES:] = [f"and {len(changes) - _SHOWN_CHANGES} more"]
    return changes


def _changed(prefix: str, old: dict[str, str | None], new: dict[str, str | None]) -> list[str]:
    return [f"{prefix}{key} {old.get(key) or '(none)'} -> {new.get(key) or '(none)'}"
            for key in sorted(old.keys() | new.keys()) if old.get(key) != new.get(key)]


def _digests(refs) -> dict[str, str | None]:
    return {ref.name: ref.digest for ref in refs}


def _number(value: float) -> str:
    return f"{value:.6g}"


def _entry_point(record: RunRecord) -> str | None:
    return record.code.entry_point if record.code else None


def _commit(record: RunRecord) -> str:
    commit = record.code.commit if record.code else None
    return commit[:7] if commit else "(none)"
