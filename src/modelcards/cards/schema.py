"""The card format, version 1, declared once.

The JSON Schema (``modelcards schema``), the field reference in
``docs/reference/card-format.md`` and validation all come from these classes.
Field names follow Mitchell et al. (2019) and map onto Google's Model Card Toolkit
and Hugging Face card metadata; see ``export`` notes in each description.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict, model_validator

FORMAT_VERSION = 1
SLUG_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
CUSTOM_NAMESPACE = "custom"

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError(f"found {value!r}, expected a date written YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"found {value!r}, which is not a real date ({exc}); expected YYYY-MM-DD") from None


def _no_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("found an empty string, expected some text")
    return value


Date = Annotated[dt.date, BeforeValidator(_parse_date), Field(json_schema_extra={"type": "string", "format": "date"})]
Slug = Annotated[str, Field(pattern=SLUG_PATTERN, max_length=100)]
Text = Annotated[str, AfterValidator(_no_blank), Field(json_schema_extra={"pattern": r"\S"})]
Scalar = str | int | float | bool
# Strict, as the JSON Schema is: pydantic would otherwise accept '0.5', true and 'yes' here.
Number = Annotated[float, Strict()]
Flag = Annotated[bool, Strict()]


class _Section(BaseModel):
    """Unknown keys are errors; the loader turns them into "did you mean" hints."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=False)


class Status(str, Enum):
    draft = "draft"
    staging = "staging"
    production = "production"
    deprecated = "deprecated"
    archived = "archived"


