"""Deployments follow the environment order (the `environments` setting, the `environment_order` check), and
rollbacks are marked on the model page and in its lineage diagram.

Real projects checked and built with the real CLI; the diagram is the SVG Graphviz drew, parsed as XML.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import run_modelcards, write_project

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"

# 1.1 went to production a day before staging; production then rolled back to 1.0 (which had passed staging);
# 1.2 went out of order on purpose (override); eu-batch is in no order.
ROLLOUTS = """
name: rollouts
title: Rollouts
versions:
  - {version: "1.0", date: "2026-01-01"}
  - {version: "1.1", date: "2026-02-01"}
  - {version: "1.2", date: "2026-03-01"}
deployments:
  - {environment: staging, version: "1.0", date: "2026-01-05", by: Ana}
  - {environment: production, version: "1.0", date: "2026-01-10", by: Ana}
  - {environment: production, version: "1.1", date: "2026-02-03", by: Bo}
  - {environment: staging, version: "1.1", date: "2026-02-04", by: Bo}
  - environment: production
    version: "1.0"
    date: "2026-02-06"
    by: 'Ana "A&B" <ops>'
    rollback_of: "1.1"
    reason: 1.1 times out under load.
  - environment: production
    version: "1.2"
    date: "2026-03-02"
    by: Cy
    override:
      by: "Dee <script>alert(1)</script>"
      reason: "Hotfix for *incident* 42 & co; staging was down"
  - {environment: eu-batch, version: "1.2", date: "2026-03-03", by: Cy}
