"""Card versions + run records -> versions filled in from the runs that produced them.

A version that names its run (``run: mlflow:<id>``) gets the run's params,
metrics, data digests and commit wherever the card leaves them out. Where the
card states a value and the run disagrees, the card's value stays and the
disagreement is kept, shown on the page and reported as a warning: a card is
never silently overridden.

A version pinned to a DVC stage at a git revision (``run: dvc:train@4be1f0c``)
keeps that record, read from git or from a ``modelcards pull dvc`` snapshot, and
its ``run`` becomes the record's full ref (``dvc:train@<full sha>``). When the
stage in today's ``dvc.lock`` says otherwise, that is a warning at the card line.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from typing import Any

from .cards.loader import LoadedCard
from .cards.schema import CodeRef, DatasetCard, DataRef, ModelCard, Version
from .cards.yaml_source import KeyPath
from .errors import Problem
from .sources.pinning import REV_TAG, PinnedRuns, Snapshots, run_changes, split_pin
from .sources.record import SOURCES, DatasetRef, RunRecord

ROLES = ("training", "evaluation", "validation")


@dataclass(frozen=True)
class Disagreement:
    field: str  # e.g. "params.max_depth", "metrics.roc_auc", "code.commit", "data.wine-cultivars.digest"
    card_value: Any
    run_value: Any


@dataclass
class RunLink:
    """The run behind one model version, and how the two compare."""

    run: RunRecord
    filled: set[str] = field(default_factory=set)  # fields taken from the run, named like Disagreement.field
    disagreements: list[Disagreement] = field(default_factory=list)

    def disagreement(self, name: str) -> Disagreement | None:
        return next((d for d in self.disagreements if d.field == name), None)


@dataclass
class LinkedCards:
    cards: list[LoadedCard]  # model cards with their versions filled in from runs
    links: dict[tuple[str, str], RunLink]  # by (model name, version label)
    problems: list[Problem]
    pinned_runs: dict[str, RunRecord] = field(default_factory=dict)  # read at a git revision for a pin, by ref


# A card's linking as a preview keeps it, by card path: (what it was made from, (the card filled in, its links,
# its problems)).
LinkedBefore = dict[str, tuple[tuple, tuple[LoadedCard, dict[tuple[str, str], RunLink], list[Problem]]]]


def link_runs(loaded: list[LoadedCard], runs: dict[str, RunRecord], pins: PinnedRuns | None = None,
              before: LinkedBefore | None = None) -> LinkedCards:
    """Fill every version that names a run; unknown runs are errors, disagreements warnings.

    ``pins`` finds the ``dvc:<stage>@<rev>`` runs that no loaded export has, by reading git.
    ``before``: a preview's, kept from its previous call: a card linked from the same card and runs (the same
    objects, which the preview keeps while their files are unchanged) and dataset cards is not linked again.
    A card pinning a git revision that no loaded snapshot resolves always is: what the revision holds is read
    from git each time. It is left holding this call's cards only.
    """
    digests = _dataset_digests([item.card for item in loaded if isinstance(item.card, DatasetCard)])
    names = {item.card.name for item in loaded if isinstance(item.card, DatasetCard)}
    result = LinkedCards([], {}, [])
    # Each pin as written, resolved once: a thousand cards pinning the same stage and revision would otherwise
    # each search every loaded run.
    pins_found: dict[str, RunRecord | str] = {}
    kept: LinkedBefore = {}
    snapshots: Snapshots | None = None  # made when a card pins a revision
    for item in loaded:
        card = item.card
        if not isinstance(card, ModelCard) or not any(v.run for v in card.versions):
            result.cards.append(item)
            continue
        key = (item, runs, digests, names)
        pinned = [v.run for v in card.versions if v.run and split_pin(v.run)]
        if before is not None and pinned and snapshots is None:
            snapshots = Snapshots(runs)
        keepable = before is not None and all(snapshots.resolve(ref) for ref in pinned)
        found_before = before.get(item.path) if keepable else None
        if found_before is not None and found_before[0] == key:
            linked, links, problems = found_before[1]
            result.cards.append(linked)
            result.links.update(links)
            result.problems.extend(problems)
            kept[item.path] = found_before
            continue
        problems_before = len(result.problems)
        metric_names = {m.name for m in card.metrics}
        versions = []
        for index, version in enumerate(card.versions):
            if not version.run:
                versions.append(version)
                continue
            key_path: KeyPath = ("versions", index)
            record = _find_run(version.run, runs, item, key_path + ("run",), result, pins, pins_found)
            if record is None:
                versions.append(version)
                continue
            _warn_if_moved(version.run, record, runs, item, key_path + ("run",), result.problems)
            link = RunLink(record)
            filled = _fill_version(version, record, link, metric_names, digests, names)
            if record.ref != version.run:  # a pin by short sha names the record by its full one
                filled = filled.model_copy(update={"run": record.ref})
            for d in link.disagreements:
                result.problems.append(item.document.problem(
                    key_path + _card_key_path(d.field, version), severity="warning",
                    message=f"the card says {_shown(d.card_value)}, run {record.ref} says {_shown(d.run_value)}; "
                    "the card's value is shown, flagged"))
            result.links[(card.name, version.version)] = link
            versions.append(filled)
        result.cards.append(dataclasses.replace(item, card=card.model_copy(update={"versions": versions})))
        if keepable:
            links = {(card.name, v.version): result.links[(card.name, v.version)] for v in card.versions
                     if (card.name, v.version) in result.links}
            kept[item.path] = (key, (result.cards[-1], links, result.problems[problems_before:]))
    if before is not None:
        before.clear()
        before.update(kept)
    return result


def _find_run(ref: str, runs: dict[str, RunRecord], item: LoadedCard, key_path: KeyPath,
              result: LinkedCards, pins: PinnedRuns | None, pins_found: dict[str, RunRecord | str]) -> RunRecord | None:
    problems = result.problems
    if ref in runs:
        return runs[ref]
    if ref in result.pinned_runs:
        return result.pinned_runs[ref]
    if pins is not None and split_pin(ref):
        if ref not in pins_found:
            pins_found[ref] = pins.find(ref, {**runs, **result.pinned_runs})
        found = pins_found[ref]
        if isinstance(found, str):
            problems.append(item.document.problem(key_path, found))
            return None
        result.pinned_runs.setdefault(found.ref, found)
        return found
    source = ref.split(":", 1)[0]
    if ":" not in ref or source not in SOURCES:
        message = f"found '{ref}', expected <source>:<run id> with source one of {', '.join(SOURCES)}"
    elif not runs:
        message = (f"found run '{ref}', but no runs were read; list run exports under the plugin's 'runs' "
                   "option in mkdocs.yml")
    else:
        close = difflib.get_close_matches(ref, list(runs), n=3, cutoff=0.5)
        hint = f"; closest known: {', '.join(close)}" if close else f"; {len(runs)} runs are known, none close"
        message = f"found run '{ref}', which no run source has{hint}"
    problems.append(item.document.problem(key_path, message))
    return None


def _warn_if_moved(ref: str, pinned: RunRecord, runs: dict[str, RunRecord], item: LoadedCard, key_path: KeyPath,
                   problems: list[Problem]) -> None:
    """A pinned stage that today's dvc.lock records otherwise: the version keeps its record, the build says so."""
    rev = pinned.tags.get(REV_TAG)
    now = runs.get(pinned.ref.removesuffix(f"@{rev}")) if rev and pinned.source == "dvc" else None
    if now is None or not now.floating:
        return
    changes = run_changes(pinned, now)
    if changes:
        where = now.origin.path if now.origin else "its source"
        problems.append(item.document.problem(key_path, severity="warning", message=(
            f"{ref} differs from {now.ref} in {where} now: {', '.join(changes)}; the version keeps the pinned record")))


