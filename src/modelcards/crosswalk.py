"""The regulatory crosswalk: where a model's card answers each point of the EU AI Act's Annex IV and the NIST AI
RMF items on inventory, measurement and management, and whether each is covered, partial or missing.

``REQUIREMENTS`` is the table, declared once: the nine Annex IV points of Regulation (EU) 2024/1689 as the
regulation words them (not the shortened lists that circulate) and five NIST AI RMF 1.0 subcategories, each split
into parts that name the card fields answering them. The model pages, the coverage matrix and the reference page
(``docs/reference/crosswalk.md``) all come from it. ``crosswalk`` evaluates it for one model from its card, its
dataset cards and its derived version states: the same card gives the same answer, with no clock and no git.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from .cards.schema import DatasetCard, ModelCard, Version
from .catalog import Catalog, ModelEntry
from .governance import VersionState, VersionStatus


class Coverage(str, Enum):
    covered = "covered"
    partial = "partial"
    missing = "missing"


@dataclass(frozen=True)
class Note:
    """One thing a card holds, or lacks, for a part: in words, with the field it is (or would be) in.

    ``key`` is a key path in the model card, or in the dataset card ``dataset`` when that is set; ``version``
    names the model version a ``versions[...]`` key is about.
    """

    text: str
    key: str
    dataset: str | None = None
    version: str | None = None

    @property
    def section(self) -> str:
        """The card's top-level key the note is under, e.g. ``human_oversight`` for ``human_oversight.measures``."""
        return self.key.split(".")[0].split("[")[0]


@dataclass(frozen=True)
class _Subject:
    """What a part is checked against: one model's card, the dataset cards it uses and its version states."""

    card: ModelCard
    datasets: dict[str, _Datasheet | None]  # None: referenced, but no dataset card declares it
    states: dict[str, VersionStatus]
    latest: Version | None

    def checked_versions(self) -> list[Version]:
        """The versions whose record matters now: those live somewhere, and the latest."""
        return [v for v in self.card.versions if self.states[v.version].live_in or v is self.latest]


Check = Callable[[_Subject], tuple[list[Note], list[Note]]]  # -> (present, missing)


@dataclass(frozen=True)
class Part:
    """A part of a requirement the card can answer, and the fields that answer it."""

    label: str
    fields: tuple[str, ...]
    check: Check


@dataclass(frozen=True)
class Requirement:
    framework: str  # "EU AI Act Annex IV" or "NIST AI RMF"
    id: str  # "1" to "9", or e.g. "MEASURE 2.11"
    title: str
    asks: str  # what the text asks for, in short
    parts: tuple[Part, ...]
    outside: str | None = None  # what the point asks for that a card does not hold


@dataclass(frozen=True)
class Finding:
    """One part, evaluated: what the card holds and what is missing."""

    part: Part
    present: tuple[Note, ...]
    missing: tuple[Note, ...]

    @property
    def status(self) -> Coverage:
        if not self.present:
            return Coverage.missing
        return Coverage.partial if self.missing else Coverage.covered


@dataclass(frozen=True)
class Item:
    """One requirement, evaluated for one model."""

    requirement: Requirement
    findings: tuple[Finding, ...]

    @property
    def status(self) -> Coverage:
        return _status([finding.status for finding in self.findings])

    @property
    def missing(self) -> tuple[Note, ...]:
        return tuple(note for finding in self.findings for note in finding.missing)


@dataclass(frozen=True)
class Crosswalk:
    model: str
    items: tuple[Item, ...]

    @property
    def complete(self) -> bool:
        """Every part of every requirement covered: what a policy demanding full coverage checks."""
        return all(item.status is Coverage.covered for item in self.items)

    @property
    def annex_iv(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.requirement.framework == ANNEX_IV)

    @property
    def nist(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.requirement.framework == NIST)

    def covered(self, items: tuple[Item, ...]) -> int:
        return sum(item.status is Coverage.covered for item in items)


def _status(statuses: list[Coverage]) -> Coverage:
    if all(status is Coverage.covered for status in statuses):
        return Coverage.covered
    if all(status is Coverage.missing for status in statuses):
        return Coverage.missing
    return Coverage.partial