"""
OUT_OF_ORDER = (
    "cards/rollouts.yml:10:19: warning: deployments[2].environment: version 1.1 went to production on 2026-02-03 "
    "without reaching staging first (it reached staging on 2026-02-04, after); expected a staging deployment of "
    "1.1 on or before that date, or override: {by, reason} on this deployment")


# Cards without runs: the lineage checks that need runs (which validate does not run) would be noise in build.
QUIET = {"no_data_version": "off", "no_code_commit": "off", "no_run": "off"}


def _project(root: Path, card: str, **options: object) -> Path:
    options = {"cards_dir": "cards", "lineage_checks": QUIET, **options}
    return write_project(root, {"rollouts.yml": card}, plugins=["search", {"modelcards": options}])


def _problems(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ": warning: " in line or ": error: " in line]


def test_deploying_to_production_before_staging_warns_in_validate(tmp_path: Path):
    _project(tmp_path, ROLLOUTS)
    result = run_modelcards("validate", cwd=tmp_path)
    assert _problems(result.stderr) == [OUT_OF_ORDER], "the rollback, the override and eu-batch are not flagged"
    assert result.stderr.endswith("1 model card(s) valid, 1 warning(s)\n")

    strict = run_modelcards("validate", "--strict", cwd=tmp_path, check=False)
    assert (strict.returncode, _problems(strict.stderr)) == (1, [OUT_OF_ORDER])


def test_build_warns_the_same_and_strict_fails_it(tmp_path: Path):
    mkdocs_yml = _project(tmp_path, ROLLOUTS)
    build = run_modelcards("build", "-f", mkdocs_yml, "-d", tmp_path / "site", cwd=tmp_path)
    assert _problems(build.stderr) == [OUT_OF_ORDER]
    strict = run_modelcards("build", "--strict", "-f", mkdocs_yml, "-d", tmp_path / "strict", cwd=tmp_path,
                            check=False)
    assert (strict.returncode, _problems(strict.stderr)) == (1, [OUT_OF_ORDER])
    assert not (tmp_path / "strict").exists()


def test_without_its_override_the_deployment_warns(tmp_path: Path):
    override = ('    override:\n      by: "Dee <script>alert(1)</script>"\n'
                '      reason: "Hotfix for *incident* 42 & co; staging was down"\n')
    assert override in ROLLOUTS
    _project(tmp_path, ROLLOUTS.replace(override, ""))
    assert _problems(run_modelcards("validate", cwd=tmp_path).stderr) == [OUT_OF_ORDER, (
        "cards/rollouts.yml:18:18: warning: deployments[5].environment: version 1.2 went to production on "
        "2026-03-02 without reaching staging first; expected a staging deployment of 1.2 on or before that date, "
        "or override: {by, reason} on this deployment")]


def test_a_custom_order_checks_each_step_and_leaves_other_environments_alone(tmp_path: Path):
    card = """
        name: rollouts
        title: Rollouts
        versions:
          - {version: "1.0", date: "2026-01-01"}
        deployments:
          - {environment: staging, version: "1.0", date: "2026-01-05", by: Ana}
          - {environment: production, version: "1.0", date: "2026-01-05", by: Ana}
          - {environment: canary, version: "1.0", date: "2026-01-06", by: Ana}
    """
    _project(tmp_path, card, environments=["dev", "staging", "production"])
    assert _problems(run_modelcards("validate", cwd=tmp_path).stderr) == [
        "cards/rollouts.yml:6:19: warning: deployments[0].environment: version 1.0 went to staging on 2026-01-05 "
        "without reaching dev first; expected a dev deployment of 1.0 on or before that date, or override: "
        "{by, reason} on this deployment",
    ], "production on the same day as staging is in order; canary is in no order"

    _project(tmp_path, card, environments=[])
    assert _problems(run_modelcards("validate", cwd=tmp_path).stderr) == []


def test_a_rollback_to_a_version_that_never_reached_staging_warns_once(tmp_path: Path):
    card = """
        name: rollouts
        title: Rollouts
        versions:
          - {version: "1.0", date: "2026-01-01"}
          - {version: "1.1", date: "2026-02-01"}
        deployments:
          - {environment: production, version: "1.0", date: "2026-01-05", by: Ana,
             override: {by: Lea, reason: First release; no staging environment yet.}}
          - {environment: staging, version: "1.1", date: "2026-02-02", by: Ana}
          - {environment: production, version: "1.1", date: "2026-02-03", by: Ana}
          - {environment: production, version: "1.0", date: "2026-02-04", by: Ana, rollback_of: "1.1"}
    """
    _project(tmp_path, card)
    assert _problems(run_modelcards("validate", cwd=tmp_path).stderr) == [], \
        "going back to 1.0 in production was checked (and overridden) at its first deployment there"


@pytest.mark.parametrize(("severity", "code", "shown"), [("error", 1, "error"), ("off", 0, None)])
def test_lineage_checks_set_its_severity(tmp_path: Path, severity: str, code: int, shown: str | None):
    _project(tmp_path, ROLLOUTS, lineage_checks={**QUIET, "environment_order": severity})
    result = run_modelcards("validate", cwd=tmp_path, check=False)
    assert result.returncode == code
    assert _problems(result.stderr) == ([OUT_OF_ORDER.replace(": warning: ", f": {shown}: ")] if shown else [])


@pytest.mark.parametrize(("value", "expected"), [
    ("production", "mkdocs.yml:{line}:{col}: error: plugins.modelcards.environments: found 'production', expected "
                   "a list of environment names, first to last, e.g. [staging, production]"),
    (["staging", "production", "staging"],
     "mkdocs.yml:{line}:{col}: error: plugins.modelcards.environments[2]: found 'staging' a second time (first at "
     "[0]), expected each environment once"),
    (["staging", ""], "mkdocs.yml:{line}:{col}: error: plugins.modelcards.environments: found [\"staging\", \"\"], "
                      "expected a list of environment names, first to last, e.g. [staging, production]"),
])
def test_a_wrong_environments_setting_is_an_error_at_its_line(tmp_path: Path, value, expected: str):
    mkdocs_yml = _project(tmp_path, ROLLOUTS, environments=value)
    lines = mkdocs_yml.read_text().splitlines()
    if isinstance(value, list) and len(set(value)) < len(value):
        line = next(i for i, text in enumerate(lines, 1) if "environments:" in text) + 3  # the third item
        col = lines[line - 1].index("- ") + 3
    else:
        line = next(i for i, text in enumerate(lines, 1) if "environments:" in text)
        col = lines[line - 1].index(":") + 3
        if isinstance(value, list):
            line, col = line + 1, lines[line].index("- ") + 1
    for command in (["validate"], ["build", "-f", mkdocs_yml, "-d", tmp_path / "site"]):
        result = run_modelcards(*command, cwd=tmp_path, check=False)
        assert (result.returncode, _problems(result.stderr)) == (1, [expected.format(line=line, col=col)]), command


# --- the site: the page and the diagram mark the rollback; the override is shown ------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rollouts")
    mkdocs_yml = _project(root, ROLLOUTS)
    run_modelcards("build", "-f", mkdocs_yml, "-d", root / "site", cwd=root)
    return root / "site" / "models" / "rollouts" / "index.html"


def _deployment_rows(page: str) -> list[list[str]]:
    """The deployment log's rows, each a list of its cells' text."""
    table = page[page.index('id="deployments"'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in rows]


def test_the_deployment_log_marks_the_rollback_and_shows_the_override(site: Path):
    page = site.read_text(encoding="utf-8")
    assert _deployment_rows(page) == [
        ["2026-03-03", "eu-batch", "1.2", "Cy", ""],
        ["2026-03-02", "production", "1.2", "Cy", "out of order Environment order overridden by "
         "Dee <script>alert(1)</script>: Hotfix for *incident* 42 & co; staging was down"],
        ["2026-02-06", "production", "1.0", 'Ana "A&B" <ops>', "rollback of 1.1. 1.1 times out under load."],
        ["2026-02-04", "staging", "1.1", "Bo", ""],
        ["2026-02-03", "production", "1.1", "Bo", 'rolled back on 2026-02-06 by Ana "A&B" <ops> (back to 1.0).'],
        ["2026-01-10", "production", "1.0", "Ana", ""],
        ["2026-01-05", "staging", "1.0", "Ana", ""],
    ]
    assert "<script>alert" not in page and "<ops>" not in page, "card text is escaped, never markup"
    assert '<span class="mc-state mc-state-rolled_back">rolled back</span> on 2026-02-06' in page
    assert "rolled back in production on 2026-02-06 (back to 1.0)" in page, "the version's entry says when"


def _diagram(page: str) -> ET.Element:
    start = page.index("<svg", page.index('class="mc-lineage"'))
    return ET.fromstring(page[start:page.index("</svg>", start) + len("</svg>")])


def _node(svg: ET.Element, index: int, environment: str) -> ET.Element:
    wanted = f"mc-deploy_3a_rollouts_3a_{environment}_3a_{index}"
    return next(g for g in svg.iter(f"{SVG}g") if g.get("id") == wanted)


def _texts(node: ET.Element) -> list[str]:
    return [text.text for text in node.iter(f"{SVG}text")]


def test_the_diagram_marks_the_rolled_back_deployment_and_the_rollback(site: Path):
    svg = _diagram(site.read_text(encoding="utf-8"))
    undone = _node(svg, 2, "production")
    assert _texts(undone) == ["production", "2026-02-03", "rolled back 2026-02-06"]
    outline = undone.find(f".//{SVG}polygon")
    assert (outline.get("stroke"), outline.get("stroke-dasharray"), outline.get("fill")) == (
        "#b3261e", "5,2", "#f1f5f9"), "drawn dashed in red on grey"
    assert undone.find(f".//{SVG}a").get(f"{XLINK}title") == (
        "Deployment: production, 2026-02-03, rolled back 2026-02-06\n1.1 by Bo\n"
        'rolled back on 2026-02-06 by Ana "A&B" <ops> (back to 1.0)\ndate: 2026-02-03')

    rollback = _node(svg, 4, "production")
    assert _texts(rollback) == ["production", "2026-02-06", "rollback of 1.1"]
    assert rollback.find(f".//{SVG}polygon").get("stroke-dasharray") is None
    assert _texts(_node(svg, 1, "production")) == ["production", "2026-01-10"], \
        "the two production deployments of 1.0 differ by their dates"
    legend = [t for g in svg.iter(f"{SVG}g") if (g.get("id") or "").startswith("mc-legend") for t in _texts(g)]
    assert "Rolled-back deployment" in legend
