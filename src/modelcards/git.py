"""The real ``git`` command, run in one folder: how the audit trail and pinned runs read a repository."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

TIMEOUT = 600  # seconds; a log of a large history is one process, so it may take a while


class GitError(Exception):
    """git could not be run, or failed; the message gives git's own first line."""


class Git:
    def __init__(self, folder: Path, program: str | None = None):
        self.folder = folder
        self.program = program or shutil.which("git") or "git"

    @staticmethod
    def installed() -> bool:
        return shutil.which("git") is not None

    def run(self, *args: str, check: bool = True, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        """``git <args>`` with paths unquoted; with ``check``, a non-zero exit raises ``GitError``."""
        try:
            done = subprocess.run([self.program, "-c", "core.quotePath=false", *args], cwd=self.folder,
                                  input=stdin, capture_output=True, timeout=TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise GitError(f"`git {args[0]}` failed: {exc}") from None
        if check and done.returncode != 0:
            raise GitError(f"`git {args[0]}` failed: {first_line(done.stderr)}")
        return done

    def cat_files(self, names: list[str]) -> dict[str, bytes | None]:
        """The bytes of each blob (an object id or ``<rev>:<path>``) in one process; None for a missing one."""
        out = self.run("cat-file", "--batch", stdin="".join(f"{name}\n" for name in names).encode()).stdout
        found: dict[str, bytes | None] = {}
        offset = 0
        for name in names:
            header_end = out.index(b"\n", offset)
            header = out[offset:header_end].split()
            if header[-1] == b"missing" or len(header) < 3:
                found[name] = None
                offset = header_end + 1
                continue
            size = int(header[2])
            found[name] = out[header_end + 1: header_end + 1 + size] if header[1] == b"blob" else None
            offset = header_end + 1 + size + 1
        return found


def first_line(stderr: bytes) -> str:
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[0] if lines else "no message"
