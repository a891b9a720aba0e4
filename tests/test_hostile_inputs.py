"""Hostile and broken files, each given to the real `modelcards build` of a project whose site was built.

Cases come from the OWASP cheat sheets (YAML/XML bombs, path traversal, deserialisation) and from
what users' editors and tools really write. Each one must give the documented exit code, a first
problem line `path:line:col: severity: ...`, no traceback, and leave the previous site byte for byte;
it runs under a 1.5 GB address-space limit and a 30 s timeout, so a regression fails instead of
eating the machine.

Bad cards are errors (exit 1). Bad run exports are warnings (the build goes on without the run), so
their cases build with `--strict`, where a warning fails the build like an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
import yaml

from conftest import write_project

MODELCARDS = Path(sys.executable).parent / "modelcards"
VALID_CARDS = Path(__file__).parent / "fixtures" / "cards" / "valid"
MEMORY_LIMIT = 1536 * 1024 * 1024  # bytes of address space for one build
TIME_LIMIT = 30  # seconds for one build

GOOD_EXPORT = {"format": "modelcards-run/1", "source": "mlflow", "id": "good-run", "name": "good",
               "metrics": {"auc": {"last": 0.8, "history": [[0, 0.8, None]]}}}
OPENLINEAGE_EVENT = ('{{"eventType": "COMPLETE", "eventTime": "2026-01-31T12:0{n}:00Z", "run": {{"runId": '
                     '"00000000-0000-4000-8000-00000000000{n}"}}, "job": {{"namespace": "jobs", "name": "train{n}"}}}}')
BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8))


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def build(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(MODELCARDS), "build", *args], cwd=root, capture_output=True, text=True,
                          timeout=TIME_LIMIT, preexec_fn=_limited,
                          env={**os.environ, "SOURCE_DATE_EPOCH": "1700000000"})


def tree(root: Path) -> dict[str, str]:
    return {path.relative_to(root).as_posix(): "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*"))}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with cards and a run export, built once; each case works on a copy."""
    root = tmp_path_factory.mktemp("hostile") / "project"
    write_project(root, {}, plugins=["search", {"modelcards": {"cards_dir": "cards", "runs": ["runs"]}}])
    for name in ("minimal.yml", "customers.yml"):  # churn.yml names runs this project has not
        shutil.copy2(VALID_CARDS / name, root / "cards" / name)
    (root / "runs").mkdir()
    (root / "runs" / "good.json").write_text(json.dumps(GOOD_EXPORT), encoding="utf-8")
    result = build(root)
    assert result.returncode == 0, result.stderr
    assert (root / "site" / "runs" / "mlflow" / "good-run" / "index.html").is_file()
    return root


def card(name: str, content: str | bytes) -> Callable[[Path], None]:
    def write(root: Path) -> None:
        data = content.encode("utf-8") if isinstance(content, str) else content
        (root / "cards" / name).write_bytes(data)
    return write


def run_file(name: str, content: str | bytes) -> Callable[[Path], None]:
    def write(root: Path) -> None:
        path = root / "runs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return write


def symlink(name: str, target: str | Callable[[Path], Path]) -> Callable[[Path], None]:
    def write(root: Path) -> None:
        (root / "cards" / name).symlink_to(target(root) if callable(target) else target)
    return write


def outside_file(root: Path) -> Path:
    secret = root.parent / "outside" / "secret.yml"
    secret.parent.mkdir(exist_ok=True)
    secret.write_text((VALID_CARDS / "minimal.yml").read_text(encoding="utf-8").replace("minimal", "leaked"),
                      encoding="utf-8")
    return secret


def folder(name: str) -> Callable[[Path], None]:
    return lambda root: (root / "cards" / name).mkdir()


def export(**changes: object) -> str:
    return json.dumps({**GOOD_EXPORT, "id": "other", **changes}, indent=1)


@dataclass(frozen=True)
class Case:
    id: str
    arrange: Callable[[Path], None]
    first_line: str  # the first line the build prints, exactly
    strict: bool = False  # run exports: warnings, so the case builds with --strict


PLAIN_ONLY = ("expected plain YAML values (strings, numbers, true/false, null, lists and mappings); tags are "
              "refused because they can run code or change what a value means")
BOMB = ("found aliases that expand to more than 100,000 values (a 'billion laughs' alias bomb?), expected at most "
        "100,000; write the values out or use fewer aliases")
