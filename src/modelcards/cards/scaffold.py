"""A commented starter card for ``modelcards new``."""

from __future__ import annotations

import re

from ..errors import ModelcardsError
from .schema import SLUG_PATTERN

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
  - name: Your team
    contact: team@example.com
    role: owner
tags: []
status: draft                    # draft | staging | production | deprecated | archived
risk_tier: medium                # low | medium | high | critical
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

versions:
  - version: "0.1.0"             # quote versions: 1.10 is not a number
    date: "2026-01-01"
    changes: First version.
    reason: Why it was built.
    metrics:
      accuracy: 0.0
    params: {{}}
    data: []                     # - {{dataset: name, version: "1", digest: md5...}}
    code:
      repo: https://git.example.com/your/repo
      commit: "0000000"            # quote commits: 0000000 and 1e10 are numbers

deployments: []                  # - {{environment: production, version: "0.1.0", date: ..., by: ..., reason: ...}}

custom: {{}}                     # your own fields, shown on the page as they are
"""


def scaffold_card(name: str) -> str:
    if not re.match(SLUG_PATTERN, name):
        raise ModelcardsError(
            f"found name {name!r}, expected a slug: lowercase letters, digits, '-', '_' or '.'"
        )
    title = name.replace("-", " ").replace("_", " ").capitalize()
    return _TEMPLATE.format(schema_comment=SCHEMA_COMMENT, name=name, title=title)
