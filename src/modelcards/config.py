"""Settings, declared once.

The MkDocs plugin builds its config scheme from ``SETTINGS`` and
``docs/reference/configuration.md`` is generated from it, so a setting cannot
exist without its documentation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("cards_dir", str, "cards",
            "Folder holding the card files (`*.yml`, `*.yaml`), relative to `mkdocs.yml`."),
    Setting("prefix", str, "",
            "Folder inside the site for the generated pages. Empty puts the model catalog on the home page."),
    Setting("edit_uri", str, "",
            "Path from `repo_url` to a card file's edit view, e.g. `edit/main/` or `-/edit/main/`. "
            "Empty uses MkDocs' `edit_uri` with the docs folder taken off. "
            "Cards get an *Edit this card* link only when `repo_url` is set."),
    Setting("runs", list, [],
            "Run exports to read, relative to `mkdocs.yml`: files or folders from `modelcards pull`, MLflow "
            "(`mlruns/`, `run.json`, search CSV), DVC (a folder with `dvc.yaml`, `dvc exp show --json`) or "
            "OpenLineage (`.jsonl`). Card versions name their run with `run: mlflow:<run id>`."),
    Setting("cache_dir", str, ".modelcards-cache",
            "Folder for cached SHAP explanations and plots, relative to `mkdocs.yml`, keyed by the content of the "
            "model and data files, the settings and the SHAP version. Builds running at once can share it; "
            "delete it to compute everything again."),
    Setting("explain_workers", int, 0,
            "Processes computing SHAP explanations at once when several versions need it; 0 uses every core."),
    Setting("lineage_checks", dict, {},
            "Severity of each lineage check: `error`, `warning` (the default) or `off`, e.g. "
            "`{no_run: off, no_data_version: error}`. The checks: `no_data_version`, `no_code_commit`, `no_run`, "
            "`unknown_dataset`, `cycle` (see the *Lineage health* page). `--strict` turns warnings into errors."),
    Setting("lineage_depth", int, 2,
            "How many runs upstream a model page's lineage diagram reaches: 1 shows the run that produced each "
            "version and the data it read, 2 also the runs that made that data."),
    Setting("overview_cap", int, 400,
            "Most nodes the lineage overview draws as a diagram; above it the overview is a table, so a large "
            "catalog never becomes a graph the browser cannot lay out."),
    Setting("secret_keys", list, [],
            "Extra regular expressions (case-insensitive) for keys whose values are masked wherever they appear: "
            "run params, tags, environment and any other mapping in run metadata, `name=value` inside a text, "
            "and card fields (where such a value is an error). On top of the built-in key words (password, "
            "secret, token, api key, credential, auth, webhook, connection string, `<provider>_key` such as "
            "`stripe_key`, ...). `modelcards pull` applies them too."),
    Setting("secret_values", list, [],
            "Extra regular expressions for text to mask wherever it appears in run metadata (every field, "
            "metric names and dataset namespaces included) and in problem messages, and to refuse in cards. On "
            "top of the built-in credential shapes, taken from the gitleaks and detect-secrets rules: AWS, "
            "Azure, Google, GitHub, GitLab, Slack, Stripe, OpenAI, Anthropic, Hugging Face, npm, PyPI, "
            "SendGrid, Twilio, Mailgun, Databricks, Discord, Telegram, Shopify and Heroku keys and tokens, "
            "JWTs, private keys, `user:password@` in URLs and `password=` in connection strings (see the "
            "runs reference). `modelcards pull` applies them too."),
)


@dataclass(frozen=True)
class Settings:
    """Everything the core needs to know, resolved to absolute paths."""

    project_dir: Path
    cards_dir: Path
    prefix: str = ""
    repo_url: str | None = None
    edit_uri: str = ""
    site_name: str = "Model cards"
    runs: tuple[str, ...] = ()
    cache_dir: Path | None = None  # None: no cache (explanations are computed on every build)
    explain_workers: int = 0
    lineage_checks: dict[str, str] = field(default_factory=dict)
    lineage_depth: int = 2
    overview_cap: int = 400
    directory_urls: bool = True  # MkDocs' use_directory_urls: pages are folders (a/b/) rather than a/b.html
    secret_keys: tuple[str, ...] = ()
    secret_values: tuple[str, ...] = ()

    def commit_url(self, commit: str) -> str | None:
        """Where a commit can be seen, when the site has a ``repo_url``."""
        return f"{self.repo_url.rstrip('/')}/commit/{quote(commit)}" if self.repo_url else None

    def edit_url(self, card_path: str) -> str | None:
        """Where a card (path relative to the project) can be edited, if anywhere."""
        if not self.repo_url:
            return None
        parts = [self.repo_url.rstrip("/"), self.edit_uri.strip("/"), quote(card_path)]
        return "/".join(part for part in parts if part)

    @property
    def page_prefix(self) -> str:
        prefix = self.prefix.strip("/")
        return f"{prefix}/" if prefix else ""


def settings_from(options: dict[str, Any], *, project_dir: Path, repo_url: str | None = None,
                  docs_edit_uri: str | None = None, docs_dir_name: str = "docs",
                  site_name: str = "Model cards", directory_urls: bool = True) -> Settings:
    """Resolve plugin options (names from ``SETTINGS``) against a project folder."""
    values = {setting.name: options.get(setting.name, setting.default) for setting in SETTINGS}
    edit_uri = values["edit_uri"]
    if not edit_uri and docs_edit_uri:
        # MkDocs' edit_uri points into the docs folder; cards live beside it.
        edit_uri = docs_edit_uri.rstrip("/")
        if edit_uri.endswith("/" + docs_dir_name):
            edit_uri = edit_uri[: -len(docs_dir_name) - 1]
    return Settings(
        project_dir=project_dir,
        cards_dir=(project_dir / values["cards_dir"]).resolve(),
        prefix=values["prefix"],
        repo_url=repo_url,
        edit_uri=edit_uri,
        site_name=site_name,
        runs=tuple(values["runs"]),
        cache_dir=(project_dir / values["cache_dir"]).resolve(),
        explain_workers=values["explain_workers"],
        lineage_checks=dict(values["lineage_checks"]),
        lineage_depth=values["lineage_depth"],
        overview_cap=values["overview_cap"],
        directory_urls=directory_urls,
        secret_keys=tuple(values["secret_keys"]),
        secret_values=tuple(values["secret_values"]),
    )
