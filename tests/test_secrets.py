"""No secret reaches the site or the build log: a corpus of credential shapes, planted everywhere in run exports.

The shapes follow the rules of gitleaks (``config/gitleaks.toml``) and the plugins of detect-secrets
(``detect_secrets/plugins``). Each one is planted in every text field of one run export (params, tags,
metric names, dataset inputs and their schema, outputs, code, user, experiment, environment, packages), the runs are
linked to a card, and the real ``modelcards build`` runs. Then no file of the site (pages, search index,
DOT downloads, SVG) and no line of the build's output may hold a secret, while ordinary values stay visible.

The credentials are made up and assembled from pieces, so that no scanner mistakes this file for a leak.
"""

from __future__ import annotations

import dataclasses
import gzip
import html
import json
import re
import textwrap
from pathlib import Path
from urllib.parse import quote

import pytest

from conftest import run_modelcards, write_project
from modelcards.sources.masking import SecretMasker, mask_records
from modelcards.sources.record import (CodeRef, DatasetRef, Output, Package, RunRecord, SchemaField, series,
                                      write_export)

B64 = "Zm9vYmFyYmF6cXV4" * 6  # 96 base64 characters to cut keys from
HEX = "9f8e7d6c5b4a39281706f5e4d3c2b1a0" * 2
ALNUM = "Qx7Lm2Np8Rt4Vw6Yz3Bc5Df9Gh1Jk0Ps"  # 32

