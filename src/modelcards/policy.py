"""Policy gates per risk tier: the policy file -> each model's rules, passed, failed or waived.

A policy file (the ``policy`` setting) says, for each ``risk_tier``, what a card must hold and what a deployed
version must meet. ``RULES`` is the table of rules: each is one function from a model (and its tier's section of
the policy) to its failures, so a new rule is one function, one field of ``TierPolicy`` and one entry.

Failures are warnings (``--strict`` fails the run), except lineage checks the policy makes errors. A card's
``waivers`` turn a matching failure into an info note that the pages show; an expired waiver does not, and a
waiver that matches no failure is a warning. Dates are judged on one "as of" day (``as_of_date``).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from .cards.loader import problem_from_error
from .cards.schema import DatasetCard, Flag, ModelCard, Number, PositiveInt, Slug, Text, Waiver
from .cards.yaml_source import KeyPath, YamlDocument, parse_yaml
from .catalog import Catalog, ModelEntry
from .crosswalk import Coverage, Crosswalks, Note
from .errors import Problem, Severity, sort_problems
from .frozen import RULE_NAME as FROZEN_RULE_NAME
from .governance import latest_decisions, person
from .lineage.graph import LineageGraph
from .monitoring import Monitoring, cadence_days
from .sources.record import utc_day
from .waivers import as_of_date, judge, stale_waiver
from .text import NotUtf8, decode_utf8

if TYPE_CHECKING:
    from .lineage.checks import LineageFindings

TIERS = ("low", "medium", "high", "critical")
DEFAULT_TIER = "default"  # the section for cards without a `risk_tier` (and tiers the policy does not name)
OVERALL_SLICES = frozenset({"all", "overall", "whole test set", "everything"})  # compared case-insensitively
MAX_POLICY_BYTES = 1_000_000


# --- the policy file ------------------------------------------------------------------------------------

def _card_field(path: str) -> str:
    """A dotted path to a field of a model card, through mappings (``intended_use.out_of_scope``)."""
    model: Any = ModelCard
    walked = []
    for part in path.split("."):
        fields = model.model_fields if _is_model(model) else {}
        if part not in fields:
            close = difflib.get_close_matches(part, list(fields), n=1, cutoff=0.6)
            where = f"under {'.'.join(walked)}" if walked else "in a model card"
            hint = f" (did you mean '{'.'.join([*walked, close[0]])}'?)" if close else ""
            if not fields:
                raise ValueError(f"found '{path}', but {'.'.join(walked)} holds no named fields; expected the "
                                 "path of a model card field through mappings, e.g. intended_use.out_of_scope")
            raise ValueError(f"found '{path}': no field '{part}' {where}{hint}; expected a model card field, "
                             "e.g. ethical_considerations or intended_use.out_of_scope")
        walked.append(part)
        model = _model_inside(fields[part].annotation)
    return path


def _check_name(name: str) -> str:
    from .lineage.checks import CHECKS  # whatever checks the lineage stage has when the policy is read

    if name not in CHECKS:
        close = difflib.get_close_matches(name, list(CHECKS), n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise ValueError(f"found check '{name}'{hint}, expected one of: {', '.join(CHECKS)}")
    return name


class _PolicySection(BaseModel):
    """Unknown keys are errors with a "did you mean" hint, as in cards."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ApprovalRequirement(_PolicySection):
    role: Text = Field(description="The approver's role, as the card's `approvals[].role` writes it "
                                   "(compared case-insensitively).")
    count: PositiveInt = Field(1, description="How many different people in that role must have approved.")


class MetricBounds(_PolicySection):
    min: Number | None = Field(None, description="The lowest value allowed.")
    max: Number | None = Field(None, description="The highest value allowed.")

    @model_validator(mode="after")
    def _a_bound(self) -> MetricBounds:
        if self.min is None and self.max is None:
            raise ValueError("found neither min nor max, expected at least one, e.g. {min: 0.9}")
        return self


