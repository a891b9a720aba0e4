"""Writing cache files that other builds may be reading at the same time, and keying them by the code that
made them."""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path


def write_atomic(path: Path, content: bytes) -> None:
    """Write ``content`` to a temporary file beside ``path``, then move it into place.

    A reader sees the old file, no file or the whole new one; never half of it. Two writers of the same
    content (two builds filling one cache) both succeed.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def code_fingerprint(*module_names: str) -> bytes:
    """A digest of the source files of the named (imported) modules: a new release, or an edit to the code that
    made a cache's entries, makes them again."""
    digest = hashlib.sha256()
    for name in module_names:
        digest.update(Path(sys.modules[name].__file__).read_bytes())
    return digest.digest()