# name -> (the text planted, the part that must never be seen)
SHAPES: dict[str, tuple[str, str]] = {
    "postgres URL": ("postgres://etl:" + "Pg5ecretPw" + "@db:5432", "Pg5ecretPw"),
    "basic-auth git URL": ("https://deploy:" + "Tr0ub4dorX9" + "@git.example.com/ml.git", "Tr0ub4dorX9"),
    "token in a query": ("https://api.example.com/v1/items?access_" + "token=" + ALNUM[:20], ALNUM[:20]),
    "DSN password": ("host=db.internal user=etl pass" + "word=" + "Hx7pQ2vLm9 dbname=features", "Hx7pQ2vLm9"),
    "ODBC Pwd": ("Server=tcp:sql.example.com;Database=ml;Uid=etl;P" + "wd=" + "Qz4Kp8Wn2T;", "Qz4Kp8Wn2T"),
    "AWS access key": ("AK" + "IA" + "Q3ZXN7PLM2RT8WKV", "Q3ZXN7PLM2RT8WKV"),
    "AWS secret key": ("aws_secret_access_" + "key=" + "wJalrXUtnFEMI/K7MDENG/bPxRfiCYZ9XMPLKEY1",
                       "wJalrXUtnFEMI/K7MDENG"),
    "Azure storage": ("DefaultEndpointsProtocol=https;AccountName=mlstore;Account" + "Key=" + B64[:86] + "==;"
                      "EndpointSuffix=core.windows.net", B64[:40]),
    "Azure SAS": ("https://mlstore.blob.core.windows.net/data?sv=2022-11-02&sp=rl&s" + "ig="
                  + "Xk3%2Bq9Zp7Lm2Nv8Rt5Ws1Yb4Hc6%3D", "Xk3%2Bq9Zp7Lm2Nv8"),
    "Google API key": ("AI" + "za" + "SyD3mo4Vx9Qk2LpR7tN8wZ1cF5hJ6bG0aE_", "SyD3mo4Vx9Qk2LpR7tN8"),
    "GCP service account": ('{"type": "service_account", "private_key": "-----BEGIN PRIVATE' + ' KEY-----\\n'
                            'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE' + ' KEY-----\\n"}',
                            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
    "GitHub token": ("gh" + "p_" + ALNUM + "Ab12", ALNUM),
    "GitLab token": ("gl" + "pat-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm", "Zx9Yw8Vu7Ts6Rq5Po4Nm"),
    "Slack bot token": ("xo" + "xb-" + "2345678901-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
                        "AbCdEfGhIjKlMnOpQrStUvWx"),
    "Slack webhook": ("https://hooks.slack.com/services/T0ABCDEFG/B0HIJKLMN/" + "Wh00kS3cr3tV4lu3xYz12345",
                      "Wh00kS3cr3tV4lu3xYz12345"),
    "Stripe key": ("sk" + "_live_" + "51HxYz" + ALNUM[:20], "51HxYz" + ALNUM[:20]),
    "OpenAI key": ("sk" + "-proj-" + ALNUM + "-Ab_Cd12345678", ALNUM + "-Ab_Cd"),
    "Anthropic key": ("sk" + "-ant-api03-" + ALNUM + "_xYz987654321", ALNUM + "_xYz"),
    "Hugging Face token": ("h" + "f_" + "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh", "AbCdEfGhIjKlMnOpQrStUvWxYz"),
    "npm token": ("np" + "m_" + ALNUM + "Zz99", ALNUM),
    "PyPI token": ("pypi-" + "AgEIcHlwaS5vcmc" + B64[:60], B64[:40]),
    "SendGrid key": ("S" + "G." + "Nq3Lm8Rt5Vx2Bz7Cd4Fg1H" + "." + "Jk6Mn9Pq2St5Vw8Yz1Ab4De7Gh0Jk3Mn6Pq9St2Vw5Yz",
                     "Jk6Mn9Pq2St5Vw8Yz1Ab4De7Gh0"),
    "Twilio key": ("S" + "K" + HEX[:32], HEX[:32]),
    "Mailgun key": ("ke" + "y-" + HEX[3:35], HEX[3:35]),
    "Databricks token": ("da" + "pi" + HEX[5:37], HEX[5:37]),
    "JWT": ("ey" + "JhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtbC1ib3QifQ." + "c2lnbmF0dXJlLXZhbHVlLTEyMzQ1Njc4OTA",
            "c2lnbmF0dXJlLXZhbHVlLTEyMzQ1Njc4OTA"),
    "Discord bot token": ("MTIzNDU2Nzg5MDEyMzQ1Njc4" + ".GhIjKl." + "AbCdEfGhIjKlMnOpQrStUvWxYz012345",
                          "AbCdEfGhIjKlMnOpQrStUvWxYz012345"),
    "Telegram bot token": ("123456789:" + "A" + "AHk3Lm9Np2Qr5St8Vw1Yz4Bc7Df0Gh3Jk6", "AHk3Lm9Np2Qr5St8Vw1Yz4"),
    "Shopify token": ("shp" + "at_" + HEX[7:39], HEX[7:39]),
    "Heroku key": ("HRKU" + "-AA" + B64[:58].replace("=", "x"), B64[10:50]),
    "private key": ("-----BEGIN RSA PRIVATE" + " KEY-----\nMIIEpAIBAAKCAQEA7bq9Xv2\n-----END RSA PRIVATE" + " KEY-----",
                    "MIIEpAIBAAKCAQEA7bq9Xv2"),
}
# Visible after masking: what is not a credential, and the readable part of a masked URL.
ORDINARY = {"max_tokens": "512", "tokenizer": "bpe-32k", "author": "ana", "n_keys": "4", "key_column": "customer_id",
            "pad_token_id": "0"}


def planted_run(index: int, text: str) -> RunRecord:
    """``text`` in every text field of one run export."""
    return RunRecord(
        source="mlflow", id=f"{index:032x}", experiment=f"exp {text}", name=f"run {text}", status="FINISHED",
        start_time="2026-03-01T10:00:00Z", end_time="2026-03-01T10:05:00Z", user=text,
        params={**ORDINARY, "note": text, text: "1"},
        metrics={"accuracy": series([(0, 0.9, None), (1, 0.91, None)]), text: series([(0, 1.0, None), (1, 0.5, None)])},
        tags={"comment": f"see {text}", "team": "vision"},
        inputs=(DatasetRef(f"table {text}", namespace=text, source=text, version=text, digest=text,
                           schema=(SchemaField("customer_id", "long"), SchemaField(text, "string"))),),
        outputs=(Output("model", f"model {text}", namespace=text, uri=text, registered_name=f"reg {text}", version="1",
                        aliases=(text,)),),
        code=CodeRef(text, "3b18e512dba79e4c8300dd08aeb37f8e728b8dad", text),
        environment={"python": "3.11", "DATABASE_URL": text},
        # a requirement installed from a URL with its credentials, as a requirements.txt can hold it
        packages=(Package("corp-features", f"@ {text}"), Package("numpy", "==2.1.0")),
    )


def corpus_project(root: Path) -> Path:
    runs = [planted_run(index, text) for index, (text, _) in enumerate(SHAPES.values())]
    versions = "".join(f"""
          - version: "{index + 1}.0"
            date: 2026-03-{(index % 28) + 1:02d}
            run: mlflow:{run.id}""" for index, run in enumerate(runs))
    card = textwrap.dedent("""
        name: leaky
        title: A model whose runs hold every kind of credential
        tags: [secrets]
        metrics:
          - name: accuracy
        versions:""") + textwrap.indent(textwrap.dedent(versions), "  ")
    mkdocs_yml = write_project(root, {"leaky.yml": card}, repo_url="https://git.example.com/ml/leaky",
                               plugins=["search", {"modelcards": {"cards_dir": "cards", "runs": ["runs"],
                                                                  "lineage_checks": {"no_data_version": "warning"}}}])
    write_export(runs, root / "runs")
    return mkdocs_yml


@pytest.fixture(scope="module")
def corpus_build(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("secrets")
    mkdocs_yml = corpus_project(root)
    result = run_modelcards("build", "-f", mkdocs_yml, cwd=root, timeout=300)
    return root, result


def spellings(secret: str) -> set[str]:
    """The ways a text can be written into a page, a URL or JSON."""
    return {secret, html.escape(secret), quote(secret, safe=""), json.dumps(secret)[1:-1]}


def test_no_secret_of_the_corpus_reaches_any_file_of_the_site(corpus_build):
    root, _ = corpus_build
    files = [path for path in (root / "site").rglob("*") if path.is_file()]
    kinds = {path.suffix for path in files}
    assert {".html", ".json", ".dot"} <= kinds, kinds  # pages with inline SVG, the search index, DOT downloads
    contents = {path: (gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes())
                .decode("utf-8", "replace") for path in files}
    leaks = [f"{name} in {path.relative_to(root)}" for name, (_, secret) in SHAPES.items()
             for path, text in contents.items() for spelled in spellings(secret)
             if spelled in text or spelled in str(path)]
    assert not leaks, "\n".join(leaks)


def test_no_secret_of_the_corpus_reaches_the_build_log(corpus_build):
    _, result = corpus_build
    log = result.stdout + result.stderr
    assert "Masked" in log and "warning" in log, log[-2000:]  # the log does report runs and lineage
    leaks = [name for name, (_, secret) in SHAPES.items() if any(s in log for s in spellings(secret))]
    assert not leaks, leaks


def test_every_shape_is_reported_by_kind_never_by_value(corpus_build):
    _, result = corpus_build
    reported = [line for line in result.stderr.splitlines() if line.startswith("masked ")]
    for index, name in enumerate(SHAPES):
        run = f"mlflow:{index:032x}"
        fields = {line.split(f"{run} ", 1)[1].split(" (")[0] for line in reported if f" {run} " in line}
        # every planted text field of the run, whatever its place in the record
        for where in ("experiment", "name", "user", "params.note", "inputs[0].namespace", "inputs[0].source",
                      "inputs[0].schema[1].name", "outputs[0].uri", "outputs[0].aliases[0]", "code.repo",
                      "code.entry_point", "environment.DATABASE_URL", "packages[0].spec", "tags.comment"):
            assert where in fields, f"{name}: {where} not masked; masked: {sorted(fields)}"


def test_ordinary_values_and_readable_parts_stay_visible(corpus_build):
    root, _ = corpus_build
    run_page = (root / f"site/runs/mlflow/{0:032x}/index.html").read_text(encoding="utf-8")
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", run_page)).split())
    for key, value in ORDINARY.items():
        assert f"{key} {value}" in text, f"{key} {value} is hidden"
    assert "postgres://[masked]@db:5432" in text, "the host of a masked URL stays readable"
    assert "accuracy" in text and "vision" in text and "customer_id long" in text
    model = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", (root / "site/models/leaky/index.html")
                                          .read_text(encoding="utf-8"))).split())
    assert "[masked]" in model and "accuracy" in model


