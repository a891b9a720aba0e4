"""Sign-offs: approvals on versions, the state each version is in, and separation of duties.

Real projects built with the real CLI; pages read in Debian's headless Chromium, as a reader sees them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import StaticServer, run_modelcards, write_project
from modelcards.sources.record import RunRecord, write_export

pytestmark = pytest.mark.browser


def approval(by: str, role: str, decision: str, date: str, note: str, evidence: str | None = None) -> str:
    lines = [f"      - by: {by}", f"        role: {role}", f"        decision: {decision}",
             f'        date: "{date}"', f"        note: {note}"]
    if evidence:
        lines.append(f"        evidence: {evidence}")
    return "\n".join(lines)


RISK = "Anna Kowalski"
OWNER = "Paolo Conti"
NOTE_WITH_MARKUP = "'<script>alert(1)</script> and *not bold*'"

# One version in each state. 1.0 ran in production until 1.2 replaced it (retired); 1.1 was rolled back to 1.0.
STATES_CARD = f"""
name: states
title: Every state
status: production
versions:
  - version: "0.1"
    date: "2026-01-01"
  - version: "0.2"
    date: "2026-01-05"
    approvals:
{approval(RISK, "model risk reviewer", "changes_requested", "2026-01-06", "Add the sliced results.")}
  - version: "0.3"
    date: "2026-01-10"
    approvals:
{approval(OWNER, "product owner", "approved", "2026-01-11", "Fine by me.")}
{approval(RISK, "model risk reviewer", "rejected", "2026-01-12", "Recall is below the gate.", "RISK-3")}
  - version: "0.4"
    date: "2026-01-20"
    approvals:
{approval(RISK, "model risk reviewer", "changes_requested", "2026-01-21", "Document the threshold.")}
{approval(RISK.upper() + "  ", "model risk reviewer", "approved", "2026-01-23", NOTE_WITH_MARKUP,
          "https://tickets.example.com/RISK-4")}
  - version: "1.0"
    date: "2026-02-01"
    run: mlflow:trained1
    approvals:
{approval(RISK, "model risk reviewer", "approved", "2026-02-02", "Passes the gates.", "RISK-10")}
{approval(OWNER, "product owner", "approved", "2026-02-03", "Ship it.")}
  - version: "1.1"
    date: "2026-03-01"
    approvals:
{approval(RISK, "model risk reviewer", "approved", "2026-03-02", "Better AUC.")}
  - version: "1.2"
    date: "2026-04-01"
    approvals:
{approval(RISK, "model risk reviewer", "approved", "2026-04-02", "Recall fixed.")}
deployments:
  - {{environment: production, version: "1.0", date: "2026-02-10", by: Ops}}
  - {{environment: production, version: "1.1", date: "2026-03-05", by: Ops}}
  - {{environment: production, version: "1.0", date: "2026-03-08", by: Ops, rollback_of: "1.1"}}
  - {{environment: production, version: "1.2", date: "2026-04-05", by: Ops}}
"""

# A deprecated model: whatever was approved or deployed is retired; a draft stays a draft.
DEPRECATED_CARD = f"""
name: old
title: Old model
status: deprecated
versions:
  - version: "1.0"
    date: "2025-01-01"
    approvals:
{approval(RISK, "model risk reviewer", "approved", "2025-01-02", "Fine.")}
  - version: "1.5"
    date: "2025-02-01"
    approvals:
{approval(RISK, "model risk reviewer", "approved", "2025-02-02", "Fine.")}
  - version: "2.0"
    date: "2025-03-01"
deployments:
  - {{environment: production, version: "1.0", date: "2025-01-10", by: Ops}}
"""

TRAINER = "Mei Chen"
TRAINED_RUN = RunRecord(source="mlflow", id="trained1", experiment="states", user=f"  {TRAINER.lower()} ")


def runs_plugin() -> list:
    return ["search", {"modelcards": {"cards_dir": "cards", "runs": ["runs"]}}]


@pytest.fixture(scope="module")
def states_site(static_server: StaticServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    project = tmp_path_factory.mktemp("signoffs")
    mkdocs_yml = write_project(project, {"states.yml": STATES_CARD, "old.yml": DEPRECATED_CARD},
                               plugins=runs_plugin())
    write_export([TRAINED_RUN], project / "runs")
    site_dir = static_server.root / "signoffs"
    run_modelcards("build", "-f", mkdocs_yml, "-d", site_dir, cwd=project)
    return static_server.url("/signoffs/")


@pytest.fixture(scope="module")
def page(browser, states_site: str):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


def version_section(page, label: str) -> str:
    """The text of one version's section on the model page: from its heading to the next one."""
    return page.evaluate("""(label) => {
        const heading = [...document.querySelectorAll('h3')].find(h => h.textContent.startsWith('Version ' + label));
        let text = '', node = heading.nextElementSibling;
        while (node && node.tagName !== 'H3' && node.tagName !== 'H2') {
            text += node.innerText + '\\n';
            node = node.nextElementSibling;
        }
        return text;
    }""", label)


