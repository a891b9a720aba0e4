"""A preview's rebuild (`modelcards serve`) keeps the pages of models whose inputs did not change: whatever it keeps
or renders again, its pages are the bytes a fresh build makes of the same files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from modelcards.build import Memo, generate_site
from modelcards.config import settings_from
from modelcards.errors import InvalidCards

FIXTURES = Path(__file__).parent / "fixtures" / "cards" / "valid"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    shutil.copytree(FIXTURES, tmp_path / "cards")
    return tmp_path


def pages(project: Path, memo: Memo | None = None) -> list[tuple[str, str]]:
    settings = settings_from({"cards_dir": "cards", "cache_dir": str(project / "cache")}, project_dir=project)
    # A build keeps its pages on disk as it makes them (build.SiteFiles), a preview in memory.
    return [(page.path, page.stored.read_text(encoding="utf-8") if page.stored else page.content)
            for page in generate_site(settings, memo=memo).pages]


def edit(card: Path, old: str, new: str) -> None:
    text = card.read_text(encoding="utf-8")
    assert old in text
    card.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_each_rebuild_gives_the_pages_of_a_fresh_build_and_renders_only_the_changed_models(project: Path):
    memo = Memo()
    assert pages(project, memo) == pages(project)
    assert (memo.page_groups.rendered, memo.page_groups.reused) == (2, 0)

    assert pages(project, memo) == pages(project)  # nothing changed
    assert (memo.page_groups.rendered, memo.page_groups.reused) == (0, 2)

    churn = project / "cards" / "churn.yml"
    edit(churn, "title: Customer churn", "title: Churn, edited")
    assert pages(project, memo) == pages(project)
    assert (memo.page_groups.rendered, memo.page_groups.reused) == (1, 1)

    # Values that parse equal to the old ones (1 == True in Python) but are written differently on the pages.
    edit(churn, "  cost_center: CC-4711", "  cost_center: CC-4711\n  seats: 1")
    pages(project, memo)
    edit(churn, "  seats: 1", "  seats: true")
    assert pages(project, memo) == pages(project)
    assert memo.page_groups.rendered == 1
    edit(project / "cards" / "customers.yml", "retention_days: 365", "retention_days: 365.0")
    assert pages(project, memo) == pages(project)

    # A deployment moved: the versions' states (kept for unchanged cards) are derived again for the edited one.
    edit(churn, "    version: \"1.0\"\n    date: 2024-01-10", "    version: \"1.1\"\n    date: 2024-01-10")
    assert pages(project, memo) == pages(project)
    assert memo.page_groups.rendered == 1

    edit(project / "cards" / "customers.yml", "title: Subscriber snapshot", "title: Subscribers, edited")
    assert pages(project, memo) == pages(project)  # churn lists the dataset by its title
    assert memo.page_groups.rendered == 1

    # The model pages show none of a dataset card's description; churn's exports but its Hugging Face card hold
    # all of the card: those are made again, alone.
    edit(project / "cards" / "customers.yml", "description: One row per subscriber and month.",
         "description: One row per subscriber and calendar month.")
    rebuilt, fresh = pages(project, memo), pages(project)
    assert rebuilt == fresh
    assert memo.page_groups.rendered == 0
    assert sorted(memo.page_groups.downloads_made) == [
        "models/churn/export/churn.catalog.json", "models/churn/export/churn.cdx.json",
        "models/churn/export/churn.spdx3.json"]
    assert "One row per subscriber and calendar month." in dict(fresh)["models/churn/export/churn.catalog.json"]
    assert "calendar month" not in dict(fresh)["models/churn/export/README.md.txt"]

    (project / "cards" / "minimal.yml").unlink()
    fresh = pages(project)
    assert pages(project, memo) == fresh
    assert not any(path.startswith("models/minimal") for path, _ in fresh)


def test_a_broken_card_between_rebuilds_changes_nothing_kept(project: Path):
    memo = Memo()
    pages(project, memo)
    churn = project / "cards" / "churn.yml"
    good = churn.read_text(encoding="utf-8")
    edit(churn, "summary: Predicts which subscribers cancel within 30 days.", "summary: [not, a, sentence]")
    with pytest.raises(InvalidCards):
        pages(project, memo)
    churn.write_text(good.replace("within 30 days", "within 45 days"), encoding="utf-8")
    assert pages(project, memo) == pages(project)
    assert (memo.page_groups.rendered, memo.page_groups.reused) == (1, 1)


def test_the_pages_listing_models_are_made_again_only_when_what_they_show_changed(project: Path):
    memo = Memo()
    pages(project, memo)
    churn = project / "cards" / "churn.yml"

    # The summary shows in the catalog and on the model's tag pages, not on the owner, dataset or lineage pages.
    edit(churn, "summary: Predicts which subscribers cancel within 30 days.", "summary: Predicts cancellations.")
    assert pages(project, memo) == pages(project)
    made = set(memo.page_groups.pages_made)
    assert {"index.md", "tags/retention.md", "tags/tabular.md"} <= made
    assert not made & {"owners/retention-ml.md", "datasets/customers.md", "datasets/index.md", "owners/index.md",
                       "tags/index.md"}
    assert memo.page_groups.pages_kept > 0

    pages(project, memo)  # nothing changed: no page made again
    assert memo.page_groups.pages_made == []

    # Each field the listing pages show, edited in turn: every rebuild is the fresh build's bytes.
    for old, new in [("status: production", "status: deprecated"), ("risk_tier: medium", "risk_tier: high"),
                     ("tags: [retention, tabular]", "tags: [retention, churn-risk]"),
                     ("  - name: Retention ML", "  - name: Growth ML"), ("title: Customer churn", "title: Churn")]:
        edit(churn, old, new)
        assert pages(project, memo) == pages(project), new
        assert memo.page_groups.pages_made, new
    edit(project / "cards" / "customers.yml", "tags: [tabular]", "tags: [tabular, subscribers]")
    assert pages(project, memo) == pages(project)
    assert "tags/subscribers.md" in memo.page_groups.pages_made


def test_the_lineage_health_and_policy_pages_follow_what_they_show(project: Path):
    (project / "policy.yml").write_text(
        "medium:\n  required_fields: [caveats, ethical_considerations, license]\n"
        "default:\n  required_fields: [license]\n", encoding="utf-8")
    settings = settings_from({"cards_dir": "cards", "cache_dir": str(project / "cache"), "policy": "policy.yml"},
                             project_dir=project)

    def policy_pages(memo: Memo | None = None) -> list[tuple[str, str]]:
        return [(page.path, page.stored.read_text(encoding="utf-8") if page.stored else page.content)
                for page in generate_site(settings, memo=memo).pages]

    memo = Memo()
    policy_pages(memo)
    churn = project / "cards" / "churn.yml"
    edit(churn, "summary: Predicts which subscribers cancel within 30 days.", "summary: Predicts cancellations.")
    assert policy_pages(memo) == policy_pages()
    assert not {"policy.md", "lineage/index.md", "lineage/health.md"} & set(memo.page_groups.pages_made)

    # A longer summary moves every line below it: the policy page says where each failure is.
    edit(churn, "summary: Predicts cancellations.", "summary: >\n  Predicts\n  cancellations.")
    assert policy_pages(memo) == policy_pages()
    edit(churn, "license: proprietary\n", "")
    assert policy_pages(memo) == policy_pages()
    assert "policy.md" in memo.page_groups.pages_made
    edit(churn, "title: Customer churn", "title: Churn")
    assert policy_pages(memo) == policy_pages()
    assert {"lineage/index.md", "policy.md"} <= set(memo.page_groups.pages_made)


REPO = Path(__file__).resolve().parent.parent


def test_cards_joined_to_run_exports_are_joined_again_only_when_they_changed(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch):
    """Two example cards: one whose versions name MLflow exports, one pinning a DVC stage at a git revision."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    for part in ("cards/datasets", "runs", "artifacts", "pipelines"):
        shutil.copytree(REPO / part, tmp_path / part)
    for card in ("diabetes-progression-regressor.yml", "wine-cultivar-classifier.yml"):
        shutil.copy2(REPO / "cards" / card, tmp_path / "cards" / card)
    settings = settings_from({"cards_dir": "cards", "cache_dir": str(tmp_path / "cache"),
                              "runs": ["runs/mlflow", "pipelines/wine", "runs/dvc"]}, project_dir=tmp_path)

    def run_pages(memo: Memo | None = None) -> list[tuple[str, str]]:
        # Bytes: an explanation's CSV ends its lines with CRLF, which reading as text would change.
        return [(page.path, page.stored.read_bytes().decode("utf-8") if page.stored else page.content)
                for page in generate_site(settings, memo=memo).pages]

    fresh = run_pages()  # fills the explanation cache, which every later build reads
    memo = Memo()
    assert run_pages(memo) == fresh
    diabetes = "cards/diabetes-progression-regressor.yml"
    # The wine card pins a revision, which a loaded snapshot (runs/dvc) resolves: kept too.
    assert list(memo.linked_cards) == [diabetes, "cards/wine-cultivar-classifier.yml"]
    kept = memo.linked_cards[diabetes]
    assert run_pages(memo) == fresh
    assert memo.linked_cards[diabetes] is kept

    edit(tmp_path / diabetes, "title: ", "title: Edited, ")
    assert run_pages(memo) == run_pages()
    assert memo.linked_cards[diabetes] is not kept
    assert memo.page_groups.rendered == 1

    # An explanation's settings edited: the version is explained from its new block, not with the settings kept.
    edit(tmp_path / diabetes, "source: scripts/explain_examples.py, on the 111 test rows",
         "source: scripts/explain_examples.py, on all 111 test rows")
    edited = run_pages(memo)
    assert edited == run_pages()
    assert "on all 111 test rows" in dict(edited)["models/diabetes-progression-regressor.md"]

    # A run export changed: every card is joined to the runs read again.
    kept = memo.linked_cards[diabetes]
    export = next((tmp_path / "runs" / "mlflow").glob("*.json"))
    export.write_text(export.read_text(encoding="utf-8").replace('"FINISHED"', '"FAILED"', 1), encoding="utf-8")
    assert run_pages(memo) == run_pages()
    assert memo.linked_cards[diabetes] is not kept