class TierPolicy(_PolicySection):
    required_fields: list[Annotated[str, AfterValidator(_card_field)]] = Field(default_factory=list, description=(
        "Card fields that must be filled, as dotted paths, e.g. `ethical_considerations`, "
        "`intended_use.out_of_scope`, `monitoring`. `quantitative_analyses` is filled when the latest version "
        "has a result on a slice other than the whole test set (`all`, `overall`)."))
    approvals: list[ApprovalRequirement] = Field(default_factory=list, description=(
        "What each deployed version needs: per role, how many approvers whose latest decision is `approved`."))
    card_thresholds: Flag = Field(False, description=(
        "The card's own `metrics[].threshold` (with `higher_is_better`) become gates for deployed versions."))
    metric_thresholds: dict[Slug, MetricBounds] = Field(default_factory=dict, description=(
        "Bounds each deployed version must meet, e.g. `{roc_auc: {min: 0.95}}`; a missing value fails."))
    evaluation_max_age_days: PositiveInt | None = Field(None, description=(
        "How many days old a deployed version's evaluation may be on the \"as of\" day: its run's end, or the "
        "version's `date` when there is no linked run."))
    lineage_checks_as_errors: list[Annotated[str, AfterValidator(_check_name)]] = Field(
        default_factory=list, description="Lineage checks whose findings on these models are errors (build only).")
    personal_data: Flag = Field(False, description=(
        "Datasets the models use that hold personal data (`personal_data.contains: true`) need "
        "`personal_data.dpia` and `personal_data.legal_basis`."))
    monitoring: Flag = Field(False, description=(
        "A deployed model has a monitoring plan (`monitoring`) and, when the site is built, a result within its "
        "cadence (`monitoring.cadence_days`, or the word `cadence` starts with) on the \"as of\" day; see "
        "docs/reference/monitoring.md."))
    regulatory_coverage: Flag = Field(False, description=(
        "Every EU AI Act Annex IV point and NIST AI RMF item of the regulatory crosswalk is covered "
        "(docs/reference/crosswalk.md); each one partial or missing fails, naming what to fill."))


class Policy(_PolicySection):
    """The policy file: one section per risk tier, each optional."""

    low: TierPolicy | None = Field(None, description="Rules for `risk_tier: low`.")
    medium: TierPolicy | None = Field(None, description="Rules for `risk_tier: medium`.")
    high: TierPolicy | None = Field(None, description="Rules for `risk_tier: high`.")
    critical: TierPolicy | None = Field(None, description="Rules for `risk_tier: critical`.")
    default: TierPolicy | None = Field(None, description="Rules for cards without a `risk_tier`, and for tiers "
                                                         "without a section of their own.")

    def for_tier(self, tier: str | None) -> tuple[str, TierPolicy] | None:
        """The section that applies to a card's tier, and its name; None when none does."""
        own = getattr(self, tier) if tier else None
        if own is not None:
            return tier, own
        return (DEFAULT_TIER, self.default) if self.default is not None else None


@dataclass(frozen=True)
class LoadedPolicy:
    policy: Policy
    path: str  # as problems show it


def load_policy(file: Path, shown: str) -> tuple[LoadedPolicy | None, list[Problem]]:
    """Read and check a policy file with the cards' safe loader; every problem at ``shown:line:col``."""
    try:
        if file.stat().st_size > MAX_POLICY_BYTES:
            return None, [Problem(shown, 1, 1, "", f"found a file of {file.stat().st_size:,} bytes, expected a "
                                                   f"policy file of at most {MAX_POLICY_BYTES:,} bytes")]
        text = decode_utf8(file.read_bytes())
    except FileNotFoundError:
        return None, [Problem(shown, 1, 1, "", "file not found; expected the policy file that the `policy` "
                                               "setting names")]
    except OSError as exc:
        return None, [Problem(shown, 1, 1, "", f"cannot read the policy file ({exc.strerror or exc})")]
    except NotUtf8 as exc:
        return None, [Problem(shown, exc.line, exc.col, "", exc.message)]
    document, problems = parse_yaml(text, shown)
    if document is None or problems:
        return None, problems
    if not isinstance(document.data, dict):
        found = "an empty file" if document.data is None else "something other than a mapping"
        return None, [document.problem((), f"found {found}, expected a mapping of risk tier to rules "
                                           f"({', '.join((*TIERS, DEFAULT_TIER))})")]
    try:
        policy = Policy.model_validate(document.data)
    except ValidationError as exc:
        return None, [problem_from_error(error, Policy, document, custom_hint=False) for error in exc.errors()]
    return LoadedPolicy(policy, shown), []


# --- evaluation -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Failure:
    """One way a model fails a rule, at one line of a card."""

    key_path: KeyPath
    message: str
    version: str | None = None  # the version it is about, which a waiver may name
    document: YamlDocument | None = None  # where it is, when not the model card (a dataset card)
    severity: Severity = "warning"


@dataclass(frozen=True)
class WaivedFailure:
    failure: Failure
    waiver: Waiver


