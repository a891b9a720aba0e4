"""Golden files for bad cards: each broken card sits beside the exact lines `modelcards validate` must print.

``tests/fixtures/cards/invalid/<case>.yml`` (or the folder ``<case>/``, for problems that span files) is
checked by ``<case>.expected``: every line on stderr, compared exactly, and exit code 1.
``<case>.github.expected`` holds the ``--format github`` annotations printed on stdout.
The CLI runs with ``tests/fixtures/cards`` as its working folder, so the paths it prints are stable.

After an intended change of wording, rewrite the golden files with
``MODELCARDS_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_cards_invalid.py`` and review the diff.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "cards"
INVALID = FIXTURES / "invalid"
MODELCARDS = Path(sys.executable).parent / "modelcards"
UPDATE = os.environ.get("MODELCARDS_UPDATE_GOLDEN") == "1"
PROBLEM_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<severity>error|warning): ")
TOTAL_LINE = re.compile(r"^(\d+) error\(s\), (\d+) warning\(s\) in the cards$")


def validate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(MODELCARDS), "validate", *args], cwd=FIXTURES, capture_output=True, text=True,
                          timeout=60)


def target_of(case: str) -> str:
    """The file or folder a golden file checks, relative to the fixtures folder."""
    file = INVALID / f"{case}.yml"
    return (file if file.exists() else INVALID / case).relative_to(FIXTURES).as_posix()


def check_golden(golden: Path, actual: str) -> None:
    if UPDATE:
        golden.write_text(actual, encoding="utf-8", newline="\n")
    expected = golden.read_text(encoding="utf-8")
    assert actual == expected, f"output differs from {golden.relative_to(FIXTURES)}"


def golden_lines(case: str) -> list[str]:
    """What the CLI printed for ``case``; test_bad_card_prints_exact_problem_lines_and_exits_1 checks it is so."""
    return (INVALID / f"{case}.expected").read_text(encoding="utf-8").splitlines()


TEXT_CASES = sorted(p.name[: -len(".expected")] for p in INVALID.glob("*.expected") if ".github." not in p.name)
GITHUB_CASES = sorted(p.name[: -len(".github.expected")] for p in INVALID.glob("*.github.expected"))


def test_every_invalid_fixture_has_a_golden_file():
    cards = {p.stem for p in INVALID.glob("*.yml")} | {p.name for p in INVALID.iterdir() if p.is_dir()}
    assert cards == set(TEXT_CASES)


@pytest.mark.parametrize("case", TEXT_CASES)
def test_bad_card_prints_exact_problem_lines_and_exits_1(case: str):
    result = validate(target_of(case))
    check_golden(INVALID / f"{case}.expected", result.stderr)
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert all(PROBLEM_LINE.match(line) for line in lines[:-1]), lines
    assert TOTAL_LINE.match(lines[-1]), lines[-1]


@pytest.mark.parametrize("case", GITHUB_CASES)
def test_format_github_prints_annotations(case: str):
    result = validate("--format", "github", target_of(case))
    check_golden(INVALID / f"{case}.github.expected", result.stdout)
    assert result.returncode == 1
    annotations = result.stdout.splitlines()
    assert all(re.match(r"^::(error|warning) file=[^,]+,line=\d+,col=\d+,title=modelcards::\S", a)
               for a in annotations), annotations
    # The annotations are the same problems as the text format (checked above against the CLI), in the same order.
    *text, total = golden_lines(case)
    assert [re.sub(r"^::(\w+) file=([^,]+),line=(\d+),col=(\d+),title=modelcards::", r"\2:\3:\4: \1: ", a)
            for a in annotations] == text
    assert result.stderr.splitlines() == [total], "only the total goes to stderr"


def test_many_errors_in_many_files_are_all_printed_sorted_then_counted_once():
    *problems, total = golden_lines("many_errors")
    places = [PROBLEM_LINE.match(line) for line in problems]
    assert all(places), problems
    keys = [(m["path"], int(m["line"]), int(m["col"])) for m in places]
    assert keys == sorted(keys)
    assert len({m["path"] for m in places}) == 4, "every broken file is reported, not just the first"
    errors = sum(m["severity"] == "error" for m in places)
    assert total == f"{errors} error(s), {len(problems) - errors} warning(s) in the cards"
    assert not any(TOTAL_LINE.match(line) for line in problems), "one total, at the end"


def test_duplicate_model_name_is_one_error_naming_both_files():
    lines = golden_lines("duplicate_name")
    assert len(lines) == 2
    assert "invalid/duplicate_name/churn.yml:1:7" in lines[0]
    assert "invalid/duplicate_name/churn-copy.yml:2:7" in lines[0]


def test_crlf_and_bom_report_the_same_lines_and_columns_as_plain_lf():
    """The fixtures really hold CRLF and a BOM (guarding against git normalising them) and change nothing."""
    assert b"\r\n" in (INVALID / "crlf.yml").read_bytes()
    assert (INVALID / "bom.yml").read_bytes().startswith(b"\xef\xbb\xbf")
    assert (INVALID / "bom_crlf.yml").read_bytes().startswith(b"\xef\xbb\xbfname: churn\r\n")
    outputs = {
        case: "\n".join(golden_lines(case)).replace(f"invalid/{case}.yml:", "FILE:") for case in ("crlf", "bom", "bom_crlf")
    }
    assert len(set(outputs.values())) == 1, outputs
    assert "FILE:3:9: error: status:" in outputs["crlf"]
    assert "FILE:6:11: error: versions[0].date:" in outputs["crlf"]


def test_valid_cards_with_unquoted_dates_validate_strictly():
    result = validate("--strict", "valid")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "2 model card(s) valid\n"
    assert re.search(r"^    date: 2024-01-05$", (FIXTURES / "valid" / "churn.yml").read_text(), re.M)


def test_warnings_pass_validate_but_fail_validate_strict():
    relaxed = validate("warnings")
    check_golden(FIXTURES / "warnings.expected", relaxed.stderr)
    assert relaxed.returncode == 0
    assert relaxed.stderr.splitlines()[-1] == "1 model card(s) valid, 2 warning(s)"

    strict = validate("--strict", "warnings")
    assert strict.returncode == 1
    assert strict.stderr.splitlines() == [*relaxed.stderr.splitlines()[:-1], "0 error(s), 2 warning(s) in the cards"]