@pytest.mark.parametrize(("label", "state"), [
    ("0.1", "draft"), ("0.2", "in review"), ("0.3", "rejected"), ("0.4", "approved"),
    ("1.0", "retired"), ("1.1", "rolled back"), ("1.2", "deployed"),
])
def test_each_version_shows_its_derived_state(page, states_site: str, label: str, state: str):
    page.goto(states_site + "models/states/")
    assert version_section(page, label).startswith(f"State: {state}")
    heading = page.locator("h3").filter(has_text=re.compile(rf"^Version {re.escape(label)}(?![\w.])"))
    block = page.locator(".mc-version", has=heading)
    assert block.locator(".mc-state").first.inner_text() == state, "the timeline marks it with a state chip"


def test_a_deprecated_models_approved_and_deployed_versions_are_retired(page, states_site: str):
    page.goto(states_site + "models/old/")
    assert version_section(page, "1.0").startswith(
        "State: retired, live in production since 2025-01-10, the model is deprecated; sign-off: approved.")
    assert version_section(page, "1.5").startswith("State: retired, the model is deprecated; sign-off: approved.")
    assert version_section(page, "2.0").startswith("State: draft.")


def test_state_details_name_the_environment_and_dates(page, states_site: str):
    page.goto(states_site + "models/states/")
    assert version_section(page, "1.2").startswith(
        "State: deployed, live in production since 2026-04-05; sign-off: approved.")
    assert version_section(page, "1.1").startswith(
        "State: rolled back, rolled back in production on 2026-03-08 (back to 1.0); sign-off: approved.")
    assert version_section(page, "1.0").startswith(
        "State: retired, replaced in production by 1.2 on 2026-04-05; sign-off: approved.")
    assert version_section(page, "0.1").startswith("State: draft.")


def test_sign_offs_are_listed_with_role_date_note_and_evidence_as_text(page, states_site: str):
    page.goto(states_site + "models/states/")
    page.locator("details.mc-version-details").evaluate_all("details => details.forEach(d => d.open = true)")
    text = version_section(page, "0.4")
    assert "Changes requested by Anna Kowalski (model risk reviewer) on 2026-01-21: Document the threshold." in text
    assert ("Approved by ANNA KOWALSKI (model risk reviewer) on 2026-01-23: <script>alert(1)</script> and "
            "*not bold* Evidence: https://tickets.example.com/RISK-4") in text
    evidence = page.locator("a[href='https://tickets.example.com/RISK-4']")
    assert evidence.count() == 1
    assert page.locator("article script").count() == 0 and page.locator("article em").count() == 0
    assert "Rejected by Anna Kowalski (model risk reviewer) on 2026-01-12: Recall is below the gate. Evidence: RISK-3" \
        in version_section(page, "0.3")


def test_catalog_shows_latest_version_state_and_the_live_versions_sign_off(page, states_site: str):
    page.goto(states_site)
    row = page.locator(".mc-catalog tr", has=page.locator("a:text-is('Every state')"))
    cells = row.locator("td")
    assert cells.nth(4).inner_text() == "1.2 (2026-04-01) deployed"
    assert cells.nth(5).inner_text() == "1.2 in production, approved"


def test_an_approval_by_the_user_who_trained_the_version_is_an_error_at_its_line(tmp_path: Path):
    card = STATES_CARD.replace(
        approval(OWNER, "product owner", "approved", "2026-02-03", "Ship it."),
        approval(TRAINER, "product owner", "approved", "2026-02-03", "Ship it."))
    mkdocs_yml = write_project(tmp_path, {"states.yml": card}, plugins=runs_plugin())
    write_export([TRAINED_RUN], tmp_path / "runs")
    result = run_modelcards("build", "-f", mkdocs_yml, "-d", tmp_path / "site", cwd=tmp_path, check=False)
    assert result.returncode == 1
    assert ("cards/states.yml:53:13: error: versions[4].approvals[1].by: found 'Mei Chen', who trained it "
            "(the user of run mlflow:trained1); separation of duties: expected someone other than an author of "
            "version 1.0 to sign it off") in result.stderr.splitlines()
    assert not (tmp_path / "site").exists()


def test_an_email_does_not_match_a_users_name(tmp_path: Path):
    card = STATES_CARD.replace(
        approval(OWNER, "product owner", "approved", "2026-02-03", "Ship it."),
        approval("mei.chen@example.com", "product owner", "approved", "2026-02-03", "Ship it."))
    mkdocs_yml = write_project(tmp_path, {"states.yml": card}, plugins=runs_plugin())
    write_export([TRAINED_RUN], tmp_path / "runs")
    result = run_modelcards("build", "-f", mkdocs_yml, "-d", tmp_path / "site", cwd=tmp_path)
    assert "separation of duties" not in result.stderr


def test_a_decision_dated_before_the_release_is_a_warning_that_fails_strict(tmp_path: Path):
    card = STATES_CARD.replace('date: "2026-01-06"', 'date: "2026-01-04"')
    # The card deploys straight to production; the environment order is test_environment_order's.
    write_project(tmp_path, {"states.yml": card},
                  plugins=["search", {"modelcards": {"cards_dir": "cards", "environments": []}}])
    result = run_modelcards("validate", "--strict", "cards", cwd=tmp_path, check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "cards/states.yml:13:15: warning: versions[1].approvals[0].date: found 2026-01-04, before version 0.2 "
        "was released on 2026-01-05; expected a decision on or after the release date",
        "0 error(s), 1 warning(s) in the cards",
    ]
