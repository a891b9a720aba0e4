"""Explanations kept on disk between builds, keyed by what they were computed from.

Computed explanations are keyed by the model and data bytes, the settings and the SHAP version; embedded
ones by the bytes of the files they read and the card's settings, so a rebuild reads neither table again
(nor imports pandas to parse them).

An entry is ``<key>.json`` (every field but the arrays) and, for each array it has (SHAP values, feature values),
``<key>.<name>.npy`` read with ``allow_pickle=False``: nothing in the cache can run code. Files are written to a temporary name in the same
directory and moved into place with ``os.replace``, so concurrent builds never see half an entry. Neither
looking a key up nor reading an entry imports SHAP.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.metadata
import io
import json
from pathlib import Path
from typing import Any

from modelcards.cache_upkeep import mark_used
from modelcards.errors import ExplainError
from modelcards.explain.compute import (
    ExplainInputs,
    Explanation,
    ExplainSettings,
    Importance,
    explain,
    inside_root,
    read_file,
)
from modelcards.explain.embed import EmbedSettings
from modelcards.files import write_atomic

# Fields stored as .npy beside the JSON.
ARRAYS = ("values", "data")
# Bump when the stored layout or the computation changes, so old entries are recomputed
# (3: a background over 100 rows is used whole; SHAP used to cut it to 100).
CACHE_FORMAT = 3


@functools.cache  # asked once per explained version; reading package metadata costs milliseconds each time
def installed_shap_version() -> str:
    """The installed SHAP version, read from package metadata without importing SHAP."""
    return importlib.metadata.version("shap")


def cache_key(settings: ExplainSettings, model_bytes_sha: str, data_bytes_sha: str, shap_version: str) -> str:
    """sha256 of the settings (without paths: the file hashes stand for them), hashes and SHAP version."""
    fields = {k: v for k, v in dataclasses.asdict(settings).items() if k not in ("model_path", "data_path")}
    if fields["features"] is not None:
        fields["features"] = list(fields["features"])
    canonical = json.dumps(
        {
            "format": CACHE_FORMAT,
            "settings": fields,
            "model_sha256": model_bytes_sha,
            "data_sha256": data_bytes_sha,
            "shap_version": shap_version,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def embed_cache_key(settings: EmbedSettings, project_root: Path) -> str | None:
    """sha256 of the embedded explanation's settings (without paths) and the bytes and kinds of the files it
    reads; None when it reads no file (an ``importance`` written in the card) or a file cannot be read, so
    that embedding it reports the problem as it would without a cache."""
    files = {name: getattr(settings, name) for name in ("values_path", "summary_path", "data_path")}
    if not any(files.values()):
        return None
    root = project_root.resolve()
    read: dict[str, list[str] | None] = {}
    try:
        for name, path in files.items():
            content = read_file(inside_root(path, root), root) if path is not None else None
            read[name] = None if content is None else [path.suffix.lower(), hashlib.sha256(content).hexdigest()]
    except ExplainError:
        return None
    fields = {k: v for k, v in dataclasses.asdict(settings).items() if k not in files}
    canonical = json.dumps({"format": CACHE_FORMAT, "mode": "embed", "settings": fields, "files": read},
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class ExplanationCache:
    """A directory of explanations; ``get`` returns None for unknown or unreadable entries."""

    def __init__(self, directory: Path):
        self.directory = directory

    @staticmethod
    def key(settings: ExplainSettings, inputs: ExplainInputs) -> str:
        return cache_key(settings, inputs.model_sha256, inputs.data_sha256, installed_shap_version())

    def lookup(self, settings: ExplainSettings, inputs: ExplainInputs) -> Explanation | None:
        """The stored explanation of these inputs, or None; never imports SHAP."""
        return self.get(self.key(settings, inputs))

    def explain(self, settings: ExplainSettings, inputs: ExplainInputs, *, project_root: Path) -> Explanation:
        """The stored explanation of these inputs, else one computed from them and stored."""
        key = self.key(settings, inputs)
        explanation = self.get(key)
        if explanation is None:
            explanation = explain(settings, project_root=project_root, inputs=inputs)
            self.put(key, explanation)
        return explanation

    def store(self, settings: ExplainSettings, inputs: ExplainInputs, explanation: Explanation) -> None:
        """Keep ``explanation``, computed elsewhere (another process or machine) from these inputs."""
        self.put(self.key(settings, inputs), explanation)

    def get(self, key: str) -> Explanation | None:
        try:
            stored = json.loads((self.directory / f"{key}.json").read_text(encoding="utf-8"))
            if stored.pop("format") != CACHE_FORMAT:
                return None
            arrays = {}
            for name in stored.pop("arrays"):
                import numpy as np

                arrays[name] = np.load(self.directory / f"{key}.{name}.npy", allow_pickle=False)
            explanation = Explanation(
                outputs={
                    label: [Importance(**item) for item in items] for label, items in stored.pop("outputs").items()
                },
                features=tuple(stored.pop("features")),
                **arrays,
                **stored,
            )
            for used in (f"{key}.json", *(f"{key}.{name}.npy" for name in arrays)):
                mark_used(self.directory / used)
            return explanation
        except (OSError, ValueError, KeyError, TypeError):
            # A missing, partial or foreign entry is simply recomputed.
            return None

    def put(self, key: str, explanation: Explanation) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        record: dict[str, Any] = {
            field.name: getattr(explanation, field.name)
            for field in dataclasses.fields(explanation)
            if field.name not in ("outputs", "features", *ARRAYS)
        }
        record["format"] = CACHE_FORMAT
        record["features"] = list(explanation.features)
        record["outputs"] = {
            label: [dataclasses.asdict(item) for item in items] for label, items in explanation.outputs.items()
        }
        record["arrays"] = [name for name in ARRAYS if getattr(explanation, name) is not None]
        # The arrays go first: a reader that finds the JSON also finds its arrays.
        for name in record["arrays"]:
            import numpy as np

            array = getattr(explanation, name)
            buffer = io.BytesIO()
            np.save(buffer, array, allow_pickle=False)
            write_atomic(self.directory / f"{key}.{name}.npy", buffer.getvalue())
        text = json.dumps(record, sort_keys=True, indent=1)
        write_atomic(self.directory / f"{key}.json", text.encode("utf-8"))