class RiskTier(str, Enum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class Audience(str, Enum):
    """Who may read something, least to most trusted: each audience also sees the levels before it."""

    public = "public"
    internal = "internal"
    restricted = "restricted"


AUDIENCE_HELP = (
    "Who may read {what}: `public`, `internal` or `restricted` (each audience also sees the levels before "
    "it). A build for an audience (`modelcards build --audience public`) leaves out everything marked above "
    "it, from every file of the site.")
FIELD_AUDIENCE_HELP = (
    "Audiences of single fields, sections and `custom:` keys, above the card's own: `field: level`, a field "
    "of a section written `section.field`, a custom key `custom.key`, e.g. `{risk_rationale: internal, "
    "model_details.architecture: internal, custom.cost_centre: restricted}`. A build for a lower audience "
    "leaves the field out as if it were not written. `name`, `title`, `kind`, `audience` and "
    "`field_audience` cannot be marked.")


class Owner(_Section):
    name: Text = Field(description="Person or team accountable for the model.")
    contact: str | None = Field(None, description="E-mail address, chat channel or on-call rotation.")
    role: str | None = Field(None, description="For example `owner`, `maintainer`, `reviewer`.")


class IOField(_Section):
    name: Text = Field(description="Name of the input or output, e.g. a column name.")
    type: str | None = Field(None, description="Data type, e.g. `float`, `category`, `image`.")
    description: str | None = Field(None, description="What it means, units, allowed range.")


class ModelDetails(_Section):
    type: str | None = Field(None, description="Task type, e.g. `binary classifier`, `regressor`. HF `pipeline_tag`.")
    framework: str | None = Field(None, description="Library and version, e.g. `scikit-learn 1.5`. HF `library_name`.")
    architecture: str | None = Field(None, description="Model architecture. MCT `model_parameters.model_architecture`.")
    inputs: list[IOField] = Field(default_factory=list, description="Input features. MCT `input_format`.")
    outputs: list[IOField] = Field(default_factory=list, description="Outputs. MCT `output_format`.")
    base_model: str | None = Field(None, description="Model this one is fine-tuned or derived from. HF `base_model`.")
    references: list[str] = Field(default_factory=list, description="Papers, design docs, tickets.")
    citation: str | None = Field(None, description="How to cite the model.")


class IntendedUse(_Section):
    primary_uses: list[Text] = Field(default_factory=list, description="What the model is for. MCT `use_cases`.")
    primary_users: list[Text] = Field(default_factory=list, description="Who is meant to use it. MCT `users`.")
    out_of_scope: list[Text] = Field(default_factory=list, description="Uses the model must not be put to.")


class Factor(_Section):
    name: Text = Field(description="A group, instrument or environment that can change performance.")
    description: str | None = Field(None, description="Why it matters and how it was evaluated.")


class Metric(_Section):
    name: Slug = Field(description="Key used in `versions[].metrics`, e.g. `roc_auc`.")
    description: str | None = Field(None, description="What the metric measures and on which data.")
    higher_is_better: Flag = Field(True, description="Direction used for thresholds and for change arrows.")
    threshold: Number | None = Field(None, description="Release gate: values on the wrong side are flagged.")


class DataSection(_Section):
    datasets: list[Slug] = Field(default_factory=list, description="Names of dataset cards.")
    description: str | None = Field(None, description="How the data was selected, sampled and split.")
    preprocessing: str | None = Field(None, description="Cleaning and feature engineering applied.")


class SliceResult(_Section):
    metric: Slug = Field(description="A metric name from `metrics`.")
    slice: Text = Field(description="The subgroup, e.g. `age >= 60` or `all`.")
    value: Number = Field(description="The measured value.")
    confidence_interval: tuple[Number, Number] | None = Field(None, description="`[low, high]`.")
    version: str | None = Field(None, description="Model version measured; the latest when omitted.")


class EthicalConsideration(_Section):
    name: Text = Field(description="The risk or concern.")
    mitigation: str | None = Field(None, description="What was done about it. MCT `mitigation_strategy`.")


class DataRef(_Section):
    dataset: Slug = Field(description="Name of a dataset card.")
    version: str | None = Field(None, description="Dataset version used.")
    digest: str | None = Field(None, description="Content digest (md5, sha256) of the data used.")
    role: Literal["training", "evaluation", "validation", "other"] = Field(
        "training", description="What the data was used for."
    )


class CodeRef(_Section):
    repo: str | None = Field(None, description="Repository URL or name.")
    commit: str | None = Field(None, description="Commit the model was trained from.")
    path: str | None = Field(None, description="Training entry point inside the repository.")


ProjectPath = Annotated[Text, Field(description="A file inside the project, relative to the folder of `mkdocs.yml`.")]
PositiveInt = Annotated[int, Strict(), Field(ge=1)]


class ComputeExplanation(_Section):
    model: ProjectPath = Field(description=(
        "The model: a `.skops` file, an MLflow model directory (holding `MLmodel`), or a `.pkl`/`.joblib` "
        "file, which is loaded only with `trusted: true`. Relative to the folder of `mkdocs.yml`."))
    data: ProjectPath = Field(description="Rows to explain: a `.csv` or `.parquet` file with the feature columns.")
    target: str | None = Field(None, description="Target column in the data, left out of the features.")
    features: list[Text] | None = Field(None, description="Feature columns; by default every column but `target`.")
    sample_size: PositiveInt = Field(1000, description=(
        "Rows explained. Data with more rows is sampled: `rng = numpy.random.default_rng(seed)`, then "
        "`sorted(rng.choice(rows, sample_size, replace=False))`; smaller data is explained whole."))
    background_size: PositiveInt = Field(100, description=(
        "Background rows for the linear, permutation and kernel explainers: the next draw from the same `rng`, "
        "`sorted(rng.choice(rows, min(background_size, rows), replace=False))` over all rows. SHAP integrates "
        "over every one of them (on its own, SHAP would cut a background of more than 100 rows down to 100), "
        "so the time taken grows with it; the page's *Background rows* is the number SHAP used. The tree "
        "explainer uses none."))
    seed: Annotated[int, Strict()] = Field(0, description="Seed for the sample and the background.")
    explainer: Literal["auto", "tree", "linear", "permutation", "kernel"] = Field(
        "auto", description="`auto`: tree for tree ensembles, linear for linear models, permutation otherwise.")
    output: str | None = Field(None, description="Class to explain; by default the positive class of a binary "
                                                 "classifier and every class of a multiclass one.")
    trusted_types: list[Text] = Field(default_factory=list, description=(
        "skops types you have reviewed and trust beyond skops' own list, e.g. `sklearn.tree._tree.Tree` "
        "for tree models."))
    trusted: Flag = Field(False, description="Trust whoever saved the model: allows pickle and joblib files, which "
                                             "run code when loaded, and every type in a skops file.")


class EmbedExplanation(_Section):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={
        "oneOf": [{"required": [key]} for key in ("values", "summary", "importance")]})

    values: ProjectPath | None = Field(None, description=(
        "SHAP values computed elsewhere: `.npy` (rows × features, or rows × features × outputs; give "
        "`features`), or `.csv`/`.parquet` with one column per feature."))
    summary: ProjectPath | None = Field(None, description=(
        "A table of mean absolute SHAP value per feature instead of values: `.csv`/`.parquet` with columns `feature` and "
        "`mean_abs_shap` (and `output` for several outputs)."))
    importance: dict[str, Annotated[Number, Field(ge=0)]] | None = Field(
        None, description="The same summary written in the card: `feature: mean absolute SHAP value`.")
    features: list[Text] | None = Field(None, description="Feature names, in the order of the values' columns.")
    data: ProjectPath | None = Field(None, description="Feature values of the same rows, which colour the "
                                                       "beeswarm plot.")
    outputs: list[Text] | None = Field(None, description="Labels of the outputs (classes) of 3-D values.")
    base_value: Number | dict[str, Number] | None = Field(
        None, description="The explainer's expected value, or one per output label.")
    explainer: str | None = Field(None, description="Explainer used, e.g. `TreeExplainer`.")
    shap_version: str | None = Field(None, description="SHAP version used.")
    source: str | None = Field(None, description="Where the values came from, e.g. the script that computed them.")

    @model_validator(mode="after")
    def _one_source(self) -> EmbedExplanation:
        given = [key for key in ("values", "summary", "importance") if getattr(self, key) is not None]
        if len(given) != 1:
            found = f"{' and '.join(given)}" if given else "none of them"
            raise ValueError(f"found {found}, expected exactly one of values, summary or importance")
        return self