@pytest.mark.parametrize("key", [
    "db_password", "HF_TOKEN", "awsSecretAccessKey", "api-key", "private_key_path", "Authorization", "client_secret",
    "AZURE_STORAGE_CONNECTION_STRING", "stripe_key", "slack_webhook_url", "OPENAI_API_KEY", "AZURE_STORAGE_KEY",
    "conn_str", "sas_url", "SENTRY_DSN", "github_token", "DISCORD_WEBHOOK", "mailgun_key",
])
def test_a_key_that_names_a_secret_masks_its_value(key: str):
    [record], found = mask_records([RunRecord("mlflow", "r", params={key: "some-value"})])
    assert record.params[key] == "[masked]" and [(item.where, item.reason) for item in found] == [
        (f"params.{key}", "the key looks secret")]


@pytest.mark.parametrize("key", [
    "max_tokens", "tokenizer", "author", "n_keys", "key_column", "pad_token_id", "eos_token", "token_count",
    "learning_rate", "keyword", "sort_key", "primary_key", "aws_region", "authors", "monkey", "passes",
])
def test_an_ordinary_ml_param_stays_visible(key: str):
    [record], found = mask_records([RunRecord("mlflow", "r", params={key: "some-value"})])
    assert record.params[key] == "some-value" and not found