# --- the checks: each looks at a few fields and says, in words, what is there and what is not ----------------

def _purpose(s: _Subject) -> tuple[list[Note], list[Note]]:
    uses = s.card.intended_use.primary_uses
    if uses:
        return [Note(f"{len(uses)} primary use(s)", "intended_use.primary_uses")], []
    return [], [Note("no intended purpose: list the primary uses", "intended_use.primary_uses")]


def _owners(s: _Subject) -> tuple[list[Note], list[Note]]:
    if not s.card.owners:
        return [], [Note("no accountable owner", "owners")]
    present = [Note("owners: " + ", ".join(o.name for o in s.card.owners), "owners")]
    missing = [Note(f"owner {o.name} has no contact", f"owners[{i}].contact")
               for i, o in enumerate(s.card.owners) if not o.contact]
    return present, missing


def _version_record(s: _Subject) -> tuple[list[Note], list[Note]]:
    """Every version but the first says what changed since the one before, and why."""
    if not s.card.versions:
        return [], [Note("no versions", "versions")]
    oldest_first = sorted(s.card.versions, key=lambda v: v.date)
    missing = [Note(f"version {v.version} does not say {what}", f"versions[{v.version}].{key}", version=v.version)
               for v in oldest_first[1:]
               for key, what in (("changes", "what changed"), ("reason", "why it changed"))
               if not getattr(v, key)]
    present = [Note(f"{len(oldest_first)} version(s), {oldest_first[0].version} to {oldest_first[-1].version}"
                    + ("" if missing else ", each later one saying what changed and why"), "versions")]
    return present, missing


def _framework(s: _Subject) -> tuple[list[Note], list[Note]]:
    framework = s.card.model_details.framework
    if framework:
        return [Note(f"built with {framework}", "model_details.framework")], []
    return [], [Note("no software or library version named", "model_details.framework")]


def _deployment_log(s: _Subject) -> tuple[list[Note], list[Note]]:
    deployments = s.card.deployments
    if not deployments:
        return [], [Note("no deployment recorded", "deployments")]
    environments = sorted({d.environment for d in deployments})
    rollbacks = sum(1 for state in s.states.values() for _ in state.rolled_back)
    text = f"{len(deployments)} deployment(s) to {', '.join(environments)}"
    if rollbacks:
        text += f", {rollbacks} rollback(s)"
    return [Note(text, "deployments")], []


def _instructions(s: _Subject) -> tuple[list[Note], list[Note]]:
    return _lists(s, ("recommendations", "recommendation(s) for users", "no recommendations for users"),
                  ("intended_use.out_of_scope", "out-of-scope use(s)", "no out-of-scope uses"))


def _methods(s: _Subject) -> tuple[list[Note], list[Note]]:
    present, missing = [], []
    if s.card.training_data.preprocessing:
        present.append(Note("data preparation described", "training_data.preprocessing"))
    else:
        missing.append(Note("data preparation not described", "training_data.preprocessing"))
    for version in s.checked_versions():
        code = version.code
        key = f"versions[{version.version}]"
        if code and (code.path or code.repo):
            present.append(Note(f"training code of {version.version} named", f"{key}.code", version=version.version))
        else:
            missing.append(Note(f"version {version.version} names no training code", f"{key}.code",
                                version=version.version))
        if version.params:
            present.append(Note(f"{len(version.params)} training setting(s) of {version.version}",
                                f"{key}.params", version=version.version))
        else:
            missing.append(Note(f"version {version.version} records no training settings", f"{key}.params",
                                version=version.version))
    if not s.card.versions:
        missing.append(Note("no versions, so no training code or settings", "versions"))
    return present, missing


