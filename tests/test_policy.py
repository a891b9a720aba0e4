"""Policy gates per risk tier, as a user meets them: `validate` and `build` in real projects with a policy file,
exact problem lines and exit codes, waivers that pass and show, expire and go stale, and the pages."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

from conftest import read_mkdocs_yml
from modelcards.lineage.checks import CHECKS

MODELCARDS = Path(sys.executable).parent / "modelcards"
JUNE_2026 = "1780315200"  # 2026-06-01, the "as of" day unless a test says otherwise
JUNE_2027 = "1811851200"  # 2027-06-01

CARD = """\
name: scorer
title: Scorer
risk_tier: high
intended_use:
  out_of_scope: [Decisions about single people.]
metrics:
  - {name: auc, threshold: 0.9}
  - {name: error_rate, higher_is_better: false, threshold: 0.2}
quantitative_analyses:
  - {metric: auc, slice: all, value: 0.93}
ethical_considerations:
  - {name: Scores can be over-trusted., mitigation: A person reviews every score.}
versions:
  - version: "1.0.0"
    date: "2026-03-01"
    metrics: {auc: 0.85, error_rate: 0.1}
  - version: "1.1.0"
    date: "2026-04-01"
    metrics: {auc: 0.93, error_rate: 0.1}
    approvals:
      - {by: Ann Risk, role: model risk reviewer, decision: approved, date: "2026-04-02", note: Fine.}
deployments:
  - {environment: production, version: "1.1.0", date: "2026-04-03", by: Bob Ops,
     override: {by: Ann Risk, reason: The scorer has no staging environment.}}
"""

POLICY = """\
high:
  required_fields: [ethical_considerations, quantitative_analyses, intended_use.out_of_scope]
"""


def project(root: Path, *, card: str = CARD, policy: str | None = POLICY, extra_cards: dict[str, str] | None = None,
            **options: object) -> Path:
    """A project with mkdocs.yml (the modelcards plugin, ``policy: policy.yml``), cards/ and policy.yml."""
    example = read_mkdocs_yml()
    plugin = {"cards_dir": "cards", **({"policy": "policy.yml"} if policy is not None else {}), **options}
    config = {"site_name": "Test site", "docs_dir": "docs", "theme": example["theme"],
              "plugins": ["search", {"modelcards": plugin}]}
    (root / "docs").mkdir(parents=True)
    (root / "cards").mkdir()
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    (root / "cards" / "scorer.yml").write_text(card, encoding="utf-8")
    for name, text in (extra_cards or {}).items():
        (root / "cards" / name).write_text(textwrap.dedent(text), encoding="utf-8")
    if policy is not None:
        (root / "policy.yml").write_text(textwrap.dedent(policy), encoding="utf-8")
    return root


def run(root: Path, *args: str, as_of: str = JUNE_2026) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(MODELCARDS), *args], cwd=root, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "SOURCE_DATE_EPOCH": as_of})


def problems(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The problem lines a command printed (``path:line:col: severity: ...``)."""
    return [line for line in result.stderr.splitlines() if re.match(r"^\S+:\d+:\d+: (error|warning|info): ", line)]


def page_text(path: Path) -> str:
    """What a reader sees of a built page: its text, tags removed, spaces collapsed."""
    body = path.read_text(encoding="utf-8")
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    body = re.sub(r"</?(code|a|span|em|strong|small)\b[^>]*>", "", body)  # inline: no space of their own
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def with_waivers(card: str, waivers: str) -> str:
    return card.replace("versions:\n", textwrap.dedent(waivers) + "versions:\n", 1)


UNSLICED = ("cards/scorer.yml:10:3: warning: quantitative_analyses: policy high/required_fields: found no sliced "
            "result of version 1.1.0, expected at least one result on a subgroup other than the whole test set, "
            'e.g. {metric: ..., slice: age >= 60, value: ..., version: "1.1.0"}')

WAIVER = """\
waivers:
  - rule: required_fields
    by: Dana Chief
    reason: Slices by region arrive with the Q3 evaluation <b>set</b>.
    expires: "2026-09-30"
"""


def test_high_tier_without_sliced_analyses_fails_strict_validate_with_the_rule_name(tmp_path):
    root = project(tmp_path)
    loose = run(root, "validate")
    assert loose.returncode == 0, loose.stderr
    assert problems(loose) == [UNSLICED]
    strict = run(root, "validate", "--strict")
    assert strict.returncode == 1
    assert problems(strict) == [UNSLICED]
    assert "0 error(s), 1 warning(s) in the cards" in strict.stderr