class Explainability(_Section):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={
        "oneOf": [{"required": ["compute"]}, {"required": ["embed"]}]})

    compute: ComputeExplanation | None = Field(None, description="Compute SHAP values at build time (cached).")
    embed: EmbedExplanation | None = Field(None, description="Show SHAP values or a summary computed elsewhere.")

    @model_validator(mode="after")
    def _one_mode(self) -> Explainability:
        if (self.compute is None) == (self.embed is None):
            found = "both" if self.compute else "neither"
            raise ValueError(f"found {found}, expected exactly one of compute or embed")
        return self


class DesignChoice(_Section):
    name: Text = Field(description="A key design choice, e.g. `logistic regression over gradient boosting`.")
    rationale: str | None = Field(None, description="Why, and the assumptions it rests on. Annex IV 2(b).")


class Standard(_Section):
    name: Text = Field(description="A standard or common specification applied, e.g. `ISO/IEC 42001:2023`.")
    scope: str | None = Field(None, description="Which parts of the system or process it was applied to.")
    reference: str | None = Field(None, description="A link or document id where its application is recorded.")


class HumanOversight(_Section):
    description: str | None = Field(None, description=(
        "How people oversee the model in use and can override or stop it (EU AI Act Art. 14, Annex IV 2(e))."))
    measures: list[Text] = Field(default_factory=list, description=(
        "Concrete measures, e.g. `a cytopathologist reads every flagged case`."))


class MonitoringThreshold(_Section):
    metric: Slug = Field(description=(
        "A monitored metric as the results name it, e.g. `roc_auc`, or `drift_share` (Evidently's share of "
        "drifted columns)."))
    min: Number | None = Field(None, description="The lowest value in the band; a result below it is an alert.")
    max: Number | None = Field(None, description="The highest value in the band; a result above it is an alert.")

    @model_validator(mode="after")
    def _a_bound(self) -> MonitoringThreshold:
        if self.min is None and self.max is None:
            raise ValueError("found neither min nor max, expected at least one, e.g. {metric: roc_auc, min: 0.8}")
        return self