def _fill_version(version: Version, run: RunRecord, link: RunLink, metric_names: set[str],
                  digests: dict[str, tuple[str, str]], dataset_names: set[str]) -> Version:
    params = dict(version.params)
    for key, value in run.params.items():
        if key not in params:
            params[key] = value
            link.filled.add(f"params.{key}")
        elif not _same_param(params[key], value):
            link.disagreements.append(Disagreement(f"params.{key}", params[key], value))

    metrics = dict(version.metrics)
    for key, series in run.metrics.items():
        if metric_names and key not in metric_names:
            continue  # only the metrics the card declares; the run page shows the rest
        if key not in metrics:
            metrics[key] = series.last
            link.filled.add(f"metrics.{key}")
        elif not _same_metric(metrics[key], series.last):
            link.disagreements.append(Disagreement(f"metrics.{key}", metrics[key], series.last))

    return version.model_copy(update={
        "params": params,
        "metrics": metrics,
        "data": _fill_data(version.data, run.inputs, link, digests, dataset_names),
        "code": _fill_code(version.code, run, link),
    })


def _fill_data(refs: list[DataRef], inputs: tuple[DatasetRef, ...], link: RunLink,
               digests: dict[str, tuple[str, str]], dataset_names: set[str]) -> list[DataRef]:
    """Match run inputs to dataset cards by digest, else by name; fill or compare digests."""
    refs = list(refs)
    for data in inputs:
        dataset, version = digests.get(data.digest, (None, None)) if data.digest else (None, None)
        if dataset is None and data.name in dataset_names:
            dataset = data.name
        if dataset is None:
            continue  # a run input no dataset card describes: shown on the run page only
        index = next((i for i, ref in enumerate(refs) if ref.dataset == dataset), None)
        if index is None:
            role = data.context if data.context in ROLES else "training" if data.context is None else "other"
            refs.append(DataRef(dataset=dataset, version=version, digest=data.digest, role=role))
            link.filled.add(f"data.{dataset}")
            continue
        ref, update = refs[index], {}
        if data.digest and ref.digest and _same_kind(data.digest, ref.digest) and data.digest != ref.digest:
            link.disagreements.append(Disagreement(f"data.{dataset}.digest", ref.digest, data.digest))
        elif data.digest and not ref.digest:
            update["digest"] = data.digest
            link.filled.add(f"data.{dataset}.digest")
        if version and not ref.version and not link.disagreement(f"data.{dataset}.digest"):
            update["version"] = version
            link.filled.add(f"data.{dataset}.version")
        if update:
            refs[index] = ref.model_copy(update=update)
    return refs