def test_a_waiver_with_a_future_expiry_passes_and_shows_on_the_pages(tmp_path):
    root = project(tmp_path, card=with_waivers(CARD, WAIVER), lineage_checks={name: "off" for name in CHECKS})
    validated = run(root, "validate", "--strict")
    assert validated.returncode == 0, validated.stderr
    assert problems(validated) == [
        "cards/scorer.yml:10:3: info: quantitative_analyses: policy high/required_fields: waived by Dana Chief "
        "until 2026-09-30 (waivers[0]): found no sliced result of version 1.1.0, expected at least one result on "
        'a subgroup other than the whole test set, e.g. {metric: ..., slice: age >= 60, value: ..., version: "1.1.0"}']

    built = run(root, "build", "--strict")
    assert built.returncode == 0, built.stderr
    assert "info: quantitative_analyses: policy high/required_fields: waived by Dana Chief" in built.stderr
    model = page_text(root / "site" / "models" / "scorer" / "index.html")
    assert ("Policy Passes, 1 waived: the rules for risk tier high in policy.yml, as of 2026-06-01. "
            "All failures and waivers.") in model
    assert ("required_fields waived Waived by Dana Chief until 2026-09-30: Slices by region arrive with the Q3 "
            "evaluation <b>set</b>. (found no sliced result of version 1.1.0") in model
    source = (root / "site" / "models" / "scorer" / "index.html").read_text(encoding="utf-8")
    assert "<b>set</b>" not in source, "text from a card reaches the page escaped"
    policy = page_text(root / "site" / "policy" / "index.html")
    assert "3 model(s)" not in policy and "1 model(s) under the policy: 1 pass, 0 fail, 1 with waivers." in policy
    assert "Failures None." in policy
    assert ("Scorer (high) required_fields cards/scorer.yml:10 quantitative_analyses Dana Chief, until 2026-09-30 "
            "Slices by region arrive with the Q3 evaluation <b>set</b>. Waived: found no sliced result of "
            "version 1.1.0") in policy
    assert "Edits of approved versions" in policy
    catalog = page_text(root / "site" / "index.html")
    assert "Policy Tags" in catalog and "passes, 1 waived" in catalog
    nav = (root / "site" / "index.html").read_text(encoding="utf-8")
    assert 'href="policy/"' in nav


def test_an_expired_waiver_fails_again_and_says_so(tmp_path):
    root = project(tmp_path, card=with_waivers(CARD, WAIVER))
    result = run(root, "validate", "--strict", as_of=JUNE_2027)
    assert result.returncode == 1
    assert problems(result) == [
        UNSLICED + "; the waiver by Dana Chief expired on 2026-09-30"]


def test_a_waiver_that_matches_no_failure_is_a_stale_warning(tmp_path):
    sliced = CARD.replace("  - {metric: auc, slice: all, value: 0.93}\n",
                          "  - {metric: auc, slice: all, value: 0.93}\n  - {metric: auc, slice: age >= 60, value: 0.9}\n")
    stale = with_waivers(sliced, WAIVER + """\
  - {rule: aprovals, by: Dana Chief, reason: Typo., expires: "2026-09-30"}
""")
    result = run(root := project(tmp_path, card=stale), "validate")
    assert result.returncode == 1
    assert problems(result) == [
        "cards/scorer.yml:15:5: warning: waivers[0]: policy: stale waiver of 'required_fields': no rule of its "
        "tier (high) fails there; expected a waiver only where a rule fails: remove it",
        "cards/scorer.yml:19:12: error: waivers[1].rule: found rule 'aprovals' (did you mean 'approvals'?), "
        "expected one of: required_fields, approvals, metric_thresholds, evaluation_age, lineage_checks, "
        "personal_data, regulatory_coverage, monitoring, frozen_version",
    ]
    assert root.is_dir()