def _design(s: _Subject) -> tuple[list[Note], list[Note]]:
    present, missing = [], []
    choices = s.card.design_choices
    if choices:
        present.append(Note(f"{len(choices)} design choice(s)", "design_choices"))
        missing += [Note(f"design choice '{c.name}' gives no rationale", f"design_choices[{i}].rationale")
                    for i, c in enumerate(choices) if not c.rationale]
    else:
        missing.append(Note("no design choices with their rationale", "design_choices"))
    if s.card.tradeoffs:
        present.append(Note(f"{len(s.card.tradeoffs)} trade-off(s)", "tradeoffs"))
    else:
        missing.append(Note("no trade-offs", "tradeoffs"))
    return present, missing


def _architecture(s: _Subject) -> tuple[list[Note], list[Note]]:
    details = s.card.model_details
    present, missing = [], []
    if details.architecture:
        present.append(Note("architecture described", "model_details.architecture"))
    else:
        missing.append(Note("architecture not described", "model_details.architecture"))
    for key, fields in (("inputs", details.inputs), ("outputs", details.outputs)):
        if fields:
            present.append(Note(f"{len(fields)} {key[:-1]}(s) named", f"model_details.{key}"))
        else:
            missing.append(Note(f"no {key} named", f"model_details.{key}"))
    return present, missing


# A datasheet answers Annex IV 2(d) when it says where the data comes from, how it was collected, cleaned
# and labelled.
DATASHEET_FIELDS = (
    ("source", "where it comes from"),
    ("datasheet.data_collection", "how it was collected"),
    ("datasheet.data_preprocessing_protocol", "how it was cleaned"),
    ("datasheet.data_annotation_protocol", "how it was labelled"),
)


@dataclass(frozen=True)
class _Datasheet:
    """All the crosswalk reads of a dataset card: which of ``DATASHEET_FIELDS`` it fills and how many known biases
    it states. A preview keeps each model's crosswalk while its card and these are unchanged, so that editing the
    text of a dataset card, which in a catalog of copies every model reads, does not make them all again."""

    given: tuple[str, ...]  # the keys of DATASHEET_FIELDS it fills, in their order
    biases: int


def _datasheet(card: DatasetCard | None) -> _Datasheet | None:
    if card is None:
        return None
    return _Datasheet(tuple(key for key, _ in DATASHEET_FIELDS if _value(card, key)), len(card.datasheet.data_biases))


def _datasheets_of(model: ModelEntry, catalog: Catalog) -> dict[str, _Datasheet | None]:
    return {name: _datasheet(entry.card) if (entry := catalog.datasets.get(name)) else None
            for name in model.dataset_names()}


def _datasheets(s: _Subject) -> tuple[list[Note], list[Note]]:
    present, missing = [], []
    section = s.card.training_data
    if section.datasets and section.description:
        present.append(Note("training data named and described", "training_data.description"))
    else:
        missing.append(Note("training data not named and described", "training_data"))
    if not s.datasets:
        missing.append(Note("no dataset card", "training_data.datasets"))
    for name, dataset in s.datasets.items():
        if dataset is None:
            missing.append(Note(f"dataset {name} has no dataset card", "kind", dataset=name))
            continue
        given = [(key, what) for key, what in DATASHEET_FIELDS if key in dataset.given]
        if given:
            present.append(Note(f"datasheet of {name}: " + ", ".join(what for _, what in given), given[-1][0],
                                dataset=name))
        missing += [Note(f"datasheet of {name} does not say {what}", key, dataset=name)
                    for key, what in DATASHEET_FIELDS if key not in dataset.given]
    return present, missing


def _data_biases(s: _Subject) -> tuple[list[Note], list[Note]]:
    present, missing = [], []
    for name, dataset in s.datasets.items():
        if dataset is not None and dataset.biases:
            present.append(Note(f"{dataset.biases} known bias(es) of {name}",
                                "datasheet.data_biases", dataset=name))
        else:
            missing.append(Note(f"no known biases of {name} stated", "datasheet.data_biases", dataset=name))
    if not s.datasets:
        missing.append(Note("no dataset card", "training_data.datasets"))
    return present, missing