def test_a_provider_key_masks_a_value_of_that_providers_shape_only():
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYZ9XMPLKEY1"
    [record], found = mask_records([RunRecord("mlflow", "r", params={"aws": secret, "aws_region": "eu-west-1"})])
    assert record.params == {"aws": "[masked]", "aws_region": "eu-west-1"}
    assert [item.reason for item in found] == ["an AWS secret access key"]


@pytest.mark.parametrize("text", [
    "--max_tokens=512 --lr=0.1", "s3://bucket/key-path/part-0001.parquet", "Secret: the model never sees names",
    "https://git.example.com/ml/wine", "ssh://git@github.com/org/repo.git", "2026-03-01T10:00:00Z",
    "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "models:/wine/3", "task-abcdefghijklmnopqrstuvwxyz0123456789ab",
])
def test_ordinary_text_is_not_masked(text: str):
    assert SecretMasker().mask_text(text) == (text, None)


LOWER = "q7lm2np8rt4vw6yz3bc5df9gh1jk0psx"  # 32 lower-case letters and digits
# Shapes that can be written in lower-case letters, digits and dashes alone, like the run ids, commits and digests
# that the masker clears without its regular expressions: each must still be found, as a value and inside a run.
LOWER_CASE_SHAPES = {
    "a Mailgun key": "ke" + "y-" + HEX[:32],
    "a Mailchimp key": HEX[:32] + "-us" + "12",
    "a Databricks token": "da" + "pi" + HEX[:32],
    "a GitLab token": "gl" + "pat-" + LOWER[:20],
    "a Slack token": "xo" + "xb-" + "2345678901-" + LOWER[:24],
    "an OpenAI key": "sk" + "-" + LOWER + "ab",
    "an Anthropic key": "sk" + "-ant-api03-" + LOWER,
}


@pytest.mark.parametrize("reason", sorted(LOWER_CASE_SHAPES))
def test_a_lower_case_credential_is_masked_like_any_other(reason: str):
    secret = LOWER_CASE_SHAPES[reason]
    assert SecretMasker().mask_text(secret) == ("[masked]", reason)
    ordinary = "0f3a" * 8  # seen first, as a run id is: cleared without the regular expressions
    [record], found = mask_records([RunRecord("mlflow", ordinary, tags={"mlflow.note": secret, "commit": HEX[:40]})])
    assert record.id == ordinary and record.tags == {"mlflow.note": "[masked]", "commit": HEX[:40]}
    assert [(item.where, item.reason) for item in found] == [("tags.mlflow.note", reason)]


def test_a_masked_export_is_not_masked_again():
    record = planted_run(0, SHAPES["Stripe key"][0])
    [once], first = mask_records([record])
    [twice], second = mask_records([once])
    assert first and not second and twice == once