def test_approvals_count_only_latest_approved_decisions_by_role(tmp_path):
    card = CARD.replace(
        '      - {by: Ann Risk, role: model risk reviewer, decision: approved, date: "2026-04-02", note: Fine.}\n',
        '      - {by: Ann Risk, role: model risk reviewer, decision: approved, date: "2026-04-02", note: Fine.}\n'
        '      - {by: Cy Risk, role: Model Risk Reviewer, decision: approved, date: "2026-04-02", note: Fine.}\n'
        '      - {by: Cy Risk, role: model risk reviewer, decision: changes_requested, date: "2026-04-05", '
        'note: Recheck.}\n')
    policy = """\
    high:
      approvals:
        - {role: model risk reviewer, count: 2}
        - {role: product owner}
    """
    result = run(project(tmp_path, card=card, policy=policy), "validate")
    assert problems(result) == [
        "cards/scorer.yml:25:40: warning: deployments[0].version: policy high/approvals: version 1.1.0 runs in "
        "production with 0 approval(s) by a product owner, expected at least 1 (each approver's latest decision, "
        "when it is approved)",
        "cards/scorer.yml:25:40: warning: deployments[0].version: policy high/approvals: version 1.1.0 runs in "
        "production with 1 approval(s) by a model risk reviewer (Ann Risk), expected at least 2 (each approver's "
        "latest decision, when it is approved)",
    ]


def test_metric_thresholds_gate_deployed_versions_only(tmp_path):
    card = CARD.replace("metrics: {auc: 0.93, error_rate: 0.1}", "metrics: {auc: 0.93, error_rate: 0.25}")
    policy = """\
    high:
      card_thresholds: true
      metric_thresholds:
        auc: {min: 0.95}
        latency_ms: {max: 50}
    """
    result = run(project(tmp_path, card=card, policy=policy), "validate", "--strict")
    assert result.returncode == 1
    # 1.0.0 (auc 0.85) is below both bounds, but it is deployed nowhere, so nothing gates it.
    assert problems(result) == [
        "cards/scorer.yml:19:14: warning: versions[1].metrics: policy high/metric_thresholds: version 1.1.0 runs "
        "in production without a value for latency_ms, expected one (the policy sets a bound)",
        "cards/scorer.yml:19:20: warning: versions[1].metrics.auc: policy high/metric_thresholds: version 1.1.0 "
        "runs in production with auc 0.93, expected at least 0.95 (the policy)",
        "cards/scorer.yml:19:38: warning: versions[1].metrics.error_rate: policy high/metric_thresholds: version "
        "1.1.0 runs in production with error_rate 0.25, expected at most 0.2 (the card's threshold)",
    ]


def test_evaluation_age_counts_from_the_version_date(tmp_path):
    policy = "high:\n  evaluation_max_age_days: 365\n"
    root = project(tmp_path, policy=policy)
    assert problems(run(root, "validate")) == []
    assert problems(run(root, "validate", as_of=JUNE_2027)) == [
        "cards/scorer.yml:18:11: warning: versions[1].date: policy high/evaluation_age: version 1.1.0 runs in "
        "production on an evaluation of 2026-04-01 (its date), 426 days before 2027-06-01; expected at most 365 "
        "days: evaluate it again"]


def test_a_lineage_check_becomes_an_error_under_the_policy(tmp_path):
    policy = "high:\n  lineage_checks_as_errors: [no_run]\n"
    root = project(tmp_path, policy=policy, lineage_checks={"no_data_version": "off", "no_code_commit": "off"})
    validated = run(root, "validate", "--strict")
    assert validated.returncode == 0, "validate reads no runs: the lineage rule is not checked there"
    built = run(root, "build")
    assert built.returncode == 1
    assert problems(built) == [
        f"cards/scorer.yml:{line}:5: error: versions[{index}]: policy high/lineage_checks: no_run: version "
        f"'{label}' names no run: add run: <source>:<run id> (mlflow, dvc or openlineage) so the tracker's "
        "record backs it"
        for line, index, label in ((14, 0, "1.0.0"), (17, 1, "1.1.0"))]
    assert "the site was not built" in built.stderr
    assert not (root / "site").exists()


def test_a_dataset_with_personal_data_needs_a_dpia_and_a_legal_basis(tmp_path):
    card = CARD.replace("versions:\n", "training_data: {datasets: [patients]}\nversions:\n", 1)
    dataset = """\
    kind: dataset
    name: patients
    personal_data:
      contains: true
      legal_basis: GDPR Art. 6(1)(e) and Art. 9(2)(j)
    """
    policy = "high:\n  personal_data: true\n"
    result = run(project(tmp_path, card=card, policy=policy, extra_cards={"patients.yml": dataset}), "validate")
    assert problems(result) == [
        "cards/patients.yml:4:3: warning: personal_data: policy high/personal_data: dataset patients holds "
        "personal data and model scorer uses it, but it has no personal_data.dpia; expected a DPIA reference "
        "(GDPR Art. 35) and the legal basis (Art. 6) in its dataset card"]


