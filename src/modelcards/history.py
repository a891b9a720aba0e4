"""The audit trail: who changed which field of which card, and when, read from git.

One pass over the whole cards folder, whatever the number of cards: ``git log --raw`` lists every commit
that touched a card file, with the blobs of each file before and after it, and one ``git cat-file --batch``
hands back the text of each distinct blob. A few more calls read HEAD and the working tree's
changes, so a build runs a constant, small number of ``git`` processes. Per-file git plugins, which start
one process per page, are slow for exactly this reason.

Each card version is parsed with the project's safe YAML loader and compared with the version before it
field by field: ``risk_tier: medium → high``, ``versions[1.2.0].metrics.roc_auc: 0.83 → 0.84``. Items of
``versions`` are matched by their ``version``, deployments by environment, version and date, other lists
by position.

Without git, outside a repository, or in a shallow clone the history is partial or absent, and ``notes``
or ``problems`` say why; nothing here raises for that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from .cards.yaml_source import parse_yaml
from .git import Git, GitError

CARD_SUFFIXES = (".yml", ".yaml")
NOT_YAML = "not valid YAML at this commit"
VALID_AGAIN = "valid YAML again"
CARD_ADDED = "card added"
CARD_REMOVED = "card removed"
UNCOMMITTED = "uncommitted changes"
SHALLOW_FIX = "fetch the full history with `git fetch --unshallow`, or set `fetch-depth: 0` in actions/checkout"

_FIELDS = "%H%x1f%an%x1f%ae%x1f%aI%x1f%cI%x1f%s"
_RECORD = "\x1e"


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    email: str
    date: str  # the author date, ISO 8601 with its offset
    subject: str
    committed: str = ""  # the committer date, ISO 8601

    @property
    def short(self) -> str:
        return self.sha[:7]

    @property
    def day(self) -> str:
        return self.date[:10]


ChangeKind = Literal["changed", "added", "removed"]


@dataclass(frozen=True)
class FieldChange:
    """One field that differs between two versions of a card: ``key`` is its path, as in problem messages."""

    key: str
    kind: ChangeKind
    before: Any = None  # None when added
    after: Any = None  # None when removed
    # The same path as parts: mapping keys, the label of a keyed list item (a version, a deployment) or the
    # position (int) of another list's item. Checks that follow one field through the history compare these.
    parts: tuple[str | int, ...] = ()


@dataclass(frozen=True)
class CardChange:
    """One commit's change to one card, or the working tree's uncommitted change (``commit`` None)."""

    commit: Commit | None
    changes: tuple[FieldChange, ...] = ()
    note: str = ""  # CARD_ADDED, CARD_REMOVED, NOT_YAML, VALID_AGAIN, UNCOMMITTED, or "" for field changes only
    # The card as parsed after the change (masked; shared with other changes of the same text): None when the
    # card was removed or is not valid YAML. What checks of the whole record (frozen versions) read.
    card: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class CardHistory:
    """The commits that touched one card file (relative to the project), newest first."""

    path: str
    changes: tuple[CardChange, ...]
    version_added_by: dict[str, Commit] = field(default_factory=dict)  # each version: the commit that added it
    # The card as it is now (the working tree's, else HEAD's), parsed and masked like the changes; None when it
    # is gone or not valid YAML. Not always the newest change's card: a merge that combines two branches'
    # edits of one card is listed by neither of them.
    current: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class History:
    """The audit trail of every card file; empty, with ``notes`` saying why, when there is no git history."""

    cards: dict[str, CardHistory] = field(default_factory=dict)
    head: Commit | None = None  # the project's HEAD: the site is "as of" it
    shallow: bool = False
    uncommitted: bool = False  # a card file differs from HEAD
    notes: tuple[str, ...] = ()  # why the history is partial or absent: informational, never a failure
    blobs_parsed: int = 0  # distinct card texts parsed: each once, however many commits share it

    def recent(self, limit: int | None = None) -> list[tuple[str, CardChange]]:
        """The newest ``limit`` (or all) committed changes across all cards: (card path, change), newest first."""
        changes = [(path, change) for path, card in self.cards.items() for change in card.changes
                   if change.commit is not None]
        changes.sort(key=lambda item: (item[1].commit.committed, item[1].commit.date, item[0]), reverse=True)
        return changes[:limit]


def read_history(project_dir: Path, *card_paths: Path, mask: Callable[[str], str] | None = None) -> History:
    """The audit trail of the card files in ``card_paths`` (folders or files), from the git repository
    ``project_dir`` is in; card paths in it are relative to ``project_dir``. All of them in one ``git log``.

    ``mask`` rewrites each text shown from git (old card values, commit subjects), so a credential that was
    once committed and later removed is not republished.
    """
    try:
        return _read_history(project_dir, card_paths, mask)
    except GitError as exc:
        return History(notes=(f"the change history could not be read from git: {exc}",))


def _read_history(project_dir: Path, card_paths: tuple[Path, ...], mask: Callable[[str], str] | None) -> History:
    if not Git.installed():
        return History(notes=("found no `git` program, so the cards have no change history; install git to add it",))
    git = Git(project_dir)
    located = git.run("rev-parse", "--show-toplevel", "--show-prefix", "--is-shallow-repository", check=False)
    if located.returncode != 0:
        return History(notes=(f"{project_dir.name or project_dir} is not in a git repository, "
                              "so the cards have no change history",))
    _top, prefix, shallow_text = (located.stdout.decode("utf-8", "surrogateescape").split("\n") + ["", "", ""])[:3]
    shallow = shallow_text.strip() == "true"
    head_log = git.run("log", "-1", f"--format={_FIELDS}", "HEAD", check=False)
    if head_log.returncode != 0:  # a repository without commits
        return History(notes=("the git repository has no commits yet, so the cards have no change history",))
    head = _commit(head_log.stdout.decode("utf-8", "replace").strip("\n"))
    folders = [_relative_folder(path, project_dir) for path in card_paths] or ["."]
    logged = git.run("log", "-z", "--no-renames", "--raw", "--no-abbrev", f"--format={_RECORD}{_FIELDS}", "HEAD",
                     "--", *folders).stdout
    commits = _parse_log(logged, prefix)
    status = git.run("status", "--porcelain", "-z", "--untracked-files=all", "--", *folders).stdout
    dirty = sorted({_strip(prefix, name) for name in _status_paths(status) if name.endswith(CARD_SUFFIXES)})

    # Every text needed, in one cat-file pass: each distinct blob before and after each commit (git log's
    # raw diff names them, against the first parent), and the cards at HEAD for the uncommitted ones.
    wanted = list(dict.fromkeys(blob for _, files in commits for _, *blobs in files for blob in blobs if blob))
    logged_paths = sorted({path for _, files in commits for path, *_ in files} | set(dirty))
    wanted += [f"HEAD:{prefix}{path}" for path in logged_paths]
    texts = {name: None if blob is None else blob.decode("utf-8-sig", "replace")
             for name, blob in (git.cat_files(wanted) if wanted else {}).items()}

    parsed = _Parser(mask)
    per_card: dict[str, list[CardChange]] = {}
    versions_at: dict[str, list[tuple[Commit, set[str]]]] = {}
    for commit, files in commits:
        commit = _masked_commit(commit, parsed.mask)
        for path, before_blob, after_blob in files:
            before = texts.get(before_blob) if before_blob else None
            after = texts.get(after_blob) if after_blob else None
            per_card.setdefault(path, []).append(_change(commit, parsed, path, before, after))
            versions_at.setdefault(path, []).append((commit, parsed.versions(path, after)))
    now = {path: texts.get(f"HEAD:{prefix}{path}") for path in logged_paths}
    for path in dirty:
        try:
            now[path] = (project_dir / path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError):
            now[path] = None
        change = _change(None, parsed, path, texts.get(f"HEAD:{prefix}{path}"), now[path])
        per_card.setdefault(path, []).insert(0, CardChange(None, change.changes, UNCOMMITTED, change.card))

    cards = {path: CardHistory(path, tuple(changes), _first_authors(versions_at.get(path, [])),
                               parsed.data(path, now.get(path))[1])
             for path, changes in sorted(per_card.items())}
    # A note, not a warning: a shallow checkout is how CI was set up, not something wrong in the cards, and
    # `--strict` must not fail on it. The Recent changes page says the history is partial.
    notes = (f"found a shallow git clone, so the change history of the cards is partial; {SHALLOW_FIX}",) \
        if shallow else ()
    return History(cards, _masked_commit(head, parsed.mask), shallow, bool(dirty), notes, parsed.parses)


# --- comparing two versions of a card ---------------------------------------------------------------

def field_changes(before: Any, after: Any, key: str = "", parts: tuple[str | int, ...] = ()) -> list[FieldChange]:
    """Every field that differs between two parsed cards (or parts of them), in document order.

    ``key`` and ``parts`` say where ``before`` and ``after`` are, when they are part of a card.
    """
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        return _matched_changes(before, after, lambda name: f"{key}.{name}" if key else str(name), parts)
    if isinstance(before, list) and isinstance(after, list):
        return _list_changes(before, after, key, parts)
    return [FieldChange(key, "changed", before, after, parts)]


def _list_changes(before: list, after: list, key: str, parts: tuple[str | int, ...]) -> list[FieldChange]:
    name = key.rpartition(".")[2].rpartition("]")[2] if key else ""
    old, new = _keyed(before, name), _keyed(after, name)
    if old is None or new is None:  # by position
        return _matched_changes(dict(enumerate(before)), dict(enumerate(after)), lambda i: f"{key}[{i}]", parts)
    return _matched_changes(old, new, lambda label: f"{key}[{label}]", parts)


def _matched_changes(old: dict, new: dict, child_key: Callable[[Any], str],
                     parts: tuple[str | int, ...]) -> list[FieldChange]:
    """Changes between two mappings whose entries are matched by key: removed, added, or compared deeper."""
    found: list[FieldChange] = []
    for name in [*old, *(k for k in new if k not in old)]:
        child, child_parts = child_key(name), (*parts, name)
        if name not in new:
            found.append(FieldChange(child, "removed", before=old[name], parts=child_parts))
        elif name not in old:
            found.append(FieldChange(child, "added", after=new[name], parts=child_parts))
        else:
            found.extend(field_changes(old[name], new[name], child, child_parts))
    return found


def _keyed(items: list, name: str) -> dict[str, Any] | None:
    """Items of ``versions`` by their version, deployments by environment, version and date; None when
    the list is another one, or its items do not have distinct keys."""
    if name == "versions":
        labels = [str(item.get("version")) if isinstance(item, dict) and "version" in item else None
                  for item in items]
    elif name == "deployments":
        labels = [" ".join(str(item.get(part, "")) for part in ("environment", "version", "date"))
                  if isinstance(item, dict) else None for item in items]
    else:
        return None
    if None in labels or len(set(labels)) != len(labels):
        return None
    return dict(zip(labels, items))  # type: ignore[arg-type]


def _relative_folder(cards_dir: Path, project_dir: Path) -> str:
    try:
        return cards_dir.resolve().relative_to(project_dir.resolve()).as_posix() or "."
    except ValueError:
        return str(cards_dir)


def _commit(fields: str) -> Commit:
    sha, author, email, date, committed, subject = (fields.split("\x1f") + [""] * 6)[:6]
    return Commit(sha, author, email, date, subject, committed)


def _parse_log(logged: bytes, prefix: str) -> list[tuple[Commit, list[tuple[str, str | None, str | None]]]]:
    """``git log -z --raw`` -> each commit (newest first) with the card files it touched: (path, blob before,
    blob after), None where the file was not there."""
    commits = []
    for record in logged.decode("utf-8", "surrogateescape").split(_RECORD):
        if not record.strip("\0\n"):
            continue
        header, _, rest = record.partition("\0")
        fields = rest.split("\0")
        files = []
        for meta, name in zip(fields[0::2], fields[1::2]):
            parts = meta.strip("\n").split()
            if len(parts) < 5 or not name.endswith(CARD_SUFFIXES):
                continue
            before, after = (None if set(blob) == {"0"} else blob for blob in parts[2:4])
            files.append((_strip(prefix, name), before, after))
        if files:  # a merge lists no files: its sides are listed as their own commits
            commits.append((_commit(header), files))
    return commits


def _status_paths(status: bytes) -> list[str]:
    """The paths ``git status --porcelain -z`` lists; a rename or copy is followed by its old path, skipped."""
    entries = iter(status.decode("utf-8", "surrogateescape").split("\0"))
    paths = []
    for entry in entries:
        if len(entry) > 3:
            paths.append(entry[3:])
            if entry[0] in "RC":
                next(entries, None)
    return paths


def _strip(prefix: str, path: str) -> str:
    """A path from the repository's top to one from the project (git gives both with ``/``)."""
    return path[len(prefix):] if prefix and path.startswith(prefix) else path


