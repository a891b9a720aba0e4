"""The command line as a user and CI meet it: builds that fail safely, reproducible sites, light validation,
`new`, `generate` with custom fields, and strictness.

Every test works in a throwaway project holding copies of ``tests/fixtures/cards`` and no mkdocs.yml, so
`modelcards build` uses its built-in settings.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "cards"
MODELCARDS = Path(sys.executable).parent / "modelcards"
HEAVY_MODULES = ("mkdocs", "shap", "mlflow", "matplotlib", "graphviz")


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(MODELCARDS), *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def project(root: Path, *fixture_dirs: str) -> Path:
    """A project folder whose ``cards/`` holds the cards of the given fixture folders."""
    (root / "cards").mkdir(parents=True)
    for name in fixture_dirs:
        for card in (FIXTURES / name).glob("*.yml"):
            shutil.copy2(card, root / "cards" / card.name)
    return root


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` (relative path -> sha256), and every folder (-> "dir")."""
    return {
        path.relative_to(root).as_posix(): "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project built once with the valid cards; tests that change it work on a copy."""
    root = project(tmp_path_factory.mktemp("built"), "valid")
    result = run(root, "build", SOURCE_DATE_EPOCH="1700000000")
    assert result.returncode == 0, result.stderr
    assert (root / "site" / "models" / "churn" / "index.html").is_file()
    return root


def test_failed_build_prints_the_errors_and_leaves_the_previous_site_untouched(built: Path, tmp_path: Path):
    root = tmp_path / "project"
    shutil.copytree(built, root, symlinks=True)
    before = tree(root / "site")
    (root / "cards" / "broken.yml").write_text("name: broken\ntitle: Broken\nstatus: prod\n", encoding="utf-8")

    result = run(root, "build")

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "cards/broken.yml:3:9: error: status: found string 'prod', expected one of: draft, staging, production, "
        "deprecated, archived (did you mean 'production'?)",
        "1 error(s), 0 warning(s) in the cards; the site was not built",
    ]
    after = tree(root / "site")
    changed = sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))
    assert not changed, f"the failed build changed the previous site: {changed}"
    leftovers = sorted(p.name for p in root.iterdir() if p.name not in ("cards", "site", ".modelcards-cache"))
    assert not leftovers, f"the failed build left {leftovers} behind"


def test_build_is_byte_identical_across_runs_and_folders(built: Path, tmp_path: Path):
    # A second checkout at another path, built into a differently named folder, must give the same bytes.
    other = project(tmp_path / "elsewhere", "valid")
    result = run(other, "build", "--site-dir", "public", SOURCE_DATE_EPOCH="1700000000")
    assert result.returncode == 0, result.stderr

    first, second = tree(built / "site"), tree(other / "public")
    differing = sorted(path for path in first.keys() | second.keys() if first.get(path) != second.get(path))
    assert not differing, f"files that differ between two builds of the same cards: {differing}"
    assert len(first) > 20