def _human_oversight(s: _Subject) -> tuple[list[Note], list[Note]]:
    oversight = s.card.human_oversight
    if oversight is None:
        return [], [Note("no human oversight measures", "human_oversight")]
    present, missing = [], []
    if oversight.description:
        present.append(Note("how people oversee and can stop it", "human_oversight.description"))
    else:
        missing.append(Note("how people oversee it is not described", "human_oversight.description"))
    if oversight.measures:
        present.append(Note(f"{len(oversight.measures)} oversight measure(s)", "human_oversight.measures"))
    else:
        missing.append(Note("no concrete oversight measures", "human_oversight.measures"))
    return present, missing


def _test_data(s: _Subject) -> tuple[list[Note], list[Note]]:
    section = s.card.evaluation_data
    present, missing = [], []
    if section.datasets:
        present.append(Note("test data: " + ", ".join(section.datasets), "evaluation_data.datasets"))
    else:
        missing.append(Note("no test dataset named", "evaluation_data.datasets"))
    if section.description:
        present.append(Note("test data described", "evaluation_data.description"))
    else:
        missing.append(Note("test data not described", "evaluation_data.description"))
    return present, missing


def _metrics(s: _Subject) -> tuple[list[Note], list[Note]]:
    if not s.card.metrics:
        return [], [Note("no metrics declared", "metrics")]
    present = [Note(f"{len(s.card.metrics)} metric(s) declared", "metrics")]
    missing = [Note(f"metric {m.name} has no description", f"metrics[{i}].description")
               for i, m in enumerate(s.card.metrics) if not m.description]
    for version in s.checked_versions():
        absent = [m.name for m in s.card.metrics if m.name not in version.metrics]
        key = f"versions[{version.version}].metrics"
        if absent:
            missing.append(Note(f"version {version.version} has no value for {', '.join(absent)}", key,
                                version=version.version))
        else:
            present.append(Note(f"all measured on {version.version}", key, version=version.version))
    return present, missing


def _metric_suitability(s: _Subject) -> tuple[list[Note], list[Note]]:
    if not s.card.metrics:
        return [], [Note("no metrics declared", "metrics")]
    present, missing = [], []
    for i, metric in enumerate(s.card.metrics):
        if metric.description and metric.threshold is not None:
            present.append(Note(f"{metric.name}: what it measures, and a release gate", f"metrics[{i}]"))
            continue
        if not metric.description:
            missing.append(Note(f"metric {metric.name} does not say what it measures or why",
                                f"metrics[{i}].description"))
        if metric.threshold is None:
            missing.append(Note(f"metric {metric.name} has no release gate", f"metrics[{i}].threshold"))
        if metric.description or metric.threshold is not None:
            present.append(Note(f"{metric.name}: partly explained", f"metrics[{i}]"))
    return present, missing


# A sliced result is about a group only when its slice is not the whole test set.
WHOLE_SET = frozenset({"all", "overall", "whole test set", "total"})


def _group_results(s: _Subject) -> tuple[list[Note], list[Note]]:
    """Results for groups of cases or people, on the versions that matter now."""
    latest = s.latest.version if s.latest else None
    sliced = [r for r in s.card.quantitative_analyses if r.slice.strip().casefold() not in WHOLE_SET]
    present, missing = [], []
    for version in s.checked_versions():
        label = version.version
        count = sum(1 for r in sliced if (r.version or latest) == label)
        key = "quantitative_analyses"
        if count:
            present.append(Note(f"{count} sliced result(s) for {label}", key, version=label))
        else:
            missing.append(Note(f"no sliced results for version {label}", key, version=label))
    if not s.card.versions:
        missing.append(Note("no versions, so no sliced results", "quantitative_analyses"))
    return present, missing


def _factors(s: _Subject) -> tuple[list[Note], list[Note]]:
    factors = s.card.factors
    if not factors:
        return [], [Note("no factors (groups or conditions that change performance)", "factors")]
    missing = [Note(f"factor {f.name} is not described", f"factors[{i}].description")
               for i, f in enumerate(factors) if not f.description]
    return [Note(f"{len(factors)} factor(s): " + ", ".join(f.name for f in factors), "factors")], missing


