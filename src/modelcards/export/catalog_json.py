"""The joined catalog -> ``catalog.json``: every model and dataset card as validated (versions filled in from
their runs), which dataset versions each model version used, and a summary of each run, for other tools.

Its JSON Schema comes from the classes below, which reuse the card classes, so it is declared once;
``docs/reference/catalog.schema.json`` is generated from it (``scripts/generate_reference.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..catalog import Catalog
from ..cards.schema import DatasetCard, ModelCard
from ..sources.record import RunRecord
from . import json_text

FORMAT = "modelcards-catalog/1"


class _Exported(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExportedModel(_Exported):
    name: str = Field(description="The model's name, unique in the catalog.")
    source: str = Field(description="The card file, relative to the project folder.")
    runs: dict[str, str] = Field(description="The run behind each version, by version label: `mlflow:<run id>` "
                                             "and the like.")
    card: ModelCard = Field(description="The card as validated, with versions filled in from their runs.")


class DatasetUse(_Exported):
    model: str
    model_version: str | None = Field(None, description="None: named in the card's data sections, not by a version.")
    dataset_version: str | None = None
    digest: str | None = None
    role: str = Field(description="training, evaluation, validation or other.")


class ExportedDataset(_Exported):
    name: str
    source: str | None = Field(None, description="The card file; None for a dataset a model names without a card.")
    card: DatasetCard | None = None
    used_by: list[DatasetUse] = Field(description="Every model (version) that read it.")


class RunData(_Exported):
    name: str
    namespace: str | None = None
    digest: str | None = None
    version: str | None = None


class RunOutput(_Exported):
    kind: str = Field(description="model, artifact or dataset.")
    name: str
    uri: str | None = None
    version: str | None = None
    registered_name: str | None = None


class RunCode(_Exported):
    repo: str | None = None
    commit: str | None = None
    entry_point: str | None = None


class ExportedRun(_Exported):
    ref: str = Field(description="How a card names it: `mlflow:<run id>`, `dvc:<stage>`, `openlineage:<runId>`.")
    source: str
    id: str
    experiment: str | None = None
    name: str | None = None
    status: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    user: str | None = None
    params: dict[str, str]
    metrics: dict[str, float] = Field(description="Each metric's last value; histories stay on the site.")
    inputs: list[RunData]
    outputs: list[RunOutput]
    code: RunCode | None = None
    produced: list[list[str]] = Field(description="The `[model, version]` pairs it produced.")


class CatalogExport(_Exported):
    format: Literal["modelcards-catalog/1"] = Field(description="This format and its version.")
    as_of: dt.date = Field(description="The day it describes: SOURCE_DATE_EPOCH's, or the day it was made.")
    models: list[ExportedModel]
    datasets: list[ExportedDataset]
    runs: list[ExportedRun] = Field(description="The runs behind the models' versions. Secret-looking values "
                                                "are masked, as on the site.")


def render(catalog: Catalog, models: list[str], as_of: dt.date, *, compact: bool = False) -> str:
    """``models`` with the datasets they use and the runs behind their versions; keys sorted, for stable bytes."""
    export = catalog_export(catalog, models, as_of)
    if compact:
        return _with_cards_put_in(catalog, export)
    # exclude_none: an unset field is left out, as a card leaves it out (the card schema has no nulls).
    return json_text(export.model_dump(mode="json", exclude_none=True), compact=False)


def _with_cards_put_in(catalog: Catalog, export: CatalogExport) -> str:
    """The compact text, with each card's JSON made once per card (``card_json``) and put in as it is.

    Each model's download holds its own card and the dataset cards it reads: encoding them again in every
    download was most of its cost, and a preview keeps an unchanged card's JSON from one save to the next.
    Each card's place is held by a marker string while the rest is encoded; the bytes are those of encoding
    the whole (``tests/test_export.py`` compares them)."""
    no_cards = {"__all__": {"card"}}
    data = export.model_dump(mode="json", exclude_none=True, exclude={"models": no_cards, "datasets": no_cards})
    cards: dict[str, str] = {}
    for kind, entries in (("models", catalog.models), ("datasets", catalog.datasets)):
        for position, exported in enumerate(getattr(export, kind)):
            if exported.card is not None:
                placeholder = f"\x00card {kind} {position}"  # a string no card holds: checked below
                data[kind][position]["card"] = placeholder
                cards[json.dumps(placeholder)] = entries[exported.name].card_json  # by its encoded form
    text = json_text(data, compact=True)
    if any(text.count(marker) != 1 for marker in cards):  # a run's value is a placeholder: encode the whole
        return json_text(export.model_dump(mode="json", exclude_none=True), compact=True)
    # One pass, which does not look again inside a card put in: a card's own text may hold a marker.
    return re.sub("|".join(map(re.escape, cards)), lambda found: cards[found.group(0)], text) if cards else text


def catalog_export(catalog: Catalog, models: list[str], as_of: dt.date) -> CatalogExport:
    chosen = [catalog.models[name] for name in sorted(models)]
    dataset_names = sorted({name for model in chosen for name in model.dataset_names()})
    run_refs = sorted({link.run.ref for model in chosen for link in model.run_links.values()})
    return CatalogExport(
        format=FORMAT, as_of=as_of,
        models=[ExportedModel(name=model.name, source=model.source.path, card=model.card,
                              runs={label: link.run.ref for label, link in sorted(model.run_links.items())})
                for model in chosen],
        datasets=[_dataset(catalog, name, set(models)) for name in dataset_names],
        runs=[_run(catalog.runs[ref].record, catalog.runs[ref].model_versions, set(models)) for ref in run_refs],
    )


def _dataset(catalog: Catalog, name: str, models: set[str]) -> ExportedDataset:
    entry = catalog.datasets[name]
    return ExportedDataset(name=name, source=entry.source.path if entry.source else None, card=entry.card,
                           used_by=[DatasetUse(model=use.model, model_version=use.model_version,
                                               dataset_version=use.dataset_version, digest=use.digest, role=use.role)
                                    for use in entry.uses_by(models)])


def _run(record: RunRecord, produced: list[tuple[str, str]], models: set[str]) -> ExportedRun:
    code = record.code
    return ExportedRun(
        ref=record.ref, source=record.source, id=record.id, experiment=record.experiment, name=record.name,
        status=record.status, start_time=record.start_time, end_time=record.end_time, user=record.user,
        params=dict(record.params), metrics={name: series.last for name, series in record.metrics.items()},
        inputs=[RunData(name=d.name, namespace=d.namespace, digest=d.digest, version=d.version)
                for d in record.inputs],
        outputs=[RunOutput(kind=o.kind, name=o.name, uri=o.uri, version=o.version, registered_name=o.registered_name)
                 for o in record.outputs],
        code=RunCode(repo=code.repo, commit=code.commit, entry_point=code.entry_point) if code else None,
        produced=[[model, version] for model, version in sorted(produced) if model in models],
    )


def json_schema() -> dict[str, Any]:
    """The JSON Schema of ``catalog.json``, published at ``docs/reference/catalog.schema.json``."""
    schema = CatalogExport.model_json_schema(ref_template="#/$defs/{model}")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://modelcards.dev/schema/catalog-v1.json",
        **schema,
        "title": "modelcards catalog.json, format modelcards-catalog/1",
        "$defs": dict(sorted(schema.get("$defs", {}).items())),
    }