CASES = [
    Case("billion-laughs", card("x.yml", BILLION_LAUGHS),
         f"cards/x.yml:6:8: error: {BOMB}"),
    Case("recursive-alias", card("x.yml", "name: x\ntitle: &t [*t]\n"),
         "cards/x.yml:2:12: error: found an alias inside the value it names (a recursive alias), expected a "
         "value that ends"),
    Case("python-tag", card("x.yml", "name: x\ntitle: !!python/name:os.system\n"),
         f"cards/x.yml:2:8: error: found the tag '!!python/name:os.system', {PLAIN_ONLY}"),
    Case("python-object-apply", card("x.yml", "name: x\ntitle: !!python/object/apply:os.system ['id']\n"),
         f"cards/x.yml:2:8: error: found the tag '!!python/object/apply:os.system', {PLAIN_ONLY}"),
    Case("custom-tag-on-a-list", card("x.yml", "name: x\ntitle: x\ntags: !custom [a, b]\n"),
         f"cards/x.yml:3:7: error: found the tag '!custom', {PLAIN_ONLY}"),
    Case("not-utf8-on-line-3", card("x.yml", b"name: x\ntitle: x\nsummary: caf\xe9\n"),
         "cards/x.yml:3:13: error: found the byte 0xe9, which is not UTF-8 (invalid continuation byte), "
         "expected UTF-8 text"),
    Case("binary-garbage", card("x.yml", random.Random(4).randbytes(4096)),
         "cards/x.yml:1:4: error: found the byte 0xfc, which is not UTF-8 (invalid start byte), expected "
         "UTF-8 text"),
    Case("utf16", card("x.yml", "name: x\ntitle: x\n".encode("utf-16")),
         "cards/x.yml:1:1: error: found a UTF-16 file (its byte-order mark), expected UTF-8 text; save it "
         "as UTF-8"),
    Case("nul-byte", card("x.yml", "name: x\ntitle: a\0b\n"),
         "cards/x.yml:2:9: error: found the control character U+0000, expected text (YAML allows no control "
         "characters but tab and line breaks)"),
    Case("bom-and-crlf", card("x.yml", "\ufeffname: x\r\ntitle: x\r\nstatus: prod\r\n"),
         "cards/x.yml:3:9: error: status: found string 'prod', expected one of: draft, staging, production, "
         "deprecated, archived (did you mean 'production'?)"),
    Case("tabs-for-indentation", card("x.yml", "name: x\ntitle: x\nowners:\n\t- name: a\n"),
         "cards/x.yml:4:1: error: YAML syntax error: found character that cannot start any token "
         "(while scanning for the next token)"),
    Case("empty-file", card("x.yml", ""),
         "cards/x.yml:1:1: error: found an empty file, expected a mapping of card fields (name, title, ...)"),
    Case("a-list-not-a-mapping", card("x.yml", "- name: x\n- title: y\n"),
         "cards/x.yml:1:1: error: found a list, expected a mapping of card fields (name, title, ...)"),
    Case("deep-nesting", card("x.yml", "name: x\ntitle: " + "[" * 100_000 + "]" * 100_000 + "\n"),
         "cards/x.yml:2:1007: error: YAML syntax error: exceeded maximum nesting depth (while increasing flow "
         "level)"),
    Case("nested-past-the-cap", card("x.yml", "name: x\ntitle: " + "[" * 150 + "]" * 150 + "\n"),
         "cards/x.yml:2:107: error: found values nested more than 100 levels deep, expected at most 100"),
    Case("huge-single-line", card("x.yml", "name: x\ntitle: x\n" + "x" * 5_000_000 + "\n"),
         "cards/x.yml:4:1: error: YAML syntax error: could not find expected ':' (while scanning a simple key "
         "at line 3, column 1)"),
    Case("ten-megabyte-card", card("x.yml", "name: x\ntitle: x\n" + "# padding\n" * 1_000_000 + "status: prod\n"),
         "cards/x.yml:1000003:9: error: status: found string 'prod', expected one of: draft, staging, "
         "production, deprecated, archived (did you mean 'production'?)"),
    Case("symlink-out-of-the-project", symlink("x.yml", outside_file),
         "cards/x.yml:1:1: error: found a symlink to '{outside}', which is outside the project folder; expected "
         "a card file inside the project (everything in a card is published)"),
    Case("dangling-symlink", symlink("x.yml", "nowhere.yml"),
         "cards/x.yml:1:1: error: found a symlink to 'nowhere.yml', which does not exist; expected a card file"),
    Case("symlink-loop", symlink("x.yml", "x.yml"),
         "cards/x.yml:1:1: error: found a symlink to 'x.yml', which leads to itself (a loop); expected a card file"),
    Case("folder-named-like-a-card", folder("x.yml"),
         "cards/x.yml:1:1: error: found a folder named like a card, expected a card file (a .yml/.yaml file)"),
    Case("export-source-leaves-the-project", run_file("bad.json", export(source="../../../escaped")),
         "runs/bad.json:3:12: warning: source: not a valid modelcards-run/1 export: found source "
         "'../../../escaped', expected one of: mlflow, dvc, openlineage", strict=True),
    Case("export-is-a-bare-number", run_file("bad.json", "42\n"),
         "runs/bad.json:1:1: warning: found JSON of an unknown kind; expected a modelcards export (\"format\": "
         "\"modelcards-run/1\"), an mlflow-export-import run.json, an OpenLineage event, or `dvc exp show "
         "--json` output", strict=True),
    Case("export-with-nan-source", run_file("bad.json", export(source=float("nan"))),
         "runs/bad.json:3:12: warning: source: not a valid modelcards-run/1 export: found source nan, expected "
         "one of: mlflow, dvc, openlineage", strict=True),
    Case("export-nested-100k-levels", run_file("bad.json", "[" * 100_000 + "]" * 100_000),
         "runs/bad.json:1:1: warning: found JSON that cannot be read (values nested too deeply), expected a "
         "run export", strict=True),
    Case("openlineage-nested-100k-levels", run_file("bad.jsonl", '{"run": ' + "[" * 100_000 + "]" * 100_000 + "}"),
         "runs/bad.jsonl:1:1: warning: event 0: found JSON nested too deeply, expected an OpenLineage event",
         strict=True),
    Case("mlflow-meta-yaml-alias-bomb", run_file("1/meta.yaml", BILLION_LAUGHS),  # runs/ is then an mlruns/ store
         f"runs/1/meta.yaml:6:8: warning: {BOMB}; expected MLflow's meta.yaml", strict=True),
    Case("dvc-lock-unknown-tag", lambda root: (run_file("dvc.yaml", "stages:\n  train:\n    cmd: python t.py\n")(root),
                                               run_file("dvc.lock", "schema: '2.0'\nstages: !!python/object:x {}\n")(root)),
         f"runs/dvc.lock:2:9: warning: found the tag '!!python/object:x', {PLAIN_ONLY}", strict=True),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_hostile_file_is_refused_at_its_line_and_the_previous_site_stays(built: Path, tmp_path: Path, case: Case):
    root = tmp_path / "project"
    shutil.copytree(built, root, symlinks=True)
    before = tree(root / "site")
    case.arrange(root)

    result = build(root, *(["--strict"] if case.strict else []))

    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert result.returncode == 1, output
    expected = case.first_line.format(outside=tmp_path / "outside" / "secret.yml")
    assert result.stderr.splitlines()[0] == expected
    assert result.stderr.splitlines()[-1].endswith("; the site was not built")
    assert tree(root / "site") == before


def test_bad_run_files_are_warnings_and_the_good_runs_are_kept(built: Path, tmp_path: Path):
    root = tmp_path / "project"
    shutil.copytree(built, root, symlinks=True)
    events = [OPENLINEAGE_EVENT.format(n=1), "{not json", OPENLINEAGE_EVENT.format(n=2)]
    (root / "runs" / "events.jsonl").write_text("\n".join(events) + "\n", encoding="utf-8")
    (root / "runs" / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")

    result = build(root)

    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[:2] == [
        "runs/deep.json:1:1: warning: found JSON that cannot be read (values nested too deeply), expected a "
        "run export",
        "runs/events.jsonl:2:2: warning: event 1: found invalid JSON (Expecting property name enclosed in double "
        "quotes), expected one JSON object per OpenLineage event",
    ]
    runs = root / "site" / "runs"
    assert (runs / "mlflow" / "good-run" / "index.html").is_file()
    assert (runs / "openlineage" / "00000000-0000-4000-8000-000000000001" / "index.html").is_file()
    assert (runs / "openlineage" / "00000000-0000-4000-8000-000000000002" / "index.html").is_file()


def test_a_metric_with_only_its_last_value_is_read(built: Path, tmp_path: Path):
    root = tmp_path / "project"
    shutil.copytree(built, root, symlinks=True)
    (root / "runs" / "last.json").write_text(export(id="last-only", metrics={"rmse": {"last": 0.25}}),
                                             encoding="utf-8")

    result = build(root, "--strict")

    assert result.returncode == 0, result.stderr
    page = (root / "site" / "runs" / "mlflow" / "last-only" / "index.html").read_text(encoding="utf-8")
    assert "rmse" in page and "0.25" in page


@pytest.mark.parametrize("written, expected", [
    ("off", None),
    ("sometimes", "mkdocs.yml:{line}:7: error: plugins.modelcards.lineage_checks.no_run: found severity "
                  "'sometimes', expected one of error, warning, off"),
])
def test_lineage_checks_off_as_yaml_reads_it(built: Path, tmp_path: Path, written: str, expected: str | None):
    root = tmp_path / "project"
    shutil.copytree(built, root, symlinks=True)
    config = root / "mkdocs.yml"
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["plugins"][1]["modelcards"]["lineage_checks"] = {"no_run": "WRITTEN"}
    text = yaml.safe_dump(settings, sort_keys=False).replace("WRITTEN", written)  # unquoted, as documented
    config.write_text(text, encoding="utf-8")
    line = next(number for number, line in enumerate(text.splitlines(), 1) if "no_run:" in line)

    result = build(root)

    assert "Traceback" not in result.stderr
    if expected is None:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 1
        assert result.stderr.splitlines()[0] == expected.format(line=line)
