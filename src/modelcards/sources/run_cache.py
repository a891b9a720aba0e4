"""Run exports read and masked by an earlier build, kept by each file's content: a build whose exports did not
change neither decodes nor masks them again.

Decoding an export and masking its secrets are most of what reading it costs. A cache keyed by a file's
modification time would not help CI, whose fresh checkout gives every file a new one; so each export is known by
the SHA-256 of its path (relative to the project, as its records' ``origin``) and its bytes, which the build reads
anyway. Each run source (an entry of the ``runs`` setting) has one pack in ``cache_dir/runs/``, named by the
SHA-256 of the entry, under a key of everything else that decides what a file gives: the pack's format, the
code that reads and masks exports, msgspec's version and the masker's own patterns (``secret_keys``,
``secret_values``). A pack of another key, foreign, truncated or corrupt (its entries carry a CRC-32) is ignored
and replaced.

An entry holds the masked record and where it was masked (never the values), so no secret is written here. A
metric history is not stored: the entry keeps where it lies in the export, whose bytes the build has in hand,
and the record gets the same ``LazyHistory`` of that text as a fresh read. Only exports that
``record.parse_export`` reads (as ``modelcards pull`` writes them) are kept; any other file, and a record whose
file name the masker had to mask, is read the ordinary way every time.

Packs are msgpack written by msgspec, atomically; without msgspec (the ``fast`` extra) there is no cache. A pack
is rewritten when one of its source's exports is new, changed or gone, and marked as used otherwise
(``cache_upkeep``), so pruning removes the packs of sources that are no longer read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import zlib
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from ..cache_upkeep import mark_used
from ..files import code_fingerprint, write_atomic
from .masking import MaskedValue, SecretMasker
from .record import LazyHistory, MetricSeries, Origin, RunRecord, lazy_history_type

# Bump when a pack's layout changes.
PACK_FORMAT = 1
FOLDER = "runs"  # under cache_dir (cache_upkeep.FOLDERS)
_NO_HISTORY = (-1, -1)


class RunCache:
    """One build's view of the packs: ``source(entry)`` for each run source read, ``mask`` once all are read."""

    def __init__(self, folder: Path, masker: SecretMasker) -> None:
        import msgspec

        self.folder = folder
        self.masker = masker
        self.types = _pack_types()
        self.decode = msgspec.json.decode  # a metric history's text, as parse_export's LazyHistory decodes it
        self.history = lazy_history_type()
        digest = hashlib.sha256(f"{PACK_FORMAT}\0{msgspec.__version__}\0".encode())
        digest.update(code_fingerprint(__name__, "modelcards.sources.record", "modelcards.sources.masking",
                                       "modelcards.sources.load"))
        digest.update(self.types.encode(masker.rules))
        self.key = digest.hexdigest()
        # Where each record given out as already masked was masked, by the record's id (records stay alive in
        # the build's list until ``mask`` has run). None found is (), which the garbage collector does not track.
        self.masked: dict[int, Sequence[MaskedValue]] = {}

    @classmethod
    def open(cls, cache_dir: Path | None, masker: SecretMasker) -> RunCache | None:
        """The cache under ``cache_dir``; None without a ``cache_dir`` or without msgspec."""
        if cache_dir is None:
            return None
        try:
            import msgspec  # noqa: F401
        except ImportError:
            return None
        return cls(cache_dir / FOLDER, masker)

    def source(self, entry: str) -> SourcePack:
        """The pack of one entry of the ``runs`` setting."""
        name = hashlib.sha256(entry.encode("utf-8", "surrogatepass")).hexdigest()
        return SourcePack(self, self.folder / f"{name}.pack")

    def mask(self, records: list[RunRecord]) -> tuple[list[RunRecord], list[MaskedValue]]:
        """``SecretMasker.mask`` of ``records``, those given out by a pack already masked: the same records and
        masked values, in the same order, as masking them all here."""
        result: list[RunRecord] = []
        masked: list[MaskedValue] = []
        known = self.masked
        for record in records:
            found = known.get(id(record))
            if found is None:
                [record], found = self.masker.mask([record])
            result.append(record)
            if found:
                masked += found
        return result, masked


