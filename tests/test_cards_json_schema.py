"""`modelcards schema` and the validator must agree: what an editor accepts, `modelcards validate` accepts.

Editors read the YAML the way JSON Schema tools do (YAML 1.2: `2024-01-05` stays a string), which is also
how the modelcards loader reads it, so both sides see the same data.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from modelcards.cards.loader import load_card_text
from modelcards.cards.yaml_source import parse_yaml

FIXTURES = Path(__file__).parent / "fixtures" / "cards"
MODELCARDS = Path(sys.executable).parent / "modelcards"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    result = subprocess.run([str(MODELCARDS), "schema"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def card_problems(text: str) -> list[str]:
    """What `modelcards validate` says about one card on its own (in-process: 40 subprocesses would be slow)."""
    card, problems = load_card_text(text, "card.yml")
    assert (card is None) == any(p.severity == "error" for p in problems)
    return [p.format() for p in problems if p.severity == "error"]


def yaml_data(text: str):
    document, problems = parse_yaml(text, "card.yml")
    assert document is not None and not problems, problems
    return document.data


def schema_errors(validator: jsonschema.Draft202012Validator, data) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(data)]


VALID_CARDS = sorted((FIXTURES / "valid").glob("*.yml")) + sorted((FIXTURES / "warnings").glob("*.yml"))


@pytest.mark.parametrize("card", VALID_CARDS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_valid_fixture_card_validates_against_the_json_schema(validator, card: Path):
    text = card.read_text(encoding="utf-8")
    assert card_problems(text) == []
    assert schema_errors(validator, yaml_data(text)) == []


# Fixture cards whose every problem is one a JSON Schema can see (not duplicates or cross-references).
SCHEMA_VISIBLE = ["bad_dates", "bad_enum", "misspelled_keys", "nested_wrong_type", "unknown_kind", "list"]


@pytest.mark.parametrize("case", SCHEMA_VISIBLE)
def test_invalid_fixture_cards_fail_the_json_schema_too(validator, case: str):
    text = (FIXTURES / "invalid" / f"{case}.yml").read_text(encoding="utf-8")
    assert card_problems(text) != []
    assert schema_errors(validator, yaml_data(text)) != []


MINIMAL = "name: churn\ntitle: Churn\n"
VERSION = MINIMAL + "versions:\n  - version: '1.0'\n    date: 2024-01-05\n"

# (label, card text, valid?) -- each is checked by both validators, which must give the same answer.
EDGE_CASES = [
    ("minimal model", MINIMAL, True),
    ("minimal dataset", "kind: dataset\nname: customers\n", True),
    ("explicit kind model", "kind: model\n" + MINIMAL, True),
    ("unknown top-level key", MINIMAL + "team: ml\n", False),
    ("unknown key under custom is fine", MINIMAL + "custom:\n  team: ml\n  nested: {a: [1, 2]}\n", True),
    ("unknown nested key", MINIMAL + "model_details:\n  framwork: x\n", False),
    ("status prod", MINIMAL + "status: prod\n", False),
    ("status production", MINIMAL + "status: production\n", True),
    ("kind typo", "kind: datset\nname: customers\n", False),
    ("name not a slug", "name: Churn Model\ntitle: Churn\n", False),
    ("title missing", "name: churn\n", False),
    ("title null", "name: churn\ntitle:\n", False),
    ("unquoted date", VERSION, True),
    ("quoted date", VERSION.replace("2024-01-05", "'2024-01-05'"), True),
    ("month 13", VERSION.replace("2024-01-05", "2024-13-01"), False),
    ("single-digit month", VERSION.replace("2024-01-05", "2024-1-5"), False),
    ("date with time", VERSION.replace("2024-01-05", "2024-01-05 10:00:00"), False),
    ("unquoted version number", VERSION.replace("'1.0'", "1.0"), False),
    ("integer metric", VERSION + "    metrics: {roc_auc: 1}\n", True),
    ("float metric", VERSION + "    metrics: {roc_auc: 0.8}\n", True),
    ("quoted number metric", VERSION + "    metrics: {roc_auc: '0.8'}\n", False),
    ("boolean metric", VERSION + "    metrics: {roc_auc: true}\n", False),
    ("scalar params", VERSION + "    params: {a: 1, b: 0.5, c: x, d: true}\n", True),
    ("list param", VERSION + "    params: {a: [1, 2]}\n", False),
    ("digest number", VERSION + "    data: [{dataset: d, digest: 123}]\n", False),
    ("data role typo", VERSION + "    data: [{dataset: d, role: test}]\n", False),
    ("threshold string", MINIMAL + "metrics: [{name: auc, threshold: high}]\n", False),
    ("higher_is_better string", MINIMAL + "metrics: [{name: auc, higher_is_better: 'yes'}]\n", False),
    ("interval of three", MINIMAL + "quantitative_analyses: [{metric: a, slice: all, value: 1, "
                                    "confidence_interval: [0, 1, 2]}]\n", False),
    ("negative rows", "kind: dataset\nname: d\nversions: [{version: '1', rows: -1}]\n", False),
    ("owners null", MINIMAL + "owners:\n", False),
    ("input name list", MINIMAL + "model_details:\n  inputs:\n    - name: [a]\n", False),
    ("blank title", "name: churn\ntitle: '  '\n", False),
]
EDGE_CASES = [pytest.param(*case, id=case[0]) for case in EDGE_CASES]


@pytest.mark.parametrize("label, text, valid", EDGE_CASES)
def test_json_schema_and_validate_agree(validator, label: str, text: str, valid: bool):
    problems = card_problems(text)
    errors = schema_errors(validator, yaml_data(text))
    assert (not problems, not errors) == (valid, valid), (
        f"{label}: validate says {problems or 'valid'}; JSON Schema says {errors or 'valid'}"
    )
