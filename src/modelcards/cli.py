"""Command line: thin commands over the core; internal errors become exit codes here only.

Exit codes: 0 success; 1 invalid cards or a failed build; 2 wrong usage;
3 something outside the cards is missing (config file, program).
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import signal
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import click

from . import DISTRIBUTION
from .config import AUDIENCES
from .errors import EXIT_INVALID_INPUT, EnvironmentProblem, InvalidCards, ModelcardsError, Problem
from .export import FORMATS as EXPORT_FORMATS

if TYPE_CHECKING:
    from .build import SiteCounts

FORMATS = click.Choice(["text", "github"])


def main() -> None:
    try:
        cli.main(standalone_mode=False, prog_name="modelcards")
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_INVALID_INPUT)
    except ModelcardsError as exc:
        from .sources.masking import SecretMasker

        click.echo(f"error: {SecretMasker().mask_text(str(exc))[0]}", err=True)  # it may quote a tracker's answer
        sys.exit(exc.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name=DISTRIBUTION)
def cli() -> None:
    """Build a browsable, auditable model-card site from YAML cards.

    Exit codes: 0 success, 1 invalid cards or failed build, 2 wrong usage,
    3 missing config file or program.
    """


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--format", "output_format", type=FORMATS, default="text", show_default=True,
              help="'github' prints GitHub Actions annotations.")
def validate(paths: tuple[Path, ...], strict: bool, output_format: str) -> None:
    """Check cards (default: ./cards) and print every problem as path:line:col.

    Holds the cards to the settings of ./mkdocs.yml when it enables the plugin: its policy (except for what
    needs runs and lineage, which build checks), and of the lineage checks environment_order, the only one that
    needs no run exports. Reads the cards' git history too (one pass), so that an approved version changed
    since, committed or not, and a sign-off by whoever added the version in git are errors here as in the build.
    """
    from .build import validate_cards  # no mkdocs, no heavy imports on this path

    targets = list(paths) or [Path("cards")]
    missing = [str(p) for p in targets if not p.exists()]
    if missing:
        raise EnvironmentProblem(f"no such file or folder: {', '.join(missing)}")
    checked = validate_cards(targets, _card_settings(output_format))
    _report(checked.problems, output_format)
    if checked.history.shallow:  # the checks above saw part of the history; a folder outside git is just cards, said once
        _report_notes(checked.history.notes)  # by the build
    try:
        checked.raise_for(strict=strict)
    except InvalidCards as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_INVALID_INPUT)
    count = len(checked.catalog.models) if checked.catalog else 0
    click.echo(f"{count} model card(s) valid" + (f", {len(checked.warnings)} warning(s)" if checked.warnings else ""),
               err=True)


@cli.command()
@click.option("-f", "--config-file", type=click.Path(path_type=Path), default=None,
              help="mkdocs.yml to use. Default: ./mkdocs.yml, or built-in settings when there is none.")
@click.option("--strict", is_flag=True, help="Fail on warnings, from the cards and from MkDocs.")
@click.option("-d", "--site-dir", type=click.Path(path_type=Path), default=None, help="Where to write the site.")
@click.option("--format", "output_format", type=FORMATS, default="text", show_default=True,
              help="How to print card problems.")
@click.option("-v", "--verbose", is_flag=True, help="Show MkDocs' own progress messages.")
@click.option("--audience", type=click.Choice(AUDIENCES), default=None,
              help="Build for one audience: leave out everything marked for a higher one, from every file. "
                   "Default: the 'audience' setting, else everything.")
def build(config_file: Path | None, strict: bool, site_dir: Path | None, output_format: str, verbose: bool,
          audience: str | None) -> None:
    """Build the site. A failed build leaves the previous site untouched."""
    _setup_logging(verbose)
    started = time.perf_counter()
    built, settings, final_dir = _build_site(config_file, strict, site_dir, output_format, audience=audience)
    counts = built.counts
    runs = f" and {counts.runs} run(s)" if counts.runs else ""
    if counts.explained:
        click.echo(f"Explanations: {counts.explained} version(s), {counts.produced} computed or drawn, "
                   f"{counts.explained - counts.produced} from the cache or embedded as they are.",
                   err=True)
    if built.pages_converted is not None:
        spread = f" in {built.conversion_workers} processes" if built.conversion_workers else ""
        click.echo(f"Pages: {built.pages_converted} converted from Markdown{spread}, {built.pages_reused} unchanged "
                   "from the cache.", err=True)
    if built.pruned:
        click.echo(f"Cache: {built.pruned}.", err=True)
    built_for = f" for the {settings.audience} audience" if settings.audience else ""
    click.echo(f"Built {_shown(final_dir)}/{built_for} from {len(counts.versions)} model card(s){runs} "
               f"in {time.perf_counter() - started:.1f} s. Open {_shown(final_dir / 'index.html')}, "
               f"or serve it: python -m http.server -d {_shown(final_dir)}", err=True)


@cli.command()
@click.argument("model")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="PDF file to write. Default: MODEL.pdf in the current folder.")
@click.option("-f", "--config-file", type=click.Path(path_type=Path), default=None,
              help="mkdocs.yml to use. Default: ./mkdocs.yml, or built-in settings when there is none.")
@click.option("--strict", is_flag=True, help="Fail on warnings, from the cards and from MkDocs.")
def pdf(model: str, out: Path | None, config_file: Path | None, strict: bool) -> None:
    """Write MODEL's page as a PDF: every version, every column, the diagrams scaled to the page.

    Builds the site into a temporary folder as build does, then prints the model's page with headless
    Chromium (chromium, chromium-browser or google-chrome on PATH), using the site's print stylesheet.
    """
    from .pdf import find_chromium, model_html, print_to_pdf

    _setup_logging(verbose=False)
    chromium = find_chromium()  # before the build, which takes a while
    out = out or Path(f"{model}.pdf")
    with tempfile.TemporaryDirectory(prefix="modelcards-pdf-") as scratch:
        built, settings, site_dir = _build_site(config_file, strict, Path(scratch, "site"), "text", model=model)
        print_to_pdf(chromium, model_html(site_dir, settings, model), out)
    click.echo(f"Wrote {_shown(out)}: the page of {model} ({built.counts.versions[model]} version(s)).", err=True)


def _build_site(config_file: Path | None, strict: bool, site_dir: Path | None, output_format: str,
                model: str | None = None, audience: str | None = None):
    """Build the site as ``build`` does: what was built (with how many pages the page cache served), its settings
    and the folder it is in.

    With ``model``, a model the cards do not have is a usage error, said before MkDocs runs.
    """
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.exceptions import Abort, ConfigurationError

    from .build import generate_site_apart, replace_directory

    with _mkdocs_config_file(config_file) as (path, project_dir):
        config, settings = _load_mkdocs_config(path, strict, project_dir, output_format, audience=audience)
        config.plugins.on_startup(command="build", dirty=False)
        try:
            site = generate_site_apart(settings, strict=strict, progress=ProgressBar())
        except InvalidCards as exc:
            _report(exc.problems, output_format)
            click.echo(f"{exc}; the site was not built", err=True)
            sys.exit(EXIT_INVALID_INPUT)
        _report([*site.warnings, *site.notices], output_format)
        _report_masked(site.masked)
        _report_notes(site.history.notes)
        if model is not None and model not in site.counts.versions:
            raise click.BadParameter(f"the cards have no model {model!r}; they have: "
                                     f"{', '.join(sorted(site.counts.versions)) or 'none'}", param_hint="'MODEL'")
        built = _Built(site.counts)
        config.plugins["modelcards"].preloaded, site = site, None
        final_dir = (site_dir or Path(config.site_dir)).resolve()
        final_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{final_dir.name}.building-", dir=final_dir.parent))
        staging.chmod(0o755)  # mkdtemp makes it 0700; the published site must be readable by the web server
        config.site_dir = str(staging)
        try:
            mkdocs_build(config)
        except (Abort, ConfigurationError) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            click.echo(f"error: {exc}; the previous site was left as it was", err=True)
            sys.exit(EXIT_INVALID_INPUT)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        replace_directory(staging, final_dir)
        page_cache, pruned = config.plugins["modelcards"].page_cache, config.plugins["modelcards"].pruned
        if page_cache is not None:
            built = dataclasses.replace(built, pages_converted=page_cache.misses, pages_reused=page_cache.hits,
                                        conversion_workers=page_cache.workers if page_cache.converted_ahead else 0)
        if pruned is not None and pruned.entries:
            built = dataclasses.replace(built, pruned=pruned.describe(settings.cache_keep_days))
    return built, settings, final_dir


@dataclasses.dataclass(frozen=True)
class _Built:
    """What the commands say about a build once it is done."""

    counts: SiteCounts  # models and their versions, runs, explanations
    pages_converted: int | None = None  # generated pages converted from Markdown; None without a page cache
    pages_reused: int = 0  # generated pages whose HTML came from the page cache
    conversion_workers: int = 0  # processes that converted pages ahead of MkDocs; 0 when MkDocs converted them
    pruned: str | None = None  # what pruning removed from the cache, when it removed anything


@cli.command()
@click.option("-f", "--config-file", type=click.Path(path_type=Path), default=None, help="mkdocs.yml to use.")
@click.option("-a", "--dev-addr", default="127.0.0.1:8000", show_default=True, help="Address to serve on.")
def serve(config_file: Path | None, dev_addr: str) -> None:
    """Serve the site locally and rebuild when a card, run export, monitoring result or the policy changes.

    A live preview: each rebuild re-renders only the pages whose content changed (MkDocs' dirty builds), and a
    card that stops validating prints its errors while the last good site stays served. See the preview
    reference for what a preview leaves stale (search, removed pages); `modelcards build` for the real site.
    """
    from mkdocs.commands.serve import serve as mkdocs_serve

    _setup_logging(verbose=True)
    # Stopped by a signal (an editor's stop button, `kill`, a container stopping), the preview shuts down as on
    # Ctrl-C: MkDocs removes the site it built and the plugin its pages, hundreds of megabytes at 1,000 models
    # that would otherwise stay in the temporary folder.
    signal.signal(signal.SIGTERM, _interrupt)
    with _mkdocs_config_file(config_file) as (path, _):
        mkdocs_serve(config_file=str(path), dev_addr=dev_addr, livereload=True, build_type="dirty")


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


@cli.command()
@click.argument("name")
@click.option("--cards-dir", type=click.Path(path_type=Path), default=Path("cards"), show_default=True)
def new(name: str, cards_dir: Path) -> None:
    """Write a commented starter card to CARDS_DIR/NAME.yml."""
    from .cards.scaffold import SCHEMA_FILE, scaffold_card

    target = cards_dir / f"{name}.yml"
    if target.exists():
        click.echo(f"error: {target} already exists; modelcards never overwrites a card", err=True)
        sys.exit(EXIT_INVALID_INPUT)
    text = scaffold_card(name)  # raises on a bad name, before anything is written
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {target}. Fill it in, then run: modelcards validate {target}", err=True)
    schema_file = cards_dir / SCHEMA_FILE
    if not schema_file.exists():  # editors validate the card against it
        schema_file.write_text(_schema_text(), encoding="utf-8")
        click.echo(f"Wrote {schema_file} for editor completion and checks.", err=True)


@cli.command()
@click.option("--model", default=None, help="Name of the first card (a slug). Default: the folder's name as a slug.")
@click.option("--title", default=None, help="Its title. Default: made from the name.")
@click.option("--owner", default="Your team", show_default=True, help="Person or team accountable for the model.")
@click.option("--contact", default="team@example.com", show_default=True, help="Their e-mail address or channel.")
@click.option("--risk-tier", type=click.Choice(["low", "medium", "high", "critical"]), default="medium",
              show_default=True, help="The model's risk tier.")
@click.option("--site-name", default="Model cards", show_default=True, help="Title of the site.")
@click.option("--hook-repo", default=None, help="Repository of the pre-commit hook. Default: this project's.")
def init(model: str | None, title: str | None, owner: str, contact: str, risk_tier: str, site_name: str,
         hook_repo: str | None) -> None:
    """Start model cards in the current repository: mkdocs.yml, a first card, a CI workflow, a pre-commit config.

    Writes mkdocs.yml, modelcards-docs/about.md, cards/MODEL.yml, cards/card.schema.json,
    .github/workflows/modelcards.yml and .pre-commit-config.yaml. When any of them exists already it lists
    them all and writes nothing.
    """
    from . import __version__
    from .starter import HOOK_REPOSITORY, StarterOptions, folder_slug, starter_files, write_starter

    options = StarterOptions(model=model or folder_slug(Path.cwd()), title=title, owner=owner, contact=contact,
                             risk_tier=risk_tier, site_name=site_name, hook_repo=hook_repo or HOOK_REPOSITORY,
                             package_version=__version__)
    for path in write_starter(Path.cwd(), starter_files(options)):
        click.echo(f"Wrote {_shown(path)}", err=True)
    click.echo("Add site/ and .modelcards-cache/ to .gitignore: both are made by the build.", err=True)
    click.echo(f"Fill in cards/{options.model}.yml, commit, then build the site: modelcards build", err=True)


@cli.command("import")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(["hf", "mct"]))
@click.argument("source", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Card file to write. Default: cards/NAME.yml, NAME made from the model's name.")
@click.option("--name", default=None, help="The card's name (a slug). Default: made from the model's name.")
@click.option("--force", is_flag=True, help="Replace the card file when it exists.")
def import_card(fmt: str, source: Path, out: Path | None, name: str | None, force: bool) -> None:
    """Write a card from a Hugging Face README.md (hf) or a Model Card Toolkit JSON file (mct).

    Every field the card has no place for is reported as a warning at its path:line:col in SOURCE, and kept
    under custom.hf or custom.mct. The card is checked before it is written; nothing is written when it
    would not load.
    """
    from .importers import IMPORTERS, card_yaml, check_written_card
    from .text import NotUtf8, decode_utf8

    if not source.is_file():
        raise EnvironmentProblem(f"no such file: {source}")
    try:
        text = decode_utf8(source.read_bytes())
    except NotUtf8 as exc:
        click.echo(f"{_shown(source)}:{exc.line}:{exc.col}: error: {exc.message}", err=True)
        sys.exit(EXIT_INVALID_INPUT)
    imported = IMPORTERS[fmt](text, _shown(source))
    errors = [problem for problem in imported.problems if problem.severity == "error"]
    if errors:
        _report(imported.problems, "text")
        click.echo(f"{len(errors)} error(s) in {_shown(source)}; no card was written", err=True)
        sys.exit(EXIT_INVALID_INPUT)
    card = dict(imported.card)
    if name is not None:
        card["name"] = name
    target = out or Path("cards") / f"{card['name']}.yml"
    yaml_text = card_yaml(card, source.name, fmt)
    problems = check_written_card(yaml_text, _shown(target))
    if problems:  # e.g. a --name that is not a slug
        _report(problems, "text")
        click.echo(f"the card imported from {_shown(source)} would not load; nothing was written", err=True)
        sys.exit(EXIT_INVALID_INPUT)
    if target.exists() and not force:
        click.echo(f"error: {_shown(target)} already exists; pass --force to replace it", err=True)
        sys.exit(EXIT_INVALID_INPUT)
    _report(imported.problems, "text")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml_text, encoding="utf-8")
    unmapped = sum(problem.severity == "warning" for problem in imported.problems)
    click.echo(f"Wrote {_shown(target)}" + (f"; {unmapped} field(s) not mapped, kept under custom.{fmt} "
                                               "or left out (see above)" if unmapped else "")
               + f". Review it, then run: modelcards validate {_shown(target)}", err=True)


@cli.command()
def schema() -> None:
    """Print the JSON Schema of a card, for editors and CI."""
    click.echo(_schema_text(), nl=False)


@cli.command()
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Folder to write docs/ and mkdocs.yml into.")
@click.option("-f", "--config-file", type=click.Path(path_type=Path), default=None, help="mkdocs.yml to read.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def generate(out_dir: Path, config_file: Path | None, strict: bool) -> None:
    """Write the generated Markdown tree and a plain mkdocs.yml, for any MkDocs-compatible builder."""
    from .build import generate_site, write_pages
    from .site.standalone import standalone_mkdocs_yml

    with _mkdocs_config_file(config_file) as (path, project_dir):
        _, settings = _load_mkdocs_config(path, strict, project_dir)
        try:
            site = generate_site(settings, strict=strict)
        except InvalidCards as exc:
            _report(exc.problems, "text")
            click.echo(str(exc), err=True)
            sys.exit(EXIT_INVALID_INPUT)
    _report([*site.warnings, *site.notices], "text")
    _report_masked(site.masked)
    _report_notes(site.history.notes)
    write_pages(site.pages, out_dir / "docs")
    (out_dir / "mkdocs.yml").write_text(standalone_mkdocs_yml(settings, site.pages), encoding="utf-8")
    click.echo(f"Wrote {len(site.pages)} files to {out_dir / 'docs'} and {out_dir / 'mkdocs.yml'}. "
               f"Build them with: mkdocs build -f {out_dir / 'mkdocs.yml'}", err=True)


@cli.command()
@click.argument("models", nargs=-1, metavar="[MODEL]...")
@click.option("--format", "export_format", type=click.Choice(list(EXPORT_FORMATS)), required=True,
              help="hf: a Hugging Face README.md per model; cyclonedx: a CycloneDX 1.6 ML-BOM per model; "
                   "spdx: an SPDX 3.0.1 AI document per model; json: catalog.json with the models, their "
                   "datasets and runs.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="Folder to write into.")
@click.option("-f", "--config-file", type=click.Path(path_type=Path), default=None,
              help="mkdocs.yml to use. Default: ./mkdocs.yml, or built-in settings when there is none.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--audience", type=click.Choice(AUDIENCES), default=None,
              help="Export for one audience: leave out everything marked for a higher one. "
                   "Default: the 'audience' setting, else everything.")
def export(models: tuple[str, ...], export_format: str, out_dir: Path, config_file: Path | None,
           strict: bool, audience: str | None) -> None:
    """Export MODELs (default: every model) for other tools, from the same cards and runs as the site.

    Run metadata is masked as on the site. The output is the same byte for byte for the same cards and the
    same SOURCE_DATE_EPOCH, whose day is the documents' creation date (today when it is unset). cyclonedx and
    spdx need an optional extra; without it the command says which and exits with 3. What each card field
    becomes: docs/reference/export.md.
    """
    from .build import check_project, for_audience
    from .export import export_files, require
    from .waivers import as_of_date

    chosen = EXPORT_FORMATS[export_format]
    require(chosen)  # before the cards are read: a missing library is said at once
    with _mkdocs_config_file(config_file) as (path, project_dir):
        _, settings = _load_mkdocs_config(path, strict, project_dir, audience=audience)
        checked = check_project(settings)
    _report(checked.problems, "text")
    _report_masked(checked.masked)
    try:
        checked.raise_for(strict=strict)
    except InvalidCards as exc:
        click.echo(f"{exc}; nothing was exported", err=True)
        sys.exit(EXIT_INVALID_INPUT)
    checked = for_audience(checked, settings)
    known = checked.catalog.models
    unknown = [name for name in models if name not in known]
    if unknown:
        raise click.BadParameter(f"the cards have no model {', '.join(map(repr, unknown))}; they have: "
                                 f"{', '.join(known) or 'none'}", param_hint="'MODEL'")
    files = export_files(checked.catalog, chosen, list(dict.fromkeys(models)) or list(known), as_of_date())
    for relative, content in files.items():
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    click.echo(f"Wrote {len(files)} {chosen.label} file(s) to {_shown(out_dir)}: {', '.join(files)}", err=True)


@cli.group()
def pull() -> None:
    """Export runs from a live tracker to JSON files the build reads without the tracker installed."""


def _masking_options(command):
    """The options every pull shares: what it masks before writing, as the build would."""
    for option in reversed([
        click.option("-f", "--config-file", type=click.Path(path_type=Path), default=None,
                     help="mkdocs.yml whose secret_keys and secret_values are applied. Default: ./mkdocs.yml, if any."),
        click.option("--secret-key", "secret_keys", multiple=True, metavar="REGEX",
                     help="Also mask the values of keys matching this regular expression; repeat for more."),
        click.option("--secret-value", "secret_values", multiple=True, metavar="REGEX",
                     help="Also mask text matching this regular expression; repeat for more."),
    ]):
        command = option(command)
    return command


@pull.command("mlflow")
@click.option("--tracking-uri", required=True,
              help="http(s):// tracking server, sqlite:///path/to/mlflow.db, or a file store folder.")
@click.option("--experiment", "experiments", multiple=True, help="Experiment name to export; repeat for more.")
@click.option("--run-id", "run_ids", multiple=True, help="Run id to export; repeat for more.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Folder for the export: one JSON file per run.")
@_masking_options
def pull_mlflow(tracking_uri: str, experiments: tuple[str, ...], run_ids: tuple[str, ...], out_dir: Path,
                config_file: Path | None, secret_keys: tuple[str, ...], secret_values: tuple[str, ...]) -> None:
    """Export MLflow runs: params, metric histories, tags, dataset inputs, logged and registered models.

    Without --experiment or --run-id, every run of every experiment is exported.
    Secrets are masked before anything is written, as the build masks them: the built-in credential
    shapes, the project's secret_keys and secret_values, and those given here.
    """
    masker = _pull_masker(config_file, secret_keys, secret_values)
    try:
        from .sources.mlflow_pull import pull_runs
    except ImportError as exc:
        raise EnvironmentProblem(f"{exc}; install it with: pip install '{DISTRIBUTION}[mlflow]'") from None
    problems: list[Problem] = []  # a logged model's environment files that cannot be read: warnings
    records = pull_runs(tracking_uri, experiments=list(experiments), run_ids=list(run_ids), problems=problems)
    _report(masker.mask_problems(problems), "text")
    written, masked = _write_masked(records, masker, out_dir)
    click.echo(f"Wrote {len(written)} run(s) to {_shown(out_dir)}; masked {len(masked)} secret value(s).", err=True)


@pull.command("dvc")
@click.option("--project", type=click.Path(path_type=Path), default=Path("."), show_default=True,
              help="The DVC project folder (holding dvc.yaml), inside the folder you run this from, which should "
                   "be the one holding mkdocs.yml so that paths and dataset names match the build's.")
@click.option("--rev", default="HEAD", show_default=True,
              help="Git revision whose committed dvc.lock to read; the snapshot records its full sha.")
@click.option("--stage", "stages", multiple=True,
              help="Stage to export, as dvc.lock names it (train, train@us); repeat for more. Default: every stage.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Folder for the export: one JSON file per stage, named dvc-<stage>_<sha>.json.")
@_masking_options
def pull_dvc(project: Path, rev: str, stages: tuple[str, ...], out_dir: Path, config_file: Path | None,
             secret_keys: tuple[str, ...], secret_values: tuple[str, ...]) -> None:
    """Snapshot DVC stages as a git revision recorded them, so a version can pin its run.

    Reads dvc.yaml, dvc.lock, params and metrics files from git at --rev (with the git command;
    DVC is not needed) and writes each stage as run dvc:<stage>@<full sha>, which a card names as
    run: dvc:<stage>@<sha>. The build reads the snapshot without git. Secrets are masked before
    anything is written, as for pull mlflow.
    """
    from .sources.dvc import LOCK_FILE, PIPELINE_FILE
    from .sources.pinning import REV_TAG, RevisionError, read_dvc_project_at

    masker = _pull_masker(config_file, secret_keys, secret_values)

    if not (project / PIPELINE_FILE).is_file() and not (project / LOCK_FILE).is_file():
        raise EnvironmentProblem(f"found no {PIPELINE_FILE} or {LOCK_FILE} in {project}; expected a DVC project "
                                 "folder: pass it with --project")
    try:
        read = read_dvc_project_at(project.resolve(), rev, relative_to=Path.cwd().resolve(), moving_ok=True)
    except RevisionError as exc:
        raise EnvironmentProblem(str(exc)) from None
    _report(read.problems, "text")
    records = read.records
    if stages:
        by_stage = {record.id.removesuffix("@" + record.tags[REV_TAG]): record for record in records}
        unknown = [stage for stage in stages if stage not in by_stage]
        if unknown:
            raise EnvironmentProblem(f"found no stage {', '.join(map(repr, unknown))} in {LOCK_FILE} at {rev}; "
                                     f"its stages: {', '.join(sorted(by_stage)) or 'none'}")
        records = [by_stage[stage] for stage in stages]
    written, masked = _write_masked(records, masker, out_dir)
    sha = records[0].tags[REV_TAG] if records else rev
    click.echo(f"Wrote {len(written)} stage(s) at {sha[:12]} to {_shown(out_dir)}; masked {len(masked)} secret "
               f"value(s). Pin a version to one with run: dvc:<stage>@{sha[:12]}", err=True)


def _write_masked(records, masker, out_dir: Path):
    """Mask, then write the export; say what was masked (never the value)."""
    from .sources.record import write_export

    records, masked = masker.mask(records)
    written = write_export(records, out_dir)
    for item in masked:
        click.echo(f"masked {item}", err=True)
    return written, masked


def _pull_masker(config_file: Path | None, secret_keys: tuple[str, ...], secret_values: tuple[str, ...]):
    """The masker a pull uses: the project's settings (``-f`` or ./mkdocs.yml) plus the options."""
    import re

    from .sources.masking import SecretMasker

    path = config_file if config_file is not None else Path("mkdocs.yml")
    if config_file is not None and not config_file.exists():
        raise EnvironmentProblem(f"config file not found: {config_file}")
    if path.exists():
        _, settings = _load_mkdocs_config(path, strict=False)
        secret_keys = (*settings.secret_keys, *secret_keys)
        secret_values = (*settings.secret_values, *secret_values)
    try:
        return SecretMasker(secret_keys, secret_values)
    except re.error as exc:
        raise click.UsageError(f"found the secret pattern {exc.pattern!r}, which is not a regular expression: {exc}")


# --- helpers -------------------------------------------------------------------

class ProgressBar:
    """``Explaining [#######.......] 3/8, about 12 s left (churn 1.2.0)`` on stderr.

    Redrawn in place on a terminal; one line per finished step in CI logs.
    """

    WIDTH = 24

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.started = 0.0

    def __call__(self, done: int, total: int, label: str) -> None:
        now = time.perf_counter()
        if done == 0:
            self.started = now
            self.stream.write(f"Explaining {total} model version(s) with SHAP in {label}\n")
            self.stream.flush()
            return
        filled = self.WIDTH * done // total
        left = (now - self.started) / done * (total - done)
        eta = f"about {left:.0f} s left" if done < total else f"done in {now - self.started:.1f} s"
        line = f"Explaining [{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total}, {eta} ({label})"
        interactive = self.stream.isatty()
        end = ("\n" if done == total else "") if interactive else "\n"
        self.stream.write(("\r\033[K" if interactive else "") + line + end)
        self.stream.flush()


def _schema_text() -> str:
    from .cards.scaffold import schema_file_text

    return schema_file_text()


def _report(problems, output_format: str) -> None:
    for problem in problems:
        click.echo(problem.format_github() if output_format == "github" else problem.format(),
                   err=output_format != "github")


def _report_notes(notes: tuple[str, ...]) -> None:
    """What the site goes without, and why (no git history): said once, never a failure."""
    for note in notes:
        click.echo(f"info: {note}", err=True)


def _report_masked(masked) -> None:
    """How many secret-looking values were kept off the site, and where (never the values)."""
    for item in masked:
        click.echo(f"masked {item}", err=True)
    if masked:
        click.echo(f"Masked {len(masked)} secret-looking value(s) in run metadata and monitoring results.", err=True)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    logger = logging.getLogger("mkdocs")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False


@contextmanager
def _mkdocs_config_file(config_file: Path | None) -> Iterator[tuple[Path, Path | None]]:
    """The given mkdocs.yml, ./mkdocs.yml, or built-in settings for a folder with only cards.

    Also yields the project folder when it is not the config file's folder (built-in settings).
    """
    if config_file is not None:
        if not config_file.exists():
            raise EnvironmentProblem(f"config file not found: {config_file}")
        yield config_file, None
        return
    if Path("mkdocs.yml").exists():
        yield Path("mkdocs.yml"), None
        return
    from .site.standalone import default_mkdocs_yml

    with tempfile.TemporaryDirectory(prefix="modelcards-") as scratch:
        docs = Path(scratch, "docs")
        docs.mkdir()
        path = Path(scratch, "mkdocs.yml")
        path.write_text(default_mkdocs_yml(project_dir=Path.cwd(), docs_dir=docs), encoding="utf-8")
        yield path, Path.cwd()


def _card_settings(output_format: str):
    """The settings ``validate`` applies: the plugin's options in ./mkdocs.yml, read without MkDocs, else the
    defaults."""
    from .config import InvalidSettings, plugin_options, settings_from

    path = Path("mkdocs.yml")
    options = plugin_options(path) if path.exists() else None
    try:
        return settings_from(options or {}, project_dir=Path.cwd(), config_file=path if options else None)
    except InvalidSettings as exc:
        _report(exc.problems, output_format)
        click.echo(str(exc), err=True)
        sys.exit(EXIT_INVALID_INPUT)


def _load_mkdocs_config(path: Path, strict: bool, project_dir: Path | None = None, output_format: str = "text",
                        audience: str | None = None):
    from mkdocs.config import load_config
    from mkdocs.exceptions import ConfigurationError

    from .config import InvalidSettings

    try:
        config = load_config(str(path), strict=strict)
    except ConfigurationError as exc:
        raise EnvironmentProblem(f"{path}: {exc}") from None
    plugin = config.plugins.get("modelcards")
    if plugin is None:
        raise EnvironmentProblem(f"{path} does not enable the plugin: add 'modelcards' under 'plugins:'")
    if audience is not None:  # as if mkdocs.yml said it, so the plugin's own settings agree
        plugin.config["audience"] = audience
    try:
        settings = plugin.resolve_settings(config)
    except InvalidSettings as exc:  # before anything is built: the previous site stays as it was
        _report(exc.problems, output_format)
        click.echo(str(exc), err=True)
        sys.exit(EXIT_INVALID_INPUT)
    if project_dir is not None:
        settings = dataclasses.replace(settings, project_dir=project_dir.resolve())
    return config, settings