@dataclass(frozen=True)
class RuleOutcome:
    """One rule of a model's tier: passed, failed, waived, or not checked (``validate`` has no lineage)."""

    rule: str
    failures: tuple[Failure, ...] = ()
    waived: tuple[WaivedFailure, ...] = ()
    expired: tuple[Waiver, ...] = ()  # waivers of these failures that expired
    checked: bool = True

    @property
    def state(self) -> Literal["passed", "failed", "waived", "not checked"]:
        if not self.checked:
            return "not checked"
        return "failed" if self.failures else "waived" if self.waived else "passed"


@dataclass(frozen=True)
class ModelPolicy:
    model: str
    tier: str  # the section of the policy applied: a risk tier or `default`
    outcomes: tuple[RuleOutcome, ...]

    @property
    def failing(self) -> int:
        return sum(len(outcome.failures) for outcome in self.outcomes)

    @property
    def waived(self) -> int:
        return sum(len(outcome.waived) for outcome in self.outcomes)

    @property
    def summary(self) -> str:
        """``passes``, ``2 failing``, ``passes, 1 waived``."""
        state = f"{self.failing} failing" if self.failing else "passes"
        return state + (f", {self.waived} waived" if self.waived else "")


@dataclass(frozen=True)
class PolicyReport:
    path: str  # the policy file, as problems show it
    as_of: dt.date
    models: dict[str, ModelPolicy]  # every model a section of the policy applies to
    problems: list[Problem]  # failures, waived failures (info), stale and unknown waivers
    lineage_checked: bool  # False for `validate`, which reads no runs
    taken_over: frozenset[tuple] = frozenset()  # lineage findings the policy reports in their place (``found_at``)

    def takes_over(self, problem: Problem) -> bool:
        return found_at(problem) in self.taken_over


def found_at(problem: Problem) -> tuple:
    """A problem without its severity: the same finding whatever severity the configuration gave it."""
    return problem.path, problem.line, problem.col, problem.key_path, problem.message


@dataclass(frozen=True)
class _Context:
    catalog: Catalog
    as_of: dt.date
    lineage: Callable[[str], list[Problem]] | None  # a check's findings, when the lineage is known
    monitoring: Monitoring | None = None  # the results read, when the site is built
    crosswalks: Crosswalks = field(default_factory=Crosswalks)


@dataclass(frozen=True)
class Rule:
    applies: Callable[[TierPolicy], bool]  # whether the tier's section asks for it
    check: Callable[[ModelEntry, TierPolicy, _Context], Iterable[Failure]]
    needs_lineage: bool = False


def evaluate_policy(catalog: Catalog, loaded: LoadedPolicy, *, graph: LineageGraph | None = None,
                    as_of: dt.date | None = None, monitoring: Monitoring | None = None,
                    findings: LineageFindings | None = None, crosswalks: Crosswalks | None = None) -> PolicyReport:
    """Every model's rules, passed, failed or waived, and the problems to print.

    ``graph`` is the lineage graph (``build``); without one, rules that need it are "not checked".
    ``findings``: the lineage checks' findings on that graph, when the build has made them already;
    ``crosswalks``: the models' crosswalks, kept for the pages.
    """
    as_of = as_of or as_of_date()
    by_check: dict[str, list[Problem]] = {}

    def lineage(check: str) -> list[Problem]:
        if check not in by_check:
            from .lineage.checks import CHECKS, check_lineage

            only = {name: ("error" if name == check else "off") for name in CHECKS}
            by_check[check] = check_lineage(graph, catalog, only, findings=findings)
        return by_check[check]

    context = _Context(catalog, as_of, lineage if graph is not None else None, monitoring, crosswalks or Crosswalks())
    models: dict[str, ModelPolicy] = {}
    problems: list[Problem] = []
    for model in catalog.models.values():
        tier = model.card.risk_tier.value if model.card.risk_tier else None
        section = loaded.policy.for_tier(tier)
        if section is None:
            problems += _stale_waivers(model, set(), "no section of the policy applies to it")
            continue
        name, rules = section
        outcomes = []
        used: set[int] = set()
        for rule_name, rule in RULES.items():
            if not rule.applies(rules):
                continue
            if rule.needs_lineage and context.lineage is None:
                outcomes.append(RuleOutcome(rule_name, checked=False))
                continue
            outcome, found = _judged(model, name, rule_name, list(rule.check(model, rules, context)), as_of, used)
            outcomes.append(outcome)
            problems += found
        problems += _stale_waivers(model, used, f"no rule of its tier ({name}) fails there")
        models[model.name] = ModelPolicy(model.name, name, tuple(outcomes))
    taken_over = frozenset(found_at(p) for found in by_check.values() for p in found)
    return PolicyReport(loaded.path, as_of, models, sort_problems(problems), graph is not None, taken_over)


