"""The joined catalog -> files other tools read: a Hugging Face README, a CycloneDX ML-BOM, an SPDX 3 AI
document, and the catalog as JSON.

One module per format, each a pure function of the catalog (the same joined, masked catalog the site is built
from, so a filter that drops what an audience may not see can run before it) and of the "as of" day; one entry
per format in ``FORMATS``. The libraries of the CycloneDX and SPDX formats are optional extras, imported only
when their format is asked for.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import DISTRIBUTION
from ..errors import EnvironmentProblem

if TYPE_CHECKING:  # the CLI reads FORMATS for its --format choices: no card schema loaded for --help
    from ..catalog import Catalog


@dataclass(frozen=True)
class ExportFormat:
    name: str  # as typed after --format
    label: str  # what the user gets, in messages and on model pages
    module: str  # the module of this package whose ``render`` makes it
    file: str  # where ``modelcards export`` writes it inside --out; ``{model}`` for one file per model
    site_file: str  # its name beside a model page; never ``.md``, which MkDocs would turn into a page
    download_as: str  # the name a browser saves it under
    extra: str | None = None  # the optional extra its library comes from
    library: str | None = None  # the module that extra provides
    # Of the dataset cards a model reads, whether it holds more than their names and titles: a preview makes a
    # format that does not again only when a name or title changed.
    holds_dataset_text: bool = True

    @property
    def per_model(self) -> bool:
        return "{model}" in self.file

    @property
    def is_json(self) -> bool:
        return self.file.endswith(".json")

    @property
    def install_line(self) -> str:
        return f"pip install '{DISTRIBUTION}[{self.extra}]'"


FORMATS: dict[str, ExportFormat] = {format.name: format for format in (
    ExportFormat("hf", "Hugging Face README.md", "hf", "{model}/README.md", "README.md.txt",
                 "README.md", holds_dataset_text=False),
    ExportFormat("cyclonedx", "CycloneDX 1.6 ML-BOM", "cyclonedx", "{model}.cdx.json", "{model}.cdx.json",
                 "{model}.cdx.json", extra="cyclonedx", library="cyclonedx"),
    ExportFormat("spdx", "SPDX 3.0.1 AI and Dataset document", "spdx", "{model}.spdx3.json", "{model}.spdx3.json",
                 "{model}.spdx3.json", extra="spdx", library="spdx_python_model"),
    ExportFormat("json", "catalog JSON", "catalog_json", "catalog.json", "{model}.catalog.json",
                 "{model}.catalog.json"),
)}


class MissingExtra(EnvironmentProblem):
    """An export's optional library is not installed; the message names the pip line that installs it."""


def require(format: ExportFormat) -> None:
    """Raise ``MissingExtra`` when ``format`` needs a library that is not installed."""
    if format.library is None:
        return
    try:
        importlib.import_module(format.library)
    except ImportError as exc:
        raise MissingExtra(f"the {format.name} export ({format.label}) needs the '{format.extra}' extra, "
                           f"which is not installed ({exc}); install it with: {format.install_line}") from None


def available(format: ExportFormat) -> bool:
    try:
        require(format)
    except MissingExtra:
        return False
    return True


def export_files(catalog: Catalog, format: ExportFormat, models: list[str], as_of: dt.date, *,
                 validated: bool = True, compact: bool = False) -> dict[str, str]:
    """The files of one format for ``models`` (names in ``catalog``), by their path inside the output folder.

    Per-model formats give one file per model; the JSON catalog is one file holding them all. A format module
    with a ``validate`` checks each file against its standard's schema unless ``validated`` is false. JSON is
    indented, for files kept in git and read in diffs, unless ``compact`` (the site's downloads).
    """
    require(format)
    module = importlib.import_module(f"{__name__}.{format.module}")
    options = {"compact": compact} if format.is_json else {}
    if format.per_model:
        files = {name: module.render(catalog, name, as_of, **options) for name in models}
        if validated and hasattr(module, "validate"):
            for name, text in files.items():
                module.validate(name, text)
        return {format.file.format(model=name): text for name, text in files.items()}
    return {format.file: module.render(catalog, models, as_of, **options)}


def json_text(data: object, *, compact: bool) -> str:
    """A JSON export's text, keys sorted for stable bytes: indented two spaces, or without any whitespace
    (a third of an indented file's bytes, on every model of a site)."""
    if compact:
        return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