class _Parser:
    """Parses each distinct blob once, whichever commits and card files hold it: a commit's blob after is the
    next commit's blob before, and a text is keyed by its content, which is what a blob id names."""

    def __init__(self, mask: Callable[[str], str] | None):
        self.mask = mask or (lambda text: text)
        self._parsed: dict[str, tuple[bool, Any]] = {}
        self.parses = 0  # how many texts were parsed, for the benchmark and its test

    def data(self, path: str, text: str | None) -> tuple[bool, Any]:
        """(parsed, data): (True, None) for a file that is not there. ``path`` only names the text."""
        if text is None:
            return True, None
        if text not in self._parsed:
            self.parses += 1
            document, problems = parse_yaml(text, path)
            ok = document is not None and not any(p.severity == "error" for p in problems)
            self._parsed[text] = (ok, _masked_data(document.data, self.mask) if ok and document else None)
        return self._parsed[text]

    def versions(self, path: str, text: str | None) -> set[str]:
        ok, data = self.data(path, text)
        versions = data.get("versions") if ok and isinstance(data, dict) else None
        return {str(v["version"]) for v in versions or [] if isinstance(v, dict) and "version" in v}


def _change(commit: Commit | None, parsed: _Parser, path: str, before: str | None, after: str | None) -> CardChange:
    if after is None:
        return CardChange(commit, (), CARD_REMOVED)
    after_ok, after_data = parsed.data(path, after)
    if not after_ok:
        return CardChange(commit, (), NOT_YAML)
    if before is None:
        return CardChange(commit, (), CARD_ADDED, after_data)
    before_ok, before_data = parsed.data(path, before)
    if not before_ok:  # fixed in this commit: everything it holds is new
        return CardChange(commit, (), VALID_AGAIN, after_data)
    return CardChange(commit, tuple(field_changes(before_data, after_data)), card=after_data)


def _first_authors(oldest_last: list[tuple[Commit, set[str]]]) -> dict[str, Commit]:
    """Each version label: the first commit (oldest) whose card holds it."""
    added: dict[str, Commit] = {}
    for commit, versions in reversed(oldest_last):
        for version in versions:
            added.setdefault(version, commit)
    return added


def _masked_data(value: Any, mask: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {key: _masked_data(item, mask) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked_data(item, mask) for item in value]
    return value


def _masked_commit(commit: Commit, mask: Callable[[str], str]) -> Commit:
    return Commit(commit.sha, commit.author, commit.email, commit.date, mask(commit.subject), commit.committed)