def _signed_tests(s: _Subject) -> tuple[list[Note], list[Note]]:
    """Test results dated and signed by the responsible persons: sign-offs with their role, date and evidence."""
    present, missing = [], []
    for version in s.checked_versions():
        label = version.version
        key = f"versions[{label}].approvals"
        if not version.approvals:
            missing.append(Note(f"version {label} has no dated sign-off", key, version=label))
            continue
        people = sorted({f"{a.by} ({a.role})" for a in version.approvals})
        present.append(Note(f"{label} signed by {', '.join(people)}", key, version=label))
        if not any(a.evidence for a in version.approvals):
            missing.append(Note(f"no sign-off of {label} names the test report it rests on",
                                f"{key}[].evidence", version=label))
    if not s.card.versions:
        missing.append(Note("no versions to sign off", "versions"))
    return present, missing


def _limitations(s: _Subject) -> tuple[list[Note], list[Note]]:
    present, missing = [], []
    if s.latest and s.latest.metrics:
        present.append(Note(f"expected performance: metrics of {s.latest.version}",
                            f"versions[{s.latest.version}].metrics", version=s.latest.version))
    else:
        missing.append(Note("no measured performance for the latest version", "versions"))
    if s.card.caveats:
        present.append(Note(f"{len(s.card.caveats)} known limitation(s)", "caveats"))
    else:
        missing.append(Note("no known limitations stated", "caveats"))
    return present, missing


def _risks(s: _Subject) -> tuple[list[Note], list[Note]]:
    considerations = s.card.ethical_considerations
    if not considerations:
        return [], [Note("no foreseeable risks listed", "ethical_considerations")]
    missing = [Note(f"risk '{c.name}' has no mitigation", f"ethical_considerations[{i}].mitigation")
               for i, c in enumerate(considerations) if not c.mitigation]
    return [Note(f"{len(considerations)} risk(s), {len(considerations) - len(missing)} with a mitigation",
                 "ethical_considerations")], missing


def _inputs(s: _Subject) -> tuple[list[Note], list[Note]]:
    inputs = s.card.model_details.inputs
    if not inputs:
        return [], [Note("no inputs specified", "model_details.inputs")]
    missing = [Note(f"input {f.name} has no {what}", f"model_details.inputs[{i}].{what}")
               for i, f in enumerate(inputs) for what in ("type", "description") if not getattr(f, what)]
    return [Note(f"{len(inputs)} input(s) specified", "model_details.inputs")], missing


def _risk_system(s: _Subject) -> tuple[list[Note], list[Note]]:
    return _document(s.card.risk_management, "risk_management", "the risk management system")


def _declaration(s: _Subject) -> tuple[list[Note], list[Note]]:
    return _document(s.card.declaration_of_conformity, "declaration_of_conformity",
                     "the EU declaration of conformity, or why none is required")


def _risk_tier(s: _Subject) -> tuple[list[Note], list[Note]]:
    if s.card.risk_tier is None:
        return [], [Note("no risk tier", "risk_tier")]
    present = [Note(f"risk tier {s.card.risk_tier.value}", "risk_tier")]
    if s.card.risk_rationale:
        return present + [Note("why it has that tier", "risk_rationale")], []
    return present, [Note("the tier's rationale is not given", "risk_rationale")]


def _standards(s: _Subject) -> tuple[list[Note], list[Note]]:
    standards = s.card.standards
    if not standards:
        return [], [Note("no standards or specifications listed", "standards")]
    missing = [Note(f"standard {x.name} does not say what it was applied to", f"standards[{i}].scope")
               for i, x in enumerate(standards) if not x.scope]
    return [Note(f"{len(standards)} standard(s): " + ", ".join(x.name for x in standards), "standards")], missing


# A monitoring plan is complete when it says what is watched, how often, by whom and what happens then.
MONITORING_FIELDS = (("monitored", "what is monitored"), ("cadence", "how often it is reviewed"),
                     ("owner", "who reviews it"), ("escalation", "what happens when a result is out of bounds"))