def test_a_credential_in_a_card_is_an_error_at_its_line_that_never_shows_it(tmp_path: Path):
    password = "Pg5ecretPw"
    stripe = SHAPES["Stripe key"][0]
    mkdocs_yml = write_project(tmp_path, {"x.yml": f"""
        name: x
        title: X
        summary: Reads the features table.
        versions:
          - version: "1.0"
            date: 2026-01-01
            params:
              note: "{stripe}"
              db_password: hunter2-is-long
              max_tokens: 512
        custom:
          owner_team: risk
          db_url: postgres://etl:{password}@db:5432/features
    """})
    result = run_modelcards("build", "-f", mkdocs_yml, cwd=tmp_path, check=False)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert errors == [
        "cards/x.yml:8:13: error: versions[0].params.note: found a Stripe key; remove the credential from the card",
        "cards/x.yml:9:20: error: versions[0].params.db_password: found a value under a key that looks secret; "
        "remove the credential from the card",
        "cards/x.yml:13:11: error: custom.db_url: found a URL with a user and password; "
        "remove the credential from the card",
    ]
    for secret in (password, stripe, "hunter2"):
        assert secret not in result.stdout + result.stderr
    assert not (tmp_path / "site").exists()

    validate = run_modelcards("validate", "cards", cwd=tmp_path, check=False)
    assert validate.returncode == 1 and "custom.db_url: found a URL with a user and password" in validate.stderr


def test_a_card_value_that_disagrees_with_its_run_is_never_quoted_when_it_is_a_credential(tmp_path: Path):
    """A card-versus-run warning quotes both values: a card holding a credential is an error instead."""
    token = SHAPES["GitLab token"][0]
    run = RunRecord("mlflow", "a" * 32, params={"pipeline": "nightly", "seed": "1"})
    mkdocs_yml = write_project(tmp_path, {"x.yml": f"""
        name: x
        title: X
        versions:
          - version: "1.0"
            date: 2026-01-01
            run: mlflow:{"a" * 32}
            params: {{pipeline: "ci {token}", seed: 2}}
    """}, plugins=["search", {"modelcards": {"cards_dir": "cards", "runs": ["runs"]}}])
    write_export([run], tmp_path / "runs")
    result = run_modelcards("build", "-f", mkdocs_yml, cwd=tmp_path, check=False)
    assert result.returncode == 1
    assert ("cards/x.yml:7:24: error: versions[0].params.pipeline: found a GitLab token; remove the credential "
            "from the card") in result.stderr
    assert token not in result.stdout + result.stderr


def test_configured_patterns_also_apply_to_cards_and_run_namespaces(tmp_path: Path):
    run = RunRecord("mlflow", "b" * 32, inputs=(DatasetRef("t", namespace="vault://corp-key-ab12cd34ef"),))
    mkdocs_yml = write_project(tmp_path, {"x.yml": """
        name: x
        title: X
        custom: {ticket: "corp-key-zz99yy88"}
    """}, plugins=["search", {"modelcards": {"cards_dir": "cards", "runs": ["runs"],
                                              "secret_values": [r"corp-key-\w+"]}}])
    write_export([run], tmp_path / "runs")
    result = run_modelcards("build", "-f", mkdocs_yml, cwd=tmp_path, check=False)
    assert ("cards/x.yml:3:18: error: custom.ticket: found the pattern 'corp-key-\\\\w+'; "
            "remove the credential from the card") in result.stderr
    assert "corp-key-zz99" not in result.stderr and "corp-key-ab12" not in result.stderr


@pytest.mark.parametrize("text", [
    "password=${PGPASSWORD}", "api_key: None", "token=<your token>", "auth=none", "Basic hyperparameterization",
    "Password: must be rotated every 90 days",
])
def test_placeholders_and_prose_under_secret_names_are_not_masked(text: str):
    assert SecretMasker().mask_text(text) == (text, None)


def test_prose_under_a_secret_looking_card_key_is_not_an_error(tmp_path: Path):
    mkdocs_yml = write_project(tmp_path, {"x.yml": """
        name: x
        title: X
        custom: {auth: SSO through the corporate identity provider, api_key: "${SCORING_API_KEY}"}
    """})
    run_modelcards("build", "-f", mkdocs_yml, cwd=tmp_path)


