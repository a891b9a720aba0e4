"""Paths of generated pages and files named after user-chosen labels (run ids, versions, class labels).

No Jinja here: the lineage graph needs page paths without rendering anything."""

from __future__ import annotations

import hashlib
import re


def file_name(label: str, limit: int = 80) -> str:
    """``label`` when it is file-name safe; otherwise a safe form with a hash suffix, so two never collide."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", label).strip(".") or "_"
    if safe != label:
        safe = f"{safe[:limit]}-{hashlib.sha1(label.encode()).hexdigest()[:8]}"
    return safe


def run_page(ref: str) -> str:
    """``mlflow:<id>`` -> ``runs/mlflow/<id>.md``; ids that are not file-name safe get a hash suffix."""
    source, _, run_id = ref.partition(":")
    return f"runs/{source}/{file_name(run_id)}.md"