def _monitoring(s: _Subject) -> tuple[list[Note], list[Note]]:
    plan = s.card.monitoring
    if plan is None:
        return [], [Note("no post-market monitoring plan", "monitoring")]
    present = [Note("monitoring plan: " + ", ".join(["described"] + [what for key, what in MONITORING_FIELDS
                                                                       if getattr(plan, key)]), "monitoring")]
    missing = [Note(f"the plan does not say {what}", f"monitoring.{key}")
               for key, what in MONITORING_FIELDS if not getattr(plan, key)]
    return present, missing


def _inventory(s: _Subject) -> tuple[list[Note], list[Note]]:
    return [Note(f"listed in the catalog, status {s.card.status.value}", "status")], []


def _go_no_go(s: _Subject) -> tuple[list[Note], list[Note]]:
    """A decision on each version that runs now, or on the latest when none runs: approved before it went live."""
    present, missing = [], []
    live = [v for v in s.card.versions if s.states[v.version].live_in]
    for version in live or ([s.latest] if s.latest else []):
        label, status = version.version, s.states[version.version]
        key = f"versions[{label}].approvals"
        where = " (live in " + ", ".join(d.environment for d in status.live_in) + ")" if status.live_in else ""
        if status.sign_off is VersionState.approved:
            present.append(Note(f"{label}{where}: approved", key, version=label))
        elif status.sign_off is VersionState.draft:
            missing.append(Note(f"{label}{where} has no go/no-go decision", key, version=label))
        elif status.live_in:
            present.append(Note(f"{label}{where}: {status.sign_off.value}", key, version=label))
            missing.append(Note(f"{label}{where} runs without an approval", key, version=label))
        else:
            present.append(Note(f"{label}: {status.sign_off.value}", key, version=label))
    if not s.card.versions:
        missing.append(Note("no versions to decide on", "versions"))
    return present, missing


def _document(document, key: str, what: str) -> tuple[list[Note], list[Note]]:
    if document is None:
        return [], [Note(f"no account of {what}", key)]
    present, missing = [], []
    if document.description:
        present.append(Note(f"an account of {what}", f"{key}.description"))
    else:
        missing.append(Note(f"no account of {what}", f"{key}.description"))
    if document.reference:
        present.append(Note("where the full document is", f"{key}.reference"))
    else:
        missing.append(Note("no reference to the full document", f"{key}.reference"))
    return present, missing


def _lists(s: _Subject, *fields: tuple[str, str, str]) -> tuple[list[Note], list[Note]]:
    present, missing = [], []
    for key, counted, absent in fields:
        values = _value(s.card, key)
        if values:
            present.append(Note(f"{len(values)} {counted}", key))
        else:
            missing.append(Note(absent, key))
    return present, missing


def _value(card, key: str):
    value = card
    for part in key.split("."):
        value = getattr(value, part)
    return value


# --- the table -----------------------------------------------------------------------------------------------

ANNEX_IV = "EU AI Act Annex IV"
NIST = "NIST AI RMF"

_OWNERS = ("owners",)
_HUMAN_OVERSIGHT = ("human_oversight.description", "human_oversight.measures")
_MONITORING = ("monitoring.description", "monitoring.monitored", "monitoring.cadence", "monitoring.owner",
               "monitoring.escalation")
_GROUP_RESULTS = ("quantitative_analyses",)
_METRICS = ("metrics", "versions[].metrics")
_TEST_DATA = ("evaluation_data.datasets", "evaluation_data.description")
_RISK_TIER = ("risk_tier", "risk_rationale")
_DEPLOYMENTS = ("deployments",)

REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(ANNEX_IV, "1", "General description of the AI system",
                "its intended purpose, the provider, the version and how it relates to earlier versions; the "
                "software it needs; the forms in which it is put into service; instructions for use",
                (Part("(a) Intended purpose", ("intended_use.primary_uses",), _purpose),
                 Part("(a) Provider", _OWNERS, _owners),
                 Part("(a) Versions and their relation to earlier ones", ("versions[].changes", "versions[].reason"),
                      _version_record),
                 Part("(c) Software and versions it needs", ("model_details.framework",), _framework),
                 Part("(d) Forms in which it is put into service", _DEPLOYMENTS, _deployment_log),
                 Part("(h) Instructions for use", ("recommendations", "intended_use.out_of_scope"), _instructions)),
                outside="(b) interaction with other hardware or software, (e) the hardware it runs on, "
                        "(f) photographs or markings of products it is part of, (g) the user interface of deployers"),
    Requirement(ANNEX_IV, "2", "Elements of the AI system and the process of its development",
                "the methods and steps of development; the design choices, their rationale and the trade-offs made; "
                "the system architecture; the data, with datasheets; the human oversight measures (Art. 14); the "
                "validation and testing procedures, data and metrics, including discriminatory impacts, and "
                "test logs and reports dated and signed by the responsible persons",
                (Part("(a) Methods and steps of development",
                      ("training_data.preprocessing", "versions[].code", "versions[].params"), _methods),
                 Part("(b) Design choices, rationale and trade-offs",
                      ("design_choices[].name", "design_choices[].rationale", "tradeoffs"), _design),
                 Part("(c) System architecture",
                      ("model_details.architecture", "model_details.inputs", "model_details.outputs"), _architecture),
                 Part("(d) Data requirements and datasheets",
                      ("training_data.datasets", "training_data.description",
                       *(f"dataset card: {key}" for key, _ in DATASHEET_FIELDS)), _datasheets),
                 Part("(e) Human oversight measures", _HUMAN_OVERSIGHT, _human_oversight),
                 Part("(g) Validation and test data", _TEST_DATA, _test_data),
                 Part("(g) Metrics of accuracy and robustness", _METRICS, _metrics),
                 Part("(g) Potentially discriminatory impacts", _GROUP_RESULTS, _group_results),
                 Part("(g) Test reports dated and signed by the responsible persons",
                      ("versions[].approvals[].by", "versions[].approvals[].role", "versions[].approvals[].date",
                       "versions[].approvals[].evidence"), _signed_tests)),
                outside="(c) the computational resources used; (f) pre-determined changes, for a system that "
                        "changes after release (here every change is a new version, point 6); (h) cybersecurity "
                        "measures"),
    Requirement(ANNEX_IV, "3", "Monitoring, functioning and control of the AI system",
                "its capabilities and limitations in performance, the accuracy for the groups of persons it is "
                "used on and overall; foreseeable unintended outcomes and sources of risk; the human oversight "
                "measures; specifications of the input data",
                (Part("Capabilities and limitations, expected accuracy", ("versions[].metrics", "caveats"),
                      _limitations),
                 Part("Accuracy for specific groups", _GROUP_RESULTS, _group_results),
                 Part("Foreseeable unintended outcomes and sources of risk",
                      ("ethical_considerations[].name", "ethical_considerations[].mitigation"), _risks),
                 Part("Human oversight measures", _HUMAN_OVERSIGHT, _human_oversight),
                 Part("Specifications of the input data", ("model_details.inputs",), _inputs))),
    Requirement(ANNEX_IV, "4", "Appropriateness of the performance metrics",
                "why the chosen metrics suit this system",
                (Part("Each metric: what it measures, and its release gate",
                      ("metrics[].description", "metrics[].threshold"), _metric_suitability),)),
    Requirement(ANNEX_IV, "5", "Risk management system (Art. 9)",
                "a detailed description of the risk management system",
                (Part("Risk management system", ("risk_management.description", "risk_management.reference"),
                      _risk_system),
                 Part("Risk classification and its rationale", _RISK_TIER, _risk_tier),
                 Part("Identified risks and their mitigations",
                      ("ethical_considerations[].name", "ethical_considerations[].mitigation"), _risks))),
    Requirement(ANNEX_IV, "6", "Changes over the lifecycle",
                "the relevant changes made to the system through its lifecycle",
                (Part("What changed in each version, and why", ("versions[].changes", "versions[].reason"),
                      _version_record),
                 Part("Deployments and rollbacks", _DEPLOYMENTS, _deployment_log)),
                outside="who changed which field of the card, and when: the History section of the model page, "
                        "read from git when the site is built from a repository"),
    Requirement(ANNEX_IV, "7", "Harmonised standards applied",
                "the harmonised standards applied, or where none was, the solutions adopted and the other "
                "standards and specifications applied",
                (Part("Standards and specifications, and what they were applied to",
                      ("standards[].name", "standards[].scope", "standards[].reference"), _standards),)),
    Requirement(ANNEX_IV, "8", "EU declaration of conformity (Art. 47)",
                "a copy of the EU declaration of conformity",
                (Part("The declaration, or why none is required",
                      ("declaration_of_conformity.description", "declaration_of_conformity.reference"),
                      _declaration),)),
    Requirement(ANNEX_IV, "9", "Post-market monitoring (Art. 72)",
                "the system that evaluates its performance after release, including the post-market "
                "monitoring plan",
                (Part("Post-market monitoring plan", _MONITORING, _monitoring),)),
    Requirement(NIST, "GOVERN 1.6", "Inventory of AI systems",
                "the system is in an inventory, with who is accountable for it and its risk",
                (Part("Listed in the catalog", ("status",), _inventory),
                 Part("Accountable owners", _OWNERS, _owners),
                 Part("Risk tier and its rationale", _RISK_TIER, _risk_tier))),
    Requirement(NIST, "MEASURE 2.1", "Test sets, metrics and tools documented",
                "the test sets, metrics and details of the tools used in evaluation are documented",
                (Part("Test sets", _TEST_DATA, _test_data),
                 Part("Metrics and their values", _METRICS, _metrics))),
    Requirement(NIST, "MEASURE 2.11", "Fairness and bias evaluated",
                "fairness and bias are evaluated and the results documented",
                (Part("Factors that change performance", ("factors[].name", "factors[].description"), _factors),
                 Part("Results for groups", _GROUP_RESULTS, _group_results),
                 Part("Known biases of the data", ("dataset card: datasheet.data_biases",), _data_biases))),
    Requirement(NIST, "MANAGE 1.1", "Go/no-go decision",
                "a decision on whether the system achieves its purpose and should proceed to deployment",
                (Part("A sign-off on each version that runs", ("versions[].approvals",), _go_no_go),)),
    Requirement(NIST, "MANAGE 4.1", "Post-deployment monitoring, override and decommissioning",
                "monitoring plans after deployment, with ways to override, roll back or decommission the system",
                (Part("Monitoring plan", _MONITORING, _monitoring),
                 Part("Human override", _HUMAN_OVERSIGHT, _human_oversight),
                 Part("Deployment log, rollbacks and retirements", _DEPLOYMENTS, _deployment_log))),
)


