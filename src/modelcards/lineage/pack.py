"""A build's drawn diagrams kept in one file, so that a rebuild of an unchanged project makes none of them.

Making a thousand model diagrams again costs far more than reading them back: the subgraphs, the DOT text and
the links of seventeen thousand boxes, even when every SVG is already cached. So the diagrams of a build (their
DOT sources, their SVGs and whatever the caller needs beside them) are written together into one pack, under a
key the caller computes from everything they are made of: the whole lineage graph (``graph.graph_fingerprint``),
the settings that shape them and the code that draws them (``code_fingerprint``). A rebuild with the same key
reads the pack back in one go; any other key draws every diagram again, through ``render.render_svgs``, whose
per-SVG cache still keeps ``dot`` to the diagrams that changed.

The pack is a JSON header line (the key, the caller's data, the size of each text in bytes) followed by the
texts in UTF-8, written atomically. A pack that is partial, foreign or of another key is ignored and replaced.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import sys
from pathlib import Path
from typing import Any, Sequence

from modelcards.files import write_atomic
from modelcards.memory import collector_paused

PACK_FORMAT = 1


def code_fingerprint(*module_names: str) -> bytes:
    """A digest of the source files of the named (imported) modules: a new release, or an edit to the code that
    writes the diagrams, draws them all again."""
    digest = hashlib.sha256()
    for name in module_names:
        digest.update(Path(sys.modules[name].__file__).read_bytes())
    return digest.digest()


def read_pack(path: Path, key: str) -> tuple[Any, list[str]] | None:
    """The caller's data and texts stored under ``key`` at ``path``; None when there is no such pack."""
    try:
        with open(path, "rb") as file:
            # Mapped, not read: each text is decoded straight from the file's pages, with no copy of the whole.
            content = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):  # missing, or empty (which mmap refuses)
        return None
    with content:
        try:
            end = content.find(b"\n")
            with collector_paused():  # tens of thousands of edge labels, freed by reference counting
                header = json.loads(content[:end])
        except ValueError:  # truncated, or not ours (a JSON error is a ValueError)
            return None
        if not isinstance(header, dict) or header.get("format") != PACK_FORMAT or header.get("key") != key:
            return None
        sizes = header.get("sizes")
        if not isinstance(sizes, list) or end + 1 + sum(sizes) != len(content):
            return None
        view, texts, start = memoryview(content), [], end + 1
        try:
            for size in sizes:
                texts.append(str(view[start:start + size], "utf-8"))
                start += size
        except UnicodeDecodeError:
            return None
        finally:
            view.release()  # the map closes only once nothing views it
    return header.get("data"), texts


def write_pack(path: Path, key: str, data: Any, texts: Sequence[str]) -> None:
    """Store ``data`` (JSON) and ``texts`` under ``key`` at ``path``, replacing what was there."""
    encoded = [text.encode("utf-8") for text in texts]
    header = json.dumps({"format": PACK_FORMAT, "key": key, "sizes": [len(text) for text in encoded], "data": data},
                        ensure_ascii=False, separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, b"".join([header.encode("utf-8"), b"\n", *encoded]))
