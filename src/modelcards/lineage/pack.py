"""A build's drawn diagrams kept in one file, so that a rebuild of an unchanged project makes none of them.

Making a thousand model diagrams again costs far more than reading them back: the subgraphs, the DOT text and
the links of seventeen thousand boxes, even when every SVG is already cached. So the diagrams of a build (their
DOT sources, their SVGs and whatever the caller needs beside them) are written together into one pack, under a
key the caller computes from everything they are made of: the whole lineage graph (``graph.graph_fingerprint``),
the settings that shape them and the code that draws them (``files.code_fingerprint``). A rebuild with the same key
maps the pack and decodes each text only when it is used; any other key makes every diagram again, through
``render.render_svgs``, whose per-SVG cache still keeps ``dot`` to the diagrams whose DOT text changed.

The pack is a JSON header line (the key, the caller's data, the size of each text in bytes) followed by the
texts in UTF-8, written atomically. A pack that is partial, foreign or of another key is ignored and replaced.
"""

from __future__ import annotations

import json
import mmap
from pathlib import Path
from typing import Any, Sequence

from modelcards.files import write_atomic
from modelcards.memory import collector_paused

PACK_FORMAT = 1


class StoredText:
    """One text of a pack, decoded from the mapped file each time it is turned into a string: the parent process
    of a build holds a thousand SVGs without decoding them, and the pages' worker processes decode their own."""

    __slots__ = ("_content", "_key", "_start", "_end")

    def __init__(self, content: mmap.mmap, key: str, start: int, end: int):
        self._content, self._key, self._start, self._end = content, key, start, end

    def __str__(self) -> str:
        with memoryview(self._content) as view:
            return str(view[self._start:self._end], "utf-8", "replace")

    # Texts at the same place of packs with the same key are the same text.
    def __eq__(self, other: object) -> bool:
        return isinstance(other, StoredText) and (self._key, self._start, self._end) == (
            other._key, other._start, other._end)

    def __hash__(self) -> int:
        return hash((self._key, self._start, self._end))

    def __reduce__(self):  # sent to another process as the string: a map does not travel
        return str, (str(self),)


def read_pack(path: Path, key: str) -> tuple[Any, list[StoredText]] | None:
    """The caller's data and texts stored under ``key`` at ``path``; None when there is no such pack."""
    try:
        with open(path, "rb") as file:
            # Mapped, not read: a text is decoded from the file's pages only when it is used. Packs are replaced,
            # never written in place, so the mapped file keeps its content while this build reads it.
            content = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # missing, or empty (which mmap refuses)
        return None
    end = content.find(b"\n")
    try:
        with collector_paused():  # tens of thousands of edge labels, freed by reference counting
            header = json.loads(content[:end]) if end > 0 else None
    except ValueError:  # truncated, or not ours (a JSON error is a ValueError)
        return None
    if not isinstance(header, dict) or header.get("format") != PACK_FORMAT or header.get("key") != key:
        return None
    sizes = header.get("sizes")
    if (not isinstance(sizes, list) or not all(isinstance(size, int) and size >= 0 for size in sizes)
            or end + 1 + sum(sizes) != len(content)):
        return None
    texts, start = [], end + 1
    for size in sizes:
        texts.append(StoredText(content, key, start, start + size))
        start += size
    return header.get("data"), texts


def write_pack(path: Path, key: str, data: Any, texts: Sequence[str]) -> None:
    """Store ``data`` (JSON) and ``texts`` under ``key`` at ``path``, replacing what was there."""
    encoded = [text.encode("utf-8") for text in texts]
    header = json.dumps({"format": PACK_FORMAT, "key": key, "sizes": [len(text) for text in encoded], "data": data},
                        ensure_ascii=False, separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, b"".join([header.encode("utf-8"), b"\n", *encoded]))