def test_validate_imports_nothing_heavy(tmp_path: Path):
    root = project(tmp_path, "valid")
    script = (
        "import sys\n"
        "from modelcards.cli import main\n"
        "sys.argv = ['modelcards', 'validate', 'cards']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "else:\n"
        "    code = 0\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY_MODULES!r})\n"
        "print(code, heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0 []", f"validate exit code and heavy modules it imported: {result.stdout}"


def test_new_writes_a_card_that_validates_strictly_and_never_overwrites(tmp_path: Path):
    result = run(tmp_path, "new", "demo")
    assert result.returncode == 0, result.stderr
    card, schema_file = tmp_path / "cards" / "demo.yml", tmp_path / "cards" / "card.schema.json"
    assert card.is_file() and schema_file.is_file()
    assert json.loads(schema_file.read_text(encoding="utf-8")) == json.loads(run(tmp_path, "schema").stdout)

    strict = run(tmp_path, "validate", "--strict")
    assert strict.returncode == 0, strict.stderr
    assert strict.stderr == "1 model card(s) valid\n"

    card.write_text(card.read_text(encoding="utf-8") + "# my edits\n", encoding="utf-8")
    edited = card.read_bytes()
    again = run(tmp_path, "new", "demo")
    assert again.returncode == 1
    assert again.stderr == "error: cards/demo.yml already exists; modelcards never overwrites a card\n"
    assert card.read_bytes() == edited


@pytest.mark.parametrize("name", ["Demo Model", "../escape", "demo/model", ""])
def test_new_refuses_a_name_that_is_not_a_slug(tmp_path: Path, name: str):
    result = run(tmp_path, "new", name)
    assert result.returncode == 1
    assert result.stderr == f"error: found name {name!r}, expected a slug: lowercase letters, digits, '-', '_' or '.'\n"
    assert not any(tmp_path.rglob("*.yml")), "nothing is written for a bad name"


def test_schema_prints_json_schema(tmp_path: Path):
    result = run(tmp_path, "schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"ModelCard", "DatasetCard"} <= schema["$defs"].keys()


def test_custom_fields_are_kept_on_the_generated_pages(tmp_path: Path):
    root = project(tmp_path / "project", "valid")
    result = run(root, "generate", "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    docs = tmp_path / "out" / "docs"

    model = (docs / "models" / "churn.md").read_text(encoding="utf-8")
    assert "Released 2024\\-01\\-05" in model  # an unquoted YAML date, shown as written
    assert "## Custom fields" in model
    assert "| <code>cost\\_center</code> | CC\\-4711 |" in model
    assert '| <code>review</code> | \\{"approved": "2024\\-02\\-28", "board": "Model risk board"\\} |' in model
    dataset = (docs / "datasets" / "customers.md").read_text(encoding="utf-8")
    assert "| <code>retention\\_days</code> | 365 |" in dataset

    # Python-Markdown only sees a table that starts its own block: a table glued to text shows as raw pipes.
    glued = [
        f"{page.relative_to(docs)}:{number}"
        for page in sorted(docs.rglob("*.md"))
        for number, (before, line) in enumerate(
            zip([""] + page.read_text(encoding="utf-8").splitlines(), page.read_text(encoding="utf-8").splitlines()),
            start=1)
        if line.startswith("|") and before.strip() and not before.startswith("|")
    ]
    assert not glued, f"tables without a blank line before them: {glued}"


def test_unknown_top_level_key_is_an_error_that_points_to_custom(tmp_path: Path):
    root = project(tmp_path, "valid")
    card = root / "cards" / "minimal.yml"
    card.write_text(card.read_text(encoding="utf-8") + "cost_center: CC-1\n", encoding="utf-8")
    result = run(root, "validate")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        "cards/minimal.yml:3:1: error: cost_center: unknown key 'cost_center'; expected one of: audience, caveats, "
        "custom, declaration_of_conformity, deployments, design_choices, ethical_considerations, evaluation_data, "
        "factors, feedback, field_audience, human_oversight, intended_use, kind, license, metrics, model_details, "
        "monitoring, name, owners, "
        "quantitative_analyses, recommendations, risk_management, risk_rationale, risk_tier, standards, status, "
        "summary, tags, title, tradeoffs, training_data, versions, waivers. Put your own fields under 'custom:'."
    )


def test_warnings_fail_only_strict_validate_and_strict_build(tmp_path: Path):
    root = project(tmp_path, "warnings")
    warnings = (FIXTURES / "warnings.expected").read_text(encoding="utf-8").splitlines()[:-1]

    relaxed = run(root, "validate")
    assert relaxed.returncode == 0, relaxed.stderr
    strict = run(root, "validate", "--strict")
    assert strict.returncode == 1
    strict_build = run(root, "build", "--strict")
    assert strict_build.returncode == 1
    assert not (root / "site").exists(), "a strict build that fails writes no site"

    expected = [line.replace("warnings/", "cards/", 1) for line in warnings]
    assert relaxed.stderr.splitlines() == [*expected, "1 model card(s) valid, 2 warning(s)"]
    assert strict.stderr.splitlines() == [*expected, "0 error(s), 2 warning(s) in the cards"]
    # The build also checks the lineage, which validate (reading no runs) cannot.
    lineage = [f"cards/churn.yml:6:5: warning: versions[0]: version '1.0' {gap}" for gap in (
        "has no code commit: add code: {commit: <sha>} or link a run that records its commit",
        "names no run: add run: <source>:<run id> (mlflow, dvc or openlineage) so the tracker's record backs it")]
    assert strict_build.stderr.splitlines() == [
        *lineage, *expected, "0 error(s), 4 warning(s) in the cards; the site was not built",
    ]


def _nav_links(page: Path) -> list[str]:
    """The links of the site's nav (Material's primary sidebar) on a page, in order."""
    html = page.read_text(encoding="utf-8")
    return re.findall(r'<a href="([^"]*)" class="md-nav__link', html)


def test_runs_configured_but_none_read_gives_one_nav_that_builds_strictly_both_ways(tmp_path: Path):
    """With `runs: [runs]` and no runs there is no runs page; neither edge may put one in the nav."""
    root = project(tmp_path / "project", "valid")
    (root / "cards" / "churn.yml").unlink()  # it names runs, which no source would have
    (root / "runs").mkdir()
    (root / "mkdocs.yml").write_text(  # the nav pruned, as in generate's mkdocs.yml: the same links on each page
        "site_name: Test site\ntheme:\n  name: material\n  font: false\n  features: [navigation.prune]\n"
        "plugins:\n  - search\n  - modelcards:\n      runs: [runs]\n", encoding="utf-8")
    (root / "docs").mkdir()

    generated = run(root, "generate", "--out", str(tmp_path / "out"), "--strict")
    assert generated.returncode == 0, generated.stderr
    assert not (tmp_path / "out" / "docs" / "runs").exists()
    plain = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                            "-f", str(tmp_path / "out" / "mkdocs.yml")], capture_output=True, text=True, timeout=120)
    assert plain.returncode == 0, plain.stderr
    with_plugin = run(root, "build", "--strict")
    assert with_plugin.returncode == 0, with_plugin.stderr

    nav = _nav_links(root / "site" / "index.html")
    assert nav == _nav_links(tmp_path / "out" / "site" / "index.html"), "the plugin's nav and generate's are one"
    assert nav and not [link for link in nav if "runs" in link]


