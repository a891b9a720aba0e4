"""A commented starter card for ``modelcards new`` and ``modelcards init``."""

from __future__ import annotations

import json
import re

from ..errors import ModelcardsError
from .schema import SLUG_PATTERN, RiskTier, json_schema

SCHEMA_FILE = "card.schema.json"
# Relative, so editors read the schema from the repository and never from the network.
SCHEMA_COMMENT = f"# yaml-language-server: $schema={SCHEMA_FILE}"

_TEMPLATE = """{schema_comment}
# Model card for {name}. Field reference: docs/reference/card-format.md
# Check it with: modelcards validate cards/{name}.yml

name: {name}                     # unique, used in URLs
title: {title}
summary: >-
  One or two sentences: what the model predicts, for whom, from what.
owners:
  - name: {owner}
    contact: {contact}
    role: owner
tags: []
status: draft                    # draft | staging | production | deprecated | archived
risk_tier: {risk_tier:<22}# low | medium | high | critical
license: proprietary

model_details:
  type: binary classifier
  framework: scikit-learn
  architecture: describe the model family and size

intended_use:
  primary_uses:
    - What decisions the model supports.
  primary_users:
    - Who uses its output.
  out_of_scope:
    - Uses it was not built or evaluated for.

metrics:
  - name: accuracy
    description: Share of correct predictions on the held-out test split.
    higher_is_better: true
    threshold: 0.9               # optional release gate

training_data:
  datasets: []                   # names of dataset cards (kind: dataset)
  description: How the training data was selected and split.

ethical_considerations:
  - name: A risk this model carries.
    mitigation: What was done about it.

caveats:
  - A known limitation.

# Released versions, oldest first. Add one when you release: each names the run and the data that made it
# (the build warns about a version that does not).
versions: []
#  - version: "0.1.0"            # quote versions: 1.10 is not a number
#    date: "2026-01-01"
#    changes: First version.
#    reason: Why it was built.
#    metrics:
#      accuracy: 0.0
#    params: {{}}
#    data: []                     # - {{dataset: name, version: "1", digest: md5...}}
#    run: mlflow:<run id>         # or dvc:<stage>@<commit>, openlineage:<runId>
#    code:
#      repo: https://git.example.com/your/repo
#      commit: "0000000"          # quote commits: 0000000 and 1e10 are numbers

deployments: []                  # - {{environment: production, version: "0.1.0", date: ..., by: ..., reason: ...}}

custom: {{}}                     # your own fields, shown on the page as they are
"""


def scaffold_card(name: str, *, title: str | None = None, owner: str = "Your team",
                  contact: str = "team@example.com", risk_tier: str = "medium") -> str:
    """The card's YAML text; the owner, contact and title are quoted so that any text stays a string."""
    if not re.match(SLUG_PATTERN, name):
        raise ModelcardsError(
            f"found name {name!r}, expected a slug: lowercase letters, digits, '-', '_' or '.'"
        )
    tiers = [tier.value for tier in RiskTier]
    if risk_tier not in tiers:
        raise ModelcardsError(f"found risk tier {risk_tier!r}, expected one of: {', '.join(tiers)}")
    title = title or name.replace("-", " ").replace("_", " ").capitalize()
    return _TEMPLATE.format(schema_comment=SCHEMA_COMMENT, name=name, title=_quoted(title), owner=_quoted(owner),
                            contact=_quoted(contact), risk_tier=risk_tier)


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML flow scalar


def schema_file_text() -> str:
    """The card schema as ``cards/card.schema.json`` holds it, for editors."""
    return json.dumps(json_schema(), indent=2) + "\n"