class MonitoringPlan(_Section):
    description: Text = Field(description=(
        "The post-market monitoring plan: what is watched in production and how (EU AI Act Art. 72)."))
    monitored: list[Text] = Field(default_factory=list, description=(
        "What is monitored, e.g. `roc_auc on labelled cases`, `input drift`."))
    thresholds: list[MonitoringThreshold] = Field(default_factory=list, description=(
        "The band each monitored metric must stay in, e.g. `{metric: roc_auc, min: 0.8}` or "
        "`{metric: drift_share, max: 0.3}`. A result outside it is an alert on its deployment's page."))
    cadence: str | None = Field(None, description="How often results are reviewed, e.g. `weekly`.")
    cadence_days: PositiveInt | None = Field(None, description=(
        "Days between results before monitoring counts as stale. When omitted, read from `cadence` if it "
        "starts with daily (1), weekly (7), monthly (31), quarterly (92) or yearly (366)."))
    respond_within_days: PositiveInt = Field(7, description=(
        "Days an alert may go without a `feedback` entry of kind `incident` for its version (dated on or after "
        "the alert) before it is a warning."))
    owner: str | None = Field(None, description="Who reviews the results.")
    escalation: str | None = Field(None, description="What happens when a result is out of bounds, and who is told.")


class FeedbackKind(str, Enum):
    incident = "incident"
    user_report = "user_report"
    label_correction = "label_correction"
    fairness_complaint = "fairness_complaint"


class FeedbackStatus(str, Enum):
    open = "open"
    investigating = "investigating"
    resolved = "resolved"
    wont_fix = "wont_fix"


class Feedback(_Section):
    date: Date = Field(description="When it was reported, `YYYY-MM-DD`.")
    kind: FeedbackKind = Field(description=(
        "`incident`, `user_report`, `label_correction` or `fairness_complaint`."))
    summary: Text = Field(description="What was reported.")
    version: Text = Field(description="The model version it is about; must be one of `versions`.")
    source: str | None = Field(None, description="Who or what reported it, e.g. `on-call`, `clinic B`, `Jira`.")
    link: str | None = Field(None, description="The ticket or report: a link or an id.")
    environment: str | None = Field(None, description="Where it was seen, e.g. `production`.")
    status: FeedbackStatus = Field(FeedbackStatus.open, description=(
        "`open`, `investigating`, `resolved` or `wont_fix`."))
    resolved_by: str | None = Field(None, description="The later version that fixed it; one of `versions`.")


class DocumentReference(_Section):
    description: str | None = Field(None, description="A short account of it.")
    reference: str | None = Field(None, description="Where the full document is: a link or document id.")


class OverrideNote(_Section):
    by: Text = Field(description="Who decided to deploy out of order.")
    reason: Text = Field(description="Why.")


class Waiver(_Section):
    rule: Text = Field(description=(
        "The policy rule waived, by the name failures are reported with, e.g. `required_fields` or "
        "`approvals`."))
    version: str | None = Field(None, description="The version it applies to; every version when omitted.")
    by: Text = Field(description="Who granted the exception.")
    reason: Text = Field(description="Why the failure is accepted.")
    expires: Date = Field(description="The last day it holds, `YYYY-MM-DD`; after it the rule fails again.")


class Decision(str, Enum):
    approved = "approved"
    rejected = "rejected"
    changes_requested = "changes_requested"


class Approval(_Section):
    by: Text = Field(description=(
        "Who decided: a name as the run records and git write it. Someone who trained the version (its run's "
        "`user`) or added it to the card in git may not approve it."))
    role: Text = Field(description="In which role, e.g. `model risk reviewer`, `product owner`.")
    decision: Decision = Field(description="`approved`, `rejected` or `changes_requested`.")
    date: Date = Field(description="When, `YYYY-MM-DD`.")
    note: Text = Field(description="The rationale, or what must change.")
    evidence: str | None = Field(None, description="What the decision rests on: a ticket id or a link.")