def _fill_code(code: CodeRef | None, run: RunRecord, link: RunLink) -> CodeRef | None:
    if run.code is None:
        return code
    values = {"repo": code.repo if code else None, "commit": code.commit if code else None,
              "path": code.path if code else None}
    for key, run_value in (("repo", run.code.repo), ("commit", run.code.commit), ("path", run.code.entry_point)):
        if run_value is None:
            continue
        if values[key] is None:
            values[key] = run_value
            link.filled.add(f"code.{key}")
        elif key == "commit" and not _same_commit(values[key], run_value):
            link.disagreements.append(Disagreement("code.commit", values[key], run_value))
    return CodeRef(**values) if any(values.values()) else None


def _dataset_digests(cards: list[DatasetCard]) -> dict[str, tuple[str, str]]:
    """Digest -> (dataset name, version label), from the dataset cards' versions."""
    return {v.digest: (card.name, v.version) for card in cards for v in card.versions if v.digest}


def _same_kind(a: str, b: str) -> bool:
    """Digests compare only when made the same way: MLflow's 8-character dataset hash is not an md5."""
    algo_a, _, value_a = a.rpartition(":")
    algo_b, _, value_b = b.rpartition(":")
    if algo_a and algo_b and algo_a.lower() != algo_b.lower():
        return False
    return len(value_a) == len(value_b)


def _same_param(card_value: Any, run_value: str) -> bool:
    """Trackers store params as text: compare ``200`` with ``"200"`` and ``True`` with ``"true"``."""
    if isinstance(card_value, bool):
        return run_value.strip().lower() == str(card_value).lower()
    if isinstance(card_value, (int, float)):
        try:
            return float(run_value) == float(card_value)
        except ValueError:
            return False
    return str(card_value) == run_value


def _same_metric(card_value: float, run_value: float) -> bool:
    """Equal at the precision the card was written with: 0.9934 agrees with 0.99342."""
    text = repr(float(card_value))
    decimals = len(text.split(".")[1]) if "." in text and "e" not in text else 12
    return round(run_value, decimals) == round(card_value, decimals)


def _same_commit(card_value: str, run_value: str) -> bool:
    """An abbreviated commit agrees with the full one."""
    short, full = sorted((card_value.lower(), run_value.lower()), key=len)
    return len(short) >= 7 and full.startswith(short)


def _card_key_path(name: str, version: Version) -> KeyPath:
    """Where in the version a disagreement's card value was written."""
    section, _, rest = name.partition(".")
    if section == "data":
        dataset, _, key = rest.rpartition(".")
        index = next(i for i, ref in enumerate(version.data) if ref.dataset == dataset)
        return ("data", index, key)
    return (section, rest)


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)