class SourcePack:
    """The pack of one run source: ``read`` each export's bytes, then ``save``."""

    def __init__(self, cache: RunCache, path: Path) -> None:
        self.cache = cache
        self.path = path
        self.stored = self._load()  # what the pack holds, encoded; an entry is taken out when its export is read
        self.kept: dict[bytes, Any] = {}  # the encoded entries of this build's exports, in the order they were read
        self.changed = False

    def _load(self) -> dict[bytes, Any]:
        import msgspec

        try:
            with open(self.path, "rb") as file:
                content = file.read()
        except OSError:
            return {}
        types = self.cache.types
        try:
            pack = types.decode_pack(content)
            if pack.format != PACK_FORMAT or pack.key != self.cache.key or zlib.crc32(pack.entries) != pack.check:
                return {}
            return types.decode_entries(pack.entries)
        except (msgspec.DecodeError, RecursionError):  # truncated, corrupt, or not a pack (ValidationError too)
            return {}

    def read(self, name: str, data: bytes, parse: Callable[[bytes, Origin], RunRecord | None]) -> RunRecord | None:
        """The masked record of the export ``name`` (its path relative to the project) whose bytes are ``data``:
        from the pack, or from ``parse`` (``record.parse_export``), masked and kept. None when ``parse`` gives
        none: the caller reads the file another way."""
        digest = export_key(data, name)
        types = self.cache.types
        stored = self.stored.pop(digest, None)
        if stored is not None:
            try:
                record, histories, masked = types.decode_entry(stored)
            except (ValueError, RecursionError):  # msgspec's DecodeError or ValidationError
                record = None
            if record is not None and _finish(record, histories, data, self.cache.history, self.cache.decode):
                self.kept[digest] = stored
                self.cache.masked[id(record)] = [MaskedValue(record.ref, where, reason, name)
                                                for where, reason in masked] if masked else ()
                return record
            self.changed = True  # a damaged entry: the file is read and the entry written again
        record = parse(data, Origin(name))
        if record is None:
            return None
        [record], found = self.cache.masker.mask([record])
        self.cache.masked[id(record)] = found or ()
        entry = _entry(record, data, found)
        if entry is not None:
            try:
                self.kept[digest] = types.raw(types.encode(entry))
                self.changed = True
            except (TypeError, ValueError, OverflowError):  # a value msgspec cannot write: read the file each time
                pass
        return record

    def save(self) -> None:
        """Write the pack when this build's exports are not the ones it holds, else mark it used; then let go of
        its entries (the records live on without them)."""
        if self.changed or self.stored:
            types = self.cache.types
            entries = types.encode(self.kept)
            content = types.encode(types.Pack(PACK_FORMAT, self.cache.key, zlib.crc32(entries), types.raw(entries)))
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                write_atomic(self.path, content)
            except OSError:  # a read-only cache: the next build reads the exports again
                pass
        elif self.kept:
            mark_used(self.path)
        self.stored, self.kept = {}, {}


def export_key(data: bytes, name: str) -> bytes:
    """An export's key in its pack: the SHA-256 of its bytes and its path relative to the project. (Of the hashes
    in hashlib, SHA-1 and SHA-256 are the fast ones where the processor computes them: 5.0 and 5.5 microseconds
    for an 8 KB export, BLAKE2b 10 and MD5 12.)"""
    key = hashlib.sha256(data)
    key.update(b"\0" + name.encode("utf-8", "surrogatepass"))
    return key.digest()


def _entry(record: RunRecord, data: bytes, found: list[MaskedValue]) -> tuple | None:
    """What a pack keeps of a masked record: the record without its metric histories, where each history lies
    in ``data`` (the export's bytes), and where the record was masked. None for a record that cannot be made
    again from these, or whose origin, its file's name, was masked: the pack would hold that name."""
    if any(item.where.startswith("origin") for item in found):
        return None
    histories = []
    for metric in record.metrics.values():
        history = metric.history
        if isinstance(history, LazyHistory) and history.unparsed is not None:
            start = data.find(history.unparsed)  # the same text wherever it is found
            if start < 0:
                return None
            histories.append((start, start + len(history.unparsed)))
        elif history == ():
            histories.append(_NO_HISTORY)
        else:
            return None
    bare = dataclasses.replace(record, metrics={name: MetricSeries(metric.last)
                                                for name, metric in record.metrics.items()})
    return bare, histories, [(item.where, item.reason) for item in found]


def _finish(record: RunRecord, histories: list[tuple[int, int]], data: bytes, history: type[LazyHistory],
            decode: Callable[[bytes], Any]) -> bool:
    """Give a record decoded from a pack its metric histories, as ``parse_export`` makes them: each the text of the
    export's bytes ``data`` at its place (a ``history``, ``record.lazy_history_type()``), or ``()`` for none. False
    for places that cannot be right.

    msgspec makes a record in one call, several times faster than making it in Python, but knows a history only by
    its annotation (a sequence: it makes a list). Each metric is set here, once, before anything else sees it."""
    metrics = record.metrics.values()
    if len(histories) != len(metrics):
        return False
    size = len(data)
    for metric, (start, end) in zip(metrics, histories):
        if start < 0:
            _set_history(metric, ())
        elif start < end <= size and data[start] == _OPEN and data[end - 1] == _CLOSE:
            _set_history(metric, history(data, decode, start, end))
        else:
            return False
    return True


# The slot's own setter: a frozen dataclass's field set without its __setattr__ refusing it, or looking it up.
_set_history = MetricSeries.history.__set__  # type: ignore[attr-defined]
_OPEN, _CLOSE = ord("["), ord("]")


class _PackTypes(NamedTuple):
    Pack: type
    decode_pack: Callable[[bytes], Any]
    decode_entries: Callable[[Any], dict[bytes, Any]]  # each entry still encoded (msgspec.Raw)
    decode_entry: Callable[[Any], tuple[RunRecord, list[tuple[int, int]], tuple[tuple[str, str], ...]]]
    encode: Callable[[Any], bytes]
    raw: type  # msgspec.Raw: encoded bytes put into a message as they are


@lru_cache(maxsize=None)
def _pack_types() -> _PackTypes:
    """msgspec's encoder and decoders of a pack: a header, then the entries by key (read only when the header is
    this build's), each decoded when its export is read: a record, the places of its metric histories and where
    it was masked. An entry stays encoded until then, so a pack is written again without encoding what it kept."""
    import msgspec

    entry = tuple[RunRecord, list[tuple[int, int]], tuple[tuple[str, str], ...]]
    pack = msgspec.defstruct("RunPack", [("format", int), ("key", str), ("check", int), ("entries", msgspec.Raw)],
                             array_like=True)
    return _PackTypes(pack, msgspec.msgpack.Decoder(pack).decode,
                      msgspec.msgpack.Decoder(dict[bytes, msgspec.Raw]).decode,
                      msgspec.msgpack.Decoder(entry).decode, msgspec.msgpack.Encoder().encode, msgspec.Raw)
