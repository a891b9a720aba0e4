"""Settings, declared once.

``SETTINGS`` declares every option of the plugin: its type, default, help, what a valid value is, and how
the core gets it (a folder resolved against the project, say). ``Settings``, the MkDocs plugin's config
scheme and ``docs/reference/configuration.md`` are all made from it, so a setting cannot exist without its
check and its documentation. Options are checked when settings are loaded, each wrong value an error at
its line of mkdocs.yml, before anything is built.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, make_dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

import yaml

from .errors import EnvironmentProblem, ModelcardsError, Problem, sort_problems

OPTION_PREFIX = "plugins.modelcards"


# --- what a valid value is: each check returns what was wrong, or None ---------------------------------
# What was wrong is a message, or (the key or index inside the value that is wrong, the message).

Wrong = str | tuple[str | int, str] | None

def _described(value: Any) -> str:
    """A value as it reads in YAML: 'text', true, 3, [a, b]."""
    if isinstance(value, str):
        return repr(value)
    return json.dumps(value, default=str)


def _text(value: Any) -> Wrong:
    return None if isinstance(value, str) else f"found {_described(value)}, expected text"


def _optional_text(value: Any) -> Wrong:
    return None if value is None or isinstance(value, str) else f"found {_described(value)}, expected a path or null"


def _texts(value: Any) -> Wrong:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return None
    return f"found {_described(value)}, expected a list of paths, e.g. [runs]"


def _count(value: Any) -> Wrong:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return None
    return f"found {_described(value)}, expected a whole number, 0 or more"


def _count_or_null(value: Any) -> Wrong:
    if value is None or _count(value) is None:
        return None
    return f"found {_described(value)}, expected a whole number, 0 or more, or null"


def _flag(value: Any) -> Wrong:
    return None if isinstance(value, bool) else f"found {_described(value)}, expected true or false"


def _patterns(value: Any) -> Wrong:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return f"found {_described(value)}, expected a list of regular expressions"
    for index, pattern in enumerate(value):
        try:
            re.compile(pattern)
        except re.error as exc:
            return index, f"found the pattern {pattern!r}, which is not a regular expression: {exc}"
    return None


def _lineage_checks(value: Any) -> Wrong:
    from .lineage.checks import CHECKS, SEVERITIES  # the checks are the lineage stage's own

    if not isinstance(value, dict):
        return f"found {_described(value)}, expected a mapping of check to severity, e.g. {{no_run: off}}"
    for name, severity in value.items():
        if name not in CHECKS:
            return name, f"found check {name!r}, expected one of {', '.join(CHECKS)}"
        if _severity(severity) not in SEVERITIES:
            return name, f"found severity {_described(severity)}, expected one of {', '.join(SEVERITIES)}"
    return None


def _environments(value: Any) -> Wrong:
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        return (f"found {_described(value)}, expected a list of environment names, first to last, "
                "e.g. [staging, production]")
    for index, name in enumerate(value):
        if name in value[:index]:
            return index, (f"found {name!r} a second time (first at [{value.index(name)}]), expected each "
                           "environment once")
    return None


def _scheduler_address(value: Any) -> Wrong:
    if value is None or (isinstance(value, str) and re.fullmatch(r"(tcp|tls|ucx|inproc)://\S+", value)):
        return None
    return f"found {_described(value)}, expected a Dask scheduler's address, e.g. tcp://scheduler:8786, or null"


def _plot_choice(value: Any) -> Wrong:
    from .explain.plots import PLOT_CHOICES  # the choices are the explain stage's own

    return None if value in PLOT_CHOICES else f"found {_described(value)}, expected one of {', '.join(PLOT_CHOICES)}"


def _download_formats(value: Any) -> Wrong:
    from .export import FORMATS  # the choices are the exporters' own

    expected = f"expected a list of export formats, any of {', '.join(FORMATS)}, or []"
    if not isinstance(value, list):
        return f"found {_described(value)}, {expected}"
    for index, name in enumerate(value):
        if name not in FORMATS:
            return index, f"found {_described(name)}, {expected}"
        if name in value[:index]:
            return index, f"found {name!r} a second time (first at [{value.index(name)}]), expected each format once"
    return None


AUDIENCES = ("public", "internal", "restricted")  # the card schema's ``Audience``, least trusted first


def _audience(value: Any) -> Wrong:
    return None if value in AUDIENCES else f"found {_described(value)}, expected one of {', '.join(AUDIENCES)}"


def _optional_audience(value: Any) -> Wrong:
    return None if value is None else _audience(value)


def _severity(value: Any) -> Any:
    return "off" if value is False else value  # YAML 1.1 reads a bare `off` as false


# --- what the core gets: each resolver takes the checked value and the project folder ---------------

def _as_is(value: Any, project_dir: Path) -> Any:
    return value


def _project_path(value: str, project_dir: Path) -> Path:
    return (project_dir / value).resolve()


def _optional_project_path(value: str | None, project_dir: Path) -> Path | None:
    return _project_path(value, project_dir) if value else None


def _as_tuple(value: list[str], project_dir: Path) -> tuple[str, ...]:
    return tuple(value)


def _severities(value: dict[str, Any], project_dir: Path) -> dict[str, str]:
    return {name: _severity(severity) for name, severity in value.items()}


@dataclass(frozen=True)
class Setting:
    name: str
    type: type
    default: Any
    help: str
    check: Callable[[Any], Wrong]  # None for a valid value, else "found ..., expected ..." (and where)
    resolve: Callable[[Any, Path], Any] = _as_is  # the value the core uses


SETTINGS: tuple[Setting, ...] = (
    Setting("cards_dir", str, "cards",
            "Folder holding the card files (`*.yml`, `*.yaml`), relative to `mkdocs.yml`.",
            check=_text, resolve=_project_path),
    Setting("prefix", str, "",
            "Folder inside the site for the generated pages. Empty puts the model catalog on the home page.",
            check=_text),
    Setting("edit_uri", str, "",
            "Path from `repo_url` to a card file's edit view, e.g. `edit/main/` or `-/edit/main/`. "
            "Empty uses MkDocs' `edit_uri` with the docs folder taken off. "
            "Cards get an *Edit this card* link only when `repo_url` is set.",
            check=_text),
    Setting("runs", list, [],
            "Run exports to read, relative to `mkdocs.yml`: files or folders from `modelcards pull`, MLflow "
            "(`mlruns/`, `run.json`, search CSV), DVC (a folder with `dvc.yaml`, `dvc exp show --json`) or "
            "OpenLineage (`.jsonl`). Card versions name their run with `run: mlflow:<run id>`.",
            check=_texts, resolve=_as_tuple),
    Setting("monitoring", list, [],
            "Monitoring results to read, relative to `mkdocs.yml`: files or folders of JSON Lines (`.jsonl`) or CSV "
            "(`.csv`) with `timestamp, model, version, environment, metric, value[, segment]`, and JSON Lines lines "
            "naming an Evidently snapshot (`\"evidently\": \"2026-06.json\"`, optionally `\"report\"`: its HTML). "
            "MLflow runs among `runs` tagged `modelcards.model`, `modelcards.version` and `modelcards.environment` "
            "are read too. Each result is tied to the card's deployment of that version in that environment on "
            "its day; see the monitoring reference.",
            check=_texts, resolve=_as_tuple),
    Setting("feedback", list, [],
            "JSON Lines exports of an issue tracker to read feedback entries from, relative to `mkdocs.yml`: one "
            "object a line with `id, date, kind, summary, model, version` and optionally `status, resolved_by, "
            "link, source, environment`. They join the cards' `feedback:` entries on the versions timeline; see "
            "the monitoring reference.",
            check=_texts, resolve=_as_tuple),
    Setting("cache_dir", str, ".modelcards-cache",
            "Folder for cached SHAP explanations and plots, relative to `mkdocs.yml`, keyed by the content of the "
            "model and data files, the settings and the SHAP version; the HTML of generated pages, keyed by their "
            "Markdown, the files they link to and the Markdown settings, so a rebuild converts only pages that "
            "changed; the lineage diagrams (in `lineage/`: each SVG keyed by its DOT source and Graphviz, and all "
            "of a build's diagrams in one pack keyed by the lineage graph, the settings and the modelcards code, so "
            "a rebuild with no lineage change makes none and `dot` draws only diagrams that changed); "
            "the run exports as read, secrets masked (in `runs/`, one pack per entry of `runs`, each export keyed by "
            "its path and bytes, the masking settings and the modelcards code; with the `fast` extra only), so a "
            "rebuild or a CI job that restores the folder neither decodes nor masks unchanged exports again; "
            "and (in `site-files/`, by content) the plots, downloads and exports MkDocs copies into the site. "
            "Builds running at once can share it; delete it to compute everything again.",
            check=_text, resolve=_project_path),
    Setting("cache_keep_days", int, 7,
            "After each complete build (not `serve`, not `--dirty`), remove what `cache_dir` holds that no build "
            "has used for this many days: the pages, plots and diagrams that edits replaced. 0 keeps only what "
            "this build used, which suits a cache that one build uses, such as a CI job's; null keeps everything.",
            check=_count_or_null),
    Setting("explain_workers", int, 0,
            "Processes computing SHAP explanations at once when several versions need it; 0 uses every core.",
            check=_count),
    Setting("explain_executor", str, None,
            "A Dask scheduler's address, e.g. `tcp://scheduler:8786`: SHAP explanations and plots that are not "
            "cached are produced on that cluster instead of local processes (needs `pip install "
            "'mkdocs-modelcards[dask]'` here and modelcards on the workers; the workers get the files' bytes, "
            "so they need no copy of the project). Null: local processes, `explain_workers` of them.",
            check=_scheduler_address),
    Setting("shap_plots", str, "latest",
            "Which explained versions also get SHAP's beeswarm plot (each row's feature value and the direction "
            "it pushes the output): `latest`, each model's newest explained version; `all`; or `none`. Every "
            "explained version gets its importance bars, table and rank changes. A beeswarm is about 20 to 30 KB "
            "and most of a cold build's explain time.",
            check=_plot_choice),
    Setting("downloads", list, ["hf", "cyclonedx", "spdx", "json"],
            "The exports each model page offers as downloads, as `modelcards export --format` names them: `hf` "
            "(the Hugging Face README.md), `cyclonedx` (a CycloneDX 1.6 ML-BOM), `spdx` (an SPDX 3.0.1 AI and "
            "dataset document), `json` (the model in the catalog JSON format); `[]` offers none. Each is one file "
            "per model, about 8 to 33 KB: leave out those no reader of this site needs, in a large catalog or "
            "in an audience's build. A format whose optional library is not installed is left out.",
            check=_download_formats, resolve=_as_tuple),
    Setting("lineage_checks", dict, {},
            "Severity of each lineage check: `error`, `warning` (the default) or `off`, e.g. "
            "`{no_run: off, no_data_version: error}`. The checks: `no_data_version`, `no_code_commit`, `no_run`, "
            "`unknown_dataset`, `cycle`, `floating_run`, `run_after_release`, `environment_order` (see the *Lineage "
            "health* page). `--strict` turns warnings into errors.",
            check=_lineage_checks, resolve=_severities),
    Setting("environments", list, ["staging", "production"],
            "The order a version goes through the deployment environments, first to last, spelled as in the cards' "
            "`deployments`, e.g. `[dev, staging, production]`. The first deployment of a version to an environment "
            "needs a deployment of that version to the environment just before it in the list, on or before the "
            "same date; otherwise the `environment_order` lineage check warns, unless the deployment carries "
            "`override: {by, reason}`. A later deployment of a version to an environment it already ran in (a "
            "rollback to it, say) is not checked again. Environments not in the list are never checked; `[]` "
            "checks none.",
            check=_environments, resolve=_as_tuple),
    Setting("trial_pages", bool, False,
            "Give every tuning trial a page of its own. By default a run keeps its page when it produced a card's "
            "version, wrote data or has trials of its own; a trial (an MLflow run with a parent run, or an MLflow "
            "run nothing references) is a row of a table of params and metrics on its parent run's page, or on "
            "its experiment's page, so 10,000 runs do not make 10,000 pages.",
            check=_flag),
    Setting("lineage_depth", int, 2,
            "How many runs upstream a model page's lineage diagram reaches: 1 shows the run that produced each "
            "version and the data it read, 2 also the runs that made that data.",
            check=_count),
    Setting("overview_cap", int, 400,
            "Most nodes the lineage overview, or a dataset's downstream impact, draws as a diagram; above it the "
            "overview is a table and the dataset page counts what it would show, so a large catalog never becomes "
            "a graph the browser cannot lay out.",
            check=_count),
    Setting("policy", str, None,
            "Policy file (YAML) of gates per risk tier, relative to `mkdocs.yml`: the fields a card must fill, "
            "the approvals, metric bounds and evaluation age a deployed version needs, lineage checks that "
            "become errors, personal-data rules. `validate` and `build` report each failure at its card line; "
            "see the policy reference. None: no policy.",
            check=_optional_text, resolve=_optional_project_path),
    Setting("secret_keys", list, [],
            "Extra regular expressions (case-insensitive) for keys whose values are masked wherever they appear: "
            "run params, tags, environment and any other mapping in run metadata, `name=value` inside a text, "
            "and card fields (where such a value is an error). On top of the built-in key words (password, "
            "secret, token, api key, credential, auth, webhook, connection string, `<provider>_key` such as "
            "`stripe_key`, ...). `modelcards pull` applies them too.",
            check=_patterns, resolve=_as_tuple),
    Setting("secret_values", list, [],
            "Extra regular expressions for text to mask wherever it appears in run metadata (every field, "
            "metric names and dataset namespaces included) and in problem messages, and to refuse in cards. On "
            "top of the built-in credential shapes, taken from the gitleaks and detect-secrets rules: AWS, "
            "Azure, Google, GitHub, GitLab, Slack, Stripe, OpenAI, Anthropic, Hugging Face, npm, PyPI, "
            "SendGrid, Twilio, Mailgun, Databricks, Discord, Telegram, Shopify and Heroku keys and tokens, "
            "JWTs, private keys, `user:password@` in URLs and `password=` in connection strings (see the "
            "runs reference). `modelcards pull` applies them too.",
            check=_patterns, resolve=_as_tuple),
    Setting("audience_default", str, "public",
            "The audience of a card that has no `audience:` of its own: `public`, `internal` or `restricted`. "
            "A dataset card with `personal_data.contains: true` is at least `internal`. See the audiences "
            "reference.",
            check=_audience),
    Setting("audience", str, None,
            "Build the site for one audience: `public`, `internal` or `restricted`. Everything marked for a "
            "higher audience (cards, versions, fields, custom keys, the runs only hidden versions use) is left "
            "out of every page, diagram, CSV, export, the search index and the sitemap, and the change history "
            "is left out. Null: everything, as if for `restricted`. `modelcards build --audience` overrides it.",
            check=_optional_audience),
)



class _SettingsMethods:
    """What ``Settings`` derives from its fields."""

    repo_url: str | None
    edit_uri: str
    prefix: str
    audience: str | None

    def commit_url(self, commit: str) -> str | None:
        """Where a commit can be seen, when the site has a ``repo_url``."""
        return f"{self.repo_url.rstrip('/')}/commit/{quote(commit)}" if self.repo_url else None

    def compare_url(self, before: str, after: str) -> str | None:
        """Where the code changes between two commits can be seen (``<repo_url>/compare/<a>...<b>``, the form
        GitHub, GitLab, Gitea and Bitbucket share), when the site has a ``repo_url``."""
        if not self.repo_url:
            return None
        return f"{self.repo_url.rstrip('/')}/compare/{quote(before)}...{quote(after)}"

    @property
    def audience_filtered(self) -> bool:
        """A build for an audience below the top: something may be left out of it."""
        return self.audience is not None and self.audience != AUDIENCES[-1]

    def edit_url(self, card_path: str) -> str | None:
        """Where a card (path relative to the project) can be edited, if anywhere. Not in a build for a
        lower audience: the card file holds every field, the ones left out of the site included."""
        if not self.repo_url or self.audience_filtered:
            return None
        parts = [self.repo_url.rstrip("/"), self.edit_uri.strip("/"), quote(card_path)]
        return "/".join(part for part in parts if part)

    @property
    def page_prefix(self) -> str:
        prefix = self.prefix.strip("/")
        return f"{prefix}/" if prefix else ""


# Everything the core needs to know: each option of ``SETTINGS``, resolved (folders are absolute paths), and
# what comes from mkdocs.yml's own settings.
Settings = make_dataclass(
    "Settings",
    [
        ("project_dir", Path),
        *[(setting.name, Any) for setting in SETTINGS],
        ("repo_url", "str | None", field(default=None)),
        ("site_name", str, field(default="Model cards")),
        # MkDocs' use_directory_urls: pages are folders (a/b/) rather than a/b.html
        ("directory_urls", bool, field(default=True)),
    ],
    bases=(_SettingsMethods,),
    frozen=True,
)
Settings.__module__ = __name__
Settings.__doc__ = "Everything the core needs to know, resolved to absolute paths (made from ``SETTINGS``)."


class InvalidSettings(ModelcardsError):
    """Options of the plugin that are not valid; all of them, each at its line of mkdocs.yml."""

    def __init__(self, problems: list[Problem]):
        self.problems = sort_problems(problems)
        super().__init__(f"{len(self.problems)} invalid option(s) of the modelcards plugin")

    def format_message(self) -> str:
        return "\n".join(p.format() for p in self.problems) + f"\n{self}"


def settings_from(options: dict[str, Any], *, project_dir: Path, repo_url: str | None = None,
                  docs_edit_uri: str | None = None, docs_dir_name: str = "docs",
                  site_name: str = "Model cards", directory_urls: bool = True,
                  config_file: Path | None = None) -> Settings:
    """Check plugin options (names from ``SETTINGS``) and resolve them against a project folder.

    Raises ``InvalidSettings`` with every wrong value, at its line of ``config_file`` when it is found there.
    """
    values = {setting.name: options.get(setting.name, setting.default) for setting in SETTINGS}
    wrong = {setting.name: message for setting in SETTINGS
             if (message := setting.check(values[setting.name])) is not None}
    if wrong:
        raise InvalidSettings(_problems(wrong, config_file, project_dir))
    edit_uri = values["edit_uri"]
    if not edit_uri and docs_edit_uri:
        # MkDocs' edit_uri points into the docs folder; cards live beside it.
        edit_uri = docs_edit_uri.rstrip("/")
        if edit_uri.endswith("/" + docs_dir_name):
            edit_uri = edit_uri[: -len(docs_dir_name) - 1]
    resolved = {setting.name: setting.resolve(values[setting.name], project_dir) for setting in SETTINGS}
    return Settings(project_dir=project_dir, **{**resolved, "edit_uri": edit_uri}, repo_url=repo_url,
                    site_name=site_name, directory_urls=directory_urls)


class _AnyTagLoader(yaml.SafeLoader):
    """Reads mkdocs.yml without MkDocs: its own tags (``!ENV``, ``!!python/name:``) become null."""


_AnyTagLoader.add_multi_constructor("", lambda loader, suffix, node: None)


def plugin_options(config_file: Path) -> dict[str, Any] | None:
    """The options under ``plugins: [modelcards: {...}]`` of a mkdocs.yml, read without MkDocs (``validate``
    has no use for the rest); None when the file does not enable the plugin."""
    try:
        root = yaml.load(config_file.read_text(encoding="utf-8-sig"), Loader=_AnyTagLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise EnvironmentProblem(f"cannot read {config_file}: {exc}") from None
    plugins = root.get("plugins") if isinstance(root, dict) else None
    entries = plugins.items() if isinstance(plugins, dict) else [
        next(iter(item.items())) if isinstance(item, dict) and len(item) == 1 else (item, {})
        for item in (plugins if isinstance(plugins, list) else [])]
    for name, options in entries:
        if name == "modelcards":
            return options if isinstance(options, dict) else {}
    return None


def _problems(wrong: dict[str, Wrong], config_file: Path | None, project_dir: Path) -> list[Problem]:
    positions = _option_positions(config_file) if config_file else {}
    shown = _shown(config_file, project_dir) if config_file else "mkdocs.yml"
    problems = []
    for name, found in wrong.items():
        inner, message = found if isinstance(found, tuple) else (None, found)
        key_path = (name,) if inner is None else (name, inner)
        position = positions.get(key_path) or positions.get((name,), (1, 1))
        shown_key = f"{OPTION_PREFIX}.{name}" + ("" if inner is None else
                                                 f"[{inner}]" if isinstance(inner, int) else f".{inner}")
        problems.append(Problem(shown, *position, shown_key, message))
    return problems


def _shown(path: Path, project_dir: Path) -> str:
    try:
        return path.resolve().relative_to(project_dir.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _option_positions(config_file: Path) -> dict[tuple[str | int, ...], tuple[int, int]]:
    """Line and column of each value under ``plugins: [modelcards: {...}]``, and of the keys and items inside
    those values (``("lineage_checks", "no_run")``, ``("secret_keys", 0)``); empty when the file cannot be read.

    Composed, not loaded: MkDocs' own tags (``!ENV``, ``!!python/name:``) need no constructor here.
    """
    try:
        root = yaml.compose(config_file.read_text(encoding="utf-8-sig"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    plugins = _mapping_value(root, "plugins")
    for item in plugins.value if isinstance(plugins, yaml.SequenceNode) else []:
        options = _mapping_value(item, "modelcards")
        if not isinstance(options, yaml.MappingNode):
            continue
        positions: dict[tuple[str | int, ...], tuple[int, int]] = {}
        for key, value in options.value:
            if isinstance(key, yaml.ScalarNode):
                positions[(key.value,)] = _position(value)
                positions.update(((key.value, inner), position) for inner, position in _inner_positions(value))
        return positions
    return {}


def _inner_positions(node: Any) -> list[tuple[str | int, tuple[int, int]]]:
    if isinstance(node, yaml.MappingNode):
        return [(key.value, _position(key)) for key, _ in node.value if isinstance(key, yaml.ScalarNode)]
    if isinstance(node, yaml.SequenceNode):
        return list(enumerate(_position(item) for item in node.value))
    return []


def _position(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _mapping_value(node: Any, key: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        return next((value for k, value in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)
    return None