def test_no_secret_planted_in_monitoring_exports_reaches_the_site_or_the_log(tmp_path: Path):
    """Every shape of the corpus in a segment and a metric name of the plain format (JSON Lines and CSV), and in
    a column name of an Evidently snapshot: the results stay on the deployment's page, masked."""
    mkdocs_yml = write_project(tmp_path, {"watched.yml": """
        name: watched
        title: Watched
        monitoring:
          description: Recall against the diagnoses, by clinic.
          thresholds:
            - {metric: recall, min: 0.9}
          cadence: monthly
        versions:
          - {version: "1.0", date: 2026-03-01}
        deployments:
          - {environment: production, version: "1.0", date: 2026-03-02, by: ana}
    """}, plugins=["search", {"modelcards": {"cards_dir": "cards", "monitoring": ["monitoring"], "environments": [],
                                             "lineage_checks": {"no_run": "off", "no_code_commit": "off",
                                                                "no_data_version": "off"}}}])
    folder = tmp_path / "monitoring"
    folder.mkdir()
    base = {"timestamp": "2026-03-10", "model": "watched", "version": "1.0", "environment": "production"}
    lines = [{**base, "metric": "recall", "value": 0.95}]
    for text, _ in SHAPES.values():
        lines += [{**base, "metric": "recall", "segment": f"clinic {text}", "value": 0.9},
                  {**base, "metric": f"loss {text}", "value": 0.1}]
    lines.append({**base, "environment": f"prod {SHAPES['GitHub token'][0]}", "metric": "recall", "value": 0.9})
    lines.append({**base, "timestamp": "2026-03-11", "evidently": "snapshot.json"})
    (folder / "results.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    stripe, aws = SHAPES["Stripe key"][0], SHAPES["AWS access key"][0]
    (folder / "results.csv").write_text(
        "timestamp,model,version,environment,metric,value,segment\n"
        f"2026-03-12,watched,1.0,production,recall,0.93,region {stripe}\n"
        f"2026-03-12,watched,1.0,production,{aws},0.5,\n", encoding="utf-8")
    drift = "evidently:metric_v2:"
    (folder / "snapshot.json").write_text(json.dumps({"metrics": [
        {"metric_name": "DriftedColumnsCount", "config": {"type": drift + "DriftedColumnsCount"},
         "value": {"count": 1, "share": 0.5}},
        {"metric_name": "ValueDrift", "config": {"type": drift + "ValueDrift", "column": f"col {stripe}",
                                                 "method": "K-S p_value", "threshold": 0.05}, "value": 0.01},
    ]}), encoding="utf-8")

    result = run_modelcards("build", "-f", mkdocs_yml, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    log = result.stdout + result.stderr
    files = [path for path in (tmp_path / "site").rglob("*") if path.is_file()]
    contents = {path: path.read_bytes().decode("utf-8", "replace") for path in files if path.suffix != ".gz"}
    leaks = [f"{name} in {path.relative_to(tmp_path)}" for name, (_, secret) in SHAPES.items()
             for path, text in contents.items() for spelled in spellings(secret) if spelled in text or spelled in str(path)]
    leaks += [f"{name} in the log" for name, (_, secret) in SHAPES.items() if any(s in log for s in spellings(secret))]
    assert not leaks, "\n".join(leaks)
    assert "masked monitoring/results.jsonl:2 segment (" in log and "masked monitoring/results.csv:3 metric (" in log
    page = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", (
        tmp_path / "site/models/watched/monitoring/production-1.0-2026-03-02/index.html").read_text())).split())
    assert "recall clinic [masked]" in page or "recall clinic postgres://[masked]@db:5432" in page
    assert "col [masked]" in page and "region [masked]" in page and "loss [masked]" in page


def _every_text_replaced(value, text: str, where: str = ""):
    """(where, a copy of ``value`` with the text at ``where`` replaced by ``text``) for every text in it: each
    string field, mapping key and value and tuple item, of nested records too, read from the values themselves."""
    if isinstance(value, str):
        yield where, text
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"{where}.{key} (key)", {**{k: v for k, v in value.items() if k != key}, text: item}
            for inner, changed in _every_text_replaced(item, text, f"{where}.{key}"):
                yield inner, {**value, key: changed}
    elif isinstance(value, tuple):
        for i, item in enumerate(value):
            for inner, changed in _every_text_replaced(item, text, f"{where}[{i}]"):
                yield inner, (*value[:i], changed, *value[i + 1:])
    elif dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            for inner, changed in _every_text_replaced(getattr(value, field.name), text, f"{where}.{field.name}"):
                yield inner, dataclasses.replace(value, **{field.name: changed})


