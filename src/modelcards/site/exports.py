"""A model's exports as files beside its page, for the page's Downloads line.

Made from the same catalog as the page, by the exporters ``modelcards export`` uses; a format whose optional
library is not installed is left out, without an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from ..catalog import Catalog
from ..export import FORMATS, available, export_files
from .paths import SitePaths


@dataclass(frozen=True)
class Download:
    label: str  # what the link says
    path: str  # the file inside the docs tree
    save_as: str  # the name the browser saves it under
    content: str


def model_downloads(catalog: Catalog, name: str, paths: SitePaths, as_of: dt.date,
                    formats: Collection[str]) -> list[Download]:
    """The model's downloads in ``formats`` (names in ``FORMATS``; the ``downloads`` setting), in the order of
    ``FORMATS``; those whose library is missing left out."""
    downloads = []
    for format in FORMATS.values():
        if format.name not in formats or not available(format):
            continue
        # Unvalidated: the schema check's grammars take seconds to load, and each BOM it checks costs more than
        # rendering it. `modelcards export` validates what it writes, and so do the tests, model by model.
        # Compact JSON: a download is read by tools, not in diffs, and indentation was a third of its bytes.
        [content] = export_files(catalog, format, [name], as_of, validated=False, compact=True).values()
        downloads.append(Download(format.label, paths.export_file(name, format.site_file.format(model=name)),
                                  format.download_as.format(model=name), content))
    return downloads