BAD_OPTIONS = """\
site_name: Test site
theme:
  name: material
  font: false
markdown_extensions:
  - pymdownx.emoji:
      emoji_index: !!python/name:material.extensions.emoji.twemoji
plugins:
  - search
  - modelcards:
      runs: runs
      explain_workers: -2
      lineage_depth: true
      lineage_checks:
        no_run: off
        nope: error
        cycle: loud
      secret_values: ["ok", "(bad"]
      cache_keep_days: week
"""
BAD_OPTION_LINES = [
    "mkdocs.yml:11:13: error: plugins.modelcards.runs: found 'runs', expected a list of paths, e.g. [runs]",
    "mkdocs.yml:12:24: error: plugins.modelcards.explain_workers: found -2, expected a whole number, 0 or more",
    "mkdocs.yml:13:22: error: plugins.modelcards.lineage_depth: found true, expected a whole number, 0 or more",
    "mkdocs.yml:16:9: error: plugins.modelcards.lineage_checks.nope: found check 'nope', expected one of "
    "no_data_version, no_code_commit, no_run, unknown_dataset, cycle, floating_run, run_after_release, "
    "environment_order",
    "mkdocs.yml:18:29: error: plugins.modelcards.secret_values[1]: found the pattern '(bad', which is not a "
    "regular expression: missing ), unterminated subpattern at position 0",
    "mkdocs.yml:19:24: error: plugins.modelcards.cache_keep_days: found 'week', expected a whole number, 0 or more, "
    "or null",
    "6 invalid option(s) of the modelcards plugin",
]


def test_invalid_options_are_errors_at_their_mkdocs_yml_lines_before_anything_is_built(built: Path, tmp_path: Path):
    root = tmp_path / "project"
    shutil.copytree(built, root, symlinks=True)
    before = tree(root / "site")
    (root / "mkdocs.yml").write_text(BAD_OPTIONS, encoding="utf-8")
    (root / "docs").mkdir()

    result = run(root, "build")
    assert result.returncode == 1
    assert result.stderr.splitlines() == BAD_OPTION_LINES
    assert tree(root / "site") == before, "the previous site is left as it was"

    plain = subprocess.run([sys.executable, "-m", "mkdocs", "build"], cwd=root, capture_output=True, text=True,
                           timeout=120)
    assert plain.returncode == 1
    assert "\n".join(BAD_OPTION_LINES) in plain.stderr, plain.stderr

    # One wrong value fixed at a time: a bad severity is reported at its key too.
    fixed = BAD_OPTIONS.replace("runs: runs", "runs: []").replace("week", "null").replace("-2", "0").replace("true", "2")
    (root / "mkdocs.yml").write_text(fixed.replace("        nope: error\n", "").replace('"(bad"', '"b"'),
                                     encoding="utf-8")
    result = run(root, "build")
    assert result.stderr.splitlines() == [
        "mkdocs.yml:16:9: error: plugins.modelcards.lineage_checks.cycle: found severity 'loud', expected one of "
        "error, warning, off",
        "1 invalid option(s) of the modelcards plugin",
    ]


def test_a_bare_off_turns_a_lineage_check_off(tmp_path: Path):
    """YAML 1.1 reads `off` as false; the documented `{no_run: off}` must still mean off."""
    root = project(tmp_path / "project", "valid")
    (root / "mkdocs.yml").write_text(
        "site_name: Test site\ntheme:\n  name: material\n  font: false\nplugins:\n  - search\n  - modelcards:\n"
        "      lineage_checks: {no_run: off, no_data_version: off, no_code_commit: off}\n", encoding="utf-8")
    (root / "docs").mkdir()
    (root / "cards" / "churn.yml").unlink()  # names runs that no source has
    result = run(root, "build", "--strict")
    assert result.returncode == 0, result.stderr