def test_full_regulatory_coverage_fails_each_uncovered_item_naming_the_field_to_fill(tmp_path):
    result = run(project(tmp_path, policy="high:\n  regulatory_coverage: true\n"), "validate", "--strict")
    assert result.returncode == 1
    found = problems(result)
    assert "cards/scorer.yml:1:1: warning: policy high/regulatory_coverage: EU AI Act Annex IV 9 (Post-market " \
           "monitoring (Art. 72)) is missing: no post-market monitoring plan (monitoring); expected it covered " \
           "(see the model's regulatory crosswalk)" in found
    # Of the 9 Annex IV points and 5 NIST items the card covers only MANAGE 1.1 (its live version is approved):
    # each of the other 13 fails once.
    assert len(found) == 13 and all("policy high/regulatory_coverage: " in line for line in found)
    assert not [line for line in found if "MANAGE 1.1" in line]
    plan = ("monitoring:\n  description: Weekly AUC on labelled cases.\n  monitored: [auc]\n  cadence: weekly\n"
            "  owner: Risk team\n  escalation: Page the owner.\n")
    human = ("human_oversight:\n  description: A reviewer can hold any score.\n"
             "  measures: [A person reviews every score.]\n")
    covered = run(project(tmp_path / "planned", card=plan + human + CARD,
                          policy="high:\n  regulatory_coverage: true\n"), "validate")
    assert not [line for line in problems(covered) if "Annex IV 9 " in line or "MANAGE 4.1" in line]


BAD_POLICIES = {
    "unknown key": ("high:\n  required_field: [caveats]\n",
                    "policy.yml:2:3: error: high.required_field: unknown key 'required_field'; did you mean "
                    "'required_fields'?"),
    "unknown tier": ("hihg:\n  required_fields: [caveats]\n",
                     "policy.yml:1:1: error: hihg: unknown key 'hihg'; did you mean 'high'?"),
    "unknown check": ("high:\n  lineage_checks_as_errors: [no_runs]\n",
                      "policy.yml:2:30: error: high.lineage_checks_as_errors[0]: found check 'no_runs' (did you "
                      f"mean 'no_run'?), expected one of: {', '.join(CHECKS)}"),
    "wrong type": ("high:\n  evaluation_max_age_days: soon\n",
                   "policy.yml:2:28: error: high.evaluation_max_age_days: found string 'soon', expected a whole "
                   "number"),
    "unknown field": ("high:\n  required_fields: [intended_use.out_of_scop]\n",
                      "policy.yml:2:21: error: high.required_fields[0]: found 'intended_use.out_of_scop': no field "
                      "'out_of_scop' under intended_use (did you mean 'intended_use.out_of_scope'?); expected a "
                      "model card field, e.g. ethical_considerations or intended_use.out_of_scope"),
}


def test_bad_policy_files_are_errors_at_their_line_and_build_no_site(tmp_path):
    for case, (text, expected) in BAD_POLICIES.items():
        root = project(tmp_path / case.replace(" ", "-"), policy=text)
        validated = run(root, "validate")
        assert validated.returncode == 1, case
        assert problems(validated) == [expected], case
        built = run(root, "build")
        assert built.returncode == 1, case
        assert expected in problems(built), case  # beside the lineage warnings of a card without runs
        assert not (root / "site").exists(), case


def test_a_missing_policy_file_and_a_wrong_setting_are_errors(tmp_path):
    root = project(tmp_path / "missing-file", policy=None)
    config = yaml.safe_load((root / "mkdocs.yml").read_text())
    config["plugins"][1]["modelcards"]["policy"] = "nope.yml"
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    result = run(root, "validate")
    assert result.returncode == 1
    assert problems(result) == [
        "nope.yml:1:1: error: file not found; expected the policy file that the `policy` setting names"]
    config["plugins"][1]["modelcards"]["policy"] = ["policy.yml"]
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    result = run(root, "validate")
    assert result.returncode == 1
    written = (root / "mkdocs.yml").read_text().splitlines()
    line = next(number for number, text in enumerate(written, 1) if text.strip() == "- policy.yml")
    assert problems(result) == [
        f"mkdocs.yml:{line}:5: error: plugins.modelcards.policy: found [\"policy.yml\"], expected a path or null"]


def test_the_policy_reference_documents_every_key_and_rule():
    from modelcards.policy import RULES, TierPolicy

    reference = (Path(__file__).resolve().parents[1] / "docs" / "reference" / "policy.md").read_text(encoding="utf-8")
    undocumented = [name for name in [*TierPolicy.model_fields, *RULES] if f"`{name}" not in reference]
    assert not undocumented, f"docs/reference/policy.md does not describe: {undocumented}"
