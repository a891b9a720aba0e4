"""Every configured run source -> one set of masked run records.

Each entry of the ``runs`` setting is a file or folder. Its format is the first
entry of ``RUN_READERS`` that recognises it (see ``docs/reference/runs.md``); any
other folder is searched recursively for files a reader recognises. A new run
source is one new reader module plus one entry in that table.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from ..cards.yaml_source import format_key_path
from ..errors import Problem
from ..memory import collector_paused
from .masking import MaskedValue, SecretMasker
from ..text import NotUtf8, decode_utf8
from .reading import ReadResult, json_position, shown
from .record import EXPORT_FORMAT, BadExport, Origin, RunRecord, from_json, parse_export
from .run_cache import RunCache, SourcePack


@dataclass
class LoadedRuns:
    runs: dict[str, RunRecord] = field(default_factory=dict)  # by ref, e.g. "mlflow:<id>", sorted
    problems: list[Problem] = field(default_factory=list)
    masked: list[MaskedValue] = field(default_factory=list)


@dataclass(frozen=True)
class RunReader:
    """One run-export format: how it is recognised, and the function that reads it.

    ``read(path, relative_to=root)`` returns a ``ReadResult``. A format recognised by its JSON
    content also gets ``document=``, the parsed file, so that the file is parsed once. A
    ``grouped`` format is read once per entry, with every file of it found there: an
    OpenLineage run's events can be spread over several files.
    """

    name: str
    read: Callable[..., ReadResult]
    folder: Callable[[Path], bool] | None = None  # a folder this format reads whole
    file_names: tuple[str, ...] = ()  # a file that stands for its folder: the folder is read
    suffixes: tuple[str, ...] = ()  # a file read by this format, whatever its content
    json: Callable[[Any], bool] | None = None  # a JSON document this format reads, told by its keys
    grouped: bool = False


# The readers are imported when a source needs them: most builds read one or two of the formats. Readers that
# report positions parse the text themselves, so they take no ``document``.

def _read_dvc_project(folder: Path, *, relative_to: Path) -> ReadResult:
    from .dvc import read_dvc_project

    return read_dvc_project(folder, relative_to=relative_to)


def _read_mlruns(folder: Path, *, relative_to: Path) -> ReadResult:
    from .mlflow_files import read_mlruns

    return read_mlruns(folder, relative_to=relative_to)


def _read_search_runs_csv(path: Path, *, relative_to: Path) -> ReadResult:
    from .mlflow_files import read_search_runs_csv

    return read_search_runs_csv(path, relative_to=relative_to)


def _read_run_json(path: Path, *, relative_to: Path, document: Any) -> ReadResult:
    from .mlflow_files import read_run_json

    return read_run_json(path, relative_to=relative_to)


def _read_openlineage(paths: list[Path], *, relative_to: Path) -> ReadResult:
    from .openlineage import read_openlineage

    return read_openlineage(paths, relative_to=relative_to)


def _read_dvc_exp_show(path: Path, *, relative_to: Path, document: Any) -> ReadResult:
    from .dvc import read_dvc_exp_show

    return read_dvc_exp_show(path, relative_to=relative_to)


def _read_export(path: Path | str, *, relative_to: Path | None = None, document: Any, name: str = "") -> ReadResult:
    """One export object; ``name`` is how problems name the file (else it is worked out from ``relative_to``)."""
    result = ReadResult()
    name = name or shown(Path(path), relative_to)
    try:
        result.records.append(from_json(document, Origin(name)))
    except (KeyError, TypeError, ValueError, RecursionError) as exc:
        if isinstance(exc, BadExport):  # the file is read again only to say where the bad value is
            line, col = json_position(decode_utf8(_read_bytes(str(path))), exc.where)
            result.problem(name, f"not a valid {EXPORT_FORMAT} export: {exc}", line=line, col=col,
                           key_path=format_key_path(exc.where))
        else:
            result.problem(name, f"not a valid {EXPORT_FORMAT} export: {_reason(exc)}")
    return result


def _is_mlruns_store(folder: Path) -> bool:
    # Directory entries know whether they are folders without a stat call: a folder of 10,000 exports is
    # told apart from a store in a millisecond, where a stat per file cost a sixth of reading them.
    with os.scandir(folder) as entries:
        return any(entry.is_dir() and os.path.exists(os.path.join(entry.path, "meta.yaml")) for entry in entries)


def _is_export(data: Any) -> bool:
    return isinstance(data, dict) and "format" in data


def _is_mlflow_run_json(data: Any) -> bool:
    # mlflow-export-import: run.json (and experiment.json, which yields no run)
    mlflow = data.get("mlflow") if isinstance(data, dict) else None
    return isinstance(mlflow, dict) and ("info" in mlflow or "experiment" in mlflow)


def _is_openlineage_event(data: Any) -> bool:
    return isinstance(data, dict) and (
        "eventType" in data or ("run" in data and "job" in data)
        or "openlineage" in str(data.get("schemaURL", "")))


def _is_dvc_exp_show(data: Any) -> bool:
    return isinstance(data, list)


# Tried in order; the first reader that recognises a folder, a file or a JSON document reads it.
RUN_READERS: tuple[RunReader, ...] = (
    RunReader("a DVC project", _read_dvc_project,
              folder=lambda folder: (folder / "dvc.yaml").exists(), file_names=("dvc.yaml", "dvc.lock")),
    RunReader("a legacy MLflow mlruns/ store", _read_mlruns, folder=_is_mlruns_store),
    RunReader("an MLflow search_runs CSV", _read_search_runs_csv, suffixes=(".csv",)),
    RunReader(f"a modelcards export (\"format\": \"{EXPORT_FORMAT}\")", _read_export, json=_is_export),
    RunReader("an mlflow-export-import run.json", _read_run_json,
              json=_is_mlflow_run_json),
    RunReader("an OpenLineage event", _read_openlineage,
              suffixes=(".jsonl", ".ndjson"), json=_is_openlineage_event, grouped=True),
    RunReader("`dvc exp show --json` output", _read_dvc_exp_show, json=_is_dvc_exp_show),
)
JSON_SUFFIX = ".json"
SEARCHED_SUFFIXES = frozenset({JSON_SUFFIX, *(suffix for reader in RUN_READERS for suffix in reader.suffixes)})


def load_runs(entries: list[str], *, project_dir: Path, masker: SecretMasker | None = None,
              cache_dir: Path | None = None) -> LoadedRuns:
    """Read every entry (paths relative to ``project_dir``), mask secrets, and index runs by ref.

    With a ``cache_dir``, exports read and masked by an earlier build are taken from its packs (``run_cache``),
    with the same result."""
    masker = masker or SecretMasker()
    cache = RunCache.open(cache_dir, masker)
    result = ReadResult()
    # Paused until the runs are indexed: masking and indexing allocate too, and with the collector running again
    # its passes walked the new records over and over (load 10% slower cold, benchmarks/run_read_speed.py).
    with collector_paused():
        for entry in entries:
            pack = cache.source(entry) if cache is not None else None
            result.extend(_read_entry(entry, project_dir, pack))
            if pack is not None:
                pack.save()
        records, masked = cache.mask(result.records) if cache is not None else masker.mask(result.records)
        loaded = LoadedRuns(problems=result.problems, masked=masked)
        runs = loaded.runs
        for ref, record in sorted([(record.ref, record) for record in records], key=itemgetter(0)):
            if ref in runs:
                first = runs[ref].origin
                origin = record.origin or Origin("?")
                loaded.problems.append(Problem(
                    origin.path, origin.line, 1, "", f"run {ref} is also read from "
                    f"{first.path if first else '?'}; the first one is kept", "warning"))
                continue
            runs[ref] = record
    return loaded


def _read_entry(entry: str, project_dir: Path, pack: SourcePack | None) -> ReadResult:
    root = project_dir.resolve()
    path = (project_dir / entry).resolve()
    if not path.is_relative_to(root):
        return _setting_problem(f"found '{entry}', which is outside the project folder {root}; "
                                "run sources must be inside it")
    if not path.exists():
        return _setting_problem(f"found '{entry}', which does not exist; expected a file or folder of run exports")
    reader = next((reader for reader in RUN_READERS if reader.folder and reader.folder(path)), None) \
        if path.is_dir() else None
    if reader:
        return reader.read(path, relative_to=root)
    files = _files_under(path, root) if path.is_dir() else [str(path)]
    result = ReadResult()
    grouped: dict[RunReader, list[Path]] = {}
    inside = str(root).rstrip(os.sep) + os.sep
    for file in files:
        _read_file(file, root, inside, grouped, result, pack)
    for reader, paths in grouped.items():
        result.extend(reader.read(paths, relative_to=root))
    return result


def _setting_problem(message: str) -> ReadResult:
    return ReadResult(problems=[Problem("mkdocs.yml", 1, 1, "plugins.modelcards.runs", message, "error")])


def _files_under(folder: Path, root: Path) -> list[str]:
    """Files below ``folder`` that a reader may recognise, sorted; symlinks only when they stay inside the project.

    Paths are strings until a reader needs more: 10,000 Path objects cost a tenth of reading 10,000 exports.
    Symlinked folders are not followed (as ``os.walk`` does not); whether an entry is a folder or a
    symlink comes with the directory listing, so a plain file costs no stat call.
    """
    found: list[str] = []
    pending = [os.fspath(folder)]
    while pending:
        try:
            entries = os.scandir(pending.pop())
        except OSError:  # unreadable, or gone meanwhile: as os.walk, skip it
            continue
        with entries:
            for entry in entries:
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if is_dir:
                    if not entry.is_symlink():
                        pending.append(entry.path)
                elif os.path.splitext(entry.name)[1] in SEARCHED_SUFFIXES and (
                        not entry.is_symlink() or Path(entry.path).resolve().is_relative_to(root)):
                    found.append(entry.path)
    return sorted(found)


# Readers by the file names and suffixes they claim, the first of RUN_READERS winning.
_BY_FILE_NAME = {name: reader for reader in reversed(RUN_READERS) for name in reader.file_names}
_BY_SUFFIX = {suffix: reader for reader in reversed(RUN_READERS) for suffix in reader.suffixes}


def _read_file(path: str, root: Path, inside: str, grouped: dict[RunReader, list[Path]], result: ReadResult,
               pack: SourcePack | None = None) -> None:
    """Read one file into ``result``, or set it aside in ``grouped`` for a format read all at once.

    ``inside`` is ``root`` as a string ending in a separator: the file's name in problems is the rest of its path.
    An export ``pack`` knows is taken from it, already masked; one it does not know is read, masked and kept there.
    """
    if not path.endswith(JSON_SUFFIX) or _CLAIMED_JSON:  # a .json file is claimed by no name or suffix
        reader = _BY_FILE_NAME.get(os.path.basename(path))
        if reader:
            result.extend(reader.read(Path(path).parent, relative_to=root))
            return
        reader = _BY_SUFFIX.get(os.path.splitext(path)[1])
        if reader and reader.grouped:
            grouped.setdefault(reader, []).append(Path(path))
            return
        if reader:
            result.extend(reader.read(Path(path), relative_to=root))
            return
    if path.startswith(inside):
        name = path[len(inside):] if os.sep == "/" else path[len(inside):].replace(os.sep, "/")
    else:
        name = shown(Path(path), root)
    data = _read_bytes(path)
    # The common case, a modelcards export, read without parsing its metric histories.
    record = pack.read(name, data, parse_export) if pack is not None else parse_export(data, Origin(name))
    if record is not None:
        result.records.append(record)
    else:
        result.extend(_read_json(data, path, name, root, grouped))


_CLAIMED_JSON = any(name.endswith(JSON_SUFFIX) for name in _BY_FILE_NAME) or JSON_SUFFIX in _BY_SUFFIX


def _read_bytes(path: str) -> bytes:
    """The file's bytes: one read call for a file under 64 KB (a run export is about 8 KB), with no stat
    call to size it first (half of ``Path.read_bytes``' time). A regular file returns fewer bytes than
    asked for only at its end.

    Read without updating the file's access time where the system allows it (Linux, for the file's owner, as
    git reads its objects): on a fresh checkout every first read would otherwise write each file's inode, a
    fifth of the time an export took to open and read (benchmarks/run_read_speed.py, fresh copy)."""
    try:
        fd = os.open(path, _READ_FLAGS)
    except PermissionError:  # O_NOATIME on a file of another user; a file we may not read fails again
        fd = os.open(path, _READ_FLAGS & ~_NO_ATIME)
    try:
        data = os.read(fd, _FIRST_READ)
        if len(data) < _FIRST_READ:
            return data
        chunks = [data]
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


_NO_ATIME = getattr(os, "O_NOATIME", 0)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | _NO_ATIME
_FIRST_READ = 1 << 16


def _fast_loads(data: bytes) -> Any:
    """``data`` parsed by msgspec (the ``fast`` extra), or ``_UNREAD`` when it is missing or refuses the text.

    msgspec refuses what the standard library may still read (a byte-order mark, NaN) and everything
    broken: such a file goes the standard library's way, which reads it or says where it breaks.
    """
    try:
        import msgspec
    except ImportError:
        return _UNREAD
    try:
        return msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return _UNREAD


_UNREAD = object()


def _read_json(data: bytes, path: str, name: str, root: Path, grouped: dict[RunReader, list[Path]]) -> ReadResult:
    """A JSON file that is not a modelcards export as it is written: told apart by its content."""
    result = ReadResult()
    document = _fast_loads(data)
    try:
        if document is _UNREAD:
            document = json.loads(decode_utf8(data))
    except json.JSONDecodeError as exc:
        reader = _json_reader(_first_document(exc.doc)) if exc.msg == "Extra data" else None
        if reader and reader.grouped:
            grouped.setdefault(reader, []).append(Path(path))  # OpenLineage's file transport appends: several events
        else:
            result.problem(name, f"not valid JSON: {exc.msg}", line=exc.lineno, col=exc.colno)
        return result
    except NotUtf8 as exc:
        result.problem(name, exc.message, line=exc.line, col=exc.col)
        return result
    except (ValueError, RecursionError) as exc:  # a number too long for Python, or nesting too deep for it
        result.problem(name, f"found JSON that cannot be read ({_reason(exc)}), expected a run export")
        return result
    reader = _json_reader(document)
    if reader is None:
        *others, last = [reader.name for reader in RUN_READERS if reader.json]
        result.problem(name, f"found JSON of an unknown kind; expected {', '.join(others)}, or {last}")
    elif reader.grouped:
        grouped.setdefault(reader, []).append(Path(path))
    elif reader.read is _read_export:
        return _read_export(path, name=name, document=document)
    else:
        return reader.read(Path(path), relative_to=root, document=document)
    return result


def _json_reader(document: Any) -> RunReader | None:
    return next((reader for reader in RUN_READERS if reader.json and reader.json(document)), None)


def _first_document(text: str) -> object:
    try:
        return json.JSONDecoder().raw_decode(text.lstrip())[0]
    except json.JSONDecodeError:
        return None


def _reason(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "values nested too deeply"
    if isinstance(exc, KeyError):
        return f"missing key {exc.args[0]!r}"
    return str(exc)