class Version(_Section):
    version: Text = Field(description="Version label, e.g. `1.2.0`. Quote it: `\"1.10\"` is not the number 1.1.")
    date: Date = Field(description="Release date, `YYYY-MM-DD`.")
    changes: str | None = Field(None, description="What changed since the previous version.")
    reason: str | None = Field(None, description="Why the change was made.")
    metrics: dict[str, Number] = Field(default_factory=dict, description="Metric values, keyed by `metrics[].name`.")
    params: dict[str, Scalar] = Field(default_factory=dict, description="Training settings and hyperparameters.")
    data: list[DataRef] = Field(default_factory=list, description="Data versions used.")
    code: CodeRef | None = Field(None, description="Code that produced the version.")
    run: str | None = Field(None, description=(
        "Tracker run that produced it: `mlflow:<run_id>`, `openlineage:<runId>`, or a DVC stage pinned to the "
        "git commit that recorded it, `dvc:<stage>@<commit>` (read from git, or from a `modelcards pull dvc` "
        "snapshot). `dvc:<stage>` alone follows today's `dvc.lock`."))
    explainability: Explainability | None = Field(
        None, description="SHAP global importance: `compute` it at build time or `embed` values made elsewhere.")
    approvals: list[Approval] = Field(default_factory=list, description=(
        "Sign-offs, oldest first. The version's state (draft, in review, approved, ...) is derived from them "
        "and from `deployments`; see *Version states* below."))
    audience: Audience | None = Field(None, description=AUDIENCE_HELP.format(
        what="this version, its deployments, feedback and results, and the runs only it uses; the card's "
             "audience when omitted"))


class Deployment(_Section):
    environment: Text = Field(description="Where it runs, e.g. `production`, `staging`, `eu-batch`.")
    version: Text = Field(description="Model version deployed; must be one of `versions`.")
    date: Date = Field(description="When, `YYYY-MM-DD`.")
    by: Text = Field(description="Who deployed it.")
    reason: str | None = Field(None, description="Why it was deployed.")
    rollback_of: str | None = Field(None, description="The version this deployment rolled back, if it is a rollback.")
    override: OverrideNote | None = Field(None, description=(
        "A documented decision to deploy out of the configured environment order, e.g. to production before "
        "staging."))