def _judged(model: ModelEntry, tier: str, rule: str, failures: list[Failure], as_of: dt.date,
            used: set[int]) -> tuple[RuleOutcome, list[Problem]]:
    """Failures of one rule, each waived, failing, or failing again because its waiver expired."""
    failing, waived, expired, problems = [], [], [], []
    for failure in failures:
        judged = judge(failure.document or model.source.document, failure.key_path, failure.message, rule=rule,
                       version=failure.version, waivers=model.card.waivers, as_of=as_of, used=used,
                       prefix=f"policy {tier}/{rule}: ", severity=failure.severity)
        problems.append(judged.problem)
        if judged.waiver is not None:
            waived.append(WaivedFailure(failure, judged.waiver))
        else:
            failing.append(failure)
            expired += judged.expired
    return RuleOutcome(rule, tuple(failing), tuple(waived), tuple(expired)), problems


def _stale_waivers(model: ModelEntry, used: set[int], why: str) -> list[Problem]:
    """A waiver naming no rule is an error; one that matches no failure is a warning: it would hide nothing.
    Waivers of ``frozen_version`` are judged with the frozen versions, whatever the policy says."""
    known = [*RULES, FROZEN_RULE_NAME]
    problems = []
    for index, waiver in enumerate(model.card.waivers):
        if waiver.rule not in known:
            close = difflib.get_close_matches(waiver.rule, known, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(model.source.document.problem(("waivers", index, "rule"), (
                f"found rule '{waiver.rule}'{hint}, expected one of: {', '.join(known)}")))
        elif index not in used and waiver.rule != FROZEN_RULE_NAME:
            problems.append(stale_waiver(model.source.document, index, waiver, why, prefix="policy: "))
    return problems


# --- the rules ------------------------------------------------------------------------------------------

def _live_versions(model: ModelEntry) -> Iterable[tuple[int, str, int, str]]:
    """(version index, label, index of its newest live deployment, environments) of each deployed version."""
    card = model.card
    for label, status in model.states.items():
        if not status.live_in:
            continue
        index = next(i for i, v in enumerate(card.versions) if v.version == label)
        newest = status.live_in[-1]
        deployment_index = max(i for i, d in enumerate(card.deployments) if d is newest)
        yield index, label, deployment_index, ", ".join(d.environment for d in status.live_in)


def _filled(value: Any) -> bool:
    if isinstance(value, BaseModel):
        return any(_filled(getattr(value, name)) for name in type(value).model_fields)
    if isinstance(value, str):
        return bool(value.strip())
    return value not in (None, [], {}, ())


def _required_fields(model: ModelEntry, rules: TierPolicy, context: _Context) -> Iterator[Failure]:
    for path in rules.required_fields:
        parts = tuple(path.split("."))
        value: Any = model.card
        for part in parts:
            value = getattr(value, part) if value is not None else None
        if path == "quantitative_analyses":
            yield from _sliced(model)
        elif not _filled(value):
            yield Failure(parts, f"found no {path}, expected it filled in")


def _sliced(model: ModelEntry) -> Iterator[Failure]:
    latest = model.latest_version
    label = latest.version if latest else None
    sliced = [r for r in model.card.quantitative_analyses
              if (r.version or label) == label and r.slice.strip().casefold() not in OVERALL_SLICES]
    if not sliced:
        of = f" of version {label}" if label else ""
        yield Failure(("quantitative_analyses",), (
            f"found no sliced result{of}, expected at least one result on a subgroup other than the whole test "
            f"set, e.g. {{metric: ..., slice: age >= 60, value: ..., version: \"{label or '...'}\"}}"), label)


def _approvals(model: ModelEntry, rules: TierPolicy, context: _Context) -> Iterator[Failure]:
    for v_index, label, d_index, environments in _live_versions(model):
        approved = [a for a in latest_decisions(model.card.versions[v_index].approvals)
                    if a.decision.value == "approved"]
        for need in rules.approvals:
            found = sorted({a.by for a in approved if person(a.role) == person(need.role)})
            if len(found) < need.count:
                by = f" ({', '.join(found)})" if found else ""
                yield Failure(("deployments", d_index, "version"), (
                    f"version {label} runs in {environments} with {len(found)} approval(s) by a {need.role}{by}, "
                    f"expected at least {need.count} (each approver's latest decision, when it is approved)"),
                    label)


def _metric_thresholds(model: ModelEntry, rules: TierPolicy, context: _Context) -> Iterator[Failure]:
    gates: list[tuple[str, float | None, float | None, str]] = []
    if rules.card_thresholds:
        gates += [(m.name, m.threshold, None, "the card's threshold") if m.higher_is_better
                  else (m.name, None, m.threshold, "the card's threshold")
                  for m in model.card.metrics if m.threshold is not None]
    gates += [(name, bounds.min, bounds.max, "the policy") for name, bounds in rules.metric_thresholds.items()]
    for v_index, label, _, environments in _live_versions(model):
        metrics = model.card.versions[v_index].metrics
        for name, low, high, source in gates:
            value = metrics.get(name)
            if value is None:
                yield Failure(("versions", v_index, "metrics"), (
                    f"version {label} runs in {environments} without a value for {name}, expected one "
                    f"({source} sets a bound)"), label)
            elif (low is not None and value < low) or (high is not None and value > high):
                bound = f"at least {low}" if low is not None and value < low else f"at most {high}"
                yield Failure(("versions", v_index, "metrics", name), (
                    f"version {label} runs in {environments} with {name} {value}, expected {bound} ({source})"),
                    label)


def _evaluation_age(model: ModelEntry, rules: TierPolicy, context: _Context) -> Iterator[Failure]:
    limit = rules.evaluation_max_age_days
    for v_index, label, _, environments in _live_versions(model):
        version = model.card.versions[v_index]
        entry = context.catalog.runs.get(version.run) if version.run else None
        ended = utc_day(entry.record.end_time) if entry else None
        evaluated, how, key = (ended, f"its run {version.run} ended", "run") if ended else \
            (version.date, "its date", "date")
        age = (context.as_of - evaluated).days
        if age > limit:
            yield Failure(("versions", v_index, key), (
                f"version {label} runs in {environments} on an evaluation of {evaluated} ({how}), {age} days "
                f"before {context.as_of}; expected at most {limit} days: evaluate it again"), label)


def _lineage_checks(model: ModelEntry, rules: TierPolicy, context: _Context) -> Iterator[Failure]:
    assert context.lineage is not None
    for check in rules.lineage_checks_as_errors:
        for problem in context.lineage(check):
            if problem.path != model.source.path:
                continue
            yield Failure(_key_path(problem), f"{check}: {problem.message}", _version_of(model, problem.key_path),
                          severity="error")


def _personal_data(model: ModelEntry, rules: TierPolicy, context: _Context) -> Iterator[Failure]:
    for name in model.dataset_names():
        entry = context.catalog.datasets.get(name)
        card = entry.card if entry else None
        if not isinstance(card, DatasetCard) or card.personal_data is None or not card.personal_data.contains:
            continue
        missing = [key for key in ("dpia", "legal_basis") if not _filled(getattr(card.personal_data, key))]
        if missing:
            wanted = " and ".join(f"personal_data.{key}" for key in missing)
            yield Failure(("personal_data",), (
                f"dataset {name} holds personal data and model {model.name} uses it, but it has no {wanted}; "
                "expected a DPIA reference (GDPR Art. 35) and the legal basis (Art. 6) in its dataset card"),
                document=entry.source.document)


def _regulatory_coverage(model: ModelEntry, rules: TierPolicy, context: _Context) -> Iterator[Failure]:
    """Each crosswalk item not covered, at the card field of its first gap (the card's top when it has none)."""
    for item in context.crosswalks.of(model, context.catalog).items:
        if item.status is Coverage.covered:
            continue
        gaps = item.missing
        requirement = item.requirement
        first = next((note for note in gaps if note.dataset is None), None)
        yield Failure(_note_key_path(model, first.key) if first else (), (
            f"{requirement.framework} {requirement.id} ({requirement.title}) is {item.status.value}: "
            f"{'; '.join(map(_gap, gaps))}; expected it covered (see the model's regulatory crosswalk)"),
            version=first.version if first else None)


def _gap(note: Note) -> str:
    """A crosswalk gap with the field that fills it: ``no post-market monitoring plan (monitoring)``."""
    return f"{note.text} ({f'dataset card {note.dataset}: ' if note.dataset else ''}{note.key})"


def _note_key_path(model: ModelEntry, key: str) -> KeyPath:
    """A crosswalk note's key (``versions[1.2.0].approvals``, ``metrics[0].description``) as a key path the card
    has: version labels become list indexes, and the path stops at the first key the card does not hold."""
    parts: list[str | int] = []
    for name, index in _LABELLED.findall(key):
        if name:
            parts.append(name)
        elif parts == ["versions"]:
            labels = [v.version for v in model.card.versions]
            parts.append(labels.index(index) if index in labels else 0)
        elif index.isdigit():
            parts.append(int(index))
    held: list[str | int] = []
    node: Any = model.source.document.data
    for part in parts:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            node = node[part]
        elif isinstance(part, str) and isinstance(node, dict) and part in node:
            node = node[part]
        else:
            break
        held.append(part)
    return tuple(held)


def _monitored(model: ModelEntry, rules: TierPolicy, context: _Context) -> Iterator[Failure]:
    live = list(_live_versions(model))
    if not live:
        return
    _, label, d_index, environments = live[-1]
    plan = model.card.monitoring
    if plan is None:
        yield Failure(("deployments", d_index, "version"), (
            f"version {label} runs in {environments}, but the card has no monitoring plan; expected `monitoring:` "
            "with what is watched, its thresholds and cadence (EU AI Act Art. 72)"), label)
        return
    days = cadence_days(plan)
    if days is None:
        yield Failure(("monitoring", "cadence"), (
            f"found the cadence {plan.cadence!r}, which gives no number of days; expected `cadence_days`, or a "
            "cadence starting with daily, weekly, monthly, quarterly or yearly"))
        return
    found = context.monitoring.models.get(model.name) if context.monitoring else None
    if context.monitoring is None or found is None:
        return  # `validate` reads no results
    last = found.last_evaluated
    if last is None or (context.as_of - last).days > days:
        seen = f"the last on {last}, {(context.as_of - last).days} days before" if last else "none"
        yield Failure(("monitoring", "cadence_days" if plan.cadence_days else "cadence"), (
            f"version {label} runs in {environments} with no monitoring result within {days} days of "
            f"{context.as_of} ({seen}); expected one per cadence"), label)


RULES: dict[str, Rule] = {
    "required_fields": Rule(lambda r: bool(r.required_fields), _required_fields),
    "approvals": Rule(lambda r: bool(r.approvals), _approvals),
    "metric_thresholds": Rule(lambda r: r.card_thresholds or bool(r.metric_thresholds), _metric_thresholds),
    "evaluation_age": Rule(lambda r: r.evaluation_max_age_days is not None, _evaluation_age),
    "lineage_checks": Rule(lambda r: bool(r.lineage_checks_as_errors), _lineage_checks, needs_lineage=True),
    "personal_data": Rule(lambda r: r.personal_data, _personal_data),
    "regulatory_coverage": Rule(lambda r: r.regulatory_coverage, _regulatory_coverage),
    "monitoring": Rule(lambda r: r.monitoring, _monitored),
}


# --- helpers --------------------------------------------------------------------------------------------

_INDEXED = re.compile(r"^(?P<list>versions|deployments)\[(?P<index>\d+)\]")
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_LABELLED = re.compile(r"([^.\[\]]+)|\[([^\]]+)\]")  # as _PART, but a bracket may hold a version label


def _key_path(problem: Problem) -> KeyPath:
    """A problem's key path back as parts: ``versions[0].run`` -> ``("versions", 0, "run")``."""
    return tuple(int(index) if index else name for name, index in _PART.findall(problem.key_path))


def _version_of(model: ModelEntry, key_path: str) -> str | None:
    """The version a finding at ``versions[i]...`` or ``deployments[i]...`` is about."""
    match = _INDEXED.match(key_path)
    if not match:
        return None
    items = getattr(model.card, match["list"])
    index = int(match["index"])
    return items[index].version if index < len(items) else None


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _model_inside(annotation: Any) -> Any:
    """The model class of a field that is a model or an optional one; lists hold no named fields."""
    if _is_model(annotation):
        return annotation
    if getattr(annotation, "__origin__", None) is list:
        return None
    for arg in getattr(annotation, "__args__", ()):
        if _is_model(arg):
            return arg
    return None


__all__ = ["DEFAULT_TIER", "RULES", "TIERS", "LoadedPolicy", "ModelPolicy", "Policy", "PolicyReport", "RuleOutcome",
           "TierPolicy", "evaluate_policy", "load_policy"]