def crosswalk(model: ModelEntry, catalog: Catalog) -> Crosswalk:
    """Each requirement of ``REQUIREMENTS``, evaluated for ``model`` from its card, its dataset cards (from
    ``catalog``) and its derived version states."""
    subject = _Subject(model.card, _datasheets_of(model, catalog), model.states, model.latest_version)
    items = []
    for requirement in REQUIREMENTS:
        findings = []
        for part in requirement.parts:
            present, missing = part.check(subject)
            findings.append(Finding(part, tuple(present), tuple(missing)))
        items.append(Item(requirement, tuple(findings)))
    return Crosswalk(model.name, tuple(items))


class Crosswalks:
    """Each model's crosswalk, made once for both the policy and the pages; a preview keeps it while what it reads,
    the model's card and its datasets' datasheets, is unchanged (a third of a second per save at 1,000 models)."""

    def __init__(self):
        self._made: dict[str, tuple[tuple, Crosswalk]] = {}  # model name -> (what it read, its crosswalk)

    def of(self, model: ModelEntry, catalog: Catalog) -> Crosswalk:
        read = (model.card, tuple(_datasheets_of(model, catalog).items()))
        made = self._made.get(model.name)
        if made is None or made[0] != read:
            made = self._made[model.name] = (read, crosswalk(model, catalog))
        return made[1]


__all__ = ["ANNEX_IV", "NIST", "REQUIREMENTS", "Coverage", "Crosswalk", "Crosswalks", "Finding", "Item", "Note",
           "Part", "Requirement", "crosswalk"]