class ModelCard(_Section):
    """A model card: one file per model, `kind: model` (the default)."""

    kind: Literal["model"] = Field("model", description="`model` (may be omitted) or `dataset`.")
    name: Slug = Field(description="Unique identifier, used in URLs. Lowercase letters, digits, `-`, `_`, `.`.")
    title: Text = Field(description="Human-readable name shown on the site.")
    summary: str | None = Field(None, description="One or two sentences: what the model does. MCT `overview`.")
    owners: list[Owner] = Field(default_factory=list, description="Accountable people or teams.")
    tags: list[Slug] = Field(default_factory=list, description="Free-form labels; each gets a page. HF `tags`.")
    status: Status = Field(Status.draft, description="Lifecycle stage.")
    risk_tier: RiskTier | None = Field(None, description="Risk classification used by your review process.")
    risk_rationale: str | None = Field(None, description=(
        "Why the model has its risk tier. SageMaker `ExplanationsForRiskRating`."))
    license: str | None = Field(None, description="SPDX identifier or license name. HF `license`.")
    model_details: ModelDetails = Field(default_factory=ModelDetails, description="Model details.")
    intended_use: IntendedUse = Field(default_factory=IntendedUse, description="Intended use.")
    factors: list[Factor] = Field(default_factory=list, description="Relevant factors.")
    metrics: list[Metric] = Field(default_factory=list, description="Metrics, with optional thresholds.")
    training_data: DataSection = Field(default_factory=DataSection, description="Training data.")
    evaluation_data: DataSection = Field(default_factory=DataSection, description="Evaluation data.")
    quantitative_analyses: list[SliceResult] = Field(default_factory=list, description="Sliced results.")
    ethical_considerations: list[EthicalConsideration] = Field(
        default_factory=list, description="Risks and their mitigations."
    )
    caveats: list[Text] = Field(default_factory=list, description="Known limitations.")
    recommendations: list[Text] = Field(default_factory=list, description="Advice for users of the model.")
    design_choices: list[DesignChoice] = Field(default_factory=list, description=(
        "Key design choices and their rationale. EU AI Act Annex IV 2(b)."))
    tradeoffs: list[Text] = Field(default_factory=list, description=(
        "Trade-offs made, e.g. recall over precision. MCT `considerations.tradeoffs`."))
    human_oversight: HumanOversight | None = Field(None, description="Human oversight measures. Annex IV 2(e).")
    risk_management: DocumentReference | None = Field(None, description=(
        "The risk management system the model is covered by (EU AI Act Art. 9, Annex IV 5)."))
    standards: list[Standard] = Field(default_factory=list, description=(
        "Harmonised standards and common specifications applied. Annex IV 7."))
    declaration_of_conformity: DocumentReference | None = Field(None, description=(
        "The EU declaration of conformity, where one is required. Annex IV 8."))
    monitoring: MonitoringPlan | None = Field(None, description=(
        "The post-market monitoring plan. EU AI Act Art. 72, Annex IV 9."))
    feedback: list[Feedback] = Field(default_factory=list, description=(
        "Feedback from production, oldest first: incidents, user reports, label corrections and fairness "
        "complaints, each against the version it is about and, once fixed, the version that resolved it."))
    waivers: list[Waiver] = Field(default_factory=list, description=(
        "Documented exceptions to policy rules: each turns a failure into a visible waiver until it expires."))
    versions: list[Version] = Field(default_factory=list, description="Released versions, oldest first.")
    deployments: list[Deployment] = Field(default_factory=list, description="Deployment log, oldest first.")
    custom: dict[str, Any] = Field(
        default_factory=dict,
        description="Your own fields. Kept and shown on the page as they are; never validated.",
    )
    audience: Audience | None = Field(None, description=AUDIENCE_HELP.format(
        what="the whole card; the project's `audience_default` when omitted"))
    field_audience: dict[str, Audience] = Field(default_factory=dict, description=FIELD_AUDIENCE_HELP)


class DatasetVersion(_Section):
    version: Text = Field(description="Version label.")
    digest: str | None = Field(None, description="Content digest (md5, sha256).")
    date: Date | None = Field(None, description="When this version was produced, `YYYY-MM-DD`.")
    rows: int | None = Field(None, ge=0, description="Number of records.")
    description: str | None = Field(None, description="What is different in this version.")
    audience: Audience | None = Field(None, description=AUDIENCE_HELP.format(
        what="this dataset version; the card's audience when omitted"))


class Datasheet(_Section):
    """Datasheet fields (Gebru et al.), named after Croissant's responsible-AI vocabulary (`rai:`)."""

    motivation: str | None = Field(None, description="Why the dataset was created, and by whom.")
    data_collection: str | None = Field(None, description="How the data was collected. Croissant `rai:dataCollection`.")
    data_collection_type: list[Text] = Field(default_factory=list, description=(
        "Kinds of collection, e.g. `clinical records`, `web scraping`. Croissant `rai:dataCollectionType`."))
    data_collection_timeframe: str | None = Field(None, description=(
        "When the data was collected. Croissant `rai:dataCollectionTimeframe`."))
    data_preprocessing_protocol: str | None = Field(None, description=(
        "Cleaning and transformation applied. Croissant `rai:dataPreprocessingProtocol`."))
    data_annotation_protocol: str | None = Field(None, description=(
        "How labels were produced, and by whom. Croissant `rai:dataAnnotationProtocol`."))
    data_biases: list[Text] = Field(default_factory=list, description="Known biases. Croissant `rai:dataBiases`.")
    data_limitations: list[Text] = Field(default_factory=list, description=(
        "Known limitations. Croissant `rai:dataLimitations`."))
    data_use_cases: list[Text] = Field(default_factory=list, description=(
        "Uses the data is and is not suited for. Croissant `rai:dataUseCases`."))
    data_release_maintenance: str | None = Field(None, description=(
        "Who maintains it, and how updates and errata are released. Croissant `rai:dataReleaseMaintenance`."))
    retention: str | None = Field(None, description="How long the data is kept, and how it is deleted.")