def test_a_secret_in_any_text_of_a_run_is_masked_after_thousands_of_plain_runs():
    """The masker clears a run by the texts it has not seen before; a credential anywhere in a run whose
    every other text was seen plain (the common case, where that shortcut is taken) is still masked."""
    from modelcards.sources.record import Origin

    plain = dataclasses.replace(planted_run(0, "ordinary"), origin=Origin("runs/mlflow-0.json"))
    masker = SecretMasker()
    masker.mask([dataclasses.replace(plain, id=f"{i:032x}") for i in range(2000)])
    secret, hidden = SHAPES["GitHub token"]
    planted = list(_every_text_replaced(plain, secret))
    assert len(planted) > 50 and any(".origin.path" in where for where, _ in planted)
    for where, record in planted:
        [masked], found = masker.mask([record])
        assert found, where
        assert hidden not in repr(masked), where


@pytest.mark.parametrize("params", [{"epochs": 3, "note": SHAPES["Stripe key"][0]},
                                    {"layers": [SHAPES["Stripe key"][0]]}, {"nested": {"x": SHAPES["Stripe key"][0]}}])
def test_a_secret_beside_a_value_of_an_unexpected_type_is_masked(params: dict):
    masker = SecretMasker()
    masker.mask([planted_run(0, "ordinary")])
    [masked], found = masker.mask([dataclasses.replace(planted_run(1, "ordinary"), params=params)])
    assert found and SHAPES["Stripe key"][1] not in repr(masked)


@pytest.mark.parametrize("reason", sorted(LOWER_CASE_SHAPES))
def test_a_lower_case_credential_among_a_runs_new_ids_is_masked_in_every_text(reason: str):
    """A run's texts not seen before (its id, commit, digest) are cleared together, by one check of their
    joined text; a lower-case credential among them, in any text of the run, still fails that check."""
    from modelcards.sources.record import Origin

    secret = LOWER_CASE_SHAPES[reason]
    masker = SecretMasker()
    masker.mask([dataclasses.replace(planted_run(i, "ordinary"), origin=Origin(f"runs/r{i}.json"))
                 for i in range(2000)])
    fresh = dataclasses.replace(planted_run(0, "ordinary"), origin=Origin("runs/r0.json"))
    for index, (where, record) in enumerate(_every_text_replaced(fresh, secret)):
        # new lower-case texts beside the credential, as a new run brings them
        if where != ".id":
            record = dataclasses.replace(record, id=f"{index + 5000:032x}")
        if not where.startswith(".code"):
            record = dataclasses.replace(record, code=CodeRef("https://git.example.com/ml", f"{index:040x}", "x.py"))
        [masked], found = masker.mask([record])
        assert reason in [item.reason.removesuffix(", in a name") for item in found], where
        assert secret not in repr(masked), where


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_a_credential_among_many_new_texts_of_a_run_is_masked(name: str):
    """The joined check, with texts of every kind new to the masker (times, paths, names) beside the credential."""
    from modelcards.sources.record import Origin

    secret, hidden = SHAPES[name]
    masker = SecretMasker()
    record = dataclasses.replace(
        planted_run(7, "ordinary"), origin=Origin("runs/exports/mlflow-7.json"), start_time="2031-05-06T07:08:09Z",
        params={"learning_rate": "0.0123", "note": secret, "optimizer": "AdamW"},
        tags={"mlflow.runName": "bright-fox-77", "mlflow.source.git.commit": "7" * 40})
    [masked], found = masker.mask([record])
    assert [f.where for f in found] == ["params.note"], found
    assert hidden not in repr(masked)


def test_every_alternative_of_the_built_in_prefilter_starts_with_a_literal_character():
    """The regular expression engine then skips to the places where one of those characters stands; one
    alternative starting with a class or a group makes it try every alternative at every place (3.5 times
    slower on the ids, commits and paths of every run)."""
    from modelcards.sources.masking import _BUILT_IN_PREFIXES

    depth, alternatives, current = 0, [], ""
    for char in _BUILT_IN_PREFIXES:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "|" and depth == 0:
            alternatives.append(current)
            current = ""
        else:
            current += char
    alternatives.append(current)
    assert len(alternatives) > 30
    assert [alt for alt in alternatives if not re.match(r"[\w~ -]", alt)] == []