class PersonalData(_Section):
    contains: Flag = Field(description="Whether the data holds personal data about people (GDPR Art. 4(1)).")
    description: str | None = Field(None, description=(
        "Which personal or sensitive information it holds. Croissant `rai:personalSensitiveInformation`."))
    special_categories: list[Text] = Field(default_factory=list, description=(
        "GDPR Art. 9 special categories held, e.g. `health`."))
    legal_basis: str | None = Field(None, description="The GDPR Art. 6 (and Art. 9) legal basis for processing it.")
    dpia: str | None = Field(None, description="Reference of the data protection impact assessment (GDPR Art. 35).")


class DatasetCard(_Section):
    """A dataset card: `kind: dataset`. Datasets get their own page listing the models that use them."""

    kind: Literal["dataset"] = Field(description="Must be `dataset`.")
    name: Slug = Field(description="Unique dataset identifier, referenced by model cards.")
    title: str | None = Field(None, description="Human-readable name; defaults to `name`.")
    description: str | None = Field(None, description="What the data is, how it was collected.")
    source: str | None = Field(None, description="Where it comes from: URI, system or publication.")
    aliases: list[Text] = Field(
        default_factory=list,
        description="Other names trackers know the data by, e.g. an MLflow dataset name, a DVC path "
                    "(`data/prepared.csv`) or an OpenLineage `namespace/name`; runs reading them link here.",
    )
    owner: Owner | None = Field(None, description="Who is accountable for the data.")
    license: str | None = Field(None, description="License or terms of use.")
    tags: list[Slug] = Field(default_factory=list, description="Free-form labels.")
    datasheet: Datasheet = Field(default_factory=Datasheet, description="Datasheet: collection, preprocessing, "
                                                                        "labelling, biases, maintenance.")
    personal_data: PersonalData | None = Field(None, description=(
        "Whether the data holds personal data, and on what legal basis it is processed."))
    versions: list[DatasetVersion] = Field(default_factory=list, description="Known versions, oldest first.")
    custom: dict[str, Any] = Field(default_factory=dict, description="Your own fields, kept and shown.")
    audience: Audience | None = Field(None, description=AUDIENCE_HELP.format(
        what="the whole card; the project's `audience_default` when omitted, and at least `internal` when "
             "`personal_data.contains` is true"))
    field_audience: dict[str, Audience] = Field(default_factory=dict, description=FIELD_AUDIENCE_HELP)


Card = ModelCard | DatasetCard


def card_json(card: ModelCard | DatasetCard) -> str:
    """The card as the site's catalog JSON downloads hold it: encoded as ``export.json_text`` encodes them
    (compact, keys sorted), unset fields left out (a card has no nulls)."""
    return json.dumps(card.model_dump(mode="json", exclude_none=True), sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))


def card_class(data: Any) -> type[ModelCard] | type[DatasetCard]:
    """Which card type a parsed YAML mapping is, by its `kind`."""
    if isinstance(data, dict) and data.get("kind") == "dataset":
        return DatasetCard
    return ModelCard


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a card file, for editors and ``modelcards schema``."""
    model = ModelCard.model_json_schema(ref_template="#/$defs/{model}")
    dataset = DatasetCard.model_json_schema(ref_template="#/$defs/{model}")
    defs = {**model.pop("$defs", {}), **dataset.pop("$defs", {})}
    defs["ModelCard"] = model
    defs["DatasetCard"] = dataset
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://modelcards.dev/schema/card-v1.json",
        "title": "modelcards card, format version 1",
        "description": "A model card (kind: model, the default) or a dataset card (kind: dataset).",
        "if": {"properties": {"kind": {"const": "dataset"}}, "required": ["kind"]},
        "then": {"$ref": "#/$defs/DatasetCard"},
        "else": {"$ref": "#/$defs/ModelCard"},
        "$defs": dict(sorted(defs.items())),
    }
